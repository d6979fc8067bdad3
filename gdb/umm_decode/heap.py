"""Decoder and checker of heapview heaps (lib/FORMAT.md, version 1).

Every byte comes from one bulk read of the control block and the block array
and is treated as hostile: offsets are checked before use and nothing is
written back.  The checks and their wording follow heapview's decoder
(cli/core/hv_decode.c), so `umm-walk --json` and `heapview --json` print the
same document for the same heap.
"""
import struct

from . import format_gen as F
from .errors import DecodeError
from .memory import Memory
from .model import Culprit, Heap
from .walk import (HEADER, TRUNCATED, UNREADABLE, MAX_PROBLEMS, Walker, add_problem,
                   count_not, owner_text, plural, set_culprit, sort_problems)

MAX_HEAP_BYTES = 512 << 20   # never pull more than this from a target at once

FLAG_NAMES = [
    (F.UMM_FLAG_METRICS, 'metrics'),
    (F.UMM_FLAG_POISON, 'poison'),
    (F.UMM_FLAG_OWNERS, 'owners'),
    (F.UMM_FLAG_FILL, 'fill'),
    (F.UMM_FLAG_BEST_FIT, 'best_fit'),
    (F.UMM_FLAG_INTEGRITY, 'integrity'),
]

FAULT_NAMES = {
    F.UMM_FAULT_HEADER: 'header',
    F.UMM_FAULT_FREELIST: 'freelist',
    F.UMM_FAULT_UNDERRUN: 'underrun',
    F.UMM_FAULT_OVERRUN: 'overrun',
    F.UMM_FAULT_USE_AFTER_FREE: 'use_after_free',
    F.UMM_FAULT_DOUBLE_FREE: 'double_free',
    F.UMM_FAULT_INTERIOR_FREE: 'interior_free',
    F.UMM_FAULT_FOREIGN_FREE: 'foreign_free',
    F.UMM_FAULT_WRONG_HEAP: 'wrong_heap',
    F.UMM_FAULT_CONTROL: 'control',
}

OP_NAMES = {
    F.UMM_OP_MALLOC: 'malloc',
    F.UMM_OP_FREE: 'free',
    F.UMM_OP_REALLOC: 'realloc',
    F.UMM_OP_CHECK: 'check',
    F.UMM_OP_MEMALIGN: 'memalign',
}

RECORD_FIELDS = [
    ('alloc_count', F.UMM_REC_ALLOC_COUNT), ('free_count', F.UMM_REC_FREE_COUNT),
    ('realloc_count', F.UMM_REC_REALLOC_COUNT), ('oom_count', F.UMM_REC_OOM_COUNT),
    ('bad_free_count', F.UMM_REC_BAD_FREE_COUNT),
    ('corruption_count', F.UMM_REC_CORRUPTION_COUNT), ('seq_next', F.UMM_REC_SEQ_NEXT),
    ('used_blocks', F.UMM_REC_USED_BLOCKS), ('free_blocks', F.UMM_REC_FREE_BLOCKS),
    ('used_units', F.UMM_REC_USED_UNITS), ('free_units', F.UMM_REC_FREE_UNITS),
    ('min_free_units', F.UMM_REC_MIN_FREE_UNITS),
    ('peak_used_units', F.UMM_REC_PEAK_USED_UNITS),
    ('requested_bytes', F.UMM_REC_REQUESTED_BYTES), ('check_cursor', F.UMM_REC_CHECK_CURSOR),
    ('fault_kind', F.UMM_REC_FAULT_KIND), ('fault_op', F.UMM_REC_FAULT_OP),
    ('fault_block', F.UMM_REC_FAULT_BLOCK), ('fault_expected', F.UMM_REC_FAULT_EXPECTED),
    ('fault_found', F.UMM_REC_FAULT_FOUND), ('fault_seq', F.UMM_REC_FAULT_SEQ),
]

