"""`heapview tui --openocd` against real OpenOCD 0.12 whose JTAG wire is
simulated (tests/live/jtag_dp_sim.py: a JTAG-DP, AHB-AP and Cortex-M3 debug
registers in front of a RAM image).  The image is the sc-healthy capture;
the test rewrites one block's sequence number through OpenOCD's own Tcl
port, and the next refresh must show exactly that block as changed, with
the new value in the inspector.  Everything listens on 127.0.0.1 and is
killed by PID."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from term import FW_DIR, HEAPVIEW, TOP, Term, report_json
from test_live import free_port, listening

SIM = os.path.join(TOP, "tests/live/jtag_dp_sim.py")


class Openocd:
    def __init__(self, image, base, log_path):
        self.sim = self.proc = None
        self.log_path = log_path
        self.sim = subprocess.Popen([sys.executable, SIM, "--image", image, "--base", hex(base)],
                                    stdout=subprocess.PIPE, text=True)
        line = self.sim.stdout.readline()
        assert line.startswith("listening on port "), line
        sim_port = int(line.split()[-1])
        self.tcl_port = free_port()
        cfg = ("adapter driver remote_bitbang; remote_bitbang host 127.0.0.1; remote_bitbang port %d; "
               "transport select jtag; jtag newtap sim cpu -irlen 4 -expected-id 0x4ba00477; "
               "dap create sim.dap -chain-position sim.cpu; "
               "target create sim.cpu cortex_m -dap sim.dap -ap-num 0; "
               "gdb_port disabled; telnet_port disabled; tcl_port %d; bindto 127.0.0.1"
               % (sim_port, self.tcl_port))
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(["openocd", "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(log_path) as f:
                ready = "processor detected" in f.read()
            if ready and listening(self.tcl_port, self.proc.pid):
                return
            time.sleep(0.05)
        self.stop()
        with open(log_path) as f:
            raise RuntimeError("openocd did not examine the simulated target:\n" + f.read())

    @property
    def target(self):
        return "127.0.0.1:%d" % self.tcl_port

    def tcl(self, command):
        with socket.create_connection(("127.0.0.1", self.tcl_port), timeout=10) as s:
            s.sendall(command.encode() + b"\x1a")
            buf = b""
            while not buf.endswith(b"\x1a"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        return buf.rstrip(b"\x1a").decode()

    def stop(self):
        for p in (self.proc, self.sim):
            if p is not None and p.poll() is None:
                p.kill()
            if p is not None:
                p.wait(timeout=10)


@pytest.fixture
def openocd(tmp_path):
    if not shutil.which("openocd"):
        pytest.skip("openocd not installed")
    dump_dir = os.path.join(FW_DIR, "dumps", "sc-healthy")
    with open(os.path.join(dump_dir, "sc-healthy.json")) as f:
        base = json.load(f)["range"][0]
    image = str(tmp_path / "ram.bin")
    shutil.copy(os.path.join(dump_dir, "sc-healthy.cp1.gdb.bin"), image)
    ocd = Openocd(image, base, str(tmp_path / "openocd.log"))
    try:
        yield ocd
    finally:
        ocd.stop()


def test_openocd_refresh_shows_the_changed_block(openocd):
    h = report_json("sc-healthy")["heaps"][0]
    used = [b for b in h["blocks"] if b["state"] == "used"]
    victim = used[3]
    seq_addr = victim["address"] + 4 + 4        # header, then requested; seq (FORMAT.md section 5)
    new_seq = victim["seq"] + 4000
    elf = os.path.join(FW_DIR, "sc-healthy.elf")
    t = Term([HEAPVIEW, "tui", "--interval", "400", "--openocd", openocd.target, elf], env={"NO_COLOR": "1"})
    try:
        t.wait_for(lambda s: "inspector" in s or "EXIT=" in s, timeout=20, what="first screen")
        assert "live %s" % openocd.target in t.screen(), t.screen()
        t.keys("b")                               # one cell per block
        # nothing writes to the image: refreshes see no change
        t.wait_for(lambda s: re.search(r"snapshot ([3-9]|\d\d+) at \S+, 0 blocks changed", s),
                   timeout=15, what="an unchanged third snapshot")
        openocd.tcl("mww 0x%x %d" % (seq_addr, new_seq))
        text = t.wait_text("1 block changed", timeout=10)
        row = text.split("\n")[1]
        pos = [i for i, b in enumerate(h["blocks"]) if b is victim][0] + 2   # after control block and head sentinel
        assert row[pos] == "~" and row.count("~") == 1, row
        t.keys("g")
        t.literal("0x%x" % victim["address"])
        t.keys("Enter")
        assert "seq %d" % new_seq in t.screen()
        t.keys("q")
        assert t.exit_line() == (0, "same")
    finally:
        t.close()
