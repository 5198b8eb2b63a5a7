/*
 * test_dynamic.c - dynamic windows (src/dynamic.c): attach, detach, the
 * region tables and the region lookup, through the self and shm ports.
 *
 * A threaded job (job.h): N threads of this process, each one rank with a
 * portrma context of its own, all claiming one node. Peers'
 * region tables are mapped for real (their memfds duplicated from our own
 * pid), and their malloc'd regions reached with process_vm_writev/readv on
 * our own pid. Ranks tell each other their regions' addresses through
 * `shared` (they are threads of one process), between two barriers.
 *
 * Rank threads record failures with RCHECK*; the test's thread asserts on
 * them after joining. Every job runs under a watchdog.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "portrma.h"
#include "job.h"
#include "unit.h"

#define MAXRANKS JOB_MAXRANKS
#define SENTINEL 0xA5
#define NMANY    40    /* regions per rank in the growth test: more than a first table holds */

/* Addresses the ranks tell each other (they are threads of one process). */
static uint64_t shared[MAXRANKS][NMANY];

static void run(const char *name, int n, rank_body body)
{
    static struct job job;
    struct rank ranks[MAXRANKS];

    job_init(&job, n, body);
    job_run(name, &job, ranks);
}

/* Tell every rank the address of p (slot k), and wait until all have. */
static void tell(struct rank *r, int k, const void *p)
{
    shared[r->rank][k] = (uint64_t)(uintptr_t)p;
    pthread_barrier_wait(&r->job->bar);
}

static uint64_t addr_of(struct rank *r, int target, int k)
{
    return shared[target][k];
}

static unsigned char pattern(int origin, int target, size_t i)
{
    unsigned char b = (unsigned char)(0x10 + origin * 37 + target * 11 + i * 3);

    return b == SENTINEL ? (unsigned char)(b + 1) : b;
}

static int bytes_are(const unsigned char *p, size_t len, int origin, int target)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != (origin < 0 ? SENTINEL : pattern(origin, target, i)))
            return 0;
    return 1;
}

/* ---- put and get at every target's addresses ---- */

#define RLEN  1000
#define GUARD 32

static void put_get_body(struct rank *r)
{
    int n = r->job->n, me = r->rank;
    unsigned char *mem = malloc(RLEN + 2 * GUARD), *region = mem + GUARD;
    unsigned char out[MAXRANKS][RLEN], back[RLEN]; /* a part is up to RLEN */
    const size_t part = RLEN / (size_t)n;
    prma_win_attr_t attr;
    prma_win_h win;

    memset(mem, SENTINEL, RLEN + 2 * GUARD);
    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_query(win, &attr), PRMA_OK);
    RCHECK(r, attr.base == NULL && attr.size == 0 && attr.disp_unit == 1 &&
                  attr.flavor == PRMA_WIN_FLAVOR_DYNAMIC);
    for (int t = 0; t < n; t++)
        RCHECK(r, strcmp(prma_win_port_kind(win, t), t == me ? "self" : "shm-cma") == 0);
    RCHECK_STATUS(r, prma_win_attach(win, region, RLEN), PRMA_OK);
    tell(r, 0, region);

    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int t = 0; t < n; t++) {
        for (size_t i = 0; i < part; i++)
            out[t][i] = pattern(me, t, i);
        RCHECK_STATUS(r, prma_win_put(win, out[t], part, t, addr_of(r, t, 0), part * me),
                      PRMA_OK);
    }
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    for (int o = 0; o < n; o++)
        RCHECK(r, bytes_are(region + part * (size_t)o, part, o, me));
    RCHECK(r, bytes_are(mem, GUARD, -1, 0) && bytes_are(region + RLEN, GUARD, -1, 0));
    RCHECK(r, bytes_are(region + part * (size_t)n, RLEN - part * (size_t)n, -1, 0));
    for (int t = 0; t < n; t++) {
        memset(back, 0, sizeof(back));
        RCHECK_STATUS(r, prma_win_get(win, back, part, t, addr_of(r, t, 0) + part * me, 0),
                      PRMA_OK);
        RCHECK(r, bytes_are(back, part, me, t));
    }
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, region), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    free(mem);
}

static void test_dynamic_put_get_at_addresses(void **state)
{
    run(__func__, 3, put_get_body);
}

/* ---- what lies outside attached memory ---- */

