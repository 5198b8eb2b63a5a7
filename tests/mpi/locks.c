/*
 * locks: passive target synchronization (MPI-3.1 11.5.3 - 11.5.4) and the
 * atomic operations used with it.  Every window is made with
 * MPI_Win_allocate.
 *
 *  a. exclusive-lock read-modify-write counter: every rank does K
 *     iterations of lock(EXCLUSIVE, 0) / get / flush / put counter+1 /
 *     unlock on rank 0's window; the counter ends at exactly size*K and
 *     every rank's successive reads increase.
 *  b. shared locks mixed with exclusive: writers (even ranks) update, under
 *     an exclusive lock, NV values that they always keep equal; readers (odd
 *     ranks; at 1 rank the writer itself between its updates) read them
 *     under shared locks and must never see them differ nor go backwards.
 *     The run is bounded by a time limit: the writers must finish their K
 *     updates while the readers keep reading (no starvation), and at least
 *     one read must have seen an intermediate state (the check is not
 *     vacuous).
 *  c. MPI_MODE_NOCHECK: exclusive lock of the right neighbour (the only
 *     origin of that target), shared locks, lock_all with NOCHECK.
 *  d. MPI_Win_lock_all with MPI_Win_flush to every rank (put, flush, get
 *     back), MPI_Win_flush_all, MPI_Win_flush_local (the origin buffer is
 *     overwritten right after it; the target must hold the old data; a get
 *     is complete at the origin after it) and MPI_Win_flush_local_all.
 *  e. MPI_Win_sync: windows accessed by local loads and stores under
 *     lock_all (the unified-model pattern): the owner stores, MPI_Win_sync,
 *     barrier, the others get; the others put + flush, barrier, the owner
 *     MPI_Win_sync and loads.
 *  f. info no_locks=true: such a window works with fence.
 *  g. MPI_Fetch_and_op (MPI_SUM on MPI_INT and MPI_LONG_LONG, MPI_REPLACE,
 *     MPI_NO_OP) and MPI_Compare_and_swap (MPI_INT, MPI_LONG) under
 *     lock_all: fetch-and-add tickets are exactly 0..size*K-1; a chain of
 *     swaps loses and duplicates nothing; CAS tickets are exactly
 *     0..size*K-1; a CAS spin lock protecting a non-atomic counter (get,
 *     put) adds up exactly.
 *
 * The lock holders and the atomic loops pause briefly (outside MPI) so
 * that, even oversubscribed, the ranks really contend; with 2 or more ranks
 * the counter, ticket and spin-lock checks require that some rank saw
 * another's update between two of its own (else they would prove nothing).
 *
 * Works at any number of ranks.
 */
#include "common.h"

#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_S 60
#define K 200

static int rank, nranks, left, right;

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static MPI_Win win_alloc(size_t size, int disp_unit, MPI_Info info,
                         void *basep)
{
    MPI_Win w;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)size, disp_unit, info, MPI_COMM_WORLD,
                               basep, &w));
    CHECK(w != MPI_WIN_NULL);
    return w;
}

/* Local stores into our own window memory, standard-conforming in either
 * memory model: inside an exclusive lock epoch on ourselves.  The caller
 * makes sure (barriers) that nobody else accesses the window meanwhile. */
static void local_store_begin(MPI_Win w)
{
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w));
}
static void local_store_end(MPI_Win w)
{
    MPI_CHECK(MPI_Win_sync(w));
    MPI_CHECK(MPI_Win_unlock(rank, w));
}
/* Local loads: inside a shared lock epoch on ourselves, after a sync. */
static void local_load_begin(MPI_Win w)
{
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, w));
    MPI_CHECK(MPI_Win_sync(w));
}
static void local_load_end(MPI_Win w) { MPI_CHECK(MPI_Win_unlock(rank, w)); }

/* Collective.  `jumps` counts the times this rank saw, between two of its
 * own updates, an update by another rank.  With 2 or more ranks at least
 * one is required: otherwise the ranks ran one after the other and the
 * atomicity / exclusion check proved nothing. */
