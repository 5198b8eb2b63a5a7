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
};

/* Process state (init.c). */
extern prma_context_h shim_ctx;

/* handle.c: the window handle table. */
MPI_Win          shim_win_register(struct shim_win *w);
void             shim_win_unregister(struct shim_win *w);
struct shim_win *shim_win_lookup(MPI_Win handle);
MPI_Win          shim_win_handle(const struct shim_win *w);
MPI_Fint         shim_win_to_f(MPI_Win handle);
MPI_Win          shim_win_from_f(MPI_Fint f);

/* errors.c */
int  shim_classes_setup(void);
int  shim_class(int status);
int  shim_win_raise(struct shim_win *w, int errclass, const char *func);
int  shim_comm_raise(MPI_Comm comm, int errclass, const char *func);
int  shim_bad_win(MPI_Win win, const char *func);
void shim_errhandler_retain(MPI_Errhandler errh);
void shim_errhandler_release(MPI_Errhandler errh);

/* win_attr.c */
int  shim_attrs_delete_all(struct shim_win *w);

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
int  shim_type_setup(void);
void shim_type_teardown(void);

/* acc.c: portrma's reduction for a predefined MPI_Op, -1 for others;
 * the accumulate family (fetch: a Get_accumulate form; counts of any size,
 * for the large-count _c forms too). */
int  shim_op(MPI_Op op);
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

#endif /* PRMA_SHIM_H */
