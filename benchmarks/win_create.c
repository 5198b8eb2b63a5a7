/*
 * win_create.c - prma_win_create: the time to make and free a window of each
 * size on every rank: MPI_Win_allocate + MPI_Win_free (-w allocate, the
 * default), MPI_Win_create on memory allocated beforehand + MPI_Win_free (-w
 * create), or MPI_Win_create_dynamic + MPI_Win_attach + MPI_Win_detach +
 * MPI_Win_free (-w dynamic). The time per pair is rank 0's. After the timed
 * loop of each size one more window of that size is made, every rank puts a
 * pattern into the next rank's (r to r + 1 modulo the rank count) between two
 * fences, and checks what the rank before it put. Any rank count.
 *
 *   mpirun -np N prma_win_create [-w create|allocate|dynamic] [-m [min:]max] [-i n] [-x n]
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes and frees one window of `size` bytes of the run's kind; `mem` is the
 * memory of -w create and dynamic. */
static void make_and_free(const struct bench *b, size_t size, void *mem)
{
    MPI_Win win;
    void *base;

    switch (b->win_kind) {
    case BENCH_WIN_ALLOCATE:
        BENCH_MPI(
            MPI_Win_allocate((MPI_Aint)size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win));
        break;
    case BENCH_WIN_CREATE:
        BENCH_MPI(MPI_Win_create(mem, (MPI_Aint)size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win));
        break;
    default:
        BENCH_MPI(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
        BENCH_MPI(MPI_Win_attach(win, mem, (MPI_Aint)size));
        BENCH_MPI(MPI_Win_detach(win, mem));
        break;
    }
    BENCH_MPI(MPI_Win_free(&win));
}

int main(int argc, char **argv)
{
    static const struct bench_info info = {
        .name = "prma_win_create",
        .title = "Window Creation Latency Test",
        .unit = BENCH_UNIT_LATENCY,
        .min_size = 8,
        .max_size = 1 << 22,
        .iters = 100,
        .warmup = 10,
        .min_ranks = 1,
        .help = "time of making and freeing a window of the size on every rank (-w allocate: "
                "MPI_Win_allocate + MPI_Win_free, create: MPI_Win_create + MPI_Win_free, "
                "dynamic: MPI_Win_create_dynamic + attach + detach + MPI_Win_free)",
    };
    struct bench b;
    unsigned char *mem, *src;
    int right, left, bad = 0;
    long page = sysconf(_SC_PAGESIZE);
    void *p = NULL;

    bench_init(&b, &info, &argc, &argv);
    right = (b.rank + 1) % b.nranks;
    left = (b.rank + b.nranks - 1) % b.nranks;
    if (posix_memalign(&p, page > 0 ? (size_t)page : 4096, b.max_size) != 0)
        bench_mpi_failed("posix_memalign", MPI_ERR_NO_MEM, __FILE__, __LINE__);
    mem = p;
    memset(mem, 0, b.max_size);
    src = malloc(b.max_size);
    bench_print_header(&b);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        int n, w;
        double t0 = 0, t1;

        bench_rounds(&b, size, &n, &w);
        BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
        for (int it = 0; it < n + w; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            make_and_free(&b, size, mem);
        }
        t1 = MPI_Wtime();

        bench_win_open(&b, size);
        bench_fill(src, size, bench_seed(size, b.rank));
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOPRECEDE, b.win));
        BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, right, b.disp[right], (int)size, MPI_BYTE,
                          b.win));
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOSUCCEED, b.win));
        bad = bench_win_check(&b, size, size, bench_seed(size, left));
        bench_win_close(&b);
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, (t1 - t0) / n * 1e6);
    }
    free(mem);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
