/*
 * test_ucx.c - the ucx port and the UCX helpers behind it
 * (src/transport/ucx.c): status mapping, the lazy endpoint and the cached
 * remote key, the completion paths, the endpoint failures, and the flush
 * and registration helpers, and window memory that UCX allocates (the
 * probe that asks whether peers can map it, the mapping a same-host port
 * then copies through, and its flush).
 *
 * There is no real UCX here. The binary is linked with -Wl,--wrap= for every
 * UCP call ucx.c makes on these paths (see tests/unit/Makefile.inc): the
 * wrappers below record their arguments in `ucxm` and return what the test
 * scripted, so that a test can make UCX fail in ways a real transport can't
 * be made to (an endpoint that is refused, a peer that times out, a put that
 * fails with an I/O error). A request UCX would complete later is a fake
 * pointer; its callback is called either by the test itself or by the
 * wrapped ucp_worker_progress() when the test asks for that
 * (ucxm.complete_on_progress).
 *
 * The port is built with prma__port_init_ucx() on a hand-made window of two
 * ranks, whose rank 1 is job rank 3 (of 4) on another host, with a hand-made
 * struct prma_ucx behind it. Everything runs on the test's thread, so the
 * wrappers may use cmocka's assertions: a wait that never ends fails in
 * ucp_worker_progress() after MAX_SPINS calls, or else on the watchdog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "context.h"
#include "msg.h"
#include "port.h"
#include "portrma.h"
#include "transport/ucx.h"
#include "unit.h"
#include "wait.h"
#include "win.h"

#define JOB_SIZE   4
#define ADDR_SLOT  16                  /* bytes per worker address slot */
#define WIN_SIZE   2
#define TARGET     1                   /* the window rank the port serves */
#define TARGET_JOB 3                   /* ... which is this job rank */
#define RKEY_SLOT  24                  /* bytes per packed key slot */
#define RKEY_LEN   20                  /* the target's packed key length */
#define AGENT_BASE 0x7f0012340000ull   /* the target's registered window */
#define AGENT_BASE2 0x7f0056780000ull  /* ... in the second window */
#define HOST_ME    0x11            /* this process's real node (boot.node_id) */
#define HOST_OTHER 0x22            /* the target's, unless a test moves it here */
#define MAX_CREATES 4
#define MAX_SPINS  100000              /* progress calls before a wait is hung */

/* ---- fake UCX handles: never dereferenced, only compared ---- */

static char fake_worker_obj, fake_context_obj, fake_ep_obj, fake_poison_obj;
static char fake_rkey_obj[2], fake_request_obj[2], fake_memh_obj;
static char fake_packed_obj[RKEY_LEN]; /* a packed key as long as it says it is */

#define FAKE_WORKER  ((ucp_worker_h)(void *)&fake_worker_obj)
#define FAKE_CONTEXT ((ucp_context_h)(void *)&fake_context_obj)
#define FAKE_EP      ((ucp_ep_h)(void *)&fake_ep_obj)
#define FAKE_POISON  ((ucp_ep_h)(void *)&fake_poison_obj)
#define FAKE_RKEY(i) ((ucp_rkey_h)(void *)&fake_rkey_obj[i])
#define FAKE_REQ     ((void *)&fake_request_obj[0])
#define FAKE_REQ2    ((void *)&fake_request_obj[1])
#define FAKE_MEMH    ((ucp_mem_h)(void *)&fake_memh_obj)
#define FAKE_PACKED  ((void *)fake_packed_obj)

/* ---- the scripted UCX ---- */

struct rma_call {
    ucp_ep_h                ep;
    const void             *buffer;
    size_t                  count;
    uint64_t                remote;
    ucp_rkey_h              rkey;
    uint32_t                op_attr_mask;
    ucp_send_nbx_callback_t cb;
    void                   *user_data;
};

static struct {
    /* ucp_ep_create */
    int                     ep_creates;
    ucs_status_t            ep_create_status[MAX_CREATES];  /* per call; UCS_OK past those */
    ucp_worker_h            ep_worker[MAX_CREATES];
    uint64_t                ep_field_mask[MAX_CREATES];
    ucp_err_handling_mode_t ep_err_mode[MAX_CREATES];
    const void             *ep_address[MAX_CREATES];
    ucp_err_handler_cb_t    err_cb;   /* from the last call */
    void                   *err_arg;
    /* ucp_ep_rkey_unpack */
    int                     unpacks;
    ucs_status_t            unpack_status;
    ucp_ep_h                unpack_ep;
    const void             *unpack_buf;
    unsigned char           unpack_bytes[RKEY_SLOT];
    /* ucp_put_nbx / ucp_get_nbx */
    int                     puts, gets;
    struct rma_call         put, get;   /* the last of each */
    ucs_status_ptr_t        rma_ret;    /* what the next one returns */
    /* the request the last put/get left in flight */
    void                   *pending;
    ucp_send_nbx_callback_t pending_cb;
    void                   *pending_user_data;
    int                     complete_on_progress;  /* progress completes it ... */
    ucs_status_t            complete_status;       /* ... with this status */
    /* ucp_rkey_destroy */
    int                     rkey_destroys;
    ucp_rkey_h              destroyed_rkey;
    /* ucp_worker_progress */
    int                     progresses;
    ucp_worker_h            progress_worker;
    /* ucp_request_free */
    int                     request_frees;
    void                   *freed_request;
    /* ucp_worker_flush_nbx / ucp_request_check_status */
    int                     flushes;
    ucs_status_ptr_t        flush_ret;
    int                     checks;
    int                     checks_inprogress;  /* INPROGRESS this many times, then: */
    ucs_status_t            check_status;
    /* ucp_mem_map / ucp_rkey_pack / ucp_mem_unmap / ucp_rkey_buffer_release */
    int                     mem_maps, packs, mem_unmaps, buffer_releases;
    ucs_status_t            mem_map_status, pack_status;
    ucp_mem_h               unmapped_memh;
    uint64_t                map_field_mask;  /* the last ucp_mem_map's params */
    unsigned                map_flags;
    size_t                  map_length;
    /* ucp_mem_query: the allocation it describes */
    int                     queries;
    ucs_status_t            query_status;
    void                   *query_address;
    size_t                  query_length;
    /* ucp_rkey_ptr: the target's window (rkey_ptr_base) mapped at
     * mapped_window, or a mapping that is not contiguous */
    int                     rkey_ptrs;
    ucs_status_t            rkey_ptr_status;
    uint64_t                rkey_ptr_base;
    uint64_t                rkey_ptr_addr[2];  /* the first two asked for */
    ucp_rkey_h              rkey_ptr_rkey;
    int                     rkey_ptr_torn;
    /* ucp_ep_flush_nbx */
    int                     ep_flushes;
} ucxm;

static char mapped_window[8192];

ucs_status_t __wrap_ucp_ep_create(ucp_worker_h worker, const ucp_ep_params_t *params,
                                  ucp_ep_h *ep_p);
ucs_status_t __wrap_ucp_ep_rkey_unpack(ucp_ep_h ep, const void *rkey_buffer,
                                       ucp_rkey_h *rkey_p);
ucs_status_ptr_t __wrap_ucp_put_nbx(ucp_ep_h ep, const void *buffer, size_t count,
                                    uint64_t remote_addr, ucp_rkey_h rkey,
                                    const ucp_request_param_t *param);
ucs_status_ptr_t __wrap_ucp_get_nbx(ucp_ep_h ep, void *buffer, size_t count,
                                    uint64_t remote_addr, ucp_rkey_h rkey,
                                    const ucp_request_param_t *param);
void __wrap_ucp_rkey_destroy(ucp_rkey_h rkey);
unsigned __wrap_ucp_worker_progress(ucp_worker_h worker);
void __wrap_ucp_request_free(void *request);
ucs_status_ptr_t __wrap_ucp_worker_flush_nbx(ucp_worker_h worker,
                                             const ucp_request_param_t *param);
