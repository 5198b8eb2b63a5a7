/*
 * pscw.c - generalized active target: post, start, complete, wait, test.
 *
 * A post raises this target's count of posts in each origin's control
 * block (ctl.h: our line there, which only we write: a same-node process
 * stores the new count, a UCX peer adds one by an atomic; no lock-prefixed
 * instruction, which would wait for every store before it to reach the
 * other process). Start returns at once; an operation to a target whose
 * post has not arrived yet waits in that target's port queue, and only
 * then is anything queued. Complete waits for the posts still missing,
 * sends what waited, completes everything at the targets, and raises each
 * target's count of our completions; wait and test read those.
 *
 * Counters per (origin, target) pair keep epochs apart: an origin consumes
 * exactly one post of each target per epoch, so a post that arrives early
 * for the next epoch is never mistaken for the current one. Group sizes are
 * not bounded by any table.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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
    if (ep->sent == NULL)
        ep->sent = calloc((size_t)win->size, sizeof(*ep->sent));
    return ep->member && ep->posted && ep->consumed && ep->group && ep->sent ? PRMA_OK
                                                                               : PRMA_ERR_NOMEM;
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

/* Tell peer that our count at offset (in its block) is now count, one more
 * than before: in a block mapped here we are its only writer and store it;
 * else one is added by an atomic. Ordered after our earlier stores. */
static int pscw_tell(struct prma_win *win, int peer, uint64_t offset, uint64_t count)
{
    char *ctl = win->direct != NULL ? win->direct[peer].ctl : NULL;
    uint64_t old;

    if (ctl != NULL) {
        atomic_store_explicit((_Atomic uint64_t *)(ctl + offset), count, memory_order_release);
        return PRMA_OK;
    }
    return prma__win_atomic(win, peer, PRMA_REGION_CTL, offset, 8, PRMA_AOP_ADD, 1, 0, &old);
}

int prma__pscw_ready(struct prma_win *win, int target)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t arrived;

    if (ep->posted[target])
        return PRMA_OK;
    arrived = atomic_load_explicit((_Atomic uint64_t *)&win->ctl->ranks[target].posts,
                                   memory_order_acquire);
    if (arrived <= ep->consumed[target])
        return PRMA_EASYNC;
    ep->consumed[target]++;
    ep->posted[target] = 1;
    /* Nothing queued: no lock (its atomic would wait for our stores to
     * other processes' lines, a post among them, to be done). */
    if (!(ep->member[target] & PRMA_MEMBER_QUEUED))
        return PRMA_OK;
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
    int status;

    if (mode & ~POST_MODES)
        return PRMA_ERR_ASSERT;
    if ((status = check_ranks(win, ranks, n)) != PRMA_OK)
        return status;
    prma__epoch_leave_idle_fence(win);
    if (ep->exposure != PRMA_EXPOSURE_NONE)
        return PRMA_ERR_RMA_SYNC;
    if (ep->exposed == NULL)
        ep->exposed = calloc((size_t)win->size, sizeof(*ep->exposed));
    if (ep->expect == NULL)
        ep->expect = calloc((size_t)win->size, sizeof(*ep->expect));
    if (ep->posts_sent == NULL)
        ep->posts_sent = calloc((size_t)win->size, sizeof(*ep->posts_sent));
    if (ep->applied == NULL)
        ep->applied = calloc((size_t)win->size, sizeof(*ep->applied));
    if (ep->exposed == NULL || ep->expect == NULL || ep->posts_sent == NULL ||
        ep->applied == NULL)
        return PRMA_ERR_NOMEM;
    if (win->guard != NULL)
        prma__guard_post(win, mode);
    /* Local stores to the window come before any origin's access. */
    atomic_thread_fence(memory_order_seq_cst);
    for (int i = 0; i < n && !(mode & PRMA_MODE_NOCHECK); i++) {
        status = pscw_tell(win, ranks[i], PRMA_CTL_POST_OFF(win->rank),
                           ++ep->posts_sent[ranks[i]]);
        if (status != PRMA_OK)
            return status;
    }
    /* Each origin of the group owes one more completion; some may have
     * sent it already (a complete does not wait for a post it has nothing
     * for). */
    for (int i = 0; i < n; i++) {
        ep->exposed[i] = ranks[i];
        ep->expect[ranks[i]]++;
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
    ep->streamed = 0;
    prma__dyn_synced(win);
    return PRMA_GUARD_SYNC(win, PRMA_OK);
}

/* This process's line in target's control block (mapped). */
static struct prma_ctl_rank *pscw_line(struct prma_win *win, int target)
{
    return &((struct prma_ctl *)win->direct[target].ctl)->ranks[win->rank];
}

/* Publish the records this epoch left in target's stage: they belong to
 * the completion it is about to send. */
static void pscw_stage_publish(struct prma_win *win, int target)
{
    atomic_store_explicit((_Atomic uint64_t *)&pscw_line(win, target)->staged,
                          win->epoch.sent[target] + 1, memory_order_release);
}

