/*
 * fence_types: MPI_Put and MPI_Get with every predefined C datatype, count 1
 * and count 1000, origin and target of the same type, in fence epochs.
 *
 * Every element is compared by value/members, not by raw extent: pair types
 * (MPI_DOUBLE_INT, ...) and long double have padding bytes that MPI does not
 * have to move.  Integer-like, float and double values are compared bytewise
 * over their whole size.  The put lands one element into the target window
 * (target_disp = extent, disp_unit 1); the bytes around it must keep the
 * sentinel.  The get reads the same range from rank r-1 and must not write
 * past count * extent in the origin buffer.
 */
#include "common.h"

#include <complex.h>
#include <stdbool.h>
#include <wchar.h>

enum kind {
    K_BYTES,    /* integer-like: all bytes significant */
    K_BOOL,     /* _Bool: values 0/1, one byte */
    K_FLOAT,    /* finite float, all bytes significant */
    K_DOUBLE,   /* finite double, all bytes significant */
    K_LDOUBLE,  /* long double, compared by value (padding not data) */
    K_FCOMPLEX, /* two floats */
    K_DCOMPLEX, /* two doubles */
    K_LDCOMPLEX,
    K_FLOAT_INT,
    K_DOUBLE_INT,
    K_LONG_INT,
    K_2INT,
    K_SHORT_INT,
    K_LDOUBLE_INT,
};

struct float_int { float v; int i; };
struct double_int { double v; int i; };
struct long_int { long v; int i; };
struct int_int { int v; int i; };
struct short_int { short v; int i; };
struct ldouble_int { long double v; int i; };

struct tdesc {
    const char *name;
    MPI_Datatype type;
    size_t csize;    /* sizeof the C type (the element stride) */
    size_t datasize; /* bytes of data, what MPI_Type_size must say */
    enum kind kind;
};

#define T(mpi, ctype, k) {#mpi, mpi, sizeof(ctype), sizeof(ctype), k}
#define P(mpi, st, k, a, b) {#mpi, mpi, sizeof(st), sizeof(a) + sizeof(b), k}

#define MAXCOUNT 1000
#define MAXEXT 64
#define GUARD 64
#define WINBYTES ((size_t)(MAXCOUNT + 2) * MAXEXT)

static int rank, nranks;

static uint64_t hash(uint64_t seed, uint64_t i, uint64_t part)
{
    return prma_mix64(seed ^ prma_mix64(i * 4 + part));
}

static float mkfloat(uint64_t h) { return (float)(int32_t)(uint32_t)h / 1024.0f; }
static double mkdouble(uint64_t h) { return (double)(int64_t)h / 7.0; }
static long double mkldouble(uint64_t h) { return (long double)(int64_t)h / 3.0L; }
static int mkint(uint64_t h) { return (int)(int32_t)(uint32_t)(h >> 16); }

/* Write element i of the stream `seed` at p. */
static void fill_elem(const struct tdesc *t, unsigned char *p, uint64_t seed,
                      uint64_t i)
{
    const uint64_t h0 = hash(seed, i, 0), h1 = hash(seed, i, 1);
    switch (t->kind) {
    case K_BYTES:
        prma_fill(p, t->csize, seed, i * t->csize);
        break;
    case K_BOOL: {
        bool b = (h0 >> 7) & 1;
        memcpy(p, &b, sizeof b);
        break;
    }
    case K_FLOAT: {
        float v = mkfloat(h0);
        memcpy(p, &v, sizeof v);
        break;
    }
    case K_DOUBLE: {
        double v = mkdouble(h0);
        memcpy(p, &v, sizeof v);
        break;
    }
    case K_LDOUBLE: {
        long double v = mkldouble(h0);
        memcpy(p, &v, sizeof v);
        break;
    }
    case K_FCOMPLEX: {
        float _Complex v = CMPLXF(mkfloat(h0), mkfloat(h1));
        memcpy(p, &v, sizeof v);
        break;
    }
    case K_DCOMPLEX: {
        double _Complex v = CMPLX(mkdouble(h0), mkdouble(h1));
        memcpy(p, &v, sizeof v);
        break;
    }
    case K_LDCOMPLEX: {
        long double _Complex v = CMPLXL(mkldouble(h0), mkldouble(h1));
        memcpy(p, &v, sizeof v);
        break;
    }
#define PAIR_FILL(st, mk)                                                      \
    {                                                                          \
        struct st s;                                                           \
        memcpy(&s, p, sizeof s); /* keep whatever is in the padding */        \
        s.v = mk;                                                              \
        s.i = mkint(h1);                                                       \
        memcpy(p, &s, sizeof s);                                               \
        break;                                                                 \
    }
    case K_FLOAT_INT: PAIR_FILL(float_int, mkfloat(h0))
    case K_DOUBLE_INT: PAIR_FILL(double_int, mkdouble(h0))
    case K_LONG_INT: PAIR_FILL(long_int, (long)h0)
    case K_2INT: PAIR_FILL(int_int, mkint(h0))
    case K_SHORT_INT: PAIR_FILL(short_int, (short)h0)
    case K_LDOUBLE_INT: PAIR_FILL(ldouble_int, mkldouble(h0))
#undef PAIR_FILL
    }
}

