#!/usr/bin/env bash
# Installs the Debian 12 packages a make goal needs, and only those missing.
# As root it runs apt-get itself; otherwise it prints the command to run.
# Usage: scripts/deps.sh GOAL...   (GOAL: build test demo bench)
set -u
pkgs_build="make gcc gcc-multilib libc6-dev libelf-dev libdw-dev libncurses-dev pkg-config"
pkgs_cross="gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi gcc-riscv64-unknown-elf"
pkgs_qemu="qemu-system-arm gdb-multiarch"
pkgs_test="$pkgs_build $pkgs_cross $pkgs_qemu gdb openocd valgrind python3 python3-pytest clang libclang-rt-14-dev tmux"
pkgs_demo="$pkgs_build $pkgs_cross $pkgs_qemu"
pkgs_bench="$pkgs_build $pkgs_cross $pkgs_qemu valgrind"

want=""
for goal in "$@"; do
    case "$goal" in
        build) want="$want $pkgs_build" ;;
        test)  want="$want $pkgs_test" ;;
        demo)  want="$want $pkgs_demo" ;;
        bench) want="$want $pkgs_bench" ;;
        *) echo "deps.sh: unknown goal '$goal'" >&2; exit 2 ;;
    esac
done

missing=""
for p in $(printf '%s\n' $want | sort -u); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages:$missing" >&2
    echo "deps.sh: run as root: apt-get update && $cmd" >&2
    exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine.
apt-get update -qq >&2 || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
$cmd >&2 || { echo "deps.sh: '$cmd' failed" >&2; exit 1; }
