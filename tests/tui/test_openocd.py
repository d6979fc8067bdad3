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

import pytest

from term import FW_DIR, HEAPVIEW, TOP, Term, report_json
from peers import SimulatedJtagOpenocd

@pytest.fixture
def openocd(tmp_path):
    if not shutil.which("openocd"):
        pytest.skip("openocd not installed")
    dump_dir = os.path.join(FW_DIR, "dumps", "sc-healthy")
    with open(os.path.join(dump_dir, "sc-healthy.json")) as f:
        base = json.load(f)["range"][0]
    image = str(tmp_path / "ram.bin")
    shutil.copy(os.path.join(dump_dir, "sc-healthy.cp1.gdb.bin"), image)
    ocd = SimulatedJtagOpenocd(image, ticker=None, base=base)
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