static void range_body(struct rank *r)
{
    int n = r->job->n, me = r->rank, t = (me + 1) % n;
    unsigned char *mem = malloc(RLEN + 2 * GUARD), *region = mem + GUARD, b[16];
    uint64_t a;
    prma_win_h win;

    memset(mem, SENTINEL, RLEN + 2 * GUARD);
    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_attach(win, region, RLEN), PRMA_OK);
    tell(r, 0, region);
    a = addr_of(r, t, 0);
    memset(b, 0x33, sizeof(b));
    /* Outside any epoch: RMA_SYNC first. */
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, a, 0), PRMA_ERR_RMA_SYNC);
    RCHECK_STATUS(r, prma_win_lock_all(win, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, a - 8, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, a + RLEN - 4, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, b, 1, t, a, RLEN), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, UINT64_MAX - 4, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_get(win, b, 8, t, 8, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_check_access(win, t, a, RLEN - 8, 8), PRMA_OK);
    RCHECK_STATUS(r, prma_win_check_access(win, t, a, RLEN - 7, 8), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_check_access(win, n, a, 0, 8), PRMA_ERR_RANK);
    for (size_t i = 0; i < sizeof(b); i++)
        RCHECK(r, b[i] == 0x33);  /* the refused get wrote nothing */
    RCHECK_STATUS(r, prma_win_unlock_all(win), PRMA_OK);
    job_barrier(r);
    RCHECK(r, bytes_are(mem, RLEN + 2 * GUARD, -1, 0));
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    free(mem);
}

static void test_dynamic_outside_regions_is_rma_range(void **state)
{
    run(__func__, 2, range_body);
}

/* ---- a region replaced between epochs ---- */

static void replace_body(struct rank *r)
{
    static unsigned char arrays[MAXRANKS][RLEN];
    int n = r->job->n, me = r->rank, t = (me + 1) % n;
    unsigned char *mine = arrays[me], b[8];
    uint64_t old;
    prma_win_h win;

    memset(mine, SENTINEL, RLEN);
    memset(b, 0x44, sizeof(b));
    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_attach(win, mine, RLEN), PRMA_OK);
    tell(r, 0, mine);
    old = addr_of(r, t, 0);
    /* Every rank reads the others' tables once. */
    RCHECK_STATUS(r, prma_win_fence(win, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, old, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    /* The same memory again, from 100 bytes in. */
    RCHECK_STATUS(r, prma_win_detach(win, mine), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, mine), PRMA_ERR_NOTFOUND);
    RCHECK_STATUS(r, prma_win_attach(win, mine + 100, RLEN - 100), PRMA_OK);
    memset(mine, SENTINEL, RLEN);
    job_barrier(r);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOPRECEDE), PRMA_OK);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, old, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, old + 96, 0), PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_put(win, b, 8, t, old + 100, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_fence(win, PRMA_MODE_NOSUCCEED), PRMA_OK);
    RCHECK(r, bytes_are(mine, 100, -1, 0) && mine[100] == 0x44 && mine[107] == 0x44 &&
                  bytes_are(mine + 108, RLEN - 108, -1, 0));
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_dynamic_replaced_region_is_seen(void **state)
{
    run(__func__, 2, replace_body);
}

/* ---- more regions than a first table holds ---- */

