#!/bin/bash
# guard-check -- automake test (run once per transport mode by run-test).
#
# 1. Runs `guard env` on 2 ranks under PORTRMA_GUARD=strict and =race (the
#    setting, not the info key): the program checks every class itself;
#    here the reports on stderr are checked: the window's name, the rank,
#    the byte offset and size, the epoch kind, the origin and its
#    operation, and the function and file:line of the local access; and
#    that the cases without a conflict print no report.
# 2. Runs every MPI test program of the suite on 2 ranks under
#    PORTRMA_GUARD=race: each must pass and print no report (a correct
#    program has no conflict).
# Each mpirun runs under `timeout` (PRMA_TEST_TIMEOUT, default 120 s).
# Exit: 0 pass, 1 fail, 77 skip (no mpirun), 99 usage error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mpirun-args.sh
. "$here/mpirun-args.sh"

bindir=${PRMA_BUILDDIR:-.}/tests/mpi
timeout_s=${PRMA_TEST_TIMEOUT:-120}
np=2

if ! prma_have_mpirun; then
    echo "guard-check: mpirun not found: skipping"
    exit 77
fi
prma_check_shim || exit 99
if [[ ! -x $bindir/guard ]]; then
    echo "guard-check: $bindir/guard: not an executable" >&2
    exit 99
fi

failed=0
fail() {
    echo "guard-check: FAIL: $*"
    failed=1
}

# run GUARD PROGRAM [ARGS...]: sets $out and $rc
run() {
    local guard=$1
    shift
    local saved=${PRMA_MPIRUN_ARGS:-}
    PRMA_MPIRUN_ARGS="$saved -x PORTRMA_GUARD=$guard"
    prma_mpirun_cmd "$np" "$@" || exit 99
    PRMA_MPIRUN_ARGS=$saved
    out=$(timeout "$timeout_s" "${PRMA_MPIRUN_CMD[@]}" </dev/null 2>&1)
    rc=$?
}

# expect_report TEXT...: each is an extended regular expression that must
# match a line of $out.
expect() {
    local what=$1 re
    shift
    for re in "$@"; do
        grep -qE -- "$re" <<<"$out" || fail "$what: no line matches: $re"
    done
}

# ---- 1. the reports ----------------------------------------------------
loc='in guard_(store|load)_int at .*guard\.c:[0-9]+$'
for mode in strict race; do
    run "$mode" "$bindir/guard" env
    label="guard env, PORTRMA_GUARD=$mode, np=$np, ${PRMA_TEST_MODE:-default}"
    if [[ $rc -ne 0 ]]; then
        fail "$label: exit code $rc"
        printf '%s\n' "$out" | sed 's/^/  | /'
        continue
    fi
    head="portrma: RMA conflict on window \"guard $mode"
    tail="\" \\(rank 1 of $np, PORTRMA_GUARD=$mode\\): 1 conflicting access$"
    if [[ $mode == race ]]; then
        expect "$label" \
            "${head} fence store${tail}" \
            "local store of 4 bytes at byte offset 256 in a fence epoch collides with a put by rank 0 of bytes 256\\.\\.259, $loc" \
            "${head} pscw load${tail}" \
            "local load of 4 bytes at byte offset 256 in a post/wait \\(PSCW\\) exposure epoch collides with a put by rank 0 of bytes 256\\.\\.259, $loc" \
            "${head} lock store-get${tail}" \
            "local store of 4 bytes at byte offset 256 in a passive-target \\(lock\\) epoch collides with a get by rank 0 of bytes 256\\.\\.259, $loc" \
            "${head} lock store-first${tail}"
        for clean in other-page same-page load-get clean; do
            for s in fence pscw lock; do
                grep -q "window \"guard race $s $clean\"" <<<"$out" &&
                    fail "$label: a report for the correct case $s $clean"
            done
        done
    else
        expect "$label" \
            "${head} fence other-page${tail}" \
            "local store of 4 bytes at byte offset 4224 while the window was exposed \\(fence epoch\\), $loc" \
            "${head} pscw load-get${tail}" \
            "local load of 4 bytes at byte offset 256 while the window was exposed \\(post/wait \\(PSCW\\) exposure epoch\\), $loc" \
            "${head} lock same-page${tail}" \
            "local store of 4 bytes at byte offset 1024 while the window was exposed \\(a passive-target epoch was open on it\\), $loc"
        for s in fence pscw lock; do
            grep -q "window \"guard strict $s clean\"" <<<"$out" &&
                fail "$label: a report for the correct case $s clean"
        done
    fi
    [[ $failed -eq 0 ]] && echo "guard-check: $label: ok"
done

# ---- 2. the suite under race --------------------------------------------
for prog in fence_putget fence_types errors attrs ring ports pscw locks progress sync_errors \
    shared requests datatypes accumulate dynamic guard; do
    [[ -x $bindir/$prog ]] || { fail "$bindir/$prog: not built"; continue; }
    start=$EPOCHREALTIME
    run race "$bindir/$prog"
    label="$prog under PORTRMA_GUARD=race, np=$np, ${PRMA_TEST_MODE:-default}"
    # Some programs check timing as well as results (locks: "the ranks
    # interleaved"), which the guard's slower epochs on a loaded 2-core
    # machine can defeat; a program that fails without a conflict report
    # runs once more, and must pass then. A report is never retried.
    if [[ $rc -ne 0 && $rc -ne 77 && $prog != guard ]] && ! grep -q 'RMA conflict' <<<"$out"; then
        echo "guard-check: $label: exit code $rc, no report; once more"
        printf '%s\n' "$out" | grep -E 'FAIL|error' | head -5 | sed 's/^/  | /'
        run race "$bindir/$prog"
    fi
    t=$(prma_elapsed "$start")
    # guard itself makes conflicts on purpose (and checks them).
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then
        fail "$label: exit code $rc ($t s)"
        printf '%s\n' "$out" | sed 's/^/  | /'
    elif [[ $prog != guard ]] && grep -q 'RMA conflict' <<<"$out"; then
        fail "$label: a report for a correct program ($t s)"
        printf '%s\n' "$out" | grep -A3 'RMA conflict' | sed 's/^/  | /'
    else
        echo "guard-check: $label: ok ($t s)"
    fi
done

exit $failed
