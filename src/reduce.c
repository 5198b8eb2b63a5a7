/*
 * reduce.c - the reduction kernels of the accumulate family, and which op is
 * defined on which element type (MPI-3.1 section 5.9.2).
 *
 * One table, REDUCE_TYPES, gives every element type its C type and its kind
 * (integer, byte, char, bool, floating, complex, pair). The kind decides
 * which ops the type takes (kind_ops[], MPI's rules written once) and which
 * kernels are generated for it (OPS_<kind>: one line per op with the
 * expression it computes). So a type is one line of the table and an op one
 * line in the kinds that take it; the kernel functions, one per (type, op)
 * that needs its own, and the kernels[type][op] table that prma__reduce
 * dispatches through are expanded from those.
 *
 * Window memory and origin buffers promise no alignment. An element-wise
 * kernel loads each operand with memcpy and stores the result through a
 * GNU C type of alignment 1; either compiles to one unaligned load or store
 * on the machines we run on. (A typed store rather than a memcpy from a
 * local: an x86 long double is 10 bytes of value in 16, and the typed store
 * writes the 10 and leaves the target's padding as it was, where a memcpy
 * would copy 6 bytes of stack into window memory. The padding of a long
 * double is not something C promises to keep, though: nothing relies on it.)
 *
 * An element-wise kernel goes in blocks of REDUCE_BLOCK bytes, then one
 * element at a time for the rest: the block loop has a constant trip count
 * and its operands are restrict pointers, so the compiler vectorizes it
 * without a runtime overlap check and without a scalar epilogue, which is
 * what GCC's -O2 cost model asks before it vectorizes at all. Unrolled, the
 * block is straight-line vector code; SUM on int32, int64 and double then
 * runs within about 30% of a plain aligned loop built with -O3, at any
 * alignment.
 *
 * Integer arithmetic runs on the unsigned type of the same width, so it
 * wraps instead of overflowing (undefined behaviour on a signed type); only
 * MAX and MIN compare in the signed type. Floating MAX and MIN keep the
 * target's value unless the origin's compares greater (smaller): with a NaN
 * on either side the target's value stays. MPI leaves NaN to the
 * implementation; this is the cheapest rule that is still a rule. MAXLOC
 * and MINLOC likewise keep the target's pair when a NaN is compared.
 *
 * Pair types (value, int index) are reduced member by member: only the
 * value's and the index's bytes are written, so the padding of the target's
 * element stays as it was, for every op including REPLACE.
 */
#include <assert.h>
#include <complex.h>
#include <stdint.h>
#include <string.h>
#include "reduce.h"

enum reduce_kind {
    KIND_INT,      /* C integers: everything but MAXLOC and MINLOC */
    KIND_BYTE,     /* bits: BAND, BOR, BXOR */
    KIND_CHAR,     /* text: only REPLACE and NO_OP */
    KIND_BOOL,     /* C _Bool: LAND, LOR, LXOR */
    KIND_FLOAT,    /* SUM, PROD, MAX, MIN */
    KIND_COMPLEX,  /* SUM, PROD */
    KIND_PAIR,     /* struct { value; int index; }: MAXLOC, MINLOC */
};

/*
 * The element types: name (after PRMA_TYPE_), the C type of an element (of
 * its value, for a pair), the type arithmetic runs in, and the kind. The
 * second column gives the extent and the order of MAX and MIN; the third the
 * wrapping arithmetic of integers, and the byte a _Bool is loaded as (a byte
 * other than 0 and 1 is then true, not a trap representation).
 */
#define REDUCE_TYPES(X)                                                       \
    X(INT8,                int8_t,              uint8_t,             INT)     \
    X(UINT8,               uint8_t,             uint8_t,             INT)     \
    X(INT16,               int16_t,             uint16_t,            INT)     \
    X(UINT16,              uint16_t,            uint16_t,            INT)     \
    X(INT32,               int32_t,             uint32_t,            INT)     \
    X(UINT32,              uint32_t,            uint32_t,            INT)     \
    X(INT64,               int64_t,             uint64_t,            INT)     \
    X(UINT64,              uint64_t,            uint64_t,            INT)     \
    X(BYTE,                unsigned char,       unsigned char,       BYTE)    \
    X(CHAR,                char,                char,                CHAR)    \
    X(BOOL,                _Bool,               unsigned char,       BOOL)    \
    X(FLOAT,               float,               float,               FLOAT)   \
    X(DOUBLE,              double,              double,              FLOAT)   \
    X(LONG_DOUBLE,         long double,         long double,         FLOAT)   \
    X(FLOAT_COMPLEX,       float complex,       float complex,       COMPLEX) \
    X(DOUBLE_COMPLEX,      double complex,      double complex,      COMPLEX) \
    X(LONG_DOUBLE_COMPLEX, long double complex, long double complex, COMPLEX) \
    X(FLOAT_INT,           float,               float,               PAIR)    \
    X(DOUBLE_INT,          double,              double,              PAIR)    \
    X(LONG_INT,            long,                long,                PAIR)    \
    X(2INT,                int,                 int,                 PAIR)    \
    X(SHORT_INT,           short,               short,               PAIR)    \
    X(LONG_DOUBLE_INT,     long double,         long double,         PAIR)

