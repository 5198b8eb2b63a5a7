/*
 * test_remap.c - moving the program's own pages into a memfd in place
 * (src/remap.c): bytes kept both ways, the two views one memory, the
 * mapping shared while moved and private after, windows over the same
 * pages counted, partial overlaps and unmovable memory refused, holes kept
 * holes, more than one piece of work, and stores of another thread during
 * the moves never lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "context.h"
#include "mem.h"
#include "portrma.h"
#include "unit.h"

static size_t page;

static int ctx_setup(void **state)
{
    prma_bootstrap_t boot = { .rank = 0, .size = 1, .node_id = 1 };
    prma_context_h ctx;

    page = (size_t)sysconf(_SC_PAGESIZE);
    if (prma_init(&boot, &ctx) != PRMA_OK)
        return -1;
    *state = ctx;
    unit_watchdog_arm("a remap test", UNIT_WATCHDOG_SECONDS);
    return 0;
}

static int ctx_teardown(void **state)
{
    unit_watchdog_disarm();
    prma_finalize(*state);
    return 0;
}

static unsigned char fill_byte(size_t i, unsigned seed)
{
    return (unsigned char)(i * 131u + seed * 7u + (i >> 12));
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = fill_byte(i, seed);
}

static int same_as_fill(const unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != fill_byte(i, seed))
            return 0;
    return 1;
}

/* len bytes of fresh private anonymous memory. */
static unsigned char *anon_map(size_t len)
{
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0);

    assert_true(m != MAP_FAILED);
    return m;
}

/* The permissions /proc/self/maps gives the mapping that holds a ("rw-s"),
 * and whether it names a memfd. */
static void maps_of(const void *a, char perms[8], int *memfd_p)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];

    strcpy(perms, "none");
    *memfd_p = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;
        char p[8];

        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && (uintptr_t)a >= lo &&
            (uintptr_t)a < hi) {
            strcpy(perms, p);
            *memfd_p = strstr(line, "/memfd:") != NULL;
            break;
        }
    }
    fclose(f);
}

/* The mapping that holds a: a memfd shared (moved), or private memory. */
static void assert_mapping(const void *a, int moved)
{
    char perms[8];
    int memfd;

    maps_of(a, perms, &memfd);
    assert_string_equal(perms, moved ? "rw-s" : "rw-p");
    assert_int_equal(memfd, moved);
}

#define assert_private(a) assert_mapping((a), 0)
#define assert_moved(a)   assert_mapping((a), 1)

/* malloc'd memory that does not start on a page, with bytes of other
 * allocations in its first and last pages: all keep their bytes. */
static void test_remap_heap_bytes_kept_both_ways(void **state)
{
    prma_context_h ctx = *state;
    size_t len = 5 * page + 100, total = len + 2 * page;
    unsigned char *block = malloc(total), *win = block + page - 40;
    struct prma_mem *mem;
    uintptr_t lo = ((uintptr_t)win) & ~(uintptr_t)(page - 1);

    assert_non_null(block);
    fill(block, total, 1);
    assert_int_equal(prma__mem_remap(ctx, win, len, &mem), PRMA_OK);
    assert_true(same_as_fill(block, total, 1));
    assert_ptr_equal(mem->user, (void *)lo);
    assert_int_equal(mem->maplen % page, 0);
    assert_true((uintptr_t)win + len <= lo + mem->maplen);
    assert_moved(win);
    assert_moved(win + len - 1);
    /* One memory, two views. */
    ((unsigned char *)mem->agent)[(uintptr_t)win - lo + 7] = 0xa5;
    assert_int_equal(win[7], 0xa5);
    win[len - 1] = 0x5a;
    assert_int_equal(((unsigned char *)mem->agent)[(uintptr_t)win - lo + len - 1], 0x5a);
    prma__mem_unremap(mem);
    assert_private(win);
    assert_int_equal(win[7], 0xa5);
    assert_int_equal(win[len - 1], 0x5a);
    win[7]       = fill_byte((size_t)(win - block) + 7, 1);
    win[len - 1] = fill_byte((size_t)(win - block) + len - 1, 1);
    assert_true(same_as_fill(block, total, 1));
    free(block);
}

/* A second window over the same pages, or within them, takes them as they
 * are (counted); one that overlaps them in part is refused; the pages go
 * back only when the last window over them does. */