ucs_status_t __wrap_ucp_request_check_status(void *request);
ucs_status_t __wrap_ucp_mem_map(ucp_context_h context, const ucp_mem_map_params_t *params,
                                ucp_mem_h *memh_p);
ucs_status_t __wrap_ucp_rkey_pack(ucp_context_h context, ucp_mem_h memh, void **rkey_buffer_p,
                                  size_t *size_p);
ucs_status_t __wrap_ucp_mem_unmap(ucp_context_h context, ucp_mem_h memh);
void __wrap_ucp_rkey_buffer_release(void *rkey_buffer);
ucs_status_t __wrap_ucp_mem_query(const ucp_mem_h memh, ucp_mem_attr_t *attr);
ucs_status_t __wrap_ucp_rkey_ptr(ucp_rkey_h rkey, uint64_t raddr, void **addr_p);
ucs_status_ptr_t __wrap_ucp_ep_flush_nbx(ucp_ep_h ep, const ucp_request_param_t *param);

ucs_status_t __wrap_ucp_ep_create(ucp_worker_h worker, const ucp_ep_params_t *params,
                                  ucp_ep_h *ep_p)
{
    int call = ucxm.ep_creates++;
    ucs_status_t st = call < MAX_CREATES ? ucxm.ep_create_status[call] : UCS_OK;

    assert_true(call < MAX_CREATES);
    ucxm.ep_worker[call]     = worker;
    ucxm.ep_field_mask[call] = params->field_mask;
    ucxm.ep_err_mode[call]   = params->err_mode;
    ucxm.ep_address[call]    = params->address;
    if (params->field_mask & UCP_EP_PARAM_FIELD_ERR_HANDLER) {
        ucxm.err_cb  = params->err_handler.cb;
        ucxm.err_arg = params->err_handler.arg;
    }
    /* On failure, leave garbage behind: the caller must not keep it. */
    *ep_p = st == UCS_OK ? FAKE_EP : FAKE_POISON;
    return st;
}

ucs_status_t __wrap_ucp_ep_rkey_unpack(ucp_ep_h ep, const void *rkey_buffer,
                                       ucp_rkey_h *rkey_p)
{
    int call = ucxm.unpacks++;

    ucxm.unpack_ep  = ep;
    ucxm.unpack_buf = rkey_buffer;
    memcpy(ucxm.unpack_bytes, rkey_buffer, RKEY_LEN);
    if (ucxm.unpack_status != UCS_OK)
        return ucxm.unpack_status;
    *rkey_p = FAKE_RKEY(call % 2);
    return UCS_OK;
}

static ucs_status_ptr_t record_rma(struct rma_call *c, ucp_ep_h ep, const void *buffer,
                                 size_t count, uint64_t remote_addr, ucp_rkey_h rkey,
                                 const ucp_request_param_t *param)
{
    c->ep           = ep;
    c->buffer       = buffer;
    c->count        = count;
    c->remote       = remote_addr;
    c->rkey         = rkey;
    c->op_attr_mask = param->op_attr_mask;
    c->cb           = NULL;
    c->user_data    = NULL;
    if (param->op_attr_mask & UCP_OP_ATTR_FIELD_CALLBACK)
        c->cb = param->cb.send;
    if (param->op_attr_mask & UCP_OP_ATTR_FIELD_USER_DATA)
        c->user_data = param->user_data;
    if (UCS_PTR_IS_PTR(ucxm.rma_ret)) {
        ucxm.pending           = ucxm.rma_ret;
        ucxm.pending_cb        = c->cb;
        ucxm.pending_user_data = c->user_data;
    }
    return ucxm.rma_ret;
}

ucs_status_ptr_t __wrap_ucp_put_nbx(ucp_ep_h ep, const void *buffer, size_t count,
                                    uint64_t remote_addr, ucp_rkey_h rkey,
                                    const ucp_request_param_t *param)
{
    ucxm.puts++;
    return record_rma(&ucxm.put, ep, buffer, count, remote_addr, rkey, param);
}

ucs_status_ptr_t __wrap_ucp_get_nbx(ucp_ep_h ep, void *buffer, size_t count,
                                    uint64_t remote_addr, ucp_rkey_h rkey,
                                    const ucp_request_param_t *param)
{
    ucxm.gets++;
    return record_rma(&ucxm.get, ep, buffer, count, remote_addr, rkey, param);
}

void __wrap_ucp_rkey_destroy(ucp_rkey_h rkey)
{
    ucxm.rkey_destroys++;
    ucxm.destroyed_rkey = rkey;
}

unsigned __wrap_ucp_worker_progress(ucp_worker_h worker)
{
    void *req = ucxm.pending;

    ucxm.progresses++;
    ucxm.progress_worker = worker;
    if (ucxm.progresses > MAX_SPINS)
        fail_msg("ucp_worker_progress called %d times: a wait never ends", ucxm.progresses);
    if (!ucxm.complete_on_progress || req == NULL)
        return 0;
    ucxm.pending = NULL;
    assert_non_null(ucxm.pending_cb);
    ucxm.pending_cb(req, ucxm.complete_status, ucxm.pending_user_data);
    return 1;
}

void __wrap_ucp_request_free(void *request)
{
    ucxm.request_frees++;
    ucxm.freed_request = request;
}

ucs_status_ptr_t __wrap_ucp_worker_flush_nbx(ucp_worker_h worker,
                                             const ucp_request_param_t *param)
{
    assert_ptr_equal(worker, FAKE_WORKER);
    ucxm.flushes++;
    return ucxm.flush_ret;
}

ucs_status_t __wrap_ucp_request_check_status(void *request)
{
    assert_ptr_equal(request, FAKE_REQ2);
    if (ucxm.checks++ < ucxm.checks_inprogress)
        return UCS_INPROGRESS;
    return ucxm.check_status;
}

ucs_status_t __wrap_ucp_mem_map(ucp_context_h context, const ucp_mem_map_params_t *params,
                                ucp_mem_h *memh_p)
{
    assert_ptr_equal(context, FAKE_CONTEXT);
    ucxm.mem_maps++;
    ucxm.map_field_mask = params->field_mask;
    ucxm.map_flags      = params->field_mask & UCP_MEM_MAP_PARAM_FIELD_FLAGS ? params->flags : 0;
    ucxm.map_length     = params->length;
    if (ucxm.mem_map_status != UCS_OK)
        return ucxm.mem_map_status;
    *memh_p = FAKE_MEMH;
    return UCS_OK;
}

ucs_status_t __wrap_ucp_rkey_pack(ucp_context_h context, ucp_mem_h memh, void **rkey_buffer_p,
                                  size_t *size_p)
{
    assert_ptr_equal(memh, FAKE_MEMH);
    ucxm.packs++;
    if (ucxm.pack_status != UCS_OK)
        return ucxm.pack_status;
    *rkey_buffer_p = FAKE_PACKED;
    *size_p        = RKEY_LEN;
    return UCS_OK;
}

ucs_status_t __wrap_ucp_mem_unmap(ucp_context_h context, ucp_mem_h memh)
{
    ucxm.mem_unmaps++;
    ucxm.unmapped_memh = memh;
    return UCS_OK;
}

void __wrap_ucp_rkey_buffer_release(void *rkey_buffer)
{
    assert_ptr_equal(rkey_buffer, FAKE_PACKED);
    ucxm.buffer_releases++;
}

ucs_status_t __wrap_ucp_mem_query(const ucp_mem_h memh, ucp_mem_attr_t *attr)
{
    assert_ptr_equal(memh, FAKE_MEMH);
    ucxm.queries++;
    if (ucxm.query_status != UCS_OK)
        return ucxm.query_status;
    if (attr->field_mask & UCP_MEM_ATTR_FIELD_ADDRESS)
        attr->address = ucxm.query_address;
    if (attr->field_mask & UCP_MEM_ATTR_FIELD_LENGTH)
        attr->length = ucxm.query_length;
    return UCS_OK;
}

