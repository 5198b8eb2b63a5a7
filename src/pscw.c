/*
 * pscw.c - generalized active target: post, start, complete, wait, test.
 *
 * A post is a message to each origin's port: an atomic add on the counter
 * for this target in the origin's control block (ctl.h: posts[target]).
 * Start returns at once; an operation to a target whose post has not
 * arrived yet waits in that target's port queue, and only then is anything
 * queued. Complete waits for the posts still missing, sends what waited,
 * completes everything at the targets, and adds one to each target's
 * completions counter; wait and test count those.
 *
 * Counters per (origin, target) pair keep epochs apart: an origin consumes
 * exactly one post of each target per epoch, so a post that arrives early
 * for the next epoch is never mistaken for the current one. Group sizes are
 * not bounded by any table.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include "ctl.h"
#include "dynamic.h"
#include "guard.h"
#include "log.h"
#include "wait.h"
#include "win.h"

#define POST_MODES  (PRMA_MODE_NOCHECK | PRMA_MODE_NOSTORE | PRMA_MODE_NOPUT)

/* The arrays of a PSCW access epoch, made on first use. */
static int pscw_ready_arrays(struct prma_win *win)
{
    struct prma_epoch *ep = &win->epoch;

    if (ep->member == NULL)
        ep->member = calloc((size_t)win->size, 1);
    if (ep->posted == NULL)
        ep->posted = calloc((size_t)win->size, 1);
    if (ep->consumed == NULL)
        ep->consumed = calloc((size_t)win->size, sizeof(*ep->consumed));
    if (ep->group == NULL)
        ep->group = calloc((size_t)win->size, sizeof(*ep->group));
    return ep->member && ep->posted && ep->consumed && ep->group ? PRMA_OK : PRMA_ERR_NOMEM;
}

static int check_ranks(const struct prma_win *win, const int *ranks, int n)
{
    if (n < 0 || n > win->size || (n > 0 && ranks == NULL))
        return PRMA_ERR_ARG;
    for (int i = 0; i < n; i++)
        if (ranks[i] < 0 || ranks[i] >= win->size)
            return PRMA_ERR_RANK;
    return PRMA_OK;
}

/* Send, in order, what waited in target's port for its post. */
static int pscw_dispatch(struct prma_win *win, int target)
{
    struct prma_port *port = win->ports[target];
    struct prma_msg *msg;
    int status = PRMA_OK, one;

    for (;;) {
        pthread_mutex_lock(&port->mp_lock);
        msg = TAILQ_FIRST(&port->mp_msgq);
        if (msg != NULL)
            TAILQ_REMOVE(&port->mp_msgq, msg, ms_link);
        pthread_mutex_unlock(&port->mp_lock);
        if (msg == NULL)
            return status;
        one = prma_sendmsg(port, msg);
        free(msg);
        if (one != PRMA_OK && one != PRMA_EASYNC && status == PRMA_OK)
            status = one;
    }
}

int prma__pscw_ready(struct prma_win *win, int target)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t arrived;

    if (ep->posted[target])
        return PRMA_OK;
    arrived = atomic_load_explicit((_Atomic uint64_t *)&win->ctl->posts[target],
                                   memory_order_acquire);
    if (arrived <= ep->consumed[target])
        return PRMA_EASYNC;
    ep->consumed[target]++;
    ep->posted[target] = 1;
    return pscw_dispatch(win, target);
}

int prma__pscw_wait_ready(struct prma_win *win, int target)
{
    struct prma_waiter wait;
    int status;

    prma__win_waiter(win, &wait);
    while ((status = prma__pscw_ready(win, target)) == PRMA_EASYNC)
        if ((status = prma__wait_turn(&wait)) != PRMA_OK)
            break;
    return status;
}

