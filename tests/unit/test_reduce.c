/*
 * test_reduce.c - the reduction kernels of the accumulate family
 * (src/reduce.c): which op each element type takes, and what every defined
 * (type, op) computes.
 *
 * Nothing here is derived from the code under test. The table of defined
 * pairs is written out by hand from MPI-3.1 section 5.9.2; the expected
 * results are computed one element at a time with plain C on the test's own
 * model of an element (integers as 64-bit patterns reduced by a mask, reals
 * and complex numbers as long double parts, pairs through the test's own
 * structs). Floating values are multiples of 1/8 no larger than 125, so that
 * every sum and product is exact in float and the comparisons can be exact.
 *
 * Every case runs at several lengths (0, 1, 7, 17, 1000: none, one, less
 * than a block, a block and one, many blocks and a tail) and with both
 * buffers at odd offsets from malloc's alignment. Bytes around the target
 * elements, the padding inside pair elements and the origin must come out
 * untouched.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "portrma.h"
#include "reduce.h"

/* The test's own layouts of MPI's pair types. */
struct t_float_int       { float v;       int i; };
struct t_double_int      { double v;      int i; };
struct t_long_int        { long v;        int i; };
struct t_2int            { int v;         int i; };
struct t_short_int       { short v;       int i; };
struct t_long_double_int { long double v; int i; };

enum tkind { K_SINT, K_UINT, K_BYTE, K_CHAR, K_BOOL, K_REAL, K_CPLX, K_PAIR };

/*
 * Which ops a kind takes, one character per op in prma_op_t order:
 *
 *   SUM PROD MAX MIN BAND BOR BXOR LAND LOR LXOR REPLACE NO_OP MAXLOC MINLOC
 */
#define DEFINED_INT   "xxxxxxxxxxxx.."
#define DEFINED_BYTE  "....xxx...xx.."
#define DEFINED_CHAR  "..........xx.."
#define DEFINED_BOOL  ".......xxxxx.."
#define DEFINED_REAL  "xxxx......xx.."
#define DEFINED_CPLX  "xx........xx.."
#define DEFINED_PAIR  "..........xxxx"

struct tdesc {
    prma_type_t type;
    const char *name;
    enum tkind  kind;
    size_t      size;     /* the extent: sizeof the C type or the pair struct */
    const char *defined;  /* DEFINED_* */
    size_t      voff, vsize, ioff;  /* pairs: where the value and the index lie */
};

#define SCALAR(t, kind, C, def) { t, #t, kind, sizeof(C), def, 0, 0, 0 }
#define PAIR(t, S)                                                                 \
    { t, #t, K_PAIR, sizeof(S), DEFINED_PAIR, offsetof(S, v), sizeof(((S *)0)->v), \
      offsetof(S, i) }

static const struct tdesc types[] = {
    SCALAR(PRMA_TYPE_INT8,   K_SINT, int8_t,   DEFINED_INT),
    SCALAR(PRMA_TYPE_UINT8,  K_UINT, uint8_t,  DEFINED_INT),
    SCALAR(PRMA_TYPE_INT16,  K_SINT, int16_t,  DEFINED_INT),
    SCALAR(PRMA_TYPE_UINT16, K_UINT, uint16_t, DEFINED_INT),
    SCALAR(PRMA_TYPE_INT32,  K_SINT, int32_t,  DEFINED_INT),
    SCALAR(PRMA_TYPE_UINT32, K_UINT, uint32_t, DEFINED_INT),
    SCALAR(PRMA_TYPE_INT64,  K_SINT, int64_t,  DEFINED_INT),
    SCALAR(PRMA_TYPE_UINT64, K_UINT, uint64_t, DEFINED_INT),
    SCALAR(PRMA_TYPE_BYTE,   K_BYTE, unsigned char, DEFINED_BYTE),
    SCALAR(PRMA_TYPE_CHAR,   K_CHAR, char,     DEFINED_CHAR),
    SCALAR(PRMA_TYPE_BOOL,   K_BOOL, _Bool,    DEFINED_BOOL),
    SCALAR(PRMA_TYPE_FLOAT,  K_REAL, float,    DEFINED_REAL),
    SCALAR(PRMA_TYPE_DOUBLE, K_REAL, double,   DEFINED_REAL),
    SCALAR(PRMA_TYPE_LONG_DOUBLE, K_REAL, long double, DEFINED_REAL),
    SCALAR(PRMA_TYPE_FLOAT_COMPLEX, K_CPLX, float _Complex, DEFINED_CPLX),
    SCALAR(PRMA_TYPE_DOUBLE_COMPLEX, K_CPLX, double _Complex, DEFINED_CPLX),
    SCALAR(PRMA_TYPE_LONG_DOUBLE_COMPLEX, K_CPLX, long double _Complex, DEFINED_CPLX),
    PAIR(PRMA_TYPE_FLOAT_INT, struct t_float_int),
    PAIR(PRMA_TYPE_DOUBLE_INT, struct t_double_int),
    PAIR(PRMA_TYPE_LONG_INT, struct t_long_int),
    PAIR(PRMA_TYPE_2INT, struct t_2int),
    PAIR(PRMA_TYPE_SHORT_INT, struct t_short_int),
    PAIR(PRMA_TYPE_LONG_DOUBLE_INT, struct t_long_double_int),
};