_Static_assert(sizeof(_Bool) == 1, "BOOL elements are loaded as one byte");

/* --- which op each kind takes ----------------------------------------- */

#define OP_(op) (1u << PRMA_OP_##op)
#define OPS_ANY_      (OP_(REPLACE) | OP_(NO_OP))
#define OPS_ARITH_    (OP_(SUM) | OP_(PROD))
#define OPS_ORDER_    (OP_(MAX) | OP_(MIN))
#define OPS_LOGICAL_  (OP_(LAND) | OP_(LOR) | OP_(LXOR))
#define OPS_BITWISE_  (OP_(BAND) | OP_(BOR) | OP_(BXOR))
#define OPS_LOC_      (OP_(MAXLOC) | OP_(MINLOC))

static const unsigned kind_ops[] = {
    [KIND_INT]     = OPS_ARITH_ | OPS_ORDER_ | OPS_LOGICAL_ | OPS_BITWISE_ | OPS_ANY_,
    [KIND_BYTE]    = OPS_BITWISE_ | OPS_ANY_,
    [KIND_CHAR]    = OPS_ANY_,
    [KIND_BOOL]    = OPS_LOGICAL_ | OPS_ANY_,
    [KIND_FLOAT]   = OPS_ARITH_ | OPS_ORDER_ | OPS_ANY_,
    [KIND_COMPLEX] = OPS_ARITH_ | OPS_ANY_,
    [KIND_PAIR]    = OPS_LOC_ | OPS_ANY_,
};

_Static_assert(PRMA_OP_COUNT_ <= 32, "kind_ops holds one bit per op");

static const unsigned char type_kind[] = {
#define X(name, T, A, kind) [PRMA_TYPE_##name] = KIND_##kind,
    REDUCE_TYPES(X)
#undef X
};

_Static_assert(sizeof(type_kind) == PRMA_TYPE_COUNT_, "REDUCE_TYPES lists every prma_type_t");

/* --- the kernels ---------------------------------------------------------- */

/*
 * A kernel reduces n elements of one type with one op: dst[k] op= src[k].
 * restrict: dst and src do not overlap (prma__reduce bounces src through a
 * local copy when they are the same buffer), which is what lets the
 * compiler vectorize without a runtime overlap check.
 */
typedef prma_reduce_fn reduce_fn;

/* Bytes of each operand one block of an element-wise kernel covers: four
 * SSE or two AVX registers, and a multiple of every element's extent. */
#define REDUCE_BLOCK 64

/* x86-64: each element-wise kernel is also built for AVX2, chosen at load
 * time where the CPU has it (twice the elements per instruction). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REDUCE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REDUCE_CLONES
#endif

_Static_assert(REDUCE_BLOCK % sizeof(long double complex) == 0,
               "a block holds whole elements of the widest type");

/* One element at d: KEEP (a statement that may store the old value a
 * through unaligned_t), then *d = EXPR, where EXPR reads a (*d) and b (*s);
 * d and s need not be aligned. */
#define ONE_ELEMENT_KEEP(T, d, s, KEEP, EXPR)                                 \
    do {                                                                      \
        T a, b;                                                               \
        memcpy(&a, (d), sizeof(T));                                           \
        memcpy(&b, (s), sizeof(T));                                           \
        typedef T unaligned_t __attribute__((aligned(1), may_alias));        \
        KEEP;                                                                 \
        *(unaligned_t *)(d) = (T)(EXPR);                                      \
    } while (0)

#define ONE_ELEMENT(T, d, s, EXPR) ONE_ELEMENT_KEEP(T, d, s, (void)0, EXPR)

