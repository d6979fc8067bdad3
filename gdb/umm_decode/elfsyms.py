"""Object symbols of an ELF file, read with nothing but struct: enough to
find umm_heap objects by size the way heapview does (cli/core/hv_elf.c)."""
import struct

SHT_SYMTAB = 2
SHT_DYNSYM = 11
STT_OBJECT = 1
ET_DYN = 3


class ElfSymbols:
    """ptr_bytes, endian ('<' or '>'), pie (ET_DYN), objects: sorted
    [(address, size, name)] of defined STT_OBJECT symbols."""

    def __init__(self, ptr_bytes, endian, pie, objects):
        self.ptr_bytes = ptr_bytes
        self.endian = endian
        self.pie = pie
        self.objects = objects

    def lookup(self, name):
        for addr, _, sym in self.objects:
            if sym == name:
                return addr
        return None


def read_object_symbols(path):
    """ElfSymbols of the file at `path`, or None when it is not an ELF file
    this can read (any damage is treated as 'no symbols')."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
        return parse(data)
    except (OSError, struct.error, IndexError, ValueError):
        return None


def parse(data):
    if data[:4] != b'\x7fELF':
        return None
    wide = data[4] == 2
    e = '<' if data[5] == 1 else '>'
    if wide:
        e_type, = struct.unpack_from(e + 'H', data, 16)
        e_shoff, = struct.unpack_from(e + 'Q', data, 40)
        e_shentsize, e_shnum = struct.unpack_from(e + 'HH', data, 58)
        sh_fmt = e + 'IIQQQQIIQQ'
    else:
        e_type, = struct.unpack_from(e + 'H', data, 16)
        e_shoff, = struct.unpack_from(e + 'I', data, 32)
        e_shentsize, e_shnum = struct.unpack_from(e + 'HH', data, 46)
        sh_fmt = e + 'IIIIIIIIII'
    sections = [struct.unpack_from(sh_fmt, data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    # sh: name, type, flags, addr, offset, size, link, info, addralign, entsize
    for want in (SHT_SYMTAB, SHT_DYNSYM):
        tables = [s for s in sections if s[1] == want]
        if tables:
            break
    else:
        return ElfSymbols(8 if wide else 4, e, e_type == ET_DYN, [])
    sh = tables[0]
    strtab = sections[sh[6]]
    str_off = strtab[4]
    objects = []
    entsize = sh[9] or (24 if wide else 16)
    for i in range(sh[5] // entsize):
        off = sh[4] + i * entsize
        if wide:
            st_name, st_info, _, st_shndx, st_value, st_size = struct.unpack_from(e + 'IBBHQQ', data, off)
        else:
            st_name, st_value, st_size, st_info, _, st_shndx = struct.unpack_from(e + 'IIIBBH', data, off)
        if st_info & 0xF != STT_OBJECT or st_shndx == 0:
            continue
        end = data.index(b'\0', str_off + st_name)
        name = data[str_off + st_name:end].decode('utf-8', 'replace')
        if not name or name.startswith('$'):
            continue
        objects.append((st_value, st_size, name))
    objects.sort(key=lambda o: (o[0], -o[1]))
    return ElfSymbols(8 if wide else 4, e, e_type == ET_DYN, objects)
