#!/usr/bin/env python3
"""Times umm-walk over a 256 KiB heap of ~30,000 blocks.

On QEMU (build/gdb/bench-fw.elf through the gdbstub) when qemu-system-arm and
the firmware exist, and on the host program (mkheap-rel bench) always.
Prints one line per measurement and a closing `N passed, N failed` line.
Usage: bench_walk.py [--qemu-only|--host-only]
"""
import os
import shutil
import subprocess
import sys
import tempfile

from qemu_stub import start_qemu_gdbstub, stop_qemu, wait_for_gdbstub

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(TOP, os.environ.get('HEAPVIEW_BUILD', 'build'))
GDB = os.environ.get('GDB', 'gdb-multiarch')
UMM_PY = os.path.join(TOP, 'gdb', 'umm.py')

TIMING = r'''python
import json, time
def _bench(label, command, cold):
    if cold:
        MEMORY.clear()
    reads = MEMORY.reads
    t = time.perf_counter()
    out = gdb.execute(command, to_string=True)
    dt = time.perf_counter() - t
    print('BENCH %-28s %8.1f ms  reads %d  output %d bytes' % (label, dt * 1000, MEMORY.reads - reads, len(out)))
    return out
doc = json.loads(_bench('umm-walk --json (cold)', 'umm-walk --json', True))
_bench('umm-walk --json (cached)', 'umm-walk --json', False)
_bench('umm-check (cold)', 'umm-check', True)
_bench('umm-info (cold)', 'umm-info', True)
for h in doc['heaps']:
    print('BENCH heap %s: %d bytes, %d blocks (%d used, %d free), %d problems' % (
        h['name'], h['size'], len(h['blocks']), h['used_entries'], h['free_entries'], len(h['problems'])))
end
'''


def run(argv, timeout=300):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def report(label, proc):
    lines = [l for l in proc.stdout.splitlines() if l.startswith('BENCH')]
    for line in lines:
        print('%s: %s' % (label, line[6:]))
    # gdb's own exit status is not the measure (a remote target that closes
    # at `kill` makes it 1): the heap must have been walked and timed.
    ok = len(lines) == 5 and ', 0 problems' in lines[-1] and ' 0 blocks' not in lines[-1]
    if not ok:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
    return ok


def bench_host(tmp):
    exe = os.path.join(BUILD, 'gdb', 'mkheap-rel')
    with open(os.path.join(tmp, 'timing.gdb'), 'w') as f:
        f.write(TIMING)
    proc = run([GDB, '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'source ' + UMM_PY,
                '-ex', 'break mkheap_stop', '-ex', 'run', '-x', os.path.join(tmp, 'timing.gdb'),
                '-ex', 'kill', '--args', exe, 'bench', tmp, '--stop'])
    return report('host', proc)


def bench_qemu(tmp):
    elf = os.path.join(BUILD, 'gdb', 'bench-fw.elf')
    qemu = shutil.which('qemu-system-arm')
    if qemu is None or not os.path.exists(elf):
        print('qemu: not measured (%s)' % ('no qemu-system-arm' if qemu is None else 'no ' + elf))
        return True
    sock = os.path.join(tmp, 'gdb.sock')
    with open(os.path.join(tmp, 'timing.gdb'), 'w') as f:
        f.write(TIMING)
    proc = start_qemu_gdbstub(qemu, elf, sock)
    try:
        if wait_for_gdbstub(proc, sock) is not None:
            print('qemu: did not start')
            return False
        g = run([GDB, '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'source ' + UMM_PY,
                 '-ex', 'target remote ' + sock, '-ex', 'break *hv_checkpoint', '-ex', 'continue',
                 '-x', os.path.join(tmp, 'timing.gdb'), elf])
        return report('qemu', g)
    finally:
        stop_qemu(proc)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if mode != '--qemu-only':
            results.append(bench_host(tmp))
        if mode != '--host-only':
            results.append(bench_qemu(tmp))
    passed = sum(results)
    print('%d passed, %d failed' % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
