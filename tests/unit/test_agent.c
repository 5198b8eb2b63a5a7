/*
 * test_agent.c - the node agent (src/agent.c): a target that polls does
 * the small operations its same-node origins hand it; one that stops
 * polling leaves them to the system calls, each operation done once.
 *
 * Threaded jobs (job.h): rank 1 owns a window on malloc'd memory, which
 * rank 0 reaches through a shm-cma port; rank 1 polls with prma_progress()
 * while rank 0 works on it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "context.h"
#include "ctl.h"
#include "portrma.h"
#include "settings.h"
#include "job.h"
#include "unit.h"

#define WORDS 512

enum { POLL_ALWAYS, POLL_THEN_STOP, POLL_NEVER };

struct agent_case {
    int                  polling;  /* POLL_* of rank 1 */
    int                  rounds;   /* at least; rank 0 says how many at the end */
    _Atomic int          done;     /* rank 0 finished its rounds */
    struct prma_context *target;   /* rank 1's */
    unsigned long        served;   /* rank 1's count at the end */
};

#define MAX_ROUNDS 200000

/* Go on past c->rounds until what the case is about has happened: the
 * target served (it may start polling late on a busy machine), or this
 * origin withdrew a request (the target stopped polling with one posted). */
static int more_rounds(struct agent_case *c, struct rank *r, int i)
{
    if (i < c->rounds)
        return 1;
    if (i >= MAX_ROUNDS)
        return 0;
    if (c->polling == POLL_ALWAYS)
        return atomic_load(&c->target->agent_served) == 0;
    if (c->polling == POLL_THEN_STOP)
        return atomic_load(&r->ctx->agent_withdrawn) == 0;
    return 0;
}

