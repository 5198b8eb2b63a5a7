/*
 * test_port.c - the message-port core (src/port.c, src/msg.h).
 *
 * The port kinds used here are defined in this file, each with its own ops
 * table, so that every path of prma_sendmsg/prma_waitmsg/prma_replymsg is
 * driven exactly as the contract in port.h describes it:
 *  - sync_port completes every message on the spot (a memcpy);
 *  - async_port queues what it gets on its own mp_msgq and completes it from
 *    its progress slot, after a given number of progress calls;
 *  - refuse_port refuses everything and counts any slot that was touched;
 *  - holder_port keeps what a TRANSIENT message needs in storage of its own
 *    and counts the operation on the reply port (prma_port_hold()).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "port.h"
#include "wait.h"
#include "portrma.h"
#include "unit.h"

#define MEMSIZE 64
#define SENTINEL 0xA5

/* ---- counting reply port: a reply port whose slots the test can watch ---- */

struct counting_reply {
    struct prma_port base;  /* first */
    int              replies;
};

static void counting_replyport(struct prma_port *port, struct prma_msg *msg)
{
    struct counting_reply *r = (struct counting_reply *)port;

    r->replies++;
    /* Behave as the core's own reply port does: park it on the queue. */
    pthread_mutex_lock(&port->mp_lock);
    TAILQ_INSERT_TAIL(&port->mp_msgq, msg, ms_link);
    atomic_fetch_or(&msg->ms_flags, PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED);
    pthread_mutex_unlock(&port->mp_lock);
}

static const struct prma_port_ops counting_reply_ops = {
    .name      = "test-counting-reply",
    .putport   = prma__port_stub_putport,
    .progress  = prma__port_nop_progress,
    .replyport = counting_replyport,
    .destroy   = prma__port_nop_destroy,
};

/* ---- sync_port: completes every message on the spot ---- */

struct sync_port {
    struct prma_port base;  /* first */
    unsigned char    memory[MEMSIZE];
    int              puts;
    int              progress_calls;
};

static int sync_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct sync_port *p = (struct sync_port *)port;

    switch (msg->ms_cmd) {
    case PRMA_CMD_NOP:
        return PRMA_OK;
    case PRMA_CMD_PUT:
        memcpy(p->memory + msg->ms_offset, msg->ms_buf, msg->ms_len);
        p->puts++;
        return PRMA_OK;
    case PRMA_CMD_GET:
        memcpy(msg->ms_buf, p->memory + msg->ms_offset, msg->ms_len);
        return PRMA_OK;
    }
    return prma__port_stub_putport(port, msg);
}

static void sync_progress(struct prma_port *port)
{
    ((struct sync_port *)port)->progress_calls++;
}

static const struct prma_port_ops sync_ops = {
    .name      = "test-sync",
    .putport   = sync_putport,
    .progress  = sync_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = prma__port_nop_destroy,
};

static void sync_port_init(struct sync_port *p)
{
    memset(p, 0, sizeof(*p));
    prma__port_init(&p->base, &sync_ops, 1);
    memset(p->memory, SENTINEL, sizeof(p->memory));
}

/* ---- async_port: queues, completes from progress ---- */

struct async_port {
    struct prma_port base;           /* first */
    unsigned char    memory[MEMSIZE];
    atomic_int       progress_calls;
    int              complete_after; /* progress calls before completing */
    int              final_status;   /* status replied with */
    int              external;       /* another thread replies: progress only counts */
};

static int async_putport(struct prma_port *port, struct prma_msg *msg)
{
    pthread_mutex_lock(&port->mp_lock);
    TAILQ_INSERT_TAIL(&port->mp_msgq, msg, ms_link);
    atomic_fetch_or(&msg->ms_flags, PRMA_MSGF_QUEUED);
    pthread_mutex_unlock(&port->mp_lock);
    return PRMA_EASYNC;
}

/* Take the oldest message off a target port's own queue, or NULL. */
static struct prma_msg *target_dequeue(struct prma_port *port)
{
    struct prma_msg *msg;

