/*
 * active.c - active-target synchronization: MPI_Win_fence.
 */
#include "shim.h"

SHIM_EXPORT int MPI_Win_fence(int assert, MPI_Win win)
{
    const int known = MPI_MODE_NOSTORE | MPI_MODE_NOPUT | MPI_MODE_NOPRECEDE |
                      MPI_MODE_NOSUCCEED;
    struct shim_win *w = shim_win_lookup(win);
    unsigned mode = 0;
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (assert & ~known)
        return shim_win_raise(w, MPI_ERR_ASSERT, __func__);
    if (assert & MPI_MODE_NOSTORE)
        mode |= PRMA_MODE_NOSTORE;
    if (assert & MPI_MODE_NOPUT)
        mode |= PRMA_MODE_NOPUT;
    if (assert & MPI_MODE_NOPRECEDE)
        mode |= PRMA_MODE_NOPRECEDE;
    if (assert & MPI_MODE_NOSUCCEED)
        mode |= PRMA_MODE_NOSUCCEED;
    status = prma_win_fence(w->core, mode);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}
