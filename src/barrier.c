/*
 * barrier.c - a centralized sense-counting barrier on shared memory.
 *
 * Each member reads the generation, then counts itself in; the last to
 * arrive resets the count and bumps the generation, which releases the
 * others. Reading the generation before counting in is what makes it
 * correct: nobody can bump it before every member has read it.
 */
#include "barrier.h"

#include "portrma.h"
#include "wait.h"

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
