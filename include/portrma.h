/**
 * @file portrma.h
 * @brief portrma native API: one-sided communication built on message ports.
 *
 * This header has no MPI types: the MPI shim (libportrma_mpi) is one user of
 * it, tests and tools are others. Every function returns a status (see
 * ::prma_status_t): PRMA_OK (0) on success, a negative PRMA_ERR_* on failure.
 * Output arguments end in _p and are written only on success.
 */
#ifndef PORTRMA_H
#define PORTRMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the exported API (the library builds with -fvisibility=hidden). */
#if defined(__GNUC__)
#define PRMA_API __attribute__((visibility("default")))
#else
#define PRMA_API
#endif

/** Version of this header; prma_version() gives the library's. */
#define PRMA_VERSION_STRING "0.1.0"

/**
 * The one status table: name, value, message, and the MPI error class the
 * shim reports it as (a token that the shim pastes onto "MPI_"). Adding a
 * status here is the whole job: the enum, prma_status_string() and the MPI
 * mapping all expand from it. DYNAMIC_CLASS means the shim registers an
 * error class of its own for the status (MPI_Add_error_class), so that a
 * program sees a distinct class with portrma's message instead of
 * MPI_ERR_OTHER.
 */
#define PRMA_STATUS_MAP(X)                                                              \
    X(OK,              0,  "success",                                     SUCCESS)      \
    X(EASYNC,          1,  "started; completion is reported later",       SUCCESS)      \
    X(ERR_ARG,        -1,  "invalid argument",                            ERR_ARG)      \
    X(ERR_NOMEM,      -2,  "out of memory",                               ERR_NO_MEM)   \
    X(ERR_WIN,        -3,  "invalid window",                              ERR_WIN)      \
    X(ERR_RANK,       -4,  "invalid target rank",                         ERR_RANK)     \
    X(ERR_COUNT,      -5,  "invalid count",                               ERR_COUNT)    \
    X(ERR_TYPE,       -6,  "invalid datatype",                            ERR_TYPE)     \
    X(ERR_ASSERT,     -7,  "invalid assert argument",                     ERR_ASSERT)   \
    X(ERR_RMA_SYNC,   -8,  "RMA call outside a matching epoch",           ERR_RMA_SYNC) \
    X(ERR_RMA_RANGE,  -9,  "target range outside the target's window",    ERR_RMA_RANGE)\
    X(ERR_SIZE,       -10, "invalid window size",                         ERR_SIZE)     \
    X(ERR_DISP,       -11, "invalid displacement unit",                   ERR_DISP)     \
    X(ERR_NOTSUP,     -12, "operation not supported by this port",        ERR_UNSUPPORTED_OPERATION) \
    X(ERR_UNREACHABLE,-13, "no port kind can reach this target",          ERR_UNSUPPORTED_OPERATION) \
    X(ERR_MAP,        -14, "mapping a window's memory failed",            ERR_NO_MEM)   \
    X(ERR_PEER,       -15, "a peer process could not be accessed",        ERR_OTHER)    \
    X(ERR_PEER_FAILED,-16, "a peer failed during a collective step",      ERR_OTHER)    \
    X(ERR_NOTFOUND,   -17, "no such object",                              ERR_ARG)      \
    X(ERR_BOOTSTRAP,  -18, "a bootstrap collective failed",               ERR_OTHER)    \
    X(ERR_IO,         -19, "system call failed",                          ERR_OTHER)    \
    X(ERR_PEER_LOST,  -20, "a peer process failed or its connection broke", DYNAMIC_CLASS) \
    X(ERR_PEER_TIMEOUT,-21, "a peer process stopped answering",           DYNAMIC_CLASS) \
    X(ERR_UCX_IO,     -22, "UCX reported an input/output error",          DYNAMIC_CLASS) \
    X(ERR_UCX_RESOURCE,-23, "UCX ran out of a resource",                  DYNAMIC_CLASS) \
    X(ERR_UCX_INVALID,-24, "UCX refused an argument",                     DYNAMIC_CLASS) \
    X(ERR_UCX,        -25, "UCX failed (see the logged cause)",           DYNAMIC_CLASS) \
    X(ERR_RMA_SHARED, -26, "the group cannot share memory (not one node)", ERR_RMA_SHARED) \
    X(ERR_RMA_FLAVOR, -27, "the window's flavor does not allow this",     ERR_RMA_FLAVOR) \
    X(ERR_OP,         -28, "reduction not defined on this datatype",      ERR_OP)         \
    X(ERR_RMA_ATTACH, -29, "memory overlaps memory attached already",     ERR_RMA_ATTACH) \
    X(ERR_RMA_CONFLICT,-30, "a local access collided with RMA (see the guard's report)", ERR_RMA_CONFLICT)

