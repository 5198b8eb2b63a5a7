/*
 * wait.c - the wait loop's turn.
 */
#include "wait.h"

#include <sched.h>
#include "portrma.h"

#define SPINS       64    /* turns that only relax the CPU before yielding */
#define CHECK_EVERY 4096  /* yielding turns between two checks */

int prma__wait_turn(struct prma_waiter *w)
{
    unsigned turn = w != NULL ? w->turns++ : SPINS, idle = w != NULL ? w->idle++ : SPINS;

    if (w != NULL && w->progress != NULL)
        w->progress(w->arg);
    if (w != NULL && w->serve != NULL && w->serve(w->serve_arg) > 0)
        w->idle = idle = 0;
    if (idle < SPINS)
        prma__cpu_relax();
    else
        sched_yield();
    /* Counted in every turn, served or not: a stream of requests does not
     * keep the check away. */
    if (w != NULL && w->check != NULL && turn >= SPINS &&
        (turn - SPINS) % CHECK_EVERY == CHECK_EVERY - 1)
        return w->check(w->arg);
    return PRMA_OK;
}
