"""Decoder of heapview heaps (lib/FORMAT.md, version 1).

Every byte comes from one bulk read of the control block and the block array
and is treated as hostile: offsets are checked before use, the walk follows
strictly increasing indices (so it ends within unit_count steps) and every
free-list walk is bounded and carries a visited set.
"""
import struct

from . import format_gen as F
from .errors import DecodeError
from .memory import Memory
from .model import Block, Culprit, Heap, Problem
from .walk import walk_blocks, first_bad_byte, last_bad_byte

MAX_HEAP_BYTES = 256 << 20   # refuse to pull more than this from a target

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


MAX_PROBLEMS = 1000   # per heap; past it one `truncated` problem says how many more


def flag_names(flags):
    """Lowercase names of the set bits, unknown bits as bitN (as heapview does)."""
    known = dict(FLAG_NAMES)
    return [known.get(1 << bit, 'bit%d' % bit) for bit in range(16) if flags & (1 << bit)]


def size_class(units):
    """FORMAT.md section 4: the free list a block of `units` units belongs to."""
    if units < F.UMM_FMT_LINEAR_CLASSES:
        return units
    f = units.bit_length() - 1
    s = F.UMM_FMT_SL_LOG2
    return ((f - s) << s) + (units >> (f - s))


class Ctl:
    """The control block's fields (section 2), decoded but not yet trusted beyond layout."""

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

    @property
    def heap_bytes(self):
        """Bytes from the control block to the end of the block array."""
        return self.ctl_bytes + self.unit_count * F.UMM_FMT_UNIT_BYTES


def ctl_endian(head):
    if head[:4] == LE_MAGIC:
        return '<'
    if head[:4] == BE_MAGIC:
        return '>'
    return None


def read_ctl(mem, addr):
    """Reads and validates the control block at `addr`; raises DecodeError when
    the heap cannot be decoded at all (bad magic, version, self, layout)."""
    if not isinstance(mem, Memory):
        mem = Memory(mem)
    if addr % 8:
        raise DecodeError('control block address 0x%x is not 8-aligned' % addr)
    head = mem.read(addr, 8)
    endian = ctl_endian(head)
    if endian is None:
        raise DecodeError('no heap magic (found %s)' % head[:4].hex(' '))
    p = head[F.UMM_CTL_PTR_BYTES]
    if p not in (4, 8):
        raise DecodeError('ptr_bytes is %d, expected 4 or 8' % p)
    ctl = Ctl(addr, endian, mem.read(addr, F.UMM_CTL_FIXED_BYTES(p)))
    if ctl.version != F.UMM_FMT_VERSION:
        raise DecodeError('format version %d, this decoder reads %d' % (ctl.version, F.UMM_FMT_VERSION))
    if ctl.unit_log2 != F.UMM_FMT_UNIT_LOG2:
        raise DecodeError('unit_log2 is %d, expected %d' % (ctl.unit_log2, F.UMM_FMT_UNIT_LOG2))
    if ctl.index_bytes not in (2, 4):
        raise DecodeError('index_bytes is %d, expected 2 or 4' % ctl.index_bytes)
    if ctl.self_addr != addr:
        raise DecodeError('self pointer is 0x%x, not the control block address' % ctl.self_addr)
    max_units = F.UMM_FMT_NARROW_MAX_UNITS if ctl.index_bytes == 2 else F.UMM_FMT_WIDE_MAX_UNITS
    if not 3 <= ctl.unit_count <= max_units:
        raise DecodeError('unit_count %d is outside 3..%d' % (ctl.unit_count, max_units))
    fixed = F.UMM_CTL_FIXED_BYTES(p)
    if ctl.ctl_bytes < fixed:
        raise DecodeError('ctl_bytes %d is smaller than the control block (%d)' % (ctl.ctl_bytes, fixed))
    lead = addr - ctl.region
    if not 0 <= lead < 8:
        raise DecodeError('region 0x%x does not start just before the control block' % ctl.region)
    if lead + ctl.heap_bytes > ctl.region_bytes:
        raise DecodeError('%d units need %d bytes, region has %d'
                          % (ctl.unit_count, lead + ctl.heap_bytes, ctl.region_bytes))
    if ctl.heap_bytes > MAX_HEAP_BYTES:
        raise DecodeError('heap of %d bytes is over the %d MiB read limit'
                          % (ctl.heap_bytes, MAX_HEAP_BYTES >> 20))
    return ctl


