"""heapview itself on live targets: its report read through --gdb-remote
(QEMU at a firmware checkpoint) or --openocd (real OpenOCD over the
simulated JTAG wire) must equal its report on a dump of the same moment.
Skipped, with the reason shown, while heapview has no such option."""
import json
import os
import subprocess

import pytest

from conftest import probe
from test_gdb_firmware import FW_DIR, ram_at_checkpoint, start_qemu_halted, symbols
from peers import SimulatedJtagOpenocd

HEAPVIEW = os.environ.get("LIVE_HEAPVIEW", "build/heapview")


def heapview(*args):
    return subprocess.run([HEAPVIEW] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=60)


def require_option(option):
    assert os.path.exists(HEAPVIEW), "heapview not built: " + HEAPVIEW
    r = heapview("report", "--help")
    if option not in r.stdout + r.stderr:
        pytest.skip("heapview report has no %s option yet" % option)


@pytest.mark.parametrize("name", ["sc-healthy", "sc-fragmented"])
def test_heapview_gdb_remote_report_equals_dump_report(name, tmp_path):
    require_option("--gdb-remote")
    elf = os.path.join(FW_DIR, name + ".elf")
    sym = symbols(elf)
    start, end = sym["__hv_ram_start"], sym["__hv_ram_end"]
    qemu, target = start_qemu_halted(elf)
    try:
        r = probe("gdb", target, "--run-to", hex(sym["hv_checkpoint"]), "--leave-halted",
                  "--out", tmp_path / "dump.bin", "0x%x:0x%x" % (start, end - start))
        assert r.rc == 0, r.err
        dump = heapview("report", "--json", "%s@0x%x" % (tmp_path / "dump.bin", start), elf)
        live = heapview("report", "--json", "--gdb-remote", target, elf)
        assert dump.returncode in (0, 1), dump.stderr
        assert live.returncode == dump.returncode, live.stderr
        assert json.loads(live.stdout) == json.loads(dump.stdout)
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)


def test_heapview_openocd_simulated_jtag_report_equals_dump_report(tmp_path):
    require_option("--openocd")
    elf = os.path.join(FW_DIR, "sc-healthy.elf")
    image = tmp_path / "ram.bin"
    start, end = ram_at_checkpoint(elf, image)
    assert start == 0x20000000     # the simulated JTAG target maps RAM there
    ocd = SimulatedJtagOpenocd(str(image), ticker=None)
    try:
        dump = heapview("report", "--json", "%s@0x%x" % (image, start), elf)
        live = heapview("report", "--json", "--openocd", ocd.target, elf)
        assert dump.returncode in (0, 1), dump.stderr
        assert live.returncode == dump.returncode, live.stderr
        assert json.loads(live.stdout) == json.loads(dump.stdout)
    finally:
        ocd.stop()
