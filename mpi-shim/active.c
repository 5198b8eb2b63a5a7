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

/* The ranks, in the window's group, of the members of group (an array of
 * its own, the caller's to free); an error class when one is not in it. */
static int group_translate(struct shim_win *w, MPI_Group group, int **ranks_p, int *n_p)
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
    /* The copy a kept translation is checked against: the same members in
     * the same order (none if it cannot be made: nothing is kept then). */
    if (rc == MPI_SUCCESS && PMPI_Group_incl(group, n, in, &w->groups[1].copy) != MPI_SUCCESS)
        w->groups[1].copy = MPI_GROUP_NULL;
    free(in);
    if (rc != MPI_SUCCESS) {
        free(out);
        return MPI_ERR_GROUP;
    }
    *ranks_p = out;
    *n_p     = n;
    return MPI_SUCCESS;
}

static void group_forget(struct shim_group_ranks *g)
{
    if (g->copy != MPI_GROUP_NULL)
        PMPI_Group_free(&g->copy);
    free(g->ranks);
    *g = (struct shim_group_ranks){ .group = MPI_GROUP_NULL, .copy = MPI_GROUP_NULL };
}

void shim_groups_init(struct shim_win *w)
{
    for (int i = 0; i < 2; i++)
        w->groups[i] = (struct shim_group_ranks){ .group = MPI_GROUP_NULL,
                                                  .copy  = MPI_GROUP_NULL };
}

void shim_groups_release(struct shim_win *w)
{
    for (int i = 0; i < 2; i++)
        group_forget(&w->groups[i]);
}

/* The ranks of group's members in the window (the window keeps them: not
 * to be freed). A program posts and starts with the same few groups epoch
 * after epoch, and translating a group is costly: the last two are kept,
 * each with a copy of its group, so that a handle freed and reused for
 * other members is told apart (not MPI_IDENT). */
static int group_ranks(struct shim_win *w, MPI_Group group, const int **ranks_p, int *n_p)
{
    struct shim_group_ranks t;
    int rc, result, *ranks, n;

    if (group == MPI_GROUP_NULL)
        return MPI_ERR_GROUP;
    for (int i = 0; i < 2; i++) {
        if (w->groups[i].group != group || w->groups[i].copy == MPI_GROUP_NULL ||
            PMPI_Group_compare(group, w->groups[i].copy, &result) != MPI_SUCCESS ||
            result != MPI_IDENT)
            continue;
        if (i == 1) {  /* the most recent first */
            t            = w->groups[0];
            w->groups[0] = w->groups[1];
            w->groups[1] = t;
        }
        *ranks_p = w->groups[0].ranks;
        *n_p     = w->groups[0].n;
        return MPI_SUCCESS;
    }
    /* The older one makes room; its slot receives the copy meanwhile. */
    group_forget(&w->groups[1]);
    if ((rc = group_translate(w, group, &ranks, &n)) != MPI_SUCCESS)
        return rc;
    w->groups[1].group = group;
    w->groups[1].ranks = ranks;
    w->groups[1].n     = n;
    t            = w->groups[0];
    w->groups[0] = w->groups[1];
    w->groups[1] = t;
    *ranks_p = ranks;
    *n_p     = n;
    return MPI_SUCCESS;
}

/* Post and start: a group, asserts, and the core call. */
static int pscw_open(const char *func, MPI_Group group, int assert, int known, MPI_Win win,
                     int (*open)(prma_win_h, const int *, int, unsigned))
{
    struct shim_win *w = shim_win_lookup(win);
    unsigned mode = 0;
    const int *ranks;
    int n, rc, status;

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

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_fence);
SHIM_PMPI(MPI_Win_post);
SHIM_PMPI(MPI_Win_start);
SHIM_PMPI(MPI_Win_complete);
SHIM_PMPI(MPI_Win_wait);
SHIM_PMPI(MPI_Win_test);
