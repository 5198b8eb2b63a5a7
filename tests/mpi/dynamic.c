/*
 * dynamic: dynamic windows (MPI-3.1 11.2.4): MPI_Win_create_dynamic,
 * MPI_Win_attach, MPI_Win_detach, every byte checked.
 *
 *  a. The window's attributes: MPI_WIN_BASE is MPI_BOTTOM, MPI_WIN_SIZE 0,
 *     MPI_WIN_DISP_UNIT 1, MPI_WIN_CREATE_FLAVOR MPI_WIN_FLAVOR_DYNAMIC.
 *  b. Every rank attaches NREG regions of every kind of memory - malloc'd,
 *     static arrays, MPI_Alloc_mem - from 1 byte to 3 MiB, each between
 *     guard bytes that are never attached, and the ranks exchange their
 *     addresses (MPI_Get_address, MPI_Allgather). Then, under fence, PSCW,
 *     lock (shared and exclusive) and lock_all in turn, every origin puts
 *     its own slice of every region of every target; each target checks
 *     every byte of its regions and guards; every origin gets its slices
 *     back and checks them.
 *  c. Bad accesses, with MPI_ERRORS_RETURN: a put into a guard (an address
 *     never attached), a put running past a region's end, a get from a
 *     guard, a put at address 8, an accumulate into a guard and one past a
 *     region's end, a fetch-and-op from a guard, a compare-and-swap in a
 *     guard -> MPI_ERR_RMA_RANGE, nothing written, nothing read; a correct
 *     put in the same epoch works.
 *  d. Between epochs (and a barrier) each rank detaches one malloc'd
 *     region and attaches a new one in its place, and detaches its large
 *     static region and attaches a part of it in its place; the rounds of
 *     (b) run again on the new regions, and in every kind of epoch an
 *     access to the part that is no longer attached is MPI_ERR_RMA_RANGE
 *     (an origin that kept an old copy of the target's regions would
 *     accept it).
 *  e. Inside an open lock_all epoch every rank attaches a region, the
 *     addresses are exchanged, and every origin puts into every new region
 *     in the same epoch.
 *  f. 20 more small regions at once (tables grow), each written by one
 *     origin under fence; then all detached.
 *  g. MPI_Fetch_and_op (MPI_SUM) and MPI_Compare_and_swap (increment
 *     loops) from every rank on two counters in an attached region of
 *     every rank, under lock_all: both counters end at exactly nranks * K,
 *     and the fetched tickets of each counter are exactly 0..nranks*K-1.
 *  h. Misuse: MPI_Win_attach / MPI_Win_detach on an MPI_Win_create window
 *     -> MPI_ERR_RMA_FLAVOR; MPI_Win_shared_query on the dynamic window ->
 *     MPI_ERR_RMA_FLAVOR; an attach of 0 bytes works, and so does its
 *     detach; under portrma also: a detach where nothing is attached ->
 *     MPI_ERR_ARG, an attach overlapping an attached region ->
 *     MPI_ERR_RMA_ATTACH, each leaving the window usable.
 *  i. 200 attach/detach cycles of malloc'd regions (some of them accessed
 *     by a neighbour under fence): the process's descriptors
 *     (/proc/self/fd) and mappings (/proc/self/maps) stay bounded.
 *
 * Where an implementation returns an unexpected error class, the mismatch
 * is recorded and the run fails at the end. What MPI calls erroneous
 * without saying what must happen - accesses outside attached memory (c,
 * and the detached part in d), a detach where nothing is attached, an
 * overlapping attach (h) - is checked only when the window is portrma's
 * (it answers the info key portrma_ports): Open MPI's osc rdma, for one,
 * does such a put and writes the guard. Works at any number of ranks.
 */
#include "common.h"

#include <dirent.h>
#include <stdint.h>

#define WATCHDOG_S 110
#define NREG       6
#define GUARD      64         /* bytes on each side of every region */
#define NSMALL     20         /* (f) */
#define SMALL_LEN  100
#define K          50         /* (g) atomics per rank and target */
#define CYCLES     200        /* (i) */

#define EXPECT_CLASS(rc, want, ...) \
    prma_expect_class_at(__FILE__, __LINE__, (rc), (want), __VA_ARGS__)

