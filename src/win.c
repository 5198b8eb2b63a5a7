/*
 * win.c - windows: creation (the exchange that gives every origin a port per
 * target), free, and the operations, which are messages to those ports.
 */
#include "win.h"

#include "acc.h"
#include "agent.h"
#include "atomic.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include "context.h"
#include "copy.h"
#include "dynamic.h"
#include "guard.h"
#include "log.h"
#include "mem.h"
#include "settings.h"
#include "transport/ucx.h"
#include "wait.h"

/* ---- the registry: window ids for the agents' active messages ----- */

int prma__win_register(struct prma_win *win)
{
    struct prma_context *ctx = win->ctx;
    struct prma_win **wins;
    int status = PRMA_OK;

    pthread_mutex_lock(&ctx->lock);
    /* Ids are handed out in order and never reused (slot 0 is unused), so
     * a late message can never find another window under an old id. */
    if ((ctx->nwins & (ctx->nwins - 1)) == 0 || ctx->nwins == 0) {
        wins = realloc(ctx->wins, (ctx->nwins == 0 ? 2 : 2 * (size_t)ctx->nwins) * sizeof(*wins));
        if (wins == NULL)
            status = PRMA_ERR_NOMEM;
        else
            ctx->wins = wins;
    }
    if (status == PRMA_OK) {
        if (ctx->nwins == 0)
            ctx->wins[ctx->nwins++] = NULL;
        win->id = ctx->nwins;
        ctx->wins[ctx->nwins++] = win;
    }
    pthread_mutex_unlock(&ctx->lock);
    return status;
}

void prma__win_unregister(struct prma_win *win)
{
    struct prma_context *ctx = win->ctx;

    if (win->id == 0)
        return;
    pthread_mutex_lock(&ctx->lock);
    ctx->wins[win->id] = NULL;
    pthread_mutex_unlock(&ctx->lock);
    win->id = 0;
}

struct prma_win *prma__win_lookup(struct prma_context *ctx, uint32_t id)
{
    struct prma_win *win = NULL;

    pthread_mutex_lock(&ctx->lock);
    if (id > 0 && id < ctx->nwins)
        win = ctx->wins[id];
    pthread_mutex_unlock(&ctx->lock);
    return win;
}

/* Free what win_setup() built, in reverse. */
static void win_teardown(struct prma_win *win)
{
    prma__agent_teardown(win);
    prma__win_unregister(win);
    prma__guard_destroy(win);
    prma__dyn_destroy(win);
    free(win->acc_locked);
    free(win->direct);
    if (win->ports != NULL)
        for (int i = 0; i < win->size; i++)
            prma__port_destroy(win->ports[i]);
    if (win->ctx->ucx != NULL && (win->memh != NULL || win->rkey != NULL))
        prma__ucx_mem_unmap(win->ctx->ucx, win->memh, win->rkey);
    if (win->ctx->ucx != NULL && (win->ctl_memh != NULL || win->ctl_rkey != NULL))
        prma__ucx_mem_unmap(win->ctx->ucx, win->ctl_memh, win->ctl_rkey);
    free(win->rkeys);
    free(win->pids);
    for (int i = 0; win->qmaps != NULL && i < win->size; i++)
        if (win->qmaps[i].map != NULL)
            prma__mem_unmap_peer(win->ctx, win->qmaps[i].map, win->qmaps[i].maplen);
    free(win->qmaps);
    if (win->ctl_map != NULL)
        prma__mem_unmap_peer(win->ctx, win->ctl_map, win->ctl_maplen);
    if (win->ctl_mem != NULL)
        prma__mem_destroy(win->ctl_mem);
    free(win->ports);
    free(win->peers);
    if (win->mem != NULL)
        prma__mem_destroy(win->mem);
    if (win->moved != NULL)
        prma__mem_unremap(win->moved);
    prma__epoch_fini(&win->epoch);
    win->magic = 0;
    free(win);
}

/* Must target be reached through UCX even on this node? */
static int win_forced(const struct prma_win *win, int target)
{
    return win->ctx->forced || (win->peers[target].flags & PRMA_PEER_FORCE_UCX);
}

/* Choose and build the port that serves target: self, shm on this node,
 * ucx elsewhere (or everywhere when forced), none when nothing reaches it. */
static int win_connect(struct prma_win *win, int target, struct prma_port **port_p)
{
    int status;

    if (target == win->rank)
        return prma__port_init_self(win, port_p);
    if (!win_forced(win, target) && win->peers[target].node_id == win->ctx->node_id)
        return prma__port_init_shm(win, target, port_p);
    if (win->ctx->ucx == NULL || win->peers[target].ctl_rkey_len == 0 ||
        (win->peers[target].size > 0 && win->peers[target].rkey_len == 0))
        return prma__port_init_none(win, target, port_p);
    status = prma__port_init_ucx(win, target, port_p);
    if (status == PRMA_OK)
        win->nucx++;
    return status;
}

/* Share every member's packed UCX keys (window, then control block): slots
 * as large as the largest pair. */
