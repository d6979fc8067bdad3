"""Fixtures for the heapview CLI suite: the tool, host heaps made by mkdump
(the real allocator), and Cortex-M3 scenario dumps captured from QEMU."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
HEAPVIEW = os.environ.get("HEAPVIEW", str(TOP / "build/heapview"))
MKDUMP_INSTR = os.environ.get("MKDUMP_INSTR", str(TOP / "build/tests/cli/mkdump-instr"))
MKDUMP_REL = os.environ.get("MKDUMP_REL", str(TOP / "build/tests/cli/mkdump-rel"))
FUZZ_REPLAY = os.environ.get("FUZZ_REPLAY", str(TOP / "build/tests/cli/fuzz-replay"))
WORK = Path(os.environ.get("CLI_TEST_DIR", str(TOP / "build/tests/cli")))
FW_DIR = Path(os.environ.get("FW_DIR", str(TOP / "build/firmware")))


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)


def heapview(*args, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([HEAPVIEW, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    return Run(proc)


@pytest.fixture(scope="session")
def workdir():
    """A private directory per run: several runs (a developer's and `make
    test`'s) may share the build tree."""
    import tempfile
    WORK.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix="pytest-", dir=WORK))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class HostDump:
    def __init__(self, exe, path, truth):
        self.elf = exe
        self.path = path
        self.truth = truth


@pytest.fixture(scope="session")
def mkdump(workdir):
    """mkdump(scenario, release=False) -> HostDump (cached)."""
    cache = {}

    def make(scenario, release=False):
        key = (scenario, release)
        if key not in cache:
            exe = MKDUMP_REL if release else MKDUMP_INSTR
            out = workdir / f"{scenario}{'-rel' if release else ''}.bin"
            proc = subprocess.run([exe, scenario, str(out)], capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
            cache[key] = HostDump(exe, out, json.loads(proc.stdout))
        return cache[key]
    return make


SCENARIOS = ["healthy", "fragmented", "two-heaps", "overrun", "underrun", "header-smash",
             "write-after-free", "double-free"]


@pytest.fixture(scope="session")
def qemu_dumps(workdir):
    """Captures every scenario firmware at its checkpoints with gdb, pmemsave
    and dump-guest-memory (tests/firmware's scripts)."""
    if not (FW_DIR / "sc-healthy.elf").exists() or not shutil.which("qemu-system-arm"):
        pytest.skip("scenario firmwares or QEMU not available")
    out = workdir / "qemu"
    out.mkdir()
    script = TOP / "scripts/qemu-dump.sh"
    for name in SCENARIOS + ["leak"]:
        elf = FW_DIR / f"sc-{name}.elf"
        cps = ["--checkpoint", "1", "--checkpoint", "2"] if name == "leak" else []
        proc = subprocess.run([str(script), str(elf), "--out", str(out), *cps],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"capture of {elf} failed: {proc.stderr[-2000:]}"
    return out
