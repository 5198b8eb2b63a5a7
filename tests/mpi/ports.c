/*
 * ports.c - locality decides the port: MPI_Win_get_info's "portrma_ports"
 * must say which port kind serves how many targets, as the transport mode
 * of the run asks (PORTRMA_TRANSPORT, PORTRMA_NODE_SIZE) and where the
 * ranks run (PRMA_TEST_HOSTS). Each rank then puts to and gets from every
 * other rank, so every port kind in use moves data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define N 512

/* What "portrma_ports" must be on rank `rank` of `size` ranks. The run
 * says where ranks are: all on one host, or PRMA_TEST_HOSTS=h hosts with
 * ranks placed round-robin (mpirun --map-by node). */
static void expected_ports(int rank, int size, char *buf, size_t len)
{
    const char *transport = getenv("PORTRMA_TRANSPORT");
    const char *node_size = getenv("PORTRMA_NODE_SIZE");
    const char *hosts = getenv("PRMA_TEST_HOSTS");
    int k = node_size != NULL ? atoi(node_size) : 0;
    int h = hosts != NULL ? atoi(hosts) : 1;
    int shm = size - 1, ucx = 0;

    if (h > 1) {
        shm = 0;
        for (int r = 0; r < size; r++)
            shm += r != rank && r % h == rank % h;
        ucx = size - 1 - shm;
    }
    if (transport != NULL && strcmp(transport, "ucx") == 0) {
        ucx = size - 1;
        shm = 0;
    } else if (k > 0 && h == 1) {
        /* Pretend nodes of k consecutive ranks (one real node here). */
        int first = rank / k * k, last = first + k > size ? size : first + k;

        shm = last - first - 1;
        ucx = size - 1 - shm;
    }
    snprintf(buf, len, "self:1");
    if (shm > 0)
        snprintf(buf + strlen(buf), len - strlen(buf), ",shm:%d", shm);
    if (ucx > 0)
        snprintf(buf + strlen(buf), len - strlen(buf), ",ucx:%d", ucx);
}

int main(int argc, char **argv)
{
    char want[64], got[MPI_MAX_INFO_VAL + 1];
    int rank, size, flag = 0;
    long *mem, src[N], back[N];
    MPI_Info info;
    MPI_Win win;

    MPI_Init(&argc, &argv);
    rank = prma_world_rank();
    size = prma_world_size();
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)(size * N * sizeof(long)), sizeof(long),
                               MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win));
    MPI_CHECK(MPI_Win_get_info(win, &info));
    MPI_CHECK(MPI_Info_get(info, "portrma_ports", MPI_MAX_INFO_VAL, got, &flag));
    MPI_CHECK(MPI_Info_free(&info));
    expected_ports(rank, size, want, sizeof(want));
    CHECKF(flag, "MPI_Win_get_info has no portrma_ports key");
    CHECKF(strcmp(got, want) == 0, "portrma_ports is \"%s\", expected \"%s\"", got, want);

    /* Every rank writes its slice of every window, then reads them back. */
    for (int i = 0; i < N; i++)
        src[i] = (long)rank * 1000003L + i;
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int t = 0; t < size; t++)
        MPI_CHECK(MPI_Put(src, N, MPI_LONG, t, rank * N, N, MPI_LONG, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int o = 0; o < size; o++)
        for (int i = 0; i < N; i++)
            CHECKF(mem[o * N + i] == (long)o * 1000003L + i, "slot of rank %d, element %d: %ld",
                   o, i, mem[o * N + i]);
    for (int t = 0; t < size; t++) {
        MPI_CHECK(MPI_Get(back, N, MPI_LONG, t, rank * N, N, MPI_LONG, win));
        MPI_CHECK(MPI_Win_fence(0, win));
        for (int i = 0; i < N; i++)
            CHECKF(back[i] == src[i], "get from rank %d, element %d: %ld", t, i, back[i]);
    }
    MPI_CHECK(MPI_Win_free(&win));
    MPI_Finalize();
    return 0;
}
