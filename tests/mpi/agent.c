/*
 * agent: a window on memory the program allocated (MPI_Win_create on
 * malloc'd memory, left in place by the info key portrma_remap=off, which
 * same-node peers then reach by process_vm_readv/writev or by handing the
 * operation to the target while it polls) whose owner
 * waits in blocking calls while its origins put, get, accumulate, fetch
 * and op, compare and swap on it, each one checked exactly:
 *
 *  - phases in which rank 0 waits in MPI_Barrier, MPI_Recv, MPI_Waitall
 *    (lock epochs, shared and exclusive, with flushes), polls with
 *    MPI_Iprobe between stretches of computing (so that it stops polling
 *    while requests are on their way: origins withdraw them, or find them
 *    taken), in MPI_Win_fence
 *    and in MPI_Win_wait (the origins' puts and accumulates inside the
 *    epochs), and one in which every rank is the target of the previous
 *    one and the origin of the next under lock_all (two ranks hand each
 *    other requests at once);
 *  - every origin adds to the same counters (accumulate, fetch-and-op,
 *    compare-and-swap loops), so updates of one element by several origins
 *    meet; the fetch-and-op values over the whole run must be 0, 1, 2, ...
 *    each once;
 *  - an array updated both one element at a time (small: the target may
 *    apply it) and whole (512 bytes: by copies under the stripe locks), so
 *    the two paths meet on the same elements;
 *  - puts of 8, 200 and 300 bytes read back by gets in the same epoch after
 *    a flush, and checked by the owner at the end;
 *  - larger puts (257 bytes to 1 MiB, around the sizes where the agent cuts
 *    a transfer in pieces, at odd offsets), every origin at once, each read
 *    back with the bytes around it by a get after a flush in the same
 *    epoch, while rank 0 waits in MPI_Barrier, then while it polls in
 *    stretches (the agent stops in the middle of transfers); the owner
 *    checks its memory against a replay of every put;
 *  - a dynamic window (MPI_Win_create_dynamic, MPI_Win_attach) whose owner
 *    waits in MPI_Barrier: puts and gets of 8 bytes to 200 KB, accumulates
 *    and fetch-and-ops on a counter, then a put and a get to a region it
 *    detached: MPI_ERR_RMA_RANGE, and its bytes unchanged.
 *
 * The results do not depend on how the operations travel: the same run
 * with PORTRMA_AGENT=off must pass too (agent-off-check.sh).
 *
 * Needs 2 or more ranks: exits 77 with 1.
 */
#include "common.h"

#define WATCHDOG_S 90
#define ROUNDS     40
#define PHASES     7   /* barrier, recv, waitall, iprobe, fence, pscw, ring */
#define NPASSIVE   4
#define BIG        64  /* int64 elements of the array updated both ways */
#define GACC       4
#define MID        200 /* bytes: fits in a request */
#define LARGE      300 /* bytes: does not */

static int rank, nranks;

#define EXPECT_CLASS(rc, want, ...) prma_expect_class_at(__FILE__, __LINE__, (rc), (want), __VA_ARGS__)

/* Window layout (bytes). */
#define OFF_ACC   0                 /* accumulate SUM 1 */
#define OFF_FOP   8                 /* fetch-and-op SUM 1 */
#define OFF_CAS   16                /* compare-and-swap increments */
#define OFF_RING  24                /* ring phase: the predecessor's adds */
#define OFF_GACC  32                /* get_accumulate SUM {1, 2, 3, 4} */
#define OFF_BIG   (OFF_GACC + 8 * GACC)
#define OFF_SLOTS (OFF_BIG + 8 * BIG)
static size_t slot_off(int o, int ph, int r)
{
    return OFF_SLOTS + (((size_t)o * PHASES + (size_t)ph) * ROUNDS + (size_t)r) * 8;
}
static size_t mid_off(int o, int ph)
{
    return slot_off(nranks, 0, 0) + ((size_t)o * PHASES + (size_t)ph) * (MID + LARGE);
}
static size_t win_bytes(void) { return mid_off(nranks, 0); }

/* The windows' memory stays where malloc put it (info portrma_remap=off):
 * same-node origins then reach it by system calls or through the owner,
 * the ways this test is about. */
static MPI_Info stay_info(void)
{
    static MPI_Info info = MPI_INFO_NULL;

    if (info == MPI_INFO_NULL) {
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "portrma_remap", "off"));
    }
    return info;
}