ucs_status_t __wrap_ucp_rkey_ptr(ucp_rkey_h rkey, uint64_t raddr, void **addr_p)
{
    int call = ucxm.rkey_ptrs++;

    if (call < 2)
        ucxm.rkey_ptr_addr[call] = raddr;
    ucxm.rkey_ptr_rkey = rkey;
    if (ucxm.rkey_ptr_status != UCS_OK)
        return ucxm.rkey_ptr_status;
    assert_true(raddr >= ucxm.rkey_ptr_base &&
                raddr - ucxm.rkey_ptr_base < sizeof(mapped_window));
    /* A torn mapping: the later bytes are not where the first ones are. */
    *addr_p = mapped_window + (raddr - ucxm.rkey_ptr_base) + (call > 0 && ucxm.rkey_ptr_torn);
    return UCS_OK;
}

ucs_status_ptr_t __wrap_ucp_ep_flush_nbx(ucp_ep_h ep, const ucp_request_param_t *param)
{
    assert_ptr_equal(ep, FAKE_EP);
    ucxm.ep_flushes++;
    return NULL;
}

/* ---- the hand-made job, window and port ---- */

struct fixture {
    struct prma_context  ctx;
    struct prma_ucx      ucx;
    struct prma_ucx_peer ucx_peers[JOB_SIZE];
    uint32_t             lens[JOB_SIZE];
    char                 addrs[JOB_SIZE * ADDR_SLOT];
    struct prma_win      win, win2;  /* two windows over the same target */
    struct prma_peer     peers[WIN_SIZE], peers2[WIN_SIZE];
    char                 rkeys[WIN_SIZE * RKEY_SLOT], rkeys2[WIN_SIZE * RKEY_SLOT];
    struct prma_port     reply;
    struct prma_port    *port;       /* win's port to TARGET, or NULL */
    struct prma_waiter   wait;       /* drives port, as a window's waits do */
};

/* Fill a window of the job: its rank TARGET is job rank TARGET_JOB, whose
 * window lies at agent_base and whose packed key is a pattern of seed. */
static void fixture_win(struct fixture *f, struct prma_win *win, struct prma_peer *peers,
                        char *rkeys, uint64_t agent_base, unsigned seed)
{
    win->magic     = PRMA_WIN_MAGIC;
    win->ctx       = &f->ctx;
    win->rank      = 0;
    win->size      = WIN_SIZE;
    win->peers     = peers;
    win->rkeys     = rkeys;
    win->rkey_slot = RKEY_SLOT;
    for (int r = 0; r < WIN_SIZE; r++) {
        peers[r].node_id    = r == TARGET ? HOST_OTHER : HOST_ME;
        peers[r].host_id    = r == TARGET ? HOST_OTHER : HOST_ME;
        peers[r].job_rank   = r == TARGET ? TARGET_JOB : 0;
        peers[r].size       = 4096;
        peers[r].disp_unit  = 1;
        peers[r].agent_base = r == TARGET ? agent_base : 0x1000;
        peers[r].rkey_len   = RKEY_LEN;
        for (int i = 0; i < RKEY_SLOT; i++)
            rkeys[r * RKEY_SLOT + i] = (char)(seed + 0x10 * (unsigned)r + (unsigned)i);
    }
}

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    unit_watchdog_setup(state);
    memset(&ucxm, 0, sizeof(ucxm));
    ucxm.unpack_status  = UCS_OK;
    ucxm.check_status   = UCS_OK;
    ucxm.mem_map_status  = UCS_OK;
    ucxm.pack_status     = UCS_OK;
    ucxm.query_status    = UCS_OK;
    ucxm.rkey_ptr_status = UCS_OK;
    for (int i = 0; i < MAX_CREATES; i++)
        ucxm.ep_create_status[i] = UCS_OK;

    f->ucx.context = FAKE_CONTEXT;
    f->ucx.worker  = FAKE_WORKER;
    f->ucx.size    = JOB_SIZE;
    f->ucx.slot    = ADDR_SLOT;
    f->ucx.addrs   = f->addrs;
    f->ucx.lens    = f->lens;
    f->ucx.peers   = f->ucx_peers;
    for (int r = 0; r < JOB_SIZE; r++) {
        f->lens[r] = ADDR_SLOT - 2;
        memset(f->addrs + r * ADDR_SLOT, 0x40 + r, ADDR_SLOT);
    }
    f->ctx.ucx          = &f->ucx;
    f->ctx.boot.rank    = 0;
    f->ctx.boot.size    = JOB_SIZE;
    f->ctx.boot.node_id = HOST_ME;
    f->ctx.node_id      = HOST_ME;
    fixture_win(f, &f->win, f->peers, f->rkeys, AGENT_BASE, 0x80);
    fixture_win(f, &f->win2, f->peers2, f->rkeys2, AGENT_BASE2, 0x20);
    prma__port_init_reply(&f->reply);
    if (prma__port_init_ucx(&f->win, TARGET, &f->port) != PRMA_OK) {
        unit_watchdog_teardown(state);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;

    if (f != NULL) {
        prma__port_destroy(f->port);
        pthread_mutex_destroy(&f->reply.mp_lock);
        free(f);
    }
    unit_watchdog_teardown(state);
    return 0;
}

#define ucx_test(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)

/* Send one operation to port: cmd of len bytes of buf at offset, with
 * flags; returns what prma_sendmsg() returns. */
static int send_op(struct fixture *f, struct prma_port *port, struct prma_msg *msg,
                   uint32_t cmd, uint32_t flags, void *buf, size_t len, uint64_t offset)
{
    prma_msg_init(msg, cmd, flags);
    msg->ms_reply  = &f->reply;
    msg->ms_buf    = buf;
    msg->ms_len    = len;
    msg->ms_offset = offset;
    return prma_sendmsg(port, msg);
}

static int put_transient(struct fixture *f, void *buf, size_t len, uint64_t offset)
{
    struct prma_msg msg;

    return send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf, len, offset);
}

static int get_transient(struct fixture *f, void *buf, size_t len, uint64_t offset)
{
    struct prma_msg msg;

    return send_op(f, f->port, &msg, PRMA_CMD_GET, PRMA_MSGF_TRANSIENT, buf, len, offset);
}

static void drive_port(void *arg)
{
    struct fixture *f = arg;

    if (f->port != NULL)
        f->port->mp_ops->progress(f->port);
}

static long held(struct fixture *f)
{
    return atomic_load(&f->reply.mp_held);
}

static int drain(struct fixture *f)
{
    memset(&f->wait, 0, sizeof(f->wait));
    f->wait.progress = drive_port;
    f->wait.arg      = f;
    return prma_port_drain(&f->reply, &f->wait);
}

/* ---- 1. status mapping ---- */

