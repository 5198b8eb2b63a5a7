/*
 * fence_putget: MPI_Put / MPI_Get of contiguous bytes in fence epochs.
 *
 *  1. For each window flavour (MPI_Win_allocate, MPI_Win_create on
 *     MPI_Alloc_mem memory, MPI_Win_create on malloc'd memory) and each
 *     transfer size (1 B .. 16 MiB), one window of the largest size reused:
 *     every rank puts a rank- and offset-dependent pattern into rank r+1 at a
 *     nonzero displacement; the target checks the written range and that
 *     every other byte of its window still holds the sentinel; then every
 *     rank gets the same range from rank r-1 and checks it (and that the get
 *     wrote nothing past the requested length).
 *  2. Displacement units 1, 4, 8, 3, and a per-rank unit (4 on even ranks, 8
 *     on odd ranks): target_disp must be scaled by the TARGET's unit, for
 *     puts and gets.
 *  3. Windows where odd ranks contribute no memory (size 0; base NULL for
 *     MPI_Win_create): puts/gets go to even ranks only, fences stay
 *     collective.
 *  4. Every size from 1 to 80 bytes at every alignment 0..7, put to rank
 *     r+1 and got back, and the same with our own window (the self port):
 *     the bytes asked for move, no byte around them.
 *  5. A stream larger than a last-level cache in one epoch (80 puts of
 *     1 MiB at odd displacements to rank r+1 in one fence epoch, then 80 gets
 *     of them from rank r-1 before one flush of a lock_all epoch, in two
 *     epochs one after the other): the copies past the cache's worth
 *     take another path (non-temporal stores on x86-64); every byte must
 *     still arrive, and the gaps between the pieces keep the sentinel.
 *
 * Works at any number of ranks (with 1 rank every transfer targets itself).
 */
#include "common.h"

enum flavour { FL_ALLOCATE, FL_CREATE_ALLOC_MEM, FL_CREATE_MALLOC, FL_COUNT };

static const char *flavour_name[FL_COUNT] = {
    "MPI_Win_allocate", "MPI_Win_create(MPI_Alloc_mem)", "MPI_Win_create(malloc)"};

struct window {
    MPI_Win win;
    unsigned char *base; /* local memory (NULL if size 0 and flavour create) */
    size_t size;
    enum flavour fl;
};

static int rank, nranks;

static void win_make(struct window *w, enum flavour fl, size_t size,
                     int disp_unit)
{
    w->fl = fl;
    w->size = size;
    w->base = NULL;
    switch (fl) {
    case FL_ALLOCATE: {
        void *base = NULL;
        MPI_CHECK(MPI_Win_allocate((MPI_Aint)size, disp_unit, MPI_INFO_NULL,
                                   MPI_COMM_WORLD, &base, &w->win));
        w->base = size ? base : NULL;
        break;
    }
    case FL_CREATE_ALLOC_MEM:
        if (size) {
            void *base = NULL;
            MPI_CHECK(MPI_Alloc_mem((MPI_Aint)size, MPI_INFO_NULL, &base));
            w->base = base;
        }
        MPI_CHECK(MPI_Win_create(w->base, (MPI_Aint)size, disp_unit,
                                 MPI_INFO_NULL, MPI_COMM_WORLD, &w->win));
        break;
    case FL_CREATE_MALLOC:
        if (size)
            w->base = prma_xmalloc(size);
        MPI_CHECK(MPI_Win_create(w->base, (MPI_Aint)size, disp_unit,
                                 MPI_INFO_NULL, MPI_COMM_WORLD, &w->win));
        break;
    default:
        CHECK(0);
    }
    CHECK(w->win != MPI_WIN_NULL);
    CHECK(size == 0 || w->base != NULL);
}

static void win_destroy(struct window *w)
{
    MPI_CHECK(MPI_Win_free(&w->win));
    CHECK(w->win == MPI_WIN_NULL);
    if (w->fl == FL_CREATE_ALLOC_MEM && w->base)
        MPI_CHECK(MPI_Free_mem(w->base));
    else if (w->fl == FL_CREATE_MALLOC)
        free(w->base);
    w->base = NULL;
}

