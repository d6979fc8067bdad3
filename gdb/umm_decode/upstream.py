"""Decoder of upstream umm_malloc heaps (/work/shared/UPSTREAM-UMM.md).

No magic and no control block: the caller supplies where the block array is,
how many blocks it has and the block size (from DWARF, heap_size/numblocks,
or 8).  Block 0 is the sentinel and the head of the one free list.
"""
import struct

from .errors import DecodeError
from .memory import Memory
from .model import Heap, Problem
from .heap import attach_culprits, cap_problems
from .walk import walk_blocks

FREE_FLAG = 0x8000
MAX_BLOCKS = 0x7FFF
MAX_HEAP_BYTES = 256 << 20


def decode_upstream(read, pheap, numblocks, block_bytes=8, heap_size=None, name=None,
                    endian='<'):
    mem = read if isinstance(read, Memory) else Memory(read)
    if block_bytes < 8 or block_bytes % 4:
        raise DecodeError('block size %d is not a multiple of 4 of at least 8' % block_bytes)
    if not 2 <= numblocks <= MAX_BLOCKS + 1:
        raise DecodeError('numblocks %d is outside 2..%d' % (numblocks, MAX_BLOCKS + 1))
    total = numblocks * block_bytes
    if heap_size is not None and total > heap_size:
        raise DecodeError('%d blocks of %d bytes do not fit heap_size %d' % (numblocks, block_bytes, heap_size))
    if total > MAX_HEAP_BYTES:
        raise DecodeError('heap of %d bytes is over the read limit' % total)
    buf = mem.read(pheap, total)   # one bulk read
    hdr = struct.Struct(endian + 'HH')
    n0, p0 = hdr.unpack_from(buf, 0)
    if n0 == 0 and p0 == 0:
        raise DecodeError('heap is not initialised (block 0 is all zero)')
    heap = Heap(name or '0x%x' % pheap, 'upstream', pheap)
    heap.size = heap_size if heap_size is not None else total
    heap.region = pheap
    heap.index_bytes = 2
    heap.unit_count = numblocks
    heap.unit_bytes = block_bytes
    heap.blocks_base = pheap
    heap.header_bytes = 4
    heap.blocks, problems, heap.truncated = walk_blocks(
        buf, 0, block_bytes, numblocks, hdr, FREE_FLAG, pheap, 1)
    heap.problems.extend(problems)
    for b in heap.blocks:
        if not b.free:
            b.user = b.address + 4
    check_free_list(heap, buf, hdr, block_bytes, numblocks)
    attach_culprits(heap)
    cap_problems(heap)
    return heap


def check_free_list(heap, buf, hdr, bs, n):
    links = hdr   # next_free, prev_free: the same two u16 at offset 4
    by_index = {b.index: b for b in heap.blocks}
    head, tail = links.unpack_from(buf, 4)
    seen = set()
    prev = 0
    cur = head
    steps = 0

    def problem(index, message):
        heap.problems.append(Problem('freelist', heap.blocks_base + bs * index, index or None, message))

    while cur:
        steps += 1
        if steps > n:
            problem(cur, 'free list does not end within %d steps' % n)
            break
        blk = by_index.get(cur)
        if blk is None:
            problem(prev, 'free list links to %d, which is not a block' % cur)
            break
        if cur in seen:
            problem(cur, 'block %d is on the free list twice' % cur)
            break
        seen.add(cur)
        if not blk.free:
            problem(cur, 'free list holds used block %d' % cur)
        nf, pf = links.unpack_from(buf, bs * cur + 4)
        if pf != prev:
            problem(cur, 'block %d has prev_free %d, expected %d' % (cur, pf, prev))
        prev = cur
        cur = nf
    if tail != prev and not heap.truncated:
        problem(0, 'free list tail is %d, the list ends at %d' % (tail, prev))
    for b in heap.blocks:
        if b.free and b.index not in seen:
            problem(b.index, 'free block %d is not on the free list' % b.index)