static void require_interleaving(long jumps, const char *what)
{
    long sum = 0;
    MPI_CHECK(MPI_Allreduce(&jumps, &sum, 1, MPI_LONG, MPI_SUM,
                            MPI_COMM_WORLD));
    if (nranks >= 2)
        CHECKF(sum > 0, "%s: the ranks never interleaved (they ran one after "
               "the other), so the check proved nothing", what);
    if (rank == 0)
        printf("locks: %s: %ld interleavings seen\n", what, sum);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* ---- a. exclusive RMW counter ------------------------------------------ */

static void test_exclusive_counter(void)
{
    long long *mem;
    MPI_Win w = win_alloc(sizeof(long long), sizeof(long long), MPI_INFO_NULL,
                          &mem);
    local_store_begin(w);
    *mem = 0;
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    const double t0 = MPI_Wtime();
    long long last = -1;
    long jumps = 0;
    for (int i = 0; i < K; i++) {
        long long v = -7, nv;
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, w));
        MPI_CHECK(MPI_Get(&v, 1, MPI_LONG_LONG, 0, 0, 1, MPI_LONG_LONG, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(v > last && v >= 0 && v < (long long)nranks * K,
               "exclusive counter iteration %d: read %lld after %lld", i, v,
               last);
        jumps += i > 0 && v > last + 1;
        last = v;
        nv = v + 1;
        /* hold the lock a little: the other ranks get scheduled and
         * contend for it (with a lock that does not exclude, updates are
         * lost) */
        sleep_us(20);
        MPI_CHECK(MPI_Put(&nv, 1, MPI_LONG_LONG, 0, 0, 1, MPI_LONG_LONG, w));
        MPI_CHECK(MPI_Win_unlock(0, w));
    }
    const double dt = MPI_Wtime() - t0;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    long long fin = -1;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
    MPI_CHECK(MPI_Get(&fin, 1, MPI_LONG_LONG, 0, 0, 1, MPI_LONG_LONG, w));
    MPI_CHECK(MPI_Win_unlock(0, w));
    CHECKF(fin == (long long)nranks * K,
           "exclusive RMW counter: %lld after %d ranks x %d increments, "
           "expected %lld (lost updates: the exclusive lock did not exclude)",
           fin, nranks, K, (long long)nranks * K);
    require_interleaving(jumps, "a. exclusive counter");
    if (rank == 0) {
        local_load_begin(w);
        CHECKF(*mem == (long long)nranks * K,
               "exclusive RMW counter: local memory holds %lld, expected %lld",
               *mem, (long long)nranks * K);
        local_load_end(w);
        printf("locks: a. exclusive counter %lld ok (%.3f s for %d "
               "lock/get/flush/put/unlock)\n", fin, dt, K);
    }
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- b. readers and writers --------------------------------------------- */

#define NV 16        /* values kept equal by the writers */
#define KW 100       /* updates per writer */
#define RW_LIMIT 4.0 /* seconds */

static void check_equal(const long long *v, const char *who, long n,
                        long *bad)
{
    for (int j = 1; j < NV; j++)
        if (v[j] != v[0]) {
            if (*bad < 5)
                fprintf(stderr, "FAIL [rank %d] %s read %ld: value %d is %lld "
                        "but value 0 is %lld (saw a half-done exclusive "
                        "update)\n", rank, who, n, j, v[j], v[0]);
            (*bad)++;
            return;
        }
}

static void test_readers_writers(void)
{
    long long *mem; /* [0, NV): values, [NV]: writers done */
    MPI_Win w = win_alloc((NV + 1) * sizeof(long long), sizeof(long long),
                          MPI_INFO_NULL, &mem);
    local_store_begin(w);
    for (int j = 0; j <= NV; j++)
        mem[j] = 0;
    local_store_end(w);

    const int writer = rank % 2 == 0;
    const int nwriters = (nranks + 1) / 2, nreaders = nranks / 2;
    const long long total = (long long)nwriters * KW;
    long reads = 0, torn = 0, intermediate = 0, backwards = 0, updates = 0;
    int timed_out = 0;
    long long buf[NV + 1], last = 0;

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    const double t0 = MPI_Wtime();
    if (writer) {
        for (int i = 0; i < KW; i++) {
            if (MPI_Wtime() - t0 > RW_LIMIT) {
                timed_out = 1;
                break;
            }
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, w));
            MPI_CHECK(MPI_Get(buf, NV + 1, MPI_LONG_LONG, 0, 0, NV + 1,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_flush(0, w));
            check_equal(buf, "writer", i, &torn);
            /* Two separate puts, one value at a time and the rest, with a
             * flush in between: the intermediate state is really in the
             * target memory for a while. */
            const long long nv = buf[0] + 1;
            for (int j = 0; j < NV; j++)
                buf[j] = nv;
            buf[NV] += (i == KW - 1);
            MPI_CHECK(MPI_Put(buf, 1, MPI_LONG_LONG, 0, 0, 1, MPI_LONG_LONG,
                              w));
            MPI_CHECK(MPI_Win_flush(0, w));
            MPI_CHECK(MPI_Put(buf + 1, NV, MPI_LONG_LONG, 0, 1, NV,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_unlock(0, w));
            updates++;
            /* outside the lock: give the readers a chance, and read too */
            sleep_us(300);
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
            MPI_CHECK(MPI_Get(buf, NV + 1, MPI_LONG_LONG, 0, 0, NV + 1,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_unlock(0, w));
            check_equal(buf, "writer (shared lock)", i, &torn);
            CHECKF(buf[0] >= nv, "writer: read %lld after writing %lld",
                   buf[0], nv);
        }
    } else {
        for (;;) {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
            MPI_CHECK(MPI_Get(buf, NV + 1, MPI_LONG_LONG, 0, 0, NV + 1,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_unlock(0, w));
            reads++;
            check_equal(buf, "reader", reads, &torn);
            if (buf[0] < last)
                backwards++;
            last = buf[0];
            if (buf[0] > 0 && buf[0] < total)
                intermediate++;
            if (buf[NV] == nwriters)
                break;
            if (MPI_Wtime() - t0 > RW_LIMIT) {
                timed_out = 1;
                break;
            }
        }
    }
    const double dt = MPI_Wtime() - t0;
    if (timed_out)
        fprintf(stderr, "locks: b. rank %d (%s) hit the time limit after "
                "%.3f s: %ld updates, %ld reads\n", rank,
                writer ? "writer" : "reader", dt, updates, reads);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    long long fin[NV + 1];
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
    MPI_CHECK(MPI_Get(fin, NV + 1, MPI_LONG_LONG, 0, 0, NV + 1, MPI_LONG_LONG,
                      w));
    MPI_CHECK(MPI_Win_unlock(0, w));

    long st[6] = {reads, torn, intermediate, backwards, timed_out, updates};
    long sum[6];
    MPI_CHECK(MPI_Allreduce(st, sum, 6, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
    if (rank == 0)
        printf("locks: b. %d writers x %d updates, %d readers: %ld reads "
               "(%ld of an intermediate state), %ld torn, %.3f s on rank 0\n",
               nwriters, KW, nreaders, sum[0], sum[2], sum[1], dt);
    CHECKF(sum[1] == 0, "%ld reads saw values that differ (see above)",
           sum[1]);
    CHECKF(sum[3] == 0, "%ld reads went backwards", sum[3]);
    CHECKF(sum[4] == 0, "%ld ranks hit the %.0f s time limit: a writer did "
           "not finish (starved by the shared locks?) or the readers never "
           "saw the writers done", sum[4], RW_LIMIT);
    CHECKF(sum[5] == total, "writers did %ld updates, expected %lld", sum[5],
           total);
    check_equal(fin, "final", 0, &torn);
    CHECK(torn == 0);
    CHECKF(fin[0] == total && fin[NV] == nwriters,
           "after the run the values are %lld (expected %lld), done %lld "
           "(expected %d)", fin[0], total, fin[NV], nwriters);
    if (nreaders > 0)
        CHECKF(sum[2] > 0, "no reader ever saw an intermediate state (%ld "
               "reads): the shared/exclusive check proved nothing", sum[0]);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- c. MPI_MODE_NOCHECK ---------------------------------------------- */

#define NC_SLOT 256

static uint64_t nc_seed(int o, int t, int phase)
{
    return prma_seed((uint64_t)o, 3000 + (uint64_t)phase, (uint64_t)t);
}

static void test_nocheck(void)
{
    const size_t wsz = (size_t)nranks * NC_SLOT;
    unsigned char *mem;
    MPI_Win w = win_alloc(wsz, 1, MPI_INFO_NULL, &mem);
    unsigned char *ob = prma_xmalloc(wsz), *gb = prma_xmalloc(wsz + 64);

    local_store_begin(w);
    prma_fill_const(mem, wsz, PRMA_SENTINEL);
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 1. exclusive NOCHECK lock of the right neighbour: we are the only
     *    rank locking it until the barrier. */
    const size_t my = (size_t)rank * NC_SLOT;
    prma_fill(ob, NC_SLOT, nc_seed(rank, right, 1), my);
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, MPI_MODE_NOCHECK, w));
    MPI_CHECK(MPI_Put(ob, NC_SLOT, MPI_BYTE, right, (MPI_Aint)my, NC_SLOT,
                      MPI_BYTE, w));
    MPI_CHECK(MPI_Win_unlock(right, w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 2. shared NOCHECK locks (no exclusive lock anywhere meanwhile) */
    prma_fill_const(gb, wsz + 64, PRMA_SENTINEL2);
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, MPI_MODE_NOCHECK, w));
    MPI_CHECK(MPI_Get(gb, (int)wsz, MPI_BYTE, right, 0, (int)wsz, MPI_BYTE,
                      w));
    MPI_CHECK(MPI_Win_unlock(right, w));
    for (int o = 0; o < nranks; o++) {
        if (o == rank)
            VERIFY_PATTERN(gb + o * NC_SLOT, NC_SLOT, nc_seed(rank, right, 1),
                           (size_t)o * NC_SLOT,
                           "NOCHECK exclusive put to rank %d, read back", right);
        else
            VERIFY_CONST(gb + o * NC_SLOT, NC_SLOT, PRMA_SENTINEL,
                         "NOCHECK: slot %d of rank %d", o, right);
    }
    VERIFY_CONST(gb + wsz, 64, PRMA_SENTINEL2, "NOCHECK get: past the end");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 3. lock_all with NOCHECK: everybody puts into every target */
    unsigned char *ob2 = prma_xmalloc(wsz);
    MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, w));
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + i) % nranks;
        prma_fill(ob2 + (size_t)t * NC_SLOT, NC_SLOT, nc_seed(rank, t, 3), my);
        MPI_CHECK(MPI_Put(ob2 + (size_t)t * NC_SLOT, NC_SLOT, MPI_BYTE, t,
                          (MPI_Aint)my, NC_SLOT, MPI_BYTE, w));
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    local_load_begin(w);
    for (int o = 0; o < nranks; o++)
        VERIFY_PATTERN(mem + o * NC_SLOT, NC_SLOT, nc_seed(o, rank, 3),
                       (size_t)o * NC_SLOT,
                       "lock_all(NOCHECK) put from rank %d", o);
    local_load_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    free(ob);
    free(ob2);
    free(gb);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- d. lock_all and the flushes --------------------------------------- */

#define FL_SLOT 65536

static uint64_t fl_seed(int o, int t, int phase)
{
    return prma_seed((uint64_t)o, 4000 + (uint64_t)phase, (uint64_t)t);
}

static void fl_verify_local(const unsigned char *mem, MPI_Win w, int phase,
                            const char *what)
{
    local_load_begin(w);
    for (int o = 0; o < nranks; o++)
        VERIFY_PATTERN(mem + (size_t)o * FL_SLOT, FL_SLOT,
                       fl_seed(o, rank, phase), (size_t)o * FL_SLOT,
                       "%s: slot of origin %d", what, o);
    local_load_end(w);
}

static void test_flush(void)
{
    const size_t wsz = (size_t)nranks * FL_SLOT;
    unsigned char *mem;
    MPI_Win w = win_alloc(wsz, 1, MPI_INFO_NULL, &mem);
    unsigned char *ob = prma_xmalloc(wsz), *gb = prma_xmalloc(wsz);
    const size_t my = (size_t)rank * FL_SLOT;

    local_store_begin(w);
    prma_fill_const(mem, wsz, PRMA_SENTINEL);
    local_store_end(w);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 1. put, flush(t), get back, flush(t), compare -- target by target */
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + i) % nranks;
        prma_fill(ob, FL_SLOT, fl_seed(rank, t, 1), my);
        MPI_CHECK(MPI_Put(ob, FL_SLOT, MPI_BYTE, t, (MPI_Aint)my, FL_SLOT,
                          MPI_BYTE, w));
        MPI_CHECK(MPI_Win_flush(t, w));
        prma_fill_const(gb, FL_SLOT, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Get(gb, FL_SLOT, MPI_BYTE, t, (MPI_Aint)my, FL_SLOT,
                          MPI_BYTE, w));
        MPI_CHECK(MPI_Win_flush(t, w));
        VERIFY_PATTERN(gb, FL_SLOT, fl_seed(rank, t, 1), my,
                       "put + MPI_Win_flush(%d) + get", t);
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    fl_verify_local(mem, w, 1, "after put + flush per target");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 2. puts to all, flush_all, gets from all, flush_all */
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + i) % nranks;
        prma_fill(ob + (size_t)t * FL_SLOT, FL_SLOT, fl_seed(rank, t, 2), my);
        MPI_CHECK(MPI_Put(ob + (size_t)t * FL_SLOT, FL_SLOT, MPI_BYTE, t,
                          (MPI_Aint)my, FL_SLOT, MPI_BYTE, w));
    }
    MPI_CHECK(MPI_Win_flush_all(w));
    prma_fill_const(gb, wsz, PRMA_SENTINEL2);
    for (int t = 0; t < nranks; t++)
        MPI_CHECK(MPI_Get(gb + (size_t)t * FL_SLOT, FL_SLOT, MPI_BYTE, t,
                          (MPI_Aint)my, FL_SLOT, MPI_BYTE, w));
    MPI_CHECK(MPI_Win_flush_all(w));
    for (int t = 0; t < nranks; t++)
        VERIFY_PATTERN(gb + (size_t)t * FL_SLOT, FL_SLOT, fl_seed(rank, t, 2),
                       my, "puts + MPI_Win_flush_all + get from %d", t);
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    fl_verify_local(mem, w, 2, "after puts + flush_all");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 3. flush_local: the origin buffer may be reused at once */
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + i) % nranks;
        prma_fill(ob, FL_SLOT, fl_seed(rank, t, 3), my);
        MPI_CHECK(MPI_Put(ob, FL_SLOT, MPI_BYTE, t, (MPI_Aint)my, FL_SLOT,
                          MPI_BYTE, w));
        MPI_CHECK(MPI_Win_flush_local(t, w));
        /* overwrite: the put must carry the old contents */
        prma_fill(ob, FL_SLOT, fl_seed(rank, t, 99), my);
    }
    MPI_CHECK(MPI_Win_flush_all(w));
    prma_fill_const(gb, wsz, PRMA_SENTINEL2);
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + nranks - i) % nranks;
        unsigned char *g = gb + (size_t)t * FL_SLOT;
        MPI_CHECK(MPI_Get(g, FL_SLOT, MPI_BYTE, t, (MPI_Aint)my, FL_SLOT,
                          MPI_BYTE, w));
        /* a get is complete at the origin after flush_local: the data is
         * in the buffer */
        MPI_CHECK(MPI_Win_flush_local(t, w));
        VERIFY_PATTERN(g, FL_SLOT, fl_seed(rank, t, 3), my,
                       "put + flush_local(%d) + overwrite of the origin "
                       "buffer + flush_all, then get + flush_local", t);
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    fl_verify_local(mem, w, 3, "after put + flush_local + overwrite");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 4. flush_local_all */
    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int i = 0; i < nranks; i++) {
        const int t = (rank + i) % nranks;
        prma_fill(ob + (size_t)t * FL_SLOT, FL_SLOT, fl_seed(rank, t, 4), my);
        MPI_CHECK(MPI_Put(ob + (size_t)t * FL_SLOT, FL_SLOT, MPI_BYTE, t,
                          (MPI_Aint)my, FL_SLOT, MPI_BYTE, w));
    }
    MPI_CHECK(MPI_Win_flush_local_all(w));
    for (int t = 0; t < nranks; t++)
        prma_fill(ob + (size_t)t * FL_SLOT, FL_SLOT, fl_seed(rank, t, 98), my);
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    fl_verify_local(mem, w, 4, "after puts + flush_local_all + overwrite");
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    MPI_CHECK(MPI_Win_lock_all(0, w));
    prma_fill_const(gb, wsz, PRMA_SENTINEL2);
    for (int t = 0; t < nranks; t++)
        MPI_CHECK(MPI_Get(gb + (size_t)t * FL_SLOT, FL_SLOT, MPI_BYTE, t,
                          (MPI_Aint)my, FL_SLOT, MPI_BYTE, w));
    MPI_CHECK(MPI_Win_flush_local_all(w));
    for (int t = 0; t < nranks; t++)
        VERIFY_PATTERN(gb + (size_t)t * FL_SLOT, FL_SLOT, fl_seed(rank, t, 4),
                       my, "gets + MPI_Win_flush_local_all from %d", t);
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    free(ob);
    free(gb);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- e. MPI_Win_sync ------------------------------------------------- */

