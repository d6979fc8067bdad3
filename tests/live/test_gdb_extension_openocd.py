"""The GDB extension through OpenOCD's gdb server, whose JTAG wire is
simulated (jtag_dp_sim.py in front of a RAM image taken from the sc-healthy
firmware at its checkpoint): `umm-walk --json` read in place must be the
same document heapview prints for a dump of that image."""
import os
import subprocess


from test_gdb_firmware import FW_DIR, ram_at_checkpoint
from peers import SimulatedJtagOpenocd

HEAPVIEW = os.environ.get("LIVE_HEAPVIEW", "build/heapview")
UMM_PY = os.path.join(os.path.dirname(__file__), "..", "..", "gdb", "umm.py")


def test_umm_walk_over_openocd_gdb_server_simulated_jtag(tmp_path):
    elf = os.path.join(FW_DIR, "sc-healthy.elf")
    image = tmp_path / "ram.bin"
    start, end = ram_at_checkpoint(elf, image)
    assert start == 0x20000000     # the simulated JTAG target maps RAM there
    ocd = SimulatedJtagOpenocd(str(image), ticker=None, gdb=True)
    try:
        gdb = subprocess.run(
            ["gdb-multiarch", "-batch", "-nx", elf,
             "-ex", "set pagination off",
             "-ex", "target extended-remote 127.0.0.1:%d" % ocd.gdb_port,
             "-ex", "source " + os.path.abspath(UMM_PY),
             "-ex", "umm-walk --json",
             "-ex", "disconnect"],
            capture_output=True, text=True, timeout=120)
        assert gdb.returncode == 0, gdb.stderr
        # The document starts at a line holding only "{" (after gdb's own
        # lines about where the target stopped) and runs to the end.
        lines = gdb.stdout.splitlines(keepends=True)
        assert "{\n" in lines, gdb.stdout + gdb.stderr
        walk = "".join(lines[lines.index("{\n"):])
        dump = subprocess.run([HEAPVIEW, "blocks", "--json", "%s@0x%x" % (image, start), elf],
                              capture_output=True, text=True, timeout=60)
        assert dump.returncode == 0, dump.stderr
        assert walk == dump.stdout
    finally:
        ocd.stop()