#define NTYPES ((int)(sizeof(types) / sizeof(types[0])))

static const char *const op_names[] = {
    "SUM", "PROD", "MAX", "MIN", "BAND", "BOR", "BXOR", "LAND", "LOR", "LXOR",
    "REPLACE", "NO_OP", "MAXLOC", "MINLOC",
};

#define NOPS ((int)(sizeof(op_names) / sizeof(op_names[0])))

/* --- the test's model of one element ------------------------------------ */

struct elem {
    uint64_t    bits;    /* integers, BYTE, CHAR, BOOL: the bits, zero-extended */
    long double re, im;  /* reals: re; complex: re + im i; pairs: re is the value */
    int         index;   /* pairs */
};

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64 */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The bits of an integer of size bytes (all 64 for wider elements, which
 * do not use them). */
static uint64_t width_mask(size_t size)
{
    return size >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
}

static int64_t sign_extend(uint64_t bits, size_t size)
{
    uint64_t sign = UINT64_C(1) << (8 * size - 1);

    bits &= width_mask(size);
    return (bits & sign) ? -(int64_t)(width_mask(size) - bits) - 1 : (int64_t)bits;
}

/* A multiple of 1/8 in [-125, 125]. */
static long double small_real(uint64_t *rng)
{
    return (long double)((int)(rng_next(rng) % 2001) - 1000) / 8;
}

static struct elem gen(const struct tdesc *d, uint64_t *rng)
{
    struct elem e = { 0 };
    uint64_t mask = width_mask(d->size), r = rng_next(rng);
    const uint64_t special[] = {
        0, 1, 2, mask, mask - 1, mask >> 1, (mask >> 1) + 1, (mask >> 1) - 1,
    };
    static const int indexes[] = { -3, -1, 0, 0, 1, 2, 7, INT_MAX, INT_MIN };

    switch (d->kind) {
    case K_SINT:
    case K_UINT:
        e.bits = r % 12 < 8 ? special[r % 12] : rng_next(rng) & mask;
        break;
    case K_BYTE:
    case K_CHAR:
        e.bits = r & 0xff;
        break;
    case K_BOOL:
        e.bits = r & 1;
        break;
    case K_REAL:
        e.re = small_real(rng);
        break;
    case K_CPLX:
        e.re = small_real(rng);
        e.im = small_real(rng);
        break;
    case K_PAIR:
        /* Few values and few indexes: many ties. */
        e.re = r % 16 == 0 ? 30000 : (long double)((int)(r % 5) - 2);
        e.index = indexes[(r >> 8) % (sizeof(indexes) / sizeof(indexes[0]))];
        break;
    }
    return e;
}

static void store_bits(unsigned char *p, size_t size, uint64_t bits)
{
    uint8_t u8 = (uint8_t)bits;
    uint16_t u16 = (uint16_t)bits;
    uint32_t u32 = (uint32_t)bits;

    switch (size) {
    case 1: memcpy(p, &u8, 1); break;
    case 2: memcpy(p, &u16, 2); break;
    case 4: memcpy(p, &u32, 4); break;
    default: memcpy(p, &bits, 8); break;
    }
}

