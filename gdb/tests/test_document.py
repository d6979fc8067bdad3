"""The JSON document against cli/JSON.md, the generated constants against
lib/umm_format.h, and the text renderers against the heaps they draw."""
import json
import os
import re

import umm_decode as U
from umm_decode import render

from conftest import GDB_DIR, TOP

import sys
sys.path.insert(0, GDB_DIR)
import gen_format  # noqa: E402


def spec_example():
    with open(os.path.join(TOP, 'cli', 'JSON.md'), encoding='utf-8') as f:
        text = f.read()
    block = re.search(r'```json\n(.*?)```', text, re.S).group(1)
    last_fault = re.search(r'`last_fault`: `\{(.*?)\}`', text, re.S).group(1)
    return json.loads(block), re.findall(r'"(\w+)"', last_fault)


def test_key_order_follows_json_md(capture):
    example, fault_keys = spec_example()
    heap = capture('rel', 'overrun').decode()
    doc = U.document([U.heap_document(heap)])
    assert list(doc) == list(example)
    assert doc['schema'] == example['schema']
    h, eh = doc['heaps'][0], example['heaps'][0]
    assert list(h) == list(eh)
    assert list(h['blocks'][0]) == list(eh['blocks'][0])
    prob = [p for p in h['problems'] if 'culprit' in p][0]
    assert list(prob) == list(eh['problems'][0])
    assert list(prob['culprit']) == list(eh['problems'][0]['culprit'])
    assert h['counters'] is None and h['last_fault'] is None   # release: not recorded
    # Round trip: what we print is JSON and says the same.
    assert json.loads(U.to_json(doc)) == doc


def test_instrumented_counters_and_fault_keys(capture):
    example, fault_keys = spec_example()
    heap = capture('instr', 'double_free').decode()
    h = U.heap_document(heap)
    assert list(h['counters']) == list(example['heaps'][0]['counters'])
    assert list(h['last_fault']) == fault_keys
    assert h['requested_bytes'] == sum(a['size'] for a in capture('instr', 'double_free').heaps[0]['live'])


def test_generated_constants_are_current():
    with open(os.path.join(TOP, 'lib', 'umm_format.h'), encoding='utf-8') as f:
        want = gen_format.generate(f.read(), 'lib/umm_format.h')
    with open(os.path.join(GDB_DIR, 'umm_decode', 'format_gen.py'), encoding='utf-8') as f:
        assert f.read() == want, 'run make gdb/umm_decode/format_gen.py'


def test_generator_refuses_what_it_cannot_translate():
    try:
        gen_format.generate('#define UMM_FMT_MAGIC 1u\n#define X sizeof(int)\n', 'h')
    except ValueError as err:
        assert 'cannot translate' in str(err) or 'unknown name' in str(err)
    else:
        raise AssertionError('accepted sizeof')


def test_map_cells_add_up(capture):
    heap = capture('rel', 'several').decode()
    text = render.map_text(heap)
    cell = int(re.search(r'one cell = (\d+) bytes', text).group(1))
    rows = [line.split('  ', 1)[1] for line in text.splitlines()[2:-1]]
    cells = ''.join(rows)
    m = heap.metrics()
    assert cell == 8        # 16 KiB fits in 64 x 32 cells of one unit
    assert cells.count('#') * cell == m['used_bytes']
    assert cells.count('.') * cell == m['free_bytes']


def test_map_marks_problems(capture):
    heap = capture('rel', 'overrun').decode()
    assert '!' in render.map_text(heap)


def test_check_text_names_the_culprit(capture):
    cap = capture('rel', 'overrun')
    heap = cap.decode()
    text = render.check_text(heap)
    victim = [b for b in heap.blocks if b.user == cap.heaps[0]['damage'][0]['ptr']][0]
    assert 'culprit: block %d at 0x%x' % (victim.index, victim.address) in text
    n = len(heap.problems)
    assert text.rstrip().endswith('%d problem%s (%d blocks checked)' % (n, '' if n == 1 else 's', len(heap.blocks)))
    ok = render.check_text(capture('rel', 'several').decode())
    assert ': ok (' in ok


def test_block_text_and_top(capture):
    cap = capture('instr', 'several')
    heap = cap.decode()
    live = cap.heaps[0]['live'][3]
    text = render.block_text(heap, live['ptr'] + 5)
    b = [b for b in heap.blocks if b.user == live['ptr']][0]
    assert text.startswith('0x%x is in block %d' % (live['ptr'] + 5, b.index))
    assert 'offset 5 into the user data' in text
    assert '%d requested' % live['size'] in text
    rows = render.top_rows(heap)
    assert sum(r[1] for r in rows) == len(cap.heaps[0]['live'])
    assert sum(r[2] for r in rows) == heap.metrics()['used_bytes']
    assert sum(r[3] for r in rows) == sum(a['size'] for a in cap.heaps[0]['live'])
    assert render.block_text(heap, heap.address - 100) is None


def test_elf_object_symbols(tmp_path):
    from umm_decode.elfsyms import read_object_symbols
    from conftest import mkheap
    syms = read_object_symbols(mkheap('rel'))
    assert syms.ptr_bytes == 8 and syms.endian == '<'
    heaps = {name for _, size, name in syms.objects if size == 5 * 8}  # umm_heap: five fields
    assert {'heap_small', 'heap_second', 'heap_wide', 'heap_bench', 'umm_heap_default'} <= heaps
    assert syms.lookup('umm_heap_list') is not None
    # Not ELF, or cut short: no symbols, no exception.
    junk = tmp_path / 'junk'
    junk.write_bytes(b'not an elf file')
    assert read_object_symbols(str(junk)) is None
    with open(mkheap('rel'), 'rb') as f:
        head = f.read(200)
    cut = tmp_path / 'cut'
    cut.write_bytes(head)
    assert read_object_symbols(str(cut)) is None
    assert read_object_symbols(str(tmp_path / 'missing')) is None


def test_isqrt_fallback_for_old_pythons():
    import math
    import random
    from umm_decode.model import _isqrt
    rng = random.Random(3)
    values = list(range(2000)) + [rng.getrandbits(80) for _ in range(2000)] + \
        [2 ** 64 - 1, (2 ** 32 - 1) ** 2, (2 ** 32) ** 2 - 1, (2 ** 32) ** 2]
    for n in values:
        assert _isqrt(n) == math.isqrt(n)