static int win_exchange_rkeys(struct prma_win *win, int status)
{
    const struct prma_peer *me = &win->peers[win->rank];
    char *mine;

    for (int i = 0; i < win->size; i++)
        if (win->peers[i].rkey_len + win->peers[i].ctl_rkey_len > win->rkey_slot)
            win->rkey_slot = win->peers[i].rkey_len + win->peers[i].ctl_rkey_len;
    if (win->rkey_slot == 0)
        return status;
    mine       = calloc(1, win->rkey_slot);
    win->rkeys = calloc((size_t)win->size, win->rkey_slot);
    if (mine == NULL || win->rkeys == NULL) {
        /* Still take part, with a scratch buffer if one can be had. */
        free(win->rkeys);
        win->rkeys = NULL;
        status = PRMA_ERR_NOMEM;
    }
    if (mine != NULL && win->rkey != NULL)
        memcpy(mine, win->rkey, me->rkey_len);
    if (mine != NULL && win->ctl_rkey != NULL)
        memcpy(mine + me->rkey_len, win->ctl_rkey, me->ctl_rkey_len);
    if (win->rkeys != NULL &&
        win->coll.allgather(win->coll.arg, mine, win->rkeys, win->rkey_slot) != 0) {
        prma_error("exchanging UCX keys failed");
        status = PRMA_ERR_BOOTSTRAP;
    }
    free(mine);
    return status;
}

/* Note the processes of the members on this host: waits watch them. */
static int win_watch_members(struct prma_win *win)
{
    int any = 0;

    for (int i = 0; i < win->size; i++)
        any |= i != win->rank && win->peers[i].host_id == win->ctx->boot.node_id;
    if (!any)
        return PRMA_OK;
    win->pids = calloc((size_t)win->size, sizeof(*win->pids));
    if (win->pids == NULL)
        return PRMA_ERR_NOMEM;
    for (int i = 0; i < win->size; i++)
        win->pids[i] = (i != win->rank && win->peers[i].host_id == win->ctx->boot.node_id)
                           ? win->peers[i].pid : -1;
    return PRMA_OK;
}

/* Set up the group's shared barrier when every member is on this node:
 * rank 0's control page, mapped by the others. Called once the peers are
 * known; without it the bootstrap's barrier is used. */
static int win_setup_barrier(struct prma_win *win)
{
    const struct prma_peer *root = &win->peers[0];
    void *base;
    int status;

    /* Real nodes decide: memory is shared whatever the ports pretend. */
    for (int i = 0; i < win->size; i++)
        if (win->peers[i].host_id != win->ctx->boot.node_id)
            return PRMA_OK;
    if (win->size == 1 || root->ctl_fd < 0)
        return PRMA_OK;
    if (win->rank == 0) {
        win->barrier = &win->ctl->barrier;
        return PRMA_OK;
    }
    /* Rank 0's port maps its control block already, in most cases. */
    if (win->ports[0]->mp_ctl != NULL) {
        win->barrier = &((struct prma_ctl *)(void *)win->ports[0]->mp_ctl)->barrier;
        return PRMA_OK;
    }
    status = prma__mem_map_peer(win->ctx, root->pid, root->ctl_fd, root->ctl_seg, 0,
                                sizeof(struct prma_ctl), &base, &win->ctl_map,
                                &win->ctl_maplen);
    if (status == PRMA_OK)
        win->barrier = &((struct prma_ctl *)base)->barrier;
    return status;
}

/* Drive the process's UCX worker, if it has one: a peer's put through UCX
 * may need this process to take part. */
static void win_progress(void *arg)
{
    prma_progress(((struct prma_win *)arg)->ctx);
}

/* Are the members on this host still alive? A gone member fails the
 * window for good (it cannot be waited for any more). */
static int win_check_members(void *arg)
{
    struct prma_win *win = arg;

    for (int i = 0; win->failed == PRMA_OK && i < win->size; i++) {
        if (win->pids[i] > 0 && kill(win->pids[i], 0) != 0 && errno == ESRCH) {
            prma_error("rank %d (process %d) of the window is gone", i, win->pids[i]);
            win->failed = PRMA_ERR_PEER_LOST;
        }
    }
    return win->failed;
}

void prma__win_waiter(struct prma_win *win, struct prma_waiter *w)
{
    w->progress = win->ctx->ucx != NULL ? win_progress : NULL;
    w->check    = win->pids != NULL ? win_check_members : NULL;
    w->serve    = prma__agent_serve_hook;  /* what same-node origins hand us */
    w->arg      = win;
    w->serve_arg = win->ctx;
    w->turns    = 0;
    w->idle     = 0;
}

int prma__win_complete(struct prma_win *win)
{
    struct prma_waiter wait;
    int status;

    if (win->failed != PRMA_OK)
        return win->failed;
    prma__win_waiter(win, &wait);
    status = prma_port_drain(&win->reply, &wait);
    if (status == PRMA_OK && win->nucx > 0 && win->ctx->ucx != NULL)
        status = prma__ucx_flush(win->ctx->ucx, &wait);
    return status;
}

