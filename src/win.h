/*
 * win.h - a window: local memory, what every peer told us at creation, one
 * port per target, the completion (reply) port and the epoch.
 */
#ifndef PRMA_WIN_H
#define PRMA_WIN_H

#include <stdint.h>
#include <string.h>
#include "barrier.h"
#include "ctl.h"
#include "epoch.h"
#include "port.h"
#include "portrma.h"

/* For the few helpers of the put and get fast paths that must disappear
 * into their callers (also the MPI shim's, across the link-time optimizer,
 * which otherwise keeps them out of line). */
#define PRMA_HOT_INLINE inline __attribute__((always_inline))

#define PRMA_WIN_MAGIC 0x70524d41u /* "pRMA" */

/* What each rank publishes about its part of a window (exchanged once, by
 * allgather, at creation). Fixed-size fields: it crosses processes. */
struct prma_peer {
    uint64_t node_id;       /* as ports see it (pretend nodes split it) */
    uint64_t host_id;       /* the real node: who can share memory */
    uint64_t base;          /* user view address in its owner */
    uint64_t size;          /* bytes */
    uint64_t disp_unit;
    uint64_t memfd_offset;  /* where base lies in the memfd */
    int32_t  pid;
    int32_t  memfd;         /* descriptor in the owner, -1 for user memory */
    int32_t  ctl_fd;        /* the control block's memfd */
    int32_t  job_rank;      /* rank in the job (UCX endpoints are per job rank) */
    uint64_t agent_base;    /* where remote access lands (UCX-registered) */
    uint32_t rkey_len;      /* packed UCX key, 0 when not registered */
    uint32_t flags;         /* PRMA_PEER_* */
    uint64_t ctl_base;      /* the control block (agent view), for UCX */
    uint32_t ctl_rkey_len;  /* its packed UCX key (after the window's in the slot) */
    uint32_t win_id;        /* the window in its owner's registry (agents find it so) */
    uint64_t seg;           /* memfd's segment id (mem.h), 0: none */
    uint64_t ctl_seg;       /* the control block's */
};

#define PRMA_PEER_FORCE_UCX 0x1u  /* PORTRMA_TRANSPORT=ucx there */
#define PRMA_PEER_VALID     0x2u  /* set by its sender: a slot without it never arrived */
#define PRMA_PEER_UCX_MEM   0x4u  /* its window memory is UCX's allocation (forced
                                     owners, MPI_Win_allocate): reached through UCX
                                     alone, by ucp_rkey_ptr where UCX maps it */

struct prma_mem;
struct prma_dyn;

struct prma_win {
    uint32_t             magic;
    struct prma_context *ctx;
    prma_coll_t          coll;
    int                  rank;
    int                  size;
    prma_win_flavor_t    flavor;
    void                *base;        /* user view of local memory */
    void                *agent_base;  /* where portrma touches local memory */
    size_t               len;
    size_t               disp_unit;
    struct prma_mem     *mem;         /* owned memory (allocate flavor) or NULL */
    struct prma_mem     *moved;       /* the program's pages moved into a memfd for
                                         this window (remap.c), or NULL */
    struct prma_peer    *peers;       /* [size] */
    struct prma_port   **ports;       /* [size] */
    struct prma_port     reply;       /* completion port of transient operations */
    struct prma_epoch    epoch;
    /* Our control block (ctl.h), and the group's own barrier (in rank 0's
     * control block) when every member is on this node. */
    struct prma_mem         *ctl_mem;
    struct prma_ctl         *ctl;         /* agent view of ctl_mem */
    void                    *ctl_memh;    /* its UCX registration, or NULL */
    void                    *ctl_rkey;    /* its packed key */
    struct prma_shm_barrier *barrier;     /* NULL: use coll.barrier */
    uint64_t                 bar_round;   /* flag barrier rounds passed here */
    int                     *pids;        /* members on this host (-1 elsewhere), watched
                                             while waiting */
    void                    *ctl_map;     /* others: their mapping of rank 0's block */
    size_t                   ctl_maplen;
    /* UCX: our registration, and every member's packed key. */
    void                    *memh;        /* ucp_mem_h of local memory, or NULL; the
                                             memory itself when UCX allocated it
                                             (PRMA_PEER_UCX_MEM): freed with it */
    void                    *rkey;        /* our packed key */
    char                    *rkeys;       /* [size * rkey_slot] */
    size_t                   rkey_slot;
    int                      nucx;        /* targets served by ucx ports */
    int                      failed;      /* a member is gone: every call fails so */
    int                      contiguous;  /* shared flavor: one segment for the group */
    uint32_t                 id;          /* in the context's registry, 0: not there */
    unsigned                 acc_hints;   /* PRMA_ACC_* (accumulate_ordering / _ops) */
    unsigned char           *acc_locked;  /* [size] prma__acc_locked(), worked out once */
    int                      acc_domain;  /* a locked domain (acc.c): accumulates to a
                                             target in direct[] run here, under stripes */
    struct prma_qmap        *qmaps;       /* [size] shared_query's own mappings, made
                                             on first query of a target no shm port maps */
    struct prma_dyn         *dyn;         /* dynamic flavor: the region tables (dynamic.c),
                                             else NULL */
    struct prma_guard       *guard;       /* the exposure guard (guard.c), NULL: off */
    struct prma_direct      *direct;      /* [size]: targets reached by plain copies and
                                             CPU atomics */
};

