"""Runs every `$ heapview ...` line of cli/README.md in a directory holding
the files it names, and checks the exit status the line states."""
import re
import shlex
import shutil

import pytest

from conftest import FW_DIR, HEAPVIEW, TOP

README = TOP / "cli/README.md"
LINES = [l.strip()[2:] for l in README.read_text().splitlines() if l.strip().startswith("$ heapview")]


def test_readme_has_examples():
    assert len(LINES) >= 10


@pytest.mark.parametrize("line", LINES)
def test_readme_example(qemu_dumps, tmp_path, line):
    import subprocess
    shutil.copy(qemu_dumps / "sc-overrun.cp1.gdb.bin", tmp_path / "ram.bin")
    shutil.copy(FW_DIR / "sc-overrun.elf", tmp_path / "firmware.elf")
    shutil.copy(qemu_dumps / "sc-leak.cp1.core", tmp_path / "before.core")
    shutil.copy(qemu_dumps / "sc-leak.cp2.core", tmp_path / "after.core")
    shutil.copy(FW_DIR / "sc-leak.elf", tmp_path / "leak.elf")
    m = re.search(r"#\s*exit (\d)\s*$", line)
    assert m, f"README line without '# exit N': {line}"
    argv = shlex.split(line[:m.start()])
    assert argv[0] == "heapview"
    r = subprocess.run([HEAPVIEW, *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == int(m.group(1)), r.stdout[-2000:] + r.stderr
    assert r.stdout or "--svg" in line
    for opt, name in (("--svg", "map.svg"), ("--junit", "heap.xml")):
        if opt in line:
            assert (tmp_path / name).stat().st_size > 0
