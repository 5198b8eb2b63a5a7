/*
 * progress: passive target operations must complete while the target
 * computes outside MPI (MPI-3.1 11.7.2 "Progress": a passive target RMA
 * operation must complete even if the target makes no MPI calls).
 *
 * Right after a barrier, rank 0 (the target) computes for COMPUTE_S seconds
 * in a busy loop on the clock, without any MPI call.  Meanwhile every other
 * rank waits a moment (so that rank 0 is surely computing), then does
 * ROUNDS of lock (exclusive and shared alternately) / put / get /
 * MPI_Fetch_and_op / flush / unlock on rank 0, and records when it started
 * and when it was done.
 *
 * The ranks' clocks are related to rank 0's by a ping-pong before the test
 * (offset from the exchange with the smallest round trip; half that round
 * trip is the uncertainty), so the check does not rely on MPI_Wtime being
 * global.  Pass: every origin started after rank 0 began computing and was
 * done before rank 0 stopped computing (in rank 0's clock, uncertainty
 * included).  All times are printed.  Afterwards the data is verified: the
 * counter, every origin's put, every get.
 *
 * Bounded: origin operations that need the target's help complete when
 * rank 0 calls MPI again after its compute phase (the test then fails, it
 * does not hang); a watchdog ends a hang anyway.
 *
 * Needs 2 or more ranks: exits 77 with 1.
 */
#include "common.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_S 60
#define COMPUTE_S 2.0
#define START_DELAY_MS 200
#define ROUNDS 4
#define SLOT 1024
#define OWN_OFF 64 /* rank 0's own data, read by the gets */
#define SLOTS_OFF (OWN_OFF + SLOT)
#define NPING 10

static int rank, nranks;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t put_seed(int o, int r)
{
    return prma_seed((uint64_t)o, 6000 + (uint64_t)r, 0);
}

static uint64_t own_seed(void) { return prma_seed(0, 6100, 0); }

static size_t slot_off(int o, int r)
{
    return SLOTS_OFF + ((size_t)(o - 1) * ROUNDS + (size_t)r) * SLOT;
}

/* Offset such that (my MPI_Wtime() + offset) is rank 0's MPI_Wtime(), and
 * its uncertainty.  Collective over MPI_COMM_WORLD. */
static void clock_offset(double *offset, double *err)
{
    *offset = 0;
    *err = 0;
    for (int o = 1; o < nranks; o++) {
        if (rank == 0) {
            for (int i = 0; i < NPING; i++) {
                MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, o, 1, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE));
                double t0 = MPI_Wtime();
                MPI_CHECK(MPI_Send(&t0, 1, MPI_DOUBLE, o, 2, MPI_COMM_WORLD));
            }
        } else if (rank == o) {
            double best = 1e30;
            for (int i = 0; i < NPING; i++) {
                double t0 = 0;
                const double ts = MPI_Wtime();
                MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 0, 1, MPI_COMM_WORLD));
                MPI_CHECK(MPI_Recv(&t0, 1, MPI_DOUBLE, 0, 2, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE));
                const double tr = MPI_Wtime();
                if (tr - ts < best) {
                    best = tr - ts;
                    *offset = t0 - (ts + tr) / 2;
                    *err = best / 2;
                }
            }
        }
    }
}

