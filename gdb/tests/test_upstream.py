"""Upstream umm_malloc heaps, built here from the facts in
/work/shared/UPSTREAM-UMM.md (no upstream code is used)."""
import struct

import pytest

import umm_decode as U


def upstream_image(n, layout, bs=8, poison=False):
    """n blocks of bs bytes: block 0 sentinel, `layout` = [(blocks, free)] for
    the real blocks, then the last block.  The free list links the free blocks
    in address order; block 0 holds its head and tail.  With `poison`, each
    used block holds a UMM_POISON_CHECK allocation: u16 length s + 10, four
    0xA5, s bytes, four 0xA5 (s leaves 0..2 spare bytes)."""
    buf = bytearray(n * bs)
    idx, prev = 1, 0
    free = []
    for blocks, is_free in layout:
        nxt = idx + blocks
        struct.pack_into('<HH', buf, idx * bs, nxt | (0x8000 if is_free else 0), prev)
        if is_free:
            free.append(idx)
        elif poison and blocks * bs - 4 >= 12:
            d = idx * bs + 4
            size = blocks * bs - 4 - 10 - idx % 3
            struct.pack_into('<H', buf, d, size + 10)
            buf[d + 2:d + 6] = b'\xa5' * 4
            buf[d + 6:d + 6 + size] = bytes((idx + i) & 0xFF for i in range(size))
            buf[d + 6 + size:d + 10 + size] = b'\xa5' * 4
        prev, idx = idx, nxt
    assert idx == n - 1
    struct.pack_into('<HH', buf, idx * bs, 0, prev)
    struct.pack_into('<HH', buf, 0, 1, 0)
    struct.pack_into('<HH', buf, 4, free[0] if free else 0, free[-1] if free else 0)
    for i, b in enumerate(free):
        struct.pack_into('<HH', buf, b * bs + 4, free[i + 1] if i + 1 < len(free) else 0,
                         free[i - 1] if i else 0)
    return bytes(buf)


def decode(data, n, bs=8, base=0x3FFE8000):
    return U.decode_upstream(U.ImageReader([(base, data)]), base, n, bs, len(data), 'umm_heap_current')


def test_initial_heap_matches_the_documented_bytes():
    n = 1024
    data = upstream_image(n, [(n - 2, True)])
    # UPSTREAM-UMM.md: block0 {1, 0, 1, 1}, block1 {(n-1)|0x8000, 0, 0, 0}, last {0, 1, 0, 0}
    assert struct.unpack_from('<HHHH', data, 0) == (1, 0, 1, 1)
    assert struct.unpack_from('<HHHH', data, 8) == ((n - 1) | 0x8000, 0, 0, 0)
    assert struct.unpack_from('<HHHH', data, 8 * (n - 1)) == (0, 1, 0, 0)
    heap = decode(data, n)
    assert heap.problems == []
    assert [(b.index, b.size, b.free) for b in heap.blocks] == [(1, 8 * (n - 2), True)]
    doc = U.heap_document(heap)
    assert doc['format'] == 'upstream' and doc['address'] == 0x3FFE8000
    assert doc['largest_alloc'] == 8 * (n - 2) - 4
    assert doc['fragmentation'] == 0 and doc['requested_bytes'] is None


def test_reference_fragmentation_points():
    n = 0x2000
    sparse = [(1, i % 2 == 1) for i in range(n - 2)]
    heap = decode(upstream_image(n, sparse), n)
    assert heap.problems == []
    assert heap.metrics()['fragmentation'] == 99     # "fully sparse -> 99"
    full = decode(upstream_image(n, [(n - 2, False)]), n)
    assert full.metrics()['fragmentation'] == 0      # "full -> 0"


