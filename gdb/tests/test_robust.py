"""Damaged, truncated and random heaps: the decoder raises nothing but
DecodeError, never loops, and everything built on it still renders."""
import random
import struct
import time

import pytest

import umm_decode as U
from umm_decode import format_gen as F
from umm_decode import render

from test_upstream import upstream_image


def exercise(heap):
    """Everything a front end does with a decoded heap."""
    U.to_json(U.document([U.heap_document(heap)]))
    render.walk_text(heap, heap.blocks)
    render.info_text(heap)
    render.check_text(heap)
    render.map_text(heap)
    render.top_text(heap)
    if heap.blocks:
        render.block_text(heap, heap.blocks[len(heap.blocks) // 2].address + 3)


def decode_mutant(region, ctl, data):
    reader = U.ImageReader([(region, data)])
    start = time.perf_counter()
    try:
        heap = U.decode_heap(reader, ctl)
    except U.DecodeError as err:
        assert str(err) and '\n' not in str(err)
        return None
    exercise(heap)
    elapsed = time.perf_counter() - start
    assert elapsed < 5, 'decode took %.1fs' % elapsed
    return heap


def mutate(rng, data, ctl_off, ctl_bytes, units):
    buf = bytearray(data)
    how = rng.randrange(6)
    if how == 0:      # a few random bytes anywhere in the heap
        for _ in range(rng.randint(1, 16)):
            buf[rng.randrange(ctl_off, len(buf))] = rng.randrange(256)
    elif how == 1:    # block headers
        for _ in range(rng.randint(1, 8)):
            at = ctl_off + ctl_bytes + 8 * rng.randrange(units) + rng.randrange(8)
            if at < len(buf):
                buf[at] = rng.randrange(256)
    elif how == 2:    # control block, bitmap, bins, record
        for _ in range(rng.randint(1, 4)):
            buf[ctl_off + rng.randrange(ctl_bytes)] = rng.randrange(256)
    elif how == 3:    # a run of garbage
        at = rng.randrange(ctl_off, len(buf))
        n = rng.randint(1, 256)
        buf[at:at + n] = bytes(rng.randrange(256) for _ in range(min(n, len(buf) - at)))
    elif how == 4:    # a header pointing backwards or at itself (cycle bait)
        i = rng.randrange(1, units)
        at = ctl_off + ctl_bytes + 8 * i
        if at + 4 <= len(buf):
            struct.pack_into('<HH', buf, at, rng.randrange(0, i + 1), rng.randrange(65536))
    else:             # cut the image short
        del buf[rng.randrange(ctl_off, len(buf)):]
    return bytes(buf)


@pytest.mark.parametrize('variant,scenario,rounds', [
    ('rel', 'fragmented', 1500), ('rel', 'wide', 150),
    ('instr', 'fragmented', 1500), ('instr', 'overrun', 300)])
def test_mutations_never_escape(capture, variant, scenario, rounds):
    cap = capture(variant, scenario)
    h = cap.heaps[0]
    data = cap.region_bytes(h)
    ctl_off = h['ctl'] - h['region']
    good = U.decode_heap(cap.reader, h['ctl'])
    ctl_bytes = good.ctl.ctl_bytes
    rng = random.Random(0x5EED + rounds)
    decoded = 0
    for _ in range(rounds):
        if decode_mutant(h['region'], h['ctl'],
                         mutate(rng, data, ctl_off, ctl_bytes, good.unit_count)) is not None:
            decoded += 1
    # Most mutations leave a decodable heap (with problems): the fuzz reaches the walk.
    assert decoded > rounds // 3


def test_random_control_blocks(capture):
    rng = random.Random(7)
    base = 0x20000000
    for _ in range(1500):
        size = rng.choice([64, 200, 1024, 4096])
        buf = bytearray(rng.randrange(256) for _ in range(size))
        p = rng.choice([4, 8])
        ib = rng.choice([2, 4])
        struct.pack_into('<IBBBB', buf, 0, F.UMM_FMT_MAGIC, 1, ib, 3, p)
        struct.pack_into('<I', buf, F.UMM_CTL_REGION_BYTES, size)
        struct.pack_into('<H', buf, F.UMM_CTL_CTL_BYTES, rng.randrange(F.UMM_CTL_FIXED_BYTES(p), 160))
        struct.pack_into('<I', buf, F.UMM_CTL_UNIT_COUNT, rng.randrange(0, size // 8))
        fmt = '<I' if p == 4 else '<Q'
        struct.pack_into(fmt, buf, F.UMM_CTL_SELF, base)
        struct.pack_into(fmt, buf, F.UMM_CTL_REGION(p), base)
        decode_mutant(base, base, bytes(buf))


def test_heap_list_cycles_and_garbage_end(capture):
    cap = capture('rel', 'multi')
    found, error = U.follow_heap_list(cap.reader, cap.record['heap_list'])
    assert error is None and len(found) == 2
    # Make the last heap point back at the first: the walk stops and says why.
    last = found[-1]
    h = [x for x in cap.heaps if x['ctl'] == last][0]
    data = bytearray(cap.region_bytes(h))
    struct.pack_into('<Q', data, last - h['region'] + F.UMM_CTL_NEXT_HEAP(8), found[0])
    reader = U.ImageReader([(x['region'], data if x is h else cap.region_bytes(x)) for x in cap.heaps])
    again, error = U.follow_heap_list(reader, cap.record['heap_list'])
    assert again == found and 'loops' in error
    struct.pack_into('<Q', data, last - h['region'] + F.UMM_CTL_NEXT_HEAP(8), 0x10)
    reader = U.ImageReader([(x['region'], data if x is h else cap.region_bytes(x)) for x in cap.heaps])
    again, error = U.follow_heap_list(reader, cap.record['heap_list'])
    assert again == found and 'entry at 0x10' in error


def test_upstream_mutations_never_escape():
    rng = random.Random(11)
    layout = [(rng.randint(1, 6), i % 2 == 1) for i in range(60)]
    n = 1 + sum(u for u, _ in layout) + 1
    data = upstream_image(n, layout)
    for _ in range(1500):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        reader = U.ImageReader([(0x1000, bytes(buf))])
        try:
            heap = U.decode_upstream(reader, 0x1000, n)
        except U.DecodeError:
            continue
        exercise(heap)
