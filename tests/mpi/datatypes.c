/*
 * datatypes: MPI_Put and MPI_Get with derived datatypes of every
 * constructor, in fence epochs.
 *
 * Each case moves ocount elements of an origin type to tcount elements of a
 * target type with the same type signature: strided or nested types on the
 * origin side only, on the target side only, and on both sides with
 * different shapes. Rank r puts into rank r+1 and gets from rank r-1.
 *
 * The expected result is computed locally with the MPI library's own
 * datatype engine: MPI_Pack the source with its type, MPI_Unpack into a copy
 * of the destination with the other type. Every byte of the target window
 * is compared (the bytes a type touches hold the source's, every other byte
 * keeps its pattern), and for a get every byte of the origin buffer too.
 *
 * Then, only when portrma serves the window (the window's info has
 * "portrma_ports"; MPI does not require a library to detect these):
 * mismatched signatures are MPI_ERR_TYPE, a target span leaving the window
 * (past the end, or below the start by a negative lower bound) is
 * MPI_ERR_RMA_RANGE, an uncommitted type is MPI_ERR_TYPE, and none of them
 * writes a byte.
 *
 * Last, 10000 derived types are created, committed, used and freed: the
 * memory in use must not grow with them.
 */
#include "common.h"

#include <malloc.h>

#define WINBYTES 16384
#define OMARGIN  1024  /* origin addresses start this far into their buffers */
#define OBYTES   (WINBYTES + 2 * OMARGIN)
#define MAXCASES 64

static int rank, nranks, right, left, portrma;
static MPI_Win win, win2; /* win2: disp_unit 8 on even ranks, 4 on odd */
static unsigned char *wmem, *wmem2;
static unsigned char *obuf, *gbuf, *ref, *src, *packbuf;

struct xcase {
    const char  *name;
    MPI_Datatype ot;
    int          oc;
    MPI_Datatype tt;
    int          tc;
    MPI_Aint     tdisp;   /* in the target's displacement units */
    int          second;  /* on win2 */
};

static struct xcase cases[MAXCASES];
static int ncases;
static MPI_Datatype vec, neg, mixed; /* for the refused operations too */

static void add(const char *name, MPI_Datatype ot, int oc, MPI_Datatype tt, int tc,
                MPI_Aint tdisp, int second)
{
    int osize, tsize;

    CHECK(ncases < MAXCASES);
    MPI_CHECK(MPI_Type_size(ot, &osize));
    MPI_CHECK(MPI_Type_size(tt, &tsize));
    CHECKF((long)osize * oc == (long)tsize * tc, "test bug: %s: %d x %d bytes vs %d x %d", name,
           oc, osize, tc, tsize);
    cases[ncases++] = (struct xcase){ name, ot, oc, tt, tc, tdisp, second };
}

static size_t unit_of(int r, int second)
{
    return second ? (r % 2 ? 4 : 8) : 1;
}

static uint64_t seed(int r, int cno, int what)
{
    return prma_seed((uint64_t)r, 700 + (uint64_t)what, (uint64_t)cno);
}

/* Unpack the packed image of (from, fcount, ftype) into (to, tcount, ttype). */
static void reference(const void *from, int fcount, MPI_Datatype ftype, void *to, int tcount,
                      MPI_Datatype ttype)
{
    int pos = 0, size;

    MPI_CHECK(MPI_Pack_size(fcount, ftype, MPI_COMM_SELF, &size));
    CHECK(size <= OBYTES);
    MPI_CHECK(MPI_Pack(from, fcount, ftype, packbuf, OBYTES, &pos, MPI_COMM_SELF));
    size = pos;
    pos  = 0;
    MPI_CHECK(MPI_Unpack(packbuf, size, &pos, to, tcount, ttype, MPI_COMM_SELF));
}

static void compare(const unsigned char *got, const unsigned char *want, size_t len,
                    const char *what, const struct xcase *c)
{
    for (size_t i = 0; i < len; i++)
        if (got[i] != want[i])
            prma_fail(__FILE__, __LINE__, "%s: %s byte %zu is 0x%02x, expected 0x%02x", c->name,
                      what, i, got[i], want[i]);
}

