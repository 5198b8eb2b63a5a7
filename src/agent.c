/*
 * agent.c - the node agent: small operations that same-node origins hand a
 * polling target through its control block (ctl.h has the area's layout
 * and the slot's states, agent.h the why).
 *
 * Target.  A window whose memory some same-node peer reaches by copies is
 * registered in its context at creation. Every wait loop of the process
 * (wait.c's serve hook, and the blocking MPI calls the shim turns into
 * loops) calls prma__agent_serve(), which renews each registered window's
 * lease and takes the posted slots (in a small group it looks at each,
 * else at those the pending word names): a put or a get is a
 * memcpy on the window, an accumulate-family operation is applied under the
 * window's stripe locks exactly as acc.c applies any update of memory that
 * copies reach, so it stays atomic with the other origins' updates by
 * copies (which hold the same stripes).
 *
 * Origin.  A shm-cma port (transport/shm.c) offers each small PUT, GET and
 * ACC to prma__agent_call() first: with a live lease it fills its slot,
 * posts it, and waits for the answer, serving its own windows meanwhile
 * (two processes that hand each other requests both make progress). When
 * the request is not taken and the lease has lapsed or been dropped, it
 * withdraws it by compare-and-swap; the caller then does it by system
 * calls. Either the target took it (it will answer) or the origin withdrew
 * it: never both, never neither.
 *
 * Every request is answered before the call returns, so an origin's
 * operations to a target stay in the order it issued them, whichever way
 * each one went, and none is in flight at a synchronization call or at
 * MPI_Win_free.
 */
#include "agent.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "acc.h"
#include "context.h"
#include "ctl.h"
#include "guard.h"
#include "msg.h"
#include "reduce.h"
#include "settings.h"
#include "wait.h"
#include "win.h"

/* A poller promises to look at its slots for LEASE_NS, and renews the
 * promise once less than RENEW_NS of it is left; it looks at the clock
 * every RENEW_EVERY serve calls (a call is at least a relaxed spin, at
 * most a yield of the CPU and a test of an MPI request, well under
 * (LEASE_NS - RENEW_NS) / RENEW_EVERY on an idle core). The lease bounds
 * what an origin may wait for a target that stopped polling without
 * saying so (a portrma wait that ended: the next one is usually close
 * behind, as in a series of fences, so it is left to lapse). */
#define LEASE_NS    40000u
#define RENEW_NS    30000u
#define RENEW_EVERY 4u
#define CLOCK_EVERY 16u     /* an origin's waiting turns between two looks */
#define SCAN_MAX    8       /* groups this small: the target looks at every slot,
                               origins leave the pending word alone */