/** Status codes of every prma_* call. */
typedef enum prma_status {
#define PRMA_STATUS_ENUM_(name, value, msg, mpiclass) PRMA_##name = value,
    PRMA_STATUS_MAP(PRMA_STATUS_ENUM_)
#undef PRMA_STATUS_ENUM_
} prma_status_t;

/**
 * @brief Describe a status.
 * @param [in] status  a prma_status_t value
 * @return a static string; "unknown status" for a value not in the table
 */
PRMA_API const char *prma_status_string(int status);

/** @return the library's version string. */
PRMA_API const char *prma_version(void);

/** Opaque handles. */
typedef struct prma_context *prma_context_h;
typedef struct prma_win     *prma_win_h;

/** Allgather over a group: len bytes in from each rank, in rank order. */
typedef int (*prma_allgather_cb)(void *arg, const void *sendbuf, void *recvbuf, size_t len);
/** Barrier over a group. */
typedef int (*prma_barrier_cb)(void *arg);

/**
 * What the starter of portrma tells it about this process (the MPI shim fills
 * it from PMPI; tests from threads). Node identity comes from the launcher
 * (MPI_COMM_TYPE_SHARED), never from a hostname guess.
 */
typedef struct prma_bootstrap {
    int               rank;        /**< rank in the job */
    int               size;        /**< number of processes in the job */
    uint64_t          node_id;     /**< equal on all processes of one node, different across nodes */
    int               local_rank;  /**< rank among the processes of this node */
    int               nnodes;      /**< nodes in the job */
    int               threads;     /**< nonzero when several threads may call portrma at once */
    void             *arg;         /**< passed to allgather */
    prma_allgather_cb allgather;   /**< over the whole job; prma_init() only; may be NULL
                                        for a job of one node that needs no UCX */
} prma_bootstrap_t;

/**
 * Collectives over the group of one window, handed to prma_win_create() and
 * kept by the window for its life (fence and free use them). The callbacks
 * return 0 on success, anything else on failure.
 */
typedef struct prma_coll {
    int               rank;       /**< this process's rank in the group */
    int               size;       /**< group size */
    void             *arg;        /**< passed to every callback */
    prma_allgather_cb allgather;  /**< required */
    prma_barrier_cb   barrier;    /**< required */
    int               guard;      /**< PRMA_GUARD_*: the window's exposure guard; 0 (or
                                       a zeroed struct): as PORTRMA_GUARD says. Every
                                       member must give the same. */
    int               remap;      /**< PRMA_REMAP_*: may prma_win_create() move this
                                       member's pages into shared memory (in place)?
                                       0: as PORTRMA_REMAP says. Each member its own. */
} prma_coll_t;

/** Moving a window's pages (prma_coll_t.remap; PORTRMA_REMAP). */
enum {
    PRMA_REMAP_DEFAULT = 0,  /**< as the PORTRMA_REMAP setting says */
    PRMA_REMAP_OFF     = 1,  /**< the window's memory stays as it is */
    PRMA_REMAP_ON      = 2,  /**< moved where it can be */
};

/** Exposure guard of a window (prma_coll_t.guard; PORTRMA_GUARD). */
enum {
    PRMA_GUARD_DEFAULT = 0,  /**< as the PORTRMA_GUARD setting says */
    PRMA_GUARD_OFF     = 1,  /**< not guarded */
    PRMA_GUARD_STRICT  = 2,  /**< any local access while exposed is a conflict */
    PRMA_GUARD_RACE    = 3,  /**< only a local access that collides with RMA of the
                                  same bytes in the same epoch (MPI-3.1 11.7) */
};

/** Synchronization asserts (bit set); the shim maps MPI_MODE_* onto them. */
enum {
    PRMA_MODE_NOCHECK   = 1u << 0,
    PRMA_MODE_NOSTORE   = 1u << 1,
    PRMA_MODE_NOPUT     = 1u << 2,
    PRMA_MODE_NOPRECEDE = 1u << 3,
    PRMA_MODE_NOSUCCEED = 1u << 4,
};