/* ---- 1. sizes x flavours --------------------------------------------- */

#define MAX_XFER ((size_t)16 << 20)
#define GUARD 64

static const size_t xfer_sizes[] = {1, 7, 64, 4096, 65536, (size_t)1 << 20,
                                    MAX_XFER};
#define N_SIZES (sizeof xfer_sizes / sizeof xfer_sizes[0])

static uint64_t size_seed(int origin, int fl, int si)
{
    return prma_seed((uint64_t)origin, 10 + (uint64_t)fl, (uint64_t)si);
}

static void test_sizes(enum flavour fl, unsigned char *obuf, unsigned char *gbuf)
{
    const int right = (rank + 1) % nranks;
    const int left = (rank - 1 + nranks) % nranks;
    const int left2 = (rank - 2 + 2 * nranks) % nranks;
    const size_t winsize = MAX_XFER + 2 * GUARD;
    struct window w;

    win_make(&w, fl, winsize, 1);

    for (size_t si = 0; si < N_SIZES; si++) {
        const size_t len = xfer_sizes[si];
        /* nonzero, varying, deliberately unaligned displacement < GUARD */
        const size_t disp = 1 + (si * 17) % (GUARD - 1);

        /* Outside any access to our window: reset it to the sentinel. */
        prma_fill_const(w.base, winsize, PRMA_SENTINEL);
        prma_fill(obuf, len, size_seed(rank, fl, (int)si), disp);

        MPI_CHECK(MPI_Win_fence(0, w.win));
        MPI_CHECK(MPI_Put(obuf, (int)len, MPI_BYTE, right, (MPI_Aint)disp,
                          (int)len, MPI_BYTE, w.win));
        MPI_CHECK(MPI_Win_fence(0, w.win));

        VERIFY_CONST(w.base, disp, PRMA_SENTINEL,
                     "%s put %zu B: window bytes before the target range",
                     flavour_name[fl], len);
        VERIFY_PATTERN(w.base + disp, len, size_seed(left, fl, (int)si), disp,
                       "%s put %zu B at disp %zu from rank %d",
                       flavour_name[fl], len, disp, left);
        VERIFY_CONST(w.base + disp + len, winsize - disp - len, PRMA_SENTINEL,
                     "%s put %zu B: window bytes after the target range",
                     flavour_name[fl], len);

        prma_fill_const(gbuf, len + GUARD, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Get(gbuf, (int)len, MPI_BYTE, left, (MPI_Aint)disp,
                          (int)len, MPI_BYTE, w.win));
        MPI_CHECK(MPI_Win_fence(0, w.win));

        VERIFY_PATTERN(gbuf, len, size_seed(left2, fl, (int)si), disp,
                       "%s get %zu B at disp %zu from rank %d (data of rank %d)",
                       flavour_name[fl], len, disp, left, left2);
        VERIFY_CONST(gbuf + len, GUARD, PRMA_SENTINEL2,
                     "%s get %zu B: origin bytes past the requested length",
                     flavour_name[fl], len);
    }
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w.win));
    win_destroy(&w);
}

/* ---- 2. displacement units ------------------------------------------- */

#define DU_MIXED (-1)
#define DU_NELEM 32
#define DU_PUT_ELEM 3 /* target_disp of the put, in the target's units */

static int du_of(int mode, int r)
{
    if (mode == DU_MIXED)
        return (r % 2) ? 8 : 4;
    return mode;
}

/* bytes put: two units and one more byte, so the length is not a multiple */
static size_t du_len(int du) { return 2 * (size_t)du + 1; }

static uint64_t du_seed(int origin, int mode, int fl)
{
    return prma_seed((uint64_t)origin, 100 + (uint64_t)(mode + 1), (uint64_t)fl);
}

