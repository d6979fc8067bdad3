"""GDB remote source on the heap firmwares of tests/firmware: run to the
first checkpoint through our own breakpoint support, snapshot the RAM the
firmware uses, and compare with the capture tests/firmware/qemu_dump.py
makes with gdb-multiarch at the same checkpoint of the same (deterministic)
firmware."""
import os
import subprocess
import sys
import time

import pytest

from conftest import HERE, free_port, gdb_dump, listening, probe

FW_DIR = os.environ.get("LIVE_FW_DIR", os.path.join(os.path.dirname(os.path.dirname(HERE)),
                                                    "build", "firmware"))
QEMU_DUMP = os.path.join(os.path.dirname(HERE), "firmware", "qemu_dump.py")


def symbols(elf):
    out = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return {f[2]: int(f[0], 16) for f in (line.split() for line in out.splitlines())
            if len(f) == 3}


@pytest.mark.parametrize("name", ["sc-healthy", "sc-two-heaps"])
def test_gdb_firmware_checkpoint_snapshot_equals_gdb_capture(name, tmp_path):
    elf = os.path.join(FW_DIR, name + ".elf")
    assert os.path.exists(elf), "firmware not built: " + elf
    sym = symbols(elf)
    start, end = sym["__hv_ram_start"], sym["__hv_ram_end"]

    ref_dir = tmp_path / "ref"
    subprocess.run([sys.executable, QEMU_DUMP, "dump", elf, "--out", str(ref_dir),
                    "--checkpoint", "1"], capture_output=True, text=True,
                   check=True, timeout=120)
    ref = (ref_dir / (name + ".cp1.gdb.bin")).read_bytes()

    qemu, target = start_qemu_halted(elf)
    try:
        out = tmp_path / "live.bin"
        r = probe("gdb", target, "--run-to", hex(sym["hv_checkpoint"]),
                  "--out", out, "0x%x:0x%x" % (start, end - start))
        assert r.rc == 0, r.err
        live = out.read_bytes()
        truth = sym["hv_truth"] - start
        assert live[truth:truth + 4] == b"HVTR"
        assert live[truth + 16:truth + 20] == (1).to_bytes(4, "little")   # checkpoint 1
        assert live == ref
        # detaching let the firmware finish: it exits 0 through semihosting
        assert qemu.wait(timeout=20) == 0
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)


def start_qemu_halted(elf):
    """QEMU stopped before the first instruction, semihosting on; retried
    on another port when the one picked was taken meanwhile."""
    for _ in range(5):
        port = free_port()
        qemu = subprocess.Popen(
            ["qemu-system-arm", "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic",
             "-monitor", "none", "-serial", "none",
             "-semihosting-config", "enable=on,target=native",
             "-kernel", elf, "-S", "-gdb", "tcp:127.0.0.1:%d" % port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and qemu.poll() is None:
            if listening(port, qemu.pid):
                return qemu, "127.0.0.1:%d" % port
            time.sleep(0.02)
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)
    raise RuntimeError("qemu did not start a gdbstub")


def ram_at_checkpoint(elf, out_path):
    """Runs `elf` in QEMU to hv_checkpoint and saves its RAM to out_path
    through the GDB source; returns the RAM's (start, end) addresses."""
    sym = symbols(elf)
    start, end = sym["__hv_ram_start"], sym["__hv_ram_end"]
    qemu, target = start_qemu_halted(elf)
    try:
        r = probe("gdb", target, "--run-to", hex(sym["hv_checkpoint"]), "--out", out_path,
                  "0x%x:0x%x" % (start, end - start))
        assert r.rc == 0, r.err
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)
    return start, end


def test_gdb_firmware_same_moment_as_gdb_dump(tmp_path):
    """--leave-halted keeps QEMU stopped at the checkpoint, so gdb-multiarch
    then dumps the very same moment, not a re-run of it."""
    elf = os.path.join(FW_DIR, "sc-fragmented.elf")
    assert os.path.exists(elf), "firmware not built: " + elf
    sym = symbols(elf)
    start, end = sym["__hv_ram_start"], sym["__hv_ram_end"]
    qemu, target = start_qemu_halted(elf)
    try:
        assert qemu.poll() is None
        out = tmp_path / "live.bin"
        r = probe("gdb", target, "--run-to", hex(sym["hv_checkpoint"]), "--leave-halted",
                  "--out", out, "0x%x:0x%x" % (start, end - start))
        assert r.rc == 0, r.err
        ref = gdb_dump(target, start, end - start, str(tmp_path / "gdb.bin"))
        assert out.read_bytes() == ref
        assert qemu.wait(timeout=20) == 0      # gdb detached: the firmware finished
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)


def test_gdb_firmware_run_to_never_reached_is_a_clear_error(tmp_path):
    elf = os.path.join(FW_DIR, "sc-healthy.elf")
    assert os.path.exists(elf), "firmware not built: " + elf
    qemu, target = start_qemu_halted(elf)
    try:
        # the vector table is never executed: the firmware runs to its exit
        r = probe("gdb", target, "--run-to", "0x0", "0x20000000:4")
        assert r.rc == 2
        assert r.err == ("live-probe: cannot read '%s': cannot run to 0x0: the target "
                         "exited before stopping there\n" % target)
        assert qemu.wait(timeout=20) == 0
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)