static uint64_t load_bits(const unsigned char *p, size_t size)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    switch (size) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: memcpy(&u64, p, 8); return u64;
    }
}

/* Store / load a real of type T at p through a T variable. */
#define STORE_REAL(T, p, x) do { T t_ = (T)(x); memcpy((p), &t_, sizeof(T)); } while (0)
#define LOAD_REAL(T, p, x)  do { T t_; memcpy(&t_, (p), sizeof(T)); (x) = t_; } while (0)

/* The real of the element kind d (a K_REAL type, a complex type's part, a
 * pair's value) at p. */
static void store_real(prma_type_t type, unsigned char *p, long double x)
{
    switch (type) {
    case PRMA_TYPE_FLOAT: case PRMA_TYPE_FLOAT_COMPLEX: case PRMA_TYPE_FLOAT_INT:
        STORE_REAL(float, p, x); break;
    case PRMA_TYPE_DOUBLE: case PRMA_TYPE_DOUBLE_COMPLEX: case PRMA_TYPE_DOUBLE_INT:
        STORE_REAL(double, p, x); break;
    case PRMA_TYPE_LONG_DOUBLE: case PRMA_TYPE_LONG_DOUBLE_COMPLEX:
    case PRMA_TYPE_LONG_DOUBLE_INT:
        STORE_REAL(long double, p, x); break;
    case PRMA_TYPE_LONG_INT:  STORE_REAL(long, p, x); break;
    case PRMA_TYPE_2INT:      STORE_REAL(int, p, x); break;
    case PRMA_TYPE_SHORT_INT: STORE_REAL(short, p, x); break;
    default: fail_msg("no real part in type %d", (int)type);
    }
}

static long double load_real(prma_type_t type, const unsigned char *p)
{
    long double x = 0;

    switch (type) {
    case PRMA_TYPE_FLOAT: case PRMA_TYPE_FLOAT_COMPLEX: case PRMA_TYPE_FLOAT_INT:
        LOAD_REAL(float, p, x); break;
    case PRMA_TYPE_DOUBLE: case PRMA_TYPE_DOUBLE_COMPLEX: case PRMA_TYPE_DOUBLE_INT:
        LOAD_REAL(double, p, x); break;
    case PRMA_TYPE_LONG_DOUBLE: case PRMA_TYPE_LONG_DOUBLE_COMPLEX:
    case PRMA_TYPE_LONG_DOUBLE_INT:
        LOAD_REAL(long double, p, x); break;
    case PRMA_TYPE_LONG_INT:  LOAD_REAL(long, p, x); break;
    case PRMA_TYPE_2INT:      LOAD_REAL(int, p, x); break;
    case PRMA_TYPE_SHORT_INT: LOAD_REAL(short, p, x); break;
    default: fail_msg("no real part in type %d", (int)type);
    }
    return x;
}

/* Write e at p; for a pair only its two members, never the padding. */
static void store(const struct tdesc *d, unsigned char *p, const struct elem *e)
{
    switch (d->kind) {
    case K_REAL:
        store_real(d->type, p, e->re);
        break;
    case K_CPLX:
        /* A complex number is laid out as an array of its two parts. */
        store_real(d->type, p, e->re);
        store_real(d->type, p + d->size / 2, e->im);
        break;
    case K_PAIR:
        store_real(d->type, p + d->voff, e->re);
        memcpy(p + d->ioff, &e->index, sizeof(int));
        break;
    default:
        store_bits(p, d->size, e->bits);
        break;
    }
}

static struct elem load(const struct tdesc *d, const unsigned char *p)
{
    struct elem e = { 0 };

    switch (d->kind) {
    case K_REAL:
        e.re = load_real(d->type, p);
        break;
    case K_CPLX:
        e.re = load_real(d->type, p);
        e.im = load_real(d->type, p + d->size / 2);
        break;
    case K_PAIR:
        e.re = load_real(d->type, p + d->voff);
        memcpy(&e.index, p + d->ioff, sizeof(int));
        break;
    default:
        e.bits = load_bits(p, d->size);
        break;
    }
    return e;
}

