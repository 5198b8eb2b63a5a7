/*
 * ctl.h - a window's control block: the words that synchronization needs
 * on each member, next to (not inside) its window memory.
 *
 * Every member makes one at window creation (an unnamed memfd, like window
 * memory): same-host peers map it, UCX peers reach it through its own
 * registration and key. Origins change it with the same atomic messages
 * whatever their port (CPU atomics through a mapping, UCX atomics).
 */
#ifndef PRMA_CTL_H
#define PRMA_CTL_H

#include <stddef.h>
#include <stdint.h>
#include "barrier.h"

/*
 * The passive-target lock word:
 *   bits  0..31  shared holders
 *   bits 32..47  exclusive requests waiting (new shared requests yield to
 *                them, so a stream of readers cannot starve a writer)
 *   bit  63      held exclusively
 * Exclusive requests also take a ticket (wticket/wserving below) and go in
 * the order of their tickets, so a writer that lets go and asks again
 * cannot overtake the writers already waiting.
 */
#define PRMA_LW_SHARED_ONE   UINT64_C(1)
#define PRMA_LW_SHARED_MASK  UINT64_C(0x00000000ffffffff)
#define PRMA_LW_WAITING_ONE  (UINT64_C(1) << 32)
#define PRMA_LW_WAITING_MASK UINT64_C(0x0000ffff00000000)
#define PRMA_LW_EXCLUSIVE      (UINT64_C(1) << 63)

/*
 * Accumulate stripe locks: an element that no CPU or UCX atomic can update
 * in one step (more than 8 bytes, misaligned, or memory reached by copies),
 * and every element of a window that is a locked domain (acc.c), is updated
 * under the lock of its stripe, the 4 KiB page of its window offset modulo
 * PRMA_ACC_STRIPES. Updates of different pages rarely share a lock; whoever
 * holds more than one took them in increasing order.
 */
#define PRMA_ACC_STRIPES     64
#define PRMA_ACC_STRIPE_SHIFT 12
#define PRMA_ACC_STRIPE(offset) \
    ((unsigned)(((offset) >> PRMA_ACC_STRIPE_SHIFT) % PRMA_ACC_STRIPES))

/*
 * PSCW, one line per member rank r of the window, written by r alone (a
 * same-node r with plain stores of its counts, a UCX peer with atomic
 * adds), so that what r tells us in an epoch crosses in one line:
 *   posts      the posts r made to us (r the target, we the origin);
 *   completes  the completions r sent us (r the origin, we the target);
 *   applied    the last of our completions whose staged puts r applied
 *              (we left them in r's block; r the target);
 *   staged     r's completion that the records of r's stage here belong to;
 *   nbytes     the bytes of those records; head their first bytes, the
 *              rest in r's stage (below).
 * All counted since the window began.
 */
#define PRMA_STAGE_HEAD 24
struct prma_ctl_rank {
    uint64_t      posts;
    uint64_t      completes;
    uint64_t      applied;
    uint64_t      staged;
    uint64_t      nbytes;
    unsigned char head[PRMA_STAGE_HEAD];
};
_Static_assert(sizeof(struct prma_ctl_rank) == 64, "one line per rank");

/* PSCW: the puts of an access epoch whose target had not posted yet when
 * it completed, left by the origin (one stage per origin rank) for the
 * target to apply in its wait. Records: offset (8 bytes), length (8), the
 * bytes (rounded up to 8), from the head of the origin's line on. */
#define PRMA_STAGE_RANKS 64
#define PRMA_STAGE_BYTES 448
#define PRMA_STAGE_SPACE (PRMA_STAGE_HEAD + PRMA_STAGE_BYTES)
struct prma_stage {
    unsigned char data[PRMA_STAGE_BYTES];
};

struct prma_ctl {
    uint64_t                lock;       /* the lock word, above */
    uint64_t                wticket;    /* exclusive requests: next ticket ... */
    uint64_t                wserving;   /* ... and the one whose turn it is (FIFO) */
    uint64_t                pad[4];
    struct prma_shm_barrier barrier;    /* rank 0's serves the whole group */
    uint64_t                stripes[PRMA_ACC_STRIPES];  /* accumulate stripe locks */
    struct prma_ctl_rank    ranks[] __attribute__((aligned(64)));  /* PSCW, by member rank;
                                                                   then the stages */
};

/*
 * The agent area (agent.c), after everything else in the block, on a line
 * of its own: the requests that same-node origins hand this member while it
 * polls, for a window they reach by copies (shm-cma). Only windows of at
 * most PRMA_AGENT_SLOTS members whose memory some peer may reach so have
 * one (prma__agent_area_size()); every member works that out alike.
 *
 *   lease    0: this member does not poll; else the CLOCK_MONOTONIC time
 *            (ns) until which it promises to look at its slots, renewed
 *            while it polls, dropped to 0 when a blocking wait ends.
 *   pending  one bit per origin rank: a request was posted in its slot.
 *   bulk     the chunks of one larger put or get at a time (below).
 *   slot[r]  origin rank r's request, then the answer (state below).
 *
 * A slot's state goes FREE -> FILL (the origin, by compare-and-swap: one
 * thread of it at a time) -> POSTED (the origin, release) -> TAKEN (the
 * target, by compare-and-swap) -> DONE (the target, release, answer
 * written) -> FREE (the origin, once it read the answer). An origin whose
 * request is not taken while the lease lapses withdraws it by
 * compare-and-swap POSTED -> FREE: whichever of the two swaps wins decides
 * whether the target or the origin does the operation, never both.
 */