static void test_ucx_status_maps_each_listed_code(void **state)
{
    static const struct {
        ucs_status_t ucs;
        int          prma;
    } map[] = {
        { UCS_OK,                    PRMA_OK },
        { UCS_INPROGRESS,            PRMA_EASYNC },
        { UCS_ERR_NO_MEMORY,         PRMA_ERR_NOMEM },
        { UCS_ERR_UNREACHABLE,       PRMA_ERR_UNREACHABLE },
        { UCS_ERR_NO_DEVICE,         PRMA_ERR_UNREACHABLE },
        { UCS_ERR_ENDPOINT_TIMEOUT,  PRMA_ERR_PEER_TIMEOUT },
        { UCS_ERR_TIMED_OUT,         PRMA_ERR_PEER_TIMEOUT },
        { UCS_ERR_CONNECTION_RESET,  PRMA_ERR_PEER_LOST },
        { UCS_ERR_NOT_CONNECTED,     PRMA_ERR_PEER_LOST },
        { UCS_ERR_REJECTED,          PRMA_ERR_PEER_LOST },
        { UCS_ERR_CANCELED,          PRMA_ERR_PEER_LOST },
        { UCS_ERR_IO_ERROR,          PRMA_ERR_UCX_IO },
        { UCS_ERR_MESSAGE_TRUNCATED, PRMA_ERR_UCX_IO },
        { UCS_ERR_NO_RESOURCE,       PRMA_ERR_UCX_RESOURCE },
        { UCS_ERR_EXCEEDS_LIMIT,     PRMA_ERR_UCX_RESOURCE },
        { UCS_ERR_BUSY,              PRMA_ERR_UCX_RESOURCE },
        { UCS_ERR_OUT_OF_RANGE,      PRMA_ERR_UCX_RESOURCE },
        { UCS_ERR_INVALID_PARAM,     PRMA_ERR_UCX_INVALID },
        { UCS_ERR_INVALID_ADDR,      PRMA_ERR_UCX_INVALID },
        { UCS_ERR_UNSUPPORTED,       PRMA_ERR_NOTSUP },
        { UCS_ERR_NOT_IMPLEMENTED,   PRMA_ERR_NOTSUP },
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        int got = prma__ucx_status(map[i].ucs);

        if (got != map[i].prma)
            fail_msg("%s (%d) maps to %d (%s), expected %d (%s)",
                     ucs_status_string(map[i].ucs), (int)map[i].ucs, got,
                     prma_status_string(got), map[i].prma, prma_status_string(map[i].prma));
    }
}

static void test_ucx_status_unlisted_is_generic_ucx_error(void **state)
{
    assert_int_equal(prma__ucx_status(UCS_ERR_SOME_CONNECTS_FAILED), PRMA_ERR_UCX);
    assert_int_equal(prma__ucx_status(UCS_ERR_NO_MESSAGE), PRMA_ERR_UCX);
    assert_int_equal(prma__ucx_status((ucs_status_t)(UCS_ERR_LAST + 1)), PRMA_ERR_UCX);
    assert_int_equal(prma__ucx_status(UCS_ERR_LAST), PRMA_ERR_UCX);
}

static void test_ucx_status_every_error_is_a_known_failure(void **state)
{
    for (int s = -1; s >= UCS_ERR_LAST; s--) {
        int got = prma__ucx_status((ucs_status_t)s);

        if (got >= 0 || strcmp(prma_status_string(got), "unknown status") == 0)
            fail_msg("UCS status %d (%s) maps to %d (%s)", s,
                     ucs_status_string((ucs_status_t)s), got, prma_status_string(got));
    }
}

/* ---- 2. the lazy endpoint and the rkey cache ---- */

static void test_ucx_port_init_creates_nothing(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(ucxm.ep_creates, 0);
    assert_int_equal(ucxm.unpacks, 0);
    assert_null(f->ucx_peers[TARGET_JOB].ep);
    assert_int_equal(f->port->mp_rank, TARGET);
    assert_string_equal(f->port->mp_ops->name, "ucx");
    /* Destroying a port that never unpacked its key destroys no key. */
    prma__port_destroy(f->port);
    f->port = NULL;
    assert_int_equal(ucxm.rkey_destroys, 0);
    assert_int_equal(ucxm.ep_creates, 0);
}

static void test_ucx_first_put_connects_to_job_rank_and_unpacks_key(void **state)
{
    struct fixture *f = *state;
    const char *packed = f->rkeys + TARGET * RKEY_SLOT;
    char buf[32];

    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0x40), PRMA_OK);

    /* One endpoint, to job rank TARGET_JOB (not window rank TARGET), with
     * peer failure detection. */
    assert_int_equal(ucxm.ep_creates, 1);
    assert_ptr_equal(ucxm.ep_worker[0], FAKE_WORKER);
    assert_ptr_equal(ucxm.ep_address[0], f->addrs + TARGET_JOB * ADDR_SLOT);
    assert_true(ucxm.ep_field_mask[0] & UCP_EP_PARAM_FIELD_REMOTE_ADDRESS);
    assert_true(ucxm.ep_field_mask[0] & UCP_EP_PARAM_FIELD_ERR_HANDLER);
    assert_int_equal(ucxm.ep_err_mode[0], UCP_ERR_HANDLING_MODE_PEER);
    assert_ptr_equal(f->ucx_peers[TARGET_JOB].ep, FAKE_EP);
    for (int r = 0; r < JOB_SIZE; r++)
        if (r != TARGET_JOB)
            assert_null(f->ucx_peers[r].ep);

    /* The key: unpacked once, on that endpoint, from the target's slot. */
    assert_int_equal(ucxm.unpacks, 1);
    assert_ptr_equal(ucxm.unpack_ep, FAKE_EP);
    assert_ptr_equal(ucxm.unpack_buf, packed);
    assert_memory_equal(ucxm.unpack_bytes, packed, RKEY_LEN);

    /* The put itself. */
    assert_int_equal(ucxm.puts, 1);
    assert_int_equal(ucxm.gets, 0);
    assert_ptr_equal(ucxm.put.ep, FAKE_EP);
    assert_ptr_equal(ucxm.put.buffer, buf);
    assert_int_equal(ucxm.put.count, sizeof(buf));
    assert_int_equal(ucxm.put.remote, AGENT_BASE + 0x40);
    assert_ptr_equal(ucxm.put.rkey, FAKE_RKEY(0));
}

static void test_ucx_rkey_is_reused_by_later_operations(void **state)
{
    struct fixture *f = *state;
    char a[8], b[16];

    assert_int_equal(put_transient(f, a, sizeof(a), 0), PRMA_OK);
    assert_int_equal(get_transient(f, b, sizeof(b), 0x100), PRMA_OK);
    assert_int_equal(put_transient(f, b, 4, 0x200), PRMA_OK);
    assert_int_equal(get_transient(f, a, 2, 0x7fe), PRMA_OK);

    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.unpacks, 1);
    assert_int_equal(ucxm.puts, 2);
    assert_int_equal(ucxm.gets, 2);
    assert_ptr_equal(ucxm.put.rkey, FAKE_RKEY(0));
    assert_ptr_equal(ucxm.get.rkey, FAKE_RKEY(0));
    assert_ptr_equal(ucxm.get.ep, FAKE_EP);
    assert_ptr_equal(ucxm.put.buffer, b);
    assert_int_equal(ucxm.put.count, 4);
    assert_int_equal(ucxm.put.remote, AGENT_BASE + 0x200);
    assert_ptr_equal(ucxm.get.buffer, a);
    assert_int_equal(ucxm.get.count, 2);
    assert_int_equal(ucxm.get.remote, AGENT_BASE + 0x7fe);
}

static void test_ucx_first_get_connects_and_unpacks_too(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    assert_int_equal(get_transient(f, buf, sizeof(buf), 0x18), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.unpacks, 1);
    assert_int_equal(ucxm.puts, 0);
    assert_int_equal(ucxm.gets, 1);
    assert_int_equal(ucxm.get.remote, AGENT_BASE + 0x18);
    assert_ptr_equal(ucxm.get.rkey, FAKE_RKEY(0));
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.unpacks, 1);
}

static void test_ucx_endpoint_shared_by_windows_key_per_window(void **state)
{
    struct fixture *f = *state;
    struct prma_port *port2;
    struct prma_msg msg;
    char buf[8];

    assert_int_equal(prma__port_init_ucx(&f->win2, TARGET, &port2), PRMA_OK);
    assert_int_equal(put_transient(f, buf, sizeof(buf), 8), PRMA_OK);
    assert_int_equal(send_op(f, port2, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 8), PRMA_OK);

    /* The job rank's endpoint is made once; each window unpacks its own key
     * from its own slot and writes at its own base. */
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.unpacks, 2);
    assert_ptr_equal(ucxm.unpack_buf, f->rkeys2 + TARGET * RKEY_SLOT);
    assert_memory_equal(ucxm.unpack_bytes, f->rkeys2 + TARGET * RKEY_SLOT, RKEY_LEN);
    assert_ptr_equal(ucxm.put.rkey, FAKE_RKEY(1));
    assert_int_equal(ucxm.put.remote, AGENT_BASE2 + 8);

    prma__port_destroy(port2);
    assert_int_equal(ucxm.rkey_destroys, 1);
    assert_ptr_equal(ucxm.destroyed_rkey, FAKE_RKEY(1));
}

