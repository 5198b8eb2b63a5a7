/*
 * peer_death.c - a peer killed in the middle of an epoch makes the
 * survivors' calls return an error, not hang.
 *
 * Every rank first puts to every other one (so that every connection
 * exists), then the last rank kills itself with SIGKILL while the next
 * epoch is open. Each survivor keeps putting to it and fencing, with
 * MPI_ERRORS_RETURN on the window, until a call fails; it prints the error
 * class and how long it took, and leaves without MPI_Finalize (the job has
 * lost a member). Run by peer-death-check.sh with mpirun --enable-recovery,
 * so that the launcher does not kill the survivors first.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "common.h"

#define N 4096
#define BOUND_S 30.0

int main(int argc, char **argv)
{
    long src[N], *mem;
    int rank, size, victim, rc = MPI_SUCCESS, cls = MPI_SUCCESS, len;
    char text[MPI_MAX_ERROR_STRING];
    double start;
    MPI_Win win;

    MPI_Init(&argc, &argv);
    rank = prma_world_rank();
    size = prma_world_size();
    if (size < 2) {
        MPI_Finalize();
        return 77;
    }
    victim = size - 1;
    for (int i = 0; i < N; i++)
        src[i] = rank * 1000L + i;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)(size * N * sizeof(long)), sizeof(long), MPI_INFO_NULL,
                               MPI_COMM_WORLD, &mem, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int t = 0; t < size; t++)
        MPI_CHECK(MPI_Put(src, N, MPI_LONG, t, rank * N, N, MPI_LONG, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    printf("peer_death: rank %d: connected\n", rank);
    fflush(stdout);
    if (rank == victim)
        raise(SIGKILL);

    /* The epoch is open: the victim dies in it. */
    usleep(200 * 1000);
    start = MPI_Wtime();
    while (MPI_Wtime() - start < BOUND_S) {
        rc = MPI_Put(src, N, MPI_LONG, victim, rank * N, N, MPI_LONG, win);
        if (rc == MPI_SUCCESS)
            rc = MPI_Get(src, N, MPI_LONG, victim, rank * N, N, MPI_LONG, win);
        if (rc == MPI_SUCCESS)
            rc = MPI_Win_fence(0, win);
        if (rc != MPI_SUCCESS)
            break;
    }
    if (rc == MPI_SUCCESS) {
        printf("peer_death: rank %d: FAIL: no error within %.0f s of the peer's death\n", rank,
               BOUND_S);
        fflush(stdout);
        _exit(1);
    }
    MPI_Error_class(rc, &cls);
    MPI_Error_string(cls, text, &len);
    printf("peer_death: rank %d: error after %.2f s: class %d: %s\n", rank, MPI_Wtime() - start,
           cls, text);
    fflush(stdout);
    _exit(0);
}
