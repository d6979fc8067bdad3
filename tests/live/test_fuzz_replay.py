"""Replays the protocol fuzz harness (fuzz_live.c): valid seed sessions and
deterministic mutations of them as hostile peers, plain and under
AddressSanitizer + UBSan.  Any crash, sanitizer report, multi-line error
or hang fails."""
import os
import re
import subprocess

import pytest

DRIVERS = os.environ.get("LIVE_FUZZ", "").split()


@pytest.mark.parametrize("driver", DRIVERS or ["(not built)"],
                         ids=[os.path.basename(d) for d in DRIVERS] or ["missing"])
def test_fuzz_replay_live_protocols(driver):
    assert os.path.exists(driver), "fuzz driver not built: " + driver
    r = subprocess.run([driver, "--iterations", "6000"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"(\d+) runs, (\d+) sessions succeeded, (\d+) ended in an error; "
                  r"seeds succeeding: 3 of 4", r.stdout)
    assert m, r.stdout
    runs, good, bad = (int(x) for x in m.groups())
    assert runs == 6004 and good + bad == runs
    assert good > 3    # some mutations are still valid sessions
