/*
 * accumulate: the accumulate family of one-sided calls (MPI-3.1 11.3.4,
 * 11.3.5, 11.7.1 - 11.7.2): MPI_Accumulate, MPI_Get_accumulate,
 * MPI_Fetch_and_op, MPI_Compare_and_swap, MPI_Raccumulate and
 * MPI_Rget_accumulate.  Every result is compared exactly with a reference
 * the test computes itself from the values it chose.
 *
 *  a. Every predefined op on every predefined type it is defined on
 *     (MPI-3.1 5.9.2, 5.9.4): the C integers (signed char ... unsigned long
 *     long, int8_t ... uint64_t), MPI_BYTE (bitwise), MPI_C_BOOL (logical),
 *     float, double, long double (SUM, PROD, MAX, MIN), the three C complex
 *     types (SUM, PROD), the pair types MPI_FLOAT_INT, MPI_DOUBLE_INT,
 *     MPI_LONG_INT, MPI_2INT, MPI_SHORT_INT, MPI_LONG_DOUBLE_INT (MAXLOC,
 *     MINLOC, with ties: equal values take the smaller index), and
 *     MPI_REPLACE and MPI_NO_OP on all of these and on MPI_CHAR.  Each pair
 *     goes through MPI_Accumulate (counts 1 and 17; MPI_NO_OP is not allowed
 *     there, see g), MPI_Get_accumulate (counts 1 and 17; the fetched old
 *     values are checked too) and MPI_Fetch_and_op, every rank on its right
 *     neighbour's window, once in a fence epoch and once in a lock epoch.
 *     The values make every result exact: small integers and binary
 *     fractions for the reals and complexes, signed integers bounded so that
 *     no sum or product overflows, unsigned integers over their full range
 *     (the reference wraps them), logical operands that are non-zero only in
 *     their top bit or only above the low byte.
 *  b. Concurrent MPI_SUM from all ranks on the same locations and on
 *     per-origin locations, MPI_INT64_T and MPI_DOUBLE vectors, many
 *     iterations, in a lock_all epoch with flushes and then in fence epochs:
 *     the sums are exact.  Then MPI_Fetch_and_op (SUM) and MPI_Accumulate
 *     (SUM) from all ranks on one counter while MPI_Compare_and_swap
 *     increments another: both totals exact, each rank's fetched values
 *     grow by at least its own additions, the CAS tickets are exactly
 *     0 .. size*K-1.
 *  c. MPI_Get_accumulate with MPI_REPLACE as an atomic swap (every token
 *     comes back exactly once) and with MPI_NO_OP as an atomic read; all
 *     ranks MPI_Accumulate(MPI_REPLACE) whole vectors of a rank-specific
 *     pattern onto the same target range while reading it back with
 *     MPI_NO_OP: every element read, and every element at the end, is one
 *     of the written values, never torn (MPI_UINT64_T, MPI_C_DOUBLE_COMPLEX,
 *     MPI_DOUBLE_INT, MPI_C_LONG_DOUBLE_COMPLEX).
 *  d. MPI_Raccumulate and MPI_Rget_accumulate under lock_all, completed by
 *     MPI_Wait, MPI_Test, MPI_Waitall, MPI_Testall, MPI_Waitany,
 *     MPI_Testany, MPI_Waitsome, MPI_Testsome, MPI_Request_free (+ flush),
 *     MPI_Request_get_status, and an MPI_Waitall that also holds a
 *     point-to-point MPI_Irecv and MPI_Isend; fetched values are checked
 *     when the request completes, the targets at the end.
 *  e. Derived datatypes: a vector of MPI_INT at the origin against a
 *     contiguous target, an indexed target type against a contiguous
 *     origin, vectors on both sides (target count 2), a struct made only of
 *     MPI_INT, MPI_Get_accumulate with a strided result type (with a vector
 *     and an indexed-block target type); the elements between the ones
 *     addressed stay untouched.  In a fence epoch and in a lock epoch.
 *  f. Windows made by MPI_Win_create (malloc'ed memory), MPI_Win_allocate
 *     and MPI_Win_allocate_shared, with the info keys
 *     accumulate_ordering=none + accumulate_ops=same_op, and
 *     accumulate_ordering=none + accumulate_ops=same_op_no_op: concurrent
 *     SUM (int64, double), REPLACE with MPI_NO_OP read-back,
 *     MPI_Get_accumulate (SUM) in a fence epoch and MPI_Fetch_and_op
 *     (MPI_NO_OP) reads, exact; on the shared window also a direct load of
 *     the neighbour's memory.  Under same_op, SUM and NO_OP never touch the
 *     same location concurrently (epochs separate them).
 *  g. Errors, with MPI_ERRORS_RETURN on the window (MPI-3.1 classes):
 *     every op that is not defined on a type (MPI_BAND on MPI_FLOAT,
 *     MPI_MAXLOC on MPI_INT, ... the whole sweep) -> MPI_ERR_OP through
 *     MPI_Accumulate, MPI_Get_accumulate and MPI_Fetch_and_op; MPI_NO_OP in
 *     MPI_Accumulate / MPI_Raccumulate (MPI-3.1 11.3.4 allows MPI_NO_OP only
 *     in MPI_Get_accumulate, MPI_Rget_accumulate and MPI_Fetch_and_op)
 *     -> MPI_ERR_OP; a user-defined op and MPI_OP_NULL
 *     -> MPI_ERR_OP; origin and target built from different predefined
 *     types (MPI_INT vs MPI_FLOAT, MPI_INT vs MPI_UNSIGNED, also with
 *     MPI_REPLACE, a vector of MPI_INT vs MPI_FLOAT, MPI_DOUBLE vs
 *     MPI_INT64_T) or a type mixing two basic types -> MPI_ERR_TYPE; a target
 *     range outside the window (past the end, crossing the end, negative
 *     displacement, a target type reaching past the end) -> MPI_ERR_RMA_RANGE;
 *     calls outside any epoch, MPI_Raccumulate / MPI_Rget_accumulate in a
 *     fence epoch, and (at 3 or more ranks) an accumulate to a rank that is
 *     not locked -> MPI_ERR_RMA_SYNC; MPI_Compare_and_swap on MPI_DOUBLE ->
 *     any error class (the standard names none).  After every case: the
 *     target memory, guard zones around it and the result buffers are
 *     unchanged, and a correct accumulate in the same epoch lands.  (The
 *     window is made by MPI_Win_create over the middle of a larger buffer,
 *     so that a wrongly accepted out-of-range access is seen, not a heap
 *     corruption.)
 *  i. Large accumulates against single-element atomics on the same
 *     elements: the even ranks run 64 KiB (16-page) MPI_Accumulate and
 *     MPI_Get_accumulate (MPI_SUM) over all of rank 0's window while the odd
 *     ranks (at 1 rank: the rank itself) hammer one element of each page
 *     with MPI_Fetch_and_op, one-element MPI_Accumulate and
 *     MPI_Compare_and_swap increments. Every element must end at exactly
 *     the sum of what was added to it (a large update that is not atomic
 *     per element with the small ones loses some), and what a large
 *     MPI_Get_accumulate fetches grows from one to the next.
 *
 * Failures are recorded (printed, at most MAX_PRINTS per rank for the bulk
 * checks; -DMAX_PRINTS=100000 prints all) and the run exits non-zero at the
 * end; rank 0 prints one line per part and a summary line.  Works at any
 * number of ranks (at 1 rank every neighbour is the rank itself).  A
 * watchdog ends a hang.
 *
 * Environment:
 *   ACC_TEST_NATIVE=1  for validating this test against an MPI library's
 *       own RMA (not for portrma): relaxes ONLY the error-class assertions of
 *       part g.  An erroneous call refused with another class than the
 *       standard's, or accepted, is printed by rank 0 as a "NOTE" and not
 *       counted as a failure; when an erroneous call was accepted, its
 *       effect on the window and the result buffer is not checked.  The
 *       erroneous MPI_Fetch_and_op calls with an op not defined on the type
 *       are skipped (noted): Open MPI 4.1 does not check them and calls a
 *       NULL reduction (segmentation fault).  All other checks stay as they
 *       are.
 *   ACC_TEST_PARTS=abcdefg  runs only the parts whose letters are given
 *       (default: all), for debugging.
 *   ACC_TEST_SKIP=TYPE[:OP],...  leaves these types (or type/op pairs, e.g.
 *       MPI_DOUBLE_INT:MPI_MAXLOC) out of part a, for validating against a
 *       library that aborts on them; rank 0 notes how many were left out.
 *       Never set it when testing portrma.
 */
#include "common.h"

#include <complex.h>
#include <stdbool.h>

#define WATCHDOG_S 90
#ifndef MAX_PRINTS
#define MAX_PRINTS 40
#endif

static int rank, nranks, left, right;
static int native_relaxed; /* ACC_TEST_NATIVE=1 */
static int n_notes;        /* relaxed error-class deviations */
static int n_prints;

/* A recorded failure; the first MAX_PRINTS of a rank are printed. */
#define FAILF(...)                                                             \
    do {                                                                       \
        if (n_prints < MAX_PRINTS) {                                           \
            n_prints++;                                                        \
            prma_soft_fail(__FILE__, __LINE__, __VA_ARGS__);                   \
        } else {                                                               \
            prma_soft_failures++;                                              \
        }                                                                      \
    } while (0)

/* An MPI call that must succeed; a failure is recorded and the test goes
 * on (the window's error handler is MPI_ERRORS_RETURN). */
#define SOFT_MPI(call)                                                         \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != MPI_SUCCESS)                                                \
            FAILF("%s returned %s", #call, prma_err_string(rc_));              \
    } while (0)

/* Names the part a watchdog timeout reports; keeps the remaining time. */
static void set_section(const char *name)
{
    static char label[128];
    unsigned rest = alarm(0);
    snprintf(label, sizeof label, "accumulate (%s)", name);
    prma_watchdog_arm(label, rest ? rest : 1);
}

/* Local stores into our own window memory (no other epoch open, nobody else
 * accessing it): standard-conforming in either memory model. */
static void local_store_begin(MPI_Win w)
{
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w));
}
static void local_store_end(MPI_Win w)
{
    MPI_CHECK(MPI_Win_sync(w));
    MPI_CHECK(MPI_Win_unlock(rank, w));
}
static void local_load_begin(MPI_Win w)
{
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, w));
    MPI_CHECK(MPI_Win_sync(w));
}
static void local_load_end(MPI_Win w) { MPI_CHECK(MPI_Win_unlock(rank, w)); }

static MPI_Win win_alloc(size_t size, int disp_unit, void *basep)
{
    MPI_Win w;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)size, disp_unit, MPI_INFO_NULL,
                               MPI_COMM_WORLD, basep, &w));
    MPI_CHECK(MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN));
    return w;
}

/* ==== ops and types ====================================================== */

enum {
    O_SUM, O_PROD, O_MAX, O_MIN, O_LAND, O_LOR, O_LXOR, O_BAND, O_BOR, O_BXOR,
    O_MAXLOC, O_MINLOC, O_REPLACE, O_NO_OP, N_OPS
};
static MPI_Op mpi_op[N_OPS];
static const char *const op_name[N_OPS] = {
    "MPI_SUM", "MPI_PROD", "MPI_MAX", "MPI_MIN", "MPI_LAND", "MPI_LOR",
    "MPI_LXOR", "MPI_BAND", "MPI_BOR", "MPI_BXOR", "MPI_MAXLOC", "MPI_MINLOC",
    "MPI_REPLACE", "MPI_NO_OP"};

static void init_ops(void)
{
    const MPI_Op o[N_OPS] = {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN, MPI_LAND,
                             MPI_LOR, MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR,
                             MPI_MAXLOC, MPI_MINLOC, MPI_REPLACE, MPI_NO_OP};
    memcpy(mpi_op, o, sizeof o);
}

enum kind { K_INT, K_BYTE, K_CHAR, K_BOOL, K_REAL, K_CPLX, K_PAIR };
/* the real type of K_REAL / K_CPLX, the value type of K_PAIR */
enum sub { S_NONE, S_FLOAT, S_DOUBLE, S_LDOUBLE, S_SHORT, S_INT, S_LONG };

struct tinfo {
    const char *name;
    MPI_Datatype dt;
    size_t size; /* the C type's sizeof = the MPI extent */
    enum kind kind;
    int is_signed;  /* K_INT */
    enum sub sub;
    size_t idx_off; /* K_PAIR: offset of the int index */
};

struct p_float { float v; int i; };
struct p_double { double v; int i; };
struct p_long { long v; int i; };
struct p_2int { int v; int i; };
struct p_short { short v; int i; };
struct p_ldouble { long double v; int i; };

#define MAX_TYPES 40
static struct tinfo types[MAX_TYPES];
static int ntypes;

static void add_type(const char *name, MPI_Datatype dt, size_t size,
                     enum kind k, int sg, enum sub sub, size_t idx_off)
{
    MPI_Aint lb, ext;
    MPI_CHECK(MPI_Type_get_extent(dt, &lb, &ext));
    CHECKF(lb == 0 && (size_t)ext == size,
           "%s: lower bound %ld, extent %ld; the C type has %zu bytes", name,
           (long)lb, (long)ext, size);
    CHECK(ntypes < MAX_TYPES);
    types[ntypes++] = (struct tinfo){name, dt, size, k, sg, sub, idx_off};
}

