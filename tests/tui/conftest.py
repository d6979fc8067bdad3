"""tests/tui: the suite needs the heapview binary, tmux and the scenario
firmwares' captures (make test-tui builds and captures them first)."""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The live-target peers (QEMU, OpenOCD on a simulated JTAG wire) are shared
# with tests/live: tests/live/peers.py.
sys.path.insert(1, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "live"))

from term import FW_DIR, HEAPVIEW  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    assert os.access(HEAPVIEW, os.X_OK), "heapview not built: " + HEAPVIEW
    assert shutil.which("tmux"), "tmux is needed to drive the tui"
    for fw in ("sc-healthy", "sc-overrun", "sc-header-smash", "sc-two-heaps"):
        path = os.path.join(FW_DIR, "dumps", fw, fw + ".cp1.gdb.bin")
        assert os.path.exists(path), "missing capture %s (make firmware-dumps)" % path
