/*
 * win_allocate.c - MPI_Win_allocate's memory, whoever provides it (with
 * portrma forced onto UCX over UCX's shared-memory transports, UCX
 * allocates it; elsewhere it is portrma's memfd):
 *
 *  1. at sizes from 1 byte to 1 MiB, puts and gets to the next and from
 *     the previous rank move the right bytes in fence, lock_all and PSCW
 *     epochs (the first two copy through a mapping where one exists, PSCW
 *     takes the message path);
 *  2. accumulates (MPI_SUM of ints, every rank to every rank, up to 1 MiB:
 *     several agent messages each), MPI_Fetch_and_op and
 *     MPI_Compare_and_swap give the right sums and the right old values;
 *  3. with portrma loaded: MPI_Win_shared_query hands out the next rank's
 *     part where it can be mapped, and that part holds what was put there;
 *     the memory is UCX's, not a memfd, exactly when the run forces UCX
 *     over transports that include sm;
 *  4. 200 windows made, used and freed leave no mapping and no descriptor
 *     behind (/proc/self/maps and /proc/self/fd, counted after a warm-up
 *     that fills portrma's caches).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define CYCLES 200
#define WARMUP 12
#define SLACK  4  /* lines or descriptors the MPI library may add meanwhile */

static int rank, nranks, next, prev;

/* The name of the mapping that holds addr ("" for an anonymous one). */
static void mapping_of(const void *addr, char *name, size_t len)
{
    char line[1024];
    FILE *f = fopen("/proc/self/maps", "r");
    uintptr_t a = (uintptr_t)addr;

    CHECK(f != NULL);
    name[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;
        int off = 0;

        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || a < lo || a >= hi)
            continue;
        snprintf(name, len, "%s", off > 0 ? line + off : "");
        name[strcspn(name, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;

    CHECK(f != NULL);
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;

    CHECK(d != NULL);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static int env_has(const char *name, const char *word)
{
    const char *v = getenv(name);

    return v != NULL && strstr(v, word) != NULL;
}

/* 3. Whose memory, and shared_query. */
static void check_memory(MPI_Win win, void *base, size_t size, const char *what)
{
    int forced = env_has("PORTRMA_TRANSPORT", "ucx");
    int sm = getenv("UCX_TLS") == NULL || env_has("UCX_TLS", "sm") || env_has("UCX_TLS", "all");
    char name[512];
    MPI_Aint qsize;
    int unit;
    void *q;

    mapping_of(base, name, sizeof(name));
    if (forced && sm && getenv("PORTRMA_GUARD") == NULL)
        CHECKF(strstr(name, "memfd:") == NULL, "%s: forced UCX over sm, the window is \"%s\"",
               what, name);
    else
        CHECKF(strstr(name, "memfd:portrma") != NULL, "%s: the window is \"%s\", not a memfd",
               what, name);
    /* The next rank's part, where this process can map it. */
    MPI_CHECK(MPI_Win_shared_query(win, next, &qsize, &unit, &q));
    CHECKF(qsize == 0 || qsize == (MPI_Aint)size, "%s: shared_query gives %ld bytes of %zu",
           what, (long)qsize, size);
    if (qsize > 0) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, next, 0, win));
        VERIFY_PATTERN(q, size, prma_seed(rank, size, 1), 0, "%s: shared_query's view of %d",
                       what, next);
        MPI_CHECK(MPI_Win_unlock(next, win));
    }
    /* On one host there is always a view: UCX's mapping, or portrma's of
     * the memfd. */
    if (getenv("PRMA_TEST_HOSTS") == NULL || atoi(getenv("PRMA_TEST_HOSTS")) <= 1)
        CHECKF(qsize == (MPI_Aint)size, "%s: no shared_query view of rank %d", what, next);
}