static void test_remap_counts_windows_and_refuses_part_overlap(void **state)
{
    prma_context_h ctx = *state;
    size_t len = 8 * page;
    unsigned char *m = anon_map(len);
    struct prma_mem *a, *b, *c;

    fill(m, len, 2);
    assert_int_equal(prma__mem_remap(ctx, m + page, 4 * page, &a), PRMA_OK);
    assert_int_equal(prma__mem_remap(ctx, m + page, 4 * page, &b), PRMA_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(prma__mem_remap(ctx, m + 2 * page + 10, 100, &c), PRMA_OK);
    assert_ptr_equal(a, c);
    assert_int_equal(a->refs, 3);
    /* Pages 4-6: page 4 is moved, 5-6 are not. */
    assert_int_equal(prma__mem_remap(ctx, m + 4 * page, 3 * page, &c), PRMA_EASYNC);
    assert_private(m + 6 * page);
    prma__mem_unremap(a);
    prma__mem_unremap(b);
    assert_moved(m + page);
    prma__mem_unremap(a);
    assert_private(m + page);
    assert_true(same_as_fill(m, len, 2));
    munmap(m, len);
}

/* Memory that is not the program's private anonymous memory stays. */
static void test_remap_refuses_unmovable_memory(void **state)
{
    prma_context_h ctx = *state;
    unsigned char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *sh = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                             -1, 0);
    unsigned char *half = anon_map(2 * page);
    struct prma_mem *mem;

    assert_true(ro != MAP_FAILED && sh != MAP_FAILED);
    assert_int_equal(prma__mem_remap(ctx, ro, 64, &mem), PRMA_EASYNC);
    assert_int_equal(prma__mem_remap(ctx, sh, 64, &mem), PRMA_EASYNC);
    /* Half of it read-only: refused, and the writable half untouched. */
    assert_int_equal(mprotect(half + page, page, PROT_READ), 0);
    half[0] = 3;
    assert_int_equal(prma__mem_remap(ctx, half + page - 8, 16, &mem), PRMA_EASYNC);
    assert_private(half);
    assert_int_equal(half[0], 3);
    munmap(ro, page);
    munmap(sh, page);
    munmap(half, 2 * page);
}

struct stack_buf {
    unsigned char *_Atomic buf;
    _Atomic int            done;
};

/* A buffer on this thread's stack, published; kept until done. */
static void *stack_of_thread(void *arg)
{
    struct stack_buf *sb = arg;
    unsigned char buf[3 * 4096];

    memset(buf, 2, sizeof(buf));
    atomic_store(&sb->buf, buf);
    while (!atomic_load(&sb->done))
        usleep(1000);
    return NULL;
}

/* Another thread's stack (above its guard page) stays where it is; so does
 * one's own. */
