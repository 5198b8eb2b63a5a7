/*
 * dynamic.c - memory of a dynamic window: MPI_Win_attach, MPI_Win_detach
 * (MPI_Win_create_dynamic is with the other creations, win_create.c).
 *
 * Error classes: either call on a window of another flavor is
 * MPI_ERR_RMA_FLAVOR; a negative size MPI_ERR_SIZE; an attach that overlaps
 * memory attached already (MPI calls it erroneous) MPI_ERR_RMA_ATTACH; a
 * detach of an address where nothing is attached MPI_ERR_ARG. Each leaves
 * the window as it was.
 */
#include "shim.h"

SHIM_EXPORT int MPI_Win_attach(MPI_Win win, void *base, MPI_Aint size)
{
    struct shim_win *w = shim_win_lookup(win);
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC)
        return shim_win_raise(w, MPI_ERR_RMA_FLAVOR, __func__);
    if (size < 0)
        return shim_win_raise(w, MPI_ERR_SIZE, __func__);
    status = prma_win_attach(w->core, base, (size_t)size);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

SHIM_EXPORT int MPI_Win_detach(MPI_Win win, const void *base)
{
    struct shim_win *w = shim_win_lookup(win);
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (w->flavor != MPI_WIN_FLAVOR_DYNAMIC)
        return shim_win_raise(w, MPI_ERR_RMA_FLAVOR, __func__);
    status = prma_win_detach(w->core, base);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_attach);
SHIM_PMPI(MPI_Win_detach);