/* 1. Puts and gets in three kinds of epoch. */
static void check_rma(size_t size, int with_portrma)
{
    unsigned char *src = prma_xmalloc(size), *dst = prma_xmalloc(size), *base;
    MPI_Group world, gnext, gprev;
    char what[64];
    MPI_Win win;

    snprintf(what, sizeof(what), "%zu bytes", size);
    MPI_CHECK(MPI_Win_allocate((MPI_Aint)size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win));

    /* Fence: a put to the next rank, then a get of it back. */
    prma_fill(src, size, prma_seed(rank, size, 1), 0);
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(src, (int)size, MPI_BYTE, next, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    VERIFY_PATTERN(base, size, prma_seed(prev, size, 1), 0, "%s: fence put from %d", what, prev);
    memset(dst, PRMA_SENTINEL2, size);
    MPI_CHECK(MPI_Get(dst, (int)size, MPI_BYTE, next, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    VERIFY_PATTERN(dst, size, prma_seed(rank, size, 1), 0, "%s: fence get from %d", what, next);
    if (with_portrma)
        check_memory(win, base, size, what);

    /* lock_all: a get of what the previous rank holds, a put to the next. */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    prma_fill(src, size, prma_seed(rank, size, 2), 0);
    MPI_CHECK(MPI_Win_lock_all(0, win));
    memset(dst, PRMA_SENTINEL2, size);
    MPI_CHECK(MPI_Get(dst, (int)size, MPI_BYTE, prev, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_flush(prev, win));
    VERIFY_PATTERN(dst, size, prma_seed(prev == 0 ? nranks - 1 : prev - 1, size, 1), 0,
                   "%s: lock_all get from %d", what, prev);
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock_all(0, win));
    MPI_CHECK(MPI_Put(src, (int)size, MPI_BYTE, next, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_flush(next, win));
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    VERIFY_PATTERN(base, size, prma_seed(prev, size, 2), 0, "%s: lock_all put from %d", what,
                   prev);
    MPI_CHECK(MPI_Win_unlock(rank, win));

    /* PSCW: exposed to the previous rank, access to the next. */
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world));
    MPI_CHECK(MPI_Group_incl(world, 1, &next, &gnext));
    MPI_CHECK(MPI_Group_incl(world, 1, &prev, &gprev));
    prma_fill(src, size, prma_seed(rank, size, 3), 0);
    MPI_CHECK(MPI_Win_post(gprev, 0, win));
    MPI_CHECK(MPI_Win_start(gnext, 0, win));
    MPI_CHECK(MPI_Put(src, (int)size, MPI_BYTE, next, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_complete(win));
    MPI_CHECK(MPI_Win_wait(win));
    VERIFY_PATTERN(base, size, prma_seed(prev, size, 3), 0, "%s: PSCW put from %d", what, prev);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_post(gprev, 0, win));
    MPI_CHECK(MPI_Win_start(gnext, 0, win));
    memset(dst, PRMA_SENTINEL2, size);
    MPI_CHECK(MPI_Get(dst, (int)size, MPI_BYTE, next, 0, (int)size, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_complete(win));
    MPI_CHECK(MPI_Win_wait(win));
    VERIFY_PATTERN(dst, size, prma_seed(rank, size, 3), 0, "%s: PSCW get from %d", what, next);
    MPI_CHECK(MPI_Group_free(&gnext));
    MPI_CHECK(MPI_Group_free(&gprev));
    MPI_CHECK(MPI_Group_free(&world));

    MPI_CHECK(MPI_Win_free(&win));
    free(src);
    free(dst);
}

/* 2. Accumulates of count ints from every rank to every rank, then the
 * atomics on the first long. */
static void check_acc(size_t count)
{
    int *src = prma_xmalloc(count * sizeof(int)), *base;
    long one = 1, old, mine = rank + 1, seen, want;
    MPI_Win win;

    MPI_CHECK(MPI_Win_allocate((MPI_Aint)(count * sizeof(int)), sizeof(int), MPI_INFO_NULL,
                               MPI_COMM_WORLD, &base, &win));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win));
    memset(base, 0, count * sizeof(int));
    MPI_CHECK(MPI_Win_unlock(rank, win));
    for (size_t i = 0; i < count; i++)
        src[i] = (rank + 1) * (int)(i % 1000 + 1);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock_all(0, win));
    for (int t = 0; t < nranks; t++)
        MPI_CHECK(MPI_Accumulate(src, (int)count, MPI_INT, t, 0, (int)count, MPI_INT, MPI_SUM,
                                 win));
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    for (size_t i = 0; i < count; i++)
        CHECKF(base[i] == nranks * (nranks + 1) / 2 * (int)(i % 1000 + 1),
               "%zu ints: element %zu is %d, expected %d", count, i, base[i],
               nranks * (nranks + 1) / 2 * (int)(i % 1000 + 1));
    MPI_CHECK(MPI_Win_unlock(rank, win));

    if (count * sizeof(int) >= 2 * sizeof(long)) {
        /* Rank 0's first long counts every rank's increments; its second
         * is swapped from 0 by exactly one rank. */
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        if (rank == 0) {
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
            memset(base, 0, 2 * sizeof(long));
            MPI_CHECK(MPI_Win_unlock(0, win));
        }
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_lock_all(0, win));
        for (int k = 0; k < 50; k++)
            MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_LONG, 0, 0, MPI_SUM, win));
        want = 0;
        MPI_CHECK(MPI_Compare_and_swap(&mine, &want, &seen, MPI_LONG, 0, 2, win));
        MPI_CHECK(MPI_Win_unlock_all(win));
        CHECKF(old >= 49 && old < 50L * nranks, "fetch_and_op's last old value %ld", old);
        seen = seen == 0;  /* this rank's swap took */
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &seen, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        CHECKF(seen == 1, "%ld ranks swapped from 0", seen);
        if (rank == 0) {
            long *l = (long *)(void *)base;

            MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
            CHECKF(l[0] == 50L * nranks, "the counter is %ld, expected %ld", l[0],
                   50L * nranks);
            CHECKF(l[1] >= 1 && l[1] <= nranks, "the swapped long is %ld", l[1]);
            MPI_CHECK(MPI_Win_unlock(0, win));
        }
    }
    MPI_CHECK(MPI_Win_free(&win));
    free(src);
}

