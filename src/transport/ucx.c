/*
 * ucx.c - the ucx port: a peer reached through UCX (another node, or any
 * peer when PORTRMA_TRANSPORT=ucx), and the process's UCX state behind it.
 *
 * A put or get is one ucp_put_nbx / ucp_get_nbx on the peer's registered
 * window memory (for a dynamic window: at the peer's own address, with the
 * key of the region there, which the message carries in ms_rkey). When UCX completes it inline the message is done on the
 * spot; otherwise the port returns PRMA_EASYNC and the completion comes back
 * through the UCX callback: a transient message is counted on its reply
 * port (and uncounted there), a persistent one is replied to. Remote
 * completion, which fence needs, is a flush of the worker (of one endpoint
 * for MPI_Win_flush) - after puts only: a get is complete when its data is
 * here, an atomic or an accumulate when its answer is, and those are
 * waited for before any flush (a flush after gets alone measured one round
 * trip more over tcp: get + flush 21 against 10.8 us).
 *
 * Accumulates that no UCX atomic can do go to the target's agent as one
 * active message (PRMA_AM_ACC); the agent applies them to its memory
 * (acc.c) and answers with PRMA_AM_ACC_REPLY, carrying the old values for
 * a fetching one. UCX runs its atomics in the CPU's domain
 * (UCX_ATOMIC_MODE=cpu unless the user chose otherwise), so they are
 * atomic with the CPU atomics of same-host peers and of the agent.
 *
 * A process that reaches every peer through UCX (forced) has UCX allocate
 * its MPI_Win_allocate windows (prma__ucx_mem_alloc) where UCX can map
 * them for a peer on the host: its shared-memory transports then reach
 * them directly, and a same-host port has UCX map the target's window
 * here (ucp_rkey_ptr, at creation), so that puts and gets in an epoch that
 * lets the origin in are copies, as on a shm port (mp_direct).
 *
 * Failures keep their cause: each UCX status becomes its own portrma status
 * (prma__ucx_status), and a peer that dies is noticed through UCX's peer
 * error handling, after which every operation to it fails at once.
 */
#include "ucx.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../acc.h"
#include "../context.h"
#include "../log.h"
#include "../port.h"
#include "../progress.h"
#include "../settings.h"
#include "../wait.h"
#include "../win.h"

int prma__ucx_status(ucs_status_t status)
{
    switch (status) {
    case UCS_OK:
        return PRMA_OK;
    case UCS_INPROGRESS:
        return PRMA_EASYNC;
    case UCS_ERR_NO_MEMORY:
        return PRMA_ERR_NOMEM;
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_NO_DEVICE:
        return PRMA_ERR_UNREACHABLE;
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_TIMED_OUT:
        return PRMA_ERR_PEER_TIMEOUT;
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_REJECTED:
    case UCS_ERR_CANCELED:
        return PRMA_ERR_PEER_LOST;
    case UCS_ERR_IO_ERROR:
    case UCS_ERR_MESSAGE_TRUNCATED:
        return PRMA_ERR_UCX_IO;
    case UCS_ERR_NO_RESOURCE:
    case UCS_ERR_EXCEEDS_LIMIT:
    case UCS_ERR_BUSY:
    case UCS_ERR_OUT_OF_RANGE:
        return PRMA_ERR_UCX_RESOURCE;
    case UCS_ERR_INVALID_PARAM:
    case UCS_ERR_INVALID_ADDR:
        return PRMA_ERR_UCX_INVALID;
    case UCS_ERR_UNSUPPORTED:
    case UCS_ERR_NOT_IMPLEMENTED:
        return PRMA_ERR_NOTSUP;
    default:
        return PRMA_ERR_UCX;
    }
}

/* ---- the process's UCX state ---------------------------------------- */

/* Create context and worker; on failure everything is released. */
static int ucx_open(struct prma_ucx *ucx, const prma_bootstrap_t *boot)
{
    ucp_params_t params;
    ucp_worker_params_t wparams;
    ucp_config_t *config;
    ucs_status_t st;

    st = ucp_config_read(NULL, NULL, &config);
    if (st != UCS_OK) {
        prma_error("reading the UCX configuration failed: %s", ucs_status_string(st));
        return prma__ucx_status(st);
    }
    memset(&params, 0, sizeof(params));
    params.field_mask        = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_ESTIMATED_NUM_EPS;
    params.features          = UCP_FEATURE_RMA | UCP_FEATURE_AMO32 | UCP_FEATURE_AMO64 |
                               UCP_FEATURE_AM;
    /* One atomicity domain: UCX's atomics must be atomic with the CPU's. */
    if (getenv("UCX_ATOMIC_MODE") == NULL &&
        (st = ucp_config_modify(config, "ATOMIC_MODE", "cpu")) != UCS_OK)
        prma_warn("asking UCX for CPU-coherent atomics failed: %s", ucs_status_string(st));
    if (prma__config.progress == PRMA_PROGRESS_THREAD)
        params.features |= UCP_FEATURE_WAKEUP;
    params.estimated_num_eps = (size_t)boot->size;
    st = ucp_init(&params, config, &ucx->context);
    ucp_config_release(config);
    if (st != UCS_OK) {
        prma_error("UCX initialization failed: %s", ucs_status_string(st));
        return prma__ucx_status(st);
    }
    memset(&wparams, 0, sizeof(wparams));
    wparams.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wparams.thread_mode = boot->threads || prma__config.progress == PRMA_PROGRESS_THREAD
                              ? UCS_THREAD_MODE_MULTI
                              : UCS_THREAD_MODE_SINGLE;
    st = ucp_worker_create(ucx->context, &wparams, &ucx->worker);
    if (st != UCS_OK) {
        prma_error("creating the UCX worker failed: %s", ucs_status_string(st));
        ucp_cleanup(ucx->context);
        return prma__ucx_status(st);
    }
    return PRMA_OK;
}

/* ---- the accumulate agent --------------------------------------------- */

