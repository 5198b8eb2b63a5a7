#!/bin/bash
# bench-check -- automake test (run directly, once per transport mode by
# run-test): a smoke test of the benchmarks (benchmarks/, bench.h).
#
#   bench-check [BENCHMARK-DIR]
#       (default: $PRMA_BUILDDIR/benchmarks, else ./benchmarks)
#
# Runs each benchmark program under portrma, briefly (tiny sizes, 10
# iterations, 2 of warm-up), each run under timeout ${PRMA_TEST_TIMEOUT:-60},
# with the same mpirun command as run-mpi (mpirun-args.sh: osc exclusion,
# PRMA_SHIM preload, the transport mode's settings, PRMA_MPIRUN_ARGS), and
# checks that each run
#   - exits 0 (a benchmark exits 1 when the data it moved is wrong, 3 when an
#     MPI call failed);
#   - prints on stdout only header lines starting with "# ", the last of them
#     a column header ("# Size ..."), then one "<size> <value>" row per size
#     it was given, sizes in order, values positive numbers with decimals.
#
# Which runs, at 2 ranks unless said:
#   default mode  every program with every -w and every -s it supports, and
#                 the programs that take any rank count at 4 ranks too;
#   ucx-tcp, ucx-sm
#                 every program once (-w allocate, its default -s), and
#                 prma_put_latency with -w create and -w dynamic;
#   nodes2        the programs that take any rank count, at 4 ranks (two
#                 pretend nodes: shm and ucx ports in one window).
# PRMA_BENCH_CHECK_FULL=1 runs the default mode's list in every mode.
#
# Exit: 0 pass, 1 fail, 77 skip (no mpirun), 99 usage error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mpirun-args.sh
. "$here/mpirun-args.sh"

dir=${1:-}
if [[ -z $dir ]]; then
    dir=./benchmarks
    [[ -n ${PRMA_BUILDDIR:-} ]] && dir=$PRMA_BUILDDIR/benchmarks
fi
timeout_s=${PRMA_TEST_TIMEOUT:-60}
mode=${PRMA_TEST_MODE:-default}

if ! prma_have_mpirun; then
    echo "bench-check: mpirun not found: skipping"
    exit 77
fi
prma_check_shim || exit 99
if [[ ! -d $dir ]]; then
    echo "bench-check: $dir: no such directory" >&2
    exit 99
fi

all_syncs='fence pscw lock flush flush_local lock_all'
all_wins='create allocate dynamic'

# The -s a program runs ("-" for a program without -s), and its -m for the
# smoke runs.
syncs_of() {
    case $1 in
    put_bibw) echo 'fence pscw' ;;
    fence_latency | pscw_latency | lock_latency | win_create) echo - ;;
    *) echo "$all_syncs" ;;
    esac
}
sizes_of() {
    case $1 in
    fence_latency | pscw_latency | lock_latency) echo 0:64 ;;
    *) echo 1:64 ;;
    esac
}
# The rows a program prints for -m sizes_of: its sizes, space separated.
rows_of() {
    case $1 in
    fence_latency | pscw_latency | lock_latency) echo '0 8 16 32 64' ;;
    acc_latency | get_acc_latency) echo '8 16 32 64' ;;
    fop_latency | cas_latency) echo '8' ;;
    *) echo '1 2 4 8 16 32 64' ;;
    esac
}

pair_progs='put_latency get_latency put_bw get_bw put_bibw acc_latency get_acc_latency
            fop_latency cas_latency put_rate'
any_np_progs='fence_latency pscw_latency lock_latency win_create'

# check_output FILE PROG: empty if FILE is well formed output of PROG, else
# what is wrong with it.
check_output() {
    awk -v want="$(rows_of "$2")" '
        BEGIN { nwant = split(want, rows, " "); n = 0; colhdr = 0 }
        /^# / {
            if (n > 0) { print "header line after a row: " $0; bad = 1; exit }
            colhdr = ($0 ~ /^# Size  +[A-Z]/); next
        }
        {
            if (!colhdr) { print "no column header line before: " $0; bad = 1; exit }
            if (NF != 2 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+\.[0-9]+$/) {
                print "not a row: " $0; bad = 1; exit
            }
            # A tiny run on a loaded machine may print 0.00 (MB/s of 1-byte
            # messages); the data it moved was checked before the row.
            if ($2 + 0 < 0) { print "value negative: " $0; bad = 1; exit }
            n++
            if (n > nwant || $1 != rows[n]) {
                print "row " n " is for size " $1 ", expected " (n > nwant ? "none" : rows[n])
                bad = 1; exit
            }
        }
        END {
            if (!bad && n != nwant) print n " rows, expected " nwant
        }' "$1"
}

failed=0 passed=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run NP PROG ARGS...: one run of benchmarks/prma_PROG, checked.
run() {
    local np=$1 prog=$2
    shift 2
    local bin=$dir/prma_$prog
    if [[ ! -x $bin ]]; then
        echo "bench-check: $bin: not an executable"
        failed=$((failed + 1))
        return
    fi
    prma_mpirun_cmd "$np" "$bin" "$@" -m "$(sizes_of "$prog")" -i 10 -x 2 || exit 99
    local start=$EPOCHREALTIME rc problem
    timeout "$timeout_s" "${PRMA_MPIRUN_CMD[@]}" </dev/null >"$out" 2>"$err"
    rc=$?
    local t label="bench-check: np=$np $PRMA_RUN_MODE prma_$prog $*"
    t=$(prma_elapsed "$start")
    if [[ $rc -eq 124 ]]; then
        problem="timed out after $timeout_s s"
    elif [[ $rc -ne 0 ]]; then
        problem="exit code $rc"
    else
        problem=$(check_output "$out" "$prog")
    fi
    if [[ -z $problem ]]; then
        echo "$label: ok ($t s)"
        passed=$((passed + 1))
        return
    fi
    echo "$label: FAIL: $problem ($t s)"
    echo "  command: timeout $timeout_s ${PRMA_MPIRUN_CMD[*]}"
    echo "  ---- stdout ----"
    sed 's/^/  | /' "$out"
    echo "  ---- stderr ----"
    head -n 40 "$err" | sed 's/^/  | /'
    echo "  ---- end (exit code $rc) ----"
    failed=$((failed + 1))
}

# run_all PROG NP: every -w and -s of PROG.
run_all() {
    local prog=$1 np=$2 s w
    for s in $(syncs_of "$prog"); do
        for w in $all_wins; do
            if [[ $s == - ]]; then
                run "$np" "$prog" -w "$w"
            else
                run "$np" "$prog" -w "$w" -s "$s"
            fi
        done
    done
}

start_all=$EPOCHREALTIME
if [[ $mode == default || ${PRMA_BENCH_CHECK_FULL:-0} == 1 ]]; then
    for prog in $pair_progs $any_np_progs; do
        run_all "$prog" 2
    done
    for prog in $any_np_progs; do
        run 4 "$prog" -w allocate
    done
elif [[ $mode == nodes2 ]]; then
    for prog in $any_np_progs; do
        for w in $all_wins; do
            run 4 "$prog" -w "$w"
        done
    done
else
    for prog in $pair_progs $any_np_progs; do
        run 2 "$prog" -w allocate
    done
    run 2 put_latency -w create
    run 2 put_latency -w dynamic
fi

echo "bench-check: mode $mode: $passed passed, $failed failed ($(prma_elapsed "$start_all") s)"
[[ $failed -eq 0 ]] || exit 1
exit 0
