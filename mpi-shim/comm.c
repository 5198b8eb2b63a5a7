/*
 * comm.c - MPI_Put and MPI_Get.
 *
 * Arguments are checked in the order epoch, rank, count, datatype, range,
 * and the whole target span is checked before the first byte moves, so that
 * a refused operation writes nothing. The type signatures of the two sides
 * must match (shim_type_match). Data that is one contiguous piece on both
 * sides is one message; otherwise the byte blocks of the origin's and the
 * target's layouts are walked at once, in type-map order, and every piece
 * common to an origin block and a target block is one message.
 */
#include "shim.h"

#include <stdint.h>
#include "../src/win.h"

/* A walk over a layout's pieces (shim.h): the put and get sides walk byte
 * blocks, the accumulates' runs of basic elements. */
void shim_walk_init(struct shim_walk *w, const struct shim_piece *p, int np, MPI_Aint extent,
                    size_t unit, size_t count)
{
    *w = (struct shim_walk){ .p = p, .np = np, .extent = extent, .unit = unit };
    if (np == 1 && (MPI_Aint)(p[0].n * unit) == extent) {
        w->whole = (struct shim_piece){ p[0].off, p[0].n * count };
        w->p     = &w->whole;
    }
}

MPI_Aint shim_walk_offset(const struct shim_walk *w)
{
    return w->elem * w->extent + w->p[w->i].off + (MPI_Aint)(w->done * w->unit);
}

size_t shim_walk_left(const struct shim_walk *w)
{
    return w->p[w->i].n - w->done;
}

void shim_walk_advance(struct shim_walk *w, size_t n)
{
    w->done += n;
    if (w->done == w->p[w->i].n) {
        w->done = 0;
        if (++w->i == w->np) {
            w->i = 0;
            w->elem++;
        }
    }
}

/* The range check's answer when the span cannot be expressed: the epoch's
 * verdict on target first (as prma_win_check_access() gives it), then
 * MPI_ERR_RMA_RANGE. */
static int range_error(struct shim_win *w, int target)
{
    int status = prma_win_check_access(w->core, target, 0, 0, 0);

    return status != PRMA_OK ? status : PRMA_ERR_RMA_RANGE;
}

/* The bytes that tcount elements of l at tdisp touch: from
 * true_lb + min(0, (tcount - 1) * extent) to true_ub + max(0, ...) after
 * the displacement. Offsets below the displacement (a negative lower
 * bound) are reached by starting as many of the target's units earlier as
 * they need. Then the access check of the whole span (epoch, rank, range).
 * PRMA_OK or a status. */
int shim_target_span(struct shim_win *w, int target, MPI_Aint tdisp, const struct shim_layout *l,
                     MPI_Aint tcount, struct shim_span *s)
{
    MPI_Aint last, lo, hi;
    size_t unit;
    uint64_t k;
    int status;

    if (tdisp < 0)
        return range_error(w, target);
    if (__builtin_mul_overflow(tcount - 1, l->extent, &last) ||
        __builtin_add_overflow(l->true_lb, last < 0 ? last : 0, &lo) ||
        __builtin_add_overflow(l->true_ub, last > 0 ? last : 0, &hi))
        return range_error(w, target);
    s->disp  = (uint64_t)tdisp;
    s->shift = 0;
    if (lo < 0) {
        status = prma_win_disp_unit(w->core, target, &unit);
        if (status != PRMA_OK)
            return status;
        k = ((uint64_t)-(lo + 1) + 1 + unit - 1) / unit;  /* units to start earlier */
        if (k > (uint64_t)tdisp)
            return range_error(w, target);
        s->disp  = (uint64_t)tdisp - k;
        s->shift = k * unit;
    }
    s->lo  = (uint64_t)lo + s->shift;
    s->len = (size_t)((uint64_t)hi - (uint64_t)lo);
    return prma_win_check_access(w->core, target, s->disp, s->lo, s->len);
}