static void run_put(const struct xcase *c, int cno)
{
    MPI_Win w = c->second ? win2 : win;
    unsigned char *wm = c->second ? wmem2 : wmem;
    const MPI_Aint at = c->tdisp * (MPI_Aint)unit_of(rank, c->second);

    prma_fill(wm, WINBYTES, seed(rank, cno, 0), 0);
    prma_fill(obuf, OBYTES, seed(rank, cno, 1), 0);
    MPI_CHECK(MPI_Win_fence(0, w));
    MPI_CHECK(MPI_Put(obuf + OMARGIN, c->oc, c->ot, right, c->tdisp, c->tc, c->tt, w));
    MPI_CHECK(MPI_Win_fence(0, w));

    prma_fill(ref, WINBYTES, seed(rank, cno, 0), 0);
    prma_fill(src, OBYTES, seed(left, cno, 1), 0);
    reference(src + OMARGIN, c->oc, c->ot, ref + at, c->tc, c->tt);
    compare(wm, ref, WINBYTES, "put: target window", c);
    VERIFY_PATTERN(obuf, OBYTES, seed(rank, cno, 1), 0, "%s: put: origin buffer", c->name);
}

static void run_get(const struct xcase *c, int cno)
{
    MPI_Win w = c->second ? win2 : win;
    unsigned char *wm = c->second ? wmem2 : wmem;
    const MPI_Aint at = c->tdisp * (MPI_Aint)unit_of(left, c->second);

    prma_fill(wm, WINBYTES, seed(rank, cno, 2), 0);
    prma_fill(gbuf, OBYTES, seed(rank, cno, 3), 0);
    MPI_CHECK(MPI_Win_fence(0, w));
    MPI_CHECK(MPI_Get(gbuf + OMARGIN, c->oc, c->ot, left, c->tdisp, c->tc, c->tt, w));
    MPI_CHECK(MPI_Win_fence(0, w));

    prma_fill(ref, OBYTES, seed(rank, cno, 3), 0);
    prma_fill(src, WINBYTES, seed(left, cno, 2), 0);
    reference(src + at, c->tc, c->tt, ref + OMARGIN, c->oc, c->ot);
    compare(gbuf, ref, OBYTES, "get: origin buffer", c);
    VERIFY_PATTERN(wm, WINBYTES, seed(rank, cno, 2), 0, "%s: get: target window", c->name);
}

static MPI_Datatype commit(MPI_Datatype t)
{
    MPI_CHECK(MPI_Type_commit(&t));
    return t;
}

/* Every type the cases use; freed at the end. */
static MPI_Datatype made[64];
static int nmade;

static MPI_Datatype keep(MPI_Datatype t)
{
    CHECK(nmade < 64);
    made[nmade++] = commit(t);
    return t;
}

