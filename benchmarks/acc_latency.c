/*
 * acc_latency.c - prma_acc_latency: the time of one MPI_Accumulate (MPI_SUM of
 * 64-bit integers, MPI_INT64_T) of each size from rank 0 to rank 1 under each
 * synchronization, in the pattern of the OSU micro-benchmarks'
 * osu_acc_latency (bench_latency in bench.c says which calls each -s times).
 * Element j of every accumulate is j + 1, so after N of them element j of the
 * target is exactly N * (j + 1), which every target checks.
 *
 *   mpirun -np 2 prma_acc_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void acc_op(struct bench *b, int target, size_t size, long it, void *src)
{
    int count = (int)(size / sizeof(int64_t));

    BENCH_MPI(MPI_Accumulate(src, count, MPI_INT64_T, target, b->disp[target], count,
                             MPI_INT64_T, MPI_SUM, b->win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_acc_latency",
        .title = "MPI_Accumulate Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 8,
        .max_size = 8,
        .elem = sizeof(int64_t),
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "latency of MPI_Accumulate (MPI_SUM, MPI_INT64_T) from rank 0 to rank 1 (both "
                "ways under fence and pscw); sizes are multiples of 8 bytes",
    };
    struct bench b;
    int64_t *src;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    src = malloc(b.max_size);
    for (size_t j = 0; j < b.max_size / sizeof *src; j++)
        src[j] = (int64_t)j + 1;
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k], count = size / sizeof *src;
        int n, w;
        double t;

        bench_rounds(&b, size, &n, &w);
        bench_win_clear(&b, size);
        t = bench_latency(&b, size, acc_op, src);
        if (bench_latency_target(&b)) {
            int64_t *got = (int64_t *)b.mem;

            bench_local_begin(&b);
            for (size_t j = 0; j < count && !bad; j++)
                if (got[j] != (int64_t)(n + w) * src[j])
                    bad = bench_data_error(&b, size,
                                           "element %zu of the window is %" PRId64
                                           " after %d accumulates, expected %" PRId64,
                                           j, got[j], n + w, (int64_t)(n + w) * src[j]);
            bench_local_end(&b);
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, t * 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