static void many_body(struct rank *r)
{
    static unsigned char cells[MAXRANKS][NMANY][16];
    int n = r->job->n, me = r->rank, t = (me + 1) % n;
    unsigned char v[NMANY];
    prma_win_h win;

    memset(cells[me], SENTINEL, sizeof(cells[me]));
    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    /* Some now, and the others once peers have read the table. */
    for (int k = 0; k < NMANY / 4; k++)
        RCHECK_STATUS(r, prma_win_attach(win, cells[me][k] + 4, 8), PRMA_OK);
    for (int k = 0; k < NMANY; k++)
        shared[me][k] = (uint64_t)(uintptr_t)(cells[me][k] + 4);
    RCHECK_STATUS(r, prma_win_lock_all(win, 0), PRMA_OK);
    job_barrier(r);
    RCHECK_STATUS(r, prma_win_put(win, "x", 1, t, addr_of(r, t, 0), 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_flush_all(win), PRMA_OK);
    for (int k = NMANY / 4; k < NMANY; k++)
        RCHECK_STATUS(r, prma_win_attach(win, cells[me][k] + 4, 8), PRMA_OK);
    job_barrier(r);
    /* In the same epoch: each new region is a miss, then found. */
    for (int k = 0; k < NMANY; k++) {
        v[k] = (unsigned char)(k + 1);
        RCHECK_STATUS(r, prma_win_put(win, &v[k], 1, t, addr_of(r, t, k), 7), PRMA_OK);
        RCHECK_STATUS(r, prma_win_put(win, &v[k], 1, t, addr_of(r, t, k), 8),
                      PRMA_ERR_RMA_RANGE);
    }
    RCHECK_STATUS(r, prma_win_unlock_all(win), PRMA_OK);
    job_barrier(r);
    for (int k = 0; k < NMANY; k++) {
        RCHECK(r, cells[me][k][11] == (unsigned char)(k + 1));
        RCHECK(r, cells[me][k][12] == SENTINEL && cells[me][k][3] == SENTINEL);
    }
    for (int k = 0; k < NMANY; k++)
        RCHECK_STATUS(r, prma_win_detach(win, cells[me][k] + 4), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_dynamic_many_regions_grow_the_table(void **state)
{
    run(__func__, 3, many_body);
}

/* ---- misuse ---- */

static void misuse_body(struct rank *r)
{
    static unsigned char mem[MAXRANKS][64];
    unsigned char *m = mem[r->rank];
    prma_win_h win, other;
    size_t size, unit;
    void *base;

    RCHECK_STATUS(r, prma_win_create(r->ctx, &r->coll, m, 64, 1, &other), PRMA_OK);
    RCHECK_STATUS(r, prma_win_attach(other, m, 8), PRMA_ERR_RMA_FLAVOR);
    RCHECK_STATUS(r, prma_win_detach(other, m), PRMA_ERR_RMA_FLAVOR);
    RCHECK_STATUS(r, prma_win_free(other), PRMA_OK);

    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    RCHECK_STATUS(r, prma_win_shared_query(win, r->rank, &size, &unit, &base),
                  PRMA_ERR_RMA_FLAVOR);
    RCHECK_STATUS(r, prma_win_attach(win, NULL, 8), PRMA_ERR_ARG);
    RCHECK_STATUS(r, prma_win_attach(win, (void *)(UINTPTR_MAX - 3), 8), PRMA_ERR_ARG);
    RCHECK_STATUS(r, prma_win_attach(win, m + 8, 16), PRMA_OK);
    RCHECK_STATUS(r, prma_win_attach(win, m + 8, 16), PRMA_ERR_RMA_ATTACH);
    RCHECK_STATUS(r, prma_win_attach(win, m + 20, 16), PRMA_ERR_RMA_ATTACH);
    RCHECK_STATUS(r, prma_win_attach(win, m, 9), PRMA_ERR_RMA_ATTACH);
    RCHECK_STATUS(r, prma_win_attach(win, m + 12, 0), PRMA_ERR_RMA_ATTACH);
    RCHECK_STATUS(r, prma_win_attach(win, m, 8), PRMA_OK);       /* right before */
    RCHECK_STATUS(r, prma_win_attach(win, m + 24, 0), PRMA_OK);  /* right after, empty */
    RCHECK_STATUS(r, prma_win_attach(win, NULL, 0), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, m + 9), PRMA_ERR_NOTFOUND);
    RCHECK_STATUS(r, prma_win_detach(win, NULL), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, m + 24), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, m), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, m + 8), PRMA_OK);
    RCHECK_STATUS(r, prma_win_detach(win, m + 8), PRMA_ERR_NOTFOUND);
    /* Freed with a region still attached. */
    RCHECK_STATUS(r, prma_win_attach(win, m, 64), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_dynamic_misuse_is_refused(void **state)
{
    run(__func__, 2, misuse_body);
}

/* ---- fetch-and-op on an attached counter ---- */

#define NADD 100

static void fetch_body(struct rank *r)
{
    static uint64_t counter[2] __attribute__((aligned(16)));
    int n = r->job->n, me = r->rank;
    uint64_t one = 1, old, cur, seen, next;
    prma_win_h win;

    if (me == 0)
        counter[0] = counter[1] = 0;
    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    if (me == 0)
        RCHECK_STATUS(r, prma_win_attach(win, counter, sizeof(counter)), PRMA_OK);
    job_barrier(r);
    RCHECK_STATUS(r, prma_win_lock_all(win, 0), PRMA_OK);
    for (int k = 0; k < NADD; k++) {
        RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_SUM, 8, 0, &one, &old, 0,
                                           (uint64_t)(uintptr_t)&counter[0]),
                      PRMA_OK);
        RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_NO_OP, 8, 0, &one, &cur, 0,
                                           (uint64_t)(uintptr_t)&counter[1]),
                      PRMA_OK);
        for (;;) {
            next = cur + 1;
            RCHECK_STATUS(r, prma_win_compare_swap(win, 8, &next, &cur, &seen, 0,
                                                   (uint64_t)(uintptr_t)&counter[1]),
                          PRMA_OK);
            if (seen == cur || r->failures > 0)
                break;
            cur = seen;
        }
    }
    /* Outside the region; misaligned inside it, which the stripe lock
     * serves like any element (a read: the counters stay exact). */
    RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_SUM, 8, 0, &one, &old, 0,
                                       (uint64_t)(uintptr_t)&counter[2]),
                  PRMA_ERR_RMA_RANGE);
    RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_NO_OP, 8, 0, &one, &old, 0,
                                       (uint64_t)(uintptr_t)&counter[0] + 4),
                  PRMA_OK);
    RCHECK_STATUS(r, prma_win_unlock_all(win), PRMA_OK);
    job_barrier(r);
    RCHECK(r, counter[0] == (uint64_t)NADD * (uint64_t)n);
    RCHECK(r, counter[1] == (uint64_t)NADD * (uint64_t)n);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
}

static void test_dynamic_fetch_op_adds_up(void **state)
{
    run(__func__, 3, fetch_body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_put_get_at_addresses),
        cmocka_unit_test(test_dynamic_outside_regions_is_rma_range),
        cmocka_unit_test(test_dynamic_replaced_region_is_seen),
        cmocka_unit_test(test_dynamic_many_regions_grow_the_table),
        cmocka_unit_test(test_dynamic_misuse_is_refused),
        cmocka_unit_test(test_dynamic_fetch_op_adds_up),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