#define SY_ROUNDS 20

static long long sy_val(int owner, int r, int kind)
{
    return ((long long)kind << 48) + ((long long)owner << 32) + 1000 + r;
}

static void test_win_sync(void)
{
    /* [0]: stored by the owner, [1 + o]: put by origin o */
    long long *mem;
    MPI_Win w = win_alloc((size_t)(nranks + 1) * sizeof(long long),
                          sizeof(long long), MPI_INFO_NULL, &mem);
    volatile long long *vmem = mem;

    int *model = NULL, flag = 0;
    MPI_CHECK(MPI_Win_get_attr(w, MPI_WIN_MODEL, &model, &flag));
    CHECK(flag && model);
    if (rank == 0)
        printf("locks: e. window memory model: %s\n",
               *model == MPI_WIN_UNIFIED    ? "MPI_WIN_UNIFIED"
               : *model == MPI_WIN_SEPARATE ? "MPI_WIN_SEPARATE"
                                            : "(unknown)");

    MPI_CHECK(MPI_Win_lock_all(0, w));
    for (int j = 0; j <= nranks; j++)
        vmem[j] = -1;
    MPI_CHECK(MPI_Win_sync(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    for (int r = 0; r < SY_ROUNDS; r++) {
        /* owner stores, MPI_Win_sync, barrier; the left neighbour gets */
        vmem[0] = sy_val(rank, r, 1);
        MPI_CHECK(MPI_Win_sync(w));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        long long v = -2;
        MPI_CHECK(MPI_Get(&v, 1, MPI_LONG_LONG, right, 0, 1, MPI_LONG_LONG,
                          w));
        MPI_CHECK(MPI_Win_flush(right, w));
        CHECKF(v == sy_val(right, r, 1), "round %d: get of rank %d's stored "
               "value (MPI_Win_sync + barrier) returned %lld, expected %lld",
               r, right, v, sy_val(right, r, 1));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

        /* origin puts + flush, barrier; the owner MPI_Win_sync and loads */
        long long pv = sy_val(rank, r, 2);
        MPI_CHECK(MPI_Put(&pv, 1, MPI_LONG_LONG, right, 1 + rank, 1,
                          MPI_LONG_LONG, w));
        MPI_CHECK(MPI_Win_flush(right, w));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_sync(w));
        const long long lv = vmem[1 + left];
        CHECKF(lv == sy_val(left, r, 2), "round %d: local load of the value "
               "put by rank %d (flush + barrier + MPI_Win_sync) is %lld, "
               "expected %lld", r, left, lv, sy_val(left, r, 2));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    }
    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- f. info no_locks ------------------------------------------------- */

#define NL_SIZE 4096

static void test_no_locks(void)
{
    MPI_Info info;
    MPI_CHECK(MPI_Info_create(&info));
    MPI_CHECK(MPI_Info_set(info, "no_locks", "true"));
    unsigned char *mem;
    MPI_Win w = win_alloc(NL_SIZE, 1, info, &mem);
    MPI_CHECK(MPI_Info_free(&info));
    unsigned char *ob = prma_xmalloc(NL_SIZE), *gb = prma_xmalloc(NL_SIZE);

    MPI_Info got;
    MPI_CHECK(MPI_Win_get_info(w, &got));
    char val[MPI_MAX_INFO_VAL + 1] = "";
    int flag = 0;
    MPI_CHECK(MPI_Info_get(got, "no_locks", MPI_MAX_INFO_VAL, val, &flag));
    MPI_CHECK(MPI_Info_free(&got));
    if (rank == 0)
        printf("locks: f. MPI_Win_get_info no_locks: %s\n",
               flag ? val : "(not set)");

    for (int r = 0; r < 4; r++) {
        prma_fill_const(mem, NL_SIZE, PRMA_SENTINEL);
        prma_fill(ob, NL_SIZE / 2, prma_seed((uint64_t)rank, 5000, (uint64_t)r),
                  NL_SIZE / 4);
        MPI_CHECK(MPI_Win_fence(0, w));
        MPI_CHECK(MPI_Put(ob, NL_SIZE / 2, MPI_BYTE, right, NL_SIZE / 4,
                          NL_SIZE / 2, MPI_BYTE, w));
        MPI_CHECK(MPI_Win_fence(0, w));
        VERIFY_CONST(mem, NL_SIZE / 4, PRMA_SENTINEL, "no_locks window: head");
        VERIFY_PATTERN(mem + NL_SIZE / 4, NL_SIZE / 2,
                       prma_seed((uint64_t)left, 5000, (uint64_t)r),
                       NL_SIZE / 4, "no_locks window: fence put from rank %d",
                       left);
        VERIFY_CONST(mem + 3 * NL_SIZE / 4, NL_SIZE / 4, PRMA_SENTINEL,
                     "no_locks window: tail");
        prma_fill_const(gb, NL_SIZE, PRMA_SENTINEL2);
        MPI_CHECK(MPI_Get(gb, NL_SIZE, MPI_BYTE, left, 0, NL_SIZE, MPI_BYTE,
                          w));
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, w));
        VERIFY_PATTERN(gb + NL_SIZE / 4, NL_SIZE / 2,
                       prma_seed((uint64_t)((left - 1 + nranks) % nranks), 5000,
                                 (uint64_t)r),
                       NL_SIZE / 4, "no_locks window: fence get from rank %d",
                       left);
        VERIFY_CONST(gb, NL_SIZE / 4, PRMA_SENTINEL,
                     "no_locks window: fence get, head");
    }
    free(ob);
    free(gb);
    MPI_CHECK(MPI_Win_free(&w));
}