static void test_disp_unit(enum flavour fl, int mode)
{
    const int right = (rank + 1) % nranks;
    const int left = (rank - 1 + nranks) % nranks;
    const int left2 = (rank - 2 + 2 * nranks) % nranks;
    const int my_du = du_of(mode, rank);
    const int right_du = du_of(mode, right);
    const int left_du = du_of(mode, left);
    const size_t winsize = (size_t)DU_NELEM * (size_t)my_du;
    struct window w;
    unsigned char obuf[64], gbuf[DU_NELEM * 8 + GUARD];

    win_make(&w, fl, winsize, my_du);
    prma_fill_const(w.base, winsize, PRMA_SENTINEL);

    /* put len bytes at element DU_PUT_ELEM of the right neighbour, i.e. at
     * byte DU_PUT_ELEM * right_du of its window. */
    const size_t plen = du_len(right_du);
    const size_t pbyte = (size_t)DU_PUT_ELEM * (size_t)right_du;
    prma_fill(obuf, plen, du_seed(rank, mode, fl), pbyte);

    MPI_CHECK(MPI_Win_fence(0, w.win));
    MPI_CHECK(MPI_Put(obuf, (int)plen, MPI_BYTE, right, DU_PUT_ELEM, (int)plen,
                      MPI_BYTE, w.win));
    MPI_CHECK(MPI_Win_fence(0, w.win));

    /* what the left neighbour wrote into our window */
    const size_t mylen = du_len(my_du);
    const size_t mybyte = (size_t)DU_PUT_ELEM * (size_t)my_du;
    VERIFY_CONST(w.base, mybyte, PRMA_SENTINEL,
                 "%s disp_unit %d (mode %d): bytes before element %d",
                 flavour_name[fl], my_du, mode, DU_PUT_ELEM);
    VERIFY_PATTERN(w.base + mybyte, mylen, du_seed(left, mode, fl), mybyte,
                   "%s disp_unit %d (mode %d): put from rank %d (disp_unit of "
                   "origin %d) at target_disp %d should land at byte %zu",
                   flavour_name[fl], my_du, mode, left, left_du, DU_PUT_ELEM,
                   mybyte);
    VERIFY_CONST(w.base + mybyte + mylen, winsize - mybyte - mylen,
                 PRMA_SENTINEL, "%s disp_unit %d (mode %d): bytes after the put",
                 flavour_name[fl], my_du, mode);

    /* get from the left neighbour, starting one element before the region
     * written there: one unit of sentinel, the pattern, one unit of sentinel */
    const size_t llen = du_len(left_du);
    const size_t glen = (size_t)left_du + llen + (size_t)left_du;
    CHECK(glen + GUARD <= sizeof gbuf);
    prma_fill_const(gbuf, glen + GUARD, PRMA_SENTINEL2);
    MPI_CHECK(MPI_Get(gbuf, (int)glen, MPI_BYTE, left, DU_PUT_ELEM - 1,
                      (int)glen, MPI_BYTE, w.win));
    MPI_CHECK(MPI_Win_fence(0, w.win));

    VERIFY_CONST(gbuf, (size_t)left_du, PRMA_SENTINEL,
                 "%s get from rank %d (disp_unit %d, mine %d) at target_disp "
                 "%d: first unit",
                 flavour_name[fl], left, left_du, my_du, DU_PUT_ELEM - 1);
    VERIFY_PATTERN(gbuf + left_du, llen, du_seed(left2, mode, fl),
                   (size_t)DU_PUT_ELEM * (size_t)left_du,
                   "%s get from rank %d (disp_unit %d, mine %d) at target_disp "
                   "%d: data put there by rank %d",
                   flavour_name[fl], left, left_du, my_du, DU_PUT_ELEM - 1,
                   left2);
    VERIFY_CONST(gbuf + left_du + llen, (size_t)left_du, PRMA_SENTINEL,
                 "%s get from rank %d (disp_unit %d): last unit",
                 flavour_name[fl], left, left_du);
    VERIFY_CONST(gbuf + glen, GUARD, PRMA_SENTINEL2,
                 "%s get: origin bytes past the requested length",
                 flavour_name[fl]);

    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w.win));
    win_destroy(&w);
}

