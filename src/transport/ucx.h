/*
 * ucx.h - the process's UCX state, shared by every window's ucx ports.
 *
 * One UCP context and worker per process, made in prma_init() when the job
 * needs UCX; the worker addresses of the whole job are exchanged then,
 * through the bootstrap. Endpoints are made on first access to a peer, so
 * that a job of many ranks pays only for the peers it touches.
 *
 * NOTE: memory. The address table holds one slot per job rank (the largest
 * address's size each): fine for thousands of ranks; for 100k ranks it
 * should become a fetch on first use from the launcher (PMIx) instead.
 */
#ifndef PRMA_UCX_H
#define PRMA_UCX_H

#include <stdatomic.h>
#include <stddef.h>
#include <ucp/api/ucp.h>

struct prma_context;
struct prma_progress;

struct prma_ucx_peer {
    ucp_ep_h ep;      /* NULL until the first access */
    int      status;  /* PRMA_OK, or why the peer is gone */
    _Atomic int closing; /* the process is stopping (prma__ucx_quiesce, prma__ucx_fini):
                            a disconnection is expected */
};

/* Puts that need a flush to be complete at their target, counted as they
 * go out, and how many of them the flushes that finished covered: a flush
 * is owed while some went out that no finished flush covers, whichever
 * thread flushed (a flush that another thread is still waiting for covers
 * nothing yet). */
struct prma_ucx_owed {
    _Atomic uint64_t out;
    _Atomic uint64_t done;
};

struct prma_ucx {
    ucp_context_h         context;
    ucp_worker_h          worker;
    int                   size;      /* job size */
    size_t                slot;      /* bytes per address slot */
    char                 *addrs;     /* [size * slot] worker addresses */
    uint32_t             *lens;      /* [size] address lengths; 0: no UCX there */
    struct prma_ucx_peer *peers;     /* [size] */
    struct prma_progress *thread;    /* the progress thread, or NULL */
    _Atomic unsigned long main_turns; /* progress calls by the process's own threads: the
                                        progress thread stays out of their way while
                                        this keeps moving */
    _Atomic int           alloc_mapped; /* UCX's own memory (prma__ucx_alloc_mapped):
                                           1 mapped by same-host peers, -1 not, 0 not
                                           asked yet */
    _Atomic int           driving;   /* the worker's gate: 1 while a thread is inside
                                        ucp_worker_progress (prma__ucx_drive, the
                                        progress thread); the others do not wait for it */
    struct prma_ucx_owed  puts;      /* every put, for the worker flush */
};

/* Drive the worker from one of the process's own threads (not the progress
 * thread); returns what ucp_worker_progress returned, or 0 when another
 * thread is driving it at the moment.
 * NOTE: one thread at a time drives the worker, whatever its thread mode:
 * whoever finds the gate taken goes on without driving (the holder's
 * progress runs every callback, the other threads' included), so nobody
 * ever spins on UCX's own worker lock and a callback that waits cannot
 * re-enter ucp_worker_progress. */
unsigned prma__ucx_drive(struct prma_ucx *ucx);

/* Bring UCX up if this process or any other wants it (want is this
 * process's wish). Collective over the job through boot->allgather.
 * Leaves ctx->ucx NULL when nobody wants it. */
int prma__ucx_init(struct prma_context *ctx, int want);

/* From now on a peer's disconnection is expected (the job is stopping):
 * marks every peer closing. */
void prma__ucx_quiesce(struct prma_ucx *ucx);

/* Close every endpoint and release UCX. */
void prma__ucx_fini(struct prma_context *ctx);

/* The portrma status for a UCX status (never one generic error). */
int prma__ucx_status(ucs_status_t status);

/* The endpoint to job rank `rank`, made on first use; same_host says the
 * peer shares this machine (no UCX peer failure detection is asked for). */
int prma__ucx_ep(struct prma_ucx *ucx, int rank, int same_host, ucp_ep_h *ep_p);

/* Register [base, base + len) for remote access and pack its key. */
int prma__ucx_mem_map(struct prma_ucx *ucx, void *base, size_t len, ucp_mem_h *memh_p,
                      void **rkey_p, size_t *rkey_len_p);

/* Pack the key of memh (registered or allocated) for peers. */
int prma__ucx_mem_pack(struct prma_ucx *ucx, ucp_mem_h memh, void **rkey_p, size_t *rkey_len_p);

/* Have UCX allocate len bytes of window memory (ucp_mem_map ALLOCATE): its
 * shared-memory transports then reach it directly (a same-host peer may
 * even map it, ucp_rkey_ptr), where memory registered from outside must
 * be emulated through this process's worker. Fails quietly (a debug line):
 * the caller falls back on memory of its own.
 * NOTE: the memory is UCX's: prma__ucx_mem_unmap(memh) frees it. */
int prma__ucx_mem_alloc(struct prma_ucx *ucx, size_t len, void **base_p, ucp_mem_h *memh_p);

/* Can a same-host peer map memory that UCX allocates (ucp_rkey_ptr)? Only
 * then is UCX's memory better than a memfd of ours for a window that
 * peers reach through UCX: otherwise its transports emulate every access
 * whatever the memory (tcp). Found out once per process, with self_rank
 * (this process's job rank) as the peer; a failure to find out is a no. */
int prma__ucx_alloc_mapped(struct prma_ucx *ucx, int self_rank);

/* Undo prma__ucx_mem_map() or prma__ucx_mem_alloc() (and the key's packing). */
void prma__ucx_mem_unmap(struct prma_ucx *ucx, ucp_mem_h memh, void *rkey);

/* Complete every operation started on the worker at its target (remote
 * completion), driving progress and taking turns with wait (may be NULL). */
struct prma_waiter;
int prma__ucx_flush(struct prma_ucx *ucx, struct prma_waiter *wait);

/* Drive the worker once. */
void prma__ucx_progress(struct prma_ucx *ucx);

#endif /* PRMA_UCX_H */