static void test_ucx_destroy_destroys_unpacked_rkey_once(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(ucxm.rkey_destroys, 0);
    prma__port_destroy(f->port);
    f->port = NULL;
    assert_int_equal(ucxm.rkey_destroys, 1);
    assert_ptr_equal(ucxm.destroyed_rkey, FAKE_RKEY(0));
}

static void test_ucx_rkey_unpack_failure_is_mapped_and_retried(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.unpack_status = UCS_ERR_INVALID_PARAM;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UCX_INVALID);
    assert_int_equal(ucxm.unpacks, 1);
    assert_int_equal(ucxm.puts, 0);
    assert_int_equal(held(f), 0);

    /* Nothing is cached from the failure: the next access unpacks again,
     * on the endpoint made the first time. */
    ucxm.unpack_status = UCS_OK;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.unpacks, 2);
    assert_int_equal(ucxm.puts, 1);
    assert_ptr_equal(ucxm.put.rkey, FAKE_RKEY(1));
    prma__port_destroy(f->port);
    f->port = NULL;
    assert_int_equal(ucxm.rkey_destroys, 1);
    assert_ptr_equal(ucxm.destroyed_rkey, FAKE_RKEY(1));
}

static void test_ucx_nop_and_unknown_commands_touch_no_ucx(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_NOP, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 0), PRMA_OK);
    assert_int_equal(send_op(f, f->port, &msg, 77, PRMA_MSGF_TRANSIENT, buf, sizeof(buf), 0),
                     PRMA_ERR_NOTSUP);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_ERR_NOTSUP);
    assert_int_equal(ucxm.ep_creates, 0);
    assert_int_equal(ucxm.unpacks, 0);
    assert_int_equal(ucxm.puts + ucxm.gets, 0);
}

/* ---- 3. completion paths ---- */

static void test_ucx_put_completed_inline_is_ok(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    ucxm.rma_ret = NULL;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 0), PRMA_OK);
    assert_true(prma_msg_done(&msg));
    assert_false(prma_msg_flags(&msg) & PRMA_MSGF_ASYNC);
    assert_int_equal(msg.ms_status, PRMA_OK);
    assert_int_equal(held(f), 0);
    assert_int_equal(ucxm.request_frees, 0);
    assert_int_equal(drain(f), PRMA_OK);
}

static void test_ucx_transient_in_flight_is_held_until_callback(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.rma_ret = FAKE_REQ;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_EASYNC);
    assert_int_equal(held(f), 1);
    assert_true(ucxm.put.op_attr_mask & UCP_OP_ATTR_FIELD_CALLBACK);
    assert_true(ucxm.put.op_attr_mask & UCP_OP_ATTR_FIELD_USER_DATA);
    assert_non_null(ucxm.put.cb);
    /* The storage of a transient message dies on return: the callback gets
     * the reply port, never the message. */
    assert_ptr_equal(ucxm.put.user_data, &f->reply);
    assert_int_equal(ucxm.request_frees, 0);

    ucxm.put.cb(FAKE_REQ, UCS_OK, ucxm.put.user_data);
    assert_int_equal(held(f), 0);
    assert_int_equal(ucxm.request_frees, 1);
    assert_ptr_equal(ucxm.freed_request, FAKE_REQ);
    /* Nothing left in flight: drain returns at once, without progress. */
    assert_int_equal(drain(f), PRMA_OK);
    assert_int_equal(ucxm.progresses, 0);
}

static void test_ucx_transient_failure_is_reported_once_by_drain(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.rma_ret = FAKE_REQ;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_EASYNC);
    ucxm.rma_ret = FAKE_REQ2;
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_EASYNC);
    assert_int_equal(held(f), 2);

    ucxm.put.cb(FAKE_REQ, UCS_ERR_CONNECTION_RESET, ucxm.put.user_data);
    assert_int_equal(held(f), 1);
    /* A second failure does not overwrite the first. */
    ucxm.get.cb(FAKE_REQ2, UCS_ERR_IO_ERROR, ucxm.get.user_data);
    assert_int_equal(held(f), 0);
    assert_int_equal(ucxm.request_frees, 2);

    assert_int_equal(drain(f), PRMA_ERR_PEER_LOST);
    assert_int_equal(drain(f), PRMA_OK);
}

static void test_ucx_transient_completes_through_port_progress(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.rma_ret = FAKE_REQ;
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_EASYNC);
    assert_int_equal(held(f), 1);
    /* drain drives the port's progress slot, which drives the worker. */
    ucxm.complete_on_progress = 1;
    ucxm.complete_status      = UCS_ERR_ENDPOINT_TIMEOUT;
    assert_int_equal(drain(f), PRMA_ERR_PEER_TIMEOUT);
    assert_true(ucxm.progresses >= 1);
    assert_ptr_equal(ucxm.progress_worker, FAKE_WORKER);
    assert_int_equal(held(f), 0);
    assert_int_equal(ucxm.request_frees, 1);
    assert_ptr_equal(ucxm.freed_request, FAKE_REQ);
}

static void test_ucx_persistent_message_is_replied_with_mapped_status(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    /* Completed with success. */
    ucxm.rma_ret = FAKE_REQ;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_SYNC, buf, sizeof(buf),
                             0), PRMA_EASYNC);
    assert_ptr_equal(ucxm.put.user_data, &msg);
    assert_int_equal(held(f), 0);  /* a persistent message is not counted */
    assert_false(prma_msg_done(&msg));
    ucxm.complete_on_progress = 1;
    ucxm.complete_status      = UCS_OK;
    assert_int_equal(prma_waitmsg(&msg), PRMA_OK);
    assert_int_equal(ucxm.request_frees, 1);

    /* Completed with a failure: the reply carries the mapped status. */
    ucxm.rma_ret         = FAKE_REQ2;
    ucxm.complete_status = UCS_ERR_CONNECTION_RESET;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_GET, PRMA_MSGF_SYNC, buf, sizeof(buf),
                             0), PRMA_EASYNC);
    assert_ptr_equal(ucxm.get.user_data, &msg);
    assert_int_equal(prma_waitmsg(&msg), PRMA_ERR_PEER_LOST);
    assert_int_equal(ucxm.request_frees, 2);
    assert_ptr_equal(ucxm.freed_request, FAKE_REQ2);
    /* A SYNC reply is never queued on the reply port. */
    assert_null(prma_port_getreply(&f->reply));
    assert_int_equal(held(f), 0);
}

static void test_ucx_persistent_callback_replies_directly(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    ucxm.rma_ret = FAKE_REQ;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_SYNC, buf, sizeof(buf),
                             0), PRMA_EASYNC);
    ucxm.put.cb(FAKE_REQ, UCS_ERR_NO_RESOURCE, ucxm.put.user_data);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(prma_waitmsg(&msg), PRMA_ERR_UCX_RESOURCE);
    assert_int_equal(ucxm.progresses, 0);

    /* Not SYNC: the reply goes to the reply port's queue. */
    ucxm.rma_ret = FAKE_REQ2;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_GET, 0, buf, sizeof(buf), 0),
                     PRMA_EASYNC);
    ucxm.get.cb(FAKE_REQ2, UCS_ERR_IO_ERROR, ucxm.get.user_data);
    assert_ptr_equal(prma_port_getreply(&f->reply), &msg);
    assert_int_equal(msg.ms_status, PRMA_ERR_UCX_IO);
    assert_int_equal(ucxm.request_frees, 2);
}

