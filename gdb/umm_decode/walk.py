"""The address-order walk shared by both formats (index-linked headers).

Headers are {next, prev} at the start of each block; the top bit of `next`
is the free flag.  The walk only moves to strictly larger indices, so it
ends within `count` steps whatever the bytes say.  A header whose `next`
cannot be right is reported and the walk resynchronises on the first later
header whose `prev` points back at the damaged block.
"""
from .model import Block, Problem

RESYNC_BUDGET = 1 << 22   # headers examined while resynchronising, in total


def walk_blocks(buf, off0, unit, count, hdr, free_flag, base, min_units):
    """Returns (blocks, problems, truncated) for `count` units of `unit` bytes
    whose unit 0 is at buf[off0] and at target address `base`."""
    unpack = hdr.unpack_from
    mask = free_flag - 1
    last = count - 1
    blocks = []
    problems = []
    budget = [RESYNC_BUDGET]

    def addr(i):
        return base + unit * i

    def header(message, index):
        problems.append(Problem('header', addr(index), index, message))

    def resync(damaged):
        j = damaged + 1
        while j <= last:
            if budget[0] <= 0:
                return None
            budget[0] -= 1
            nj, pj = unpack(buf, off0 + unit * j)
            if pj == damaged and ((j == last and nj == 0) or (j < last and j < (nj & mask) <= last)):
                return j
            j += 1
        return None

    n0, p0 = unpack(buf, off0)
    if p0 != 0 or n0 & free_flag:
        header('head sentinel has next 0x%x, prev %d; expected a used block with prev 0' % (n0, p0), 0)
    cur, nraw = 0, n0
    truncated = False
    prev_block = None
    while cur != last:
        nxt = nraw & mask
        damaged = False
        if not cur < nxt <= last:
            why = 'is out of range' if nxt > last else 'does not move forward'
            header('block %d: next index %d %s' % (cur, nxt, why), cur)
            found = resync(cur)
            if found is None:
                problems.append(Problem('truncated', addr(cur), cur,
                                        'walk stopped at block %d: blocks %d..%d could not be followed'
                                        % (cur, cur, last)))
                truncated = True
                break
            nxt = found
            damaged = True
        if cur:
            blk = Block(cur, addr(cur), (nxt - cur) * unit, bool(nraw & free_flag), damaged)
            if nxt - cur < min_units:
                header('block %d is %d units, the smallest block is %d' % (cur, nxt - cur, min_units), cur)
            if blk.free and not damaged and prev_block is not None and prev_block.free \
                    and not prev_block.damaged:
                header('free block %d follows free block %d: they should have merged'
                       % (cur, prev_block.index), cur)
            blocks.append(blk)
            prev_block = blk
        nn, np_ = unpack(buf, off0 + unit * nxt)
        if np_ != cur:
            header('block %d: prev index %d, expected %d' % (nxt, np_, cur), nxt)
        cur, nraw = nxt, nn
    else:
        if nraw != 0:
            header('end marker %d has next 0x%x, expected 0' % (last, nraw), last)
    return blocks, problems, truncated


def first_bad_byte(buf, start, end, value):
    """Offset of the first byte in buf[start:end] that is not `value`, or None."""
    if end <= start:
        return None
    seg = buf[start:end]
    rest = seg.lstrip(bytes((value,)))
    if not rest:
        return None
    return start + len(seg) - len(rest)


def last_bad_byte(buf, start, end, value):
    """Offset of the last byte in buf[start:end] that is not `value`, or None."""
    if end <= start:
        return None
    seg = buf[start:end]
    rest = seg.rstrip(bytes((value,)))
    if not rest:
        return None
    return start + len(rest) - 1
