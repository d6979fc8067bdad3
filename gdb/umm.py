"""GDB commands for heapview heaps: `source gdb/umm.py`, then

    umm-walk [--json] [--used|--free] [--min-size N] [--output FILE]
    umm-info [--json] [--output FILE]   summary, counters, last fault
    umm-check                           integrity, canaries, fill, culprits
    umm-map [--width N]                 fragmentation map
    umm-block ADDR                      the block holding ADDR, its neighbours
    umm-top [--limit N]                 live bytes by owner

each with [--heap ADDR|SYMBOL | --scan START:END] [--poison] (gdb/README.md).

A thin layer: memory, symbols and printing come from GDB; decoding, checks
and rendering are the pure-Python package umm_decode next to this file.
"""
import os
import struct
import sys

import gdb

_here = os.path.dirname(os.path.abspath(globals().get('__file__') or 'gdb/umm.py'))
if _here not in sys.path:
    sys.path.insert(0, _here)

import umm_decode as U                      # noqa: E402
from umm_decode import render               # noqa: E402
from umm_decode.elfsyms import read_object_symbols  # noqa: E402


# ---- memory: cached until the target runs or memory changes -----------------

class TargetMemory:
    """read(addr, length) over the selected inferior, caching what it read until
    the target resumes, stops, or someone writes memory."""

    def __init__(self):
        self.chunks = []
        self.inferior = None
        self.reads = 0

    def clear(self, *_):
        self.chunks = []

    def __call__(self, addr, length):
        inf = gdb.selected_inferior()
        if inf.num != self.inferior:
            self.chunks = []
            self.inferior = inf.num
        for base, data in self.chunks:
            if base <= addr and addr + length <= base + len(data):
                return data[addr - base:addr - base + length]
        self.reads += 1
        data = bytes(inf.read_memory(addr, length))
        self.chunks.append((addr, data))
        if len(self.chunks) > 64:
            del self.chunks[0]
        return data


MEMORY = TargetMemory()
SYMBOL_CACHE = {}


def _invalidate(*_):
    MEMORY.clear()


def _invalidate_symbols(*_):
    MEMORY.clear()
    SYMBOL_CACHE.clear()
    LINE_TABLES.clear()
    ELF_SYMBOLS.clear()


for _event, _handler in (('cont', _invalidate), ('stop', _invalidate),
                         ('memory_changed', _invalidate), ('exited', _invalidate),
                         ('inferior_call', _invalidate),
                         ('new_objfile', _invalidate_symbols),
                         ('clear_objfiles', _invalidate_symbols)):
    _registry = getattr(gdb.events, _event, None)
    if _registry is not None:
        _registry.connect(_handler)


# ---- symbols ----------------------------------------------------------------

def symbolize(addr):
    """'func+0xoff (file.c:line)' for a code address, the text for a tag
    string, None when GDB knows nothing about it."""
    if addr in SYMBOL_CACHE:
        return SYMBOL_CACHE[addr]
    name = _code_name(addr)
    if name is None:
        name = _tag_string(addr)
    SYMBOL_CACHE[addr] = name
    return name


def _code_name(addr):
    """func+0xoff from the ELF symbol table, as heapview names owners, with the
    file:line of the call (the instruction before the return address) when
    the debug info agrees about the function."""
    pc = addr & ~1 if _is_arm() else addr     # Thumb return addresses have bit 0 set
    try:
        text = gdb.execute('info symbol 0x%x' % pc, to_string=True).strip()
    except gdb.error:
        return None
    if not text or text.startswith('No symbol') or ' in section ' not in text:
        return None
    sym, section = text.split(' in section ', 1)
    if not section.startswith('.text'):
        return None                     # data: a tag string, not code
    parts = sym.split(' + ')
    name = parts[0]
    label = '%s+0x%x' % (name, int(parts[1]) if len(parts) > 1 else 0)
    call = pc - 1 if pc else pc
    where = _line_in_function(name, call)
    if where is None and _outer_function(call) == name:
        sal = gdb.find_pc_line(call)
        if sal.symtab is not None and sal.line:
            where = (sal.symtab.filename, sal.line)
    if where is not None:
        label += ' (%s:%d)' % (os.path.basename(where[0]), where[1])
    return label


LINE_TABLES = {}