def decode_heap(read, addr, name=None, symbolize=None):
    """Decodes the heapview heap whose control block is at `addr`.

    `read(addr, length) -> bytes` supplies target memory; `symbolize(owner)`
    (optional) names an owner address or returns None.  Problems found in
    the heap are in the result; DecodeError is raised only when nothing can
    be decoded.
    """
    mem = read if isinstance(read, Memory) else Memory(read)
    ctl = read_ctl(mem, addr)
    buf = mem.read(addr, ctl.heap_bytes)   # one bulk read for the whole heap
    heap = Heap(name or '0x%x' % addr, 'heapview', addr)
    e = ctl.endian
    ib = ctl.index_bytes
    heap.ctl = ctl
    heap.size = ctl.region_bytes
    heap.region = ctl.region
    heap.index_bytes = ib
    heap.ptr_bytes = ctl.ptr_bytes
    heap.flag_bits = ctl.flags
    heap.flags = flag_names(ctl.flags)
    heap.unit_count = ctl.unit_count
    heap.unit_bytes = F.UMM_FMT_UNIT_BYTES
    heap.blocks_base = addr + ctl.ctl_bytes
    heap.header_bytes = 2 * ib
    heap.prefix_bytes = ctl.prefix_bytes
    heap.suffix_bytes = ctl.suffix_bytes
    problems = heap.problems

    def control(message):
        problems.append(Problem('control', addr, None, message))

    # ---- section 2 / invariant 1: layout of the control area ----------
    fixed = F.UMM_CTL_FIXED_BYTES(ctl.ptr_bytes)
    want_mod = 4 if ib == 2 else 0
    if heap.blocks_base % 8 != want_mod:
        control('block array at 0x%x leaves data areas unaligned' % heap.blocks_base)
    if ctl.sl_log2 != F.UMM_FMT_SL_LOG2:
        control('sl_log2 is %d, expected %d' % (ctl.sl_log2, F.UMM_FMT_SL_LOG2))
    want_classes = size_class(ctl.unit_count - 2) + 1
    if ctl.class_count != want_classes:
        control('class_count is %d, expected %d for %d units'
                % (ctl.class_count, want_classes, ctl.unit_count))
    bitmap_words = 1 + (ctl.class_count + 31) // 32
    lists_ok = ctl.class_count > 0
    if not (fixed <= ctl.bitmap_off and ctl.bitmap_off + 4 * bitmap_words <= ctl.ctl_bytes):
        control('bitmap at offset %d does not fit the control area' % ctl.bitmap_off)
        lists_ok = False
    if not (fixed <= ctl.bins_off and ctl.bins_off + ib * ctl.class_count <= ctl.ctl_bytes):
        control('free-list heads at offset %d do not fit the control area' % ctl.bins_off)
        lists_ok = False
    rec_bytes = F.UMM_REC_BYTES(ctl.ptr_bytes)
    record_ok = ctl.instr_off != 0
    if record_ok and not (fixed <= ctl.instr_off and ctl.instr_off + rec_bytes <= ctl.ctl_bytes):
        control('instrumentation record at offset %d does not fit the control area' % ctl.instr_off)
        record_ok = False
    has_prefix = bool(ctl.flags & (F.UMM_FLAG_POISON | F.UMM_FLAG_OWNERS))
    if has_prefix != (ctl.prefix_bytes != 0):
        control('prefix_bytes is %d with flags 0x%x' % (ctl.prefix_bytes, ctl.flags))
    if ctl.prefix_bytes and ctl.prefix_bytes != F.UMM_PFX_BYTES(ctl.ptr_bytes):
        control('prefix_bytes is %d, expected %d' % (ctl.prefix_bytes, F.UMM_PFX_BYTES(ctl.ptr_bytes)))
        heap.prefix_bytes = 0   # cannot locate the user data: do not decode prefixes
    if ctl.prefix_bytes and ctl.suffix_bytes < F.UMM_SUFFIX_MIN:
        control('suffix_bytes is %d, expected at least %d' % (ctl.suffix_bytes, F.UMM_SUFFIX_MIN))

    # ---- blocks (sections 3, invariants 2-5) --------------------------
    hdr = struct.Struct(e + ('HH' if ib == 2 else 'II'))
    free_flag = 1 << (8 * ib - 1)
    heap.blocks, walk_problems, heap.truncated = walk_blocks(
        buf, ctl.ctl_bytes, F.UMM_FMT_UNIT_BYTES, ctl.unit_count, hdr, free_flag,
        heap.blocks_base, 1 if ib == 2 else 2)
    problems.extend(walk_problems)

    # ---- instrumentation record ---------------------------------------
    if record_ok:
        read_record(heap, buf, ctl)

    # ---- used-block prefixes, canaries, fill ---------------------------
    check_contents(heap, buf, ctl)

    # ---- free lists and bitmap (section 4, invariant 6) ---------------
    if lists_ok:
        check_free_lists(heap, buf, ctl, hdr, free_flag)

    # ---- record against the walk (invariant 7) ------------------------
    if record_ok and heap.record is not None and not heap.truncated \
            and ctl.flags & F.UMM_FLAG_METRICS:
        check_record(heap)

    name_owners(heap, symbolize)
    attach_culprits(heap)
    cap_problems(heap)
    return heap


