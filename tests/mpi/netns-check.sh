#!/bin/bash
# netns-check.sh - the MPI tests across a simulated cluster of two hosts
# (network and hostname namespaces on a private bridge, made by the
# workplace's netns-cluster tool): MPI sees two nodes, so same-host peers
# get shm ports and the others ucx ports over real TCP between namespaces;
# then a rank is killed mid-epoch and the survivors on both hosts must get
# portrma's lost-peer error.
#
# Needs root, iproute2 and the tool (PRMA_NETNS_CLUSTER, or
# ../shared/tools/netns-cluster beside the source tree): skipped without
# them. Runs in the default transport mode only (the others: skipped).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${PRMA_SRCDIR:-$here/../..}
tool=${PRMA_NETNS_CLUSTER:-$src/../shared/tools/netns-cluster}
build=${PRMA_BUILDDIR:-.}

if [[ ${PRMA_TEST_MODE:-default} != default ]]; then
    echo "netns-check: runs in the default mode only (this is $PRMA_TEST_MODE): skipped"
    exit 77
fi
if [[ $(id -u) -ne 0 || ! -x $tool ]] || ! command -v ip >/dev/null; then
    echo "netns-check: needs root, ip and $tool: skipped"
    exit 77
fi

out=$("$tool" up 2 2>&1) || { echo "netns-check: FAIL: cannot make the cluster: $out"; exit 1; }
trap '"$tool" down >/dev/null 2>&1' EXIT
eval "$("$tool" args)"
: "${NETNS_MPIRUN_ARGS:?netns-cluster printed no mpirun options}"

export PRMA_MPIRUN_ARGS="$NETNS_MPIRUN_ARGS -x PRMA_TEST_HOSTS=2"
export PRMA_TEST_NP=4 PRMA_TEST_MODE=default
status=0
for t in ring ports fence_putget fence_types errors attrs pscw locks progress sync_errors shared requests \
         dynamic; do
    bash "$here/run-mpi" "$build/tests/mpi/$t" || status=1
done
bash "$here/peer-death-check.sh" "$build/tests/mpi/peer_death" || status=1
exit $status
