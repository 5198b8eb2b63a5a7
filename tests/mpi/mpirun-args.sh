# shellcheck shell=bash
# shellcheck disable=SC2034  # PRMA_MPIRUN_CMD / PRMA_RUN_MODE are for the callers
# Sourced (bash) by run-mpi, fatal-check and cleanup-check: builds the mpirun
# command line used for every test run, so that all of them launch the same
# way.  See the comment at the top of run-mpi for the environment variables.
#
#   prma_mpirun_cmd NP PROGRAM [ARGS...]
#       sets the array PRMA_MPIRUN_CMD to the full command (without timeout)
#       and PRMA_RUN_MODE to "linked", "preload" or "plain".
#   prma_have_mpirun
#       true if mpirun is on PATH.
#   prma_check_shim
#       fails (returns 1 with a message) if PRMA_SHIM names no readable file.
#
# Extra, used by cleanup-check only:
#   PRMA_TMPDIR  if set, Open MPI's session directory (orte_tmpdir_base) and
#                the ranks' TMPDIR are put there.

# Every MPI one-sided component of Open MPI: excluding them all means that
# MPI_Win_create/allocate fail unless portrma provides the windows.
PRMA_OSC_EXCLUDE='^sm,ucx,rdma,pt2pt,monitoring'

# Transport modes: each runs the whole suite with portrma reaching peers a
# different way. PRMA_TEST_MODE picks one for a run (default: "default").
PRMA_ALL_MODES='default ucx-tcp ucx-sm nodes2'

# prma_mode_args MODE: sets the array PRMA_MODE_ARGS to MODE's mpirun -x
# options; fails for an unknown mode.
prma_mode_args() {
    case $1 in
    default) PRMA_MODE_ARGS=() ;;
    # every byte to another rank crosses the loopback network stack
    ucx-tcp) PRMA_MODE_ARGS=(-x PORTRMA_TRANSPORT=ucx -x UCX_TLS=tcp) ;;
    # every peer through UCX's shared-memory transports
    ucx-sm) PRMA_MODE_ARGS=(-x PORTRMA_TRANSPORT=ucx -x UCX_TLS=sm,self) ;;
    # pretend nodes of 2 ranks: one mpirun mixes shm and ucx ports
    nodes2) PRMA_MODE_ARGS=(-x PORTRMA_NODE_SIZE=2) ;;
    *) echo "unknown test mode '$1' (known: $PRMA_ALL_MODES)" >&2; return 1 ;;
    esac
}

prma_have_mpirun() {
    command -v mpirun >/dev/null 2>&1
}

prma_check_shim() {
    if [[ -n ${PRMA_SHIM:-} && ! -r $PRMA_SHIM ]]; then
        echo "PRMA_SHIM=$PRMA_SHIM: no such readable file" >&2
        return 1
    fi
    return 0
}

prma_mpirun_cmd() {
    local np=$1
    shift
    local prog=$1
    local base=${prog##*/}
    base=${base%.exe}

    PRMA_MPIRUN_CMD=(mpirun --allow-run-as-root --oversubscribe -np "$np"
                     --mca btl 'self,vader,tcp')
    if [[ ${PRMA_TEST_NO_OSC_EXCLUDE:-0} != 1 ]]; then
        PRMA_MPIRUN_CMD+=(--mca osc "$PRMA_OSC_EXCLUDE")
    fi

    if [[ $base == *_linked ]]; then
        PRMA_RUN_MODE=linked
    elif [[ -n ${PRMA_SHIM:-} ]]; then
        PRMA_RUN_MODE=preload
        PRMA_MPIRUN_CMD+=(-x "LD_PRELOAD=$PRMA_SHIM")
    else
        PRMA_RUN_MODE=plain
    fi

    prma_mode_args "${PRMA_TEST_MODE:-default}" || return 1
    PRMA_MPIRUN_CMD+=("${PRMA_MODE_ARGS[@]}")
    PRMA_RUN_MODE="$PRMA_RUN_MODE ${PRMA_TEST_MODE:-default}"

    if [[ -n ${PRMA_TMPDIR:-} ]]; then
        PRMA_MPIRUN_CMD+=(--mca orte_tmpdir_base "$PRMA_TMPDIR"
                          -x "TMPDIR=$PRMA_TMPDIR")
    fi

    local extra=()
    # Deliberately word-split: PRMA_MPIRUN_ARGS holds several arguments.
    read -r -a extra <<<"${PRMA_MPIRUN_ARGS:-}"
    PRMA_MPIRUN_CMD+=("${extra[@]}" "$@")
}

# Seconds elapsed since $1 (an $EPOCHREALTIME value), one decimal.
prma_elapsed() {
    local start=${1/,/.} now=${EPOCHREALTIME/,/.}
    awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