LE_MAGIC = struct.pack('<I', F.UMM_FMT_MAGIC)
BE_MAGIC = struct.pack('>I', F.UMM_FMT_MAGIC)


def flag_names(flags):
    """Lowercase names of the known set bits (unknown bits are not named)."""
    return [name for bit, name in FLAG_NAMES if flags & bit]


def fault_name(kind):
    """A recorded fault kind's name; heapview's own kinds (32, 33) keep theirs."""
    if kind == 32:
        return UNREADABLE
    if kind == 33:
        return TRUNCATED
    return FAULT_NAMES.get(kind, 'unknown')


def int32(value):
    return value - (1 << 32) if value & 0x80000000 else value


def op_name(op):
    return OP_NAMES.get(op, 'unknown')


def size_class(units, sl_log2=F.UMM_FMT_SL_LOG2):
    """FORMAT.md section 4: the free list a block of `units` units belongs to."""
    if units < (1 << (sl_log2 + 1)):
        return units
    f = units.bit_length() - 1
    s = sl_log2
    return ((f - s) << s) + (units >> (f - s))


class Ctl:
    """The control block's fixed fields (section 2), as stored."""

    def __init__(self, address, endian, raw):
        self.address = address
        self.endian = endian
        (self.magic, self.version, self.index_bytes, self.unit_log2, self.ptr_bytes,
         self.flags, self.ctl_bytes, self.unit_count, self.region_bytes,
         self.class_count, self.sl_log2, self.bitmap_off, self.bins_off, self.instr_off,
         self.prefix_bytes, self.suffix_bytes, self.reserved) = \
            struct.unpack_from(endian + 'IBBBBHHIIBBHHHBBH', raw, 0)
        p = self.ptr_bytes
        addr_fmt = endian + ('I' if p == 4 else 'Q')
        self.self_addr = struct.unpack_from(addr_fmt, raw, F.UMM_CTL_SELF)[0]
        self.next_heap = struct.unpack_from(addr_fmt, raw, F.UMM_CTL_NEXT_HEAP(p))[0]
        self.region = struct.unpack_from(addr_fmt, raw, F.UMM_CTL_REGION(p))[0]


def read_ctl(mem, addr):
    """The control block at `addr`, or DecodeError when there is none there
    (no magic, another version, a bad ptr_bytes, or a self pointer that is
    not `addr`)."""
    if not isinstance(mem, Memory):
        mem = Memory(mem)
    try:
        fixed = mem.read(addr, F.UMM_CTL_FIXED_BYTES(4))
    except DecodeError as err:
        raise DecodeError('cannot read a control block at 0x%x: %s' % (addr, err)) from None
    if fixed[:4] == LE_MAGIC:
        endian = '<'
    elif fixed[:4] == BE_MAGIC:
        endian = '>'
    else:
        raise DecodeError('no heapview control block at 0x%x (magic 0x%08x)'
                          % (addr, struct.unpack_from('<I', fixed)[0]))
    version = fixed[F.UMM_CTL_VERSION]
    if version != F.UMM_FMT_VERSION:
        raise DecodeError('control block at 0x%x has format version %d, this tool reads %d'
                          % (addr, version, F.UMM_FMT_VERSION))
    p = fixed[F.UMM_CTL_PTR_BYTES]
    if p not in (4, 8):
        raise DecodeError('control block at 0x%x has ptr_bytes %d' % (addr, p))
    if p == 8:
        try:
            fixed = mem.read(addr, F.UMM_CTL_FIXED_BYTES(8))
        except DecodeError as err:
            raise DecodeError('cannot read a control block at 0x%x: %s' % (addr, err)) from None
    ctl = Ctl(addr, endian, fixed)
    if ctl.self_addr != addr:
        raise DecodeError('control block at 0x%x names itself 0x%x' % (addr, ctl.self_addr))
    return ctl


