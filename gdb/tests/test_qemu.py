"""umm.py in gdb-multiarch against QEMU's gdbstub running the test firmwares
of tests/firmware, stopped at `break *hv_checkpoint`: the extension's output
against the firmware's own `hv_truth` record (tests/firmware/README.md)."""
import json
import os
import re
import shutil
import struct
import subprocess

import pytest

from conftest import BUILD, GDB_DIR
from qemu_stub import start_qemu_gdbstub, stop_qemu, wait_for_gdbstub

GDB = os.environ.get('GDB', 'gdb-multiarch')
QEMU = shutil.which('qemu-system-arm')
UMM_PY = os.path.join(GDB_DIR, 'umm.py')
FW_DIR = os.path.join(BUILD, 'firmware')
HEAPVIEW = os.path.join(BUILD, 'heapview')
MARK = '@@umm-test@@'
FIRMWARES = ['demo', 'sc-healthy', 'sc-fragmented', 'sc-two-heaps', 'sc-overrun',
             'sc-underrun', 'sc-header-smash', 'sc-write-after-free', 'sc-double-free',
             'sc-leak']

FAULT_KINDS = {1: 'header', 3: 'underrun', 4: 'overrun', 5: 'use_after_free', 6: 'double_free'}
TRUTH_BYTES = 1184


def parse_truth(raw):
    words = struct.unpack_from('<16I', raw, 0)
    magic, version, size, scenario, checkpoint, heap_count, live_count, live_requested, \
        fault_kind, damaged_address, damaged_ptr, damaged_heap = words[:12]
    assert (magic, version, size) == (0x52545648, 1, TRUTH_BYTES)
    heaps = [dict(zip(('handle', 'ctl', 'region', 'region_bytes', 'live_count', 'live_requested'),
                      struct.unpack_from('<6I', raw, 64 + 24 * i))) for i in range(heap_count)]
    live = []
    for i in range(64):
        ptr, requested, heap, order = struct.unpack_from('<4I', raw, 160 + 16 * i)
        if ptr:
            live.append({'ptr': ptr, 'requested': requested, 'heap': heap, 'order': order})
    return {'scenario': scenario, 'heaps': heaps, 'live': live, 'fault_kind': fault_kind,
            'damaged_address': damaged_address, 'damaged_ptr': damaged_ptr,
            'damaged_heap': damaged_heap, 'live_count': live_count}


def run_on_qemu(elf, tmp_path, commands, timeout=60):
    sock = os.path.join(str(tmp_path), 'gdb.sock')
    proc = start_qemu_gdbstub(QEMU, elf, sock)
    try:
        why = wait_for_gdbstub(proc, sock)
        assert why is None, why
        argv = [GDB, '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'set width 0',
                '-ex', 'source ' + UMM_PY, '-ex', 'target remote ' + sock,
                '-ex', 'break *hv_checkpoint', '-ex', 'continue']
        for c in commands:
            argv += ['-ex', 'echo %s\\n' % MARK, '-ex', c]
        argv += ['-ex', 'echo %s\\n' % MARK, '-ex', 'kill', elf]
        g = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return g.stdout.split(MARK + '\n')[1:-1], g.stderr
    finally:
        stop_qemu(proc)


@pytest.mark.skipif(QEMU is None, reason='qemu-system-arm is not installed')
@pytest.mark.parametrize('fw', FIRMWARES)
def test_firmware_heaps_match_truth(tmp_path, fw):
    elf = os.path.join(FW_DIR, fw + '.elf')
    if not os.path.exists(elf):
        pytest.fail('%s is missing: make firmware builds it' % elf)
    ram = os.path.join(str(tmp_path), 'ram.bin')
    outs, stderr = run_on_qemu(elf, tmp_path, [
        'umm-walk --json',
        'python print(bytes(gdb.selected_inferior().read_memory('
        'int(gdb.parse_and_eval("&hv_truth")), %d)).hex())' % TRUTH_BYTES,
        'umm-check',
        'python print("0x%x" % int(gdb.parse_and_eval("&__hv_ram_start")))',
        'dump binary memory %s &__hv_ram_start &__hv_ram_end' % ram])
    assert len(outs) == 5, stderr
    # heapview, on a dump of the same RAM with the same ELF, prints the same bytes.
    if not os.path.exists(HEAPVIEW):
        pytest.fail('%s is missing: make builds it' % HEAPVIEW)
    cli = subprocess.run([HEAPVIEW, 'blocks', '--json', '%s@%s' % (ram, outs[3].strip()), elf],
                         capture_output=True, text=True, timeout=60)
    # Byte for byte, owners' (file:line) included: both read the line table
    # of the unit that defines the function (in these firmwares, linked at 0
    # with --gc-sections, discarded functions' units also claim low addresses).
    assert cli.stdout == outs[0]
    doc = json.loads(outs[0])
    truth = parse_truth(bytes.fromhex(outs[1].strip()))
    check = outs[2]
    by_addr = {h['address']: h for h in doc['heaps']}
    assert 'Traceback' not in stderr
    for i, th in enumerate(truth['heaps']):
        if th['ctl'] == 0:
            continue
        h = by_addr[th['ctl']]
        if i == 0:
            assert h['name'] == 'umm_heap_default'
        prefix = 16 if ('poison' in h['flags'] or 'owners' in h['flags']) else 0
        used = {b['address'] + 2 * h['index_bytes'] + prefix: b
                for b in h['blocks'] if b['state'] == 'used'}
        live = {a['ptr']: a for a in truth['live'] if a['heap'] == i}
        # A block whose header was smashed is not listed: a header problem at
        # its first byte stands for it.
        smashed = {p['address'] + 2 * h['index_bytes'] + prefix
                   for p in h['problems'] if p['kind'] == 'header'}
        assert set(used) <= set(live) and set(live) - set(used) <= smashed
        assert h['used_entries'] + len(set(live) - set(used)) == th['live_count']
        if prefix:
            for ptr in used:
                assert used[ptr]['requested'] == live[ptr]['requested']
                # Every allocation goes through tests/firmware/hv_track.c's wrappers.
                assert re.match(r'^hv_\w+\+0x[0-9a-f]+ \(hv_track\.c:\d+\)$', used[ptr]['owner_name'])
            if set(used) == set(live):
                assert h['requested_bytes'] == th['live_requested']
    kind = FAULT_KINDS.get(truth['fault_kind'])
    if truth['fault_kind'] == 0:
        assert all(not h['problems'] for h in doc['heaps'])
        assert check.count(': ok (') == len(doc['heaps'])
        return
    damaged = by_addr[truth['heaps'][truth['damaged_heap']]['ctl']]
    if kind == 'double_free':
        assert damaged['last_fault']['kind'] == 'double_free'
        assert damaged['last_fault']['address'] == truth['damaged_address']
        return
    probs = [p for p in damaged['problems'] if p['kind'] == kind]
    assert probs, damaged['problems']
    if kind != 'header':
        assert probs[0]['address'] == truth['damaged_address']
    if kind == 'overrun':
        culprit = probs[0]['culprit']
        assert culprit['address'] + 4 + 16 == truth['damaged_ptr']
        # The firmware allocates through hv_track.c's wrappers: the owner is a
        # return address in hv_malloc, named from the ELF symbol table.
        assert re.match(r'^hv_malloc\+0x[0-9a-f]+ \(hv_track\.c:\d+\)$', culprit['owner']), culprit
    assert '%s at 0x' % kind in check
