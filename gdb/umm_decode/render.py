"""Text renderers for the GDB commands (and anything else that wants text).

Each returns a string; nothing here reads memory or knows about GDB.
"""


def _hx(value):
    return '0x%x' % value if value is not None else '-'


def _opt(value):
    return str(value) if value is not None else '-'


def heap_title(heap):
    width = 'narrow' if heap.index_bytes == 2 else 'wide'
    if heap.format == 'upstream':
        return 'heap %s at 0x%x (upstream umm_malloc): %d bytes, %d blocks of %d bytes' % (
            heap.name, heap.address, heap.size, heap.unit_count, heap.unit_bytes)
    return 'heap %s at 0x%x: %d bytes, %d units, %s, flags %s' % (
        heap.name, heap.address, heap.size, heap.unit_count, width,
        ','.join(heap.flags) if heap.flags else 'none')


def select_blocks(heap, state=None, min_size=0):
    return [b for b in heap.blocks
            if (state is None or b.state == state) and b.size >= min_size]


def walk_text(heap, blocks):
    lines = [heap_title(heap),
             '%7s  %-18s %8s  %-5s %9s %7s  %s' % ('index', 'address', 'size', 'state',
                                                  'requested', 'seq', 'owner')]
    for b in blocks:
        owner = ''
        if b.owner:
            owner = heap.owner_name(b.owner) or '0x%x' % b.owner
        lines.append('%7d  %-18s %8d  %-5s %9s %7s  %s' % (
            b.index, '0x%x' % b.address, b.size, b.state, _opt(b.requested),
            _opt(b.seq), owner))
    m = heap.metrics()
    lines.append('%d of %d blocks shown; %d used (%d bytes), %d free (%d bytes)' % (
        len(blocks), len(heap.blocks), m['used_entries'], m['used_bytes'],
        m['free_entries'], m['free_bytes']))
    if heap.problems:
        lines.append('%d problem%s: run umm-check' % (len(heap.problems),
                                                       '' if len(heap.problems) == 1 else 's'))
    return '\n'.join(lines) + '\n'


def info_text(heap):
    m = heap.metrics()
    lines = [heap_title(heap),
             '  used      %d blocks, %d bytes' % (m['used_entries'], m['used_bytes']),
             '  free      %d blocks, %d bytes' % (m['free_entries'], m['free_bytes']),
             '  largest   free block %d bytes, largest allocation %d bytes' % (
                 m['largest_free'], m['largest_alloc']),
             '  fragmentation %d%%' % m['fragmentation']]
    if heap.requested_bytes is not None:
        lines.append('  requested %d bytes' % heap.requested_bytes)
    if heap.record is not None:
        r = heap.record
        lines.append('  counters  alloc %d, free %d, realloc %d, oom %d, bad free %d, corruption %d, next seq %d'
                     % (r['alloc_count'], r['free_count'], r['realloc_count'], r['oom_count'],
                        r['bad_free_count'], r['corruption_count'], r['seq_next']))
        lines.append('  marks     min free %d bytes, peak used %d bytes' % (
            r['min_free_units'] * 8, r['peak_used_units'] * 8))
    if heap.last_fault:
        lines.append('  last fault ' + fault_text(heap))
    lines.append('  problems  %d' % len(heap.problems))
    return '\n'.join(lines) + '\n'


def fault_text(heap):
    f = heap.last_fault
    owner = ''
    if f['owner']:
        owner = ', owner %s' % (heap.owner_name(f['owner']) or '0x%x' % f['owner'])
    return '%s during %s: block %d, address 0x%x, expected 0x%x, found 0x%x, seq %d%s' % (
        f['kind'], f['op'], f['block'], f['address'], f['expected'], f['found'], f['seq'], owner)


def check_text(heap):
    lines = []
    for p in heap.problems:
        where = 'block %d' % p.block if p.block is not None else 'control block'
        lines.append('%s at 0x%x (%s): %s' % (p.kind, p.address, where, p.message))
        if p.culprit is not None:
            c = p.culprit
            lines.append('  culprit: block %d at 0x%x, owner %s, seq %s' % (
                c.block, c.address, c.owner_name or (_hx(c.owner) if c.owner else 'unknown'),
                _opt(c.seq)))
    if heap.last_fault:
        lines.append('last fault recorded by the allocator: ' + fault_text(heap))
    n = len(heap.problems)
    status = 'ok' if n == 0 else '%d problem%s' % (n, '' if n == 1 else 's')
    lines.append('heap %s at 0x%x: %s (%d blocks checked)' % (heap.name, heap.address, status,
                                                           len(heap.blocks)))
    return '\n'.join(lines) + '\n'


MAP_WIDTH = 64
MAP_ROWS = 32


