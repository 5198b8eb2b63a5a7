/*
 * acc.c - the accumulate family: MPI_Accumulate, MPI_Get_accumulate,
 * MPI_Fetch_and_op and their request-based forms MPI_Raccumulate and
 * MPI_Rget_accumulate.
 *
 * Arguments are checked in the order epoch, rank, count, op, datatype,
 * range, and the whole target span before the first element moves, so a
 * refused call writes nothing. The datatypes' layouts (datatype.c) are
 * walked as runs of basic elements on the origin, result and target sides
 * at once; each piece that is contiguous on all three is one accumulate of
 * the core, which applies it atomically per element.
 */
#include "shim.h"

#include <stdint.h>
#include "../src/acc.h"

struct shim_op_slot shim_ops[SHIM_OP_SLOTS];

static const struct {
    MPI_Op    op;
    prma_op_t ours;
} ops[] = {
    { MPI_SUM, PRMA_OP_SUM }, { MPI_PROD, PRMA_OP_PROD }, { MPI_MAX, PRMA_OP_MAX },
    { MPI_MIN, PRMA_OP_MIN }, { MPI_BAND, PRMA_OP_BAND }, { MPI_BOR, PRMA_OP_BOR },
    { MPI_BXOR, PRMA_OP_BXOR }, { MPI_LAND, PRMA_OP_LAND }, { MPI_LOR, PRMA_OP_LOR },
    { MPI_LXOR, PRMA_OP_LXOR }, { MPI_REPLACE, PRMA_OP_REPLACE },
    { MPI_NO_OP, PRMA_OP_NO_OP }, { MPI_MAXLOC, PRMA_OP_MAXLOC },
    { MPI_MINLOC, PRMA_OP_MINLOC }
};

/* portrma's reduction for a predefined MPI_Op, or -1 (a user's op). */
int shim_op(MPI_Op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op)
            return (int)ops[i].ours;
    return -1;
}

/* The in-line table: each op in the first free slot from its hash's (an op
 * not found at its own slot is looked for by shim_op). */
void shim_op_setup(void)
{
    for (unsigned s = 0; s < SHIM_OP_SLOTS; s++)
        shim_ops[s] = (struct shim_op_slot){ MPI_OP_NULL, -1 };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        unsigned s = shim_op_hash(ops[i].op);

        if (shim_ops[s].ours < 0)
            shim_ops[s] = (struct shim_op_slot){ ops[i].op, (int)ops[i].ours };
    }
}

/* Does a side hold count elements of the target's basic type? */
static int side_matches(const struct shim_layout *l, MPI_Count count,
                        const struct shim_layout *tl, MPI_Count tcount)
{
    size_t a, b;

    return l->basic == tl->basic && !__builtin_mul_overflow((size_t)count, l->nbasic, &a) &&
           !__builtin_mul_overflow((size_t)tcount, tl->nbasic, &b) && a == b;
}