int shim_fast_result(struct shim_win *w, int status, const char *func)
{
    if (status == PRMA_OK)
        return MPI_SUCCESS;
    /* What the core refused before touching anything: the full way finds
     * the same error in MPI's order (epoch, rank, count, type, range). */
    if (status == PRMA_ERR_RMA_SYNC || status == PRMA_ERR_RMA_RANGE)
        return -1;
    return shim_win_raise(w, shim_class(status), func);
}

int shim_target_check(struct shim_win *w, int target)
{
    int status = prma_win_check_epoch(w->core);

    if (status != PRMA_OK)
        return shim_class(status);
    if (target == MPI_PROC_NULL)
        return SHIM_PROC_NULL;
    return target < 0 || target >= w->coll.size ? MPI_ERR_RANK : MPI_SUCCESS;
}

int shim_rma(const char *func, int put, void *origin, MPI_Count ocount, MPI_Datatype otype,
             int target, MPI_Aint tdisp, MPI_Count tcount, MPI_Datatype ttype, MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    struct shim_layout ol, tl;
    struct shim_walk oc, tc;
    struct shim_span span;
    size_t total;
    int rc, status;

    if (w == NULL)
        return shim_bad_win(win, func);
    if ((rc = shim_target_check(w, target)) != MPI_SUCCESS)
        return rc == SHIM_PROC_NULL ? MPI_SUCCESS : shim_win_raise(w, rc, func);
    if (ocount < 0 || tcount < 0)
        return shim_win_raise(w, MPI_ERR_COUNT, func);
    /* The same type and count on both sides match by themselves. */
    if ((rc = shim_type_layout(otype, &ol)) != MPI_SUCCESS ||
        (rc = shim_type_layout(ttype, &tl)) != MPI_SUCCESS ||
        ((otype != ttype || ocount != tcount) &&
         (rc = shim_type_match(&ol, ocount, &tl, tcount)) != MPI_SUCCESS))
        return shim_win_raise(w, rc, func);
    if (__builtin_mul_overflow(ol.size, (size_t)ocount, &total))
        return shim_win_raise(w, MPI_ERR_COUNT, func);
    if (total == 0)
        return MPI_SUCCESS;
    if (ol.contiguous && tl.contiguous && tdisp >= 0) {
        /* One piece: the core checks its range, which is the whole span. */
        status = put ? prma_win_put(w->core, origin, total, target, (uint64_t)tdisp, 0)
                     : prma_win_get(w->core, origin, total, target, (uint64_t)tdisp, 0);
        return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), func);
    }
    status = shim_target_span(w, target, tdisp, &tl, tcount, &span);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);

    shim_walk_init(&oc, ol.blk, ol.nblk, ol.extent, 1, (size_t)ocount);
    shim_walk_init(&tc, tl.blk, tl.nblk, tl.extent, 1, (size_t)tcount);
    while (total > 0) {
        size_t n = shim_walk_left(&oc) < shim_walk_left(&tc) ? shim_walk_left(&oc)
                                                             : shim_walk_left(&tc);
        char *o = (char *)origin + shim_walk_offset(&oc);
        uint64_t at = (uint64_t)shim_walk_offset(&tc) + span.shift;

        status = put ? prma_win_put(w->core, o, n, target, span.disp, at)
                     : prma_win_get(w->core, o, n, target, span.disp, at);
        if (status != PRMA_OK)
            return shim_win_raise(w, shim_class(status), func);
        shim_walk_advance(&oc, n);
        shim_walk_advance(&tc, n);
        total -= n;
    }
    return MPI_SUCCESS;
}

/* The common case: one contiguous piece of a predefined type and count,
 * the same on both sides, on one of our windows (the core checks rank,
 * epoch and range before it moves a byte). Sets w and the byte count n, or
 * yields 0 for anything else. */
