/*
 * pscw: generalized active target synchronization (MPI_Win_post /
 * MPI_Win_start / MPI_Win_complete / MPI_Win_wait / MPI_Win_test).
 *
 * Window (MPI_Win_allocate, on every rank): region A, one SLOT per origin
 * rank (origin o puts into slot o), then region B, one SLOT of the owner's
 * own data (written by local stores outside any epoch, read by gets).
 *
 *  a. ring: every rank exposes its window to its left neighbour and accesses
 *     its right neighbour; puts into slot[rank] of the right neighbour.
 *     Several rounds; in some rounds the target sleeps before it resets its
 *     window and posts, so a put that lands before the matching post (a
 *     start that does not wait for the post) is wiped by the reset and
 *     detected.  Every byte outside the expected slot must keep the
 *     sentinel.
 *  b. all-to-all groups: every rank exposes to all and accesses all, puts a
 *     distinct pattern into slot[rank] of every target; all slots verified.
 *  c. MPI_Win_test polling instead of MPI_Win_wait: before its own
 *     MPI_Win_complete (it is in its own access group) MPI_Win_test must
 *     return flag = false; after it, poll until true (every iteration calls
 *     MPI_Win_test), then verify.
 *  d. asserts (run last): MPI_MODE_NOCHECK on post and start (a barrier
 *     between them guarantees the posts happened first); then a get-only
 *     epoch with MPI_MODE_NOSTORE | MPI_MODE_NOPUT on post reading back the
 *     data of the NOCHECK epoch and the owners' region B; then the same with
 *     NOCHECK too.  After the get-only epochs the windows must be unchanged.
 *     The NOCHECK exposure epochs are ended by polling MPI_Win_test under a
 *     time limit, so an epoch that never ends fails instead of hanging.
 *  e. groups of different sizes: rank 0 exposes to everyone and everyone
 *     accesses only rank 0 (a gather via put); then the reverse, everyone
 *     exposes only to rank 0 and rank 0 accesses everyone (a scatter); then
 *     rank 0 exposes to and accesses everyone while every other rank r
 *     exposes to and accesses {0, r}.
 *  f. gets inside PSCW epochs: ring gets of the neighbour's region B (the
 *     data is checked right after MPI_Win_complete); then all-to-all epochs
 *     mixing gets (region B) and puts (region A).
 *  g. group handles freed and made again (see there); h. small puts to a
 *     target that has not posted (left in its stage); i. more small puts
 *     than a stage holds, to a late target, then at once to the next epoch.
 *
 * Works at any number of ranks (with 1 rank every group is just the rank
 * itself).
 */
#include "common.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#define SLOT 512 /* bytes */
#define WATCHDOG_S 60
#define TEST_LIMIT_S 10.0 /* bound on any polling loop */

static int rank, nranks, left, right;
static MPI_Group world_group;
static MPI_Win win;
static unsigned char *wmem;
static size_t wsize;        /* (nranks + 1) * SLOT */
static size_t region_b;     /* offset of region B */
static unsigned char *obuf; /* nranks * SLOT origin buffers */
static unsigned char *gbuf; /* 2 * nranks * SLOT get buffers */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Group of the world ranks in r[0..n-1] (duplicates removed by the caller). */
static MPI_Group group_of(int n, const int *r)
{
    MPI_Group g;
    MPI_CHECK(MPI_Group_incl(world_group, n, r, &g));
    return g;
}

static MPI_Group group1(int r) { return group_of(1, &r); }

/* {a, b} or {a} if a == b */
static MPI_Group group2(int a, int b)
{
    int r[2] = {a, b};
    return group_of(a == b ? 1 : 2, r);
}

static MPI_Group group_all(void)
{
    int *r = prma_xmalloc(sizeof(int) * (size_t)nranks);
    for (int i = 0; i < nranks; i++)
        r[i] = i;
    MPI_Group g = group_of(nranks, r);
    free(r);
    return g;
}

static void group_free(MPI_Group *g) { MPI_CHECK(MPI_Group_free(g)); }

