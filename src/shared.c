/*
 * shared.c - shared windows: memory every member of a one-node group loads
 * and stores directly (MPI_Win_allocate_shared, MPI_Win_shared_query).
 *
 * Contiguous (MPI's default): rank 0 makes one memfd for the whole group,
 * every member duplicates it by pid and maps it whole (user and agent
 * views, as for any portrma memory), and its part starts where the previous
 * rank's ends. Non-contiguous: each member allocates its own part, exactly
 * as for MPI_Win_allocate; peers' parts are the shm ports' mappings.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "context.h"
#include "log.h"
#include "mem.h"
#include "win.h"

/* What each member tells the others before anything is allocated. */
struct shared_hello {
    uint64_t host_id;
    uint64_t size;
    int32_t  pid;
    int32_t  fd;      /* rank 0: the group's memfd, once made */
    int32_t  status;
    int32_t  pad;
};

int prma_win_allocate_shared(prma_context_h ctx, const prma_coll_t *coll, size_t size,
                             size_t disp_unit, int contiguous, void **base_p, prma_win_h *win_p)
{
    struct shared_hello me, *all;
    struct prma_mem *mem = NULL;
    size_t offset = 0, total = 0;
    int status = PRMA_OK, fd;

    if (ctx == NULL || coll == NULL || coll->allgather == NULL || coll->barrier == NULL ||
        coll->size <= 0 || coll->rank < 0 || coll->rank >= coll->size)
        return PRMA_ERR_ARG;
    if (disp_unit == 0)
        return PRMA_ERR_DISP;
    all = calloc((size_t)coll->size, sizeof(*all));
    if (all == NULL)
        return PRMA_ERR_NOMEM;
    memset(&me, 0, sizeof(me));
    me.host_id = ctx->boot.node_id;
    me.size    = size;
    me.pid     = (int32_t)getpid();
    me.fd      = -1;

    /* 1. Is the group on one node? Every member sees the same answer. */
    if (coll->allgather(coll->arg, &me, all, sizeof(me)) != 0)
        status = PRMA_ERR_BOOTSTRAP;
    for (int i = 0; status == PRMA_OK && i < coll->size; i++) {
        if (all[i].host_id != me.host_id) {
            prma_error("a shared window needs a group on one node; rank %d is elsewhere", i);
            status = PRMA_ERR_RMA_SHARED;
        }
        total += all[i].size;
        if (i < coll->rank)
            offset += all[i].size;
    }
    if (status != PRMA_OK) {
        free(all);
        return status;
    }
    if (!contiguous) {
        free(all);
        if (size > 0)
            status = prma__mem_create(ctx, size, &mem);
        status = prma__win_setup(ctx, coll, mem ? mem->user : NULL, size, disp_unit,
                                 PRMA_WIN_FLAVOR_SHARED, mem, status, win_p);
        if (status == PRMA_OK)
            *base_p = (*win_p)->base;
        return status;
    }

    /* 2. Rank 0 makes the segment; everyone learns its descriptor. */
    if (coll->rank == 0) {
        me.status = prma__mem_create(ctx, total, &mem);
        if (me.status == PRMA_OK)
            me.fd = mem->fd;
    }
    if (coll->allgather(coll->arg, &me, all, sizeof(me)) != 0)
        status = PRMA_ERR_BOOTSTRAP;
    else if (all[0].status != PRMA_OK)
        status = coll->rank == 0 ? all[0].status : PRMA_ERR_PEER_FAILED;
    if (status == PRMA_OK && coll->rank != 0) {
        fd = prma__mem_dup_peer_fd(all[0].pid, all[0].fd);
        if (fd < 0) {
            prma_error("cannot reach the shared window memory of process %d", all[0].pid);
            status = PRMA_ERR_PEER;
        } else if ((status = prma__mem_adopt(ctx, fd, total, &mem)) != PRMA_OK) {
            close(fd);
        }
    }
    /* 3. The window over this member's part; the setup agrees on failures
     * (rank 0 keeps its descriptor open until everyone has mapped). */
    free(all);
    status = prma__win_setup(ctx, coll, mem ? (char *)mem->user + offset : NULL, size, disp_unit,
                             PRMA_WIN_FLAVOR_SHARED | PRMA__FLAVOR_CONTIGUOUS, mem, status, win_p);
    if (status == PRMA_OK)
        *base_p = (*win_p)->base;
    return status;
}

/* Map target's part here for load and store when no shm port does (its
 * port is ucx: forced, or a pretend node), if it is portrma memory on this
 * host; NULL otherwise. Kept until the window is freed. */
static void *query_map(struct prma_win *win, int target)
{
    const struct prma_peer *peer = &win->peers[target];
    struct prma_qmap *q;

    if (peer->host_id != win->ctx->boot.node_id || peer->memfd < 0 || peer->size == 0)
        return NULL;
    if (win->qmaps == NULL && (win->qmaps = calloc((size_t)win->size, sizeof(*q))) == NULL)
        return NULL;
    q = &win->qmaps[target];
    if (q->base == NULL &&
        prma__mem_map_peer(win->ctx, peer->pid, peer->memfd, peer->seg, peer->memfd_offset,
                           peer->size, &q->base, &q->map, &q->maplen) != PRMA_OK)
        q->base = NULL;
    return q->base;
}

int prma_win_shared_query(prma_win_h win, int target, size_t *size_p, size_t *disp_unit_p,
                          void **base_p)
{
    void *base = NULL;

    if (win->flavor == PRMA_WIN_FLAVOR_CREATE || win->flavor == PRMA_WIN_FLAVOR_DYNAMIC)
        return PRMA_ERR_RMA_FLAVOR;
    if (target == -1) {
        /* MPI_PROC_NULL: the first member with memory. */
        for (target = 0; target < win->size && win->peers[target].size == 0; target++)
            ;
        if (target == win->size) {
            *size_p = 0;
            *disp_unit_p = win->disp_unit;
            *base_p = NULL;
            return PRMA_OK;
        }
    }
    if (target < 0 || target >= win->size)
        return PRMA_ERR_RANK;
    if (target == win->rank)
        base = win->base;
    else if (win->flavor == PRMA_WIN_FLAVOR_SHARED && win->contiguous)
        base = (char *)win->mem->user + win->peers[target].memfd_offset;
    else if ((base = win->ports[target]->mp_direct) == NULL)
        base = query_map(win, target);
    *size_p      = base != NULL ? win->peers[target].size : 0;
    *disp_unit_p = win->peers[target].disp_unit;
    *base_p      = base;
    return PRMA_OK;
}
