/*
 * epoch.c - the epoch state machine (fence epochs for now).
 */
#include "epoch.h"

#include <stdatomic.h>
#include "log.h"
#include "win.h"

#define FENCE_MODES \
    (PRMA_MODE_NOSTORE | PRMA_MODE_NOPUT | PRMA_MODE_NOPRECEDE | PRMA_MODE_NOSUCCEED)

int prma__epoch_fence(struct prma_win *win, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    int status;

    if (mode & ~FENCE_MODES)
        return PRMA_ERR_ASSERT;
    if (ep->kind != PRMA_EPOCH_NONE && ep->kind != PRMA_EPOCH_FENCE)
        return PRMA_ERR_RMA_SYNC;

    /* Completion of everything this epoch started, at its targets, then
     * make the stores visible before the others leave the barrier. */
    status = prma__win_complete(win);
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
    ep->kind = (mode & PRMA_MODE_NOSUCCEED) ? PRMA_EPOCH_NONE : PRMA_EPOCH_FENCE;
    ep->mode = mode;
    ep->nops = 0;
    return PRMA_OK;
}

int prma__epoch_check_access(const struct prma_win *win, int target)
{
    return win->epoch.kind == PRMA_EPOCH_FENCE ? PRMA_OK : PRMA_ERR_RMA_SYNC;
}

int prma__epoch_check_free(const struct prma_win *win)
{
    /* A fence epoch ends with the window; every other kind must be closed
     * by its own call first. */
    switch (win->epoch.kind) {
    case PRMA_EPOCH_NONE:
    case PRMA_EPOCH_FENCE:
        return PRMA_OK;
    }
    return PRMA_ERR_RMA_SYNC;
}