/* A target whose window is mapped here (its port's mp_direct): a put or a
 * get in an epoch that already lets us in is a copy, no message. */
struct prma_direct {
    char    *base;       /* NULL: not mapped, take the message path */
    char    *ctl;        /* its control block mapped here (atomics on it are CPU
                            atomics), or NULL */
    uint64_t size;
    uint64_t disp_unit;
};

struct prma_qmap {
    void  *base;
    void  *map;
    size_t maplen;
};

/* The collective part of creation, shared by every flavor: publish our
 * part, build one port per target, agree on the outcome. status is the
 * caller's outcome so far (a failed rank still takes part); owned memory
 * is taken over. A shared flavor may carry PRMA__FLAVOR_CONTIGUOUS: every
 * member's part then lies in one memfd that owned maps whole. */
#define PRMA__FLAVOR_CONTIGUOUS 0x100  /* or'ed into a shared flavor: one segment */
int prma__win_setup(struct prma_context *ctx, const prma_coll_t *coll, void *base, size_t size,
                    size_t disp_unit, prma_win_flavor_t flavor, struct prma_mem *owned,
                    int status, prma_win_h *win_p);

/* Complete every operation this process started on the window, at its
 * target (local completion, then remote: a UCX flush). Returns the first
 * failure of any of them. */
int prma__win_complete(struct prma_win *win);

/* The same for one target: local completion of everything, then a flush
 * message to that target's port. */
int prma__win_complete_target(struct prma_win *win, int target);

/* prma_win_check_access, but a dynamic window's range is left to the
 * lookup of its region that follows (only the address's overflow is
 * checked here). */
int prma__win_check_unranged(struct prma_win *win, int target, uint64_t target_disp,
                             uint64_t offset, size_t len);

/* One atomic of size bytes on target's region at offset, waited for; the
 * old value goes to *old_p. */
int prma__win_atomic(struct prma_win *win, int target, uint32_t region, uint64_t offset,
                     unsigned size, uint32_t aop, uint64_t operand, uint64_t compare,
                     uint64_t *old_p);

/* How this window waits (wait.h): drive UCX, watch the members on this host. */
struct prma_waiter;
void prma__win_waiter(struct prma_win *win, struct prma_waiter *w);

/* Send one operation's message to target now, or queue it on the target's
 * port when a PSCW target has not posted yet (pscw.c dispatches it later).
 * The message is transient. */
int prma__win_issue(struct prma_win *win, int target, struct prma_msg *msg);

/* lock.c: take and give back target's lock word. An exclusive lock taken
 * in one step from a free word (*fast_p set) holds no writer ticket and is
 * given back so (fast). */
int prma__lock_take(struct prma_win *win, int target, int exclusive, int *fast_p);
int prma__lock_give(struct prma_win *win, int target, int exclusive, int fast);

/* lock_all: lock target on its first access (a shared lock). */
int prma__lock_touch(struct prma_win *win, int target);

/* pscw.c: has target's post for this epoch arrived? Sends what was queued
 * for it once it has. */
int prma__pscw_ready(struct prma_win *win, int target);

/* The same, waiting (taking turns) until the post has arrived. */
int prma__pscw_wait_ready(struct prma_win *win, int target);

/* A put of a PSCW epoch written at once into target's stage in its
 * control block, for target to apply in the wait that matches this epoch's
 * completion: PRMA_OK when it went so, PRMA_EASYNC when it cannot (another
 * way then), or an error of the put's arguments. */
int prma__pscw_stage_put(struct prma_win *win, int target, uint64_t target_disp,
                         uint64_t offset, const void *buf, size_t len);

/* May the program's own pages under this window (MPI_Win_create, or a
 * dynamic window's regions) move into a memfd (remap.c)? */
int prma__win_remaps(const struct prma_win *win);

/* The memfd that holds [base, base + size) of this process, size > 0:
 * memory portrma allocated (MPI_Alloc_mem), or the program's own pages
 * moved into one now (*moved_p, the caller's to give back with
 * prma__mem_unremap) when may_move and prma__win_remaps allow; NULL if
 * none. */
