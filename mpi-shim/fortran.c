/*
 * fortran.c - the one-sided calls of a Fortran program, served by portrma
 * under Open MPI.
 *
 * Open MPI's Fortran bindings reach its C library through PMPI_ names
 * (mpif.h and `use mpi`: mpi_put_ is ompi_put_f, which calls PMPI_Put;
 * `use mpi_f08`: MPI_Put_f08 calls ompi_put_f), so the shim's MPI_Put never
 * sees a Fortran program's put: the MPI library would serve it, or fail
 * when its one-sided components are excluded, and a window made by portrma
 * would be a foreign handle to it. So the shim defines the Fortran entry
 * points of every call it serves in C, under each name Open MPI gives them
 * (mpi_put, mpi_put_, mpi_put__, MPI_PUT, and ompi_put_f, which the mpi_f08
 * module calls): preloaded or linked ahead of the MPI library, they are the
 * ones found. The PMPI_ forms of those names too: the mpi_f08 module
 * calls some of them (MPI_Win_test and MPI_Win_get_attr reach
 * pmpi_win_test_ and pmpi_win_get_attr_). Each converts Fortran handles to
 * C, calls the C entry point of the shim, and stores the result and the
 * error code.
 *
 * MPICH needs none of this: its Fortran bindings call the C MPI_ names,
 * which the shim serves, and its handles are the same integers in both
 * languages. So this file is empty unless the MPI library is Open MPI.
 *
 * Fortran's conventions, as Open MPI's bindings have them: every argument by
 * reference; INTEGER handles (MPI_Fint), windows numbered by the shim
 * (handle.c); LOGICAL as an MPI_Fint, .TRUE. being 1 (gfortran's); a
 * string's length a hidden int argument after the others, the string
 * blank-padded; MPI_BOTTOM the address of Open MPI's common block
 * mpi_fortran_bottom; BASEPTR arguments address-sized (INTEGER(KIND=
 * MPI_ADDRESS_KIND) or TYPE(C_PTR)), written with the address. Error
 * handlers and attribute delete callbacks written in Fortran are called
 * with Fortran arguments (errors.c; fortran_delete below).
 */
#include "shim.h"

#ifdef OPEN_MPI

#include <string.h>

/* Open MPI's MPI_BOTTOM for Fortran; weak, in case a build lacks it. */
extern char mpi_fortran_bottom_ __attribute__((weak));

#define FTRUE 1

/* A choice buffer's address in C terms. */
static inline void *faddr(void *p)
{
    return (&mpi_fortran_bottom_ != NULL && p == (void *)&mpi_fortran_bottom_) ? MPI_BOTTOM : p;
}

#define WIN(f)  shim_win_from_f(*(f))
#define TYPE(f) PMPI_Type_f2c(*(f))
#define OP(f)   PMPI_Op_f2c(*(f))
#define COMM(f) PMPI_Comm_f2c(*(f))
#define INFO(f) PMPI_Info_f2c(*(f))

/* The Fortran names of an entry point defined here as f_NAME: Open MPI's
 * four manglings of MPI_NAME and of PMPI_NAME (a Fortran program or tool
 * may call either, and the mpi_f08 module calls some of the PMPI ones;
 * either way a window of portrma's must never reach the MPI library), and
 * ompi_NAME_f, which the mpi_f08 module calls for most. */