/* ---- g. atomics ---------------------------------------------------------- */

enum {
    OFF_FAO_INT = 0,   /* int */
    OFF_FAO_LL = 8,    /* long long */
    OFF_SWAP = 16,     /* long long */
    OFF_CAS_INT = 24,  /* int */
    OFF_CAS_LONG = 32, /* long */
    OFF_SPIN = 40,     /* int: 0 free, else owner + 1 */
    OFF_COUNTER = 48,  /* long long, non-atomic */
    AT_SIZE = 64
};

#define LL_BASE (1LL << 40)
#define LL_INC (1LL << 33)
#define KS 100 /* spin lock iterations per rank */

/* Gather n long longs from every rank to rank 0 (returns the array on rank
 * 0, NULL elsewhere). */
static long long *gather_ll(const long long *v, int n)
{
    long long *all = NULL;
    if (rank == 0)
        all = prma_xmalloc(sizeof(long long) * (size_t)n * (size_t)nranks);
    MPI_CHECK(MPI_Gather(v, n, MPI_LONG_LONG, all, n, MPI_LONG_LONG, 0,
                         MPI_COMM_WORLD));
    return all;
}

/* On rank 0: `all` (count values, sorted here) must be exactly
 * base + i * inc for i in 0..count-1. */
static void check_permutation(long long *all, long count, long long base,
                              long long inc, const char *what)
{
    qsort(all, (size_t)count, sizeof *all, cmp_ll);
    for (long i = 0; i < count; i++)
        CHECKF(all[i] == base + i * inc,
               "%s: sorted fetched value %ld is %lld, expected %lld (a value "
               "was lost or fetched twice: not atomic)", what, i, all[i],
               base + i * inc);
}