#define ADD_INT(ct, dt, sg) add_type(#dt, dt, sizeof(ct), K_INT, sg, S_NONE, 0)
#define ADD_PAIR(st, dt, sub)                                                  \
    add_type(#dt, dt, sizeof(struct st), K_PAIR, 1, sub, offsetof(struct st, i))

static void init_types(void)
{
    ADD_INT(signed char, MPI_SIGNED_CHAR, 1);
    ADD_INT(unsigned char, MPI_UNSIGNED_CHAR, 0);
    ADD_INT(short, MPI_SHORT, 1);
    ADD_INT(unsigned short, MPI_UNSIGNED_SHORT, 0);
    ADD_INT(int, MPI_INT, 1);
    ADD_INT(unsigned, MPI_UNSIGNED, 0);
    ADD_INT(long, MPI_LONG, 1);
    ADD_INT(unsigned long, MPI_UNSIGNED_LONG, 0);
    ADD_INT(long long, MPI_LONG_LONG, 1);
    ADD_INT(unsigned long long, MPI_UNSIGNED_LONG_LONG, 0);
    ADD_INT(int8_t, MPI_INT8_T, 1);
    ADD_INT(uint8_t, MPI_UINT8_T, 0);
    ADD_INT(int16_t, MPI_INT16_T, 1);
    ADD_INT(uint16_t, MPI_UINT16_T, 0);
    ADD_INT(int32_t, MPI_INT32_T, 1);
    ADD_INT(uint32_t, MPI_UINT32_T, 0);
    ADD_INT(int64_t, MPI_INT64_T, 1);
    ADD_INT(uint64_t, MPI_UINT64_T, 0);
    add_type("MPI_BYTE", MPI_BYTE, 1, K_BYTE, 0, S_NONE, 0);
    add_type("MPI_CHAR", MPI_CHAR, 1, K_CHAR, 0, S_NONE, 0);
    add_type("MPI_C_BOOL", MPI_C_BOOL, sizeof(bool), K_BOOL, 0, S_NONE, 0);
    add_type("MPI_FLOAT", MPI_FLOAT, sizeof(float), K_REAL, 1, S_FLOAT, 0);
    add_type("MPI_DOUBLE", MPI_DOUBLE, sizeof(double), K_REAL, 1, S_DOUBLE, 0);
    add_type("MPI_LONG_DOUBLE", MPI_LONG_DOUBLE, sizeof(long double), K_REAL, 1,
             S_LDOUBLE, 0);
    add_type("MPI_C_FLOAT_COMPLEX", MPI_C_FLOAT_COMPLEX, sizeof(float complex),
             K_CPLX, 1, S_FLOAT, 0);
    add_type("MPI_C_DOUBLE_COMPLEX", MPI_C_DOUBLE_COMPLEX,
             sizeof(double complex), K_CPLX, 1, S_DOUBLE, 0);
    add_type("MPI_C_LONG_DOUBLE_COMPLEX", MPI_C_LONG_DOUBLE_COMPLEX,
             sizeof(long double complex), K_CPLX, 1, S_LDOUBLE, 0);
    ADD_PAIR(p_float, MPI_FLOAT_INT, S_FLOAT);
    ADD_PAIR(p_double, MPI_DOUBLE_INT, S_DOUBLE);
    ADD_PAIR(p_long, MPI_LONG_INT, S_LONG);
    ADD_PAIR(p_2int, MPI_2INT, S_INT);
    ADD_PAIR(p_short, MPI_SHORT_INT, S_SHORT);
    ADD_PAIR(p_ldouble, MPI_LONG_DOUBLE_INT, S_LDOUBLE);
}

/* Is op defined on t in MPI-3.1 (5.9.2, 5.9.4, 11.3.4)?  MPI_REPLACE and
 * MPI_NO_OP are defined on every predefined type. */
static int op_valid(const struct tinfo *t, int op)
{
    if (op == O_REPLACE || op == O_NO_OP)
        return 1;
    switch (t->kind) {
    case K_INT: return op <= O_BXOR;
    case K_BYTE: return op == O_BAND || op == O_BOR || op == O_BXOR;
    case K_CHAR: return 0;
    case K_BOOL: return op == O_LAND || op == O_LOR || op == O_LXOR;
    case K_REAL: return op <= O_MIN;
    case K_CPLX: return op == O_SUM || op == O_PROD;
    case K_PAIR: return op == O_MAXLOC || op == O_MINLOC;
    }
    return 0;
}

/* ==== elements ============================================================
 * One element of any of the types, in a form the reference computes on:
 * integers (and MPI_BYTE, MPI_CHAR, MPI_C_BOOL, integer pair values) as the
 * bits in u (pair values sign-extended), reals in re (+ im), pair indices in
 * idx.  Every value the test uses is exact in the element's own type. */
typedef struct {
    uint64_t u;
    long double re, im;
    int idx;
} elem_t;

static uint64_t mask_of(int bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static int64_t sext(uint64_t u, int bits)
{
    if (bits >= 64)
        return (int64_t)u;
    const uint64_t s = 1ull << (bits - 1);
    return (int64_t)(((u & mask_of(bits)) ^ s) - s);
}

static uint64_t load_u(const void *p, size_t n)
{
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    switch (n) {
    case 1: memcpy(&a, p, 1); return a;
    case 2: memcpy(&b, p, 2); return b;
    case 4: memcpy(&c, p, 4); return c;
    default: memcpy(&d, p, 8); return d;
    }
}

static void store_u(void *p, size_t n, uint64_t u)
{
    uint8_t a = (uint8_t)u;
    uint16_t b = (uint16_t)u;
    uint32_t c = (uint32_t)u;
    switch (n) {
    case 1: memcpy(p, &a, 1); break;
    case 2: memcpy(p, &b, 2); break;
    case 4: memcpy(p, &c, 4); break;
    default: memcpy(p, &u, 8); break;
    }
}

static size_t real_size(enum sub s)
{
    return s == S_FLOAT ? sizeof(float)
           : s == S_DOUBLE ? sizeof(double) : sizeof(long double);
}

static long double load_r(const void *p, enum sub s)
{
    float f;
    double d;
    long double l;
    switch (s) {
    case S_FLOAT: memcpy(&f, p, sizeof f); return f;
    case S_DOUBLE: memcpy(&d, p, sizeof d); return d;
    default: memcpy(&l, p, sizeof l); return l;
    }
}

static void store_r(void *p, enum sub s, long double v)
{
    float f = (float)v;
    double d = (double)v;
    switch (s) {
    case S_FLOAT: memcpy(p, &f, sizeof f); break;
    case S_DOUBLE: memcpy(p, &d, sizeof d); break;
    default: memcpy(p, &v, sizeof v); break;
    }
}

static size_t pair_isize(enum sub s)
{
    return s == S_SHORT ? sizeof(short) : s == S_INT ? sizeof(int) : sizeof(long);
}

static int sub_is_int(enum sub s)
{
    return s == S_SHORT || s == S_INT || s == S_LONG;
}

static void put_elem(const struct tinfo *t, void *p, const elem_t *e)
{
    char *c = p;
    switch (t->kind) {
    case K_INT: case K_BYTE: case K_CHAR: case K_BOOL:
        store_u(c, t->size, e->u);
        break;
    case K_REAL:
        store_r(c, t->sub, e->re);
        break;
    case K_CPLX:
        store_r(c, t->sub, e->re);
        store_r(c + real_size(t->sub), t->sub, e->im);
        break;
    case K_PAIR:
        if (sub_is_int(t->sub))
            store_u(c, pair_isize(t->sub), e->u);
        else
            store_r(c, t->sub, e->re);
        memcpy(c + t->idx_off, &e->idx, sizeof(int));
        break;
    }
}

static void get_elem(const struct tinfo *t, const void *p, elem_t *e)
{
    const char *c = p;
    memset(e, 0, sizeof *e);
    switch (t->kind) {
    case K_INT: case K_BYTE: case K_CHAR: case K_BOOL:
        e->u = load_u(c, t->size);
        break;
    case K_REAL:
        e->re = load_r(c, t->sub);
        break;
    case K_CPLX:
        e->re = load_r(c, t->sub);
        e->im = load_r(c + real_size(t->sub), t->sub);
        break;
    case K_PAIR:
        if (sub_is_int(t->sub)) {
            const int bits = (int)(8 * pair_isize(t->sub));
            e->u = (uint64_t)sext(load_u(c, pair_isize(t->sub)), bits);
        } else {
            e->re = load_r(c, t->sub);
        }
        memcpy(&e->idx, c + t->idx_off, sizeof(int));
        break;
    }
}

static int elem_eq(const struct tinfo *t, const elem_t *a, const elem_t *b)
{
    switch (t->kind) {
    case K_INT: case K_BYTE: case K_CHAR: case K_BOOL:
        return ((a->u ^ b->u) & mask_of((int)(8 * t->size))) == 0;
    case K_REAL:
        return a->re == b->re;
    case K_CPLX:
        return a->re == b->re && a->im == b->im;
    case K_PAIR:
        return (sub_is_int(t->sub) ? a->u == b->u : a->re == b->re) &&
               a->idx == b->idx;
    }
    return 0;
}

static const char *fmt_elem(const struct tinfo *t, const elem_t *e, char *buf,
                            size_t n)
{
    const int bits = (int)(8 * t->size);
    switch (t->kind) {
    case K_INT:
        if (t->is_signed)
            snprintf(buf, n, "%lld (0x%llx)", (long long)sext(e->u, bits),
                     (unsigned long long)(e->u & mask_of(bits)));
        else
            snprintf(buf, n, "%llu (0x%llx)", (unsigned long long)(e->u & mask_of(bits)),
                     (unsigned long long)(e->u & mask_of(bits)));
        break;
    case K_BYTE: case K_CHAR: case K_BOOL:
        snprintf(buf, n, "0x%02llx", (unsigned long long)(e->u & mask_of(bits)));
        break;
    case K_REAL:
        snprintf(buf, n, "%.21Lg", e->re);
        break;
    case K_CPLX:
        snprintf(buf, n, "(%.21Lg, %.21Lg)", e->re, e->im);
        break;
    case K_PAIR:
        if (sub_is_int(t->sub))
            snprintf(buf, n, "(%lld, index %d)", (long long)e->u, e->idx);
        else
            snprintf(buf, n, "(%.21Lg, index %d)", e->re, e->idx);
        break;
    }
    return buf;
}

/* The reference: out = cur op in, where cur is the target's value and in
 * the origin's (MPI_REPLACE: f(a, b) = b; MPI_NO_OP: f(a, b) = a). */
static void ref_apply(const struct tinfo *t, int op, const elem_t *cur,
                      const elem_t *in, elem_t *out)
{
    *out = *cur;
    if (op == O_NO_OP)
        return;
    if (op == O_REPLACE) {
        *out = *in;
        return;
    }
    switch (t->kind) {
    case K_INT: case K_BYTE: case K_CHAR: case K_BOOL: {
        const int bits = (int)(8 * t->size);
        const uint64_t m = mask_of(bits), a = cur->u & m, b = in->u & m;
        const int sg = t->kind == K_INT && t->is_signed;
        const int b_less = sg ? sext(b, bits) < sext(a, bits) : b < a;
        const int b_more = sg ? sext(b, bits) > sext(a, bits) : b > a;
        uint64_t r = a;
        switch (op) {
        case O_SUM: r = a + b; break;
        case O_PROD: r = a * b; break;
        case O_MAX: r = b_more ? b : a; break;
        case O_MIN: r = b_less ? b : a; break;
        case O_LAND: r = a != 0 && b != 0; break;
        case O_LOR: r = a != 0 || b != 0; break;
        case O_LXOR: r = (a != 0) != (b != 0); break;
        case O_BAND: r = a & b; break;
        case O_BOR: r = a | b; break;
        case O_BXOR: r = a ^ b; break;
        }
        out->u = r & m;
        break;
    }
    case K_REAL:
        switch (op) {
        case O_SUM: out->re = cur->re + in->re; break;
        case O_PROD: out->re = cur->re * in->re; break;
        case O_MAX: out->re = in->re > cur->re ? in->re : cur->re; break;
        case O_MIN: out->re = in->re < cur->re ? in->re : cur->re; break;
        }
        break;
    case K_CPLX:
        if (op == O_SUM) {
            out->re = cur->re + in->re;
            out->im = cur->im + in->im;
        } else if (op == O_PROD) {
            out->re = cur->re * in->re - cur->im * in->im;
            out->im = cur->re * in->im + cur->im * in->re;
        }
        break;
    case K_PAIR: {
        int c; /* sign of in.value - cur.value */
        if (sub_is_int(t->sub))
            c = ((int64_t)in->u > (int64_t)cur->u) - ((int64_t)in->u < (int64_t)cur->u);
        else
            c = (in->re > cur->re) - (in->re < cur->re);
        if ((op == O_MAXLOC && c > 0) || (op == O_MINLOC && c < 0))
            *out = *in;
        else if (c == 0 && in->idx < cur->idx)
            out->idx = in->idx; /* tie: the smaller index */
        break;
    }
    }
}

/* ---- value generation ----------------------------------------------------- */

static uint64_t gen_int(int bits, int sg, int op, uint64_t rv)
{
    const uint64_t m = mask_of(bits);
    uint64_t lim, v;

    switch (op) {
    case O_SUM:
        if (!sg)
            return rv & m; /* wraps: the reference wraps too */
        lim = (1ull << (bits - 2)) - 1; /* |a + b| < 2^(bits-1) */
        return (uint64_t)((int64_t)(rv % (2 * lim + 1)) - (int64_t)lim) & m;
    case O_PROD:
        if (!sg)
            return rv & m;
        /* |a * b| < 2^(bits-1) */
        lim = bits == 8 ? 11 : bits == 16 ? 181 : bits == 32 ? 46340 : 3037000499ull;
        return (uint64_t)((int64_t)(rv % (2 * lim + 1)) - (int64_t)lim) & m;
    case O_LAND: case O_LOR: case O_LXOR:
        switch (rv % 6) {
        case 0: case 1: return 0;
        case 2: return 1;
        case 3: return 1ull << (bits - 1); /* only the top bit */
        case 4: return bits > 8 ? 0x100 : 0x2; /* low bit / low byte zero */
        default:
            v = (rv >> 8) & m;
            return v ? v : 4;
        }
    default:
        return rv & m;
    }
}

static long double gen_real(int op, uint64_t rv)
{
    switch (op) {
    case O_SUM: return (long double)((int64_t)(rv % 8001) - 4000) / 4;
    case O_PROD:
        /* a small integer times 2^-4 .. 2^4 */
        return (long double)((int64_t)(rv % 41) - 20) * (long double)(1u << ((rv >> 32) % 9)) / 16;
    case O_MAX: case O_MIN: return (long double)((int64_t)(rv % 2001) - 1000) / 8;
    default: return (long double)((int64_t)(rv % 2000001) - 1000000) / 64;
    }
}

static long double gen_cplx_part(int op, uint64_t rv)
{
    switch (op) {
    case O_SUM: return (long double)((int64_t)(rv % 8001) - 4000) / 4;
    case O_PROD: return (long double)((int64_t)(rv % 41) - 20);
    default: return (long double)((int64_t)(rv % 2000001) - 1000000) / 64;
    }
}

/* Element number pos of the stream (seed).  For MAX/MIN/MAXLOC/MINLOC every
 * 4th element takes its value from tie_seed, shared by the target's and the
 * origin's streams: equal values (and, for the pairs, the index tie rule). */
static void gen_elem(const struct tinfo *t, int op, uint64_t seed,
                     uint64_t tie_seed, int pos, elem_t *e)
{
    const int ordered = op == O_MAX || op == O_MIN || op == O_MAXLOC || op == O_MINLOC;
    const uint64_t r = prma_mix64(seed ^ ((uint64_t)pos * 0xA24BAED4963EE407ull));
    const uint64_t rv = ordered && pos % 4 == 3
                            ? prma_mix64(tie_seed ^ ((uint64_t)pos * 0x9FB21C651E98DF25ull))
                            : r;
    const uint64_t r2 = prma_mix64(r + 0x1234567);

    memset(e, 0, sizeof *e);
    switch (t->kind) {
    case K_INT: e->u = gen_int((int)(8 * t->size), t->is_signed, op, rv); break;
    case K_BYTE: e->u = rv & 0xff; break;
    case K_CHAR: e->u = 'a' + rv % 26; break;
    case K_BOOL: e->u = rv & 1; break;
    case K_REAL: e->re = gen_real(op, rv); break;
    case K_CPLX:
        e->re = gen_cplx_part(op, rv);
        e->im = gen_cplx_part(op, prma_mix64(rv ^ 0x5555));
        break;
    case K_PAIR: {
        const uint64_t w = rv >> 1;
        if (rv & 1) { /* small: many ties */
            const int64_t v = (int64_t)(w % 7) - 3;
            if (sub_is_int(t->sub))
                e->u = (uint64_t)v;
            else
                e->re = (long double)v;
        } else if (sub_is_int(t->sub)) {
            const int bits = (int)(8 * pair_isize(t->sub));
            e->u = (uint64_t)sext(w, bits);
        } else {
            e->re = (long double)((int64_t)(w % 2000001) - 1000000) / 64;
        }
        e->idx = (int)(r2 % 2001) - 1000;
        break;
    }
    }
}

/* ==== a. every op on every type ============================================ */

#define NBIG 17
enum { CALL_ACC, CALL_GACC, CALL_FOP };
static const char *const call_name[] = {"MPI_Accumulate", "MPI_Get_accumulate",
                                        "MPI_Fetch_and_op"};
static const struct {
    int first, count, call;
} a_slots[] = {{0, 1, CALL_ACC},
               {1, NBIG, CALL_ACC},
               {1 + NBIG, 1, CALL_GACC},
               {2 + NBIG, NBIG, CALL_GACC},
               {2 + 2 * NBIG, 1, CALL_FOP}};
#define A_NSLOTS 5
#define A_NPOS (3 + 2 * NBIG) /* elements per type/op pair */
enum { ROLE_TARGET, ROLE_ORIGIN };

struct combo {
    int t, op;
    size_t base; /* byte offset of its A_NPOS elements in the window */
};
static struct combo combos[MAX_TYPES * N_OPS];
static int ncombos;

static void a_value(int c, int who, int role, int phase, int pos, elem_t *e)
{
    gen_elem(&types[combos[c].t], combos[c].op,
             prma_seed((uint64_t)who, (uint64_t)c * 2 + (uint64_t)role, 100 + (uint64_t)phase),
             prma_seed(999999, (uint64_t)c, 300 + (uint64_t)phase), pos, e);
}

static int a_issue(MPI_Win w, unsigned char *obuf, unsigned char *rbuf)
{
    int calls = 0;
    for (int c = 0; c < ncombos; c++) {
        const struct tinfo *t = &types[combos[c].t];
        const int op = combos[c].op;
        for (int s = 0; s < A_NSLOTS; s++) {
            const size_t off = combos[c].base + (size_t)a_slots[s].first * t->size;
            const int n = a_slots[s].count;
            int rc;
            switch (a_slots[s].call) {
            case CALL_ACC:
                if (op == O_NO_OP)
                    continue; /* not allowed in MPI_Accumulate (see g) */
                rc = MPI_Accumulate(obuf + off, n, t->dt, right, (MPI_Aint)off, n,
                                    t->dt, mpi_op[op], w);
                break;
            case CALL_GACC:
                rc = MPI_Get_accumulate(obuf + off, n, t->dt, rbuf + off, n, t->dt,
                                        right, (MPI_Aint)off, n, t->dt, mpi_op[op], w);
                break;
            default:
                rc = MPI_Fetch_and_op(obuf + off, rbuf + off, t->dt, right,
                                      (MPI_Aint)off, mpi_op[op], w);
                break;
            }
            calls++;
            if (rc != MPI_SUCCESS)
                FAILF("%s(%s, %s, count %d) returned %s", call_name[a_slots[s].call],
                      op_name[op], t->name, n, prma_err_string(rc));
        }
    }
    return calls;
}

static void a_verify(const unsigned char *mem, const unsigned char *rbuf,
                     int phase, const char *epoch)
{
    char b1[128], b2[128], b3[128], b4[128];
    for (int c = 0; c < ncombos; c++) {
        const struct tinfo *t = &types[combos[c].t];
        const int op = combos[c].op;
        for (int s = 0; s < A_NSLOTS; s++) {
            const int call = a_slots[s].call;
            for (int k = 0; k < a_slots[s].count; k++) {
                const int pos = a_slots[s].first + k;
                const size_t off = combos[c].base + (size_t)pos * t->size;
                elem_t old, org, want, got;
                a_value(c, rank, ROLE_TARGET, phase, pos, &old);
                a_value(c, left, ROLE_ORIGIN, phase, pos, &org);
                if (call == CALL_ACC && op == O_NO_OP)
                    want = old;
                else
                    ref_apply(t, op, &old, &org, &want);
                get_elem(t, mem + off, &got);
                if (!elem_eq(t, &got, &want))
                    FAILF("%s epoch, %s(%s, %s, count %d) from rank %d: target "
                          "element %d holds %s, expected %s (old %s, origin %s)",
                          epoch, call_name[call], op_name[op], t->name,
                          a_slots[s].count, left, k, fmt_elem(t, &got, b1, sizeof b1),
                          fmt_elem(t, &want, b2, sizeof b2), fmt_elem(t, &old, b3, sizeof b3),
                          fmt_elem(t, &org, b4, sizeof b4));
                if (call == CALL_ACC)
                    continue;
                a_value(c, right, ROLE_TARGET, phase, pos, &want);
                get_elem(t, rbuf + off, &got);
                if (!elem_eq(t, &got, &want))
                    FAILF("%s epoch, %s(%s, %s, count %d) to rank %d: fetched "
                          "element %d is %s, expected the old value %s",
                          epoch, call_name[call], op_name[op], t->name,
                          a_slots[s].count, right, k, fmt_elem(t, &got, b1, sizeof b1),
                          fmt_elem(t, &want, b2, sizeof b2));
            }
        }
    }
}

/* Is tok an item of the comma-separated list? */
static int listed(const char *list, const char *tok)
{
    const size_t n = strlen(tok);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, tok, n))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* ACC_TEST_SKIP (see the top) */
static int combo_skipped(const struct tinfo *t, int op)
{
    const char *skip = getenv("ACC_TEST_SKIP");
    char pair[96];
    snprintf(pair, sizeof pair, "%s:%s", t->name, op_name[op]);
    return skip && (listed(skip, t->name) || listed(skip, pair));
}

static void test_all_ops(void)
{
    size_t size = 0;
    int skipped = 0;
    ncombos = 0;
    for (int t = 0; t < ntypes; t++)
        for (int op = 0; op < N_OPS; op++)
            if (op_valid(&types[t], op) && combo_skipped(&types[t], op)) {
                skipped++;
            } else if (op_valid(&types[t], op)) {
                combos[ncombos] = (struct combo){t, op, size};
                ncombos++;
                size += (A_NPOS * types[t].size + 31) & ~(size_t)31;
            }

    unsigned char *mem;
    MPI_Win w = win_alloc(size, 1, &mem);
    unsigned char *obuf = prma_xmalloc(size), *rbuf = prma_xmalloc(size);
    int calls = 0;

    for (int phase = 0; phase < 2; phase++) {
        elem_t e;
        local_store_begin(w);
        memset(mem, 0, size);
        for (int c = 0; c < ncombos; c++)
            for (int pos = 0; pos < A_NPOS; pos++) {
                const struct tinfo *t = &types[combos[c].t];
                a_value(c, rank, ROLE_TARGET, phase, pos, &e);
                put_elem(t, mem + combos[c].base + (size_t)pos * t->size, &e);
            }
        local_store_end(w);
        memset(obuf, 0, size);
        for (int c = 0; c < ncombos; c++)
            for (int pos = 0; pos < A_NPOS; pos++) {
                const struct tinfo *t = &types[combos[c].t];
                a_value(c, rank, ROLE_ORIGIN, phase, pos, &e);
                put_elem(t, obuf + combos[c].base + (size_t)pos * t->size, &e);
            }
        memset(rbuf, PRMA_SENTINEL2, size);
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

        if (phase == 0) {
            MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
            calls += a_issue(w, obuf, rbuf);
            MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w));
        } else {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, w));
            calls += a_issue(w, obuf, rbuf);
            MPI_CHECK(MPI_Win_unlock(right, w));
        }
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        local_load_begin(w);
        a_verify(mem, rbuf, phase, phase == 0 ? "fence" : "lock");
        local_load_end(w);
    }
    MPI_CHECK(MPI_Win_free(&w));
    free(obuf);
    free(rbuf);
    if (rank == 0)
        printf("accumulate: a. %d type/op pairs, %d calls per rank\n", ncombos, calls);
    if (rank == 0 && skipped)
        printf("accumulate: NOTE (ACC_TEST_SKIP) %d type/op pairs left out\n", skipped);
}

