/*
 * shim.h - the PMPI layer: MPI_* entry points served by portrma.
 *
 * Layer rule: only mpi-shim/ includes <mpi.h>. The core (src/) must not
 * depend on MPI, and the shim reaches the core only through the public
 * portrma.h API.
 *
 * Every MPI entry point does the same four steps: check the arguments, call
 * the core, convert the status once (shim_class()), and hand the error class
 * to the window's error handler (shim_win_raise()) or, with no valid window,
 * to the communicator's (shim_comm_raise()).
 *
 * MPI_Win handles are portrma's own (handle.c), never a window of the MPI
 * library, and nothing here depends on how the MPI library represents its
 * handles: MPI_Win is a pointer in Open MPI and an int in MPICH.
 */
#ifndef PRMA_SHIM_H
#define PRMA_SHIM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include "portrma.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* A window call's PMPI_ name is the shim's too: whoever calls it (a
 * profiling tool stacked above portrma, MPICH's mpi_f08 module) holds a
 * window of portrma's, which must never reach the MPI library; and so are
 * MPI_Init's, MPI_Init_thread's and MPI_Finalize's, which set portrma up and
 * tear it down, and MPI_Win_create_errhandler's and MPI_Errhandler_free's,
 * whose handlers the shim keeps (errors.c). Not for the other calls
 * the shim itself makes to the library by their PMPI_ names (MPI_Alloc_mem,
 * MPI_Free_mem, the blocking calls). */
#define SHIM_PMPI(name) SHIM_EXPORT __typeof__(name) P##name __attribute__((alias(#name)))

/* The MPI library's function behind a PMPI_ name the shim also defines
 * (MPI_Init, MPI_Init_thread, MPI_Finalize, MPI_Win_create_errhandler,
 * MPI_Errhandler_free):
 * found with dlsym(RTLD_NEXT), since the shim's own name would call the
 * shim. init.c. */
void (*shim_next(const char *name))(void);
#define SHIM_NEXT(fn) ((__typeof__(&fn))shim_next(#fn))

struct shim_attr;

/* A window as the shim knows it. */
struct shim_win {
    int               index;      /* slot in the handle table */
    prma_win_h        core;
    MPI_Comm          comm;       /* private duplicate of the creating comm */
    prma_coll_t       coll;
    int               flavor;     /* MPI_WIN_FLAVOR_* */
    int               model;      /* MPI_WIN_UNIFIED */
    void             *base;       /* attribute values point at these */
    MPI_Aint          size;
    int               disp_unit;
    char              name[MPI_MAX_OBJECT_NAME];
    MPI_Errhandler    errhandler;
    struct shim_attr *attrs;      /* user attributes, newest first */
    MPI_Info          info;       /* hints given by the user, or MPI_INFO_NULL */
    unsigned          acc_hints;  /* PRMA_ACC_*, from the info keys */
    /* active.c: the last groups post and start were given, translated to
     * ranks of the window (a copy of each, to know the handle still names
     * the same members). */
    struct shim_group_ranks {
        MPI_Group group, copy;
        int       n, *ranks;
    } groups[2];
};

/* active.c: the groups a window keeps, set up empty and forgotten. */
void shim_groups_init(struct shim_win *w);
void shim_groups_release(struct shim_win *w);

/* Process state (init.c). */
extern prma_context_h shim_ctx;

/* handle.c: the window handle table. */
MPI_Win          shim_win_register(struct shim_win *w);
void             shim_win_unregister(struct shim_win *w);
static inline struct shim_win *shim_win_lookup(MPI_Win handle);
MPI_Win          shim_win_handle(const struct shim_win *w);
MPI_Fint         shim_win_to_f(MPI_Win handle);
MPI_Win          shim_win_from_f(MPI_Fint f);

/* errors.c */
int  shim_classes_setup(void);
int  shim_class(int status);
/* (The error paths are out of line and cold: callers' fast paths stay
 * without a stack frame.) */
__attribute__((cold, noinline)) int shim_win_raise(struct shim_win *w, int errclass,
                                                   const char *func);
int  shim_comm_raise(MPI_Comm comm, int errclass, const char *func);
__attribute__((cold, noinline)) int shim_bad_win(MPI_Win win, const char *func);
int shim_errhandler_create(MPI_Win_errhandler_function *fn, MPI_Errhandler *errhandler,
                           int fortran);
void shim_errhandler_retain(MPI_Errhandler errh);
void shim_errhandler_release(MPI_Errhandler errh);

