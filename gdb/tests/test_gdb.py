"""umm.py inside GDB, on mkheap stopped at mkheap_stop(): the commands'
output against the program's own record and against the offline decoder."""
import json
import os
import re
import subprocess

import pytest

import umm_decode as U

from conftest import GDB_DIR, mkheap

GDB = os.environ.get('GDB', 'gdb-multiarch')
UMM_PY = os.path.join(GDB_DIR, 'umm.py')
MARK = '@@umm-test@@'


def _take_line():
    with open(os.path.join(os.path.dirname(__file__), 'mkheap.c'), encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if 'void *p = umm_multi_malloc(s->heap, size);' in line:
                return number
    raise AssertionError('mkheap.c: no umm_multi_malloc call in take()')


TAKE_LINE = _take_line()


def run_gdb(variant, scenario, outdir, commands, stop=True, timeout=120):
    """Runs `commands` at mkheap_stop (or before `run` when stop is False);
    returns (outputs per command, whole stdout, stderr)."""
    exe = mkheap(variant)
    if not os.path.exists(exe):
        pytest.fail('%s is missing: build it with make test-gdb' % exe)
    argv = [GDB, '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'set width 0',
            '-ex', 'source ' + UMM_PY]
    if stop:
        argv += ['-ex', 'break mkheap_stop', '-ex', 'run']
    for c in commands:
        argv += ['-ex', 'echo %s\\n' % MARK, '-ex', c]
    argv += ['-ex', 'echo %s\\n' % MARK]
    if stop:
        argv += ['-ex', 'kill']
    argv += ['--args', exe, scenario, str(outdir), '--stop']
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    parts = proc.stdout.split(MARK + '\n')
    return parts[1:-1] if len(parts) > 2 else parts[1:], proc.stdout, proc.stderr


def load_record(outdir, scenario):
    with open(os.path.join(outdir, scenario + '.json'), encoding='utf-8') as f:
        record = json.load(f)
    with open(os.path.join(outdir, scenario + '.bin'), 'rb') as f:
        data = f.read()
    reader = U.ImageReader()
    for h in record['heaps']:
        reader.add(h['region'], data[h['file_offset']:h['file_offset'] + h['region_bytes']])
    return record, reader


def strip_names(doc):
    for h in doc['heaps']:
        h['name'] = None
        if h['last_fault']:
            h['last_fault']['owner'] = None
        for b in h['blocks']:
            b['owner_name'] = None
        for p in h['problems']:
            if 'culprit' in p:
                p['culprit']['owner'] = None
            p['message'] = None
    return doc


@pytest.mark.parametrize('variant', ['rel', 'instr'])
@pytest.mark.parametrize('scenario', ['fragmented', 'multi', 'wide', 'overrun'])
def test_walk_json_agrees_with_program_and_decoder(tmp_path, variant, scenario):
    (out,), stdout, stderr = run_gdb(variant, scenario, tmp_path, ['umm-walk --json'])
    doc = json.loads(out)
    record, reader = load_record(tmp_path, scenario)
    # The program's own truth: its heaps and live pointers.
    assert sorted(h['address'] for h in doc['heaps']) == sorted(h['ctl'] for h in record['heaps'])
    for h in record['heaps']:
        (dh,) = [x for x in doc['heaps'] if x['address'] == h['ctl']]
        prefix = 0
        if 'poison' in dh['flags'] or 'owners' in dh['flags']:
            prefix = (8 + record['ptr_bytes'] + 4 + 7) & ~7
        users = {b['address'] + 2 * dh['index_bytes'] + prefix
                 for b in dh['blocks'] if b['state'] == 'used'}
        live = {a['ptr'] for a in h['live']}
        # A block whose header was smashed is not listed: a header problem at
        # its first byte stands for it.
        smashed = {p['address'] + 2 * dh['index_bytes'] + prefix
                   for p in dh['problems'] if p['kind'] == 'header'}
        assert users <= live and live - users <= smashed
        assert dh['used_entries'] == len(users)
        if variant == 'instr':
            # Every allocation comes from take()'s call (inlined or not): the
            # owner is named function+offset at that line of mkheap.c.
            want = r'^\w+\+0x[0-9a-f]+ \(mkheap\.c:%d\)$' % TAKE_LINE
            for b in dh['blocks']:
                if b['state'] == 'used':
                    assert re.match(want, b['owner_name']), b
    # The offline decoder on the bytes the program dumped says the same.
    offline = U.document(U.heap_document(U.decode_heap(reader, h['address'], h['name']))
                         for h in doc['heaps'])
    assert strip_names(doc) == strip_names(offline)


def test_text_commands(tmp_path):
    cmds = ['umm-info', 'umm-check', 'umm-map', 'umm-top',
            'umm-walk --used --min-size 32', 'umm-walk --free',
            'python print(MEMORY.reads)', 'umm-walk', 'python print(MEMORY.reads)']
    outs, stdout, stderr = run_gdb('instr', 'overrun', tmp_path, cmds)
    info, check, hmap, top, walk_used, walk_free, reads1, walk, reads2 = outs
    record, reader = load_record(tmp_path, 'overrun')
    h = record['heaps'][0]
    heap = U.decode_heap(reader, h['ctl'])
    m = heap.metrics()
    assert 'used      %d blocks, %d bytes' % (m['used_entries'], m['used_bytes']) in info
    assert 'counters  alloc 3, free 0' in info
    victim = [b for b in heap.blocks if b.user == h['damage'][0]['ptr']][0]
    owner = r'\w+\+0x[0-9a-f]+ \(mkheap\.c:%d\)' % TAKE_LINE
    assert re.search(r'overrun at 0x%x \(block %d\): 3 bytes after the 24-byte region allocated by %s\n'
                     % (h['damage'][0]['address'], victim.index, owner), check)
    assert re.search(r'culprit: block %d at 0x%x, owner %s, seq %d\n'
                     % (victim.index, victim.address, owner, victim.seq), check)
    assert '!' in hmap
    assert re.search(r'\s+%d\s+3\s+%d  %s\n' % (m['used_bytes'], 104, owner), top)
    rows = [line.split() for line in walk_used.splitlines() if re.match(r'^\s+\d+\s+0x', line)]
    assert rows and all(int(r[2]) >= 32 and r[3] == 'used' for r in rows)
    assert len(rows) == len([b for b in heap.blocks if not b.free and b.size >= 32])
    free_rows = [line for line in walk_free.splitlines() if re.match(r'^\s+\d+\s+0x', line)]
    assert len(free_rows) == m['free_entries']
    # Reads are cached while the target stays stopped.
    assert int(reads1) > 0 and reads2 == reads1
    assert 'Traceback' not in stderr


def test_umm_block(tmp_path):
    outs, _, stderr = run_gdb('instr', 'several', tmp_path, [])
    record, _ = load_record(tmp_path, 'several')
    ptr = record['heaps'][0]['live'][4]['ptr']
    outs, _, stderr = run_gdb('instr', 'several', tmp_path,
                              ['umm-block 0x%x' % (ptr + 7), 'umm-block 0x10'])
    assert 'offset 7 into the user data at 0x%x' % ptr in outs[0]
    assert re.search(r'owner \w+\+0x[0-9a-f]+ \(mkheap\.c:%d\)' % TAKE_LINE, outs[0])
    assert 'before: block' in outs[0]
    assert 'umm-block: 0x10 is not inside any heap block' in stderr


def test_errors_are_one_line(tmp_path):
    cmds = ['umm-walk --heap 0x10', 'umm-walk --bogus', 'umm-walk --heap no_such_symbol',
            'umm-walk --min-size lots', 'umm-walk --used --free']
    outs, stdout, stderr = run_gdb('rel', 'several', tmp_path, cmds)
    lines = [l for l in stderr.splitlines() if l.startswith('umm-walk')]
    assert len(lines) == 5
    assert lines[0].startswith('umm-walk: cannot read') or 'heap at 0x10' in lines[0]
    assert "unknown option '--bogus'" in lines[1]
    assert "cannot evaluate 'no_such_symbol'" in lines[2]
    assert 'Traceback' not in stderr and 'Python Exception' not in stderr


def test_before_run_and_after_damage(tmp_path):
    # Before `run` the ELF's umm_heap_list is 0: a one-line error, not a crash.
    _, stdout, stderr = run_gdb('rel', 'several', tmp_path, ['umm-walk'], stop=False)
    assert 'umm-walk: umm_heap_list is empty: no heap is initialised yet' in stderr
    # Writing the target invalidates the cache; a header pointing backwards
    # (a would-be loop) is a problem, and the walk still ends.
    outs, stdout, stderr = run_gdb('rel', 'several', tmp_path, [
        'umm-check',
        'python import struct; ctl = int(gdb.parse_and_eval("heap_small.ctl"));'
        ' cb = struct.unpack("<H", bytes(gdb.selected_inferior().read_memory(ctl + 10, 2)))[0];'
        ' gdb.selected_inferior().write_memory(ctl + cb + 8 * 2, struct.pack("<H", 1))',
        'umm-check', 'umm-walk --json'])
    assert ': ok (' in outs[0]
    assert re.search(r'header at 0x[0-9a-f]+ \(block 2\): block 2: next = 0x1 does not lead to a block', outs[2])
    doc = json.loads(outs[3])
    assert doc['heaps'][0]['problems']
    assert 'Traceback' not in stderr


def test_upstream_heap_through_umm_heap_current(tmp_path):
    outs, stdout, stderr = run_gdb('rel', 'upstream', tmp_path,
                                   ['umm-walk --json --heap umm_heap_current', 'umm-check --heap umm_heap_current',
                                    'umm-walk --json --poison --heap umm_heap_current'])
    doc = json.loads(outs[0])
    record, reader = load_record(tmp_path, 'upstream')
    h = record['heaps'][0]
    (dh,) = doc['heaps']
    assert (dh['format'], dh['name'], dh['address'], dh['size']) == \
        ('upstream', 'umm_heap_current', h['region'], h['region_bytes'])
    assert {b['address'] + 4 for b in dh['blocks'] if b['state'] == 'used'} == {a['ptr'] for a in h['live']}
    offline = U.document([U.heap_document(U.decode_upstream(
        reader, h['region'], h['region_bytes'] // 8, 8, h['region_bytes'], 'umm_heap_current'))])
    assert doc == offline
    assert ': ok (' in outs[1]
    # --poison: the decoder expects UMM_POISON_CHECK blocks, which these are not.
    poisoned = json.loads(outs[2])['heaps'][0]
    assert poisoned['flags'] == ['poison']
    assert poisoned['problems'] and all(p['kind'] in ('underrun', 'overrun') for p in poisoned['problems'])
    assert poisoned['problems'] == U.heap_document(U.decode_upstream(
        reader, h['region'], h['region_bytes'] // 8, 8, h['region_bytes'], 'umm_heap_current',
        poison=True))['problems']


def test_scan_finds_heaps_without_the_list(tmp_path):
    record_outs, _, _ = run_gdb('instr', 'multi', tmp_path, [])
    record, _ = load_record(tmp_path, 'multi')
    lo = min(h['region'] for h in record['heaps'])
    hi = max(h['region'] + h['region_bytes'] for h in record['heaps'])
    outs, _, stderr = run_gdb('instr', 'multi', tmp_path,
                              ['umm-walk --json --scan 0x%x:0x%x' % (lo, hi), 'umm-walk --scan 0:1'])
    doc = json.loads(outs[0])
    assert sorted(h['address'] for h in doc['heaps']) == sorted(h['ctl'] for h in record['heaps'])
    assert all(h['name'] == 'heap@0x%x' % h['address'] for h in doc['heaps'])
    assert 'umm-walk: scan: cannot read' in stderr


def test_tag_owners(tmp_path):
    outs, _, stderr = run_gdb('instr', 'tagged', tmp_path, ['umm-walk --json', 'umm-top'])
    doc = json.loads(outs[0])
    names = [b['owner_name'] for b in doc['heaps'][0]['blocks'] if b['state'] == 'used']
    # umm_multi_malloc_tagged's tag, quoted as heapview shows tags, beside call sites.
    assert names.count('"mkheap-tag"') == 3
    assert len([n for n in names if re.match(r'^\w+\+0x[0-9a-f]+ \(mkheap\.c:%d\)$' % TAKE_LINE, n)]) == 3
    assert re.search(r'^\s+\d+\s+3\s+96  "mkheap-tag"$', outs[1], re.M)


def test_umm_block_around_a_smashed_header(tmp_path):
    run_gdb('rel', 'overrun', tmp_path, [])
    record, reader = load_record(tmp_path, 'overrun')
    heap = U.decode_heap(reader, record['heaps'][0]['ctl'])
    (first, units, kind), = heap.gaps
    victim = record['heaps'][0]['damage'][0]['ptr']
    smashed = heap.blocks_base + first * 8 + 4
    outs, _, stderr = run_gdb('rel', 'overrun', tmp_path,
                              ['umm-block 0x%x' % victim, 'umm-block 0x%x' % smashed])
    assert 'after:  units %d..%d (could not be decoded), then block' % (first, first + units - 1) in outs[0]
    assert 'is in units %d..%d of heap heap_small, which could not be decoded (header)' \
        % (first, first + units - 1) in outs[1]


def test_readme_examples(tmp_path):
    """Every `(gdb)` example in gdb/README.md runs, on a heap with owners, and
    prints output without an error."""
    with open(os.path.join(GDB_DIR, 'README.md'), encoding='utf-8') as f:
        examples = [line.strip()[len('(gdb) '):] for line in f if line.strip().startswith('(gdb) ')]
    commands = [c for c in examples if c.startswith('umm-')]
    assert len(commands) >= 6
    outs, stdout, stderr = run_gdb('instr', 'several', tmp_path, commands)
    assert len(outs) == len(commands)
    for command, out in zip(commands, outs):
        assert out.strip(), command
    assert 'umm-' not in stderr and 'Traceback' not in stderr, stderr
    json.loads(outs[commands.index('umm-walk --json')])


def test_output_to_a_file(tmp_path):
    out = os.path.join(str(tmp_path), 'walk.json')
    outs, _, stderr = run_gdb('rel', 'several', tmp_path, [
        'umm-walk --json --output %s' % out, 'umm-walk --json',
        'umm-info --output /nonexistent-dir/x'])
    with open(out, encoding='utf-8') as f:
        assert f.read() == outs[1]
    assert outs[0].strip() == 'umm-walk: wrote %d bytes to %s' % (len(outs[1]), out)
    assert "umm-info: cannot write '/nonexistent-dir/x': No such file or directory" in stderr


def test_heap_given_many_ways(tmp_path):
    run_gdb('rel', 'several', tmp_path, [])
    record, _ = load_record(tmp_path, 'several')
    ctl = record['heaps'][0]['ctl']
    ways = ['heap_small', '&heap_small', 'heap_small.ctl', 'heap_small_storage', 'umm_heap_list',
            '&umm_heap_list', '0x%x' % ctl, '%d' % ctl]
    outs, _, stderr = run_gdb('rel', 'several', tmp_path,
                              ['umm-check --heap %s' % w for w in ways] +
                              ['umm-check --heap heap_wide', 'umm-check --heap heap_wide.ctl'])
    for way, out in zip(ways, outs):
        name = 'heap@0x%x' % ctl if way[0].isdigit() else way
        assert out == 'heap %s at 0x%x: ok (11 blocks checked)\n' % (name, ctl)
    assert "umm-check: heap 'heap_wide' is not initialised (ctl is 0)" in stderr
    assert "umm-check: 'heap_wide.ctl' is a null pointer" in stderr


def test_core_file_gives_the_same_document(tmp_path):
    core = os.path.join(str(tmp_path), 'mkheap.core')
    outs, _, stderr = run_gdb('instr', 'fragmented', tmp_path, ['umm-walk --json', 'gcore %s' % core])
    assert os.path.exists(core), stderr
    argv = [GDB, '-batch', '-nx', '-ex', 'source ' + UMM_PY, '-ex', 'echo %s\\n' % MARK,
            '-ex', 'umm-walk --json', '-ex', 'echo %s\\n' % MARK, mkheap('instr'), core]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    from_core = proc.stdout.split(MARK + '\n')[1]
    assert from_core == outs[0]
    assert json.loads(from_core)['heaps'][0]['used_entries'] > 0
