"""Heaps written straight from the specs, without the allocator: heapview
format v1 (lib/FORMAT.md) and upstream umm_malloc (UPSTREAM-UMM.md).  They
give fixed, compiler-independent bytes for golden tests, an independent
encoder to check the decoder against, and fuzz seeds."""
import struct

MAGIC = 0x484D4D55
CANARY, FREE_FILL = 0xA5, 0xDD
F_METRICS, F_POISON, F_OWNERS, F_FILL = 1, 2, 4, 8


def size_class(u, sl=3):
    if u < (1 << (sl + 1)):
        return u
    f = u.bit_length() - 1
    return ((f - sl) << sl) + (u >> (f - sl))


def heapview_heap(address, region_bytes, blocks, flags=0, counters=None, seq_next=0, endian="<"):
    """blocks: list of dicts {units, state ('used'|'free'), requested, seq, owner}; the last
    block is stretched to the end marker.  Narrow indices, 32-bit pointers, byte order `endian` ("<" or ">").
    Returns (bytes of the region, control block address, unit_count)."""
    assert address % 8 == 0
    P = 4
    prefix = 16 if flags & (F_POISON | F_OWNERS) else 0
    suffix = 4 if prefix else 0
    fixed = 32 + 3 * P
    classes = 1
    for _ in range(8):   # the class count and the control area size depend on each other
        bitmap_off = fixed
        bitmap_len = 4 * (1 + (classes + 31) // 32)
        bins_off = bitmap_off + bitmap_len
        end = bins_off + 2 * classes
        instr_off = 0
        if flags & F_METRICS:
            instr_off = (end + 3) & ~3
            end = instr_off + 96 + 2 * P
        ctl_bytes = end + ((4 - end) % 8)
        n = (region_bytes - ctl_bytes) // 8
        if size_class(n - 2) + 1 == classes:
            break
        classes = size_class(n - 2) + 1
    assert size_class(n - 2) + 1 == classes
    mem = bytearray(region_bytes)
    base = ctl_bytes

    def put16(off, v):
        struct.pack_into(endian + "H", mem, off, v)

    def unit(i):
        return base + 8 * i

    # stretch the last block to the end marker
    used_units = sum(b["units"] for b in blocks[:-1])
    blocks[-1]["units"] = n - 2 - used_units
    starts, at = [], 1
    for b in blocks:
        starts.append(at)
        at += b["units"]
    assert at == n - 1
    put16(unit(0), 1 if blocks else n - 1)
    put16(unit(0) + 2, 0)
    bins = {}
    for i, b in enumerate(blocks):
        s, u = starts[i], b["units"]
        nxt = s + u
        put16(unit(s), nxt | (0x8000 if b["state"] == "free" else 0))
        put16(unit(s) + 2, starts[i - 1] if i else 0)
        d = unit(s) + 4
        if b["state"] == "free":
            bins.setdefault(size_class(u), []).append(s)
            if flags & F_FILL:
                mem[d + 4:unit(s) + 8 * u] = bytes([FREE_FILL]) * (8 * u - 8)
        elif prefix:
            req = b.get("requested", 0)
            struct.pack_into(endian + "III", mem, d, req, b.get("seq", 0) if flags & F_OWNERS else 0,
                             b.get("owner", 0) if flags & F_OWNERS else 0)
            mem[d + 12:d + 16] = bytes([CANARY]) * 4
            mem[d + 16 + req:unit(s) + 8 * u] = bytes([CANARY]) * (unit(s) + 8 * u - d - 16 - req)
            assert 8 * u - 4 - prefix - suffix >= req
    put16(unit(n - 1), 0)
    put16(unit(n - 1) + 2, starts[-1] if blocks else 0)
    words = [0] * ((classes + 31) // 32)
    for c, members in bins.items():
        put16(bins_off + 2 * c, members[0])
        words[c // 32] |= 1 << (c % 32)
        for k, m in enumerate(members):
            put16(unit(m) + 4, members[k + 1] if k + 1 < len(members) else 0)
            put16(unit(m) + 6, members[k - 1] if k else 0)
    summary = sum(1 << w for w, v in enumerate(words) if v)
    struct.pack_into(endian + "I", mem, bitmap_off, summary)
    for w, v in enumerate(words):
        struct.pack_into(endian + "I", mem, bitmap_off + 4 + 4 * w, v)
    struct.pack_into(endian + "IBBBBHHIIBBHHHBBH", mem, 0, MAGIC, 1, 2, 3, P, flags, ctl_bytes, n, region_bytes,
                     classes, 3, bitmap_off, bins_off, instr_off, prefix, suffix, 0)
    struct.pack_into(endian + "III", mem, 32, address, 0, address)
    if instr_off:
        used = [b for b in blocks if b["state"] == "used"]
        free = [b for b in blocks if b["state"] == "free"]
        c = counters or {}
        rec = [c.get("alloc_count", len(used)), c.get("free_count", 0), 0, 0, c.get("bad_free_count", 0), 0,
               seq_next, len(used), len(free), sum(b["units"] for b in used), sum(b["units"] for b in free),
               sum(b["units"] for b in free), sum(b["units"] for b in used),
               sum(b.get("requested", 0) for b in used), 0, 0]
        struct.pack_into(endian + "16I", mem, instr_off, *rec)
        struct.pack_into(endian + "Q", mem, instr_off + 64, sum(b["units"] ** 2 for b in free))
    return bytes(mem), address, n


def upstream_heap(numblocks, blocks, bs=8, poison=False):
    """blocks: list of (length in blocks, 'used'|'free', requested); the last is stretched to
    the end block.  Returns the heap's bytes (numblocks * bs)."""
    mem = bytearray(numblocks * bs)
    at, starts = 1, []
    blocks = [list(b) for b in blocks]
    blocks[-1][0] = numblocks - 1 - sum(b[0] for b in blocks[:-1]) - 1
    for b in blocks:
        starts.append(at)
        at += b[0]
    assert at == numblocks - 1
    frees = [s for s, b in zip(starts, blocks) if b[1] == "free"]

    def hdr(i, nxt, prv):
        struct.pack_into("<HH", mem, i * bs, nxt, prv)

    hdr(0, 1, 0)
    struct.pack_into("<HH", mem, 4, frees[0] if frees else 0, frees[-1] if frees else 0)
    for k, (s, b) in enumerate(zip(starts, blocks)):
        hdr(s, (s + b[0]) | (0x8000 if b[1] == "free" else 0), starts[k - 1] if k else 0)
        if b[1] == "free":
            j = frees.index(s)
            struct.pack_into("<HH", mem, s * bs + 4, frees[j + 1] if j + 1 < len(frees) else 0,
                             frees[j - 1] if j else 0)
        elif poison:
            req = b[2]
            d = s * bs + 4
            struct.pack_into("<H", mem, d, req + 10)
            mem[d + 2:d + 6] = bytes([CANARY]) * 4
            mem[d + 6 + req:d + 10 + req] = bytes([CANARY]) * 4
    hdr(numblocks - 1, 0, starts[-1])
    return bytes(mem)
