#!/bin/bash
# cleanup-check -- automake test (run directly, not through run-mpi).
#
#   cleanup-check [PATH-TO-cleanup]
#       (default: $PRMA_CLEANUP_BIN, else ./cleanup, ./tests/mpi/cleanup or
#       the one next to this script)
#
# Runs `cleanup normal`, `cleanup abort` and `cleanup kill` (see cleanup.c)
# on ${PRMA_CLEANUP_NP:-4} ranks, each under timeout ${PRMA_TEST_TIMEOUT:-60},
# with the same mpirun command as run-mpi (mpirun-args.sh: osc exclusion,
# PRMA_SHIM preload, PRMA_MPIRUN_ARGS, PRMA_TEST_NO_OSC_EXCLUDE), and checks
# after each case that
#   - the job ended as it should: `normal` exits 0 and prints its "done"
#     line; `abort` and `kill` exit non-zero but not by timeout (124), after
#     every rank reported its windows open, and no rank got past the fence;
#   - nothing new appeared in /dev/shm or /tmp (top-level entries, compared
#     with a snapshot taken just before the case);
#   - the private temporary directory given to the job is empty again;
#   - no process of the job is left running: the program (pgrep -f on its
#     path) or any process carrying the job's private TMPDIR (mpirun, helper
#     processes); survivors are killed (SIGKILL, by pid) and the check fails.
#
# Open MPI's session directory goes to a private directory made with mktemp -d
# (mpirun --mca orte_tmpdir_base DIR, and TMPDIR=DIR for mpirun and the
# ranks); a clean Open MPI 4.1 run leaves /dev/shm, /tmp and that directory
# exactly as they were, also after MPI_Abort and after a rank is SIGKILLed
# (its vader_segment.* files in /dev/shm are removed by mpirun).  The private
# directory is removed at exit.
#
# Other activity on the machine may create entries in /tmp or /dev/shm while a
# case runs.  A new entry is only reported if, after the job is gone, no live
# process holds it (open, mapped or as its cwd) and it has not vanished after
# a few seconds; others are listed in a "note:" line.  Still, a file that
# another program creates and closes during a case is reported: run this
# test alone (not next to other MPI jobs) for a trustworthy result.
#
# Exit: 0 pass, 1 fail, 77 skip (no mpirun), 99 usage error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mpirun-args.sh
. "$here/mpirun-args.sh"

# The program: argument, $PRMA_CLEANUP_BIN, else ./cleanup (recursive make, or
# run by hand in the build directory), else ./tests/mpi/cleanup (non-recursive
# make, run from the top build directory), else next to this script.
prog=${1:-${PRMA_CLEANUP_BIN:-}}
if [[ -z $prog ]]; then
    for prog in ./cleanup ./tests/mpi/cleanup "$here/cleanup"; do
        [[ -x $prog && ! -d $prog ]] && break
    done
fi
np=${PRMA_CLEANUP_NP:-4}
timeout_s=${PRMA_TEST_TIMEOUT:-60}

if ! prma_have_mpirun; then
    echo "cleanup-check: mpirun not found: skipping"
    exit 77
fi
prma_check_shim || exit 99
if [[ ! -x $prog || -d $prog ]]; then
    echo "cleanup-check: $prog: not an executable" >&2
    exit 99
fi
# absolute path: that is what the ranks' command lines hold, for pgrep
prog_abs=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
prog_re=$(printf '%s' "$prog_abs" | sed 's/[][\.*^$+?(){}|]/\\&/g')
rank_pattern="^$prog_re( |\$)"

private=$(mktemp -d "${TMPDIR:-/tmp}/prma-cleanup.XXXXXX") || exit 99
trap 'rm -rf -- "$private"' EXIT

snapshot() {
    find /dev/shm /tmp -mindepth 1 -maxdepth 1 2>/dev/null | LC_ALL=C sort
}

