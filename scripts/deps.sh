#!/bin/bash
# deps.sh - install the Debian packages portrma needs, only those missing.
set -euo pipefail
pkgs=(build-essential libopenmpi-dev openmpi-bin libucx-dev ucx-utils libhwloc-dev
      libcmocka-dev autoconf automake libtool pkg-config libmpich-dev mpich gnuplot-nox
      gfortran)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "deps: installing ${missing[*]}"
sudo=; [[ $(id -u) -ne 0 ]] && sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