#define RMA_PLAIN(w, n, ocount, otype, tdisp, tcount, ttype, win)                          \
    ((otype) == (ttype) && (ocount) == (tcount) && (ocount) > 0 && (tdisp) >= 0 &&          \
     ((n) = shim_type_contig_fast(otype)) != 0 && ((w) = shim_win_lookup(win)) != NULL &&   \
     ((n) *= (size_t)(ocount), 1))

/* MPI_Put and MPI_Get past their in-line copy, out of line and with their
 * parameters (so that MPI_Put and MPI_Get end in a jump, not a call): the
 * core's put or get of a plain piece (which copies on the spot when it
 * can); anything else, and any error, takes shim_rma's way: MPI's order of
 * checks, the error class through the handler. */
static __attribute__((noinline)) int rma_on(const char *func, int put, void *origin,
                                            int ocount, MPI_Datatype otype, int target,
                                            MPI_Aint tdisp, int tcount, MPI_Datatype ttype,
                                            MPI_Win win)
{
    struct shim_win *w;
    size_t n;
    int status;

    if (RMA_PLAIN(w, n, ocount, otype, tdisp, tcount, ttype, win) &&
        (unsigned)target < (unsigned)w->coll.size) {
        status = put ? prma_win_put(w->core, origin, n, target, (uint64_t)tdisp, 0)
                     : prma_win_get(w->core, origin, n, target, (uint64_t)tdisp, 0);
        if (status == PRMA_OK)
            return MPI_SUCCESS;
        if ((status = shim_fast_result(w, status, func)) >= 0)
            return status;
    }
    return shim_rma(func, put, origin, ocount, otype, target, tdisp, tcount, ttype, win);
}

static __attribute__((noinline)) int put_on(const void *origin_addr, int origin_count,
                                            MPI_Datatype origin_datatype, int target_rank,
                                            MPI_Aint target_disp, int target_count,
                                            MPI_Datatype target_datatype, MPI_Win win)
{
    return rma_on("MPI_Put", 1, (void *)origin_addr, origin_count, origin_datatype,
                  target_rank, target_disp, target_count, target_datatype, win);
}

static __attribute__((noinline)) int get_on(void *origin_addr, int origin_count,
                                            MPI_Datatype origin_datatype, int target_rank,
                                            MPI_Aint target_disp, int target_count,
                                            MPI_Datatype target_datatype, MPI_Win win)
{
    return rma_on("MPI_Get", 0, origin_addr, origin_count, origin_datatype, target_rank,
                  target_disp, target_count, target_datatype, win);
}

/* A target reached here: the copy in line up to PRMA_WIN_SPOT_MAX bytes, a
 * jump to it above; no frame either way (PRMA_OK is MPI_SUCCESS). The
 * statement returns from the caller when it copied; put is a constant. */
#define RMA_SPOT(put, origin, ocount, otype, target, tdisp, tcount, ttype, win)               \
    do {                                                                                  \
        struct shim_win *w_;                                                              \
        size_t n_;                                                                        \
        char *at_;                                                                        \
                                                                                          \
        if (__builtin_expect(RMA_PLAIN(w_, n_, ocount, otype, tdisp, tcount, ttype, win) && \
                                 (at_ = prma__win_spot(w_->core, (target), (uint64_t)(tdisp), \
                                                       n_)) != NULL,                      \
                             1)) {                                                        \
            return (put) ? prma__win_copy(w_->core, at_, (origin), n_)                    \
                         : prma__win_copy(w_->core, (void *)(origin), at_, n_);           \
        }                                                                                 \
    } while (0)

SHIM_EXPORT int MPI_Put(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                        int target_rank, MPI_Aint target_disp, int target_count,
                        MPI_Datatype target_datatype, MPI_Win win)
{
    RMA_SPOT(1, origin_addr, origin_count, origin_datatype, target_rank, target_disp,
             target_count, target_datatype, win);
    return put_on(origin_addr, origin_count, origin_datatype, target_rank, target_disp,
                  target_count, target_datatype, win);
}