/* ---- 3. odd ranks have no memory --------------------------------------- */

#define ZS_SLOT 1000
#define ZS_OFF 5
#define ZS_LEN 777
#define ZS_WINSIZE (2 * ZS_SLOT + 16)

static int neven(void) { return (nranks + 1) / 2; }

/* even rank receiving the puts of rank r */
static int zs_target(int r) { return 2 * ((r / 2 + 1) % neven()); }

static uint64_t zs_seed(int origin, int fl)
{
    return prma_seed((uint64_t)origin, 200, (uint64_t)fl);
}

/* Check `buf` against the expected contents of even rank g's window. */
static void zs_verify(const unsigned char *buf, int g, enum flavour fl,
                      const char *what)
{
    size_t pos = 0;
    int written = 0;
    for (int slot = 0; slot < 2; slot++) {
        const int origin = 2 * ((g / 2 - 1 + neven()) % neven()) + slot;
        const size_t start = (size_t)slot * ZS_SLOT + ZS_OFF;
        VERIFY_CONST(buf + pos, start - pos, PRMA_SENTINEL,
                     "%s (window of rank %d) before slot %d", what, g, slot);
        if (origin < nranks) {
            VERIFY_PATTERN(buf + start, ZS_LEN, zs_seed(origin, fl), start,
                           "%s (window of rank %d) slot %d written by rank %d",
                           what, g, slot, origin);
            written++;
        } else {
            VERIFY_CONST(buf + start, ZS_LEN, PRMA_SENTINEL,
                         "%s (window of rank %d) slot %d: no rank %d",
                         what, g, slot, origin);
        }
        pos = start + ZS_LEN;
    }
    VERIFY_CONST(buf + pos, ZS_WINSIZE - pos, PRMA_SENTINEL,
                 "%s (window of rank %d) after the slots", what, g);
    CHECK(written >= 1);
}

static void test_zero_size(enum flavour fl, unsigned char *gbuf)
{
    const int has_mem = (rank % 2) == 0;
    struct window w;
    unsigned char obuf[ZS_LEN];

    win_make(&w, fl, has_mem ? ZS_WINSIZE : 0, 1);
    if (!has_mem)
        CHECK(fl == FL_ALLOCATE || w.base == NULL);
    else
        prma_fill_const(w.base, ZS_WINSIZE, PRMA_SENTINEL);

    const int target = zs_target(rank);
    const size_t start = (size_t)(rank % 2) * ZS_SLOT + ZS_OFF;
    CHECK(target % 2 == 0 && target < nranks);
    prma_fill(obuf, ZS_LEN, zs_seed(rank, fl), start);

    MPI_CHECK(MPI_Win_fence(0, w.win));
    MPI_CHECK(MPI_Put(obuf, ZS_LEN, MPI_BYTE, target, (MPI_Aint)start, ZS_LEN,
                      MPI_BYTE, w.win));
    MPI_CHECK(MPI_Win_fence(0, w.win));

    if (has_mem)
        zs_verify(w.base, rank, fl, "zero-size-odd window after puts");

    /* everybody reads the whole window of the even rank of its pair */
    const int g = 2 * (rank / 2);
    prma_fill_const(gbuf, ZS_WINSIZE + GUARD, PRMA_SENTINEL2);
    MPI_CHECK(MPI_Get(gbuf, ZS_WINSIZE, MPI_BYTE, g, 0, ZS_WINSIZE, MPI_BYTE,
                      w.win));
    MPI_CHECK(MPI_Win_fence(0, w.win));
    zs_verify(gbuf, g, fl, "zero-size-odd window, get");
    VERIFY_CONST(gbuf + ZS_WINSIZE, GUARD, PRMA_SENTINEL2,
                 "zero-size-odd get: origin bytes past the requested length");

    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w.win));
    win_destroy(&w);
}

/* ---- 4. small sizes and alignments, to a peer and to ourselves ---------- */

#define SMALL_MAX 80
#define SMALL_WIN 512