int prma__win_complete_target(struct prma_win *win, int target)
{
    struct prma_waiter wait;
    struct prma_msg msg;
    int status;

    if (win->failed != PRMA_OK)
        return win->failed;
    /* Everything sent to such a port completed when it was sent. */
    if (win->ports[target]->mp_ops->flags & PRMA_PORTF_SPOT) {
        atomic_thread_fence(memory_order_seq_cst);
        return PRMA_OK;
    }
    prma__win_waiter(win, &wait);
    status = prma_port_drain(&win->reply, &wait);
    if (status != PRMA_OK)
        return status;
    prma_msg_init(&msg, PRMA_CMD_FLUSH, 0);
    msg.ms_reply = &win->reply;
    return prma_domsg(win->ports[target], &msg);
}

int prma__win_atomic(struct prma_win *win, int target, uint32_t region, uint64_t offset,
                     unsigned size, uint32_t aop, uint64_t operand, uint64_t compare,
                     uint64_t *old_p)
{
    struct prma_msg msg;
    char *at;
    int status;

    if (win->failed != PRMA_OK)
        return win->failed;
    /* What the port would do on the spot, without the message. */
    at = win->direct == NULL               ? NULL
         : region == PRMA_REGION_CTL ? win->direct[target].ctl
                                     : win->direct[target].base;
    if (at != NULL)
        return prma__cpu_aop(at + offset, size, aop, operand, compare, old_p);
    prma_msg_init(&msg, PRMA_CMD_ATOMIC, 0);
    msg.ms_reply   = &win->reply;
    msg.ms_region  = region;
    msg.ms_offset  = offset;
    msg.ms_len     = size;
    msg.ms_aop     = aop;
    msg.ms_operand = operand;
    msg.ms_compare = compare;
    status = prma_domsg(win->ports[target], &msg);
    if (status == PRMA_OK)
        *old_p = msg.ms_fetched;
    return status;
}

int prma__win_barrier(struct prma_win *win)
{
    if (win->failed != PRMA_OK)
        return win->failed;
    if (win->barrier != NULL) {
        struct prma_waiter wait;

        prma__win_waiter(win, &wait);
        if (win->size <= PRMA_BARRIER_SLOTS)
            return prma__shm_flag_barrier(win->barrier, (uint32_t)win->size,
                                          (uint32_t)win->rank, &win->bar_round, &wait);
        return prma__shm_barrier(win->barrier, (uint32_t)win->size, &wait);
    }
    /* A collective of the MPI library cannot be left once entered: make
     * sure first that no member on this host is gone. */
    if (win->pids != NULL && win_check_members(win) != PRMA_OK)
        return win->failed;
    if (win->coll.barrier(win->coll.arg) != 0) {
        prma_error("window barrier failed");
        return PRMA_ERR_BOOTSTRAP;
    }
    return PRMA_OK;
}

/* The window's last barrier. Where the barrier lives in rank 0's control
 * block, rank 0 also waits until every other member is out of it: rank 0
 * may reuse the block for its next window (mem.c keeps it), and a member
 * still reading the barrier would see it cleared. */
static int win_barrier_last(struct prma_win *win)
{
    struct prma_waiter wait;
    int status = prma__win_barrier(win);

    if (status != PRMA_OK || win->barrier == NULL)
        return status;
    if (win->rank != 0) {
        atomic_fetch_add_explicit(&win->barrier->left, 1, memory_order_release);
        return PRMA_OK;
    }
    prma__win_waiter(win, &wait);
    while (atomic_load_explicit(&win->barrier->left, memory_order_acquire) <
           (uint32_t)win->size - 1)
        if ((status = prma__wait_turn(&wait)) != PRMA_OK)
            return status;
    return PRMA_OK;
}

/*
 * The collective part of creation: publish our part, build one port per
 * target, then agree on the outcome so that every rank fails together.
 * status is the caller's outcome so far: a rank that already failed still
 * takes part in every collective, and the failure is agreed on at the end.
 * NOTE: owned (when set) is taken over: freed with the window or on error.
 */
/* The targets a put, a get or an atomic reaches by a plain copy or a CPU
 * atomic (their ports map the window or the control block here). A
 * dynamic window's memory has none: an address needs its region. */
static int win_setup_direct(struct prma_win *win)
{
    win->direct = calloc((size_t)win->size, sizeof(*win->direct));
    if (win->direct == NULL)
        return PRMA_ERR_NOMEM;
    for (int i = 0; i < win->size; i++) {
        struct prma_direct *d = &win->direct[i];

        d->ctl = win->ports[i]->mp_ctl;
        if (win->dyn != NULL || win->ports[i]->mp_direct == NULL || win->peers[i].size == 0)
            continue;
        d->base      = win->ports[i]->mp_direct;
        d->size      = win->peers[i].size;
        d->disp_unit = win->peers[i].disp_unit;
    }
    return PRMA_OK;
}

