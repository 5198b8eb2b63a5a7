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

    return bench_xfer_latency_main(&info, &argc, &argv, 1);
}