def cap_problems(heap):
    extra = len(heap.problems) - MAX_PROBLEMS
    if extra > 0:
        del heap.problems[MAX_PROBLEMS:]
        heap.problems.append(Problem('truncated', heap.address, None,
                                     '%d more problems not listed' % extra))


def read_record(heap, buf, ctl):
    e = ctl.endian
    base = ctl.instr_off
    rec = {}
    for field, off in RECORD_FIELDS:
        rec[field] = struct.unpack_from(e + 'I', buf, base + off)[0]
    rec['free_sq_sum'] = struct.unpack_from(e + 'Q', buf, base + F.UMM_REC_FREE_SQ_SUM)[0]
    addr_fmt = e + ('I' if ctl.ptr_bytes == 4 else 'Q')
    rec['fault_address'] = struct.unpack_from(addr_fmt, buf, base + F.UMM_REC_FAULT_ADDRESS)[0]
    rec['fault_owner'] = struct.unpack_from(addr_fmt, buf, base + F.UMM_REC_FAULT_OWNER(ctl.ptr_bytes))[0]
    heap.record = rec
    if rec['fault_kind']:
        heap.last_fault = {
            'kind': FAULT_NAMES.get(rec['fault_kind'], 'unknown'),
            'op': OP_NAMES.get(rec['fault_op'], 'unknown'),
            'block': rec['fault_block'],
            'address': rec['fault_address'],
            'expected': rec['fault_expected'],
            'found': rec['fault_found'],
            'seq': rec['fault_seq'],
            'owner': rec['fault_owner'],
        }


