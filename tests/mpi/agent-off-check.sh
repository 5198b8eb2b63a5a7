#!/bin/bash
# agent-off-check -- automake test (run once per transport mode by run-test).
#
# Runs the agent test program with the node agent off (PORTRMA_AGENT=off):
# every operation then travels by process_vm_readv/writev and stripe-locked
# copies, and the program's exact checks must hold just the same. Modes
# without same-node shm ports (ucx-tcp, ucx-sm) have nothing to turn off:
# skipped.
# Exit: 0 pass, 1 fail, 77 skip, 99 usage error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${PRMA_BUILDDIR:-.}/tests/mpi

case ${PRMA_TEST_MODE:-default} in
ucx-*) exit 77 ;;
esac
if [[ ! -x $bindir/agent ]]; then
    echo "agent-off-check: $bindir/agent: not an executable" >&2
    exit 99
fi
PRMA_MPIRUN_ARGS="${PRMA_MPIRUN_ARGS:-} -x PORTRMA_AGENT=off" \
    exec bash "$here/run-mpi" "$bindir/agent"