static void build_cases(void)
{
    MPI_Datatype t, hvec, idx, hidx, idxblk, hidxblk, mixed2, packed, negdense, subc, subf,
        da1, da2, resz, inner, vecidx, contvec, dup, dupint, big, shortint, usershortint;

    /* 15 ints: 5 blocks of 3, stride 7 ints. */
    MPI_CHECK(MPI_Type_vector(5, 3, 7, MPI_INT, &t));
    vec = keep(t);
    /* 8 doubles: 4 blocks of 2, 52 bytes apart (unaligned on purpose). */
    MPI_CHECK(MPI_Type_create_hvector(4, 2, 52, MPI_DOUBLE, &t));
    hvec = keep(t);
    /* 10 ints, blocks out of address order. */
    MPI_CHECK(MPI_Type_indexed(4, (int[]){ 2, 1, 3, 4 }, (int[]){ 9, 0, 4, 20 }, MPI_INT, &t));
    idx = keep(t);
    /* 6 doubles, out of address order. */
    MPI_CHECK(MPI_Type_create_hindexed(3, (int[]){ 1, 2, 3 }, (MPI_Aint[]){ 40, 0, 100 },
                                       MPI_DOUBLE, &t));
    hidx = keep(t);
    /* 8 shorts. */
    MPI_CHECK(MPI_Type_create_indexed_block(4, 2, (int[]){ 6, 0, 12, 3 }, MPI_SHORT, &t));
    idxblk = keep(t);
    /* 9 floats. */
    MPI_CHECK(MPI_Type_create_hindexed_block(3, 3, (MPI_Aint[]){ 64, 8, 200 }, MPI_FLOAT, &t));
    hidxblk = keep(t);
    /* int int double int int int, with holes ... */
    MPI_CHECK(MPI_Type_create_struct(3, (int[]){ 2, 1, 3 }, (MPI_Aint[]){ 0, 16, 24 },
                                     (MPI_Datatype[]){ MPI_INT, MPI_DOUBLE, MPI_INT }, &t));
    mixed = keep(t);
    /* ... the same signature in another shape ... */
    MPI_CHECK(MPI_Type_create_struct(4, (int[]){ 2, 1, 1, 2 }, (MPI_Aint[]){ 40, 0, 8, 20 },
                                     (MPI_Datatype[]){ MPI_INT, MPI_DOUBLE, MPI_INT, MPI_INT },
                                     &t));
    mixed2 = keep(t);
    /* ... and packed without holes. */
    MPI_CHECK(MPI_Type_create_struct(3, (int[]){ 2, 1, 3 }, (MPI_Aint[]){ 0, 8, 16 },
                                     (MPI_Datatype[]){ MPI_INT, MPI_DOUBLE, MPI_INT }, &t));
    packed = keep(t);
    /* A double 16 bytes BEFORE the element's start, then 2 ints: lb -16. */
    {
        MPI_Datatype s;

        MPI_CHECK(MPI_Type_create_struct(2, (int[]){ 1, 2 }, (MPI_Aint[]){ -16, 8 },
                                         (MPI_Datatype[]){ MPI_DOUBLE, MPI_INT }, &s));
        MPI_CHECK(MPI_Type_create_resized(s, -16, 40, &t));
        MPI_Type_free(&s);
        neg = keep(t);
    }
    MPI_CHECK(MPI_Type_create_struct(2, (int[]){ 1, 2 }, (MPI_Aint[]){ 0, 8 },
                                     (MPI_Datatype[]){ MPI_DOUBLE, MPI_INT }, &t));
    negdense = keep(t);
    /* 12 ints of a 6x5x4 array. */
    MPI_CHECK(MPI_Type_create_subarray(3, (int[]){ 6, 5, 4 }, (int[]){ 2, 3, 2 },
                                       (int[]){ 1, 1, 1 }, MPI_ORDER_C, MPI_INT, &t));
    subc = keep(t);
    MPI_CHECK(MPI_Type_create_subarray(3, (int[]){ 6, 5, 4 }, (int[]){ 2, 3, 2 },
                                       (int[]){ 1, 1, 1 }, MPI_ORDER_FORTRAN, MPI_INT, &t));
    subf = keep(t);
    /* Block x cyclic(2) over a 2x2 grid, process 1 of 4: 4 x 2 ints. */
    MPI_CHECK(MPI_Type_create_darray(4, 1, 2, (int[]){ 8, 6 },
                                     (int[]){ MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC },
                                     (int[]){ MPI_DISTRIBUTE_DFLT_DARG, 2 }, (int[]){ 2, 2 },
                                     MPI_ORDER_C, MPI_INT, &t));
    da1 = keep(t);
    /* Cyclic x none x block(3), Fortran order, process 4 of 6: 2 x 4 x 3 doubles. */
    MPI_CHECK(MPI_Type_create_darray(
        6, 4, 3, (int[]){ 5, 4, 7 },
        (int[]){ MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_NONE, MPI_DISTRIBUTE_BLOCK },
        (int[]){ 1, MPI_DISTRIBUTE_DFLT_DARG, 3 }, (int[]){ 2, 1, 3 }, MPI_ORDER_FORTRAN,
        MPI_DOUBLE, &t));
    da2 = keep(t);
    /* 3 ints every 20 bytes. */
    {
        MPI_Datatype s;

        MPI_CHECK(MPI_Type_contiguous(3, MPI_INT, &s));
        MPI_CHECK(MPI_Type_create_resized(s, 0, 20, &t));
        MPI_Type_free(&s);
        resz = keep(t);
    }
    /* A vector of indexed: 3 ints per inner element (extent 3 ints). */
    MPI_CHECK(MPI_Type_indexed(2, (int[]){ 1, 2 }, (int[]){ 2, 0 }, MPI_INT, &inner));
    MPI_CHECK(MPI_Type_vector(3, 2, 3, inner, &t));
    MPI_Type_free(&inner);
    vecidx = keep(t);
    MPI_CHECK(MPI_Type_contiguous(3, vec, &t));
    contvec = keep(t);
    /* A dup is committed when its original is. */
    MPI_CHECK(MPI_Type_dup(vec, &dup));
    CHECK(nmade < 64);
    made[nmade++] = dup;
    /* So is a dup of a predefined type. */
    MPI_CHECK(MPI_Type_dup(MPI_INT, &dupint));
    CHECK(nmade < 64);
    made[nmade++] = dupint;
    MPI_CHECK(MPI_Type_vector(1000, 1, 2, MPI_INT, &t));
    big = keep(t);
    MPI_CHECK(MPI_Type_contiguous(3, MPI_SHORT_INT, &t));
    shortint = keep(t);
    {
        struct si { short s; int i; };

        MPI_CHECK(MPI_Type_create_struct(2, (int[]){ 1, 1 },
                                         (MPI_Aint[]){ offsetof(struct si, s),
                                                       offsetof(struct si, i) },
                                         (MPI_Datatype[]){ MPI_SHORT, MPI_INT }, &t));
        usershortint = keep(t);
    }

    add("vector origin only", vec, 2, MPI_INT, 30, 64, 0);
    add("vector target only", MPI_INT, 30, vec, 2, 64, 0);
    add("vector to indexed", vec, 2, idx, 3, 40, 0);
    add("vector to vector", vec, 3, vec, 3, 0, 0);
    add("hvector origin only", hvec, 1, MPI_DOUBLE, 8, 96, 0);
    add("hvector target only", MPI_DOUBLE, 8, hvec, 1, 96, 0);
    add("hvector to hindexed", hvec, 3, hidx, 4, 8, 0);
    add("indexed origin only", idx, 2, MPI_INT, 20, 4, 0);
    add("indexed target only", MPI_INT, 20, idx, 2, 4, 0);
    add("hindexed origin only", hidx, 1, MPI_DOUBLE, 6, 24, 0);
    add("hindexed target only", MPI_DOUBLE, 6, hidx, 1, 24, 0);
    add("indexed_block origin only", idxblk, 2, MPI_SHORT, 16, 2, 0);
    add("indexed_block target only", MPI_SHORT, 16, idxblk, 2, 2, 0);
    add("hindexed_block origin only", hidxblk, 1, MPI_FLOAT, 9, 12, 0);
    add("hindexed_block target only", MPI_FLOAT, 9, hidxblk, 1, 12, 0);
    add("hindexed_block to floats", hidxblk, 5, MPI_FLOAT, 45, 0, 0);
    add("struct int/double origin only", mixed, 2, packed, 2, 16, 0);
    add("struct int/double target only", packed, 2, mixed, 2, 16, 0);
    add("struct int/double, two shapes", mixed, 3, mixed2, 3, 8, 0);
    add("struct with negative lb origin only", neg, 3, negdense, 3, 40, 0);
    add("struct with negative lb target only", negdense, 3, neg, 3, 40, 0);
    add("struct with negative lb at the window start", negdense, 2, neg, 2, 16, 0);
    add("struct with negative lb both sides", neg, 2, neg, 2, 64, 0);
    add("subarray C origin only", subc, 1, MPI_INT, 12, 0, 0);
    add("subarray C target only", MPI_INT, 24, subc, 2, 32, 0);
    add("subarray Fortran target only", MPI_INT, 12, subf, 1, 32, 0);
    add("subarray C to Fortran", subc, 2, subf, 2, 4, 0);
    add("darray block/cyclic origin only", da1, 1, MPI_INT, 8, 8, 0);
    add("darray block/cyclic target only", MPI_INT, 16, da1, 2, 8, 0);
    add("darray cyclic/none/block Fortran origin only", da2, 1, MPI_DOUBLE, 24, 0, 0);
    add("darray cyclic/none/block Fortran target only", MPI_DOUBLE, 24, da2, 1, 16, 0);
    add("darray to hvector", da2, 1, hvec, 3, 8, 0);
    add("resized origin only", resz, 4, MPI_INT, 12, 0, 0);
    add("resized target only", MPI_INT, 12, resz, 4, 12, 0);
    add("vector of indexed to contiguous of vector", vecidx, 5, contvec, 2, 0, 0);
    add("contiguous of vector target only", MPI_INT, 45, contvec, 1, 16, 0);
    add("dup to vector", dup, 2, vec, 2, 8, 0);
    add("dup of MPI_INT to vector", dupint, 15, vec, 1, 8, 0);
    add("1000 strided ints", big, 1, MPI_INT, 1000, 4, 0);
    add("1000 ints to strided", MPI_INT, 1000, big, 1, 0, 0);
    add("pairs with padding", shortint, 2, MPI_SHORT_INT, 6, 16, 0);
    add("user struct to MPI_SHORT_INT", usershortint, 5, MPI_SHORT_INT, 5, 8, 0);
    /* disp_unit 8 or 4 (the target's): negative lb reaches below the disp. */
    add("negative lb, displacement units", negdense, 3, neg, 3, 6, 1);
    add("negative lb at the start, displacement units", neg, 1, neg, 1, 4, 1);
    add("vector, displacement units", vec, 2, idx, 3, 3, 1);
}