def _line_in_function(name, pc):
    """(file, line) of `pc` from the line table of the compilation unit that
    defines function `name`.  Going through the function's own symtab keeps
    functions discarded by --gc-sections (left at address 0 in the debug info)
    from claiming the address, which a plain pc lookup can fall for."""
    try:
        sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    except gdb.error:
        return None
    if sym is None or sym.symtab is None or sym.addr_class != gdb.SYMBOL_LOC_BLOCK:
        return None
    symtab = sym.symtab
    key = symtab.fullname()
    rows = LINE_TABLES.get(key)
    if rows is None:
        try:
            rows = sorted(((e.pc, e.line) for e in symtab.linetable() if e.line > 0), key=lambda r: r[0])
        except (gdb.error, RuntimeError):
            rows = []
        LINE_TABLES[key] = rows
    start = int(sym.value().address)
    best = None
    for row_pc, line in rows:       # the last row at or before pc, inside the function
        if row_pc > pc:
            break
        if row_pc >= start:
            best = (symtab.filename, line)
    return best


def _outer_function(pc):
    """Name of the outermost function DWARF puts `pc` in (inlining undone), or None."""
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        return None
    name = None
    while block is not None:
        if block.function is not None and not block.is_static and not block.is_global:
            name = block.function.name
        block = block.superblock
    return name


def _is_arm():
    try:
        return gdb.selected_inferior().architecture().name().startswith('arm')
    except (gdb.error, AttributeError, RuntimeError):
        return False


def _tag_string(addr):
    try:
        raw = bytes(gdb.selected_inferior().read_memory(addr, 64))
    except (gdb.error, gdb.MemoryError, OverflowError, ValueError):
        return None
    end = raw.find(b'\0')
    if end <= 0:
        return None
    text = raw[:end]
    if all(32 <= c < 127 for c in text):
        return '"%s"' % text.decode('ascii')     # quoted, as heapview shows tags
    return None


def _value(expr):
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error:
        return None


def _fields(value_type):
    t = value_type.strip_typedefs()
    if t.code != gdb.TYPE_CODE_STRUCT:
        return ()
    return tuple(f.name for f in t.fields())


# ---- finding heaps ----------------------------------------------------------

class Target:
    """What to decode: ('heapview', name, ctl) or ('upstream', name, pheap, numblocks, bs, size)."""

    def __init__(self, kind, name, *args):
        self.kind = kind
        self.name = name
        self.args = args

    @property
    def address(self):
        return self.args[0]


def _upstream_target(name, value):
    pheap = int(value['pheap'])
    numblocks = int(value['numblocks'])
    heap_size = int(value['heap_size'])
    if pheap == 0 or numblocks == 0:
        raise U.DecodeError("upstream heap '%s' is not initialised" % name)
    block_bytes = 0     # 0: the decoder derives it as heapview does
    try:
        block_bytes = gdb.lookup_type('umm_block').sizeof
    except gdb.error:
        pass
    return Target('upstream', name, pheap, numblocks, block_bytes, heap_size)


def _target_from_value(name, value):
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        target = t.target().strip_typedefs()
        if int(value) == 0:
            raise U.DecodeError("'%s' is a null pointer" % name)
        if target.code == gdb.TYPE_CODE_STRUCT and 'ctl' not in _fields(target) \
                and 'numblocks' not in _fields(target):
            return Target('heapview', name, int(value))       # struct umm_ctl *
        value = value.dereference()
        t = value.type.strip_typedefs()
    fields = _fields(t)
    if 'ctl' in fields:
        ctl = int(value['ctl'])
        if ctl == 0:
            raise U.DecodeError("heap '%s' is not initialised (ctl is 0)" % name)
        return Target('heapview', name, ctl)
    if 'numblocks' in fields:
        return _upstream_target(name, value)
    if t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_PTR) or t.code == gdb.TYPE_CODE_ARRAY:
        return Target('heapview', name, int(value.address if t.code == gdb.TYPE_CODE_ARRAY else value))
    raise U.DecodeError("'%s' is neither a heap nor an address" % name)