def check_control(h, ctl):
    """Section 2 and invariant 1.  Returns True when the heap is too damaged
    to walk (the problems say why)."""
    a = h.address
    p = ctl.ptr_bytes
    fixed = F.UMM_CTL_FIXED_BYTES(p)

    def control(off, message):
        add_problem(h, 'control', a + off, None, 'control block: ' + message)

    fatal = False
    if ctl.index_bytes not in (2, 4):
        control(F.UMM_CTL_INDEX_BYTES, 'index_bytes = %d, want 2 or 4' % ctl.index_bytes)
        fatal = True
        h.index_bytes = 2
    h.header_bytes = 2 * h.index_bytes
    h.free_flag = 0x8000 if h.index_bytes == 2 else 0x80000000
    if ctl.unit_log2 != F.UMM_FMT_UNIT_LOG2:
        control(F.UMM_CTL_UNIT_LOG2, 'unit_log2 = %d, want %d' % (ctl.unit_log2, F.UMM_FMT_UNIT_LOG2))
    if ctl.ctl_bytes < fixed:
        control(F.UMM_CTL_CTL_BYTES, 'ctl_bytes = %d is smaller than the control block (%d)'
                % (ctl.ctl_bytes, fixed))
        fatal = True
    max_units = F.UMM_FMT_NARROW_MAX_UNITS if h.index_bytes == 2 else F.UMM_FMT_WIDE_MAX_UNITS
    if not 3 <= ctl.unit_count <= max_units:
        control(F.UMM_CTL_UNIT_COUNT, 'unit_count = %d is outside 3..%d' % (ctl.unit_count, max_units))
        fatal = True
    if ctl.region > a or a - ctl.region >= 8 or \
            a - ctl.region + ctl.ctl_bytes + ctl.unit_count * 8 > ctl.region_bytes:
        control(F.UMM_CTL_REGION_BYTES, '%d units after %d bytes of control do not fit the %d-byte '
                'region at 0x%x' % (ctl.unit_count, ctl.ctl_bytes, ctl.region_bytes, ctl.region))
    if (a + ctl.ctl_bytes + h.header_bytes) % 8 != 0:
        control(F.UMM_CTL_CTL_BYTES, 'ctl_bytes = %d leaves block data areas unaligned' % ctl.ctl_bytes)
    h.sl_log2 = ctl.sl_log2
    if ctl.sl_log2 != F.UMM_FMT_SL_LOG2:
        control(F.UMM_CTL_SL_LOG2, 'sl_log2 = %d, want %d' % (ctl.sl_log2, F.UMM_FMT_SL_LOG2))
        h.sl_log2 = F.UMM_FMT_SL_LOG2
    if not fatal:
        want = size_class(ctl.unit_count - 2, h.sl_log2) + 1
        if ctl.class_count != want:
            control(F.UMM_CTL_CLASS_COUNT, 'class_count = %d, want %d for %d units'
                    % (ctl.class_count, want, ctl.unit_count))
    bitmap_len = 4 * (1 + (ctl.class_count + 31) // 32)
    if ctl.bitmap_off < fixed or ctl.bitmap_off + bitmap_len > ctl.ctl_bytes:
        control(F.UMM_CTL_BITMAP_OFF, 'bitmap at +%d (%d bytes) lies outside the control area (%d)'
                % (ctl.bitmap_off, bitmap_len, ctl.ctl_bytes))
    if ctl.bins_off < fixed or ctl.bins_off + ctl.class_count * h.index_bytes > ctl.ctl_bytes:
        control(F.UMM_CTL_BINS_OFF, 'bins at +%d lie outside the control area (%d)'
                % (ctl.bins_off, ctl.ctl_bytes))
    h.instr_off = ctl.instr_off
    if ctl.instr_off != 0 and (ctl.instr_off < fixed or ctl.instr_off + F.UMM_REC_BYTES(p) > ctl.ctl_bytes):
        control(F.UMM_CTL_INSTR_OFF, 'record at +%d lies outside the control area (%d)'
                % (ctl.instr_off, ctl.ctl_bytes))
        h.instr_off = 0
    wants_prefix = bool(ctl.flags & (F.UMM_FLAG_POISON | F.UMM_FLAG_OWNERS))
    if wants_prefix != (ctl.prefix_bytes != 0) or \
            (ctl.prefix_bytes != 0 and ctl.prefix_bytes != F.UMM_PFX_BYTES(p)) or \
            (ctl.prefix_bytes != 0 and ctl.suffix_bytes < F.UMM_SUFFIX_MIN):
        control(F.UMM_CTL_PREFIX_BYTES, 'prefix_bytes = %d, suffix_bytes = %d do not match flags 0x%x'
                % (ctl.prefix_bytes, ctl.suffix_bytes, ctl.flags))
        if ctl.prefix_bytes != 0 and ctl.prefix_bytes != F.UMM_PFX_BYTES(p):
            h.prefix_bytes = 0   # do not read user data as prefixes
    if ctl.reserved != 0:
        control(F.UMM_CTL_RESERVED, 'reserved = 0x%x, want 0' % ctl.reserved)
    return fatal


def read_readable(mem, addr, total):
    """The longest readable prefix of [addr, addr + total) (all of it in one
    read when possible), found by halving on failure."""
    try:
        return mem.read(addr, total)
    except DecodeError:
        pass
    lo, hi = 0, total          # lo bytes are known readable, hi are not
    best = b''
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            best = mem.read(addr, mid)
            lo = mid
        except DecodeError:
            hi = mid
    return best


def decode_heap(read, addr, name=None, symbolize=None):
    """Decodes the heapview heap whose control block is at `addr`.

    `read(addr, length) -> bytes` supplies target memory; `symbolize(owner)`
    (optional) names an owner value or returns None.  Problems found in the
    heap are in the result; DecodeError is raised only when there is no heap
    to decode at `addr`.
    """
    mem = read if isinstance(read, Memory) else Memory(read)
    ctl = read_ctl(mem, addr)
    h = Heap(name or 'heap@0x%x' % addr, 'heapview', addr, symbolize)
    h.ctl = ctl
    h.size = ctl.region_bytes
    h.region = ctl.region
    h.index_bytes = ctl.index_bytes
    h.ptr_bytes = ctl.ptr_bytes
    h.flag_bits = ctl.flags
    h.flags = flag_names(ctl.flags)
    h.unit_count = ctl.unit_count
    h.unit_bytes = F.UMM_FMT_UNIT_BYTES
    h.prefix_bytes = ctl.prefix_bytes
    h.suffix_bytes = ctl.suffix_bytes
    h.blocks_base = addr + ctl.ctl_bytes
    fatal = check_control(h, ctl)
    h.alloc_overhead = h.header_bytes + h.prefix_bytes + h.suffix_bytes
    if fatal:
        return h        # too damaged to walk: the control problems, in the order found
    total = ctl.ctl_bytes + ctl.unit_count * 8
    if total > MAX_HEAP_BYTES:
        raise DecodeError('the heap at 0x%x needs %d bytes, over the %d MiB read limit'
                          % (addr, total, MAX_HEAP_BYTES >> 20))
    buf = read_readable(mem, addr, total)     # one bulk read for the whole heap
    if not buf:
        raise DecodeError('cannot read the heap at 0x%x (%d bytes)' % (addr, total))
    if len(buf) < total:
        add_problem(h, UNREADABLE, addr + len(buf), None,
                    '%d bytes at 0x%x are not in the dump (the heap needs 0x%x+%d)'
                    % (total - len(buf), addr + len(buf), addr, total))
    h.buf = buf
    hdr = struct.Struct(ctl.endian + ('HH' if h.index_bytes == 2 else 'II'))
    if h.prefix_bytes:
        h.detail = lambda b: read_prefix(h, buf, b)
    Walker(h, buf, ctl.ctl_bytes, hdr).walk(1 if h.index_bytes == 2 else 2)
    if h.prefix_bytes:
        requested = 0
        for b in h.blocks:
            if not b.free:
                requested += b.requested or 0
                check_used_block(h, buf, b)
        h.requested_bytes = requested
    if ctl.flags & F.UMM_FLAG_FILL:
        for b in h.blocks:
            if b.free:
                check_free_fill(h, buf, b)
    check_free_lists(h, buf, ctl)
    read_record(h, buf, ctl)
    if h.record is not None:
        if h.walk_complete and not h.gaps:
            compare_record(h)
        record_fault(h)
    finish(h)
    return h


def finish(h):
    if h.problems_truncated:
        add_problem(h, TRUNCATED, h.address, None,
                    'more than %d problems; the rest are not listed' % MAX_PROBLEMS)
    sort_problems(h)


def mem_ok(buf, off, length):
    return off + length <= len(buf)


def read_prefix(h, buf, b):
    """Section 5 (hv_block_detail): the user pointer, requested size, and with
    OWNERS the sequence number and owner."""
    d = h.ctl.ctl_bytes + b.index * h.unit_bytes + h.header_bytes
    b.user = b.address + h.header_bytes + h.prefix_bytes
    p = h.ptr_bytes
    if not mem_ok(buf, d, 8 + p):
        return
    e = h.ctl.endian
    b.requested = struct.unpack_from(e + 'I', buf, d + F.UMM_PFX_REQUESTED)[0]
    if h.flag_bits & F.UMM_FLAG_OWNERS:
        b.seq = struct.unpack_from(e + 'I', buf, d + F.UMM_PFX_SEQ)[0]
        b.owner = struct.unpack_from(e + ('I' if p == 4 else 'Q'), buf, d + F.UMM_PFX_OWNER)[0]


def check_used_block(h, buf, b):
    start = h.ctl.ctl_bytes + b.index * 8
    end = start + b.units * 8
    d = start + h.header_bytes
    p = h.ptr_bytes
    if end <= d or not mem_ok(buf, d, end - d):
        return
    owner = owner_text(h, b.owner is not None, b.owner)
    requested = b.requested or 0
    capacity = end - d
    if capacity < h.prefix_bytes + h.suffix_bytes:
        add_problem(h, HEADER, h.address + start, b.index,
                    'used block %d is too small to hold a prefix' % b.index)
        return
    capacity -= h.prefix_bytes + h.suffix_bytes
    bad, first, _ = count_not(buf, d + 8 + p, h.prefix_bytes - 8 - p, F.UMM_CANARY_BYTE)
    if bad:
        reach = d + h.prefix_bytes - first
        pr = add_problem(h, 'underrun', h.address + first, b.index,
                         '%s changed, up to %s before the %d-byte region allocated by %s'
                         % (plural(bad), plural(reach), requested, owner))
        set_culprit(h, pr, b)
    if requested > capacity:
        pr = add_problem(h, 'underrun', h.address + d, b.index,
                         "block %d: requested size %d exceeds the block's capacity %d (prefix damaged)"
                         % (b.index, requested, capacity))
        set_culprit(h, pr, b)
        return
    post = d + h.prefix_bytes + requested
    bad, first, last = count_not(buf, post, end - post, F.UMM_CANARY_BYTE)
    if bad:
        pr = add_problem(h, 'overrun', h.address + first, b.index,
                         '%s after the %d-byte region allocated by %s'
                         % (plural(last - post + 1), requested, owner))
        set_culprit(h, pr, b)


def check_free_fill(h, buf, b):
    start = h.ctl.ctl_bytes + b.index * 8
    end = start + b.units * 8
    fill = start + 2 * h.header_bytes     # header, then the two links
    if end <= fill or not mem_ok(buf, fill, end - fill):
        return
    bad, first, _ = count_not(buf, fill, end - fill, F.UMM_FREE_FILL_BYTE)
    if bad:
        add_problem(h, 'use_after_free', h.address + first, b.index,
                    '%s of free block %d (%d bytes) changed after it was freed, first at +%d'
                    % (plural(bad), b.index, b.units * 8, first - start))


def check_free_lists(h, buf, ctl):
    """Section 4 and invariant 6: every free block once on the list of its
    class, lists doubly linked, the bitmap and its summary matching the bins."""
    n = h.unit_count
    ib = h.index_bytes
    classes = ctl.class_count
    e = ctl.endian
    idx = e + ('H' if ib == 2 else 'I')
    if ctl.bins_off + classes * ib > ctl.ctl_bytes or not mem_ok(buf, ctl.bins_off, classes * ib):
        return
    by_index = {}
    free_blocks = 0
    for i, b in enumerate(h.blocks):
        by_index[b.index] = i
        if b.free:
            free_blocks += 1
    on_list = set()
    members = 0

    def rd(off):
        return struct.unpack_from(idx, buf, off)[0]

    def used_before(index):
        i = by_index.get(index)
        if i is None or i == 0:
            return None
        before = h.blocks[i - 1]
        return before if not before.free else None

    for c in range(classes):
        m = rd(ctl.bins_off + c * ib)
        prev = 0
        link_addr = h.address + ctl.bins_off + c * ib
        steps = 0
        while m != 0:
            i = by_index.get(m)
            if steps > n or m >= n or i is None or not h.blocks[i].free:
                pr = add_problem(h, 'freelist', link_addr, prev if prev else None,
                                 'free list %d: %s links to unit %d, which is not a free block'
                                 % (c, 'a block' if prev else 'the bin', m))
                if prev:
                    set_culprit(h, pr, used_before(prev))
                break
            if m in on_list:
                add_problem(h, 'freelist', link_addr, m,
                            'free list %d: block %d is listed twice (a cycle or a shared link)' % (c, m))
                break
            on_list.add(m)
            members += 1
            d = ctl.ctl_bytes + m * 8 + h.header_bytes
            blk = h.blocks[i]
            want = size_class(blk.units, h.sl_log2)
            if want != c:
                add_problem(h, 'freelist', h.blocks_base + m * 8, m,
                            'free block %d (%d units) is in list %d, belongs in %d' % (m, blk.units, c, want))
            if not mem_ok(buf, d, 2 * ib):
                break
            back = rd(d + ib)
            if back != prev:
                pr = add_problem(h, 'freelist', h.address + d + ib, m,
                                 'free list %d: block %d has prev_free = %d, want %d' % (c, m, back, prev))
                set_culprit(h, pr, used_before(m))
            prev = m
            link_addr = h.address + d
            m = rd(d)
            steps += 1
    if members != free_blocks:
        for i, b in enumerate(h.blocks):
            if b.free and b.index not in on_list:
                pr = add_problem(h, 'freelist', b.address, b.index,
                                 'free block %d (%d units) is on no free list' % (b.index, b.units))
                if i > 0 and not h.blocks[i - 1].free:
                    set_culprit(h, pr, h.blocks[i - 1])
    # Bitmap: one summary word, then a bit per class.
    words = (classes + 31) // 32
    if ctl.bitmap_off + 4 * (1 + words) <= ctl.ctl_bytes and mem_ok(buf, ctl.bitmap_off, 4 * (1 + words)):
        u32 = e + 'I'
        summary = struct.unpack_from(u32, buf, ctl.bitmap_off)[0]
        want_summary = 0
        for w in range(words):
            word = struct.unpack_from(u32, buf, ctl.bitmap_off + 4 * (1 + w))[0]
            want = 0
            for bit in range(min(32, classes - w * 32)):
                if rd(ctl.bins_off + (w * 32 + bit) * ib) != 0:
                    want |= 1 << bit
            if word != want:
                add_problem(h, 'freelist', h.address + ctl.bitmap_off + 4 * (1 + w), None,
                            'bitmap word %d is 0x%08x, the bins say 0x%08x' % (w, word, want))
            if word:
                want_summary |= 1 << (w & 31)
        if summary != want_summary:
            add_problem(h, 'freelist', h.address + ctl.bitmap_off, None,
                        'bitmap summary is 0x%08x, the words say 0x%08x' % (summary, want_summary))


def read_record(h, buf, ctl):
    r = h.instr_off
    p = ctl.ptr_bytes
    if r == 0 or not mem_ok(buf, r, F.UMM_REC_BYTES(p)):
        return
    e = ctl.endian
    rec = {}
    for field, off in RECORD_FIELDS:
        rec[field] = struct.unpack_from(e + 'I', buf, r + off)[0]
    rec['free_sq_sum'] = struct.unpack_from(e + 'Q', buf, r + F.UMM_REC_FREE_SQ_SUM)[0]
    addr_fmt = e + ('I' if p == 4 else 'Q')
    rec['fault_address'] = struct.unpack_from(addr_fmt, buf, r + F.UMM_REC_FAULT_ADDRESS)[0]
    rec['fault_owner'] = struct.unpack_from(addr_fmt, buf, r + F.UMM_REC_FAULT_OWNER(p))[0]
    h.record = rec
    if rec['fault_kind']:
        h.last_fault = {
            'kind': fault_name(rec['fault_kind']),
            'op': op_name(rec['fault_op']),
            'block': rec['fault_block'],
            'address': rec['fault_address'],
            'expected': rec['fault_expected'],
            'found': rec['fault_found'],
            'seq': rec['fault_seq'],
            'owner': rec['fault_owner'],
        }


def compare_record(h):
    """Invariant 7: the record's block and unit counters equal the walk's."""
    rec = h.record
    m = h.metrics()
    at = h.address + h.instr_off
    rows = [
        ('used_blocks', m['used_entries'], F.UMM_REC_USED_BLOCKS),
        ('free_blocks', m['free_entries'], F.UMM_REC_FREE_BLOCKS),
        ('used_units', m['used_units'], F.UMM_REC_USED_UNITS),
        ('free_units', m['free_units'], F.UMM_REC_FREE_UNITS),
        ('free_sq_sum', m['free_sq_units'], F.UMM_REC_FREE_SQ_SUM),
    ]
    if h.requested_bytes is not None:
        rows.append(('requested_bytes', h.requested_bytes & 0xFFFFFFFF, F.UMM_REC_REQUESTED_BYTES))
    for field, walked, off in rows:
        if rec[field] != walked:
            add_problem(h, 'control', at + off, None,
                        'instrumentation record says %s = %d, the blocks say %d' % (field, rec[field], walked))


def record_fault(h):
    """The allocator's last recorded fault becomes a problem unless the bytes
    already show it (same kind, same block)."""
    rec = h.record
    kind = rec['fault_kind']
    if kind == F.UMM_FAULT_NONE:
        return
    name = fault_name(kind)
    for p in h.problems:
        if p.kind == name and p.block is not None and p.block == rec['fault_block']:
            return
    owner = owner_text(h, True, rec['fault_owner']) if rec['fault_owner'] else ''
    values = ''
    if rec['fault_expected'] or rec['fault_found']:
        values = ' (expected 0x%x, found 0x%x)' % (rec['fault_expected'], rec['fault_found'])
    pr = add_problem(h, name, rec['fault_address'], rec['fault_block'] or None,
                     'the allocator recorded a %s fault during %s at 0x%x%s%s%s'
                     % (name, op_name(rec['fault_op']), rec['fault_address'], values,
                        '; allocation by ' if owner else '', owner))
    if pr is not None:
        pr.rank = int32(kind)
    if pr is not None and (rec['fault_owner'] or rec['fault_seq']):
        fb = rec['fault_block']
        pr.culprit = Culprit(fb, h.blocks_base + fb * h.unit_bytes if fb else 0,
                             rec['fault_owner'] or None, rec['fault_seq'] or None,
                             h.name_owner(rec['fault_owner']) if rec['fault_owner'] else None)
