/*
 * shm.c - the shm port: another process on this node.
 *
 * Two ways in, chosen per target at window creation:
 *  - mapped ("shm"): the target's window is portrma memory (a memfd), which
 *    we duplicate by pid (pidfd_getfd) and map here; a put is a memcpy.
 *  - cross-memory attach ("shm-cma"): the target's window is memory portrma
 *    did not allocate (MPI_Win_create on malloc'd memory), which cannot be
 *    mapped; a put is one process_vm_writev into the target's address space.
 * Both complete every message on the spot. A cma port first offers a small
 * put, get or accumulate, and a put or get of up to PRMA_AGENT_BOUNCE_MAX
 * bytes, to the target's agent (agent.c), when the target polls: it does
 * the operation on its own memory sooner than the system calls would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <stdatomic.h>
#include "../agent.h"
#include "../atomic.h"
#include "../ctl.h"
#include "../guard.h"
#include "../log.h"
#include "../mem.h"
#include "../port.h"
#include "../settings.h"
#include "../win.h"

struct shm_port {
    struct prma_port base;    /* first: a port is a shm_port */
    char            *memory;  /* mapped: the target's window here */
    void            *map;     /* mapped: what to munmap */
    size_t           maplen;
    char            *ctl;     /* the target's control block, mapped here */
    void            *ctl_map;
    size_t           ctl_maplen;
    pid_t            pid;     /* cma: the target process */
    struct prma_context *ctx; /* whose mem.c keeps the mappings */
    uint64_t         remote;  /* cma: the target's window base there */
    struct prma_win *win;     /* cma: the window, for the agent's waits */
    struct prma_agent_area *agent;  /* cma: the target's agent slots, or NULL */
};

static int shm_map_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct shm_port *shm = (struct shm_port *)port;
    int status = prma__direct_msg(shm->memory, shm->ctl, msg);

    return status == PRMA_ERR_NOTSUP ? prma__port_stub_putport(port, msg) : status;
}

/* Move the whole range with process_vm_writev/readv, which may stop short. */
static int cma_transfer(struct shm_port *shm, struct prma_msg *msg, int write)
{
    size_t done = 0;

    while (done < msg->ms_len) {
        struct iovec local  = { (char *)msg->ms_buf + done, msg->ms_len - done };
        struct iovec remote = { (void *)(uintptr_t)(shm->remote + msg->ms_offset + done),
                                msg->ms_len - done };
        ssize_t n = write ? process_vm_writev(shm->pid, &local, 1, &remote, 1, 0)
                          : process_vm_readv(shm->pid, &local, 1, &remote, 1, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            prma_error("%s of %zu bytes in process %d failed: %s",
                       write ? "process_vm_writev" : "process_vm_readv", msg->ms_len - done,
                       (int)shm->pid, n < 0 ? strerror(errno) : "no progress");
            return PRMA_ERR_PEER;
        }
        done += (size_t)n;
    }
    return PRMA_OK;
}

/* The agent's fallback for the parts of a transfer it did not do. */
static int cma_part(void *arg, struct prma_msg *part)
{
    return cma_transfer(arg, part, part->ms_cmd == PRMA_CMD_PUT);
}

/* NOTE: the one putport that may wait for its target: for its agent's
 * answer, and only while the target polls (agent.c withdraws the request
 * otherwise). */
