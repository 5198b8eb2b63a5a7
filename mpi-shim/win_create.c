/*
 * win_create.c - window creation and destruction, and MPI_Alloc_mem, whose
 * memory is portrma's so that same-node peers can map it.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int coll_allgather(void *arg, const void *sendbuf, void *recvbuf, size_t len)
{
    struct shim_win *w = arg;

    return PMPI_Allgather(sendbuf, (int)len, MPI_BYTE, recvbuf, (int)len, MPI_BYTE, w->comm);
}

/* While it waits, the barrier drives portrma's progress: a peer still
 * completing its puts through UCX may need this process to take part. */
static int coll_barrier(void *arg)
{
    return shim_barrier(((struct shim_win *)arg)->comm);
}

/* Checks common to every creation call; an error class or MPI_SUCCESS. */
static int check_create(MPI_Aint size, int disp_unit, MPI_Comm comm)
{
    int inter = 0;

    if (comm == MPI_COMM_NULL || PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS)
        return MPI_ERR_COMM;
    if (inter)
        return MPI_ERR_COMM;
    if (size < 0)
        return MPI_ERR_SIZE;
    if (disp_unit <= 0)
        return MPI_ERR_DISP;
    return MPI_SUCCESS;
}

struct info_choice {
    const char *name;
    int         value;
};

/* The value the info key asks for among choices (ended by a NULL name), or
 * deflt when the key is absent or names none of them. */
static int info_choose(MPI_Info info, const char *key, const struct info_choice *choices,
                       int deflt)
{
    char value[MPI_MAX_INFO_VAL + 1];
    int flag = 0;

    if (info == MPI_INFO_NULL ||
        PMPI_Info_get(info, key, MPI_MAX_INFO_VAL, value, &flag) != MPI_SUCCESS || !flag)
        return deflt;
    for (; choices->name != NULL; choices++)
        if (strcmp(value, choices->name) == 0)
            return choices->value;
    return deflt;
}

/* The exposure guard the info key portrma_guard asks for (off, strict,
 * race), or the PORTRMA_GUARD setting's. */
static int win_guard(MPI_Info info)
{
    static const struct info_choice guards[] = {
        { "off", PRMA_GUARD_OFF }, { "strict", PRMA_GUARD_STRICT },
        { "race", PRMA_GUARD_RACE }, { NULL, 0 },
    };

    return info_choose(info, "portrma_guard", guards, PRMA_GUARD_DEFAULT);
}

/* Whether the info key portrma_remap (on, off) lets the window's pages move
 * into shared memory (MPI_Win_create, MPI_Win_attach), or the
 * PORTRMA_REMAP setting's. */
static int win_remap(MPI_Info info)
{
    static const struct info_choice remaps[] = {
        { "off", PRMA_REMAP_OFF }, { "false", PRMA_REMAP_OFF },
        { "on", PRMA_REMAP_ON }, { "true", PRMA_REMAP_ON }, { NULL, 0 },
    };

    return info_choose(info, "portrma_remap", remaps, PRMA_REMAP_DEFAULT);
}

/* The shim half of a new window, before the core's collective creation. */
static int win_new(MPI_Comm comm, MPI_Info info, int flavor, struct shim_win **w_p)
{
    struct shim_win *w = calloc(1, sizeof(*w));
    int rank, size;

    if (w == NULL)
        return MPI_ERR_NO_MEM;
    if (PMPI_Comm_dup(comm, &w->comm) != MPI_SUCCESS) {
        free(w);
        return MPI_ERR_COMM;
    }
    PMPI_Comm_rank(w->comm, &rank);
    PMPI_Comm_size(w->comm, &size);
    w->coll.rank      = rank;
    w->coll.size      = size;
    w->coll.arg       = w;
    w->coll.allgather = coll_allgather;
    w->coll.barrier   = coll_barrier;
    w->flavor         = flavor;
    w->model          = MPI_WIN_UNIFIED;
    w->errhandler     = MPI_ERRORS_ARE_FATAL;
    w->info           = MPI_INFO_NULL;
    shim_groups_init(w);
    if (info != MPI_INFO_NULL)
        PMPI_Info_dup(info, &w->info);
    w->coll.guard     = win_guard(info);
    w->coll.remap     = win_remap(info);
    snprintf(w->name, sizeof(w->name), "portrma window");
    *w_p = w;
    return MPI_SUCCESS;
}

static void win_delete(struct shim_win *w)
{
    shim_groups_release(w);
    if (w->info != MPI_INFO_NULL)
        PMPI_Info_free(&w->info);
    PMPI_Comm_free(&w->comm);
    shim_errhandler_release(w->errhandler);
    free(w);
}