/* Compare one element; 1 if equal. */
static int eq_elem(const struct tdesc *t, const unsigned char *a,
                   const unsigned char *b)
{
    switch (t->kind) {
    case K_BYTES:
    case K_BOOL:
    case K_FLOAT:
    case K_DOUBLE:
    case K_FCOMPLEX:
    case K_DCOMPLEX:
        return memcmp(a, b, t->csize) == 0;
    case K_LDOUBLE: {
        long double x, y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        return x == y;
    }
    case K_LDCOMPLEX: {
        long double _Complex x, y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        return creall(x) == creall(y) && cimagl(x) == cimagl(y);
    }
#define PAIR_EQ(st, veq)                                                       \
    {                                                                          \
        struct st x, y;                                                        \
        memcpy(&x, a, sizeof x);                                               \
        memcpy(&y, b, sizeof y);                                               \
        return (veq) && x.i == y.i;                                            \
    }
    case K_FLOAT_INT: PAIR_EQ(float_int, memcmp(&x.v, &y.v, sizeof x.v) == 0)
    case K_DOUBLE_INT: PAIR_EQ(double_int, memcmp(&x.v, &y.v, sizeof x.v) == 0)
    case K_LONG_INT: PAIR_EQ(long_int, x.v == y.v)
    case K_2INT: PAIR_EQ(int_int, x.v == y.v)
    case K_SHORT_INT: PAIR_EQ(short_int, x.v == y.v)
    case K_LDOUBLE_INT: PAIR_EQ(ldouble_int, x.v == y.v)
#undef PAIR_EQ
    }
    return 0;
}

static void fill_elems(const struct tdesc *t, unsigned char *buf, int count,
                       uint64_t seed)
{
    for (int i = 0; i < count; i++)
        fill_elem(t, buf + (size_t)i * t->csize, seed, (uint64_t)i);
}

static void verify_elems(const struct tdesc *t, const unsigned char *got,
                         int count, uint64_t seed, unsigned char *scratch,
                         const char *what, int peer)
{
    fill_elems(t, scratch, count, seed);
    for (int i = 0; i < count; i++) {
        const unsigned char *g = got + (size_t)i * t->csize;
        const unsigned char *e = scratch + (size_t)i * t->csize;
        if (!eq_elem(t, g, e)) {
            char hex_g[3 * MAXEXT + 1] = "", hex_e[3 * MAXEXT + 1] = "";
            for (size_t k = 0; k < t->csize; k++) {
                snprintf(hex_g + 3 * k, 4, "%02x ", g[k]);
                snprintf(hex_e + 3 * k, 4, "%02x ", e[k]);
            }
            prma_fail(__FILE__, __LINE__,
                      "%s %s count %d (peer rank %d): element %d differs\n"
                      "  got      %s\n  expected %s",
                      what, t->name, count, peer, i, hex_g, hex_e);
        }
    }
}

