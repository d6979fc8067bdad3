"""Memory readers: the decoder only ever calls read(addr, length) -> bytes.

`Memory` wraps any such callable (GDB's read_memory, a file image, a test's
bytes) so that whatever it raises becomes a DecodeError, and short or
out-of-range reads are refused instead of decoded.
"""
from .errors import DecodeError, one_line

ADDRESS_LIMIT = 1 << 64


class Memory:
    def __init__(self, read):
        self._read = read

    def read(self, addr, length):
        if addr < 0 or length < 0 or addr + length > ADDRESS_LIMIT:
            raise DecodeError('address range 0x%x+%d is outside the address space' % (addr, length))
        if length == 0:
            return b''
        try:
            data = self._read(addr, length)
        except DecodeError:
            raise
        except Exception as err:  # any reader failure (gdb.MemoryError, OSError, ...)
            raise DecodeError('cannot read %d bytes at 0x%x: %s' % (length, addr, one_line(err))) from None
        try:
            data = bytes(data)
        except (TypeError, ValueError):
            raise DecodeError('reader returned %s for 0x%x' % (type(data).__name__, addr)) from None
        if len(data) != length:
            raise DecodeError('short read at 0x%x: %d of %d bytes' % (addr, len(data), length))
        return data


class ImageReader:
    """A reader over byte images placed at target addresses."""

    def __init__(self, segments=()):
        self.segments = []
        for base, data in segments:
            self.add(base, data)

    def add(self, base, data):
        self.segments.append((base, bytes(data)))

    def __call__(self, addr, length):
        for base, data in self.segments:
            if base <= addr and addr + length <= base + len(data):
                return data[addr - base:addr - base + length]
        raise DecodeError('0x%x..0x%x is not in the image' % (addr, addr + length))