def check_contents(heap, buf, ctl):
    """Prefixes and canaries of used blocks, fill of free blocks (sections 3, 5)."""
    e = ctl.endian
    off0 = ctl.ctl_bytes
    base = heap.blocks_base
    hb = heap.header_bytes
    pfx = heap.prefix_bytes
    p = ctl.ptr_bytes
    fill = bool(ctl.flags & F.UMM_FLAG_FILL)
    pfx_fmt = struct.Struct(e + 'II' + ('I' if p == 4 else 'Q'))
    canary = F.UMM_CANARY_BYTE
    dd = F.UMM_FREE_FILL_BYTE
    requested_total = 0
    for b in heap.blocks:
        start = off0 + (b.address - base)   # offset of the block in buf
        end = start + b.size
        data = start + hb
        if b.free:
            if fill and not b.damaged:
                links = data + 2 * heap.index_bytes
                bad = first_bad_byte(buf, links, end, dd)
                if bad is not None:
                    heap.problems.append(Problem(
                        'use_after_free', base + bad - off0, b.index,
                        '%d-byte free block %d was written after free: byte 0x%02x at offset %d, expected 0x%02x'
                        % (b.size, b.index, buf[bad], bad - start, dd)))
            continue
        if not pfx:
            b.user = base + data - off0
            continue
        b.user = base + data + pfx - off0
        if data + pfx > end:
            heap.problems.append(Problem('header', b.address, b.index,
                                         'used block %d of %d bytes cannot hold its %d-byte prefix'
                                         % (b.index, b.size, pfx)))
            continue
        requested, seq, owner = pfx_fmt.unpack_from(buf, data)
        b.requested, b.seq, b.owner = requested, seq, owner
        capacity = b.size - hb - pfx - ctl.suffix_bytes
        bad = first_bad_byte(buf, data + 8 + p, data + pfx, canary)
        if bad is not None:
            # Reported by extent: how far before the user bytes the writes reached.
            heap.problems.append(Problem(
                'underrun', base + bad - off0, b.index,
                '%s before the %d-byte region {who}' % (nbytes(data + pfx - bad), requested)))
        if requested > capacity:
            heap.problems.append(Problem('header', b.address, b.index,
                                         'block %d records %d requested bytes, it holds at most %d'
                                         % (b.index, requested, max(capacity, 0))))
            continue
        requested_total += requested
        bad = first_bad_byte(buf, data + pfx + requested, end, canary)
        if bad is not None:
            # The address is the first damaged byte; the message gives the
            # extent: how far past the user bytes the writes reached.
            last = last_bad_byte(buf, data + pfx + requested, end, canary)
            heap.problems.append(Problem(
                'overrun', base + bad - off0, b.index,
                '%s after the %d-byte region {who}'
                % (nbytes(last + 1 - (data + pfx + requested)), requested)))
    if pfx:
        heap.requested_bytes = requested_total
    elif heap.record is not None and ctl.flags & F.UMM_FLAG_METRICS:
        heap.requested_bytes = heap.record['requested_bytes']


