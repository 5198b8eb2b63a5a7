/*
 * job.h - the "threaded job" of the window tests: N threads of this
 * process, each acting as one rank with a portrma context of its own. The
 * bootstrap's collectives are a pthread barrier and a shared buffer
 * (allgather: each writes its slice, barrier, each copies all, barrier);
 * a job can make one rank's allgather fail, or every barrier, to test how
 * creation agrees on failures. Ranks claim node_of[rank] (1 by default, so
 * peers get the shm port for real: memfds are duplicated from our own pid,
 * malloc'd windows reached with process_vm_* on our own pid).
 *
 * Rank threads may not use cmocka's assertions (they longjmp into the test's
 * thread): they record failures with RCHECK*, and job_run() asserts on them
 * after joining. Every job runs under a watchdog: a hang fails the binary.
 */
#ifndef PRMA_TEST_JOB_H
#define PRMA_TEST_JOB_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "portrma.h"

#define JOB_MAXRANKS 4
#define JOB_SLICE    256  /* bytes per rank in the shared allgather buffer */

struct rank;
typedef void (*rank_body)(struct rank *r);

struct job {
    int                n;
    pthread_barrier_t  bar;
    unsigned char      buf[JOB_MAXRANKS * JOB_SLICE];
    uint64_t           node_of[JOB_MAXRANKS];  /* node_id each rank claims */
    int                fail_rank;          /* whose allgather fails, -1: none */
    int                fail_call;          /* ... on its fail_call-th call (from 0) */
    int                barrier_fails;      /* every barrier call fails */
    int                remap;              /* coll.remap of the ranks' windows: PRMA_REMAP_OFF
                                              unless a test says (malloc'd windows stay
                                              where they are, reached by process_vm_*) */
    int                param;              /* for the body */
    void              *user;               /* for the body */
    rank_body          body;
};

struct rank {
    struct job     *job;
    int             rank;
    pthread_t       thread;
    prma_context_h  ctx;
    prma_coll_t     coll;
    int             allgathers;  /* calls so far */
    int             barriers;    /* calls so far */
    int             failures;
    char            what[1024];  /* the first few failures */
};

void rank_fail(struct rank *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define RCHECK(r, cond)                                     \
    do {                                                    \
        if (!(cond))                                        \
            rank_fail((r), __LINE__, "failed: %s", #cond);  \
    } while (0)

#define RCHECK_INT(r, a, b)                                                                \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_)                                                                      \
            rank_fail((r), __LINE__, "%s == %s failed: %lld != %lld", #a, #b, a_, b_);     \
    } while (0)

#define RCHECK_STATUS(r, call, expect)                                                     \
    do {                                                                                   \
        int s_ = (call), e_ = (expect);                                                    \
        if (s_ != e_)                                                                      \
            rank_fail((r), __LINE__, "%s returned %d (%s), expected %d (%s)", #call, s_,   \
                      prma_status_string(s_), e_, prma_status_string(e_));                 \
    } while (0)

#define RCHECK_STR(r, a, b)                                                                \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                               \
            rank_fail((r), __LINE__, "%s == \"%s\" failed: got \"%s\"", #a,                \
                      b_ ? b_ : "(null)", a_ ? a_ : "(null)");                             \
    } while (0)

/* The bootstrap's collectives (also callable by bodies: job_barrier
 * synchronizes the job's threads). */
int  job_allgather(void *arg, const void *sendbuf, void *recvbuf, size_t len);
int  job_barrier(void *arg);

/* A job of n ranks running body, every rank on node 1, nothing failing. */
void job_init(struct job *job, int n, rank_body body);

/* Run the job's body on its n rank threads (ranks: n records, filled here);
 * fail the test if any rank recorded a failure. */
void job_run(const char *name, struct job *job, struct rank *ranks);
#define JOB_RUN(job, ranks) job_run(__func__, (job), (ranks))

#endif /* PRMA_TEST_JOB_H */