static int shm_cma_putport(struct prma_port *port, struct prma_msg *msg)
{
    struct shm_port *shm = (struct shm_port *)port;
    int status;

    switch (msg->ms_cmd) {
    case PRMA_CMD_NOP:
        return PRMA_OK;
    case PRMA_CMD_PUT:
    case PRMA_CMD_GET:
        if (shm->agent != NULL && !(msg->ms_accflags & PRMA_ACCF_HELD)) {
            if (msg->ms_len <= PRMA_AGENT_INLINE)
                status = prma__agent_call(shm->win, port->mp_rank, shm->agent, msg);
            else if (msg->ms_len <= PRMA_AGENT_BOUNCE_MAX)
                status = prma__agent_bulk(shm->win, shm->agent, msg, cma_part, shm);
            else
                status = PRMA_ERR_NOTSUP;
            if (status != PRMA_ERR_NOTSUP)
                return status;
        }
        return cma_transfer(shm, msg, msg->ms_cmd == PRMA_CMD_PUT);
    case PRMA_CMD_ATOMIC:
        /* The control block is mapped; the window itself is not, and
         * process_vm_* are not atomic: the window layer does those by
         * lock, get and put. */
        if (msg->ms_region == PRMA_REGION_CTL)
            return prma__cpu_atomic(shm->ctl + msg->ms_offset, msg);
        return PRMA_ERR_NOTSUP;
    case PRMA_CMD_FLUSH:
        atomic_thread_fence(memory_order_seq_cst);
        return PRMA_OK;
    case PRMA_CMD_ACC:
        /* The target's agent applies it under its stripe locks; else
         * copies, which are not atomic: the window layer does it under
         * those stripe locks. */
        if (shm->agent != NULL && msg->ms_len <= PRMA_AGENT_INLINE)
            return prma__agent_call(shm->win, port->mp_rank, shm->agent, msg);
        return PRMA_ERR_NOTSUP;
    }
    return prma__port_stub_putport(port, msg);
}

static void shm_destroy(struct prma_port *port)
{
    struct shm_port *shm = (struct shm_port *)port;

    if (shm->map != NULL)
        prma__mem_unmap_peer(shm->ctx, shm->map, shm->maplen);
    if (shm->ctl_map != NULL)
        prma__mem_unmap_peer(shm->ctx, shm->ctl_map, shm->ctl_maplen);
    free(shm);
}

static const struct prma_port_ops shm_map_ops = {
    .name      = "shm",
    .flags     = PRMA_PORTF_SPOT,
    .putport   = shm_map_putport,
    .progress  = prma__port_nop_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = shm_destroy,
};

static const struct prma_port_ops shm_cma_ops = {
    .name      = "shm-cma",
    .flags     = PRMA_PORTF_SPOT,
    .putport   = shm_cma_putport,
    .progress  = prma__port_nop_progress,
    .replyport = prma__port_stub_replyport,
    .destroy   = shm_destroy,
};

int prma__port_init_shm(struct prma_win *win, int rank, struct prma_port **port_p)
{
    const struct prma_peer *peer = &win->peers[rank];
    struct shm_port *shm;
    void *base;
    int status;

    shm = calloc(1, sizeof(*shm));
    if (shm == NULL)
        return PRMA_ERR_NOMEM;
    shm->pid    = peer->pid;
    shm->remote = peer->base;
    shm->ctx    = win->ctx;
    status = prma__mem_map_peer(win->ctx, peer->pid, peer->ctl_fd, peer->ctl_seg, 0,
                                prma__win_ctl_size(win), &base,
                                &shm->ctl_map, &shm->ctl_maplen);
    if (status != PRMA_OK) {
        free(shm);
        return status;
    }
    shm->ctl = base;
    if (win->flavor == PRMA_WIN_FLAVOR_SHARED && win->contiguous) {
        /* One segment for the whole group, mapped here already. */
        shm->memory = (char *)win->mem->agent + peer->memfd_offset;
        prma__port_init(&shm->base, &shm_map_ops, rank);
        shm->base.mp_direct = shm->memory;
    } else if (peer->memfd >= 0 && peer->size > 0 && prma__config.shm_mode == PRMA_SHM_MAP) {
        status = prma__mem_map_peer(win->ctx, peer->pid, peer->memfd, peer->seg,
                                    peer->memfd_offset, peer->size, &base, &shm->map,
                                    &shm->maplen);
        if (status != PRMA_OK) {
            prma__mem_unmap_peer(win->ctx, shm->ctl_map, shm->ctl_maplen);
            free(shm);
            return status;
        }
        shm->memory = base;
        prma__port_init(&shm->base, &shm_map_ops, rank);
        shm->base.mp_direct = shm->memory;
    } else {
        prma__port_init(&shm->base, &shm_cma_ops, rank);
        shm->win   = win;
        shm->agent = prma__agent_area(win, shm->ctl);
    }
    shm->base.mp_ctl = shm->ctl;
    *port_p = &shm->base;
    return PRMA_OK;
}

int prma__port_is_shm(const struct prma_port *port)
{
    return port->mp_ops == &shm_map_ops || port->mp_ops == &shm_cma_ops;
}