enum { PRMA_AM_ACC = 1, PRMA_AM_ACC_REPLY = 2 };

/* An origin's accumulate waiting for its reply. A transient one (nobody
 * waits) also owns a copy of the header and data, and is freed by the last
 * of its two events: the send's completion and the reply. */
struct acc_req {
    _Atomic int       done;     /* the reply came (or the send failed) */
    int               status;
    void             *result;   /* the old values go here */
    size_t            len;
    struct prma_port *reply;    /* transient: counted there */
    _Atomic int       refs;     /* transient: events still to come */
    struct prma_acc_hdr hdr;
    char              data[];   /* transient: the data */
};

static void acc_req_put(struct acc_req *req)
{
    if (atomic_fetch_sub(&req->refs, 1) == 1)
        free(req);
}

/* Settle a request once: the reply, or a failed send. */
static void acc_req_settle(struct acc_req *req, int status, const void *data, size_t len)
{
    int expect = 0;

    if (req->reply != NULL) {
        if (!atomic_compare_exchange_strong(&req->done, &expect, 1))
            return;
        if (status != PRMA_OK)
            prma_port_fail(req->reply, status);
        prma_port_unhold(req->reply);
        acc_req_put(req);
        return;
    }
    req->status = status;
    if (status == PRMA_OK && req->result != NULL && data != NULL && len == req->len)
        memcpy(req->result, data, len);
    atomic_store_explicit(&req->done, 1, memory_order_release);
}

static void acc_reply_sent(void *request, ucs_status_t st, void *user_data)
{
    if (st != UCS_OK)
        prma_error("answering an accumulate failed: %s", ucs_status_string(st));
    free(user_data);
    ucp_request_free(request);
}

/* The agent: apply what arrived, answer on the endpoint it came by. */
static ucs_status_t am_acc(void *arg, const void *header, size_t header_length, void *data,
                           size_t length, const ucp_am_recv_param_t *param)
{
    struct prma_acc_hdr h;
    struct prma_acc_reply *r;
    ucp_request_param_t sparam;
    ucs_status_ptr_t req;
    size_t rlen;

    if (header_length != sizeof(h) || !(param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP)) {
        prma_error("a malformed accumulate arrived; dropped");
        return UCS_OK;
    }
    memcpy(&h, header, sizeof(h));
    rlen = h.fetch ? h.len : 0;
    r = malloc(sizeof(*r) + rlen);
    if (r == NULL) {
        prma_error("no memory to answer an accumulate");
        return UCS_OK;
    }
    r->req = h.req;
    r->pad = 0;
    if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)
        r->status = PRMA_ERR_UCX;  /* origins send eagerly; never expected */
    else
        r->status = prma__acc_agent(arg, &h, data, length, r + 1);
    if (r->status != PRMA_OK)
        rlen = 0;
    memset(&sparam, 0, sizeof(sparam));
    sparam.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS | UCP_OP_ATTR_FIELD_CALLBACK |
                          UCP_OP_ATTR_FIELD_USER_DATA;
    sparam.flags        = UCP_AM_SEND_FLAG_EAGER;
    sparam.cb.send      = acc_reply_sent;
    sparam.user_data    = r;
    req = ucp_am_send_nbx(param->reply_ep, PRMA_AM_ACC_REPLY, r, sizeof(*r), r + 1, rlen,
                          &sparam);
    if (UCS_PTR_IS_ERR(req))
        prma_error("answering an accumulate failed: %s",
                   ucs_status_string(UCS_PTR_STATUS(req)));
    if (!UCS_PTR_IS_PTR(req))
        free(r);
    return UCS_OK;
}

/* The origin: the answer to one of its accumulates. */
static ucs_status_t am_acc_reply(void *arg, const void *header, size_t header_length,
                                 void *data, size_t length, const ucp_am_recv_param_t *param)
{
    struct prma_acc_reply r;

    if (header_length != sizeof(r) || (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
        prma_error("a malformed accumulate answer arrived; dropped");
        return UCS_OK;
    }
    memcpy(&r, header, sizeof(r));
    acc_req_settle((struct acc_req *)(uintptr_t)r.req, r.status, data, length);
    return UCS_OK;
}

static int ucx_am_handlers(struct prma_context *ctx)
{
    const struct { unsigned id; ucp_am_recv_callback_t cb; } hs[] = {
        { PRMA_AM_ACC, am_acc }, { PRMA_AM_ACC_REPLY, am_acc_reply },
    };
    ucp_am_handler_param_t param;
    ucs_status_t st;

    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        memset(&param, 0, sizeof(param));
        param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                           UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
        param.id         = hs[i].id;
        param.cb         = hs[i].cb;
        param.arg        = ctx;
        param.flags      = UCP_AM_FLAG_WHOLE_MSG;
        st = ucp_worker_set_am_recv_handler(ctx->ucx->worker, &param);
        if (st != UCS_OK) {
            prma_error("setting a UCX active message handler failed: %s",
                       ucs_status_string(st));
            return prma__ucx_status(st);
        }
    }
    return PRMA_OK;
}