/** How a window's memory came to be. */
typedef enum prma_win_flavor {
    PRMA_WIN_FLAVOR_CREATE   = 1,  /**< user memory (prma_win_create) */
    PRMA_WIN_FLAVOR_ALLOCATE = 2,  /**< portrma memory (prma_win_allocate) */
    PRMA_WIN_FLAVOR_SHARED   = 3,  /**< memory every member loads and stores (prma_win_allocate_shared) */
    PRMA_WIN_FLAVOR_DYNAMIC  = 4,  /**< memory attached at any time (prma_win_create_dynamic) */
} prma_win_flavor_t;

/** What prma_win_query() reports about the local part of a window. */
typedef struct prma_win_attr {
    void              *base;       /**< the user view of local window memory */
    size_t             size;       /**< bytes */
    size_t             disp_unit;  /**< bytes per displacement unit */
    prma_win_flavor_t  flavor;
    int                rank;       /**< this process in the window's group */
    int                group_size;
} prma_win_attr_t;

/**
 * @brief Start portrma in this process. Collective over the job when UCX is
 *        needed (the job spans nodes, or PORTRMA_TRANSPORT=ucx or
 *        PORTRMA_NODE_SIZE asks for it on any process): the UCX worker
 *        addresses are exchanged through boot->allgather.
 * @param [in]  boot   who this process is
 * @param [out] ctx_p  the context
 * @return PRMA_OK, PRMA_ERR_ARG for an inconsistent bootstrap, PRMA_ERR_NOMEM
 */
PRMA_API int prma_init(const prma_bootstrap_t *boot, prma_context_h *ctx_p);

/**
 * @brief Drive portrma's asynchronous work once (the UCX worker, and the
 *        requests same-node origins handed this process, see
 *        prma_agent_active()). A starter whose collectives block (an
 *        MPI_Barrier) calls it while it waits, because transports without
 *        remote memory access need the target to take part in a peer's put
 *        or get.
 * @param [in] ctx  the context
 * @return 1 when the context has such work to drive, 0 when it has none
 *         (a blocking wait then needs no calls)
 */
PRMA_API int prma_progress(prma_context_h ctx);

/**
 * @brief Does this process have asynchronous work that its waits must drive
 *        (a UCX worker)? The answer holds from prma_init() to
 *        prma_finalize(): a starter may ask once and keep it.
 * @param [in] ctx  the context (NULL: none)
 * @return 1 when it has, 0 when it has not
 */
PRMA_API int prma_progress_needed(prma_context_h ctx);

/**
 * @brief One turn of a wait loop outside portrma (a blocking call of the
 *        MPI library turned into a loop that tests its nonblocking form):
 *        drive the UCX worker once, unless another thread is driving it at
 *        the moment, then serve what same-node origins handed this process
 *        (prma_agent_active()), and when neither did anything, relax the
 *        CPU or, after a few such turns, yield it, as portrma's own waits do.
 * @param [in]     ctx      the context
 * @param [in,out] turns_p  idle turns of this wait so far; zero it to start
 * @return the number of events the worker progressed, else of requests
 *         served; 0 when none (the CPU was relaxed or yielded)
 */
PRMA_API unsigned prma_progress_turn(prma_context_h ctx, unsigned *turns_p);

/**
 * @brief Does this process have a window whose same-node origins may hand
 *        it small operations while it waits (the node agent: windows they
 *        reach by process_vm_readv/writev)? Then a blocking wait outside
 *        portrma should be a loop of prma_progress_turn(), ended by
 *        prma_agent_idle(). Unlike prma_progress_needed(), the answer
 *        changes as windows are created and freed; it costs one load.
 * @param [in] ctx  the context (NULL: none)
 * @return 1 when it has, 0 when it has not
 */
PRMA_API int prma_agent_active(prma_context_h ctx);

/**
 * @brief A wait outside portrma ends: serve what was handed in meanwhile
 *        and tell origins this process no longer polls, so that they use
 *        the system calls at once instead of waiting for it.
 * @param [in] ctx  the context (NULL: nothing)
 */
PRMA_API void prma_agent_idle(prma_context_h ctx);