/* What a op b must give, a being the target's element. */
static struct elem expect(const struct tdesc *d, prma_op_t op, const struct elem *a,
                          const struct elem *b)
{
    struct elem r = *a;
    uint64_t mask = width_mask(d->size);
    int less, greater;

    if (op == PRMA_OP_REPLACE)
        return *b;
    if (op == PRMA_OP_NO_OP)
        return *a;
    switch (d->kind) {
    case K_SINT:
    case K_UINT:
    case K_BYTE:
    case K_BOOL:
        if (d->kind == K_SINT) {
            less = sign_extend(a->bits, d->size) < sign_extend(b->bits, d->size);
            greater = sign_extend(a->bits, d->size) > sign_extend(b->bits, d->size);
        } else {
            less = a->bits < b->bits;
            greater = a->bits > b->bits;
        }
        switch (op) {
        case PRMA_OP_SUM:  r.bits = (a->bits + b->bits) & mask; break;
        case PRMA_OP_PROD: r.bits = (a->bits * b->bits) & mask; break;
        case PRMA_OP_MAX:  r.bits = less ? b->bits : a->bits; break;
        case PRMA_OP_MIN:  r.bits = greater ? b->bits : a->bits; break;
        case PRMA_OP_BAND: r.bits = a->bits & b->bits; break;
        case PRMA_OP_BOR:  r.bits = a->bits | b->bits; break;
        case PRMA_OP_BXOR: r.bits = a->bits ^ b->bits; break;
        case PRMA_OP_LAND: r.bits = a->bits != 0 && b->bits != 0; break;
        case PRMA_OP_LOR:  r.bits = a->bits != 0 || b->bits != 0; break;
        case PRMA_OP_LXOR: r.bits = (a->bits == 0) != (b->bits == 0); break;
        default: fail_msg("%s on %s in the expectation", op_names[op], d->name);
        }
        break;
    case K_REAL:
        switch (op) {
        case PRMA_OP_SUM:  r.re = a->re + b->re; break;
        case PRMA_OP_PROD: r.re = a->re * b->re; break;
        case PRMA_OP_MAX:  r.re = a->re < b->re ? b->re : a->re; break;
        case PRMA_OP_MIN:  r.re = a->re > b->re ? b->re : a->re; break;
        default: fail_msg("%s on %s in the expectation", op_names[op], d->name);
        }
        break;
    case K_CPLX:
        switch (op) {
        case PRMA_OP_SUM:
            r.re = a->re + b->re;
            r.im = a->im + b->im;
            break;
        case PRMA_OP_PROD:
            r.re = a->re * b->re - a->im * b->im;
            r.im = a->re * b->im + a->im * b->re;
            break;
        default: fail_msg("%s on %s in the expectation", op_names[op], d->name);
        }
        break;
    case K_PAIR:
        /* MPI-3.1 5.9.4: the better value with its index; on a tie the
         * value with the smaller of the two indexes. */
        if (op != PRMA_OP_MAXLOC && op != PRMA_OP_MINLOC)
            fail_msg("%s on %s in the expectation", op_names[op], d->name);
        if (a->re == b->re) {
            r.index = a->index < b->index ? a->index : b->index;
        } else if ((op == PRMA_OP_MAXLOC) == (b->re > a->re)) {
            r = *b;
        }
        break;
    case K_CHAR:
        fail_msg("%s on %s in the expectation", op_names[op], d->name);
    }
    return r;
}

static int elem_equal(const struct tdesc *d, const struct elem *x, const struct elem *y)
{
    switch (d->kind) {
    case K_REAL: return x->re == y->re;
    case K_CPLX: return x->re == y->re && x->im == y->im;
    case K_PAIR: return x->re == y->re && x->index == y->index;
    default:     return x->bits == y->bits;
    }
}

static void describe(const struct tdesc *d, const struct elem *e, char *buf, size_t len)
{
    switch (d->kind) {
    case K_REAL: snprintf(buf, len, "%Lg", e->re); break;
    case K_CPLX: snprintf(buf, len, "%Lg%+Lgi", e->re, e->im); break;
    case K_PAIR: snprintf(buf, len, "(%Lg, %d)", e->re, e->index); break;
    default:     snprintf(buf, len, "0x%llx", (unsigned long long)e->bits); break;
    }
}