    pthread_mutex_lock(&port->mp_lock);
    msg = TAILQ_FIRST(&port->mp_msgq);
    if (msg != NULL) {
        TAILQ_REMOVE(&port->mp_msgq, msg, ms_link);
        atomic_fetch_and(&msg->ms_flags, ~PRMA_MSGF_QUEUED);
    }
    pthread_mutex_unlock(&port->mp_lock);
    return msg;
}

static void async_execute(struct async_port *p, struct prma_msg *msg)
{
    if (msg->ms_cmd == PRMA_CMD_PUT)
        memcpy(p->memory + msg->ms_offset, msg->ms_buf, msg->ms_len);
    else if (msg->ms_cmd == PRMA_CMD_GET)
        memcpy(msg->ms_buf, p->memory + msg->ms_offset, msg->ms_len);
}

static void async_progress(struct prma_port *port)
{
    struct async_port *p = (struct async_port *)port;
    struct prma_msg *msg;
    int calls = atomic_fetch_add(&p->progress_calls, 1) + 1;

    if (p->external || calls < p->complete_after)
        return;
    while ((msg = target_dequeue(port)) != NULL) {
        async_execute(p, msg);
        prma_replymsg(msg, p->final_status);
    }
}

static const struct prma_port_ops async_ops = {
    .name      = "test-async",
    .putport   = async_putport,
    .progress  = async_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = prma__port_nop_destroy,
};

static void async_port_init(struct async_port *p, int complete_after, int final_status)
{
    memset(p, 0, sizeof(*p));
    prma__port_init(&p->base, &async_ops, 2);
    memset(p->memory, SENTINEL, sizeof(p->memory));
    atomic_init(&p->progress_calls, 0);
    p->complete_after = complete_after;
    p->final_status   = final_status;
}

/* ---- refuse_port: refuses everything, touches nothing ---- */

struct refuse_port {
    struct prma_port base;  /* first */
    int              status;
    int              putports;
    int              progress_calls;
    int              replyports;
};

static int refuse_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct refuse_port *p = (struct refuse_port *)port;

    p->putports++;
    return p->status;
}

static void refuse_progress(struct prma_port *port)
{
    ((struct refuse_port *)port)->progress_calls++;
}

static void refuse_replyport(struct prma_port *port, struct prma_msg *msg)
{
    ((struct refuse_port *)port)->replyports++;
}

static const struct prma_port_ops refuse_ops = {
    .name      = "test-refuse",
    .putport   = refuse_putport,
    .progress  = refuse_progress,
    .replyport = refuse_replyport,
    .destroy   = prma__port_nop_destroy,
};

/* ---- helpers ---- */

static void msg_setup(struct prma_msg *msg, uint32_t cmd, uint32_t flags, void *buf, size_t len,
                      uint64_t offset, struct prma_port *reply)
{
    prma_msg_init(msg, cmd, flags);
    msg->ms_buf    = buf;
    msg->ms_len    = len;
    msg->ms_offset = offset;
    msg->ms_reply  = reply;
}

static int queue_length(struct prma_port *port)
{
    struct prma_msg *msg;
    int n = 0;

    pthread_mutex_lock(&port->mp_lock);
    TAILQ_FOREACH(msg, &port->mp_msgq, ms_link)
        n++;
    pthread_mutex_unlock(&port->mp_lock);
    return n;
}

static void assert_all_bytes(const unsigned char *p, size_t len, unsigned char value)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != value)
            fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, p[i], value);
}

/* ---- sync completion ---- */

static void test_port_sync_completion_is_done_on_return(void **state)
{
    struct sync_port target;
    struct prma_port reply;
    struct prma_msg msg;
    unsigned char data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint32_t flags;

    sync_port_init(&target);
    prma__port_init_reply(&reply);
    msg_setup(&msg, PRMA_CMD_PUT, 0, data, sizeof(data), 16, &reply);
    msg.ms_status = 12345;  /* must be overwritten with the outcome */

    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_OK);

    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_false(flags & PRMA_MSGF_ASYNC);
    assert_false(flags & PRMA_MSGF_QUEUED);
    assert_false(flags & PRMA_MSGF_REPLIED);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_OK);
    assert_ptr_equal(msg.ms_target, &target.base);
    /* Done on the spot: nothing queued anywhere, no progress needed. */
    assert_int_equal(target.puts, 1);
    assert_memory_equal(target.memory + 16, data, sizeof(data));
    assert_all_bytes(target.memory, 16, SENTINEL);
    assert_all_bytes(target.memory + 24, MEMSIZE - 24, SENTINEL);
    assert_null(prma_port_getreply(&reply));
    assert_int_equal(queue_length(&target.base), 0);
    assert_int_equal(target.progress_calls, 0);
    /* Waiting on a done message returns at once, without progress. */
    assert_int_equal(prma_waitmsg(&msg), PRMA_OK);
    assert_int_equal(target.progress_calls, 0);
}