struct prma_agent_entry {
    struct prma_win        *win;
    struct prma_agent_area *area;  /* in win's own control block */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t area_bytes(int nranks)
{
    return sizeof(struct prma_agent_area) + (size_t)nranks * sizeof(struct prma_agent_slot);
}

/* Does the window's control block have an agent area? Only where a member
 * may be reached by copies (user memory; any memory with PORTRMA_SHM=cma),
 * in groups the pending word can name. Facts every member shares. */
static int area_exists(const struct prma_win *win)
{
    if (win->size > PRMA_AGENT_SLOTS || win->flavor == PRMA_WIN_FLAVOR_DYNAMIC)
        return 0;
    return win->flavor == PRMA_WIN_FLAVOR_CREATE || prma__config.shm_mode == PRMA_SHM_CMA;
}

size_t prma__agent_area_size(const struct prma_win *win, size_t size)
{
    if (!area_exists(win))
        return 0;
    return ((size + 63) & ~(size_t)63) - size + area_bytes(win->size);
}

struct prma_agent_area *prma__agent_area(const struct prma_win *win, char *ctl)
{
    if (!area_exists(win) || ctl == NULL)
        return NULL;
    /* Last in the block, and its size is a whole number of lines. */
    return (struct prma_agent_area *)(void *)(ctl + prma__win_ctl_size(win) -
                                              area_bytes(win->size));
}

/* ---- target ------------------------------------------------------------ */

int prma__agent_setup(struct prma_win *win)
{
    const struct prma_peer *me = &win->peers[win->rank];
    struct prma_context *ctx = win->ctx;
    struct prma_agent_entry *grown;
    int any = 0;

    if (!prma__config.agent || !area_exists(win) || win->len == 0 || ctx->forced ||
        (win->flavor == PRMA_WIN_FLAVOR_SHARED && win->contiguous) ||
        (me->memfd >= 0 && prma__config.shm_mode == PRMA_SHM_MAP))
        return PRMA_OK;
    /* Is there an origin whose port to us is shm-cma (win_connect())? */
    for (int i = 0; i < win->size; i++)
        any |= i != win->rank && win->peers[i].node_id == me->node_id &&
               win->peers[i].host_id == me->host_id &&
               !(win->peers[i].flags & PRMA_PEER_FORCE_UCX);
    if (!any)
        return PRMA_OK;
    pthread_mutex_lock(&ctx->agent_lock);
    if (ctx->nagents_max == atomic_load(&ctx->nagents)) {
        int max = ctx->nagents_max == 0 ? 4 : 2 * ctx->nagents_max;

        grown = realloc(ctx->agents, (size_t)max * sizeof(*grown));
        if (grown == NULL) {
            pthread_mutex_unlock(&ctx->agent_lock);
            return PRMA_ERR_NOMEM;
        }
        ctx->agents      = grown;
        ctx->nagents_max = max;
    }
    ctx->agents[atomic_load(&ctx->nagents)] =
        (struct prma_agent_entry){ win, prma__agent_area(win, (char *)win->ctl) };
    atomic_fetch_add(&ctx->nagents, 1);
    pthread_mutex_unlock(&ctx->agent_lock);
    return PRMA_OK;
}

void prma__agent_teardown(struct prma_win *win)
{
    struct prma_context *ctx = win->ctx;
    int n;

    if (atomic_load(&ctx->nagents) == 0)
        return;
    pthread_mutex_lock(&ctx->agent_lock);
    n = atomic_load(&ctx->nagents);
    for (int i = 0; i < n; i++) {
        if (ctx->agents[i].win != win)
            continue;
        atomic_store(&ctx->agents[i].area->lease, 0);
        ctx->agents[i] = ctx->agents[n - 1];
        atomic_fetch_sub(&ctx->nagents, 1);
        break;
    }
    pthread_mutex_unlock(&ctx->agent_lock);
}

/* Apply a taken request to the window's memory; the answer goes back into
 * the slot. The origin checked it; checked again against what is here. */
static int slot_apply(struct prma_win *win, struct prma_agent_slot *s)
{
    unsigned char in[PRMA_AGENT_INLINE];
    char *memory = win->agent_base;
    uint64_t offset = s->offset;
    size_t len = s->len, n;
    struct prma_acc_hdr h;

    if (len > PRMA_AGENT_INLINE || offset > win->len || len > win->len - offset)
        return PRMA_ERR_RMA_RANGE;
    switch (s->cmd) {
    case PRMA_CMD_PUT:
        memcpy(memory + offset, s->data, len);
        return PRMA_OK;
    case PRMA_CMD_GET:
        memcpy(s->data, memory + offset, len);
        return PRMA_OK;
    case PRMA_CMD_ACC:
        n = s->op == PRMA_ACC_CSWAP ? 2 * len : s->op == PRMA_OP_NO_OP ? 0 : len;
        if (n > sizeof(in))
            return PRMA_ERR_ARG;
        /* The old values overwrite the slot's data: reduce from a copy. */
        memcpy(in, s->data, n);
        memset(&h, 0, sizeof(h));
        h.offset = offset;
        h.len    = len;
        h.type   = s->type;
        h.op     = s->op;
        h.fetch  = s->fetch;
        return prma__acc_apply(win, &h, in, n, s->data);
    }
    return PRMA_ERR_ARG;
}

/* Take a posted request, apply it, answer. Returns 1 when it did. */
static inline int slot_serve(struct prma_win *win, struct prma_agent_slot *s)
{
    uint32_t expect = PRMA_SLOT_POSTED;

    /* Mostly nothing there: one load of a line nobody wrote since. */
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != PRMA_SLOT_POSTED)
        return 0;
    /* Withdrawn meanwhile: the origin does it itself. */
    if (!atomic_compare_exchange_strong_explicit(&s->state, &expect, PRMA_SLOT_TAKEN,
                                                 memory_order_acquire, memory_order_relaxed))
        return 0;
    s->status = slot_apply(win, s);
    atomic_store_explicit(&s->state, PRMA_SLOT_DONE, memory_order_release);
    return 1;
}

