/*
 * put_latency.c - one-sided put latency with fence synchronization, in the
 * shape of the OSU micro-benchmarks' osu_put_latency (-s fence): rank 0 puts
 * `size` bytes into rank 1's window, both fence; the time per iteration is
 * reported. Plain MPI: the same binary runs natively and under portrma.
 * Before printing a row, the target checks the bytes of the last put.
 *
 *   mpirun -np 2 ./put_latency [-w allocate|create] [-m min:max] [-i iters] [-x warmup]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char pattern(size_t i, size_t size)
{
    return (unsigned char)((i * 131u + size) & 0xff);
}

int main(int argc, char **argv)
{
    size_t min = 1, max = 1 << 22;
    int iters = 1000, warmup = 100, create = 0, rank, nranks, opt, bad = 0;
    unsigned char *src, *win_mem;
    MPI_Win win;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    while ((opt = getopt(argc, argv, "w:m:i:x:")) != -1) {
        switch (opt) {
        case 'w': create = strcmp(optarg, "create") == 0; break;
        case 'm': sscanf(optarg, "%zu:%zu", &min, &max); break;
        case 'i': iters = atoi(optarg); break;
        case 'x': warmup = atoi(optarg); break;
        default:
            if (rank == 0)
                fprintf(stderr, "usage: put_latency [-w allocate|create] [-m min:max] [-i n] [-x n]\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    if (nranks != 2) {
        if (rank == 0)
            fprintf(stderr, "put_latency needs exactly 2 ranks\n");
        MPI_Finalize();
        return 2;
    }
    src = malloc(max);
    if (create) {
        win_mem = malloc(max);
        MPI_Win_create(win_mem, (MPI_Aint)max, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    } else {
        MPI_Win_allocate((MPI_Aint)max, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win_mem, &win);
    }
    if (rank == 0) {
        printf("# OSU MPI_Put Latency Test (portrma benchmarks)\n");
        printf("# Window creation: %s\n", create ? "MPI_Win_create" : "MPI_Win_allocate");
        printf("# Synchronization: MPI_Win_fence\n");
        printf("# %-10s %18s\n", "Size", "Latency (us)");
    }
    for (size_t size = min; size <= max; size *= 2) {
        int n = size > (1 << 16) ? iters / 10 + 1 : iters, w = size > (1 << 16) ? warmup / 10 : warmup;
        double t0 = 0, t;
        int bad_here = 0;

        for (size_t i = 0; i < size; i++)
            src[i] = pattern(i, size);
        memset(win_mem, 0, size);
        MPI_Win_fence(0, win);
        for (int it = 0; it < n + w; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            if (rank == 0)
                MPI_Put(src, (int)size, MPI_BYTE, 1, 0, (int)size, MPI_BYTE, win);
            MPI_Win_fence(0, win);
        }
        t = (MPI_Wtime() - t0) / n;
        if (rank == 1)
            for (size_t i = 0; i < size && !bad_here; i++)
                bad_here = win_mem[i] != pattern(i, size);
        MPI_Allreduce(&bad_here, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (bad) {
            if (rank == 0)
                fprintf(stderr, "put_latency: data check failed at size %zu\n", size);
            break;
        }
        if (rank == 0)
            printf("%-12zu %18.2f\n", size, t * 1e6);
        fflush(stdout);
    }
    MPI_Win_free(&win);
    if (create)
        free(win_mem);
    free(src);
    MPI_Finalize();
    return bad;
}
