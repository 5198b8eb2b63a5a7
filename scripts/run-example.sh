#!/bin/bash
# run-example.sh - set up, build, and run examples/ring.c on 4 ranks with
# portrma serving every one-sided call (Open MPI's own one-sided components
# are excluded, so it can only work through portrma).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
prefix=$PWD/build/_inst
mpicc -O2 examples/ring.c -o build/ring
root=(); [[ $(id -u) -eq 0 ]] && root=(--allow-run-as-root)
echo "+ mpirun -np 4 -x LD_PRELOAD=$prefix/lib/libportrma_mpi.so build/ring"
timeout 120 mpirun "${root[@]}" --oversubscribe -np 4 --mca osc '^sm,ucx,rdma,pt2pt,monitoring' \
    -x LD_PRELOAD="$prefix/lib/libportrma_mpi.so" build/ring