/**
 * @brief The process is about to stop: from now on a peer's UCX
 *        disconnection is expected and is no error. A starter whose
 *        processes stop together calls it on each, before the barrier that
 *        precedes prma_finalize(), so that a peer which gets past the
 *        barrier first and closes its endpoints is not taken for a failure.
 * @param [in] ctx  the context
 */
PRMA_API void prma_quiesce(prma_context_h ctx);

/**
 * @brief Stop portrma; windows still open are leaked, not freed (freeing is
 *        collective). Memory from prma_mem_alloc() stays mapped.
 * @param [in] ctx  the context
 */
PRMA_API void prma_finalize(prma_context_h ctx);

/**
 * @brief Allocate memory that same-node peers can map (a memfd mapped twice:
 *        the user view returned here and portrma's agent view), placed on
 *        this process's NUMA node.
 * @param [in]  ctx    the context
 * @param [in]  size   bytes (0 is allowed and gives a unique pointer)
 * @param [out] ptr_p  the user view
 * @return PRMA_OK, PRMA_ERR_NOMEM, PRMA_ERR_MAP
 */
PRMA_API int prma_mem_alloc(prma_context_h ctx, size_t size, void **ptr_p);

/**
 * @brief Release memory from prma_mem_alloc().
 * @param [in] ctx  the context
 * @param [in] ptr  exactly a pointer that prma_mem_alloc() returned
 * @return PRMA_OK, PRMA_ERR_NOTFOUND when ptr is not portrma's
 */
PRMA_API int prma_mem_free(prma_context_h ctx, void *ptr);

/**
 * @brief Is ptr inside memory from prma_mem_alloc()?
 * @return 1 if it is, 0 if not
 */
PRMA_API int prma_mem_owns(prma_context_h ctx, const void *ptr);

/**
 * @brief Create a window over memory the caller owns. Collective over coll.
 * @param [in]  ctx        the context
 * @param [in]  coll       the window group's collectives; copied
 * @param [in]  base       local window memory (may be NULL when size is 0)
 * @param [in]  size       bytes of local window memory
 * @param [in]  disp_unit  bytes per displacement unit, > 0
 * @param [out] win_p      the window
 * @return PRMA_OK; PRMA_ERR_DISP, PRMA_ERR_ARG for bad arguments;
 *         PRMA_ERR_NOMEM; PRMA_ERR_PEER_FAILED when another rank failed
 *         (every rank then fails together)
 */
PRMA_API int prma_win_create(prma_context_h ctx, const prma_coll_t *coll, void *base,
                    size_t size, size_t disp_unit, prma_win_h *win_p);

/**
 * @brief Allocate window memory (as prma_mem_alloc()) and create a window
 *        over it. Collective over coll.
 * @param [out] base_p  the user view of the new memory (NULL when size is 0)
 * @param [out] win_p   the window
 * @return as prma_win_create(), plus PRMA_ERR_MAP
 */
PRMA_API int prma_win_allocate(prma_context_h ctx, const prma_coll_t *coll, size_t size,
                      size_t disp_unit, void **base_p, prma_win_h *win_p);

/**
 * @brief Allocate memory that every member of the group (all on one node)
 *        can load and store, and a window over it. Collective over coll.
 * @param [in]  contiguous  nonzero: the members' parts follow each other in
 *                          rank order in one segment (MPI's default);
 *                          zero: each part is its own allocation
 * @param [out] base_p      the user view of this member's part
 * @return as prma_win_allocate(), plus PRMA_ERR_RMA_SHARED when the group
 *         spans nodes (every member fails alike)
 */
PRMA_API int prma_win_allocate_shared(prma_context_h ctx, const prma_coll_t *coll, size_t size,
                                      size_t disp_unit, int contiguous, void **base_p,
                                      prma_win_h *win_p);

/**
 * @brief Create a window without memory, to which each member attaches
 *        regions of its own memory at any time (prma_win_attach()).
 *        Collective over coll. Targets are addressed by absolute address:
 *        target_disp is the address of the byte in the target process (as
 *        MPI_Get_address gives it), the displacement unit is 1, and an
 *        access must lie inside one region the target has attached.
 * @param [in]  ctx    the context
 * @param [in]  coll   the window group's collectives; copied
 * @param [out] win_p  the window
 * @return as prma_win_create()
 */
PRMA_API int prma_win_create_dynamic(prma_context_h ctx, const prma_coll_t *coll,
                                     prma_win_h *win_p);

