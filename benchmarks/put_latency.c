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

    return bench_xfer_latency_main(&info, &argc, &argv, 0);
}
