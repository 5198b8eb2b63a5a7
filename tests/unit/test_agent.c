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

#include <sys/uio.h>

#include "agent.h"
#include "context.h"
#include "msg.h"
#include "port.h"
#include "win.h"
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

/* ---- a target that stops in the middle of a larger transfer ---------- */

/* The bytes process_vm_writev wrote (the origin's own copies of a put). */
static _Atomic size_t cma_written;

ssize_t __real_process_vm_writev(pid_t pid, const struct iovec *local, unsigned long liovcnt,
                                 const struct iovec *remote, unsigned long riovcnt,
                                 unsigned long flags);
ssize_t __wrap_process_vm_writev(pid_t pid, const struct iovec *local, unsigned long liovcnt,
                                 const struct iovec *remote, unsigned long riovcnt,
                                 unsigned long flags);
ssize_t __wrap_process_vm_writev(pid_t pid, const struct iovec *local, unsigned long liovcnt,
                                 const struct iovec *remote, unsigned long riovcnt,
                                 unsigned long flags)
{
    ssize_t n = __real_process_vm_writev(pid, local, liovcnt, remote, riovcnt, flags);

    if (n > 0)
        atomic_fetch_add(&cma_written, (size_t)n);
    return n;
}

#define STOP_AT     3        /* an odd offset */
#define STOP_ROUNDS 4        /* rounds in which the target stopped mid-transfer */
#define STOP_MAX    30000    /* rounds at most (under load few rounds stop mid-way) */

struct stop_case {
    size_t               len;       /* of each put */
    unsigned char       *mem;       /* rank 1's window */
    _Atomic int          round;     /* the origin's round (it waits for ... */
    _Atomic int          polling;   /* ... the target to poll in it) */
    _Atomic int          put_done;  /* the round whose put completed */
    _Atomic int          over;
    size_t               last_len;  /* the target's piece in the round, or 0 */
    int                  stopped;   /* rounds the target stopped in the middle of */
};

static void stop_body(struct rank *r)
{
    struct stop_case *c = r->job->user;
    size_t bytes = c->len + 2 * STOP_AT;
    unsigned char *mem = calloc(1, bytes), *buf = malloc(c->len);
    prma_win_h win;

    RCHECK(r, mem != NULL && buf != NULL);
    if (r->rank == 1)
        c->mem = mem;
    RCHECK_STATUS(r, prma_win_create(r->ctx, &r->coll, mem, bytes, 1, &win), PRMA_OK);
    if (r->failures > 0)
        return;
    if (r->rank == 0) {
        RCHECK_STR(r, prma_win_port_kind(win, 1), "shm-cma");
        RCHECK_STATUS(r, prma_win_lock(win, PRMA_LOCK_SHARED, 1, 0), PRMA_OK);
        for (int i = 1; i <= STOP_MAX && c->stopped < STOP_ROUNDS && r->failures == 0; i++) {
            size_t mine;

            for (size_t k = 0; k < c->len; k++)
                buf[k] = (unsigned char)(i * 7 + k * 13 + 1) | 1;
            atomic_store(&c->round, i);
            while (atomic_load(&c->polling) != i)
                nap_us(1);
            atomic_store(&cma_written, 0);
            RCHECK_STATUS(r, prma_win_put(win, buf, c->len, 1, STOP_AT, 0), PRMA_OK);
            RCHECK_STATUS(r, prma_win_flush(win, 1), PRMA_OK);
            mine = atomic_load(&cma_written);
            atomic_store(&c->put_done, i);
            while (atomic_load(&c->polling) != -i)
                nap_us(1);
            /* Every byte there once: nothing lost ... */
            RCHECK(r, memcmp(c->mem + STOP_AT, buf, c->len) == 0);
            RCHECK(r, c->mem[0] == 0 && c->mem[STOP_AT + c->len] == 0);
            /* ... and written once: by the target (its one piece) or by
             * this origin's system calls, never both. */
            if (c->last_len > 0) {
                RCHECK_INT(r, mine + c->last_len, c->len);
                c->stopped += mine > 0;
            } else {
                RCHECK_INT(r, mine, c->len);
            }
        }
        RCHECK_STATUS(r, prma_win_unlock(win, 1), PRMA_OK);
        RCHECK(r, c->stopped >= STOP_ROUNDS);
        atomic_store(&c->over, 1);
    } else {
        for (int i = 1; !atomic_load(&c->over);) {
            if (atomic_load(&c->round) != i) {
                nap_us(1);
                continue;
            }
            /* Serve one piece, then stop polling (no lease renewed). */
            r->ctx->agent_budget = 1;
            r->ctx->agent_last_len = 0;
            prma_progress(r->ctx);
            atomic_store(&c->polling, i);
            while (r->ctx->agent_budget > 0 && atomic_load(&c->put_done) != i)
                prma_progress(r->ctx);
            while (atomic_load(&c->put_done) != i)
                nap_us(1);
            c->last_len = r->ctx->agent_budget < 0 ? r->ctx->agent_last_len : 0;
            if (c->last_len > 0)
                RCHECK(r, r->ctx->agent_last_offset >= STOP_AT &&
                              r->ctx->agent_last_offset + c->last_len <= STOP_AT + c->len);
            r->ctx->agent_budget = 0;
            atomic_store(&c->polling, -i);
            i++;
        }
        prma_agent_idle(r->ctx);
    }
    job_barrier(r);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    free(mem);
    free(buf);
}

static void run_stop_case(const char *name, size_t len)
{
    struct rank ranks[2];
    struct stop_case c = { .len = len };
    struct job job;

    job_init(&job, 2, stop_body);
    job.user = &c;
    job_run(name, &job, ranks);
}