struct prma_mem *prma__win_memfd(struct prma_win *win, void *base, size_t size, int may_move,
                                 struct prma_mem **moved_p);

/* Barrier over the window's group: the shared one when the whole group is
 * on this node, the bootstrap's otherwise. Returns a status. */
int prma__win_barrier(struct prma_win *win);

/* Does [disp * unit + offset, + len) lie in a window of size bytes? *start_p
 * gets disp * unit; no step may overflow. */
static PRMA_HOT_INLINE int prma__win_in_range(uint64_t size, uint64_t unit, uint64_t disp,
                                              uint64_t offset, size_t len, uint64_t *start_p)
{
    uint64_t start;

    if (__builtin_mul_overflow(disp, unit, &start) || start > size || offset > size - start ||
        len > size - start - offset)
        return 0;
    *start_p = start;
    return 1;
}

/* Remember target as locked (epoch.group doubles as the touched list of a
 * passive epoch: unlock_all visits only those). */
static inline void prma__locks_note(struct prma_win *win, int target, enum prma_lockstate state)
{
    struct prma_epoch *ep = &win->epoch;

    ep->locks[target]        = (uint8_t)state;
    ep->group[ep->nlocked++] = target;
}

/* The lock word of a control block mapped here. */
static inline uint64_t *prma__ctl_lock_word(char *ctl)
{
    return (uint64_t *)(void *)(ctl + PRMA_CTL_OFF(lock));
}

/* prma__lock_touch's common cases, in line and without a call: a lazy
 * shared lock, or a lock_all epoch's first access to a target, on a
 * control block mapped here, that no writer holds or waits for, or a lazy
 * exclusive lock on a free word: one atomic on the lock word. Nonzero if
 * the lock is now held; zero (nothing changed) for every other case. The
 * caller has checked that the window has no guard and has not failed. */
static inline int prma__lock_touch_spot(struct prma_win *win, int target, uint8_t state)
{
    struct prma_epoch *ep = &win->epoch;
    char *ctl = win->direct[target].ctl;
    uint64_t *word, cur;

    if (ctl == NULL)
        return 0;
    word = prma__ctl_lock_word(ctl);
    if (state == PRMA_LOCKED_LAZY_EXCLUSIVE) {
        /* A free word (no holder, no writer queued) in one step, as
         * prma__lock_take would first try; else that way. */
        cur = 0;
        if (!__atomic_compare_exchange_n(word, &cur, PRMA_LW_EXCLUSIVE, 0, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST))
            return 0;
        ep->locks[target] = PRMA_LOCKED_EXCLUSIVE_FAST;
        return 1;
    }
    if (state != PRMA_LOCKED_LAZY_SHARED &&
        (state != PRMA_LOCKED_NONE || ep->access != PRMA_ACCESS_LOCK_ALL ||
         (ep->mode & PRMA_MODE_NOCHECK)))
        return 0;
    cur  = __atomic_fetch_add(word, PRMA_LW_SHARED_ONE, __ATOMIC_SEQ_CST);
    if (cur & (PRMA_LW_EXCLUSIVE | PRMA_LW_WAITING_MASK)) {
        __atomic_fetch_add(word, (uint64_t)-1, __ATOMIC_SEQ_CST);
        return 0;
    }
    if (state == PRMA_LOCKED_NONE)
        prma__locks_note(win, target, PRMA_LOCKED_SHARED);
    else
        ep->locks[target] = PRMA_LOCKED_SHARED;
    return 1;
}

/* Where a put or get (or an accumulate) may reach the target's memory right
 * now, or NULL for the message path:
 * the target's window is mapped here, the epoch already lets us in (a
 * fence epoch, or a lock held on it), no guard watches, nobody failed,
 * and the range lies inside the window (the message path reports what is
 * wrong otherwise). touch: take a lock the epoch left for the first
 * operation (else NULL for it too: a caller that makes no call on its fast
 * path). */
/* Target's mapping here, if its window is mapped, no guard watches and
 * nobody failed (whatever the epoch), else NULL. */
static PRMA_HOT_INLINE const struct prma_direct *prma__win_mapped(const struct prma_win *win,
                                                                  int target)
{
    const struct prma_direct *d;

    if ((unsigned)target >= (unsigned)win->size || (d = &win->direct[target])->base == NULL ||
        win->guard != NULL || win->failed != PRMA_OK)
        return NULL;
    return d;
}

