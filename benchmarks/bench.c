/*
 * bench.c - the part of the portrma benchmarks every program shares: option
 * parsing, window creation, the timed loops of each synchronization, data
 * patterns and checks, and the output (see bench.h for the contract).
 */
#include "bench.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const win_names[BENCH_WIN_COUNT] = {
    [BENCH_WIN_CREATE] = "create",
    [BENCH_WIN_ALLOCATE] = "allocate",
    [BENCH_WIN_DYNAMIC] = "dynamic",
};

static const char *const win_calls[BENCH_WIN_COUNT] = {
    [BENCH_WIN_CREATE] = "MPI_Win_create",
    [BENCH_WIN_ALLOCATE] = "MPI_Win_allocate",
    [BENCH_WIN_DYNAMIC] = "MPI_Win_create_dynamic",
};

static const char *const sync_names[BENCH_SYNC_COUNT] = {
    [BENCH_SYNC_FENCE] = "fence",
    [BENCH_SYNC_PSCW] = "pscw",
    [BENCH_SYNC_LOCK] = "lock",
    [BENCH_SYNC_FLUSH] = "flush",
    [BENCH_SYNC_FLUSH_LOCAL] = "flush_local",
    [BENCH_SYNC_LOCK_ALL] = "lock_all",
};

static const char *const sync_calls[BENCH_SYNC_COUNT] = {
    [BENCH_SYNC_FENCE] = "MPI_Win_fence",
    [BENCH_SYNC_PSCW] = "MPI_Win_post/start/complete/wait",
    [BENCH_SYNC_LOCK] = "MPI_Win_lock/unlock",
    [BENCH_SYNC_FLUSH] = "MPI_Win_flush",
    [BENCH_SYNC_FLUSH_LOCAL] = "MPI_Win_flush_local",
    [BENCH_SYNC_LOCK_ALL] = "MPI_Win_lock_all/unlock_all",
};

static const char *const column_headers[] = {
    [BENCH_UNIT_LATENCY] = "# Size          Latency (us)",
    [BENCH_UNIT_BANDWIDTH] = "# Size      Bandwidth (MB/s)",
    [BENCH_UNIT_RATE] = "# Size    Messages/s",
};

static const char *prog_name = "bench";

static void usage(const struct bench *b, FILE *f)
{
    const struct bench_info *info = b->info;

    fprintf(f, "usage: mpirun -np N %s [-w create|allocate|dynamic]", info->name);
    if (info->syncs) {
        fprintf(f, " [-s ");
        for (int s = 0, first = 1; s < BENCH_SYNC_COUNT; s++) {
            if (info->syncs & BENCH_SYNC_BIT(s)) {
                fprintf(f, "%s%s", first ? "" : "|", sync_names[s]);
                first = 0;
            }
        }
        fprintf(f, "]");
    }
    fprintf(f, " [-m [min:]max] [-i iters] [-x warmup]%s [-h]\n",
            info->window ? " [-W n]" : "");
    fprintf(f, "%s\n", info->help);
    fprintf(f, "defaults: -w allocate");
    if (info->syncs)
        fprintf(f, " -s %s", sync_names[info->sync]);
    fprintf(f, " -m %zu:%zu -i %d -x %d", info->min_size, info->max_size, info->iters,
            info->warmup);
    if (info->window)
        fprintf(f, " -W %d", info->window);
    fprintf(f, "\nranks: ");
    if (info->max_ranks == info->min_ranks)
        fprintf(f, "exactly %d\n", info->min_ranks);
    else if (info->max_ranks == 0)
        fprintf(f, "%d or more\n", info->min_ranks);
    else
        fprintf(f, "%d to %d\n", info->min_ranks, info->max_ranks);
    fprintf(f,
            "sizes above %d bytes run a tenth of the iterations and warm-up; exit status: "
            "0 ok, 1 data error, 2 usage, 3 an MPI call failed\n",
            BENCH_LARGE);
}