SHIM_EXPORT int MPI_Get(void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                        int target_rank, MPI_Aint target_disp, int target_count,
                        MPI_Datatype target_datatype, MPI_Win win)
{
    RMA_SPOT(0, origin_addr, origin_count, origin_datatype, target_rank, target_disp,
             target_count, target_datatype, win);
    return get_on(origin_addr, origin_count, origin_datatype, target_rank, target_disp,
                  target_count, target_datatype, win);
}

/* The integer types an atomic read-modify-write takes (MPI's C integer,
 * byte and multi-language integer types): size and signedness. An error
 * class for other types. */
static int int_type(MPI_Datatype type, size_t *size_p, int *signed_p)
{
    static const struct { MPI_Datatype type; int is_signed; } ints[] = {
        { MPI_INT, 1 }, { MPI_LONG, 1 }, { MPI_SHORT, 1 }, { MPI_LONG_LONG, 1 },
        { MPI_LONG_LONG_INT, 1 }, { MPI_SIGNED_CHAR, 1 }, { MPI_INT8_T, 1 },
        { MPI_INT16_T, 1 }, { MPI_INT32_T, 1 }, { MPI_INT64_T, 1 }, { MPI_AINT, 1 },
        { MPI_OFFSET, 1 }, { MPI_COUNT, 1 }, { MPI_UNSIGNED, 0 }, { MPI_UNSIGNED_LONG, 0 },
        { MPI_UNSIGNED_SHORT, 0 }, { MPI_UNSIGNED_LONG_LONG, 0 }, { MPI_UNSIGNED_CHAR, 0 },
        { MPI_UINT8_T, 0 }, { MPI_UINT16_T, 0 }, { MPI_UINT32_T, 0 }, { MPI_UINT64_T, 0 },
        { MPI_BYTE, 0 }, { MPI_C_BOOL, 0 },
    };
    int size;

    if (type == MPI_DATATYPE_NULL)
        return MPI_ERR_TYPE;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (ints[i].type == type && PMPI_Type_size(type, &size) == MPI_SUCCESS) {
            *size_p   = (size_t)size;
            *signed_p = ints[i].is_signed;
            return MPI_SUCCESS;
        }
    }
    /* Compare-and-swap is defined on integers only. */
    return MPI_ERR_TYPE;
}

/* Checks shared by the two atomics, in the order of the others: epoch,
 * rank, datatype, displacement. MPI_SUCCESS, or an error class (with
 * *done set for MPI_PROC_NULL, which is a no-op). */
