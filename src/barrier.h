/*
 * barrier.h - a window group's own barrier, for groups that live on one node.
 *
 * Rank 0 of the window creates a control page (memfd, no name) that every
 * member maps; the barrier is a counter and a generation word on it. It
 * replaces the bootstrap's barrier (an MPI_Barrier over the window's
 * communicator) in fence and free when every member is on this node.
 */
#ifndef PRMA_BARRIER_H
#define PRMA_BARRIER_H

#include <stdatomic.h>
#include <stdint.h>

#define PRMA_BARRIER_SLOTS 64  /* members the flag barrier serves */

struct prma_shm_barrier {
    _Atomic uint32_t count;     /* arrivals in the current round */
    char             pad0[60];
    _Atomic uint32_t gen;       /* rounds completed */
    char             pad1[60];
    _Atomic uint32_t left;      /* members out of the window's last barrier
                                   (win.c: its owner reuses the block after) */
    char             pad2[60];
    struct {
        _Atomic uint64_t round; /* the last round this member arrived at */
        char             pad[56];
    } slot[PRMA_BARRIER_SLOTS]; /* the flag barrier's, one cache line each */
};

/* Wait until all n members have arrived. Stores made before the call are
 * visible to every member after it returns. Waits with wait (may be NULL):
 * its progress is driven (a peer may need this process's help to finish
 * its puts) and its check asked now and then; a failed check (a member is
 * gone) ends the wait with that status, and the barrier is then unusable.
 * Returns PRMA_OK otherwise. */
struct prma_waiter;

int prma__shm_barrier(struct prma_shm_barrier *b, uint32_t n, struct prma_waiter *wait);

/* The same for groups of up to PRMA_BARRIER_SLOTS members, faster: member
 * me (0 <= me < n) announces its round in a line of its own and waits until
 * every other member has announced it too — one cache-line transfer on the
 * critical path instead of the counter's three. *round is the member's own
 * count of barriers passed on b (0 before the first); every member of b
 * must use this one, never prma__shm_barrier(). */
int prma__shm_flag_barrier(struct prma_shm_barrier *b, uint32_t n, uint32_t me,
                           uint64_t *round, struct prma_waiter *wait);

#endif /* PRMA_BARRIER_H */
