"""`heapview tui --gdb-remote` against QEMU's gdbstub running churn_fw.c,
whose heap changes all the time: refreshes on the interval show changed
blocks, `p` pauses, `r` refreshes now, and a target that goes away becomes
a read error in the status line while the screen stays up.  QEMU listens on
127.0.0.1 only, on a port picked free, and is killed by PID."""
import os
import re
import shutil
import time

import pytest

from peers import Qemu
from term import HEAPVIEW, Term

CHURN_FW = os.environ.get("TUI_CHURN_FW", "build/tests/tui/churn_fw.elf")
SNAP = re.compile(r"snapshot (\d+) at \S+, (\d+) blocks? changed")
STATUS = re.compile(r"used (\d+) B in (\d+)  free (\d+) B in (\d+)")


def snapshot(text):
    m = SNAP.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def map_rows(text):
    lines = text.split("\n")
    end = next(i for i, l in enumerate(lines) if l.startswith("# used"))
    return lines[1:end]


@pytest.fixture
def qemu():
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm not installed")
    assert os.path.exists(CHURN_FW), "churn firmware not built: " + CHURN_FW
    q = Qemu(CHURN_FW, halted=False)
    try:
        yield q.proc, q.target
    finally:
        q.stop()


def test_live_refresh_pause_and_read_error(qemu):
    proc, target = qemu
    time.sleep(0.3)   # let the firmware set its heap up before the first snapshot
    t = Term([HEAPVIEW, "tui", "--interval", "300", "--gdb-remote", target, CHURN_FW], env={"NO_COLOR": "1"})
    try:
        t.wait_for(lambda s: "inspector" in s or "EXIT=" in s, timeout=15, what="first screen")
        assert "umm_heap_default" in t.screen(), t.screen()
        # refreshes on the interval, each one showing blocks that changed
        totals, changed_seen = set(), False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (snapshot(t.screen())[0] < 5 or not changed_seen):
            text = t.screen()
            n, changed = snapshot(text)
            m = STATUS.search(text)
            if m and n >= 2:
                totals.add(int(m.group(1)) + int(m.group(3)))
            if n >= 2 and changed > 3 and "~" in "".join(map_rows(text)):
                changed_seen = True
            time.sleep(0.1)
        assert snapshot(t.screen())[0] >= 5, t.screen()
        assert changed_seen, t.screen()
        assert len(totals) == 1, totals    # blocks come and go; the heap's bytes do not
        # p pauses: no refresh for a while
        t.keys("p")
        text = t.wait_text("PAUSED")
        n = snapshot(text)[0]
        time.sleep(1.0)
        assert snapshot(t.screen())[0] == n
        # r refreshes at once, paused or not
        t.keys("r")
        t.wait_for(lambda s: snapshot(s)[0] == n + 1, what="snapshot %d" % (n + 1))
        t.keys("p")
        t.wait_for(lambda s: snapshot(s)[0] >= n + 3, what="refreshes after resuming")
        # the target goes away: an error line, the last snapshot stays up
        proc.kill()
        proc.wait(timeout=10)
        text = t.wait_text("read error", timeout=15)
        assert "live %s: read error: " % target in text
        assert "umm_heap_default" in text and "inspector" in text
        t.keys("q")
        assert t.exit_line() == (0, "same")
        assert not t.alternate_on()
    finally:
        t.close()