/* win_attr.c */
int  shim_attrs_delete_all(struct shim_win *w);
/* A caller of a delete callback written in another language (fortran.c's,
 * MPICH's MPII_Attr_delete_proxy): the callback, the window, the keyval,
 * the attribute's kind and value, the extra state. */
typedef int shim_delete_proxy(MPI_Win_delete_attr_function *fn, MPI_Win win, int keyval,
                              int kind, void *value, void *extra);
int  shim_attr_set(MPI_Win win, int win_keyval, void *attribute_val, int kind);
int  shim_attr_value(MPI_Win win, int win_keyval, MPI_Aint *value, int *flag);
int  shim_keyval_set_proxy(int keyval, shim_delete_proxy *proxy);

/*
 * datatype.c: what a datatype is to put and get. One element of a datatype
 * is a list of contiguous byte blocks in type-map order (the order pairs
 * origin bytes with target bytes), flattened once per datatype and cached
 * on it until it is freed.
 */
struct shim_piece {
    MPI_Aint off;  /* bytes from the element's start; may be negative */
    size_t   n;    /* units: bytes for a byte block, basic elements (one every
                      basic_extent bytes) for a run */
};

struct shim_sig;  /* the type signature, run-length encoded (datatype.c) */

struct shim_layout {
    int                      nblk;         /* byte blocks per element */
    const struct shim_piece *blk;
    int                      nrun;         /* basic-element runs per element; 0 when basic < 0 */
    const struct shim_piece *run;
    MPI_Aint                 extent;       /* element stride (MPI extent) */
    MPI_Aint                 true_lb;      /* lowest byte touched, from the element start */
    MPI_Aint                 true_ub;      /* one past the highest byte touched */
    size_t                   size;         /* data bytes per element (MPI_Type_size) */
    int                      contiguous;   /* one block at 0 whose len == extent == size */
    int                      basic;        /* the prma_type_t every basic element is, or -1
                                              when they differ or one has none */
    size_t                   basic_extent; /* bytes of one basic element, 0 when basic < 0 */
    size_t                   nbasic;       /* basic elements per element, 0 when basic < 0 */
    int                      nsig;         /* entries of sig (for shim_type_match) */
    const struct shim_sig   *sig;
};

/* The layout of a committed (or predefined) datatype: MPI_SUCCESS or an
 * error class (MPI_ERR_TYPE for a null or uncommitted type). The pointers
 * in it stay valid until the type is freed. */
int  shim_type_layout(MPI_Datatype type, struct shim_layout *layout_p);
/* MPI_SUCCESS when acount elements of a and bcount of b have the same type
 * signature (sequence of basic types), else MPI_ERR_TYPE. */
int  shim_type_match(const struct shim_layout *a, MPI_Aint acount, const struct shim_layout *b,
                     MPI_Aint bcount);
/* The prma_type_t of a predefined MPI datatype: MPI_SUCCESS, or
 * MPI_ERR_TYPE for a type that has none (derived ones included). */
int  shim_type_basic(MPI_Datatype predefined, prma_type_t *type_p);
/* The size of a predefined type whose data is one block at its start
 * filling its extent (MPI_INT, MPI_BYTE, ...), else 0: the fast path's
 * question, answered from the table without building anything. */
size_t shim_type_contig_size(MPI_Datatype type);

/* The same, for the first predefined type of a slot of a small table: in
 * line, without the full search (which it falls back to). */
#define SHIM_CONTIG_SLOTS 256
struct shim_contig {
    MPI_Datatype type;
    size_t       size;
    int          basic;  /* its prma_type_t, or -1 */
};
extern struct shim_contig shim_contig[SHIM_CONTIG_SLOTS] __attribute__((visibility("hidden")));

static inline unsigned shim_contig_slot(MPI_Datatype type)
{
    return (unsigned)(((uint64_t)(uintptr_t)type * 0x9E3779B97F4A7C15ull) >> 56) &
           (SHIM_CONTIG_SLOTS - 1);
}

/* The type's entry of the table (it lies in one of SHIM_CONTIG_PROBE slots
 * from its own), or NULL. */
#define SHIM_CONTIG_PROBE 4
static inline const struct shim_contig *shim_contig_find(MPI_Datatype type)
{
    unsigned s = shim_contig_slot(type);

    for (int i = 0; i < SHIM_CONTIG_PROBE; i++, s = (s + 1) & (SHIM_CONTIG_SLOTS - 1))
        if (shim_contig[s].type == type && shim_contig[s].size != 0)
            return &shim_contig[s];
    return NULL;
}

