"""OpenOCD source against a real OpenOCD 0.12 process whose JTAG wire is
simulated: OpenOCD's remote_bitbang adapter talks to jtag_dp_sim.py (an
ARM JTAG-DP + AHB-AP + Cortex-M3 debug registers in front of a RAM image);
OpenOCD's own cortex_m target examines, halts, resumes and reads."""
import os
import random
import socket
import subprocess
import sys
import time

import pytest

from conftest import HERE, free_port, listening, probe

BASE = 0x20000000
TICKER = BASE + 0x7000


class SimulatedJtagOpenocd:
    def __init__(self, image_path, ticker=TICKER, gdb=False):
        self.sim = self.openocd = self.log = None
        self.log_path = image_path + ".openocd.log"
        for _ in range(3):
            if self._start(image_path, ticker, gdb):
                return
        raise RuntimeError("openocd did not examine the simulated target:\n" +
                           open(self.log_path).read())

    def _start(self, image_path, ticker, gdb):
        """One attempt; False (everything stopped) when a port we picked
        was taken meanwhile, so the caller tries again."""
        cmd = [sys.executable, os.path.join(HERE, "jtag_dp_sim.py"), "--image", image_path,
               "--base", hex(BASE)]
        if ticker is not None:
            cmd += ["--ticker", hex(ticker)]
        self.sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.sim.stdout.readline()
        if not line.startswith("listening on port "):
            self.stop()
            raise RuntimeError("jtag_dp_sim did not start: %r" % line)
        sim_port = int(line.split()[-1])
        self.tcl_port = free_port()
        self.gdb_port = free_port() if gdb else None
        cfg = ("adapter driver remote_bitbang; remote_bitbang host 127.0.0.1; "
               "remote_bitbang port %d; transport select jtag; "
               "jtag newtap sim cpu -irlen 4 -expected-id 0x4ba00477; "
               "dap create sim.dap -chain-position sim.cpu; "
               "target create sim.cpu cortex_m -dap sim.dap -ap-num 0; "
               "gdb_port %s; telnet_port disabled; tcl_port %d; "
               "gdb_report_data_abort enable; bindto 127.0.0.1"
               % (sim_port, self.gdb_port or "disabled", self.tcl_port))
        self.log = open(self.log_path, "w")
        self.openocd = subprocess.Popen(["openocd", "-c", cfg], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.openocd.poll() is None:
            with open(self.log_path) as f:
                text = f.read()
            if "Cortex-M3 r2p1 processor detected" in text and \
                    listening(self.tcl_port, self.openocd.pid):
                return True
            time.sleep(0.05)
        self.stop()
        with open(self.log_path) as f:
            if "Address already in use" in f.read():
                return False
        raise RuntimeError("openocd did not examine the simulated target:\n" +
                           open(self.log_path).read())

    @property
    def target(self):
        return "127.0.0.1:%d" % self.tcl_port

    def tcl(self, command):
        """Runs one raw Tcl RPC command (test-side check, not the client under test)."""
        with socket.create_connection(("127.0.0.1", self.tcl_port), timeout=10) as s:
            s.sendall(command.encode() + b"\x1a")
            buf = b""
            while not buf.endswith(b"\x1a"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.rstrip(b"\x1a").decode()

    def stop_sim(self):
        if self.sim.poll() is None:
            self.sim.kill()
        self.sim.wait(timeout=10)

    def stop(self):
        for p in (self.openocd, self.sim):
            if p is not None and p.poll() is None:
                p.kill()
        for p in (self.openocd, self.sim):
            if p is not None:
                p.wait(timeout=10)
        if self.sim is not None:
            self.sim.stdout.close()
        if self.log is not None:
            self.log.close()
            self.log = None


@pytest.fixture
def image(tmp_path):
    rnd = random.Random(20261121)
    data = bytes(rnd.getrandbits(8) for _ in range(0x8000))
    path = tmp_path / "ram.bin"
    path.write_bytes(data)
    return str(path), data


@pytest.fixture
def ocd(image):
    o = SimulatedJtagOpenocd(image[0])
    try:
        yield o
    finally:
        o.stop()


def test_openocd_simulated_jtag_read_equals_image(ocd, image, tmp_path):
    out = tmp_path / "live.bin"
    # unaligned start and length across a 4 KiB auto-increment boundary
    r = probe("openocd", ocd.target, "--timeout", 10000, "--out", out,
              "0x%x:%d" % (BASE + 0xffd, 0x2000 + 6))
    assert r.rc == 0, r.err
    assert out.read_bytes() == image[1][0xffd:0xffd + 0x2000 + 6]
    assert ocd.tcl("[target current] curstate") == "running"   # resumed after


def test_openocd_simulated_jtag_halt_gives_stable_snapshot(ocd):
    r = probe("openocd", ocd.target, "--timeout", 10000, "--reread", "--gap-ms", 200,
              "0x%x:64" % TICKER)
    assert r.rc == 0, r.err
    assert "range 0x%x stable" % TICKER in r.out
    assert ocd.tcl("[target current] curstate") == "running"


def test_openocd_simulated_jtag_no_halt_reports_torn_snapshot(ocd):
    r = probe("openocd", ocd.target, "--timeout", 10000, "--no-halt", "--reread",
              "--gap-ms", 200, "0x%x:64" % TICKER)
    assert r.rc == 0, r.err
    assert "range 0x%x torn at 0x%x" % (TICKER, TICKER) in r.out


def test_openocd_simulated_jtag_leaves_halted_target_halted(ocd, image, tmp_path):
    ocd.tcl("halt")
    assert ocd.tcl("[target current] curstate") == "halted"
    out = tmp_path / "live.bin"
    r = probe("openocd", ocd.target, "--out", out, "0x%x:256" % BASE)
    assert r.rc == 0, r.err
    assert out.read_bytes() == image[1][:256]
    assert ocd.tcl("[target current] curstate") == "halted"


def test_openocd_simulated_jtag_unmapped_read_is_a_clear_error(ocd):
    r = probe("openocd", ocd.target, "--timeout", 10000, "0x30000000:64")
    assert r.rc == 2
    assert r.err == ("live-probe: cannot read '%s': cannot read 64 bytes at 0x30000000: "
                     "openocd: read_memory: failed to read memory\n" % ocd.target)


def test_openocd_simulated_jtag_wire_dies(ocd):
    # the simulated probe vanishes: OpenOCD loses its adapter.  0.12 was seen
    # to stay up and stop answering `halt`; if it exits instead, the
    # connection fails: either way the client reports one line in time
    ocd.stop_sim()
    r = probe("openocd", ocd.target, "--timeout", 3000, "0x%x:64" % BASE, limit=20)
    assert r.rc == 2
    assert r.err.startswith("live-probe: cannot read '%s': " % ocd.target), r.err
    assert r.err.count("\n") == 1
    assert r.seconds < 8


def test_openocd_simulated_jtag_gdb_server_read_equals_image(image, tmp_path):
    """The GDB source against a second real RSP implementation: OpenOCD's
    GDB server (larger PacketSize than QEMU's, halts on attach)."""
    o = SimulatedJtagOpenocd(image[0], ticker=None, gdb=True)
    try:
        gdb_target = "127.0.0.1:%d" % o.gdb_port
        out = tmp_path / "live.bin"
        r = probe("gdb", gdb_target, "--timeout", 10000, "--out", out,
                  "0x%x:%d" % (BASE + 3, 20000))
        assert r.rc == 0, r.err
        assert out.read_bytes() == image[1][3:20003]
        assert r.stats()["chunk"] > 2048        # OpenOCD allows larger `m` than QEMU
        assert o.tcl("[target current] curstate") == "running"
        # with gdb_report_data_abort enabled OpenOCD reports a failed read
        r = probe("gdb", gdb_target, "--timeout", 10000, "0x30000000:16")
        assert r.rc == 2
        assert r.err.startswith("live-probe: cannot read '%s': cannot read 16 bytes at "
                                "0x30000000: target reported E" % gdb_target), r.err
    finally:
        o.stop()