static void test_port_sync_completion_domsg_returns_status(void **state)
{
    struct sync_port target;
    struct prma_msg msg;
    unsigned char out[4] = { 0 };

    sync_port_init(&target);
    memcpy(target.memory, "\x10\x20\x30\x40", 4);
    /* A sync message needs no reply port. */
    msg_setup(&msg, PRMA_CMD_GET, 0, out, sizeof(out), 0, NULL);

    assert_int_equal(prma_domsg(&target.base, &msg), PRMA_OK);
    assert_true(prma_msg_flags(&msg) & PRMA_MSGF_DONE);
    assert_true(prma_msg_flags(&msg) & PRMA_MSGF_SYNC);
    assert_false(prma_msg_flags(&msg) & PRMA_MSGF_ASYNC);
    assert_memory_equal(out, "\x10\x20\x30\x40", 4);
    assert_int_equal(target.progress_calls, 0);
}

/* ---- async completion ---- */

static void test_port_async_completion_waitmsg_drives_progress(void **state)
{
    struct async_port target;
    struct prma_port reply;
    struct prma_msg msg;
    unsigned char data[5] = { 9, 8, 7, 6, 5 };
    uint32_t flags;

    async_port_init(&target, 3, PRMA_OK);
    prma__port_init_reply(&reply);
    msg_setup(&msg, PRMA_CMD_PUT, PRMA_MSGF_SYNC, data, sizeof(data), 10, &reply);

    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_EASYNC);

    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_ASYNC);
    assert_false(flags & PRMA_MSGF_DONE);
    assert_true(flags & PRMA_MSGF_QUEUED);  /* on the target's own queue */
    assert_int_equal(queue_length(&target.base), 1);
    assert_all_bytes(target.memory, MEMSIZE, SENTINEL);  /* not yet executed */
    assert_int_equal(atomic_load(&target.progress_calls), 0);

    /* prma_waitmsg must call progress until the port replies. */
    assert_int_equal(prma_waitmsg(&msg), PRMA_OK);
    assert_int_equal(atomic_load(&target.progress_calls), 3);
    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_true(flags & PRMA_MSGF_ASYNC);
    assert_false(flags & PRMA_MSGF_QUEUED);
    assert_memory_equal(target.memory + 10, data, sizeof(data));
    assert_int_equal(queue_length(&target.base), 0);
    /* A SYNC message's reply bypasses the reply port. */
    assert_null(prma_port_getreply(&reply));
}

static void test_port_async_completion_returns_final_status(void **state)
{
    struct async_port target;
    struct prma_msg msg;
    unsigned char data[4] = { 0 };

    /* The final status is the replied one, not the PRMA_EASYNC of the send. */
    async_port_init(&target, 2, PRMA_ERR_PEER);
    msg_setup(&msg, PRMA_CMD_NOP, 0, data, 0, 0, NULL);

    assert_int_equal(prma_domsg(&target.base, &msg), PRMA_ERR_PEER);
    assert_int_equal(msg.ms_status, PRMA_ERR_PEER);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(atomic_load(&target.progress_calls), 2);
}

/* ---- replies: sync waiters are not queued, others are, in order ---- */

static void test_port_reply_to_sync_waiter_is_not_queued(void **state)
{
    struct async_port target;
    struct counting_reply reply;
    struct prma_msg msg;
    uint32_t flags;

    async_port_init(&target, 1, PRMA_OK);
    prma__port_init(&reply.base, &counting_reply_ops, -1);
    reply.replies = 0;
    /* ms_reply is set, yet the sender waits itself: the reply must not go
     * through the reply port. */
    msg_setup(&msg, PRMA_CMD_NOP, 0, NULL, 0, 0, &reply.base);

    assert_int_equal(prma_domsg(&target.base, &msg), PRMA_OK);
    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_SYNC);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_false(flags & (PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED));
    assert_int_equal(reply.replies, 0);
    assert_null(prma_port_getreply(&reply.base));
}

