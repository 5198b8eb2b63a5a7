/*
 * bench.h - what every portrma benchmark program shares: options, window
 * creation (-w), synchronization (-s), timing, data checks and output.
 *
 * The benchmarks are written against plain MPI-3 one-sided communication, so
 * one binary runs natively (with the MPI library's own one-sided component)
 * and under portrma (preloaded). They take the shape of the OSU
 * micro-benchmarks' one-sided tests, so their numbers can be set beside
 * numbers people already have.
 *
 * Options (each program takes those that apply to it):
 *   -w create|allocate|dynamic   window: MPI_Win_create on page-aligned
 *                                malloc'd memory, MPI_Win_allocate, or
 *                                MPI_Win_create_dynamic + MPI_Win_attach with
 *                                the attached addresses exchanged
 *   -s fence|pscw|lock|flush|flush_local|lock_all   synchronization
 *   -m [min:]max                 sizes in bytes: min, then doubling, to max
 *   -i iters                     timed iterations (a tenth of them above 8 KiB)
 *   -x warmup                    untimed iterations before them (likewise)
 *   -W n                         operations per synchronization (bandwidth and
 *                                rate programs)
 *   -h                           usage on stdout
 *
 * Output, on rank 0's stdout and nothing else there: header lines that start
 * with "# " (the test, the window creation, the synchronization, ...), the
 * last of them the column header
 *   "# Size          Latency (us)", "# Size      Bandwidth (MB/s)" or
 *   "# Size    Messages/s",
 * then one row per size: "<size> <value>". Values have two decimals (OSU's
 * %.2f), except latencies below 1 us, which get three: an operation served by
 * a memcpy into a mapped window takes some tens of nanoseconds, which two
 * decimals would round to 0.05 or 0.06. Bandwidth is in MB/s of 10^6 bytes.
 * Diagnostics go to stderr.
 *
 * Every row is printed only after the data the timed loop moved has been
 * checked; a mismatch prints "DATA ERROR ..." on stderr and ends the run.
 *
 * Exit status:
 *   0  every row printed
 *   1  a data check failed (DATA ERROR on stderr)
 *   2  usage: an unknown option, a -s or -w this program does not run, a bad
 *      value, or a rank count it does not run at (the combination is skipped)
 *   3  an MPI call failed: the MPI library cannot run this combination (Open
 *      MPI's osc sm cannot make -w create or dynamic windows, for instance);
 *      the call and the library's error string are on stderr
 */
#ifndef PRMA_BENCH_H
#define PRMA_BENCH_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_EXIT_DATA  1
#define BENCH_EXIT_USAGE 2
#define BENCH_EXIT_MPI   3

/* Sizes above this many bytes run a tenth of the iterations (at least one). */
#define BENCH_LARGE 8192

enum bench_win { BENCH_WIN_CREATE, BENCH_WIN_ALLOCATE, BENCH_WIN_DYNAMIC, BENCH_WIN_COUNT };

enum bench_sync {
    BENCH_SYNC_FENCE,
    BENCH_SYNC_PSCW,
    BENCH_SYNC_LOCK,
    BENCH_SYNC_FLUSH,
    BENCH_SYNC_FLUSH_LOCAL,
    BENCH_SYNC_LOCK_ALL,
    BENCH_SYNC_COUNT
};

#define BENCH_SYNC_BIT(s)  (1u << (s))
#define BENCH_SYNCS_ALL    ((1u << BENCH_SYNC_COUNT) - 1)
#define BENCH_SYNCS_ACTIVE (BENCH_SYNC_BIT(BENCH_SYNC_FENCE) | BENCH_SYNC_BIT(BENCH_SYNC_PSCW))

enum bench_unit { BENCH_UNIT_LATENCY, BENCH_UNIT_BANDWIDTH, BENCH_UNIT_RATE };