def _scan_targets(scan, command):
    """Heaps found by scanning START:END for control blocks (no symbols needed)."""
    try:
        lo_text, hi_text = scan.split(':', 1)
        lo, hi = int(gdb.parse_and_eval(lo_text)), int(gdb.parse_and_eval(hi_text))
    except (ValueError, gdb.error):
        raise gdb.GdbError("%s: --scan wants START:END, not '%s'" % (command, scan)) from None
    if not 0 <= lo < hi or hi - lo > (256 << 20):
        raise gdb.GdbError('%s: --scan range 0x%x:0x%x is empty or over 256 MiB' % (command, lo, hi))
    try:
        found = U.scan_for_heaps(MEMORY, lo, hi)
    except U.DecodeError as err:
        raise gdb.GdbError('%s: scan: %s' % (command, err)) from None
    if not found:
        raise gdb.GdbError('%s: no heapview control block in 0x%x..0x%x' % (command, lo, hi))
    return [Target('heapview', 'heap@0x%x' % a, a) for a in found], []


def _is_number(text):
    try:
        int(text, 0)
        return True
    except ValueError:
        return False


def find_targets(spec, command, scan=None):
    """Heaps to decode: the one `--heap` names, those a `--scan` finds, else
    every heap on umm_heap_list (named after umm_heap_default where it
    matches), else umm_heap_current."""
    if scan:
        return _scan_targets(scan, command)
    if spec:
        value = _value(spec)
        if value is None:
            raise gdb.GdbError("%s: cannot evaluate '%s'" % (command, spec))
        try:
            target = _target_from_value(spec, value)
            if target.kind == 'heapview' and _is_number(spec):
                target.name = 'heap@0x%x' % target.address     # as heapview --heap names it
            return [target], []
        except U.DecodeError as err:
            raise gdb.GdbError('%s: %s' % (command, err)) from None
    head = _value('umm_heap_list')
    if head is not None:
        names = _heap_object_names()
        addrs, error = U.follow_heap_list(MEMORY, int(head))
        # Heaps in address order, named by the umm_heap object that holds
        # them when there is one (as heapview names them).
        targets = [Target('heapview', names.get(a) or 'umm_heap_list[%d]' % i, a)
                   for i, a in enumerate(addrs)]
        targets.sort(key=lambda t: t.address)
        errors = ['%s: umm_heap_list: %s' % (command, error)] if error else []
        if not targets and not errors:
            errors.append('%s: umm_heap_list is empty: no heap is initialised yet' % command)
        return targets, errors
    current = _value('umm_heap_current')
    if current is not None:
        try:
            return [_upstream_target('umm_heap_current', current)], []
        except U.DecodeError as err:
            raise gdb.GdbError('%s: %s' % (command, err)) from None
    raise gdb.GdbError('%s: no heap found: no umm_heap_list or umm_heap_current symbol '
                       '(name one with --heap ADDR|SYMBOL)' % command)


ELF_SYMBOLS = {}      # path -> ElfSymbols (or None), per set of object files


def _heap_object_names():
    """ctl address -> name of the umm_heap object pointing at it, found as
    heapview finds them: ELF object symbols of five (or, from older builds,
    three) address-sized fields whose third, `ctl`, is a valid control
    block; the lowest address wins."""
    path = gdb.current_progspace().filename
    if not path:
        return {}
    if path not in ELF_SYMBOLS:
        ELF_SYMBOLS[path] = read_object_symbols(path)
    syms = ELF_SYMBOLS[path]
    if syms is None:
        return {}
    bias = 0
    if syms.pie:      # a position-independent executable: where was it loaded?
        linked = syms.lookup('umm_heap_list')
        here = _value('&umm_heap_list')
        if linked is None or here is None:
            return {}
        bias = int(here) - linked
    p = syms.ptr_bytes
    fmt = syms.endian + ('I' if p == 4 else 'Q')
    names = {}
    for addr, size, name in syms.objects:
        if size not in (3 * p, 5 * p):
            continue
        try:
            ctl = struct.unpack(fmt, MEMORY(addr + bias + 2 * p, p))[0]
        except (gdb.error, gdb.MemoryError, struct.error, OverflowError, ValueError):
            continue
        if ctl == 0 or ctl in names:
            continue
        try:
            U.read_ctl(MEMORY, ctl)
        except U.DecodeError:
            continue
        names[ctl] = name
    return names


def decode(target, poison=False):
    if target.kind == 'heapview':
        return U.decode_heap(MEMORY, target.address, target.name, symbolize)
    pheap, numblocks, block_bytes, heap_size = target.args
    endian = '>' if _big_endian() else '<'
    return U.decode_upstream(MEMORY, pheap, numblocks, block_bytes, heap_size,
                             target.name, endian, poison=poison, symbolize=symbolize)