enum sync { S_FENCE, S_PSCW, S_LOCK, S_LOCKALL, NSYNC };
static const char *sync_name[NSYNC] = { "fence", "pscw", "lock", "lock_all" };

enum kind { K_MALLOC, K_STATIC, K_ALLOC_MEM };

struct region {
    unsigned char *mem;  /* the allocation, guards included */
    unsigned char *p;    /* the attached part: mem + GUARD */
    size_t         len;
    enum kind      kind;
};

static int rank, nranks, portrma;
static MPI_Win win;
static MPI_Group world_group;
static struct region reg[NREG];
static MPI_Aint *addr;   /* [nranks * NREG] every rank's regions */
static MPI_Aint *rlen;

static unsigned char static_small[100 + 2 * GUARD];
static unsigned char static_big[64 * 1024 + 13 + 2 * GUARD];
static unsigned char small_many[NSMALL][SMALL_LEN + 2 * GUARD];
static uint64_t counters[4] __attribute__((aligned(64)));

static size_t reg_size(int r, int i)
{
    switch (i) {
    case 0: return 1;
    case 1: return 100;
    case 2: return 4097 + (size_t)r;
    case 3: return sizeof(static_big) - 2 * GUARD;
    case 4: return 3 * 1024 * 1024 + 8 * (size_t)r;
    default: return 2 * 1024 * 1024 + 3;
    }
}

static void reg_make(struct region *g, enum kind kind, size_t len, unsigned char *stat)
{
    g->kind = kind;
    g->len  = len;
    if (kind == K_STATIC)
        g->mem = stat;
    else if (kind == K_ALLOC_MEM)
        MPI_CHECK(MPI_Alloc_mem((MPI_Aint)(len + 2 * GUARD), MPI_INFO_NULL, &g->mem));
    else
        g->mem = prma_xmalloc(len + 2 * GUARD);
    g->p = g->mem + GUARD;
    memset(g->mem, PRMA_SENTINEL, len + 2 * GUARD);
}

static void reg_free(struct region *g)
{
    if (g->kind == K_ALLOC_MEM)
        MPI_CHECK(MPI_Free_mem(g->mem));
    else if (g->kind == K_MALLOC)
        free(g->mem);
    g->mem = g->p = NULL;
}

static MPI_Aint address_of(const void *p)
{
    MPI_Aint a;

    MPI_CHECK(MPI_Get_address(p, &a));
    return a;
}

/* Every rank's region addresses and lengths, by allgather. */
static void exchange(void)
{
    MPI_Aint mine[NREG], lens[NREG];

    for (int i = 0; i < NREG; i++) {
        mine[i] = address_of(reg[i].p);
        lens[i] = (MPI_Aint)reg[i].len;
    }
    MPI_CHECK(MPI_Allgather(mine, NREG, MPI_AINT, addr, NREG, MPI_AINT, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Allgather(lens, NREG, MPI_AINT, rlen, NREG, MPI_AINT, MPI_COMM_WORLD));
}

/* Origin o's slice of a region of len bytes. */
static void slice(size_t len, int o, size_t *off, size_t *n)
{
    size_t a = len * (size_t)o / (size_t)nranks, b = len * (size_t)(o + 1) / (size_t)nranks;

    *off = a;
    *n   = b - a;
}

static uint64_t seed(int origin, int target, int region, int round)
{
    return prma_seed((uint64_t)origin, (uint64_t)(target * 64 + region), (uint64_t)round);
}

/* ---- epochs of each kind ---- */

static void epoch_begin(enum sync s)
{
    switch (s) {
    case S_FENCE:
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, win));
        break;
    case S_PSCW:
        MPI_CHECK(MPI_Win_post(world_group, 0, win));
        MPI_CHECK(MPI_Win_start(world_group, 0, win));
        break;
    case S_LOCKALL:
        MPI_CHECK(MPI_Win_lock_all(0, win));
        break;
    default:
        break;
    }
}

static void target_begin(enum sync s, int t)
{
    if (s == S_LOCK)
        MPI_CHECK(MPI_Win_lock(t % 2 ? MPI_LOCK_SHARED : MPI_LOCK_EXCLUSIVE, t, 0, win));
}

static void target_end(enum sync s, int t)
{
    if (s == S_LOCK)
        MPI_CHECK(MPI_Win_unlock(t, win));
}

