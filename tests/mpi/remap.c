/*
 * remap.c - MPI_Win_create on the program's own memory, whose pages
 * portrma moves into shared memory in place while the window lives (so
 * that same-node peers copy instead of making system calls):
 *
 *  1. a window on malloc'd memory that starts and ends inside pages shared
 *     with other bytes of the program: puts from the previous rank and
 *     gets by the next one in fence epochs move the right bytes, while the
 *     owner rewrites the bytes around the window in the same pages; after
 *     MPI_Win_free the window's and the other bytes are all as expected;
 *  2. three windows on the same pages (the same range twice and a range
 *     inside), written through each in turn, freed one after the other:
 *     the memory keeps every byte;
 *  3. a window whose pages overlap the pages of another in part, one with
 *     the info key portrma_remap=off, and one on the stack: each stays
 *     where it is, and puts and gets to them are as right as to the others;
 *  4. fetch-and-op and accumulate from every rank on rank 0's moved window
 *     (lock_all, flush): every old value seen once, the sums exact;
 *  5. a dynamic window with three regions per rank (malloc'd, moved;
 *     MPI_Alloc_mem, a memfd already; on the stack, in place): puts and
 *     gets of the next rank's regions in lock_all and fence epochs; a
 *     region detached keeps its bytes (its pages back in place), and a
 *     region attached again inside it (a new region at an address peers
 *     knew) is reached anew;
 *  6. accumulates on a dynamic window, from every rank at once (lock_all,
 *     flush) to rank 0's regions: a malloc'd one (moved: same-node origins
 *     update it in place, under the stripe locks of its pages) and one on
 *     the stack (in place: by the message path, under the same locks):
 *     get-accumulates of ones over an array across two page boundaries
 *     hand out every old value of its first and last elements exactly
 *     once, fetch-and-op and accumulate sums on both regions are exact;
 *  7. with portrma loaded and same-node peers reached by mapping (not every
 *     peer through UCX, PORTRMA_REMAP not off): /proc/self/maps shows the
 *     moved windows' pages shared (a memfd) while a window lives, private
 *     again after its last window is freed, and the others never moved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

#define FOPS 200

static int rank, nranks, next, prev, expect_moves;
static size_t page;

/* Does the mapping that holds addr name a memfd (shared)? */
static int moved(const void *addr)
{
    char line[1024];
    FILE *f = fopen("/proc/self/maps", "r");
    uintptr_t a = (uintptr_t)addr;
    int memfd = 0;

    CHECK(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
            memfd = strcmp(perms, "rw-s") == 0 && strstr(line, "/memfd:") != NULL;
            break;
        }
    }
    fclose(f);
    return memfd;
}

static void expect_moved(const void *addr, int want, const char *what)
{
    if (expect_moves)
        CHECKF(moved(addr) == want, "%s: pages %s, expected %s", what,
               moved(addr) ? "moved" : "in place", want ? "moved" : "in place");
}

/* Puts of the previous rank's pattern into our window, and gets by the
 * next rank of what the previous one put into its: fence epochs, bytes
 * [off, off + len) of a window of len bytes at least. seed tells rounds
 * apart. Meanwhile the owner writes other bytes of the same pages: around
 * (around_len bytes at around, may be NULL). */
