/*
 * progress.h - the progress thread (PORTRMA_PROGRESS=thread).
 */
#ifndef PRMA_PROGRESS_H
#define PRMA_PROGRESS_H

#include <stdatomic.h>
#include <ucp/api/ucp.h>
#include "portrma.h"

struct prma_progress;

/* Start a thread that drives worker (made with UCP_FEATURE_WAKEUP and a
 * multi-thread mode) while the process is elsewhere: while *main_turns
 * keeps changing, the process drives the worker itself and the thread
 * naps instead of contending for it. */
int prma__progress_start(ucp_worker_h worker, _Atomic unsigned long *main_turns,
                         struct prma_progress **p_p);

/* Stop and join it. */
void prma__progress_stop(struct prma_progress *p);

#endif /* PRMA_PROGRESS_H */
