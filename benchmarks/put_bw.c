/*
 * put_bw.c - prma_put_bw: MPI_Put bandwidth from rank 0 to rank 1, in the
 * pattern of the OSU micro-benchmarks' osu_put_bw: each iteration rank 0 puts
 * -W messages of the size to consecutive places of rank 1's window in one
 * epoch (or between two flushes; bench_stream in bench.c says which calls each
 * -s times). After the timed loop rank 1 checks every byte of them.
 *
 *   mpirun -np 2 prma_put_bw [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n] [-W n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_put_bw",
        .title = "MPI_Put Bandwidth Test",
        .unit = BENCH_UNIT_BANDWIDTH,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 1,
        .max_size = 1 << 20,
        .iters = 1000,
        .warmup = 100,
        .window = 64,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "bandwidth of MPI_Put from rank 0 to rank 1, -W puts per synchronization",
    };
    struct bench b;
    unsigned char *src;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    src = malloc(b.max_size * (size_t)b.window);
    bench_win_open(&b, b.max_size * (size_t)b.window);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k], bytes = size * (size_t)b.window;
        int n;
        double t;

        bench_fill(src, bytes, bench_seed(size, b.rank));
        bench_local_begin(&b);
        memset(b.mem, 0, bytes);
        bench_local_end(&b);
        t = bench_stream(&b, size, 0, bench_op_put_slot, src, &n);
        if (b.rank == 1) {
            bench_local_begin(&b);
            bad = bench_check(&b, "window", size, b.mem, bytes, bench_seed(size, 0));
            bench_local_end(&b);
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, (double)bytes * n / t / 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
