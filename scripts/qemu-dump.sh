#!/usr/bin/env bash
# Runs a test firmware in QEMU to its checkpoint(s) and captures RAM there
# through gdb (`dump binary memory`), QMP pmemsave and QMP dump-guest-memory.
# Usage: scripts/qemu-dump.sh FIRMWARE.elf --out DIR [--checkpoint N]...
#          [--method gdb|pmemsave|core]... [--range START:END] [--timeout S]
# See tests/firmware/qemu_dump.py for the files it writes.
top=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$top/tests/firmware/qemu_dump.py" dump "$@"
