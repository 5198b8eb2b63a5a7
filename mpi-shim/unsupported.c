/*
 * unsupported.c - the rest of the MPI one-sided interface, which portrma
 * does not serve yet (dynamic windows).
 *
 * They are intercepted all the same: a portrma window handed to the MPI
 * library would be a foreign object there. Each call is refused with
 * MPI_ERR_UNSUPPORTED_OPERATION through the window's error handler (or,
 * for the creation calls, the communicator's), writes nothing, and leaves
 * the window usable.
 */
#include "shim.h"

#include <stdio.h>

static int refuse_comm(MPI_Comm comm, const char *func)
{
    fprintf(stderr, "portrma: %s is not supported by this version of portrma\n", func);
    return shim_comm_raise(comm, MPI_ERR_UNSUPPORTED_OPERATION, func);
}

SHIM_EXPORT int MPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
    return refuse_comm(comm, __func__);
}

/* No dynamic window can exist yet, so every window that reaches these is
 * of another flavor: the class MPI gives that. */
static int not_dynamic(MPI_Win win, const char *func)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, func);
    return shim_win_raise(w, MPI_ERR_RMA_FLAVOR, func);
}

SHIM_EXPORT int MPI_Win_attach(MPI_Win win, void *base, MPI_Aint size)
{
    return not_dynamic(win, __func__);
}

SHIM_EXPORT int MPI_Win_detach(MPI_Win win, const void *base)
{
    return not_dynamic(win, __func__);
}