/* Is byte k of an element of d padding of a pair struct? */
static int is_padding(const struct tdesc *d, size_t k)
{
    if (d->kind != K_PAIR)
        return 0;
    if (k >= d->voff && k < d->voff + d->vsize)
        return 0;
    return !(k >= d->ioff && k < d->ioff + sizeof(int));
}

/* --- one run of the kernel ------------------------------------------------ */

#define TARGET_FILL 0xa5
#define ORIGIN_FILL 0x5a
#define OLD_FILL    0x3c

/* How run_case reduces: origin and target apart, the same buffer, or
 * apart through the fetching kernel (the old values to a third buffer). */
#define CASE_APART 0
#define CASE_SAME  1
#define CASE_FETCH 2

/*
 * Reduce n generated elements of d with op, the target at byte offset
 * off_o of its buffer and the origin at off_i of its own (or the same
 * buffer as the target when same), and check every element, the bytes
 * around the target elements, the padding inside them and the origin.
 */
static void run_case(const struct tdesc *d, prma_op_t op, size_t n, size_t off_o, size_t off_i,
                     int how, uint64_t seed)
{
    const int same = how == CASE_SAME;
    size_t ext = d->size, len = (n + 2) * ext + 16;
    unsigned char *tbuf = malloc(len), *obuf = malloc(len), *fbuf = malloc(len);
    struct elem *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));
    struct elem *want = calloc(n + 1, sizeof(*want));
    unsigned char *target, *origin;
    uint64_t rng = seed;

    assert_non_null(tbuf);
    assert_non_null(obuf);
    assert_non_null(fbuf);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(want);
    memset(tbuf, TARGET_FILL, len);
    memset(obuf, ORIGIN_FILL, len);
    memset(fbuf, OLD_FILL, len);
    target = tbuf + off_o;
    origin = same ? target : obuf + off_i;
    for (size_t k = 0; k < n; k++) {
        a[k] = gen(d, &rng);
        store(d, target + k * ext, &a[k]);
    }
    for (size_t k = 0; k < n; k++) {
        b[k] = same ? a[k] : gen(d, &rng);
        if (!same)
            store(d, origin + k * ext, &b[k]);
    }
    for (size_t k = 0; k < n; k++)
        want[k] = expect(d, op, &a[k], &b[k]);

    if (how == CASE_FETCH) {
        /* The old values at the origin's offset plus 2 of their buffer. */
        unsigned char *old = fbuf + off_i + 2;

        prma__fetch_reduce_kernel(d->type, op)(target, origin, old, n);
        for (size_t k = 0; k < n; k++) {
            struct elem got = load(d, old + k * ext);

            if (!elem_equal(d, &got, &a[k]))
                fail_msg("%s %s fetching, n %zu, offsets %zu/%zu: old value %zu wrong",
                         d->name, op_names[op], n, off_o, off_i, k);
        }
        for (size_t j = 0; j < len; j++)
            if ((j < off_i + 2 || j >= off_i + 2 + n * ext) && fbuf[j] != OLD_FILL)
                fail_msg("%s %s fetching, n %zu: byte %zu outside the old values written",
                         d->name, op_names[op], n, j);
    } else {
        prma__reduce(d->type, op, target, origin, n);
    }

    for (size_t k = 0; k < n; k++) {
        struct elem got = load(d, target + k * ext);

        if (!elem_equal(d, &got, &want[k])) {
            char sa[64], sb[64], sg[64], sw[64];

            describe(d, &a[k], sa, sizeof(sa));
            describe(d, &b[k], sb, sizeof(sb));
            describe(d, &got, sg, sizeof(sg));
            describe(d, &want[k], sw, sizeof(sw));
            fail_msg("%s %s, n %zu, offsets %zu/%zu%s, element %zu: %s op %s gave %s, "
                     "expected %s", d->name, op_names[op], n, off_o, off_i,
                     same ? " (same buffer)" : "", k, sa, sb, sg, sw);
        }
        for (size_t j = 0; j < ext; j++)
            if (is_padding(d, j) && target[k * ext + j] != TARGET_FILL)
                fail_msg("%s %s, n %zu, offsets %zu/%zu: padding byte %zu of element %zu "
                         "written", d->name, op_names[op], n, off_o, off_i, j, k);
    }
    for (size_t j = 0; j < len; j++) {
        if (j >= off_o && j < off_o + n * ext)
            continue;
        if (tbuf[j] != TARGET_FILL)
            fail_msg("%s %s, n %zu, offsets %zu/%zu: byte %zu outside the target written",
                     d->name, op_names[op], n, off_o, off_i, j);
    }
    /* The origin is only read: its elements hold what was stored, every
     * other byte its fill. (Not a memcmp of the whole buffer: a long
     * double's padding bytes come from an uninitialized local and are no
     * one's business.) */
    for (size_t k = 0; !same && k < n; k++) {
        struct elem got = load(d, origin + k * ext);

        if (!elem_equal(d, &got, &b[k]))
            fail_msg("%s %s, n %zu: origin element %zu changed", d->name, op_names[op], n, k);
    }
    for (size_t j = 0; !same && j < len; j++) {
        int inside = j >= off_i && j < off_i + n * ext;

        if ((!inside || is_padding(d, (j - off_i) % ext)) && obuf[j] != ORIGIN_FILL)
            fail_msg("%s %s, n %zu: origin byte %zu changed", d->name, op_names[op], n, j);
    }
    free(want);
    free(b);
    free(a);
    free(fbuf);
    free(obuf);
    free(tbuf);
}

