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

    return bench_put_stream_main(&info, &argc, &argv, 0);
}