static void test_ucx_put_error_pointer_fails_and_holds_nothing(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    ucxm.rma_ret = UCS_STATUS_PTR(UCS_ERR_IO_ERROR);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 0), PRMA_ERR_UCX_IO);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_ERR_UCX_IO);
    assert_int_equal(ucxm.puts, 1);
    assert_int_equal(held(f), 0);
    assert_int_equal(ucxm.request_frees, 0);

    ucxm.rma_ret = UCS_STATUS_PTR(UCS_ERR_NO_RESOURCE);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_GET, PRMA_MSGF_SYNC, buf, sizeof(buf),
                             0), PRMA_ERR_UCX_RESOURCE);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(held(f), 0);
    /* The failure was returned to the sender: drain has nothing to add. */
    assert_int_equal(drain(f), PRMA_OK);
}

/* ---- 4. endpoint failures ---- */

static void test_ucx_ep_unreachable_retries_without_error_handling(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.ep_create_status[0] = UCS_ERR_UNREACHABLE;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0x10), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 2);
    assert_int_equal(ucxm.ep_err_mode[0], UCP_ERR_HANDLING_MODE_PEER);
    assert_int_equal(ucxm.ep_err_mode[1], UCP_ERR_HANDLING_MODE_NONE);
    assert_ptr_equal(ucxm.ep_address[1], f->addrs + TARGET_JOB * ADDR_SLOT);
    assert_ptr_equal(f->ucx_peers[TARGET_JOB].ep, FAKE_EP);
    assert_int_equal(ucxm.puts, 1);
    assert_ptr_equal(ucxm.put.ep, FAKE_EP);
    assert_int_equal(ucxm.put.remote, AGENT_BASE + 0x10);

    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 2);
}

static void test_ucx_ep_unreachable_twice_is_unreachable(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    ucxm.ep_create_status[0] = UCS_ERR_UNREACHABLE;
    ucxm.ep_create_status[1] = UCS_ERR_UNREACHABLE;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UNREACHABLE);
    assert_int_equal(ucxm.ep_creates, 2);
    assert_null(f->ucx_peers[TARGET_JOB].ep);
    assert_int_equal(ucxm.unpacks, 0);
    assert_int_equal(ucxm.puts, 0);
}

static void test_ucx_same_host_peer_connects_without_error_handling(void **state)
{
    struct fixture *f = *state;
    struct prma_port *port;
    char buf[8];

    /* A UCX peer on this very machine (PORTRMA_TRANSPORT=ucx, or pretend
     * nodes): no UCX failure detection is asked for, so UCX's unreachable
     * there is final, not a reason to retry. */
    prma__port_destroy(f->port);
    f->port = NULL;
    f->peers[TARGET].host_id = HOST_ME;
    assert_int_equal(prma__port_init_ucx(&f->win, TARGET, &port), PRMA_OK);
    f->port = port;
    ucxm.ep_create_status[0] = UCS_ERR_UNREACHABLE;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UNREACHABLE);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.ep_err_mode[0], UCP_ERR_HANDLING_MODE_NONE);
    assert_int_equal(ucxm.puts, 0);

    assert_int_equal(put_transient(f, buf, sizeof(buf), 0x30), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 2);
    assert_int_equal(ucxm.ep_err_mode[1], UCP_ERR_HANDLING_MODE_NONE);
    assert_ptr_equal(ucxm.ep_address[1], f->addrs + TARGET_JOB * ADDR_SLOT);
    assert_int_equal(ucxm.puts, 1);
    assert_int_equal(ucxm.put.remote, AGENT_BASE + 0x30);
}

static void test_ucx_ep_create_failure_is_mapped_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    ucxm.ep_create_status[0] = UCS_ERR_NO_MEMORY;
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 0), PRMA_ERR_NOMEM);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_ERR_NOMEM);
    assert_int_equal(ucxm.ep_creates, 1);  /* no retry for this one */
    assert_null(f->ucx_peers[TARGET_JOB].ep);
    assert_int_equal(f->ucx_peers[TARGET_JOB].status, PRMA_OK);
    assert_int_equal(ucxm.unpacks, 0);
    assert_int_equal(ucxm.puts + ucxm.gets, 0);
    assert_int_equal(held(f), 0);

    ucxm.ep_create_status[1] = UCS_ERR_IO_ERROR;
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UCX_IO);
    assert_int_equal(ucxm.ep_creates, 2);
    assert_int_equal(ucxm.puts + ucxm.gets, 0);

    /* The failure is not sticky: a later access connects. */
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(ucxm.ep_creates, 3);
    assert_int_equal(ucxm.puts, 1);
}

static void test_ucx_failed_peer_fails_at_once(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[8];

    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_non_null(ucxm.err_cb);
    assert_ptr_equal(ucxm.err_arg, &f->ucx_peers[TARGET_JOB]);

    ucxm.err_cb(ucxm.err_arg, FAKE_EP, UCS_ERR_ENDPOINT_TIMEOUT);
    assert_int_equal(f->ucx_peers[TARGET_JOB].status, PRMA_ERR_PEER_TIMEOUT);

    ucxm.rma_ret = FAKE_REQ;  /* would be in flight, if it got that far */
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf,
                             sizeof(buf), 0), PRMA_ERR_PEER_TIMEOUT);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_GET, PRMA_MSGF_SYNC, buf, sizeof(buf),
                             0), PRMA_ERR_PEER_TIMEOUT);
    assert_int_equal(ucxm.puts, 1);
    assert_int_equal(ucxm.gets, 0);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(held(f), 0);
}

static void test_ucx_failed_peer_without_cause_is_peer_lost(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_non_null(ucxm.err_cb);
    ucxm.err_cb(ucxm.err_arg, FAKE_EP, UCS_OK);
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_PEER_LOST);
    assert_int_equal(ucxm.puts, 1);
}

static void test_ucx_rank_without_address_is_unreachable(void **state)
{
    struct fixture *f = *state;
    char buf[8];

    f->lens[TARGET_JOB] = 0;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UNREACHABLE);
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UNREACHABLE);
    assert_int_equal(ucxm.ep_creates, 0);
    assert_int_equal(ucxm.unpacks, 0);
    assert_int_equal(ucxm.puts + ucxm.gets, 0);
    assert_int_equal(held(f), 0);
}

/* ---- the helpers behind the port: flush and registration ---- */

/* A put has gone out since the worker's last flush (as the port marks). */
static void put_went_out(struct fixture *f)
{
    atomic_fetch_add(&f->ucx.puts.out, 1);
}

static void test_ucx_flush_completes_inline_or_fails_mapped(void **state)
{
    struct fixture *f = *state;

    ucxm.flush_ret = NULL;
    put_went_out(f);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    ucxm.flush_ret = UCS_STATUS_PTR(UCS_ERR_CONNECTION_RESET);
    put_went_out(f);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_ERR_PEER_LOST);
    assert_int_equal(ucxm.flushes, 2);
    assert_int_equal(ucxm.request_frees, 0);
}

/* The worker is flushed after puts only: gets (and the accumulates and
 * atomics, answered before they are done) are complete already. */
static void test_ucx_flush_after_puts_only(void **state)
{
    struct fixture *f = *state;
    char buf[8] = { 0 };

    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 0);
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 1);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 1);
    /* A put that failed to start sent nothing. */
    ucxm.rma_ret = UCS_STATUS_PTR(UCS_ERR_IO_ERROR);
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_ERR_UCX_IO);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 1);
    /* A flush that failed covered nothing: the next one flushes again. */
    ucxm.rma_ret = NULL;
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0), PRMA_OK);
    ucxm.flush_ret = UCS_STATUS_PTR(UCS_ERR_CONNECTION_RESET);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_ERR_PEER_LOST);
    ucxm.flush_ret = NULL;
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 3);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.flushes, 3);
}