int prma__agent_serve(struct prma_context *ctx)
{
    int served = 0, n;

    if (atomic_load_explicit(&ctx->nagents, memory_order_relaxed) == 0 ||
        pthread_mutex_trylock(&ctx->agent_lock) != 0)
        return 0;
    n = atomic_load_explicit(&ctx->nagents, memory_order_relaxed);
    ctx->agent_ticks++;
    for (int i = 0; i < n; i++) {
        struct prma_agent_area *a = ctx->agents[i].area;
        uint64_t lease = atomic_load_explicit(&a->lease, memory_order_relaxed), pend, now;

        if (lease == 0 || ctx->agent_ticks % RENEW_EVERY == 0) {
            now = now_ns();
            if (lease < now + RENEW_NS)
                atomic_store_explicit(&a->lease, now + LEASE_NS, memory_order_release);
        }
        if (ctx->agents[i].win->size <= SCAN_MAX) {
            for (int r = 0; r < ctx->agents[i].win->size; r++)
                served += slot_serve(ctx->agents[i].win, &a->slot[r]);
            continue;
        }
        if (atomic_load_explicit(&a->pending, memory_order_relaxed) == 0)
            continue;
        pend = atomic_exchange_explicit(&a->pending, 0, memory_order_acq_rel);
        for (; pend != 0; pend &= pend - 1)
            served += slot_serve(ctx->agents[i].win, &a->slot[__builtin_ctzll(pend)]);
    }
    pthread_mutex_unlock(&ctx->agent_lock);
    if (served > 0)
        atomic_fetch_add_explicit(&ctx->agent_served, (unsigned long)served,
                                  memory_order_relaxed);
    return served;
}

int prma__agent_serve_hook(void *arg)
{
    return prma__agent_serve(arg);
}

void prma__agent_idle(struct prma_context *ctx)
{
    if (atomic_load_explicit(&ctx->nagents, memory_order_relaxed) == 0)
        return;
    /* Whatever was posted before the drop is served; origins that look
     * after it see no lease. */
    prma__agent_serve(ctx);
    if (pthread_mutex_trylock(&ctx->agent_lock) != 0)
        return;  /* another thread polls: its lease stands */
    for (int i = 0; i < atomic_load(&ctx->nagents); i++)
        atomic_store_explicit(&ctx->agents[i].area->lease, 0, memory_order_release);
    pthread_mutex_unlock(&ctx->agent_lock);
}

/* ---- origin ------------------------------------------------------------ */

int prma__agent_call(struct prma_win *win, int target, struct prma_agent_area *a,
                     struct prma_msg *msg)
{
    struct prma_agent_slot *s;
    struct prma_waiter wait;
    size_t len = msg->ms_len, in, out;
    uint64_t lease;
    uint32_t expect = PRMA_SLOT_FREE, state;
    int status;