/* Ends the run on a usage error: the message and the usage on rank 0's stderr,
 * every rank exits with BENCH_EXIT_USAGE. */
__attribute__((noreturn, format(printf, 2, 3))) static void usage_error(const struct bench *b,
                                                                        const char *fmt, ...)
{
    if (b->rank == 0) {
        va_list ap;

        fprintf(stderr, "%s: ", b->info->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        usage(b, stderr);
    }
    MPI_Finalize();
    exit(BENCH_EXIT_USAGE);
}

void bench_mpi_failed(const char *what, int code, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING + 1];
    int len = 0, rank = -1;
    size_t call_len = strcspn(what, "(");
    const char *base = strrchr(file, '/');

    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        len = snprintf(msg, sizeof msg, "error code %d", code);
    msg[len] = '\0';
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr,
            "%s: rank %d: %.*s failed (%s:%d): %s: the MPI library cannot run this "
            "combination\n",
            prog_name, rank, (int)call_len, what, base ? base + 1 : file, line, msg);
    fflush(stderr);
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, BENCH_EXIT_MPI);
    exit(BENCH_EXIT_MPI);
}

/* Parses a size: digits with an optional k, m or g (binary multiples). */
static int parse_size(const char *s, size_t *size_p)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    v = strtoull(s, &end, 10);
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default:
        break;
    }
    if (*end != '\0' || v > (1ull << 30))
        return -1;
    *size_p = (size_t)v;
    return 0;
}

static int parse_count(const char *s, int min, int *count_p)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < min || v > 100000000)
        return -1;
    *count_p = (int)v;
    return 0;
}

static int lookup(const char *const *names, int count, const char *s)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Fills b->sizes: min, then doubling (after 0 the program's after_zero), up
 * to max, keeping the sizes the program runs. */
static void make_sizes(struct bench *b, size_t min, size_t max)
{
    const struct bench_info *info = b->info;
    size_t elem = info->elem ? info->elem : 1;

    b->sizes = calloc(64, sizeof *b->sizes);
    b->nsizes = 0;
    b->max_size = 0;
    for (size_t s = min; s <= max && b->nsizes < 64;) {
        int keep = s % elem == 0 && (info->size_limit == 0 || s <= info->size_limit) &&
                   (s > 0 || info->after_zero > 0);

        if (keep) {
            b->sizes[b->nsizes++] = s;
            if (s > b->max_size)
                b->max_size = s;
        }
        if (s == 0)
            s = info->after_zero ? info->after_zero : 1;
        else
            s *= 2;
    }
}

void bench_init(struct bench *b, const struct bench_info *info, int *argc, char ***argv)
{
    char optstring[32] = "w:m:i:x:h";
    size_t min = info->min_size, max = info->max_size;
    int opt;

    memset(b, 0, sizeof *b);
    b->info = info;
    b->win = MPI_WIN_NULL;
    b->peer = -1;
    b->win_kind = BENCH_WIN_ALLOCATE;
    b->sync = info->sync;
    b->iters = info->iters;
    b->warmup = info->warmup;
    b->window = info->window;
    b->world_group = MPI_GROUP_NULL;
    b->peer_group = MPI_GROUP_NULL;
    prog_name = info->name;

    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &b->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &b->nranks);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

    if (info->syncs)
        strcat(optstring, "s:");
    if (info->window)
        strcat(optstring, "W:");
    opterr = 0;
    while ((opt = getopt(*argc, *argv, optstring)) != -1) {
        int k;

        switch (opt) {
        case 'w':
            k = lookup(win_names, BENCH_WIN_COUNT, optarg);
            if (k < 0)
                usage_error(b, "unknown window kind '-w %s'", optarg);
            b->win_kind = (enum bench_win)k;
            break;
        case 's':
            k = lookup(sync_names, BENCH_SYNC_COUNT, optarg);
            if (k < 0 || !(info->syncs & BENCH_SYNC_BIT(k)))
                usage_error(b, "this program does not run '-s %s'", optarg);
            b->sync = (enum bench_sync)k;
            break;
        case 'm': {
            const char *colon = strchr(optarg, ':');

            if (colon) {
                char lo[32];
                size_t n = (size_t)(colon - optarg);

                if (n == 0 || n >= sizeof lo)
                    usage_error(b, "bad sizes '-m %s'", optarg);
                memcpy(lo, optarg, n);
                lo[n] = '\0';
                if (parse_size(lo, &min) != 0 || parse_size(colon + 1, &max) != 0)
                    usage_error(b, "bad sizes '-m %s'", optarg);
            } else if (parse_size(optarg, &max) != 0) {
                usage_error(b, "bad sizes '-m %s'", optarg);
            }
            if (min > max)
                usage_error(b, "bad sizes '-m %s': min above max", optarg);
            break;
        }
        case 'i':
            if (parse_count(optarg, 1, &b->iters) != 0)
                usage_error(b, "bad iteration count '-i %s'", optarg);
            break;
        case 'x':
            if (parse_count(optarg, 0, &b->warmup) != 0)
                usage_error(b, "bad warm-up count '-x %s'", optarg);
            break;
        case 'W':
            if (parse_count(optarg, 1, &b->window) != 0 || b->window > 4096)
                usage_error(b, "bad window '-W %s' (1 to 4096)", optarg);
            break;
        case 'h':
            if (b->rank == 0)
                usage(b, stdout);
            MPI_Finalize();
            exit(0);
        default:
            usage_error(b, "unknown option or missing value '-%c'", optopt ? optopt : '?');
        }
    }
    if (optind < *argc)
        usage_error(b, "unexpected argument '%s'", (*argv)[optind]);
    if (b->nranks < info->min_ranks || (info->max_ranks && b->nranks > info->max_ranks))
        usage_error(b, "does not run at %d rank%s (see 'ranks' below)", b->nranks,
                    b->nranks == 1 ? "" : "s");
    make_sizes(b, min, max);
    if (b->nsizes == 0)
        usage_error(b, "no size in -m %zu:%zu that this program runs", min, max);

    if (b->nranks >= 2 && b->rank < 2)
        b->peer = 1 - b->rank;
    BENCH_MPI(MPI_Comm_group(MPI_COMM_WORLD, &b->world_group));
    if (b->peer >= 0)
        BENCH_MPI(MPI_Group_incl(b->world_group, 1, &b->peer, &b->peer_group));
}

