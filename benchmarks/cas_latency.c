/*
 * cas_latency.c - prma_cas_latency: the time of one MPI_Compare_and_swap of a
 * 64-bit integer (MPI_INT64_T) from rank 0 to rank 1 under each
 * synchronization, in the pattern of the OSU micro-benchmarks'
 * osu_cas_latency (bench_latency in bench.c says which calls each -s times).
 * Operation k compares with k and swaps in k + 1, so every one succeeds only
 * if every one before it did: each fetches into its own element of a result
 * array, which must read 0, 1, 2, ... in order, and the target's value must
 * end at the number of operations.
 *
 *   mpirun -np 2 prma_cas_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-i n] [-x n]
 */
#include "bench.h"

static void cas_op(struct bench *b, int target, size_t size, long it, void *arg)
{
    struct bench_counter *a = arg;

    a->compare = it;
    a->swap = it + 1;
    BENCH_MPI(MPI_Compare_and_swap(&a->swap, &a->compare, a->results + it, MPI_INT64_T, target,
                                   b->disp[target], b->win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_cas_latency",
        .title = "MPI_Compare_and_swap Latency Test",
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
        .help = "latency of MPI_Compare_and_swap (MPI_INT64_T) from rank 0 to rank 1 (both "
                "ways under fence and pscw); the size is 8 bytes",
    };

    return bench_counter_main(&info, &argc, &argv, cas_op, "compare-and-swap");
}