#define FORTRAN_ALIAS(name, lower) \
    SHIM_EXPORT __typeof__(f_##lower) name __attribute__((alias("f_" #lower)))
#define FORTRAN_NAMES(lower, UPPER)                                      \
    FORTRAN_MPIF_NAMES(lower, UPPER);                                    \
    FORTRAN_ALIAS(ompi_##lower##_f, lower)
#define FORTRAN_MPIF_NAMES(lower, UPPER)                                 \
    FORTRAN_ALIAS(mpi_##lower, lower);                                   \
    FORTRAN_ALIAS(mpi_##lower##_, lower);                                \
    FORTRAN_ALIAS(mpi_##lower##__, lower);                               \
    FORTRAN_ALIAS(MPI_##UPPER, lower);                                   \
    FORTRAN_ALIAS(pmpi_##lower, lower);                                  \
    FORTRAN_ALIAS(pmpi_##lower##_, lower);                               \
    FORTRAN_ALIAS(pmpi_##lower##__, lower);                              \
    FORTRAN_ALIAS(PMPI_##UPPER, lower)

/* `use mpi` has a second form of the calls with a BASEPTR argument, for a
 * TYPE(C_PTR) one, under names of their own; the arguments are the same. */
#define FORTRAN_CPTR_NAMES(lower, UPPER)                                 \
    FORTRAN_ALIAS(mpi_##lower##_cptr, lower);                            \
    FORTRAN_ALIAS(mpi_##lower##_cptr_, lower);                           \
    FORTRAN_ALIAS(mpi_##lower##_cptr__, lower);                          \
    FORTRAN_ALIAS(MPI_##UPPER##_CPTR, lower);                            \
    FORTRAN_ALIAS(pmpi_##lower##_cptr, lower);                           \
    FORTRAN_ALIAS(pmpi_##lower##_cptr_, lower);                          \
    FORTRAN_ALIAS(pmpi_##lower##_cptr__, lower);                         \
    FORTRAN_ALIAS(PMPI_##UPPER##_CPTR, lower);                           \
    FORTRAN_ALIAS(ompi_##lower##_cptr_f, lower)

/* --- Start and end: the shim sets up in MPI_Init, tears down in
 * MPI_Finalize ----------------------------------------------------------- */

static void f_init(MPI_Fint *ierr)
{
    int argc = 0;
    char **argv = NULL;

    *ierr = MPI_Init(&argc, &argv);
}
FORTRAN_NAMES(init, INIT);

static void f_init_thread(MPI_Fint *required, MPI_Fint *provided, MPI_Fint *ierr)
{
    int argc = 0, p = MPI_THREAD_SINGLE;
    char **argv = NULL;
    int rc = MPI_Init_thread(&argc, &argv, *required, &p);

    if (rc == MPI_SUCCESS)
        *provided = p;
    *ierr = rc;
}
FORTRAN_NAMES(init_thread, INIT_THREAD);

static void f_finalize(MPI_Fint *ierr)
{
    *ierr = MPI_Finalize();
}
FORTRAN_NAMES(finalize, FINALIZE);

/* --- Windows --------------------------------------------------------- */

/* A window made in C, as Fortran's handle. */
static void win_out(int rc, MPI_Win win, MPI_Fint *fwin, MPI_Fint *ierr)
{
    if (rc == MPI_SUCCESS)
        *fwin = shim_win_to_f(win);
    *ierr = rc;
}

/* A base address, into a BASEPTR argument (address-sized). */
static void base_out(int rc, void *base, char *baseptr)
{
    if (rc == MPI_SUCCESS)
        memcpy(baseptr, &base, sizeof(base));
}

static void f_win_create(char *base, MPI_Aint *size, MPI_Fint *disp_unit, MPI_Fint *info,
                         MPI_Fint *comm, MPI_Fint *win, MPI_Fint *ierr)
{
    MPI_Win c = MPI_WIN_NULL;
    int rc = MPI_Win_create(faddr(base), *size, *disp_unit, INFO(info), COMM(comm), &c);

    win_out(rc, c, win, ierr);
}
FORTRAN_NAMES(win_create, WIN_CREATE);

/* MPI_Win_allocate and MPI_Win_allocate_shared, which take the same
 * arguments. */
static void allocate(int (*fn)(MPI_Aint, int, MPI_Info, MPI_Comm, void *, MPI_Win *),
                     MPI_Aint *size, MPI_Fint *disp_unit, MPI_Fint *info, MPI_Fint *comm,
                     char *baseptr, MPI_Fint *win, MPI_Fint *ierr)
{
    MPI_Win c = MPI_WIN_NULL;
    void *base = NULL;
    int rc = fn(*size, *disp_unit, INFO(info), COMM(comm), &base, &c);

    base_out(rc, base, baseptr);
    win_out(rc, c, win, ierr);
}

static void f_win_allocate(MPI_Aint *size, MPI_Fint *disp_unit, MPI_Fint *info, MPI_Fint *comm,
                           char *baseptr, MPI_Fint *win, MPI_Fint *ierr)
{
    allocate(MPI_Win_allocate, size, disp_unit, info, comm, baseptr, win, ierr);
}
FORTRAN_NAMES(win_allocate, WIN_ALLOCATE);
FORTRAN_CPTR_NAMES(win_allocate, WIN_ALLOCATE);

static void f_win_allocate_shared(MPI_Aint *size, MPI_Fint *disp_unit, MPI_Fint *info,
                                  MPI_Fint *comm, char *baseptr, MPI_Fint *win, MPI_Fint *ierr)
{
    allocate(MPI_Win_allocate_shared, size, disp_unit, info, comm, baseptr, win, ierr);
}
FORTRAN_NAMES(win_allocate_shared, WIN_ALLOCATE_SHARED);
FORTRAN_CPTR_NAMES(win_allocate_shared, WIN_ALLOCATE_SHARED);

static void f_win_shared_query(MPI_Fint *win, MPI_Fint *rank, MPI_Aint *size,
                               MPI_Fint *disp_unit, char *baseptr, MPI_Fint *ierr)
{
    MPI_Aint csize = 0;
    int cunit = 0;
    void *base = NULL;
    int rc = MPI_Win_shared_query(WIN(win), *rank, &csize, &cunit, &base);

    if (rc == MPI_SUCCESS) {
        *size      = csize;
        *disp_unit = cunit;
    }
    base_out(rc, base, baseptr);
    *ierr = rc;
}
FORTRAN_NAMES(win_shared_query, WIN_SHARED_QUERY);
FORTRAN_CPTR_NAMES(win_shared_query, WIN_SHARED_QUERY);

static void f_win_create_dynamic(MPI_Fint *info, MPI_Fint *comm, MPI_Fint *win, MPI_Fint *ierr)
{
    MPI_Win c = MPI_WIN_NULL;
    int rc = MPI_Win_create_dynamic(INFO(info), COMM(comm), &c);

    win_out(rc, c, win, ierr);
}
FORTRAN_NAMES(win_create_dynamic, WIN_CREATE_DYNAMIC);

static void f_win_attach(MPI_Fint *win, char *base, MPI_Aint *size, MPI_Fint *ierr)
{
    *ierr = MPI_Win_attach(WIN(win), faddr(base), *size);
}
FORTRAN_NAMES(win_attach, WIN_ATTACH);

static void f_win_detach(MPI_Fint *win, char *base, MPI_Fint *ierr)
{
    *ierr = MPI_Win_detach(WIN(win), faddr(base));
}
FORTRAN_NAMES(win_detach, WIN_DETACH);

static void f_win_free(MPI_Fint *win, MPI_Fint *ierr)
{
    MPI_Win c = WIN(win);
    int rc = MPI_Win_free(&c);

    if (rc == MPI_SUCCESS)
        *win = 0;  /* MPI_WIN_NULL */
    *ierr = rc;
}
FORTRAN_NAMES(win_free, WIN_FREE);

static void f_alloc_mem(MPI_Aint *size, MPI_Fint *info, char *baseptr, MPI_Fint *ierr)
{
    void *base = NULL;
    int rc = MPI_Alloc_mem(*size, INFO(info), &base);

    base_out(rc, base, baseptr);
    *ierr = rc;
}
FORTRAN_NAMES(alloc_mem, ALLOC_MEM);
FORTRAN_CPTR_NAMES(alloc_mem, ALLOC_MEM);

static void f_free_mem(char *base, MPI_Fint *ierr)
{
    *ierr = MPI_Free_mem(base);
}
FORTRAN_NAMES(free_mem, FREE_MEM);

/* --- Synchronization ------------------------------------------------- */

static void f_win_fence(MPI_Fint *assert, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Win_fence(*assert, WIN(win));
}
FORTRAN_NAMES(win_fence, WIN_FENCE);

static void f_win_start(MPI_Fint *group, MPI_Fint *assert, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Win_start(PMPI_Group_f2c(*group), *assert, WIN(win));
}
FORTRAN_NAMES(win_start, WIN_START);

static void f_win_post(MPI_Fint *group, MPI_Fint *assert, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Win_post(PMPI_Group_f2c(*group), *assert, WIN(win));
}
FORTRAN_NAMES(win_post, WIN_POST);

static void f_win_test(MPI_Fint *win, MPI_Fint *flag, MPI_Fint *ierr)
{
    int c = 0;
    int rc = MPI_Win_test(WIN(win), &c);

    if (rc == MPI_SUCCESS)
        *flag = c ? FTRUE : 0;
    *ierr = rc;
}
FORTRAN_NAMES(win_test, WIN_TEST);

static void f_win_lock(MPI_Fint *lock_type, MPI_Fint *rank, MPI_Fint *assert, MPI_Fint *win,
                       MPI_Fint *ierr)
{
    *ierr = MPI_Win_lock(*lock_type, *rank, *assert, WIN(win));
}
FORTRAN_NAMES(win_lock, WIN_LOCK);

static void f_win_lock_all(MPI_Fint *assert, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Win_lock_all(*assert, WIN(win));
}
FORTRAN_NAMES(win_lock_all, WIN_LOCK_ALL);

/* The calls that take a window, or a rank and a window, and nothing else. */
#define WIN_CALL(lower, UPPER, Cname)                                       \
    static void f_##lower(MPI_Fint *win, MPI_Fint *ierr)                    \
    {                                                                       \
        *ierr = Cname(WIN(win));                                            \
    }                                                                       \
    FORTRAN_NAMES(lower, UPPER)
#define RANK_WIN_CALL(lower, UPPER, Cname)                                  \
    static void f_##lower(MPI_Fint *rank, MPI_Fint *win, MPI_Fint *ierr)    \
    {                                                                       \
        *ierr = Cname(*rank, WIN(win));                                     \
    }                                                                       \
    FORTRAN_NAMES(lower, UPPER)

WIN_CALL(win_complete, WIN_COMPLETE, MPI_Win_complete);
WIN_CALL(win_wait, WIN_WAIT, MPI_Win_wait);
WIN_CALL(win_unlock_all, WIN_UNLOCK_ALL, MPI_Win_unlock_all);
WIN_CALL(win_flush_all, WIN_FLUSH_ALL, MPI_Win_flush_all);
WIN_CALL(win_flush_local_all, WIN_FLUSH_LOCAL_ALL, MPI_Win_flush_local_all);
WIN_CALL(win_sync, WIN_SYNC, MPI_Win_sync);
RANK_WIN_CALL(win_unlock, WIN_UNLOCK, MPI_Win_unlock);
RANK_WIN_CALL(win_flush, WIN_FLUSH, MPI_Win_flush);
RANK_WIN_CALL(win_flush_local, WIN_FLUSH_LOCAL, MPI_Win_flush_local);

/* --- Communication --------------------------------------------------- */

static void f_put(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                  MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *win,
                  MPI_Fint *ierr)
{
    *ierr = MPI_Put(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount, TYPE(ttype),
                    WIN(win));
}
FORTRAN_NAMES(put, PUT);

static void f_get(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                  MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *win,
                  MPI_Fint *ierr)
{
    *ierr = MPI_Get(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount, TYPE(ttype),
                    WIN(win));
}
FORTRAN_NAMES(get, GET);

static void f_accumulate(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                         MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *op,
                         MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Accumulate(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount,
                           TYPE(ttype), OP(op), WIN(win));
}
FORTRAN_NAMES(accumulate, ACCUMULATE);

static void f_get_accumulate(char *origin, MPI_Fint *ocount, MPI_Fint *otype, char *result,
                             MPI_Fint *rcount, MPI_Fint *rtype, MPI_Fint *target,
                             MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *op,
                             MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Get_accumulate(faddr(origin), *ocount, TYPE(otype), faddr(result), *rcount,
                               TYPE(rtype), *target, *tdisp, *tcount, TYPE(ttype), OP(op),
                               WIN(win));
}
FORTRAN_NAMES(get_accumulate, GET_ACCUMULATE);

static void f_fetch_and_op(char *origin, char *result, MPI_Fint *type, MPI_Fint *target,
                           MPI_Aint *tdisp, MPI_Fint *op, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Fetch_and_op(faddr(origin), faddr(result), TYPE(type), *target, *tdisp, OP(op),
                             WIN(win));
}
FORTRAN_NAMES(fetch_and_op, FETCH_AND_OP);

static void f_compare_and_swap(char *origin, char *compare, char *result, MPI_Fint *type,
                               MPI_Fint *target, MPI_Aint *tdisp, MPI_Fint *win, MPI_Fint *ierr)
{
    *ierr = MPI_Compare_and_swap(faddr(origin), faddr(compare), faddr(result), TYPE(type),
                                 *target, *tdisp, WIN(win));
}
FORTRAN_NAMES(compare_and_swap, COMPARE_AND_SWAP);

/* A request made in C, as Fortran's handle. */
static void request_out(int rc, MPI_Request req, MPI_Fint *freq, MPI_Fint *ierr)
{
    if (rc == MPI_SUCCESS)
        *freq = PMPI_Request_c2f(req);
    *ierr = rc;
}

static void f_rput(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                   MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *win,
                   MPI_Fint *request, MPI_Fint *ierr)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Rput(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount, TYPE(ttype),
                      WIN(win), &r);

    request_out(rc, r, request, ierr);
}
FORTRAN_NAMES(rput, RPUT);

static void f_rget(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                   MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *win,
                   MPI_Fint *request, MPI_Fint *ierr)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Rget(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount, TYPE(ttype),
                      WIN(win), &r);

    request_out(rc, r, request, ierr);
}
FORTRAN_NAMES(rget, RGET);

static void f_raccumulate(char *origin, MPI_Fint *ocount, MPI_Fint *otype, MPI_Fint *target,
                          MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *op,
                          MPI_Fint *win, MPI_Fint *request, MPI_Fint *ierr)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Raccumulate(faddr(origin), *ocount, TYPE(otype), *target, *tdisp, *tcount,
                             TYPE(ttype), OP(op), WIN(win), &r);

    request_out(rc, r, request, ierr);
}
FORTRAN_NAMES(raccumulate, RACCUMULATE);

static void f_rget_accumulate(char *origin, MPI_Fint *ocount, MPI_Fint *otype, char *result,
                              MPI_Fint *rcount, MPI_Fint *rtype, MPI_Fint *target,
                              MPI_Aint *tdisp, MPI_Fint *tcount, MPI_Fint *ttype, MPI_Fint *op,
                              MPI_Fint *win, MPI_Fint *request, MPI_Fint *ierr)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Rget_accumulate(faddr(origin), *ocount, TYPE(otype), faddr(result), *rcount,
                                 TYPE(rtype), *target, *tdisp, *tcount, TYPE(ttype), OP(op),
                                 WIN(win), &r);

    request_out(rc, r, request, ierr);
}
FORTRAN_NAMES(rget_accumulate, RGET_ACCUMULATE);

/* --- What a window says about itself ---------------------------------- */

static void f_win_get_attr(MPI_Fint *win, MPI_Fint *keyval, MPI_Aint *value, MPI_Fint *flag,
                           MPI_Fint *ierr)
{
    int found = 0;
    int rc = shim_attr_value(WIN(win), *keyval, value, &found);

    if (rc == MPI_SUCCESS)
        *flag = found ? FTRUE : 0;
    *ierr = rc;
}
FORTRAN_NAMES(win_get_attr, WIN_GET_ATTR);

static void f_win_set_attr(MPI_Fint *win, MPI_Fint *keyval, MPI_Aint *value, MPI_Fint *ierr)
{
    *ierr = shim_attr_set(WIN(win), *keyval, (void *)*value, 1);
}
FORTRAN_NAMES(win_set_attr, WIN_SET_ATTR);

static void f_win_delete_attr(MPI_Fint *win, MPI_Fint *keyval, MPI_Fint *ierr)
{
    *ierr = MPI_Win_delete_attr(WIN(win), *keyval);
}
FORTRAN_NAMES(win_delete_attr, WIN_DELETE_ATTR);

/* A Fortran delete callback, called with every argument by reference, the
 * attribute and the extra state as address-sized integers. */
typedef void fortran_delete_fn(MPI_Fint *win, MPI_Fint *keyval, MPI_Aint *value, MPI_Aint *extra,
                               MPI_Fint *ierr);

static int fortran_delete(MPI_Win_delete_attr_function *fn, MPI_Win win, int keyval, int kind,
                          void *value, void *extra)
{
    MPI_Fint fwin = shim_win_to_f(win), fkey = keyval, ierr = MPI_SUCCESS;
    MPI_Aint fvalue = (MPI_Aint)value, fextra = (MPI_Aint)extra;

    ((fortran_delete_fn *)(void (*)(void))fn)(&fwin, &fkey, &fvalue, &fextra, &ierr);
    return ierr;
}

/* Windows are never duplicated, so the copy callback is never called. */
static void f_win_create_keyval(void (*copy_fn)(void), void (*delete_fn)(void),
                                MPI_Fint *keyval, MPI_Aint *extra, MPI_Fint *ierr)
{
    int k = MPI_KEYVAL_INVALID;
    int rc = MPI_Win_create_keyval((MPI_Win_copy_attr_function *)copy_fn,
                                   (MPI_Win_delete_attr_function *)delete_fn, &k,
                                   (void *)*extra);

    if (rc == MPI_SUCCESS) {
        shim_keyval_set_proxy(k, fortran_delete);
        *keyval = k;
    }
    *ierr = rc;
}
FORTRAN_NAMES(win_create_keyval, WIN_CREATE_KEYVAL);

static void f_win_free_keyval(MPI_Fint *keyval, MPI_Fint *ierr)
{
    int k = *keyval;
    int rc = MPI_Win_free_keyval(&k);

    if (rc == MPI_SUCCESS)
        *keyval = k;
    *ierr = rc;
}
FORTRAN_NAMES(win_free_keyval, WIN_FREE_KEYVAL);

static void f_win_get_group(MPI_Fint *win, MPI_Fint *group, MPI_Fint *ierr)
{
    MPI_Group g = MPI_GROUP_NULL;
    int rc = MPI_Win_get_group(WIN(win), &g);

    if (rc == MPI_SUCCESS)
        *group = PMPI_Group_c2f(g);
    *ierr = rc;
}
FORTRAN_NAMES(win_get_group, WIN_GET_GROUP);

/* Fortran strings: blank-padded to their length, no terminating NUL. */
static void f_win_set_name(MPI_Fint *win, char *name, MPI_Fint *ierr, int len)
{
    char c[MPI_MAX_OBJECT_NAME];
    int n = len < 0 ? 0 : len;

    while (n > 0 && name[n - 1] == ' ')
        n--;
    if (n > MPI_MAX_OBJECT_NAME - 1)
        n = MPI_MAX_OBJECT_NAME - 1;  /* MPI: longer names are truncated */
    memcpy(c, name, (size_t)n);
    c[n] = '\0';
    *ierr = MPI_Win_set_name(WIN(win), c);
}
FORTRAN_NAMES(win_set_name, WIN_SET_NAME);

static void f_win_get_name(MPI_Fint *win, char *name, MPI_Fint *resultlen, MPI_Fint *ierr,
                           int len)
{
    char c[MPI_MAX_OBJECT_NAME];
    int n = 0;
    int rc = MPI_Win_get_name(WIN(win), c, &n);

    if (rc == MPI_SUCCESS && len > 0) {
        if (n > len)
            n = len;
        memcpy(name, c, (size_t)n);
        memset(name + n, ' ', (size_t)(len - n));
        *resultlen = n;
    }
    *ierr = rc;
}
FORTRAN_MPIF_NAMES(win_get_name, WIN_GET_NAME);

/* The mpi_f08 module's: its WIN_NAME is CHARACTER(LEN=MPI_MAX_OBJECT_NAME)
 * (MPI-3.1, 17.1.2), but Open MPI 4.1's module passes 1 as its length. */
static void f_win_get_name_f08(MPI_Fint *win, char *name, MPI_Fint *resultlen, MPI_Fint *ierr,
                               int len)
{
    f_win_get_name(win, name, resultlen, ierr, len > MPI_MAX_OBJECT_NAME ? len
                                                                         : MPI_MAX_OBJECT_NAME);
}
SHIM_EXPORT __typeof__(f_win_get_name) ompi_win_get_name_f
    __attribute__((alias("f_win_get_name_f08")));

static void f_win_set_info(MPI_Fint *win, MPI_Fint *info, MPI_Fint *ierr)
{
    *ierr = MPI_Win_set_info(WIN(win), INFO(info));
}
FORTRAN_NAMES(win_set_info, WIN_SET_INFO);

static void f_win_get_info(MPI_Fint *win, MPI_Fint *info, MPI_Fint *ierr)
{
    MPI_Info i = MPI_INFO_NULL;
    int rc = MPI_Win_get_info(WIN(win), &i);

    if (rc == MPI_SUCCESS)
        *info = PMPI_Info_c2f(i);
    *ierr = rc;
}
FORTRAN_NAMES(win_get_info, WIN_GET_INFO);

/* --- Error handlers --------------------------------------------------- */

static void f_win_create_errhandler(void (*fn)(void), MPI_Fint *errhandler, MPI_Fint *ierr)
{
    MPI_Errhandler e = MPI_ERRHANDLER_NULL;
    int rc = shim_errhandler_create((MPI_Win_errhandler_function *)fn, &e, 1);

    if (rc == MPI_SUCCESS)
        *errhandler = PMPI_Errhandler_c2f(e);
    *ierr = rc;
}
FORTRAN_NAMES(win_create_errhandler, WIN_CREATE_ERRHANDLER);

static void f_win_set_errhandler(MPI_Fint *win, MPI_Fint *errhandler, MPI_Fint *ierr)
{
    *ierr = MPI_Win_set_errhandler(WIN(win), PMPI_Errhandler_f2c(*errhandler));
}
FORTRAN_NAMES(win_set_errhandler, WIN_SET_ERRHANDLER);

static void f_win_get_errhandler(MPI_Fint *win, MPI_Fint *errhandler, MPI_Fint *ierr)
{
    MPI_Errhandler e = MPI_ERRHANDLER_NULL;
    int rc = MPI_Win_get_errhandler(WIN(win), &e);

    if (rc == MPI_SUCCESS)
        *errhandler = PMPI_Errhandler_c2f(e);
    *ierr = rc;
}
FORTRAN_NAMES(win_get_errhandler, WIN_GET_ERRHANDLER);

static void f_win_call_errhandler(MPI_Fint *win, MPI_Fint *errorcode, MPI_Fint *ierr)
{
    *ierr = MPI_Win_call_errhandler(WIN(win), *errorcode);
}
FORTRAN_NAMES(win_call_errhandler, WIN_CALL_ERRHANDLER);

/* The shim keeps window error handlers alive while windows use them
 * (errors.c): a Fortran program's free goes through it too. */
static void f_errhandler_free(MPI_Fint *errhandler, MPI_Fint *ierr)
{
    MPI_Errhandler e = PMPI_Errhandler_f2c(*errhandler);
    int rc = MPI_Errhandler_free(&e);

    if (rc == MPI_SUCCESS)
        *errhandler = PMPI_Errhandler_c2f(e);
    *ierr = rc;
}
FORTRAN_NAMES(errhandler_free, ERRHANDLER_FREE);

/* --- Where a passive target waits ------------------------------------- */

/* MPI_Barrier drives portrma's progress while it waits (blocking.c). */
static void f_barrier(MPI_Fint *comm, MPI_Fint *ierr)
{
    *ierr = MPI_Barrier(COMM(comm));
}
FORTRAN_NAMES(barrier, BARRIER);

#endif /* OPEN_MPI */