int prma__ucx_init(struct prma_context *ctx, int want)
{
    const prma_bootstrap_t *boot = &ctx->boot;
    struct prma_ucx *ucx = NULL;
    ucp_address_t *addr = NULL;
    size_t addr_len = 0;
    int32_t *wants = NULL, anyone = 0;
    uint32_t mine;
    char *slot = NULL;
    int status = PRMA_OK, opened = 0;

    if (boot->allgather == NULL) {
        if (want)
            prma_error("UCX is wanted but the bootstrap gives no allgather to exchange addresses");
        return want ? PRMA_ERR_ARG : PRMA_OK;
    }
    /* 1. Does anyone want UCX? Everyone must agree before anyone starts it. */
    wants = calloc((size_t)boot->size, sizeof(*wants));
    if (wants == NULL)
        return PRMA_ERR_NOMEM;
    mine = (uint32_t)(want != 0);
    if (boot->allgather(boot->arg, &mine, wants, sizeof(int32_t)) != 0) {
        free(wants);
        prma_error("exchanging the UCX decision failed");
        return PRMA_ERR_BOOTSTRAP;
    }
    for (int i = 0; i < boot->size; i++)
        anyone |= wants[i];
    free(wants);
    if (!anyone)
        return PRMA_OK;

    /* 2. Open UCX here; a failure leaves this process unreachable by UCX
     * (address length 0) but still takes part in the exchange. */
    ucx = calloc(1, sizeof(*ucx));
    if (ucx != NULL) {
        ucx->size  = boot->size;
        ucx->lens  = calloc((size_t)boot->size, sizeof(*ucx->lens));
        ucx->peers = calloc((size_t)boot->size, sizeof(*ucx->peers));
        if (ucx->lens != NULL && ucx->peers != NULL && ucx_open(ucx, boot) == PRMA_OK) {
            opened = 1;
            if (ucp_worker_get_address(ucx->worker, &addr, &addr_len) != UCS_OK) {
                prma_error("getting the UCX worker address failed");
                addr_len = 0;
            }
        }
    }
    if (ucx == NULL || ucx->lens == NULL || ucx->peers == NULL)
        status = PRMA_ERR_NOMEM;
    mine = (uint32_t)addr_len;

    /* 3. Address lengths, then the addresses in slots of the longest. */
    if (status == PRMA_OK) {
        if (boot->allgather(boot->arg, &mine, ucx->lens, sizeof(uint32_t)) != 0)
            status = PRMA_ERR_BOOTSTRAP;
    } else {
        /* Out of memory: we cannot collect, but we must not leave the
         * others waiting either. Nothing sane is left; say so. */
        prma_error("no memory for the UCX address exchange");
        goto err;
    }
    for (int i = 0; status == PRMA_OK && i < boot->size; i++)
        if (ucx->lens[i] > ucx->slot)
            ucx->slot = ucx->lens[i];
    if (status == PRMA_OK && ucx->slot > 0) {
        slot       = calloc(1, ucx->slot);
        ucx->addrs = calloc((size_t)boot->size, ucx->slot);
        if (slot == NULL || ucx->addrs == NULL) {
            status = PRMA_ERR_NOMEM;
            goto err;
        }
        if (addr_len > 0)
            memcpy(slot, addr, addr_len);
        if (boot->allgather(boot->arg, slot, ucx->addrs, ucx->slot) != 0)
            status = PRMA_ERR_BOOTSTRAP;
    }
    free(slot);
    if (addr != NULL)
        ucp_worker_release_address(ucx->worker, addr);
    if (status != PRMA_OK) {
        prma_error("exchanging UCX worker addresses failed");
        goto err_close;
    }
    if (!opened) {
        /* Others may still reach each other; this process has no UCX. */
        free(ucx->addrs);
        free(ucx->lens);
        free(ucx->peers);
        free(ucx);
        return PRMA_OK;
    }
    ctx->ucx = ucx;
    if ((status = ucx_am_handlers(ctx)) != PRMA_OK)
        prma_warn("no accumulate agent: accumulates that need one fail");
    status = PRMA_OK;
    if (prma__config.progress == PRMA_PROGRESS_THREAD &&
        prma__progress_start(ucx->worker, &ucx->main_turns, &ucx->driving, &ucx->thread) !=
            PRMA_OK)
        prma_warn("no progress thread: peers' emulated operations complete only while this "
                  "process is inside portrma");
    prma_debug("UCX ready: address slots of %zu bytes for %d ranks", ucx->slot, ucx->size);
    return PRMA_OK;

err:
    free(slot);
    if (addr != NULL)
        ucp_worker_release_address(ucx->worker, addr);
err_close:
    if (opened) {
        ucp_worker_destroy(ucx->worker);
        ucp_cleanup(ucx->context);
    }
    if (ucx != NULL) {
        free(ucx->addrs);
        free(ucx->lens);
        free(ucx->peers);
        free(ucx);
    }
    return status;
}

void prma__ucx_quiesce(struct prma_ucx *ucx)
{
    for (int i = 0; i < ucx->size; i++)
        ucx->peers[i].closing = 1;
}

void prma__ucx_fini(struct prma_context *ctx)
{
    struct prma_ucx *ucx = ctx->ucx;
    ucp_request_param_t param;
    void **closing;
    int n = 0;

    if (ucx == NULL)
        return;
    prma__progress_stop(ucx->thread);
    ucx->thread = NULL;
    closing = calloc((size_t)ucx->size, sizeof(*closing));
    memset(&param, 0, sizeof(param));
    for (int i = 0; i < ucx->size; i++) {
        ucs_status_ptr_t req;

        if (ucx->peers[i].ep == NULL)
            continue;
        ucx->peers[i].closing = 1;
        /* Flush-mode close; a peer that is gone is closed by force. */
        param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        param.flags        = ucx->peers[i].status == PRMA_OK ? 0 : UCP_EP_CLOSE_FLAG_FORCE;
        req = ucp_ep_close_nbx(ucx->peers[i].ep, &param);
        if (UCS_PTR_IS_PTR(req) && closing != NULL)
            closing[n++] = req;
        else if (UCS_PTR_IS_PTR(req))
            ucp_request_free(req);
    }
    /* Wait for the closes, but never for long: a peer may be gone. */
    for (int spins = 0; spins < 200000; spins++) {
        int busy = 0;

        ucp_worker_progress(ucx->worker);
        for (int i = 0; i < n; i++)
            if (closing[i] != NULL && ucp_request_check_status(closing[i]) == UCS_INPROGRESS)
                busy = 1;
        if (!busy)
            break;
        sched_yield();
    }
    for (int i = 0; i < n; i++)
        ucp_request_free(closing[i]);
    free(closing);
    ucp_worker_destroy(ucx->worker);
    ucp_cleanup(ucx->context);
    free(ucx->addrs);
    free(ucx->lens);
    free(ucx->peers);
    free(ucx);
    ctx->ucx = NULL;
}