static void test_port_reply_nonsync_is_queued_in_order(void **state)
{
    struct async_port target;
    struct prma_port reply;
    struct prma_msg msgs[3];
    struct prma_msg *got;

    async_port_init(&target, 1, PRMA_OK);
    prma__port_init_reply(&reply);
    for (int i = 0; i < 3; i++) {
        msg_setup(&msgs[i], PRMA_CMD_NOP, 0, NULL, 0, 0, &reply);
        assert_int_equal(prma_sendmsg(&target.base, &msgs[i]), PRMA_EASYNC);
    }
    assert_null(prma_port_getreply(&reply));  /* nothing replied yet */

    /* The target's agent completes all three, oldest first. */
    target.base.mp_ops->progress(&target.base);
    for (int i = 0; i < 3; i++) {
        uint32_t flags = prma_msg_flags(&msgs[i]);

        assert_true(flags & PRMA_MSGF_DONE);
        assert_true(flags & PRMA_MSGF_QUEUED);
        assert_true(flags & PRMA_MSGF_REPLIED);
        assert_int_equal(msgs[i].ms_status, PRMA_OK);
    }
    assert_int_equal(queue_length(&reply), 3);

    for (int i = 0; i < 3; i++) {
        got = prma_port_getreply(&reply);
        assert_ptr_equal(got, &msgs[i]);
        assert_false(prma_msg_flags(got) & (PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED));
        assert_true(prma_msg_flags(got) & PRMA_MSGF_DONE);
        /* The ones not taken yet are still marked. */
        for (int j = i + 1; j < 3; j++)
            assert_true(prma_msg_flags(&msgs[j]) & PRMA_MSGF_REPLIED);
    }
    assert_null(prma_port_getreply(&reply));
}

static void test_port_waitmsg_takes_nonsync_reply_off_reply_port(void **state)
{
    struct async_port target;
    struct prma_port reply;
    struct prma_msg msg;
    uint32_t flags;

    /* A sender that waits for a non-SYNC message itself owns it again when
     * prma_waitmsg returns (msg.h: storage reusable once DONE): the reply
     * must not stay linked on the reply port, where a re-send would link it
     * a second time. */
    async_port_init(&target, 2, PRMA_ERR_PEER);
    prma__port_init_reply(&reply);
    msg_setup(&msg, PRMA_CMD_NOP, 0, NULL, 0, 0, &reply);
    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_EASYNC);
    assert_int_equal(prma_waitmsg(&msg), PRMA_ERR_PEER);
    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_false(flags & (PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED));
    assert_null(prma_port_getreply(&reply));
    /* Re-sending is then safe, and the new reply is queued once. */
    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_EASYNC);
    target.base.mp_ops->progress(&target.base);
    assert_ptr_equal(prma_port_getreply(&reply), &msg);
    assert_null(prma_port_getreply(&reply));
}

/* ---- refused messages ---- */

static void test_port_refused_message_is_done_with_status(void **state)
{
    struct refuse_port target;
    struct counting_reply reply;
    struct prma_msg msg;
    unsigned char buf[16];
    uint32_t flags;

    memset(&target, 0, sizeof(target));
    prma__port_init(&target.base, &refuse_ops, 3);
    target.status = PRMA_ERR_RMA_RANGE;
    prma__port_init(&reply.base, &counting_reply_ops, -1);
    reply.replies = 0;
    memset(buf, SENTINEL, sizeof(buf));
    msg_setup(&msg, PRMA_CMD_GET, 0, buf, sizeof(buf), 0, &reply.base);

    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_ERR_RMA_RANGE);
    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_false(flags & (PRMA_MSGF_ASYNC | PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED));
    assert_int_equal(msg.ms_status, PRMA_ERR_RMA_RANGE);
    /* Only putport ran: no progress, no reply, nothing queued, nothing
     * written into the origin buffer. */
    assert_int_equal(target.putports, 1);
    assert_int_equal(target.progress_calls, 0);
    assert_int_equal(target.replyports, 0);
    assert_int_equal(reply.replies, 0);
    assert_null(prma_port_getreply(&reply.base));
    assert_all_bytes(buf, sizeof(buf), SENTINEL);

    /* Through prma_domsg and prma_waitmsg the status is the same, and
     * waiting does not drive progress on a message that is already done. */
    target.status = PRMA_ERR_UNREACHABLE;
    assert_int_equal(prma_domsg(&target.base, &msg), PRMA_ERR_UNREACHABLE);
    assert_int_equal(prma_waitmsg(&msg), PRMA_ERR_UNREACHABLE);
    assert_int_equal(target.progress_calls, 0);
    assert_int_equal(target.replyports, 0);
    assert_int_equal(reply.replies, 0);
    assert_all_bytes(buf, sizeof(buf), SENTINEL);
}