static void epoch_end(enum sync s)
{
    switch (s) {
    case S_FENCE:
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
        break;
    case S_PSCW:
        MPI_CHECK(MPI_Win_complete(win));
        MPI_CHECK(MPI_Win_wait(win));
        break;
    case S_LOCKALL:
        MPI_CHECK(MPI_Win_unlock_all(win));
        break;
    default:
        break;
    }
}

/* ---- (b), (d): every origin's slice of every region of every target ---- */

static unsigned char *obuf[64][NREG];  /* per target and region (slices) */

/* Every region and its guards back to the sentinel (and all of the large
 * static array, of which only a part may be attached). */
static void reset_regions(void)
{
    memset(static_big, PRMA_SENTINEL, sizeof(static_big));
    for (int i = 0; i < NREG; i++)
        memset(reg[i].mem, PRMA_SENTINEL, reg[i].len + 2 * GUARD);
}

/* The bytes of the large static array outside region 3 and its guards. */
static void check_static_big(const char *what)
{
    size_t head = (size_t)(reg[3].mem - static_big), tail = head + reg[3].len + 2 * GUARD;

    if (head > 0)
        VERIFY_CONST(static_big, head, PRMA_SENTINEL, "%s: the static array before region 3",
                     what);
    if (tail < sizeof(static_big))
        VERIFY_CONST(static_big + tail, sizeof(static_big) - tail, PRMA_SENTINEL,
                     "%s: the static array after region 3", what);
}

static void check_guards(const struct region *g, const char *what)
{
    VERIFY_CONST(g->mem, GUARD, PRMA_SENTINEL, "%s: guard before a region of %zu bytes", what,
                 g->len);
    VERIFY_CONST(g->p + g->len, GUARD, PRMA_SENTINEL, "%s: guard after a region of %zu bytes",
                 what, g->len);
}

