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

struct prma_shm_barrier {
    _Atomic uint32_t count;     /* arrivals in the current round */
    char             pad0[60];
    _Atomic uint32_t gen;       /* rounds completed */
    char             pad1[60];
};

/* Wait until all n members have arrived. Stores made before the call are
 * visible to every member after it returns. Spins briefly, then yields. */
void prma__shm_barrier(struct prma_shm_barrier *b, uint32_t n);

#endif /* PRMA_BARRIER_H */