/* ---- stub slots ---- */

static const struct prma_port_ops stub_ops = {
    .name      = "test-stub",
    .putport   = prma__port_stub_putport,
    .progress  = prma__port_nop_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = prma__port_nop_destroy,
};

static void test_port_stub_putport_is_notsup(void **state)
{
    struct prma_port port, reply;
    struct prma_msg msg;
    unsigned char buf[4] = { SENTINEL, SENTINEL, SENTINEL, SENTINEL };

    prma__port_init(&port, &stub_ops, 0);
    msg_setup(&msg, PRMA_CMD_PUT, 0, buf, sizeof(buf), 0, NULL);
    assert_int_equal(prma__port_stub_putport(&port, &msg), PRMA_ERR_NOTSUP);
    assert_int_equal(prma_sendmsg(&port, &msg), PRMA_ERR_NOTSUP);
    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_ERR_NOTSUP);

    /* A reply port accepts no message either: its putport is the stub. */
    prma__port_init_reply(&reply);
    assert_int_equal(prma_sendmsg(&reply, &msg), PRMA_ERR_NOTSUP);
    assert_null(prma_port_getreply(&reply));

    /* The no-op slots are callable and change nothing; destroy goes
     * through the kind's slot. */
    prma__port_nop_progress(&port);
    prma__port_destroy(&port);
    prma__port_destroy(NULL);
    assert_int_equal(queue_length(&port), 0);
}

static void test_port_stub_replyport_parks_the_reply(void **state)
{
    struct async_port target;
    struct prma_port notreply;
    struct prma_msg msg;

    /* A reply sent to a port kind that is not a reply port is not lost. */
    async_port_init(&target, 1, PRMA_ERR_PEER);
    prma__port_init(&notreply, &stub_ops, 0);
    msg_setup(&msg, PRMA_CMD_NOP, 0, NULL, 0, 0, &notreply);
    assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_EASYNC);
    target.base.mp_ops->progress(&target.base);

    assert_true(prma_msg_done(&msg));
    assert_int_equal(msg.ms_status, PRMA_ERR_PEER);
    assert_ptr_equal(prma_port_getreply(&notreply), &msg);
    assert_null(prma_port_getreply(&notreply));
}

/* ---- hold / unhold / drain ---- */

struct holder_port {
    struct prma_port  base;          /* first */
    struct prma_port *reply;         /* where the held operations count */
    unsigned char     memory[MEMSIZE];
    /* What a transient PUT needs, kept here: the message itself dies. */
    unsigned char     pending[8][MEMSIZE];
    size_t            pending_len[8];
    uint64_t          pending_off[8];
    int               npending;
    int               progress_calls;
    int               release_every;  /* complete one every this many calls */
    long              held_seen[16];  /* mp_held before each progress call */
};

static int holder_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct holder_port *p = (struct holder_port *)port;

    if (msg->ms_cmd != PRMA_CMD_PUT || !(prma_msg_flags(msg) & PRMA_MSGF_TRANSIENT) ||
        p->npending == 8)
        return PRMA_ERR_ARG;
    memcpy(p->pending[p->npending], msg->ms_buf, msg->ms_len);
    p->pending_len[p->npending] = msg->ms_len;
    p->pending_off[p->npending] = msg->ms_offset;
    p->npending++;
    prma_port_hold(msg->ms_reply);
    p->reply = msg->ms_reply;
    return PRMA_EASYNC;
}

