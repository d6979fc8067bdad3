"""Shared fixtures for the live-source tests: paths, a QEMU gdbstub peer
started and killed by PID, and a runner for the live-probe driver."""
import os
import socket
import subprocess
import time

import pytest

PROBE = os.environ.get("LIVE_PROBE", "build/live/live-probe")
MINI_FW = os.environ.get("LIVE_MINI_FW", "build/live/mini_fw.elf")
BUILD = os.environ.get("LIVE_BUILD", "build/live")
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port, pid=None):
    """True when something listens on 127.0.0.1:port -- process `pid` when
    given, so a busy port held by someone else's QEMU does not count --
    found without connecting (a connection would stop QEMU's VM)."""
    want = "0100007F:%04X" % port
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                inodes.add(fields[9])
    if not inodes or pid is None:
        return bool(inodes)
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


class Qemu:
    def __init__(self, elf, halted=True):
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            cmd = ["qemu-system-arm", "-M", "mps2-an385", "-cpu", "cortex-m3",
                   "-nographic", "-monitor", "none", "-serial", "none",
                   "-kernel", elf, "-gdb", "tcp:127.0.0.1:%d" % self.port]
            if halted:
                cmd.append("-S")
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.proc.poll() is None:
                if listening(self.port, self.proc.pid):
                    return
                time.sleep(0.02)
            self.stop()
        raise RuntimeError("qemu did not start a gdbstub")

    @property
    def target(self):
        return "127.0.0.1:%d" % self.port

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)


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