def _big_endian():
    try:
        return 'big endian' in gdb.execute('show endian', to_string=True)
    except gdb.error:
        return False


def decode_all(spec, command, scan=None, poison=False):
    """Decoded heaps; a heap that cannot be decoded is a one-line error on
    stderr, and the command fails when none could be.  `poison`: upstream
    heaps were built with UMM_POISON_CHECK."""
    targets, errors = find_targets(spec, command, scan)
    heaps = []
    for target in targets:
        try:
            heaps.append(decode(target, poison))
        except U.DecodeError as err:
            errors.append('%s: heap at 0x%x: %s' % (command, target.address, err))
    if not heaps:
        raise gdb.GdbError(errors[0] if errors else '%s: no heap found' % command)
    for line in errors:
        gdb.write(line + '\n', gdb.STDERR)
    return heaps


# ---- commands ---------------------------------------------------------------

class Options:
    def __init__(self, command, argv, flags=(), valued=(), positional=0):
        self.values = {}
        self.args = []
        i = 0
        while i < len(argv):
            a = argv[i]
            if a in flags:
                self.values[a] = True
            elif a in valued:
                if i + 1 >= len(argv):
                    raise gdb.GdbError('%s: option %s needs a value' % (command, a))
                i += 1
                self.values[a] = argv[i]
            elif a.startswith('--') and '=' in a and a.split('=', 1)[0] in valued:
                k, v = a.split('=', 1)
                self.values[k] = v
            elif a.startswith('-') and len(self.args) >= positional:
                raise gdb.GdbError("%s: unknown option '%s'" % (command, a))
            else:
                self.args.append(a)
            i += 1
        if len(self.args) > positional:
            raise gdb.GdbError("%s: unexpected argument '%s'" % (command, self.args[positional]))

    def get(self, key, default=None):
        return self.values.get(key, default)

    def number(self, command, key, default):
        text = self.values.get(key)
        if text is None:
            return default
        try:
            n = int(text, 0)
        except ValueError:
            raise gdb.GdbError("%s: %s wants a number, not '%s'" % (command, key, text)) from None
        if n < 0:
            raise gdb.GdbError('%s: %s must not be negative' % (command, key))
        return n


