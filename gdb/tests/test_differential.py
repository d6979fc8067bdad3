"""The same heap, two tools: the Python decoder (what umm-walk --json prints)
and heapview's C decoder (`heapview blocks --json`) must print the same
document byte for byte, on healthy heaps, damaged heaps, fuzzed mutants and
upstream heaps.  In-GDB output is tied to the Python decoder by test_gdb.py
and to heapview directly by test_qemu.py."""
import os
import random
import subprocess

import pytest

import umm_decode as U

from conftest import BUILD
from test_robust import mutate
from test_upstream import upstream_image

HEAPVIEW = os.path.join(BUILD, 'heapview')
SCENARIOS = ['empty', 'several', 'fragmented', 'full', 'mixed', 'multi', 'wide',
             'overrun', 'underrun', 'uaf', 'double_free']


def heapview(args):
    if not os.path.exists(HEAPVIEW):
        pytest.fail('%s is missing: make builds it' % HEAPVIEW)
    return subprocess.run([HEAPVIEW, 'blocks', '--json', '--no-scan'] + args,
                          capture_output=True, text=True, timeout=60)


def ours(reader, ctls):
    return U.to_json(U.document(U.heap_document(U.decode_heap(reader, c)) for c in ctls))


def write_regions(cap, tmp_path, data_for=None):
    args = []
    for i, h in enumerate(cap.heaps):
        path = os.path.join(str(tmp_path), '%s-%d.bin' % (cap.scenario, i))
        with open(path, 'wb') as f:
            f.write(data_for(h) if data_for else cap.region_bytes(h))
        args += ['%s@0x%x' % (path, h['region']), '--heap', '0x%x' % h['ctl']]
    return args


@pytest.mark.parametrize('variant', ['rel', 'instr'])
@pytest.mark.parametrize('scenario', SCENARIOS)
def test_same_document_as_heapview(capture, tmp_path, variant, scenario):
    cap = capture(variant, scenario)
    proc = heapview(write_regions(cap, tmp_path))
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout == ours(cap.reader, [h['ctl'] for h in cap.heaps])


@pytest.mark.parametrize('variant,scenario,rounds', [
    ('rel', 'fragmented', 150), ('instr', 'fragmented', 250), ('instr', 'overrun', 100),
    ('rel', 'wide', 30)])
def test_mutants_same_as_heapview(capture, tmp_path, variant, scenario, rounds):
    cap = capture(variant, scenario)
    h = cap.heaps[0]
    seg = cap.region_bytes(h)
    good = U.decode_heap(cap.reader, h['ctl'])
    rng = random.Random(0xD1FF + rounds)
    path = os.path.join(str(tmp_path), 'mutant.bin')
    mismatches = []
    for i in range(rounds):
        data = mutate(rng, seg, h['ctl'] - h['region'], good.ctl.ctl_bytes, good.unit_count)
        with open(path, 'wb') as f:
            f.write(data)
        proc = heapview(['%s@0x%x' % (path, h['region']), '--heap', '0x%x' % h['ctl']])
        try:
            mine = ours(U.ImageReader([(h['region'], data)]), [h['ctl']])
        except U.DecodeError:
            # No heap to decode: heapview refuses it too (unreadable input).
            if proc.returncode != 2:
                mismatches.append(i)
            continue
        if proc.stdout != mine:
            mismatches.append(i)
            if len(mismatches) == 1:     # keep the first for whoever debugs it
                with open(os.path.join(str(tmp_path), 'first-mismatch.bin'), 'wb') as f:
                    f.write(data)
                with open(os.path.join(str(tmp_path), 'first-mismatch.diff'), 'w') as f:
                    f.write('heapview:\n%s\nours:\n%s' % (proc.stdout, mine))
    assert mismatches == [], 'see %s/first-mismatch.*' % tmp_path


@pytest.mark.parametrize('poison', [False, True])
@pytest.mark.parametrize('seed', range(6))
def test_upstream_same_as_heapview(tmp_path, seed, poison):
    rng = random.Random(seed)
    layout = []
    free = False
    for _ in range(rng.randint(1, 40)):
        free = not free if rng.random() < 0.7 else False
        layout.append((rng.randint(1, 9), free))
    n = 2 + sum(u for u, _ in layout)
    data = bytearray(upstream_image(n, layout, poison=poison))
    if seed >= 3:    # damaged ones too
        for _ in range(seed):
            data[rng.randrange(len(data))] = rng.randrange(256)
    path = os.path.join(str(tmp_path), 'up.bin')
    with open(path, 'wb') as f:
        f.write(data)
    base = 0x3FFE8000
    proc = heapview(['%s@0x%x' % (path, base), '--upstream', '--heap', '0x%x' % base,
                     '--heap-size', str(len(data))] + (['--poison'] if poison else []))
    heap = U.decode_upstream(U.ImageReader([(base, bytes(data))]), base, n, 0, len(data),
                             poison=poison)
    assert proc.stdout == U.to_json(U.document([U.heap_document(heap)]))