/* --- the tests ------------------------------------------------------------ */

static void test_reduce_table_covers_every_type_and_op(void **state)
{
    assert_int_equal(NTYPES, PRMA_TYPE_COUNT_);
    assert_int_equal(NOPS, PRMA_OP_COUNT_);
    for (int t = 0; t < NTYPES; t++) {
        assert_int_equal(types[t].type, t);  /* listed in enum order */
        assert_int_equal(strlen(types[t].defined), PRMA_OP_COUNT_);
    }
    assert_int_equal(PRMA_OP_MINLOC, 13);
    assert_int_equal(PRMA_OP_REPLACE, 10);
}

static void test_reduce_op_check_follows_mpi(void **state)
{
    for (int t = 0; t < NTYPES; t++)
        for (int op = 0; op < NOPS; op++) {
            int want = types[t].defined[op] == 'x' ? PRMA_OK : PRMA_ERR_OP;
            int got = prma_op_check(types[t].type, (prma_op_t)op);

            if (got != want)
                fail_msg("prma_op_check(%s, %s) = %d, expected %d", types[t].name,
                         op_names[op], got, want);
        }
}

static void test_reduce_op_check_out_of_range_is_err_op(void **state)
{
    assert_int_equal(prma_op_check(PRMA_TYPE_COUNT_, PRMA_OP_SUM), PRMA_ERR_OP);
    assert_int_equal(prma_op_check((prma_type_t)-1, PRMA_OP_REPLACE), PRMA_ERR_OP);
    assert_int_equal(prma_op_check((prma_type_t)1000, PRMA_OP_NO_OP), PRMA_ERR_OP);
    assert_int_equal(prma_op_check(PRMA_TYPE_INT32, PRMA_OP_COUNT_), PRMA_ERR_OP);
    assert_int_equal(prma_op_check(PRMA_TYPE_INT32, (prma_op_t)-1), PRMA_ERR_OP);
    assert_int_equal(prma_op_check(PRMA_TYPE_COUNT_, PRMA_OP_COUNT_), PRMA_ERR_OP);
}

static void test_reduce_extent_is_sizeof(void **state)
{
    for (int t = 0; t < NTYPES; t++)
        if (prma_type_extent(types[t].type) != types[t].size)
            fail_msg("prma_type_extent(%s) = %zu, expected %zu", types[t].name,
                     prma_type_extent(types[t].type), types[t].size);
    assert_int_equal(prma_type_extent(PRMA_TYPE_COUNT_), 0);
    assert_int_equal(prma_type_extent((prma_type_t)-1), 0);
}

