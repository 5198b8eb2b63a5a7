#!/bin/bash
# build.sh - configure (once) and build portrma in ./build, installing into
# ./build/_inst. Extra arguments go to configure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[[ -x configure ]] || autoreconf -fi >/dev/null
mkdir -p build
cd build
[[ -f Makefile ]] || ../configure --prefix="$top/build/_inst" "$@" >configure.out ||
    { cat configure.out; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }
make install >>make.out 2>&1 || { cat make.out; exit 1; }