static inline size_t shim_type_contig_fast(MPI_Datatype type)
{
    const struct shim_contig *c = shim_contig_find(type);

    return c != NULL ? c->size : shim_type_contig_size(type);
}

/* shim_type_basic(), in line for the types of that table. */
static inline int shim_type_basic_fast(MPI_Datatype type, prma_type_t *type_p)
{
    const struct shim_contig *c = shim_contig_find(type);

    if (c != NULL && c->basic >= 0) {
        *type_p = (prma_type_t)c->basic;
        return MPI_SUCCESS;
    }
    return shim_type_basic(type, type_p);
}
int  shim_type_setup(void);
void shim_type_teardown(void);

/* acc.c: portrma's reduction for a predefined MPI_Op, -1 for others;
 * the accumulate family (fetch: a Get_accumulate form; counts of any size,
 * for the large-count _c forms too). */
int  shim_op(MPI_Op op);

/* The same in line: a table of the predefined ops made at start-up
 * (shim_op_setup), searched by the handle's hash. */
#define SHIM_OP_SLOTS 32
struct shim_op_slot {
    MPI_Op op;
    int    ours;  /* prma_op_t; -1: a free slot */
};
extern struct shim_op_slot shim_ops[SHIM_OP_SLOTS] __attribute__((visibility("hidden")));
void shim_op_setup(void);

static inline unsigned shim_op_hash(MPI_Op op)
{
    return (unsigned)(((uint64_t)(uintptr_t)op * 0x9E3779B97F4A7C15ull) >> 59) &
           (SHIM_OP_SLOTS - 1);
}

static inline int shim_op_fast(MPI_Op op)
{
    const struct shim_op_slot *s = &shim_ops[shim_op_hash(op)];

    return s->op == op && s->ours >= 0 ? s->ours : shim_op(op);
}
int  shim_accumulate(const char *func, int fetch, const void *origin, MPI_Count ocount,
                     MPI_Datatype otype, void *result, MPI_Count rcount, MPI_Datatype rtype,
                     int target, MPI_Aint tdisp, MPI_Count tcount, MPI_Datatype ttype, MPI_Op op,
                     MPI_Win win);
int  shim_accumulate_request(const char *func, int fetch, const void *origin, MPI_Count ocount,
                             MPI_Datatype otype, void *result, MPI_Count rcount,
                             MPI_Datatype rtype, int target, MPI_Aint tdisp, MPI_Count tcount,
                             MPI_Datatype ttype, MPI_Op op, MPI_Win win, MPI_Request *request);

/* comm.c: what the accumulates share with put and get. */

/* A walk over count elements of a layout's pieces, in units (bytes for the
 * byte blocks, basic elements for the runs). A layout of one piece per
 * element whose copies abut is walked as one piece of them all. */
struct shim_walk {
    const struct shim_piece *p;
    int                      np;
    MPI_Aint                 extent;  /* element stride, bytes */
    size_t                   unit;    /* bytes per unit */
    struct shim_piece        whole;
    MPI_Aint                 elem;    /* element index */
    int                      i;       /* piece within the element */
    size_t                   done;    /* units done of that piece */
};
void     shim_walk_init(struct shim_walk *w, const struct shim_piece *p, int np, MPI_Aint extent,
                        size_t unit, size_t count);
MPI_Aint shim_walk_offset(const struct shim_walk *w);  /* bytes from the start */
size_t   shim_walk_left(const struct shim_walk *w);    /* units left in the piece */
void     shim_walk_advance(struct shim_walk *w, size_t n);

/* Where a target's bytes are: every offset from the target displacement,
 * plus shift, is >= 0 bytes after disp units. */
struct shim_span {
    uint64_t disp;   /* in the target's units */
    uint64_t shift;  /* bytes added to every offset from the original disp */
    uint64_t lo;     /* first byte, from disp */
    size_t   len;    /* bytes from the first to one past the last */
};

/* The span of tcount elements of l at tdisp, checked (epoch, rank, range)
 * before anything moves: PRMA_OK or a status. */
int  shim_target_span(struct shim_win *w, int target, MPI_Aint tdisp, const struct shim_layout *l,
                      MPI_Aint tcount, struct shim_span *s);

/* The checks every RMA call starts with, in MPI's order: an access epoch
 * that allows operations, then the rank. MPI_SUCCESS to go on,
 * SHIM_PROC_NULL for MPI_PROC_NULL (the call is a no-op), or an error
 * class. */
#define SHIM_PROC_NULL (-2)
int  shim_target_check(struct shim_win *w, int target);

