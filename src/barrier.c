/*
 * barrier.c - a centralized sense-counting barrier on shared memory.
 *
 * Each member reads the generation, then counts itself in; the last to
 * arrive resets the count and bumps the generation, which releases the
 * others. Reading the generation before counting in is what makes it
 * correct: nobody can bump it before every member has read it.
 *
 * Groups of up to PRMA_BARRIER_SLOTS use flags instead: each member stores
 * its round number in a cache line of its own and waits for everyone's,
 * which costs one line transfer on the critical path, not three.
 */
#include "barrier.h"

#include "portrma.h"
#include "wait.h"

int prma__shm_flag_barrier(struct prma_shm_barrier *b, uint32_t n, uint32_t me,
                           uint64_t *round, struct prma_waiter *wait)
{
    uint64_t r = ++*round;
    int status;

    if (n > PRMA_BARRIER_SLOTS || me >= n)
        return PRMA_ERR_ARG;
    /* Release: what was stored before the barrier is visible to whoever
     * sees the round. Rounds only grow, so a member already in the next
     * round still lets a slower one through this one. */
    atomic_store_explicit(&b->slot[me].round, r, memory_order_release);
    for (uint32_t i = 0; i < n; i++)
        while (i != me && atomic_load_explicit(&b->slot[i].round, memory_order_acquire) < r)
            if ((status = prma__wait_turn(wait)) != PRMA_OK)
                return status;
    return PRMA_OK;
}

int prma__shm_barrier(struct prma_shm_barrier *b, uint32_t n, struct prma_waiter *wait)
{
    uint32_t gen = atomic_load_explicit(&b->gen, memory_order_acquire);
    int status;

    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == n - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->gen, 1, memory_order_acq_rel);
        return PRMA_OK;
    }
    while (atomic_load_explicit(&b->gen, memory_order_acquire) == gen)
        if ((status = prma__wait_turn(wait)) != PRMA_OK)
            return status;
    return PRMA_OK;
}