/* What a program is: its name, what it measures and the options it takes. */
struct bench_info {
    const char *name;     /* "prma_put_latency" */
    const char *title;    /* "MPI_Put Latency Test" */
    enum bench_unit unit; /* the column it prints */
    unsigned syncs;       /* the -s it runs (BENCH_SYNC_BIT()s); 0: no -s */
    enum bench_sync sync; /* the default -s */
    size_t min_size;      /* the default -m */
    size_t max_size;
    size_t elem;       /* sizes are multiples of it (0 means 1) */
    size_t size_limit; /* the largest size it runs; 0: no limit */
    size_t after_zero; /* the size after 0; 0: the program has no size 0 */
    int iters;         /* the default -i */
    int warmup;        /* the default -x */
    int window;        /* the default -W; 0: the program takes no -W */
    int min_ranks;     /* the rank counts it runs at; max 0: any */
    int max_ranks;
    const char *help; /* what it measures, for the usage message */
};

/* One run: the options in force, the window and the ranks. */
struct bench {
    const struct bench_info *info;
    int rank;
    int nranks;
    int peer; /* the other rank of a two-rank test */
    enum bench_win win_kind;
    enum bench_sync sync;
    int iters;
    int warmup;
    int window;
    size_t *sizes; /* the sizes to run, in order */
    int nsizes;
    size_t max_size; /* the largest of them */
    MPI_Win win;
    unsigned char *mem; /* this rank's window memory */
    size_t mem_bytes;
    MPI_Aint *disp; /* per rank: the displacement of its window's byte 0 */
    MPI_Group world_group;
    MPI_Group peer_group; /* the group of `peer` alone */
    int header_printed;
};

/* An operation a timed loop repeats: `it` counts the loop's iterations from 0,
 * warm-up included (in a window of a bandwidth loop: the slot, 0..W-1). */
typedef void (*bench_op_fn)(struct bench *b, int target, size_t size, long it, void *arg);

/* Initializes MPI and parses the options; on a usage error finalizes MPI and
 * exits with BENCH_EXIT_USAGE. MPI errors are returned, not fatal, from here on
 * (see BENCH_MPI). */
void bench_init(struct bench *b, const struct bench_info *info, int *argc, char ***argv);

/* Collective: makes the window of -w with `bytes` bytes on every rank
 * (fills b->win, b->mem, b->disp) and, the first time, prints the header on
 * rank 0. A library that cannot make the window ends the run (exit 3). */
void bench_win_open(struct bench *b, size_t bytes);

/* Collective: frees the window and its memory. */
void bench_win_close(struct bench *b);

/* Frees what bench_init made and finalizes MPI; returns `status` for main. */
int bench_finish(struct bench *b, int status);

/* Prints the header lines (rank 0) unless printed already; bench_win_open
 * calls it. */
void bench_print_header(struct bench *b);

/* Prints the row of `size` (rank 0). */
void bench_print_row(const struct bench *b, size_t size, double value);

/* The timed and untimed iterations of `size`: above BENCH_LARGE a tenth of
 * -i and of -x, and at least one untimed one if -x asked for any. */
void bench_rounds(const struct bench *b, size_t size, int *iters_p, int *warmup_p);

/* Reports a failed MPI call `what` with its error `code` and ends the job with
 * BENCH_EXIT_MPI. */
__attribute__((noreturn)) void bench_mpi_failed(const char *what, int code, const char *file,
                                                int line);

