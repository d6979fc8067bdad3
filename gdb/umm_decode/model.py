"""The block model every decoder produces and every renderer reads."""
import bisect
import math


class Block:
    """One block between the sentinels.  `size` is bytes, header included;
    requested/seq/owner are None when the heap does not record them."""
    __slots__ = ('index', 'units', 'free', 'address', 'size', 'user',
                 'requested', 'seq', 'owner')

    def __init__(self, heap, index, units, free):
        self.index = index
        self.units = units
        self.free = free
        self.address = heap.blocks_base + index * heap.unit_bytes
        self.size = units * heap.unit_bytes
        self.user = None if free else self.address + heap.header_bytes
        self.requested = None
        self.seq = None
        self.owner = None

    @property
    def state(self):
        return 'free' if self.free else 'used'

    @property
    def end(self):
        return self.address + self.size


class Culprit:
    """The allocation a problem is most likely caused by."""
    __slots__ = ('block', 'address', 'owner', 'seq', 'owner_name')

    def __init__(self, block, address, owner, seq, owner_name):
        self.block = block
        self.address = address
        self.owner = owner            # None when not recorded
        self.seq = seq                # None when not recorded
        self.owner_name = owner_name  # None without symbols


class Problem:
    """A broken invariant: kind is a FORMAT.md fault name, `unreadable` or `truncated`."""
    __slots__ = ('kind', 'address', 'block', 'message', 'culprit', 'rank')

    def __init__(self, kind, address, block, message, culprit=None):
        self.rank = 0        # the fault number, for kinds without a name
        self.kind = kind
        self.address = address
        self.block = block
        self.message = message
        self.culprit = culprit

    def __repr__(self):
        return 'Problem(%s, 0x%x, %r, %r)' % (self.kind, self.address or 0, self.block, self.message)


class Heap:
    """A decoded heap.  Counts and sizes follow FORMAT.md section 9."""

    def __init__(self, name, fmt, address, symbolize=None):
        self.name = name
        self.format = fmt            # 'heapview' or 'upstream'
        self.address = address       # control block (upstream: first block)
        self.size = 0                # region_bytes / heap_size
        self.region = None
        self.index_bytes = 2
        self.ptr_bytes = None
        self.flags = []              # lowercase names of the known set flag bits
        self.flag_bits = 0
        self.unit_count = 0
        self.unit_bytes = 8
        self.blocks_base = address   # address of unit 0
        self.header_bytes = 4
        self.free_flag = 0x8000
        self.prefix_bytes = 0
        self.suffix_bytes = 0
        self.alloc_overhead = 4      # header + prefix + least suffix of an allocation
        self.blocks = []
        self.gaps = []               # (first unit, units, kind) the walk could not decode
        self.problems = []
        self.problems_truncated = False
        self.walk_complete = False
        self.units_readable = 0
        self.record = None           # dict of the instrumentation record, when present
        self.last_fault = None       # dict, when the record names a fault
        self.requested_bytes = None  # sum over live allocations, when recorded
        self.ctl = None
        self.detail = None           # fills a used block's recorded fields as the walk finds it
        self._symbolize = symbolize
        self.owner_names = {}        # owner address -> name (or None)

    def name_owner(self, owner):
        """The symboliser's name for an owner value, cached; None without one."""
        if not owner or self._symbolize is None:
            return None
        if owner not in self.owner_names:
            try:
                self.owner_names[owner] = self._symbolize(owner)
            except Exception:   # a symboliser must never break decoding
                self.owner_names[owner] = None
        return self.owner_names[owner]

    def owner_name(self, owner):
        return self.name_owner(owner)

    # ---- metrics (section 9, as heapview computes them) -------------------
    def metrics(self):
        used_entries = free_entries = used_units = free_units = sq = largest = 0
        for b in self.blocks:
            if b.free:
                free_entries += 1
                free_units += b.units
                sq += b.units * b.units
                if b.units > largest:
                    largest = b.units
            else:
                used_entries += 1
                used_units += b.units
        largest_free = largest * self.unit_bytes
        return {
            'used_entries': used_entries,
            'free_entries': free_entries,
            'used_bytes': used_units * self.unit_bytes,
            'free_bytes': free_units * self.unit_bytes,
            'used_units': used_units,
            'free_units': free_units,
            'free_sq_units': sq,
            'largest_free': largest_free,
            'largest_alloc': largest_free - self.alloc_overhead if largest_free > self.alloc_overhead else 0,
            'fragmentation': fragmentation(free_units, sq),
        }

    def block_at(self, addr):
        """The block whose bytes hold `addr`, or None."""
        if getattr(self, '_starts_for', None) is not self.blocks or len(self._starts) != len(self.blocks):
            self._starts = [b.address for b in self.blocks]
            self._starts_for = self.blocks
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self.blocks[i].end:
            return self.blocks[i]
        return None

    def neighbours(self, block):
        i = self.blocks.index(block)
        before = self.blocks[i - 1] if i > 0 else None
        after = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        return before, after


def _isqrt(n):
    """floor(sqrt(n)) for the Pythons before 3.8 that older GDBs embed."""
    if n < 2:
        return n
    x = 1 << ((n.bit_length() + 1) // 2)
    while True:
        y = (x + n // x) // 2
        if y >= x:
            return x
        x = y


isqrt = getattr(math, 'isqrt', _isqrt)


def fragmentation(sum_units, sum_sq):
    """umm's metric: 100 - floor(isqrt(sum u^2)) * 100 / sum u, 0 when nothing is free."""
    if sum_units == 0:
        return 0
    return 100 - isqrt(sum_sq) * 100 // sum_units
