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
 * Larger puts and gets (prma__agent_bulk()), up to PRMA_AGENT_BOUNCE_MAX
 * bytes, go in pieces through the chunks of a bulk area that one origin
 * owns at a time: the origin fills one while the target empties another
 * (ctl.h). Larger ones are left to the system calls, which move them as
 * fast as two copies through shared memory can on either side (each byte
 * crosses between the cores twice). A dynamic window's target copies only inside
 * the regions it has attached when the request comes (dynamic.c holds
 * them while it copies): an address outside them is PRMA_ERR_RMA_RANGE
 * and nothing is written.
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
#include "dynamic.h"
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
#define BULK_PATIENCE_NS 3000u /* an origin withdraws a piece not taken this long */
#define BULK_TAKEN_NS   50000u /* and spins for its answer this long at most */
#define BULK_IDLE_NS 3000u  /* a target waits this long for the next piece of a
                               bulk transfer before it goes back to its loop */

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
    if (win->size > PRMA_AGENT_SLOTS)
        return 0;
    return win->flavor == PRMA_WIN_FLAVOR_CREATE || win->flavor == PRMA_WIN_FLAVOR_DYNAMIC ||
           prma__config.shm_mode == PRMA_SHM_CMA;
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

    if (!prma__config.agent || !area_exists(win) || ctx->forced ||
        (win->len == 0 && win->flavor != PRMA_WIN_FLAVOR_DYNAMIC) ||
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

/* Copy len bytes between buf and the window at offset (put: into the
 * window). The origin checked the range; checked again against what is
 * here: the window's length, or a dynamic window's regions as they are now
 * (nothing is written outside one). */
static int window_copy(struct prma_win *win, uint64_t offset, void *buf, size_t len, int put)
{
    char *memory = win->agent_base;

    if (win->flavor == PRMA_WIN_FLAVOR_DYNAMIC)
        return prma__dyn_copy(win, offset, buf, len, put);
    if (offset > win->len || len > win->len - offset)
        return PRMA_ERR_RMA_RANGE;
    if (put)
        memcpy(memory + offset, buf, len);
    else
        memcpy(buf, memory + offset, len);
    return PRMA_OK;
}

/* Tests' budget (context.h): may this process serve one more? */
static inline int budget_left(const struct prma_context *ctx)
{
    return ctx->agent_budget >= 0;
}

/* ... it served one, of len bytes at offset. */
static inline void budget_spend(struct prma_context *ctx, uint64_t offset, size_t len)
{
    if (ctx->agent_budget == 0)
        return;
    ctx->agent_last_offset = offset;
    ctx->agent_last_len    = len;
    if (--ctx->agent_budget == 0)
        ctx->agent_budget = -1;
}

/* Apply a taken request to the window's memory; the answer goes back into
 * the slot. */
static int slot_apply(struct prma_win *win, struct prma_agent_slot *s)
{
    unsigned char in[PRMA_AGENT_INLINE];
    uint64_t offset = s->offset;
    size_t len = s->len, n;
    struct prma_acc_hdr h;

    if (len > PRMA_AGENT_INLINE)
        return PRMA_ERR_RMA_RANGE;
    switch (s->cmd) {
    case PRMA_CMD_PUT:
    case PRMA_CMD_GET:
        return window_copy(win, offset, s->data, len, s->cmd == PRMA_CMD_PUT);
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
    if (!budget_left(win->ctx) ||
        !atomic_compare_exchange_strong_explicit(&s->state, &expect, PRMA_SLOT_TAKEN,
                                                 memory_order_acquire, memory_order_relaxed))
        return 0;
    budget_spend(win->ctx, s->offset, s->len);
    s->status = slot_apply(win, s);
    atomic_store_explicit(&s->state, PRMA_SLOT_DONE, memory_order_release);
    return 1;
}

/* Take a posted piece of a bulk transfer, copy it, answer. Returns 1 when
 * it did. */
static inline int chunk_serve(struct prma_win *win, struct prma_agent_bulk *b, int i)
{
    struct prma_agent_chunk *c = &b->chunk[i];
    uint32_t expect = PRMA_SLOT_POSTED;

    if (atomic_load_explicit(&c->state, memory_order_relaxed) != PRMA_SLOT_POSTED ||
        !budget_left(win->ctx) ||
        !atomic_compare_exchange_strong_explicit(&c->state, &expect, PRMA_SLOT_TAKEN,
                                                 memory_order_acquire, memory_order_relaxed))
        return 0;
    budget_spend(win->ctx, c->offset, c->len);
    c->status = c->len > PRMA_AGENT_CHUNK || (c->cmd != PRMA_CMD_PUT && c->cmd != PRMA_CMD_GET)
                    ? PRMA_ERR_ARG
                    : window_copy(win, c->offset, b->data[i], c->len, c->cmd == PRMA_CMD_PUT);
    atomic_store_explicit(&c->state, PRMA_SLOT_DONE, memory_order_release);
    return 1;
}

/* Serve the pieces of the bulk transfer under way, if any; once one was
 * there, go on for as long as the origin hands out more (the next one is
 * due while this one is copied), at most BULK_IDLE_NS without one; the
 * lease is renewed as pieces come. Returns the pieces served. */
static int bulk_serve(struct prma_win *win, struct prma_agent_area *a)
{
    struct prma_agent_bulk *b = &a->bulk;
    uint64_t idle_since = 0, now;
    int served = 0, any;

    if (atomic_load_explicit(&b->owner, memory_order_relaxed) == 0)
        return 0;
    for (unsigned turn = 0;; turn++) {
        any = 0;
        for (int i = 0; i < PRMA_AGENT_CHUNKS; i++)
            any += chunk_serve(win, b, i);
        if (any > 0) {
            served    += any;
            idle_since = 0;
            now        = now_ns();
            if (atomic_load_explicit(&a->lease, memory_order_relaxed) < now + RENEW_NS)
                atomic_store_explicit(&a->lease, now + LEASE_NS, memory_order_release);
            continue;
        }
        /* Nothing posted at the first look (the origin may not have begun,
         * be off its CPU, or gone): its pieces wait for the next call. */
        if (turn == 0 || atomic_load_explicit(&b->owner, memory_order_relaxed) == 0 ||
            !budget_left(win->ctx))
            break;
        if (turn % 8 == 7) {
            now = now_ns();
            if (idle_since == 0)
                idle_since = now;
            else if (now - idle_since > BULK_IDLE_NS)
                break;
        }
        prma__cpu_relax();
    }
    return served;
}

int prma__agent_serve(struct prma_context *ctx)
{
    int served = 0, n;

    if (atomic_load_explicit(&ctx->nagents, memory_order_relaxed) == 0 ||
        pthread_mutex_trylock(&ctx->agent_lock) != 0)
        return 0;
    if (!budget_left(ctx)) {
        pthread_mutex_unlock(&ctx->agent_lock);
        return 0;  /* tests: stopped polling */
    }
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
        served += bulk_serve(ctx->agents[i].win, a);
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

/* Is the target's promise to poll still good? Looks at the clock only
 * when look says so (it costs more than the load). */
static inline int lease_alive(struct prma_agent_area *a, int look)
{
    uint64_t lease = atomic_load_explicit(&a->lease, memory_order_acquire);

    return lease != 0 && (!look || now_ns() < lease);
}

/* The part of msg that chunk c was handed, as a message of its own. */
static void chunk_part(const struct prma_msg *msg, const struct prma_agent_chunk *c,
                       struct prma_msg *part)
{
    *part         = *msg;
    part->ms_buf  = (char *)msg->ms_buf + (c->offset - msg->ms_offset);
    part->ms_len  = c->len;
    part->ms_offset = c->offset;
}

/* Wait for chunk i's answer (a get's bytes go to their place in msg's
 * buffer) and make it FREE; or withdraw its piece when the target stops
 * polling or has not taken it for BULK_PATIENCE_NS (it is off its CPU, or
 * busy: the system call is sooner then), or when *gave_up_p says an
 * earlier piece was withdrawn, set *gave_up_p and copy the piece by
 * copy(). Returns the piece's status; *lost_p is set when the wait
 * itself failed (a member is gone), the chunk perhaps still taken. */
static int chunk_retire(struct prma_win *win, struct prma_agent_area *a, int i,
                        const struct prma_msg *msg, prma_agent_copy_cb copy, void *arg,
                        struct prma_waiter *wait, int *gave_up_p, int *lost_p)
{
    struct prma_agent_chunk *c = &a->bulk.chunk[i];
    struct prma_msg part;
    uint64_t since = now_ns(), now = since;
    uint32_t state, expect;
    int status, look;

    for (unsigned turn = 0;; turn++) {
        state = atomic_load_explicit(&c->state, memory_order_acquire);
        if (state == PRMA_SLOT_FREE)
            return PRMA_OK;
        if (state == PRMA_SLOT_DONE) {
            status = c->status;
            if (status == PRMA_OK && c->cmd == PRMA_CMD_GET)
                memcpy((char *)msg->ms_buf + (c->offset - msg->ms_offset), a->bulk.data[i],
                       c->len);
            atomic_store_explicit(&c->state, PRMA_SLOT_FREE, memory_order_relaxed);
            wait->idle = 0;  /* the next answer is close behind: spin, don't yield */
            return status;
        }
        look = turn % CLOCK_EVERY == CLOCK_EVERY - 1;
        if (look)
            now = now_ns();
        if (state == PRMA_SLOT_POSTED &&
            (*gave_up_p || !lease_alive(a, look) || now - since > BULK_PATIENCE_NS)) {
            expect = PRMA_SLOT_POSTED;
            if (atomic_compare_exchange_strong_explicit(&c->state, &expect, PRMA_SLOT_FREE,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                atomic_fetch_add_explicit(&win->ctx->agent_withdrawn, 1, memory_order_relaxed);
                *gave_up_p = 1;
                chunk_part(msg, c, &part);
                return copy(arg, &part);
            }
            continue;  /* taken just now: its answer comes */
        }
        /* Posted within the patience, or taken (the target is copying
         * it now): the answer is due, so spin, don't yield (on a loaded
         * node a yield may cost a time slice). A target taken off its CPU
         * in the middle of a piece is waited for as any other wait. */
        if (now - since <= BULK_TAKEN_NS)
            wait->idle = 0;
        status = prma__wait_turn(wait);
        if (status != PRMA_OK) {
            /* A member is gone: see prma__agent_call(). */
            expect = PRMA_SLOT_POSTED;
            if (!atomic_compare_exchange_strong_explicit(&c->state, &expect, PRMA_SLOT_FREE,
                                                         memory_order_acq_rel,
                                                         memory_order_acquire))
                *lost_p = 1;
            return status;
        }
    }
}

int prma__agent_bulk(struct prma_win *win, struct prma_agent_area *a, struct prma_msg *msg,
                     prma_agent_copy_cb copy, void *arg)
{
    struct prma_agent_bulk *b;
    struct prma_waiter wait;
    struct prma_msg rest;
    size_t len = msg->ms_len, next = 0;
    uint64_t expect = 0;
    unsigned k = 0;
    int status = PRMA_OK, st, gave_up = 0, lost = 0, put = msg->ms_cmd == PRMA_CMD_PUT;

    if (a == NULL || !prma__config.agent || msg->ms_region != PRMA_REGION_DATA ||
        msg->ms_rkey != NULL || (!put && msg->ms_cmd != PRMA_CMD_GET) || len == 0 ||
        len > PRMA_AGENT_BOUNCE_MAX || !lease_alive(a, 1))
        return PRMA_ERR_NOTSUP;
    b = &a->bulk;
    if (atomic_load_explicit(&b->owner, memory_order_relaxed) != 0 ||
        !atomic_compare_exchange_strong_explicit(&b->owner, &expect, (uint64_t)win->rank + 1,
                                                 memory_order_acquire, memory_order_relaxed))
        return PRMA_ERR_NOTSUP;  /* another origin's transfer: the system calls */
    prma__win_waiter(win, &wait);
    /* Hand out the pieces in turn, each chunk again once its previous piece
     * is answered, while the target polls. */
    while (next < len) {
        int i = (int)(k % PRMA_AGENT_CHUNKS);
        struct prma_agent_chunk *c = &b->chunk[i];
        size_t n = len - next < PRMA_AGENT_CHUNK ? len - next : PRMA_AGENT_CHUNK;

        if (k >= PRMA_AGENT_CHUNKS) {
            st = chunk_retire(win, a, i, msg, copy, arg, &wait, &gave_up, &lost);
            if (lost)
                goto err_keep;
            if (status == PRMA_OK)
                status = st;
        }
        if (gave_up || !lease_alive(a, 1))
            break;
        c->cmd    = (uint8_t)msg->ms_cmd;
        c->offset = msg->ms_offset + next;
        c->len    = (uint32_t)n;
        c->status = PRMA_OK;
        if (put)
            memcpy(b->data[i], (const char *)msg->ms_buf + next, n);
        atomic_store_explicit(&c->state, PRMA_SLOT_POSTED, memory_order_release);
        next += n;
        k++;
    }
    for (unsigned j = k > PRMA_AGENT_CHUNKS ? k - PRMA_AGENT_CHUNKS : 0; j < k; j++) {
        st = chunk_retire(win, a, (int)(j % PRMA_AGENT_CHUNKS), msg, copy, arg, &wait,
                          &gave_up, &lost);
        if (lost)
            goto err_keep;
        if (status == PRMA_OK)
            status = st;
    }
    atomic_store_explicit(&b->owner, 0, memory_order_release);
    /* What was not handed out: by system calls. */
    if (next < len && status == PRMA_OK) {
        rest           = *msg;
        rest.ms_buf    = (char *)msg->ms_buf + next;
        rest.ms_len    = len - next;
        rest.ms_offset = msg->ms_offset + next;
        status         = copy(arg, &rest);
    }
    return status;

err_keep:
    /* A member is gone and a piece may still be taken: the chunks stay
     * owned (the window has failed anyway). */
    return st;
}
