/*
 * win.h - a window: local memory, what every peer told us at creation, one
 * port per target, the completion (reply) port and the epoch.
 */
#ifndef PRMA_WIN_H
#define PRMA_WIN_H

#include <stdint.h>
#include "barrier.h"
#include "epoch.h"
#include "port.h"
#include "portrma.h"

#define PRMA_WIN_MAGIC 0x70524d41u /* "pRMA" */

/* What each rank publishes about its part of a window (exchanged once, by
 * allgather, at creation). Fixed-size fields: it crosses processes. */
struct prma_peer {
    uint64_t node_id;       /* as ports see it (pretend nodes split it) */
    uint64_t host_id;       /* the real node: who can share memory */
    uint64_t base;          /* user view address in its owner */
    uint64_t size;          /* bytes */
    uint64_t disp_unit;
    uint64_t memfd_offset;  /* where base lies in the memfd */
    int32_t  pid;
    int32_t  memfd;         /* descriptor in the owner, -1 for user memory */
    int32_t  ctl_fd;        /* rank 0: the control page's memfd, else -1 */
    int32_t  job_rank;      /* rank in the job (UCX endpoints are per job rank) */
    uint64_t agent_base;    /* where remote access lands (UCX-registered) */
    uint32_t rkey_len;      /* packed UCX key, 0 when not registered */
    uint32_t flags;         /* PRMA_PEER_* */
};

#define PRMA_PEER_FORCE_UCX 0x1u  /* PORTRMA_TRANSPORT=ucx there */

struct prma_mem;

struct prma_win {
    uint32_t             magic;
    struct prma_context *ctx;
    prma_coll_t          coll;
    int                  rank;
    int                  size;
    prma_win_flavor_t    flavor;
    void                *base;        /* user view of local memory */
    void                *agent_base;  /* where portrma touches local memory */
    size_t               len;
    size_t               disp_unit;
    struct prma_mem     *mem;         /* owned memory (allocate flavor) or NULL */
    struct prma_peer    *peers;       /* [size] */
    struct prma_port   **ports;       /* [size] */
    struct prma_port     reply;       /* completion port of transient operations */
    struct prma_epoch    epoch;
    /* The group's own barrier, when every member is on this node. */
    struct prma_mem         *ctl_mem;     /* rank 0: the control page it made */
    struct prma_shm_barrier *barrier;     /* NULL: use coll.barrier */
    int                     *pids;        /* members on this host (-1 elsewhere), watched
                                             while waiting */
    void                    *ctl_map;     /* others: their mapping of it */
    size_t                   ctl_maplen;
    /* UCX: our registration, and every member's packed key. */
    void                    *memh;        /* ucp_mem_h of local memory, or NULL */
    void                    *rkey;        /* our packed key */
    char                    *rkeys;       /* [size * rkey_slot] */
    size_t                   rkey_slot;
    int                      nucx;        /* targets served by ucx ports */
    int                      failed;      /* a member is gone: every call fails so */
};

/* Complete every operation this process started on the window, at its
 * target (local completion, then remote: a UCX flush). Returns the first
 * failure of any of them. */
int prma__win_complete(struct prma_win *win);

/* Barrier over the window's group: the shared one when the whole group is
 * on this node, the bootstrap's otherwise. Returns a status. */
int prma__win_barrier(struct prma_win *win);

#endif /* PRMA_WIN_H */