/* Hints the core acts on, from the creation info. */
static void win_hints(struct shim_win *w)
{
    char value[MPI_MAX_INFO_VAL + 1];
    int flag = 0;

    if (w->info != MPI_INFO_NULL &&
        PMPI_Info_get(w->info, "no_locks", MPI_MAX_INFO_VAL, value, &flag) == MPI_SUCCESS &&
        flag)
        prma_win_set_no_locks(w->core, strcmp(value, "true") == 0);
    w->acc_hints = 0;
    /* accumulate_ordering: "none", or a list of rar, raw, war, waw; only
     * the absence of all four frees portrma from ordering accumulates. */
    if (w->info != MPI_INFO_NULL &&
        PMPI_Info_get(w->info, "accumulate_ordering", MPI_MAX_INFO_VAL, value, &flag) ==
            MPI_SUCCESS &&
        flag && strcmp(value, "none") == 0)
        w->acc_hints |= PRMA_ACC_ORDER_NONE;
    if (w->info != MPI_INFO_NULL &&
        PMPI_Info_get(w->info, "accumulate_ops", MPI_MAX_INFO_VAL, value, &flag) ==
            MPI_SUCCESS &&
        flag) {
        if (strcmp(value, "same_op") == 0)
            w->acc_hints |= PRMA_ACC_SAME_OP;
        else if (strcmp(value, "same_op_no_op") == 0)
            w->acc_hints |= PRMA_ACC_SAME_OP_NO_OP;
    }
    prma_win_set_acc_hints(w->core, w->acc_hints);
}

/* Register a created window and hand out its handle. */
static int win_publish(struct shim_win *w, MPI_Win *win)
{
    prma_win_attr_t attr;
    MPI_Win handle;

    prma_win_query(w->core, &attr);
    w->base = attr.base;
    prma_win_set_name(w->core, w->name);
    win_hints(w);
    handle  = shim_win_register(w);
    if (handle == MPI_WIN_NULL) {
        /* Collective to undo: every rank got this far, so all can free. */
        prma_win_free(w->core);
        win_delete(w);
        return MPI_ERR_NO_MEM;
    }
    *win = handle;
    return MPI_SUCCESS;
}

/* The end of every allocating creation: publish the window and hand out
 * its memory, or undo the shim half after the core failed. */
static int win_allocated(struct shim_win *w, int status, void *base, void *baseptr,
                         MPI_Comm comm, MPI_Win *win, const char *func)
{
    int rc;

    if (status != PRMA_OK) {
        win_delete(w);
        return shim_comm_raise(comm, shim_class(status), func);
    }
    rc = win_publish(w, win);
    if (rc == MPI_SUCCESS)
        memcpy(baseptr, &base, sizeof(base));
    return shim_comm_raise(comm, rc, func);
}

