/*
 * pscw_latency.c - prma_pscw_latency: the time of one post-start-complete-wait
 * epoch, empty (size 0) and with one put of each size. The ranks form a ring:
 * each iteration every rank posts to the rank before it, starts an access
 * epoch to the rank after it, puts there (if the size is not 0), completes,
 * and waits for its own exposure epoch to end. With 2 ranks each exposes to
 * and accesses the other. The time per epoch is rank 0's. After the timed
 * loop every rank checks the bytes of the rank before it. Any rank count.
 *
 *   mpirun -np N prma_pscw_latency [-w create|allocate|dynamic] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_pscw_latency",
        .title = "MPI_Win_post/start/complete/wait Epoch Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .min_size = 0,
        .max_size = 8,
        .after_zero = 8,
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 1,
        .help = "time of one PSCW epoch around a ring of ranks, with no operation (size 0) or "
                "one put of the size to the next rank",
    };
    struct bench b;
    unsigned char *src;
    int right, left, bad = 0;
    MPI_Group right_group, left_group;

    bench_init(&b, &info, &argc, &argv);
    right = (b.rank + 1) % b.nranks;
    left = (b.rank + b.nranks - 1) % b.nranks;
    BENCH_MPI(MPI_Group_incl(b.world_group, 1, &right, &right_group));
    BENCH_MPI(MPI_Group_incl(b.world_group, 1, &left, &left_group));
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
        for (int it = 0; it < n + w; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            BENCH_MPI(MPI_Win_post(left_group, 0, b.win));
            BENCH_MPI(MPI_Win_start(right_group, 0, b.win));
            if (size > 0)
                BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, right, b.disp[right], (int)size,
                                  MPI_BYTE, b.win));
            BENCH_MPI(MPI_Win_complete(b.win));
            BENCH_MPI(MPI_Win_wait(b.win));
        }
        t1 = MPI_Wtime();
        BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
        if (size > 0) {
            bad = bench_win_check(&b, size, size, bench_seed(size, left));
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, (t1 - t0) / n * 1e6);
    }
    bench_win_close(&b);
    MPI_Group_free(&right_group);
    MPI_Group_free(&left_group);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