int shim_accumulate(const char *func, int fetch, const void *origin, MPI_Count ocount,
                    MPI_Datatype otype, void *result, MPI_Count rcount, MPI_Datatype rtype,
                    int target, MPI_Aint tdisp, MPI_Count tcount, MPI_Datatype ttype, MPI_Op op,
                    MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    struct shim_layout ol, rl, tl;
    struct shim_walk orun, rrun, trun;
    struct shim_span span;
    int ours, rc, status, no_op;
    size_t total;

    if (w == NULL)
        return shim_bad_win(win, func);
    if ((rc = shim_target_check(w, target)) != MPI_SUCCESS)
        return rc == SHIM_PROC_NULL ? MPI_SUCCESS : shim_win_raise(w, rc, func);
    if (ocount < 0 || tcount < 0 || (result != NULL && rcount < 0))
        return shim_win_raise(w, MPI_ERR_COUNT, func);
    if ((ours = shim_op(op)) < 0)
        return shim_win_raise(w, MPI_ERR_OP, func);
    no_op = ours == PRMA_OP_NO_OP;
    /* MPI_NO_OP only fetches (MPI_Get_accumulate and the like). */
    if (no_op && !fetch)
        return shim_win_raise(w, MPI_ERR_OP, func);
    /* The target's type decides; MPI_NO_OP ignores the origin. */
    if ((rc = shim_type_layout(ttype, &tl)) != MPI_SUCCESS)
        return shim_win_raise(w, rc, func);
    if (tl.basic < 0)
        return shim_win_raise(w, MPI_ERR_TYPE, func);
    if (!no_op) {
        if ((rc = shim_type_layout(otype, &ol)) != MPI_SUCCESS)
            return shim_win_raise(w, rc, func);
        if (!side_matches(&ol, ocount, &tl, tcount))
            return shim_win_raise(w, MPI_ERR_TYPE, func);
    }
    if (result != NULL) {
        if ((rc = shim_type_layout(rtype, &rl)) != MPI_SUCCESS)
            return shim_win_raise(w, rc, func);
        if (!side_matches(&rl, rcount, &tl, tcount))
            return shim_win_raise(w, MPI_ERR_TYPE, func);
    }
    if (prma_op_check((prma_type_t)tl.basic, (prma_op_t)ours) != PRMA_OK)
        return shim_win_raise(w, MPI_ERR_OP, func);
    total = (size_t)tcount * tl.nbasic;  /* side_matches checked it fits */
    if (total == 0)
        return MPI_SUCCESS;
    /* The whole target span, before anything moves. */
    status = shim_target_span(w, target, tdisp, &tl, tcount, &span);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);

    shim_walk_init(&trun, tl.run, tl.nrun, tl.extent, tl.basic_extent, (size_t)tcount);
    if (!no_op)
        shim_walk_init(&orun, ol.run, ol.nrun, ol.extent, ol.basic_extent, (size_t)ocount);
    if (result != NULL)
        shim_walk_init(&rrun, rl.run, rl.nrun, rl.extent, rl.basic_extent, (size_t)rcount);
    while (total > 0) {
        size_t n = shim_walk_left(&trun);

        if (!no_op && shim_walk_left(&orun) < n)
            n = shim_walk_left(&orun);
        if (result != NULL && shim_walk_left(&rrun) < n)
            n = shim_walk_left(&rrun);
        status = prma_win_accumulate(w->core, (prma_op_t)ours, (prma_type_t)tl.basic,
                                     no_op ? NULL : (const char *)origin + shim_walk_offset(&orun),
                                     n,
                                     result != NULL ? (char *)result + shim_walk_offset(&rrun)
                                                    : NULL,
                                     target, span.disp,
                                     (uint64_t)shim_walk_offset(&trun) + span.shift);
        if (status != PRMA_OK)
            return shim_win_raise(w, shim_class(status), func);
        shim_walk_advance(&trun, n);
        if (!no_op)
            shim_walk_advance(&orun, n);
        if (result != NULL)
            shim_walk_advance(&rrun, n);
        total -= n;
    }
    return MPI_SUCCESS;
}

/* The common case: one contiguous predefined type and count on every side,
 * a predefined op defined on the type, on one of our windows (the core
 * checks rank, epoch and range before it touches anything). Sets w, the
 * type and our op, or yields 0 for anything else. */
static inline int acc_plain(int ocount, MPI_Datatype otype, const void *result, int rcount,
                            MPI_Datatype rtype, MPI_Aint tdisp, int tcount, MPI_Datatype ttype,
                            MPI_Op op, MPI_Win win, struct shim_win **w_p, prma_type_t *type_p,
                            int *ours_p)
{
    const struct shim_contig *c;
    int ours;

    if (otype != ttype || ocount != tcount || ocount <= 0 || tdisp < 0 ||
        (result != NULL && (rtype != ttype || rcount != tcount)) ||
        (c = shim_contig_find(ttype)) == NULL || c->basic < 0 ||
        (ours = shim_op_fast(op)) < 0 || (ours == PRMA_OP_NO_OP && result == NULL) ||
        prma_op_check((prma_type_t)c->basic, (prma_op_t)ours) != PRMA_OK ||
        (*w_p = shim_win_lookup(win)) == NULL)
        return 0;
    *type_p = (prma_type_t)c->basic;
    *ours_p = ours;
    return 1;
}

