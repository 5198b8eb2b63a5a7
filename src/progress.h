/*
 * progress.h - the progress thread (PORTRMA_PROGRESS=thread).
 */
#ifndef PRMA_PROGRESS_H
#define PRMA_PROGRESS_H

#include <stdatomic.h>
#include <ucp/api/ucp.h>
#include "portrma.h"

struct prma_progress;

/* The worker's gate: take it (1) before driving the worker, or learn that
 * another thread is driving it (0) and go on without waiting for it. */
static inline int prma__progress_gate_take(_Atomic int *gate)
{
    return atomic_load_explicit(gate, memory_order_relaxed) == 0 &&
           atomic_exchange_explicit(gate, 1, memory_order_acquire) == 0;
}

/* Give the gate back. */
static inline void prma__progress_gate_give(_Atomic int *gate)
{
    atomic_store_explicit(gate, 0, memory_order_release);
}

/* Start a thread that drives worker (made with UCP_FEATURE_WAKEUP and a
 * multi-thread mode) while the process is elsewhere: while *main_turns
 * keeps changing, the process drives the worker itself and the thread
 * naps instead of contending for it. The thread drives the worker only
 * through *gate (see prma__ucx_drive), so that it and the process's own
 * threads never drive it at once. */
int prma__progress_start(ucp_worker_h worker, _Atomic unsigned long *main_turns,
                         _Atomic int *gate, struct prma_progress **p_p);

/* Stop and join it. */
void prma__progress_stop(struct prma_progress *p);

#endif /* PRMA_PROGRESS_H */