/* A stage record: offset and length (8 bytes each), then the bytes,
 * padded to 8. */
static uint64_t stage_record_size(uint64_t len)
{
    return 16 + ((len + 7) & ~(uint64_t)7);
}

/* Bytes [at, at + len) of the records an origin keeps in its line's head,
 * then in its stage: copied in (in != 0) from buf or out to it. */
static void stage_bytes(struct prma_ctl_rank *line, struct prma_stage *st, uint64_t at,
                        void *buf, uint64_t len, int in)
{
    unsigned char *p = buf;

    if (at < PRMA_STAGE_HEAD) {
        uint64_t n = len < PRMA_STAGE_HEAD - at ? len : PRMA_STAGE_HEAD - at;

        if (in)
            memcpy(line->head + at, p, n);
        else
            memcpy(p, line->head + at, n);
        p += n;
        at += n;
        len -= n;
    }
    if (len == 0)
        return;
    if (in)
        memcpy(st->data + at - PRMA_STAGE_HEAD, p, len);
    else
        memcpy(p, st->data + at - PRMA_STAGE_HEAD, len);
}

/* Write one record at byte `at` of target's records; returns its size. */
static uint64_t stage_record(struct prma_win *win, int target, uint64_t at, uint64_t offset,
                             const void *buf, uint64_t len)
{
    struct prma_ctl_rank *line = pscw_line(win, target);
    struct prma_stage *st = prma_ctl_stage(win->direct[target].ctl, win->size, win->rank);
    uint64_t rec[2] = { offset, len };

    stage_bytes(line, st, at, rec, sizeof(rec), 1);
    stage_bytes(line, st, at + sizeof(rec), (void *)buf, len, 1);
    return stage_record_size(len);
}

/* May this epoch leave puts in target's stage: a same-node target of a
 * small group, that applied the last records we left (it reads the stage
 * only while it holds records it has not applied; it says so in its line
 * of our block)? */
static int pscw_stage_free(struct prma_win *win, int target)
{
    if (win->direct == NULL || win->direct[target].ctl == NULL || win->size > PRMA_STAGE_RANKS ||
        win->dyn != NULL || win->guard != NULL)
        return 0;
    return atomic_load_explicit((_Atomic uint64_t *)&win->ctl->ranks[target].applied,
                                memory_order_acquire) ==
           atomic_load_explicit((_Atomic uint64_t *)&pscw_line(win, target)->staged,
                                memory_order_relaxed);
}

/* The queued puts of an epoch to a target that has not posted, left in
 * its stage for it to apply in its wait: PRMA_OK, or PRMA_EASYNC when they
 * do not go that way (no stage, other operations, too many bytes, or the
 * last stage not applied yet). */
static int pscw_stage(struct prma_win *win, int target)
{
    struct prma_port *port = win->ports[target];
    struct prma_msg *msg;
    uint64_t nbytes = 0;

    if (!pscw_stage_free(win, target))
        return PRMA_EASYNC;
    pthread_mutex_lock(&port->mp_lock);
    TAILQ_FOREACH(msg, &port->mp_msgq, ms_link) {
        nbytes += stage_record_size(msg->ms_len);
        if (msg->ms_cmd != PRMA_CMD_PUT || msg->ms_len > PRMA_STAGE_SPACE ||
            nbytes > PRMA_STAGE_SPACE) {
            pthread_mutex_unlock(&port->mp_lock);
            return PRMA_EASYNC;
        }
    }
    nbytes = 0;
    while ((msg = TAILQ_FIRST(&port->mp_msgq)) != NULL) {
        TAILQ_REMOVE(&port->mp_msgq, msg, ms_link);
        nbytes += stage_record(win, target, nbytes, msg->ms_offset, msg->ms_buf, msg->ms_len);
        free(msg);
    }
    pthread_mutex_unlock(&port->mp_lock);
    pscw_line(win, target)->nbytes = nbytes;
    pscw_stage_publish(win, target);
    return PRMA_OK;
}

int prma__pscw_stage_put(struct prma_win *win, int target, uint64_t target_disp,
                         uint64_t offset, const void *buf, size_t len)
{
    struct prma_epoch *ep = &win->epoch;
    uint64_t used, need = stage_record_size(len);
    int status;

    /* Not after puts queued for the post, which must come first. */
    if ((unsigned)target >= (unsigned)win->size || !ep->member[target] ||
        (ep->member[target] & PRMA_MEMBER_QUEUED) || len == 0 || need > PRMA_STAGE_SPACE)
        return PRMA_EASYNC;
    if (ep->member[target] & PRMA_MEMBER_STAGED)
        used = pscw_line(win, target)->nbytes;
    else if (pscw_stage_free(win, target))
        used = 0;
    else
        return PRMA_EASYNC;
    if (used + need > PRMA_STAGE_SPACE)
        return PRMA_EASYNC;
    if ((status = prma_win_check_access(win, target, target_disp, offset, len)) != PRMA_OK)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    pscw_line(win, target)->nbytes =
        used + stage_record(win, target, used,
                            target_disp * win->peers[target].disp_unit + offset, buf, len);
    ep->member[target] |= PRMA_MEMBER_STAGED;
    ep->nops++;
    return PRMA_OK;
}

