/*
 * shared.c - shared windows: MPI_Win_allocate_shared (contiguous, and with
 * alloc_shared_noncontig) and MPI_Win_shared_query, also on an
 * MPI_Win_allocate window. Every rank stores into its own part directly;
 * after MPI_Win_sync and a barrier every rank loads every other part
 * through the address MPI_Win_shared_query gives, and puts and gets through
 * the same window still work. All ranks of a test run share one node.
 */
#include <stdio.h>
#include <string.h>
#include "common.h"

#define N 1000

/* Rank r's part holds r * 1000003 + i, as ints of the part's length. */
static int part_len(int r)
{
    return N + 17 * r;  /* parts of different sizes */
}

static void check_parts(MPI_Win win, int rank, int size, int contiguous, const char *what)
{
    char *prev_end = NULL;

    for (int r = 0; r < size; r++) {
        MPI_Aint bytes;
        int unit, *p;

        MPI_CHECK(MPI_Win_shared_query(win, r, &bytes, &unit, &p));
        CHECKF(bytes == (MPI_Aint)(part_len(r) * sizeof(int)), "%s: rank %d's size %ld", what, r,
               (long)bytes);
        CHECKF(unit == (int)sizeof(int), "%s: rank %d's disp unit %d", what, r, unit);
        CHECKF(p != NULL, "%s: no address for rank %d", what, r);
        for (int i = 0; i < part_len(r); i++)
            CHECKF(p[i] == r * 1000003 + i, "%s: rank %d element %d is %d (seen from rank %d)",
                   what, r, i, p[i], rank);
        if (contiguous && r > 0)
            CHECKF((char *)p == prev_end, "%s: rank %d's part does not follow rank %d's", what, r,
                   r - 1);
        prev_end = (char *)p + bytes;
    }
}

static void run(MPI_Comm comm, int flavor_shared, int contiguous, const char *what)
{
    int rank, size, *mine, flag, *flavor, got[N];
    MPI_Info info = MPI_INFO_NULL;
    MPI_Win win;

    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (flavor_shared) {
        if (!contiguous) {
            MPI_Info_create(&info);
            MPI_Info_set(info, "alloc_shared_noncontig", "true");
        }
        MPI_CHECK(MPI_Win_allocate_shared((MPI_Aint)(part_len(rank) * sizeof(int)), sizeof(int),
                                          info, comm, &mine, &win));
        if (info != MPI_INFO_NULL)
            MPI_Info_free(&info);
    } else {
        MPI_CHECK(MPI_Win_allocate((MPI_Aint)(part_len(rank) * sizeof(int)), sizeof(int),
                                   MPI_INFO_NULL, comm, &mine, &win));
    }
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    CHECKF(flag && *flavor == (flavor_shared ? MPI_WIN_FLAVOR_SHARED : MPI_WIN_FLAVOR_ALLOCATE),
           "%s: flavor %d", what, flag ? *flavor : -1);

    /* Direct stores into our part, made visible, then everyone loads. */
    MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, win));
    for (int i = 0; i < part_len(rank); i++)
        mine[i] = rank * 1000003 + i;
    MPI_CHECK(MPI_Win_sync(win));
    MPI_Barrier(comm);
    MPI_CHECK(MPI_Win_sync(win));
    check_parts(win, rank, size, flavor_shared && contiguous, what);
    MPI_CHECK(MPI_Win_unlock_all(win));

    /* MPI_PROC_NULL: the first part that has memory (rank 0's here). */
    {
        MPI_Aint bytes;
        int unit, *p, *p0;

        MPI_CHECK(MPI_Win_shared_query(win, MPI_PROC_NULL, &bytes, &unit, &p));
        MPI_CHECK(MPI_Win_shared_query(win, 0, &bytes, &unit, &p0));
        CHECKF(p == p0, "%s: MPI_PROC_NULL query is not rank 0's part", what);
    }

    /* RMA still works on it: get the next rank's part. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Get(got, N, MPI_INT, (rank + 1) % size, 0, N, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++)
        CHECKF(got[i] == ((rank + 1) % size) * 1000003 + i, "%s: get element %d is %d", what, i,
               got[i]);
    MPI_CHECK(MPI_Win_free(&win));
}

int main(int argc, char **argv)
{
    MPI_Comm node;

    MPI_Init(&argc, &argv);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    run(node, 1, 1, "contiguous shared window");
    run(node, 1, 0, "non-contiguous shared window");
    run(node, 0, 0, "allocate window");
    MPI_Comm_free(&node);
    if (prma_world_rank() == 0)
        printf("shared: %d ranks: ok\n", prma_world_size());
    MPI_Finalize();
    return 0;
}
