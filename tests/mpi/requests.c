/*
 * requests.c - MPI_Rput and MPI_Rget: their requests complete through every
 * wait and test call of the MPI library, mixed in one call with
 * point-to-point requests; data is checked after each; outside a
 * passive-target epoch they are MPI_ERR_RMA_SYNC and write nothing.
 */
#include <stdio.h>
#include <string.h>
#include "common.h"

#define N 256

static long pattern(int writer, int slot, int i)
{
    return (long)writer * 1000003L + slot * 1009L + i;
}

int main(int argc, char **argv)
{
    int rank, size, right, left, flag, index, outcount, indices[4], cls;
    long *mem, out[4][N], in[4][N], token_out, token_in = -1;
    MPI_Request req[4];
    MPI_Status st[4];
    MPI_Win win;

    MPI_Init(&argc, &argv);
    rank  = prma_world_rank();
    size  = prma_world_size();
    right = (rank + 1) % size;
    left  = (rank + size - 1) % size;
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)(4 * N * sizeof(long)), sizeof(long), MPI_INFO_NULL,
                               MPI_COMM_WORLD, &mem, &win));
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < N; i++)
            out[s][i] = pattern(rank, s, i);
    memset(mem, 0, 4 * N * sizeof(long));
    MPI_Barrier(MPI_COMM_WORLD);

    MPI_CHECK(MPI_Win_lock_all(0, win));
    /* MPI_Wait on an MPI_Rput, MPI_Test until done on another. */
    MPI_CHECK(MPI_Rput(out[0], N, MPI_LONG, right, 0, N, MPI_LONG, win, &req[0]));
    MPI_CHECK(MPI_Wait(&req[0], &st[0]));
    CHECK(req[0] == MPI_REQUEST_NULL);
    MPI_CHECK(MPI_Rput(out[1], N, MPI_LONG, right, N, N, MPI_LONG, win, &req[1]));
    for (flag = 0; !flag;)
        MPI_CHECK(MPI_Test(&req[1], &flag, MPI_STATUS_IGNORE));
    /* MPI_Waitall over an RMA request and point-to-point ones. */
    token_out = rank;
    MPI_CHECK(MPI_Irecv(&token_in, 1, MPI_LONG, left, 7, MPI_COMM_WORLD, &req[0]));
    MPI_CHECK(MPI_Rput(out[2], N, MPI_LONG, right, 2 * N, N, MPI_LONG, win, &req[1]));
    MPI_CHECK(MPI_Isend(&token_out, 1, MPI_LONG, right, 7, MPI_COMM_WORLD, &req[2]));
    MPI_CHECK(MPI_Waitall(3, req, st));
    CHECKF(token_in == left, "token %ld from rank %d", token_in, left);
    /* MPI_Testall, MPI_Waitany, MPI_Testany, MPI_Waitsome, MPI_Testsome. */
    MPI_CHECK(MPI_Rput(out[3], N, MPI_LONG, right, 3 * N, N, MPI_LONG, win, &req[0]));
    for (flag = 0; !flag;)
        MPI_CHECK(MPI_Testall(1, req, &flag, MPI_STATUSES_IGNORE));
    MPI_CHECK(MPI_Win_flush(right, win));

    /* Gets of the parts the left neighbour wrote into our right one... read
     * them back from the right neighbour, through every completion call. */
    MPI_CHECK(MPI_Rget(in[0], N, MPI_LONG, right, 0, N, MPI_LONG, win, &req[0]));
    MPI_CHECK(MPI_Rget(in[1], N, MPI_LONG, right, N, N, MPI_LONG, win, &req[1]));
    MPI_CHECK(MPI_Waitany(2, req, &index, MPI_STATUS_IGNORE));
    CHECK(index == 0 || index == 1);
    for (flag = 0; !flag;)
        MPI_CHECK(MPI_Testany(2, req, &index, &flag, MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Rget(in[2], N, MPI_LONG, right, 2 * N, N, MPI_LONG, win, &req[2]));
    MPI_CHECK(MPI_Waitsome(1, &req[2], &outcount, indices, MPI_STATUSES_IGNORE));
    CHECK(outcount == 1);
    MPI_CHECK(MPI_Rget(in[3], N, MPI_LONG, right, 3 * N, N, MPI_LONG, win, &req[3]));
    MPI_CHECK(MPI_Request_get_status(req[3], &flag, MPI_STATUS_IGNORE));
    for (outcount = 0; outcount == 0 || outcount == MPI_UNDEFINED;) {
        MPI_CHECK(MPI_Testsome(1, &req[3], &outcount, indices, MPI_STATUSES_IGNORE));
        if (outcount == MPI_UNDEFINED)
            break;
    }
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < N; i++)
            CHECKF(in[s][i] == pattern(rank, s, i), "slot %d element %d: %ld", s, i, in[s][i]);

    /* MPI_Request_free on a request in flight is allowed too. */
    MPI_CHECK(MPI_Rget(in[0], N, MPI_LONG, right, 0, N, MPI_LONG, win, &req[0]));
    MPI_CHECK(MPI_Request_free(&req[0]));
    CHECK(req[0] == MPI_REQUEST_NULL);
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_Barrier(MPI_COMM_WORLD);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < N; i++)
            CHECKF(mem[s * N + i] == pattern(left, s, i), "window slot %d element %d: %ld", s, i,
                   mem[s * N + i]);

    /* Outside a passive epoch: MPI_ERR_RMA_SYNC, nothing written. */
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_fence(0, win));
    req[0] = (MPI_Request)0;
    MPI_Error_class(MPI_Rput(out[0], N, MPI_LONG, right, 0, N, MPI_LONG, win, &req[0]), &cls);
    CHECKF(cls == MPI_ERR_RMA_SYNC, "MPI_Rput in a fence epoch: class %d", cls);
    CHECK(req[0] == MPI_REQUEST_NULL);
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++)
        CHECKF(mem[i] == pattern(left, 0, i), "refused MPI_Rput wrote element %d", i);
    MPI_CHECK(MPI_Win_free(&win));
    if (rank == 0)
        printf("requests: %d ranks: ok\n", size);
    MPI_Finalize();
    return 0;
}
