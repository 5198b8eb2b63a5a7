/*
 * fence_latency.c - prma_fence_latency: the time of one MPI_Win_fence epoch
 * on every rank, empty (size 0) and with one put of each size from every rank
 * to the next one (rank r to r + 1 modulo the rank count): each iteration,
 * every rank puts (if the size is not 0), then calls MPI_Win_fence(0). The
 * time per fence is rank 0's. After the timed loop every rank checks the
 * bytes of the rank before it. Any rank count.
 *
 *   mpirun -np N prma_fence_latency [-w create|allocate|dynamic] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_fence_latency",
        .title = "MPI_Win_fence Epoch Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .min_size = 0,
        .max_size = 8,
        .after_zero = 8,
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 1,
        .help = "time of one MPI_Win_fence on every rank, with no operation (size 0) or one "
                "put of the size from each rank to the next",
    };
    struct bench b;
    unsigned char *src;
    int right, left, bad = 0;

    bench_init(&b, &info, &argc, &argv);
    right = (b.rank + 1) % b.nranks;
    left = (b.rank + b.nranks - 1) % b.nranks;
    src = malloc(b.max_size + 1);
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        int n, w;
        double t0 = 0, t1;

        bench_rounds(&b, size, &n, &w);
        bench_fill(src, size, bench_seed(size, b.rank));
        bench_win_clear(&b, size);
        BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOPRECEDE, b.win));
        for (int it = 0; it < n + w; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            if (size > 0)
                BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, right, b.disp[right], (int)size,
                                  MPI_BYTE, b.win));
            BENCH_MPI(MPI_Win_fence(0, b.win));
        }
        t1 = MPI_Wtime();
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOSUCCEED, b.win));
        if (size > 0) {
            bad = bench_win_check(&b, size, size, bench_seed(size, left));
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, (t1 - t0) / n * 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