static void round_putget(enum sync s, int round)
{
    char what[64];

    snprintf(what, sizeof(what), "round %d (%s)", round, sync_name[s]);
    reset_regions();
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    epoch_begin(s);
    for (int k = 0; k < nranks; k++) {
        int t = (rank + k) % nranks;

        target_begin(s, t);
        for (int i = 0; i < NREG; i++) {
            size_t off, n;

            slice((size_t)rlen[t * NREG + i], rank, &off, &n);
            if (n == 0)
                continue;
            obuf[t][i] = prma_xmalloc(n);
            prma_fill(obuf[t][i], n, seed(rank, t, i, round), off);
            MPI_CHECK(MPI_Put(obuf[t][i], (int)n, MPI_BYTE, t, addr[t * NREG + i] + (MPI_Aint)off,
                              (int)n, MPI_BYTE, win));
        }
        target_end(s, t);
    }
    epoch_end(s);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Every byte of every region: each origin's pattern in its slice. */
    check_static_big(what);
    for (int i = 0; i < NREG; i++) {
        check_guards(&reg[i], what);
        for (int o = 0; o < nranks; o++) {
            size_t off, n;

            slice(reg[i].len, o, &off, &n);
            if (n > 0)
                VERIFY_PATTERN(reg[i].p + off, n, seed(o, rank, i, round), off,
                               "%s: rank %d's region %d (%zu bytes), origin %d's slice at %zu",
                               what, rank, i, reg[i].len, o, off);
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Gets: each origin reads its slices back. */
    epoch_begin(s);
    for (int k = 0; k < nranks; k++) {
        int t = (rank + k) % nranks;

        target_begin(s, t);
        for (int i = 0; i < NREG; i++) {
            size_t off, n;

            slice((size_t)rlen[t * NREG + i], rank, &off, &n);
            if (n == 0)
                continue;
            memset(obuf[t][i], PRMA_SENTINEL2, n);
            MPI_CHECK(MPI_Get(obuf[t][i], (int)n, MPI_BYTE, t, addr[t * NREG + i] + (MPI_Aint)off,
                              (int)n, MPI_BYTE, win));
        }
        target_end(s, t);
    }
    epoch_end(s);
    for (int t = 0; t < nranks; t++) {
        for (int i = 0; i < NREG; i++) {
            size_t off, n;

            slice((size_t)rlen[t * NREG + i], rank, &off, &n);
            if (n == 0)
                continue;
            VERIFY_PATTERN(obuf[t][i], n, seed(rank, t, i, round), off,
                           "%s: get of my slice of rank %d's region %d", what, t, i);
            free(obuf[t][i]);
            obuf[t][i] = NULL;
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

/* ---- (c), (d): refused accesses ---- */

/* What a refused access is. */
enum refusal { R_GET, R_PUT, R_ACC, R_FOP, R_CAS };

/* An access that must be refused (MPI_ERR_RMA_RANGE) and touch nothing: a
 * get or put of n bytes, an accumulate of n bytes (MPI_UINT8_T), a
 * fetch-and-op or compare-and-swap of 8. */
static void refused(enum refusal op, int t, MPI_Aint at, int n, const char *what)
{
    unsigned char buf[16];
    uint64_t res[2] = { PRMA_SENTINEL2, PRMA_SENTINEL2 }, cmp = 0;
    int rc;

    memset(buf, op == R_GET || op == R_PUT ? PRMA_SENTINEL2 : 1, sizeof(buf));
    switch (op) {
    case R_GET: rc = MPI_Get(buf, n, MPI_BYTE, t, at, n, MPI_BYTE, win); break;
    case R_PUT: rc = MPI_Put(buf, n, MPI_BYTE, t, at, n, MPI_BYTE, win); break;
    case R_ACC:
        rc = MPI_Accumulate(buf, n, MPI_UINT8_T, t, at, n, MPI_UINT8_T, MPI_SUM, win);
        break;
    case R_FOP: rc = MPI_Fetch_and_op(buf, res, MPI_UINT64_T, t, at, MPI_SUM, win); break;
    default: rc = MPI_Compare_and_swap(buf, &cmp, res, MPI_UINT64_T, t, at, win); break;
    }
    EXPECT_CLASS(rc, MPI_ERR_RMA_RANGE, "%s (rank %d, %d bytes at %#lx)", what, t, n,
                 (unsigned long)at);
    if (op == R_GET)
        SOFT_CHECKF(prma_find_const_mismatch(buf, sizeof(buf), PRMA_SENTINEL2) < 0,
                    "%s: a refused get wrote its buffer", what);
    if (op == R_FOP || op == R_CAS)
        SOFT_CHECKF(res[0] == PRMA_SENTINEL2, "%s: a refused operation wrote its result",
                    what);
}

/* Inside an epoch of kind s, to target t: the refused accesses of (c). */
static void bad_accesses(enum sync s, int t, const char *when)
{
    const struct {
        enum refusal op;
        const char  *what;
        MPI_Aint     at;
        int          n;
    } bad[] = {
        { R_PUT, "put into a guard", addr[t * NREG + 1] - 8, 8 },
        { R_PUT, "put past a region's end", addr[t * NREG + 2] + rlen[t * NREG + 2] - 4, 8 },
        { R_GET, "get from a guard", addr[t * NREG + 3] + rlen[t * NREG + 3], 8 },
        { R_PUT, "put at address 8", 8, 1 },
        { R_ACC, "accumulate into a guard", addr[t * NREG + 1] - 16, 16 },
        { R_ACC, "accumulate past a region's end",
          addr[t * NREG + 2] + rlen[t * NREG + 2] - 4, 8 },
        { R_FOP, "fetch-and-op from a guard", addr[t * NREG + 3] + rlen[t * NREG + 3], 8 },
        { R_CAS, "compare-and-swap in a guard", (addr[t * NREG + 1] - 16) & ~(MPI_Aint)7, 8 },
    };
    char what[96];

    target_begin(s, t);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(what, sizeof(what), "%s, %s: %s", when, sync_name[s], bad[i].what);
        refused(bad[i].op, t, bad[i].at, bad[i].n, what);
    }
    target_end(s, t);
}

static void round_errors(enum sync s, const MPI_Aint *stale, const char *when)
{
    int t = (rank + 1) % nranks;
    char what[96];

    reset_regions();
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    epoch_begin(s);
    if (stale != NULL) {
        /* The first bytes of a region detached since: no longer attached.
         * First in the epoch, before any miss could refresh what the
         * origin knows of the target. */
        target_begin(s, t);
        snprintf(what, sizeof(what), "%s, %s: put into a detached part", when, sync_name[s]);
        refused(R_PUT, t, stale[t], 8, what);
        snprintf(what, sizeof(what), "%s, %s: get from a detached part", when, sync_name[s]);
        refused(R_GET, t, stale[t] + 16, 8, what);
        target_end(s, t);
    }
    bad_accesses(s, t, when);
    epoch_end(s);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    for (int i = 0; i < NREG; i++)
        VERIFY_CONST(reg[i].mem, reg[i].len + 2 * GUARD, PRMA_SENTINEL,
                     "%s, %s: region %d and its guards after refused accesses", when,
                     sync_name[s], i);
    snprintf(what, sizeof(what), "%s, %s: after refused accesses", when, sync_name[s]);
    check_static_big(what);
}

/* ---- (d) ---- */

static MPI_Aint *replace_regions(void)
{
    MPI_Aint *stale = prma_xmalloc(sizeof(MPI_Aint) * (size_t)nranks);
    MPI_Aint old3 = address_of(reg[3].p);

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(win, reg[2].p));
    reg_free(&reg[2]);
    reg_make(&reg[2], K_MALLOC, 8191 + (size_t)rank * 3, NULL);
    MPI_CHECK(MPI_Win_attach(win, reg[2].p, (MPI_Aint)reg[2].len));

    /* The static array again, from 1000 bytes in to 2000 before its end. */
    MPI_CHECK(MPI_Win_detach(win, reg[3].p));
    reg[3].p += 1000;
    reg[3].mem += 1000;
    reg[3].len -= 3000;
    MPI_CHECK(MPI_Win_attach(win, reg[3].p, (MPI_Aint)reg[3].len));
    MPI_CHECK(MPI_Allgather(&old3, 1, MPI_AINT, stale, 1, MPI_AINT, MPI_COMM_WORLD));
    exchange();
    return stale;
}

/* ---- (e) ---- */

static void attach_in_epoch(void)
{
    struct region x;
    MPI_Aint *xa = prma_xmalloc(sizeof(MPI_Aint) * (size_t)nranks), mine;
    unsigned char *bufs = prma_xmalloc(64 * (size_t)nranks);
    const size_t len = 5000 + (size_t)rank;

    MPI_CHECK(MPI_Win_lock_all(0, win));
    /* Touch every target first, so that a copy of its regions exists (the
     * bytes land in bufs, alive until the flush). */
    for (int t = 0; t < nranks; t++)
        MPI_CHECK(MPI_Get(bufs + t, 1, MPI_BYTE, t, addr[t * NREG + 1], 1, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_flush_all(win));
    reg_make(&x, K_MALLOC, len, NULL);
    MPI_CHECK(MPI_Win_attach(win, x.p, (MPI_Aint)len));
    mine = address_of(x.p);
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_AINT, xa, 1, MPI_AINT, MPI_COMM_WORLD));
    for (int t = 0; t < nranks; t++) {
        prma_fill(bufs + 64 * t, 64, seed(rank, t, 40, 7), 64 * (uint64_t)rank);
        MPI_CHECK(MPI_Put(bufs + 64 * t, 64, MPI_BYTE, t, xa[t] + 64 * rank, 64, MPI_BYTE, win));
    }
    MPI_CHECK(MPI_Win_flush_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_sync(win));
    for (int o = 0; o < nranks; o++)
        VERIFY_PATTERN(x.p + 64 * o, 64, seed(o, rank, 40, 7), 64 * (uint64_t)o,
                       "a region attached inside a lock_all epoch: origin %d's bytes", o);
    VERIFY_CONST(x.p + 64 * nranks, len - 64 * (size_t)nranks, PRMA_SENTINEL,
                 "a region attached inside a lock_all epoch: the rest");
    check_guards(&x, "a region attached inside a lock_all epoch");
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(win, x.p));
    reg_free(&x);
    free(xa);
    free(bufs);
}

/* ---- (f) ---- */

static void many_regions(void)
{
    MPI_Aint mine[NSMALL], *all = prma_xmalloc(sizeof(MPI_Aint) * NSMALL * (size_t)nranks);
    unsigned char *bufs = prma_xmalloc((size_t)NSMALL * SMALL_LEN * (size_t)nranks);

    memset(small_many, PRMA_SENTINEL, sizeof(small_many));
    for (int k = 0; k < NSMALL; k++) {
        MPI_CHECK(MPI_Win_attach(win, small_many[k] + GUARD, SMALL_LEN));
        mine[k] = address_of(small_many[k] + GUARD);
    }
    MPI_CHECK(MPI_Allgather(mine, NSMALL, MPI_AINT, all, NSMALL, MPI_AINT, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, win));
    for (int t = 0; t < nranks; t++) {
        for (int k = 0; k < NSMALL; k++) {
            unsigned char *b = bufs + ((size_t)t * NSMALL + (size_t)k) * SMALL_LEN;

            if (k % nranks != rank)
                continue;
            prma_fill(b, SMALL_LEN, seed(rank, t, 100 + k, 8), 0);
            MPI_CHECK(MPI_Put(b, SMALL_LEN, MPI_BYTE, t, all[t * NSMALL + k], SMALL_LEN,
                              MPI_BYTE, win));
        }
    }
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    for (int k = 0; k < NSMALL; k++) {
        VERIFY_CONST(small_many[k], GUARD, PRMA_SENTINEL, "small region %d: guard before", k);
        VERIFY_PATTERN(small_many[k] + GUARD, SMALL_LEN, seed(k % nranks, rank, 100 + k, 8), 0,
                       "small region %d, from rank %d", k, k % nranks);
        VERIFY_CONST(small_many[k] + GUARD + SMALL_LEN, GUARD, PRMA_SENTINEL,
                     "small region %d: guard after", k);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    for (int k = 0; k < NSMALL; k++)
        MPI_CHECK(MPI_Win_detach(win, small_many[k] + GUARD));
    free(all);
    free(bufs);
}

/* ---- (g) ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void atomics(void)
{
    MPI_Aint mine, *ca = prma_xmalloc(sizeof(MPI_Aint) * (size_t)nranks);
    uint64_t *faa = prma_xmalloc(sizeof(uint64_t) * K * (size_t)nranks);
    uint64_t *cas = prma_xmalloc(sizeof(uint64_t) * K * (size_t)nranks);
    uint64_t *all = prma_xmalloc(sizeof(uint64_t) * K * (size_t)nranks * (size_t)nranks);
    const uint64_t one = 1;

    memset(counters, 0, sizeof(counters));
    MPI_CHECK(MPI_Win_attach(win, counters, sizeof(counters)));
    mine = address_of(counters);
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_AINT, ca, 1, MPI_AINT, MPI_COMM_WORLD));

    MPI_CHECK(MPI_Win_lock_all(0, win));
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < nranks; j++) {
            int t = (rank + j) % nranks;
            uint64_t cur, seen, next;

            MPI_CHECK(MPI_Fetch_and_op(&one, &faa[t * K + k], MPI_UINT64_T, t, ca[t],
                                       MPI_SUM, win));
            MPI_CHECK(MPI_Win_flush(t, win));
            MPI_CHECK(MPI_Fetch_and_op(NULL, &cur, MPI_UINT64_T, t, ca[t] + 8, MPI_NO_OP, win));
            MPI_CHECK(MPI_Win_flush(t, win));
            for (;;) {
                next = cur + 1;
                MPI_CHECK(MPI_Compare_and_swap(&next, &cur, &seen, MPI_UINT64_T, t, ca[t] + 8,
                                               win));
                MPI_CHECK(MPI_Win_flush(t, win));
                if (seen == cur)
                    break;
                cur = seen;
            }
            cas[t * K + k] = cur;
        }
    }
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECKF(counters[0] == (uint64_t)K * (uint64_t)nranks, "fetch-and-add counter is %llu, not %llu",
           (unsigned long long)counters[0], (unsigned long long)K * (unsigned long long)nranks);
    CHECKF(counters[1] == (uint64_t)K * (uint64_t)nranks, "CAS counter is %llu, not %llu",
           (unsigned long long)counters[1], (unsigned long long)K * (unsigned long long)nranks);
    CHECK(counters[2] == 0 && counters[3] == 0);

    /* The tickets each counter handed out: exactly 0 .. nranks*K-1. */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t *mine_t = pass == 0 ? faa : cas, *got;

        MPI_CHECK(MPI_Allgather(mine_t, K * nranks, MPI_UINT64_T, all, K * nranks, MPI_UINT64_T,
                                MPI_COMM_WORLD));
        got = prma_xmalloc(sizeof(uint64_t) * K * (size_t)nranks);
        for (int o = 0; o < nranks; o++)
            memcpy(got + (size_t)o * K, all + ((size_t)o * (size_t)nranks + (size_t)rank) * K,
                   sizeof(uint64_t) * K);
        qsort(got, (size_t)K * (size_t)nranks, sizeof(uint64_t), cmp_u64);
        for (int i = 0; i < K * nranks; i++)
            CHECKF(got[i] == (uint64_t)i, "%s tickets of rank %d: the %d-th smallest is %llu",
                   pass == 0 ? "fetch-and-add" : "compare-and-swap", rank, i,
                   (unsigned long long)got[i]);
        free(got);
    }
    MPI_CHECK(MPI_Win_detach(win, counters));
    free(ca);
    free(faa);
    free(cas);
    free(all);
}