/* The plain case to a target the core reaches here, or NULL (acc.h). */
#define ACC_SPOT(w, type, count, target, tdisp)                                           \
    prma__win_acc_reach((w)->core, (type), (size_t)(count), (target), (uint64_t)(tdisp), 0)

/* The accumulate family past its in-line case, out of line and with the
 * caller's parameters (so that the callers end in a jump, not a call): the
 * core's accumulate of a plain piece; anything else, and any error, the
 * full way, which reports it in MPI's order. */
static int acc_on(const char *func, int fetch, const void *origin, int ocount,
                  MPI_Datatype otype, void *result, int rcount, MPI_Datatype rtype, int target,
                  MPI_Aint tdisp, int tcount, MPI_Datatype ttype, MPI_Op op, MPI_Win win)
{
    struct shim_win *w;
    prma_type_t type;
    int ours, status;

    if (acc_plain(ocount, otype, result, rcount, rtype, tdisp, tcount, ttype, op, win, &w, &type,
                  &ours) &&
        (unsigned)target < (unsigned)w->coll.size) {
        status = prma_win_accumulate(w->core, (prma_op_t)ours, type,
                                     ours == PRMA_OP_NO_OP ? NULL : origin, (size_t)tcount,
                                     result, target, (uint64_t)tdisp, 0);
        if ((status = shim_fast_result(w, status, func)) >= 0)
            return status;
    }
    if (!fetch)
        return shim_accumulate(func, 0, origin, ocount, otype, NULL, 0, MPI_DATATYPE_NULL,
                               target, tdisp, tcount, ttype, op, win);
    w = shim_win_lookup(win);
    if (w != NULL && result == NULL && rcount > 0)
        return shim_win_raise(w, MPI_ERR_BUFFER, func);
    return shim_accumulate(func, 1, origin, ocount, otype, rcount > 0 ? result : NULL, rcount,
                           rtype, target, tdisp, tcount, ttype, op, win);
}

static __attribute__((noinline)) int accumulate_on(const void *origin_addr, int origin_count,
                                                   MPI_Datatype origin_datatype, int target_rank,
                                                   MPI_Aint target_disp, int target_count,
                                                   MPI_Datatype target_datatype, MPI_Op op,
                                                   MPI_Win win)
{
    return acc_on("MPI_Accumulate", 0, origin_addr, origin_count, origin_datatype, NULL, 0,
                  MPI_DATATYPE_NULL, target_rank, target_disp, target_count, target_datatype, op,
                  win);
}

/* Elements to a target reached here: under its stripe locks, no frame. */
SHIM_EXPORT int MPI_Accumulate(const void *origin_addr, int origin_count,
                               MPI_Datatype origin_datatype, int target_rank,
                               MPI_Aint target_disp, int target_count,
                               MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    struct shim_win *w;
    prma_type_t type;
    int ours;
    char *spot;

    if (__builtin_expect(acc_plain(origin_count, origin_datatype, NULL, 0, MPI_DATATYPE_NULL,
                                   target_disp, target_count, target_datatype, op, win, &w,
                                   &type, &ours) &&
                             (spot = ACC_SPOT(w, type, target_count, target_rank,
                                              target_disp)) != NULL,
                         1))
        return prma__acc_spot(&w->core->direct[target_rank], spot, type, (prma_op_t)ours,
                              origin_addr, NULL, (size_t)target_count);
    return accumulate_on(origin_addr, origin_count, origin_datatype, target_rank, target_disp,
                         target_count, target_datatype, op, win);
}

