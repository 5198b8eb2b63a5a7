/*
 * errors.c - statuses become MPI error classes, and error classes reach the
 * window's (or communicator's) error handler.
 *
 * Window error handlers are created by the MPI library
 * (PMPI_Win_create_errhandler), so that the program holds a genuine
 * MPI_Errhandler it may free; portrma remembers the function behind each and
 * calls it itself, since the window is portrma's. A handler stays alive while
 * a window uses it, whatever the program frees: MPI_Errhandler_free is
 * intercepted and deferred until the last use ends.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>

/* Statuses whose MPI column is DYNAMIC_CLASS get a class of portrma's own,
 * registered with the MPI library at start-up with portrma's message, so
 * that a program can tell a lost peer from any other failure. The token is
 * pasted onto MPI_ like every other column; this is what it means.
 * Calls return an error code of that class rather than the class value:
 * some libraries' MPI_Error_class only knows codes it handed out. */
#define MPI_DYNAMIC_CLASS (-1)
#define SHIM_NSTATUS 64
static int dynamic_code[SHIM_NSTATUS];  /* by -status */

int shim_classes_setup(void)
{
#define SHIM_ADD_CLASS_(name, value, msg, mpiclass)                                \
    if (MPI_##mpiclass == MPI_DYNAMIC_CLASS && -(value) < SHIM_NSTATUS) {          \
        int cls, code;                                                             \
        if (PMPI_Add_error_class(&cls) != MPI_SUCCESS ||                           \
            PMPI_Add_error_code(cls, &code) != MPI_SUCCESS ||                      \
            PMPI_Add_error_string(cls, "portrma: " msg) != MPI_SUCCESS ||          \
            PMPI_Add_error_string(code, "portrma: " msg) != MPI_SUCCESS)           \
            return PRMA_ERR_BOOTSTRAP;                                             \
        dynamic_code[-(value)] = code;                                             \
    }
    PRMA_STATUS_MAP(SHIM_ADD_CLASS_)
#undef SHIM_ADD_CLASS_
    return PRMA_OK;
}

int shim_class(int status)
{
    int cls = MPI_ERR_INTERN;

    switch (status) {
#define SHIM_CLASS_(name, value, msg, mpiclass)                                    \
    case PRMA_##name:                                                              \
        cls = MPI_##mpiclass;                                                      \
        break;
        PRMA_STATUS_MAP(SHIM_CLASS_)
#undef SHIM_CLASS_
    }
    if (cls == MPI_DYNAMIC_CLASS)
        cls = (-status < SHIM_NSTATUS && dynamic_code[-status] != 0) ? dynamic_code[-status]
                                                                     : MPI_ERR_OTHER;
    return cls;
}

struct errh {
    MPI_Errhandler               handle;
    MPI_Win_errhandler_function *fn;
    int                          fortran; /* fn takes Fortran handles (fortran.c) */
    int                          refs;    /* the program's + each window's */
    struct errh                 *next;
};

static struct errh *errhs;
static pthread_mutex_t errh_lock = PTHREAD_MUTEX_INITIALIZER;

/* NOTE: caller holds errh_lock. */
static struct errh *errh_find(MPI_Errhandler handle)
{
    for (struct errh *e = errhs; e != NULL; e = e->next)
        if (e->handle == handle)
            return e;
    return NULL;
}

void shim_errhandler_retain(MPI_Errhandler handle)
{
    struct errh *e;

    pthread_mutex_lock(&errh_lock);
    if ((e = errh_find(handle)) != NULL)
        e->refs++;
    pthread_mutex_unlock(&errh_lock);
}

void shim_errhandler_release(MPI_Errhandler handle)
{
    struct errh **pe, *gone = NULL;

    pthread_mutex_lock(&errh_lock);
    for (pe = &errhs; *pe != NULL; pe = &(*pe)->next) {
        if ((*pe)->handle == handle) {
            if (--(*pe)->refs == 0) {
                gone = *pe;
                *pe = gone->next;
            }
            break;
        }
    }
    pthread_mutex_unlock(&errh_lock);
    if (gone != NULL) {
        SHIM_NEXT(PMPI_Errhandler_free)(&gone->handle);
        free(gone);
    }
}

int shim_win_raise(struct shim_win *w, int errclass, const char *func)
{
    MPI_Win_errhandler_function *fn = NULL;
    MPI_Errhandler handle = w->errhandler;
    MPI_Win win;
    MPI_Fint fwin, fcode = errclass;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0, code = errclass, fortran = 0;
    struct errh *e;

    if (errclass == MPI_SUCCESS || handle == MPI_ERRORS_RETURN)
        return errclass;
    pthread_mutex_lock(&errh_lock);
    if ((e = errh_find(handle)) != NULL) {
        fn      = e->fn;
        fortran = e->fortran;
    }
    pthread_mutex_unlock(&errh_lock);
    if (fn != NULL && fortran) {
        /* A Fortran subroutine: the window's and the code's Fortran
         * integers, by reference. */
        fwin = shim_win_to_f(shim_win_handle(w));
        ((void (*)(MPI_Fint *, MPI_Fint *))(void (*)(void))fn)(&fwin, &fcode);
        return errclass;
    }
    if (fn != NULL) {
        win = shim_win_handle(w);
        fn(&win, &code);
        return errclass;
    }
    /* MPI_ERRORS_ARE_FATAL (and anything we do not know). */
    PMPI_Error_string(errclass, text, &len);
    fprintf(stderr, "portrma: %s on window \"%s\": %s; aborting (MPI_ERRORS_ARE_FATAL)\n", func,
            w->name, text);
    PMPI_Abort(MPI_COMM_WORLD, errclass);
    return errclass;
}