/* ---- (h) ---- */

static void misuse(void)
{
    MPI_Win other;
    static unsigned char mem[64], extra[64];
    MPI_Aint size;
    int unit, rc;
    void *base;

    MPI_CHECK(MPI_Win_create(mem, sizeof(mem), 1, MPI_INFO_NULL, MPI_COMM_WORLD, &other));
    MPI_CHECK(MPI_Win_set_errhandler(other, MPI_ERRORS_RETURN));
    EXPECT_CLASS(MPI_Win_attach(other, extra, sizeof(extra)), MPI_ERR_RMA_FLAVOR,
                 "MPI_Win_attach on an MPI_Win_create window");
    EXPECT_CLASS(MPI_Win_detach(other, mem), MPI_ERR_RMA_FLAVOR,
                 "MPI_Win_detach on an MPI_Win_create window");
    MPI_CHECK(MPI_Win_free(&other));

    rc = MPI_Win_shared_query(win, rank, &size, &unit, &base);
    EXPECT_CLASS(rc, MPI_ERR_RMA_FLAVOR, "MPI_Win_shared_query on a dynamic window");

    /* 0 bytes: allowed, nothing accessible. */
    MPI_CHECK(MPI_Win_attach(win, extra, 0));
    MPI_CHECK(MPI_Win_detach(win, extra));

    if (portrma) {
        EXPECT_CLASS(MPI_Win_detach(win, extra), MPI_ERR_ARG,
                     "MPI_Win_detach where nothing is attached");
        EXPECT_CLASS(MPI_Win_attach(win, reg[1].p + 10, 10), MPI_ERR_RMA_ATTACH,
                     "MPI_Win_attach inside an attached region");
        EXPECT_CLASS(MPI_Win_attach(win, reg[1].p - 10, 20), MPI_ERR_RMA_ATTACH,
                     "MPI_Win_attach overlapping an attached region's start");
        EXPECT_CLASS(MPI_Win_attach(win, reg[1].p, 0), MPI_ERR_RMA_ATTACH,
                     "MPI_Win_attach of 0 bytes where a region starts");
        EXPECT_CLASS(MPI_Win_attach(win, NULL, 10), MPI_ERR_ARG, "MPI_Win_attach of NULL");
        EXPECT_CLASS(MPI_Win_attach(win, extra, -1), MPI_ERR_SIZE,
                     "MPI_Win_attach of -1 bytes");
    }
}