static void test_small(enum flavour fl)
{
    struct window w;
    unsigned char want[SMALL_WIN], got[SMALL_MAX + 16];
    int right = (rank + 1) % nranks, left = (rank + nranks - 1) % nranks;

    win_make(&w, fl, SMALL_WIN, 1);
    for (size_t len = 1; len <= SMALL_MAX; len++) {
        for (size_t al = 0; al < 8; al++) {
            uint64_t seed = prma_seed((uint64_t)rank, 4000 + len, al);
            unsigned char src[SMALL_MAX + 8];

            /* Remote: a put to the right at offset 100 + al, got back. */
            prma_fill_const(w.base, SMALL_WIN, PRMA_SENTINEL);
            prma_fill(src, len + al, seed, 0);
            MPI_CHECK(MPI_Win_fence(0, w.win));
            MPI_CHECK(MPI_Put(src + al, (int)len, MPI_BYTE, right, (MPI_Aint)(100 + al),
                              (int)len, MPI_BYTE, w.win));
            MPI_CHECK(MPI_Win_fence(0, w.win));
            prma_fill(want, len + al, prma_seed((uint64_t)left, 4000 + len, al), 0);
            CHECKF(memcmp(w.base + 100 + al, want + al, len) == 0,
                   "%s: put of %zu bytes at alignment %zu", flavour_name[fl], len, al);
            VERIFY_CONST(w.base, 100 + al, PRMA_SENTINEL, "%s: before a put of %zu bytes",
                         flavour_name[fl], len);
            VERIFY_CONST(w.base + 100 + al + len, SMALL_WIN - 100 - al - len, PRMA_SENTINEL,
                         "%s: after a put of %zu bytes", flavour_name[fl], len);
            memset(got, 0x5a, sizeof(got));
            MPI_CHECK(MPI_Get(got + al, (int)len, MPI_BYTE, right, (MPI_Aint)(100 + al),
                              (int)len, MPI_BYTE, w.win));
            MPI_CHECK(MPI_Win_fence(0, w.win));
            CHECKF(memcmp(got + al, src + al, len) == 0 && got[al + len] == 0x5a &&
                       (al == 0 || got[al - 1] == 0x5a),
                   "%s: get of %zu bytes at alignment %zu", flavour_name[fl], len, al);

            /* Our own window (the self port), under a lock on ourselves. */
            prma_fill(w.base, SMALL_WIN, seed, 0);
            memcpy(want, w.base, SMALL_WIN);
            memcpy(want + 300 + al, src + al, len);
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w.win));
            MPI_CHECK(MPI_Put(src + al, (int)len, MPI_BYTE, rank, (MPI_Aint)(300 + al),
                              (int)len, MPI_BYTE, w.win));
            MPI_CHECK(MPI_Win_unlock(rank, w.win));
            CHECKF(memcmp(w.base, want, SMALL_WIN) == 0,
                   "%s: put of %zu bytes to ourselves at alignment %zu", flavour_name[fl], len,
                   al);
            memset(got, 0x5a, sizeof(got));
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, w.win));
            MPI_CHECK(MPI_Get(got + al, (int)len, MPI_BYTE, rank, (MPI_Aint)(300 + al),
                              (int)len, MPI_BYTE, w.win));
            MPI_CHECK(MPI_Win_unlock(rank, w.win));
            CHECKF(memcmp(got + al, src + al, len) == 0 && got[al + len] == 0x5a,
                   "%s: get of %zu bytes from ourselves at alignment %zu", flavour_name[fl],
                   len, al);
            MPI_CHECK(MPI_Win_fence(0, w.win));
        }
    }
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w.win));
    win_destroy(&w);
}

/* ---- 5. a stream larger than the caches ------------------------------ */

#define ST_PIECES 80
#define ST_PIECE  ((size_t)1 << 20)
#define ST_STRIDE (ST_PIECE + 64) /* a gap of 64 bytes after each piece */
#define ST_SKEW   3

static uint64_t stream_seed(int origin, int k)
{
    return prma_seed((uint64_t)origin, 50, (uint64_t)k);
}

