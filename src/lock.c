/*
 * lock.c - passive target: lock, unlock, lock_all, the flush family, sync.
 *
 * A target's lock is the lock word in its control block (ctl.h), changed
 * only by atomic messages to the target's port: CPU atomics through a
 * mapping on this host, UCX atomics elsewhere. Nothing here needs the
 * target to act, so a lock completes while the target computes (over
 * transports whose atomics UCX emulates, such as tcp, the target's worker
 * must be driven: by its own portrma calls or its progress thread).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include "ctl.h"
#include "dynamic.h"
#include "guard.h"
#include "log.h"
#include "wait.h"
#include "win.h"

/* An add or compare-and-swap on target's lock word: a CPU atomic in place
 * where its control block is mapped here (the common case, written out so
 * that a lock costs little more than the atomic), a message otherwise. */
static inline int lock_word(struct prma_win *win, int target, uint32_t aop, uint64_t operand,
                            uint64_t compare, uint64_t *old_p)
{
    char *ctl = win->direct != NULL ? win->direct[target].ctl : NULL;

    if (ctl != NULL && win->failed == PRMA_OK) {
        uint64_t *word = prma__ctl_lock_word(ctl);

        if (aop == PRMA_AOP_ADD) {
            *old_p = __atomic_fetch_add(word, operand, __ATOMIC_SEQ_CST);
        } else {
            *old_p = compare;
            __atomic_compare_exchange_n(word, old_p, operand, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST);
        }
        return PRMA_OK;
    }
    return prma__win_atomic(win, target, PRMA_REGION_CTL, PRMA_CTL_OFF(lock), 8, aop, operand,
                            compare, old_p);
}

/* An atomic add on one of the control block's counters. */
static int ctl_add(struct prma_win *win, int target, uint64_t offset, uint64_t v, uint64_t *old_p)
{
    return prma__win_atomic(win, target, PRMA_REGION_CTL, offset, 8, PRMA_AOP_ADD, v, 0, old_p);
}

int prma__lock_take(struct prma_win *win, int target, int exclusive, int *fast_p)
{
    struct prma_waiter wait;
    uint64_t cur, seen, ticket, serving;
    int status, waiting = 0;

    *fast_p = 0;
    if (exclusive) {
        /* A free word (no holder, no writer waiting) is taken in one step,
         * without a ticket: nobody is queued to be overtaken. A writer that
         * comes meanwhile queues by ticket and waits for the bit as usual. */
        status = lock_word(win, target, PRMA_AOP_CSWAP, PRMA_LW_EXCLUSIVE, 0, &seen);
        if (status != PRMA_OK || seen == 0) {
            *fast_p = status == PRMA_OK;
            return status;
        }
        /* Announce the request first: new shared requests yield to it.
         * Then wait for this ticket's turn among the writers. */
        prma__win_waiter(win, &wait);
        status = lock_word(win, target, PRMA_AOP_ADD, PRMA_LW_WAITING_ONE, 0, &cur);
        if (status == PRMA_OK)
            status = ctl_add(win, target, PRMA_CTL_OFF(wticket), 1, &ticket);
        while (status == PRMA_OK) {
            status = ctl_add(win, target, PRMA_CTL_OFF(wserving), 0, &serving);
            if (status != PRMA_OK || serving == ticket)
                break;
            status = prma__wait_turn(&wait);
        }
        if (status == PRMA_OK)
            status = lock_word(win, target, PRMA_AOP_ADD, 0, 0, &cur);
        while (status == PRMA_OK) {
            if ((cur & (PRMA_LW_SHARED_MASK | PRMA_LW_EXCLUSIVE)) == 0) {
                status = lock_word(win, target, PRMA_AOP_CSWAP,
                                   (cur - PRMA_LW_WAITING_ONE) | PRMA_LW_EXCLUSIVE, cur,
                                   &seen);
                if (status == PRMA_OK && seen == cur)
                    return PRMA_OK;
                cur = seen;
                continue;
            }
            status = prma__wait_turn(&wait);
            if (status == PRMA_OK)
                status = lock_word(win, target, PRMA_AOP_ADD, 0, 0, &cur);
        }
        return status;
    }
    for (;;) {
        status = lock_word(win, target, PRMA_AOP_ADD, PRMA_LW_SHARED_ONE, 0, &cur);
        if (status != PRMA_OK)
            return status;
        if ((cur & (PRMA_LW_EXCLUSIVE | PRMA_LW_WAITING_MASK)) == 0)
            return PRMA_OK;
        /* A writer holds it or waits for it: step back until it is done. */
        if (!waiting) {
            prma__win_waiter(win, &wait);
            waiting = 1;
        }
        status = lock_word(win, target, PRMA_AOP_ADD, (uint64_t)-1, 0, &cur);
        while (status == PRMA_OK && (cur & (PRMA_LW_EXCLUSIVE | PRMA_LW_WAITING_MASK))) {
            status = prma__wait_turn(&wait);
            if (status == PRMA_OK)
                status = lock_word(win, target, PRMA_AOP_ADD, 0, 0, &cur);
        }
        if (status != PRMA_OK)
            return status;
    }
}

