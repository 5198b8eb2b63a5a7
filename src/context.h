/*
 * context.h - the per-process state of portrma.
 */
#ifndef PRMA_CONTEXT_H
#define PRMA_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>
#include "portrma.h"

struct prma_mem;
struct prma_ucx;
struct prma_agent_entry;
LIST_HEAD(prma_mem_list, prma_mem);

struct prma_context {
    prma_bootstrap_t     boot;
    uint64_t             node_id;   /* this process's node as ports see it
                                       (boot.node_id split by PORTRMA_NODE_SIZE) */
    int                  forced;    /* PORTRMA_TRANSPORT=ucx here */
    struct prma_ucx     *ucx;       /* NULL when the job needs no UCX */
    pthread_mutex_t      lock;      /* guards mems, the caches of mem.c and topo */
    struct prma_mem_list mems;      /* from prma_mem_alloc() */
    /* mem.c: freed small segments kept for reuse, peers' segments kept
     * mapped, pidfds of peers (all guarded by lock). */
    struct prma_mem_list pool;
    int                  npool;
    struct prma_pmap    *pmaps;
    int                  npmaps_idle;
    struct prma_pidfd   *pidfds;
    int                  npidfds;
    uint64_t             seg_next;  /* the next segment id */
    void                *topo;      /* hwloc_topology_t, loaded on first need */
    struct prma_win    **wins;      /* registry by window id (guarded by lock); agents
                                       find the window an active message is for */
    uint32_t             nwins;     /* slots in wins; ids are never reused */
    int                  topo_failed;
    /* agent.c: the windows this process serves while it polls. agent_lock
     * guards agents, nagents_max and agent_ticks; nagents may be read
     * without it (a wait loop's cheap "anything to serve?"). */
    pthread_mutex_t          agent_lock;
    struct prma_agent_entry *agents;
    int                      nagents_max;
    _Atomic int              nagents;
    unsigned                 agent_ticks;
    _Atomic unsigned long    agent_served;     /* requests served so far, and ... */
    _Atomic unsigned long    agent_withdrawn;  /* ... withdrawn as an origin (tests) */
    /* Tests: when agent_budget > 0, this process serves that many more
     * requests or pieces and then stops serving, as a process that stops
     * polling does (its lease left to lapse): agent_budget < 0. The range
     * of the last one it served: agent_last_offset, agent_last_len. 0: no
     * limit. Under agent_lock. */
    long                     agent_budget;
    uint64_t                 agent_last_offset;
    size_t                   agent_last_len;
};

#endif /* PRMA_CONTEXT_H */
