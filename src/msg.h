/*
 * msg.h - the message: one RMA operation on its way to a target's port.
 *
 * Ownership.  A message may only be manipulated by whoever currently owns it.
 * The sender owns it until prma_sendmsg(); from then on the target port (and
 * its agent) owns it until it replies; the reply hands it back, to the sender
 * directly when the sender waits synchronously (PRMA_MSGF_SYNC), or through
 * the reply port's queue otherwise. The sender may read ms_status once
 * PRMA_MSGF_DONE is set, and reuse the storage once DONE is set and, for a
 * reply that went through a reply port, it has been taken off there
 * (prma_port_getreply() or prma_waitmsg()).
 *
 * Storage.  The caller embeds the message (on its stack, or inside a request
 * object of its own, whose first member it is): the fast path allocates
 * nothing. A message marked PRMA_MSGF_TRANSIENT lives only for the duration
 * of the send call: a port that cannot complete it on the spot keeps what it
 * needs in storage of its own and counts the operation on the reply port
 * (prma_port_drain() waits for it), instead of holding on to the message.
 */
#ifndef PRMA_MSG_H
#define PRMA_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct prma_port;

/*
 * Message flags (ms_flags):
 *
 * PRMA_MSGF_DONE       The message has been replied to: its owner is the
 *                      sender again and ms_status is final. Set last, with
 *                      release ordering, by prma_replymsg().
 * PRMA_MSGF_SYNC       The sender is waiting for this message itself
 *                      (prma_domsg()/prma_waitmsg()). Its reply sets DONE
 *                      and is never queued on the reply port.
 * PRMA_MSGF_ASYNC      The target port accepted the message for asynchronous
 *                      completion (it returned PRMA_EASYNC).
 * PRMA_MSGF_QUEUED     The message sits on a port's queue: the target's (the
 *                      target cannot take it yet) or the reply port's.
 * PRMA_MSGF_TRANSIENT  The storage dies when the send call returns: see
 *                      "Storage" above.
 * PRMA_MSGF_REPLIED    Set on a reply queued on a reply port; cleared when
 *                      the sender takes it off with prma_port_getreply().
 */
#define PRMA_MSGF_DONE      0x0001u
#define PRMA_MSGF_SYNC      0x0002u
#define PRMA_MSGF_ASYNC     0x0004u
#define PRMA_MSGF_QUEUED    0x0008u
#define PRMA_MSGF_TRANSIENT 0x0010u
#define PRMA_MSGF_REPLIED   0x0020u

/* Commands (ms_cmd). */
enum prma_msg_cmd {
    PRMA_CMD_NOP = 0,  /* completes at once; for tests and wake-ups */
    PRMA_CMD_PUT,      /* write ms_len bytes from ms_buf at ms_offset */
    PRMA_CMD_GET,      /* read ms_len bytes at ms_offset into ms_buf */
    PRMA_CMD_ATOMIC,   /* ms_aop on the ms_len-byte integer at ms_offset of
                          ms_region; the old value lands in ms_fetched */
    PRMA_CMD_FLUSH,    /* complete every earlier operation to this target at
                          the target (remote completion) */
    PRMA_CMD_ACC,      /* reduce ms_len bytes of ms_type elements from ms_buf
                          into the window at ms_offset with ms_aop (a
                          prma_op_t), each element atomically; the old
                          values first go to ms_result when it is not NULL */
};

/* An ACC's ms_aop for a compare-and-swap of one integer of ms_len bytes:
 * ms_buf holds the new value, then the value to compare with. */
#define PRMA_ACC_CSWAP 0xffu

/* Accumulate flags (ms_accflags). */
#define PRMA_ACCF_LOCKED 0x1u  /* apply under the target's stripe locks (its
                                  memory is also reached by copies, process_vm_*,
                                  or the window is a locked domain, acc.c) */
#define PRMA_ACCF_HELD   0x2u  /* PUT, GET: a copy of an update by copies, whose
                                  sender holds the target's stripe locks: a
                                  straight copy, never handed to the target's
                                  agent (agent.c), which may need those stripes */

/* Which memory of the target a message addresses (ms_region). */
enum prma_region {
    PRMA_REGION_DATA = 0,  /* the window */
    PRMA_REGION_CTL  = 1,  /* the window's control block (lock word, PSCW counters) */
};

/* Atomic operations (ms_aop): each returns the old value. */
enum prma_aop {
    PRMA_AOP_ADD = 0,  /* += ms_operand */
    PRMA_AOP_SWAP,     /* = ms_operand */
    PRMA_AOP_CSWAP,    /* = ms_operand if it equals ms_compare */
    PRMA_AOP_AND,      /* &= ms_operand */
    PRMA_AOP_OR,       /* |= ms_operand */
    PRMA_AOP_XOR,      /* ^= ms_operand */
};

struct prma_msg {
    TAILQ_ENTRY(prma_msg) ms_link;      /* on a port queue (QUEUED) */
    struct prma_port     *ms_target;    /* the port it was sent to */
    struct prma_port     *ms_reply;     /* where a non-sync reply goes */
    _Atomic uint32_t      ms_flags;     /* PRMA_MSGF_* */
    uint32_t              ms_cmd;       /* enum prma_msg_cmd */
    int                   ms_status;    /* final status once DONE */
    void                 *ms_buf;       /* origin buffer */
    size_t                ms_len;       /* bytes */
    uint64_t              ms_offset;    /* byte offset in the target's region */
    uint32_t              ms_region;    /* enum prma_region */
    uint32_t              ms_aop;       /* ATOMIC: enum prma_aop */
    uint64_t              ms_operand;   /* ATOMIC: the value */
    uint64_t              ms_compare;   /* ATOMIC, CSWAP: the expected value */
    uint64_t              ms_fetched;   /* ATOMIC: the old value, once DONE */
    uint32_t              ms_type;      /* ACC: prma_type_t */
    uint32_t              ms_accflags;  /* ACC (PUT, GET: HELD): PRMA_ACCF_* */
    void                 *ms_result;    /* ACC: where the old values go, or NULL */
    void                 *ms_rkey;      /* PUT, GET, ATOMIC on data: the UCX key (ucp_rkey_h)
                                           of the target region that holds ms_offset
                                           (dynamic windows, dynamic.c); NULL: the
                                           window's own */
};

TAILQ_HEAD(prma_msgq, prma_msg);

/* Prepare a message before its first send (flags are the caller's choice). */
static inline void prma_msg_init(struct prma_msg *msg, uint32_t cmd, uint32_t flags)
{
    msg->ms_target = NULL;
    msg->ms_reply  = NULL;
    atomic_store_explicit(&msg->ms_flags, flags, memory_order_relaxed);
    msg->ms_cmd    = cmd;
    msg->ms_status = 0;
    msg->ms_buf    = NULL;
    msg->ms_len    = 0;
    msg->ms_offset = 0;
    msg->ms_region = PRMA_REGION_DATA;
    msg->ms_aop    = PRMA_AOP_ADD;
    msg->ms_operand = 0;
    msg->ms_compare = 0;
    msg->ms_fetched = 0;
    msg->ms_type    = 0;
    msg->ms_accflags = 0;
    msg->ms_result  = NULL;
    msg->ms_rkey    = NULL;
}

static inline uint32_t prma_msg_flags(const struct prma_msg *msg)
{
    return atomic_load_explicit(&msg->ms_flags, memory_order_acquire);
}

static inline int prma_msg_done(const struct prma_msg *msg)
{
    return (prma_msg_flags(msg) & PRMA_MSGF_DONE) != 0;
}

#endif /* PRMA_MSG_H */