static void test_ucx_flush_waits_for_its_request(void **state)
{
    struct fixture *f = *state;

    ucxm.flush_ret         = FAKE_REQ2;
    ucxm.checks_inprogress = 3;
    ucxm.check_status      = UCS_OK;
    put_went_out(f);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_OK);
    assert_int_equal(ucxm.checks, 4);
    assert_int_equal(ucxm.progresses, 3);
    assert_ptr_equal(ucxm.progress_worker, FAKE_WORKER);
    assert_int_equal(ucxm.request_frees, 1);
    assert_ptr_equal(ucxm.freed_request, FAKE_REQ2);

    ucxm.checks            = 0;
    ucxm.checks_inprogress = 1;
    ucxm.check_status      = UCS_ERR_ENDPOINT_TIMEOUT;
    put_went_out(f);
    assert_int_equal(prma__ucx_flush(&f->ucx, NULL), PRMA_ERR_PEER_TIMEOUT);
    assert_int_equal(ucxm.request_frees, 2);
}

static int give_up(void *arg)
{
    int *checks = arg;

    ++*checks;
    return PRMA_ERR_PEER_LOST;
}

static void test_ucx_flush_ends_when_its_waiter_gives_up(void **state)
{
    struct fixture *f = *state;
    struct prma_waiter wait = { .check = give_up };
    int checks = 0;

    /* The flush never completes; the waiter's check (a peer is gone) ends
     * the wait with its status, and the request is let go. */
    wait.arg               = &checks;
    ucxm.flush_ret         = FAKE_REQ2;
    ucxm.checks_inprogress = MAX_SPINS;
    put_went_out(f);
    assert_int_equal(prma__ucx_flush(&f->ucx, &wait), PRMA_ERR_PEER_LOST);
    assert_int_equal(checks, 1);
    assert_true(ucxm.progresses >= 1);
    assert_int_equal(ucxm.request_frees, 1);
    assert_ptr_equal(ucxm.freed_request, FAKE_REQ2);
}

static void test_ucx_mem_map_failures_are_mapped_and_unwound(void **state)
{
    struct fixture *f = *state;
    char mem[64];
    ucp_mem_h memh = NULL;
    void *rkey = NULL;
    size_t rkey_len = 0;

    ucxm.mem_map_status = UCS_ERR_NO_MEMORY;
    assert_int_equal(prma__ucx_mem_map(&f->ucx, mem, sizeof(mem), &memh, &rkey, &rkey_len),
                     PRMA_ERR_NOMEM);
    assert_int_equal(ucxm.packs, 0);
    assert_int_equal(ucxm.mem_unmaps, 0);

    /* Packing fails: the registration is undone, no output is set. */
    ucxm.mem_map_status = UCS_OK;
    ucxm.pack_status    = UCS_ERR_UNSUPPORTED;
    assert_int_equal(prma__ucx_mem_map(&f->ucx, mem, sizeof(mem), &memh, &rkey, &rkey_len),
                     PRMA_ERR_NOTSUP);
    assert_int_equal(ucxm.mem_unmaps, 1);
    assert_ptr_equal(ucxm.unmapped_memh, FAKE_MEMH);
    assert_null(memh);
    assert_null(rkey);
    assert_int_equal(rkey_len, 0);

    ucxm.pack_status = UCS_OK;
    assert_int_equal(prma__ucx_mem_map(&f->ucx, mem, sizeof(mem), &memh, &rkey, &rkey_len),
                     PRMA_OK);
    assert_ptr_equal(memh, FAKE_MEMH);
    assert_ptr_equal(rkey, FAKE_PACKED);
    assert_int_equal(rkey_len, RKEY_LEN);
    prma__ucx_mem_unmap(&f->ucx, memh, rkey);
    assert_int_equal(ucxm.buffer_releases, 1);
    assert_int_equal(ucxm.mem_unmaps, 2);
}

/* ---- window memory that UCX allocates ---- */

static void test_ucx_mem_alloc_asks_ucx_to_allocate(void **state)
{
    struct fixture *f = *state;
    ucp_mem_h memh = NULL;
    void *base = NULL;

    ucxm.query_address = mapped_window;
    ucxm.query_length  = 8192;
    assert_int_equal(prma__ucx_mem_alloc(&f->ucx, 8192, &base, &memh), PRMA_OK);
    assert_int_equal(ucxm.mem_maps, 1);
    /* An allocation: no address of ours, a length and UCP_MEM_MAP_ALLOCATE. */
    assert_false(ucxm.map_field_mask & UCP_MEM_MAP_PARAM_FIELD_ADDRESS);
    assert_true(ucxm.map_field_mask & UCP_MEM_MAP_PARAM_FIELD_LENGTH);
    assert_true(ucxm.map_flags & UCP_MEM_MAP_ALLOCATE);
    assert_int_equal(ucxm.map_length, 8192);
    /* Where it lies is UCX's to say. */
    assert_int_equal(ucxm.queries, 1);
    assert_ptr_equal(base, mapped_window);
    assert_ptr_equal(memh, FAKE_MEMH);
    assert_int_equal(ucxm.mem_unmaps, 0);
}

static void test_ucx_mem_alloc_failures_write_nothing(void **state)
{
    struct fixture *f = *state;
    ucp_mem_h memh = NULL;
    void *base = NULL;

    ucxm.mem_map_status = UCS_ERR_NO_MEMORY;
    assert_int_equal(prma__ucx_mem_alloc(&f->ucx, 4096, &base, &memh), PRMA_ERR_NOMEM);
    assert_int_equal(ucxm.queries, 0);
    assert_int_equal(ucxm.mem_unmaps, 0);

    /* UCX cannot say where its memory is: given back. */
    ucxm.mem_map_status = UCS_OK;
    ucxm.query_status   = UCS_ERR_UNSUPPORTED;
    assert_int_equal(prma__ucx_mem_alloc(&f->ucx, 4096, &base, &memh), PRMA_ERR_NOTSUP);
    assert_int_equal(ucxm.mem_unmaps, 1);
    assert_ptr_equal(ucxm.unmapped_memh, FAKE_MEMH);

    /* Less than asked for: given back too. */
    ucxm.query_status  = UCS_OK;
    ucxm.query_address = mapped_window;
    ucxm.query_length  = 2048;
    assert_int_equal(prma__ucx_mem_alloc(&f->ucx, 4096, &base, &memh), PRMA_ERR_UCX);
    assert_int_equal(ucxm.mem_unmaps, 2);
    assert_null(base);
    assert_null(memh);
}

static void test_ucx_alloc_mapped_asks_ucx_once(void **state)
{
    struct fixture *f = *state;

    ucxm.query_address = mapped_window;
    ucxm.query_length  = 4096;
    ucxm.rkey_ptr_base = (uint64_t)(uintptr_t)mapped_window;
    assert_true(prma__ucx_alloc_mapped(&f->ucx, 0));
    /* A page of UCX's, its key unpacked on an endpoint to this process
     * (job rank 0 here), the mapping asked for at its address ... */
    assert_int_equal(ucxm.mem_maps, 1);
    assert_true(ucxm.map_flags & UCP_MEM_MAP_ALLOCATE);
    assert_int_equal(ucxm.ep_creates, 1);
    assert_ptr_equal(ucxm.ep_address[0], f->addrs);
    assert_int_equal(ucxm.unpacks, 1);
    assert_int_equal(ucxm.rkey_ptrs, 1);
    assert_int_equal(ucxm.rkey_ptr_addr[0], (uint64_t)(uintptr_t)mapped_window);
    /* ... and everything given back. */
    assert_int_equal(ucxm.rkey_destroys, 1);
    assert_int_equal(ucxm.buffer_releases, 1);
    assert_int_equal(ucxm.mem_unmaps, 1);
    /* Known from now on. */
    assert_true(prma__ucx_alloc_mapped(&f->ucx, 0));
    assert_int_equal(ucxm.mem_maps, 1);
    assert_int_equal(ucxm.rkey_ptrs, 1);
}

static void test_ucx_alloc_mapped_is_no_when_ucx_cannot_map(void **state)
{
    struct fixture *f = *state;

    ucxm.query_address   = mapped_window;
    ucxm.query_length    = 4096;
    ucxm.rkey_ptr_status = UCS_ERR_UNREACHABLE;  /* tcp alone */
    assert_false(prma__ucx_alloc_mapped(&f->ucx, 0));
    assert_int_equal(ucxm.rkey_destroys, 1);
    assert_int_equal(ucxm.buffer_releases, 1);
    assert_int_equal(ucxm.mem_unmaps, 1);
    assert_false(prma__ucx_alloc_mapped(&f->ucx, 0));
    assert_int_equal(ucxm.mem_maps, 1);
}