/* The end of a fast path (a call handed straight to the core): MPI_SUCCESS,
 * -1 for "take the full way" when the core refused it before touching
 * anything, or the raised class of a failure. */
int  shim_fast_result(struct shim_win *w, int status, const char *func);

/* Put (put != 0) or get, and their request forms. */
int  shim_rma(const char *func, int put, void *origin, MPI_Count ocount, MPI_Datatype otype,
              int target, MPI_Aint tdisp, MPI_Count tcount, MPI_Datatype ttype, MPI_Win win);
int  shim_rma_request(const char *func, int put, void *origin, MPI_Count ocount,
                      MPI_Datatype otype, int target, MPI_Aint tdisp, MPI_Count tcount,
                      MPI_Datatype ttype, MPI_Win win, MPI_Request *request);

/* Hand out a request for an operation to target that is complete once
 * the operation is complete locally (which this waits for). */
int  shim_request_completed(struct shim_win *w, const char *func, int target,
                            MPI_Request *request);

/* init.c */
int  shim_ready(const char *func);

/* blocking.c: while shim_progress is set (UCX is up in this process), or
 * this process serves same-node origins (prma_agent_active), the MPI
 * library's blocking calls that a target waits in drive portrma's progress
 * while they wait; shim_barrier is MPI_Barrier so made. */
extern int shim_progress;
int  shim_barrier(MPI_Comm comm);


/* ---- handle.c: the table of windows, read without a lock ---- */

/* Windows live in slots, allocated in chunks that never move. A handle names
 * a slot: its address when MPI_Win is a pointer type (Open MPI), a tagged
 * index when it is an integer (MPICH). */
#define SHIM_WIN_CHUNK      256
#define SHIM_WIN_MAXCHUNKS  4096
#define SHIM_WIN_INT_TAG    0x5a000000u  /* integer handles: tag | index */
#define SHIM_WIN_INT_MASK   0x00ffffffu
#define SHIM_WIN_IS_POINTER _Generic((MPI_Win)0, int: 0, unsigned: 0, long: 0, default: 1)

struct shim_win_slot {
    struct shim_win *win;  /* NULL when free */
};

/* Chunk 0 is static (shim_win_first), so that the lookup of the first
 * SHIM_WIN_CHUNK windows' handles needs no load of the table. */
extern struct shim_win_slot shim_win_first[SHIM_WIN_CHUNK] __attribute__((visibility("hidden")));
extern struct shim_win_slot *shim_win_chunks[SHIM_WIN_MAXCHUNKS] __attribute__((visibility("hidden")));
extern int shim_win_nchunks __attribute__((visibility("hidden")));

/* The window a handle names, or NULL: the value is checked to be one of our
 * slots before anything is read through it. No lock: chunks are never freed
 * or moved, the count and the slots are published with release stores. A
 * lookup racing with the free of that very window is the program's error. */
static inline struct shim_win *shim_win_lookup(MPI_Win handle)
{
    uintptr_t v = (uintptr_t)handle;
    int n = __atomic_load_n(&shim_win_nchunks, __ATOMIC_ACQUIRE);
    unsigned index;

    if (SHIM_WIN_IS_POINTER) {
        /* The handle is the slot's address once it is known to be one. */
        uintptr_t first = v - (uintptr_t)shim_win_first;

        if (first < sizeof(shim_win_first) && first % sizeof(struct shim_win_slot) == 0)
            return __atomic_load_n(&((struct shim_win_slot *)v)->win, __ATOMIC_ACQUIRE);
        for (int c = 1; c < n; c++) {
            uintptr_t off = v - (uintptr_t)shim_win_chunks[c];

            if (off < SHIM_WIN_CHUNK * sizeof(struct shim_win_slot) &&
                off % sizeof(struct shim_win_slot) == 0)
                return __atomic_load_n(&((struct shim_win_slot *)v)->win, __ATOMIC_ACQUIRE);
        }
        return NULL;
    }
    /* An integer handle: tag | slot index. */
    index = (unsigned)v & SHIM_WIN_INT_MASK;
    if (handle == MPI_WIN_NULL || ((unsigned)v & ~SHIM_WIN_INT_MASK) != SHIM_WIN_INT_TAG ||
        index >= (unsigned)n * SHIM_WIN_CHUNK)
        return NULL;
    return __atomic_load_n(&shim_win_chunks[index / SHIM_WIN_CHUNK][index % SHIM_WIN_CHUNK].win,
                           __ATOMIC_ACQUIRE);
}

#endif /* PRMA_SHIM_H */