/* seed of the data origin `o` puts to target `t` in test `tc`, round `r` */
static uint64_t put_seed(int o, int t, int tc, int r)
{
    return prma_seed((uint64_t)o, 1000u * (uint64_t)tc + (uint64_t)r,
                     (uint64_t)t);
}

/* seed of the region B data of owner `t` in test `tc`, round `r` */
static uint64_t own_seed(int t, int tc, int r)
{
    return prma_seed((uint64_t)t, 77000u + 1000u * (uint64_t)tc + (uint64_t)r,
                     0);
}

static size_t slot_off(int o) { return (size_t)o * SLOT; }

/* Outside any epoch on our window: everything to the sentinel. */
static void reset_window(void) { prma_fill_const(wmem, wsize, PRMA_SENTINEL); }

/* Outside any epoch: region A to the sentinel, region B to own data. */
static void reset_window_own(int tc, int r)
{
    prma_fill_const(wmem, region_b, PRMA_SENTINEL);
    prma_fill(wmem + region_b, SLOT, own_seed(rank, tc, r), region_b);
}

/* Verify region A: slot o holds put_seed(o, rank, tc, r) if from[o], else
 * the sentinel. */
static void verify_region_a(const char *what, int tc, int r, const int *from)
{
    for (int o = 0; o < nranks; o++) {
        if (from[o])
            VERIFY_PATTERN(wmem + slot_off(o), SLOT,
                           put_seed(o, rank, tc, r), slot_off(o),
                           "%s round %d: slot of origin %d", what, r, o);
        else
            VERIFY_CONST(wmem + slot_off(o), SLOT, PRMA_SENTINEL,
                         "%s round %d: slot of rank %d (no put expected)",
                         what, r, o);
    }
}

/* origin side: fill obuf slot for target t and put it to slot[rank] of t */
static void put_to(int t, int tc, int r)
{
    unsigned char *b = obuf + (size_t)t * SLOT;
    prma_fill(b, SLOT, put_seed(rank, t, tc, r), slot_off(rank));
    MPI_CHECK(MPI_Put(b, SLOT, MPI_BYTE, t, (MPI_Aint)slot_off(rank), SLOT,
                      MPI_BYTE, win));
}

/* ---- a. ring ---------------------------------------------------------- */

static void test_ring(void)
{
    const int tc = 1, rounds = 8;
    MPI_Group gl = group1(left), gr = group1(right);
    int *from = calloc((size_t)nranks, sizeof(int));
    CHECK(from);
    from[left] = 1;

    for (int r = 0; r < rounds; r++) {
        /* Rounds 2 and 5: the target delays its post; a put issued before
         * the post would land now and be wiped by the reset below. */
        if (r == 2 || r == 5)
            sleep_ms(rank % 2 ? 60 : 30);
        reset_window();
        MPI_CHECK(MPI_Win_post(gl, 0, win));
        MPI_CHECK(MPI_Win_start(gr, 0, win));
        put_to(right, tc, r);
        MPI_CHECK(MPI_Win_complete(win));
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("ring put", tc, r, from);
        VERIFY_CONST(wmem + region_b, SLOT, PRMA_SENTINEL,
                     "ring put round %d: region B", r);
    }
    free(from);
    group_free(&gl);
    group_free(&gr);
}

/* ---- b. all-to-all ------------------------------------------------------ */

static void test_all_to_all(void)
{
    const int tc = 2, rounds = 6;
    MPI_Group ga = group_all();
    int *from = prma_xmalloc(sizeof(int) * (size_t)nranks);
    for (int o = 0; o < nranks; o++)
        from[o] = 1;

    for (int r = 0; r < rounds; r++) {
        if (r == 3 && rank == nranks - 1)
            sleep_ms(50); /* one late poster */
        reset_window();
        MPI_CHECK(MPI_Win_post(ga, 0, win));
        MPI_CHECK(MPI_Win_start(ga, 0, win));
        for (int i = 0; i < nranks; i++)
            put_to((rank + i) % nranks, tc, r);
        MPI_CHECK(MPI_Win_complete(win));
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("all-to-all put", tc, r, from);
        VERIFY_CONST(wmem + region_b, SLOT, PRMA_SENTINEL,
                     "all-to-all put round %d: region B", r);
    }
    free(from);
    group_free(&ga);
}