static void test_atomics(void)
{
    unsigned char *mem;
    MPI_Win w = win_alloc(AT_SIZE, 1, MPI_INFO_NULL, &mem);
    CHECK(sizeof(long) == 8 || sizeof(long) == 4);
    const long LBASE = sizeof(long) == 8 ? (long)(1LL << 40) : 1000000L;

    if (rank == 0) {
        local_store_begin(w);
        memset(mem, 0, AT_SIZE);
        *(int *)(mem + OFF_FAO_INT) = 0;
        *(long long *)(mem + OFF_FAO_LL) = LL_BASE;
        *(long long *)(mem + OFF_SWAP) = -1;
        *(int *)(mem + OFF_CAS_INT) = 0;
        *(long *)(mem + OFF_CAS_LONG) = LBASE;
        *(int *)(mem + OFF_SPIN) = 0;
        *(long long *)(mem + OFF_COUNTER) = 0;
        local_store_end(w);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    long long *mine = prma_xmalloc(sizeof(long long) * K);
    long long *all;
    const long total = (long)nranks * K;

    MPI_CHECK(MPI_Win_lock_all(0, w));

    /* 1. fetch-and-add on MPI_INT, with MPI_NO_OP reads in between */
    int prev = -1;
    long jumps = 0;
    for (int i = 0; i < K; i++) {
        int one = 1, f = -1, peek = -1;
        /* Let the other ranks run: interleave. Rank 0, the target, updates
         * on the spot; over a transport that needs its progress (ucx-sm,
         * ucx-tcp) it would be done before a remote rank's first update came
         * back when the machine is loaded (as for the tickets below). */
        if (i % 4 == 0)
            sleep_us(rank == 0 && nranks > 1 ? 500 : 10);
        MPI_CHECK(MPI_Fetch_and_op(NULL, &peek, MPI_INT, 0, OFF_FAO_INT,
                                   MPI_NO_OP, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(peek > prev, "MPI_NO_OP read %d after fetching %d", peek, prev);
        MPI_CHECK(MPI_Fetch_and_op(&one, &f, MPI_INT, 0, OFF_FAO_INT, MPI_SUM,
                                   w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(f >= peek, "MPI_SUM fetched %d after MPI_NO_OP read %d", f,
               peek);
        jumps += i > 0 && f > prev + 1;
        prev = f;
        mine[i] = f;
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    require_interleaving(jumps, "g. MPI_Fetch_and_op MPI_SUM MPI_INT");
    all = gather_ll(mine, K);
    if (rank == 0) {
        check_permutation(all, total, 0, 1, "MPI_Fetch_and_op MPI_SUM MPI_INT");
        free(all);
    }
    {
        int fin = -1;
        MPI_CHECK(MPI_Fetch_and_op(NULL, &fin, MPI_INT, 0, OFF_FAO_INT,
                                   MPI_NO_OP, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(fin == (int)total, "MPI_INT counter ends at %d, expected %ld",
               fin, total);
    }

    /* 2. fetch-and-add on MPI_LONG_LONG, increments of 2^33 from 2^40 */
    for (int i = 0; i < K; i++) {
        long long inc = LL_INC, f = -1;
        if (i % 4 == 0)
            sleep_us(10);
        MPI_CHECK(MPI_Fetch_and_op(&inc, &f, MPI_LONG_LONG, 0, OFF_FAO_LL,
                                   MPI_SUM, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        mine[i] = f;
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    all = gather_ll(mine, K);
    if (rank == 0) {
        check_permutation(all, total, LL_BASE, LL_INC,
                          "MPI_Fetch_and_op MPI_SUM MPI_LONG_LONG");
        free(all);
    }
    {
        long long fin = -1;
        MPI_CHECK(MPI_Fetch_and_op(NULL, &fin, MPI_LONG_LONG, 0, OFF_FAO_LL,
                                   MPI_NO_OP, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(fin == LL_BASE + total * LL_INC,
               "MPI_LONG_LONG counter ends at %lld, expected %lld", fin,
               LL_BASE + total * LL_INC);
    }

    /* 3. MPI_REPLACE: a chain of swaps; every token comes out exactly once
     *    (or is the final value) and the initial -1 comes out once. */
    for (int i = 0; i < K; i++) {
        long long tok = LL_BASE + (long long)rank * K + i, old = -2;
        if (i % 4 == 0)
            sleep_us(10);
        MPI_CHECK(MPI_Fetch_and_op(&tok, &old, MPI_LONG_LONG, 0, OFF_SWAP,
                                   MPI_REPLACE, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        mine[i] = old;
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    long long fin_swap = -3;
    MPI_CHECK(MPI_Fetch_and_op(NULL, &fin_swap, MPI_LONG_LONG, 0, OFF_SWAP,
                               MPI_NO_OP, w));
    MPI_CHECK(MPI_Win_flush(0, w));
    all = gather_ll(mine, K);
    if (rank == 0) {
        /* olds + final == {-1} + tokens */
        long long *v = prma_xmalloc(sizeof(long long) * (size_t)(total + 1));
        memcpy(v, all, sizeof(long long) * (size_t)total);
        v[total] = fin_swap;
        qsort(v, (size_t)total + 1, sizeof *v, cmp_ll);
        CHECKF(v[0] == -1, "MPI_REPLACE chain: the initial value -1 came out "
               "0 times (smallest value %lld)", v[0]);
        for (long i = 1; i <= total; i++)
            CHECKF(v[i] == LL_BASE + i - 1,
                   "MPI_REPLACE chain: sorted value %ld is %lld, expected "
                   "%lld (a swap was lost or duplicated)", i, v[i],
                   LL_BASE + i - 1);
        free(v);
        free(all);
    }

    /* 4. CAS tickets on MPI_INT */
    {
        int guess = 0;
        long attempts = 0;
        jumps = 0;
        for (int i = 0; i < K; i++) {
            /* Rank 0 takes its tickets on the spot (it is the target); over
             * a slow transport (tcp, with the exposure guard on) it would be
             * done before a remote rank's first ticket came back. */
            if (i % 4 == 0)
                sleep_us(rank == 0 && nranks > 1 ? 500 : 10);
            for (;;) {
                int nv = guess + 1, res = -1;
                MPI_CHECK(MPI_Compare_and_swap(&nv, &guess, &res, MPI_INT, 0,
                                               OFF_CAS_INT, w));
                MPI_CHECK(MPI_Win_flush(0, w));
                attempts++;
                if (res == guess) {
                    jumps += i > 0 && guess > mine[i - 1] + 1;
                    mine[i] = guess;
                    guess = nv;
                    break;
                }
                CHECKF(res > guess && res <= (int)total,
                       "CAS MPI_INT returned %d when %d was expected or a "
                       "larger value (the counter only grows)", res, guess);
                guess = res;
                if (attempts % 8 == 0)
                    sched_yield();
            }
        }
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        require_interleaving(jumps, "g. MPI_Compare_and_swap MPI_INT tickets");
        all = gather_ll(mine, K);
        if (rank == 0) {
            check_permutation(all, total, 0, 1,
                              "MPI_Compare_and_swap MPI_INT tickets");
            free(all);
        }
    }

    /* 5. CAS tickets on MPI_LONG, from a base above 2^32 */
    {
        long guess = LBASE;
        for (int i = 0; i < K; i++) {
            long attempts = 0;
            if (i % 4 == 0)
                sleep_us(10);
            for (;;) {
                long nv = guess + 1, res = -1;
                MPI_CHECK(MPI_Compare_and_swap(&nv, &guess, &res, MPI_LONG, 0,
                                               OFF_CAS_LONG, w));
                MPI_CHECK(MPI_Win_flush(0, w));
                if (res == guess) {
                    mine[i] = guess;
                    guess = nv;
                    break;
                }
                guess = res;
                if (++attempts % 8 == 0)
                    sched_yield();
            }
        }
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        all = gather_ll(mine, K);
        if (rank == 0) {
            check_permutation(all, total, LBASE, 1,
                              "MPI_Compare_and_swap MPI_LONG tickets");
            free(all);
        }
    }

    /* 6. CAS spin lock protecting a counter updated by get / put */
    {
        const double t0 = MPI_Wtime();
        long spins = 0, cjumps = 0;
        long long clast = -1;
        for (int i = 0; i < KS; i++) {
            int zero = 0, me = rank + 1, res = -1;
            for (;;) {
                MPI_CHECK(MPI_Compare_and_swap(&me, &zero, &res, MPI_INT, 0,
                                               OFF_SPIN, w));
                MPI_CHECK(MPI_Win_flush(0, w));
                if (res == 0)
                    break;
                CHECKF(res >= 1 && res <= nranks && res != me,
                       "spin lock word holds %d (I am %d)", res, me);
                spins++;
                CHECKF(MPI_Wtime() - t0 < 20.0, "spin lock: no progress "
                       "in 20 s (%ld failed attempts)", spins);
                sched_yield();
            }
            /* critical section */
            int owner = -1;
            MPI_CHECK(MPI_Fetch_and_op(NULL, &owner, MPI_INT, 0, OFF_SPIN,
                                       MPI_NO_OP, w));
            long long c = -1;
            MPI_CHECK(MPI_Get(&c, 1, MPI_LONG_LONG, 0, OFF_COUNTER, 1,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_flush(0, w));
            CHECKF(owner == me, "inside the spin lock the lock word is %d, "
                   "I am %d", owner, me);
            cjumps += i > 0 && c > clast + 1;
            clast = c;
            c++;
            sleep_us(10); /* others spin meanwhile */
            MPI_CHECK(MPI_Put(&c, 1, MPI_LONG_LONG, 0, OFF_COUNTER, 1,
                              MPI_LONG_LONG, w));
            MPI_CHECK(MPI_Win_flush(0, w));
            /* release */
            int old = -1;
            MPI_CHECK(MPI_Fetch_and_op(&zero, &old, MPI_INT, 0, OFF_SPIN,
                                       MPI_REPLACE, w));
            MPI_CHECK(MPI_Win_flush(0, w));
            CHECKF(old == me, "releasing the spin lock: it held %d, I am %d",
                   old, me);
            sleep_us(10); /* the others' turn (the lock is not fair) */
        }
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        require_interleaving(cjumps, "g. CAS spin lock");
        long long c = -1;
        MPI_CHECK(MPI_Get(&c, 1, MPI_LONG_LONG, 0, OFF_COUNTER, 1,
                          MPI_LONG_LONG, w));
        MPI_CHECK(MPI_Win_flush(0, w));
        CHECKF(c == (long long)nranks * KS,
               "CAS spin lock: counter %lld after %d ranks x %d increments, "
               "expected %lld", c, nranks, KS, (long long)nranks * KS);
        long sp = 0;
        MPI_CHECK(MPI_Reduce(&spins, &sp, 1, MPI_LONG, MPI_SUM, 0,
                             MPI_COMM_WORLD));
        if (rank == 0)
            printf("locks: g. CAS spin lock: counter %lld ok, %ld failed "
                   "acquisition attempts, %.3f s\n", c, sp, MPI_Wtime() - t0);
    }

    MPI_CHECK(MPI_Win_unlock_all(w));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    free(mine);
    MPI_CHECK(MPI_Win_free(&w));
}

int main(int argc, char **argv)
{
    prma_watchdog_arm("locks", WATCHDOG_S);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    left = (rank - 1 + nranks) % nranks;
    right = (rank + 1) % nranks;

    const double t0 = MPI_Wtime();
    test_exclusive_counter();
    test_readers_writers();
    test_nocheck();
    test_flush();
    test_win_sync();
    test_no_locks();
    test_atomics();

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0)
        printf("locks: %d ranks: ok (%.2f s)\n", nranks, MPI_Wtime() - t0);
    MPI_Finalize();
    return 0;
}
