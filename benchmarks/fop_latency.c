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

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const int64_t one = 1;

static void fop_op(struct bench *b, int target, size_t size, long it, void *results)
{
    BENCH_MPI(MPI_Fetch_and_op(&one, (int64_t *)results + it, MPI_INT64_T, target,
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
    struct bench b;
    int64_t *results;
    int n, w, bad = 0;
    double t;

    bench_init(&b, &info, &argc, &argv);
    bench_rounds(&b, sizeof(int64_t), &n, &w);
    results = malloc((size_t)(n + w) * sizeof *results);
    memset(results, 0xff, (size_t)(n + w) * sizeof *results);
    bench_win_open(&b, sizeof(int64_t));
    bench_local_begin(&b);
    memset(b.mem, 0, sizeof(int64_t));
    bench_local_end(&b);
    t = bench_latency(&b, sizeof(int64_t), fop_op, results);
    if (bench_latency_origin(&b))
        for (long k = 0; k < n + w && !bad; k++)
            if (results[k] != k)
                bad = bench_data_error(&b, sizeof(int64_t),
                                       "fetch-and-op %ld fetched %" PRId64 ", expected %ld", k,
                                       results[k], k);
    if (bench_latency_target(&b)) {
        int64_t got;

        bench_local_begin(&b);
        memcpy(&got, b.mem, sizeof got);
        bench_local_end(&b);
        if (got != n + w)
            bad = bench_data_error(&b, sizeof(int64_t),
                                   "the counter is %" PRId64 " after %d fetch-and-ops", got,
                                   n + w);
    }
    bad = bench_any(bad);
    if (!bad)
        bench_print_row(&b, sizeof(int64_t), t * 1e6);
    bench_win_close(&b);
    free(results);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
