/*
 * get_latency.c - prma_get_latency: the time of one MPI_Get of each size by
 * rank 0 from rank 1 under each synchronization, in the pattern of the OSU
 * micro-benchmarks' osu_get_latency (bench_latency in bench.c says which
 * calls each -s times). After the timed loop every origin checks that it
 * holds the bytes of its target's window.
 *
 *   mpirun -np 2 prma_get_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static void get_op(struct bench *b, int target, size_t size, long it, void *dst)
{
    BENCH_MPI(MPI_Get(dst, (int)size, MPI_BYTE, target, b->disp[target], (int)size, MPI_BYTE,
                      b->win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_get_latency",
        .title = "MPI_Get Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 1,
        .max_size = 1 << 22,
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "latency of MPI_Get by rank 0 from rank 1 (both ways under fence and pscw)",
    };
    struct bench b;
    unsigned char *dst;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    dst = malloc(b.max_size);
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        double t;

        memset(dst, 0, size);
        bench_local_begin(&b);
        bench_fill(b.mem, size, bench_seed(size, b.rank));
        bench_local_end(&b);
        t = bench_latency(&b, size, get_op, dst);
        if (bench_latency_origin(&b))
            bad = bench_check(&b, "get buffer", size, dst, size, bench_seed(size, b.peer));
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, t * 1e6);
    }
    bench_win_close(&b);
    free(dst);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
