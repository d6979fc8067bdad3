"""Shared fixtures for the live-source tests: paths, a QEMU gdbstub peer
started and killed by PID, and a runner for the live-probe driver."""
import os
import subprocess
import time

import pytest

from peers import Qemu, free_port, listening  # noqa: F401 (re-exported for the tests)

PROBE = os.environ.get("LIVE_PROBE", "build/live/live-probe")
MINI_FW = os.environ.get("LIVE_MINI_FW", "build/live/mini_fw.elf")
BUILD = os.environ.get("LIVE_BUILD", "build/live")
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def qemu_mini():
    q = Qemu(MINI_FW, halted=True)
    try:
        yield q
    finally:
        q.stop()


@pytest.fixture
def qemu_mini_running():
    q = Qemu(MINI_FW, halted=False)
    try:
        yield q
    finally:
        q.stop()


class ProbeResult:
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.seconds = seconds

    def stats(self):
        for line in self.out.splitlines():
            if line.startswith("stats "):
                return {k: int(v) for k, v in
                        (kv.split("=") for kv in line.split()[1:])}
        raise AssertionError("no stats line in %r" % self.out)


def probe(kind, target, *args, limit=30):
    start = time.monotonic()
    proc = subprocess.run([PROBE, kind, target] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=limit)
    return ProbeResult(proc, time.monotonic() - start)


def xorshift_pattern(nbytes, seed=0x12345678):
    """The bytes mini_fw.c writes at 0x20000000 (little-endian words)."""
    out = bytearray()
    x = seed
    for _ in range(nbytes // 4):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        out += x.to_bytes(4, "little")
    return bytes(out)


def gdb_dump(target, addr, length, path, elf=None):
    """Dumps memory with gdb-multiarch, the reference reader."""
    cmd = ["gdb-multiarch", "-q", "-nx", "-batch"]
    if elf:
        cmd.append(elf)
    cmd += ["-ex", "set architecture arm", "-ex", "target remote " + target,
            "-ex", "dump binary memory %s 0x%x 0x%x" % (path, addr, addr + length),
            "-ex", "detach"]
    subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    with open(path, "rb") as f:
        return f.read()