/* Every defined (type, op) at every length and alignment. */
static void test_reduce_every_defined_pair(void **state)
{
    static const size_t lengths[] = { 0, 1, 7, 17, 1000 };
    static const size_t offsets[][2] = { { 0, 0 }, { 1, 3 }, { 3, 1 }, { 5, 0 }, { 0, 7 } };
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int runs = 0;

    for (int t = 0; t < NTYPES; t++)
        for (int op = 0; op < NOPS; op++) {
            if (types[t].defined[op] != 'x')
                continue;
            for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
                for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
                    run_case(&types[t], (prma_op_t)op, lengths[l], offsets[o][0],
                             offsets[o][1], CASE_APART, seed += 0x1234567u);
                    runs++;
                }
        }
    /* 162 defined pairs: 8 integer types x 12 ops, BYTE 5, CHAR 2, BOOL 5,
     * 3 reals x 6, 3 complex x 4, 6 pairs x 4. */
    assert_int_equal(runs, (8 * 12 + 5 + 2 + 5 + 3 * 6 + 3 * 4 + 6 * 4) * 5 * 5);
}

/* The fetching kernels: one for every defined element-wise (type, op) but
 * REPLACE and NO_OP, none for the pair types; each leaves the old values
 * and computes what prma__reduce does, at every length and alignment. */
static void test_reduce_fetch_kernels(void **state)
{
    static const size_t lengths[] = { 1, 7, 17, 1000 };
    static const size_t offsets[][2] = { { 0, 0 }, { 1, 3 }, { 3, 1 }, { 5, 0 }, { 0, 7 } };
    uint64_t seed = 0x51ed270b27a3c5d1u;
    int kernels = 0;

    for (int t = 0; t < NTYPES; t++)
        for (int op = 0; op < NOPS; op++) {
            int want;

            if (types[t].defined[op] != 'x')
                continue;
            want = types[t].kind != K_PAIR && op != PRMA_OP_REPLACE && op != PRMA_OP_NO_OP;
            if ((prma__fetch_reduce_kernel(types[t].type, (prma_op_t)op) != NULL) != want)
                fail_msg("%s %s: fetching kernel %s", types[t].name, op_names[op],
                         want ? "missing" : "unexpected");
            if (!want)
                continue;
            kernels++;
            for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
                for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++)
                    run_case(&types[t], (prma_op_t)op, lengths[l], offsets[o][0],
                             offsets[o][1], CASE_FETCH, seed += 0x9876543u);
        }
    /* 8 integer types x 10 ops, BYTE 3, BOOL 3, 3 reals x 4, 3 complex x 2. */
    assert_int_equal(kernels, 8 * 10 + 3 + 3 + 3 * 4 + 3 * 2);
}

/* The origin is the target: every element reduced with itself. */
static void test_reduce_same_buffer(void **state)
{
    uint64_t seed = 12345;

    for (int t = 0; t < NTYPES; t++)
        for (int op = 0; op < NOPS; op++)
            if (types[t].defined[op] == 'x') {
                run_case(&types[t], (prma_op_t)op, 1000, 1, 1, CASE_SAME, seed += 77);
                run_case(&types[t], (prma_op_t)op, 7, 0, 0, CASE_SAME, seed += 77);
            }
}

/* A few results written out, so that the model above is not the only
 * witness of wrap-around. */
static void test_reduce_integers_wrap(void **state)
{
    int8_t i8[2] = { 127, -128 }, i8b[2] = { 1, -1 };
    uint8_t u8[2] = { 200, 16 }, u8b[2] = { 100, 16 };
    uint16_t u16[1] = { 65535 }, u16b[1] = { 65535 };
    int32_t i32[2] = { INT32_MAX, INT32_MIN }, i32b[2] = { 1, -1 };
    int64_t i64[2] = { INT64_MIN, INT64_MIN }, i64b[2] = { -1, INT64_MAX };
    uint64_t u64[1] = { UINT64_MAX }, u64b[1] = { 2 };

    prma__reduce(PRMA_TYPE_INT8, PRMA_OP_SUM, i8, i8b, 2);
    assert_int_equal(i8[0], -128);
    assert_int_equal(i8[1], 127);
    prma__reduce(PRMA_TYPE_UINT8, PRMA_OP_PROD, u8, u8b, 2);
    assert_int_equal(u8[0], (200 * 100) % 256);
    assert_int_equal(u8[1], 0);
    prma__reduce(PRMA_TYPE_UINT16, PRMA_OP_PROD, u16, u16b, 1);
    assert_int_equal(u16[0], 1);
    prma__reduce(PRMA_TYPE_INT32, PRMA_OP_SUM, i32, i32b, 2);
    assert_int_equal(i32[0], INT32_MIN);
    assert_int_equal(i32[1], INT32_MAX);
    prma__reduce(PRMA_TYPE_INT64, PRMA_OP_PROD, i64, i64b, 1);
    assert_true(i64[0] == INT64_MIN);
    prma__reduce(PRMA_TYPE_INT64, PRMA_OP_MAX, i64 + 1, i64b + 1, 1);
    assert_true(i64[1] == INT64_MAX);
    prma__reduce(PRMA_TYPE_UINT64, PRMA_OP_SUM, u64, u64b, 1);
    assert_true(u64[0] == 1);
}

