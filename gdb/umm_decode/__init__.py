"""Pure-Python decoder of heapview (lib/FORMAT.md) and upstream umm_malloc heaps.

No GDB here: everything works on a reader callable read(addr, length) -> bytes,
so the same code runs in GDB, in tests on dumped images, and anywhere else.
"""
from .errors import DecodeError
from .memory import Memory, ImageReader
from .model import Block, Problem, Heap
from .heap import decode_heap, read_ctl, size_class
from .upstream import decode_upstream
from .discover import follow_heap_list, scan_for_heaps
from .document import document, heap_document, to_json, TOOL

__all__ = ['DecodeError', 'Memory', 'ImageReader', 'Block', 'Problem', 'Heap',
           'decode_heap', 'read_ctl', 'size_class', 'decode_upstream',
           'follow_heap_list', 'scan_for_heaps', 'document', 'heap_document',
           'to_json', 'TOOL']
