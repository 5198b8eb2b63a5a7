#!/bin/bash
# peer-death-check.sh - kill one rank with SIGKILL in the middle of an
# epoch, with every peer reached through UCX over tcp, and check that each
# survivor gets an MPI error (not a hang) within the program's bound, and
# that the whole run ends within the timeout.
#
# Runs in every transport mode (the survivors find out through UCX's peer
# failure detection, or through the barrier's check of its members), on 3
# ranks, with mpirun --enable-recovery so that the launcher lets the
# survivors finish instead of killing them when the victim dies. The error
# must be portrma's own class for a lost peer, not a generic one.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mpirun-args.sh
. "$here/mpirun-args.sh"

mode=${PRMA_TEST_MODE:-ucx-tcp}
prog=${1:-}
for p in ./peer_death ./tests/mpi/peer_death "$here/peer_death"; do
    [[ -z $prog && -x $p && ! -d $p ]] && prog=$p
done
if ! prma_have_mpirun; then
    echo "peer-death-check: mpirun not found: skipping"
    exit 77
fi
prma_check_shim || exit 99
[[ -x $prog ]] || { echo "peer-death-check: no peer_death program" >&2; exit 99; }

np=3
timeout_s=${PRMA_TEST_TIMEOUT:-90}
PRMA_TEST_MODE=$mode prma_mpirun_cmd "$np" --enable-recovery "$prog" || exit 99
# The launcher itself may linger after every rank is gone (Open MPI's
# recovery mode across daemons does): once every survivor has reported, it
# gets a few seconds, then it is stopped. What is judged is the survivors.
log=$(mktemp)
start=$EPOCHREALTIME
timeout "$timeout_s" "${PRMA_MPIRUN_CMD[@]}" </dev/null >"$log" 2>&1 &
launcher=$!
lingered=
for ((i = 0; i < timeout_s * 10; i++)); do
    kill -0 "$launcher" 2>/dev/null || break
    if [[ $(grep -c 'peer_death: rank [0-9]*: error after' "$log") -ge $((np - 1)) ]]; then
        for ((j = 0; j < 50; j++)); do
            kill -0 "$launcher" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$launcher" 2>/dev/null; then
            lingered=1
            pkill -TERM -P "$launcher" 2>/dev/null
        fi
        break
    fi
    sleep 0.1
done
wait "$launcher"
rc=$?
[[ -n $lingered ]] && rc=0
out=$(cat "$log")
rm -f "$log"
t=$(prma_elapsed "$start")
label="peer-death-check: np=$np $PRMA_RUN_MODE $prog"

problems=()
[[ $rc -eq 124 ]] && problems+=("the run hung: timed out after $timeout_s s")
nconn=$(grep -c 'peer_death: rank [0-9]*: connected' <<<"$out")
[[ $nconn -eq $np ]] || problems+=("$nconn of $np ranks connected before the kill")
nerr=$(grep -c 'peer_death: rank [0-9]*: error after.*portrma: a peer process' <<<"$out")
[[ $nerr -eq $((np - 1)) ]] ||
    problems+=("$nerr of $((np - 1)) survivors reported portrma's lost-peer error")
grep -q 'FAIL' <<<"$out" && problems+=("$(grep FAIL <<<"$out" | head -3 | tr '\n' ';')")

if [[ ${#problems[@]} -eq 0 ]]; then
    echo "$label: ok ($t s)${lingered:+; the launcher lingered after the ranks and was stopped}"
    grep 'error after' <<<"$out" | sed 's/^/  /'
    exit 0
fi
echo "$label: FAIL ($t s)"
for p in "${problems[@]}"; do echo "  - $p"; done
echo "  command: timeout $timeout_s ${PRMA_MPIRUN_CMD[*]}"
echo "  ---- output ----"
printf '%s\n' "$out" | sed 's/^/  | /'
echo "  ---- end of output (exit code $rc) ----"
exit 1
