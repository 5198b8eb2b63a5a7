/*
 * put_latency.c - prma_put_latency: the time of one MPI_Put of each size from
 * rank 0 to rank 1 under each synchronization, in the pattern of the OSU
 * micro-benchmarks' osu_put_latency (bench_latency in bench.c says which
 * calls each -s times). After the timed loop every target checks that the
 * bytes of its origin landed in its window.
 *
 *   mpirun -np 2 prma_put_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static void put_op(struct bench *b, int target, size_t size, long it, void *src)
{
    BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, target, b->disp[target], (int)size, MPI_BYTE,
                      b->win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_put_latency",
        .title = "MPI_Put Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 1,
        .max_size = 1 << 22,
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "latency of MPI_Put from rank 0 to rank 1 (both ways under fence and pscw)",
    };
    struct bench b;
    unsigned char *src;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    src = malloc(b.max_size);
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        double t;

        bench_fill(src, size, bench_seed(size, b.rank));
        bench_local_begin(&b);
        memset(b.mem, 0, size);
        bench_local_end(&b);
        t = bench_latency(&b, size, put_op, src);
        if (bench_latency_target(&b)) {
            bench_local_begin(&b);
            bad = bench_check(&b, "window", size, b.mem, size, bench_seed(size, b.peer));
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