int bench_finish(struct bench *b, int status)
{
    if (b->peer_group != MPI_GROUP_NULL)
        MPI_Group_free(&b->peer_group);
    if (b->world_group != MPI_GROUP_NULL)
        MPI_Group_free(&b->world_group);
    free(b->sizes);
    fflush(stdout);
    MPI_Finalize();
    return status;
}

void bench_print_header(struct bench *b)
{
    if (b->header_printed)
        return;
    b->header_printed = 1;
    if (b->rank != 0)
        return;
    printf("# OSU-style %s (portrma benchmarks)\n", b->info->title);
    printf("# Window creation: %s\n", win_calls[b->win_kind]);
    if (b->info->syncs)
        printf("# Synchronization: %s\n", sync_calls[b->sync]);
    if (b->info->window)
        printf("# Operations per synchronization: %d\n", b->window);
    printf("# Ranks: %d\n", b->nranks);
    printf("%s\n", column_headers[b->info->unit]);
    fflush(stdout);
}

void bench_print_row(const struct bench *b, size_t size, double value)
{
    int decimals = b->info->unit == BENCH_UNIT_LATENCY && value < 1.0 ? 3 : 2;

    if (b->rank != 0)
        return;
    printf("%-10zu %17.*f\n", size, decimals, value);
    fflush(stdout);
}

void bench_rounds(const struct bench *b, size_t size, int *iters_p, int *warmup_p)
{
    if (size > BENCH_LARGE) {
        *iters_p = b->iters >= 10 ? b->iters / 10 : 1;
        /* At least one round when any was asked for: the first round at a
         * new size is the first touch of most of its pages. */
        *warmup_p = b->warmup > 0 && b->warmup < 10 ? 1 : b->warmup / 10;
    } else {
        *iters_p = b->iters;
        *warmup_p = b->warmup;
    }
}