static __attribute__((noinline)) int get_accumulate_on(
    const void *origin_addr, int origin_count, MPI_Datatype origin_datatype, void *result_addr,
    int result_count, MPI_Datatype result_datatype, int target_rank, MPI_Aint target_disp,
    int target_count, MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    return acc_on("MPI_Get_accumulate", 1, origin_addr, origin_count, origin_datatype,
                  result_addr, result_count, result_datatype, target_rank, target_disp,
                  target_count, target_datatype, op, win);
}

SHIM_EXPORT int MPI_Get_accumulate(const void *origin_addr, int origin_count,
                                   MPI_Datatype origin_datatype, void *result_addr,
                                   int result_count, MPI_Datatype result_datatype,
                                   int target_rank, MPI_Aint target_disp, int target_count,
                                   MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    struct shim_win *w;
    prma_type_t type;
    int ours;
    char *spot;

    if (__builtin_expect(result_addr != NULL &&
                             acc_plain(origin_count, origin_datatype, result_addr, result_count,
                                       result_datatype, target_disp, target_count,
                                       target_datatype, op, win, &w, &type, &ours) &&
                             (spot = ACC_SPOT(w, type, target_count, target_rank,
                                              target_disp)) != NULL,
                         1))
        return prma__acc_spot(&w->core->direct[target_rank], spot, type, (prma_op_t)ours,
                              ours == PRMA_OP_NO_OP ? NULL : origin_addr, result_addr,
                              (size_t)target_count);
    return get_accumulate_on(origin_addr, origin_count, origin_datatype, result_addr,
                             result_count, result_datatype, target_rank, target_disp,
                             target_count, target_datatype, op, win);
}

/* MPI_Fetch_and_op past its in-line case: the core's accumulate of one
 * element, or the full way with MPI's order of checks. */
static __attribute__((noinline)) int fetch_and_op_on(const void *origin_addr, void *result_addr,
                                                     MPI_Datatype datatype, int target_rank,
                                                     MPI_Aint target_disp, MPI_Op op,
                                                     MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    prma_type_t type;
    int status, ours;

    if (w != NULL && target_rank >= 0 && target_rank < w->coll.size && target_disp >= 0 &&
        (ours = shim_op_fast(op)) >= 0 && shim_type_basic_fast(datatype, &type) == MPI_SUCCESS &&
        prma_op_check(type, (prma_op_t)ours) == PRMA_OK &&
        (status = shim_fast_result(
             w,
             prma_win_accumulate(w->core, (prma_op_t)ours, type,
                                 ours == PRMA_OP_NO_OP ? NULL : origin_addr, 1, result_addr,
                                 target_rank, (uint64_t)target_disp, 0),
             "MPI_Fetch_and_op")) >= 0)
        return status;
    if (w == NULL)
        return shim_bad_win(win, "MPI_Fetch_and_op");
    if ((status = shim_target_check(w, target_rank)) != MPI_SUCCESS)
        return status == SHIM_PROC_NULL ? MPI_SUCCESS
                                        : shim_win_raise(w, status, "MPI_Fetch_and_op");
    if ((ours = shim_op(op)) < 0)
        return shim_win_raise(w, MPI_ERR_OP, "MPI_Fetch_and_op");
    /* One element of a predefined type. */
    if (shim_type_basic(datatype, &type) != MPI_SUCCESS)
        return shim_win_raise(w, MPI_ERR_TYPE, "MPI_Fetch_and_op");
    if (prma_op_check(type, (prma_op_t)ours) != PRMA_OK)
        return shim_win_raise(w, MPI_ERR_OP, "MPI_Fetch_and_op");
    if (target_disp < 0)
        return shim_win_raise(w, MPI_ERR_RMA_RANGE, "MPI_Fetch_and_op");
    status = prma_win_accumulate(w->core, (prma_op_t)ours, type,
                                 ours == PRMA_OP_NO_OP ? NULL : origin_addr, 1, result_addr,
                                 target_rank, (uint64_t)target_disp, 0);
    return status == PRMA_OK ? MPI_SUCCESS
                             : shim_win_raise(w, shim_class(status), "MPI_Fetch_and_op");
}