static void holder_progress(struct prma_port *port)
{
    struct holder_port *p = (struct holder_port *)port;
    int i;

    if (p->progress_calls < 16)
        p->held_seen[p->progress_calls] = atomic_load(&p->reply->mp_held);
    p->progress_calls++;
    if (p->npending == 0 || p->progress_calls % p->release_every != 0)
        return;
    i = --p->npending;
    memcpy(p->memory + p->pending_off[i], p->pending[i], p->pending_len[i]);
    prma_port_unhold(p->reply);
}

static const struct prma_port_ops holder_ops = {
    .name      = "test-holder",
    .putport   = holder_putport,
    .progress  = holder_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = prma__port_nop_destroy,
};

static void holder_port_init(struct holder_port *p, int release_every)
{
    memset(p, 0, sizeof(*p));
    prma__port_init(&p->base, &holder_ops, 4);
    memset(p->memory, SENTINEL, sizeof(p->memory));
    p->release_every = release_every;
}

/* Send a transient put whose message and buffer die when this returns. */
static int __attribute__((noinline))
send_transient_put(struct prma_port *target, struct prma_port *reply, unsigned char fill,
                   size_t len, uint64_t offset)
{
    unsigned char buf[MEMSIZE];
    struct prma_msg msg;
    int status;

    memset(buf, fill, len);
    msg_setup(&msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, buf, len, offset, reply);
    status = prma_sendmsg(target, &msg);
    /* The storage is gone: scribble over it as its reuse would. */
    memset(&msg, 0xEE, sizeof(msg));
    memset(buf, 0xEE, sizeof(buf));
    return status;
}

static void test_port_hold_unhold_counts(void **state)
{
    struct prma_port reply;

    prma__port_init_reply(&reply);
    assert_int_equal(atomic_load(&reply.mp_held), 0);
    prma_port_hold(&reply);
    prma_port_hold(&reply);
    assert_int_equal(atomic_load(&reply.mp_held), 2);
    prma_port_unhold(&reply);
    assert_int_equal(atomic_load(&reply.mp_held), 1);
    prma_port_unhold(&reply);
    assert_int_equal(atomic_load(&reply.mp_held), 0);
}

/* Waiter callbacks: drive the port given as arg; give up when told. */
static void drive_port(void *arg)
{
    struct prma_port *port = arg;

    port->mp_ops->progress(port);
}

static int give_up(void *arg)
{
    return PRMA_ERR_PEER_LOST;
}

static void test_port_drain_waits_for_held_operations(void **state)
{
    struct holder_port target;
    struct prma_port reply;
    struct prma_waiter wait = { .progress = drive_port };

    holder_port_init(&target, 2);
    prma__port_init_reply(&reply);
    assert_int_equal(send_transient_put(&target.base, &reply, 0x11, 4, 0), PRMA_EASYNC);
    assert_int_equal(send_transient_put(&target.base, &reply, 0x22, 4, 8), PRMA_EASYNC);
    assert_int_equal(send_transient_put(&target.base, &reply, 0x33, 4, 16), PRMA_EASYNC);
    assert_int_equal(atomic_load(&reply.mp_held), 3);
    assert_all_bytes(target.memory, MEMSIZE, SENTINEL);

    wait.arg = &target.base;
    assert_int_equal(prma_port_drain(&reply, &wait), PRMA_OK);

    /* One release every second call: drain had to wait through six calls,
     * seeing the count go 3, 3, 2, 2, 1, 1, and no more. */
    assert_int_equal(atomic_load(&reply.mp_held), 0);
    assert_int_equal(target.progress_calls, 6);
    assert_int_equal(target.held_seen[0], 3);
    assert_int_equal(target.held_seen[1], 3);
    assert_int_equal(target.held_seen[2], 2);
    assert_int_equal(target.held_seen[3], 2);
    assert_int_equal(target.held_seen[4], 1);
    assert_int_equal(target.held_seen[5], 1);
    /* Each held operation was carried out from the port's own storage. */
    assert_all_bytes(target.memory + 0, 4, 0x11);
    assert_all_bytes(target.memory + 8, 4, 0x22);
    assert_all_bytes(target.memory + 16, 4, 0x33);

    /* Nothing held: drain returns without driving progress. */
    assert_int_equal(prma_port_drain(&reply, &wait), PRMA_OK);
    assert_int_equal(target.progress_calls, 6);
}