static void ep_failed(void *arg, ucp_ep_h ep, ucs_status_t st)
{
    struct prma_ucx_peer *peer = arg;
    int status = prma__ucx_status(st);

    /* A peer is gone: every later operation to it fails at once. */
    peer->status = status < 0 ? status : PRMA_ERR_PEER_LOST;
    if (peer->closing)
        prma_debug("peer disconnected while closing: %s", ucs_status_string(st));
    else
        prma_error("peer connection failed: %s", ucs_status_string(st));
}

int prma__ucx_ep(struct prma_ucx *ucx, int rank, int same_host, ucp_ep_h *ep_p)
{
    struct prma_ucx_peer *peer = &ucx->peers[rank];
    ucp_ep_params_t params;
    ucs_status_t st;

    if (peer->status != PRMA_OK)
        return peer->status;
    if (peer->ep != NULL) {
        *ep_p = peer->ep;
        return PRMA_OK;
    }
    if (ucx->lens[rank] == 0) {
        prma_error("rank %d has no UCX address: it cannot be reached", rank);
        return PRMA_ERR_UNREACHABLE;
    }
    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                        UCP_EP_PARAM_FIELD_ERR_HANDLER;
    params.address         = (const ucp_address_t *)(ucx->addrs + (size_t)rank * ucx->slot);
    /* Peer failure detection where it matters: a peer on another host. On
     * this host portrma watches the process itself (barrier liveness
     * checks), and UCX's shared-memory transports have none to offer. */
    params.err_mode        = same_host ? UCP_ERR_HANDLING_MODE_NONE : UCP_ERR_HANDLING_MODE_PEER;
    params.err_handler.cb  = ep_failed;
    params.err_handler.arg = peer;
    st = ucp_ep_create(ucx->worker, &params, &peer->ep);
    if (st == UCS_ERR_UNREACHABLE && params.err_mode == UCP_ERR_HANDLING_MODE_PEER) {
        /* No transport to that peer can report its failure; they still
         * carry the traffic without it. */
        prma_debug("rank %d: no UCX transport with peer failure detection; connecting "
                   "without it", rank);
        params.err_mode = UCP_ERR_HANDLING_MODE_NONE;
        st = ucp_ep_create(ucx->worker, &params, &peer->ep);
    }
    if (st != UCS_OK) {
        prma_error("connecting to rank %d through UCX failed: %s", rank, ucs_status_string(st));
        peer->ep = NULL;
        return prma__ucx_status(st);
    }
    *ep_p = peer->ep;
    return PRMA_OK;
}

int prma__ucx_mem_map(struct prma_ucx *ucx, void *base, size_t len, ucp_mem_h *memh_p,
                      void **rkey_p, size_t *rkey_len_p)
{
    ucp_mem_map_params_t params;
    ucp_mem_h memh;
    ucs_status_t st;
    int status;

    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
    params.address    = base;
    params.length     = len;
    st = ucp_mem_map(ucx->context, &params, &memh);
    if (st != UCS_OK) {
        prma_error("registering %zu bytes of window memory with UCX failed: %s", len,
                   ucs_status_string(st));
        return prma__ucx_status(st);
    }
    status = prma__ucx_mem_pack(ucx, memh, rkey_p, rkey_len_p);
    if (status != PRMA_OK) {
        ucp_mem_unmap(ucx->context, memh);
        return status;
    }
    *memh_p = memh;
    return PRMA_OK;
}

int prma__ucx_mem_pack(struct prma_ucx *ucx, ucp_mem_h memh, void **rkey_p, size_t *rkey_len_p)
{
    void *rkey;
    size_t rkey_len;
    ucs_status_t st;

    st = ucp_rkey_pack(ucx->context, memh, &rkey, &rkey_len);
    if (st != UCS_OK) {
        prma_error("packing the UCX key of window memory failed: %s", ucs_status_string(st));
        return prma__ucx_status(st);
    }
    *rkey_p     = rkey;
    *rkey_len_p = rkey_len;
    return PRMA_OK;
}

int prma__ucx_mem_alloc(struct prma_ucx *ucx, size_t len, void **base_p, ucp_mem_h *memh_p)
{
    ucp_mem_map_params_t params;
    ucp_mem_attr_t attr;
    ucp_mem_h memh;
    ucs_status_t st;

    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
    params.length     = len;
    params.flags      = UCP_MEM_MAP_ALLOCATE;
    st = ucp_mem_map(ucx->context, &params, &memh);
    if (st != UCS_OK) {
        /* Not fatal: the caller has memory of its own to fall back on. */
        prma_debug("UCX could not allocate %zu bytes of window memory: %s", len,
                   ucs_status_string(st));
        return prma__ucx_status(st);
    }
    memset(&attr, 0, sizeof(attr));
    attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
    st = ucp_mem_query(memh, &attr);
    if (st != UCS_OK || attr.address == NULL || attr.length < len) {
        prma_debug("UCX allocated window memory it cannot describe: %s",
                   ucs_status_string(st));
        ucp_mem_unmap(ucx->context, memh);
        return st != UCS_OK ? prma__ucx_status(st) : PRMA_ERR_UCX;
    }
    *base_p = attr.address;
    *memh_p = memh;
    return PRMA_OK;
}

/* Does a same-host peer reach memory UCX allocates through a mapping
 * (ucp_rkey_ptr)? Asked of UCX once: a page of its, with its key unpacked
 * on an endpoint to this very process. */