int prma_win_post(prma_win_h win, const int *ranks, int n, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t old;
    int status;

    if (mode & ~POST_MODES)
        return PRMA_ERR_ASSERT;
    if ((status = check_ranks(win, ranks, n)) != PRMA_OK)
        return status;
    prma__epoch_leave_idle_fence(win);
    if (ep->exposure != PRMA_EXPOSURE_NONE)
        return PRMA_ERR_RMA_SYNC;
    if (win->guard != NULL)
        prma__guard_post(win, mode);
    /* Local stores to the window come before any origin's access. */
    atomic_thread_fence(memory_order_seq_cst);
    for (int i = 0; i < n && !(mode & PRMA_MODE_NOCHECK); i++) {
        status = prma__win_atomic(win, ranks[i], PRMA_REGION_CTL, PRMA_CTL_POST_OFF(win->rank),
                                  8, PRMA_AOP_ADD, 1, 0, &old);
        if (status != PRMA_OK)
            return status;
    }
    ep->exposure = PRMA_EXPOSURE_PSCW;
    ep->nexposed = n;
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

int prma_win_start(prma_win_h win, const int *ranks, int n, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    int status;

    if (mode & ~PRMA_MODE_NOCHECK)
        return PRMA_ERR_ASSERT;
    if ((status = check_ranks(win, ranks, n)) != PRMA_OK)
        return status;
    prma__epoch_leave_idle_fence(win);
    if (ep->access != PRMA_ACCESS_NONE)
        return PRMA_ERR_RMA_SYNC;
    if ((status = pscw_ready_arrays(win)) != PRMA_OK)
        return status;
    for (int i = 0; i < n; i++) {
        ep->group[i]            = ranks[i];
        ep->member[ranks[i]]    = 1;
        /* NOCHECK: the target's post is known to have happened, and no
         * notification was sent for it. */
        ep->posted[ranks[i]]    = (mode & PRMA_MODE_NOCHECK) != 0;
    }
    ep->ngroup = n;
    ep->access = PRMA_ACCESS_PSCW;
    ep->mode   = mode;
    ep->nops   = 0;
    prma__dyn_synced(win);
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

int prma_win_complete(prma_win_h win)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t old;
    int status = PRMA_OK;

    if (ep->access != PRMA_ACCESS_PSCW)
        return PRMA_ERR_RMA_SYNC;
    /* Every target's post, and what waited for it. */
    for (int i = 0; status == PRMA_OK && i < ep->ngroup; i++)
        status = prma__pscw_wait_ready(win, ep->group[i]);
    /* Completed at the targets before they hear of it. */
    if (status == PRMA_OK)
        status = prma__win_complete(win);
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_deliver(win, -1, PRMA_GUARD_EPOCH_PSCW);
    for (int i = 0; status == PRMA_OK && i < ep->ngroup; i++)
        status = prma__win_atomic(win, ep->group[i], PRMA_REGION_CTL, PRMA_CTL_OFF(completes),
                                  8, PRMA_AOP_ADD, 1, 0, &old);
    for (int i = 0; i < ep->ngroup; i++) {
        ep->member[ep->group[i]] = 0;
        ep->posted[ep->group[i]] = 0;
    }
    ep->ngroup = 0;
    ep->access = PRMA_ACCESS_NONE;
    return PRMA_GUARD_SYNC(win, status);
}

int prma_win_test(prma_win_h win, int *flag_p)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t arrived;

    if (ep->exposure != PRMA_EXPOSURE_PSCW)
        return PRMA_ERR_RMA_SYNC;
    if (win->failed != PRMA_OK)
        return win->failed;
    /* Drive UCX: completions over emulated transports need it. */
    prma_progress(win->ctx);
    arrived = atomic_load_explicit((_Atomic uint64_t *)&win->ctl->completes, memory_order_acquire);
    if (arrived < ep->completes + (uint64_t)ep->nexposed) {
        *flag_p = 0;
        return PRMA_OK;
    }
    atomic_thread_fence(memory_order_seq_cst);
    ep->completes += (uint64_t)ep->nexposed;
    ep->exposure = PRMA_EXPOSURE_NONE;
    *flag_p = 1;
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

int prma_win_wait(prma_win_h win)
{
    struct prma_waiter wait;
    int status, flag = 0;

    prma__win_waiter(win, &wait);
    while ((status = prma_win_test(win, &flag)) == PRMA_OK && !flag)
        if ((status = prma__wait_turn(&wait)) != PRMA_OK)
            return status;
    return status;
}