/* Should a window made on the program's own memory (MPI_Win_create, or a
 * region attached to a dynamic window) have its pages moved into a memfd
 * (remap.c)? Only where same-node peers would map it: not when every peer
 * goes through UCX, nor with PORTRMA_SHM=cma, nor under the exposure
 * guard (which protects portrma memory only). */
int prma__win_remaps(const struct prma_win *win)
{
    int want = win->coll.remap == PRMA_REMAP_DEFAULT ? prma__config.remap
                                                     : win->coll.remap == PRMA_REMAP_ON;

    return want &&
           (win->flavor == PRMA_WIN_FLAVOR_CREATE || win->flavor == PRMA_WIN_FLAVOR_DYNAMIC) &&
           !win->ctx->forced && prma__config.shm_mode == PRMA_SHM_MAP &&
           prma__guard_mode(win->coll.guard, (int)win->flavor) == PRMA_GUARD_MODE_OFF;
}

struct prma_mem *prma__win_memfd(struct prma_win *win, void *base, size_t size, int may_move,
                                 struct prma_mem **moved_p)
{
    struct prma_mem *mem = prma__mem_lookup(win->ctx, base, size);

    if (mem == NULL && may_move && prma__win_remaps(win) &&
        prma__mem_remap(win->ctx, base, size, moved_p) == PRMA_OK)
        mem = *moved_p;
    return mem;
}

/* NOTE: ucx_memh (when set) is memory UCX allocated at base, taken over as
 * owned is: the window's registration, unmapped (freed) with the window. */
static int win_setup(struct prma_context *ctx, const prma_coll_t *coll, void *base, size_t size,
                     size_t disp_unit, prma_win_flavor_t flavor, struct prma_mem *owned,
                     ucp_mem_h ucx_memh, int status, prma_win_h *win_p)
{
    struct prma_win *win;
    struct prma_peer me;
    struct prma_mem *mem;
    int32_t mine, *all = NULL;

    win = calloc(1, sizeof(*win));
    if (win == NULL) {
        if (owned != NULL)
            prma__mem_destroy(owned);
        if (ucx_memh != NULL)
            prma__ucx_mem_unmap(ctx->ucx, ucx_memh, NULL);
        return PRMA_ERR_NOMEM;
    }
    win->memh       = ucx_memh;
    win->magic      = PRMA_WIN_MAGIC;
    win->ctx        = ctx;
    win->coll       = *coll;
    win->rank       = coll->rank;
    win->size       = coll->size;
    win->flavor     = flavor & ~PRMA__FLAVOR_CONTIGUOUS;
    win->contiguous = (flavor & PRMA__FLAVOR_CONTIGUOUS) != 0;
    win->base       = base;
    win->agent_base = base;
    win->len        = size;
    win->disp_unit  = disp_unit;
    win->mem        = owned;
    prma__port_init_reply(&win->reply);
    win->peers = calloc((size_t)win->size, sizeof(*win->peers));
    win->ports = calloc((size_t)win->size, sizeof(*win->ports));
    all        = calloc((size_t)win->size, sizeof(*all));
    if (win->peers == NULL || win->ports == NULL || all == NULL) {
        /* Too little memory to even take part in the exchange. */
        free(all);
        win_teardown(win);
        return PRMA_ERR_NOMEM;
    }

    memset(&me, 0, sizeof(me));
    me.node_id   = ctx->node_id;
    me.host_id   = ctx->boot.node_id;
    me.job_rank  = ctx->boot.rank;
    me.flags     = (ctx->forced ? PRMA_PEER_FORCE_UCX : 0) | (ucx_memh ? PRMA_PEER_UCX_MEM : 0);
    me.base      = (uint64_t)(uintptr_t)base;
    me.size      = size;
    me.disp_unit = disp_unit;
    me.pid       = (int32_t)getpid();
    me.memfd     = -1;
    me.ctl_fd    = -1;
    if (status == PRMA_OK)
        status = prma__win_register(win);
    me.win_id    = win->id;
    if (status == PRMA_OK)
        status = prma__guard_create(win, prma__guard_mode(coll->guard, (int)win->flavor));
    if (status == PRMA_OK) {
        status = prma__mem_create(ctx, prma__win_ctl_size(win), &win->ctl_mem);
        if (status == PRMA_OK) {
            win->ctl     = win->ctl_mem->agent;
            me.ctl_fd    = win->ctl_mem->fd;
            me.ctl_seg   = win->ctl_mem->seg;
            me.ctl_base  = (uint64_t)(uintptr_t)win->ctl;
        }
    }
    mem = owned != NULL ? owned
          : size > 0    ? prma__win_memfd(win, base, size, status == PRMA_OK, &win->moved)
                        : NULL;
    if (mem != NULL) {
        me.memfd        = mem->fd;
        me.seg          = mem->seg;
        me.memfd_offset = (uint64_t)((char *)base - (char *)mem->user);
        win->agent_base = (char *)mem->agent + me.memfd_offset;
    }
    me.agent_base = (uint64_t)(uintptr_t)win->agent_base;
    if (status == PRMA_OK && ctx->ucx != NULL && size > 0) {
        size_t rkey_len = 0;

        /* Memory portrma maps is registered whole (pages), so that a
         * narrow atomic may work on its enclosing word; UCX's own
         * allocation is whole pages too. */
        if (win->memh != NULL)
            status = prma__ucx_mem_pack(ctx->ucx, win->memh, &win->rkey, &rkey_len);
        else
            status = prma__ucx_mem_map(ctx->ucx, win->agent_base,
                                       mem != NULL && owned != NULL ? mem->maplen : size,
                                       (ucp_mem_h *)&win->memh, &win->rkey, &rkey_len);
        me.rkey_len = (uint32_t)rkey_len;
    }
    if (status == PRMA_OK && ctx->ucx != NULL) {
        size_t rkey_len = 0;

        status = prma__ucx_mem_map(ctx->ucx, win->ctl, win->ctl_mem->maplen,
                                   (ucp_mem_h *)&win->ctl_memh, &win->ctl_rkey, &rkey_len);
        me.ctl_rkey_len = (uint32_t)rkey_len;
    }

    /* Every rank takes part in every collective, even after a local
     * failure: the outcome is agreed on at the end. A description made
     * after a failure is not valid: nobody connects to it. */
    if (status == PRMA_OK)
        me.flags |= PRMA_PEER_VALID;
    if (coll->allgather(coll->arg, &me, win->peers, sizeof(me)) != 0) {
        prma_error("exchanging window descriptions failed");
        status = PRMA_ERR_BOOTSTRAP;
    } else {
        /* Every rank sees the same descriptions, so all agree on this. */
        status = win_exchange_rkeys(win, status);
    }
    /* A member whose description never came has failed: connect to no one
     * on the strength of garbage. */
    for (int i = 0; status == PRMA_OK && i < win->size; i++)
        if (!(win->peers[i].flags & PRMA_PEER_VALID))
            status = PRMA_ERR_PEER_FAILED;
    for (int i = 0; status == PRMA_OK && i < win->size; i++)
        status = win_connect(win, i, &win->ports[i]);
    if (status == PRMA_OK)
        status = win_setup_direct(win);
    if (status == PRMA_OK)
        status = prma__acc_setup(win);
    if (status == PRMA_OK)
        status = win_watch_members(win);
    if (status == PRMA_OK)
        status = win_setup_barrier(win);
    if (status != PRMA_OK)
        prma_debug("window creation failed here: %s", prma_status_string(status));

    mine = status;
    if (coll->allgather(coll->arg, &mine, all, sizeof(mine)) != 0) {
        prma_error("agreeing on window creation failed");
        status = PRMA_ERR_BOOTSTRAP;
    }
    for (int i = 0; status == PRMA_OK && i < win->size; i++)
        if (all[i] != PRMA_OK)
            status = PRMA_ERR_PEER_FAILED;
    free(all);
    if (status != PRMA_OK) {
        win_teardown(win);
        return status;
    }
    if (win->guard != NULL)
        prma__guard_setup(win);
    /* Only a shortcut: without it origins use the system calls. */
    if (prma__agent_setup(win) != PRMA_OK)
        prma_warn("this window's same-node origins will not hand operations to this process");
    *win_p = win;
    return PRMA_OK;
}

