#!/bin/bash
# install-check.sh - `make install` puts exactly the promised files in place,
# the libraries export only MPI_* and prma_* (and the shim the PMPI_ names
# of the window calls and, under Open MPI, the Fortran names of MPI's
# calls: mpi_*, pmpi_*, PMPI_* and ompi_*_f), portrma_info runs from the
# installed tree, and a program linked with -lportrma_mpi against the
# installed tree gets the right answer on 4 ranks with Open MPI's one-sided
# components excluded.
set -u
: "${PRMA_BUILDDIR:?run through make check}" "${PRMA_SRCDIR:?run through make check}"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail=0
bad() { echo "install-check: FAIL: $*"; fail=1; }

prefix=$(sed -n 's/^prefix=//p' "$PRMA_BUILDDIR/portrma.pc")
${MAKE:-make} -s -C "$PRMA_BUILDDIR" install DESTDIR="$dest" >"$dest.log" 2>&1 ||
    { cat "$dest.log"; rm -f "$dest.log"; bad "make install failed"; exit 1; }
rm -f "$dest.log"
root=$dest$prefix
for f in lib/libportrma.so lib/libportrma_mpi.so include/portrma.h \
         lib/pkgconfig/portrma.pc bin/portrma_info; do
    [[ -e $root/$f ]] || bad "$f not installed"
done
grep -q '^Requires.private: ucx hwloc' "$root/lib/pkgconfig/portrma.pc" ||
    bad "portrma.pc lacks Requires.private: ucx hwloc"

for lib in libportrma libportrma_mpi; do
    want='^prma_'; [[ $lib == libportrma_mpi ]] && want='^MPI_'
    also='^prma_'; [[ $lib == libportrma_mpi ]] && also='^(PMPI_[A-Za-z0-9_]+|p?mpi_[a-z0-9_]+|ompi_[a-z0-9_]+_f)$'
    others=$(nm -D --defined-only "$root/lib/$lib.so" | awk '{print $3}' | grep -v "$want" |
             grep -v -E "$also")
    [[ -z $others ]] || bad "$lib.so exports more than ${want#^}*: $others"
    n=$(nm -D --defined-only "$root/lib/$lib.so" | grep -c " T ${want#^}")
    [[ $n -gt 0 ]] || bad "$lib.so exports no ${want#^}* function"
done

export LD_LIBRARY_PATH=$root/lib
out=$("$root/bin/portrma_info") || bad "portrma_info failed"
for word in portrma "MPI library" "port kinds" topology PORTRMA_LOG PORTRMA_SHM PORTRMA_NUMA; do
    grep -q "$word" <<<"$out" || bad "portrma_info does not print $word"
done

mpicc -o "$dest/ring" "$PRMA_SRCDIR/examples/ring.c" -L"$root/lib" -lportrma_mpi ||
    bad "linking against the installed -lportrma_mpi failed"
if [[ -x $dest/ring ]]; then
    out=$(timeout 120 mpirun --allow-run-as-root --oversubscribe -np 4 \
          --mca osc '^sm,ucx,rdma,pt2pt,monitoring' -x LD_LIBRARY_PATH "$dest/ring" 2>&1)
    grep -q "ring of 4 ranks.*correct" <<<"$out" || bad "installed, linked ring: $out"
fi
[[ $fail == 0 ]] && echo "install-check: ok"
exit $fail
