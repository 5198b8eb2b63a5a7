/*
 * unsupported.c - the rest of the MPI one-sided interface, which portrma
 * does not serve yet (the accumulate family and its request-based forms).
 *
 * They are intercepted all the same: a portrma window handed to the MPI
 * library would be a foreign object there. Each call is refused with
 * MPI_ERR_UNSUPPORTED_OPERATION through the window's error handler (or,
 * for the creation calls, the communicator's), writes nothing, and leaves
 * the window usable.
 */
#include "shim.h"

#include <stdio.h>

static int refuse(MPI_Win win, const char *func)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, func);
    fprintf(stderr, "portrma: %s is not supported by this version of portrma\n", func);
    return shim_win_raise(w, MPI_ERR_UNSUPPORTED_OPERATION, func);
}

#define REQ_NULL(r) ((r) != NULL ? (void)(*(r) = MPI_REQUEST_NULL) : (void)0)

SHIM_EXPORT int MPI_Accumulate(const void *o, int oc, MPI_Datatype ot, int tr, MPI_Aint td,
                               int tc, MPI_Datatype tt, MPI_Op op, MPI_Win win)
{
    return refuse(win, __func__);
}

SHIM_EXPORT int MPI_Get_accumulate(const void *o, int oc, MPI_Datatype ot, void *r, int rc,
                                   MPI_Datatype rt, int tr, MPI_Aint td, int tc,
                                   MPI_Datatype tt, MPI_Op op, MPI_Win win)
{
    return refuse(win, __func__);
}

SHIM_EXPORT int MPI_Raccumulate(const void *o, int oc, MPI_Datatype ot, int tr, MPI_Aint td,
                                int tc, MPI_Datatype tt, MPI_Op op, MPI_Win win,
                                MPI_Request *req)
{
    REQ_NULL(req);
    return refuse(win, __func__);
}

SHIM_EXPORT int MPI_Rget_accumulate(const void *o, int oc, MPI_Datatype ot, void *r, int rc,
                                    MPI_Datatype rt, int tr, MPI_Aint td, int tc,
                                    MPI_Datatype tt, MPI_Op op, MPI_Win win, MPI_Request *req)
{
    REQ_NULL(req);
    return refuse(win, __func__);
}