int main(int argc, char **argv)
{
    prma_watchdog_arm("progress", WATCHDOG_S);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks < 2) {
        if (rank == 0)
            printf("progress: needs 2 or more ranks: skipped\n");
        MPI_Finalize();
        return 77;
    }

    const size_t wsize = slot_off(nranks, 0);
    unsigned char *mem;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)wsize, 1, MPI_INFO_NULL,
                               MPI_COMM_WORLD, &mem, &win));
    if (rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
        prma_fill_const(mem, wsize, PRMA_SENTINEL);
        memset(mem, 0, sizeof(long long)); /* the counter */
        prma_fill(mem + OWN_OFF, SLOT, own_seed(), OWN_OFF);
        MPI_CHECK(MPI_Win_sync(win));
        MPI_CHECK(MPI_Win_unlock(0, win));
    }

    double offset, err;
    clock_offset(&offset, &err);

    /* t[0]: start, t[1]: done (origins) / compute begin, end (rank 0) */
    double t[2] = {0, 0};
    long long fetched[ROUNDS];
    unsigned char *ob = prma_xmalloc(SLOT), *gb = prma_xmalloc(ROUNDS * SLOT);
    prma_fill_const(gb, ROUNDS * SLOT, PRMA_SENTINEL2);

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        /* compute phase: no MPI call */
        t[0] = MPI_Wtime();
        const double end = mono_now() + COMPUTE_S;
        volatile double x = 1.0;
        long iters = 0;
        while (mono_now() < end) {
            for (int i = 0; i < 1000; i++)
                x = x * 1.0000001 + 1e-9;
            iters++;
        }
        t[1] = MPI_Wtime();
        CHECK(iters > 0 && x > 0);
    } else {
        struct timespec ts = {0, START_DELAY_MS * 1000000L};
        nanosleep(&ts, NULL);
        t[0] = MPI_Wtime();
        for (int r = 0; r < ROUNDS; r++) {
            const int lt = r % 2 ? MPI_LOCK_SHARED : MPI_LOCK_EXCLUSIVE;
            long long one = 1;
            fetched[r] = -1;
            prma_fill(ob, SLOT, put_seed(rank, r), slot_off(rank, r));
            MPI_CHECK(MPI_Win_lock(lt, 0, 0, win));
            MPI_CHECK(MPI_Put(ob, SLOT, MPI_BYTE, 0,
                              (MPI_Aint)slot_off(rank, r), SLOT, MPI_BYTE,
                              win));
            MPI_CHECK(MPI_Get(gb + (size_t)r * SLOT, SLOT, MPI_BYTE, 0,
                              OWN_OFF, SLOT, MPI_BYTE, win));
            MPI_CHECK(MPI_Fetch_and_op(&one, &fetched[r], MPI_LONG_LONG, 0, 0,
                                       MPI_SUM, win));
            MPI_CHECK(MPI_Win_flush(0, win));
            MPI_CHECK(MPI_Win_unlock(0, win));
        }
        t[1] = MPI_Wtime();
    }

    /* times to rank 0: start, done, offset, err */
    double mine[4] = {t[0], t[1], offset, err};
    double *all = rank == 0 ? prma_xmalloc(sizeof(double) * 4 * (size_t)nranks)
                            : NULL;
    MPI_CHECK(MPI_Gather(mine, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, 0,
                         MPI_COMM_WORLD));
    if (rank == 0) {
        const double cb = t[0], ce = t[1];
        printf("progress: %d ranks: rank 0 computed from 0.000 to %.3f s "
               "(times in rank 0's clock, relative to its compute start)\n",
               nranks, ce - cb);
        for (int o = 1; o < nranks; o++) {
            const double *a = all + 4 * o;
            const double s = a[0] + a[2] - cb, d = a[1] + a[2] - cb;
            printf("progress:   origin %d: started %.3f s, done %.3f s "
                   "(took %.3f s for %d x lock/put/get/fetch_and_op/flush/"
                   "unlock), clock offset %+.6f s +- %.6f s\n",
                   o, s, d, a[1] - a[0], ROUNDS, a[2], a[3]);
            SOFT_CHECKF(s - a[3] > 0,
                        "origin %d started its operations %.3f s after rank "
                        "0 began computing (+- %.6f s): before it, so the "
                        "test is inconclusive", o, s, a[3]);
            SOFT_CHECKF(d + a[3] < ce - cb,
                        "origin %d was done %.3f s (+- %.6f s) after rank 0 "
                        "began computing, rank 0 computed until %.3f s: the "
                        "passive target operations did not complete while "
                        "the target was computing outside MPI (no passive "
                        "progress)", o, d, a[3], ce - cb);
        }
        free(all);
    }

    /* the data */
    if (rank != 0) {
        for (int r = 0; r < ROUNDS; r++) {
            SOFT_CHECKF(fetched[r] >= 0 &&
                            fetched[r] < (long long)(nranks - 1) * ROUNDS,
                        "round %d: MPI_Fetch_and_op fetched %lld", r,
                        fetched[r]);
            SOFT_CHECKF(prma_find_pattern_mismatch(gb + (size_t)r * SLOT, SLOT,
                                                   own_seed(), OWN_OFF) < 0,
                        "round %d: the get of rank 0's data returned wrong "
                        "bytes", r);
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        MPI_CHECK(MPI_Win_sync(win));
        long long c;
        memcpy(&c, mem, sizeof c);
        SOFT_CHECKF(c == (long long)(nranks - 1) * ROUNDS,
                    "counter is %lld after %d fetch_and_ops", c,
                    (nranks - 1) * ROUNDS);
        for (int o = 1; o < nranks; o++)
            for (int r = 0; r < ROUNDS; r++)
                SOFT_CHECKF(prma_find_pattern_mismatch(
                                mem + slot_off(o, r), SLOT, put_seed(o, r),
                                slot_off(o, r)) < 0,
                            "the put of origin %d round %d did not land", o,
                            r);
        SOFT_CHECKF(prma_find_pattern_mismatch(mem + OWN_OFF, SLOT, own_seed(),
                                               OWN_OFF) < 0,
                    "rank 0's own data was changed");
        MPI_CHECK(MPI_Win_unlock(0, win));
    }

    free(ob);
    free(gb);
    MPI_CHECK(MPI_Win_free(&win));
    const int total = prma_soft_total();
    if (rank == 0)
        printf("progress: %d ranks: %s\n", nranks,
               total ? "FAILED" : "ok");
    MPI_Finalize();
    return total ? 1 : 0;
}