static void nap_us(long us)
{
    struct timespec ts = { 0, us * 1000 };

    nanosleep(&ts, NULL);
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void agent_body(struct rank *r)
{
    struct agent_case *c = r->job->user;
    int64_t *mem = calloc(WORDS, sizeof(int64_t));
    prma_win_h win;

    RCHECK(r, mem != NULL);
    if (r->rank == 1)
        c->target = r->ctx;  /* before the creation's collectives */
    RCHECK_STATUS(r, prma_win_create(r->ctx, &r->coll, mem, WORDS * sizeof(int64_t), 8, &win),
                  PRMA_OK);
    if (r->failures > 0)
        return;
    if (r->rank == 0) {
        int64_t one = 1, old, big[40], back[40], cmp, seen;

        RCHECK_STR(r, prma_win_port_kind(win, 1), "shm-cma");
        RCHECK_STATUS(r, prma_win_lock(win, PRMA_LOCK_SHARED, 1, 0), PRMA_OK);
        int i;

        for (i = 0; more_rounds(c, r, i); i++) {
            int64_t v = 1000 + i, got = -1;

            for (int k = 0; k < 40; k++)
                big[k] = i * 100 + k;
            /* 8 and 320 bytes (more than a request holds), read back. */
            RCHECK_STATUS(r, prma_win_put(win, &v, 8, 1, 1, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_put(win, big, sizeof(big), 1, 100, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_flush(win, 1), PRMA_OK);
            RCHECK_STATUS(r, prma_win_get(win, &got, 8, 1, 1, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_get(win, back, sizeof(back), 1, 100, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_flush(win, 1), PRMA_OK);
            RCHECK_INT(r, got, v);
            RCHECK(r, memcmp(back, big, sizeof(big)) == 0);
            /* Accumulate, fetch-and-op, compare-and-swap on word 0. */
            RCHECK_STATUS(r, prma_win_accumulate(win, PRMA_OP_SUM, PRMA_TYPE_INT64, &one, 1,
                                                 NULL, 1, 0, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_fetch_op(win, PRMA_OP_SUM, 8, 1, &one, &old, 1, 0),
                          PRMA_OK);
            RCHECK_INT(r, old, 3 * i + 1);
            cmp = 3 * i + 2;
            v   = 3 * i + 3;
            RCHECK_STATUS(r, prma_win_compare_swap(win, 8, &v, &cmp, &seen, 1, 0), PRMA_OK);
            RCHECK_INT(r, seen, 3 * i + 2);
            /* A compare that fails changes nothing. */
            RCHECK_STATUS(r, prma_win_compare_swap(win, 8, &one, &cmp, &seen, 1, 0), PRMA_OK);
            RCHECK_INT(r, seen, 3 * i + 3);
        }
        RCHECK_STATUS(r, prma_win_unlock(win, 1), PRMA_OK);
        if (c->polling == POLL_THEN_STOP)
            RCHECK(r, atomic_load(&r->ctx->agent_withdrawn) > 0);
        c->rounds = i;
        atomic_store(&c->done, 1);
    } else {
        /* POLL_THEN_STOP: poll for 200 us, compute for 200 us (requests
         * posted in that time are withdrawn when the lease lapses), ... */
        while (!atomic_load(&c->done)) {
            if (c->polling == POLL_ALWAYS ||
                (c->polling == POLL_THEN_STOP && now_us() / 200 % 2 == 0))
                prma_progress(r->ctx);
            else if (c->polling == POLL_NEVER)
                nap_us(20);
        }
        prma_agent_idle(r->ctx);
    }
    job_barrier(r);
    if (r->rank == 1) {
        RCHECK_INT(r, mem[0], 3 * c->rounds);
        RCHECK_INT(r, mem[1], 1000 + c->rounds - 1);
        for (int k = 0; k < 40; k++)
            RCHECK_INT(r, mem[100 + k], (c->rounds - 1) * 100 + k);
        c->served = atomic_load(&r->ctx->agent_served);
    }
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    free(mem);
}

static unsigned long run_case(const char *name, int polling, int rounds)
{
    struct rank ranks[2];
    struct agent_case c = { .polling = polling, .rounds = rounds };
    struct job job;

    job_init(&job, 2, agent_body);
    job.user = &c;
    job_run(name, &job, ranks);
    return c.served;
}

/* Every small operation goes to the polling target (none is left to the
 * system calls but the large ones). */
static void test_agent_polling_target_serves(void **state)
{
    unsigned long served = run_case(__func__, POLL_ALWAYS, 200);

    assert_true(served > 0);
}

/* A target that polls in stretches: origins withdraw what it did not take
 * and do it themselves; every result is still exact. */
static void test_agent_target_that_stops_polling_leaves_it_to_origins(void **state)
{
    run_case(__func__, POLL_THEN_STOP, 2000);
}

/* A target that never polls serves nothing; the results are the same. */
static void test_agent_idle_target_serves_nothing(void **state)
{
    assert_int_equal(run_case(__func__, POLL_NEVER, 100), 0);
}

/* PORTRMA_AGENT=off: nothing is handed over, even to a target that polls. */
static void test_agent_setting_off_hands_nothing(void **state)
{
    assert_int_equal(setenv("PORTRMA_AGENT", "off", 1), 0);
    prma__config_load();
    assert_int_equal(prma__config.agent, 0);
    assert_int_equal(run_case(__func__, POLL_ALWAYS, 100), 0);
}

static int agent_env_teardown(void **state)
{
    unsetenv("PORTRMA_AGENT");
    prma__config_load();
    unit_watchdog_disarm();
    return prma__config.agent == 1 ? 0 : -1;
}

/* A slot is line-aligned and a small request shares the header's line. */
static void test_agent_slots_are_lines(void **state)
{
    assert_int_equal(sizeof(struct prma_agent_slot) % 64, 0);
    assert_int_equal(offsetof(struct prma_agent_area, slot) % 64, 0);
    assert_true(offsetof(struct prma_agent_slot, data) + 8 <= 64);
    assert_true(sizeof(((struct prma_agent_slot *)0)->data) >= PRMA_AGENT_INLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_guarded(test_agent_polling_target_serves),
        unit_test_guarded(test_agent_target_that_stops_polling_leaves_it_to_origins),
        unit_test_guarded(test_agent_idle_target_serves_nothing),
        cmocka_unit_test_setup_teardown(test_agent_setting_off_hands_nothing,
                                        unit_watchdog_setup, agent_env_teardown),
        unit_test_guarded(test_agent_slots_are_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