static void put_get_round(MPI_Win win, unsigned char *base, size_t len, uint64_t seed,
                          unsigned char *around, size_t around_len)
{
    unsigned char *src = prma_xmalloc(len), *got = prma_xmalloc(len);

    prma_fill(src, len, seed + (uint64_t)rank, 0);
    memset(got, 0, len);
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(src, (int)len, MPI_BYTE, next, 0, (int)len, MPI_BYTE, win));
    if (around != NULL)
        prma_fill(around, around_len, seed + 1000, 0);
    MPI_CHECK(MPI_Win_fence(0, win));
    VERIFY_PATTERN(base, len, seed + (uint64_t)prev, 0, "window after the put from %d", prev);
    MPI_CHECK(MPI_Get(got, (int)len, MPI_BYTE, next, 0, (int)len, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    VERIFY_PATTERN(got, len, seed + (uint64_t)rank, 0, "get from %d", next);
    if (around != NULL)
        VERIFY_PATTERN(around, around_len, seed + 1000, 0, "bytes around the window");
    free(src);
    free(got);
}

/* 1. */
static void check_heap_window(void)
{
    size_t len = 3 * page + 100, total = len + 2 * page;
    unsigned char *block = prma_xmalloc(total), *win_base = block + page - 40;
    MPI_Win win;

    memset(block, 0, total);
    MPI_CHECK(MPI_Win_create(win_base, (MPI_Aint)len, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    expect_moved(win_base, 1, "heap window");
    for (uint64_t round = 1; round <= 3; round++) {
        put_get_round(win, win_base, len, round * 100, win_base - 40, 40);
        /* The bytes right after the window, in its last page. */
        prma_fill(win_base + len, 64, round, 0);
    }
    MPI_CHECK(MPI_Win_free(&win));
    expect_moved(win_base, 0, "heap window after MPI_Win_free");
    VERIFY_PATTERN(win_base, len, 300 + (uint64_t)prev, 0, "window memory after the window");
    VERIFY_PATTERN(win_base + len, 64, 3, 0, "bytes after the window");
    VERIFY_PATTERN(win_base - 40, 40, 300 + 1000, 0, "bytes before the window");
    /* The memory is the program's own again: written, read, freed. */
    memset(win_base, 7, len);
    VERIFY_CONST(win_base, len, 7, "window memory rewritten");
    free(block);
}

/* 2. */
static void check_shared_pages(void)
{
    size_t len = 4 * page;
    unsigned char *mem = aligned_alloc(page, len);
    MPI_Win a, b, c;

    CHECK(mem != NULL);
    memset(mem, 0, len);
    MPI_CHECK(MPI_Win_create(mem, (MPI_Aint)len, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &a));
    MPI_CHECK(MPI_Win_create(mem, (MPI_Aint)len, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &b));
    MPI_CHECK(MPI_Win_create(mem + page + 8, (MPI_Aint)page, 1, MPI_INFO_NULL, MPI_COMM_WORLD,
                             &c));
    expect_moved(mem, 1, "first of three windows on the same pages");
    put_get_round(a, mem, len, 10, NULL, 0);
    put_get_round(b, mem, len, 20, NULL, 0);
    put_get_round(c, mem + page + 8, page, 30, NULL, 0);
    VERIFY_PATTERN(mem, page + 8, 20 + (uint64_t)prev, 0, "bytes before window c");
    MPI_CHECK(MPI_Win_free(&a));
    expect_moved(mem, 1, "pages of two windows left");
    put_get_round(b, mem, 2 * page, 40, NULL, 0);
    MPI_CHECK(MPI_Win_free(&b));
    expect_moved(mem, 1, "pages of one window left");
    put_get_round(c, mem + page + 8, 100, 50, NULL, 0);
    MPI_CHECK(MPI_Win_free(&c));
    expect_moved(mem, 0, "pages after their last window");
    VERIFY_PATTERN(mem, page + 8, 40 + (uint64_t)prev, 0, "first bytes");
    VERIFY_PATTERN(mem + page + 8, 100, 50 + (uint64_t)prev, 0, "window c's last put");
    VERIFY_PATTERN(mem + 2 * page + 8, 2 * page - 8, 20 + (uint64_t)prev, 2 * page + 8,
                   "window b's first put, past its second and c's first");
    free(mem);
}

/* 3. */
static void check_windows_in_place(void)
{
    size_t len = 6 * page;
    unsigned char *mem = aligned_alloc(page, len), stack_mem[600];
    MPI_Info off;
    MPI_Win a, b, s, o;

    CHECK(mem != NULL);
    memset(mem, 0, len);
    MPI_CHECK(MPI_Info_create(&off));
    MPI_CHECK(MPI_Info_set(off, "portrma_remap", "off"));
    /* a: pages 0-1; b: pages 1-2, the first of them a's. */
    MPI_CHECK(MPI_Win_create(mem, (MPI_Aint)(page + 100), 1, MPI_INFO_NULL, MPI_COMM_WORLD,
                             &a));
    MPI_CHECK(MPI_Win_create(mem + page + 200, (MPI_Aint)page, 1, MPI_INFO_NULL,
                             MPI_COMM_WORLD, &b));
    MPI_CHECK(MPI_Win_create(mem + 4 * page, (MPI_Aint)page, 1, off, MPI_COMM_WORLD, &o));
    MPI_CHECK(MPI_Win_create(stack_mem, sizeof(stack_mem), 1, MPI_INFO_NULL, MPI_COMM_WORLD,
                             &s));
    expect_moved(mem, 1, "window a");
    expect_moved(mem + 2 * page, 0, "window b, part on a's pages");
    expect_moved(mem + 4 * page, 0, "window with portrma_remap=off");
    put_get_round(a, mem, page + 100, 60, NULL, 0);
    put_get_round(b, mem + page + 200, page, 70, NULL, 0);
    put_get_round(o, mem + 4 * page, page, 80, NULL, 0);
    put_get_round(s, stack_mem, sizeof(stack_mem), 90, NULL, 0);
    VERIFY_PATTERN(mem, page + 100, 60 + (uint64_t)prev, 0, "window a after b's epochs");
    MPI_CHECK(MPI_Win_free(&s));
    MPI_CHECK(MPI_Win_free(&o));
    MPI_CHECK(MPI_Win_free(&b));
    MPI_CHECK(MPI_Win_free(&a));
    expect_moved(mem, 0, "window a's pages after it");
    VERIFY_PATTERN(mem + page + 200, page, 70 + (uint64_t)prev, 0, "window b after the windows");
    MPI_CHECK(MPI_Info_free(&off));
    free(mem);
}

/* 4. */
static void check_atomics(void)
{
    size_t len = 2 * page;
    int64_t *mem = aligned_alloc(page, len), one = 1, old;
    char *seen;
    int64_t sums[4] = { 1, 2, 3, 4 };
    MPI_Win win;

    CHECK(mem != NULL);
    memset(mem, 0, len);
    MPI_CHECK(MPI_Win_create(mem, (MPI_Aint)len, sizeof(int64_t), MPI_INFO_NULL,
                             MPI_COMM_WORLD, &win));
    seen = calloc((size_t)FOPS * (size_t)nranks, 1);
    CHECK(seen != NULL);
    MPI_CHECK(MPI_Win_lock_all(0, win));
    for (int i = 0; i < FOPS; i++) {
        MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, 0, MPI_SUM, win));
        MPI_CHECK(MPI_Accumulate(sums, 4, MPI_INT64_T, 0, 8, 4, MPI_INT64_T, MPI_SUM, win));
        MPI_CHECK(MPI_Win_flush(0, win));
        CHECKF(old >= 0 && old < FOPS * nranks, "fetch-and-op old value %lld", (long long)old);
        seen[old] = 1;
    }
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, seen, FOPS * nranks, MPI_BYTE, MPI_BOR,
                            MPI_COMM_WORLD));
    for (int i = 0; i < FOPS * nranks; i++)
        CHECKF(seen[i] == 1, "old value %d never seen", i);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        CHECKF(mem[0] == FOPS * nranks, "counter %lld", (long long)mem[0]);
        for (int k = 0; k < 4; k++)
            CHECKF(mem[8 + k] == (int64_t)FOPS * nranks * sums[k], "sum %d: %lld", k,
                   (long long)mem[8 + k]);
    }
    MPI_CHECK(MPI_Win_free(&win));
    free(seen);
    free(mem);
}