/* ---- windows ---------------------------------------------------------------- */

static void *page_alloc(size_t bytes)
{
    void *p = NULL;
    long page = sysconf(_SC_PAGESIZE);

    if (posix_memalign(&p, page > 0 ? (size_t)page : 4096, bytes) != 0) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", prog_name, bytes);
        MPI_Abort(MPI_COMM_WORLD, BENCH_EXIT_MPI);
    }
    memset(p, 0, bytes);
    return p;
}

/* Reports that the library could not make the window and ends the job. */
static void win_failed(const struct bench *b, const char *call, int code)
{
    char msg[MPI_MAX_ERROR_STRING + 1];
    int len = 0;

    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        len = snprintf(msg, sizeof msg, "error code %d", code);
    msg[len] = '\0';
    fprintf(stderr, "%s: rank %d: %s failed: %s: the MPI library cannot run -w %s\n", prog_name,
            b->rank, call, msg, win_names[b->win_kind]);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, BENCH_EXIT_MPI);
    exit(BENCH_EXIT_MPI);
}

void bench_win_open(struct bench *b, size_t bytes)
{
    MPI_Aint base;
    int rc;

    if (bytes < 64)
        bytes = 64;
    b->mem_bytes = bytes;
    b->mem = NULL;
    switch (b->win_kind) {
    case BENCH_WIN_CREATE:
        b->mem = page_alloc(bytes);
        rc = MPI_Win_create(b->mem, (MPI_Aint)bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &b->win);
        if (rc != MPI_SUCCESS)
            win_failed(b, "MPI_Win_create", rc);
        break;
    case BENCH_WIN_ALLOCATE:
        rc = MPI_Win_allocate((MPI_Aint)bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &b->mem,
                              &b->win);
        if (rc != MPI_SUCCESS)
            win_failed(b, "MPI_Win_allocate", rc);
        break;
    default:
        b->mem = page_alloc(bytes);
        rc = MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &b->win);
        if (rc != MPI_SUCCESS)
            win_failed(b, "MPI_Win_create_dynamic", rc);
        rc = MPI_Win_attach(b->win, b->mem, (MPI_Aint)bytes);
        if (rc != MPI_SUCCESS)
            win_failed(b, "MPI_Win_attach", rc);
        break;
    }
    BENCH_MPI(MPI_Win_set_errhandler(b->win, MPI_ERRORS_RETURN));

    b->disp = calloc((size_t)b->nranks, sizeof *b->disp);
    if (b->win_kind == BENCH_WIN_DYNAMIC) {
        BENCH_MPI(MPI_Get_address(b->mem, &base));
        BENCH_MPI(MPI_Allgather(&base, 1, MPI_AINT, b->disp, 1, MPI_AINT, MPI_COMM_WORLD));
    }
    bench_print_header(b);
}

void bench_win_close(struct bench *b)
{
    if (b->win_kind == BENCH_WIN_DYNAMIC)
        BENCH_MPI(MPI_Win_detach(b->win, b->mem));
    BENCH_MPI(MPI_Win_free(&b->win));
    if (b->win_kind != BENCH_WIN_ALLOCATE)
        free(b->mem);
    b->mem = NULL;
    free(b->disp);
    b->disp = NULL;
}

void bench_local_begin(struct bench *b)
{
    BENCH_MPI(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, b->rank, 0, b->win));
}

void bench_local_end(struct bench *b)
{
    BENCH_MPI(MPI_Win_unlock(b->rank, b->win));
}

/* ---- timed loops ---------------------------------------------------------- */

static int ping_pong(const struct bench *b)
{
    return b->sync == BENCH_SYNC_FENCE || b->sync == BENCH_SYNC_PSCW;
}

int bench_latency_origin(const struct bench *b)
{
    return b->rank == 0 || (b->rank == 1 && ping_pong(b));
}