static int ucx_probe_alloc(struct prma_ucx *ucx, int self_rank)
{
    void *base, *packed, *at = NULL;
    size_t packed_len;
    ucp_rkey_h rkey;
    ucp_mem_h memh;
    ucp_ep_h ep;
    int mapped = 0;

    if (prma__ucx_mem_alloc(ucx, (size_t)sysconf(_SC_PAGESIZE), &base, &memh) != PRMA_OK)
        return 0;
    if (prma__ucx_mem_pack(ucx, memh, &packed, &packed_len) == PRMA_OK) {
        if (prma__ucx_ep(ucx, self_rank, 1, &ep) == PRMA_OK &&
            ucp_ep_rkey_unpack(ep, packed, &rkey) == UCS_OK) {
            mapped = ucp_rkey_ptr(rkey, (uint64_t)(uintptr_t)base, &at) == UCS_OK && at != NULL;
            ucp_rkey_destroy(rkey);
        }
        ucp_rkey_buffer_release(packed);
    }
    ucp_mem_unmap(ucx->context, memh);
    prma_debug("UCX's own memory is %s by same-host peers", mapped ? "mapped" : "not mapped");
    return mapped;
}

int prma__ucx_alloc_mapped(struct prma_ucx *ucx, int self_rank)
{
    int known = atomic_load_explicit(&ucx->alloc_mapped, memory_order_acquire);

    if (known == 0) {
        known = ucx_probe_alloc(ucx, self_rank) ? 1 : -1;
        atomic_store_explicit(&ucx->alloc_mapped, known, memory_order_release);
    }
    return known > 0;
}

void prma__ucx_mem_unmap(struct prma_ucx *ucx, ucp_mem_h memh, void *rkey)
{
    if (rkey != NULL)
        ucp_rkey_buffer_release(rkey);
    if (memh != NULL)
        ucp_mem_unmap(ucx->context, memh);
}

unsigned prma__ucx_drive(struct prma_ucx *ucx)
{
    unsigned n;

    atomic_fetch_add_explicit(&ucx->main_turns, 1, memory_order_relaxed);
    if (!prma__progress_gate_take(&ucx->driving))
        return 0;
    n = ucp_worker_progress(ucx->worker);
    prma__progress_gate_give(&ucx->driving);
    return n;
}

void prma__ucx_progress(struct prma_ucx *ucx)
{
    prma__ucx_drive(ucx);
}

/* A put went out (counted once it is: a flush that starts later covers it). */
static void owed_out(struct prma_ucx_owed *o)
{
    atomic_fetch_add_explicit(&o->out, 1, memory_order_release);
}

/* What a flush starting now has to cover: the count of puts out, or 0 when
 * a finished flush covered them all (then a memory fence is the flush:
 * gets, atomics and accumulates are complete once their data or answer is
 * here). */
static uint64_t owed_now(struct prma_ucx_owed *o)
{
    uint64_t out = atomic_load_explicit(&o->out, memory_order_acquire);

    if (atomic_load_explicit(&o->done, memory_order_acquire) >= out) {
        atomic_thread_fence(memory_order_seq_cst);
        return 0;
    }
    return out;
}

/* A flush that started when `upto` puts were out has finished. */
static void owed_done(struct prma_ucx_owed *o, uint64_t upto)
{
    uint64_t done = atomic_load_explicit(&o->done, memory_order_relaxed);

    while (done < upto && !atomic_compare_exchange_weak_explicit(
                              &o->done, &done, upto, memory_order_release, memory_order_relaxed))
        ;
}

int prma__ucx_flush(struct prma_ucx *ucx, struct prma_waiter *wait)
{
    uint64_t owed = owed_now(&ucx->puts);
    ucp_request_param_t param;
    ucs_status_ptr_t req;
    ucs_status_t st;

    if (owed == 0)
        return PRMA_OK;
    memset(&param, 0, sizeof(param));
    req = ucp_worker_flush_nbx(ucx->worker, &param);
    if (req == NULL) {
        owed_done(&ucx->puts, owed);
        return PRMA_OK;
    }
    if (UCS_PTR_IS_ERR(req)) {
        st = UCS_PTR_STATUS(req);
        prma_error("flushing UCX operations failed: %s", ucs_status_string(st));
        return prma__ucx_status(st);
    }
    while ((st = ucp_request_check_status(req)) == UCS_INPROGRESS) {
        int status;

        if (prma__ucx_drive(ucx) != 0)
            continue;
        if ((status = prma__wait_turn(wait)) != PRMA_OK) {
            /* Given up (a peer is gone): UCX keeps the request. */
            ucp_request_free(req);
            return status;
        }
    }
    ucp_request_free(req);
    if (st != UCS_OK) {
        prma_error("flushing UCX operations failed: %s", ucs_status_string(st));
        return prma__ucx_status(st);
    }
    owed_done(&ucx->puts, owed);
    return PRMA_OK;
}

/* ---- the port -------------------------------------------------------- */

struct ucx_port {
    struct prma_port base;    /* first: a port is a ucx_port */
    struct prma_ucx *ucx;
    int              rank;    /* the target's job rank */
    uint64_t         remote;  /* the target's window (agent view) there */
    const void      *packed;  /* its packed key, owned by the window */
    ucp_rkey_h       rkey;    /* unpacked on first use, then cached */
    int              same_host;
    uint64_t         ctl;        /* the target's control block there */
    const void      *ctl_packed; /* its packed key, owned by the window */
    ucp_rkey_h       ctl_rkey;   /* unpacked on first use */
    int              pid;        /* same host: the process, watched while waiting */
    uint32_t         win_id;     /* the target's window, for its agent */
    struct prma_ucx_owed puts;   /* through UCX to this target, for its flush */
};

/* A transient operation finished: uncount it on its reply port. */
static void transient_done(void *request, ucs_status_t st, void *user_data)
{
    struct prma_port *reply = user_data;

    if (st != UCS_OK) {
        prma_error("UCX operation failed: %s", ucs_status_string(st));
        prma_port_fail(reply, prma__ucx_status(st));
    }
    prma_port_unhold(reply);
    ucp_request_free(request);
}

/* A persistent message finished: reply to it. */
static void message_done(void *request, ucs_status_t st, void *user_data)
{
    if (st != UCS_OK)
        prma_error("UCX operation failed: %s", ucs_status_string(st));
    prma_replymsg(user_data, prma__ucx_status(st));
    ucp_request_free(request);
}