static uint64_t slot_value(int o, int ph, int r) { return prma_seed((uint64_t)o, (uint64_t)ph, (uint64_t)r); }
static uint64_t mid_seed(int o, int ph, int r) { return prma_seed(1000 + (uint64_t)o, (uint64_t)ph, (uint64_t)r); }

/* The larger transfers: one slice of rank 0's memory per origin. */
#define SLICE      ((size_t)(1 << 20) + 8192)
#define NLARGE     12
static const size_t large_sizes[NLARGE] = { 257,   1000,  8191,   8192,   8193,   16384,
                                            16385, 40000, 65536, 65543, 131075, 1 << 20 };
static size_t large_off(int k) { return 64 + ((size_t)k * 97) % 4093; }
static uint64_t large_seed(int o, int mode, int k) { return prma_seed(2000 + (uint64_t)o, (uint64_t)mode, (uint64_t)k); }

/* What origin o's slice holds after its puts 0..upto-1 of mode (a replay). */
static void large_replay(unsigned char *shadow, int o, int mode, int upto)
{
    for (int m = 0; m <= mode; m++)
        for (int k = 0; k < (m < mode ? NLARGE : upto); k++)
            prma_fill(shadow + large_off(k), large_sizes[k], large_seed(o, m, k), 0);
}

static int64_t *fetched;  /* this origin's fetch-and-op results */
static int nfetched;

static void on_alarm(int sig)
{
    (void)sig;
    fprintf(stderr, "FAIL [rank %d] agent: watchdog: no progress in %d s\n", rank, WATCHDOG_S);
    _exit(1);
}

/* Puts of 8, MID and LARGE bytes to target. */
static void puts_to(MPI_Win win, int target, int ph, int r, uint64_t *v, unsigned char *mid)
{
    *v = slot_value(rank, ph, r);
    prma_fill(mid, MID + LARGE, mid_seed(rank, ph, r), 0);
    MPI_CHECK(MPI_Put(v, 8, MPI_BYTE, target, (MPI_Aint)slot_off(rank, ph, r), 8, MPI_BYTE, win));
    MPI_CHECK(MPI_Put(mid, MID, MPI_BYTE, target, (MPI_Aint)mid_off(rank, ph), MID, MPI_BYTE, win));
    MPI_CHECK(MPI_Put(mid + MID, LARGE, MPI_BYTE, target, (MPI_Aint)(mid_off(rank, ph) + MID),
                      LARGE, MPI_BYTE, win));
}

/* The accumulates every epoch kind allows: counters, the array one
 * element (and, every fourth round, whole), get_accumulate. */
static void accs_to(MPI_Win win, int target, int r, int64_t *gold)
{
    static const int64_t gadd[GACC] = { 1, 2, 3, 4 };
    int64_t one = 1, ones[BIG];

    for (int i = 0; i < BIG; i++)
        ones[i] = 1;
    MPI_CHECK(MPI_Accumulate(&one, 1, MPI_INT64_T, target, OFF_ACC, 1, MPI_INT64_T, MPI_SUM, win));
    MPI_CHECK(MPI_Fetch_and_op(&one, &fetched[nfetched++], MPI_INT64_T, target, OFF_FOP,
                               MPI_SUM, win));
    MPI_CHECK(MPI_Accumulate(&one, 1, MPI_INT64_T, target,
                             (MPI_Aint)(OFF_BIG + 8 * ((r + rank) % BIG)), 1, MPI_INT64_T,
                             MPI_SUM, win));
    if (r % 4 == 0)
        MPI_CHECK(MPI_Accumulate(ones, BIG, MPI_INT64_T, target, OFF_BIG, BIG, MPI_INT64_T,
                                 MPI_SUM, win));
    MPI_CHECK(MPI_Get_accumulate(gadd, GACC, MPI_INT64_T, gold, GACC, MPI_INT64_T, target,
                                 OFF_GACC, GACC, MPI_INT64_T, MPI_SUM, win));
}

static void check_gold(const int64_t *gold)
{
    /* Atomic per element: each old value is a whole number of adds. */
    for (int i = 0; i < GACC; i++)
        CHECKF(gold[i] >= 0 && gold[i] % (i + 1) == 0, "get_accumulate old[%d] = %lld", i,
               (long long)gold[i]);
}