int bench_latency_target(const struct bench *b)
{
    return b->rank == 1 || (b->rank == 0 && ping_pong(b));
}

void bench_win_clear(struct bench *b, size_t len)
{
    bench_local_begin(b);
    memset(b->mem, 0, len);
    bench_local_end(b);
}

int bench_win_check(struct bench *b, size_t size, size_t len, uint64_t seed)
{
    int bad;

    bench_local_begin(b);
    bad = bench_check(b, "window", size, b->mem, len, seed);
    bench_local_end(b);
    return bad;
}

double bench_latency(struct bench *b, size_t size, bench_op_fn op, void *arg)
{
    int n, w, total, peer = b->peer;
    double t0 = 0, t1 = 0;
    MPI_Win win = b->win;

    bench_rounds(b, size, &n, &w);
    total = n + w;
    BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
    switch (b->sync) {
    case BENCH_SYNC_LOCK:
        if (b->rank == 0) {
            for (long it = 0; it < total; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                BENCH_MPI(MPI_Win_lock(MPI_LOCK_SHARED, peer, 0, win));
                op(b, peer, size, it, arg);
                BENCH_MPI(MPI_Win_unlock(peer, win));
            }
            t1 = MPI_Wtime();
        }
        break;
    case BENCH_SYNC_FLUSH:
    case BENCH_SYNC_FLUSH_LOCAL:
        if (b->rank == 0) {
            int local = b->sync == BENCH_SYNC_FLUSH_LOCAL;

            BENCH_MPI(MPI_Win_lock(MPI_LOCK_SHARED, peer, 0, win));
            for (long it = 0; it < total; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                op(b, peer, size, it, arg);
                if (local)
                    BENCH_MPI(MPI_Win_flush_local(peer, win));
                else
                    BENCH_MPI(MPI_Win_flush(peer, win));
            }
            t1 = MPI_Wtime();
            BENCH_MPI(MPI_Win_unlock(peer, win));
        }
        break;
    case BENCH_SYNC_LOCK_ALL:
        if (b->rank == 0) {
            for (long it = 0; it < total; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                BENCH_MPI(MPI_Win_lock_all(0, win));
                op(b, peer, size, it, arg);
                BENCH_MPI(MPI_Win_unlock_all(win));
            }
            t1 = MPI_Wtime();
        }
        break;
    case BENCH_SYNC_FENCE:
        for (long it = 0; it < total; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            BENCH_MPI(MPI_Win_fence(0, win));
            if (b->rank == 0)
                op(b, peer, size, it, arg);
            BENCH_MPI(MPI_Win_fence(0, win));
            if (b->rank == 1)
                op(b, peer, size, it, arg);
            BENCH_MPI(MPI_Win_fence(0, win));
        }
        t1 = MPI_Wtime();
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
        n *= 2;
        break;
    case BENCH_SYNC_PSCW:
        for (long it = 0; it < total; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            if (b->rank == 0) {
                BENCH_MPI(MPI_Win_start(b->peer_group, 0, win));
                op(b, peer, size, it, arg);
                BENCH_MPI(MPI_Win_complete(win));
                BENCH_MPI(MPI_Win_post(b->peer_group, 0, win));
                BENCH_MPI(MPI_Win_wait(win));
            } else if (b->rank == 1) {
                BENCH_MPI(MPI_Win_post(b->peer_group, 0, win));
                BENCH_MPI(MPI_Win_wait(win));
                BENCH_MPI(MPI_Win_start(b->peer_group, 0, win));
                op(b, peer, size, it, arg);
                BENCH_MPI(MPI_Win_complete(win));
            }
        }
        t1 = MPI_Wtime();
        n *= 2;
        break;
    default:
        break;
    }
    BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
    return (t1 - t0) / n;
}