/* Unpack a packed key on first use. */
static int ucx_rkey(struct ucx_port *up, ucp_ep_h ep, const void *packed, ucp_rkey_h *rkey)
{
    ucs_status_t st;

    if (*rkey != NULL)
        return PRMA_OK;
    st = ucp_ep_rkey_unpack(ep, packed, rkey);
    if (st != UCS_OK) {
        prma_error("unpacking the UCX key of rank %d failed: %s", up->rank,
                   ucs_status_string(st));
        *rkey = NULL;
        return prma__ucx_status(st);
    }
    return PRMA_OK;
}

/* The endpoint and remote key of the target's window, made on first use. */
static int ucx_target(struct ucx_port *up, ucp_ep_h *ep_p)
{
    int status = prma__ucx_ep(up->ucx, up->rank, up->same_host, ep_p);

    return status != PRMA_OK ? status : ucx_rkey(up, *ep_p, up->packed, &up->rkey);
}

/* Is the same-host target process still there? (UCX watches the others.) */
static int ucx_target_alive(void *arg)
{
    struct ucx_port *up = arg;

    if (up->pid > 0 && kill(up->pid, 0) != 0 && errno == ESRCH) {
        prma_error("rank %d (process %d) is gone", up->rank, up->pid);
        up->ucx->peers[up->rank].status = PRMA_ERR_PEER_LOST;
        return PRMA_ERR_PEER_LOST;
    }
    return PRMA_OK;
}

/* Wait for a request that a synchronous step needs, driving the worker. */
static int ucx_wait(struct ucx_port *up, ucs_status_ptr_t req, const char *what)
{
    struct prma_waiter wait = { .check = ucx_target_alive, .arg = up };
    ucs_status_t st;
    int status;

    if (req == NULL)
        return PRMA_OK;
    if (UCS_PTR_IS_ERR(req)) {
        st = UCS_PTR_STATUS(req);
    } else {
        while ((st = ucp_request_check_status(req)) == UCS_INPROGRESS) {
            if (prma__ucx_drive(up->ucx) != 0)
                continue;
            if ((status = prma__wait_turn(&wait)) != PRMA_OK) {
                ucp_request_free(req);
                return status;
            }
        }
        ucp_request_free(req);
    }
    if (st != UCS_OK) {
        prma_error("UCX %s on rank %d failed: %s", what, up->rank, ucs_status_string(st));
        return prma__ucx_status(st);
    }
    return PRMA_OK;
}

static const ucp_atomic_op_t ucx_aops[] = {
    [PRMA_AOP_ADD] = UCP_ATOMIC_OP_ADD, [PRMA_AOP_SWAP] = UCP_ATOMIC_OP_SWAP,
    [PRMA_AOP_CSWAP] = UCP_ATOMIC_OP_CSWAP, [PRMA_AOP_AND] = UCP_ATOMIC_OP_AND,
    [PRMA_AOP_OR] = UCP_ATOMIC_OP_OR, [PRMA_AOP_XOR] = UCP_ATOMIC_OP_XOR,
};

/* One fetching UCX atomic of 4 or 8 bytes at remote; waits for it. */
static int ucx_amo(struct ucx_port *up, ucp_ep_h ep, ucp_rkey_h rkey, uint64_t remote,
                   unsigned size, uint32_t aop, uint64_t operand, uint64_t compare,
                   uint64_t *old_p)
{
    ucp_request_param_t param;
    union { uint32_t u32; uint64_t u64; } value, reply;
    int status;

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_REPLY_BUFFER;
    param.datatype     = ucp_dt_make_contig(size);
    param.reply_buffer = &reply;
    /* CSWAP compares with `buffer` and swaps in what reply_buffer holds. */
    if (size == 4) {
        value.u32 = (uint32_t)(aop == PRMA_AOP_CSWAP ? compare : operand);
        reply.u32 = (uint32_t)operand;
    } else {
        value.u64 = aop == PRMA_AOP_CSWAP ? compare : operand;
        reply.u64 = operand;
    }
    status = ucx_wait(up, ucp_atomic_op_nbx(ep, ucx_aops[aop], &value, 1, remote, rkey, &param),
                      "atomic");
    if (status == PRMA_OK)
        *old_p = size == 4 ? reply.u32 : reply.u64;
    return status;
}

/* An atomic of 1 or 2 bytes: compare-and-swap loops on its aligned 4-byte
 * word (portrma memory is registered whole, so the word is reachable). */
static int ucx_narrow_amo(struct ucx_port *up, ucp_ep_h ep, ucp_rkey_h rkey,
                          struct prma_msg *msg, uint64_t remote)
{
    uint64_t word_addr = remote & ~UINT64_C(3), word, seen, mask, shift, mine, next;
    int status;

    shift = (remote - word_addr) * 8;  /* little-endian lanes */
    mask  = ((UINT64_C(1) << (msg->ms_len * 8)) - 1) << shift;
    status = ucx_amo(up, ep, rkey, word_addr, 4, PRMA_AOP_ADD, 0, 0, &word);
    for (; status == PRMA_OK;) {
        mine = (word & mask) >> shift;
        switch (msg->ms_aop) {
        case PRMA_AOP_ADD: next = mine + msg->ms_operand; break;
        case PRMA_AOP_SWAP: next = msg->ms_operand; break;
        case PRMA_AOP_CSWAP: next = mine == (msg->ms_compare & (mask >> shift))
                                        ? msg->ms_operand : mine; break;
        case PRMA_AOP_AND: next = mine & msg->ms_operand; break;
        case PRMA_AOP_OR: next = mine | msg->ms_operand; break;
        default: next = mine ^ msg->ms_operand; break;
        }
        next = (word & ~mask) | ((next << shift) & mask);
        status = ucx_amo(up, ep, rkey, word_addr, 4, PRMA_AOP_CSWAP, next, word, &seen);
        if (status == PRMA_OK && seen == word) {
            msg->ms_fetched = mine;
            return PRMA_OK;
        }
        word = seen;
    }
    return status;
}