static PRMA_HOT_INLINE char *prma__win_reach(struct prma_win *win, int target,
                                             uint64_t target_disp, uint64_t offset, size_t len,
                                             int touch)
{
    struct prma_epoch *ep = &win->epoch;
    const struct prma_direct *d;
    uint64_t start;
    uint8_t state;

    if ((d = prma__win_mapped(win, target)) == NULL)
        return NULL;
    if (ep->access != PRMA_ACCESS_FENCE) {
        /* A passive epoch: the target's lock, taken now if it waited for
         * the first operation (an unlocked target is the message path's
         * error to report). */
        if (ep->access != PRMA_ACCESS_LOCK && ep->access != PRMA_ACCESS_LOCK_ALL)
            return NULL;
        state = ep->locks[target];
        if (!prma__lock_held(state) && !prma__lock_touch_spot(win, target, state) &&
            (!touch || (state == PRMA_LOCKED_NONE && ep->access == PRMA_ACCESS_LOCK) ||
             prma__lock_touch(win, target) != PRMA_OK))
            return NULL;
    }
    if (!prma__win_in_range(d->size, d->disp_unit, target_disp, offset, len, &start))
        return NULL;
    return d->base + start + offset;
}

/* The largest put or get copied in line, without a call. */
#define PRMA_WIN_SPOT_MAX ((size_t)128)

/* Copy up to 2n bytes (n <= len <= 2n) as two n-byte pieces, the first and
 * the last, both loaded before either is stored: overlapping source and
 * destination are safe, as with memmove. */
#define PRMA__COPY_HEAD_TAIL(T, to, from, len)                                      \
    do {                                                                            \
        T head_, tail_;                                                             \
        memcpy(&head_, (from), sizeof(T));                                          \
        memcpy(&tail_, (const char *)(from) + (len) - sizeof(T), sizeof(T));        \
        memcpy((to), &head_, sizeof(T));                                            \
        memcpy((char *)(to) + (len) - sizeof(T), &tail_, sizeof(T));                \
    } while (0)

struct prma__bytes16 {
    uint64_t w[2];
};

struct prma__bytes32 {
    uint64_t w[4];
};

struct prma__bytes64 {
    uint64_t w[8];
};

/* memmove of up to PRMA_WIN_SPOT_MAX bytes (MPI lets a put read from the
 * window it writes), without a call. */
static PRMA_HOT_INLINE void prma__win_copy_small(void *to, const void *from, size_t len)
{
    if (len > 64) {
        PRMA__COPY_HEAD_TAIL(struct prma__bytes64, to, from, len);
    } else if (len > 32) {
        PRMA__COPY_HEAD_TAIL(struct prma__bytes32, to, from, len);
    } else if (len > 16) {
        PRMA__COPY_HEAD_TAIL(struct prma__bytes16, to, from, len);
    } else if (len >= 8) {
        PRMA__COPY_HEAD_TAIL(uint64_t, to, from, len);
    } else if (len >= 4) {
        PRMA__COPY_HEAD_TAIL(uint32_t, to, from, len);
    } else if (len >= 2) {
        PRMA__COPY_HEAD_TAIL(uint16_t, to, from, len);
    } else if (len == 1) {
        *(char *)to = *(const char *)from;
    }
}

/*
 * For a caller that keeps everything but the common case out of line (the
 * MPI shim's MPI_Put and MPI_Get end in a jump, not a call, on their way to
 * prma_win_put/get): where a put or get of len bytes lands in the target's
 * memory, counted as done, or NULL for prma_win_put/get (a lock the epoch
 * left for the first operation may have been taken: the way on finds it
 * held). The caller then copies with prma__win_copy.
 */
static PRMA_HOT_INLINE char *prma__win_spot(struct prma_win *win, int target,
                                            uint64_t target_disp, size_t len)
{
    char *at = prma__win_reach(win, target, target_disp, 0, len, 0);

    if (at != NULL)
        win->epoch.nops++;
    return at;
}

int prma__win_copy_long(struct prma_win *win, void *to, const void *from, size_t len);

/* The copy of a put or get that reached the target's memory: in line up to
 * PRMA_WIN_SPOT_MAX bytes, else a call (a jump, in a caller that returns
 * what this returns) to prma__win_copy_long. Returns PRMA_OK. */
static PRMA_HOT_INLINE int prma__win_copy(struct prma_win *win, void *to, const void *from,
                                          size_t len)
{
    if (len > PRMA_WIN_SPOT_MAX)
        return prma__win_copy_long(win, to, from, len);
    prma__win_copy_small(to, from, len);
    return PRMA_OK;
}

/* A synchronization happened on win (dynamic.h): only dynamic windows care. */
void prma__dyn_synced_dynamic(struct prma_win *win);
static inline void prma__dyn_synced(struct prma_win *win)
{
    if (win->dyn != NULL)
        prma__dyn_synced_dynamic(win);
}

#endif /* PRMA_WIN_H */
