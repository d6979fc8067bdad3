"""The golden screens of `heapview tui`: each is a firmware capture, a
terminal size and the keys pressed after the first screen appears.
tests/tui/golden/NAME.txt holds the screen text they produce;
regen_golden.py rewrites those files from the current binary, and
test_golden.py compares."""
import os
import re

from term import tui

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

# name: (firmware, cols, rows, keys, extra options)
SCREENS = {
    "healthy": ("sc-healthy", 100, 30, [], []),
    "healthy-blocks-owners": ("sc-healthy", 124, 30, ["b", "o", "j"], []),
    "overrun-jump": ("sc-overrun", 100, 30, ["Home", "!", "Enter"], []),
    "header-smash": ("sc-header-smash", 100, 30, ["Home"], []),
    "two-heaps-second": ("sc-two-heaps", 100, 30, ["Tab"], []),
    "help": ("sc-healthy", 100, 30, ["?"], []),
    "small": ("sc-healthy", 50, 12, [], []),
}


OWNER_PLACE = re.compile(r"\(([\w./-]+):(\d+)\)")   # (a place cut by the screen edge stays)


def normalise(text):
    """Owner places `(file.c:42)` become `(FILE:LINE)`: they come from the
    firmware's line table, which moves with every change to lib/ or the
    firmware, while the screen's layout does not.  (The owner text itself
    is compared with `heapview report --json` in test_tui.py.)"""
    return OWNER_PLACE.sub("(FILE:LINE)", text)


def render(name):
    fw, cols, rows, keys, extra = SCREENS[name]
    t = tui(fw, *extra, cols=cols, rows=rows, env={"NO_COLOR": "1"})
    try:
        t.wait_for(lambda s: "inspector" in s or "too small" in s, what="first screen")
        for k in keys:
            t.keys(k)
        return normalise(t.text())
    finally:
        t.keys("q")
        t.close()


def golden_path(name):
    return os.path.join(GOLDEN_DIR, name + ".txt")