/* ---- (i) ---- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;

    CHECK(f != NULL);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void cycle(int c)
{
    struct region x;
    MPI_Aint mine, *xa;
    int right = (rank + 1) % nranks, left = (rank + nranks - 1) % nranks;
    size_t len = 1 + ((size_t)c * 7919u) % 65536u, n = len < 8 ? len : 8;
    unsigned char b[8];

    reg_make(&x, K_MALLOC, len, NULL);
    MPI_CHECK(MPI_Win_attach(win, x.p, (MPI_Aint)len));
    if (c % 10 == 0) {
        xa   = prma_xmalloc(sizeof(MPI_Aint) * (size_t)nranks);
        mine = address_of(x.p);
        MPI_CHECK(MPI_Allgather(&mine, 1, MPI_AINT, xa, 1, MPI_AINT, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, win));
        {
            /* Lengths differ per rank only through c: the target's is len. */
            prma_fill(b, n, seed(rank, right, 50, c), 0);
            MPI_CHECK(MPI_Put(b, (int)n, MPI_BYTE, right, xa[right], (int)n, MPI_BYTE, win));
        }
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
        VERIFY_PATTERN(x.p, n, seed(left, rank, 50, c), 0, "cycle %d: the neighbour's put", c);
        check_guards(&x, "attach/detach cycles");
        free(xa);
    }
    MPI_CHECK(MPI_Win_detach(win, x.p));
    reg_free(&x);
}

