"""The fuzz harness over its corpus (every `make test-cli`), and the whole
host suite again with heapview built under ASan and UBSan."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FUZZ_REPLAY, TOP, WORK

CORPUS = Path(__file__).parent / "corpus"


def test_corpus_replay():
    r = subprocess.run([FUZZ_REPLAY, str(CORPUS)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    ran = int(r.stdout.split(":")[1].split()[0])
    assert ran == len(list(CORPUS.iterdir())) >= 10


@pytest.mark.skipif(os.environ.get("HV_NO_ASAN") == "1" or "SANITIZE" in os.environ,
                    reason="asked not to, or already sanitized")
def test_suite_under_asan_and_ubsan():
    build = WORK / "asan"
    env = dict(os.environ, HV_NO_ASAN="1")
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(k, None)
    targets = [f"{build}/heapview", f"{build}/tests/cli/mkdump-instr", f"{build}/tests/cli/mkdump-rel",
               f"{build}/tests/cli/fuzz-replay"]
    r = subprocess.run(["make", "-s", "-j2", f"BUILD={build}", "SANITIZE=address,undefined", *targets],
                       cwd=TOP, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, (r.stdout[-3000:] + r.stderr[-3000:]).replace(" passed", " ok")
    env.update(HEAPVIEW=f"{build}/heapview", MKDUMP_INSTR=f"{build}/tests/cli/mkdump-instr",
               MKDUMP_REL=f"{build}/tests/cli/mkdump-rel", FUZZ_REPLAY=f"{build}/tests/cli/fuzz-replay",
               CLI_TEST_DIR=str(build / "tests"),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="halt_on_error=1")
    here = Path(__file__).parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(here / "test_host.py"), str(here / "test_spec.py"), str(here / "test_qemu.py"),
                        str(here / "test_robust.py")],
                       cwd=TOP, capture_output=True, text=True, timeout=900, env=env)
    # The inner summary is reworded so the outer test runner does not count
    # the inner tests as its own.
    inner = (r.stdout[-5000:] + r.stderr[-2000:]).replace(" passed", " ok").replace(" failed", " bad")
    assert r.returncode == 0, inner
    assert " passed" in r.stdout
