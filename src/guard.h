/*
 * guard.h - guarded exposure (PORTRMA_GUARD=strict|race, info key
 * portrma_guard): the owner's user view of a window is protected while
 * origins may reach it, so that a local load or store that collides with
 * RMA is caught at the instruction and raised as PRMA_ERR_RMA_CONFLICT at
 * the window's next synchronization call.
 *
 * A window with the guard on has win->guard set; every hook below is
 * called only then (the one branch the fast paths pay with the guard off).
 *
 * The guard area: race mode needs the origins' RMA accesses at the target.
 * Each member's control block memfd is made larger by the guard area
 * (prma__guard_area_size()), right after the control block, so that every
 * port reaches it with the atomic messages that locks use: origins keep
 * their accesses to each target in a list of their own and hand them to
 * the target's ring at the end of their access epoch (fence, complete,
 * unlock), one record per coalesced range.
 */
#ifndef PRMA_GUARD_H
#define PRMA_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct prma_win;

/* Guard modes (prma__config.guard and a window's own). */
enum prma_guard_mode {
    PRMA_GUARD_MODE_OFF    = 0,
    PRMA_GUARD_MODE_STRICT = 1,
    PRMA_GUARD_MODE_RACE   = 2,
};

/* What an RMA access did at its target (the record's op). */
enum prma_guard_op {
    PRMA_GUARD_OP_GET = 1,  /* read the target */
    PRMA_GUARD_OP_PUT = 2,  /* wrote it */
    PRMA_GUARD_OP_ACC = 3,  /* accumulate family: read and wrote it */
};

/* The mode a window gets: the creator's choice (PRMA_GUARD_* of
 * portrma.h, 0 = the setting), forced off for flavors that are never
 * guarded (shared and dynamic windows). */
int prma__guard_mode(int requested, int flavor);

/* Install portrma's SIGSEGV handler (kept from then on; remap.c's moves
 * need it too), or take SIGSEGV back from a handler installed since. */
void prma__segv_install(void);

/* Bytes the guard area adds to a control block of nranks members (0 when
 * mode is off), and its offset in the block. */
size_t prma__guard_area_size(int mode, int nranks);
uint64_t prma__guard_area_off(int nranks);

/* Give a window in creation its guard state (win->guard), before its
 * control block is made: mode decides the block's size. Nothing for off. */
int prma__guard_create(struct prma_win *win, int mode);

/* Bytes of the window's control block: the guard area and the node
 * agent's area (agent.h) included. */
size_t prma__win_ctl_size(const struct prma_win *win);

/* Set the guard up on a window that setup built (ports connected, control
 * block mapped): protect the user view when it is portrma memory, install
 * the signal handlers on first use. A window whose memory cannot be
 * protected is still an origin that reports its accesses. */
int prma__guard_setup(struct prma_win *win);

/* Free what setup made: unprotect, forget the range. */
void prma__guard_destroy(struct prma_win *win);

/* An RMA access of this origin: [off, off + len) of target's window (race
 * mode keeps it for the end of the epoch). *buf_p, the origin buffer (may
 * be NULL), is moved to the agent view when it lies in a guarded window
 * here, and counted as this process's own access of that window. */
void prma__guard_note(struct prma_win *win, int target, uint64_t off, size_t len, int op,
                      void **buf_p);

/* Origin side, at the end of an access epoch: hand the accesses to the
 * targets. target < 0: every target (fence, free), else that one. kind is
 * PRMA_GUARD_EPOCH_*. Returns a status. */
enum {
    PRMA_GUARD_EPOCH_FENCE   = 1,
    PRMA_GUARD_EPOCH_PSCW    = 2,
    PRMA_GUARD_EPOCH_PASSIVE = 3,  /* unlock: the passive epoch to target ends */
    PRMA_GUARD_EPOCH_FLUSH   = 4,  /* flush: what was done so far is complete */
};
int prma__guard_deliver(struct prma_win *win, int target, int kind);

/* A passive-target access epoch of this origin to target opens (lock,
 * lock_all's first touch). */
int prma__guard_passive_open(struct prma_win *win, int target);

/* This process posts an exposure epoch (before the origins hear of it). */
int prma__guard_post(struct prma_win *win, unsigned mode);

/* Events that close or open an exposure at the end of a synchronization
 * call; prma__guard_leave() takes one. */
enum {
    PRMA_GUARD_EV_NONE  = 0,  /* nothing but a synchronization point */
    PRMA_GUARD_EV_FENCE = 1,  /* a fence completed (mode: its asserts) */
};

/* The end of every synchronization call on the window: take the
 * origins' records in, match them with this process's own accesses (race),
 * set the protection for the epoch now open, and report the conflicts
 * found since the last call. Returns status, or PRMA_ERR_RMA_CONFLICT when
 * status is PRMA_OK and there was a conflict. */
int prma__guard_leave(struct prma_win *win, int event, unsigned mode, int status);

/* The end of a synchronization call that opens or closes nothing the
 * guard must know of (win.h needed). */
#define PRMA_GUARD_SYNC(win, status)                                                  \
    ((win)->guard != NULL ? prma__guard_leave((win), PRMA_GUARD_EV_NONE, 0, (status)) \
                          : (status))

/* x86-64: what a faulting instruction does to its memory operand, decoded
 * from its bytes (guard.c says how far the decoding goes). */
struct prma_insn {
    unsigned size;    /* bytes of its memory operand (a guess for the rare forms) */
    unsigned ilen;    /* bytes of the instruction (string instructions only) */
    int      rmw;     /* reads and writes its memory operand */
    int      rep;     /* 0xf3 prefix */
    int      string;  /* 's' stos, 'm' movs, 'o' another string instruction, 0 */
    int      addr32;  /* 0x67 prefix */
};
void prma__guard_insn_decode(const uint8_t *p, struct prma_insn *in);

#endif /* PRMA_GUARD_H */
