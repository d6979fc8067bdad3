#!/usr/bin/env bash
# Runs a test firmware in QEMU (mps2-an385, Cortex-M3) to its semihosting
# exit, with a timeout; prints its output and exits with its status (124 on
# timeout).  Usage: scripts/qemu-run.sh [--timeout SECONDS] FIRMWARE.elf
top=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$top/tests/firmware/qemu_dump.py" run "$@"