double bench_stream(struct bench *b, size_t size, int both, bench_op_fn op, void *arg,
                    int *iters_p)
{
    int n, w, total, peer = b->peer, nops = b->window;
    int origin = b->rank == 0 || (both && b->rank == 1);
    double t0 = 0, t1 = 0;
    MPI_Win win = b->win;

    bench_rounds(b, size, &n, &w);
    total = n + w;
    *iters_p = n;
    BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
    switch (b->sync) {
    case BENCH_SYNC_LOCK:
    case BENCH_SYNC_LOCK_ALL:
        if (b->rank == 0) {
            int all = b->sync == BENCH_SYNC_LOCK_ALL;

            for (long it = 0; it < total; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                if (all)
                    BENCH_MPI(MPI_Win_lock_all(0, win));
                else
                    BENCH_MPI(MPI_Win_lock(MPI_LOCK_SHARED, peer, 0, win));
                for (int j = 0; j < nops; j++)
                    op(b, peer, size, j, arg);
                if (all)
                    BENCH_MPI(MPI_Win_unlock_all(win));
                else
                    BENCH_MPI(MPI_Win_unlock(peer, win));
            }
            t1 = MPI_Wtime();
        }
        break;
    case BENCH_SYNC_FLUSH:
    case BENCH_SYNC_FLUSH_LOCAL:
        if (b->rank == 0) {
            int local = b->sync == BENCH_SYNC_FLUSH_LOCAL;

            BENCH_MPI(MPI_Win_lock(MPI_LOCK_SHARED, peer, 0, win));
            for (long it = 0; it < total; it++) {
                if (it == w)
                    t0 = MPI_Wtime();
                for (int j = 0; j < nops; j++)
                    op(b, peer, size, j, arg);
                if (local)
                    BENCH_MPI(MPI_Win_flush_local(peer, win));
                else
                    BENCH_MPI(MPI_Win_flush(peer, win));
            }
            t1 = MPI_Wtime();
            BENCH_MPI(MPI_Win_unlock(peer, win));
        }
        break;
    case BENCH_SYNC_FENCE:
        for (long it = 0; it < total; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            BENCH_MPI(MPI_Win_fence(0, win));
            if (origin)
                for (int j = 0; j < nops; j++)
                    op(b, peer, size, j, arg);
            BENCH_MPI(MPI_Win_fence(0, win));
        }
        t1 = MPI_Wtime();
        BENCH_MPI(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
        break;
    case BENCH_SYNC_PSCW:
        if (b->rank > 1)
            break;
        for (long it = 0; it < total; it++) {
            if (it == w)
                t0 = MPI_Wtime();
            if (!origin || both)
                BENCH_MPI(MPI_Win_post(b->peer_group, 0, win));
            if (origin) {
                BENCH_MPI(MPI_Win_start(b->peer_group, 0, win));
                for (int j = 0; j < nops; j++)
                    op(b, peer, size, j, arg);
                BENCH_MPI(MPI_Win_complete(win));
            }
            if (!origin || both)
                BENCH_MPI(MPI_Win_wait(win));
        }
        t1 = MPI_Wtime();
        break;
    default:
        break;
    }
    BENCH_MPI(MPI_Barrier(MPI_COMM_WORLD));
    return t1 - t0;
}

void bench_op_put_slot(struct bench *b, int target, size_t size, long slot, void *arg)
{
    MPI_Aint off = (MPI_Aint)(slot * (long)size);

    BENCH_MPI(MPI_Put((unsigned char *)arg + off, (int)size, MPI_BYTE, target,
                      b->disp[target] + off, (int)size, MPI_BYTE, b->win));
}

void bench_op_get_slot(struct bench *b, int target, size_t size, long slot, void *arg)
{
    MPI_Aint off = (MPI_Aint)(slot * (long)size);

    BENCH_MPI(MPI_Get((unsigned char *)arg + off, (int)size, MPI_BYTE, target,
                      b->disp[target] + off, (int)size, MPI_BYTE, b->win));
}

/* ---- data ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Eight bytes of the pattern of `seed` from offset 8 * k, none 0 or 0xff. */
static uint64_t pattern_word(uint64_t seed, uint64_t k)
{
    uint64_t w = mix64(seed ^ (k * 0xD6E8FEB86659FD93ull)), out = 0;

    for (int i = 0; i < 8; i++) {
        unsigned v = (unsigned)(w >> (8 * i)) & 0xff;

        if (v == 0)
            v = 0x5a;
        else if (v == 0xff)
            v = 0xa5;
        out |= (uint64_t)v << (8 * i);
    }
    return out;
}

unsigned char bench_pattern(uint64_t seed, size_t off)
{
    return (unsigned char)(pattern_word(seed, off / 8) >> (8 * (off % 8)));
}

uint64_t bench_seed(size_t size, int rank)
{
    return mix64(mix64((uint64_t)size + 1) ^ ((uint64_t)rank + 0x1000));
}

/* The eight bytes of the pattern of `seed` from offset 8 * k into out[]. */
static void pattern_bytes(uint64_t seed, uint64_t k, unsigned char out[8])
{
    uint64_t w = pattern_word(seed, k);

    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(w >> (8 * i));
}

void bench_fill(void *buf, size_t len, uint64_t seed)
{
    unsigned char *p = buf, tail[8];
    size_t i = 0;

    for (; i + 8 <= len; i += 8)
        pattern_bytes(seed, i / 8, p + i);
    if (i < len) {
        pattern_bytes(seed, i / 8, tail);
        memcpy(p + i, tail, len - i);
    }
}

int bench_data_error(const struct bench *b, size_t size, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "DATA ERROR %s: rank %d: size %zu: ", b->info->name, b->rank, size);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (-w %s", win_names[b->win_kind]);
    if (b->info->syncs)
        fprintf(stderr, " -s %s", sync_names[b->sync]);
    fprintf(stderr, ")\n");
    fflush(stderr);
    return 1;
}

int bench_check(const struct bench *b, const char *what, size_t size, const void *buf,
                size_t len, uint64_t seed)
{
    const unsigned char *p = buf;
    unsigned char want[8];

    for (size_t i = 0; i < len; i += 8) {
        size_t n = len - i < 8 ? len - i : 8;

        pattern_bytes(seed, i / 8, want);
        if (memcmp(p + i, want, n) == 0)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (p[i + k] != want[k]) {
                size_t nbad = 0;

                for (size_t j = i + k; j < len; j++)
                    nbad += p[j] != bench_pattern(seed, j);
                return bench_data_error(b, size,
                                        "%s: byte %zu of %zu is 0x%02x, expected 0x%02x "
                                        "(%zu bytes differ)",
                                        what, i + k, len, p[i + k], want[k], nbad);
            }
        }
    }
    return 0;
}

