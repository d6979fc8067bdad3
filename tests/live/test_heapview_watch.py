"""`heapview watch`: the report again and again on an interval, against
QEMU's gdbstub running a firmware whose heap keeps changing (the TUI's
churn_fw.c), against dumps, against a dead peer; and the progress line a
slow live read shows on a terminal (a real OpenOCD over the simulated JTAG
wire reading the 320 KiB heap of sc-wide, at about 55 KB/s)."""
import json
import os
import pty
import select
import subprocess
import time

from conftest import Qemu, free_port
from test_gdb_firmware import FW_DIR, ram_at_checkpoint
from peers import SimulatedJtagOpenocd

HEAPVIEW = os.environ.get("LIVE_HEAPVIEW", "build/heapview")
CHURN_FW = os.environ.get("LIVE_CHURN_FW", "build/tests/tui/churn_fw.elf")


def heapview(*args, timeout=120):
    return subprocess.run([HEAPVIEW] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout)


def documents(text):
    """Splits concatenated pretty-printed JSON documents."""
    decoder, docs, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return docs
        doc, at = decoder.raw_decode(text, at)
        docs.append(doc)


def test_watch_live_target_reports_each_round_and_sees_the_heap_change():
    q = Qemu(CHURN_FW, halted=False)
    try:
        time.sleep(0.3)
        r = heapview("watch", "--json", "--count", 3, "--interval", 300,
                     "--gdb-remote", q.target, CHURN_FW)
        assert r.returncode in (0, 1), r.stderr
        docs = documents(r.stdout)
        assert len(docs) == 3
        for d in docs:
            assert d["schema"] == 1 and d["heaps"]
        seqs = [d["heaps"][0]["counters"]["seq_next"] for d in docs]
        assert seqs[0] < seqs[1] < seqs[2], seqs    # the firmware kept allocating between rounds
        assert q.alive(), "the target must keep running after each round"
    finally:
        q.stop()


def test_watch_dumps_repeats_the_report(tmp_path):
    elf = os.path.join(FW_DIR, "sc-healthy.elf")
    dump = str(tmp_path / "ram.bin")
    start, end = ram_at_checkpoint(elf, dump)
    once = heapview("report", "%s@0x%x" % (dump, start), elf)
    assert heapview("report", "--halt", "%s@0x%x" % (dump, start), elf).stdout == once.stdout
    twice = heapview("watch", "--count", 2, "--interval", 10, "%s@0x%x" % (dump, start), elf)
    assert twice.returncode == once.returncode, twice.stderr
    assert twice.stdout == once.stdout * 2     # not a terminal: no screen clearing


def test_watch_dead_peer_is_a_one_line_error():
    port = free_port()
    start = time.monotonic()
    r = heapview("watch", "--timeout", 1000, "--gdb-remote", "127.0.0.1:%d" % port,
                 os.path.join(FW_DIR, "sc-healthy.elf"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("heapview: ")
    assert time.monotonic() - start < 10


def run_on_pty(argv, timeout):
    """Runs argv with stdin/stdout/stderr on a pseudo-terminal; returns
    (exit status, everything written)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_slow_live_read_shows_progress_on_a_terminal_simulated_jtag(tmp_path):
    elf = os.path.join(FW_DIR, "sc-wide.elf")
    image = tmp_path / "ram.bin"
    start, end = ram_at_checkpoint(elf, image)
    ocd = SimulatedJtagOpenocd(str(image), ticker=None)
    try:
        rc, out = run_on_pty([HEAPVIEW, "report", "--no-color", "--openocd", ocd.target, elf], timeout=120)
        assert rc in (0, 1), out
        assert "heapview: reading '%s':" % ocd.target in out
        assert " KiB" in out and "\x1b[K" in out     # the progress line is wiped when done
        # Not on a terminal: no progress at all.
        plain = heapview("report", "--openocd", ocd.target, elf)
        assert "reading" not in plain.stderr
    finally:
        ocd.stop()
