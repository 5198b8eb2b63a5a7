/*
 * Shared helpers for the portrma MPI integration tests (header-only).
 *
 * The tests are written against plain standard MPI-3.1 one-sided semantics,
 * so they can be run against any MPI's own RMA as well as against portrma
 * (preloaded or linked).  See run-mpi for how they are launched.
 *
 *   CHECK(cond)                 hard check: on failure print file/line/rank
 *                               and MPI_Abort the job.
 *   CHECKF(cond, fmt, ...)      same with a printf-style explanation.
 *   MPI_CHECK(call)             hard check that an MPI call returned
 *                               MPI_SUCCESS (prints the error string).
 *   SOFT_CHECKF(cond, fmt, ...) records a failure (prma_soft_failures++)
 *                               and goes on; call prma_soft_finish() at the
 *                               end to turn recorded failures into a non-zero
 *                               exit on every rank.
 *
 *   prma_pattern_byte(seed, off)     deterministic pseudo-random byte that is
 *                                    never PRMA_SENTINEL nor PRMA_SENTINEL2
 *   prma_fill / prma_verify          pattern fill / verify of a byte range
 *   prma_fill_const / prma_verify_const
 */
#ifndef PRMA_TESTS_MPI_COMMON_H
#define PRMA_TESTS_MPI_COMMON_H

#include <mpi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Sentinel for window memory that nobody should write. */
#define PRMA_SENTINEL 0xA5u
/* Sentinel for local (origin / get result) buffers. */
#define PRMA_SENTINEL2 0xC3u

static inline int prma_world_rank(void)
{
    int init = 0, fin = 0, r = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

static inline int prma_world_size(void)
{
    int n = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

static inline void prma_vreport(const char *kind, const char *file, int line,
                                const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s [rank %d] %s:%d: %s\n", kind, prma_world_rank(), file,
            line, msg);
    fflush(stderr);
}

__attribute__((noreturn, format(printf, 3, 4))) static inline void
prma_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prma_vreport("FAIL", file, line, fmt, ap);
    va_end(ap);
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1); /* not reached unless MPI_Abort returns */
}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            prma_fail(__FILE__, __LINE__, "check failed: %s", #cond);          \
    } while (0)

#define CHECKF(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            char prma_msg_[768];                                               \
            snprintf(prma_msg_, sizeof prma_msg_, __VA_ARGS__);                \
            prma_fail(__FILE__, __LINE__, "check failed: %s: %s", #cond,       \
                      prma_msg_);                                              \
        }                                                                      \
    } while (0)

static inline const char *prma_err_string(int code)
{
    static char buf[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS)
        snprintf(buf, sizeof buf, "(unknown error code %d)", code);
    else
        buf[len] = '\0';
    return buf;
}

#define MPI_CHECK(call)                                                        \
    do {                                                                       \
        int prma_rc_ = (call);                                                 \
        if (prma_rc_ != MPI_SUCCESS)                                           \
            prma_fail(__FILE__, __LINE__, "%s returned %d (%s)", #call,        \
                      prma_rc_, prma_err_string(prma_rc_));                    \
    } while (0)

/* ---- soft (recorded) failures ---------------------------------------- */

static int prma_soft_failures;

__attribute__((format(printf, 3, 4))) static inline void
prma_soft_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prma_vreport("FAIL", file, line, fmt, ap);
    va_end(ap);
    prma_soft_failures++;
}

#define SOFT_CHECKF(cond, ...)                                                 \
    do {                                                                       \
        if (!(cond))                                                           \
            prma_soft_fail(__FILE__, __LINE__, __VA_ARGS__);                   \
    } while (0)

/* Collective over MPI_COMM_WORLD: returns the total number of recorded soft
 * failures over all ranks. */
static inline int prma_soft_total(void)
{
    int total = 0;
    MPI_CHECK(MPI_Allreduce(&prma_soft_failures, &total, 1, MPI_INT, MPI_SUM,
                            MPI_COMM_WORLD));
    return total;
}

/* ---- patterns --------------------------------------------------------- */