/* A transfer through the chunks whose target serves one piece and stops:
 * the origin withdraws the others and copies them itself. */
static void test_agent_target_stops_in_the_middle_of_a_chunked_transfer(void **state)
{
    assert_true(PRMA_AGENT_BOUNCE_MAX > PRMA_AGENT_CHUNK);  /* two pieces at least */
    run_stop_case(__func__, PRMA_AGENT_BOUNCE_MAX);
}

/* ---- a dynamic window's target checks what it is asked to write -------- */

struct dyn_case {
    unsigned char *outside;  /* rank 1's memory that it never attached */
    unsigned char *region;   /* ... and its attached region */
    _Atomic int    over;
    int            by_copy;  /* calls of the fallback */
};

static int count_copy(void *arg, struct prma_msg *part)
{
    (void)part;
    ((struct dyn_case *)arg)->by_copy++;
    return PRMA_OK;  /* and writes nothing */
}

#define DYN_OUT 32768

static void dyn_body(struct rank *r)
{
    struct dyn_case *c = r->job->user;
    prma_win_h win;

    RCHECK_STATUS(r, prma_win_create_dynamic(r->ctx, &r->coll, &win), PRMA_OK);
    if (r->failures > 0)
        return;
    if (r->rank == 1) {
        c->outside = malloc(DYN_OUT);
        c->region  = calloc(1, DYN_OUT);
        RCHECK(r, c->outside != NULL && c->region != NULL);
        memset(c->outside, 0xA5, DYN_OUT);
        RCHECK_STATUS(r, prma_win_attach(win, c->region, DYN_OUT), PRMA_OK);
    }
    job_barrier(r);
    if (r->rank == 0) {
        struct prma_agent_area *a = prma__agent_area(win, win->ports[1]->mp_ctl);
        unsigned char data[8192];
        size_t lens[2] = { 8, sizeof(data) };

        RCHECK_STR(r, prma_win_port_kind(win, 1), "shm-cma");
        RCHECK(r, a != NULL);
        memset(data, 0x3C, sizeof(data));
        for (int k = 0; k < 2 && a != NULL; k++) {
            int served = 0;

            /* Puts the origin's own check would refuse, handed to the
             * target as they are: one into the region (done), one past
             * its end and one into memory never attached (refused). */
            for (int tries = 0; tries < 20000 && served < 3; tries++) {
                uint64_t at[3] = { (uint64_t)(uintptr_t)c->region + 8,
                                   (uint64_t)(uintptr_t)c->region + DYN_OUT - 4,
                                   (uint64_t)(uintptr_t)c->outside + 64 };
                struct prma_msg msg;
                int status;

                prma_msg_init(&msg, PRMA_CMD_PUT, PRMA_MSGF_SYNC);
                msg.ms_buf    = data;
                msg.ms_len    = lens[k];
                msg.ms_offset = at[served];
                c->by_copy    = 0;
                status = k == 0 ? prma__agent_call(win, 1, a, &msg)
                                : prma__agent_bulk(win, a, &msg, count_copy, c);
                if (status == PRMA_ERR_NOTSUP || c->by_copy > 0) {
                    nap_us(100);  /* the target may be off its CPU: again */
                    continue;
                }
                RCHECK_INT(r, status, served == 0 ? PRMA_OK : PRMA_ERR_RMA_RANGE);
                served++;
            }
            RCHECK_INT(r, served, 3);
        }
        for (size_t i = 0; i < sizeof(data); i++)
            if (c->region[8 + i] != 0x3C) {
                RCHECK_INT(r, i, -1);
                break;
            }
        for (size_t i = DYN_OUT - 4096; i < DYN_OUT; i++)
            RCHECK_INT(r, c->region[i], 0);
        for (size_t i = 0; i < DYN_OUT; i++)
            RCHECK_INT(r, c->outside[i], 0xA5);
        atomic_store(&c->over, 1);
    } else {
        while (!atomic_load(&c->over))
            prma_progress(r->ctx);
        prma_agent_idle(r->ctx);
    }
    job_barrier(r);
    if (r->rank == 1)
        RCHECK_STATUS(r, prma_win_detach(win, c->region), PRMA_OK);
    RCHECK_STATUS(r, prma_win_free(win), PRMA_OK);
    if (r->rank == 1) {
        free(c->outside);
        free(c->region);
    }
}

/* A dynamic window's target serves accesses inside its attached regions
 * only: a request past a region's end or outside every region (which the
 * origin's own check would have refused) is PRMA_ERR_RMA_RANGE and writes
 * nothing, whether small or in pieces. */
static void test_agent_dynamic_target_refuses_outside_its_regions(void **state)
{
    struct rank ranks[2];
    struct dyn_case c = { 0 };
    struct job job;

    job_init(&job, 2, dyn_body);
    job.user = &c;
    job_run(__func__, &job, ranks);
}

/* A slot is line-aligned and a small request shares the header's line. */
static void test_agent_slots_are_lines(void **state)
{
    assert_int_equal(sizeof(struct prma_agent_slot) % 64, 0);
    assert_int_equal(offsetof(struct prma_agent_area, slot) % 64, 0);
    assert_true(offsetof(struct prma_agent_slot, data) + 8 <= 64);
    assert_true(sizeof(((struct prma_agent_slot *)0)->data) >= PRMA_AGENT_INLINE);
    assert_int_equal(offsetof(struct prma_agent_bulk, chunk) % 64, 0);
    assert_int_equal(sizeof(struct prma_agent_chunk), 64);
    assert_int_equal(offsetof(struct prma_agent_bulk, data) % 64, 0);
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
        unit_test_guarded(test_agent_target_stops_in_the_middle_of_a_chunked_transfer),
        unit_test_guarded(test_agent_dynamic_target_refuses_outside_its_regions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
