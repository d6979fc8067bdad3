"""The decoder against heaps the real allocator built, checked against what the
program that built them knows (its live pointers, sizes, usable sizes)."""
import math

import pytest

import umm_decode as U

VARIANTS = ['rel', 'instr']
HEALTHY = ['empty', 'several', 'fragmented', 'full', 'mixed', 'multi', 'wide', 'bench']


def heap_facts(heap):
    hb = heap.header_bytes
    return hb, heap.prefix_bytes, heap.suffix_bytes


@pytest.mark.parametrize('variant', VARIANTS)
@pytest.mark.parametrize('scenario', HEALTHY)
def test_heap_list_is_the_programs_heaps(capture, variant, scenario):
    cap = capture(variant, scenario)
    found, error = U.follow_heap_list(cap.reader, cap.record['heap_list'])
    assert error is None
    assert sorted(found) == sorted(h['ctl'] for h in cap.heaps)


@pytest.mark.parametrize('variant', VARIANTS)
@pytest.mark.parametrize('scenario', HEALTHY)
def test_blocks_match_the_program(capture, variant, scenario):
    cap = capture(variant, scenario)
    for i, h in enumerate(cap.heaps):
        heap = cap.decode(i)
        assert heap.problems == []
        assert heap.index_bytes == (4 if scenario == 'wide' else 2)
        hb, pfx, sfx = heap_facts(heap)
        used = {b.user: b for b in heap.blocks if not b.free}
        live = {a['ptr']: a for a in h['live']}
        assert set(used) == set(live)
        for ptr, a in live.items():
            b = used[ptr]
            capacity = b.size - hb - pfx - sfx
            assert a['size'] <= a['usable'] <= capacity
            if variant == 'rel':
                assert a['usable'] == capacity
            if pfx:
                assert b.requested == a['size']
                assert b.seq > 0 and b.owner != 0
        # Scenarios that free last: every freed pointer now lies in a free block
        # ('mixed' allocates again after freeing, so its holes may be reused).
        for ptr in h['freed'] if scenario != 'mixed' else ():
            if ptr not in live:
                assert heap.block_at(ptr).free
        # The blocks tile the array between the sentinels.
        assert heap.blocks[0].address == heap.blocks_base + 8
        for x, y in zip(heap.blocks, heap.blocks[1:]):
            assert x.end == y.address
        assert heap.blocks[-1].end == heap.blocks_base + 8 * (heap.unit_count - 1)
        m = heap.metrics()
        assert m['used_bytes'] + m['free_bytes'] == 8 * (heap.unit_count - 2)
        assert m['used_entries'] == len(live)
        units = [b.size // 8 for b in heap.blocks if b.free]
        frag = 0 if not units else 100 - math.isqrt(sum(u * u for u in units)) * 100 // sum(units)
        assert m['fragmentation'] == frag
        assert m['largest_free'] == max([b.size for b in heap.blocks if b.free] or [0])


@pytest.mark.parametrize('scenario', HEALTHY)
def test_instrumented_record_matches_the_program(capture, scenario):
    cap = capture('instr', scenario)
    for i, h in enumerate(cap.heaps):
        heap = cap.decode(i)
        for flag in ('metrics', 'poison', 'owners', 'fill'):
            assert flag in heap.flags
        rec = heap.record
        assert rec is not None
        assert rec['alloc_count'] - rec['free_count'] == len(h['live'])
        assert rec['used_blocks'] == len(h['live'])
        assert heap.requested_bytes == sum(a['size'] for a in h['live'])
        if scenario == 'full':
            assert rec['oom_count'] >= 1
        assert heap.last_fault is None
        seqs = [b.seq for b in heap.blocks if not b.free]
        assert len(set(seqs)) == len(seqs)
        assert all(0 < s < rec['seq_next'] for s in seqs)


def damage_of(cap):
    (d,) = cap.heaps[0]['damage']
    return d


def user_block(heap, ptr):
    (b,) = [b for b in heap.blocks if b.user == ptr or (b.free and b.address < ptr < b.end)]
    return b


def test_release_overrun_names_the_culprit(capture):
    cap = capture('rel', 'overrun')
    d = damage_of(cap)
    heap = cap.decode()
    assert heap.problems, 'release overrun into the next header must be found'
    victim = user_block(heap, d['ptr'])
    for p in heap.problems:
        assert p.kind == 'header'
        assert p.culprit is not None and p.culprit.block == victim.index
    doc = U.heap_document(heap)
    assert doc['problems'][0]['culprit']['block'] == victim.index


def test_instrumented_overrun(capture):
    cap = capture('instr', 'overrun')
    d = damage_of(cap)
    heap = cap.decode()
    victim = user_block(heap, d['ptr'])
    (p,) = heap.problems
    assert p.kind == 'overrun'
    assert p.address == d['address']
    assert p.block == victim.index
    assert p.culprit.block == victim.index and p.culprit.seq == victim.seq
    assert '24-byte region' in p.message


def test_instrumented_underrun(capture):
    cap = capture('instr', 'underrun')
    d = damage_of(cap)
    heap = cap.decode()
    victim = user_block(heap, d['ptr'])
    (p,) = heap.problems
    assert (p.kind, p.address, p.block) == ('underrun', d['address'], victim.index)


def test_instrumented_use_after_free(capture):
    cap = capture('instr', 'uaf')
    d = damage_of(cap)
    heap = cap.decode()
    blk = heap.block_at(d['address'])
    assert blk.free
    (p,) = heap.problems
    assert (p.kind, p.address, p.block) == ('use_after_free', d['address'], blk.index)


def test_instrumented_double_free_is_recorded(capture):
    cap = capture('instr', 'double_free')
    d = damage_of(cap)
    heap = cap.decode()
    assert heap.record['bad_free_count'] == 1
    f = heap.last_fault
    assert f['kind'] == 'double_free' and f['op'] == 'free'
    assert f['address'] == d['address']
    # The bytes are intact (the allocator refused the free); the record's
    # fault is the one problem, at the pointer freed twice.
    (p,) = heap.problems
    assert (p.kind, p.address, p.block) == ('double_free', d['address'], f['block'])
    assert heap.block_at(d['address']).index == f['block']
    doc = U.heap_document(heap)
    assert doc['last_fault']['kind'] == 'double_free'


@pytest.mark.parametrize('variant', VARIANTS)
def test_scan_finds_the_control_block(capture, variant):
    cap = capture(variant, 'multi')
    lo = min(h['region'] for h in cap.heaps)
    hi = max(h['region'] + h['region_bytes'] for h in cap.heaps)
    # One image spanning both regions with whatever lies between as zeros.
    image = bytearray(hi - lo)
    for h in cap.heaps:
        image[h['region'] - lo:h['region'] - lo + h['region_bytes']] = cap.region_bytes(h)
    reader = U.ImageReader([(lo, image)])
    assert U.scan_for_heaps(reader, lo, hi) == sorted(h['ctl'] for h in cap.heaps)


def test_unreadable_and_bad_addresses_are_decode_errors(capture):
    cap = capture('rel', 'several')
    h = cap.heaps[0]
    with pytest.raises(U.DecodeError, match='no heapview control block at 0x%x' % (h['ctl'] + 8)):
        U.decode_heap(cap.reader, h['ctl'] + 8)
    with pytest.raises(U.DecodeError, match='cannot read a control block'):
        U.decode_heap(cap.reader, h['ctl'] + (1 << 40))

    def failing(addr, length):
        raise OSError('link down')
    with pytest.raises(U.DecodeError, match='link down'):
        U.decode_heap(failing, h['ctl'])


def test_image_cut_short_decodes_what_is_there(capture):
    cap = capture('rel', 'fragmented')
    h = cap.heaps[0]
    cut = 4096
    short = U.ImageReader([(h['region'], cap.region_bytes(h)[:cut])])
    heap = U.decode_heap(short, h['ctl'])
    end = h['region'] + cut
    kinds = [p.kind for p in heap.problems]
    # The bytes past the cut are unreadable, the walk says where it stopped
    # (last, as truncation notes are), the free lists that lead past the cut
    # are broken, and the rest is in address order.
    assert any(p.kind == 'unreadable' and p.address == end for p in heap.problems)
    assert kinds[-1] == 'truncated'
    assert set(kinds) == {'unreadable', 'truncated', 'freelist'}
    addresses = [p.address for p in heap.problems[:-1]]
    assert addresses == sorted(addresses)
    full = cap.decode()
    # Every block wholly before the cut is decoded exactly as in the full image.
    whole = [(b.index, b.size, b.free) for b in full.blocks if b.end + 4 <= end]
    assert [(b.index, b.size, b.free) for b in heap.blocks][:len(whole)] == whole


BYTE_KINDS = {'header', 'freelist', 'underrun', 'overrun', 'use_after_free', 'control',
              'unreadable', 'truncated'}


@pytest.mark.parametrize('scenario', HEALTHY + ['overrun', 'underrun', 'uaf', 'double_free', 'tagged'])
def test_allocator_own_view_matches(capture, scenario):
    """umm_multi_info and the allocator's integrity and poison checks, run by
    the program just before the dump, against the decoder on the dump."""
    cap = capture('instr', scenario)
    for i, h in enumerate(cap.heaps):
        heap = cap.decode(i)
        view = h['allocator']
        m = heap.metrics()
        for key in ('used_entries', 'free_entries', 'used_bytes', 'free_bytes', 'largest_free',
                    'largest_alloc', 'fragmentation'):
            assert m[key] == view[key], key
        assert heap.requested_bytes == view['requested_bytes']
        for key in ('alloc_count', 'free_count', 'bad_free_count', 'corruption_count'):
            assert heap.record[key] == view[key], key
        damaged = [p for p in heap.problems if p.kind in BYTE_KINDS]
        assert (view['integrity'] and view['poison']) == (not damaged)
        if damaged:
            # The allocator recorded what it found; the decoder found the same
            # kind in the same block, so it does not repeat it as a record fault.
            assert heap.last_fault['kind'] in {p.kind for p in damaged}
            assert heap.last_fault['block'] in {p.block for p in damaged}
            assert len(heap.problems) == len(damaged)