/* One element to a target reached here: under its stripe lock, no frame. */
SHIM_EXPORT int MPI_Fetch_and_op(const void *origin_addr, void *result_addr,
                                 MPI_Datatype datatype, int target_rank, MPI_Aint target_disp,
                                 MPI_Op op, MPI_Win win)
{
    struct shim_win *w;
    prma_type_t type;
    int ours;
    char *spot;

    if (__builtin_expect(result_addr != NULL &&
                             acc_plain(1, datatype, result_addr, 1, datatype, target_disp, 1,
                                       datatype, op, win, &w, &type, &ours) &&
                             (spot = ACC_SPOT(w, type, 1, target_rank, target_disp)) !=
                                 NULL,
                         1))
        return prma__acc_spot(&w->core->direct[target_rank], spot, type, (prma_op_t)ours,
                              ours == PRMA_OP_NO_OP ? NULL : origin_addr, result_addr, 1);
    return fetch_and_op_on(origin_addr, result_addr, datatype, target_rank, target_disp, op,
                           win);
}

/* The request-based forms: only in passive-target epochs (MPI-3.1
 * 11.3.5); complete when returned, like MPI_Rput (comm.c). */
int shim_accumulate_request(const char *func, int fetch, const void *origin, MPI_Count ocount,
                            MPI_Datatype otype, void *result, MPI_Count rcount,
                            MPI_Datatype rtype, int target, MPI_Aint tdisp, MPI_Count tcount,
                            MPI_Datatype ttype, MPI_Op op, MPI_Win win, MPI_Request *request)
{
    struct shim_win *w = shim_win_lookup(win);
    int rc, status;

    if (w == NULL)
        return shim_bad_win(win, func);
    if (request == NULL)
        return shim_win_raise(w, MPI_ERR_REQUEST, func);
    *request = MPI_REQUEST_NULL;
    status = prma_win_check_passive(w->core);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);
    if (result == NULL && rcount > 0 && rtype != MPI_DATATYPE_NULL)
        return shim_win_raise(w, MPI_ERR_BUFFER, func);
    rc = shim_accumulate(func, fetch, origin, ocount, otype, rcount > 0 ? result : NULL, rcount, rtype,
                    target, tdisp, tcount, ttype, op, win);
    if (rc != MPI_SUCCESS)
        return rc;
    return shim_request_completed(w, func, target, request);
}

SHIM_EXPORT int MPI_Raccumulate(const void *origin_addr, int origin_count,
                                MPI_Datatype origin_datatype, int target_rank,
                                MPI_Aint target_disp, int target_count,
                                MPI_Datatype target_datatype, MPI_Op op, MPI_Win win,
                                MPI_Request *request)
{
    return shim_accumulate_request(__func__, 0, origin_addr, origin_count, origin_datatype, NULL, 0,
                              MPI_DATATYPE_NULL, target_rank, target_disp, target_count,
                              target_datatype, op, win, request);
}

SHIM_EXPORT int MPI_Rget_accumulate(const void *origin_addr, int origin_count,
                                    MPI_Datatype origin_datatype, void *result_addr,
                                    int result_count, MPI_Datatype result_datatype,
                                    int target_rank, MPI_Aint target_disp, int target_count,
                                    MPI_Datatype target_datatype, MPI_Op op, MPI_Win win,
                                    MPI_Request *request)
{
    return shim_accumulate_request(__func__, 1, origin_addr, origin_count, origin_datatype, result_addr,
                              result_count, result_datatype, target_rank, target_disp,
                              target_count, target_datatype, op, win, request);
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Accumulate);
SHIM_PMPI(MPI_Get_accumulate);
SHIM_PMPI(MPI_Fetch_and_op);
SHIM_PMPI(MPI_Raccumulate);
SHIM_PMPI(MPI_Rget_accumulate);