/* ==== b. concurrent sums =================================================== */

#define B_NV 32
#define B_KLOCK 48
#define B_KFENCE 12
#define B_KCNT 64

static int64_t b_ival(int r, int phase, int it, int j)
{
    return ((int64_t)(r + 1) << 33) + (int64_t)it * 1031 - (int64_t)j * 77 + phase * 5;
}
static double b_dval(int r, int phase, int it, int j)
{
    return (r + 1) * 0.75 + it * 2.5 - j * 0.25 + phase; /* sums stay exact */
}
static int64_t b_iinit(int r, int j) { return (int64_t)r * 1000 - j; }
static double b_dinit(int r, int j) { return r * 0.5 + j * 0.125; }

static void b_verify(const int64_t *im, const double *dm, size_t i_own, size_t d_same,
                     size_t d_own, int nphases, const int *kits)
{
    for (int j = 0; j < B_NV; j++) {
        int64_t isame = b_iinit(rank, j);
        double dsame = b_dinit(rank, j);
        for (int r = 0; r < nranks; r++) {
            int64_t iown = b_iinit(rank, j);
            double down = b_dinit(rank, j);
            for (int ph = 0; ph < nphases; ph++)
                for (int it = 0; it < kits[ph]; it++)
                    if (it % nranks == rank) {
                        iown += b_ival(r, ph, it, j);
                        down += b_dval(r, ph, it, j);
                    }
            isame += iown - b_iinit(rank, j);
            dsame += down - b_dinit(rank, j);
            if (im[i_own + (size_t)r * B_NV + j] != iown)
                FAILF("b. int64 sums from rank %d alone, element %d: %lld, expected %lld",
                      r, j, (long long)im[i_own + (size_t)r * B_NV + j], (long long)iown);
            if (dm[d_own + (size_t)r * B_NV + j] != down)
                FAILF("b. double sums from rank %d alone, element %d: %.17g, expected %.17g",
                      r, j, dm[d_own + (size_t)r * B_NV + j], down);
        }
        if (im[j] != isame)
            FAILF("b. int64 sums from all ranks, element %d: %lld, expected %lld", j,
                  (long long)im[j], (long long)isame);
        if (dm[d_same + j] != dsame)
            FAILF("b. double sums from all ranks, element %d: %.17g, expected %.17g", j,
                  dm[d_same + j], dsame);
    }
}