int prma__lock_give(struct prma_win *win, int target, int exclusive, int fast)
{
    uint64_t old;
    int status;

    /* Everything done under the lock is complete at the target first (a
     * CPU atomic on a mapped control block orders every store before it). */
    if (win->direct == NULL || win->direct[target].ctl == NULL) {
        status = prma__win_complete_target(win, target);
        if (status != PRMA_OK)
            return status;
    }
    /* Adding 2^63 clears the (set) exclusive bit; adding -1 drops a reader.
     * A writer then hands the turn to the next ticket. */
    status = lock_word(win, target, PRMA_AOP_ADD, exclusive ? PRMA_LW_EXCLUSIVE : (uint64_t)-1, 0,
                       &old);
    if (status == PRMA_OK && exclusive && !fast)
        status = ctl_add(win, target, PRMA_CTL_OFF(wserving), 1, &old);
    return status;
}

/* The per-target state and the list of touched targets, made on first use. */
static int locks_ready(struct prma_win *win)
{
    struct prma_epoch *ep = &win->epoch;

    if (ep->locks != NULL)
        return PRMA_OK;
    ep->locks = calloc((size_t)win->size, sizeof(*ep->locks));
    ep->group = calloc((size_t)win->size, sizeof(*ep->group));
    if (ep->locks == NULL || ep->group == NULL)
        return PRMA_ERR_NOMEM;
    return PRMA_OK;
}

static void locks_forget(struct prma_win *win, int target)
{
    struct prma_epoch *ep = &win->epoch;

    ep->locks[target] = PRMA_LOCKED_NONE;
    for (int i = 0; i < ep->nlocked; i++) {
        if (ep->group[i] == target) {
            ep->group[i] = ep->group[--ep->nlocked];
            break;
        }
    }
}

int prma__lock_touch(struct prma_win *win, int target)
{
    uint8_t state = win->epoch.locks[target];
    int status, fast;

    if (prma__lock_held(state))
        return PRMA_OK;
    /* The common cases, a lazy shared lock or a lock_all's first access
     * that nobody contends, in one atomic; anything else (a writer, a
     * message, a guard to tell) the way below. */
    if (win->guard == NULL && win->failed == PRMA_OK && win->direct != NULL &&
        prma__lock_touch_spot(win, target, state))
        return PRMA_OK;
    if (state != PRMA_LOCKED_NONE) {
        /* lock() left it for now: take it before the first operation. */
        status = prma__lock_take(win, target, state == PRMA_LOCKED_LAZY_EXCLUSIVE, &fast);
        if (status == PRMA_OK)
            win->epoch.locks[target] = state == PRMA_LOCKED_LAZY_SHARED ? PRMA_LOCKED_SHARED
                                       : fast ? PRMA_LOCKED_EXCLUSIVE_FAST
                                              : PRMA_LOCKED_EXCLUSIVE;
        return status;
    }
    if (win->epoch.mode & PRMA_MODE_NOCHECK) {
        prma__locks_note(win, target, PRMA_LOCKED_NOCHECK);
        return win->guard != NULL ? prma__guard_passive_open(win, target) : PRMA_OK;
    }
    status = prma__lock_take(win, target, 0, &fast);
    if (status == PRMA_OK)
        prma__locks_note(win, target, PRMA_LOCKED_SHARED);
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_passive_open(win, target);
    return status;
}

