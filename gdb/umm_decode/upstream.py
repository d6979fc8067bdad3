"""Decoder of upstream umm_malloc heaps (/work/shared/UPSTREAM-UMM.md), with
the checks and wording of heapview's (cli/core/hv_upstream.c).

No magic and no control block: the caller says where the block array is,
how many blocks it has and the block size (DWARF, heap_size / numblocks, or
8).  Block 0 is the sentinel and the head of the one free list.
"""
import struct

from . import format_gen as F
from .errors import DecodeError
from .heap import finish, read_readable
from .memory import Memory
from .model import Heap
from .walk import HEADER, Walker, add_problem, count_not, owner_text, set_culprit

FREE_FLAG = 0x8000
POISON_BYTES = 10          # u16 length + 4 + 4 canary bytes


def upstream_block_size(heap_size, numblocks, given=0):
    """heapview's rule: the given size, else heap_size / numblocks when that is a
    plausible block size (8..4096, a multiple of 4), else 8."""
    bs = given
    if not bs and numblocks and heap_size is not None:
        q = heap_size // numblocks
        if 8 <= q <= 4096 and q % 4 == 0:
            bs = q
    return bs or 8


def decode_upstream(read, pheap, numblocks, block_bytes=0, heap_size=None, name=None,
                    endian='<', poison=False, symbolize=None):
    mem = read if isinstance(read, Memory) else Memory(read)
    bs = upstream_block_size(heap_size, numblocks, block_bytes)
    if bs < 8 or bs % 4:
        raise DecodeError('upstream block size %d is not a multiple of 4 of at least 8' % bs)
    if not 3 <= numblocks <= 32767:
        raise DecodeError('upstream heap at 0x%x has %d blocks, want 3..32767' % (pheap, numblocks))
    h = Heap(name or 'heap@0x%x' % pheap, 'upstream', pheap, symbolize)
    h.size = heap_size if heap_size is not None else numblocks * bs
    h.region = pheap
    h.index_bytes = 2
    h.header_bytes = 4
    h.free_flag = FREE_FLAG
    h.unit_count = numblocks
    h.unit_bytes = bs
    h.blocks_base = pheap
    h.endian = endian
    if poison:
        h.flag_bits = F.UMM_FLAG_POISON
        h.flags = ['poison']
    h.alloc_overhead = 4 + (POISON_BYTES if poison else 0)
    total = numblocks * bs
    buf = read_readable(mem, pheap, total)     # one bulk read
    if not buf:
        raise DecodeError('cannot read the heap at 0x%x (%d bytes)' % (pheap, total))
    if len(buf) < total:
        add_problem(h, 'unreadable', pheap + len(buf), None,
                    '%d bytes at 0x%x are not in the dump (the heap needs 0x%x+%d)'
                    % (total - len(buf), pheap + len(buf), pheap, total))
    hdr = struct.Struct(endian + 'HH')
    walker = Walker(h, buf, 0, hdr)
    if walker.readable(0) and walker.next_raw(0) == 0:
        add_problem(h, HEADER, pheap, None, 'heap is not initialised (block 0 is zero)')
        return h
    if poison:
        h.detail = lambda b: read_poison_detail(h, buf, b)
    walker.walk(1)
    if poison:
        requested = 0
        for b in h.blocks:
            if not b.free:
                requested += b.requested or 0
                check_poison(h, buf, b)
        h.requested_bytes = requested
    check_free_list(h, buf, walker)
    finish(h)
    return h


def rd16(h, buf, off):
    return struct.unpack_from(h.endian + 'H', buf, off)[0]


def read_poison_detail(h, buf, b):
    d = b.index * h.unit_bytes + 4
    if d + 2 <= len(buf):
        total = rd16(h, buf, d)
        b.user = b.address + 4 + 6
        b.requested = total - 10 if total >= 10 else 0


def check_poison(h, buf, b):
    start = b.index * h.unit_bytes
    end = start + b.units * h.unit_bytes
    d = start + 4
    if end < d + POISON_BYTES or end > len(buf):
        return
    total = rd16(h, buf, d)
    if total < POISON_BYTES or total > end - d:
        add_problem(h, 'underrun', h.address + d, b.index,
                    'block %d: poison length %d does not fit the block (%d bytes of data)'
                    % (b.index, total, end - d))
        return
    bad, first, _ = count_not(buf, d + 2, 4, F.UMM_CANARY_BYTE)
    if bad:
        add_problem(h, 'underrun', h.address + first, b.index,
                    '%d byte%s changed before the %d-byte region of block %d'
                    % (bad, '' if bad == 1 else 's', total - POISON_BYTES, b.index))
    post = d + total - 4
    bad, first, last = count_not(buf, post, 4, F.UMM_CANARY_BYTE)
    if bad:
        pr = add_problem(h, 'overrun', h.address + first, b.index,
                         '%d bytes after the %d-byte region of block %d'
                         % (last - post + 1, total - POISON_BYTES, b.index))
        set_culprit(h, pr, b)


def check_free_list(h, buf, walker):
    n = h.unit_count
    if not walker.readable(0) or len(buf) < 8:
        return
    free_starts = {b.index for b in h.blocks if b.free}
    on_list = set()
    m = rd16(h, buf, 4)
    prev = 0
    steps = 0
    while m != 0:
        if steps > n or m >= n or m not in free_starts:
            add_problem(h, 'freelist', walker.address(prev) + 4, prev,
                        'free list: block %d links to block %d, which is not free' % (prev, m))
            break
        if m in on_list:
            add_problem(h, 'freelist', walker.address(prev) + 4, m,
                        'free list: block %d is listed twice' % m)
            break
        on_list.add(m)
        d = m * h.unit_bytes + 4
        if d + 4 > len(buf):
            break
        back = rd16(h, buf, d + 2)
        if back != prev:
            add_problem(h, 'freelist', h.address + d + 2, m,
                        'free list: block %d has prev_free = %d, want %d' % (m, back, prev))
        prev = m
        m = rd16(h, buf, d)
        steps += 1
    tail = rd16(h, buf, 6)
    if tail != prev:
        add_problem(h, 'freelist', h.address + 6, 0,
                    'free list tail (block 0 prev_free) is %d, the list ends at %d' % (tail, prev))
    if len(on_list) != len(free_starts):
        for b in h.blocks:
            if b.free and b.index not in on_list:
                add_problem(h, 'freelist', b.address, b.index,
                            'free block %d is not on the free list' % b.index)


__all__ = ['decode_upstream', 'upstream_block_size', 'owner_text']