#define BENCH_MPI(call)                                                                        \
    do {                                                                                       \
        int bench_rc_ = (call);                                                                \
        if (bench_rc_ != MPI_SUCCESS)                                                          \
            bench_mpi_failed(#call, bench_rc_, __FILE__, __LINE__);                            \
    } while (0)

/* ---- synchronization of local access to this rank's own window memory --- */

/* Opens (closes) an exclusive lock of this rank's own window, so that it may
 * read or write its window memory with loads and stores in either memory
 * model. Not inside an epoch. */
void bench_local_begin(struct bench *b);
void bench_local_end(struct bench *b);

/* Zero the first len bytes of this rank's window, and check them against
 * bench_fill(seed) (1: a DATA ERROR was printed), each inside a local
 * access epoch. */
void bench_win_clear(struct bench *b, size_t len);
int  bench_win_check(struct bench *b, size_t size, size_t len, uint64_t seed);

/* ---- the timed loops ------------------------------------------------------- */

/* Whether this rank issues (receives) the operations of bench_latency under
 * the run's -s: rank 0 to rank 1, and back again under fence and pscw. */
int bench_latency_origin(const struct bench *b);
int bench_latency_target(const struct bench *b);

/* Collective (two ranks): repeats `op` of `size` bytes in the OSU latency
 * pattern of the run's -s and returns the seconds per operation (on rank 0):
 *   lock         rank 0: lock(shared), op, unlock, each iteration
 *   flush        rank 0: lock(shared) once; op, flush each iteration
 *   flush_local  the same with flush_local
 *   lock_all     rank 0: lock_all, op, unlock_all, each iteration
 *   fence        rank 0: fence, op, fence, fence; rank 1: fence, fence, op,
 *                fence; half an iteration per operation
 *   pscw         rank 0: start, op, complete, post, wait; rank 1: post, wait,
 *                start, op, complete; half an iteration per operation
 * Every epoch is closed on return (a fence run ends with MPI_MODE_NOSUCCEED). */
double bench_latency(struct bench *b, size_t size, bench_op_fn op, void *arg);

/* Collective (two ranks): each iteration rank 0 (both ranks if `both`) issues
 * b->window operations of `size` bytes, slots 0..W-1, to the other rank in one
 * epoch of the run's -s (lock, lock_all, fence, pscw: one epoch per iteration;
 * flush, flush_local: one lock for the loop, a flush per iteration). Returns
 * the seconds of the timed iterations (rank 0) and their count in *iters_p. */
double bench_stream(struct bench *b, size_t size, int both, bench_op_fn op, void *arg,
                    int *iters_p);

/* The operations of the bandwidth loops: a put (get) of `size` bytes between
 * offset slot * size of the buffer `arg` and the same offset of the target's
 * window. */
void bench_op_put_slot(struct bench *b, int target, size_t size, long slot, void *arg);
void bench_op_get_slot(struct bench *b, int target, size_t size, long slot, void *arg);

/* ---- data ------------------------------------------------------------------ */

/* The byte at `off` of the pattern of `seed`: never 0 nor 0xff, so memory
 * cleared to either shows a transfer that did not happen. */
unsigned char bench_pattern(uint64_t seed, size_t off);

/* A seed for the data of `size` bytes sent by (read from) `rank`. */
uint64_t bench_seed(size_t size, int rank);

void bench_fill(void *buf, size_t len, uint64_t seed);

/* Checks buf[0..len) against the pattern of `seed`; on a mismatch prints
 * "DATA ERROR" with `what` and returns 1, else returns 0. */
int bench_check(const struct bench *b, const char *what, size_t size, const void *buf,
                size_t len, uint64_t seed);

/* Prints "DATA ERROR" with the program, rank, size and the message; returns 1. */
__attribute__((format(printf, 3, 4))) int bench_data_error(const struct bench *b, size_t size,
                                                           const char *fmt, ...);

/* Collective: whether any rank saw a data error. */
int bench_any(int bad);

/* The whole of prma_put_bw (rate == 0: MB/s) and prma_put_rate (rate != 0:
 * messages per second) after their bench_info: see bench.c. */
int bench_put_stream_main(const struct bench_info *info, int *argc, char ***argv, int rate);

/* The shared body of prma_fop_latency and prma_cas_latency (bench.c): op
 * takes ticket it of the target's 64-bit counter, fetching into
 * results[it]; compare and swap are the origin buffers of a
 * compare-and-swap in flight. */
struct bench_counter {
    int64_t *results;
    int64_t  compare;
    int64_t  swap;
};
int bench_counter_main(const struct bench_info *info, int *argc, char ***argv, bench_op_fn op,
                       const char *what);

/* The whole of prma_put_latency (get == 0) and prma_get_latency after their
 * bench_info: see bench.c. */
int bench_xfer_latency_main(const struct bench_info *info, int *argc, char ***argv, int get);

#endif