/* Add 1 to target's word at off by compare-and-swap, as a lock-free
 * program would. */
static void cas_increment(MPI_Win win, int target, MPI_Aint off)
{
    int64_t cur, next, seen, zero = 0;

    MPI_CHECK(MPI_Fetch_and_op(&zero, &cur, MPI_INT64_T, target, off, MPI_NO_OP, win));
    MPI_CHECK(MPI_Win_flush(target, win));
    for (;;) {
        next = cur + 1;
        MPI_CHECK(MPI_Compare_and_swap(&next, &cur, &seen, MPI_INT64_T, target, off, win));
        MPI_CHECK(MPI_Win_flush(target, win));
        if (seen == cur)
            return;
        cur = seen;
    }
}

/* A passive round on rank 0: everything, each get checked. */
static void passive_round(MPI_Win win, int ph, int r)
{
    unsigned char mid[MID + LARGE], back[MID + LARGE];
    int64_t gold[GACC];
    uint64_t v, got = 0;

    MPI_CHECK(MPI_Win_lock(r % 2 ? MPI_LOCK_SHARED : MPI_LOCK_EXCLUSIVE, 0, 0, win));
    puts_to(win, 0, ph, r, &v, mid);
    accs_to(win, 0, r, gold);
    MPI_CHECK(MPI_Win_flush(0, win));
    check_gold(gold);
    MPI_CHECK(MPI_Get(&got, 8, MPI_BYTE, 0, (MPI_Aint)slot_off(rank, ph, r), 8, MPI_BYTE, win));
    MPI_CHECK(MPI_Get(back, MID + LARGE, MPI_BYTE, 0, (MPI_Aint)mid_off(rank, ph), MID + LARGE,
                      MPI_BYTE, win));
    MPI_CHECK(MPI_Win_flush(0, win));
    CHECKF(got == v, "phase %d round %d: read back %llx, put %llx", ph, r,
           (unsigned long long)got, (unsigned long long)v);
    CHECKF(memcmp(back, mid, sizeof(mid)) == 0, "phase %d round %d: bytes read back differ",
           ph, r);
    cas_increment(win, 0, OFF_CAS);
    MPI_CHECK(MPI_Win_unlock(0, win));
}

/* Rank 0 waits for a token from every origin: in MPI_Barrier (mode 0, the
 * origins' barrier is their token), or polling with MPI_Iprobe between
 * stretches of computing (mode 1). */
static void owner_waits(int mode, int tag)
{
    int left = nranks - 1, flag, token;
    unsigned seed = 777;
    MPI_Status st;

    if (mode == 0) {
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        return;
    }
    while (left > 0) {
        MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &st));
        if (flag) {
            MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, st.MPI_SOURCE, tag, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE));
            left--;
        }
        seed = seed * 1103515245u + 12345u;
        for (volatile unsigned k = 0, n = (seed >> 16) % 20000; k < n; k++)
            ;
    }
}

static void origin_done(int mode, int tag)
{
    int token = tag;

    if (mode == 0)
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    else
        MPI_CHECK(MPI_Send(&token, 1, MPI_INT, 0, tag, MPI_COMM_WORLD));
}