static void test_ucx_alloc_mapped_is_no_when_ucx_allocates_nothing(void **state)
{
    struct fixture *f = *state;

    ucxm.mem_map_status = UCS_ERR_NO_MEMORY;
    assert_false(prma__ucx_alloc_mapped(&f->ucx, 0));
    assert_int_equal(ucxm.ep_creates, 0);
    assert_int_equal(ucxm.mem_unmaps, 0);
}

/* The fixture's target, moved to this host with a window UCX allocated;
 * its port made again. */
static void reinit_ucx_memory_target(struct fixture *f, uint64_t host)
{
    prma__port_destroy(f->port);
    f->port = NULL;
    f->peers[TARGET].host_id = host;
    f->peers[TARGET].flags  |= PRMA_PEER_UCX_MEM;
    ucxm.rkey_ptr_base       = AGENT_BASE;
    assert_int_equal(prma__port_init_ucx(&f->win, TARGET, &f->port), PRMA_OK);
}

static void test_ucx_same_host_ucx_memory_is_mapped_at_once(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[16] = { 0 };

    reinit_ucx_memory_target(f, HOST_ME);
    /* Connected and unpacked now; the first and the last byte asked for. */
    assert_int_equal(ucxm.ep_creates, 1);
    assert_int_equal(ucxm.ep_err_mode[0], UCP_ERR_HANDLING_MODE_NONE);
    assert_int_equal(ucxm.unpacks, 1);
    assert_int_equal(ucxm.rkey_ptrs, 2);
    assert_ptr_equal(ucxm.rkey_ptr_rkey, FAKE_RKEY(0));
    assert_int_equal(ucxm.rkey_ptr_addr[0], AGENT_BASE);
    assert_int_equal(ucxm.rkey_ptr_addr[1], AGENT_BASE + 4096 - 1);
    assert_ptr_equal(f->port->mp_direct, mapped_window);
    assert_ptr_equal(f->port->mp_direct, mapped_window);
    assert_null(f->port->mp_ctl);

    /* Nothing went through UCX since: a flush is a fence. */
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 0);
    /* A put that did (e.g. outside an epoch that lets origins copy) is
     * flushed, once. */
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0x10), PRMA_OK);
    assert_int_equal(ucxm.puts, 1);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 1);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 1);
    /* The key is the port's: destroyed with it, once. */
    prma__port_destroy(f->port);
    f->port = NULL;
    assert_int_equal(ucxm.rkey_destroys, 1);
}

static void test_ucx_unmappable_ucx_memory_stays_on_ucx_calls(void **state)
{
    struct fixture *f = *state;
    struct prma_msg msg;
    char buf[16] = { 0 };

    ucxm.rkey_ptr_status = UCS_ERR_UNREACHABLE;
    reinit_ucx_memory_target(f, HOST_ME);
    assert_int_equal(ucxm.rkey_ptrs, 1);
    assert_null(f->port->mp_direct);
    assert_null(f->port->mp_direct);
    /* Every flush after a put is UCX's; after gets alone, or nothing, a
     * fence (a get is complete when its data is here). */
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 0);
    assert_int_equal(get_transient(f, buf, sizeof(buf), 0x20), PRMA_OK);
    assert_int_equal(ucxm.gets, 1);
    assert_int_equal(ucxm.get.remote, AGENT_BASE + 0x20);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 0);
    assert_int_equal(put_transient(f, buf, sizeof(buf), 0x20), PRMA_OK);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 1);
    assert_int_equal(send_op(f, f->port, &msg, PRMA_CMD_FLUSH, 0, NULL, 0, 0), PRMA_OK);
    assert_int_equal(ucxm.ep_flushes, 1);
    /* The key unpacked at creation serves the operations. */
    assert_int_equal(ucxm.unpacks, 1);
}

static void test_ucx_torn_mapping_is_not_used(void **state)
{
    struct fixture *f = *state;

    ucxm.rkey_ptr_torn = 1;
    reinit_ucx_memory_target(f, HOST_ME);
    assert_int_equal(ucxm.rkey_ptrs, 2);
    assert_null(f->port->mp_direct);
}

static void test_ucx_memory_on_another_host_is_not_mapped(void **state)
{
    struct fixture *f = *state;

    reinit_ucx_memory_target(f, HOST_OTHER);
    /* Nothing is made before the first operation, as for any target. */
    assert_int_equal(ucxm.ep_creates, 0);
    assert_int_equal(ucxm.unpacks, 0);
    assert_int_equal(ucxm.rkey_ptrs, 0);
    assert_null(f->port->mp_direct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ucx_status_maps_each_listed_code),
        cmocka_unit_test(test_ucx_status_unlisted_is_generic_ucx_error),
        cmocka_unit_test(test_ucx_status_every_error_is_a_known_failure),
        ucx_test(test_ucx_port_init_creates_nothing),
        ucx_test(test_ucx_first_put_connects_to_job_rank_and_unpacks_key),
        ucx_test(test_ucx_rkey_is_reused_by_later_operations),
        ucx_test(test_ucx_first_get_connects_and_unpacks_too),
        ucx_test(test_ucx_endpoint_shared_by_windows_key_per_window),
        ucx_test(test_ucx_destroy_destroys_unpacked_rkey_once),
        ucx_test(test_ucx_rkey_unpack_failure_is_mapped_and_retried),
        ucx_test(test_ucx_nop_and_unknown_commands_touch_no_ucx),
        ucx_test(test_ucx_put_completed_inline_is_ok),
        ucx_test(test_ucx_transient_in_flight_is_held_until_callback),
        ucx_test(test_ucx_transient_failure_is_reported_once_by_drain),
        ucx_test(test_ucx_transient_completes_through_port_progress),
        ucx_test(test_ucx_persistent_message_is_replied_with_mapped_status),
        ucx_test(test_ucx_persistent_callback_replies_directly),
        ucx_test(test_ucx_put_error_pointer_fails_and_holds_nothing),
        ucx_test(test_ucx_ep_unreachable_retries_without_error_handling),
        ucx_test(test_ucx_ep_unreachable_twice_is_unreachable),
        ucx_test(test_ucx_same_host_peer_connects_without_error_handling),
        ucx_test(test_ucx_ep_create_failure_is_mapped_and_writes_nothing),
        ucx_test(test_ucx_failed_peer_fails_at_once),
        ucx_test(test_ucx_failed_peer_without_cause_is_peer_lost),
        ucx_test(test_ucx_rank_without_address_is_unreachable),
        ucx_test(test_ucx_flush_completes_inline_or_fails_mapped),
        ucx_test(test_ucx_flush_after_puts_only),
        ucx_test(test_ucx_flush_waits_for_its_request),
        ucx_test(test_ucx_flush_ends_when_its_waiter_gives_up),
        ucx_test(test_ucx_mem_map_failures_are_mapped_and_unwound),
        ucx_test(test_ucx_mem_alloc_asks_ucx_to_allocate),
        ucx_test(test_ucx_mem_alloc_failures_write_nothing),
        ucx_test(test_ucx_alloc_mapped_asks_ucx_once),
        ucx_test(test_ucx_alloc_mapped_is_no_when_ucx_cannot_map),
        ucx_test(test_ucx_alloc_mapped_is_no_when_ucx_allocates_nothing),
        ucx_test(test_ucx_same_host_ucx_memory_is_mapped_at_once),
        ucx_test(test_ucx_unmappable_ucx_memory_stays_on_ucx_calls),
        ucx_test(test_ucx_torn_mapping_is_not_used),
        ucx_test(test_ucx_memory_on_another_host_is_not_mapped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
