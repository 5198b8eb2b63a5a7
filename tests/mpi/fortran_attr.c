/*
 * fortran_attr.c - the C half of fortran.F90's attribute check across the
 * two languages (MPI-3.1 17.2.7): an attribute set from Fortran is read in
 * C as a pointer to the integer, and one set in C is read in Fortran as the
 * pointer's value.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

int prma_c_reads_fortran_attr(MPI_Fint fwin, int keyval, MPI_Aint want);
int prma_c_sets_attr(MPI_Fint fwin, int keyval, MPI_Aint value);

/* 1 when C reads the attribute Fortran set to `want` as a pointer to it. */
int prma_c_reads_fortran_attr(MPI_Fint fwin, int keyval, MPI_Aint want)
{
    MPI_Aint *value = NULL;
    int flag = 0;

    if (MPI_Win_get_attr(MPI_Win_f2c(fwin), keyval, &value, &flag) != MPI_SUCCESS || !flag ||
        value == NULL) {
        fprintf(stderr, "fortran_attr: C finds no attribute (flag %d)\n", flag);
        return 0;
    }
    if (*value != want) {
        fprintf(stderr, "fortran_attr: C reads %ld through the pointer, %ld expected\n",
                (long)*value, (long)want);
        return 0;
    }
    return 1;
}

/* C sets the attribute to the pointer `value`; 1 on success. */
int prma_c_sets_attr(MPI_Fint fwin, int keyval, MPI_Aint value)
{
    return MPI_Win_set_attr(MPI_Win_f2c(fwin), keyval, (void *)(intptr_t)value) == MPI_SUCCESS;
}