/* ---- refused operations (portrma only) ---- */

#define EXPECT_CLASS(rc, want, ...)                                                            \
    prma_expect_class_at(__FILE__, __LINE__, (rc), (want), __VA_ARGS__)

/* One refused put and one refused get inside a fence epoch: the classes,
 * and not a byte written anywhere. */
static void refused(const char *name, MPI_Datatype ot, int oc, MPI_Datatype tt, int tc,
                    MPI_Aint tdisp, int want, int cno)
{
    int rc;

    prma_fill(wmem, WINBYTES, seed(rank, cno, 4), 0);
    prma_fill(obuf, OBYTES, seed(rank, cno, 5), 0);
    prma_fill(gbuf, OBYTES, seed(rank, cno, 6), 0);
    MPI_CHECK(MPI_Win_fence(0, win));
    rc = MPI_Put(obuf + OMARGIN, oc, ot, right, tdisp, tc, tt, win);
    EXPECT_CLASS(rc, want, "MPI_Put: %s", name);
    rc = MPI_Get(gbuf + OMARGIN, oc, ot, left, tdisp, tc, tt, win);
    EXPECT_CLASS(rc, want, "MPI_Get: %s", name);
    MPI_CHECK(MPI_Win_fence(0, win));
    if (prma_find_pattern_mismatch(wmem, WINBYTES, seed(rank, cno, 4), 0) >= 0 ||
        prma_find_pattern_mismatch(gbuf, OBYTES, seed(rank, cno, 6), 0) >= 0 ||
        prma_find_pattern_mismatch(obuf, OBYTES, seed(rank, cno, 5), 0) >= 0)
        prma_soft_fail(__FILE__, __LINE__, "%s: a refused operation wrote data", name);
}