static void b_round(MPI_Win w, int it, int phase, int64_t *vi, double *vd, size_t i_own,
                    size_t d_same, size_t d_own)
{
    const int tgt = it % nranks;
    for (int j = 0; j < B_NV; j++) {
        vi[j] = b_ival(rank, phase, it, j);
        vd[j] = b_dval(rank, phase, it, j);
    }
    SOFT_MPI(MPI_Accumulate(vi, B_NV, MPI_INT64_T, tgt, 0, B_NV, MPI_INT64_T, MPI_SUM, w));
    SOFT_MPI(MPI_Accumulate(vi, B_NV, MPI_INT64_T, tgt, (MPI_Aint)(i_own + (size_t)rank * B_NV),
                            B_NV, MPI_INT64_T, MPI_SUM, w));
    SOFT_MPI(MPI_Accumulate(vd, B_NV, MPI_DOUBLE, tgt, (MPI_Aint)d_same, B_NV, MPI_DOUBLE,
                            MPI_SUM, w));
    SOFT_MPI(MPI_Accumulate(vd, B_NV, MPI_DOUBLE, tgt, (MPI_Aint)(d_own + (size_t)rank * B_NV),
                            B_NV, MPI_DOUBLE, MPI_SUM, w));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_concurrent(void)
{
    /* 8-byte slots: int64 [0, NV) same, [i_own, +n*NV) per origin; doubles
     * likewise; then the counters */
    const size_t i_own = B_NV, d_same = i_own + (size_t)nranks * B_NV, d_own = d_same + B_NV,
                 cnt = d_own + (size_t)nranks * B_NV, casc = cnt + 1, n = casc + 1;
    void *base;
    MPI_Win w = win_alloc(n * 8, 8, &base);
    int64_t *im = base;
    double *dm = base;
    int64_t(*vi)[B_NV] = prma_xmalloc(B_KLOCK * sizeof *vi);
    double(*vd)[B_NV] = prma_xmalloc(B_KLOCK * sizeof *vd);
    const int kits[2] = {B_KLOCK, B_KFENCE};

    local_store_begin(w);
    for (int j = 0; j < B_NV; j++) {
        im[j] = b_iinit(rank, j);
        dm[d_same + j] = b_dinit(rank, j);
        for (int r = 0; r < nranks; r++) {
            im[i_own + (size_t)r * B_NV + j] = b_iinit(rank, j);
            dm[d_own + (size_t)r * B_NV + j] = b_dinit(rank, j);
        }
    }
    im[cnt] = 0;
    im[casc] = 0;
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* lock_all with flushes; every origin buffer stays untouched until the
     * end of the epoch */
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int it = 0; it < B_KLOCK; it++) {
        b_round(w, it, 0, vi[it], vd[it], i_own, d_same, d_own);
        if (it % 4 == 3)
            SOFT_MPI(MPI_Win_flush(it % nranks, w));
        else if (it % 7 == 6)
            SOFT_MPI(MPI_Win_flush_all(w));
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    local_load_begin(w);
    b_verify(im, dm, i_own, d_same, d_own, 1, kits);
    local_load_end(w);

    /* fence epochs */
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
    for (int it = 0; it < B_KFENCE; it++) {
        b_round(w, it, 1, vi[it], vd[it], i_own, d_same, d_own);
        MPI_CHECK(MPI_Win_fence(it == B_KFENCE - 1 ? MPI_MODE_NOSUCCEED : 0, w));
    }
    b_verify(im, dm, i_own, d_same, d_own, 2, kits);

    /* fetch-and-add + accumulate on one counter, CAS on another */
    int64_t one = 1, two = 2, f = -1, last = -1, tickets[B_KCNT];
    long jumps = 0;
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int k = 0; k < B_KCNT; k++) {
        SOFT_MPI(MPI_Fetch_and_op(&one, &f, MPI_INT64_T, 0, (MPI_Aint)cnt, MPI_SUM, w));
        SOFT_MPI(MPI_Win_flush(0, w));
        if (k > 0 && f < last + 3)
            FAILF("b. fetch-and-add %d fetched %lld after %lld: this rank alone "
                  "added 3 since", k, (long long)f, (long long)last);
        jumps += k > 0 && f > last + 3;
        last = f;
        SOFT_MPI(MPI_Accumulate(&two, 1, MPI_INT64_T, 0, (MPI_Aint)cnt, 1, MPI_INT64_T,
                                MPI_SUM, w));
        int64_t guess = k > 0 ? tickets[k - 1] + 1 : 0, nv, res = -1;
        for (int tries = 0;; tries++) {
            nv = guess + 1;
            SOFT_MPI(MPI_Compare_and_swap(&nv, &guess, &res, MPI_INT64_T, 0, (MPI_Aint)casc, w));
            SOFT_MPI(MPI_Win_flush(0, w));
            if (res == guess)
                break;
            CHECKF(tries < 1000000 && res >= 0 && res <= (int64_t)nranks * B_KCNT,
                   "b. compare-and-swap read %lld", (long long)res);
            guess = res;
        }
        tickets[k] = guess;
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    int64_t *all = rank == 0 ? prma_xmalloc((size_t)nranks * B_KCNT * sizeof *all) : NULL;
    MPI_CHECK(MPI_Gather(tickets, B_KCNT, MPI_INT64_T, all, B_KCNT, MPI_INT64_T, 0,
                         MPI_COMM_WORLD));
    long alljumps = 0;
    MPI_CHECK(MPI_Reduce(&jumps, &alljumps, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    if (rank == 0) {
        qsort(all, (size_t)nranks * B_KCNT, sizeof *all, cmp_i64);
        for (int64_t i = 0; i < (int64_t)nranks * B_KCNT; i++)
            if (all[i] != i) {
                FAILF("b. compare-and-swap tickets: sorted ticket %lld is %lld "
                      "(lost or duplicated increments)", (long long)i, (long long)all[i]);
                break;
            }
        free(all);
        local_load_begin(w);
        if (im[cnt] != (int64_t)nranks * B_KCNT * 3)
            FAILF("b. counter of fetch-and-add (+1) and accumulate (+2): %lld, expected %lld",
                  (long long)im[cnt], (long long)nranks * B_KCNT * 3);
        if (im[casc] != (int64_t)nranks * B_KCNT)
            FAILF("b. compare-and-swap counter: %lld, expected %lld", (long long)im[casc],
                  (long long)nranks * B_KCNT);
        local_load_end(w);
        printf("accumulate: b. concurrent sums: %d+%d rounds; counter %d x %d; "
               "%ld interleavings seen\n", B_KLOCK, B_KFENCE, nranks, B_KCNT, alljumps);
    }
    MPI_CHECK(MPI_Win_free(&w));
    free(vi);
    free(vd);
}

/* ==== c. swap, atomic read, element-wise atomicity ========================= */

#define C_KSWAP 40
#define C_NE 24
#define C_K 24
#define C_INIT_W 0xfff
#define C_INIT_IT 0xff

/* a 52-bit code: writer (12 bits), iteration (8 bits), 32 hash bits of
 * (writer, iteration, element, salt); exact as a double */
static uint64_t c52(unsigned w, unsigned it, int i, int salt)
{
    const uint64_t h = prma_mix64(prma_seed(w, it, (uint64_t)i * 4 + (uint64_t)salt));
    return ((uint64_t)w << 40) | ((uint64_t)it << 32) | (h & 0xffffffffu);
}
static uint64_t c_u64(unsigned w, unsigned it, int i)
{
    return (c52(w, it, i, 0) << 12) | (prma_mix64(prma_seed(w, it, (uint64_t)i * 4 + 3)) & 0xfff);
}
static int c_ok_writer(unsigned w, unsigned it)
{
    return (w == C_INIT_W && it == C_INIT_IT) || (w < (unsigned)nranks && it < C_K);
}

enum { CT_U64, CT_DC, CT_DI, CT_LDC, CT_N };
static const char *const ct_name[CT_N] = {"MPI_UINT64_T", "MPI_C_DOUBLE_COMPLEX",
                                          "MPI_DOUBLE_INT", "MPI_C_LONG_DOUBLE_COMPLEX"};
static const size_t ct_size[CT_N] = {8, sizeof(double complex), sizeof(struct p_double),
                                     sizeof(long double complex)};

static void c_make(int ct, unsigned w, unsigned it, int i, void *p)
{
    const double re = (double)c52(w, it, i, 0), im = -(double)c52(w, it, i, 1);
    uint64_t u;
    double d[2];
    long double l[2];
    struct p_double di;
    switch (ct) {
    case CT_U64:
        u = c_u64(w, it, i);
        memcpy(p, &u, 8);
        break;
    case CT_DC:
        d[0] = re;
        d[1] = im;
        memcpy(p, d, sizeof d);
        break;
    case CT_DI:
        memset(&di, 0, sizeof di);
        di.v = re;
        di.i = (int)(prma_mix64(prma_seed(w, it, (uint64_t)i * 4 + 2)) & 0x7fffffff);
        memcpy(p, &di, sizeof di);
        break;
    default:
        l[0] = re;
        l[1] = im;
        memcpy(p, l, sizeof l);
        break;
    }
}

/* Is *p (element i) one value some writer wrote, or the initial value? */
static int c_valid(int ct, int i, const void *p)
{
    unsigned char want[64];
    unsigned w, it;
    uint64_t u;
    double re;
    long double lre;

    if (ct == CT_U64) {
        memcpy(&u, p, 8);
        w = (unsigned)(u >> 52);
        it = (unsigned)(u >> 44) & 0xff;
        return c_ok_writer(w, it) && u == c_u64(w, it, i);
    }
    if (ct == CT_LDC) {
        memcpy(&lre, p, sizeof lre);
        if (!(lre >= 0 && lre < 0x1p52L))
            return 0;
        u = (uint64_t)lre;
    } else {
        memcpy(&re, p, sizeof re);
        if (!(re >= 0 && re < 0x1p52))
            return 0;
        u = (uint64_t)re;
    }
    w = (unsigned)(u >> 40);
    it = (unsigned)(u >> 32) & 0xff;
    if (!c_ok_writer(w, it))
        return 0;
    c_make(ct, w, it, i, want);
    if (ct == CT_DC)
        return memcmp(p, want, 16) == 0;
    if (ct == CT_DI) {
        struct p_double a, b;
        memcpy(&a, p, sizeof a);
        memcpy(&b, want, sizeof b);
        return a.v == b.v && a.i == b.i;
    }
    long double a[2], b[2];
    memcpy(a, p, sizeof a);
    memcpy(b, want, sizeof b);
    return a[0] == b[0] && a[1] == b[1];
}

static void test_atomicity(void)
{
    MPI_Datatype ct_dt[CT_N] = {MPI_UINT64_T, MPI_C_DOUBLE_COMPLEX, MPI_DOUBLE_INT,
                                MPI_C_LONG_DOUBLE_COMPLEX};
    size_t ct_off[CT_N], size = 64; /* [0, 8): the swap word */
    for (int ct = 0; ct < CT_N; ct++) {
        ct_off[ct] = size;
        size += (C_NE * ct_size[ct] + 63) & ~(size_t)63;
    }
    unsigned char *mem;
    MPI_Win w = win_alloc(size, 1, &mem);
    int64_t init = -1;

    local_store_begin(w);
    memset(mem, 0, size);
    memcpy(mem, &init, 8);
    for (int ct = 0; ct < CT_N; ct++)
        for (int i = 0; i < C_NE; i++)
            c_make(ct, C_INIT_W, C_INIT_IT, i, mem + ct_off[ct] + (size_t)i * ct_size[ct]);
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* swap chain on rank 0's word; atomic reads in between */
    int64_t olds[C_KSWAP], token, rd = 0;
    long bad_reads = 0;
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int k = 0; k < C_KSWAP; k++) {
        token = (int64_t)rank * C_KSWAP + k;
        olds[k] = -7;
        SOFT_MPI(MPI_Get_accumulate(&token, 1, MPI_INT64_T, &olds[k], 1, MPI_INT64_T, 0, 0,
                                    1, MPI_INT64_T, MPI_REPLACE, w));
        SOFT_MPI(MPI_Win_flush(0, w));
        SOFT_MPI(MPI_Get_accumulate(&token, 1, MPI_INT64_T, &rd, 1, MPI_INT64_T, 0, 0, 1,
                                    MPI_INT64_T, MPI_NO_OP, w));
        SOFT_MPI(MPI_Win_flush(0, w));
        if (rd < -1 || rd >= (int64_t)nranks * C_KSWAP) {
            bad_reads++;
            FAILF("c. MPI_NO_OP read of the swap word: %lld, not a token", (long long)rd);
        }
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    int64_t *all = rank == 0 ? prma_xmalloc(((size_t)nranks * C_KSWAP + 1) * sizeof *all) : NULL;
    MPI_CHECK(MPI_Gather(olds, C_KSWAP, MPI_INT64_T, all, C_KSWAP, MPI_INT64_T, 0,
                         MPI_COMM_WORLD));
    if (rank == 0) {
        local_load_begin(w);
        memcpy(&all[(size_t)nranks * C_KSWAP], mem, 8); /* the last one stays */
        local_load_end(w);
        qsort(all, (size_t)nranks * C_KSWAP + 1, sizeof *all, cmp_i64);
        for (int64_t i = 0; i <= (int64_t)nranks * C_KSWAP; i++)
            if (all[i] != i - 1) {
                FAILF("c. MPI_REPLACE swap chain: sorted value %lld is %lld, expected %lld "
                      "(every token must come back exactly once)",
                      (long long)i, (long long)all[i], (long long)(i - 1));
                break;
            }
        free(all);
    }

    /* element-wise atomicity: everybody replaces rank 0's vectors and reads
     * them back */
    unsigned char *wbuf = prma_xmalloc(size), *rbuf = prma_xmalloc(size);
    long reads = 0, torn = 0, foreign = 0;
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int it = 0; it < C_K; it++) {
        for (int ct = 0; ct < CT_N; ct++) {
            for (int i = 0; i < C_NE; i++)
                c_make(ct, (unsigned)rank, (unsigned)it, i,
                       wbuf + ct_off[ct] + (size_t)i * ct_size[ct]);
            SOFT_MPI(MPI_Accumulate(wbuf + ct_off[ct], C_NE, ct_dt[ct], 0,
                                    (MPI_Aint)ct_off[ct], C_NE, ct_dt[ct], MPI_REPLACE, w));
        }
        SOFT_MPI(MPI_Win_flush(0, w));
        memset(rbuf, PRMA_SENTINEL2, size);
        for (int ct = 0; ct < CT_N; ct++)
            SOFT_MPI(MPI_Get_accumulate(wbuf + ct_off[ct], C_NE, ct_dt[ct], rbuf + ct_off[ct],
                                        C_NE, ct_dt[ct], 0, (MPI_Aint)ct_off[ct], C_NE,
                                        ct_dt[ct], MPI_NO_OP, w));
        SOFT_MPI(MPI_Win_flush(0, w));
        reads++;
        for (int ct = 0; ct < CT_N; ct++)
            for (int i = 0; i < C_NE; i++) {
                const unsigned char *p = rbuf + ct_off[ct] + (size_t)i * ct_size[ct];
                if (!c_valid(ct, i, p)) {
                    torn++;
                    FAILF("c. MPI_NO_OP read of %s element %d in round %d: not a value "
                          "any rank wrote (torn or misplaced)", ct_name[ct], i, it);
                } else {
                    uint64_t u;
                    memcpy(&u, p, 8);
                    foreign += ct == CT_U64 && (u >> 52) != (uint64_t)rank;
                }
            }
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        local_load_begin(w);
        for (int ct = 0; ct < CT_N; ct++)
            for (int i = 0; i < C_NE; i++) {
                const unsigned char *p = mem + ct_off[ct] + (size_t)i * ct_size[ct];
                uint64_t u;
                memcpy(&u, p, 8);
                if (!c_valid(ct, i, p))
                    FAILF("c. after the MPI_REPLACE storm, %s element %d is not a value "
                          "any rank wrote (torn)", ct_name[ct], i);
                else if (ct == CT_U64 && u == c_u64(C_INIT_W, C_INIT_IT, i))
                    FAILF("c. after the MPI_REPLACE storm, %s element %d still holds "
                          "its initial value", ct_name[ct], i);
            }
        local_load_end(w);
    }
    long sums[2] = {foreign, bad_reads + torn}, tot[2];
    MPI_CHECK(MPI_Reduce(sums, tot, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    if (rank == 0)
        printf("accumulate: c. swap chain of %d tokens; %ld vector reads per rank, %ld "
               "elements seen from other writers\n", nranks * C_KSWAP, reads, tot[0]);
    free(wbuf);
    free(rbuf);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ==== d. request-based accumulates ========================================= */

#define D_N 16
#define D_S 20 /* slot 19 gets nothing */

static int64_t d_ini(int r, int s, int i) { return (int64_t)r * 100000 + s * 1000 + i; }
static int64_t d_add(int r, int s, int i) { return (int64_t)(r + 1) * 7 + s * 3 + i; }

static int64_t dorg[D_S][D_N], dres[D_S][D_N];

static void d_racc(MPI_Win w, int s, MPI_Request *req)
{
    *req = MPI_REQUEST_NULL;
    SOFT_MPI(MPI_Raccumulate(dorg[s], D_N, MPI_INT64_T, right, (MPI_Aint)s * D_N, D_N,
                             MPI_INT64_T, MPI_SUM, w, req));
}
static void d_rgacc(MPI_Win w, int s, MPI_Request *req)
{
    *req = MPI_REQUEST_NULL;
    for (int i = 0; i < D_N; i++)
        dres[s][i] = -12345;
    SOFT_MPI(MPI_Rget_accumulate(dorg[s], D_N, MPI_INT64_T, dres[s], D_N, MPI_INT64_T, right,
                                 (MPI_Aint)s * D_N, D_N, MPI_INT64_T, MPI_SUM, w, req));
}
static void d_fetched(int s, const char *how)
{
    for (int i = 0; i < D_N; i++)
        if (dres[s][i] != d_ini(right, s, i)) {
            FAILF("d. MPI_Rget_accumulate completed by %s: fetched element %d is %lld, "
                  "expected %lld", how, i, (long long)dres[s][i], (long long)d_ini(right, s, i));
            return;
        }
}

static void test_requests(void)
{
    int64_t *mem;
    MPI_Win w = win_alloc(D_S * D_N * sizeof(int64_t), sizeof(int64_t), &mem);
    MPI_Request req[4];
    int flag, idx, outcount, indices[4], done, seen[2];
    long token_out = rank, token_in = -1;

    local_store_begin(w);
    for (int s = 0; s < D_S; s++)
        for (int i = 0; i < D_N; i++)
            mem[s * D_N + i] = d_ini(rank, s, i);
    local_store_end(w);
    for (int s = 0; s < D_S; s++)
        for (int i = 0; i < D_N; i++)
            dorg[s][i] = d_add(rank, s, i);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock_all(0, w));

    /* MPI_Wait, MPI_Test */
    d_racc(w, 0, &req[0]);
    SOFT_MPI(MPI_Wait(&req[0], MPI_STATUS_IGNORE));
    CHECK(req[0] == MPI_REQUEST_NULL);
    d_rgacc(w, 1, &req[0]);
    for (flag = 0; !flag;)
        SOFT_MPI(MPI_Test(&req[0], &flag, MPI_STATUS_IGNORE));
    CHECK(req[0] == MPI_REQUEST_NULL);
    d_fetched(1, "MPI_Test");

    /* MPI_Waitall, MPI_Testall */
    d_racc(w, 2, &req[0]);
    d_rgacc(w, 3, &req[1]);
    SOFT_MPI(MPI_Waitall(2, req, MPI_STATUSES_IGNORE));
    CHECK(req[0] == MPI_REQUEST_NULL && req[1] == MPI_REQUEST_NULL);
    d_fetched(3, "MPI_Waitall");
    d_racc(w, 4, &req[0]);
    d_rgacc(w, 5, &req[1]);
    for (flag = 0; !flag;)
        SOFT_MPI(MPI_Testall(2, req, &flag, MPI_STATUSES_IGNORE));
    d_fetched(5, "MPI_Testall");

    /* MPI_Waitany, MPI_Testany */
    d_racc(w, 6, &req[0]);
    d_rgacc(w, 7, &req[1]);
    seen[0] = seen[1] = 0;
    for (done = 0; done < 2; done++) {
        SOFT_MPI(MPI_Waitany(2, req, &idx, MPI_STATUS_IGNORE));
        CHECKF(idx == 0 || idx == 1, "MPI_Waitany index %d", idx);
        CHECKF(!seen[idx], "MPI_Waitany returned index %d twice", idx);
        seen[idx] = 1;
        if (idx == 1)
            d_fetched(7, "MPI_Waitany");
    }
    d_racc(w, 8, &req[0]);
    d_rgacc(w, 9, &req[1]);
    seen[0] = seen[1] = 0;
    for (done = 0; done < 2;) {
        SOFT_MPI(MPI_Testany(2, req, &idx, &flag, MPI_STATUS_IGNORE));
        if (!flag)
            continue;
        CHECKF(idx == 0 || idx == 1, "MPI_Testany index %d", idx);
        CHECKF(!seen[idx], "MPI_Testany returned index %d twice", idx);
        seen[idx] = 1;
        done++;
        if (idx == 1)
            d_fetched(9, "MPI_Testany");
    }

    /* MPI_Waitsome, MPI_Testsome */
    d_racc(w, 10, &req[0]);
    d_rgacc(w, 11, &req[1]);
    seen[0] = seen[1] = 0;
    for (done = 0; done < 2;) {
        SOFT_MPI(MPI_Waitsome(2, req, &outcount, indices, MPI_STATUSES_IGNORE));
        CHECKF(outcount >= 1 && outcount <= 2, "MPI_Waitsome outcount %d", outcount);
        for (int k = 0; k < outcount; k++) {
            CHECKF((indices[k] == 0 || indices[k] == 1) && !seen[indices[k]],
                   "MPI_Waitsome index %d", indices[k]);
            seen[indices[k]] = 1;
            done++;
        }
    }
    d_fetched(11, "MPI_Waitsome");
    d_racc(w, 12, &req[0]);
    d_rgacc(w, 13, &req[1]);
    seen[0] = seen[1] = 0;
    for (done = 0; done < 2;) {
        SOFT_MPI(MPI_Testsome(2, req, &outcount, indices, MPI_STATUSES_IGNORE));
        CHECKF(outcount >= 0 && outcount <= 2, "MPI_Testsome outcount %d", outcount);
        for (int k = 0; k < outcount; k++) {
            CHECKF((indices[k] == 0 || indices[k] == 1) && !seen[indices[k]],
                   "MPI_Testsome index %d", indices[k]);
            seen[indices[k]] = 1;
            done++;
        }
    }
    d_fetched(13, "MPI_Testsome");

    /* MPI_Request_free on requests in flight, then a flush */
    d_racc(w, 14, &req[0]);
    d_rgacc(w, 15, &req[1]);
    for (int k = 0; k < 2; k++) {
        SOFT_MPI(MPI_Request_free(&req[k]));
        if (req[k] != MPI_REQUEST_NULL) {
            FAILF("d. MPI_Request_free did not free the request in flight");
            MPI_Wait(&req[k], MPI_STATUS_IGNORE);
        }
    }
    SOFT_MPI(MPI_Win_flush(right, w));
    d_fetched(15, "MPI_Request_free + MPI_Win_flush");

    /* MPI_Request_get_status until complete (it does not free), then wait */
    d_rgacc(w, 16, &req[0]);
    for (flag = 0; !flag;)
        SOFT_MPI(MPI_Request_get_status(req[0], &flag, MPI_STATUS_IGNORE));
    CHECK(req[0] != MPI_REQUEST_NULL);
    d_fetched(16, "MPI_Request_get_status");
    SOFT_MPI(MPI_Wait(&req[0], MPI_STATUS_IGNORE));
    CHECK(req[0] == MPI_REQUEST_NULL);

    /* one MPI_Waitall with RMA and point-to-point requests */
    SOFT_MPI(MPI_Irecv(&token_in, 1, MPI_LONG, left, 11, MPI_COMM_WORLD, &req[0]));
    d_racc(w, 17, &req[1]);
    d_rgacc(w, 18, &req[2]);
    SOFT_MPI(MPI_Isend(&token_out, 1, MPI_LONG, right, 11, MPI_COMM_WORLD, &req[3]));
    SOFT_MPI(MPI_Waitall(4, req, MPI_STATUSES_IGNORE));
    if (token_in != left)
        FAILF("d. point-to-point token %ld, expected %d", token_in, left);
    d_fetched(18, "MPI_Waitall with point-to-point requests");

    /* read everything back from the origin side */
    static int64_t back[D_S * D_N];
    SOFT_MPI(MPI_Win_flush(right, w));
    for (int i = 0; i < D_S * D_N; i++)
        back[i] = -1;
    req[0] = MPI_REQUEST_NULL;
    SOFT_MPI(MPI_Rget_accumulate(back, D_S * D_N, MPI_INT64_T, back, D_S * D_N, MPI_INT64_T,
                                 right, 0, D_S * D_N, MPI_INT64_T, MPI_NO_OP, w, &req[0]));
    SOFT_MPI(MPI_Wait(&req[0], MPI_STATUS_IGNORE));
    for (int s = 0; s < D_S; s++)
        for (int i = 0; i < D_N; i++) {
            const int64_t want = d_ini(right, s, i) + (s < D_S - 1 ? d_add(rank, s, i) : 0);
            if (back[s * D_N + i] != want) {
                FAILF("d. read back (MPI_NO_OP) slot %d element %d of rank %d: %lld, "
                      "expected %lld", s, i, right, (long long)back[s * D_N + i],
                      (long long)want);
                break;
            }
        }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    local_load_begin(w);
    for (int s = 0; s < D_S; s++)
        for (int i = 0; i < D_N; i++) {
            const int64_t want = d_ini(rank, s, i) + (s < D_S - 1 ? d_add(left, s, i) : 0);
            if (mem[s * D_N + i] != want) {
                FAILF("d. window slot %d element %d: %lld, expected %lld", s, i,
                      (long long)mem[s * D_N + i], (long long)want);
                break;
            }
        }
    local_load_end(w);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ==== e. derived datatypes ================================================= */

#define E_WN 256 /* ints per window */
#define E_NREG 6

static int e_tval(int r, int mode, int i)
{
    return (int)(prma_mix64(prma_seed((uint64_t)r, 600 + (uint64_t)mode, (uint64_t)i)) & 0xffff) - 32768;
}
static int e_oval(int r, int mode, int reg, int k)
{
    return (int)(prma_mix64(prma_seed((uint64_t)r, 700 + (uint64_t)mode * 8 + (uint64_t)reg,
                                      (uint64_t)k)) & 0xfff) - 2048;
}

/* The element pairs of each region, written out independently of the MPI
 * type constructors: origin index (in its region's origin buffer) -> target
 * index (in the window), and for the get-accumulates the result index. */
struct e_map {
    int n, op, base;
    int org[16], tgt[16], res[16];
};
static struct e_map e_maps[E_NREG];

static void e_build_maps(void)
{
    static const int r2[16] = {0, 1, 2, 4, 6, 7, 10, 11, 12, 13, 16, 20, 21, 22, 23, 24};
    static const int r3o[16] = {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22};
    static const int r3t[16] = {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19};
    static const int r5o[6] = {0, 1, 3, 4, 5, 7};
    static const int r6t[6] = {0, 2, 5, 7, 11, 13};
    struct e_map *m;

    m = &e_maps[0]; /* origin vector(16, 1, 3) -> 16 contiguous, SUM */
    m->n = 16, m->op = O_SUM, m->base = 0;
    for (int k = 0; k < 16; k++)
        m->org[k] = 3 * k, m->tgt[k] = k;
    m = &e_maps[1]; /* 16 contiguous -> indexed, BXOR */
    m->n = 16, m->op = O_BXOR, m->base = 32;
    for (int k = 0; k < 16; k++)
        m->org[k] = k, m->tgt[k] = 32 + r2[k];
    m = &e_maps[2]; /* vector(8, 2, 3) -> 2 x vector(2, 4, 6), MAX */
    m->n = 16, m->op = O_MAX, m->base = 64;
    for (int k = 0; k < 16; k++)
        m->org[k] = r3o[k], m->tgt[k] = 64 + r3t[k];
    m = &e_maps[3]; /* get_acc: 8 contiguous -> vector(8, 1, 2), result vector(8, 1, 3), SUM */
    m->n = 8, m->op = O_SUM, m->base = 96;
    for (int k = 0; k < 8; k++)
        m->org[k] = k, m->tgt[k] = 96 + 2 * k, m->res[k] = 3 * k;
    m = &e_maps[4]; /* 2 x struct{2 int at 0, 1 int at 12 bytes} -> 6 contiguous, MIN */
    m->n = 6, m->op = O_MIN, m->base = 128;
    for (int k = 0; k < 6; k++)
        m->org[k] = r5o[k], m->tgt[k] = 128 + k;
    m = &e_maps[5]; /* get_acc REPLACE: 6 contiguous -> indexed_block, result vector(6,1,2) */
    m->n = 6, m->op = O_REPLACE, m->base = 160;
    for (int k = 0; k < 6; k++)
        m->org[k] = k, m->tgt[k] = 160 + r6t[k], m->res[k] = 2 * k;
}

static int e_apply(int op, int a, int b)
{
    switch (op) {
    case O_SUM: return a + b;
    case O_BXOR: return a ^ b;
    case O_MAX: return b > a ? b : a;
    case O_MIN: return b < a ? b : a;
    default: return b; /* REPLACE */
    }
}

static void test_derived(void)
{
    int *mem;
    MPI_Win w = win_alloc(E_WN * sizeof(int), sizeof(int), &mem);
    MPI_Datatype vec1, idx2, vec3o, vec3t, vec4t, vec4r, st5, idx6, vec6r;
    int obuf[E_NREG][48], rbuf4[24], rbuf6[12];

    e_build_maps();
    MPI_CHECK(MPI_Type_vector(16, 1, 3, MPI_INT, &vec1));
    {
        int bl[6] = {3, 1, 2, 4, 1, 5}, dp[6] = {0, 4, 6, 10, 16, 20};
        MPI_CHECK(MPI_Type_indexed(6, bl, dp, MPI_INT, &idx2));
    }
    MPI_CHECK(MPI_Type_vector(8, 2, 3, MPI_INT, &vec3o));
    MPI_CHECK(MPI_Type_vector(2, 4, 6, MPI_INT, &vec3t));
    MPI_CHECK(MPI_Type_vector(8, 1, 2, MPI_INT, &vec4t));
    MPI_CHECK(MPI_Type_vector(8, 1, 3, MPI_INT, &vec4r));
    {
        int bl[2] = {2, 1};
        MPI_Aint dp[2] = {0, 3 * sizeof(int)};
        MPI_Datatype ty[2] = {MPI_INT, MPI_INT};
        MPI_CHECK(MPI_Type_create_struct(2, bl, dp, ty, &st5));
    }
    {
        int dp[6] = {0, 2, 5, 7, 11, 13};
        MPI_CHECK(MPI_Type_create_indexed_block(6, 1, dp, MPI_INT, &idx6));
    }
    MPI_CHECK(MPI_Type_vector(6, 1, 2, MPI_INT, &vec6r));
    MPI_Datatype all[] = {vec1, idx2, vec3o, vec3t, vec4t, vec4r, st5, idx6, vec6r};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        MPI_CHECK(MPI_Type_commit(&all[i]));
    vec1 = all[0], idx2 = all[1], vec3o = all[2], vec3t = all[3], vec4t = all[4];
    vec4r = all[5], st5 = all[6], idx6 = all[7], vec6r = all[8];

    for (int mode = 0; mode < 2; mode++) {
        local_store_begin(w);
        for (int i = 0; i < E_WN; i++)
            mem[i] = e_tval(rank, mode, i);
        local_store_end(w);
        for (int r = 0; r < E_NREG; r++)
            for (int k = 0; k < 48; k++)
                obuf[r][k] = e_oval(rank, mode, r, k);
        for (int k = 0; k < 24; k++)
            rbuf4[k] = -99999;
        for (int k = 0; k < 12; k++)
            rbuf6[k] = -99999;
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        if (mode == 0)
            MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
        else
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, w));

        SOFT_MPI(MPI_Accumulate(obuf[0], 1, vec1, right, 0, 16, MPI_INT, MPI_SUM, w));
        SOFT_MPI(MPI_Accumulate(obuf[1], 16, MPI_INT, right, 32, 1, idx2, MPI_BXOR, w));
        SOFT_MPI(MPI_Accumulate(obuf[2], 1, vec3o, right, 64, 2, vec3t, MPI_MAX, w));
        SOFT_MPI(MPI_Get_accumulate(obuf[3], 8, MPI_INT, rbuf4, 1, vec4r, right, 96, 1, vec4t,
                                    MPI_SUM, w));
        SOFT_MPI(MPI_Accumulate(obuf[4], 2, st5, right, 128, 6, MPI_INT, MPI_MIN, w));
        SOFT_MPI(MPI_Get_accumulate(obuf[5], 6, MPI_INT, rbuf6, 1, vec6r, right, 160, 1, idx6,
                                    MPI_REPLACE, w));

        if (mode == 0)
            MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w));
        else
            MPI_CHECK(MPI_Win_unlock(right, w));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

        /* the reference window */
        int want[E_WN];
        for (int i = 0; i < E_WN; i++)
            want[i] = e_tval(rank, mode, i);
        for (int r = 0; r < E_NREG; r++)
            for (int k = 0; k < e_maps[r].n; k++) {
                const int ti = e_maps[r].tgt[k];
                want[ti] = e_apply(e_maps[r].op, want[ti], e_oval(left, mode, r, e_maps[r].org[k]));
            }
        local_load_begin(w);
        for (int i = 0; i < E_WN; i++)
            if (mem[i] != want[i])
                FAILF("e. %s epoch: window element %d is %d, expected %d (initial %d)",
                      mode ? "lock" : "fence", i, mem[i], want[i], e_tval(rank, mode, i));
        local_load_end(w);

        /* the fetched values land at the result type's places only */
        int want4[24], want6[12];
        for (int k = 0; k < 24; k++)
            want4[k] = -99999;
        for (int k = 0; k < 12; k++)
            want6[k] = -99999;
        for (int k = 0; k < e_maps[3].n; k++)
            want4[e_maps[3].res[k]] = e_tval(right, mode, e_maps[3].tgt[k]);
        for (int k = 0; k < e_maps[5].n; k++)
            want6[e_maps[5].res[k]] = e_tval(right, mode, e_maps[5].tgt[k]);
        for (int k = 0; k < 24; k++)
            if (rbuf4[k] != want4[k])
                FAILF("e. %s epoch: strided result (vector target) element %d is %d, "
                      "expected %d", mode ? "lock" : "fence", k, rbuf4[k], want4[k]);
        for (int k = 0; k < 12; k++)
            if (rbuf6[k] != want6[k])
                FAILF("e. %s epoch: strided result (indexed target) element %d is %d, "
                      "expected %d", mode ? "lock" : "fence", k, rbuf6[k], want6[k]);
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        MPI_CHECK(MPI_Type_free(&all[i]));
    MPI_CHECK(MPI_Win_free(&w));
}

/* ==== f. window flavors and info keys ====================================== */

#define F_NV 16
#define F_K 12
enum { FL_CREATE, FL_ALLOCATE, FL_SHARED, FL_N };
static const char *const flavor_name[FL_N] = {"MPI_Win_create", "MPI_Win_allocate",
                                              "MPI_Win_allocate_shared"};

static int64_t f_init(int r, int j) { return (int64_t)r * 10000 + j; }
static int64_t f_ival(int r, int it, int j) { return (int64_t)(r + 1) * 1000003 + it * 17 + j; }
static double f_dval(int r, int it, int j) { return (r + 1) * 0.5 + it * 0.25 + j; }
static int64_t f_pat(int r, int it, int j)
{
    return ((int64_t)(r + 1) << 40) ^ ((int64_t)it << 20) ^ (int64_t)j * 3;
}
static int64_t f_isum(int owner, int j)
{
    int64_t v = f_init(owner, j);
    for (int it = 0; it < F_K; it++)
        if (it % nranks == owner)
            for (int r = 0; r < nranks; r++)
                v += f_ival(r, it, j);
    return v;
}
static double f_dsum(int owner, int j)
{
    double v = (double)f_init(owner, j);
    for (int it = 0; it < F_K; it++)
        if (it % nranks == owner)
            for (int r = 0; r < nranks; r++)
                v += f_dval(r, it, j);
    return v;
}

static void f_suite(MPI_Win w, void *base, int flavor, const char *label)
{
    /* 8-byte slots: isum [0, NV), dsum [NV, 2NV), repl [2NV, +n*NV) per
     * origin, misc [repl_end, +NV) */
    const size_t isum = 0, dsum = F_NV, repl = 2 * F_NV, misc = repl + (size_t)nranks * F_NV,
                 n = misc + F_NV;
    int64_t *im = base;
    double *dm = base;
    int64_t vi[F_NV], vr[F_NV], fetched[F_NV], v1;
    double vd[F_NV];

    MPI_CHECK(MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN));
    local_store_begin(w);
    for (size_t j = 0; j < n; j++)
        im[j] = f_init(rank, (int)(j % F_NV));
    for (int j = 0; j < F_NV; j++)
        dm[dsum + j] = (double)f_init(rank, j);
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int it = 0; it < F_K; it++) {
        const int tgt = it % nranks;
        for (int j = 0; j < F_NV; j++) {
            vi[j] = f_ival(rank, it, j);
            vd[j] = f_dval(rank, it, j);
            vr[j] = f_pat(rank, it, j);
        }
        SOFT_MPI(MPI_Accumulate(vi, F_NV, MPI_INT64_T, tgt, (MPI_Aint)isum, F_NV, MPI_INT64_T,
                                MPI_SUM, w));
        SOFT_MPI(MPI_Accumulate(vd, F_NV, MPI_DOUBLE, tgt, (MPI_Aint)dsum, F_NV, MPI_DOUBLE,
                                MPI_SUM, w));
        SOFT_MPI(MPI_Accumulate(vr, F_NV, MPI_INT64_T, right,
                                (MPI_Aint)(repl + (size_t)rank * F_NV), F_NV, MPI_INT64_T,
                                MPI_REPLACE, w));
        SOFT_MPI(MPI_Win_flush_all(w));
        /* with accumulate_ordering=none only the flush orders these */
        SOFT_MPI(MPI_Get_accumulate(vr, F_NV, MPI_INT64_T, fetched, F_NV, MPI_INT64_T, right,
                                    (MPI_Aint)(repl + (size_t)rank * F_NV), F_NV, MPI_INT64_T,
                                    MPI_NO_OP, w));
        SOFT_MPI(MPI_Win_flush(right, w));
        for (int j = 0; j < F_NV; j++)
            if (fetched[j] != vr[j]) {
                FAILF("f. %s: MPI_NO_OP read back of MPI_REPLACE, round %d element %d: "
                      "%lld, expected %lld", label, it, j, (long long)fetched[j],
                      (long long)vr[j]);
                break;
            }
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    local_load_begin(w);
    for (int j = 0; j < F_NV; j++) {
        if (im[isum + j] != f_isum(rank, j))
            FAILF("f. %s: int64 sum element %d: %lld, expected %lld", label, j,
                  (long long)im[isum + j], (long long)f_isum(rank, j));
        if (dm[dsum + j] != f_dsum(rank, j))
            FAILF("f. %s: double sum element %d: %.17g, expected %.17g", label, j,
                  dm[dsum + j], f_dsum(rank, j));
        for (int r = 0; r < nranks; r++) {
            const int64_t want = r == left ? f_pat(left, F_K - 1, j) : f_init(rank, j);
            if (im[repl + (size_t)r * F_NV + j] != want)
                FAILF("f. %s: replaced slot of rank %d element %d: %lld, expected %lld",
                      label, r, j, (long long)im[repl + (size_t)r * F_NV + j],
                      (long long)want);
        }
    }
    local_load_end(w);

    /* a fence epoch: get-accumulate SUM into the misc slots */
    for (int j = 0; j < F_NV; j++) {
        vi[j] = f_ival(rank, 100, j);
        fetched[j] = -1;
    }
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
    SOFT_MPI(MPI_Get_accumulate(vi, F_NV, MPI_INT64_T, fetched, F_NV, MPI_INT64_T, right,
                                (MPI_Aint)misc, F_NV, MPI_INT64_T, MPI_SUM, w));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w));
    for (int j = 0; j < F_NV; j++) {
        if (fetched[j] != f_init(right, j))
            FAILF("f. %s: fence get-accumulate fetched element %d: %lld, expected %lld",
                  label, j, (long long)fetched[j], (long long)f_init(right, j));
        if (im[misc + j] != f_init(rank, j) + f_ival(left, 100, j))
            FAILF("f. %s: fence get-accumulate target element %d: %lld, expected %lld",
                  label, j, (long long)im[misc + j],
                  (long long)(f_init(rank, j) + f_ival(left, 100, j)));
    }

    /* another fence epoch: fetch-and-op MPI_NO_OP reads */
    int64_t r0 = -1, r1 = -1;
    v1 = 0;
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
    SOFT_MPI(MPI_Fetch_and_op(&v1, &r0, MPI_INT64_T, right, (MPI_Aint)(isum + 5), MPI_NO_OP, w));
    SOFT_MPI(MPI_Fetch_and_op(&v1, &r1, MPI_INT64_T, right, (MPI_Aint)(misc + 3), MPI_NO_OP, w));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w));
    if (r0 != f_isum(right, 5))
        FAILF("f. %s: MPI_Fetch_and_op(MPI_NO_OP) of the sum: %lld, expected %lld", label,
              (long long)r0, (long long)f_isum(right, 5));
    if (r1 != f_init(right, 3) + f_ival(rank, 100, 3))
        FAILF("f. %s: MPI_Fetch_and_op(MPI_NO_OP) of the fence sum: %lld, expected %lld",
              label, (long long)r1, (long long)(f_init(right, 3) + f_ival(rank, 100, 3)));

    if (flavor == FL_SHARED) {
        MPI_Aint qsize;
        int qdu;
        int64_t *rp;
        MPI_CHECK(MPI_Win_shared_query(w, right, &qsize, &qdu, &rp));
        CHECKF(qsize >= (MPI_Aint)(n * 8) && qdu == 8, "f. %s: shared_query size %ld unit %d",
               label, (long)qsize, qdu);
        MPI_CHECK(MPI_Win_lock_all(0, w));
        MPI_CHECK(MPI_Win_sync(w));
        for (int j = 0; j < F_NV; j++)
            if (rp[isum + j] != f_isum(right, j))
                FAILF("f. %s: load from rank %d's shared memory, sum element %d: %lld, "
                      "expected %lld", label, right, j, (long long)rp[isum + j],
                      (long long)f_isum(right, j));
        MPI_CHECK(MPI_Win_unlock_all(w));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

static void test_flavors(void)
{
    static const char *const ops_value[2] = {"same_op", "same_op_no_op"};
    const size_t n = (3 + (size_t)nranks) * F_NV, bytes = n * 8;
    int windows = 0;

    for (int iv = 0; iv < 2; iv++) {
        MPI_Info info;
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "accumulate_ordering", "none"));
        MPI_CHECK(MPI_Info_set(info, "accumulate_ops", ops_value[iv]));
        for (int fl = 0; fl < FL_N; fl++) {
            char label[128];
            void *base = NULL, *mine = NULL;
            MPI_Win w;
            snprintf(label, sizeof label, "%s, accumulate_ordering=none, accumulate_ops=%s",
                     flavor_name[fl], ops_value[iv]);
            if (fl == FL_CREATE) {
                mine = prma_xmalloc(bytes);
                base = mine;
                MPI_CHECK(MPI_Win_create(base, (MPI_Aint)bytes, 8, info, MPI_COMM_WORLD, &w));
            } else if (fl == FL_ALLOCATE) {
                MPI_CHECK(MPI_Win_allocate((MPI_Aint)bytes, 8, info, MPI_COMM_WORLD, &base, &w));
            } else {
                MPI_CHECK(MPI_Win_allocate_shared((MPI_Aint)bytes, 8, info, MPI_COMM_WORLD,
                                                  &base, &w));
            }
            f_suite(w, base, fl, label);
            MPI_CHECK(MPI_Win_free(&w));
            free(mine);
            windows++;
        }
        MPI_CHECK(MPI_Info_free(&info));
    }
    if (rank == 0)
        printf("accumulate: f. %d windows (3 flavors x 2 info sets)\n", windows);
}