static void test_reduce_signed_order(void **state)
{
    int16_t a[3] = { -5, 3, -32768 }, b[3] = { 4, -7, 32767 };
    uint16_t ua[1] = { 65535 }, ub[1] = { 1 };

    prma__reduce(PRMA_TYPE_INT16, PRMA_OP_MAX, a, b, 3);
    assert_int_equal(a[0], 4);
    assert_int_equal(a[1], 3);
    assert_int_equal(a[2], 32767);
    prma__reduce(PRMA_TYPE_UINT16, PRMA_OP_MIN, ua, ub, 1);
    assert_int_equal(ua[0], 1);
}

static void test_reduce_loc_ties_take_smaller_index(void **state)
{
    struct t_double_int d[3] = { { 2.0, 5 }, { 2.0, 1 }, { -1.0, 9 } };
    struct t_double_int e[3] = { { 2.0, 3 }, { 2.0, 4 }, { -1.5, 0 } };
    struct t_2int m[2] = { { 7, 2 }, { 7, 8 } }, mi[2] = { { 7, -1 }, { 6, 0 } };

    prma__reduce(PRMA_TYPE_DOUBLE_INT, PRMA_OP_MAXLOC, d, e, 3);
    assert_true(d[0].v == 2.0 && d[0].i == 3);
    assert_true(d[1].v == 2.0 && d[1].i == 1);
    assert_true(d[2].v == -1.0 && d[2].i == 9);
    prma__reduce(PRMA_TYPE_2INT, PRMA_OP_MINLOC, m, mi, 2);
    assert_true(m[0].v == 7 && m[0].i == -1);
    assert_true(m[1].v == 6 && m[1].i == 0);
}

/* A _Bool byte other than 0 or 1 (from a careless origin) counts as true
 * and the result is a proper 0 or 1. */
static void test_reduce_bool_nonzero_bytes_are_true(void **state)
{
    unsigned char a[4] = { 2, 0x80, 0, 1 }, b[4] = { 0x40, 1, 3, 0 };
    unsigned char c[4] = { 2, 0x80, 0, 1 };

    prma__reduce(PRMA_TYPE_BOOL, PRMA_OP_LAND, a, b, 4);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[1], 1);
    assert_int_equal(a[2], 0);
    assert_int_equal(a[3], 0);
    prma__reduce(PRMA_TYPE_BOOL, PRMA_OP_LXOR, c, b, 4);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 0);
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 1);
}

/* n == 0 touches nothing, so the buffers may be NULL. */
static void test_reduce_zero_elements_touch_nothing(void **state)
{
    for (int t = 0; t < NTYPES; t++)
        for (int op = 0; op < NOPS; op++)
            if (types[t].defined[op] == 'x')
                prma__reduce(types[t].type, (prma_op_t)op, NULL, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_table_covers_every_type_and_op),
        cmocka_unit_test(test_reduce_op_check_follows_mpi),
        cmocka_unit_test(test_reduce_op_check_out_of_range_is_err_op),
        cmocka_unit_test(test_reduce_extent_is_sizeof),
        cmocka_unit_test(test_reduce_every_defined_pair),
        cmocka_unit_test(test_reduce_fetch_kernels),
        cmocka_unit_test(test_reduce_same_buffer),
        cmocka_unit_test(test_reduce_integers_wrap),
        cmocka_unit_test(test_reduce_signed_order),
        cmocka_unit_test(test_reduce_loc_ties_take_smaller_index),
        cmocka_unit_test(test_reduce_bool_nonzero_bytes_are_true),
        cmocka_unit_test(test_reduce_zero_elements_touch_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
