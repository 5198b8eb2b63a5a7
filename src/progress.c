/*
 * progress.c - the progress thread: drives the UCX worker while the process
 * computes or waits inside calls that are not portrma's (an MPI_Barrier),
 * so that what peers do to this process through UCX completes meanwhile.
 *
 * It sleeps in poll() on the worker's event fd (ucp_worker_arm) and on an
 * eventfd that stops it; it never spins while idle. While the process's own
 * threads are driving the worker (inside portrma), it naps instead of
 * contending with them for the worker. It is bound with hwloc
 * to the cores the process is not bound to, when there are such cores.
 */
#include <errno.h>
#include <hwloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "log.h"
#include "progress.h"

#define NAP_MS 1  /* while the process drives the worker itself */

struct prma_progress {
    pthread_t              thread;
    ucp_worker_h           worker;
    _Atomic unsigned long *main_turns;
    _Atomic int           *gate;
    int          efd;   /* the worker's */
    int          stop;  /* eventfd: written to stop the thread */
};

/* Bind the calling thread away from the application's cores, if it can. */
static void bind_away(void)
{
    hwloc_topology_t topo;
    hwloc_bitmap_t mine, others;

    if (hwloc_topology_init(&topo) != 0)
        return;
    if (hwloc_topology_load(topo) == 0) {
        mine   = hwloc_bitmap_alloc();
        others = hwloc_bitmap_alloc();
        if (hwloc_get_cpubind(topo, mine, HWLOC_CPUBIND_PROCESS) == 0) {
            hwloc_bitmap_andnot(others, hwloc_topology_get_allowed_cpuset(topo), mine);
            if (!hwloc_bitmap_iszero(others) &&
                hwloc_set_cpubind(topo, others, HWLOC_CPUBIND_THREAD) != 0)
                prma_debug("binding the progress thread failed: %s", strerror(errno));
        }
        hwloc_bitmap_free(others);
        hwloc_bitmap_free(mine);
    }
    hwloc_topology_destroy(topo);
}

static void *progress_main(void *arg)
{
    struct prma_progress *p = arg;
    struct pollfd fds[2] = { { .fd = p->efd, .events = POLLIN }, { .fd = p->stop, .events = POLLIN } };
    unsigned long seen = atomic_load(p->main_turns), now;
    ucs_status_t st;

    bind_away();
    for (;;) {
        /* The process is driving the worker itself (or is inside it right
         * now): keep out of its way, look again in a moment. */
        now = atomic_load_explicit(p->main_turns, memory_order_relaxed);
        if (now != seen || !prma__progress_gate_take(p->gate)) {
            seen = now;
            if (poll(&fds[1], 1, NAP_MS) > 0)
                return NULL;
            continue;
        }
        /* One burst at a time, then look at the process again. */
        if (ucp_worker_progress(p->worker) != 0) {
            prma__progress_gate_give(p->gate);
            continue;
        }
        st = ucp_worker_arm(p->worker);
        prma__progress_gate_give(p->gate);
        if (st == UCS_ERR_BUSY)
            continue;  /* events came in meanwhile */
        if (st != UCS_OK) {
            prma_error("arming the UCX worker failed: %s; the progress thread stops",
                       ucs_status_string(st));
            return NULL;
        }
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            prma_error("the progress thread's poll failed: %s", strerror(errno));
            return NULL;
        }
        if (fds[1].revents & POLLIN)
            return NULL;
    }
}

int prma__progress_start(ucp_worker_h worker, _Atomic unsigned long *main_turns,
                         _Atomic int *gate, struct prma_progress **p_p)
{
    struct prma_progress *p = calloc(1, sizeof(*p));
    ucs_status_t st;
    int rc;

    if (p == NULL)
        return PRMA_ERR_NOMEM;
    p->worker     = worker;
    p->main_turns = main_turns;
    p->gate       = gate;
    st = ucp_worker_get_efd(worker, &p->efd);
    if (st != UCS_OK) {
        prma_warn("the UCX worker has no event fd (%s): no progress thread",
                  ucs_status_string(st));
        free(p);
        return PRMA_ERR_NOTSUP;
    }
    p->stop = eventfd(0, EFD_CLOEXEC);
    if (p->stop < 0) {
        prma_error("eventfd for the progress thread failed: %s", strerror(errno));
        free(p);
        return PRMA_ERR_IO;
    }
    rc = pthread_create(&p->thread, NULL, progress_main, p);
    if (rc != 0) {
        prma_error("starting the progress thread failed: %s", strerror(rc));
        close(p->stop);
        free(p);
        return PRMA_ERR_IO;
    }
    *p_p = p;
    return PRMA_OK;
}

void prma__progress_stop(struct prma_progress *p)
{
    uint64_t one = 1;

    if (p == NULL)
        return;
    if (write(p->stop, &one, sizeof(one)) != (ssize_t)sizeof(one))
        prma_error("stopping the progress thread failed: %s", strerror(errno));
    pthread_join(p->thread, NULL);
    close(p->stop);
    free(p);
}