/* ==== g. errors ============================================================ */

#define EW 1024       /* bytes in each rank's window */
#define EGUARD 2048   /* guard bytes on each side of it (MPI_Win_create) */
#define EBAD 64       /* where the erroneous calls aim */
#define ANY_ERROR -77 /* "some error class": the standard names none */

static MPI_Win ewin;
static unsigned char *emem, *ebuf; /* emem = ebuf + EGUARD */
static _Alignas(64) unsigned char eres[128];
static _Alignas(64) unsigned char eorg[128];
static int64_t egood;   /* correct accumulates received so far */
static int e_accepted;  /* an erroneous call of this case was accepted */
static int e_lock_mode; /* cases end with unlock instead of fence */
static int e_cases, e_checks;

static uint64_t e_seed(int r) { return prma_seed((uint64_t)r, 800, 0); }

static void e_reset_local(void)
{
    /* [0, 8): the counter of correct accumulates, never reset */
    prma_fill(emem + 8, EW - 8, e_seed(rank), 8);
    prma_fill_const(ebuf, EGUARD, PRMA_SENTINEL);
    prma_fill_const(emem + EW, EGUARD, PRMA_SENTINEL);
}

/* Check one erroneous call's return code. */
static void e_expect(int line, int rc, int want, const char *what)
{
    const int cls = prma_class_of(rc);
    const int ok = want == ANY_ERROR ? rc != MPI_SUCCESS : cls == want;

    e_checks++;
    if (rc == MPI_SUCCESS && want != MPI_SUCCESS)
        e_accepted = 1;
    if (ok)
        return;
    if (native_relaxed) {
        n_notes++;
        if (rank == 0)
            printf("accumulate: NOTE (ACC_TEST_NATIVE=1) %s: %s, the standard requires %s\n",
                   what, rc == MPI_SUCCESS ? "accepted (MPI_SUCCESS)" : prma_class_name(cls),
                   want == ANY_ERROR ? "an error" : prma_class_name(want));
    } else if (want == ANY_ERROR) {
        prma_soft_fail(__FILE__, line, "%s: accepted, expected an error", what);
    } else {
        prma_expect_class_at(__FILE__, line, rc, want, "%s", what);
    }
}
#define E_EXPECT(call, want, what) e_expect(__LINE__, (call), (want), (what))

