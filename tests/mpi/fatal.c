/*
 * fatal: with the default error handler (MPI_ERRORS_ARE_FATAL) an MPI_Put to
 * a displacement outside the target window, inside a fence epoch, must abort
 * the whole job at the MPI_Put call.
 *
 * Run by fatal-check (on 2 ranks), not by run-mpi: it expects a non-zero
 * exit, the "before" marker in the output and neither "after" marker.
 * Every rank does the bad put, so no rank may print the "after" marker.
 */
#include "common.h"

#define WSIZE 64

int main(int argc, char **argv)
{
    int rank, nranks;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    void *base = NULL;
    MPI_Win win;
    /* MPI_CHECK is harmless here: with MPI_ERRORS_ARE_FATAL a failing call
     * aborts before returning anyway. */
    MPI_CHECK(MPI_Win_allocate(WSIZE, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base,
                               &win));

    MPI_Errhandler eh;
    MPI_CHECK(MPI_Win_get_errhandler(win, &eh));
    CHECKF(eh == MPI_ERRORS_ARE_FATAL,
           "the window's default error handler is not MPI_ERRORS_ARE_FATAL");
    MPI_CHECK(MPI_Errhandler_free(&eh));

    unsigned char buf[16];
    prma_fill(buf, sizeof buf, prma_seed((uint64_t)rank, 500, 0), 0);
    const int right = (rank + 1) % nranks;

    MPI_CHECK(MPI_Win_fence(0, win));
    printf("fatal: rank %d: before the bad put\n", rank);
    fflush(stdout);

    /* 16 bytes at displacement 1000 of a 64-byte window */
    MPI_Put(buf, (int)sizeof buf, MPI_BYTE, right, 1000, (int)sizeof buf,
            MPI_BYTE, win);

    printf("fatal: rank %d: REACHED-AFTER-BAD-PUT\n", rank);
    fflush(stdout);

    MPI_Win_fence(0, win);
    MPI_Win_free(&win);
    printf("fatal: rank %d: REACHED-AFTER-BAD-PUT (end of program)\n", rank);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
