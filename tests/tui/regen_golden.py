"""Rewrites tests/tui/golden/*.txt from the current heapview binary
(`make tui-golden`).  Review the diff before committing: a golden file is
only as right as the screen it was taken from."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from screens import SCREENS, golden_path, render  # noqa: E402

os.makedirs(os.path.dirname(golden_path("x")), exist_ok=True)
for name in sorted(SCREENS):
    text = render(name)
    with open(golden_path(name), "w") as f:
        f.write(text)
    print("wrote", golden_path(name))