static void test_port_drain_reports_first_failure_once(void **state)
{
    struct prma_port reply;

    prma__port_init_reply(&reply);
    prma_port_fail(&reply, PRMA_ERR_PEER_LOST);
    prma_port_fail(&reply, PRMA_ERR_UCX_IO);
    assert_int_equal(prma_port_drain(&reply, NULL), PRMA_ERR_PEER_LOST);
    assert_int_equal(prma_port_drain(&reply, NULL), PRMA_OK);
}

static void test_port_drain_ends_when_the_waiter_gives_up(void **state)
{
    struct prma_port reply;
    struct prma_waiter wait = { .check = give_up };

    prma__port_init_reply(&reply);
    prma_port_hold(&reply);
    assert_int_equal(prma_port_drain(&reply, &wait), PRMA_ERR_PEER_LOST);
    assert_int_equal(atomic_load(&reply.mp_held), 1);
    assert_true(wait.turns > 0);
}

/* ---- a reply from another thread ---- */

struct replier {
    struct async_port *target;
    int                status;    /* to reply with */
    int                min_calls; /* wait for this many progress calls first */
    int                error;     /* what went wrong on the replier's side */
};

static void *replier_main(void *arg)
{
    struct replier *r = arg;
    struct prma_msg *msg;

    /* Let the waiter spin in prma_waitmsg first. */
    while (atomic_load(&r->target->progress_calls) < r->min_calls)
        sched_yield();
    while ((msg = target_dequeue(&r->target->base)) == NULL)
        sched_yield();
    /* The reply carries data: written before DONE, visible after it. */
    if (msg->ms_cmd == PRMA_CMD_GET)
        memset(msg->ms_buf, 0x5A, msg->ms_len);
    else
        r->error = 1;
    prma_replymsg(msg, r->status);
    return NULL;
}

static void test_port_reply_from_other_thread_wakes_waiter(void **state)
{
    struct async_port target;
    struct replier rep;
    struct prma_msg msg;
    unsigned char buf[32];
    pthread_t thread;

    unit_watchdog_arm("test_port_reply_from_other_thread_wakes_waiter", UNIT_WATCHDOG_SECONDS);
    async_port_init(&target, 0, PRMA_OK);
    target.external = 1;
    memset(buf, SENTINEL, sizeof(buf));
    rep.target    = &target;
    rep.status    = PRMA_OK;
    rep.min_calls = 5;
    rep.error     = 0;
    assert_int_equal(pthread_create(&thread, NULL, replier_main, &rep), 0);

    msg_setup(&msg, PRMA_CMD_GET, 0, buf, sizeof(buf), 0, NULL);
    assert_int_equal(prma_domsg(&target.base, &msg), PRMA_OK);
    /* The waiter saw DONE: the replier's data must be there. */
    assert_all_bytes(buf, sizeof(buf), 0x5A);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(rep.error, 0);
    assert_true(atomic_load(&target.progress_calls) >= 5);
    assert_true(prma_msg_flags(&msg) & PRMA_MSGF_DONE);
    unit_watchdog_disarm();
}

static void test_port_reply_from_other_thread_queued_before_done(void **state)
{
    struct async_port target;
    struct prma_port reply;
    struct replier rep;
    struct prma_msg msg;
    unsigned char buf[8];
    pthread_t thread;

    /* prma_replymsg queues a non-sync reply before it sets DONE: a sender
     * who sees DONE always finds the reply on its port. */
    unit_watchdog_arm("test_port_reply_from_other_thread_queued_before_done",
                      UNIT_WATCHDOG_SECONDS);
    async_port_init(&target, 0, PRMA_OK);
    target.external = 1;
    prma__port_init_reply(&reply);
    for (int round = 0; round < 200; round++) {
        rep.target    = &target;
        rep.status    = round % 2 ? PRMA_OK : PRMA_ERR_PEER;
        rep.min_calls = 0;
        rep.error     = 0;
        msg_setup(&msg, PRMA_CMD_GET, 0, buf, sizeof(buf), 0, &reply);
        assert_int_equal(prma_sendmsg(&target.base, &msg), PRMA_EASYNC);
        assert_int_equal(pthread_create(&thread, NULL, replier_main, &rep), 0);
        while (!prma_msg_done(&msg))
            sched_yield();
        assert_ptr_equal(prma_port_getreply(&reply), &msg);
        assert_int_equal(msg.ms_status, rep.status);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_int_equal(rep.error, 0);
    }
    unit_watchdog_disarm();
}