@pytest.mark.parametrize('fault_kind', [11, 32, 33, 0x44D2A000, 0x9A000004, 0xFFFFFFFF])
def test_garbage_fault_kinds_as_heapview(capture, tmp_path, fault_kind):
    """A record whose fault kind is not a FORMAT.md kind (found by differential
    fuzzing): named and ordered as heapview does."""
    import struct
    from umm_decode import format_gen as F
    cap = capture('instr', 'overrun')
    h = cap.heaps[0]
    heap = U.decode_heap(cap.reader, h['ctl'])
    data = bytearray(cap.region_bytes(h))
    at = h['ctl'] - h['region'] + heap.ctl.instr_off + F.UMM_REC_FAULT_KIND
    struct.pack_into('<I', data, at, fault_kind)
    proc = heapview(write_regions(cap, tmp_path, lambda _: bytes(data)))
    assert proc.stdout == ours(U.ImageReader([(h['region'], bytes(data))]), [h['ctl']])


def to_big_endian(data, region, heap):
    """The same heap as a big-endian target would hold it: every multi-byte
    field of FORMAT.md swapped, using the blocks `heap` (decoded from the
    little-endian bytes) to know where headers, links and prefixes are."""
    import struct
    from umm_decode import format_gen as F
    out = bytearray(data)
    ctl = heap.ctl
    c0 = heap.address - region
    p = ctl.ptr_bytes
    a = 'I' if p == 4 else 'Q'
    ix = 'H' if ctl.index_bytes == 2 else 'I'

    def swap(fmt, off):
        struct.pack_into('>' + fmt, out, off, *struct.unpack_from('<' + fmt, data, off))

    for fmt, off in [('I', 0), ('H', 8), ('H', 10), ('I', 12), ('I', 16), ('H', 22), ('H', 24),
                     ('H', 26), ('H', 30), (a, F.UMM_CTL_SELF), (a, F.UMM_CTL_NEXT_HEAP(p)),
                     (a, F.UMM_CTL_REGION(p))]:
        swap(fmt, c0 + off)
    for w in range(1 + (ctl.class_count + 31) // 32):
        swap('I', c0 + ctl.bitmap_off + 4 * w)
    for c in range(ctl.class_count):
        swap(ix, c0 + ctl.bins_off + c * ctl.index_bytes)
    if ctl.instr_off:
        r = c0 + ctl.instr_off
        for off in list(range(0, 64, 4)) + list(range(72, 96, 4)):
            swap('I', r + off)
        swap('Q', r + 64)
        swap(a, r + 96)
        swap(a, r + 96 + p)
    base = c0 + ctl.ctl_bytes
    starts = [0, heap.unit_count - 1] + [b.index for b in heap.blocks] + [g[0] for g in heap.gaps]
    for u in starts:
        swap(ix + ix, base + 8 * u)
    for b in heap.blocks:
        d = base + 8 * b.index + heap.header_bytes
        if b.free:
            swap(ix + ix, d)
        elif heap.prefix_bytes:
            swap('II' + a, d)
    return bytes(out)


@pytest.mark.parametrize('variant', ['rel', 'instr'])
@pytest.mark.parametrize('scenario', ['fragmented', 'wide', 'overrun', 'double_free'])
def test_big_endian_heaps(capture, tmp_path, variant, scenario):
    cap = capture(variant, scenario)
    h = cap.heaps[0]
    little = U.decode_heap(cap.reader, h['ctl'])
    big_bytes = to_big_endian(cap.region_bytes(h), h['region'], little)
    big = U.decode_heap(U.ImageReader([(h['region'], big_bytes)]), h['ctl'])
    assert big.ctl.endian == '>'
    # The same heap, whatever the byte order...
    assert U.heap_document(big) == U.heap_document(little)
    # ...and heapview reads the big-endian bytes the same way.
    proc = heapview(write_regions(cap, tmp_path, lambda _: big_bytes))
    assert proc.stdout == U.to_json(U.document([U.heap_document(big)]))


@pytest.mark.parametrize('poison', [False, True])
def test_upstream_mutants_same_as_heapview(tmp_path, poison):
    rng = random.Random(77 + poison)
    layout = [(rng.randint(1, 6), i % 2 == 1) for i in range(50)]
    n = 2 + sum(u for u, _ in layout)
    clean = upstream_image(n, layout, poison=poison)
    base = 0x3FFE8000
    path = os.path.join(str(tmp_path), 'up.bin')
    mismatches = []
    for i in range(150):
        data = bytearray(clean)
        for _ in range(rng.randint(1, 10)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        with open(path, 'wb') as f:
            f.write(data)
        proc = heapview(['%s@0x%x' % (path, base), '--upstream', '--heap', '0x%x' % base,
                         '--heap-size', str(len(data))] + (['--poison'] if poison else []))
        heap = U.decode_upstream(U.ImageReader([(base, bytes(data))]), base, n, 0, len(data),
                                 poison=poison)
        if proc.stdout != U.to_json(U.document([U.heap_document(heap)])):
            mismatches.append(i)
    assert mismatches == []
