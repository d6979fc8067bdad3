"""OpenOCD source against a real OpenOCD 0.12 process whose JTAG wire is
simulated: OpenOCD's remote_bitbang adapter talks to jtag_dp_sim.py (an
ARM JTAG-DP + AHB-AP + Cortex-M3 debug registers in front of a RAM image);
OpenOCD's own cortex_m target examines, halts, resumes and reads."""
import random

import pytest

from conftest import probe

from peers import BASE, TICKER, SimulatedJtagOpenocd


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