/**
 * @brief Make [base, base + len) of this process's memory accessible to the
 *        members of a dynamic window. Not collective; a peer may access it
 *        once a synchronization orders the attach before its access.
 * @param [in] win   a dynamic window
 * @param [in] base  the region (may be NULL when len is 0)
 * @param [in] len   bytes; 0 is allowed and makes nothing accessible
 * @return PRMA_OK; PRMA_ERR_RMA_FLAVOR when win is not dynamic;
 *         PRMA_ERR_ARG for a NULL base with len > 0 or a range that wraps;
 *         PRMA_ERR_RMA_ATTACH when the region overlaps (or starts where)
 *         one attached already; PRMA_ERR_NOMEM, a UCX failure
 *         (registering the region)
 */
PRMA_API int prma_win_attach(prma_win_h win, void *base, size_t len);

/**
 * @brief Make the region attached at base inaccessible again.
 * @param [in] win   a dynamic window
 * @param [in] base  exactly the base a prma_win_attach() was given
 * @return PRMA_OK; PRMA_ERR_RMA_FLAVOR when win is not dynamic;
 *         PRMA_ERR_NOTFOUND when no region is attached at base (the window
 *         stays as it was)
 */
PRMA_API int prma_win_detach(prma_win_h win, const void *base);

/**
 * @brief Where this process loads and stores target's part of a window
 *        (MPI_Win_shared_query): its size, displacement unit and address
 *        here. For a target whose memory this process cannot map, the size
 *        is 0 and the address NULL.
 * @return PRMA_OK, PRMA_ERR_RANK, PRMA_ERR_RMA_FLAVOR for a window over
 *         user memory or a dynamic window
 */
PRMA_API int prma_win_shared_query(prma_win_h win, int target, size_t *size_p,
                                   size_t *disp_unit_p, void **base_p);

/**
 * @brief Name the window in portrma's diagnostics (the exposure guard's
 *        reports).
 * @param [in] name  copied (truncated to 127 bytes)
 * @return PRMA_OK, PRMA_ERR_ARG
 */
PRMA_API int prma_win_set_name(prma_win_h win, const char *name);

/**
 * @brief Free a window. Collective; waits until no peer can still access it.
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC when an access epoch other than a fence
 *         epoch is open, PRMA_ERR_BOOTSTRAP when the closing barrier failed
 */
PRMA_API int prma_win_free(prma_win_h win);

/**
 * @brief May the window be freed now (no epoch open but a fence epoch)?
 * @return PRMA_OK or PRMA_ERR_RMA_SYNC
 */
PRMA_API int prma_win_check_free(prma_win_h win);

/**
 * @brief Fence: complete every operation of the closing epoch, everywhere,
 *        and open the next one. Collective.
 * @param [in] mode  PRMA_MODE_{NOSTORE,NOPUT,NOPRECEDE,NOSUCCEED} bits
 * @return PRMA_OK, PRMA_ERR_ASSERT for other bits, PRMA_ERR_RMA_SYNC inside
 *         another kind of epoch, PRMA_ERR_BOOTSTRAP
 */
PRMA_API int prma_win_fence(prma_win_h win, unsigned mode);

/**
 * @brief Write len bytes from origin into target's window, starting offset
 *        bytes after target_disp displacement units (the TARGET's unit; on a
 *        dynamic window, target_disp + offset is an address in the target).
 *        Completes by the end of the epoch.
 * @return PRMA_OK; PRMA_ERR_RMA_SYNC outside an access epoch; PRMA_ERR_RANK;
 *         PRMA_ERR_RMA_RANGE when the range leaves the target's window;
 *         PRMA_ERR_UNREACHABLE; PRMA_ERR_PEER. On error nothing is written.
 */
PRMA_API int prma_win_put(prma_win_h win, const void *origin, size_t len, int target,
                 uint64_t target_disp, uint64_t offset);

/**
 * @brief Read len bytes from target's window (addressed as in
 *        prma_win_put()) into origin.
 * @return as prma_win_put()
 */
PRMA_API int prma_win_get(prma_win_h win, void *origin, size_t len, int target,
                 uint64_t target_disp, uint64_t offset);

/** Lock types of prma_win_lock(). */
enum {
    PRMA_LOCK_SHARED    = 1,
    PRMA_LOCK_EXCLUSIVE = 2,
};