/* 4. One window made, used (a put to the next rank) and freed. */
static void cycle(size_t size)
{
    unsigned char *base, b = (unsigned char)rank;
    MPI_Win win;

    MPI_CHECK(MPI_Win_allocate((MPI_Aint)size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win));
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(&b, 1, MPI_BYTE, next, (MPI_Aint)(size - 1), 1, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    CHECKF(base[size - 1] == (unsigned char)prev, "cycle of %zu bytes: 0x%02x", size,
           base[size - 1]);
    MPI_CHECK(MPI_Win_free(&win));
}

static void check_leaks(void)
{
    static const size_t sizes[] = { 8, 65536, (1u << 20) + 1 };
    long maps, fds;

    for (int i = 0; i < WARMUP; i++)
        cycle(sizes[i % 3]);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    maps = count_lines("/proc/self/maps");
    fds  = count_fds();
    for (int i = 0; i < CYCLES; i++)
        cycle(sizes[i % 3]);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECKF(count_lines("/proc/self/maps") <= maps + SLACK,
           "%d windows made and freed: %ld mappings, %ld before", CYCLES,
           count_lines("/proc/self/maps"), maps);
    CHECKF(count_fds() <= fds + SLACK, "%d windows made and freed: %ld descriptors, %ld before",
           CYCLES, count_fds(), fds);
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 1, 8, 100, 4096, 65536 + 24, 1u << 20 };
    int with_portrma;

    MPI_Init(&argc, &argv);
    prma_watchdog_arm("win_allocate", 110);
    rank   = prma_world_rank();
    nranks = prma_world_size();
    next   = (rank + 1) % nranks;
    prev   = (rank + nranks - 1) % nranks;
    with_portrma = prma_portrma_loaded();

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check_rma(sizes[i], with_portrma);
    check_acc(1);
    check_acc(100);
    check_acc((1u << 20) / sizeof(int));
    check_leaks();

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0)
        printf("win_allocate: ok (%d ranks%s)\n", nranks, with_portrma ? ", portrma" : "");
    MPI_Finalize();
    return 0;
}