/* ONE_ELEMENT, the old value stored at o first. */
#define ONE_ELEMENT_FETCH(T, d, s, o, EXPR)                                   \
    ONE_ELEMENT_KEEP(T, d, s, *(unaligned_t *)(o) = a, EXPR)

/*
 * An element-wise kernel: whole blocks of K elements, then the rest one by
 * one. The block loop's trip count is a constant, so the compiler turns it
 * into vector code that needs no scalar epilogue (GCC's -O2 cost model
 * vectorizes only such loops) and unrolls it (or its speed would depend on
 * where the short loop happens to land in the instruction cache).
 *
 * Each also has a fetching twin for MPI_Get_accumulate: the old values
 * stored to a third buffer in the same pass. Where stores bound the speed
 * (every size in the first-level cache), it saves the copy's loads and its
 * loop: measured 4 KiB of int64 sums 81 against 70 ns, 1 KiB 19 against 18.
 */
#define DEFINE_ELEMENTWISE(name, op, T, EXPR)                                 \
    REDUCE_CLONES static void reduce_##name##_##op(unsigned char *restrict dst, \
                                     const unsigned char *restrict src, size_t n) \
    {                                                                         \
        enum { K = REDUCE_BLOCK / sizeof(T) };                                \
                                                                              \
        for (; n >= K; n -= K, dst += K * sizeof(T), src += K * sizeof(T))    \
            _Pragma("GCC unroll 64")                                          \
            for (size_t k = 0; k < K; k++)                                    \
                ONE_ELEMENT(T, dst + k * sizeof(T), src + k * sizeof(T), EXPR); \
        for (; n > 0; n--, dst += sizeof(T), src += sizeof(T))                \
            ONE_ELEMENT(T, dst, src, EXPR);                                   \
    }                                                                         \
    REDUCE_CLONES static void fetch_##name##_##op(unsigned char *restrict dst, \
                                    const unsigned char *restrict src,        \
                                    unsigned char *restrict old, size_t n)    \
    {                                                                         \
        enum { K = REDUCE_BLOCK / sizeof(T) };                                \
        const size_t B = K * sizeof(T);                                       \
                                                                              \
        for (; n >= K; n -= K, dst += B, src += B, old += B)                  \
            _Pragma("GCC unroll 64")                                          \
            for (size_t k = 0; k < K; k++)                                    \
                ONE_ELEMENT_FETCH(T, dst + k * sizeof(T), src + k * sizeof(T), \
                                  old + k * sizeof(T), EXPR);                 \
        for (; n > 0; n--, dst += sizeof(T), src += sizeof(T), old += sizeof(T)) \
            ONE_ELEMENT_FETCH(T, dst, src, old, EXPR);                        \
    }

/*
 * MAXLOC (BETTER is >) or MINLOC (<) over pairs of value type T: the
 * origin's pair wins when its value is better; between equal values the
 * smaller index wins. Only the members are written.
 */