static uint64_t type_seed(int origin, int ti, int count)
{
    return prma_seed((uint64_t)origin, 300 + (uint64_t)ti, (uint64_t)count);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    const struct tdesc types[] = {
        T(MPI_CHAR, char, K_BYTES),
        T(MPI_SIGNED_CHAR, signed char, K_BYTES),
        T(MPI_UNSIGNED_CHAR, unsigned char, K_BYTES),
        T(MPI_BYTE, unsigned char, K_BYTES),
        T(MPI_SHORT, short, K_BYTES),
        T(MPI_UNSIGNED_SHORT, unsigned short, K_BYTES),
        T(MPI_INT, int, K_BYTES),
        T(MPI_UNSIGNED, unsigned, K_BYTES),
        T(MPI_LONG, long, K_BYTES),
        T(MPI_UNSIGNED_LONG, unsigned long, K_BYTES),
        T(MPI_LONG_LONG, long long, K_BYTES),
        T(MPI_UNSIGNED_LONG_LONG, unsigned long long, K_BYTES),
        T(MPI_FLOAT, float, K_FLOAT),
        T(MPI_DOUBLE, double, K_DOUBLE),
        T(MPI_LONG_DOUBLE, long double, K_LDOUBLE),
        T(MPI_WCHAR, wchar_t, K_BYTES),
        T(MPI_C_BOOL, bool, K_BOOL),
        T(MPI_INT8_T, int8_t, K_BYTES),
        T(MPI_INT16_T, int16_t, K_BYTES),
        T(MPI_INT32_T, int32_t, K_BYTES),
        T(MPI_INT64_T, int64_t, K_BYTES),
        T(MPI_UINT8_T, uint8_t, K_BYTES),
        T(MPI_UINT16_T, uint16_t, K_BYTES),
        T(MPI_UINT32_T, uint32_t, K_BYTES),
        T(MPI_UINT64_T, uint64_t, K_BYTES),
        T(MPI_C_FLOAT_COMPLEX, float _Complex, K_FCOMPLEX),
        T(MPI_C_DOUBLE_COMPLEX, double _Complex, K_DCOMPLEX),
        T(MPI_C_LONG_DOUBLE_COMPLEX, long double _Complex, K_LDCOMPLEX),
        T(MPI_AINT, MPI_Aint, K_BYTES),
        T(MPI_OFFSET, MPI_Offset, K_BYTES),
        T(MPI_COUNT, MPI_Count, K_BYTES),
        P(MPI_FLOAT_INT, struct float_int, K_FLOAT_INT, float, int),
        P(MPI_DOUBLE_INT, struct double_int, K_DOUBLE_INT, double, int),
        P(MPI_LONG_INT, struct long_int, K_LONG_INT, long, int),
        P(MPI_2INT, struct int_int, K_2INT, int, int),
        P(MPI_SHORT_INT, struct short_int, K_SHORT_INT, short, int),
        P(MPI_LONG_DOUBLE_INT, struct ldouble_int, K_LDOUBLE_INT, long double, int),
    };
    const int ntypes = (int)(sizeof types / sizeof types[0]);
    const int right = (rank + 1) % nranks;
    const int left = (rank - 1 + nranks) % nranks;
    const int left2 = (rank - 2 + 2 * nranks) % nranks;

    /* The LONG_DOUBLE sentinel check in eq_elem relies on long double being
     * compared by value; a sanity check that value comparison does detect a
     * sentinel-filled element (so a missing transfer cannot pass). */
    {
        unsigned char s[sizeof(long double)], v[sizeof(long double)];
        struct tdesc ld = T(MPI_LONG_DOUBLE, long double, K_LDOUBLE);
        memset(s, PRMA_SENTINEL, sizeof s);
        memset(v, 0, sizeof v);
        fill_elem(&ld, v, 1, 0);
        CHECK(!eq_elem(&ld, s, v));
    }

    void *wbase = NULL;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)WINBYTES, 1, MPI_INFO_NULL,
                               MPI_COMM_WORLD, &wbase, &win));
    unsigned char *wmem = wbase;
    unsigned char *obuf = prma_xmalloc(WINBYTES);
    unsigned char *gbuf = prma_xmalloc(WINBYTES + GUARD);
    unsigned char *scratch = prma_xmalloc(WINBYTES);

    static const int counts[] = {1, MAXCOUNT};
    int transfers = 0;

    for (int ti = 0; ti < ntypes; ti++) {
        const struct tdesc *t = &types[ti];
        int tsize = 0;
        MPI_Aint lb = -1, extent = 0;
        MPI_CHECK(MPI_Type_size(t->type, &tsize));
        MPI_CHECK(MPI_Type_get_extent(t->type, &lb, &extent));
        CHECKF((size_t)tsize == t->datasize,
               "%s: MPI_Type_size %d, expected %zu", t->name, tsize,
               t->datasize);
        CHECKF(lb == 0 && (size_t)extent == t->csize,
               "%s: lb %ld extent %ld, expected 0 and sizeof %zu", t->name,
               (long)lb, (long)extent, t->csize);
        CHECK(t->csize <= MAXEXT);

        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            const int count = counts[ci];
            const size_t bytes = (size_t)count * t->csize;
            const size_t disp = t->csize; /* one element in */

            prma_fill_const(wmem, WINBYTES, PRMA_SENTINEL);
            prma_fill_const(obuf, WINBYTES, PRMA_SENTINEL2);
            fill_elems(t, obuf, count, type_seed(rank, ti, count));

            MPI_CHECK(MPI_Win_fence(0, win));
            MPI_CHECK(MPI_Put(obuf, count, t->type, right, (MPI_Aint)disp,
                              count, t->type, win));
            MPI_CHECK(MPI_Win_fence(0, win));

            VERIFY_CONST(wmem, disp, PRMA_SENTINEL,
                         "put %s count %d: window bytes before the target",
                         t->name, count);
            verify_elems(t, wmem + disp, count, type_seed(left, ti, count),
                         scratch, "put", left);
            VERIFY_CONST(wmem + disp + bytes, WINBYTES - disp - bytes,
                         PRMA_SENTINEL,
                         "put %s count %d: window bytes after the target",
                         t->name, count);

            prma_fill_const(gbuf, WINBYTES + GUARD, PRMA_SENTINEL2);
            MPI_CHECK(MPI_Get(gbuf, count, t->type, left, (MPI_Aint)disp,
                              count, t->type, win));
            MPI_CHECK(MPI_Win_fence(0, win));

            verify_elems(t, gbuf, count, type_seed(left2, ti, count), scratch,
                         "get", left);
            VERIFY_CONST(gbuf + bytes, WINBYTES + GUARD - bytes,
                         PRMA_SENTINEL2,
                         "get %s count %d: origin bytes past count*extent",
                         t->name, count);
            transfers++;
        }
    }
    CHECK(transfers == ntypes * 2);

    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    MPI_CHECK(MPI_Win_free(&win));
    free(obuf);
    free(gbuf);
    free(scratch);

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("fence_types: %d ranks, %d types: ok\n", nranks, ntypes);
    MPI_Finalize();
    return 0;
}