/* A request-based call that should fail: check it, and release a request
 * it wrongly made. */
static void e_expect_req(int line, int rc, MPI_Request *req, int want, const char *what)
{
    e_expect(line, rc, want, what);
    if (rc == MPI_SUCCESS && *req != MPI_REQUEST_NULL) {
        if (e_lock_mode)
            MPI_Wait(req, MPI_STATUS_IGNORE);
        else
            MPI_Request_free(req);
    }
}
#define E_EXPECT_REQ(call, req, want, what) e_expect_req(__LINE__, (call), (req), (want), (what))

/* Ends the case: a correct accumulate in the same epoch, the epoch closed,
 * then every rank checks that its window holds only that and the result
 * buffer nothing.  In fence mode the next epoch is open afterwards. */
static void e_end(const char *what)
{
    int64_t one = 1, cnt;
    int any_accepted = 0;
    int rc = MPI_Accumulate(&one, 1, MPI_INT64_T, right, 0, 1, MPI_INT64_T, MPI_SUM, ewin);
    if (rc != MPI_SUCCESS)
        FAILF("g. after %s: a correct MPI_Accumulate returned %s", what, prma_err_string(rc));
    if (e_lock_mode) {
        MPI_CHECK(MPI_Win_unlock(right, ewin));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    } else {
        MPI_CHECK(MPI_Win_fence(0, ewin));
    }
    egood++;
    e_cases++;
    MPI_CHECK(MPI_Allreduce(&e_accepted, &any_accepted, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD));

    if (e_lock_mode)
        local_load_begin(ewin);
    memcpy(&cnt, emem, 8);
    if (cnt != egood)
        FAILF("g. after %s: the correct accumulates add up to %lld, expected %lld "
              "(the window stopped working?)", what, (long long)cnt, (long long)egood);
    if (!any_accepted) {
        long long bad = prma_find_pattern_mismatch(emem + 8, EW - 8, e_seed(rank), 8);
        if (bad >= 0)
            FAILF("g. after %s: window byte %lld changed (a refused call wrote)", what, bad + 8);
        bad = prma_find_const_mismatch(ebuf, EGUARD, PRMA_SENTINEL);
        if (bad >= 0)
            FAILF("g. after %s: the guard %lld bytes before the window changed (a refused "
                  "call wrote outside the window)", what, EGUARD - bad);
        bad = prma_find_const_mismatch(emem + EW, EGUARD, PRMA_SENTINEL);
        if (bad >= 0)
            FAILF("g. after %s: the guard byte %lld after the window changed (a refused "
                  "call wrote outside the window)", what, bad);
        bad = prma_find_const_mismatch(eres, sizeof eres, PRMA_SENTINEL2);
        if (bad >= 0)
            FAILF("g. after %s: result buffer byte %lld changed (a refused call wrote)",
                  what, bad);
    }
    if (e_lock_mode)
        local_load_end(ewin);

    if (any_accepted) {
        if (e_lock_mode)
            local_store_begin(ewin);
        e_reset_local();
        if (e_lock_mode)
            local_store_end(ewin);
    }
    memset(eres, PRMA_SENTINEL2, sizeof eres);
    e_accepted = 0;
    if (e_lock_mode)
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    else
        MPI_CHECK(MPI_Win_fence(0, ewin));
}

static void user_sum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    for (int i = 0; i < *len; i++)
        ((int *)inout)[i] += ((int *)in)[i];
}