/**
 * @brief Open a passive-target access epoch to target (MPI_Win_lock).
 * @param [in] lock_type  PRMA_LOCK_SHARED or PRMA_LOCK_EXCLUSIVE
 * @param [in] mode       0 or PRMA_MODE_NOCHECK
 * @return PRMA_OK; PRMA_ERR_RMA_SYNC when another kind of access epoch is
 *         open, target is locked already or the window has no_locks;
 *         PRMA_ERR_RANK; PRMA_ERR_ASSERT; PRMA_ERR_ARG for a bad lock type;
 *         a peer or UCX failure
 */
PRMA_API int prma_win_lock(prma_win_h win, int lock_type, int target, unsigned mode);

/**
 * @brief Complete every operation to target at target and release its lock.
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC when target is not locked, PRMA_ERR_RANK
 */
PRMA_API int prma_win_unlock(prma_win_h win, int target);

/**
 * @brief Open a shared access epoch to every rank (MPI_Win_lock_all). Each
 *        target's lock is taken on its first access, so the cost does not
 *        grow with ranks the epoch never touches.
 * @param [in] mode  0 or PRMA_MODE_NOCHECK
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC, PRMA_ERR_ASSERT
 */
PRMA_API int prma_win_lock_all(prma_win_h win, unsigned mode);

/** @brief Close a lock_all epoch. @return PRMA_OK, PRMA_ERR_RMA_SYNC, a failure */
PRMA_API int prma_win_unlock_all(prma_win_h win);

/**
 * @brief Complete every operation to target at target (remote completion).
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC outside a passive epoch (or target not
 *         locked), PRMA_ERR_RANK, a failure
 */
PRMA_API int prma_win_flush(prma_win_h win, int target);

/** @brief prma_win_flush() to every target. @return as prma_win_flush() */
PRMA_API int prma_win_flush_all(prma_win_h win);

/**
 * @brief Complete every operation to target at the origin only: its
 *        buffers may be reused, nothing is known of the target.
 * @return as prma_win_flush()
 */
PRMA_API int prma_win_flush_local(prma_win_h win, int target);

/** @brief prma_win_flush_local() to every target. @return as prma_win_flush() */
PRMA_API int prma_win_flush_local_all(prma_win_h win);

/** @brief Order this process's loads and stores to its window memory with
 *         RMA (MPI_Win_sync). @return PRMA_OK */
PRMA_API int prma_win_sync(prma_win_h win);

/** @brief Promise that the window is never locked (info no_locks); locking
 *         it is then PRMA_ERR_RMA_SYNC. @return PRMA_OK */
PRMA_API int prma_win_set_no_locks(prma_win_h win, int no_locks);

/** @return 1 when the window has no_locks, else 0 */
PRMA_API int prma_win_no_locks(prma_win_h win);

/**
 * @brief Expose the window to the origins in ranks (MPI_Win_post).
 * @param [in] ranks  n ranks of the window's group
 * @param [in] mode   PRMA_MODE_{NOCHECK,NOSTORE,NOPUT} bits
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC, PRMA_ERR_ASSERT, PRMA_ERR_RANK, a failure
 */
PRMA_API int prma_win_post(prma_win_h win, const int *ranks, int n, unsigned mode);

/**
 * @brief Open an access epoch to the targets in ranks (MPI_Win_start).
 *        Returns at once: operations to a target whose post has not
 *        arrived wait in that target's port.
 * @param [in] mode  0 or PRMA_MODE_NOCHECK
 * @return PRMA_OK, PRMA_ERR_RMA_SYNC, PRMA_ERR_ASSERT, PRMA_ERR_RANK
 */
PRMA_API int prma_win_start(prma_win_h win, const int *ranks, int n, unsigned mode);

/** @brief Close the start epoch: complete its operations at the targets and
 *         tell them. @return PRMA_OK, PRMA_ERR_RMA_SYNC, a failure */
PRMA_API int prma_win_complete(prma_win_h win);

/** @brief Wait for every origin of the post epoch to complete.
 *  @return PRMA_OK, PRMA_ERR_RMA_SYNC, a failure */
PRMA_API int prma_win_wait(prma_win_h win);

/** @brief prma_win_wait() without waiting: *flag_p is 1 when it closed the
 *         epoch, 0 when origins are still at work. @return as prma_win_wait() */