static void refusals(void)
{
    MPI_Datatype uncommitted, sevenints;
    int cno = 1000;

    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Type_vector(2, 1, 2, MPI_INT, &uncommitted));
    MPI_CHECK(MPI_Type_contiguous(7, MPI_INT, &sevenints));
    MPI_CHECK(MPI_Type_commit(&sevenints));

    refused("2 MPI_INT to 1 MPI_DOUBLE", MPI_INT, 2, MPI_DOUBLE, 1, 0, MPI_ERR_TYPE, cno++);
    refused("4 MPI_INT to 4 MPI_FLOAT", MPI_INT, 4, MPI_FLOAT, 4, 0, MPI_ERR_TYPE, cno++);
    refused("vector of int to 15 MPI_FLOAT", vec, 1, MPI_FLOAT, 15, 0, MPI_ERR_TYPE, cno++);
    refused("struct int/double to 7 ints (same size)", mixed, 1, sevenints, 1, 0, MPI_ERR_TYPE,
            cno++);
    refused("15 ints to 2 vectors (30 ints)", MPI_INT, 15, vec, 2, 0, MPI_ERR_TYPE, cno++);
    refused("vector span past the window's end", MPI_INT, 30, vec, 2, WINBYTES - 200,
            MPI_ERR_RMA_RANGE, cno++);
    refused("negative lb below the window's start", neg, 1, neg, 1, 8, MPI_ERR_RMA_RANGE,
            cno++);
    refused("uncommitted origin type", uncommitted, 1, MPI_INT, 2, 0, MPI_ERR_TYPE, cno++);
    refused("uncommitted target type", MPI_INT, 2, uncommitted, 1, 0, MPI_ERR_TYPE, cno++);

    MPI_Type_free(&uncommitted);
    MPI_Type_free(&sevenints);
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_ARE_FATAL));
}

/* ---- many types ---- */

/* Bytes of heap in use (glibc), else the resident set. */
static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
#else
    unsigned long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    CHECK(f != NULL && fscanf(f, "%lu %lu", &pages, &resident) == 2);
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
#endif
}