static int ucx_atomic(struct ucx_port *up, struct prma_msg *msg)
{
    int ctl = msg->ms_region == PRMA_REGION_CTL;
    uint64_t remote = (ctl ? up->ctl : up->remote) + msg->ms_offset;
    ucp_rkey_h rkey;
    ucp_ep_h ep;
    int status;

    status = prma__ucx_ep(up->ucx, up->rank, up->same_host, &ep);
    /* A message may name its region's own key (dynamic windows). */
    if (status == PRMA_OK && (ctl || msg->ms_rkey == NULL))
        status = ctl ? ucx_rkey(up, ep, up->ctl_packed, &up->ctl_rkey)
                     : ucx_rkey(up, ep, up->packed, &up->rkey);
    if (status != PRMA_OK)
        return status;
    rkey = ctl ? up->ctl_rkey : msg->ms_rkey != NULL ? (ucp_rkey_h)msg->ms_rkey : up->rkey;
    if ((remote & (msg->ms_len - 1)) != 0 || msg->ms_aop >= sizeof(ucx_aops) / sizeof(ucx_aops[0]))
        return PRMA_ERR_ARG;
    if (msg->ms_len == 4 || msg->ms_len == 8)
        return ucx_amo(up, ep, rkey, remote, (unsigned)msg->ms_len, msg->ms_aop,
                       msg->ms_operand, msg->ms_compare, &msg->ms_fetched);
    if (msg->ms_len == 1 || msg->ms_len == 2)
        return ucx_narrow_amo(up, ep, rkey, msg, remote);
    return PRMA_ERR_ARG;
}

static void acc_sent(void *request, ucs_status_t st, void *user_data)
{
    struct acc_req *req = user_data;

    if (st != UCS_OK) {
        prma_error("UCX accumulate failed: %s", ucs_status_string(st));
        acc_req_settle(req, prma__ucx_status(st), NULL, 0);
    }
    ucp_request_free(request);
    acc_req_put(req);
}

/* An accumulate for the target's agent: one active message. A SYNC
 * message is waited for here (its answer, and the send); a transient one
 * goes with a copy of its data and is counted on its reply port. */
static int ucx_acc(struct ucx_port *up, struct prma_msg *msg)
{
    int transient = (prma_msg_flags(msg) & PRMA_MSGF_TRANSIENT) != 0;
    size_t dlen = msg->ms_aop == PRMA_ACC_CSWAP  ? 2 * msg->ms_len
                  : msg->ms_aop == PRMA_OP_NO_OP ? 0
                                                 : msg->ms_len;
    struct prma_waiter wait = { .check = ucx_target_alive, .arg = up };
    struct acc_req sreq, *req = &sreq;
    ucp_request_param_t param;
    ucs_status_ptr_t sent;
    const void *data = msg->ms_buf;
    ucp_ep_h ep;
    int status;

    status = prma__ucx_ep(up->ucx, up->rank, up->same_host, &ep);
    if (status != PRMA_OK)
        return status;
    if (transient) {
        req = malloc(sizeof(*req) + dlen);
        if (req == NULL)
            return PRMA_ERR_NOMEM;
        memcpy(req->data, msg->ms_buf, dlen);
        data = req->data;
    }
    atomic_init(&req->done, 0);
    atomic_init(&req->refs, 2);
    req->status = PRMA_OK;
    req->result = msg->ms_result;
    req->len    = msg->ms_len;
    req->reply  = transient ? msg->ms_reply : NULL;
    req->hdr = (struct prma_acc_hdr){ .offset = msg->ms_offset, .len = msg->ms_len,
                                      .req = (uint64_t)(uintptr_t)req, .win_id = up->win_id,
                                      .type = (uint16_t)msg->ms_type,
                                      .op = (uint8_t)msg->ms_aop,
                                      .fetch = msg->ms_result != NULL };
    if (transient)
        prma_port_hold(msg->ms_reply);
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = UCP_AM_SEND_FLAG_REPLY | UCP_AM_SEND_FLAG_EAGER;
    if (transient) {
        param.op_attr_mask |= UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
        param.cb.send   = acc_sent;
        param.user_data = req;
    }
    sent = ucp_am_send_nbx(ep, PRMA_AM_ACC, &req->hdr, sizeof(req->hdr), data, dlen, &param);
    if (transient) {
        if (UCS_PTR_IS_ERR(sent)) {
            prma_error("UCX accumulate to rank %d failed: %s", up->rank,
                       ucs_status_string(UCS_PTR_STATUS(sent)));
            prma_port_unhold(msg->ms_reply);
            free(req);
            return prma__ucx_status(UCS_PTR_STATUS(sent));
        }
        if (sent == NULL)
            acc_req_put(req);  /* sent already: no callback comes */
        return PRMA_EASYNC;
    }
    /* Synchronous: the send, then the answer. */
    status = ucx_wait(up, sent, "accumulate");
    while (status == PRMA_OK && !atomic_load_explicit(&req->done, memory_order_acquire)) {
        if (up->ucx->peers[up->rank].status != PRMA_OK)
            return up->ucx->peers[up->rank].status;
        if (prma__ucx_drive(up->ucx) != 0)
            continue;
        status = prma__wait_turn(&wait);
    }
    return status == PRMA_OK ? req->status : status;
}

static int ucx_flush_target(struct ucx_port *up)
{
    uint64_t owed = owed_now(&up->puts);
    ucp_request_param_t param;
    ucp_ep_h ep;
    int status;

    /* No put went through UCX since the last flush: what was copied into a
     * target UCX mapped here is done, and so is every get, atomic and
     * accumulate (owed_now ordered them with what follows). */
    if (owed == 0)
        return up->ucx->peers[up->rank].status;
    if (prma__ucx_ep(up->ucx, up->rank, up->same_host, &ep) != PRMA_OK)
        return up->ucx->peers[up->rank].status;
    memset(&param, 0, sizeof(param));
    status = ucx_wait(up, ucp_ep_flush_nbx(ep, &param), "flush");
    if (status == PRMA_OK)
        owed_done(&up->puts, owed);
    return status;
}