@pytest.mark.parametrize('bs', [8, 12, 16])
def test_block_sizes_and_user_pointers(bs):
    layout = [(2, False), (3, True), (1, False), (4, False), (2, True), (5, False)]
    n = 2 + sum(u for u, _ in layout)
    heap = decode(upstream_image(n, layout, bs), n, bs)
    assert heap.problems == []
    assert [(b.index, b.size // bs, b.free) for b in heap.blocks] == \
        [(1, 2, False), (3, 3, True), (6, 1, False), (7, 4, False), (11, 2, True), (13, 5, False)]
    assert [b.user - b.address for b in heap.blocks if not b.free] == [4] * 4


def test_damage_is_reported_not_followed():
    layout = [(2, False), (3, True), (1, False), (4, True), (2, False)]
    n = 2 + sum(u for u, _ in layout)
    data = bytearray(upstream_image(n, layout))
    struct.pack_into('<H', data, 3 * 8 + 4, 3)              # free list loops on block 3
    heap = decode(bytes(data), n)
    kinds = [p.kind for p in heap.problems]
    assert 'freelist' in kinds
    data = bytearray(upstream_image(n, layout))
    struct.pack_into('<HH', data, 7 * 8, 2, 0x4141)         # block 7's header overwritten
    heap = decode(bytes(data), n)
    (p,) = [p for p in heap.problems if p.kind == 'header']
    assert p.block == 7 and p.address == 0x3FFE8000 + 7 * 8
    # Block 7 cannot be decoded; the walk resynchronises on block 11.
    assert [b.index for b in heap.blocks] == [1, 3, 6, 11]
    assert heap.gaps == [(7, 4, 'header')]
    # The used block just before the damaged header is the likely writer.
    assert p.culprit is not None and p.culprit.block == 6


def test_uninitialised_heap_is_a_problem():
    heap = decode(bytes(64), 8)
    (p,) = heap.problems
    assert (p.kind, p.address, p.block) == ('header', 0x3FFE8000, None)
    assert 'not initialised' in p.message and heap.blocks == []


def test_impossible_geometry_is_an_error():
    with pytest.raises(U.DecodeError, match='has 2 blocks, want 3..32767'):
        decode(bytes(16), 2)
    with pytest.raises(U.DecodeError, match='block size 6'):
        decode(bytes(64), 8, bs=6)


def test_hand_built_upstream_heap_from_the_c_program(capture):
    cap = capture('rel', 'upstream')
    h = cap.heaps[0]
    heap = U.decode_upstream(cap.reader, h['region'], h['region_bytes'] // 8, 8, h['region_bytes'])
    assert heap.problems == []
    assert {b.user for b in heap.blocks if not b.free} == {a['ptr'] for a in h['live']}
    for b in heap.blocks:
        if not b.free:
            (a,) = [a for a in h['live'] if a['ptr'] == b.user]
            assert b.size - 4 == a['size']
    assert [b.size // 8 for b in heap.blocks if b.free][:2] == [5, 10]


def test_poisoned_upstream_heap():
    layout = [(3, False), (2, True), (4, False), (1, True), (5, False)]
    n = 2 + sum(u for u, _ in layout)
    data = bytearray(upstream_image(n, layout, poison=True))
    base = 0x3FFE8000
    heap = U.decode_upstream(U.ImageReader([(base, bytes(data))]), base, n, 8, len(data), poison=True)
    assert heap.problems == [] and heap.flags == ['poison']
    used = [b for b in heap.blocks if not b.free]
    # Blocks 1, 6, 11: s = blocks * 8 - 14 - index % 3.
    assert [(b.index, b.requested) for b in used] == [(1, 24 - 14 - 1), (6, 32 - 14 - 0), (11, 40 - 14 - 2)]
    assert [b.user - b.address for b in used] == [10, 10, 10]
    assert heap.requested_bytes == sum(b.requested for b in used)
    # One byte written just past block 1's region: an overrun named after it.
    first = used[0]
    data[first.user - base + first.requested] = 0x00
    heap = U.decode_upstream(U.ImageReader([(base, bytes(data))]), base, n, 8, len(data), poison=True)
    (p,) = heap.problems
    assert (p.kind, p.address, p.block) == ('overrun', first.user + first.requested, first.index)
    assert p.culprit.block == first.index