static void e_sweep(void)
{
    char what[160];
    int n = 0, fop_skipped = 0;
    for (int t = 0; t < ntypes; t++)
        for (int op = 0; op < N_OPS; op++) {
            const struct tinfo *ti = &types[t];
            if (!op_valid(ti, op)) {
                snprintf(what, sizeof what, "MPI_Accumulate(%s, %s)", op_name[op], ti->name);
                E_EXPECT(MPI_Accumulate(eorg, 2, ti->dt, right, EBAD, 2, ti->dt, mpi_op[op], ewin),
                         MPI_ERR_OP, what);
                snprintf(what, sizeof what, "MPI_Get_accumulate(%s, %s)", op_name[op], ti->name);
                E_EXPECT(MPI_Get_accumulate(eorg, 2, ti->dt, eres, 2, ti->dt, right, EBAD, 2,
                                            ti->dt, mpi_op[op], ewin),
                         MPI_ERR_OP, what);
                n += 2;
                if (native_relaxed) {
                    fop_skipped++;
                    continue;
                }
                snprintf(what, sizeof what, "MPI_Fetch_and_op(%s, %s)", op_name[op], ti->name);
                E_EXPECT(MPI_Fetch_and_op(eorg, eres, ti->dt, right, EBAD, mpi_op[op], ewin),
                         MPI_ERR_OP, what);
                n++;
            } else if (op == O_NO_OP) {
                snprintf(what, sizeof what, "MPI_Accumulate(MPI_NO_OP, %s)", ti->name);
                E_EXPECT(MPI_Accumulate(eorg, 2, ti->dt, right, EBAD, 2, ti->dt, MPI_NO_OP, ewin),
                         MPI_ERR_OP, what);
                n++;
            }
        }
    e_end("the sweep of ops not defined on a type");
    if (rank == 0)
        printf("accumulate: g. sweep: %d calls with an op not defined on the type\n", n);
    if (rank == 0 && fop_skipped)
        printf("accumulate: NOTE (ACC_TEST_NATIVE=1) skipped %d erroneous MPI_Fetch_and_op "
               "calls (op not defined on the type)\n", fop_skipped);
}

static void test_errors(void)
{
    MPI_Request req;
    MPI_Op uop;
    MPI_Datatype ivec, mixed;
    int64_t i64 = 5;

    MPI_CHECK(MPI_Op_create(user_sum, 1, &uop));
    MPI_CHECK(MPI_Type_vector(2, 1, 2, MPI_INT, &ivec));
    MPI_CHECK(MPI_Type_commit(&ivec));
    {
        int bl[2] = {1, 1};
        MPI_Aint dp[2] = {0, sizeof(int)};
        MPI_Datatype ty[2] = {MPI_INT, MPI_FLOAT};
        MPI_CHECK(MPI_Type_create_struct(2, bl, dp, ty, &mixed));
        MPI_CHECK(MPI_Type_commit(&mixed));
    }
    for (size_t i = 0; i < sizeof eorg; i++)
        eorg[i] = (unsigned char)(i * 7 + 1);
    memset(eres, PRMA_SENTINEL2, sizeof eres);

    /* MPI_Win_create over the middle of a buffer: a target range outside
     * the window that is wrongly accepted lands in a guard zone (and is
     * seen there) instead of corrupting the heap */
    ebuf = prma_xmalloc(EGUARD + EW + EGUARD);
    emem = ebuf + EGUARD;
    MPI_CHECK(MPI_Win_create(emem, EW, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &ewin));
    MPI_CHECK(MPI_Win_set_errhandler(ewin, MPI_ERRORS_RETURN));
    local_store_begin(ewin);
    memset(emem, 0, 8);
    e_reset_local();
    local_store_end(ewin);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* -- no epoch yet: MPI_ERR_RMA_SYNC -- */
    E_EXPECT(MPI_Accumulate(eorg, 1, MPI_INT, right, EBAD, 1, MPI_INT, MPI_SUM, ewin),
             MPI_ERR_RMA_SYNC, "MPI_Accumulate outside any epoch");
    E_EXPECT(MPI_Get_accumulate(eorg, 1, MPI_INT, eres, 1, MPI_INT, right, EBAD, 1, MPI_INT,
                                MPI_SUM, ewin),
             MPI_ERR_RMA_SYNC, "MPI_Get_accumulate outside any epoch");
    E_EXPECT(MPI_Fetch_and_op(eorg, eres, MPI_INT, right, EBAD, MPI_SUM, ewin), MPI_ERR_RMA_SYNC,
             "MPI_Fetch_and_op outside any epoch");
    E_EXPECT(MPI_Compare_and_swap(eorg, eorg + 8, eres, MPI_INT64_T, right, EBAD, ewin),
             MPI_ERR_RMA_SYNC, "MPI_Compare_and_swap outside any epoch");
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Raccumulate(eorg, 1, MPI_INT, right, EBAD, 1, MPI_INT, MPI_SUM, ewin, &req),
                 &req, MPI_ERR_RMA_SYNC, "MPI_Raccumulate outside any epoch");
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Rget_accumulate(eorg, 1, MPI_INT, eres, 1, MPI_INT, right, EBAD, 1, MPI_INT,
                                     MPI_SUM, ewin, &req),
                 &req, MPI_ERR_RMA_SYNC, "MPI_Rget_accumulate outside any epoch");
    MPI_CHECK(MPI_Win_fence(0, ewin));
    e_end("calls outside any epoch");

    /* -- fence epochs -- */
    e_sweep();

    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_FLOAT, right, EBAD, 2, MPI_FLOAT, MPI_BAND, ewin),
             MPI_ERR_OP, "MPI_Accumulate(MPI_BAND, MPI_FLOAT)");
    e_end("MPI_BAND on MPI_FLOAT");
    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_INT, MPI_MAXLOC, ewin),
             MPI_ERR_OP, "MPI_Accumulate(MPI_MAXLOC, MPI_INT)");
    e_end("MPI_MAXLOC on MPI_INT");
    if (!native_relaxed) {
        E_EXPECT(MPI_Fetch_and_op(eorg, eres, MPI_2INT, right, EBAD, MPI_SUM, ewin), MPI_ERR_OP,
                 "MPI_Fetch_and_op(MPI_SUM, MPI_2INT)");
        e_end("MPI_SUM on MPI_2INT");
    }

    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_INT, uop, ewin), MPI_ERR_OP,
             "MPI_Accumulate with a user-defined op");
    e_end("MPI_Accumulate with a user-defined op");
    E_EXPECT(MPI_Get_accumulate(eorg, 2, MPI_INT, eres, 2, MPI_INT, right, EBAD, 2, MPI_INT, uop,
                                ewin),
             MPI_ERR_OP, "MPI_Get_accumulate with a user-defined op");
    e_end("MPI_Get_accumulate with a user-defined op");
    E_EXPECT(MPI_Fetch_and_op(eorg, eres, MPI_INT, right, EBAD, uop, ewin), MPI_ERR_OP,
             "MPI_Fetch_and_op with a user-defined op");
    e_end("MPI_Fetch_and_op with a user-defined op");
    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_INT, MPI_OP_NULL, ewin),
             MPI_ERR_OP, "MPI_Accumulate with MPI_OP_NULL");
    e_end("MPI_OP_NULL");

    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_FLOAT, MPI_SUM, ewin),
             MPI_ERR_TYPE, "MPI_Accumulate(MPI_SUM) origin MPI_INT, target MPI_FLOAT");
    e_end("MPI_INT vs MPI_FLOAT");
    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_UNSIGNED, MPI_BOR, ewin),
             MPI_ERR_TYPE, "MPI_Accumulate(MPI_BOR) origin MPI_INT, target MPI_UNSIGNED");
    e_end("MPI_INT vs MPI_UNSIGNED");
    E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_FLOAT, MPI_REPLACE, ewin),
             MPI_ERR_TYPE, "MPI_Accumulate(MPI_REPLACE) origin MPI_INT, target MPI_FLOAT");
    e_end("MPI_REPLACE MPI_INT vs MPI_FLOAT");
    E_EXPECT(MPI_Accumulate(eorg, 1, ivec, right, EBAD, 2, MPI_FLOAT, MPI_SUM, ewin),
             MPI_ERR_TYPE, "MPI_Accumulate(MPI_SUM) origin vector of MPI_INT, target MPI_FLOAT");
    e_end("vector of MPI_INT vs MPI_FLOAT");
    E_EXPECT(MPI_Accumulate(eorg, 1, mixed, right, EBAD, 1, mixed, MPI_REPLACE, ewin),
             MPI_ERR_TYPE, "MPI_Accumulate(MPI_REPLACE) of a struct of MPI_INT and MPI_FLOAT");
    e_end("a type of two basic types");
    E_EXPECT(MPI_Get_accumulate(eorg, 1, MPI_DOUBLE, eres, 1, MPI_DOUBLE, right, EBAD, 1,
                                MPI_INT64_T, MPI_SUM, ewin),
             MPI_ERR_TYPE, "MPI_Get_accumulate(MPI_SUM) origin MPI_DOUBLE, target MPI_INT64_T");
    e_end("MPI_DOUBLE vs MPI_INT64_T");

    E_EXPECT(MPI_Accumulate(eorg, 1, MPI_INT64_T, right, EW, 1, MPI_INT64_T, MPI_SUM, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Accumulate just past the window");
    e_end("MPI_Accumulate past the window");
    E_EXPECT(MPI_Accumulate(eorg, 4, MPI_INT, right, EW - 8, 4, MPI_INT, MPI_SUM, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Accumulate crossing the end of the window");
    e_end("MPI_Accumulate crossing the end");
    E_EXPECT(MPI_Accumulate(eorg, 1, MPI_INT64_T, right, -8, 1, MPI_INT64_T, MPI_SUM, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Accumulate at a negative displacement");
    e_end("MPI_Accumulate at a negative displacement");
    {
        MPI_Datatype far;
        MPI_CHECK(MPI_Type_vector(2, 1, EW / (int)sizeof(int), MPI_INT, &far));
        MPI_CHECK(MPI_Type_commit(&far));
        E_EXPECT(MPI_Accumulate(eorg, 2, MPI_INT, right, EBAD, 1, far, MPI_SUM, ewin),
                 MPI_ERR_RMA_RANGE, "MPI_Accumulate with a target type reaching past the window");
        e_end("a target type reaching past the window");
        MPI_CHECK(MPI_Type_free(&far));
    }
    E_EXPECT(MPI_Get_accumulate(eorg, 1, MPI_INT64_T, eres, 1, MPI_INT64_T, right, EW, 1,
                                MPI_INT64_T, MPI_SUM, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Get_accumulate past the window");
    e_end("MPI_Get_accumulate past the window");
    E_EXPECT(MPI_Fetch_and_op(&i64, eres, MPI_INT64_T, right, EW - 4, MPI_SUM, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Fetch_and_op crossing the end of the window");
    e_end("MPI_Fetch_and_op crossing the end");
    E_EXPECT(MPI_Compare_and_swap(eorg, eorg + 8, eres, MPI_INT64_T, right, EW, ewin),
             MPI_ERR_RMA_RANGE, "MPI_Compare_and_swap past the window");
    e_end("MPI_Compare_and_swap past the window");
    E_EXPECT(MPI_Compare_and_swap(eorg, eorg + 8, eres, MPI_DOUBLE, right, EBAD, ewin), ANY_ERROR,
             "MPI_Compare_and_swap on MPI_DOUBLE");
    e_end("MPI_Compare_and_swap on MPI_DOUBLE");

    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Raccumulate(eorg, 1, MPI_INT, right, EBAD, 1, MPI_INT, MPI_SUM, ewin, &req),
                 &req, MPI_ERR_RMA_SYNC, "MPI_Raccumulate in a fence epoch");
    e_end("MPI_Raccumulate in a fence epoch");
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Rget_accumulate(eorg, 1, MPI_INT, eres, 1, MPI_INT, right, EBAD, 1, MPI_INT,
                                     MPI_SUM, ewin, &req),
                 &req, MPI_ERR_RMA_SYNC, "MPI_Rget_accumulate in a fence epoch");
    e_end("MPI_Rget_accumulate in a fence epoch");
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, ewin));

    /* -- after the fences, passive target -- */
    e_lock_mode = 1;
    E_EXPECT(MPI_Accumulate(eorg, 1, MPI_INT, right, EBAD, 1, MPI_INT, MPI_SUM, ewin),
             MPI_ERR_RMA_SYNC, "MPI_Accumulate after fence(MPI_MODE_NOSUCCEED)");
    E_EXPECT(MPI_Get_accumulate(eorg, 1, MPI_INT, eres, 1, MPI_INT, right, EBAD, 1, MPI_INT,
                                MPI_NO_OP, ewin),
             MPI_ERR_RMA_SYNC, "MPI_Get_accumulate after fence(MPI_MODE_NOSUCCEED)");
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    e_end("calls after fence(MPI_MODE_NOSUCCEED)");

    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Raccumulate(eorg, 2, MPI_FLOAT, right, EBAD, 2, MPI_FLOAT, MPI_BAND, ewin,
                                 &req),
                 &req, MPI_ERR_OP, "MPI_Raccumulate(MPI_BAND, MPI_FLOAT)");
    e_end("MPI_Raccumulate(MPI_BAND, MPI_FLOAT)");
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Raccumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_INT, MPI_NO_OP, ewin, &req),
                 &req, MPI_ERR_OP, "MPI_Raccumulate(MPI_NO_OP, MPI_INT)");
    e_end("MPI_Raccumulate(MPI_NO_OP)");
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Raccumulate(eorg, 2, MPI_INT, right, EBAD, 2, MPI_INT, uop, ewin, &req), &req,
                 MPI_ERR_OP, "MPI_Raccumulate with a user-defined op");
    e_end("MPI_Raccumulate with a user-defined op");
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Rget_accumulate(eorg, 1, MPI_INT64_T, eres, 1, MPI_INT64_T, right, EW, 1,
                                     MPI_INT64_T, MPI_SUM, ewin, &req),
                 &req, MPI_ERR_RMA_RANGE, "MPI_Rget_accumulate past the window");
    e_end("MPI_Rget_accumulate past the window");
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    req = MPI_REQUEST_NULL;
    E_EXPECT_REQ(MPI_Rget_accumulate(eorg, 2, MPI_INT, eres, 2, MPI_INT, right, EBAD, 2, MPI_FLOAT,
                                     MPI_SUM, ewin, &req),
                 &req, MPI_ERR_TYPE, "MPI_Rget_accumulate origin MPI_INT, target MPI_FLOAT");
    e_end("MPI_Rget_accumulate MPI_INT vs MPI_FLOAT");
    if (!native_relaxed) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
        E_EXPECT(MPI_Fetch_and_op(eorg, eres, MPI_INT, right, EBAD, MPI_MAXLOC, ewin), MPI_ERR_OP,
                 "MPI_Fetch_and_op(MPI_MAXLOC, MPI_INT) in a lock epoch");
        e_end("MPI_Fetch_and_op(MPI_MAXLOC, MPI_INT) in a lock epoch");
    }
    if (nranks >= 3) {
        /* left is neither right nor this rank: not locked */
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
        E_EXPECT(MPI_Accumulate(eorg, 1, MPI_INT, left, EBAD, 1, MPI_INT, MPI_SUM, ewin),
                 MPI_ERR_RMA_SYNC, "MPI_Accumulate to a rank that is not locked");
        e_end("MPI_Accumulate to a rank that is not locked");
    }

    /* the window still works: a get-accumulate of the counter */
    int64_t zero = 0, got = -1;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ewin));
    SOFT_MPI(MPI_Get_accumulate(&zero, 1, MPI_INT64_T, &got, 1, MPI_INT64_T, right, 0, 1,
                                MPI_INT64_T, MPI_NO_OP, ewin));
    MPI_CHECK(MPI_Win_unlock(right, ewin));
    if (got != egood)
        FAILF("g. at the end: the counter of correct accumulates is %lld, expected %lld",
              (long long)got, (long long)egood);

    MPI_CHECK(MPI_Win_free(&ewin));
    free(ebuf);
    MPI_CHECK(MPI_Op_free(&uop));
    MPI_CHECK(MPI_Type_free(&ivec));
    MPI_CHECK(MPI_Type_free(&mixed));
}