/* Before complete tells target: its post has come and what waited for it
 * is done; or it has not, and nothing waited (an epoch without operations
 * to it), or what waited is left in its stage. The post, come or not, is
 * this epoch's. */
static int pscw_settle(struct prma_win *win, int target)
{
    struct prma_epoch *ep = &win->epoch;
    int status, empty;

    if (ep->member[target] & PRMA_MEMBER_STAGED) {
        /* Puts written into the stage, and maybe others queued after the
         * stage was full: those wait for the post, as below. */
        if ((ep->member[target] & PRMA_MEMBER_QUEUED) && !ep->posted[target] &&
            (status = prma__pscw_wait_ready(win, target)) != PRMA_OK)
            return status;
        pscw_stage_publish(win, target);
        if (!ep->posted[target])
            ep->consumed[target]++;
        return PRMA_OK;
    }
    if (ep->posted[target])
        return PRMA_OK;
    /* Nothing waits for it: whether it came is no matter (no need to look). */
    empty = !(ep->member[target] & PRMA_MEMBER_QUEUED);
    if (!empty && (status = prma__pscw_ready(win, target)) != PRMA_EASYNC)
        return status;
    if (empty || pscw_stage(win, target) == PRMA_OK) {
        ep->consumed[target]++;
        return PRMA_OK;
    }
    return prma__pscw_wait_ready(win, target);
}

int prma_win_complete(prma_win_h win)
{
    struct prma_epoch *ep = &win->epoch;
    int status = PRMA_OK;

    if (ep->access != PRMA_ACCESS_PSCW)
        return PRMA_ERR_RMA_SYNC;
    for (int i = 0; status == PRMA_OK && i < ep->ngroup; i++)
        status = pscw_settle(win, ep->group[i]);
    /* Completed at the targets before they hear of it. */
    if (status == PRMA_OK)
        status = prma__win_complete(win);
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_deliver(win, -1, PRMA_GUARD_EPOCH_PSCW);
    for (int i = 0; status == PRMA_OK && i < ep->ngroup; i++) {
        int t = ep->group[i];

        status = pscw_tell(win, t, PRMA_CTL_DONE_OFF(win->rank), ++ep->sent[t]);
    }
    for (int i = 0; i < ep->ngroup; i++) {
        ep->member[ep->group[i]] = 0;
        ep->posted[ep->group[i]] = 0;
    }
    ep->ngroup = 0;
    ep->access = PRMA_ACCESS_NONE;
    return PRMA_GUARD_SYNC(win, status);
}

/* Apply what origin left in its stage, if it is for a completion we now
 * expect (a stage for a later epoch waits for that epoch's wait), and tell
 * origin in our line of its block. */
static void pscw_apply_stage(struct prma_win *win, int origin)
{
    struct prma_ctl_rank *line = &win->ctl->ranks[origin];
    struct prma_stage *st = prma_ctl_stage(win->ctl, win->size, origin);
    uint64_t staged = atomic_load_explicit((_Atomic uint64_t *)&line->staged,
                                           memory_order_acquire);

    if (staged == win->epoch.applied[origin] || staged > win->epoch.expect[origin])
        return;
    for (uint64_t at = 0; at < line->nbytes;) {
        uint64_t rec[2];

        stage_bytes(line, st, at, rec, sizeof(rec), 0);
        stage_bytes(line, st, at + sizeof(rec), (char *)win->agent_base + rec[0], rec[1], 0);
        at += stage_record_size(rec[1]);
    }
    win->epoch.applied[origin] = staged;
    /* An origin that staged maps our block, so we map its: told there. */
    if (win->direct != NULL && win->direct[origin].ctl != NULL)
        pscw_tell(win, origin, PRMA_CTL_APPLIED_OFF(win->rank), staged);
}

int prma_win_test(prma_win_h win, int *flag_p)
{
    struct prma_epoch *ep = &win->epoch;

    if (ep->exposure != PRMA_EXPOSURE_PSCW)
        return PRMA_ERR_RMA_SYNC;
    if (win->failed != PRMA_OK)
        return win->failed;
    /* Drive UCX: completions over emulated transports need it. */
    prma_progress(win->ctx);
    for (int i = 0; i < ep->nexposed; i++) {
        int o = ep->exposed[i];

        if (atomic_load_explicit((_Atomic uint64_t *)&win->ctl->ranks[o].completes,
                                 memory_order_acquire) < ep->expect[o]) {
            *flag_p = 0;
            return PRMA_OK;
        }
    }
    if (win->size <= PRMA_STAGE_RANKS)
        for (int i = 0; i < ep->nexposed; i++)
            pscw_apply_stage(win, ep->exposed[i]);
    atomic_thread_fence(memory_order_seq_cst);
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
