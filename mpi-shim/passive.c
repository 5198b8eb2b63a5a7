/*
 * passive.c - passive-target synchronization: lock, unlock, lock_all,
 * unlock_all, the flush family and MPI_Win_sync.
 */
#include "shim.h"

/* The one shape of every call here: window, core call, error class. */
#define SHIM_WIN_CALL(win, call)                                                   \
    do {                                                                           \
        struct shim_win *w_ = shim_win_lookup(win);                                \
        int status_;                                                               \
        if (w_ == NULL)                                                            \
            return shim_bad_win(win, __func__);                                    \
        status_ = (call);                                                          \
        return status_ == PRMA_OK ? MPI_SUCCESS                                    \
                                  : shim_win_raise(w_, shim_class(status_), __func__); \
    } while (0)

/* The MPI asserts a passive call may take, as portrma's; -1 for others. */
static int nocheck_mode(int assert)
{
    if (assert & ~MPI_MODE_NOCHECK)
        return -1;
    return (assert & MPI_MODE_NOCHECK) ? PRMA_MODE_NOCHECK : 0;
}

SHIM_EXPORT int MPI_Win_lock(int lock_type, int rank, int assert, MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    int mode = nocheck_mode(assert), type, status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (lock_type == MPI_LOCK_SHARED)
        type = PRMA_LOCK_SHARED;
    else if (lock_type == MPI_LOCK_EXCLUSIVE)
        type = PRMA_LOCK_EXCLUSIVE;
    else
        return shim_win_raise(w, MPI_ERR_LOCKTYPE, __func__);
    if (rank < 0 || rank >= w->coll.size)
        return shim_win_raise(w, MPI_ERR_RANK, __func__);
    if (mode < 0)
        return shim_win_raise(w, MPI_ERR_ASSERT, __func__);
    status = prma_win_lock(w->core, type, rank, (unsigned)mode);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

SHIM_EXPORT int MPI_Win_unlock(int rank, MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_unlock(w_->core, rank));
}

SHIM_EXPORT int MPI_Win_lock_all(int assert, MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    int mode = nocheck_mode(assert), status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (mode < 0)
        return shim_win_raise(w, MPI_ERR_ASSERT, __func__);
    status = prma_win_lock_all(w->core, (unsigned)mode);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

SHIM_EXPORT int MPI_Win_unlock_all(MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_unlock_all(w_->core));
}

SHIM_EXPORT int MPI_Win_flush(int rank, MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_flush(w_->core, rank));
}

SHIM_EXPORT int MPI_Win_flush_all(MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_flush_all(w_->core));
}

SHIM_EXPORT int MPI_Win_flush_local(int rank, MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_flush_local(w_->core, rank));
}

SHIM_EXPORT int MPI_Win_flush_local_all(MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_flush_local_all(w_->core));
}

SHIM_EXPORT int MPI_Win_sync(MPI_Win win)
{
    SHIM_WIN_CALL(win, prma_win_sync(w_->core));
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_lock);
SHIM_PMPI(MPI_Win_unlock);
SHIM_PMPI(MPI_Win_lock_all);
SHIM_PMPI(MPI_Win_unlock_all);
SHIM_PMPI(MPI_Win_flush);
SHIM_PMPI(MPI_Win_flush_all);
SHIM_PMPI(MPI_Win_flush_local);
SHIM_PMPI(MPI_Win_flush_local_all);
SHIM_PMPI(MPI_Win_sync);
