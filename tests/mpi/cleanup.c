/*
 * cleanup MODE: big windows, then an ordinary or an abrupt end.  Run by
 * cleanup-check, which checks that nothing is left behind in /dev/shm or /tmp
 * and that no rank process survives.
 *
 * Every mode creates a 64 MiB MPI_Win_allocate window and a 64 MiB
 * MPI_Win_create window on MPI_Alloc_mem memory, then fence / put / fence
 * and checks the data.  Then:
 *   normal  fence, put, fence, free both windows, free the memory, finalize;
 *           rank 0 prints "cleanup: normal: done".
 *   abort   in an open epoch (after a put) rank 0 calls MPI_Abort with both
 *           windows open; the other ranks block in the next fence.
 *   kill    in an open epoch (after a put) the last rank does
 *           raise(SIGKILL); the other ranks block in the next fence, and
 *           mpirun has to bring the job down.
 * Every rank prints "cleanup: rank R: windows open" before the end phase.
 */
#include "common.h"

#include <signal.h>
#include <unistd.h>

#define WBYTES ((size_t)64 << 20)
#define XFER ((size_t)1 << 20)
#define DISP 4093

static int rank, nranks;

static uint64_t seed_of(int origin, int w, int round)
{
    return prma_seed((uint64_t)origin, 700 + (uint64_t)w, (uint64_t)round);
}

static void put_round(MPI_Win wins[2], unsigned char *mem[2],
                      unsigned char *obuf, int round, int check)
{
    const int right = (rank + 1) % nranks;
    const int left = (rank - 1 + nranks) % nranks;
    for (int w = 0; w < 2; w++) {
        prma_fill(obuf + (size_t)w * XFER, XFER, seed_of(rank, w, round), DISP);
        MPI_CHECK(MPI_Put(obuf + (size_t)w * XFER, (int)XFER, MPI_BYTE, right,
                          DISP, (int)XFER, MPI_BYTE, wins[w]));
    }
    if (!check)
        return;
    for (int w = 0; w < 2; w++)
        MPI_CHECK(MPI_Win_fence(0, wins[w]));
    for (int w = 0; w < 2; w++) {
        VERIFY_CONST(mem[w], DISP, PRMA_SENTINEL, "window %d head", w);
        VERIFY_PATTERN(mem[w] + DISP, XFER, seed_of(left, w, round), DISP,
                       "window %d, put from rank %d", w, left);
        VERIFY_CONST(mem[w] + DISP + XFER, WBYTES - DISP - XFER,
                     PRMA_SENTINEL, "window %d tail", w);
    }
    /* no put of the next round may reach us while we were reading */
    for (int w = 0; w < 2; w++)
        MPI_CHECK(MPI_Win_fence(0, wins[w]));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    const char *mode = argc > 1 ? argv[1] : "";
    const int normal = strcmp(mode, "normal") == 0;
    const int do_abort = strcmp(mode, "abort") == 0;
    const int do_kill = strcmp(mode, "kill") == 0;
    if (!normal && !do_abort && !do_kill) {
        if (rank == 0)
            fprintf(stderr, "usage: cleanup normal|abort|kill\n");
        MPI_Finalize();
        return 2;
    }

    MPI_Win wins[2];
    unsigned char *mem[2];
    void *base = NULL;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)WBYTES, 1, MPI_INFO_NULL,
                               MPI_COMM_WORLD, &base, &wins[0]));
    mem[0] = base;
    MPI_CHECK(MPI_Alloc_mem((MPI_Aint)WBYTES, MPI_INFO_NULL, &base));
    mem[1] = base;
    MPI_CHECK(MPI_Win_create(mem[1], (MPI_Aint)WBYTES, 1, MPI_INFO_NULL,
                             MPI_COMM_WORLD, &wins[1]));
    unsigned char *obuf = prma_xmalloc(2 * XFER);

    for (int w = 0; w < 2; w++)
        prma_fill_const(mem[w], WBYTES, PRMA_SENTINEL);
    for (int w = 0; w < 2; w++)
        MPI_CHECK(MPI_Win_fence(0, wins[w]));
    put_round(wins, mem, obuf, 0, 1); /* ends with both epochs open */

    printf("cleanup: rank %d: windows open\n", rank);
    fflush(stdout);

    if (normal) {
        put_round(wins, mem, obuf, 1, 1);
        for (int w = 0; w < 2; w++) {
            MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wins[w]));
            MPI_CHECK(MPI_Win_free(&wins[w]));
        }
        MPI_CHECK(MPI_Free_mem(mem[1]));
        free(obuf);
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            printf("cleanup: normal: done\n");
            fflush(stdout);
        }
        MPI_Finalize();
        return 0;
    }

    /* abort / kill: in the middle of an epoch, operations pending */
    put_round(wins, mem, obuf, 1, 0);
    if (do_abort && rank == 0) {
        MPI_Abort(MPI_COMM_WORLD, 3);
    } else if (do_kill && rank == nranks - 1) {
        raise(SIGKILL);
    }
    /* everybody else: blocks here until the job is brought down */
    for (int w = 0; w < 2; w++)
        MPI_Win_fence(0, wins[w]);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("cleanup: %s: rank %d: REACHED-THE-END\n", mode, rank);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