static int rmw_args(struct shim_win *w, int target, MPI_Datatype type, MPI_Aint disp,
                    size_t *size_p, int *signed_p, int *done)
{
    int rc = shim_target_check(w, target);

    *done = rc == SHIM_PROC_NULL;
    if (rc != MPI_SUCCESS)
        return *done ? MPI_SUCCESS : rc;
    if ((rc = int_type(type, size_p, signed_p)) != MPI_SUCCESS)
        return rc;
    if (disp < 0)
        return MPI_ERR_RMA_RANGE;
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Compare_and_swap(const void *origin_addr, const void *compare_addr,
                                     void *result_addr, MPI_Datatype datatype, int target_rank,
                                     MPI_Aint target_disp, MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    size_t size = 0;
    prma_type_t type;
    int is_signed, done, rc, status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    /* The common case first: a predefined integer, byte or logical type
     * (those bitwise or logical operations are defined on, as MPI asks of
     * compare-and-swap), a valid rank; the core checks epoch and range. */
    if ((unsigned)target_rank < (unsigned)w->coll.size && target_disp >= 0 &&
        shim_type_basic_fast(datatype, &type) == MPI_SUCCESS &&
        (prma_op_check(type, PRMA_OP_BAND) == PRMA_OK ||
         prma_op_check(type, PRMA_OP_LAND) == PRMA_OK) &&
        (size = shim_type_contig_fast(datatype)) != 0 &&
        (rc = shim_fast_result(w,
                               prma_win_compare_swap(w->core, size, origin_addr, compare_addr,
                                                     result_addr, target_rank,
                                                     (uint64_t)target_disp),
                               __func__)) >= 0)
        return rc;
    rc = rmw_args(w, target_rank, datatype, target_disp, &size, &is_signed, &done);
    if (rc != MPI_SUCCESS || done)
        return shim_win_raise(w, rc, __func__);
    status = prma_win_compare_swap(w->core, size, origin_addr, compare_addr, result_addr,
                                   target_rank, (uint64_t)target_disp);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

/*
 * Request-based put and get. The MPI_Request is a generalized request of
 * the MPI library's (MPI_Grequest_start), so that it completes through the
 * library's own MPI_Wait, MPI_Test, MPI_Waitall, ... mixed with any other
 * request, and nothing caps how many are outstanding. It is complete when
 * returned: the call waits for the operation's local completion (the
 * origin buffer reusable for a put, the data arrived for a get), which
 * MPI allows; operations over shm and self complete on the spot anyway.
 */
static int greq_query(void *extra, MPI_Status *status)
{
    PMPI_Status_set_elements(status, MPI_BYTE, 0);
    PMPI_Status_set_cancelled(status, 0);
    status->MPI_SOURCE = MPI_UNDEFINED;
    status->MPI_TAG    = MPI_UNDEFINED;
    return MPI_SUCCESS;
}

static int greq_free(void *extra)
{
    return MPI_SUCCESS;
}

static int greq_cancel(void *extra, int complete)
{
    return MPI_SUCCESS;
}

int shim_request_completed(struct shim_win *w, const char *func, int target,
                           MPI_Request *request)
{
    int rc, status;

    if (target != MPI_PROC_NULL) {
        status = prma_win_flush_local(w->core, target);
        if (status != PRMA_OK)
            return shim_win_raise(w, shim_class(status), func);
    }
    rc = PMPI_Grequest_start(greq_query, greq_free, greq_cancel, NULL, request);
    if (rc == MPI_SUCCESS)
        rc = PMPI_Grequest_complete(*request);
    return rc == MPI_SUCCESS ? rc : shim_win_raise(w, rc, func);
}

int shim_rma_request(const char *func, int put, void *origin, MPI_Count ocount,
                     MPI_Datatype otype, int target, MPI_Aint tdisp, MPI_Count tcount,
                     MPI_Datatype ttype, MPI_Win win, MPI_Request *request)
{
    struct shim_win *w = shim_win_lookup(win);
    int rc, status;

    if (w == NULL)
        return shim_bad_win(win, func);
    if (request == NULL)
        return shim_win_raise(w, MPI_ERR_REQUEST, func);
    *request = MPI_REQUEST_NULL;
    /* Only inside passive-target epochs (MPI-3.1 11.3.5). */
    status = prma_win_check_passive(w->core);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);
    rc = shim_rma(func, put, origin, ocount, otype, target, tdisp, tcount, ttype, win);
    if (rc != MPI_SUCCESS)
        return rc;
    return shim_request_completed(w, func, target, request);
}

SHIM_EXPORT int MPI_Rput(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                         int target_rank, MPI_Aint target_disp, int target_count,
                         MPI_Datatype target_datatype, MPI_Win win, MPI_Request *request)
{
    return shim_rma_request(__func__, 1, (void *)origin_addr, origin_count, origin_datatype,
                       target_rank, target_disp, target_count, target_datatype, win, request);
}

SHIM_EXPORT int MPI_Rget(void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                         int target_rank, MPI_Aint target_disp, int target_count,
                         MPI_Datatype target_datatype, MPI_Win win, MPI_Request *request)
{
    return shim_rma_request(__func__, 0, origin_addr, origin_count, origin_datatype, target_rank,
                       target_disp, target_count, target_datatype, win, request);
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Put);
SHIM_PMPI(MPI_Get);
SHIM_PMPI(MPI_Compare_and_swap);
SHIM_PMPI(MPI_Rput);
SHIM_PMPI(MPI_Rget);