/* 5. Puts of our pattern (seed) into the next rank's regions, then gets
 * of them back, in one lock_all epoch (fence: one fence epoch each);
 * afterwards our regions hold the previous rank's pattern. */
#define NREG 3
static void dyn_round(MPI_Win win, unsigned char *const *mine, const size_t *len,
                      const MPI_Aint *theirs, uint64_t seed, int fence)
{
    unsigned char *src[NREG], *got[NREG];

    for (int k = 0; k < NREG; k++) {
        src[k] = prma_xmalloc(len[k]);
        got[k] = prma_xmalloc(len[k]);
        prma_fill(src[k], len[k], seed + (uint64_t)(rank * NREG + k), 0);
        memset(got[k], 0, len[k]);
    }
    if (fence)
        MPI_CHECK(MPI_Win_fence(0, win));
    else
        MPI_CHECK(MPI_Win_lock_all(0, win));
    for (int k = 0; k < NREG; k++)
        MPI_CHECK(MPI_Put(src[k], (int)len[k], MPI_BYTE, next, theirs[k], (int)len[k],
                          MPI_BYTE, win));
    if (fence)
        MPI_CHECK(MPI_Win_fence(0, win));
    else
        MPI_CHECK(MPI_Win_flush(next, win));
    for (int k = 0; k < NREG; k++)
        MPI_CHECK(MPI_Get(got[k], (int)len[k], MPI_BYTE, next, theirs[k], (int)len[k],
                          MPI_BYTE, win));
    if (fence) {
        MPI_CHECK(MPI_Win_fence(0, win));
    } else {
        MPI_CHECK(MPI_Win_unlock_all(win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    }
    for (int k = 0; k < NREG; k++) {
        VERIFY_PATTERN(got[k], len[k], seed + (uint64_t)(rank * NREG + k), 0,
                       "get of region %d of rank %d", k, next);
        VERIFY_PATTERN(mine[k], len[k], seed + (uint64_t)(prev * NREG + k), 0,
                       "region %d after the puts of rank %d", k, prev);
        free(src[k]);
        free(got[k]);
    }
}

static void check_dynamic(void)
{
    unsigned char stack_mem[300], *heap = prma_xmalloc(3 * page + 50), *alloc;
    unsigned char *mine[NREG];
    size_t len[NREG] = { 3 * page + 50, 2000, sizeof(stack_mem) };
    MPI_Aint addr[NREG], *all = calloc((size_t)nranks * NREG, sizeof(MPI_Aint));
    MPI_Win win;

    CHECK(all != NULL);
    MPI_CHECK(MPI_Alloc_mem(2000, MPI_INFO_NULL, &alloc));
    mine[0] = heap;
    mine[1] = alloc;
    mine[2] = stack_mem;
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    for (int k = 0; k < NREG; k++) {
        memset(mine[k], 0, len[k]);
        MPI_CHECK(MPI_Win_attach(win, mine[k], (MPI_Aint)len[k]));
        MPI_CHECK(MPI_Get_address(mine[k], &addr[k]));
    }
    MPI_CHECK(MPI_Allgather(addr, NREG, MPI_AINT, all, NREG, MPI_AINT, MPI_COMM_WORLD));
    expect_moved(heap, 1, "attached heap region");
    expect_moved(stack_mem, 0, "attached stack region");
    dyn_round(win, mine, len, all + (size_t)next * NREG, 500, 0);
    dyn_round(win, mine, len, all + (size_t)next * NREG, 600, 1);
    /* Detached: its bytes stay, its pages go back. Then a region inside
     * it, at another address, attached anew. */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(win, heap));
    expect_moved(heap, 0, "heap region after its detach");
    VERIFY_PATTERN(heap, len[0], 600 + (uint64_t)(prev * NREG), 0, "detached heap region");
    mine[0] = heap + 8;
    len[0]  = 2 * page;
    MPI_CHECK(MPI_Win_attach(win, mine[0], (MPI_Aint)len[0]));
    MPI_CHECK(MPI_Get_address(mine[0], &addr[0]));
    expect_moved(mine[0], 1, "heap region attached again");
    MPI_CHECK(MPI_Allgather(addr, NREG, MPI_AINT, all, NREG, MPI_AINT, MPI_COMM_WORLD));
    dyn_round(win, mine, len, all + (size_t)next * NREG, 700, 0);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    for (int k = 0; k < NREG; k++)
        MPI_CHECK(MPI_Win_detach(win, mine[k]));
    MPI_CHECK(MPI_Win_free(&win));
    expect_moved(heap, 0, "heap region after the window");
    VERIFY_PATTERN(mine[0], len[0], 700 + (uint64_t)(prev * NREG), 0, "heap region at the end");
    MPI_CHECK(MPI_Free_mem(alloc));
    free(heap);
    free(all);
}

/* 6. */
#define DACC_N 1100   /* int64 elements from 64 bytes before a page's end */
#define DACC_R 40     /* get-accumulates of each rank */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void check_dynamic_acc(void)
{
    int64_t stack_mem[8], *heap = aligned_alloc(page, 4 * page), one = 1, old;
    int64_t *ones = prma_xmalloc(DACC_N * sizeof(int64_t));
    int64_t *res = prma_xmalloc(DACC_N * sizeof(int64_t));
    int64_t tickets[2][DACC_R], *all = prma_xmalloc(sizeof(int64_t) * 2 * DACC_R * (size_t)nranks);
    int64_t sums[3] = { 5, -7, 1 << 20 };
    size_t first = page / sizeof(int64_t) - 8;   /* array index 0 in heap */
    MPI_Aint addr[2], base[2];
    MPI_Win win;

    CHECK(heap != NULL);
    memset(heap, 0, 4 * page);
    memset(stack_mem, 0, sizeof(stack_mem));
    for (int i = 0; i < DACC_N; i++)
        ones[i] = 1;
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_attach(win, heap, (MPI_Aint)(4 * page)));
    MPI_CHECK(MPI_Win_attach(win, stack_mem, (MPI_Aint)sizeof(stack_mem)));
    MPI_CHECK(MPI_Get_address(heap, &addr[0]));
    MPI_CHECK(MPI_Get_address(stack_mem, &addr[1]));
    if (rank == 0) {
        base[0] = addr[0];
        base[1] = addr[1];
    }
    MPI_CHECK(MPI_Bcast(base, 2, MPI_AINT, 0, MPI_COMM_WORLD));
    expect_moved(heap, 1, "attached heap region (accumulates)");
    MPI_CHECK(MPI_Win_lock_all(0, win));
    for (int i = 0; i < DACC_R; i++) {
        MPI_CHECK(MPI_Get_accumulate(ones, DACC_N, MPI_INT64_T, res, DACC_N, MPI_INT64_T, 0,
                                     base[0] + (MPI_Aint)(first * sizeof(int64_t)), DACC_N,
                                     MPI_INT64_T, MPI_SUM, win));
        MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, base[0], MPI_SUM, win));
        MPI_CHECK(MPI_Accumulate(sums, 3, MPI_INT64_T, 0, base[0] + 8, 3, MPI_INT64_T, MPI_SUM,
                                 win));
        MPI_CHECK(MPI_Accumulate(sums, 3, MPI_INT64_T, 0, base[1], 3, MPI_INT64_T, MPI_SUM,
                                 win));
        MPI_CHECK(MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, base[1] + 24, MPI_SUM, win));
        MPI_CHECK(MPI_Win_flush(0, win));
        tickets[0][i] = res[0];
        tickets[1][i] = res[DACC_N - 1];
    }
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Allgather(tickets, 2 * DACC_R, MPI_INT64_T, all, 2 * DACC_R, MPI_INT64_T,
                            MPI_COMM_WORLD));
    for (int e = 0; e < 2; e++) {
        int64_t *got = prma_xmalloc(sizeof(int64_t) * DACC_R * (size_t)nranks);

        for (int o = 0; o < nranks; o++)
            memcpy(got + (size_t)o * DACC_R, all + ((size_t)o * 2 + (size_t)e) * DACC_R,
                   sizeof(int64_t) * DACC_R);
        qsort(got, (size_t)DACC_R * (size_t)nranks, sizeof(int64_t), cmp_i64);
        for (int i = 0; i < DACC_R * nranks; i++)
            CHECKF(got[i] == i, "element %s: old value %lld where %d was due",
                   e == 0 ? "first" : "last", (long long)got[i], i);
        free(got);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        int64_t total = (int64_t)DACC_R * nranks;

        CHECKF(heap[0] == total, "heap counter %lld", (long long)heap[0]);
        CHECKF(stack_mem[3] == total, "stack counter %lld", (long long)stack_mem[3]);
        for (int k = 0; k < 3; k++) {
            CHECKF(heap[1 + k] == total * sums[k], "heap sum %d: %lld", k, (long long)heap[1 + k]);
            CHECKF(stack_mem[k] == total * sums[k], "stack sum %d: %lld", k,
                   (long long)stack_mem[k]);
        }
        for (size_t i = 0; i < DACC_N; i++)
            CHECKF(heap[first + i] == total, "array element %zu: %lld", i,
                   (long long)heap[first + i]);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(win, heap));
    MPI_CHECK(MPI_Win_detach(win, stack_mem));
    MPI_CHECK(MPI_Win_free(&win));
    free(heap);
    free(ones);
    free(res);
    free(all);
}

int main(int argc, char **argv)
{
    const char *transport = getenv("PORTRMA_TRANSPORT"), *remap = getenv("PORTRMA_REMAP");

    MPI_Init(&argc, &argv);
    prma_watchdog_arm("remap", 110);
    rank   = prma_world_rank();
    nranks = prma_world_size();
    next   = (rank + 1) % nranks;
    prev   = (rank + nranks - 1) % nranks;
    page   = (size_t)sysconf(_SC_PAGESIZE);
    expect_moves = prma_portrma_loaded() && (transport == NULL || strcmp(transport, "ucx") != 0) &&
                   (remap == NULL || strcmp(remap, "off") != 0);

    check_heap_window();
    check_shared_pages();
    check_windows_in_place();
    check_atomics();
    check_dynamic();
    check_dynamic_acc();

    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0)
        printf("remap: ok (%d ranks%s)\n", nranks, expect_moves ? ", pages moved" : "");
    MPI_Finalize();
    return 0;
}
