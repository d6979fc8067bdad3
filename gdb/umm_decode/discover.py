"""Finding heaps: umm_heap_list chains and memory scans (FORMAT.md section 8)."""
import struct

from . import format_gen as F
from .errors import DecodeError
from .heap import LE_MAGIC, BE_MAGIC, read_ctl
from .memory import Memory

SCAN_CHUNK = 1 << 20


def follow_heap_list(read, first):
    """Control block addresses on the list that starts at `first` (the value of
    umm_heap_list).  Returns (addresses, error): the walk stops, with a
    one-line reason, at the first entry that is not a valid control block."""
    mem = read if isinstance(read, Memory) else Memory(read)
    found = []
    seen = set()
    cur = first
    while cur:
        if len(found) >= F.UMM_FMT_MAX_HEAPS:
            return found, 'heap list is longer than %d entries' % F.UMM_FMT_MAX_HEAPS
        if cur in seen:
            return found, 'heap list loops back to 0x%x' % cur
        seen.add(cur)
        try:
            ctl = read_ctl(mem, cur)
        except DecodeError as err:
            return found, 'heap list entry at 0x%x: %s' % (cur, err)
        found.append(cur)
        cur = ctl.next_heap
    return found, None


def scan_for_heaps(read, start, end):
    """Control blocks in [start, end): the magic at an 8-aligned address whose
    `self` field equals that address.  Reads the range in 1 MiB chunks."""
    mem = read if isinstance(read, Memory) else Memory(read)
    found = []
    addr = (start + 7) & ~7
    overlap = 64
    while addr < end:
        length = min(SCAN_CHUNK + overlap, end - addr)
        chunk = mem.read(addr, length)
        for magic in (LE_MAGIC, BE_MAGIC):
            pos = chunk.find(magic)
            while pos != -1:
                if pos % 8 == 0 and pos < SCAN_CHUNK and len(chunk) - pos >= 8:
                    endian = '<' if magic == LE_MAGIC else '>'
                    p = chunk[pos + F.UMM_CTL_PTR_BYTES]
                    if p in (4, 8) and pos + F.UMM_CTL_SELF + p <= len(chunk):
                        fmt = endian + ('I' if p == 4 else 'Q')
                        if struct.unpack_from(fmt, chunk, pos + F.UMM_CTL_SELF)[0] == addr + pos:
                            try:
                                read_ctl(mem, addr + pos)
                                found.append(addr + pos)
                            except DecodeError:
                                pass
                pos = chunk.find(magic, pos + 1)
        addr += SCAN_CHUNK
    return sorted(set(found))