class UmmCommand(gdb.Command):
    name = ''
    flags = ('--poison',)
    valued = ('--heap', '--scan')
    positional = 0

    def __init__(self):
        super().__init__(self.name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            opts = Options(self.name, gdb.string_to_argv(arg), self.flags, self.valued,
                           self.positional)
            self.run(opts)
        except gdb.GdbError:
            raise
        except U.DecodeError as err:
            raise gdb.GdbError('%s: %s' % (self.name, err)) from None
        except (gdb.error, gdb.MemoryError) as err:
            raise gdb.GdbError('%s: %s' % (self.name, U.errors.one_line(err))) from None

    def run(self, opts):
        raise NotImplementedError


class UmmWalk(UmmCommand):
    """List the blocks of the heapview heaps (or --heap ADDR|SYMBOL).
Usage: umm-walk [--json] [--heap ADDR|SYMBOL | --scan START:END] [--used|--free] [--min-size N]
                [--output FILE]
Heaps come from umm_heap_list (or upstream's umm_heap_current); --heap names
one (a umm_heap object, a control block pointer or address); --scan finds
control blocks in a memory range without symbols; --poison says an upstream
heap was built with UMM_POISON_CHECK."""
    name = 'umm-walk'
    flags = ('--json', '--used', '--free', '--poison')
    valued = ('--heap', '--scan', '--min-size', '--output')

    def run(self, opts):
        if opts.get('--used') and opts.get('--free'):
            raise gdb.GdbError('umm-walk: --used and --free exclude each other')
        state = 'used' if opts.get('--used') else 'free' if opts.get('--free') else None
        min_size = opts.number(self.name, '--min-size', 0)
        heaps = decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison')))
        selected = [render.select_blocks(h, state, min_size) for h in heaps]
        if opts.get('--json'):
            filtered = state is not None or min_size > 0
            doc = U.document(U.heap_document(h, sel if filtered else None)
                             for h, sel in zip(heaps, selected))
            emit(self.name, U.to_json(doc), opts.get('--output'))
            return
        emit(self.name, ''.join(render.walk_text(h, sel) for h, sel in zip(heaps, selected)),
             opts.get('--output'))


def emit(command, text, path=None):
    """Prints `text`, or writes it to `path` (--output) and says so."""
    if not path:
        gdb.write(text)
        return
    try:
        with open(os.path.expanduser(path), 'w', encoding='utf-8') as f:
            f.write(text)
    except OSError as err:
        raise gdb.GdbError("%s: cannot write '%s': %s" % (command, path, err.strerror or err)) from None
    gdb.write('%s: wrote %d bytes to %s\n' % (command, len(text.encode('utf-8')), path))


class UmmInfo(UmmCommand):
    """Summarise the heaps: sizes, metrics, counters, the last recorded fault.
Usage: umm-info [--json] [--heap ADDR|SYMBOL] [--output FILE]"""
    name = 'umm-info'
    flags = ('--json', '--poison')
    valued = ('--heap', '--scan', '--output')

    def run(self, opts):
        heaps = decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison')))
        if opts.get('--json'):
            emit(self.name, U.to_json(U.document(U.heap_document(h) for h in heaps)), opts.get('--output'))
            return
        emit(self.name, ''.join(render.info_text(h) for h in heaps), opts.get('--output'))


class UmmCheck(UmmCommand):
    """Check every invariant of the heaps (headers, free lists, bitmap,
canaries, fill, counters) and name the allocation behind each problem.
Usage: umm-check [--heap ADDR|SYMBOL]"""
    name = 'umm-check'

    def run(self, opts):
        heaps = decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison')))
        for h in heaps:
            gdb.write(render.check_text(h))


class UmmMap(UmmCommand):
    """Draw the heap as a map of used and free cells.
Usage: umm-map [--heap ADDR|SYMBOL] [--width N]"""
    name = 'umm-map'
    valued = ('--heap', '--scan', '--width')

    def run(self, opts):
        width = opts.number(self.name, '--width', render.MAP_WIDTH) or render.MAP_WIDTH
        for h in decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison'))):
            gdb.write(render.map_text(h, width=width))


class UmmBlock(UmmCommand):
    """Show the block that holds ADDR: state, sizes, owner and neighbours.
Usage: umm-block ADDR [--heap ADDR|SYMBOL]"""
    name = 'umm-block'
    positional = 1

    def run(self, opts):
        if not opts.args:
            raise gdb.GdbError('umm-block: usage: umm-block ADDR')
        value = _value(opts.args[0])
        if value is None:
            raise gdb.GdbError("umm-block: cannot evaluate '%s'" % opts.args[0])
        addr = int(value) & ((1 << 64) - 1)
        for h in decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison'))):
            text = render.block_text(h, addr)
            if text is not None:
                gdb.write(text)
                return
            if h.address <= addr < h.blocks_base + h.unit_bytes:
                gdb.write('0x%x is in the control area of heap %s at 0x%x\n' % (addr, h.name, h.address))
                return
            for first, units, kind in h.gaps:
                lo = h.blocks_base + first * h.unit_bytes
                if lo <= addr < lo + units * h.unit_bytes:
                    gdb.write('0x%x is in units %d..%d of heap %s, which could not be decoded (%s): '
                              'run umm-check\n' % (addr, first, first + units - 1, h.name, kind))
                    return
        raise gdb.GdbError('umm-block: 0x%x is not inside any heap block' % addr)


class UmmTop(UmmCommand):
    """Live bytes by owner, largest first.
Usage: umm-top [--heap ADDR|SYMBOL] [--limit N]"""
    name = 'umm-top'
    valued = ('--heap', '--scan', '--limit')

    def run(self, opts):
        limit = opts.number(self.name, '--limit', 20)
        for h in decode_all(opts.get('--heap'), self.name, opts.get('--scan'), bool(opts.get('--poison'))):
            if h.format == 'heapview' and not (h.flag_bits & 0x4):
                gdb.write('%s: heap %s at 0x%x does not record owners (build with UMM_OWNERS)\n'
                          % (self.name, h.name, h.address), gdb.STDERR)
            gdb.write(render.top_text(h, limit))


for _cls in (UmmWalk, UmmInfo, UmmCheck, UmmMap, UmmBlock, UmmTop):
    _cls()
