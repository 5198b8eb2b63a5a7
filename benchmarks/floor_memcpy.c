/*
 * floor_memcpy.c - the bandwidth floor of the shm path: what one core gets
 * from memcpy, by size, in the two situations a put or get of that size can
 * meet.
 *
 *   In cache:    the same source and destination copied over and over, so
 *                both stay in whatever level of the cache holds them (past
 *                the last-level cache this is memory bandwidth too).
 *   From memory: each copy goes to the next slot of two pools four times the
 *                size of the last-level cache (and of the copy), so every copy
 *                starts cold.
 *
 * A put through a mapping on the node is one memcpy into the target's memory,
 * so a put or get bandwidth can reach these numbers and not beat them. The
 * size of the last-level cache comes from /sys (the largest cache of the CPU
 * the program runs on). The program pins itself to one CPU (-c, default the
 * one it starts on), faults every page in before timing, and reports for each
 * size and mode the best of -i trials (default 3), each of at least 64 MiB
 * copied or 4 copies. MB/s are 10^6 bytes per second, as the OSU benchmarks
 * count them.
 *
 *   prma_floor_memcpy [-m min:max] [-i trials] [-c cpu]
 *
 * No MPI: it runs on its own.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TRIAL_BYTES ((size_t)64 << 20)
/*
 * The destination pool starts this far past a page boundary: with source and
 * destination at the same offset in their pages, copies of 1 to 2 KiB would
 * run into 4 KiB aliasing, a slowdown that says nothing about memory.
 */
#define DST_SKEW 2112

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The largest cache of CPU `cpu` as /sys describes it, 0 when it says nothing. */
static size_t llc_bytes(int cpu)
{
    size_t best = 0;

    for (int i = 0; i < 16; i++) {
        char path[128], unit = 0;
        unsigned long v;
        FILE *f;

        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cache/index%d/size", cpu, i);
        f = fopen(path, "r");
        if (f == NULL)
            break;
        if (fscanf(f, "%lu%c", &v, &unit) >= 1) {
            size_t b = v;

            if (unit == 'K')
                b <<= 10;
            else if (unit == 'M')
                b <<= 20;
            else if (unit == 'G')
                b <<= 30;
            if (b > best)
                best = b;
        }
        fclose(f);
    }
    return best;
}

static void *map_bytes(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        fprintf(stderr, "prma_floor_memcpy: mmap of %zu bytes: %s\n", len, strerror(errno));
        exit(1);
    }
    memset(p, 1, len); /* fault every page in before any timing */
    return p;
}

/*
 * One trial: copies `size` bytes `n` times; slot k of the pools is used for
 * copy k when `nslots` > 1 (from memory), slot 0 every time otherwise.
 * Returns MB/s.
 */
static double trial(char *dst, const char *src, size_t size, size_t n, size_t nslots)
{
    double t0 = now(), t;
    size_t slot = 0;

    for (size_t k = 0; k < n; k++) {
        memcpy(dst + slot * size, src + slot * size, size);
        /* The copy must happen: tell the compiler its memory is observed. */
        __asm__ volatile("" : : "r"(dst) : "memory");
        if (++slot == nslots)
            slot = 0;
    }
    t = now() - t0;
    return t > 0 ? (double)size * (double)n / t / 1e6 : 0;
}

static double best_of(int trials, char *dst, const char *src, size_t size, size_t nslots)
{
    size_t n = TRIAL_BYTES / size;
    double best = 0;

    if (n < 4)
        n = 4;
    trial(dst, src, size, n < 64 ? n : 64, nslots); /* warm up */
    for (int i = 0; i < trials; i++) {
        double bw = trial(dst, src, size, n, nslots);

        if (bw > best)
            best = bw;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t min = 1, max = (size_t)64 << 20, llc, pool;
    int trials = 3, cpu = sched_getcpu(), opt;
    char *csrc, *cdst, *msrc, *mdst;
    cpu_set_t set;

    while ((opt = getopt(argc, argv, "m:i:c:")) != -1) {
        switch (opt) {
        case 'm':
            if (sscanf(optarg, "%zu:%zu", &min, &max) != 2 || min < 1 || max < min)
                goto usage;
            break;
        case 'i':
            trials = atoi(optarg);
            if (trials < 1)
                goto usage;
            break;
        case 'c':
            cpu = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc)
        goto usage;
    if (cpu < 0)
        cpu = 0;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "prma_floor_memcpy: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
        return 1;
    }
    llc = llc_bytes(cpu);
    /* Four slots at least, and four times the last-level cache (32 MiB when
     * /sys does not tell), so that no slot is still cached when it comes back. */
    pool = 4 * (llc ? llc : (size_t)32 << 20);
    if (pool < 4 * max)
        pool = 4 * max;
    csrc = map_bytes(max);
    cdst = map_bytes(max);
    msrc = map_bytes(pool);
    mdst = map_bytes(pool + DST_SKEW);

    printf("# portrma floor: single-core memcpy bandwidth\n");
    printf("# CPU %d; last-level cache %zu KiB (%s); from memory: pools of %zu MiB\n", cpu,
           llc >> 10, llc ? "/sys" : "unknown, 32 MiB assumed", pool >> 20);
    printf("# best of %d trials of at least %zu MiB; MB/s = 10^6 bytes/s\n", trials,
           TRIAL_BYTES >> 20);
    printf("# %-10s %18s %20s\n", "Size", "In cache (MB/s)", "From memory (MB/s)");
    fflush(stdout);
    for (size_t size = min; size <= max; size *= 2) {
        double in_cache = best_of(trials, cdst, csrc, size, 1);
        double from_mem = best_of(trials, mdst + DST_SKEW, msrc, size, pool / size);

        printf("%-12zu %18.2f %20.2f\n", size, in_cache, from_mem);
        fflush(stdout);
    }
    munmap(csrc, max);
    munmap(cdst, max);
    munmap(msrc, pool);
    munmap(mdst, pool + DST_SKEW);
    return 0;

usage:
    fprintf(stderr, "usage: prma_floor_memcpy [-m min:max] [-i trials] [-c cpu]\n");
    return 2;
}