int shim_comm_raise(MPI_Comm comm, int errclass, const char *func)
{
    if (errclass == MPI_SUCCESS)
        return errclass;
    if (comm == MPI_COMM_NULL)
        comm = MPI_COMM_WORLD;
    PMPI_Comm_call_errhandler(comm, errclass);
    return errclass;
}

int shim_bad_win(MPI_Win win, const char *func)
{
    /* No window to hold a handler: the error goes to MPI_COMM_WORLD's. */
    return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_WIN, func);
}

/* A window error handler whose function portrma calls, in C's or (from
 * fortran.c) Fortran's convention. */
int shim_errhandler_create(MPI_Win_errhandler_function *fn, MPI_Errhandler *errhandler,
                           int fortran)
{
    struct errh *e;
    int rc;

    if (fn == NULL || errhandler == NULL)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_ARG, "MPI_Win_create_errhandler");
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return shim_comm_raise(MPI_COMM_WORLD, MPI_ERR_NO_MEM, "MPI_Win_create_errhandler");
    rc = SHIM_NEXT(PMPI_Win_create_errhandler)(fn, &e->handle);
    if (rc != MPI_SUCCESS) {
        free(e);
        return rc;
    }
    e->fn      = fn;
    e->fortran = fortran;
    e->refs    = 1;
    pthread_mutex_lock(&errh_lock);
    e->next = errhs;
    errhs   = e;
    pthread_mutex_unlock(&errh_lock);
    *errhandler = e->handle;
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_create_errhandler(MPI_Win_errhandler_function *fn,
                                          MPI_Errhandler *errhandler)
{
    return shim_errhandler_create(fn, errhandler, 0);
}

SHIM_EXPORT int MPI_Errhandler_free(MPI_Errhandler *errhandler)
{
    int ours;

    if (errhandler == NULL)
        return SHIM_NEXT(PMPI_Errhandler_free)(errhandler);
    pthread_mutex_lock(&errh_lock);
    ours = errh_find(*errhandler) != NULL;
    pthread_mutex_unlock(&errh_lock);
    if (ours) {
        shim_errhandler_release(*errhandler);
        *errhandler = MPI_ERRHANDLER_NULL;
        return MPI_SUCCESS;
    }
    if (*errhandler == MPI_ERRORS_ARE_FATAL || *errhandler == MPI_ERRORS_RETURN) {
        /* MPI_Win_get_errhandler handed these out without a reference of
         * the MPI library's; there is nothing to release. */
        *errhandler = MPI_ERRHANDLER_NULL;
        return MPI_SUCCESS;
    }
    return SHIM_NEXT(PMPI_Errhandler_free)(errhandler);
}

SHIM_EXPORT int MPI_Win_set_errhandler(MPI_Win win, MPI_Errhandler errhandler)
{
    struct shim_win *w = shim_win_lookup(win);
    int known;

    if (w == NULL)
        return shim_bad_win(win, __func__);
    pthread_mutex_lock(&errh_lock);
    known = errh_find(errhandler) != NULL;
    pthread_mutex_unlock(&errh_lock);
    if (!known && errhandler != MPI_ERRORS_ARE_FATAL && errhandler != MPI_ERRORS_RETURN)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    shim_errhandler_retain(errhandler);
    shim_errhandler_release(w->errhandler);
    w->errhandler = errhandler;
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_get_errhandler(MPI_Win win, MPI_Errhandler *errhandler)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, __func__);
    if (errhandler == NULL)
        return shim_win_raise(w, MPI_ERR_ARG, __func__);
    /* The program gets a reference it must free (MPI semantics). */
    shim_errhandler_retain(w->errhandler);
    *errhandler = w->errhandler;
    return MPI_SUCCESS;
}

SHIM_EXPORT int MPI_Win_call_errhandler(MPI_Win win, int errorcode)
{
    struct shim_win *w = shim_win_lookup(win);

    if (w == NULL)
        return shim_bad_win(win, __func__);
    shim_win_raise(w, errorcode, __func__);
    /* MPI: returns MPI_SUCCESS when the handler returned. */
    return MPI_SUCCESS;
}

/* Their PMPI_ names (shim.h). */
SHIM_PMPI(MPI_Win_create_errhandler);
SHIM_PMPI(MPI_Errhandler_free);
SHIM_PMPI(MPI_Win_set_errhandler);
SHIM_PMPI(MPI_Win_get_errhandler);
SHIM_PMPI(MPI_Win_call_errhandler);