static void test_stream(void)
{
    const int right = (rank + 1) % nranks;
    const int left = (rank - 1 + nranks) % nranks;
    const int left2 = (rank - 2 + 2 * nranks) % nranks;
    const size_t winsize = ST_PIECES * ST_STRIDE + ST_SKEW;
    unsigned char *src = prma_xmalloc(ST_PIECES * ST_PIECE);
    unsigned char *dst = prma_xmalloc(ST_PIECES * ST_PIECE + GUARD);
    struct window w;

    win_make(&w, FL_ALLOCATE, winsize, 1);
    prma_fill_const(w.base, winsize, PRMA_SENTINEL);
    for (int k = 0; k < ST_PIECES; k++)
        prma_fill(src + (size_t)k * ST_PIECE, ST_PIECE, stream_seed(rank, k), 0);

    MPI_CHECK(MPI_Win_fence(0, w.win));
    for (int k = 0; k < ST_PIECES; k++)
        MPI_CHECK(MPI_Put(src + (size_t)k * ST_PIECE, (int)ST_PIECE, MPI_BYTE, right,
                          (MPI_Aint)(ST_SKEW + (size_t)k * ST_STRIDE), (int)ST_PIECE, MPI_BYTE,
                          w.win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w.win));

    VERIFY_CONST(w.base, ST_SKEW, PRMA_SENTINEL, "stream: window bytes before piece 0");
    for (int k = 0; k < ST_PIECES; k++) {
        const unsigned char *at = w.base + ST_SKEW + (size_t)k * ST_STRIDE;

        VERIFY_PATTERN(at, ST_PIECE, stream_seed(left, k), 0,
                       "stream: put piece %d of rank %d", k, left);
        VERIFY_CONST(at + ST_PIECE, k + 1 < ST_PIECES ? ST_STRIDE - ST_PIECE : 0,
                     PRMA_SENTINEL, "stream: gap after put piece %d", k);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Gets of what rank r-1 received (rank r-2's pieces), all before one
     * flush, in two lock_all epochs. */
    for (int half = 0; half < 2; half++) {
        prma_fill_const(dst, ST_PIECES * ST_PIECE + GUARD, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Win_lock_all(0, w.win));
        for (int k = 0; k < ST_PIECES; k++)
            MPI_CHECK(MPI_Get(dst + (size_t)k * ST_PIECE, (int)ST_PIECE, MPI_BYTE, left,
                              (MPI_Aint)(ST_SKEW + (size_t)k * ST_STRIDE), (int)ST_PIECE,
                              MPI_BYTE, w.win));
        MPI_CHECK(MPI_Win_flush(left, w.win));
        for (int k = 0; k < ST_PIECES; k++)
            VERIFY_PATTERN(dst + (size_t)k * ST_PIECE, ST_PIECE, stream_seed(left2, k), 0,
                           "stream: get %d of piece %d from rank %d", half, k, left);
        VERIFY_CONST(dst + ST_PIECES * ST_PIECE, GUARD, PRMA_SENTINEL2,
                     "stream: bytes past the last get");
        MPI_CHECK(MPI_Win_unlock_all(w.win));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    win_destroy(&w);
    free(src);
    free(dst);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    unsigned char *obuf = prma_xmalloc(MAX_XFER);
    unsigned char *gbuf = prma_xmalloc(MAX_XFER + GUARD);

    for (int fl = 0; fl < FL_COUNT; fl++)
        test_sizes((enum flavour)fl, obuf, gbuf);

    static const int modes[] = {1, 4, 8, 3, DU_MIXED};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_disp_unit(FL_ALLOCATE, modes[m]);
        test_disp_unit(FL_CREATE_MALLOC, modes[m]);
    }

    for (int fl = 0; fl < FL_COUNT; fl++)
        test_zero_size((enum flavour)fl, gbuf);

    for (int fl = 0; fl < FL_COUNT; fl++)
        test_small((enum flavour)fl);

    test_stream();

    free(obuf);
    free(gbuf);

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("fence_putget: %d ranks: ok\n", nranks);
    MPI_Finalize();
    return 0;
}
