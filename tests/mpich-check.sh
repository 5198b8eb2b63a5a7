#!/bin/bash
# mpich-check.sh - the shim serves MPICH too: configure and build portrma
# against MPICH (mpicc.mpich) in a scratch directory, check that it exports
# every large-count (_c) one-sided call MPICH declares, and run some of the
# MPI tests, built with MPICH, under the MPICH-built shim (LD_PRELOAD) at 2
# and 4 ranks, each under a timeout (ports first: it fails unless portrma
# serves the windows), and the Fortran tests built with mpif90.mpich.
# Skipped (77) when MPICH is not installed (Debian: libmpich-dev mpich).
set -u
: "${PRMA_SRCDIR:?run through make check}"
if ! command -v mpicc.mpich >/dev/null || ! command -v mpiexec.mpich >/dev/null; then
    echo "mpich-check: SKIP: no MPICH (apt-get install libmpich-dev mpich)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "mpich-check: FAIL: $*"; fail=1; }

cd "$dir" || exit 1
if ! "$PRMA_SRCDIR/configure" MPICC=mpicc.mpich --enable-werror >configure.out 2>&1; then
    tail -20 configure.out
    bad "configure against MPICH failed"
    exit 1
fi
if ! ${MAKE:-make} -j2 libportrma.la libportrma_mpi.la >make.out 2>&1; then
    grep -E "error|warning" make.out | head -20
    bad "building the shim against MPICH failed"
    exit 1
fi
shim=$dir/.libs/libportrma_mpi.so
for f in MPI_Put_c MPI_Get_c MPI_Accumulate_c MPI_Get_accumulate_c MPI_Rput_c MPI_Rget_c \
         MPI_Raccumulate_c MPI_Rget_accumulate_c MPI_Win_create_c MPI_Win_allocate_c \
         MPI_Win_allocate_shared_c MPI_Win_shared_query_c; do
    if grep -q "\b$f\b" "$(mpicc.mpich -show | grep -o -- '-I[^ ]*' | head -1 | cut -c3-)"/*.h; then
        nm -D --defined-only "$shim" | grep -q " T $f$" || bad "the shim does not serve $f"
    fi
done
progs=()
for prog in ports accumulate fence_putget datatypes requests; do
    mpicc.mpich -O1 -w -I"$PRMA_SRCDIR/tests/mpi" -o "$prog" "$PRMA_SRCDIR/tests/mpi/$prog.c" &&
        progs+=("$prog") || bad "$prog does not build with MPICH"
done
# Fortran programs reach the shim through MPICH's own Fortran bindings.
if command -v mpif90.mpich >/dev/null && mpif90.mpich --version >/dev/null 2>&1; then
    mpicc.mpich -O1 -c -o fortran_attr.o "$PRMA_SRCDIR/tests/mpi/fortran_attr.c" ||
        bad "fortran_attr.c does not build with MPICH"
    for prog in fortran_mpi fortran_f08; do
        flag=; [[ $prog == fortran_f08 ]] && flag=-DPRMA_F08
        mkdir "$prog.d"  # each build's module files apart
        (cd "$prog.d" && mpif90.mpich -O1 -w $flag -o "../$prog" \
            "$PRMA_SRCDIR/tests/mpi/fortran.F90" ../fortran_attr.o) >"$prog.out" 2>&1 &&
            progs+=("$prog") || { tail -5 "$prog.out"; bad "$prog does not build with MPICH"; }
    done
else
    echo "mpich-check: no mpif90.mpich: Fortran programs not run"
fi
for prog in "${progs[@]}"; do
    for np in 2 4; do
        out=$(timeout 120 mpiexec.mpich -n $np env LD_PRELOAD="$shim" "./$prog" 2>&1)
        rc=$?
        if [[ $rc -ne 0 ]]; then
            echo "$out" | tail -15
            bad "$prog at $np ranks under MPICH: exit $rc"
        else
            echo "mpich-check: $prog at $np ranks: ok"
        fi
    done
done
exit $fail