/* ---- c. MPI_Win_test ---------------------------------------------------- */

static void test_win_test(void)
{
    const int tc = 3, rounds = 5;
    MPI_Group ga = group_all();
    int *from = prma_xmalloc(sizeof(int) * (size_t)nranks);
    for (int o = 0; o < nranks; o++)
        from[o] = 1;
    long total_polls = 0;

    for (int r = 0; r < rounds; r++) {
        reset_window();
        MPI_CHECK(MPI_Win_post(ga, 0, win));
        MPI_CHECK(MPI_Win_start(ga, 0, win));
        for (int i = 0; i < nranks; i++)
            put_to((rank + i) % nranks, tc, r);

        /* We are in our own access group and have not completed: the
         * exposure epoch cannot be over. */
        int flag = -1;
        MPI_CHECK(MPI_Win_test(win, &flag));
        CHECKF(flag == 0, "round %d: MPI_Win_test returned flag %d before "
               "this rank (a member of the post group) called "
               "MPI_Win_complete", r, flag);

        /* A late completer in some rounds: the others poll meanwhile. */
        if (r == 1 && rank == 0)
            sleep_ms(50);
        MPI_CHECK(MPI_Win_complete(win));

        const double t0 = MPI_Wtime();
        long polls = 0;
        flag = 0;
        while (!flag) {
            MPI_CHECK(MPI_Win_test(win, &flag));
            polls++;
            CHECKF(flag || MPI_Wtime() - t0 < TEST_LIMIT_S,
                   "round %d: MPI_Win_test still false after %.0f s "
                   "(%ld polls)", r, TEST_LIMIT_S, polls);
        }
        total_polls += polls;
        verify_region_a("MPI_Win_test epoch", tc, r, from);
    }
    CHECK(total_polls >= rounds);
    free(from);
    group_free(&ga);
}

/* ---- d. asserts ---------------------------------------------------------- */

/* MPI_Win_wait, but by polling MPI_Win_test under a time limit, so that an
 * exposure epoch that never completes fails the test instead of hanging. */
static void wait_bounded(const char *what, int r)
{
    const double t0 = MPI_Wtime();
    int flag = 0;
    long polls = 0;
    while (!flag) {
        MPI_CHECK(MPI_Win_test(win, &flag));
        polls++;
        CHECKF(flag || MPI_Wtime() - t0 < TEST_LIMIT_S,
               "%s round %d: the exposure epoch did not complete within "
               "%.0f s (%ld MPI_Win_test polls)", what, r, TEST_LIMIT_S, polls);
    }
}

static void verify_gets_d(const char *what, int tc_put, int r_put, int tc_own,
                          int r_own)
{
    for (int t = 0; t < nranks; t++) {
        const unsigned char *g = gbuf + (size_t)t * SLOT * 2;
        VERIFY_PATTERN(g, SLOT, put_seed(rank, t, tc_put, r_put),
                       slot_off(rank),
                       "%s: get of my slot at rank %d (put by me)", what, t);
        VERIFY_PATTERN(g + SLOT, SLOT, own_seed(t, tc_own, r_own), region_b,
                       "%s: get of region B of rank %d", what, t);
    }
}