def check_free_lists(heap, buf, ctl, hdr, free_flag):
    e = ctl.endian
    ib = ctl.index_bytes
    n = ctl.unit_count
    off0 = ctl.ctl_bytes
    C = ctl.class_count
    idx_fmt = e + ('H' if ib == 2 else 'I')
    link = struct.Struct(e + ('HH' if ib == 2 else 'II'))
    bins = struct.unpack_from(e + ('H' if ib == 2 else 'I') * C, buf, ctl.bins_off)
    by_index = {b.index: b for b in heap.blocks}
    seen = {}
    problems = heap.problems

    def freelist(at_index, message):
        problems.append(Problem('freelist', heap.blocks_base + 8 * at_index if at_index else heap.address,
                                at_index if at_index else None, message))

    for c in range(C):
        cur = bins[c]
        prev = 0
        steps = 0
        while cur:
            steps += 1
            if steps > n:
                freelist(cur, 'free list %d does not end within %d steps' % (c, n))
                break
            blk = by_index.get(cur)
            if blk is None:
                freelist(prev, 'free list %d links to %d, which is not a block' % (c, cur))
                break
            if not blk.free:
                freelist(cur, 'free list %d holds used block %d' % (c, cur))
            if cur in seen:
                freelist(cur, 'block %d is on free list %d again' % (cur, c))
                break
            seen[cur] = c
            units = blk.size // 8
            if blk.free and size_class(units) != c:
                freelist(cur, 'block %d of %d units is on free list %d, belongs on %d'
                         % (cur, units, c, size_class(units)))
            nf, pf = link.unpack_from(buf, off0 + 8 * cur + 2 * ib)
            if pf != prev:
                freelist(cur, 'block %d has prev_free %d, expected %d' % (cur, pf, prev))
            prev = cur
            cur = nf
    for b in heap.blocks:
        if b.free and b.index not in seen:
            freelist(b.index, 'free block %d is on no free list' % b.index)

    # Bitmap: one summary word, then ceil(C/32) words (section 4).
    words = (C + 31) // 32
    bitmap = struct.unpack_from(e + 'I' * (1 + words), buf, ctl.bitmap_off)
    summary, level = bitmap[0], bitmap[1:]
    for c in range(C):
        bit = (level[c // 32] >> (c % 32)) & 1
        if bit != (1 if bins[c] else 0):
            problems.append(Problem('freelist', heap.address + ctl.bitmap_off, None,
                                    'bitmap bit %d is %d but free list %d is %s'
                                    % (c, bit, c, 'non-empty' if bins[c] else 'empty')))
    for w in range(words):
        bit = (summary >> w) & 1
        if bit != (1 if level[w] else 0):
            problems.append(Problem('freelist', heap.address + ctl.bitmap_off, None,
                                    'bitmap summary bit %d is %d but word %d is 0x%08x'
                                    % (w, bit, w, level[w])))


def check_record(heap):
    rec = heap.record
    used = [b for b in heap.blocks if not b.free]
    free = [b for b in heap.blocks if b.free]
    walk = {
        'used_blocks': len(used),
        'free_blocks': len(free),
        'used_units': sum(b.size for b in used) // 8,
        'free_units': sum(b.size for b in free) // 8,
        'free_sq_sum': sum((b.size // 8) ** 2 for b in free),
    }
    if heap.prefix_bytes:
        walk['requested_bytes'] = sum(b.requested or 0 for b in used) & 0xFFFFFFFF
    for field, value in walk.items():
        recorded = rec[field]
        if field != 'free_sq_sum':
            value &= 0xFFFFFFFF
        if recorded != value:
            heap.problems.append(Problem('control', heap.address + heap.ctl.instr_off, None,
                                         'record says %s is %d, the walk finds %d' % (field, recorded, value)))


def name_owners(heap, symbolize):
    if symbolize is None:
        return
    names = heap.owner_names
    for b in heap.blocks:
        if b.owner and b.owner not in names:
            try:
                names[b.owner] = symbolize(b.owner)
            except Exception:   # a symboliser must not break decoding
                names[b.owner] = None


def owner_label(heap, block):
    if block.owner:
        return heap.owner_names.get(block.owner) or '0x%x' % block.owner
    return None


def attach_culprits(heap):
    """Names the allocation behind each problem: for an overrun, the block whose
    user bytes precede the damage; for a damaged header, the used block just
    before it (its overrun is the likely cause)."""
    by_index = {}
    order = {}
    for i, b in enumerate(heap.blocks):
        by_index[b.index] = b
        order[b.index] = i
    for prob in heap.problems:
        if prob.block is None:
            continue
        culprit = None
        blk = by_index.get(prob.block)
        if prob.kind == 'overrun' and blk is not None:
            culprit = blk
        elif prob.kind in ('header', 'use_after_free') and blk is not None:
            i = order[blk.index]
            before = heap.blocks[i - 1] if i > 0 else None
            damage_at_start = prob.kind == 'header' or prob.address < blk.address + heap.header_bytes \
                + 2 * heap.index_bytes + 8
            if before is not None and not before.free and damage_at_start:
                culprit = before
        elif prob.kind == 'freelist' and blk is not None and blk.free:
            i = order[blk.index]
            before = heap.blocks[i - 1] if i > 0 else None
            if before is not None and not before.free:
                culprit = before
        if prob.kind == 'underrun' and blk is not None:
            prob.message = prob.message.replace('{who}', who_allocated(heap, blk))
        if culprit is None:
            continue
        prob.culprit = Culprit(culprit, heap.owner_name(culprit.owner))
        if prob.kind == 'overrun':
            prob.message = prob.message.replace('{who}', who_allocated(heap, culprit))
        else:
            prob.message += '; the %d-byte block %d just before it was %s' % (
                culprit.size, culprit.index, who_allocated(heap, culprit))


def nbytes(n):
    return '1 byte' if n == 1 else '%d bytes' % n


def who_allocated(heap, block):
    label = owner_label(heap, block)
    if label:
        return 'allocated by %s' % label
    return 'at 0x%x' % (block.user if block.user is not None else block.address)
