/*
 * port.h - ports: where messages go.
 *
 * Every target is reached through a port; every operation is a message sent
 * to it (msg.h). A port's kind is its ops table, filled with designated
 * initializers by one constructor per kind (prma__port_init_self(),
 * prma__port_init_shm(), ...). A slot a kind cannot serve points at a stub
 * that reports the misuse, never at NULL.
 *
 * Port processing requirements (what every putport must do):
 *  - Complete the message on the spot when it can (a memcpy into a mapped
 *    window), set its status, and return PRMA_OK; prma_sendmsg() then marks
 *    it DONE. Nothing is queued and nothing is allocated.
 *  - Otherwise start it and return PRMA_EASYNC, and reply with
 *    prma_replymsg() when it completes (for a TRANSIENT message: count it on
 *    the reply port with prma_port_hold() and release with prma_port_unhold()).
 *  - Queue a message only when the target cannot take it yet; the queue is
 *    the target port's, manipulated only by its agent.
 *  - Return a negative status and touch no memory for a message it refuses;
 *    the message is then DONE with that status.
 *  - Never block waiting for another process inside putport.
 *
 * Reply ports receive finished messages. A reply to a SYNC message sets DONE
 * and is not queued: the sender is spinning on it. Others are queued on the
 * reply port's mp_msgq for the sender to collect with prma_port_getreply().
 *
 * NOTE: threading. mp_lock guards mp_msgq and nothing else; a thread never
 * waits (for a message, a peer, a barrier) while holding it. mp_held is
 * atomic and may be changed without the lock.
 */
#ifndef PRMA_PORT_H
#define PRMA_PORT_H

#include <pthread.h>
#include <stdatomic.h>
#include "msg.h"

struct prma_port;

struct prma_port_ops {
    const char *name;
    unsigned    flags;  /* PRMA_PORTF_* */
    /* Accept a message: complete it (PRMA_OK), start it (PRMA_EASYNC), or
     * refuse it (negative). */
    int  (*putport)(struct prma_port *port, struct prma_msg *msg);
    /* Make progress on the port's outstanding messages; return without
     * blocking. Called from every wait loop. */
    void (*progress)(struct prma_port *port);
    /* Take back a finished message (reply ports). */
    void (*replyport)(struct prma_port *port, struct prma_msg *msg);
    /* Release the port's resources (not the port structure itself when it
     * is embedded). */
    void (*destroy)(struct prma_port *port);
};

/* The kind completes every message on the spot (self, shm): nothing of its
 * is ever in flight, so a flush to it is a memory fence. */
#define PRMA_PORTF_SPOT 0x1u

struct prma_port {
    const struct prma_port_ops *mp_ops;
    struct prma_msgq            mp_msgq;   /* queued messages, see above */
    pthread_mutex_t             mp_lock;   /* guards mp_msgq */
    _Atomic long                mp_held;   /* transient operations in flight */
    _Atomic int                 mp_error;  /* reply ports: first failure of a transient
                                              operation, reported by prma_port_drain() */
    int                         mp_rank;   /* target rank, -1 for reply ports */
    char                       *mp_direct; /* the target's window mapped here (self,
                                              mapped shm, and ucx ports to a same-host
                                              window UCX allocated), else NULL: puts and
                                              gets may be plain copies (win.c) */
    char                       *mp_ctl;    /* the target's control block mapped here, or
                                              NULL: its atomics may be CPU atomics */
};

/* Initialize the common part of a port of any kind. */
void prma__port_init(struct prma_port *port, const struct prma_port_ops *ops, int rank);

/* Initialize a reply port: it collects finished messages for a sender. */
void prma__port_init_reply(struct prma_port *port);

/* Release a port through its kind's destroy slot. */
void prma__port_destroy(struct prma_port *port);

/*
 * Send msg to port. Returns PRMA_OK when the message completed synchronously
 * (DONE is set), PRMA_EASYNC when it is in flight, or a negative status when
 * the port refused it (DONE is set, nothing was touched).
 * NOTE: msg->ms_reply must be set when the message is not SYNC.
 */
int prma_sendmsg(struct prma_port *port, struct prma_msg *msg);

/* Send msg and wait for its reply; returns the message's final status. */
int prma_domsg(struct prma_port *port, struct prma_msg *msg);

/* Wait until msg is DONE, driving its target port's progress and yielding
 * the CPU between polls; returns the message's final status. */
int prma_waitmsg(struct prma_msg *msg);

/* Called by the owner of a message (a port's agent) to hand it back with
 * its final status; see "Reply ports" above. */
void prma_replymsg(struct prma_msg *msg, int status);

/* Take the oldest queued reply off a reply port, or NULL. */
struct prma_msg *prma_port_getreply(struct prma_port *port);

/* Count / uncount a transient operation in flight for a reply port. */
void prma_port_hold(struct prma_port *reply);
void prma_port_unhold(struct prma_port *reply);

/* Record the failure of a transient operation on its reply port (the first
 * one is kept). */
void prma_port_fail(struct prma_port *reply, int status);

/* Wait until a reply port has no transient operation in flight, taking
 * turns with wait (wait.h; may be NULL). Returns the first failure recorded
 * since the last drain, or PRMA_OK; or the waiter's failure, which ends the
 * wait with operations still in flight. */
struct prma_waiter;
int prma_port_drain(struct prma_port *reply, struct prma_waiter *wait);

/* Stubs for slots a kind cannot serve: they log the misuse. */
int  prma__port_stub_putport(struct prma_port *port, struct prma_msg *msg);
void prma__port_stub_replyport(struct prma_port *port, struct prma_msg *msg);
void prma__port_nop_progress(struct prma_port *port);
void prma__port_nop_destroy(struct prma_port *port);

/* Port constructors, one per kind (src/transport/). */
struct prma_win;
int prma__port_init_self(struct prma_win *win, struct prma_port **port_p);
int prma__port_init_shm(struct prma_win *win, int rank, struct prma_port **port_p);
int prma__port_init_none(struct prma_win *win, int rank, struct prma_port **port_p);
int prma__port_init_ucx(struct prma_win *win, int rank, struct prma_port **port_p);

/* Is port a shm port (mapped or cma): does its target share this host's
 * memory? */
int prma__port_is_shm(const struct prma_port *port);

#endif /* PRMA_PORT_H */
