/*
 * ring.c - a fence-synchronized ring: every rank puts a block into its right
 * neighbour's window and gets one back from its left neighbour, on a window
 * from MPI_Win_allocate and on one from MPI_Alloc_mem + MPI_Win_create.
 * Plain MPI: it runs the same with or without portrma.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define N 1024

static int check(const long *buf, long expect_base, const char *what, int rank)
{
    for (int i = 0; i < N; i++) {
        if (buf[i] != expect_base + i) {
            fprintf(stderr, "rank %d: %s: element %d is %ld, expected %ld\n", rank, what, i,
                    buf[i], expect_base + i);
            return 1;
        }
    }
    return 0;
}

static int ring(MPI_Win win, long *mem, int rank, int size, const char *flavor)
{
    long out[N], in[N];
    int right = (rank + 1) % size, left = (rank + size - 1) % size, bad = 0;

    for (int i = 0; i < N; i++)
        out[i] = rank * 100000L + i;
    MPI_Win_fence(MPI_MODE_NOPRECEDE, win);
    MPI_Put(out, N, MPI_LONG, right, 0, N, MPI_LONG, win);
    MPI_Win_fence(0, win);
    bad |= check(mem, left * 100000L, flavor, rank);      /* what the left one put */
    MPI_Get(in, N, MPI_LONG, left, 0, N, MPI_LONG, win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    bad |= check(in, ((left + size - 1) % size) * 100000L, flavor, rank);
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Win win;
    long *mem;
    int rank, size, bad = 0, anybad;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    bad |= ring(win, mem, rank, size, "MPI_Win_allocate");
    MPI_Win_free(&win);

    MPI_Alloc_mem(N * sizeof(long), MPI_INFO_NULL, &mem);
    MPI_Win_create(mem, N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    bad |= ring(win, mem, rank, size, "MPI_Alloc_mem + MPI_Win_create");
    MPI_Win_free(&win);
    MPI_Free_mem(mem);

    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        printf("ring of %d ranks, %d longs per put and get: %s\n", size, N,
               anybad ? "WRONG" : "correct");
    MPI_Finalize();
    return anybad;
}
