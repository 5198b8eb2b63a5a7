/*
 * port.c - the message-port core: send, wait, reply.
 *
 * The model is DragonFly's LWKT message ports: the sender embeds the
 * message, the target port's putport decides between completing it on the
 * spot and completing it later, and a reply goes back either straight to a
 * sender that is waiting for it or onto the sender's reply port. Nothing here
 * knows what a window or a transport is.
 */
#include "port.h"

#include <sched.h>
#include "log.h"
#include "wait.h"

static void reply_replyport(struct prma_port *port, struct prma_msg *msg);

static const struct prma_port_ops reply_ops = {
    .name      = "reply",
    .putport   = prma__port_stub_putport,
    .progress  = prma__port_nop_progress,
    .replyport = reply_replyport,
    .destroy   = prma__port_nop_destroy,
};

void prma__port_init(struct prma_port *port, const struct prma_port_ops *ops, int rank)
{
    port->mp_ops = ops;
    TAILQ_INIT(&port->mp_msgq);
    pthread_mutex_init(&port->mp_lock, NULL);
    atomic_init(&port->mp_held, 0);
    atomic_init(&port->mp_error, PRMA_OK);
    port->mp_rank = rank;
    port->mp_direct = NULL;
    port->mp_ctl    = NULL;
}

void prma__port_init_reply(struct prma_port *port)
{
    prma__port_init(port, &reply_ops, -1);
}

void prma__port_destroy(struct prma_port *port)
{
    if (port == NULL)
        return;
    port->mp_ops->destroy(port);
}

int prma_sendmsg(struct prma_port *port, struct prma_msg *msg)
{
    uint32_t flags;
    int status;

    /* The sender owns the message until putport: plain stores (no locked
     * instruction on the fast path). */
    msg->ms_target = port;
    flags = atomic_load_explicit(&msg->ms_flags, memory_order_relaxed) &
            ~(PRMA_MSGF_DONE | PRMA_MSGF_ASYNC | PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED);
    atomic_store_explicit(&msg->ms_flags, flags, memory_order_relaxed);
    status = port->mp_ops->putport(port, msg);
    if (status == PRMA_EASYNC) {
        /* The reply may already have happened on another thread: OR the
         * bit in, never store the whole word. */
        atomic_fetch_or_explicit(&msg->ms_flags, PRMA_MSGF_ASYNC, memory_order_relaxed);
        return PRMA_EASYNC;
    }
    /* Completed on the spot: nobody else holds the message. */
    msg->ms_status = status;
    atomic_store_explicit(&msg->ms_flags, flags | PRMA_MSGF_DONE, memory_order_release);
    return status;
}

int prma_domsg(struct prma_port *port, struct prma_msg *msg)
{
    int status;

    /* Still the sender's own: a plain store. */
    atomic_store_explicit(&msg->ms_flags,
                          atomic_load_explicit(&msg->ms_flags, memory_order_relaxed) |
                              PRMA_MSGF_SYNC,
                          memory_order_relaxed);
    status = prma_sendmsg(port, msg);
    if (status == PRMA_EASYNC)
        status = prma_waitmsg(msg);
    return status;
}

int prma_waitmsg(struct prma_msg *msg)
{
    struct prma_port *port = msg->ms_target;

    while (!prma_msg_done(msg)) {
        port->mp_ops->progress(port);
        if (!prma_msg_done(msg))
            sched_yield();
    }
    /* A non-SYNC reply reached the reply port before DONE was set: the
     * sender has it back now, so take it off there (as lwkt_waitmsg does),
     * or reusing the message would link it twice. */
    if (prma_msg_flags(msg) & PRMA_MSGF_REPLIED) {
        struct prma_port *reply = msg->ms_reply;

        pthread_mutex_lock(&reply->mp_lock);
        if (prma_msg_flags(msg) & PRMA_MSGF_REPLIED) {
            TAILQ_REMOVE(&reply->mp_msgq, msg, ms_link);
            atomic_fetch_and_explicit(&msg->ms_flags, ~(PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED),
                                      memory_order_relaxed);
        }
        pthread_mutex_unlock(&reply->mp_lock);
    }
    return msg->ms_status;
}

void prma_replymsg(struct prma_msg *msg, int status)
{
    uint32_t flags = prma_msg_flags(msg);

    msg->ms_status = status;
    if (!(flags & PRMA_MSGF_SYNC)) {
        /* Nobody spins on it: hand it to the reply port first, so that a
         * sender who sees DONE also finds it queued. */
        msg->ms_reply->mp_ops->replyport(msg->ms_reply, msg);
    }
    atomic_fetch_or_explicit(&msg->ms_flags, PRMA_MSGF_DONE, memory_order_release);
}

static void reply_replyport(struct prma_port *port, struct prma_msg *msg)
{
    pthread_mutex_lock(&port->mp_lock);
    TAILQ_INSERT_TAIL(&port->mp_msgq, msg, ms_link);
    atomic_fetch_or_explicit(&msg->ms_flags, PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED,
                             memory_order_relaxed);
    pthread_mutex_unlock(&port->mp_lock);
}

struct prma_msg *prma_port_getreply(struct prma_port *port)
{
    struct prma_msg *msg;

    pthread_mutex_lock(&port->mp_lock);
    msg = TAILQ_FIRST(&port->mp_msgq);
    if (msg != NULL) {
        TAILQ_REMOVE(&port->mp_msgq, msg, ms_link);
        atomic_fetch_and_explicit(&msg->ms_flags, ~(PRMA_MSGF_QUEUED | PRMA_MSGF_REPLIED),
                                  memory_order_relaxed);
    }
    pthread_mutex_unlock(&port->mp_lock);
    return msg;
}

void prma_port_hold(struct prma_port *reply)
{
    atomic_fetch_add_explicit(&reply->mp_held, 1, memory_order_relaxed);
}

void prma_port_unhold(struct prma_port *reply)
{
    atomic_fetch_sub_explicit(&reply->mp_held, 1, memory_order_release);
}

void prma_port_fail(struct prma_port *reply, int status)
{
    int ok = PRMA_OK;

    atomic_compare_exchange_strong(&reply->mp_error, &ok, status);
}

int prma_port_drain(struct prma_port *reply, struct prma_waiter *wait)
{
    int status;

    while (atomic_load_explicit(&reply->mp_held, memory_order_acquire) > 0)
        if ((status = prma__wait_turn(wait)) != PRMA_OK)
            return status;
    /* A load first: the exchange (a locked instruction) only when there
     * is a failure to take. */
    if (atomic_load_explicit(&reply->mp_error, memory_order_acquire) == PRMA_OK)
        return PRMA_OK;
    return atomic_exchange(&reply->mp_error, PRMA_OK);
}

int prma__port_stub_putport(struct prma_port *port, struct prma_msg *msg)
{
    prma_error("port kind %s cannot accept message command %u", port->mp_ops->name,
               (unsigned)msg->ms_cmd);
    return PRMA_ERR_NOTSUP;
}

void prma__port_stub_replyport(struct prma_port *port, struct prma_msg *msg)
{
    /* A reply can't be refused: the message would be lost. Keep it queued
     * here so that it stays reachable, and say so. */
    prma_error("port kind %s is not a reply port; reply to command %u parked",
               port->mp_ops->name, (unsigned)msg->ms_cmd);
    reply_replyport(port, msg);
}

void prma__port_nop_progress(struct prma_port *port)
{
}

void prma__port_nop_destroy(struct prma_port *port)
{
}