/* ---- re-sending ---- */

static void test_port_resend_resets_flags(void **state)
{
    struct async_port async;
    struct sync_port sync;
    struct prma_port reply;
    struct prma_msg msg;
    unsigned char data[4] = { 1, 2, 3, 4 };
    uint32_t flags;

    async_port_init(&async, 1, PRMA_ERR_PEER);
    sync_port_init(&sync);
    prma__port_init_reply(&reply);
    msg_setup(&msg, PRMA_CMD_PUT, PRMA_MSGF_TRANSIENT, data, sizeof(data), 0, &reply);

    /* First trip: asynchronous, replied, taken off the reply port. */
    assert_int_equal(prma_sendmsg(&async.base, &msg), PRMA_EASYNC);
    async.base.mp_ops->progress(&async.base);
    assert_ptr_equal(prma_port_getreply(&reply), &msg);
    flags = prma_msg_flags(&msg);
    assert_true((flags & (PRMA_MSGF_DONE | PRMA_MSGF_ASYNC)) ==
                (PRMA_MSGF_DONE | PRMA_MSGF_ASYNC));
    assert_int_equal(msg.ms_status, PRMA_ERR_PEER);

    /* Second trip: completes on the spot. DONE and the outcome are the new
     * ones, ASYNC is gone; the caller's own flag stays. */
    assert_int_equal(prma_sendmsg(&sync.base, &msg), PRMA_OK);
    flags = prma_msg_flags(&msg);
    assert_true(flags & PRMA_MSGF_DONE);
    assert_false(flags & (PRMA_MSGF_ASYNC | PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED));
    assert_true(flags & PRMA_MSGF_TRANSIENT);
    assert_int_equal(msg.ms_status, PRMA_OK);
    assert_ptr_equal(msg.ms_target, &sync.base);

    /* Third trip: asynchronous again; DONE from the last trip must be gone
     * before the reply comes. */
    assert_int_equal(prma_sendmsg(&async.base, &msg), PRMA_EASYNC);
    flags = prma_msg_flags(&msg);
    assert_false(flags & PRMA_MSGF_DONE);
    assert_true(flags & PRMA_MSGF_ASYNC);
    assert_ptr_equal(msg.ms_target, &async.base);
    async.base.mp_ops->progress(&async.base);
    assert_true(prma_msg_done(&msg));
    assert_ptr_equal(prma_port_getreply(&reply), &msg);
    assert_null(prma_port_getreply(&reply));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_guarded(test_port_sync_completion_is_done_on_return),
        unit_test_guarded(test_port_sync_completion_domsg_returns_status),
        unit_test_guarded(test_port_async_completion_waitmsg_drives_progress),
        unit_test_guarded(test_port_async_completion_returns_final_status),
        unit_test_guarded(test_port_reply_to_sync_waiter_is_not_queued),
        unit_test_guarded(test_port_reply_nonsync_is_queued_in_order),
        unit_test_guarded(test_port_waitmsg_takes_nonsync_reply_off_reply_port),
        unit_test_guarded(test_port_refused_message_is_done_with_status),
        unit_test_guarded(test_port_stub_putport_is_notsup),
        unit_test_guarded(test_port_stub_replyport_parks_the_reply),
        unit_test_guarded(test_port_hold_unhold_counts),
        unit_test_guarded(test_port_drain_waits_for_held_operations),
        unit_test_guarded(test_port_drain_reports_first_failure_once),
        unit_test_guarded(test_port_drain_ends_when_the_waiter_gives_up),
        unit_test_guarded(test_port_reply_from_other_thread_wakes_waiter),
        unit_test_guarded(test_port_reply_from_other_thread_queued_before_done),
        unit_test_guarded(test_port_resend_resets_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