int prma__win_setup(struct prma_context *ctx, const prma_coll_t *coll, void *base, size_t size,
                    size_t disp_unit, prma_win_flavor_t flavor, struct prma_mem *owned,
                    int status, prma_win_h *win_p)
{
    return win_setup(ctx, coll, base, size, disp_unit, flavor, owned, NULL, status, win_p);
}

/* Should MPI_Win_allocate's memory come from UCX? When this process sends
 * every peer through UCX (PORTRMA_TRANSPORT=ucx), no port maps a memfd of
 * its: UCX's shared-memory transports reach memory directly only when UCX
 * allocated it (same-host peers then even copy through a mapping UCX
 * makes, and MPI_Win_shared_query hands that out), and emulate every put
 * and get through this process's worker otherwise. Where UCX cannot map
 * its memory for peers (tcp alone) it would gain nothing: a memfd, as
 * elsewhere. The exposure guard needs the memfd's second view. */
static int win_ucx_memory(const struct prma_context *ctx, const prma_coll_t *coll)
{
    return ctx->forced && ctx->ucx != NULL &&
           prma__guard_mode(coll->guard, PRMA_WIN_FLAVOR_ALLOCATE) == PRMA_GUARD_MODE_OFF &&
           prma__ucx_alloc_mapped(ctx->ucx, ctx->boot.rank);
}

int prma_win_create(prma_context_h ctx, const prma_coll_t *coll, void *base, size_t size,
                    size_t disp_unit, prma_win_h *win_p)
{
    if (ctx == NULL || coll == NULL || coll->allgather == NULL || coll->barrier == NULL ||
        coll->size <= 0 || coll->rank < 0 || coll->rank >= coll->size)
        return PRMA_ERR_ARG;
    if (disp_unit == 0)
        return PRMA_ERR_DISP;
    if (size > 0 && base == NULL)
        return PRMA_ERR_ARG;
    return prma__win_setup(ctx, coll, base, size, disp_unit, PRMA_WIN_FLAVOR_CREATE, NULL, PRMA_OK,
                     win_p);
}