int bench_any(int bad)
{
    int any = 0;

    BENCH_MPI(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    return any;
}

/* The body of the streaming put benchmarks (prma_put_bw, prma_put_rate):
 * for each size, rank 0 puts -W messages to consecutive places of rank 1's
 * window per synchronization (bench_stream); rank 1 checks every byte of
 * them; the row is MB/s (rate == 0) or messages per second (rate != 0).
 * Returns the program's exit status. */
int bench_put_stream_main(const struct bench_info *info, int *argc, char ***argv, int rate)
{
    struct bench b;
    unsigned char *src;
    int bad = 0;

    bench_init(&b, info, argc, argv);
    src = malloc(b.max_size * (size_t)b.window);
    bench_win_open(&b, b.max_size * (size_t)b.window);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k], bytes = size * (size_t)b.window;
        int n;
        double t;

        bench_fill(src, bytes, bench_seed(size, b.rank));
        bench_win_clear(&b, bytes);
        t = bench_stream(&b, size, 0, bench_op_put_slot, src, &n);
        if (b.rank == 1) {
            bad = bench_win_check(&b, size, bytes, bench_seed(size, 0));
        }
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, rate ? (double)b.window * n / t
                                           : (double)bytes * n / t / 1e6);
    }
    bench_win_close(&b);
    free(src);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}