static void many_types(void)
{
    size_t before = 0, after;
    const int n = 10000, warm = 1000;
    int ints[65], got;

    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < n; i++) {
        MPI_Datatype v, s, r, d;

        if (i == warm)
            before = heap_in_use();
        /* 32 blocks twice: a leaked layout would be > 1 KiB. The struct
         * names v twice, so MPI_Type_get_contents hands it out twice. */
        MPI_CHECK(MPI_Type_vector(32, 1, 2, MPI_INT, &v));
        MPI_CHECK(MPI_Type_create_struct(3, (int[]){ 1, 1, 1 }, (MPI_Aint[]){ 0, 256, 260 },
                                         (MPI_Datatype[]){ v, MPI_INT, v }, &s));
        MPI_CHECK(MPI_Type_create_resized(s, 0, 520, &r));
        MPI_CHECK(MPI_Type_commit(&r));
        for (int k = 0; k < 65; k++)
            ints[k] = i + k;
        MPI_CHECK(MPI_Put(ints, 65, MPI_INT, rank, 0, 1, r, win));
        /* A dup shares the layout, which outlives the original. */
        MPI_CHECK(MPI_Type_dup(r, &d));
        MPI_CHECK(MPI_Type_free(&r));
        MPI_CHECK(MPI_Put(ints, 65, MPI_INT, rank, 0, 1, d, win));
        MPI_CHECK(MPI_Type_free(&d));
        MPI_CHECK(MPI_Type_free(&s));
        MPI_CHECK(MPI_Type_free(&v));
    }
    MPI_CHECK(MPI_Win_fence(0, win));
    after = heap_in_use();
    /* The last puts: ints n-1 .. n+63 at every other int, one at 256, then
     * every other int again from 260. */
    for (int k = 0; k < 65; k++) {
        size_t at = k < 32 ? 8 * (size_t)k : k == 32 ? 256 : 260 + 8 * (size_t)(k - 33);

        memcpy(&got, wmem + at, sizeof got);
        CHECKF(got == n - 1 + k, "many types: int %d (at byte %zu) is %d", k, at, got);
    }
    CHECKF(after < before + 4 * 1024 * 1024,
           "heap in use grew by %zu bytes over %d datatypes", after - before, n - warm);
    if (rank == 0)
        printf("datatypes: heap in use %zu -> %zu bytes over %d types\n", before, after,
               n - warm);
}

int main(int argc, char **argv)
{
    MPI_Info info;
    int flag = 0;
    char value[MPI_MAX_INFO_VAL + 1];
    void *base;

    MPI_Init(&argc, &argv);
    prma_watchdog_arm("datatypes", 240);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    right = (rank + 1) % nranks;
    left  = (rank - 1 + nranks) % nranks;

    MPI_CHECK(MPI_Win_allocate(WINBYTES, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win));
    wmem = base;
    MPI_CHECK(MPI_Win_allocate(WINBYTES, (int)unit_of(rank, 1), MPI_INFO_NULL, MPI_COMM_WORLD,
                               &base, &win2));
    wmem2   = base;
    obuf    = prma_xmalloc(OBYTES);
    gbuf    = prma_xmalloc(OBYTES);
    ref     = prma_xmalloc(OBYTES);
    src     = prma_xmalloc(OBYTES);
    packbuf = prma_xmalloc(OBYTES);
    MPI_CHECK(MPI_Win_get_info(win, &info));
    MPI_CHECK(MPI_Info_get(info, "portrma_ports", MPI_MAX_INFO_VAL, value, &flag));
    MPI_CHECK(MPI_Info_free(&info));
    portrma = flag;

    build_cases();
    for (int i = 0; i < ncases; i++) {
        run_put(&cases[i], i);
        run_get(&cases[i], i);
    }
    if (rank == 0)
        printf("datatypes: %d ranks, %d cases of put and get: ok\n", nranks, ncases);

    if (portrma)
        refusals();
    else if (rank == 0)
        printf("datatypes: not portrma's window: refused operations not checked\n");

    many_types();

    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win2));
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Win_free(&win2));
    for (int i = 0; i < nmade; i++)
        MPI_CHECK(MPI_Type_free(&made[i]));
    free(obuf);
    free(gbuf);
    free(ref);
    free(src);
    free(packbuf);
    if (prma_soft_total() != 0) {
        MPI_Finalize();
        return 1;
    }
    if (rank == 0)
        printf("datatypes: ok\n");
    MPI_Finalize();
    return 0;
}