int prma_win_allocate(prma_context_h ctx, const prma_coll_t *coll, size_t size,
                      size_t disp_unit, void **base_p, prma_win_h *win_p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
    struct prma_mem *mem = NULL;
    ucp_mem_h memh = NULL;
    void *base = NULL;
    int status = PRMA_OK;

    if (ctx == NULL || coll == NULL || coll->allgather == NULL || coll->barrier == NULL ||
        coll->size <= 0 || coll->rank < 0 || coll->rank >= coll->size)
        return PRMA_ERR_ARG;
    if (disp_unit == 0)
        return PRMA_ERR_DISP;
    /* UCX's memory where it serves better (whole pages, bound as ours
     * are), else (or when UCX has none to give) a memfd. A local
     * allocation failure still joins the collectives (win_setup agrees on
     * it), so that no rank is left waiting. */
    if (size > 0 && size <= SIZE_MAX - page && win_ucx_memory(ctx, coll)) {
        len = (size + page - 1) & ~(page - 1);
        if (prma__ucx_mem_alloc(ctx->ucx, len, &base, &memh) == PRMA_OK)
            prma__topo_bind_area(ctx, base, len);
    }
    if (size > 0 && memh == NULL && (status = prma__mem_create(ctx, size, &mem)) == PRMA_OK)
        base = mem->user;
    status = win_setup(ctx, coll, base, size, disp_unit, PRMA_WIN_FLAVOR_ALLOCATE, mem, memh,
                       status, win_p);
    if (status == PRMA_OK)
        *base_p = (*win_p)->base;
    return status;
}

int prma_win_free(prma_win_h win)
{
    int status;

    status = prma__epoch_check_free(win);
    if (status != PRMA_OK)
        return status;
    status = prma__win_complete(win);
    if (status == PRMA_OK && win->guard != NULL)
        status = prma__guard_deliver(win, -1, PRMA_GUARD_EPOCH_FENCE);
    /* No peer may still be reaching into our memory when it goes. */
    if (status == PRMA_OK)
        status = win_barrier_last(win);
    if (win->guard != NULL)
        status = prma__guard_leave(win, PRMA_GUARD_EV_NONE, 0, status);
    win_teardown(win);
    return status;
}

int prma_win_check_free(prma_win_h win)
{
    return prma__epoch_check_free(win);
}

int prma_win_fence(prma_win_h win, unsigned mode)
{
    return prma__epoch_fence(win, mode);
}

int prma_win_check_epoch(prma_win_h win)
{
    return prma__epoch_check_access(win, -1);
}

/* prma_win_check_access's checks of the target rank and the epoch. */
static int win_check_target(struct prma_win *win, int target)
{
    int status;

    if (target < 0 || target >= win->size) {
        status = prma__epoch_check_access(win, -1);
        return status != PRMA_OK ? status : PRMA_ERR_RANK;
    }
    return prma__epoch_check_access(win, target);
}

int prma_win_check_access(prma_win_h win, int target, uint64_t target_disp, uint64_t offset,
                          size_t len)
{
    const struct prma_peer *peer;
    uint64_t start;
    int status;

    if ((status = win_check_target(win, target)) != PRMA_OK)
        return status;
    if (len == 0)
        return PRMA_OK;
    /* A dynamic window: an address, inside one region the target attached. */
    if (win->dyn != NULL)
        return target_disp > UINT64_MAX - offset
                   ? PRMA_ERR_RMA_RANGE
                   : prma__dyn_region(win, target, target_disp + offset, len, NULL);
    peer = &win->peers[target];
    return prma__win_in_range(peer->size, peer->disp_unit, target_disp, offset, len, &start)
               ? PRMA_OK
               : PRMA_ERR_RMA_RANGE;
}

int prma__win_check_unranged(struct prma_win *win, int target, uint64_t target_disp,
                             uint64_t offset, size_t len)
{
    int status;

    if (win->dyn == NULL)
        return prma_win_check_access(win, target, target_disp, offset, len);
    if ((status = win_check_target(win, target)) != PRMA_OK)
        return status;
    return len > 0 && target_disp > UINT64_MAX - offset ? PRMA_ERR_RMA_RANGE : PRMA_OK;
}

/* A put or get of a dynamic window in a PSCW epoch (the others take
 * win_rma_dynamic), its region found: copied through the target's region
 * mapped here, if it is and the post has come: PRMA_OK, or PRMA_EASYNC for
 * the message path. */
static int win_dyn_pscw_direct(struct prma_win *win, int put, void *buf, size_t len,
                               int target, uint64_t addr)
{
    int status;

    if (prma__pscw_ready(win, target) != PRMA_OK)
        return PRMA_EASYNC;
    status = prma__dyn_direct(win, target, addr, buf, len, put);
    if (status == PRMA_OK)
        win->epoch.nops++;
    return status;
}

