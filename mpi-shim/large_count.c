/*
 * large_count.c - the large-count forms (MPI-4's _c functions) of the
 * one-sided calls, for an MPI library that declares them (configure checks
 * each one). Counts go to the same code as the int forms, which takes
 * counts of any size. A displacement unit that does not fit in an int is
 * refused with MPI_ERR_DISP: portrma's windows keep it as the int forms do.
 *
 * With an MPI library of MPI 3.1 (Open MPI 4.1), none of these exist and
 * this file compiles to nothing.
 */
#include "config.h"
#include "shim.h"

#include <limits.h>

#if HAVE_DECL_MPI_PUT_C
SHIM_EXPORT int MPI_Put_c(const void *origin_addr, MPI_Count origin_count,
                          MPI_Datatype origin_datatype, int target_rank, MPI_Aint target_disp,
                          MPI_Count target_count, MPI_Datatype target_datatype, MPI_Win win)
{
    return shim_rma(__func__, 1, (void *)origin_addr, origin_count, origin_datatype,
                    target_rank, target_disp, target_count, target_datatype, win);
}
SHIM_PMPI(MPI_Put_c);
#endif

#if HAVE_DECL_MPI_GET_C
SHIM_EXPORT int MPI_Get_c(void *origin_addr, MPI_Count origin_count, MPI_Datatype origin_datatype,
                          int target_rank, MPI_Aint target_disp, MPI_Count target_count,
                          MPI_Datatype target_datatype, MPI_Win win)
{
    return shim_rma(__func__, 0, origin_addr, origin_count, origin_datatype, target_rank,
                    target_disp, target_count, target_datatype, win);
}
SHIM_PMPI(MPI_Get_c);
#endif

#if HAVE_DECL_MPI_RPUT_C
SHIM_EXPORT int MPI_Rput_c(const void *origin_addr, MPI_Count origin_count,
                           MPI_Datatype origin_datatype, int target_rank, MPI_Aint target_disp,
                           MPI_Count target_count, MPI_Datatype target_datatype, MPI_Win win,
                           MPI_Request *request)
{
    return shim_rma_request(__func__, 1, (void *)origin_addr, origin_count, origin_datatype,
                            target_rank, target_disp, target_count, target_datatype, win,
                            request);
}
SHIM_PMPI(MPI_Rput_c);
#endif

#if HAVE_DECL_MPI_RGET_C
SHIM_EXPORT int MPI_Rget_c(void *origin_addr, MPI_Count origin_count,
                           MPI_Datatype origin_datatype, int target_rank, MPI_Aint target_disp,
                           MPI_Count target_count, MPI_Datatype target_datatype, MPI_Win win,
                           MPI_Request *request)
{
    return shim_rma_request(__func__, 0, origin_addr, origin_count, origin_datatype,
                            target_rank, target_disp, target_count, target_datatype, win,
                            request);
}
SHIM_PMPI(MPI_Rget_c);
#endif

#if HAVE_DECL_MPI_ACCUMULATE_C
SHIM_EXPORT int MPI_Accumulate_c(const void *origin_addr, MPI_Count origin_count,
                                 MPI_Datatype origin_datatype, int target_rank,
                                 MPI_Aint target_disp, MPI_Count target_count,
                                 MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
    return shim_accumulate(__func__, 0, origin_addr, origin_count, origin_datatype, NULL, 0,
                           MPI_DATATYPE_NULL, target_rank, target_disp, target_count,
                           target_datatype, op, win);
}
SHIM_PMPI(MPI_Accumulate_c);
#endif

#if HAVE_DECL_MPI_GET_ACCUMULATE_C
SHIM_EXPORT int MPI_Get_accumulate_c(const void *origin_addr, MPI_Count origin_count,
                                     MPI_Datatype origin_datatype, void *result_addr,
                                     MPI_Count result_count, MPI_Datatype result_datatype,
                                     int target_rank, MPI_Aint target_disp,
                                     MPI_Count target_count, MPI_Datatype target_datatype,
                                     MPI_Op op, MPI_Win win)
{
    return shim_accumulate(__func__, 1, origin_addr, origin_count, origin_datatype,
                           result_count > 0 ? result_addr : NULL, result_count, result_datatype,
                           target_rank, target_disp, target_count, target_datatype, op, win);
}
SHIM_PMPI(MPI_Get_accumulate_c);
#endif

