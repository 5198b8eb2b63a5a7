/*
 * put_bibw.c - prma_put_bibw: MPI_Put bandwidth of ranks 0 and 1 putting to
 * each other at once, in the pattern of the OSU micro-benchmarks'
 * osu_put_bibw (active target only, as there: fence or pscw): each iteration
 * both ranks put -W messages of the size to consecutive places of the other's
 * window in one epoch. The bandwidth is the bytes of both directions over
 * rank 0's time. After the timed loop each rank checks every byte it got.
 *
 *   mpirun -np 2 prma_put_bibw [-w create|allocate|dynamic] [-s fence|pscw]
 *          [-m [min:]max] [-i n] [-x n] [-W n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_put_bibw",
        .title = "MPI_Put Bi-directional Bandwidth Test",
        .unit = BENCH_UNIT_BANDWIDTH,
        .syncs = BENCH_SYNCS_ACTIVE,
        .sync = BENCH_SYNC_PSCW,
        .min_size = 1,
        .max_size = 1 << 20,
        .iters = 1000,
        .warmup = 100,
        .window = 64,
        .min_ranks = 2,
        .max_ranks = 2,
        .help =
            "bandwidth of MPI_Put between ranks 0 and 1 both ways at once, -W puts each per "
            "epoch",
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
        bench_win_clear(&b, bytes);
        t = bench_stream(&b, size, 1, bench_op_put_slot, src, &n);
        bad = bench_win_check(&b, size, bytes, bench_seed(size, b.peer));
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, 2.0 * (double)bytes * n / t / 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