# Paths that live processes other than this script hold: cwd, open files,
# mapped files.  Once the job is gone, none of them is the job's.
live_refs() {
    local p
    for p in /proc/[0-9]*; do
        case ${p#/proc/} in "$$" | "$BASHPID") continue ;; esac
        readlink "$p/cwd" "$p"/fd/* 2>/dev/null
        sed -n 's|^[^/]*\(/.*\)$|\1|p' "$p/maps" 2>/dev/null
    done | sed 's| (deleted)$||' | LC_ALL=C sort -u
}

# Is path $1 (or something under it) in the list $2?
in_refs() {
    awk -v e="$1" 'index($0, e) == 1 &&
        (length($0) == length(e) || substr($0, length(e) + 1, 1) == "/") {
            found = 1; exit }
        END { exit !found }' <<<"$2"
}

# Pids of processes of the job still alive: the program itself (by path),
# or anything that got the job's private TMPDIR (mpirun, its daemons, helper
# processes of the ranks).
job_pids() {
    local p pid
    {
        pgrep -f -- "$rank_pattern"
        for p in /proc/[0-9]*; do
            pid=${p#/proc/}
            case $pid in "$$" | "$BASHPID") continue ;; esac
            if grep -qzxF -- "TMPDIR=$private" "$p/environ" 2>/dev/null; then
                echo "$pid"
            fi
        done
    } | sort -un | tr '\n' ' '
}

failed=0

run_case() {
    local mode=$1
    local problems=() before after new left pids out rc t start i

    before=$(snapshot)
    PRMA_TMPDIR=$private prma_mpirun_cmd "$np" "$prog_abs" "$mode"
    start=$EPOCHREALTIME
    out=$(TMPDIR=$private timeout "$timeout_s" "${PRMA_MPIRUN_CMD[@]}" \
          </dev/null 2>&1)
    rc=$?
    t=$(prma_elapsed "$start")

    # how the job ended
    local nopen
    nopen=$(grep -c '^cleanup: rank [0-9]*: windows open' <<<"$out")
    if [[ $mode == normal ]]; then
        if [[ $rc -ne 0 ]]; then
            problems+=("exit code $rc, expected 0")
        fi
        if ! grep -q '^cleanup: normal: done' <<<"$out"; then
            problems+=("the program did not print its \"done\" line")
        fi
    else
        if [[ $rc -eq 0 ]]; then
            problems+=("exit code 0: the job was not brought down")
        elif [[ $rc -eq 124 ]]; then
            problems+=("timed out after $timeout_s s: the job was not brought down")
        fi
        if [[ $nopen -ne $np ]]; then
            problems+=("$nopen of $np ranks reported their windows open")
        fi
        if grep -q 'REACHED-THE-END' <<<"$out"; then
            problems+=("a rank got past the fence after the $mode")
        fi
    fi

    # processes of the job left running (give them a few seconds to go)
    pids=
    for ((i = 0; i < 50; i++)); do
        pids=$(job_pids)
        [[ -z ${pids// /} ]] && break
        sleep 0.2
    done
    if [[ -n ${pids// /} ]]; then
        local p
        problems+=("processes of the job still running after it ended (killed now):")
        for p in $pids; do
            problems+=("    pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)")
            kill -KILL "$p" 2>/dev/null
        done
    fi

    # files left behind.  Other users of the machine may create entries in
    # /tmp or /dev/shm meanwhile: an entry still held (open, mapped, cwd) by
    # a live process is not the job's, since the job is gone; entries that
    # vanish within a few seconds are transient files of others.  Anything
    # else new is a leak.
    local e unexplained others refs
    for ((i = 0; i < 10; i++)); do
        after=$(snapshot)
        new=$(LC_ALL=C comm -13 <(printf '%s\n' "$before") \
              <(printf '%s\n' "$after"))
        unexplained=() others=()
        if [[ -n $new ]]; then
            refs=$(live_refs)
            while IFS= read -r e; do
                if in_refs "$e" "$refs"; then
                    others+=("$e")
                else
                    unexplained+=("$e")
                fi
            done <<<"$new"
        fi
        [[ ${#unexplained[@]} -eq 0 ]] && break
        sleep 0.5
    done
    if [[ ${#unexplained[@]} -gt 0 ]]; then
        problems+=("new in /dev/shm or /tmp: ${unexplained[*]}")
    fi
    if [[ ${#others[@]} -gt 0 ]]; then
        echo "cleanup-check: note: new but held by other live processes, ignored: ${others[*]}"
    fi
    left=$(cd "$private" && find . -mindepth 1 -maxdepth 3 | head -20 | tr '\n' ' ')
    if [[ -n $left ]]; then
        problems+=("left in the job's TMPDIR/session directory base: $left")
        find "$private" -mindepth 1 -delete 2>/dev/null
    fi

    local label="cleanup-check: np=$np $PRMA_RUN_MODE $prog $mode"
    if [[ ${#problems[@]} -eq 0 ]]; then
        echo "$label: ok (exit code $rc, $t s)"
        return
    fi
    failed=1
    echo "$label: FAIL ($t s)"
    local p
    for p in "${problems[@]}"; do
        echo "  - $p"
    done
    echo "  command: TMPDIR=$private timeout $timeout_s ${PRMA_MPIRUN_CMD[*]}"
    echo "  ---- output ----"
    printf '%s\n' "$out" | sed 's/^/  | /'
    echo "  ---- end of output (exit code $rc) ----"
}

for mode in normal abort kill; do
    run_case "$mode"
done
exit $failed
