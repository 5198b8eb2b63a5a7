/*
 * put_rate.c - prma_put_rate: the message rate of small puts (8 bytes by
 * default) from rank 0 to rank 1: each iteration rank 0 puts -W messages to
 * consecutive places of rank 1's window, then completes them with one
 * MPI_Win_flush (or the -s given; bench_stream in bench.c says which calls
 * each times). Messages per second over the timed iterations. After the
 * timed loop rank 1 checks every byte of them.
 *
 *   mpirun -np 2 prma_put_rate [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n] [-W n]
 */
#include "bench.h"

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_put_rate",
        .title = "MPI_Put Message Rate Test",
        .unit = BENCH_UNIT_RATE,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 8,
        .max_size = 8,
        .iters = 10000,
        .warmup = 100,
        .window = 64,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "puts per second from rank 0 to rank 1, -W puts per synchronization",
    };

    return bench_put_stream_main(&info, &argc, &argv, 1);
}