SHIM_EXPORT int MPI_Win_create(void *base, MPI_Aint size, int disp_unit, MPI_Info info,
                               MPI_Comm comm, MPI_Win *win)
{
    struct shim_win *w;
    int rc, status;

    if ((rc = shim_ready(__func__)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if ((rc = check_create(size, disp_unit, comm)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if (win == NULL || (size > 0 && base == NULL))
        return shim_comm_raise(comm, MPI_ERR_ARG, __func__);
    if ((rc = win_new(comm, info, MPI_WIN_FLAVOR_CREATE, &w)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    w->size      = size;
    w->disp_unit = disp_unit;
    status = prma_win_create(shim_ctx, &w->coll, base, (size_t)size, (size_t)disp_unit, &w->core);
    if (status != PRMA_OK) {
        win_delete(w);
        return shim_comm_raise(comm, shim_class(status), __func__);
    }
    return shim_comm_raise(comm, win_publish(w, win), __func__);
}

SHIM_EXPORT int MPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                                 void *baseptr, MPI_Win *win)
{
    struct shim_win *w;
    void *base = NULL;
    int rc, status;

    if ((rc = shim_ready(__func__)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if ((rc = check_create(size, disp_unit, comm)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if (win == NULL || baseptr == NULL)
        return shim_comm_raise(comm, MPI_ERR_ARG, __func__);
    if ((rc = win_new(comm, info, MPI_WIN_FLAVOR_ALLOCATE, &w)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    w->size      = size;
    w->disp_unit = disp_unit;
    status = prma_win_allocate(shim_ctx, &w->coll, (size_t)size, (size_t)disp_unit, &base,
                               &w->core);
    return win_allocated(w, status, base, baseptr, comm, win, __func__);
}

SHIM_EXPORT int MPI_Win_allocate_shared(MPI_Aint size, int disp_unit, MPI_Info info,
                                        MPI_Comm comm, void *baseptr, MPI_Win *win)
{
    char value[MPI_MAX_INFO_VAL + 1];
    struct shim_win *w;
    void *base = NULL;
    int rc, status, flag = 0, contiguous = 1;

    if ((rc = shim_ready(__func__)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if ((rc = check_create(size, disp_unit, comm)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if (win == NULL || baseptr == NULL)
        return shim_comm_raise(comm, MPI_ERR_ARG, __func__);
    if (info != MPI_INFO_NULL &&
        PMPI_Info_get(info, "alloc_shared_noncontig", MPI_MAX_INFO_VAL, value, &flag) ==
            MPI_SUCCESS &&
        flag && strcmp(value, "true") == 0)
        contiguous = 0;
    if ((rc = win_new(comm, info, MPI_WIN_FLAVOR_SHARED, &w)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    w->size      = size;
    w->disp_unit = disp_unit;
    status = prma_win_allocate_shared(shim_ctx, &w->coll, (size_t)size, (size_t)disp_unit,
                                      contiguous, &base, &w->core);
    return win_allocated(w, status, base, baseptr, comm, win, __func__);
}

/* A window whose members attach memory later (mpi-shim/dynamic.c): its
 * base is MPI_BOTTOM (the core's NULL), its size 0, its unit 1. */
SHIM_EXPORT int MPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
    struct shim_win *w;
    int rc, status;

    if ((rc = shim_ready(__func__)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if ((rc = check_create(0, 1, comm)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    if (win == NULL)
        return shim_comm_raise(comm, MPI_ERR_ARG, __func__);
    if ((rc = win_new(comm, info, MPI_WIN_FLAVOR_DYNAMIC, &w)) != MPI_SUCCESS)
        return shim_comm_raise(comm, rc, __func__);
    w->size      = 0;
    w->disp_unit = 1;
    status = prma_win_create_dynamic(shim_ctx, &w->coll, &w->core);
    if (status != PRMA_OK) {
        win_delete(w);
        return shim_comm_raise(comm, shim_class(status), __func__);
    }
    return shim_comm_raise(comm, win_publish(w, win), __func__);
}

SHIM_EXPORT int MPI_Win_shared_query(MPI_Win win, int rank, MPI_Aint *size, int *disp_unit,
                                     void *baseptr)
{
    struct shim_win *w = shim_win_lookup(win);
    size_t bytes, unit;
    void *base;
    int status;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (size == NULL || disp_unit == NULL || baseptr == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    if (rank != MPI_PROC_NULL && (rank < 0 || rank >= w->coll.size))
        return shim_win_raise(w, MPI_ERR_RANK, __func__);
    status = prma_win_shared_query(w->core, rank == MPI_PROC_NULL ? -1 : rank, &bytes, &unit,
                                   &base);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), __func__);
    *size      = (MPI_Aint)bytes;
    *disp_unit = (int)unit;
    memcpy(baseptr, &base, sizeof(base));
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_free(MPI_Win *win)
{
    struct shim_win *w;
    int status, rc;

    if (win == NULL || (w = shim_win_lookup(*win)) == NULL)
        return shim_bad_win(win ? *win : MPI_WIN_NULL, __func__);
    status = prma_win_check_free(w->core);
    if (status != PRMA_OK)
        return shim_win_raise(w, shim_class(status), __func__);
    rc = shim_attrs_delete_all(w);
    if (rc != MPI_SUCCESS)
        return shim_win_raise(w, rc, __func__);
    status = prma_win_free(w->core);
    shim_win_unregister(w);
    win_delete(w);
    *win = MPI_WIN_NULL;
    return status == PRMA_OK ? MPI_SUCCESS : shim_comm_raise(MPI_COMM_WORLD, shim_class(status),
                                                             __func__);
}

SHIM_EXPORT int MPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
    void *p;
    int rc, status;

    if ((rc = shim_ready(__func__)) != MPI_SUCCESS)
        return shim_comm_raise(MPI_COMM_WORLD, rc, __func__);
    if (size < 0)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_SIZE, __func__);
    if (baseptr == NULL)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_ARG, __func__);
    status = prma_mem_alloc(shim_ctx, (size_t)size, &p);
    if (status != PRMA_OK)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_NO_MEM, __func__);
    memcpy(baseptr, &p, sizeof(p));
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Free_mem(void *base)
{
    if (shim_ctx != NULL && prma_mem_free(shim_ctx, base) == PRMA_OK)
        return MPI_SUCCESS;
    /* Not ours (allocated before portrma started): the library's. */
    return PMPI_Free_mem(base);
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_create);
SHIM_PMPI(MPI_Win_allocate);
SHIM_PMPI(MPI_Win_allocate_shared);
SHIM_PMPI(MPI_Win_create_dynamic);
SHIM_PMPI(MPI_Win_shared_query);
SHIM_PMPI(MPI_Win_free);
