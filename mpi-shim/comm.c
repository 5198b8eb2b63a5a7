/*
 * comm.c - MPI_Put and MPI_Get.
 *
 * Arguments are checked in the order epoch, rank, count, datatype, range,
 * and the whole target span is checked before the first byte moves, so that
 * a refused operation writes nothing. Contiguous data on both sides is one
 * message; data with gaps (pair types, padded derived types) is walked block
 * by block on both sides at once.
 */
#include "shim.h"

#include <stdint.h>

/* One side of a transfer: count elements of a layout, walked block by block. */
struct cursor {
    const struct shim_layout *l;
    MPI_Aint                  elem;  /* element index */
    int                       blk;   /* block within the element */
    size_t                    pos;   /* bytes done of that block */
};

static MPI_Aint cursor_offset(const struct cursor *c)
{
    return c->elem * c->l->extent + c->l->off[c->blk] + (MPI_Aint)c->pos;
}

static size_t cursor_left(const struct cursor *c)
{
    return c->l->len[c->blk] - c->pos;
}

static void cursor_advance(struct cursor *c, size_t n)
{
    c->pos += n;
    if (c->pos == c->l->len[c->blk]) {
        c->pos = 0;
        if (++c->blk == c->l->nblk) {
            c->blk = 0;
            c->elem++;
        }
    }
}

static int rma(const char *func, int put, void *origin, int ocount, MPI_Datatype otype,
               int target, MPI_Aint tdisp, int tcount, MPI_Datatype ttype, MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    struct shim_layout ol, tl;
    struct cursor oc, tc;
    size_t total, span;
    int rc, status;

    if (w == NULL)
        return shim_bad_win(win, func);
    status = prma_win_check_epoch(w->core);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);
    if (target == MPI_PROC_NULL)
        return MPI_SUCCESS;
    if (target < 0 || target >= w->coll.size)
        return shim_win_raise(w, MPI_ERR_RANK, func);
    if (ocount < 0 || tcount < 0)
        return shim_win_raise(w, MPI_ERR_COUNT, func);
    if ((rc = shim_type_layout(otype, &ol)) != MPI_SUCCESS ||
        (rc = shim_type_layout(ttype, &tl)) != MPI_SUCCESS)
        return shim_win_raise(w, rc, func);
    total = ol.size * (size_t)ocount;
    if (total != tl.size * (size_t)tcount)
        return shim_win_raise(w, MPI_ERR_TYPE, func);
    if (total == 0)
        return MPI_SUCCESS;
    if (tdisp < 0)
        return shim_win_raise(w, MPI_ERR_RMA_RANGE, func);
    span = (size_t)(tcount - 1) * (size_t)tl.extent + (size_t)tl.off[tl.nblk - 1] +
           tl.len[tl.nblk - 1];
    status = prma_win_check_access(w->core, target, (uint64_t)tdisp, 0, span);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), func);

    if (ol.contiguous && tl.contiguous) {
        status = put ? prma_win_put(w->core, origin, total, target, (uint64_t)tdisp, 0)
                     : prma_win_get(w->core, origin, total, target, (uint64_t)tdisp, 0);
        return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), func);
    }
    oc = (struct cursor){ &ol, 0, 0, 0 };
    tc = (struct cursor){ &tl, 0, 0, 0 };
    while (total > 0) {
        size_t n = cursor_left(&oc) < cursor_left(&tc) ? cursor_left(&oc) : cursor_left(&tc);
        char *o = (char *)origin + cursor_offset(&oc);
        uint64_t at = (uint64_t)cursor_offset(&tc);

        status = put ? prma_win_put(w->core, o, n, target, (uint64_t)tdisp, at)
                     : prma_win_get(w->core, o, n, target, (uint64_t)tdisp, at);
        if (status != PRMA_OK)
            return shim_win_raise(w, shim_class(status), func);
        cursor_advance(&oc, n);
        cursor_advance(&tc, n);
        total -= n;
    }
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Put(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                        int target_rank, MPI_Aint target_disp, int target_count,
                        MPI_Datatype target_datatype, MPI_Win win)
{
    return rma(__func__, 1, (void *)origin_addr, origin_count, origin_datatype, target_rank,
               target_disp, target_count, target_datatype, win);
}

SHIM_EXPORT int MPI_Get(void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
                        int target_rank, MPI_Aint target_disp, int target_count,
                        MPI_Datatype target_datatype, MPI_Win win)
{
    return rma(__func__, 0, origin_addr, origin_count, origin_datatype, target_rank,
               target_disp, target_count, target_datatype, win);
}
