/*
 * active.c - active-target synchronization: MPI_Win_fence, and the
 * generalized kind (post, start, complete, wait, test).
 */
#include "shim.h"

#include <stdlib.h>

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

/* The ranks, in the window's group, of the members of group; an error
 * class when one is not in the window's group. */
static int group_ranks(struct shim_win *w, MPI_Group group, int **ranks_p, int *n_p)
{
    MPI_Group wgroup;
    int n, *in, *out, rc;

    if (group == MPI_GROUP_NULL || PMPI_Group_size(group, &n) != MPI_SUCCESS)
        return MPI_ERR_GROUP;
    in  = malloc(((size_t)n + 1) * sizeof(int));
    out = malloc(((size_t)n + 1) * sizeof(int));
    if (in == NULL || out == NULL) {
        free(in);
        free(out);
        return MPI_ERR_NO_MEM;
    }
    for (int i = 0; i < n; i++)
        in[i] = i;
    rc = PMPI_Comm_group(w->comm, &wgroup);
    if (rc == MPI_SUCCESS) {
        rc = PMPI_Group_translate_ranks(group, n, in, wgroup, out);
        PMPI_Group_free(&wgroup);
    }
    for (int i = 0; rc == MPI_SUCCESS && i < n; i++)
        if (out[i] == MPI_UNDEFINED)
            rc = MPI_ERR_GROUP;
    free(in);
    if (rc != MPI_SUCCESS) {
        free(out);
        return rc == MPI_ERR_GROUP ? rc : MPI_ERR_GROUP;
    }
    *ranks_p = out;
    *n_p     = n;
    return MPI_SUCCESS;
}

/* Post and start: a group, asserts, and the core call. */
static int pscw_open(const char *func, MPI_Group group, int assert, int known, MPI_Win win,
                     int (*open)(prma_win_h, const int *, int, unsigned))
{
    struct shim_win *w = shim_win_lookup(win);
    unsigned mode = 0;
    int *ranks, n, rc, status;

    if (w == NULL)
        return shim_bad_win(win, func);
    if (assert & ~known)
        return shim_win_raise(w, MPI_ERR_ASSERT, func);
    if (assert & MPI_MODE_NOCHECK)
        mode |= PRMA_MODE_NOCHECK;
    if (assert & MPI_MODE_NOSTORE)
        mode |= PRMA_MODE_NOSTORE;
    if (assert & MPI_MODE_NOPUT)
        mode |= PRMA_MODE_NOPUT;
    if ((rc = group_ranks(w, group, &ranks, &n)) != MPI_SUCCESS)
        return shim_win_raise(w, rc, func);
    status = open(w->core, ranks, n, mode);
    free(ranks);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), func);
}

SHIM_EXPORT int MPI_Win_post(MPI_Group group, int assert, MPI_Win win)
{
    return pscw_open(__func__, group, assert,
                     MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT, win, prma_win_post);
}

SHIM_EXPORT int MPI_Win_start(MPI_Group group, int assert, MPI_Win win)
{
    return pscw_open(__func__, group, assert, MPI_MODE_NOCHECK, win, prma_win_start);
}

SHIM_EXPORT int MPI_Win_complete(MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    status = prma_win_complete(w->core);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

SHIM_EXPORT int MPI_Win_wait(MPI_Win win)
{
    struct shim_win *w = shim_win_lookup(win);
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    status = prma_win_wait(w->core);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}

SHIM_EXPORT int MPI_Win_test(MPI_Win win, int *flag)
{
    struct shim_win *w = shim_win_lookup(win);
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (flag == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    status = prma_win_test(w->core, flag);
    return status == PRMA_OK ? MPI_SUCCESS : shim_win_raise(w, shim_class(status), __func__);
}