static inline uint64_t prma_mix64(uint64_t x)
{
    /* splitmix64 finaliser */
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A seed from a few small integers (rank, case number, ...). */
static inline uint64_t prma_seed(uint64_t a, uint64_t b, uint64_t c)
{
    return prma_mix64(prma_mix64(prma_mix64(a + 1) ^ (b + 0x100)) ^ (c + 0x10000));
}

static inline uint8_t prma_fix_byte(uint8_t b)
{
    if (b == PRMA_SENTINEL)
        return 0x5A;
    if (b == PRMA_SENTINEL2)
        return 0x3C;
    return b;
}

/* Byte number `off` of the stream for `seed`.  Depends on the absolute
 * offset, so a transfer landing at the wrong place is detected, and is never
 * equal to a sentinel, so a transfer that did not happen is detected even for
 * a single byte. */
static inline uint8_t prma_pattern_byte(uint64_t seed, uint64_t off)
{
    uint64_t w = prma_mix64(seed ^ ((off >> 3) * 0xD6E8FEB86659FD93ull));
    return prma_fix_byte((uint8_t)(w >> (8 * (off & 7))));
}

/* buf[i] = pattern(seed, start + i) for i in [0, len) */
static inline void prma_fill(void *buf, size_t len, uint64_t seed,
                             uint64_t start)
{
    uint8_t *p = (uint8_t *)buf;
    size_t i = 0;
    while (i < len && ((start + i) & 7) != 0) {
        p[i] = prma_pattern_byte(seed, start + i);
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w = prma_mix64(seed ^ (((start + i) >> 3) * 0xD6E8FEB86659FD93ull));
        for (int k = 0; k < 8; k++)
            p[i + k] = prma_fix_byte((uint8_t)(w >> (8 * k)));
    }
    for (; i < len; i++)
        p[i] = prma_pattern_byte(seed, start + i);
}

/* Returns the index of the first byte that differs from the pattern, or -1.
 * (len == 0 is a caller bug: verifying nothing proves nothing.) */
static inline long long prma_find_pattern_mismatch(const void *buf, size_t len,
                                                   uint64_t seed, uint64_t start)
{
    const uint8_t *p = (const uint8_t *)buf;
    size_t i = 0;
    while (i < len && ((start + i) & 7) != 0) {
        if (p[i] != prma_pattern_byte(seed, start + i))
            return (long long)i;
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w = prma_mix64(seed ^ (((start + i) >> 3) * 0xD6E8FEB86659FD93ull));
        for (int k = 0; k < 8; k++)
            if (p[i + k] != prma_fix_byte((uint8_t)(w >> (8 * k))))
                return (long long)(i + k);
    }
    for (; i < len; i++)
        if (p[i] != prma_pattern_byte(seed, start + i))
            return (long long)i;
    return -1;
}

static inline void prma_fill_const(void *buf, size_t len, uint8_t value)
{
    memset(buf, value, len);
}

static inline long long prma_find_const_mismatch(const void *buf, size_t len,
                                                 uint8_t value)
{
    const uint8_t *p = (const uint8_t *)buf;
    uint64_t v8 = 0x0101010101010101ull * value;
    size_t i = 0;
    while (i < len && ((uintptr_t)(p + i) & 7) != 0) {
        if (p[i] != value)
            return (long long)i;
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != v8)
            break;
    }
    for (; i < len; i++)
        if (p[i] != value)
            return (long long)i;
    return -1;
}

/* Hard-failing verifiers with a useful diagnostic.  `what` names the region. */
#define VERIFY_PATTERN(buf, len, seed, start, ...)                             \
    prma_verify_pattern_at(__FILE__, __LINE__, (buf), (len), (seed), (start),  \
                           __VA_ARGS__)
#define VERIFY_CONST(buf, len, value, ...)                                     \
    prma_verify_const_at(__FILE__, __LINE__, (buf), (len), (value), __VA_ARGS__)

__attribute__((format(printf, 7, 8))) static inline void
prma_verify_pattern_at(const char *file, int line, const void *buf, size_t len,
                       uint64_t seed, uint64_t start, const char *fmt, ...)
{
    if (len == 0)
        prma_fail(file, line, "test bug: verifying an empty range");
    long long bad = prma_find_pattern_mismatch(buf, len, seed, start);
    if (bad >= 0) {
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        prma_fail(file, line,
                  "%s: byte %lld of %zu is 0x%02x, expected 0x%02x",
                  what, bad, len, ((const uint8_t *)buf)[bad],
                  prma_pattern_byte(seed, start + (uint64_t)bad));
    }
}