PRMA_API int prma_win_test(prma_win_h win, int *flag_p);

/** Reductions of the accumulate family (MPI's predefined ones). */
typedef enum prma_op {
    PRMA_OP_SUM = 0, PRMA_OP_PROD, PRMA_OP_MAX, PRMA_OP_MIN, PRMA_OP_BAND, PRMA_OP_BOR,
    PRMA_OP_BXOR, PRMA_OP_LAND, PRMA_OP_LOR, PRMA_OP_LXOR, PRMA_OP_REPLACE, PRMA_OP_NO_OP,
    PRMA_OP_MAXLOC, PRMA_OP_MINLOC,
    PRMA_OP_COUNT_  /**< not an op: how many there are */
} prma_op_t;

/**
 * The element types the accumulate family reduces: C's, by size and kind.
 * An element occupies prma_type_extent() bytes (the C type's sizeof; for
 * the pair types, the sizeof of struct { value; int index; }).
 */
typedef enum prma_type {
    PRMA_TYPE_INT8 = 0, PRMA_TYPE_UINT8, PRMA_TYPE_INT16, PRMA_TYPE_UINT16,
    PRMA_TYPE_INT32, PRMA_TYPE_UINT32, PRMA_TYPE_INT64, PRMA_TYPE_UINT64,
    PRMA_TYPE_BYTE,           /**< bits only: BAND, BOR, BXOR, REPLACE, NO_OP */
    PRMA_TYPE_CHAR,           /**< text: REPLACE and NO_OP only */
    PRMA_TYPE_BOOL,           /**< C _Bool: the logical ops */
    PRMA_TYPE_FLOAT, PRMA_TYPE_DOUBLE, PRMA_TYPE_LONG_DOUBLE,
    PRMA_TYPE_FLOAT_COMPLEX, PRMA_TYPE_DOUBLE_COMPLEX, PRMA_TYPE_LONG_DOUBLE_COMPLEX,
    PRMA_TYPE_FLOAT_INT, PRMA_TYPE_DOUBLE_INT, PRMA_TYPE_LONG_INT, PRMA_TYPE_2INT,
    PRMA_TYPE_SHORT_INT, PRMA_TYPE_LONG_DOUBLE_INT,
    PRMA_TYPE_COUNT_          /**< not a type: how many there are */
} prma_type_t;

/**
 * @brief Reduce count elements of type at origin into target's window at
 *        target_disp units + offset bytes with op, each element atomically
 *        (MPI_Accumulate); with result not NULL, the old values land there
 *        first (MPI_Get_accumulate, MPI_Fetch_and_op). origin may be NULL
 *        for PRMA_OP_NO_OP. The data at result is there once the operation
 *        completes locally (a flush_local or synchronization; today, at
 *        return).
 * @return as prma_win_put(), plus PRMA_ERR_OP for an op not defined on
 *         type and PRMA_ERR_TYPE for a bad type
 */
PRMA_API int prma_win_accumulate(prma_win_h win, prma_op_t op, prma_type_t type,
                                 const void *origin, size_t count, void *result, int target,
                                 uint64_t target_disp, uint64_t offset);

/** Accumulate hints (info keys accumulate_ordering and accumulate_ops). */
#define PRMA_ACC_ORDER_NONE    0x1u  /**< accumulate_ordering=none */
#define PRMA_ACC_SAME_OP       0x2u  /**< accumulate_ops=same_op */
#define PRMA_ACC_SAME_OP_NO_OP 0x4u  /**< accumulate_ops=same_op_no_op */

/** @brief Set the window's accumulate hints (PRMA_ACC_*), as every member
 *         does alike. @return PRMA_OK, PRMA_ERR_WIN */
PRMA_API int prma_win_set_acc_hints(prma_win_h win, unsigned hints);

/**
 * @brief Bytes one element of type occupies: the C type's sizeof, or for a
 *        pair type the sizeof of struct { value; int index; }, padding
 *        included.
 * @param [in] type  element type
 * @return the extent; 0 for a value that is not a prma_type_t
 */
PRMA_API size_t prma_type_extent(prma_type_t type);