static void cycles(void)
{
    int fds0, maps0, fds1, maps1;

    for (int c = 0; c < 20; c++)
        cycle(c);
    fds0  = count_fds();
    maps0 = count_maps();
    for (int c = 20; c < 20 + CYCLES; c++)
        cycle(c);
    fds1  = count_fds();
    maps1 = count_maps();
    SOFT_CHECKF(fds1 <= fds0 + 4, "%d attach/detach cycles: descriptors went from %d to %d",
                CYCLES, fds0, fds1);
    SOFT_CHECKF(maps1 <= maps0 + 16, "%d attach/detach cycles: mappings went from %d to %d",
                CYCLES, maps0, maps1);
}

/* Does the window belong to portrma (it answers portrma_ports)? */
static int is_portrma(MPI_Win w)
{
    char value[MPI_MAX_INFO_VAL + 1];
    MPI_Info info;
    int flag = 0;

    MPI_CHECK(MPI_Win_get_info(w, &info));
    MPI_CHECK(MPI_Info_get(info, "portrma_ports", MPI_MAX_INFO_VAL, value, &flag));
    MPI_CHECK(MPI_Info_free(&info));
    return flag;
}

int main(int argc, char **argv)
{
    void *base;
    MPI_Aint *size, *stale;
    int *unit, *flavor, flag;

    MPI_Init(&argc, &argv);
    prma_watchdog_arm("dynamic", WATCHDOG_S);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    CHECK(nranks <= 64);
    MPI_Comm_group(MPI_COMM_WORLD, &world_group);
    addr = prma_xmalloc(sizeof(MPI_Aint) * NREG * (size_t)nranks);
    rlen = prma_xmalloc(sizeof(MPI_Aint) * NREG * (size_t)nranks);

    /* (a) */
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    portrma = is_portrma(win);
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag));
    CHECKF(flag && base == MPI_BOTTOM, "MPI_WIN_BASE is %p", flag ? base : NULL);
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &size, &flag));
    CHECKF(flag && *size == 0, "MPI_WIN_SIZE is %ld", flag ? (long)*size : -1L);
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &unit, &flag));
    CHECKF(flag && *unit == 1, "MPI_WIN_DISP_UNIT is %d", flag ? *unit : -1);
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    CHECKF(flag && *flavor == MPI_WIN_FLAVOR_DYNAMIC, "MPI_WIN_CREATE_FLAVOR is %d",
           flag ? *flavor : -1);

    /* (b) */
    for (int i = 0; i < NREG; i++) {
        enum kind kind = i == 1 || i == 3 ? K_STATIC : i == 4 ? K_ALLOC_MEM : K_MALLOC;

        reg_make(&reg[i], kind, reg_size(rank, i),
                 i == 1 ? static_small : i == 3 ? static_big : NULL);
        MPI_CHECK(MPI_Win_attach(win, reg[i].p, (MPI_Aint)reg[i].len));
    }
    exchange();
    for (int s = 0; s < NSYNC; s++)
        round_putget((enum sync)s, s);

    /* (c) */
    for (int s = 0; portrma && s < NSYNC; s++)
        round_errors((enum sync)s, NULL, "before replacing");

    /* (d) */
    stale = replace_regions();
    for (int s = 0; portrma && s < NSYNC; s++)
        round_errors((enum sync)s, stale, "after replacing");
    for (int s = 0; s < NSYNC; s++)
        round_putget((enum sync)s, 10 + s);
    free(stale);

    /* (e) - (i) */
    attach_in_epoch();
    many_regions();
    atomics();
    misuse();
    round_putget(S_FENCE, 20);
    cycles();

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    for (int i = 0; i < NREG; i++) {
        MPI_CHECK(MPI_Win_detach(win, reg[i].p));
        reg_free(&reg[i]);
    }
    MPI_CHECK(MPI_Win_free(&win));
    MPI_Group_free(&world_group);
    free(addr);
    free(rlen);
    if (prma_soft_total() > 0) {
        if (rank == 0)
            fprintf(stderr, "dynamic: FAILED\n");
        MPI_Finalize();
        return 1;
    }
    MPI_Finalize();
    return 0;
}
