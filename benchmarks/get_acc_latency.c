/*
 * get_acc_latency.c - prma_get_acc_latency: the time of one
 * MPI_Get_accumulate (MPI_SUM of 64-bit integers, MPI_INT64_T) of each size
 * from rank 0 to rank 1 under each synchronization, in the pattern of the OSU
 * micro-benchmarks' osu_get_acc_latency (bench_latency in bench.c says which
 * calls each -s times). Element j of every operation is j + 1, so after N of
 * them element j of the target is exactly N * (j + 1), and the last one
 * fetched (N - 1) * (j + 1): the target checks the first, the origin the
 * second.
 *
 *   mpirun -np 2 prma_get_acc_latency [-w create|allocate|dynamic]
 *          [-s fence|pscw|lock|flush|flush_local|lock_all] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct buffers {
    int64_t *src;
    int64_t *result;
};

static void get_acc_op(struct bench *b, int target, size_t size, long it, void *arg)
{
    struct buffers *buf = arg;
    int count = (int)(size / sizeof(int64_t));

    BENCH_MPI(MPI_Get_accumulate(buf->src, count, MPI_INT64_T, buf->result, count, MPI_INT64_T,
                                 target, b->disp[target], count, MPI_INT64_T, MPI_SUM, b->win));
}

/* Checks that got[j] == times * (j + 1) for j < count. */
static int check_sums(const struct bench *b, size_t size, const char *what, const int64_t *got,
                      size_t count, int64_t times)
{
    for (size_t j = 0; j < count; j++)
        if (got[j] != times * (int64_t)(j + 1))
            return bench_data_error(b, size,
                                    "element %zu of the %s is %" PRId64 ", expected %" PRId64,
                                    j, what, got[j], times * (int64_t)(j + 1));
    return 0;
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_get_acc_latency",
        .title = "MPI_Get_accumulate Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .syncs = BENCH_SYNCS_ALL,
        .sync = BENCH_SYNC_FLUSH,
        .min_size = 8,
        .max_size = 8,
        .elem = sizeof(int64_t),
        .iters = 10000,
        .warmup = 100,
        .min_ranks = 2,
        .max_ranks = 2,
        .help = "latency of MPI_Get_accumulate (MPI_SUM, MPI_INT64_T) from rank 0 to rank 1 "
                "(both ways under fence and pscw); sizes are multiples of 8 bytes",
    };
    struct bench b;
    struct buffers buf;
    int bad = 0;

    bench_init(&b, &info, &argc, &argv);
    buf.src = malloc(b.max_size);
    buf.result = malloc(b.max_size);
    for (size_t j = 0; j < b.max_size / sizeof(int64_t); j++)
        buf.src[j] = (int64_t)j + 1;
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k], count = size / sizeof(int64_t);
        int n, w;
        double t;

        bench_rounds(&b, size, &n, &w);
        memset(buf.result, 0xff, size);
        bench_win_clear(&b, size);
        t = bench_latency(&b, size, get_acc_op, &buf);
        if (bench_latency_target(&b)) {
            bench_local_begin(&b);
            bad = check_sums(&b, size, "window", (int64_t *)b.mem, count, n + w);
            bench_local_end(&b);
        }
        if (bench_latency_origin(&b) && !bad)
            bad = check_sums(&b, size, "last result", buf.result, count, n + w - 1);
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, t * 1e6);
    }
    bench_win_close(&b);
    free(buf.src);
    free(buf.result);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
