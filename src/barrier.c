/*
 * barrier.c - a centralized sense-counting barrier on shared memory.
 *
 * Each member reads the generation, then counts itself in; the last to
 * arrive resets the count and bumps the generation, which releases the
 * others. Reading the generation before counting in is what makes it
 * correct: nobody can bump it before every member has read it.
 */
#include "barrier.h"

#include <sched.h>

#define SPINS 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void prma__shm_barrier(struct prma_shm_barrier *b, uint32_t n)
{
    uint32_t gen = atomic_load_explicit(&b->gen, memory_order_acquire);

    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == n - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->gen, 1, memory_order_acq_rel);
        return;
    }
    for (unsigned spin = 0; atomic_load_explicit(&b->gen, memory_order_acquire) == gen; spin++) {
        if (spin < SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}