#if HAVE_DECL_MPI_RACCUMULATE_C
SHIM_EXPORT int MPI_Raccumulate_c(const void *origin_addr, MPI_Count origin_count,
                                  MPI_Datatype origin_datatype, int target_rank,
                                  MPI_Aint target_disp, MPI_Count target_count,
                                  MPI_Datatype target_datatype, MPI_Op op, MPI_Win win,
                                  MPI_Request *request)
{
    return shim_accumulate_request(__func__, 0, origin_addr, origin_count, origin_datatype, NULL,
                                   0, MPI_DATATYPE_NULL, target_rank, target_disp, target_count,
                                   target_datatype, op, win, request);
}
SHIM_PMPI(MPI_Raccumulate_c);
#endif

#if HAVE_DECL_MPI_RGET_ACCUMULATE_C
SHIM_EXPORT int MPI_Rget_accumulate_c(const void *origin_addr, MPI_Count origin_count,
                                      MPI_Datatype origin_datatype, void *result_addr,
                                      MPI_Count result_count, MPI_Datatype result_datatype,
                                      int target_rank, MPI_Aint target_disp,
                                      MPI_Count target_count, MPI_Datatype target_datatype,
                                      MPI_Op op, MPI_Win win, MPI_Request *request)
{
    return shim_accumulate_request(__func__, 1, origin_addr, origin_count, origin_datatype,
                                   result_addr, result_count, result_datatype, target_rank,
                                   target_disp, target_count, target_datatype, op, win,
                                   request);
}
SHIM_PMPI(MPI_Rget_accumulate_c);
#endif

#if HAVE_DECL_MPI_WIN_CREATE_C || HAVE_DECL_MPI_WIN_ALLOCATE_C || \
    HAVE_DECL_MPI_WIN_ALLOCATE_SHARED_C
/* A displacement unit as the int forms take it; MPI_ERR_DISP when it does
 * not fit (reported on the communicator, as creation errors are). */
static int disp_unit_int(MPI_Aint disp_unit, MPI_Comm comm, const char *func, int *out)
{
    if (disp_unit <= 0 || disp_unit > INT_MAX)
        return shim_comm_raise(comm, MPI_ERR_DISP, func);
    *out = (int)disp_unit;
    return MPI_SUCCESS;
}
#endif

#if HAVE_DECL_MPI_WIN_CREATE_C
SHIM_EXPORT int MPI_Win_create_c(void *base, MPI_Aint size, MPI_Aint disp_unit, MPI_Info info,
                                 MPI_Comm comm, MPI_Win *win)
{
    int du = 0, rc = disp_unit_int(disp_unit, comm, __func__, &du);

    return rc != MPI_SUCCESS ? rc : MPI_Win_create(base, size, du, info, comm, win);
}
SHIM_PMPI(MPI_Win_create_c);
#endif

#if HAVE_DECL_MPI_WIN_ALLOCATE_C
SHIM_EXPORT int MPI_Win_allocate_c(MPI_Aint size, MPI_Aint disp_unit, MPI_Info info,
                                   MPI_Comm comm, void *baseptr, MPI_Win *win)
{
    int du = 0, rc = disp_unit_int(disp_unit, comm, __func__, &du);

    return rc != MPI_SUCCESS ? rc : MPI_Win_allocate(size, du, info, comm, baseptr, win);
}
SHIM_PMPI(MPI_Win_allocate_c);
#endif

#if HAVE_DECL_MPI_WIN_ALLOCATE_SHARED_C
SHIM_EXPORT int MPI_Win_allocate_shared_c(MPI_Aint size, MPI_Aint disp_unit, MPI_Info info,
                                          MPI_Comm comm, void *baseptr, MPI_Win *win)
{
    int du = 0, rc = disp_unit_int(disp_unit, comm, __func__, &du);

    return rc != MPI_SUCCESS ? rc : MPI_Win_allocate_shared(size, du, info, comm, baseptr, win);
}
SHIM_PMPI(MPI_Win_allocate_shared_c);
#endif

#if HAVE_DECL_MPI_WIN_SHARED_QUERY_C
SHIM_EXPORT int MPI_Win_shared_query_c(MPI_Win win, int rank, MPI_Aint *size,
                                       MPI_Aint *disp_unit, void *baseptr)
{
    int du = 0, rc = MPI_Win_shared_query(win, rank, size, &du, baseptr);

    if (rc == MPI_SUCCESS && disp_unit != NULL)
        *disp_unit = du;
    return rc;
}
SHIM_PMPI(MPI_Win_shared_query_c);
#endif
