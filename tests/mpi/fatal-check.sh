#!/bin/bash
# fatal-check -- automake test (run directly, not through run-mpi).
#
#   fatal-check [PATH-TO-fatal]
#       (default: $PRMA_FATAL_BIN, else ./fatal, ./tests/mpi/fatal or the one
#       next to this script)
#
# Runs the `fatal` program on 2 ranks with the same mpirun command as run-mpi
# (mpirun-args.sh: osc exclusion, PRMA_SHIM preload, PRMA_MPIRUN_ARGS,
# PRMA_TEST_NO_OSC_EXCLUDE).  With MPI_ERRORS_ARE_FATAL, its out-of-range
# MPI_Put must abort the job:
#   - mpirun must exit non-zero within ${PRMA_TEST_TIMEOUT:-60} s
#     (a timeout, exit 124, is a failure: the job hung instead of aborting);
#   - the ranks must have got to the bad put (the "before" marker is printed),
#     so a job that failed earlier, e.g. creating the window, does not count;
#   - no rank may print the marker that follows the bad put;
#   - a rank killed by SIGSEGV/SIGBUS is a failure: the error was not caught,
#     memory outside the window was accessed.
# Exit: 0 pass, 1 fail, 77 skip (no mpirun), 99 usage error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mpirun-args.sh
. "$here/mpirun-args.sh"

# The program: argument, $PRMA_FATAL_BIN, else ./fatal (recursive make, or
# run by hand in the build directory), else ./tests/mpi/fatal (non-recursive
# make, run from the top build directory), else next to this script.
prog=${1:-${PRMA_FATAL_BIN:-}}
if [[ -z $prog ]]; then
    for prog in ./fatal ./tests/mpi/fatal "$here/fatal"; do
        [[ -x $prog && ! -d $prog ]] && break
    done
fi
np=2
timeout_s=${PRMA_TEST_TIMEOUT:-60}

if ! prma_have_mpirun; then
    echo "fatal-check: mpirun not found: skipping"
    exit 77
fi
prma_check_shim || exit 99
if [[ ! -x $prog ]]; then
    echo "fatal-check: $prog: not an executable" >&2
    exit 99
fi

prma_mpirun_cmd "$np" "$prog"
start=$EPOCHREALTIME
out=$(timeout "$timeout_s" "${PRMA_MPIRUN_CMD[@]}" </dev/null 2>&1)
rc=$?
t=$(prma_elapsed "$start")
label="fatal-check: np=$np $PRMA_RUN_MODE $prog"

problems=()
if [[ $rc -eq 0 ]]; then
    problems+=("the job exited 0: the out-of-range MPI_Put did not abort it")
elif [[ $rc -eq 124 ]]; then
    problems+=("timed out after $timeout_s s: the job hung instead of aborting")
elif [[ $rc -eq 139 || $rc -eq 135 ]] ||
     grep -qE 'signal (11|7) |Segmentation fault|Bus error' <<<"$out"; then
    problems+=("a rank crashed (exit $rc): the bad MPI_Put was not caught by the error handler")
fi
nbefore=$(grep -c 'fatal: rank [0-9]*: before the bad put' <<<"$out")
if [[ $nbefore -eq 0 ]]; then
    problems+=("no rank reached the bad put (the job failed before it)")
fi
if grep -q 'REACHED-AFTER-BAD-PUT' <<<"$out"; then
    problems+=("a rank went on past the bad MPI_Put: $(grep 'REACHED-AFTER-BAD-PUT' <<<"$out" | head -3 | tr '\n' ';')")
fi

if [[ ${#problems[@]} -eq 0 ]]; then
    echo "$label: ok: job aborted with exit code $rc ($t s)"
    exit 0
fi
echo "$label: FAIL ($t s)"
for p in "${problems[@]}"; do
    echo "  - $p"
done
echo "  command: timeout $timeout_s ${PRMA_MPIRUN_CMD[*]}"
echo "  ---- output ----"
printf '%s\n' "$out" | sed 's/^/  | /'
echo "  ---- end of output (exit code $rc) ----"
exit 1