/* A put or get of a dynamic window outside PSCW (and without a guard):
 * the region looked up once, the copy made there when it is mapped, else
 * the message with the region's key. */
static int win_rma_dynamic(struct prma_win *win, uint32_t cmd, void *buf, size_t len,
                           int target, uint64_t target_disp, uint64_t offset)
{
    struct prma_msg msg;
    int status;

    if ((status = prma__win_check_unranged(win, target, target_disp, offset, len)) != PRMA_OK)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    if ((win->epoch.access == PRMA_ACCESS_LOCK || win->epoch.access == PRMA_ACCESS_LOCK_ALL) &&
        (status = prma__lock_touch(win, target)) != PRMA_OK)
        return status;
    prma_msg_init(&msg, cmd, PRMA_MSGF_TRANSIENT);
    msg.ms_reply  = &win->reply;
    msg.ms_buf    = buf;
    msg.ms_len    = len;
    msg.ms_offset = target_disp + offset;  /* a dynamic window's unit is 1 */
    status = prma__dyn_access(win, target, msg.ms_offset, buf, len, cmd == PRMA_CMD_PUT,
                              &msg.ms_rkey);
    if (status == PRMA_OK)
        win->epoch.nops++;
    if (status != PRMA_EASYNC)
        return status;
    return prma__win_issue(win, target, &msg);
}

/* One operation: check it, then send it as a transient message. */
static int win_rma(struct prma_win *win, uint32_t cmd, void *buf, size_t len, int target,
                   uint64_t target_disp, uint64_t offset)
{
    struct prma_msg msg;
    int status;

    if (win->dyn != NULL && win->guard == NULL && win->epoch.access != PRMA_ACCESS_PSCW &&
        (unsigned)target < (unsigned)win->size && len > 0)
        return win_rma_dynamic(win, cmd, buf, len, target, target_disp, offset);
    status = prma_win_check_access(win, target, target_disp, offset, len);
    if (status != PRMA_OK || len == 0)
        return status;
    if (win->failed != PRMA_OK)
        return win->failed;
    prma_msg_init(&msg, cmd, PRMA_MSGF_TRANSIENT);
    msg.ms_reply  = &win->reply;
    msg.ms_buf    = buf;
    msg.ms_len    = len;
    msg.ms_offset = target_disp * win->peers[target].disp_unit + offset;
    if (win->dyn != NULL) {
        status = prma__dyn_region(win, target, msg.ms_offset, len, &msg.ms_rkey);
        if (status == PRMA_OK && win->guard == NULL)
            status = win_dyn_pscw_direct(win, cmd == PRMA_CMD_PUT, buf, len, target,
                                         msg.ms_offset);
        if (status != PRMA_EASYNC)
            return status;
    }
    if (win->guard != NULL)
        prma__guard_note(win, target, msg.ms_offset, len,
                         cmd == PRMA_CMD_PUT ? PRMA_GUARD_OP_PUT : PRMA_GUARD_OP_GET, &msg.ms_buf);
    return prma__win_issue(win, target, &msg);
}

int prma__win_issue(struct prma_win *win, int target, struct prma_msg *msg)
{
    struct prma_msg *queued;
    int status;

    switch (win->epoch.access) {
    case PRMA_ACCESS_LOCK:
    case PRMA_ACCESS_LOCK_ALL:
        status = prma__lock_touch(win, target);
        if (status != PRMA_OK)
            return status;
        break;
    case PRMA_ACCESS_PSCW:
        status = prma__pscw_ready(win, target);
        if (status == PRMA_EASYNC) {
            /* The target has not posted yet: its port keeps the operation
             * until it has (and only then is anything queued). */
            queued = malloc(sizeof(*queued));
            if (queued == NULL)
                return PRMA_ERR_NOMEM;
            *queued = *msg;
            pthread_mutex_lock(&win->ports[target]->mp_lock);
            TAILQ_INSERT_TAIL(&win->ports[target]->mp_msgq, queued, ms_link);
            pthread_mutex_unlock(&win->ports[target]->mp_lock);
            win->epoch.member[target] |= PRMA_MEMBER_QUEUED;
            win->epoch.nops++;
            return PRMA_OK;
        }
        if (status != PRMA_OK)
            return status;
        break;
    default:
        break;
    }
    status = prma_sendmsg(win->ports[target], msg);
    win->epoch.nops++;
    return status == PRMA_EASYNC ? PRMA_OK : status;
}

/* A copy of more than PRMA_WIN_SPOT_MAX bytes for a put or get that reached
 * the target's memory (out of line: the callers' fast paths stay without a
 * call). */
__attribute__((noinline)) int prma__win_copy_long(struct prma_win *win, void *to,
                                                  const void *from, size_t len)
{
    if (len >= PRMA_STREAM_MIN)
        prma__copy_large(&win->epoch.streamed, to, from, len);
    else
        prma__copy(to, from, len);
    return PRMA_OK;
}

