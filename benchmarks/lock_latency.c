/*
 * lock_latency.c - prma_lock_latency: the time of one passive-target epoch
 * of an exclusive lock: rank 0 calls MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1),
 * puts the size to rank 1 (nothing at size 0), and MPI_Win_unlock(1), each
 * iteration; the other ranks wait. After the timed loop rank 1 checks the
 * bytes. Two ranks or more.
 *
 *   mpirun -np N prma_lock_latency [-w create|allocate|dynamic] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_lock_latency",
        .title = "MPI_Win_lock/unlock (exclusive) Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .min_size = 0,
        .max_size = 8,
        .after_zero = 8,
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .help = "time of MPI_Win_lock(MPI_LOCK_EXCLUSIVE) and MPI_Win_unlock of rank 1 by rank "
                "0, with no operation (size 0) or one put of the size between them",
    };
    struct bench b;
    unsigned char *src;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    src = malloc(b.max_size + 1);
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        int n, w;
        double t0 = 0, t1 = 0;

        bench_rounds(&b, size, &n, &w);
        bench_fill(src, size, bench_seed(size, b.rank));
        bench_win_clear(&b, size);
        BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
        if (b.rank == 0) {
            for (int it = 0; it < n + w; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                BENCH_MPI(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1, 0, b.win));
                if (size > 0)
                    BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, 1, b.disp[1], (int)size,
                                      MPI_BYTE, b.win));
                BENCH_MPI(MPI_Win_unlock(1, b.win));
            }
            t1 = MPI_Wtime();
        }
        BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
        if (b.rank == 1 && size > 0) {
            bad = bench_win_check(&b, size, size, bench_seed(size, 0));
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, (t1 - t0) / n * 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
