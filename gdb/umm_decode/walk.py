"""The physical block walk shared by both formats, with resynchronisation
after damage, and the problem bookkeeping every check uses.

It follows heapview's own decoder (cli/core/hv_walk.c) decision for decision,
so both tools report the same problems, at the same addresses, with the
same words.  An edge b -> n is trusted only when n lies strictly after b,
inside the array, and n's header points back (prev(n) == b) or n itself is
consistent with its successor.  Indices only increase, so the walk ends
after at most N steps whatever the bytes say.
"""
import functools
import struct

from .model import Block, Culprit, Problem

MAX_PROBLEMS = 1000   # per heap; past it one `truncated` problem says so
TABLE_LIMIT = 1 << 22  # headers unpacked up front below this many units


def struct_iter(fmt, data):
    return struct.Struct(fmt).iter_unpack(data)

HEADER = 'header'
UNREADABLE = 'unreadable'
TRUNCATED = 'truncated'


def plural(n, word='byte'):
    return '%d %s%s' % (n, word, '' if n == 1 else 's')


class Walker:
    """Reads headers of one heap's block array out of `buf` and records
    blocks, gaps and problems on `heap`."""

    def __init__(self, heap, buf, off0, hdr):
        self.heap = heap
        self.buf = buf
        self.off0 = off0                  # offset of unit 0 in buf
        self.unit = heap.unit_bytes
        self.n = heap.unit_count
        self.unpack = hdr.unpack_from
        self.free_flag = heap.free_flag
        self.mask = heap.free_flag - 1
        avail = max(0, len(buf) - off0)
        self.readable_units = min(avail // self.unit, self.n)
        heap.units_readable = self.readable_units
        if self.readable_units <= TABLE_LIMIT:
            # Every header at once, unpacked in C: the walk then indexes a list.
            pad = self.unit - hdr.size
            whole = hdr.format + ('%dx' % pad if pad else '')
            if not isinstance(whole, str):
                whole = whole.decode()
            table = list(struct_iter(whole, buf[off0:off0 + self.readable_units * self.unit]))
            self.header = table.__getitem__

    # ---- headers ---------------------------------------------------------
    def readable(self, u):
        return u < self.readable_units

    def header(self, u):
        return self.unpack(self.buf, self.off0 + self.unit * u)

    def next_raw(self, u):
        return self.header(u)[0]

    def prev(self, u):
        return self.header(u)[1]

    def address(self, u):
        return self.heap.blocks_base + self.unit * u

    def plausible(self, u):
        """Is unit u a plausible block start: its successor lies ahead and
        points back at it?"""
        n = self.n
        if not self.readable(u):
            return False
        nxt, prv = self.header(u)
        if u == n - 1:
            return nxt == 0 and prv < u
        nx = nxt & self.mask
        if nx <= u or nx >= n or prv >= u or not self.readable(nx):
            return False
        return self.prev(nx) == u

    def resync(self, start):
        """The first plausible block at or after unit `start` (N when none)."""
        r = start
        while r < self.n and not self.plausible(r):
            r += 1
        return r

    def last_used_before(self, u):
        blocks = self.heap.blocks
        if not blocks:
            return None
        b = blocks[-1]
        return b if not b.free and b.index < u else None

    # ---- the walk (hv_walk.c walk_blocks) ---------------------------------
    def walk(self, min_units):
        h = self.heap
        n = self.n
        cur = 0
        resynced = False
        h.walk_complete = False
        if n < 2:
            return
        if not self.readable(0):
            add_problem(h, UNREADABLE, self.address(0), 0,
                        'the head sentinel (unit 0) is not in the dump')
        else:
            raw, prv = self.header(0)
            if raw & self.free_flag or prv != 0 or raw == 0:
                add_problem(h, HEADER, self.address(0), 0,
                            'head sentinel broken: next = 0x%x, prev = 0x%x (want next >= 1, '
                            'prev = 0, not free)' % (raw, prv))
        for _ in range(n + 1):
            ok = False
            nx = raw = 0
            pending = None     # problem whose culprit is cur, once recorded
            smashed = False    # nx's header is damaged, cur's is sound
            unreadable = not self.readable(cur)
            if not unreadable and cur == n - 1:
                raw = self.next_raw(cur)
                if raw != 0:
                    add_problem(h, HEADER, self.address(cur), cur,
                                'end marker (unit %d) has next = 0x%x, want 0' % (cur, raw))
                h.walk_complete = not resynced
                return
            if not unreadable:
                raw = self.next_raw(cur)
                nx = raw & self.mask
                ok = cur < nx < n
                if ok and self.readable(nx) and self.prev(nx) != cur:
                    if self.plausible(nx):
                        pending = add_problem(h, HEADER, self.address(nx) + h.index_bytes, nx,
                                              'block %d: prev = %d, want %d' % (nx, self.prev(nx), cur))
                    else:
                        # Either cur's next is wrong (a block pointing back at
                        # cur lies before nx) or nx's header is smashed.
                        r = cur + 1
                        while r < nx and not (self.plausible(r) and self.prev(r) == cur):
                            r += 1
                        if r < nx:
                            p = add_problem(h, HEADER, self.address(cur), cur,
                                            'block %d: next = %d, but block %d follows it' % (cur, nx, r))
                            set_culprit(h, p, self.last_used_before(cur))
                            nx = r
                            raw = (raw & self.free_flag) | r
                        else:
                            smashed = True
            if ok:
                if cur != 0:
                    units = nx - cur
                    is_free = bool(raw & self.free_flag)
                    before = h.blocks[-1] if h.blocks else None
                    blk = Block(h, cur, units, is_free)
                    if not is_free and h.detail is not None:
                        h.detail(blk)       # prefix fields, for culprits named during the walk
                    h.blocks.append(blk)
                    # prev(nx) damaged: the allocation just before nx overran it.
                    if pending is not None and not is_free:
                        set_culprit(h, pending, blk)
                    if units < min_units:
                        add_problem(h, HEADER, self.address(cur), cur,
                                    'block %d is %s long, less than the smallest block (%d)'
                                    % (cur, plural(units, 'unit'), min_units))
                    if is_free and before is not None and before.free and \
                            before.index + before.units == cur:
                        add_problem(h, HEADER, self.address(cur), cur,
                                    'free block %d follows free block %d: free blocks are always merged'
                                    % (cur, before.index))
                if not smashed:
                    cur = nx
                    continue
                # nx's header is smashed: cur is sound and ends where nx begins.
                r = self.resync(nx + 1)
                nraw, nprev = self.header(nx)
                p = add_problem(h, HEADER, self.address(nx), nx,
                                'block %d: header smashed (next = 0x%x, prev = 0x%x, want prev = %d); '
                                'could not decode %d bytes at 0x%x (units %d..%d)'
                                % (nx, nraw, nprev, cur, (r - nx) * self.unit, self.address(nx), nx, r - 1))
                set_culprit(h, p, self.last_used_before(nx))
                h.gaps.append((nx, r - nx, HEADER))
                resynced = True
                if r >= n:
                    add_problem(h, TRUNCATED, self.address(nx), None,
                                'walk stopped at unit %d: no readable block follows' % nx)
                    return
                cur = r
                continue
            # cur's header cannot be trusted: find the next plausible block.
            r = self.resync(cur + 1)
            span = (r - cur) * self.unit
            if unreadable:
                add_problem(h, UNREADABLE, self.address(cur), cur,
                            'block header at unit %d is not in the dump; skipped %d bytes (units %d..%d)'
                            % (cur, span, cur, r - 1))
            else:
                p = add_problem(h, HEADER, self.address(cur), cur,
                                'block %d: next = 0x%x does not lead to a block; could not decode '
                                '%d bytes at 0x%x (units %d..%d)'
                                % (cur, raw, span, self.address(cur), cur, r - 1))
                # An overrun from the allocation just before is the usual cause.
                set_culprit(h, p, self.last_used_before(cur))
            h.gaps.append((cur, r - cur, UNREADABLE if unreadable else HEADER))
            resynced = True
            if r >= n:
                add_problem(h, TRUNCATED, self.address(cur), None,
                            'walk stopped at unit %d: no readable block follows' % cur)
                return
            cur = r
        add_problem(h, TRUNCATED, self.address(cur), None, 'walk stopped after %d steps' % n)


# Kind numbers as heapview orders them: FORMAT.md section 6, then its own two.
KIND_RANK = {'header': 1, 'freelist': 2, 'underrun': 3, 'overrun': 4, 'use_after_free': 5,
             'double_free': 6, 'interior_free': 7, 'foreign_free': 8, 'wrong_heap': 9,
             'control': 10, UNREADABLE: 32, TRUNCATED: 33}


def _compare(x, y):
    """heapview's problem order: truncation notes last, then by address, then
    by kind number (as a C int difference, so garbage kinds sort as it does)."""
    tx, ty = x.kind == TRUNCATED, y.kind == TRUNCATED
    if tx != ty:
        return 1 if tx else -1
    if x.address != y.address:
        return -1 if x.address < y.address else 1
    d = (KIND_RANK.get(x.kind, x.rank) - KIND_RANK.get(y.kind, y.rank)) & 0xFFFFFFFF
    return d - (1 << 32) if d & 0x80000000 else d


def sort_problems(heap):
    """Problems in address order, truncation notes last (hv_walk.c)."""
    heap.problems.sort(key=functools.cmp_to_key(_compare))


def add_problem(heap, kind, address, block, message):
    """Records a problem; returns it, or None past MAX_PROBLEMS (then the heap
    remembers that some were left out)."""
    if len(heap.problems) >= MAX_PROBLEMS and kind != TRUNCATED:
        heap.problems_truncated = True
        return None
    p = Problem(kind, address, block, message)
    heap.problems.append(p)
    return p


def set_culprit(heap, problem, block):
    if problem is None or block is None:
        return
    problem.culprit = Culprit(block.index, block.address, block.owner, block.seq,
                              heap.name_owner(block.owner) if block.owner else None)


def owner_text(heap, has_owner, owner):
    """How messages name an owner (hv_walk.c walk_owner_text)."""
    name = heap.name_owner(owner) if has_owner and owner else None
    if name:
        return name
    if has_owner and owner:
        return '0x%x' % owner
    return 'an unknown caller'


def count_not(buf, start, length, value):
    """(bad, first, last): bytes in buf[start:start+length] that are not
    `value`, with the offsets of the first and last of them."""
    seg = buf[start:start + length]
    pattern = bytes((value,))
    head = seg.lstrip(pattern)
    if not head:
        return 0, None, None
    first = start + len(seg) - len(head)
    last = start + len(seg.rstrip(pattern)) - 1
    bad = length - seg.count(pattern)
    return bad, first, last