static void test_remap_refuses_thread_stacks(void **state)
{
    struct stack_buf sb = { NULL, 0 };
    unsigned char mine[3 * 4096];
    struct prma_mem *mem;
    pthread_t t;

    assert_int_equal(pthread_create(&t, NULL, stack_of_thread, &sb), 0);
    while (atomic_load(&sb.buf) == NULL)
        usleep(1000);
    assert_int_equal(prma__mem_remap(*state, atomic_load(&sb.buf), 3 * 4096, &mem),
                     PRMA_EASYNC);
    atomic_store(&sb.done, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    memset(mine, 1, sizeof(mine));
    assert_int_equal(prma__mem_remap(*state, mine, sizeof(mine), &mem), PRMA_EASYNC);
}

/* The same decisions from the text of /proc/self/maps (kernels without
 * the query). */
static void test_remap_decides_alike_from_the_maps_text(void **state)
{
    prma__remap_maps_text = 1;
    test_remap_heap_bytes_kept_both_ways(state);
    test_remap_counts_windows_and_refuses_part_overlap(state);
    test_remap_refuses_unmovable_memory(state);
    test_remap_refuses_thread_stacks(state);
    prma__remap_maps_text = 0;
}

/* 64 MiB with two pages written: the memfd gets two pages of memory, not
 * 64 MiB, and the zeros read back as zeros both ways. Also more than one
 * piece of the work (32 MiB each). */
static void test_remap_keeps_holes_and_goes_in_pieces(void **state)
{
    prma_context_h ctx = *state;
    size_t len = (size_t)64 << 20;
    unsigned char *m = anon_map(len);
    struct prma_mem *mem;
    struct stat st;

    m[5]             = 9;
    m[len - page + 3] = 8;
    assert_int_equal(prma__mem_remap(ctx, m, len, &mem), PRMA_OK);
    assert_int_equal(fstat(mem->fd, &st), 0);
    assert_true((size_t)st.st_blocks * 512 <= 16 * page);
    assert_int_equal(m[5], 9);
    assert_int_equal(m[len - page + 3], 8);
    assert_int_equal(m[(size_t)40 << 20], 0);
    m[(size_t)40 << 20] = 7;  /* in the second piece */
    assert_moved(m + ((size_t)40 << 20));
    prma__mem_unremap(mem);
    assert_private(m);
    assert_private(m + ((size_t)40 << 20));
    assert_int_equal(m[5], 9);
    assert_int_equal(m[len - page + 3], 8);
    assert_int_equal(m[(size_t)40 << 20], 7);
    assert_int_equal(m[(size_t)20 << 20], 0);
    munmap(m, len);
}

/* A full 40 MiB region (two pieces), every byte checked after each move. */
static void test_remap_full_region_in_pieces(void **state)
{
    prma_context_h ctx = *state;
    size_t len = (size_t)40 << 20;
    unsigned char *m = anon_map(len);
    struct prma_mem *mem;

    fill(m, len, 3);
    assert_int_equal(prma__mem_remap(ctx, m + 1, len - 2, &mem), PRMA_OK);
    assert_true(same_as_fill(m, len, 3));
    assert_true(same_as_fill(mem->agent, len, 3));
    prma__mem_unremap(mem);
    assert_true(same_as_fill(m, len, 3));
    munmap(m, len);
}

/* ---- another thread storing during the moves ---- */

#define WORDS ((size_t)(2 << 20) / sizeof(uint64_t))  /* 2 MiB */

struct writer {
    uint64_t *words;
    _Atomic int stop;
    uint64_t    rounds;
    uint64_t    lost;  /* words that no longer held the previous round's store */
};

/* Round after round, each word must still hold what the round before
 * stored there, and gets this round's value. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    uint64_t r;

    for (r = 1; !atomic_load_explicit(&w->stop, memory_order_relaxed); r++) {
        for (size_t i = 0; i < WORDS; i += 61) {
            if (w->words[i] != (r - 1) * WORDS + i && w->lost++ == 0)
                fprintf(stderr, "word %zu: %llu after round %llu\n", i,
                        (unsigned long long)w->words[i], (unsigned long long)(r - 1));
            w->words[i] = r * WORDS + i;
        }
    }
    w->rounds = r - 1;
    return NULL;
}

static void test_remap_stores_of_another_thread_kept(void **state)
{
    prma_context_h ctx = *state;
    size_t len = WORDS * sizeof(uint64_t);
    uint64_t *m = (uint64_t *)(void *)anon_map(len);
    struct writer w = { .words = m };
    struct prma_mem *mem;
    pthread_t t;

    for (size_t i = 0; i < WORDS; i += 61)
        m[i] = i;
    assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(prma__mem_remap(ctx, m, len, &mem), PRMA_OK);
        usleep(1000);
        prma__mem_unremap(mem);
    }
    atomic_store(&w.stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(w.rounds > 0);
    assert_int_equal(w.lost, 0);
    /* Every word holds the last round's store: none was lost to a move. */
    for (size_t i = 0; i < WORDS; i += 61)
        if (m[i] != w.rounds * WORDS + i)
            fail_msg("word %zu: %llu, the last store was %llu (round %llu)", i,
                     (unsigned long long)m[i], (unsigned long long)(w.rounds * WORDS + i),
                     (unsigned long long)w.rounds);
    munmap(m, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_remap_heap_bytes_kept_both_ways, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_counts_windows_and_refuses_part_overlap,
                                        ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_refuses_unmovable_memory, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_refuses_thread_stacks, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_decides_alike_from_the_maps_text, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_keeps_holes_and_goes_in_pieces, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_full_region_in_pieces, ctx_setup,
                                        ctx_teardown),
        cmocka_unit_test_setup_teardown(test_remap_stores_of_another_thread_kept, ctx_setup,
                                        ctx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
