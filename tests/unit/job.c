/*
 * job.c - the threaded job of the window tests (job.h).
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

#include "job.h"
#include "unit.h"

void rank_fail(struct rank *r, int line, const char *fmt, ...)
{
    size_t used = strlen(r->what);
    va_list ap;

    r->failures++;
    if (used + 80 >= sizeof(r->what))
        return;
    used += (size_t)snprintf(r->what + used, sizeof(r->what) - used, "\n  rank %d line %d: ",
                             r->rank, line);
    va_start(ap, fmt);
    vsnprintf(r->what + used, sizeof(r->what) - used, fmt, ap);
    va_end(ap);
}

int job_allgather(void *arg, const void *sendbuf, void *recvbuf, size_t len)
{
    struct rank *r = arg;
    struct job *job = r->job;
    int call = r->allgathers++;
    int fail = job->fail_rank == r->rank && job->fail_call == call;

    if (len > JOB_SLICE)
        return -1;  /* the same on every rank: nobody waits */
    /* A failing rank still keeps step with the others (a collective that
     * errs locally), contributing zeros. */
    if (fail)
        memset(job->buf + (size_t)r->rank * len, 0, len);
    else
        memcpy(job->buf + (size_t)r->rank * len, sendbuf, len);
    pthread_barrier_wait(&job->bar);
    if (!fail)
        memcpy(recvbuf, job->buf, (size_t)job->n * len);
    pthread_barrier_wait(&job->bar);
    return fail ? -1 : 0;
}

int job_barrier(void *arg)
{
    struct rank *r = arg;

    r->barriers++;
    if (r->job->barrier_fails)
        return -1;
    pthread_barrier_wait(&r->job->bar);
    return 0;
}

static void *rank_main(void *arg)
{
    struct rank *r = arg;
    prma_bootstrap_t boot = {
        .rank = r->rank, .size = r->job->n, .node_id = r->job->node_of[r->rank],
    };
    int status;

    r->coll.rank      = r->rank;
    r->coll.size      = r->job->n;
    r->coll.arg       = r;
    r->coll.allgather = job_allgather;
    r->coll.barrier   = job_barrier;
    r->coll.remap     = r->job->remap;
    status = prma_init(&boot, &r->ctx);
    if (status != PRMA_OK) {
        rank_fail(r, __LINE__, "prma_init: %s", prma_status_string(status));
        /* Keep the others from waiting forever for this rank. */
        return NULL;
    }
    r->job->body(r);
    prma_finalize(r->ctx);
    return NULL;
}

void job_init(struct job *job, int n, rank_body body)
{
    memset(job, 0, sizeof(*job));
    job->n         = n;
    job->fail_rank = -1;
    job->remap     = PRMA_REMAP_OFF;
    job->body      = body;
    for (int i = 0; i < JOB_MAXRANKS; i++)
        job->node_of[i] = 1;
}

/* Run the job's body on its n rank threads (ranks: n records, filled here);
 * fail the test if any rank recorded a failure. */
void job_run(const char *name, struct job *job, struct rank *ranks)
{
    int failures = 0;

    assert_true(job->n >= 1 && job->n <= JOB_MAXRANKS);
    unit_watchdog_arm(name, UNIT_WATCHDOG_SECONDS);
    assert_int_equal(pthread_barrier_init(&job->bar, NULL, (unsigned)job->n), 0);
    memset(ranks, 0, sizeof(*ranks) * (size_t)job->n);
    for (int i = 0; i < job->n; i++) {
        ranks[i].job  = job;
        ranks[i].rank = i;
        assert_int_equal(pthread_create(&ranks[i].thread, NULL, rank_main, &ranks[i]), 0);
    }
    for (int i = 0; i < job->n; i++)
        assert_int_equal(pthread_join(ranks[i].thread, NULL), 0);
    pthread_barrier_destroy(&job->bar);
    unit_watchdog_disarm();
    for (int i = 0; i < job->n; i++) {
        if (ranks[i].failures > 0)
            print_error("%s: rank %d: %d failure(s):%s\n", name, i, ranks[i].failures,
                        ranks[i].what);
        failures += ranks[i].failures;
    }
    assert_int_equal(failures, 0);
}