/* ==== main ================================================================= */

static int part_done(const char *name, int before)
{
    int mine = prma_soft_failures - before, total = 0;
    MPI_CHECK(MPI_Allreduce(&mine, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (rank == 0) {
        if (total)
            printf("accumulate: %s: %d FAILED checks (summed over ranks)\n", name, total);
        else
            printf("accumulate: %s: ok\n", name);
        fflush(stdout);
    }
    return total;
}

/* ==== h. dynamic windows =================================================== */

/* Every rank attaches a region of its own (malloc'd: any memory) and all
 * ranks accumulate into every region at once: the sums and the counter must
 * come out exact, the old values fetched in order; an address no region
 * holds is MPI_ERR_RMA_RANGE and writes nothing. */
#define H_K 40
struct h_region {
    int64_t  count;                   /* fetch-and-op and accumulate on one counter */
    int64_t  cas;                     /* compare-and-swap tickets */
    double   dsum[4];
    long double _Complex zsum[2];     /* 32-byte elements: the stripe lock */
    struct { double v; int i; } best; /* MAXLOC */
    int64_t  mine[64];                /* [origin]: replaced, read back */
};

static void test_dynamic(void)
{
    struct h_region *reg = calloc(1, sizeof(*reg));
    MPI_Aint *addrs = calloc((size_t)nranks, sizeof(*addrs)), mine_addr;
    const int64_t one = 1;
    int64_t old, ticket, cmp;
    double dv[4] = { 0.5, 1.0, 1.5, 2.0 };
    long double _Complex zv[2] = { 1.0L + 1.0iL, -2.0L };
    struct { double v; int i; } pv = { (double)(rank % 3), rank };
    MPI_Win w;
    int rc;

    CHECKF(reg != NULL && addrs != NULL && nranks <= 64, "h. setup");
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    MPI_CHECK(MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_attach(w, reg, sizeof(*reg)));
    MPI_CHECK(MPI_Get_address(reg, &mine_addr));
    MPI_CHECK(MPI_Allgather(&mine_addr, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD));

    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int it = 0; it < H_K; it++) {
        for (int t = 0; t < nranks; t++) {
            const MPI_Aint b = addrs[t];
            int64_t v = it;

            SOFT_MPI(MPI_Accumulate(&one, 1, MPI_INT64_T, t, b + offsetof(struct h_region, count),
                                    1, MPI_INT64_T, MPI_SUM, w));
            SOFT_MPI(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, t,
                                      b + offsetof(struct h_region, count), MPI_SUM, w));
            SOFT_MPI(MPI_Accumulate(dv, 4, MPI_DOUBLE, t, b + offsetof(struct h_region, dsum), 4,
                                    MPI_DOUBLE, MPI_SUM, w));
            SOFT_MPI(MPI_Accumulate(zv, 2, MPI_C_LONG_DOUBLE_COMPLEX, t,
                                    b + offsetof(struct h_region, zsum), 2,
                                    MPI_C_LONG_DOUBLE_COMPLEX, MPI_SUM, w));
            /* a compare-and-swap ticket: retry until ours went in */
            SOFT_MPI(MPI_Fetch_and_op(NULL, &ticket, MPI_INT64_T, t,
                                      b + offsetof(struct h_region, cas), MPI_NO_OP, w));
            SOFT_MPI(MPI_Win_flush(t, w));
            for (;;) {
                int64_t next = ticket + 1;

                SOFT_MPI(MPI_Compare_and_swap(&next, &ticket, &cmp, MPI_INT64_T, t,
                                              b + offsetof(struct h_region, cas), w));
                SOFT_MPI(MPI_Win_flush(t, w));
                if (cmp == ticket)
                    break;
                ticket = cmp;
            }
            /* our own slot: every old value comes back in order */
            SOFT_MPI(MPI_Get_accumulate(&v, 1, MPI_INT64_T, &old, 1, MPI_INT64_T, t,
                                        b + offsetof(struct h_region, mine) +
                                            (MPI_Aint)rank * (MPI_Aint)sizeof(int64_t),
                                        1, MPI_INT64_T, MPI_REPLACE, w));
            SOFT_MPI(MPI_Win_flush(t, w));
            if (old != (it == 0 ? 0 : it - 1))
                FAILF("h. rank %d's slot at rank %d, round %d: fetched %lld, expected %lld",
                      rank, t, it, (long long)old, (long long)(it == 0 ? 0 : it - 1));
        }
    }
    for (int t = 0; t < nranks; t++)
        SOFT_MPI(MPI_Accumulate(&pv, 1, MPI_DOUBLE_INT, t, addrs[t] + offsetof(struct h_region, best),
                                1, MPI_DOUBLE_INT, MPI_MAXLOC, w));
    /* an address no region holds, and a range past the region's end */
    rc = MPI_Accumulate(&one, 1, MPI_INT64_T, right, addrs[right] + (MPI_Aint)sizeof(*reg),
                        1, MPI_INT64_T, MPI_SUM, w);
    e_expect(__LINE__, rc, MPI_ERR_RMA_RANGE, "h. accumulate just past the region");
    rc = MPI_Accumulate(dv, 4, MPI_DOUBLE, right, addrs[right] + (MPI_Aint)sizeof(*reg) - 16, 4,
                        MPI_DOUBLE, MPI_SUM, w);
    e_expect(__LINE__, rc, MPI_ERR_RMA_RANGE, "h. accumulate across the region end");
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    {
        const int64_t n = (int64_t)nranks * H_K;
        int best_i = nranks > 2 ? 2 : nranks - 1;

        if (reg->count != 2 * n)
            FAILF("h. counter %lld, expected %lld", (long long)reg->count, (long long)(2 * n));
        if (reg->cas != n)
            FAILF("h. compare-and-swap tickets %lld, expected %lld", (long long)reg->cas,
                  (long long)n);
        for (int k = 0; k < 4; k++)
            if (reg->dsum[k] != dv[k] * (double)n)
                FAILF("h. double sum %d: %g, expected %g", k, reg->dsum[k], dv[k] * (double)n);
        for (int k = 0; k < 2; k++)
            if (reg->zsum[k] != zv[k] * (long double)n)
                FAILF("h. long double complex sum %d wrong", k);
        for (int r = 0; r < nranks; r++)
            if (reg->mine[r] != H_K - 1)
                FAILF("h. slot of rank %d: %lld, expected %d", r, (long long)reg->mine[r],
                      H_K - 1);
        if (reg->best.v != (double)(best_i % 3) || reg->best.i != best_i)
            FAILF("h. MAXLOC (%g, %d), expected (%g, %d)", reg->best.v, reg->best.i,
                  (double)(best_i % 3), best_i);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(w, reg));
    MPI_CHECK(MPI_Win_free(&w));
    free(reg);
    free(addrs);
}

/* ==== i. large accumulates against single-element atomics ================= */

#define I_N     8192 /* int64 elements of rank 0's window: 64 KiB, 16 pages */
#define I_BIG   200  /* large accumulates per even rank */
#define I_SMALL 6000 /* single-element increments per odd rank */
#define I_BATCH 32   /* single-element ops between flushes */

/* The j-th element an odd rank increments: one per page, a few apart. */
static size_t i_elem(int r, int j)
{
    return (size_t)(j % 16) * (I_N / 16) + (size_t)(r % 7) * 3 + (size_t)(j / 16) % 5;
}

static void test_large_vs_single(void)
{
    void *base;
    MPI_Win w = win_alloc((size_t)I_N * 8, 8, &base);
    int64_t *mem = base, *org = prma_xmalloc(I_N * sizeof *org),
            *res = prma_xmalloc(I_N * sizeof *res), *prev = prma_xmalloc(I_N * sizeof *prev),
            *hits = prma_xmalloc(I_N * sizeof *hits),
            *tot = prma_xmalloc(I_N * sizeof *tot);
    const int64_t one = 1;
    const bool big = nranks == 1 || rank % 2 == 0, small = nranks == 1 || rank % 2 == 1;
    int64_t big_sum = 0, wrong = 0, nsmall = 0, all_small = 0;

    for (int r = 0; r < nranks; r++)
        big_sum += nranks == 1 || r % 2 == 0 ? (int64_t)(r + 1) * I_BIG : 0;
    for (size_t i = 0; i < I_N; i++) {
        org[i] = rank + 1;
        prev[i] = -1;
        hits[i] = 0;
    }
    local_store_begin(w);
    memset(mem, 0, (size_t)I_N * 8);
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int k = 0, j = 0; (big && k < I_BIG) || (small && j < I_SMALL);) {
        if (big && k < I_BIG) {
            if (k % 2 == 0) {
                SOFT_MPI(MPI_Accumulate(org, I_N, MPI_INT64_T, 0, 0, I_N, MPI_INT64_T, MPI_SUM,
                                        w));
            } else {
                SOFT_MPI(MPI_Get_accumulate(org, I_N, MPI_INT64_T, res, I_N, MPI_INT64_T, 0, 0,
                                            I_N, MPI_INT64_T, MPI_SUM, w));
                SOFT_MPI(MPI_Win_flush(0, w));
                for (size_t i = 0; i < I_N; i++) {
                    if (res[i] <= prev[i])
                        FAILF("i. a large MPI_Get_accumulate fetched %lld at element %zu, "
                              "not more than %lld the one before it",
                              (long long)res[i], i, (long long)prev[i]);
                    prev[i] = res[i];
                }
            }
            SOFT_MPI(MPI_Win_flush(0, w));
            k++;
        }
        for (int b = 0; small && b < I_BATCH && j < I_SMALL; b++, j++) {
            const size_t e = i_elem(rank, j);
            int64_t old = -1, seen = -1, next;

            switch (j % 3) {
            case 0:
                SOFT_MPI(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, (MPI_Aint)e, MPI_SUM, w));
                if (old < 0)
                    FAILF("i. MPI_Fetch_and_op fetched %lld at element %zu", (long long)old, e);
                break;
            case 1:
                SOFT_MPI(MPI_Accumulate(&one, 1, MPI_INT64_T, 0, (MPI_Aint)e, 1, MPI_INT64_T,
                                        MPI_SUM, w));
                break;
            default:
                /* An increment by compare-and-swap: read, then swap in
                 * the next value until nobody came in between. */
                SOFT_MPI(MPI_Fetch_and_op(NULL, &old, MPI_INT64_T, 0, (MPI_Aint)e, MPI_NO_OP,
                                          w));
                SOFT_MPI(MPI_Win_flush(0, w));
                for (int tries = 0; tries < 100000; tries++) {
                    next = old + 1;
                    SOFT_MPI(MPI_Compare_and_swap(&next, &old, &seen, MPI_INT64_T, 0,
                                                  (MPI_Aint)e, w));
                    SOFT_MPI(MPI_Win_flush(0, w));
                    if (seen == old)
                        break;
                    old = seen;
                }
                if (seen != old)
                    FAILF("i. MPI_Compare_and_swap at element %zu never succeeded", e);
                break;
            }
            hits[e] += seen == old || j % 3 != 2;
            nsmall++;
        }
        if (small)
            SOFT_MPI(MPI_Win_flush(0, w));
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Reduce(hits, tot, I_N, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Reduce(&nsmall, &all_small, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD));
    if (rank == 0) {
        local_load_begin(w);
        for (size_t i = 0; i < I_N; i++)
            if (mem[i] != big_sum + tot[i] && wrong++ < 8)
                FAILF("i. element %zu ends at %lld, expected %lld (%lld from large "
                      "accumulates, %lld single-element increments)",
                      i, (long long)mem[i], (long long)(big_sum + tot[i]), (long long)big_sum,
                      (long long)tot[i]);
        local_load_end(w);
        if (wrong > 0)
            FAILF("i. %lld of %d elements lost updates", (long long)wrong, I_N);
        printf("accumulate: i. 64 KiB accumulates against %lld single-element ops: %s\n",
               (long long)all_small, wrong ? "updates lost" : "exact");
    }
    free(org);
    free(res);
    free(prev);
    free(hits);
    free(tot);
    MPI_CHECK(MPI_Win_free(&w));
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } parts[] = {
        {"a. every op x every type", test_all_ops},
        {"b. concurrent sums, fetch-and-op, compare-and-swap", test_concurrent},
        {"c. swap, atomic read, element-wise atomicity", test_atomicity},
        {"d. MPI_Raccumulate / MPI_Rget_accumulate requests", test_requests},
        {"e. derived datatypes", test_derived},
        {"f. window flavors and info keys", test_flavors},
        {"g. errors", test_errors},
        {"h. dynamic windows", test_dynamic},
        {"i. large accumulates against single-element atomics", test_large_vs_single},
    };
    const char *env;
    int failed_parts = 0;

    MPI_Init(&argc, &argv);
    /* errors on the communicator (request completion) are checked, too */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    rank = prma_world_rank();
    nranks = prma_world_size();
    right = (rank + 1) % nranks;
    left = (rank + nranks - 1) % nranks;
    prma_watchdog_arm("accumulate", WATCHDOG_S);
    env = getenv("ACC_TEST_NATIVE");
    native_relaxed = env && strcmp(env, "1") == 0;
    init_ops();
    init_types();

    const char *only = getenv("ACC_TEST_PARTS");
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        const int before = prma_soft_failures;
        if (only && only[0] && !strchr(only, parts[p].name[0]))
            continue;
        set_section(parts[p].name);
        n_prints = 0;
        parts[p].fn();
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        failed_parts += part_done(parts[p].name, before) != 0;
    }

    const int total = prma_soft_total();
    if (rank == 0) {
        if (total)
            printf("accumulate: %d ranks: %d failed checks in %d of %zu parts\n", nranks, total,
                   failed_parts, sizeof parts / sizeof parts[0]);
        else
            printf("accumulate: %d ranks: ok (%d type/op pairs, %d error cases%s)\n", nranks,
                   ncombos, e_cases,
                   native_relaxed ? ", ACC_TEST_NATIVE=1: error classes relaxed" : "");
        if (native_relaxed && n_notes)
            printf("accumulate: %d error-class deviations noted (ACC_TEST_NATIVE=1)\n", n_notes);
    }
    MPI_Finalize();
    return total ? 1 : 0;
}
