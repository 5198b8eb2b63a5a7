# PRMA_CHECK_MPI: find the MPI compiler wrapper ($MPICC, default mpicc) and
# take its compile and link flags apart, so that only the shim is built
# against the MPI library (the core never sees <mpi.h>).
AC_DEFUN([PRMA_CHECK_MPI], [
  AC_ARG_VAR([MPICC], [MPI C compiler wrapper (default: mpicc)])
  AS_IF([test -z "$MPICC"], [MPICC=mpicc])
  AC_PATH_PROG([MPICC_PATH], [$MPICC])
  AS_IF([test -z "$MPICC_PATH"],
    [AC_MSG_ERROR([MPI compiler '$MPICC' not found. On Debian: apt-get install libopenmpi-dev openmpi-bin (or set MPICC=)])])
  AC_MSG_CHECKING([MPI compile and link flags])
  AS_IF([MPI_CFLAGS=`$MPICC --showme:compile 2>/dev/null` && MPI_LIBS=`$MPICC --showme:link 2>/dev/null`], [],
        [MPI_CFLAGS=`$MPICC -compile_info 2>/dev/null | cut -d' ' -f2-`
         MPI_LIBS=`$MPICC -link_info 2>/dev/null | cut -d' ' -f2-`])
  AC_MSG_RESULT([$MPI_CFLAGS | $MPI_LIBS])
  AC_SUBST([MPI_CFLAGS])
  AC_SUBST([MPI_LIBS])
  AC_PATH_PROG([MPIRUN], [mpirun])
  AS_IF([test -z "$MPIRUN"],
    [AC_MSG_WARN([mpirun not found: the MPI tests will be skipped. On Debian: apt-get install openmpi-bin])])
  prma_save_CFLAGS=$CFLAGS; prma_save_LIBS=$LIBS
  CFLAGS="$CFLAGS $MPI_CFLAGS"; LIBS="$LIBS $MPI_LIBS"
  AC_MSG_CHECKING([that MPI programs compile and link])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <mpi.h>]],
                   [[MPI_Win w = MPI_WIN_NULL; return PMPI_Win_free(&w);]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([cannot build against the MPI library found by '$MPICC'. On Debian: apt-get install libopenmpi-dev])])
  dnl The large-count (MPI-4) forms of the one-sided calls that this MPI
  dnl library declares: the shim serves each one it has, so that none slips
  dnl past portrma to the library with a window it does not know.
  AC_CHECK_DECLS([MPI_Put_c, MPI_Get_c, MPI_Accumulate_c, MPI_Get_accumulate_c,
                  MPI_Rput_c, MPI_Rget_c, MPI_Raccumulate_c, MPI_Rget_accumulate_c,
                  MPI_Win_create_c, MPI_Win_allocate_c, MPI_Win_allocate_shared_c,
                  MPI_Win_shared_query_c], [], [], [[#include <mpi.h>]])
  AC_MSG_CHECKING([which MPI library])
  AC_RUN_IFELSE([AC_LANG_PROGRAM([[#include <mpi.h>
#include <stdio.h>]], [[
    FILE *f = fopen("conftest.mpilib", "w");
    if (!f) return 1;
#if defined(OPEN_MPI)
    fprintf(f, "Open MPI %d.%d.%d (MPI %d.%d)", OMPI_MAJOR_VERSION, OMPI_MINOR_VERSION, OMPI_RELEASE_VERSION, MPI_VERSION, MPI_SUBVERSION);
#elif defined(MPICH_VERSION)
    fprintf(f, "MPICH %s (MPI %d.%d)", MPICH_VERSION, MPI_VERSION, MPI_SUBVERSION);
#else
    fprintf(f, "unknown MPI library (MPI %d.%d)", MPI_VERSION, MPI_SUBVERSION);
#endif
    return fclose(f) != 0;]])],
    [prma_mpi_library=`cat conftest.mpilib`], [prma_mpi_library=unknown], [prma_mpi_library=unknown])
  rm -f conftest.mpilib
  AC_MSG_RESULT([$prma_mpi_library])
  AC_DEFINE_UNQUOTED([PRMA_MPI_LIBRARY], ["$prma_mpi_library"], [MPI library the shim was built against])
  CFLAGS=$prma_save_CFLAGS; LIBS=$prma_save_LIBS
])