/* The body of prma_fop_latency and prma_cas_latency after their bench_info:
 * op (on a struct bench_counter) takes ticket k of a 64-bit counter at the
 * target, fetching into results[k], so afterwards the fetched values must
 * read 0, 1, 2, ... and the counter the number of operations. what names
 * the operation in a DATA ERROR. Returns the program's exit status. */
int bench_counter_main(const struct bench_info *info, int *argc, char ***argv, bench_op_fn op,
                       const char *what)
{
    struct bench b;
    struct bench_counter c;
    int n, w, bad = 0;
    double t;

    bench_init(&b, info, argc, argv);
    bench_rounds(&b, sizeof(int64_t), &n, &w);
    c.results = malloc((size_t)(n + w) * sizeof *c.results);
    memset(c.results, 0xff, (size_t)(n + w) * sizeof *c.results);
    bench_win_open(&b, sizeof(int64_t));
    bench_win_clear(&b, sizeof(int64_t));
    t = bench_latency(&b, sizeof(int64_t), op, &c);
    if (bench_latency_origin(&b))
        for (long k = 0; k < n + w && !bad; k++)
            if (c.results[k] != k)
                bad = bench_data_error(&b, sizeof(int64_t),
                                       "%s %ld fetched %" PRId64 ", expected %ld", what, k,
                                       c.results[k], k);
    if (bench_latency_target(&b)) {
        int64_t got;

        bench_local_begin(&b);
        memcpy(&got, b.mem, sizeof got);
        bench_local_end(&b);
        if (got != n + w)
            bad = bench_data_error(&b, sizeof(int64_t),
                                   "the counter is %" PRId64 " after %d operations (%s)", got,
                                   n + w, what);
    }
    bad = bench_any(bad);
    if (!bad)
        bench_print_row(&b, sizeof(int64_t), t * 1e6);
    bench_win_close(&b);
    free(c.results);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}

static void latency_put_op(struct bench *b, int target, size_t size, long it, void *src)
{
    BENCH_MPI(MPI_Put(src, (int)size, MPI_BYTE, target, b->disp[target], (int)size, MPI_BYTE,
                      b->win));
}

static void latency_get_op(struct bench *b, int target, size_t size, long it, void *dst)
{
    BENCH_MPI(MPI_Get(dst, (int)size, MPI_BYTE, target, b->disp[target], (int)size, MPI_BYTE,
                      b->win));
}

/* The body of prma_put_latency (get == 0) and prma_get_latency after their
 * bench_info: bench_latency of one MPI_Put (MPI_Get) per size; afterwards
 * every target checks that its origin's bytes landed in its window (every
 * origin that it holds its target's). Returns the program's exit status. */
int bench_xfer_latency_main(const struct bench_info *info, int *argc, char ***argv, int get)
{
    struct bench b;
    unsigned char *buf;
    int bad = 0;

    bench_init(&b, info, argc, argv);
    buf = malloc(b.max_size);
    bench_win_open(&b, b.max_size);
    for (int k = 0; k < b.nsizes && !bad; k++) {
        size_t size = b.sizes[k];
        double t;

        if (get) {
            memset(buf, 0, size);
            bench_local_begin(&b);
            bench_fill(b.mem, size, bench_seed(size, b.rank));
            bench_local_end(&b);
        } else {
            bench_fill(buf, size, bench_seed(size, b.rank));
            bench_win_clear(&b, size);
        }
        t = bench_latency(&b, size, get ? latency_get_op : latency_put_op, buf);
        if (get && bench_latency_origin(&b))
            bad = bench_check(&b, "get buffer", size, buf, size, bench_seed(size, b.peer));
        else if (!get && bench_latency_target(&b))
            bad = bench_win_check(&b, size, size, bench_seed(size, b.peer));
        bad = bench_any(bad);
        if (!bad)
            bench_print_row(&b, size, t * 1e6);
    }
    bench_win_close(&b);
    free(buf);
    return bench_finish(&b, bad ? BENCH_EXIT_DATA : 0);
}