/* The larger transfers, on a window of their own over malloc'd memory. */
static void large_phase(void)
{
    size_t bytes = SLICE * (size_t)(nranks - 1);
    unsigned char *mem = rank == 0 ? malloc(bytes) : NULL;
    unsigned char *shadow = malloc(SLICE), *buf = malloc(SLICE), *back = malloc(SLICE);
    MPI_Win win;

    CHECK(shadow != NULL && buf != NULL && back != NULL && (rank != 0 || mem != NULL));
    if (rank == 0)
        memset(mem, 0, bytes);
    MPI_CHECK(MPI_Win_create(mem, rank == 0 ? (MPI_Aint)bytes : 0, 1, stay_info(),
                             MPI_COMM_WORLD, &win));
    for (int mode = 0; mode < 2; mode++) {
        if (rank == 0) {
            owner_waits(mode, 20);
        } else {
            MPI_Aint base = (MPI_Aint)(SLICE * (size_t)(rank - 1));

            memset(shadow, 0, SLICE);
            large_replay(shadow, rank, mode, 0);
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
            for (int k = 0; k < NLARGE; k++) {
                size_t off = large_off(k), len = large_sizes[k], lo = off - 64,
                       hi = off + len + 64;

                prma_fill(buf, len, large_seed(rank, mode, k), 0);
                memcpy(shadow + off, buf, len);
                MPI_CHECK(MPI_Put(buf, (int)len, MPI_BYTE, 0, base + (MPI_Aint)off, (int)len,
                                  MPI_BYTE, win));
                MPI_CHECK(MPI_Win_flush(0, win));
                memset(back, 0x5a, hi - lo);
                MPI_CHECK(MPI_Get(back, (int)(hi - lo), MPI_BYTE, 0, base + (MPI_Aint)lo,
                                  (int)(hi - lo), MPI_BYTE, win));
                MPI_CHECK(MPI_Win_flush(0, win));
                for (size_t i = 0; i < hi - lo; i++)
                    CHECKF(back[i] == shadow[lo + i],
                           "mode %d: %zu bytes put at %zu, read back: byte %zu differs", mode,
                           len, off, lo + i);
            }
            MPI_CHECK(MPI_Win_unlock(0, win));
            origin_done(mode, 20);
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
        MPI_CHECK(MPI_Win_sync(win));
        for (int o = 1; o < nranks; o++) {
            memset(shadow, 0, SLICE);
            large_replay(shadow, o, 1, NLARGE);
            for (size_t i = 0; i < SLICE; i++)
                CHECKF(mem[SLICE * (size_t)(o - 1) + i] == shadow[i],
                       "the larger puts of rank %d: byte %zu of its slice differs", o, i);
        }
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
    MPI_CHECK(MPI_Win_free(&win));
    free(mem);
    free(shadow);
    free(buf);
    free(back);
}

/* A dynamic window whose owner (rank 0) waits in MPI_Barrier. */
#define DSLICE  ((size_t)256 << 10)
#define NDYN    8
#define DROUNDS 20
static const size_t dyn_sizes[NDYN] = { 8, 256, 300, 8192, 8195, 70000, 200003, 1 };

static void dynamic_phase(void)
{
    size_t bytes = DSLICE * (size_t)(nranks - 1);
    unsigned char *a = NULL, *gone = NULL, *shadow = malloc(DSLICE), *buf = malloc(DSLICE),
                  *back = malloc(DSLICE);
    int64_t *counter = NULL;
    MPI_Aint addr[3] = { 0, 0, 0 };  /* the slices, the counter, the detached region */
    MPI_Win win;

    CHECK(shadow != NULL && buf != NULL && back != NULL);
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    if (rank == 0) {
        a       = calloc(1, bytes);
        gone    = malloc(4096);
        counter = calloc(1, sizeof(*counter));
        CHECK(a != NULL && gone != NULL && counter != NULL);
        memset(gone, PRMA_SENTINEL, 4096);
        MPI_CHECK(MPI_Win_attach(win, a, (MPI_Aint)bytes));
        MPI_CHECK(MPI_Win_attach(win, counter, sizeof(*counter)));
        MPI_CHECK(MPI_Win_attach(win, gone, 4096));
        MPI_CHECK(MPI_Get_address(a, &addr[0]));
        MPI_CHECK(MPI_Get_address(counter, &addr[1]));
        MPI_CHECK(MPI_Get_address(gone, &addr[2]));
    }
    MPI_CHECK(MPI_Bcast(addr, 3, MPI_AINT, 0, MPI_COMM_WORLD));
    if (rank != 0) {
        MPI_Aint base = addr[0] + (MPI_Aint)(DSLICE * (size_t)(rank - 1));
        int64_t one = 1, old;

        memset(shadow, 0, DSLICE);
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        for (int r = 0; r < DROUNDS; r++) {
            int k = r % NDYN;
            size_t off = 64 + ((size_t)r * 131) % 4001, len = dyn_sizes[k], lo = off - 64,
                   hi = off + len + 64;

            prma_fill(buf, len, prma_seed(3000 + (uint64_t)rank, (uint64_t)r, 0), 0);
            memcpy(shadow + off, buf, len);
            MPI_CHECK(MPI_Put(buf, (int)len, MPI_BYTE, 0, base + (MPI_Aint)off, (int)len,
                              MPI_BYTE, win));
            MPI_CHECK(MPI_Accumulate(&one, 1, MPI_INT64_T, 0, addr[1], 1, MPI_INT64_T, MPI_SUM,
                                     win));
            MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, addr[1], MPI_SUM, win));
            MPI_CHECK(MPI_Win_flush(0, win));
            CHECKF(old >= 0 && old < 2 * DROUNDS * (nranks - 1), "dynamic: fetched %lld",
                   (long long)old);
            MPI_CHECK(MPI_Get(back, (int)(hi - lo), MPI_BYTE, 0, base + (MPI_Aint)lo,
                              (int)(hi - lo), MPI_BYTE, win));
            MPI_CHECK(MPI_Win_flush(0, win));
            CHECKF(memcmp(back, shadow + lo, hi - lo) == 0,
                   "dynamic: %zu bytes put at %zu, read back differently", len, off);
        }
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    /* Rank 0 detaches a region; accesses to it are refused, even while rank
     * 0 waits (and would serve them). */
    if (rank == 0)
        MPI_CHECK(MPI_Win_detach(win, gone));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank != 0) {
        uint64_t v = 42, got;
        unsigned char big[1000];

        memset(big, 1, sizeof(big));
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        EXPECT_CLASS(MPI_Put(&v, 8, MPI_BYTE, 0, addr[2] + 8, 8, MPI_BYTE, win),
                     MPI_ERR_RMA_RANGE, "dynamic: a put into a detached region");
        EXPECT_CLASS(MPI_Put(big, (int)sizeof(big), MPI_BYTE, 0, addr[2] + 16, (int)sizeof(big),
                             MPI_BYTE, win),
                     MPI_ERR_RMA_RANGE, "dynamic: a larger put into a detached region");
        EXPECT_CLASS(MPI_Get(&got, 8, MPI_BYTE, 0, addr[2], 8, MPI_BYTE, win),
                     MPI_ERR_RMA_RANGE, "dynamic: a get from a detached region");
        MPI_CHECK(MPI_Win_unlock(0, win));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        VERIFY_CONST(gone, 4096, PRMA_SENTINEL, "dynamic: the detached region");
        CHECKF(*counter == 2 * DROUNDS * (int64_t)(nranks - 1), "dynamic: counter %lld",
               (long long)*counter);
        for (int o = 1; o < nranks; o++) {
            memset(shadow, 0, DSLICE);
            for (int r = 0; r < DROUNDS; r++) {
                size_t off = 64 + ((size_t)r * 131) % 4001;

                prma_fill(shadow + off, dyn_sizes[r % NDYN],
                          prma_seed(3000 + (uint64_t)o, (uint64_t)r, 0), 0);
            }
            CHECKF(memcmp(a + DSLICE * (size_t)(o - 1), shadow, DSLICE) == 0,
                   "dynamic: the slice of rank %d differs", o);
        }
        MPI_CHECK(MPI_Win_detach(win, a));
        MPI_CHECK(MPI_Win_detach(win, counter));
    }
    MPI_CHECK(MPI_Win_free(&win));
    free(a);
    free(gone);
    free(counter);
    free(shadow);
    free(buf);
    free(back);
}

