/*
 * acc.h - the accumulate family inside the core: applying a reduction to
 * window memory element by element, atomically, whoever does it (an
 * origin through a mapping, this process on its own window, or the
 * target's agent for an origin on another node).
 *
 * One atomicity domain per window: every update of an element goes either
 * through a CPU atomic on the element (UCX atomics being in the CPU's
 * domain, see ucx.c) or under the stripe lock of its page in the target's
 * control block (ctl.h) — and every process decides which from the same
 * published facts, so two updates of one element never take paths that are
 * not atomic with each other. A window whose members are all on one node
 * (no UCX port between them) is a locked domain: every update takes the
 * stripe locks, and a large one runs the vectorized kernels page by page.
 * Elsewhere the locks serve only elements no single atomic can update and
 * memory reached by copies.
 */
#ifndef PRMA_ACC_H
#define PRMA_ACC_H

#include <stdint.h>
#include "msg.h"
#include "win.h"

struct prma_win;
struct prma_context;

/* An ACC message on memory reached directly: the window at memory, its
 * control block at ctl. Completes on the spot. */
int prma__acc_direct(char *memory, char *ctl, struct prma_msg *msg);

/* Must updates of target's window take the stripe locks for every element
 * (a locked domain, or some same-host peer reaches it by copies, which no
 * CPU atomic orders)? */
int prma__acc_locked(const struct prma_win *win, int target);

/* Work out prma__acc_locked() for every target once, at creation (after
 * the ports are made), and whether the window is a locked domain (acc.c):
 * then win->acc_domain is set, and win->direct says where each mapped
 * target lies here. */
int prma__acc_setup(struct prma_win *win);

/* A compare-and-swap of size bytes at offset of a mapped target of a
 * locked domain, under its stripe lock; the old value goes to result. */
struct prma_direct;
int prma__acc_cswap_mapped(const struct prma_direct *map, uint64_t offset, size_t size,
                           const void *origin, const void *compare, void *result);

/* Compare-and-swap of size bytes at addr of a dynamic window's target
 * whose region is mapped here, under its stripe: PRMA_OK, PRMA_EASYNC
 * when the region is not mapped here (nothing done), or the region
 * lookup's error. */
int prma__acc_cswap_dynamic(struct prma_win *win, int target, uint64_t addr, size_t size,
                            const void *origin, const void *compare, void *result);

/*
 * The accumulate family's common case, for a caller that keeps everything
 * else out of line (the MPI shim): count elements of type to a target
 * mapped here (at offset bytes past target_disp), in a locked domain, in an
 * epoch that already lets us in. prma__win_acc_reach says where they lie (counting the operation), or
 * NULL for the full way (prma_win_accumulate); prma__acc_spot then applies
 * op under the stripe locks, the old values to result (may be NULL), and
 * returns PRMA_OK. The caller has checked what prma_win_accumulate checks
 * first: count > 0 and small enough that count * extent does not overflow,
 * prma_op_check(type, op), an origin unless op is PRMA_OP_NO_OP.
 */
static PRMA_HOT_INLINE char *prma__win_acc_reach(struct prma_win *win, prma_type_t type,
                                                 size_t count, int target, uint64_t target_disp,
                                                 uint64_t offset)
{
    char *spot;

    if (!win->acc_domain ||
        (spot = prma__win_reach(win, target, target_disp, offset,
                                count * prma_type_extent(type), 0)) == NULL)
        return NULL;
    win->epoch.nops++;
    return spot;
}

int prma__acc_spot(const struct prma_direct *map, char *spot, prma_type_t type, prma_op_t op,
                   const void *origin, void *result, size_t count);

/* Admit an atomic or accumulate to target in the current epoch: lock_all's
 * first touch, or waiting for a PSCW target's post (where a put would be
 * queued instead). Counts the operation. */
int prma__acc_admit(struct prma_win *win, int target);

/* An update by copies under the target's stripe locks (for a port that
 * cannot apply it atomically): get [offset, offset + len), keep the old
 * bytes in result (may be NULL), combine(cur, origin, len, arg), put it
 * back, complete it at the target. */
typedef void (*prma_combine_fn)(void *cur, const void *origin, size_t len, const void *arg);
int prma__acc_by_copy(struct prma_win *win, int target, uint64_t offset, size_t len,
                      const void *origin, void *result, prma_combine_fn combine, const void *arg);

/* What an origin sends the target's agent (ucx.c), and what comes back. */
struct prma_acc_hdr {
    uint64_t offset;   /* in the target's window */
    uint64_t len;      /* bytes of data (elements × extent) */
    uint64_t req;      /* the origin's request, echoed in the reply */
    uint32_t win_id;   /* the target's window (prma_peer.win_id) */
    uint16_t type;     /* prma_type_t */
    uint8_t  op;       /* prma_op_t */
    uint8_t  fetch;    /* reply with the old values */
};

struct prma_acc_reply {
    uint64_t req;
    int32_t  status;
    uint32_t pad;
};

/* The agent's part: apply an accumulate that arrived for this process's
 * window h->win_id; the old values go to result when h->fetch. Returns a
 * status for the reply. */
int prma__acc_agent(struct prma_context *ctx, const struct prma_acc_hdr *h, const void *data,
                    size_t len, void *result);

/* The same for a window already found (the node agent, agent.c). */
int prma__acc_apply(struct prma_win *win, const struct prma_acc_hdr *h, const void *data,
                    size_t len, void *result);

/* The window registry that agents find windows by (win.c). */
int              prma__win_register(struct prma_win *win);
void             prma__win_unregister(struct prma_win *win);
struct prma_win *prma__win_lookup(struct prma_context *ctx, uint32_t id);

#endif /* PRMA_ACC_H */