static int ucx_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct ucx_port *up = (struct ucx_port *)port;
    int transient = (prma_msg_flags(msg) & PRMA_MSGF_TRANSIENT) != 0;
    ucp_request_param_t param;
    ucs_status_ptr_t req;
    ucp_rkey_h rkey;
    ucp_ep_h ep;
    int status;

    if (msg->ms_cmd == PRMA_CMD_NOP)
        return PRMA_OK;
    /* Atomics and flushes are waited for here: their callers need the
     * answer before going on. */
    if (msg->ms_cmd == PRMA_CMD_ATOMIC)
        return ucx_atomic(up, msg);
    if (msg->ms_cmd == PRMA_CMD_FLUSH)
        return ucx_flush_target(up);
    if (msg->ms_cmd != PRMA_CMD_ACC && msg->ms_cmd != PRMA_CMD_PUT &&
        msg->ms_cmd != PRMA_CMD_GET)
        return prma__port_stub_putport(port, msg);
    if (msg->ms_cmd == PRMA_CMD_ACC)
        return ucx_acc(up, msg);
    /* A message that names its region's key (dynamic windows) needs only
     * the endpoint. */
    status = msg->ms_rkey != NULL ? prma__ucx_ep(up->ucx, up->rank, up->same_host, &ep)
                                  : ucx_target(up, &ep);
    if (status != PRMA_OK)
        return status;
    rkey = msg->ms_rkey != NULL ? (ucp_rkey_h)msg->ms_rkey : up->rkey;
    /* Count a transient operation before it starts: with several threads on
     * the worker, its callback may run before ucp_*_nbx returns. */
    if (transient)
        prma_port_hold(msg->ms_reply);
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    param.cb.send      = transient ? transient_done : message_done;
    param.user_data    = transient ? (void *)msg->ms_reply : (void *)msg;
    if (msg->ms_cmd == PRMA_CMD_PUT)
        req = ucp_put_nbx(ep, msg->ms_buf, msg->ms_len, up->remote + msg->ms_offset, rkey,
                          &param);
    else
        req = ucp_get_nbx(ep, msg->ms_buf, msg->ms_len, up->remote + msg->ms_offset, rkey,
                          &param);
    if (!UCS_PTR_IS_PTR(req) && transient)
        prma_port_unhold(msg->ms_reply);
    if (msg->ms_cmd == PRMA_CMD_PUT && !UCS_PTR_IS_ERR(req)) {
        owed_out(&up->puts);
        owed_out(&up->ucx->puts);
    }
    if (req == NULL)
        return PRMA_OK;
    if (UCS_PTR_IS_ERR(req)) {
        prma_error("UCX %s of %zu bytes to rank %d failed: %s",
                   msg->ms_cmd == PRMA_CMD_PUT ? "put" : "get", msg->ms_len, up->rank,
                   ucs_status_string(UCS_PTR_STATUS(req)));
        return prma__ucx_status(UCS_PTR_STATUS(req));
    }
    return PRMA_EASYNC;
}

/* A same-host target whose window UCX allocated: have UCX map it here
 * (ucp_rkey_ptr), so that puts and gets become copies, as on a shm port.
 * Only a shortcut: where UCX cannot (another transport, another host's
 * memory) the port goes on through UCX calls. */
static void ucx_map_target(struct ucx_port *up, uint64_t size)
{
    void *first, *last;
    ucs_status_t st;
    ucp_ep_h ep;

    if (ucx_target(up, &ep) != PRMA_OK)
        return;
    st = ucp_rkey_ptr(up->rkey, up->remote, &first);
    if (st == UCS_OK)
        st = ucp_rkey_ptr(up->rkey, up->remote + size - 1, &last);
    if (st != UCS_OK || (char *)last != (char *)first + size - 1) {
        prma_debug("rank %d: UCX does not map its window here: %s", up->rank,
                   st != UCS_OK ? ucs_status_string(st) : "not contiguous");
        return;
    }
    up->base.mp_direct = first;
}

static void ucx_progress(struct prma_port *port)
{
    prma__ucx_progress(((struct ucx_port *)port)->ucx);
}

static void ucx_destroy(struct prma_port *port)
{
    struct ucx_port *up = (struct ucx_port *)port;

    if (up->rkey != NULL)
        ucp_rkey_destroy(up->rkey);
    if (up->ctl_rkey != NULL)
        ucp_rkey_destroy(up->ctl_rkey);
    free(up);
}

static const struct prma_port_ops ucx_ops = {
    .name      = "ucx",
    .putport   = ucx_putport,
    .progress  = ucx_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = ucx_destroy,
};

int prma__port_init_ucx(struct prma_win *win, int rank, struct prma_port **port_p)
{
    const struct prma_peer *peer = &win->peers[rank];
    struct ucx_port *up;

    up = calloc(1, sizeof(*up));
    if (up == NULL)
        return PRMA_ERR_NOMEM;
    prma__port_init(&up->base, &ucx_ops, rank);
    up->ucx    = win->ctx->ucx;
    up->rank   = peer->job_rank;
    up->remote = peer->agent_base;
    up->packed = win->rkeys + (size_t)rank * win->rkey_slot;
    up->same_host = peer->host_id == win->ctx->boot.node_id;
    up->ctl        = peer->ctl_base;
    up->pid        = up->same_host ? peer->pid : -1;
    up->ctl_packed = (const char *)up->packed + peer->rkey_len;
    up->win_id     = peer->win_id;
    if (up->same_host && (peer->flags & PRMA_PEER_UCX_MEM) && peer->size > 0)
        ucx_map_target(up, peer->size);
    *port_p = &up->base;
    return PRMA_OK;
}
