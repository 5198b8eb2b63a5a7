/*
 * epoch.h - the synchronization state of a window, as an object of its own.
 *
 * An access epoch decides which targets an origin may reach now; an exposure
 * epoch which origins may reach this process. Fence opens both at once for
 * the whole group; PSCW opens them per group (start/complete for access,
 * post/wait for exposure); passive target opens access epochs per target
 * (lock/unlock) or to all (lock_all/unlock_all). Every transition is checked
 * here (the table is in epoch.c): a call the current state does not allow
 * is PRMA_ERR_RMA_SYNC, never a hang.
 */
#ifndef PRMA_EPOCH_H
#define PRMA_EPOCH_H

#include <stddef.h>
#include <stdint.h>

struct prma_win;

enum prma_access {
    PRMA_ACCESS_NONE = 0,  /* RMA calls are refused */
    PRMA_ACCESS_FENCE,     /* between two fences (the second without NOSUCCEED) */
    PRMA_ACCESS_PSCW,      /* between start and complete: the start group */
    PRMA_ACCESS_LOCK,      /* between lock and unlock: the locked targets */
    PRMA_ACCESS_LOCK_ALL,  /* between lock_all and unlock_all: everyone */
};

enum prma_exposure {
    PRMA_EXPOSURE_NONE = 0,
    PRMA_EXPOSURE_FENCE,   /* between two fences */
    PRMA_EXPOSURE_PSCW,    /* between post and wait */
};

/* epoch.member[]: a start group's target with operations queued for its
 * post, or puts written into its stage (pscw.c). */
#define PRMA_MEMBER_QUEUED 2
#define PRMA_MEMBER_STAGED 4

/* Per-target passive state (epoch.locks[]). */
enum prma_lockstate {
    PRMA_LOCKED_NONE = 0,
    PRMA_LOCKED_SHARED,     /* lock(SHARED), or lock_all after the first access */
    PRMA_LOCKED_EXCLUSIVE,
    PRMA_LOCKED_EXCLUSIVE_FAST, /* exclusive, taken in one step from a free word (no ticket) */
    PRMA_LOCKED_NOCHECK,    /* MPI_MODE_NOCHECK: access without the lock word */
    /* lock() asked for it, not taken yet: the first operation to the target
     * takes it (lock.c, prma__lock_touch); an epoch without one never
     * touches the lock word. Held states are those below. */
    PRMA_LOCKED_LAZY_SHARED,
    PRMA_LOCKED_LAZY_EXCLUSIVE,
};

/* May operations reach a target in this state without taking a lock? */
static inline int prma__lock_held(uint8_t state)
{
    return state != PRMA_LOCKED_NONE && state < PRMA_LOCKED_LAZY_SHARED;
}

struct prma_epoch {
    enum prma_access   access;
    enum prma_exposure exposure;
    unsigned           mode;       /* asserts of the call that opened the access epoch */
    unsigned long      nops;       /* operations issued in the access epoch */
    size_t             streamed;   /* bytes of large copies since the last
                                      synchronization (copy.c) */
    /* passive target */
    uint8_t           *locks;      /* [size] enum prma_lockstate, made on first use */
    int                nlocked;
    /* PSCW access: the start group, and what arrived of their posts */
    int               *group;      /* [ngroup] target ranks */
    int                ngroup;
    uint8_t           *member;     /* [size] in the start group (PRMA_MEMBER_QUEUED:
                                      and operations wait for its post) */
    uint8_t           *posted;     /* [size] its post for this epoch has arrived */
    uint64_t          *consumed;   /* [size] posts used up by past epochs */
    uint64_t          *sent;       /* [size] completions sent to each target */
    /* PSCW exposure */
    int                nexposed;   /* origins in the post group */
    int               *exposed;    /* [nexposed] their ranks, made on first use */
    uint64_t          *expect;     /* [size] completions each origin owes us so far */
    uint64_t          *posts_sent; /* [size] posts sent to each origin */
    uint64_t          *applied;    /* [size] each origin's last completion whose
                                      staged puts we applied */
    int                no_locks;   /* the window promised never to lock */
};

/* Close the current fence epoch (completing its operations everywhere) and
 * open the next, as the asserts in mode allow. */
int prma__epoch_fence(struct prma_win *win, unsigned mode);

/* May an operation to target be issued now? target < 0: to any target. */
int prma__epoch_check_access(const struct prma_win *win, int target);

/* May the window be freed now? */
int prma__epoch_check_free(const struct prma_win *win);

/* Release what the epoch object holds. */
void prma__epoch_fini(struct prma_epoch *ep);

/* A fence epoch that saw no operation is no epoch at all (MPI: a fence
 * starts an epoch only if RMA calls follow): other kinds may open. */
void prma__epoch_leave_idle_fence(struct prma_win *win);

#endif /* PRMA_EPOCH_H */