static void test_asserts(void)
{
    const int tc = 4;
    MPI_Group ga = group_all();
    int *from = prma_xmalloc(sizeof(int) * (size_t)nranks);
    for (int o = 0; o < nranks; o++)
        from[o] = 1;

    for (int r = 0; r < 3; r++) {
        /* 1. MPI_MODE_NOCHECK on post and start: every post happens before
         *    the barrier, every start after it. */
        reset_window_own(tc, r);
        MPI_CHECK(MPI_Win_post(ga, MPI_MODE_NOCHECK, win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_start(ga, MPI_MODE_NOCHECK, win));
        for (int i = 0; i < nranks; i++)
            put_to((rank + i) % nranks, tc, r);
        MPI_CHECK(MPI_Win_complete(win));
        wait_bounded("NOCHECK put epoch", r);
        verify_region_a("NOCHECK epoch", tc, r, from);
        VERIFY_PATTERN(wmem + region_b, SLOT, own_seed(rank, tc, r), region_b,
                       "NOCHECK epoch round %d: region B", r);

        /* 2. get-only epoch: no local stores since the wait above, no puts
         *    during the epoch. */
        prma_fill_const(gbuf, (size_t)nranks * SLOT * 2, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Win_post(ga, MPI_MODE_NOSTORE | MPI_MODE_NOPUT, win));
        MPI_CHECK(MPI_Win_start(ga, 0, win));
        for (int i = 0; i < nranks; i++) {
            const int t = (rank + i) % nranks;
            unsigned char *g = gbuf + (size_t)t * SLOT * 2;
            MPI_CHECK(MPI_Get(g, SLOT, MPI_BYTE, t, (MPI_Aint)slot_off(rank),
                              SLOT, MPI_BYTE, win));
            MPI_CHECK(MPI_Get(g + SLOT, SLOT, MPI_BYTE, t, (MPI_Aint)region_b,
                              SLOT, MPI_BYTE, win));
        }
        MPI_CHECK(MPI_Win_complete(win));
        verify_gets_d("NOSTORE|NOPUT get-only epoch", tc, r, tc, r);
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("after the get-only epoch (window unchanged)", tc, r,
                        from);

        /* 3. get-only with NOCHECK as well */
        prma_fill_const(gbuf, (size_t)nranks * SLOT * 2, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Win_post(ga, MPI_MODE_NOCHECK | MPI_MODE_NOSTORE |
                                       MPI_MODE_NOPUT, win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_start(ga, MPI_MODE_NOCHECK, win));
        for (int i = 0; i < nranks; i++) {
            const int t = (rank + nranks - i) % nranks;
            unsigned char *g = gbuf + (size_t)t * SLOT * 2;
            MPI_CHECK(MPI_Get(g, SLOT, MPI_BYTE, t, (MPI_Aint)slot_off(rank),
                              SLOT, MPI_BYTE, win));
            MPI_CHECK(MPI_Get(g + SLOT, SLOT, MPI_BYTE, t, (MPI_Aint)region_b,
                              SLOT, MPI_BYTE, win));
        }
        MPI_CHECK(MPI_Win_complete(win));
        verify_gets_d("NOCHECK|NOSTORE|NOPUT get-only epoch", tc, r, tc, r);
        wait_bounded("NOCHECK get-only epoch", r);
        verify_region_a("after the NOCHECK get-only epoch", tc, r, from);
        VERIFY_PATTERN(wmem + region_b, SLOT, own_seed(rank, tc, r), region_b,
                       "after the get-only epochs round %d: region B", r);
    }
    /* The next test may post right away: make sure nobody is still
     * accessing with NOCHECK (it already waited; this is just tidy). */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    free(from);
    group_free(&ga);
}

/* ---- e. groups of different sizes ------------------------------------- */

static void test_uneven_groups(void)
{
    const int tc = 5, rounds = 4;
    MPI_Group ga = group_all(), g0 = group1(0);
    int *from = prma_xmalloc(sizeof(int) * (size_t)nranks);

    /* gather via put: rank 0 exposes to all, every rank accesses rank 0 */
    for (int r = 0; r < rounds; r++) {
        if (rank == 0) {
            if (r == 1)
                sleep_ms(60); /* the others are already starting */
            reset_window();
            MPI_CHECK(MPI_Win_post(ga, 0, win));
        }
        MPI_CHECK(MPI_Win_start(g0, 0, win));
        put_to(0, tc, r);
        MPI_CHECK(MPI_Win_complete(win));
        if (rank == 0) {
            MPI_CHECK(MPI_Win_wait(win));
            for (int o = 0; o < nranks; o++)
                from[o] = 1;
            verify_region_a("gather via put", tc, r, from);
        }
    }

    /* scatter via put: every rank exposes to rank 0 only, rank 0 accesses
     * all */
    const int tc2 = 6;
    for (int o = 0; o < nranks; o++)
        from[o] = (o == 0);
    for (int r = 0; r < rounds; r++) {
        if (r == 2 && rank == nranks - 1)
            sleep_ms(60);
        reset_window();
        MPI_CHECK(MPI_Win_post(g0, 0, win));
        if (rank == 0) {
            MPI_CHECK(MPI_Win_start(ga, 0, win));
            for (int t = nranks - 1; t >= 0; t--)
                put_to(t, tc2, r);
            MPI_CHECK(MPI_Win_complete(win));
        }
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("scatter via put", tc2, r, from);
    }

    /* Pair groups: rank 0 exposes to and accesses everyone; every other
     * rank r exposes to and accesses {0, r} (rank 0 and itself). */
    const int tc3 = 7;
    MPI_Group gp = group2(0, rank);
    for (int r = 0; r < rounds; r++) {
        reset_window();
        MPI_CHECK(MPI_Win_post(rank == 0 ? ga : gp, 0, win));
        MPI_CHECK(MPI_Win_start(rank == 0 ? ga : gp, 0, win));
        if (rank == 0) {
            for (int t = 0; t < nranks; t++)
                put_to(t, tc3, r);
        } else {
            put_to(0, tc3, r);
            put_to(rank, tc3, r);
        }
        MPI_CHECK(MPI_Win_complete(win));
        MPI_CHECK(MPI_Win_wait(win));
        for (int o = 0; o < nranks; o++)
            from[o] = rank == 0 ? 1 : (o == 0 || o == rank);
        verify_region_a("pair groups {0, rank}", tc3, r, from);
    }
    group_free(&gp);

    free(from);
    group_free(&ga);
    group_free(&g0);
}

/* ---- f. gets ------------------------------------------------------------ */

static void test_gets(void)
{
    const int tc = 8, rounds = 4;
    MPI_Group gl = group1(left), gr = group1(right), ga = group_all();
    int *from = prma_xmalloc(sizeof(int) * (size_t)nranks);

    /* ring gets: read region B of the right neighbour */
    for (int r = 0; r < rounds; r++) {
        if (r == 1)
            sleep_ms(rank % 2 ? 40 : 10);
        reset_window_own(tc, r);
        prma_fill_const(gbuf, 2 * SLOT, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Win_post(gl, 0, win));
        MPI_CHECK(MPI_Win_start(gr, 0, win));
        MPI_CHECK(MPI_Get(gbuf, SLOT, MPI_BYTE, right, (MPI_Aint)region_b,
                          SLOT, MPI_BYTE, win));
        MPI_CHECK(MPI_Win_complete(win));
        VERIFY_PATTERN(gbuf, SLOT, own_seed(right, tc, r), region_b,
                       "ring get round %d: region B of rank %d", r, right);
        VERIFY_CONST(gbuf + SLOT, SLOT, PRMA_SENTINEL2,
                     "ring get round %d: past the get buffer", r);
        MPI_CHECK(MPI_Win_wait(win));
        VERIFY_CONST(wmem, region_b, PRMA_SENTINEL,
                     "ring get round %d: region A untouched", r);
        VERIFY_PATTERN(wmem + region_b, SLOT, own_seed(rank, tc, r), region_b,
                       "ring get round %d: own region B unchanged", r);
    }

    /* all-to-all: get region B of every target and put into its region A */
    const int tc2 = 9;
    for (int o = 0; o < nranks; o++)
        from[o] = 1;
    for (int r = 0; r < rounds; r++) {
        reset_window_own(tc2, r);
        prma_fill_const(gbuf, (size_t)nranks * SLOT, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Win_post(ga, 0, win));
        MPI_CHECK(MPI_Win_start(ga, 0, win));
        for (int i = 0; i < nranks; i++) {
            const int t = (rank + i) % nranks;
            MPI_CHECK(MPI_Get(gbuf + (size_t)t * SLOT, SLOT, MPI_BYTE, t,
                              (MPI_Aint)region_b, SLOT, MPI_BYTE, win));
            put_to(t, tc2, r);
        }
        MPI_CHECK(MPI_Win_complete(win));
        for (int t = 0; t < nranks; t++)
            VERIFY_PATTERN(gbuf + (size_t)t * SLOT, SLOT,
                           own_seed(t, tc2, r), region_b,
                           "all-to-all get round %d: region B of rank %d", r,
                           t);
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("all-to-all put+get", tc2, r, from);
        VERIFY_PATTERN(wmem + region_b, SLOT, own_seed(rank, tc2, r),
                       region_b, "all-to-all put+get round %d: own region B",
                       r);
    }

    free(from);
    group_free(&gl);
    group_free(&gr);
    group_free(&ga);
}

/* ---- h. small puts to a target that has not posted -------------------- */

/* Ranks pair up for h and i (even: target, odd: its origin): the partner,
 * with a group of it in *g, or -1 (and no group) for an odd rank out. */
static int pair_up(MPI_Group *g)
{
    int peer = rank % 2 ? rank - 1 : rank + 1;

    if (peer >= nranks)
        return -1;
    *g = group1(peer);
    return peer;
}

/* Puts of a few bytes to a target that has not posted yet may be left for
 * it to apply in its wait: they must land, in order, in the right epoch,
 * and never before the target's post of that epoch. Ranks pair up (even:
 * target, odd: its origin). Each round the origin runs an epoch with no
 * operation, then one with three small puts (the last two overlapping: the
 * later wins); the target posts, pauses long enough for the origin to have
 * done both, waits for the first epoch (nothing of the second may be
 * there), then posts and waits for the second. */
static void test_staged_puts(void)
{
    const int rounds = 4, small = 40;
    MPI_Group g;
    int peer = pair_up(&g);
    unsigned char *b = obuf;

    if (peer < 0)
        return;
    for (int r = 0; r < rounds; r++) {
        reset_window();
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        if (rank % 2) {
            MPI_CHECK(MPI_Win_start(g, 0, win));
            MPI_CHECK(MPI_Win_complete(win));
            MPI_CHECK(MPI_Win_start(g, 0, win));
            prma_fill(b, 3 * (size_t)small, put_seed(rank, peer, 8, r), 0);
            MPI_CHECK(MPI_Put(b, small, MPI_BYTE, peer, (MPI_Aint)slot_off(rank), small,
                              MPI_BYTE, win));
            MPI_CHECK(MPI_Put(b + small, small, MPI_BYTE, peer,
                              (MPI_Aint)(slot_off(rank) + 2 * (size_t)small), small, MPI_BYTE,
                              win));
            MPI_CHECK(MPI_Put(b + 2 * small, small, MPI_BYTE, peer,
                              (MPI_Aint)(slot_off(rank) + 2 * (size_t)small + 8), small,
                              MPI_BYTE, win));
            MPI_CHECK(MPI_Win_complete(win));
            continue;
        }
        MPI_CHECK(MPI_Win_post(g, 0, win));
        sleep_ms(20);
        MPI_CHECK(MPI_Win_wait(win));
        VERIFY_CONST(wmem, wsize, PRMA_SENTINEL,
                     "staged puts round %d: the window after the empty epoch", r);
        MPI_CHECK(MPI_Win_post(g, 0, win));
        MPI_CHECK(MPI_Win_wait(win));
        {
            unsigned char *want = prma_xmalloc(3 * (size_t)small);
            unsigned char *slot = wmem + slot_off(peer);

            prma_fill(want, 3 * (size_t)small, put_seed(peer, rank, 8, r), 0);
            CHECKF(memcmp(slot, want, (size_t)small) == 0,
                   "staged puts round %d: first put from %d", r, peer);
            VERIFY_CONST(slot + small, (size_t)small, PRMA_SENTINEL,
                         "staged puts round %d: gap after the first put", r);
            CHECKF(memcmp(slot + 2 * small, want + small, 8) == 0 &&
                       memcmp(slot + 2 * small + 8, want + 2 * small, (size_t)small) == 0,
                   "staged puts round %d: the overlapping puts, in order", r);
            VERIFY_CONST(slot + 3 * small + 8, SLOT - 3 * (size_t)small - 8, PRMA_SENTINEL,
                         "staged puts round %d: after the puts", r);
            free(want);
        }
    }
    group_free(&g);
}

/* ---- i. more small puts than a stage holds ------------------------------ */

/* Many 8-byte puts to a target that has not posted: the first ones fit in
 * its stage, the rest must wait for its post; all must land, and the stage
 * must serve the next epoch right away as well. Pairs as in h (pair_up);
 * each round the origin runs two such epochs back to back, the target
 * posts the first late, the second at once. */
static void test_stage_overflow(void)
{
    const int rounds = 3, nput = SLOT / 8;
    MPI_Group g;
    int peer = pair_up(&g);
    unsigned char *b = obuf;

    if (peer < 0)
        return;
    for (int r = 0; r < rounds; r++) {
        for (int e = 0; e < 2; e++) {
            reset_window();
            MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
            if (rank % 2) {
                prma_fill(b, SLOT, put_seed(rank, peer, 9 + e, r), 0);
                MPI_CHECK(MPI_Win_start(g, 0, win));
                /* Every other 8 bytes first, then the rest. */
                for (int k = 0; k < nput; k++) {
                    int at = k < nput / 2 ? 2 * k : 2 * (k - nput / 2) + 1;

                    MPI_CHECK(MPI_Put(b + 8 * at, 8, MPI_BYTE, peer,
                                      (MPI_Aint)(slot_off(rank) + 8 * (size_t)at), 8, MPI_BYTE,
                                      win));
                }
                MPI_CHECK(MPI_Win_complete(win));
                continue;
            }
            if (e == 0)
                sleep_ms(20);
            MPI_CHECK(MPI_Win_post(g, 0, win));
            MPI_CHECK(MPI_Win_wait(win));
            {
                unsigned char *want = prma_xmalloc(SLOT);

                prma_fill(want, SLOT, put_seed(peer, rank, 9 + e, r), 0);
                CHECKF(memcmp(wmem + slot_off(peer), want, SLOT) == 0,
                       "stage overflow round %d epoch %d: the puts from %d", r, e, peer);
                VERIFY_CONST(wmem, slot_off(peer), PRMA_SENTINEL,
                             "stage overflow round %d epoch %d: before the slot", r, e);
                free(want);
            }
        }
    }
    group_free(&g);
}

/* ---- g. group handles freed and made again ------------------------------ */

/* Each round makes its groups afresh and frees them after, alternating the
 * direction of the ring: a handle the library hands out again for other
 * members must not be taken for the one it named before. */
static void test_reused_groups(void)
{
    const int tc = 7, rounds = 6;
    int *from = calloc((size_t)nranks, sizeof(int));
    CHECK(from);

    for (int r = 0; r < rounds; r++) {
        int to = r % 2 ? left : right, by = r % 2 ? right : left;
        MPI_Group gpost = group1(by), gstart = group1(to);

        memset(from, 0, (size_t)nranks * sizeof(int));
        from[by] = 1;
        reset_window();
        MPI_CHECK(MPI_Win_post(gpost, 0, win));
        MPI_CHECK(MPI_Win_start(gstart, 0, win));
        put_to(to, tc, r);
        MPI_CHECK(MPI_Win_complete(win));
        MPI_CHECK(MPI_Win_wait(win));
        verify_region_a("reused groups put", tc, r, from);
        group_free(&gpost);
        group_free(&gstart);
    }
    free(from);
}

int main(int argc, char **argv)
{
    prma_watchdog_arm("pscw", WATCHDOG_S);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    left = (rank - 1 + nranks) % nranks;
    right = (rank + 1) % nranks;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world_group));

    wsize = (size_t)(nranks + 1) * SLOT;
    region_b = (size_t)nranks * SLOT;
    void *base = NULL;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)wsize, 1, MPI_INFO_NULL,
                               MPI_COMM_WORLD, &base, &win));
    wmem = base;
    obuf = prma_xmalloc((size_t)nranks * SLOT);
    gbuf = prma_xmalloc((size_t)nranks * SLOT * 2);

    const double t0 = MPI_Wtime();
    test_ring();
    test_all_to_all();
    test_win_test();
    test_uneven_groups();
    test_gets();
    test_asserts();
    test_reused_groups();
    test_staged_puts();
    test_stage_overflow();

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Group_free(&world_group));
    free(obuf);
    free(gbuf);
    if (rank == 0)
        printf("pscw: %d ranks: ok (%.2f s)\n", nranks, MPI_Wtime() - t0);
    MPI_Finalize();
    return 0;
}