/* The copy of a put or get that reached the target's memory, counted. */
static inline int win_copy_counted(struct prma_win *win, void *to, const void *from, size_t len)
{
    win->epoch.nops++;
    return prma__win_copy(win, to, from, len);
}

/* Where a put or get of a PSCW epoch may reach target's memory (*at_p),
 * or NULL for the message path: prma__win_reach's conditions, with
 * target's post for this epoch in place of a lock. A put to a target that
 * has not posted yet takes the message path (which leaves it for the
 * target's wait to apply, see pscw.c); a get waits for the post here, as
 * an accumulate does, with the bytes it will read asked for beforehand so
 * that they travel while the post does. Returns a status. */
static int pscw_reach(struct prma_win *win, int put, int target, uint64_t target_disp,
                      uint64_t offset, size_t len, char **at_p)
{
    struct prma_epoch *ep = &win->epoch;
    const struct prma_direct *d;
    uint64_t start;
    char *at;
    int status;

    *at_p = NULL;
    if ((d = prma__win_mapped(win, target)) == NULL || !ep->member[target] || len == 0 ||
        !prma__win_in_range(d->size, d->disp_unit, target_disp, offset, len, &start))
        return PRMA_OK;
    at = d->base + start + offset;
    if (!ep->posted[target]) {
        if (!put)
            for (size_t line = 0; line < len && line < 4 * 64; line += 64)
                __builtin_prefetch(at + line);
        status = put ? prma__pscw_ready(win, target) : prma__pscw_wait_ready(win, target);
        if (status != PRMA_OK)
            return status == PRMA_EASYNC ? PRMA_OK : status;
    }
    *at_p = at;
    return PRMA_OK;
}

/* A put or get the fast path did not finish: its lock taken first if the
 * epoch left it for the first operation, or its target's post awaited,
 * then the copy, or a message. */
static int win_putget(struct prma_win *win, int put, void *origin, size_t len, int target,
                      uint64_t target_disp, uint64_t offset)
{
    char *at;
    int status;

    if (win->epoch.access != PRMA_ACCESS_PSCW) {
        at = prma__win_reach(win, target, target_disp, offset, len, 1);
    } else {
        if ((status = pscw_reach(win, put, target, target_disp, offset, len, &at)) != PRMA_OK)
            return status;
        /* A put to a target that has not posted: into its stage, if it
         * can. */
        if (at == NULL && put &&
            (status = prma__pscw_stage_put(win, target, target_disp, offset, origin, len)) !=
                PRMA_EASYNC)
            return status;
    }
    if (at == NULL)
        return win_rma(win, put ? PRMA_CMD_PUT : PRMA_CMD_GET, origin, len, target, target_disp,
                       offset);
    return put ? win_copy_counted(win, at, origin, len) : win_copy_counted(win, origin, at, len);
}

static __attribute__((noinline)) int win_put_slow(struct prma_win *win, const void *origin,
                                                  size_t len, int target, uint64_t target_disp,
                                                  uint64_t offset)
{
    return win_putget(win, 1, (void *)origin, len, target, target_disp, offset);
}

static __attribute__((noinline)) int win_get_slow(struct prma_win *win, void *origin, size_t len,
                                                  int target, uint64_t target_disp,
                                                  uint64_t offset)
{
    return win_putget(win, 0, origin, len, target, target_disp, offset);
}

/* Put and get: a copy in the call when the target's memory is mapped here
 * and the epoch already lets us in; no call on the way for up to 128 bytes. */
int prma_win_put(prma_win_h win, const void *origin, size_t len, int target,
                 uint64_t target_disp, uint64_t offset)
{
    char *at = prma__win_reach(win, target, target_disp, offset, len, 0);

    if (__builtin_expect(at == NULL, 0))
        return win_put_slow(win, origin, len, target, target_disp, offset);
    return win_copy_counted(win, at, origin, len);
}

int prma_win_get(prma_win_h win, void *origin, size_t len, int target, uint64_t target_disp,
                 uint64_t offset)
{
    char *at = prma__win_reach(win, target, target_disp, offset, len, 0);

    if (__builtin_expect(at == NULL, 0))
        return win_get_slow(win, origin, len, target, target_disp, offset);
    return win_copy_counted(win, origin, at, len);
}

int prma_win_disp_unit(prma_win_h win, int target, size_t *disp_unit_p)
{
    if (target < 0 || target >= win->size)
        return PRMA_ERR_RANK;
    *disp_unit_p = (size_t)win->peers[target].disp_unit;
    return PRMA_OK;
}

int prma_win_query(prma_win_h win, prma_win_attr_t *attr_p)
{
    attr_p->base       = win->base;
    attr_p->size       = win->len;
    attr_p->disp_unit  = win->disp_unit;
    attr_p->flavor     = win->flavor;
    attr_p->rank       = win->rank;
    attr_p->group_size = win->size;
    return PRMA_OK;
}

const char *prma_win_port_kind(prma_win_h win, int target)
{
    if (target < 0 || target >= win->size)
        return NULL;
    return win->ports[target]->mp_ops->name;
}
