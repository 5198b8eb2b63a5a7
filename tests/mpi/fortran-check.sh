#!/bin/bash
# fortran-check.sh - a Fortran program's one-sided calls are portrma's:
# tests/mpi/fortran.F90, built by mpif90 with `use mpi` (the mpif.h entry
# points) and with `use mpi_f08` (-DPRMA_F08), runs under run-mpi (1, 2 and
# 4 ranks in every transport mode, each under a timeout, with Open MPI's
# one-sided components excluded, so a window exists only if portrma made
# it), the `use mpi` one also linked with -lportrma_mpi instead of preloaded.
# Skipped (77) when there is no Fortran MPI compiler (Debian: gfortran).
set -u
: "${PRMA_SRCDIR:?run through make check}"
: "${PRMA_BUILDDIR:?run through make check}"
if ! command -v mpif90 >/dev/null || ! mpif90 --version >/dev/null 2>&1; then
    echo "fortran-check: SKIP: no Fortran MPI compiler (apt-get install gfortran)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "fortran-check: FAIL: $*"; fail=1; }
build() {  # build NAME [MPIF90 ARGS...]
    local name=$1
    shift
    mkdir "$dir/$name.d"  # each build's module files apart
    (cd "$dir/$name.d" && mpif90 -O1 -o "$dir/$name" "$PRMA_SRCDIR/tests/mpi/fortran.F90" \
        "$dir/fortran_attr.o" "$@") >"$dir/$name.out" 2>&1 ||
        { tail -20 "$dir/$name.out"; bad "$name does not build"; return 1; }
}

# The C half of the attribute check across languages.
mpicc -O1 -c -o "$dir/fortran_attr.o" "$PRMA_SRCDIR/tests/mpi/fortran_attr.c" ||
    { echo "fortran-check: FAIL: fortran_attr.c does not build"; exit 1; }

progs=()
build fortran_mpi && progs+=("$dir/fortran_mpi")
build fortran_f08 -DPRMA_F08 && progs+=("$dir/fortran_f08")
build fortran_mpi_linked -L"$PRMA_BUILDDIR/.libs" -Wl,-rpath,"$PRMA_BUILDDIR/.libs" \
    -lportrma_mpi && progs+=("$dir/fortran_mpi_linked")
for prog in "${progs[@]}"; do
    "$PRMA_SRCDIR/tests/mpi/run-mpi" "$prog" || bad "${prog##*/}"
done
exit $fail
