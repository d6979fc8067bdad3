"""GDB remote source against QEMU's real gdbstub running mini_fw."""
import time

from conftest import gdb_dump, probe, xorshift_pattern

PATTERN = 0x20000000
PATTERN_LEN = 0x40000
READY = 0x20040000
CHURN = 0x20040100


def run_until_ready(q, tmp_path):
    """Lets mini_fw run until it has written its pattern, then reads it."""
    out = tmp_path / "live.bin"
    r = probe("gdb", q.target, "--run-ms", 300, "--out", out,
              "0x%x:4" % READY, "0x%x:0x%x" % (PATTERN, PATTERN_LEN))
    assert r.rc == 0, r.err
    data = out.read_bytes()
    assert data[:4] == (0x600df00d).to_bytes(4, "little")
    return r, data[4:]


def test_gdb_qemu_snapshot_equals_gdb_dump(qemu_mini, tmp_path):
    r, live = run_until_ready(qemu_mini, tmp_path)
    ref = gdb_dump(qemu_mini.target, PATTERN, PATTERN_LEN, str(tmp_path / "gdb.bin"))
    assert len(live) == PATTERN_LEN
    assert live == ref
    # and both equal what the firmware source says it writes
    assert live == xorshift_pattern(PATTERN_LEN)
    # 2048-byte `m` reads: 128 for the pattern, plus qSupported, ?, the
    # interrupt after --run-ms and 1 for READY
    assert r.stats()["round_trips"] == PATTERN_LEN // 2048 + 4
    assert qemu_mini.alive()


def test_gdb_qemu_unaligned_odd_reads(qemu_mini, tmp_path):
    run_until_ready(qemu_mini, tmp_path)
    out = tmp_path / "odd.bin"
    r = probe("gdb", qemu_mini.target, "--out", out,
              "0x%x:1" % (PATTERN + 1), "0x%x:5001" % (PATTERN + 3),
              "0x%x:2049" % (PATTERN + 0x1fff))
    assert r.rc == 0, r.err
    ref = xorshift_pattern(PATTERN_LEN)
    assert out.read_bytes() == ref[1:2] + ref[3:5004] + ref[0x1fff:0x1fff + 2049]


def test_gdb_qemu_halted_snapshot_is_stable(qemu_mini, tmp_path):
    run_until_ready(qemu_mini, tmp_path)
    r = probe("gdb", qemu_mini.target, "--reread", "--gap-ms", 100, "0x%x:1024" % CHURN)
    assert r.rc == 0, r.err
    assert "range 0x%x stable" % CHURN in r.out


def test_gdb_qemu_no_halt_reports_torn_snapshot(qemu_mini, tmp_path):
    run_until_ready(qemu_mini, tmp_path)
    # the target runs while heapview decodes (--gap-ms) and rewrites CHURN
    r = probe("gdb", qemu_mini.target, "--no-halt", "--reread", "--gap-ms", 100,
              "0x%x:1024" % CHURN)
    assert r.rc == 0, r.err
    assert "range 0x%x torn at 0x" % CHURN in r.out, r.out


def test_gdb_qemu_target_runs_after_detach(qemu_mini, tmp_path):
    run_until_ready(qemu_mini, tmp_path)
    ticks = []
    for _ in range(2):
        out = tmp_path / "tick.bin"
        r = probe("gdb", qemu_mini.target, "--out", out, "0x%x:4" % (READY + 4))
        assert r.rc == 0, r.err
        ticks.append(int.from_bytes(out.read_bytes(), "little"))
        time.sleep(0.1)
    assert ticks[1] > ticks[0]


def test_gdb_qemu_unmapped_address_is_a_clear_error(qemu_mini):
    r = probe("gdb", qemu_mini.target, "--timeout", 2000, "0xf0000000:4096")
    assert r.rc == 2
    assert r.err.startswith("live-probe: cannot read '%s': cannot read " % qemu_mini.target)
    assert "E14 (bad address)" in r.err
    assert r.err.count("\n") == 1
    assert r.seconds < 5
    # the stub is still usable afterwards
    r = probe("gdb", qemu_mini.target, "0x0:8")
    assert r.rc == 0, r.err


def test_gdb_qemu_exited_peer_is_a_clear_error(qemu_mini):
    qemu_mini.stop()
    r = probe("gdb", qemu_mini.target, "--timeout", 1000, "0x0:4")
    assert r.rc == 2
    assert "cannot connect: Connection refused" in r.err
