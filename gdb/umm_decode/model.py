"""The block model every decoder produces and every renderer reads."""
import bisect
import math


class Block:
    """One block between the sentinels.  `size` is bytes, header included."""
    __slots__ = ('index', 'address', 'size', 'free', 'requested', 'seq', 'owner',
                 'user', 'damaged')

    def __init__(self, index, address, size, free, damaged=False):
        self.index = index
        self.address = address
        self.size = size
        self.free = free
        self.requested = None   # bytes asked for, when the heap records it
        self.seq = None
        self.owner = None       # owner address, when recorded (0 = unknown)
        self.user = None        # address handed to the caller (used blocks)
        self.damaged = damaged  # its header was unreadable; size found by resync

    @property
    def state(self):
        return 'free' if self.free else 'used'

    @property
    def end(self):
        return self.address + self.size


class Culprit:
    __slots__ = ('block', 'address', 'owner', 'owner_name', 'seq')

    def __init__(self, block, owner_name):
        self.block = block.index
        self.address = block.address
        self.owner = block.owner
        self.owner_name = owner_name
        self.seq = block.seq


class Problem:
    """A broken invariant: kind is a FORMAT.md fault name, `unreadable` or `truncated`."""
    __slots__ = ('kind', 'address', 'block', 'message', 'culprit')

    def __init__(self, kind, address, block, message, culprit=None):
        self.kind = kind
        self.address = address
        self.block = block
        self.message = message
        self.culprit = culprit

    def __repr__(self):
        return 'Problem(%s, 0x%x, %r, %r)' % (self.kind, self.address or 0, self.block, self.message)


class Heap:
    """A decoded heap.  Counts and sizes follow FORMAT.md section 9."""

    def __init__(self, name, fmt, address):
        self.name = name
        self.format = fmt            # 'heapview' or 'upstream'
        self.address = address       # control block (upstream: first block)
        self.size = None             # region_bytes / heap_size
        self.region = None
        self.index_bytes = 2
        self.ptr_bytes = None
        self.flags = []              # lowercase names of set flag bits
        self.flag_bits = 0
        self.unit_count = 0
        self.unit_bytes = 8
        self.blocks_base = 0         # address of unit 0
        self.header_bytes = 4
        self.prefix_bytes = 0
        self.suffix_bytes = 0
        self.blocks = []
        self.problems = []
        self.record = None           # dict of the instrumentation record, when present
        self.last_fault = None       # dict, when the record names a fault
        self.requested_bytes = None
        self.truncated = False
        self.owner_names = {}        # owner address -> name (or None)

    # ---- metrics (section 9) -------------------------------------------
    def used_blocks(self):
        return [b for b in self.blocks if not b.free]

    def free_blocks(self):
        return [b for b in self.blocks if b.free]

    def metrics(self):
        used_entries = free_entries = used_bytes = free_bytes = largest_free = 0
        sum_units = sum_sq = 0
        for b in self.blocks:
            if b.free:
                free_entries += 1
                free_bytes += b.size
                largest_free = max(largest_free, b.size)
                units = b.size // self.unit_bytes
                sum_units += units
                sum_sq += units * units
            else:
                used_entries += 1
                used_bytes += b.size
        overhead = self.header_bytes + self.prefix_bytes + self.suffix_bytes
        largest_alloc = max(0, largest_free - overhead) if free_entries else 0
        return {
            'used_entries': used_entries,
            'free_entries': free_entries,
            'used_bytes': used_bytes,
            'free_bytes': free_bytes,
            'largest_free': largest_free,
            'largest_alloc': largest_alloc,
            'fragmentation': fragmentation(sum_units, sum_sq),
        }

    def block_at(self, addr):
        """The block whose bytes hold `addr`, or None."""
        starts = [b.address for b in self.blocks]
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and addr < self.blocks[i].end:
            return self.blocks[i]
        return None

    def neighbours(self, block):
        i = self.blocks.index(block)
        before = self.blocks[i - 1] if i > 0 else None
        after = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        return before, after

    def owner_name(self, owner):
        if not owner:
            return None
        return self.owner_names.get(owner)


def fragmentation(sum_units, sum_sq):
    """umm's metric: 100 - floor(isqrt(sum u^2)) * 100 / sum u, 0 when nothing is free."""
    if sum_units == 0:
        return 0
    return 100 - math.isqrt(sum_sq) * 100 // sum_units
