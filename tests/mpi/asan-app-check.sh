#!/bin/bash
# asan-app-check.sh - a program built with AddressSanitizer runs under
# portrma: some MPI tests, compiled with -fsanitize=address, run at 2 and 4
# ranks with the shim preloaded after libasan (every mpirun under a
# timeout). AddressSanitizer checks every byte that the libc calls it
# intercepts touch, in the program's libraries too: portrma's must not touch
# the program's redzones or freed memory that way (moving a window's pages
# into a memfd reads and writes whole pages, neighbours included). Fails on
# any AddressSanitizer report, a failed test or a timeout. Skipped (77)
# when the compiler cannot build with AddressSanitizer.
set -u
: "${PRMA_SRCDIR:?run through make check}"
shim=${PRMA_SHIM:-}
if [[ -z "$shim" || ! -r "$shim" ]]; then
    echo "asan-app-check: FAIL: PRMA_SHIM names no shim"
    exit 1
fi
command -v mpirun >/dev/null || { echo "asan-app-check: SKIP: no mpirun"; exit 77; }
libasan=$(mpicc -print-file-name=libasan.so 2>/dev/null)
if [[ ! -e "$libasan" ]]; then
    echo "asan-app-check: SKIP: the compiler has no AddressSanitizer runtime"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "asan-app-check: FAIL: $*"; fail=1; }

for prog in remap fence_putget accumulate datatypes; do
    if ! mpicc -fsanitize=address -fno-omit-frame-pointer -g -O1 -w -I"$PRMA_SRCDIR/tests/mpi" \
        -o "$dir/$prog" "$PRMA_SRCDIR/tests/mpi/$prog.c" 2>"$dir/cc.out"; then
        tail -5 "$dir/cc.out"
        bad "$prog does not build with -fsanitize=address"
        continue
    fi
    for np in 2 4; do
        out=$(timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe -np $np \
            --mca btl self,vader,tcp --mca osc '^sm,ucx,rdma,pt2pt,monitoring' \
            -x ASAN_OPTIONS=detect_leaks=0 -x LD_PRELOAD="$libasan:$shim" \
            "$dir/$prog" 2>&1)
        rc=$?
        if grep -q "AddressSanitizer" <<<"$out"; then
            grep -A12 "ERROR: AddressSanitizer" <<<"$out" | head -30
            bad "$prog at $np ranks: AddressSanitizer stopped it"
        elif [[ $rc -ne 0 ]]; then
            tail -15 <<<"$out"
            bad "$prog at $np ranks: exit $rc"
        else
            echo "asan-app-check: $prog at $np ranks: ok"
        fi
    done
done
exit $fail