__attribute__((format(printf, 6, 7))) static inline void
prma_verify_const_at(const char *file, int line, const void *buf, size_t len,
                     uint8_t value, const char *fmt, ...)
{
    long long bad = len ? prma_find_const_mismatch(buf, len, value) : -1;
    if (bad >= 0) {
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        prma_fail(file, line,
                  "%s: byte %lld of %zu is 0x%02x, expected untouched 0x%02x",
                  what, bad, len, ((const uint8_t *)buf)[bad], value);
    }
}

/* The name of a predefined error class. */
static inline const char *prma_class_name(int cls)
{
    switch (cls) {
#define C(x) case x: return #x;
    C(MPI_SUCCESS) C(MPI_ERR_BUFFER) C(MPI_ERR_COUNT) C(MPI_ERR_TYPE)
    C(MPI_ERR_TAG) C(MPI_ERR_COMM) C(MPI_ERR_RANK) C(MPI_ERR_REQUEST)
    C(MPI_ERR_ROOT) C(MPI_ERR_GROUP) C(MPI_ERR_OP) C(MPI_ERR_TOPOLOGY)
    C(MPI_ERR_DIMS) C(MPI_ERR_ARG) C(MPI_ERR_UNKNOWN) C(MPI_ERR_TRUNCATE)
    C(MPI_ERR_OTHER) C(MPI_ERR_INTERN) C(MPI_ERR_IN_STATUS)
    C(MPI_ERR_PENDING) C(MPI_ERR_INFO) C(MPI_ERR_NO_MEM) C(MPI_ERR_BASE)
    C(MPI_ERR_DISP) C(MPI_ERR_SIZE) C(MPI_ERR_WIN) C(MPI_ERR_ASSERT)
    C(MPI_ERR_LOCKTYPE) C(MPI_ERR_RMA_CONFLICT) C(MPI_ERR_RMA_SYNC)
    C(MPI_ERR_RMA_RANGE) C(MPI_ERR_RMA_ATTACH) C(MPI_ERR_RMA_SHARED)
    C(MPI_ERR_RMA_FLAVOR) C(MPI_ERR_KEYVAL)
#undef C
    default: return "(other class)";
    }
}

/* The class of an MPI return code (-1 when the library cannot tell). */
static inline int prma_class_of(int rc)
{
    int cls = rc;

    if (rc != MPI_SUCCESS && MPI_Error_class(rc, &cls) != MPI_SUCCESS)
        cls = -1;
    return cls;
}

/* Record a soft failure unless rc is of class want; returns rc. */
__attribute__((format(printf, 5, 6))) static inline int
prma_expect_class_at(const char *file, int line, int rc, int want, const char *fmt, ...)
{
    const int cls = prma_class_of(rc);
    char what[512];
    va_list ap;

    if (cls == want)
        return rc;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    prma_soft_fail(file, line, "%s: returned %d, class %d %s (\"%s\"), expected class %s", what,
                   rc, cls, prma_class_name(cls),
                   rc == MPI_SUCCESS ? "no error" : prma_err_string(rc), prma_class_name(want));
    return rc;
}

/* Fail the run from SIGALRM after a bound, so a hang is a failure (every
 * wait loop calls MPI, but a broken implementation may not return). */
static const char *prma_watchdog_name_;

static inline void prma_watchdog_(int sig)
{
    static const char m1[] = "FAIL ", m2[] = ": watchdog timeout (hang?)\n";
    ssize_t rc;

    (void)sig;
    rc = write(2, m1, sizeof m1 - 1);
    rc = write(2, prma_watchdog_name_, strlen(prma_watchdog_name_));
    rc = write(2, m2, sizeof m2 - 1);
    (void)rc;
    _exit(1);
}

static inline void prma_watchdog_arm(const char *name, unsigned seconds)
{
    prma_watchdog_name_ = name;
    signal(SIGALRM, prma_watchdog_);
    alarm(seconds);
}

/* Is portrma serving the run (preloaded or linked)? */
static inline int prma_portrma_loaded(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    int found = 0;

    CHECK(f != NULL);
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, "libportrma") != NULL;
    fclose(f);
    return found;
}

/* Allocate or die. */
static inline void *prma_xmalloc(size_t len)
{
    void *p = malloc(len ? len : 1);
    if (!p)
        prma_fail(__FILE__, __LINE__, "malloc(%zu) failed", len);
    return p;
}

#endif /* PRMA_TESTS_MPI_COMMON_H */