    (void)target;
    if (a == NULL || !prma__config.agent || msg->ms_region != PRMA_REGION_DATA ||
        msg->ms_rkey != NULL || len > PRMA_AGENT_INLINE)
        return PRMA_ERR_NOTSUP;
    switch (msg->ms_cmd) {
    case PRMA_CMD_PUT:
        in  = len;
        out = 0;
        break;
    case PRMA_CMD_GET:
        in  = 0;
        out = len;
        break;
    case PRMA_CMD_ACC:
        if (msg->ms_aop == PRMA_ACC_CSWAP && (len > 8 || msg->ms_result == NULL))
            return PRMA_ERR_NOTSUP;
        in  = msg->ms_aop == PRMA_ACC_CSWAP ? 2 * len
              : msg->ms_aop == PRMA_OP_NO_OP ? 0 : len;
        out = msg->ms_result != NULL ? len : 0;
        if (in > 0 && msg->ms_buf == NULL)
            return PRMA_ERR_NOTSUP;
        break;
    default:
        return PRMA_ERR_NOTSUP;
    }
    lease = atomic_load_explicit(&a->lease, memory_order_acquire);
    if (lease == 0 || now_ns() >= lease)
        return PRMA_ERR_NOTSUP;
    /* One thread of this process in the slot at a time; the others take
     * the system calls. */
    s = &a->slot[win->rank];
    if (!atomic_compare_exchange_strong_explicit(&s->state, &expect, PRMA_SLOT_FILL,
                                                 memory_order_acquire, memory_order_relaxed))
        return PRMA_ERR_NOTSUP;
    s->cmd    = (uint8_t)msg->ms_cmd;
    s->op     = (uint8_t)msg->ms_aop;
    s->fetch  = msg->ms_result != NULL;
    s->offset = msg->ms_offset;
    s->len    = (uint32_t)len;
    s->type   = (uint16_t)msg->ms_type;
    s->status = PRMA_OK;
    if (in > 0)
        memcpy(s->data, msg->ms_buf, in);
    atomic_store_explicit(&s->state, PRMA_SLOT_POSTED, memory_order_release);
    if (win->size > SCAN_MAX)
        atomic_fetch_or_explicit(&a->pending, UINT64_C(1) << win->rank, memory_order_acq_rel);

    prma__win_waiter(win, &wait);
    for (unsigned turn = 0;; turn++) {
        state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == PRMA_SLOT_DONE)
            break;
        if (state == PRMA_SLOT_POSTED) {
            /* Not taken yet: is the target still polling? */
            lease = atomic_load_explicit(&a->lease, memory_order_acquire);
            if (lease == 0 || (turn % CLOCK_EVERY == CLOCK_EVERY - 1 && now_ns() >= lease)) {
                expect = PRMA_SLOT_POSTED;
                if (atomic_compare_exchange_strong_explicit(&s->state, &expect, PRMA_SLOT_FREE,
                                                            memory_order_acq_rel,
                                                            memory_order_acquire)) {
                    atomic_fetch_add_explicit(&win->ctx->agent_withdrawn, 1,
                                              memory_order_relaxed);
                    return PRMA_ERR_NOTSUP;
                }
                continue;  /* taken just now: its answer comes */
            }
        }
        status = prma__wait_turn(&wait);
        if (status != PRMA_OK) {
            /* A member is gone. Not taken: withdrawn, nothing was done.
             * Taken by a target that is gone: the slot is lost with it. */
            expect = PRMA_SLOT_POSTED;
            atomic_compare_exchange_strong_explicit(&s->state, &expect, PRMA_SLOT_FREE,
                                                    memory_order_acq_rel, memory_order_acquire);
            return status;
        }
    }
    status = s->status;
    if (status == PRMA_OK && out > 0)
        memcpy(msg->ms_cmd == PRMA_CMD_GET ? msg->ms_buf : msg->ms_result, s->data, out);
    atomic_store_explicit(&s->state, PRMA_SLOT_FREE, memory_order_release);
    return status;
}