int prma_win_set_no_locks(prma_win_h win, int no_locks)
{
    win->epoch.no_locks = no_locks != 0;
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

int prma_win_no_locks(prma_win_h win)
{
    return win->epoch.no_locks;
}

/* Another process's window is reached only by operations, so its lock can
 * wait for the first one (MPI lets a lock be taken that late). Our own, a
 * shared window's (loads and stores reach those) and a guarded one's are
 * taken at once, as is none with MPI_MODE_NOCHECK. */
static inline int lock_is_lazy(const struct prma_win *win, int target, unsigned mode)
{
    return !(mode & PRMA_MODE_NOCHECK) && target != win->rank &&
           win->flavor != PRMA_WIN_FLAVOR_SHARED && win->guard == NULL;
}

static __attribute__((noinline)) int lock_full(struct prma_win *win, int lock_type, int target,
                                               unsigned mode);

int prma_win_lock(prma_win_h win, int lock_type, int target, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;

    /* The common case: a lock left for the first operation, in an epoch
     * that has begun or may begin. */
    if ((lock_type == PRMA_LOCK_SHARED || lock_type == PRMA_LOCK_EXCLUSIVE) && mode == 0 &&
        (unsigned)target < (unsigned)win->size &&
        lock_is_lazy(win, target, mode) && !ep->no_locks && ep->locks != NULL && ep->locks[target] == PRMA_LOCKED_NONE &&
        (ep->access == PRMA_ACCESS_LOCK ||
         (ep->access == PRMA_ACCESS_NONE && ep->exposure == PRMA_EXPOSURE_NONE))) {
        if (ep->access == PRMA_ACCESS_NONE) {
            ep->access   = PRMA_ACCESS_LOCK;
            ep->nops     = 0;
            ep->streamed = 0;
        }
        prma__locks_note(win, target,
                         lock_type == PRMA_LOCK_SHARED ? PRMA_LOCKED_LAZY_SHARED
                                                       : PRMA_LOCKED_LAZY_EXCLUSIVE);
        prma__dyn_synced(win);
        return PRMA_OK;
    }
    return lock_full(win, lock_type, target, mode);
}

/* Every other lock: the checks in order, then the lock taken now or left
 * for the first operation. */
static int lock_full(struct prma_win *win, int lock_type, int target, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    int status, fast = 0, lazy;

    if (lock_type != PRMA_LOCK_SHARED && lock_type != PRMA_LOCK_EXCLUSIVE)
        return PRMA_ERR_ARG;
    if (target < 0 || target >= win->size)
        return PRMA_ERR_RANK;
    if (mode & ~PRMA_MODE_NOCHECK)
        return PRMA_ERR_ASSERT;
    prma__epoch_leave_idle_fence(win);
    if (ep->no_locks || (ep->access != PRMA_ACCESS_NONE && ep->access != PRMA_ACCESS_LOCK))
        return PRMA_ERR_RMA_SYNC;
    if ((status = locks_ready(win)) != PRMA_OK)
        return status;
    if (ep->locks[target] != PRMA_LOCKED_NONE)
        return PRMA_ERR_RMA_SYNC;
    lazy = lock_is_lazy(win, target, mode);
    if (!(mode & PRMA_MODE_NOCHECK) && !lazy) {
        status = prma__lock_take(win, target, lock_type == PRMA_LOCK_EXCLUSIVE, &fast);
        if (status != PRMA_OK)
            return status;
    }
    if (ep->access == PRMA_ACCESS_NONE) {
        ep->access = PRMA_ACCESS_LOCK;
        ep->nops   = 0;
        ep->streamed = 0;
    }
    prma__locks_note(win, target,
                     (mode & PRMA_MODE_NOCHECK)              ? PRMA_LOCKED_NOCHECK
                     : lazy && lock_type == PRMA_LOCK_SHARED ? PRMA_LOCKED_LAZY_SHARED
                     : lazy                                  ? PRMA_LOCKED_LAZY_EXCLUSIVE
                     : lock_type == PRMA_LOCK_SHARED         ? PRMA_LOCKED_SHARED
                     : fast                                  ? PRMA_LOCKED_EXCLUSIVE_FAST
                                                             : PRMA_LOCKED_EXCLUSIVE);
    prma__dyn_synced(win);
    if (win->guard != NULL)
        status = prma__guard_passive_open(win, target);
    return PRMA_GUARD_SYNC(win, status);
}

/* The common case of unlock_one: a shared lock, or an exclusive one taken
 * in one step (no ticket to hand on), on a control block mapped here,
 * released by one atomic (which orders every store of the epoch before
 * it): adding -1 drops a reader, adding 2^63 clears the exclusive bit.
 * Nonzero if that was the case and it is done. */
static inline int unlock_mapped(struct prma_win *win, int target)
{
    uint8_t state = win->epoch.locks[target];
    uint64_t old;

    if ((state != PRMA_LOCKED_SHARED && state != PRMA_LOCKED_EXCLUSIVE_FAST) ||
        win->guard != NULL || win->failed != PRMA_OK || win->direct == NULL ||
        win->direct[target].ctl == NULL)
        return 0;
    lock_word(win, target, PRMA_AOP_ADD,
              state == PRMA_LOCKED_SHARED ? (uint64_t)-1 : PRMA_LW_EXCLUSIVE, 0, &old);
    locks_forget(win, target);
    return 1;
}

/* Release target's lock as its state says, and forget it. */
static int unlock_one(struct prma_win *win, int target)
{
    enum prma_lockstate state = win->epoch.locks[target];
    int status;

    if (win->guard != NULL && (status = prma__guard_deliver(win, target,
                                                            PRMA_GUARD_EPOCH_PASSIVE)) != PRMA_OK)
        prma_warn("handing RMA accesses to the exposure guard of rank %d failed: %s", target,
                  prma_status_string(status));
    if (state == PRMA_LOCKED_LAZY_SHARED || state == PRMA_LOCKED_LAZY_EXCLUSIVE)
        status = win->failed; /* never taken: no operation went there */
    else if (state == PRMA_LOCKED_NOCHECK)
        status = prma__win_complete_target(win, target);
    else
        status = prma__lock_give(win, target,
                                 state == PRMA_LOCKED_EXCLUSIVE ||
                                     state == PRMA_LOCKED_EXCLUSIVE_FAST,
                                 state == PRMA_LOCKED_EXCLUSIVE_FAST);
    locks_forget(win, target);
    return status;
}

int prma_win_unlock(prma_win_h win, int target)
{
    struct prma_epoch *ep = &win->epoch;
    int status;

    if (target < 0 || target >= win->size)
        return PRMA_ERR_RANK;
    if (ep->access != PRMA_ACCESS_LOCK || ep->locks[target] == PRMA_LOCKED_NONE)
        return PRMA_ERR_RMA_SYNC;
    status = unlock_mapped(win, target) ? PRMA_OK : unlock_one(win, target);
    ep->streamed = 0;
    if (ep->nlocked == 0)
        ep->access = PRMA_ACCESS_NONE;
    return PRMA_GUARD_SYNC(win, status);
}

int prma_win_lock_all(prma_win_h win, unsigned mode)
{
    struct prma_epoch *ep = &win->epoch;
    int status;

    if (mode & ~PRMA_MODE_NOCHECK)
        return PRMA_ERR_ASSERT;
    prma__epoch_leave_idle_fence(win);
    if (ep->no_locks || ep->access != PRMA_ACCESS_NONE)
        return PRMA_ERR_RMA_SYNC;
    if ((status = locks_ready(win)) != PRMA_OK)
        return status;
    ep->access = PRMA_ACCESS_LOCK_ALL;
    ep->mode   = mode;
    ep->nops   = 0;
    ep->streamed = 0;
    prma__dyn_synced(win);
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

int prma_win_unlock_all(prma_win_h win)
{
    struct prma_epoch *ep = &win->epoch;
    int status = PRMA_OK, one;

    if (ep->access != PRMA_ACCESS_LOCK_ALL)
        return PRMA_ERR_RMA_SYNC;
    /* Only the targets this epoch touched. */
    while (ep->nlocked > 0) {
        int target = ep->group[ep->nlocked - 1];

        one = unlock_mapped(win, target) ? PRMA_OK : unlock_one(win, target);
        if (status == PRMA_OK)
            status = one;
    }
    ep->access = PRMA_ACCESS_NONE;
    return PRMA_GUARD_SYNC(win, status);
}

/* May flush reach target now? (-1: every target) */
static int flush_check(struct prma_win *win, int target)
{
    const struct prma_epoch *ep = &win->epoch;

    if (target >= win->size || (target < 0 && target != -1))
        return PRMA_ERR_RANK;
    if (ep->access == PRMA_ACCESS_LOCK_ALL)
        return PRMA_OK;
    if (ep->access == PRMA_ACCESS_LOCK && (target == -1 || ep->locks[target] != PRMA_LOCKED_NONE))
        return PRMA_OK;
    return PRMA_ERR_RMA_SYNC;
}

static __attribute__((noinline)) int flush_slow(struct prma_win *win, int target);
static __attribute__((noinline)) int flush_local(struct prma_win *win, int target);

/* The common case of both flushes: a held lock on a target whose memory is
 * reached on the spot (its control block is mapped here), where what was
 * done is done. */
static inline int flush_spot(const struct prma_win *win, int target)
{
    const struct prma_epoch *ep = &win->epoch;

    return (unsigned)target < (unsigned)win->size &&
           (ep->access == PRMA_ACCESS_LOCK || ep->access == PRMA_ACCESS_LOCK_ALL) &&
           prma__lock_held(ep->locks[target]) && win->direct[target].ctl != NULL &&
           win->guard == NULL && win->failed == PRMA_OK;
}

int prma_win_flush(prma_win_h win, int target)
{
    win->epoch.streamed = 0;
    if (flush_spot(win, target)) {
        /* Order it with what follows. */
        atomic_thread_fence(memory_order_seq_cst);
        return PRMA_OK;
    }
    return flush_slow(win, target);
}

/* Any other flush: the checks in MPI's order, then completion. */
static int flush_slow(struct prma_win *win, int target)
{
    int status = flush_check(win, target);

    if (status != PRMA_OK)
        return status;
    /* A target never touched in a lock_all epoch, or whose lock was never
     * taken, has nothing to flush. */
    if (!prma__lock_held(win->epoch.locks[target]))
        return prma_win_flush_local(win, target);
    if (win->guard != NULL)
        status = prma__guard_deliver(win, target, PRMA_GUARD_EPOCH_FLUSH);
    return status != PRMA_OK ? status : prma__win_complete_target(win, target);
}

int prma_win_flush_all(prma_win_h win)
{
    int status = flush_check(win, -1);

    win->epoch.streamed = 0;
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_deliver(win, -1, PRMA_GUARD_EPOCH_FLUSH);
    return status != PRMA_OK ? status : prma__win_complete(win);
}

/* Local completion: every transient operation has handed its origin
 * buffer back (shm and self ports complete on the spot). */
static int flush_local(struct prma_win *win, int target)
{
    struct prma_waiter wait;
    int status = flush_check(win, target);

    win->epoch.streamed = 0;
    if (status != PRMA_OK)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    prma__win_waiter(win, &wait);
    return prma_port_drain(&win->reply, &wait);
}

int prma_win_flush_local(prma_win_h win, int target)
{
    if (flush_spot(win, target)) {
        win->epoch.streamed = 0;
        return PRMA_OK;
    }
    return target < 0 ? PRMA_ERR_RANK : flush_local(win, target);
}

int prma_win_flush_local_all(prma_win_h win)
{
    return flush_local(win, -1);
}

int prma_win_check_passive(prma_win_h win)
{
    enum prma_access a = win->epoch.access;

    return a == PRMA_ACCESS_LOCK || a == PRMA_ACCESS_LOCK_ALL ? PRMA_OK : PRMA_ERR_RMA_SYNC;
}

int prma_win_sync(prma_win_h win)
{
    win->epoch.streamed = 0;
    atomic_thread_fence(memory_order_seq_cst);
    prma__dyn_synced(win);
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}
