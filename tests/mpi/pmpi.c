/*
 * pmpi.c - a profiling tool stacked above portrma: this program wraps
 * MPI_Init, MPI_Win_allocate, MPI_Put, MPI_Get, MPI_Win_fence, MPI_Win_free
 * and MPI_Finalize itself, as a PMPI tool does, and each wrapper counts the
 * call and passes it on by its PMPI_ name. The program's own definitions
 * come before portrma's (preloaded or linked), so portrma sees only the
 * PMPI_ calls: it must serve them (a window of the MPI library's would not
 * exist with Open MPI's one-sided components excluded, and a window of
 * portrma's must never reach the library), and PMPI_Init must start it.
 * Checked: the data of a put and a get in fence epochs, and that every
 * wrapper ran.
 */
#include "common.h"

static int n_init, n_alloc, n_put, n_get, n_fence, n_free, n_finalize;

int MPI_Init(int *argc, char ***argv)
{
    n_init++;
    return PMPI_Init(argc, argv);
}

int MPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr,
                     MPI_Win *win)
{
    n_alloc++;
    return PMPI_Win_allocate(size, disp_unit, info, comm, baseptr, win);
}

int MPI_Put(const void *origin, int ocount, MPI_Datatype otype, int target, MPI_Aint disp,
            int tcount, MPI_Datatype ttype, MPI_Win win)
{
    n_put++;
    return PMPI_Put(origin, ocount, otype, target, disp, tcount, ttype, win);
}

int MPI_Get(void *origin, int ocount, MPI_Datatype otype, int target, MPI_Aint disp, int tcount,
            MPI_Datatype ttype, MPI_Win win)
{
    n_get++;
    return PMPI_Get(origin, ocount, otype, target, disp, tcount, ttype, win);
}

int MPI_Win_fence(int assert, MPI_Win win)
{
    n_fence++;
    return PMPI_Win_fence(assert, win);
}

int MPI_Win_free(MPI_Win *win)
{
    n_free++;
    return PMPI_Win_free(win);
}

int MPI_Finalize(void)
{
    n_finalize++;
    return PMPI_Finalize();
}

int main(int argc, char **argv)
{
    enum { N = 64 };
    int rank, size, right, left, *base, src[N], got[N];
    MPI_Win win;

    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    right = (rank + 1) % size;
    left  = (rank + size - 1) % size;
    MPI_CHECK(MPI_Win_allocate(2 * N * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
                               &base, &win));
    for (int i = 0; i < 2 * N; i++)
        base[i] = -1;
    for (int i = 0; i < N; i++) {
        src[i] = rank * 1000 + i;
        got[i] = -2;
    }
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(src, N, MPI_INT, right, N, N, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Get(got, N, MPI_INT, right, N, N, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++) {
        CHECKF(base[i] == -1, "base[%d] = %d, untouched expected", i, base[i]);
        CHECKF(base[N + i] == left * 1000 + i, "base[%d] = %d, expected %d", N + i, base[N + i],
               left * 1000 + i);
        CHECKF(got[i] == rank * 1000 + i, "got[%d] = %d, expected %d", i, got[i],
               rank * 1000 + i);
    }
    MPI_CHECK(MPI_Win_free(&win));
    CHECK(win == MPI_WIN_NULL);
    CHECKF(n_init == 1 && n_alloc == 1 && n_put == 1 && n_get == 1 && n_fence == 3 && n_free == 1,
           "wrappers ran %d %d %d %d %d %d times", n_init, n_alloc, n_put, n_get, n_fence, n_free);
    MPI_CHECK(MPI_Finalize());
    if (n_finalize != 1) {
        fprintf(stderr, "pmpi: MPI_Finalize's wrapper ran %d times\n", n_finalize);
        return 1;
    }
    if (rank == 0)
        printf("pmpi: ok\n");
    return 0;
}