def map_text(heap, width=MAP_WIDTH, rows=MAP_ROWS):
    """One character per cell of the block array: '#' used, '.' free, '+' both,
    '!' a problem inside, ' ' nothing (past the end)."""
    start = heap.blocks_base + heap.unit_bytes          # first real block
    end = heap.blocks[-1].end if heap.blocks else start
    total = max(end - start, 1)
    cells = width * rows
    cell = max(heap.unit_bytes, -(-total // cells))
    cell = -(-cell // heap.unit_bytes) * heap.unit_bytes
    count = -(-total // cell)
    used = [0] * count
    free = [0] * count
    for b in heap.blocks:
        a = max(b.address, start) - start
        z = b.end - start
        first, last = a // cell, (z - 1) // cell
        target = free if b.free else used
        for c in range(first, min(last, count - 1) + 1):
            target[c] = 1
    bad = set()
    for p in heap.problems:
        if p.address is not None and start <= p.address < start + count * cell:
            bad.add((p.address - start) // cell)
    chars = []
    for c in range(count):
        if c in bad:
            chars.append('!')
        elif used[c] and free[c]:
            chars.append('+')
        elif used[c]:
            chars.append('#')
        elif free[c]:
            chars.append('.')
        else:
            chars.append(' ')
    lines = [heap_title(heap),
             'one cell = %d bytes; # used, . free, + both, ! problem' % cell]
    for r in range(0, count, width):
        lines.append('0x%x  %s' % (start + r * cell, ''.join(chars[r:r + width])))
    m = heap.metrics()
    lines.append('fragmentation %d%%, largest free block %d bytes' % (m['fragmentation'],
                                                                   m['largest_free']))
    return '\n'.join(lines) + '\n'


def block_text(heap, addr):
    b = heap.block_at(addr)
    if b is None:
        return None
    lines = ['0x%x is in block %d of heap %s: %s' % (addr, b.index, heap.name, describe(heap, b))]
    if b.user is not None and not b.free:
        cap_end = b.end
        if b.requested is not None:
            cap_end = b.user + b.requested
        if addr < b.user:
            lines.append('  the address is in the block header or prefix, %d bytes before the user pointer 0x%x'
                         % (b.user - addr, b.user))
        elif addr >= cap_end:
            lines.append('  the address is %d bytes past the end of the user data' % (addr - cap_end))
        else:
            lines.append('  offset %d into the user data at 0x%x' % (addr - b.user, b.user))
    before, after = heap.neighbours(b)

    def hole(lo, hi):
        # Units between two listed blocks are a span the walk could not decode.
        u0 = (lo - heap.blocks_base) // heap.unit_bytes
        u1 = (hi - heap.blocks_base) // heap.unit_bytes - 1
        return 'units %d..%d (could not be decoded), then ' % (u0, u1)

    text = ('block %d: ' % before.index) + describe(heap, before) if before else 'head sentinel'
    if before is not None and before.end != b.address:
        text = hole(before.end, b.address) + text
    lines.append('  before: %s' % text)
    text = ('block %d: ' % after.index) + describe(heap, after) if after else 'end marker'
    if after is not None and b.end != after.address:
        text = hole(b.end, after.address) + text
    lines.append('  after:  %s' % text)
    for p in heap.problems:
        if p.block == b.index:
            lines.append('  problem: %s: %s' % (p.kind, p.message))
    return '\n'.join(lines) + '\n'


def describe(heap, b):
    text = '%s, %d bytes at 0x%x' % (b.state, b.size, b.address)
    if not b.free:
        if b.user is not None:
            text += ', user pointer 0x%x' % b.user
        if b.requested is not None:
            text += ', %d requested' % b.requested
        if b.seq:
            text += ', seq %d' % b.seq
        if b.owner:
            text += ', owner %s' % (heap.owner_name(b.owner) or '0x%x' % b.owner)
    return text


def top_rows(heap):
    """(owner_label, allocations, block_bytes, requested_bytes) by block bytes, largest first."""
    groups = {}
    for b in heap.blocks:
        if b.free:
            continue
        key = b.owner or 0
        g = groups.setdefault(key, [0, 0, 0])
        g[0] += 1
        g[1] += b.size
        g[2] += b.requested or 0
    rows = []
    for owner, (n, size, req) in groups.items():
        label = (heap.owner_name(owner) or '0x%x' % owner) if owner else '(unknown)'
        rows.append((label, n, size, req))
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows


def top_text(heap, limit=20):
    rows = top_rows(heap)
    lines = [heap_title(heap),
             '%10s %8s %10s  %s' % ('bytes', 'allocs', 'requested', 'owner')]
    for label, n, size, req in rows[:limit]:
        lines.append('%10d %8d %10d  %s' % (size, n, req, label))
    if len(rows) > limit:
        lines.append('... %d more owners' % (len(rows) - limit))
    return '\n'.join(lines) + '\n'