/**
 * @brief Is op defined on type? MPI-3.1 section 5.9.2's rules: SUM and PROD
 *        on integers, floating and complex types; MAX and MIN on integers
 *        and floating types; LAND, LOR and LXOR on integers and BOOL; BAND,
 *        BOR and BXOR on integers and BYTE; MAXLOC and MINLOC on the pair
 *        types only. REPLACE and NO_OP, the accumulate family's own, on
 *        every type (and all that CHAR takes).
 * @param [in] type  element type
 * @param [in] op    reduction
 * @return PRMA_OK when op is defined on type;
 *         PRMA_ERR_OP when it is not, and for a type or op out of range
 */
PRMA_API int prma_op_check(prma_type_t type, prma_op_t op);

/**
 * @brief Atomically apply op with *origin to the integer of size bytes (1,
 *        2, 4 or 8; is_signed for MAX/MIN) at target_disp in target's window,
 *        and return the old value in *result (MPI_Fetch_and_op): the
 *        integer form of prma_win_accumulate(), at any alignment.
 * @return as prma_win_put(), plus PRMA_ERR_ARG for a bad size or op
 */
PRMA_API int prma_win_fetch_op(prma_win_h win, prma_op_t op, size_t size, int is_signed,
                               const void *origin, void *result, int target,
                               uint64_t target_disp);

/**
 * @brief Atomically replace the integer at target_disp by *origin when it
 *        equals *compare; the old value goes to *result.
 * @return as prma_win_fetch_op(), plus PRMA_ERR_ARG for a target that is
 *         not naturally aligned (except on a dynamic window, or memory
 *         reached by copies, where the stripe lock serves any alignment)
 */
PRMA_API int prma_win_compare_swap(prma_win_h win, size_t size, const void *origin,
                                   const void *compare, void *result, int target,
                                   uint64_t target_disp);

/**
 * @brief Is a passive-target (lock or lock_all) access epoch open, as
 *        request-based operations need?
 * @return PRMA_OK or PRMA_ERR_RMA_SYNC
 */
PRMA_API int prma_win_check_passive(prma_win_h win);

/**
 * @brief Is an access epoch open that allows operations now?
 * @return PRMA_OK or PRMA_ERR_RMA_SYNC
 */
PRMA_API int prma_win_check_epoch(prma_win_h win);

/**
 * @brief Check an access of len bytes at target_disp units + offset bytes in
 *        target's window without doing it: epoch, rank, then range. Callers
 *        that split one operation into pieces check the whole span first, so
 *        that a refused operation writes nothing.
 * @return as prma_win_put(), without the transfer
 */
PRMA_API int prma_win_check_access(prma_win_h win, int target, uint64_t target_disp, uint64_t offset,
                          size_t len);

/**
 * @brief The displacement unit target gave for its part of the window (each
 *        member gives its own). Callers that address bytes below a
 *        displacement (a datatype with a negative lower bound) need it to
 *        turn the displacement into a byte offset.
 * @param [out] disp_unit_p  bytes per displacement unit at target
 * @return PRMA_OK, PRMA_ERR_RANK
 */
PRMA_API int prma_win_disp_unit(prma_win_h win, int target, size_t *disp_unit_p);

/**
 * @brief Describe the local part of a window.
 * @param [out] attr_p  filled in
 * @return PRMA_OK
 */
PRMA_API int prma_win_query(prma_win_h win, prma_win_attr_t *attr_p);

/**
 * @brief Name of the port kind that serves target ("self", "shm", "shm-cma",
 *        "none").
 * @return a static string, or NULL for a bad rank
 */
PRMA_API const char *prma_win_port_kind(prma_win_h win, int target);

/** One PORTRMA_* setting, as portrma_info prints it. */
typedef struct prma_setting {
    const char *name;     /**< environment variable */
    const char *value;    /**< in force now (the default when unset) */
    const char *deflt;    /**< default */
    const char *meaning;  /**< one sentence */
} prma_setting_t;

/**
 * @brief The i-th PORTRMA_* setting.
 * @param [out] setting_p  filled in
 * @return PRMA_OK, PRMA_ERR_NOTFOUND past the last one
 */
PRMA_API int prma_setting_get(int i, prma_setting_t *setting_p);

/** Port kinds this build has, comma separated (static string). */
PRMA_API const char *prma_port_kinds(void);

/**
 * @brief Describe this machine's topology and this process's binding as
 *        hwloc sees them, one line per item, into buf.
 * @return PRMA_OK, PRMA_ERR_IO when hwloc cannot load the topology
 */
PRMA_API int prma_topology_describe(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* PORTRMA_H */
