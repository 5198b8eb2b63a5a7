/*
 * epoch.c - the epoch state machine.
 *
 * What each synchronization call requires; anything else is
 * PRMA_ERR_RMA_SYNC (the README has the same table):
 *
 *   call                   requires
 *   ---------------------  ----------------------------------------------------
 *   fence                  no PSCW or passive epoch open
 *   start                  no access epoch open (an idle fence epoch counts as none)
 *   complete               a start epoch open
 *   post                   no exposure epoch open (idle fence: none)
 *   wait, test             a post epoch open
 *   lock(t)                no access epoch but other locks; t not locked yet;
 *                          the window not created with no_locks
 *   unlock(t)              t locked by lock
 *   lock_all               no access epoch open; not no_locks
 *   unlock_all             a lock_all epoch open
 *   flush*(t), flush*_all  a lock or lock_all epoch open (t locked, for flush(t))
 *   put/get/atomics to t   a fence epoch, t in the start group, t locked, or lock_all
 *   free                   no epoch open but a fence epoch
 *   win_sync               always
 */
#include "epoch.h"

#include <stdatomic.h>
#include <stdlib.h>
#include "dynamic.h"
#include "guard.h"
#include "log.h"
#include "win.h"

#define FENCE_MODES \
    (PRMA_MODE_NOSTORE | PRMA_MODE_NOPUT | PRMA_MODE_NOPRECEDE | PRMA_MODE_NOSUCCEED)

void prma__epoch_leave_idle_fence(struct prma_win *win)
{
    struct prma_epoch *ep = &win->epoch;

    if (ep->access == PRMA_ACCESS_FENCE && ep->nops == 0) {
        ep->access   = PRMA_ACCESS_NONE;
        ep->exposure = PRMA_EXPOSURE_NONE;
    }
}

int prma__epoch_fence(struct prma_win *win, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    int status;

    if (mode & ~FENCE_MODES)
        return PRMA_ERR_ASSERT;
    if ((ep->access != PRMA_ACCESS_NONE && ep->access != PRMA_ACCESS_FENCE) ||
        (ep->exposure != PRMA_EXPOSURE_NONE && ep->exposure != PRMA_EXPOSURE_FENCE))
        return PRMA_ERR_RMA_SYNC;

    /* Completion of everything this epoch started, at its targets, then
     * make the stores visible before the others leave the barrier. */
    status = prma__win_complete(win);
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_deliver(win, -1, PRMA_GUARD_EPOCH_FENCE);
    if (status != PRMA_OK)
        return status;
    atomic_thread_fence(memory_order_seq_cst);

    /* With NOPRECEDE and NOSUCCEED on every rank (MPI requires both to be
     * given by all if by any), no RMA touches memory on either side of this
     * fence: the next fence orders everything, so no barrier is needed. */
    if ((mode & (PRMA_MODE_NOPRECEDE | PRMA_MODE_NOSUCCEED)) !=
        (PRMA_MODE_NOPRECEDE | PRMA_MODE_NOSUCCEED)) {
        status = prma__win_barrier(win);
        if (status != PRMA_OK)
            return status;
        atomic_thread_fence(memory_order_seq_cst);
    }
    if (mode & PRMA_MODE_NOSUCCEED) {
        ep->access   = PRMA_ACCESS_NONE;
        ep->exposure = PRMA_EXPOSURE_NONE;
    } else {
        ep->access   = PRMA_ACCESS_FENCE;
        ep->exposure = PRMA_EXPOSURE_FENCE;
    }
    ep->mode = mode;
    ep->nops = 0;
    ep->streamed = 0;
    prma__dyn_synced(win);
    return win->guard != NULL ? prma__guard_leave(win, PRMA_GUARD_EV_FENCE, mode, PRMA_OK)
                              : PRMA_OK;
}

int prma__epoch_check_access(const struct prma_win *win, int target)
{
    const struct prma_epoch *ep = &win->epoch;

    switch (ep->access) {
    case PRMA_ACCESS_FENCE:
    case PRMA_ACCESS_LOCK_ALL:
        return PRMA_OK;
    case PRMA_ACCESS_PSCW:
        return target < 0 || ep->member[target] ? PRMA_OK : PRMA_ERR_RMA_SYNC;
    case PRMA_ACCESS_LOCK:
        return target < 0 || ep->locks[target] != PRMA_LOCKED_NONE ? PRMA_OK
                                                                    : PRMA_ERR_RMA_SYNC;
    case PRMA_ACCESS_NONE:
        break;
    }
    return PRMA_ERR_RMA_SYNC;
}

int prma__epoch_check_free(const struct prma_win *win)
{
    const struct prma_epoch *ep = &win->epoch;

    /* A fence epoch ends with the window; every other kind must be closed
     * by its own call first. */
    if ((ep->access == PRMA_ACCESS_NONE || ep->access == PRMA_ACCESS_FENCE) &&
        (ep->exposure == PRMA_EXPOSURE_NONE || ep->exposure == PRMA_EXPOSURE_FENCE))
        return PRMA_OK;
    return PRMA_ERR_RMA_SYNC;
}

void prma__epoch_fini(struct prma_epoch *ep)
{
    free(ep->locks);
    free(ep->group);
    free(ep->member);
    free(ep->posted);
    free(ep->consumed);
    free(ep->exposed);
    free(ep->sent);
    free(ep->expect);
    free(ep->posts_sent);
    free(ep->applied);
}
