/*
 * fop_latency.c - prma_fop_latency: the time of one MPI_Fetch_and_op (MPI_SUM
 * of 1 to a 64-bit integer, MPI_INT64_T) from rank 0 to rank 1 under each
 * synchronization, in the pattern of the OSU micro-benchmarks'
 * osu_fop_latency (bench_latency in bench.c says which calls each -s times).
 * Each operation fetches into its own element of a result array, so after
 * the timed loop the origin checks that the fetched values are 0, 1, 2, ...
 * in order, and the target that its counter reached the number of operations.
 *
 *   mpirun -np 2 prma_fop_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-i n] [-x n]
 */
#include "bench.h"

static const int64_t one = 1;

static void fop_op(struct bench *b, int target, size_t size, long it, void *arg)
{
    struct bench_counter *c = arg;

    BENCH_MPI(MPI_Fetch_and_op(&one, c->results + it, MPI_INT64_T, target,
                               b->disp[target], MPI_SUM, b->win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_fop_latency",
        .title = "MPI_Fetch_and_op Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 8,
        .max_size = 8,
        .elem = sizeof(int64_t),
        .size_limit = sizeof(int64_t),
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "latency of MPI_Fetch_and_op (MPI_SUM, MPI_INT64_T) from rank 0 to rank 1 "
                "(both ways under fence and pscw); the size is 8 bytes",
    };

    return bench_counter_main(&info, &argc, &argv, fop_op, "fetch-and-op");
}