int main(int argc, char **argv)
{
    unsigned char *mem;
    MPI_Win win;
    MPI_Group world_group, g0, gorigins;
    size_t bytes;
    int norig, total;
    int64_t *all = NULL;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks < 2) {
        MPI_Finalize();
        return 77;
    }
    signal(SIGALRM, on_alarm);
    alarm(WATCHDOG_S);
    norig = nranks - 1;
    bytes = win_bytes();
    mem = malloc(bytes);
    CHECK(mem != NULL);
    memset(mem, 0, bytes);
    fetched = calloc(PHASES * ROUNDS, sizeof(*fetched));
    CHECK(fetched != NULL);
    MPI_CHECK(MPI_Win_create(mem, (MPI_Aint)bytes, 1, stay_info(), MPI_COMM_WORLD, &win));
    MPI_Comm_group(MPI_COMM_WORLD, &world_group);
    {
        int zero = 0;
        MPI_Group_incl(world_group, 1, &zero, &g0);
        MPI_Group_excl(world_group, 1, &zero, &gorigins);
    }

    /* Phases 0-3: passive target; rank 0 waits in a blocking call, or
     * polls now and then. */
    for (int ph = 0; ph < NPASSIVE; ph++) {
        if (rank == 0) {
            if (ph == 3) {
                int left = norig, flag, token;
                unsigned seed = 12345;
                MPI_Status st;

                while (left > 0) {
                    MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, 9, MPI_COMM_WORLD, &flag, &st));
                    if (flag) {
                        MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, st.MPI_SOURCE, 9, MPI_COMM_WORLD,
                                           MPI_STATUS_IGNORE));
                        left--;
                    }
                    /* Compute for 0 to ~60 us: the lease lapses now and then. */
                    seed = seed * 1103515245u + 12345u;
                    for (volatile unsigned k = 0, n = (seed >> 16) % 20000; k < n; k++)
                        ;
                }
            } else if (ph == 0) {
                MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
            } else if (ph == 1) {
                for (int o = 1; o < nranks; o++) {
                    int token = -1;
                    MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, MPI_ANY_SOURCE, 7, MPI_COMM_WORLD,
                                       MPI_STATUS_IGNORE));
                    CHECK(token == 7);
                }
            } else {
                MPI_Request *reqs = malloc(sizeof(*reqs) * (size_t)norig);
                int *tokens = malloc(sizeof(int) * (size_t)norig);
                for (int o = 1; o < nranks; o++)
                    MPI_CHECK(MPI_Irecv(&tokens[o - 1], 1, MPI_INT, o, 8, MPI_COMM_WORLD,
                                        &reqs[o - 1]));
                MPI_CHECK(MPI_Waitall(norig, reqs, MPI_STATUSES_IGNORE));
                for (int o = 0; o < norig; o++)
                    CHECK(tokens[o] == 8);
                free(reqs);
                free(tokens);
            }
        } else {
            int token = ph == 1 ? 7 : ph == 2 ? 8 : 9;
            for (int r = 0; r < ROUNDS; r++)
                passive_round(win, ph, r);
            if (ph == 0)
                MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
            else
                MPI_CHECK(MPI_Send(&token, 1, MPI_INT, 0, token, MPI_COMM_WORLD));
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Phase 4: fence epochs; rank 0 waits in the closing fence. */
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char mid[MID + LARGE];
        int64_t gold[GACC];
        uint64_t v;

        MPI_CHECK(MPI_Win_fence(0, win));
        if (rank != 0) {
            puts_to(win, 0, 4, r, &v, mid);
            accs_to(win, 0, r, gold);
        }
        MPI_CHECK(MPI_Win_fence(0, win));
        if (rank != 0)
            check_gold(gold);
    }

    /* Phase 5: PSCW; rank 0 waits in MPI_Win_wait. */
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char mid[MID + LARGE];
        int64_t gold[GACC];
        uint64_t v;

        if (rank == 0) {
            MPI_CHECK(MPI_Win_post(gorigins, 0, win));
            MPI_CHECK(MPI_Win_wait(win));
        } else {
            MPI_CHECK(MPI_Win_start(g0, 0, win));
            puts_to(win, 0, 5, r, &v, mid);
            accs_to(win, 0, r, gold);
            MPI_CHECK(MPI_Win_complete(win));
            check_gold(gold);
        }
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Phase 6: a ring under lock_all; every rank hands requests to the
     * next while the previous hands it some. */
    {
        int next = (rank + 1) % nranks;
        int64_t one = 1, old;

        MPI_CHECK(MPI_Win_lock_all(0, win));
        for (int r = 0; r < ROUNDS; r++) {
            uint64_t v = slot_value(rank, 6, r), got = 0;

            MPI_CHECK(MPI_Put(&v, 8, MPI_BYTE, next, (MPI_Aint)slot_off(rank, 6, r), 8,
                              MPI_BYTE, win));
            MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, next, OFF_RING, MPI_SUM, win));
            MPI_CHECK(MPI_Win_flush(next, win));
            CHECKF(old == r, "ring round %d: fetched %lld", r, (long long)old);
            MPI_CHECK(MPI_Get(&got, 8, MPI_BYTE, next, (MPI_Aint)slot_off(rank, 6, r), 8,
                              MPI_BYTE, win));
            MPI_CHECK(MPI_Win_flush(next, win));
            CHECK(got == v);
        }
        MPI_CHECK(MPI_Win_unlock_all(win));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* The owners' memory: MPI_Win_sync makes it this process's view. */
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win));
    MPI_CHECK(MPI_Win_sync(win));
    {
        int prev = (rank + nranks - 1) % nranks;
        int64_t ring;

        memcpy(&ring, mem + OFF_RING, 8);
        CHECKF(ring == ROUNDS, "ring counter %lld", (long long)ring);
        for (int r = 0; r < ROUNDS; r++) {
            uint64_t v;
            memcpy(&v, mem + slot_off(prev, 6, r), 8);
            CHECKF(v == slot_value(prev, 6, r), "ring slot %d of rank %d", r, prev);
        }
    }
    if (rank == 0) {
        /* The passive phases and the fence and pscw ones. */
        int64_t per = (int64_t)norig * ROUNDS * (NPASSIVE + 2), w, big_whole = 0;

        for (int r = 0; r < ROUNDS; r++)
            big_whole += r % 4 == 0;
        memcpy(&w, mem + OFF_ACC, 8);
        CHECKF(w == per, "accumulate counter %lld, expected %lld", (long long)w, (long long)per);
        memcpy(&w, mem + OFF_FOP, 8);
        CHECKF(w == per, "fetch-and-op counter %lld, expected %lld", (long long)w,
               (long long)per);
        memcpy(&w, mem + OFF_CAS, 8);
        CHECKF(w == (int64_t)norig * ROUNDS * NPASSIVE,
               "compare-and-swap counter %lld, expected %lld", (long long)w,
               (long long)norig * ROUNDS * NPASSIVE);
        for (int i = 0; i < GACC; i++) {
            memcpy(&w, mem + OFF_GACC + 8 * i, 8);
            CHECKF(w == per * (i + 1), "get_accumulate element %d: %lld", i, (long long)w);
        }
        for (int i = 0; i < BIG; i++) {
            int64_t want = (int64_t)norig * (NPASSIVE + 2) * big_whole;

            for (int o = 1; o < nranks; o++)
                for (int r = 0; r < ROUNDS; r++)
                    want += (r + o) % BIG == i ? NPASSIVE + 2 : 0;
            memcpy(&w, mem + OFF_BIG + 8 * i, 8);
            CHECKF(w == want, "array element %d: %lld, expected %lld", i, (long long)w,
                   (long long)want);
        }
        for (int o = 1; o < nranks; o++) {
            for (int ph = 0; ph < NPASSIVE + 2; ph++) {
                for (int r = 0; r < ROUNDS; r++) {
                    uint64_t v;
                    memcpy(&v, mem + slot_off(o, ph, r), 8);
                    CHECKF(v == slot_value(o, ph, r), "slot of rank %d phase %d round %d", o,
                           ph, r);
                }
                CHECKF(prma_find_pattern_mismatch(mem + mid_off(o, ph), MID + LARGE,
                                   mid_seed(o, ph, ROUNDS - 1), 0) < 0,
                       "the %d bytes of rank %d phase %d", MID + LARGE, o, ph);
            }
        }
    }
    MPI_CHECK(MPI_Win_unlock(rank, win));

    /* Every fetch-and-op value, over all origins, once each. */
    total = (int)(nranks * PHASES * ROUNDS);
    if (rank == 0)
        all = calloc((size_t)total, sizeof(*all));
    MPI_CHECK(MPI_Gather(fetched, PHASES * ROUNDS, MPI_INT64_T, all, PHASES * ROUNDS,
                         MPI_INT64_T, 0, MPI_COMM_WORLD));
    if (rank == 0) {
        int64_t per = (int64_t)norig * ROUNDS * (NPASSIVE + 2);
        unsigned char *seen = calloc((size_t)per, 1);

        CHECK(seen != NULL);
        for (int o = 1; o < nranks; o++)
            for (int k = 0; k < (NPASSIVE + 2) * ROUNDS; k++) {
                int64_t x = all[o * PHASES * ROUNDS + k];
                CHECKF(x >= 0 && x < per && !seen[x], "fetch-and-op value %lld", (long long)x);
                seen[x] = 1;
            }
        free(seen);
        free(all);
    }

    large_phase();
    dynamic_phase();
    {
        int soft = prma_soft_total();

        CHECKF(soft == 0, "%d soft failures", soft);
    }

    MPI_Group_free(&g0);
    MPI_Group_free(&gorigins);
    MPI_Group_free(&world_group);
    MPI_CHECK(MPI_Win_free(&win));
    free(mem);
    free(fetched);
    alarm(0);
    MPI_Finalize();
    return 0;
}
