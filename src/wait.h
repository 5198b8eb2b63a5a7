/*
 * wait.h - one turn of a wait loop, shared by every place portrma waits
 * (a drain, a flush, a barrier): spin briefly, then yield the CPU (jobs
 * often run more ranks than cores), drive progress, and now and then ask
 * whether waiting still makes sense (is every peer alive?). A process
 * that waits also serves what same-node origins hand it (agent.c): a turn
 * that served something spins again instead of yielding, since the next
 * request is likely close behind.
 */
#ifndef PRMA_WAIT_H
#define PRMA_WAIT_H

struct prma_waiter {
    void   (*progress)(void *arg);  /* driven every turn; may be NULL */
    int    (*check)(void *arg);     /* every so often; non-OK ends the wait; may be NULL */
    int    (*serve)(void *arg);     /* every turn: > 0 when it did work; may be NULL.
                                       NULL too where the waiter holds what serving
                                       may need (a stripe lock) */
    void    *arg;
    void    *serve_arg;
    unsigned turns;                 /* turns taken so far (zero it to start) */
    unsigned idle;                  /* turns since the last work served (zero it too) */
};

/* Tell the CPU this thread spins (one pause), without giving it up. */
static inline void prma__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Take one turn. Returns PRMA_OK to go on waiting, or the check's failure.
 * A NULL waiter just relaxes and yields. */
int prma__wait_turn(struct prma_waiter *w);

#endif /* PRMA_WAIT_H */