#define DEFINE_LOC(name, op, T, BETTER)                                       \
    static void reduce_##name##_##op(unsigned char *restrict dst,             \
                                     const unsigned char *restrict src, size_t n) \
    {                                                                         \
        enum { VOFF = offsetof(struct pair_##name, value),                    \
               IOFF = offsetof(struct pair_##name, index) };                  \
                                                                              \
        for (; n > 0; n--, dst += sizeof(struct pair_##name),                 \
                           src += sizeof(struct pair_##name)) {               \
            T a, b;                                                           \
            int ai, bi;                                                       \
                                                                              \
            memcpy(&a, dst + VOFF, sizeof(T));                                \
            memcpy(&b, src + VOFF, sizeof(T));                                \
            memcpy(&ai, dst + IOFF, sizeof(int));                             \
            memcpy(&bi, src + IOFF, sizeof(int));                             \
            if (b BETTER a) {                                                 \
                memcpy(dst + VOFF, src + VOFF, sizeof(T));                    \
                memcpy(dst + IOFF, &bi, sizeof(int));                         \
            } else if (b == a && bi < ai) {                                   \
                memcpy(dst + IOFF, &bi, sizeof(int));                         \
            }                                                                 \
        }                                                                     \
    }

/* REPLACE over pairs: the value and the index, not the padding. */
#define DEFINE_PAIR_REPLACE(name, op, T, unused)                              \
    static void reduce_##name##_##op(unsigned char *restrict dst,             \
                                     const unsigned char *restrict src, size_t n) \
    {                                                                         \
        enum { VOFF = offsetof(struct pair_##name, value),                    \
               IOFF = offsetof(struct pair_##name, index) };                  \
                                                                              \
        for (; n > 0; n--, dst += sizeof(struct pair_##name),                 \
                           src += sizeof(struct pair_##name)) {               \
            memcpy(dst + VOFF, src + VOFF, sizeof(T));                        \
            memcpy(dst + IOFF, src + IOFF, sizeof(int));                      \
        }                                                                     \
    }

/*
 * The kernels of each kind: Y(shape, name, op, T, EXPR) for every op the
 * kind takes but REPLACE and NO_OP, which prma__reduce does for all
 * element-wise types alike (a pair's REPLACE must skip the padding, so pairs
 * have a kernel for it). T is the type EXPR computes in: A, the unsigned
 * type, for wrapping integer arithmetic; the element's own type for order.
 *
 * 1u * a * b: two unsigned types narrower than int would otherwise be
 * multiplied as (signed) ints, which can overflow.
 */
#define OPS_INT(Y, name, T, A)                                                \
    Y(ELEMENTWISE, name, SUM,  A, a + b)                                      \
    Y(ELEMENTWISE, name, PROD, A, 1u * a * b)                                 \
    Y(ELEMENTWISE, name, MAX,  T, b > a ? b : a)                              \
    Y(ELEMENTWISE, name, MIN,  T, b < a ? b : a)                              \
    Y(ELEMENTWISE, name, BAND, A, a & b)                                      \
    Y(ELEMENTWISE, name, BOR,  A, a | b)                                      \
    Y(ELEMENTWISE, name, BXOR, A, a ^ b)                                      \
    Y(ELEMENTWISE, name, LAND, A, a != 0 && b != 0)                           \
    Y(ELEMENTWISE, name, LOR,  A, a != 0 || b != 0)                           \
    Y(ELEMENTWISE, name, LXOR, A, (a != 0) != (b != 0))

#define OPS_BYTE(Y, name, T, A)                                               \
    Y(ELEMENTWISE, name, BAND, A, a & b)                                      \
    Y(ELEMENTWISE, name, BOR,  A, a | b)                                      \
    Y(ELEMENTWISE, name, BXOR, A, a ^ b)

#define OPS_CHAR(Y, name, T, A)

/* The result is 0 or 1 whatever nonzero bytes came in. */
#define OPS_BOOL(Y, name, T, A)                                               \
    Y(ELEMENTWISE, name, LAND, A, a != 0 && b != 0)                           \
    Y(ELEMENTWISE, name, LOR,  A, a != 0 || b != 0)                           \
    Y(ELEMENTWISE, name, LXOR, A, (a != 0) != (b != 0))

#define OPS_FLOAT(Y, name, T, A)                                              \
    Y(ELEMENTWISE, name, SUM,  T, a + b)                                      \
    Y(ELEMENTWISE, name, PROD, T, a * b)                                      \
    Y(ELEMENTWISE, name, MAX,  T, b > a ? b : a)                              \
    Y(ELEMENTWISE, name, MIN,  T, b < a ? b : a)

#define OPS_COMPLEX(Y, name, T, A)                                            \
    Y(ELEMENTWISE, name, SUM,  T, a + b)                                      \
    Y(ELEMENTWISE, name, PROD, T, a * b)

#define OPS_PAIR(Y, name, T, A)                                               \
    Y(LOC,          name, MAXLOC,  T, >)                                      \
    Y(LOC,          name, MINLOC,  T, <)                                      \
    Y(PAIR_REPLACE, name, REPLACE, T, =)

/* The pair types' layout, the C struct MPI's pair types describe. */
#define PAIR_STRUCT_INT(name, T)
#define PAIR_STRUCT_BYTE(name, T)
#define PAIR_STRUCT_CHAR(name, T)
#define PAIR_STRUCT_BOOL(name, T)
#define PAIR_STRUCT_FLOAT(name, T)
#define PAIR_STRUCT_COMPLEX(name, T)
#define PAIR_STRUCT_PAIR(name, T) struct pair_##name { T value; int index; };

#define X(name, T, A, kind) PAIR_STRUCT_##kind(name, T)
REDUCE_TYPES(X)
#undef X

#define DEFINE(shape, name, op, T, EXPR) DEFINE_##shape(name, op, T, EXPR)
#define X(name, T, A, kind) OPS_##kind(DEFINE, name, T, A)
REDUCE_TYPES(X)
#undef X

/* kernels[type][op]; NULL where prma__reduce needs none or the op is not
 * defined on the type. */
#define SLOT(shape, name, op, T, EXPR) [PRMA_OP_##op] = reduce_##name##_##op,
static reduce_fn *const kernels[PRMA_TYPE_COUNT_][PRMA_OP_COUNT_] = {
#define X(name, T, A, kind) [PRMA_TYPE_##name] = { OPS_##kind(SLOT, name, T, A) },
    REDUCE_TYPES(X)
#undef X
};

/* fetch_kernels[type][op]: the fetching twins, element-wise kernels only. */
#define FSLOT_ELEMENTWISE(name, op) [PRMA_OP_##op] = fetch_##name##_##op,
#define FSLOT_LOC(name, op)
#define FSLOT_PAIR_REPLACE(name, op)
#define FSLOT(shape, name, op, T, EXPR) FSLOT_##shape(name, op)
static prma_fetch_reduce_fn *const fetch_kernels[PRMA_TYPE_COUNT_][PRMA_OP_COUNT_] = {
#define X(name, T, A, kind) [PRMA_TYPE_##name] = { OPS_##kind(FSLOT, name, T, A) },
    REDUCE_TYPES(X)
#undef X
};

/* --- the API -------------------------------------------------------------- */

#define EXTENT_INT(name, T)     sizeof(T)
#define EXTENT_BYTE(name, T)    sizeof(T)
#define EXTENT_CHAR(name, T)    sizeof(T)
#define EXTENT_BOOL(name, T)    sizeof(T)
#define EXTENT_FLOAT(name, T)   sizeof(T)
#define EXTENT_COMPLEX(name, T) sizeof(T)
#define EXTENT_PAIR(name, T)    sizeof(struct pair_##name)

size_t prma_type_extent(prma_type_t type)
{
    switch (type) {
#define X(name, T, A, kind) case PRMA_TYPE_##name: return EXTENT_##kind(name, T);
        REDUCE_TYPES(X)
#undef X
    case PRMA_TYPE_COUNT_:
        break;
    }
    return 0;
}

/* An out-of-range type is PRMA_ERR_OP too, not PRMA_ERR_TYPE: the shim has
 * turned the MPI datatype into a prma_type_t (and refused an unknown one
 * with MPI_ERR_TYPE) before it asks, so such a value is a bug of the caller
 * and one error for "no reduction here" keeps the contract two-valued. */
int prma_op_check(prma_type_t type, prma_op_t op)
{
    if ((unsigned)type >= PRMA_TYPE_COUNT_ || (unsigned)op >= PRMA_OP_COUNT_)
        return PRMA_ERR_OP;
    return (kind_ops[type_kind[type]] & (1u << op)) != 0 ? PRMA_OK : PRMA_ERR_OP;
}

prma_reduce_fn *prma__reduce_kernel(prma_type_t type, prma_op_t op)
{
    assert(prma_op_check(type, op) == PRMA_OK);
    return kernels[type][op];
}

prma_fetch_reduce_fn *prma__fetch_reduce_kernel(prma_type_t type, prma_op_t op)
{
    assert(prma_op_check(type, op) == PRMA_OK);
    return fetch_kernels[type][op];
}

void prma__reduce(prma_type_t type, prma_op_t op, void *inout, const void *in, size_t n)
{
    reduce_fn *kernel;
    size_t extent;

    assert(prma_op_check(type, op) == PRMA_OK);
    if (n == 0 || op == PRMA_OP_NO_OP)
        return;
    extent = prma_type_extent(type);
    kernel = kernels[type][op];
    if (kernel == NULL) {
        assert(op == PRMA_OP_REPLACE);
        memmove(inout, in, n * extent);  /* in may be inout */
    } else if (inout != in) {
        kernel(inout, in, n);
    } else {
        /* The same buffer: the kernel's operands must not overlap, so the
         * origin's values come from a copy, a bounce buffer at a time. */
        unsigned char copy[8 * REDUCE_BLOCK];
        unsigned char *dst = inout;
        size_t per = sizeof(copy) / extent, m;

        for (; n > 0; n -= m, dst += m * extent) {
            m = n < per ? n : per;
            memcpy(copy, dst, m * extent);
            kernel(dst, copy, m);
        }
    }
}
