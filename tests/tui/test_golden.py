"""Whole screens compared with tests/tui/golden/ (regenerate with
`make tui-golden` after a deliberate change, then review the diff)."""
import difflib

import pytest

from screens import SCREENS, golden_path, render


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_golden(name):
    got = render(name)
    with open(golden_path(name)) as f:
        want = f.read()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            "golden/%s.txt" % name, "screen"))
        pytest.fail("screen %s differs from its golden file:\n%s" % (name, diff))