#define PRMA_AGENT_SLOTS  64   /* members at most (one bit of pending each) */
#define PRMA_AGENT_INLINE 256  /* data bytes of a request at most */

/*
 * Larger puts and gets go through the bulk chunks, which one origin at a
 * time owns (owner: 0, or its rank + 1, taken by compare-and-swap; an
 * origin that finds them owned takes the system calls). It cuts the
 * transfer in pieces of PRMA_AGENT_CHUNK bytes and hands them out in turn
 * through the chunks, each a request of its own with a slot's states and
 * withdrawal: while the target copies one piece between its window and a
 * chunk, the origin fills (put) or empties (get) another. A chunk whose
 * piece is not taken while the lease lapses is withdrawn by its origin,
 * which copies that piece (and every piece not yet handed out) by system
 * calls. The origin lets go of the chunks once every piece is answered or
 * withdrawn, so they are all FREE whenever nobody owns them.
 */
#define PRMA_AGENT_CHUNK  (4u << 10)   /* bytes of a piece */
#define PRMA_AGENT_CHUNKS 2            /* pieces in flight at most */

enum prma_slot_state {
    PRMA_SLOT_FREE   = 0,
    PRMA_SLOT_FILL   = 1,
    PRMA_SLOT_POSTED = 2,
    PRMA_SLOT_TAKEN  = 3,
    PRMA_SLOT_DONE   = 4,
};

struct prma_agent_slot {
    _Atomic uint32_t state;   /* enum prma_slot_state */
    uint8_t          cmd;     /* PRMA_CMD_PUT, _GET or _ACC */
    uint8_t          op;      /* ACC: prma_op_t, or PRMA_ACC_CSWAP */
    uint8_t          fetch;   /* ACC: answer with the old values */
    uint8_t          pad0;
    uint64_t         offset;  /* in the target's window */
    uint32_t         len;     /* bytes of the window addressed */
    uint16_t         type;    /* ACC: prma_type_t */
    uint16_t         pad1;
    int32_t          status;  /* DONE: the outcome */
    uint32_t         pad2;
    /* PUT: the bytes; ACC: the origin's elements (CSWAP: new value, then
     * compare value); GET and fetching ACC: the answer. A small request
     * shares its first line with the header. */
    unsigned char    data[PRMA_AGENT_INLINE + 32];
};

/* A chunk's header, on a line of its own; its bytes are in the bulk's data. */
struct prma_agent_chunk {
    _Atomic uint32_t state;   /* enum prma_slot_state */
    uint8_t          cmd;     /* PRMA_CMD_PUT or _GET */
    uint8_t          pad0[3];
    uint64_t         offset;  /* in the target's window (dynamic: the address) */
    uint32_t         len;     /* PRMA_AGENT_CHUNK at most */
    int32_t          status;  /* DONE: the outcome */
    char             pad1[40];
};

struct prma_agent_bulk {
    _Atomic uint64_t        owner;  /* 0, or the owning origin's rank + 1 */
    char                    pad0[56];
    struct prma_agent_chunk chunk[PRMA_AGENT_CHUNKS];
    unsigned char           data[PRMA_AGENT_CHUNKS][PRMA_AGENT_CHUNK];
};

struct prma_agent_area {
    _Atomic uint64_t       lease;
    char                   pad0[56];
    _Atomic uint64_t       pending;
    char                   pad1[56];
    struct prma_agent_bulk bulk;
    struct prma_agent_slot slot[];  /* [members] */
};

#define PRMA_CTL_OFF(field) ((uint64_t)offsetof(struct prma_ctl, field))
#define PRMA_CTL_STRIPE_OFF(i) \
    ((uint64_t)offsetof(struct prma_ctl, stripes) + (uint64_t)(i) * sizeof(uint64_t))
#define PRMA_CTL_RANK_OFF(rank, field)                                   \
    ((uint64_t)offsetof(struct prma_ctl, ranks) +                       \
     (uint64_t)(rank) * sizeof(struct prma_ctl_rank) + offsetof(struct prma_ctl_rank, field))
#define PRMA_CTL_POST_OFF(rank)    PRMA_CTL_RANK_OFF(rank, posts)
#define PRMA_CTL_DONE_OFF(rank)    PRMA_CTL_RANK_OFF(rank, completes)
#define PRMA_CTL_APPLIED_OFF(rank) PRMA_CTL_RANK_OFF(rank, applied)

/* Groups of up to PRMA_STAGE_RANKS members have stages (pscw.c). */
static inline size_t prma_ctl_stage_off(int nranks)
{
    return (sizeof(struct prma_ctl) + (size_t)nranks * sizeof(struct prma_ctl_rank) + 63) &
           ~(size_t)63;
}

static inline struct prma_stage *prma_ctl_stage(void *ctl, int nranks, int rank)
{
    return (struct prma_stage *)((char *)ctl + prma_ctl_stage_off(nranks)) + rank;
}

static inline size_t prma_ctl_size(int nranks)
{
    return prma_ctl_stage_off(nranks) +
           (nranks <= PRMA_STAGE_RANKS ? (size_t)nranks * sizeof(struct prma_stage) : 0);
}

#endif /* PRMA_CTL_H */
