"""Shared fixtures: heap images made by the real allocator (gdb/tests/mkheap.c)."""
import json
import os
import platform
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
GDB_DIR = os.path.dirname(HERE)
TOP = os.path.dirname(GDB_DIR)
sys.path.insert(0, GDB_DIR)

import umm_decode as U  # noqa: E402

BUILD = os.path.join(TOP, os.environ.get('HEAPVIEW_BUILD', 'build'))


def mkheap(variant):
    return os.path.join(BUILD, 'gdb', 'mkheap-' + variant)


class Capture:
    """One run of mkheap: the program's own record and its heaps' bytes."""

    def __init__(self, variant, scenario, outdir):
        exe = mkheap(variant)
        if not os.path.exists(exe):
            pytest.fail('%s is missing: build it with make test-gdb' % exe)
        # Without address randomisation every run builds the same bytes, so
        # seeded fuzzing over them is repeatable.
        norandom = ['setarch', platform.machine(), '-R'] if shutil.which('setarch') else []
        subprocess.run(norandom + [exe, scenario, str(outdir)], check=True, timeout=120)
        with open(os.path.join(outdir, scenario + '.json'), encoding='utf-8') as f:
            self.record = json.load(f)
        with open(os.path.join(outdir, scenario + '.bin'), 'rb') as f:
            self.data = f.read()
        self.variant = variant
        self.scenario = scenario
        self.heaps = self.record['heaps']
        self.reader = U.ImageReader()
        for h in self.heaps:
            self.reader.add(h['region'], self.region_bytes(h))

    def region_bytes(self, h):
        return self.data[h['file_offset']:h['file_offset'] + h['region_bytes']]

    def decode(self, i=0):
        h = self.heaps[i]
        return U.decode_heap(self.reader, h['ctl'], h['name'])


@pytest.fixture(scope='session')
def capture(tmp_path_factory):
    cache = {}

    def get(variant, scenario):
        key = (variant, scenario)
        if key not in cache:
            cache[key] = Capture(variant, scenario, tmp_path_factory.mktemp('%s-%s' % key))
        return cache[key]
    return get
