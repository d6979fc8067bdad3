"""The JSON document of cli/JSON.md (schema 1), keys in the documented order."""

TOOL = 'heapview 0.1.0'
SCHEMA = 1

COUNTER_FIELDS = ('alloc_count', 'free_count', 'realloc_count', 'oom_count',
                  'bad_free_count', 'corruption_count', 'seq_next')


def owner_value(name, owner):
    """An owner as heapview prints it where a name is wanted: the name, else
    the value in hex, else null."""
    if name:
        return name
    if owner:
        return '0x%x' % owner
    return None


def problem_document(prob):
    doc = {'kind': prob.kind, 'address': prob.address, 'block': prob.block,
           'message': prob.message}
    if prob.culprit is not None:
        c = prob.culprit
        doc['culprit'] = {'block': c.block, 'address': c.address,
                          'owner': owner_value(c.owner_name, c.owner), 'seq': c.seq}
    return doc


def block_document(heap, b):
    return {
        'index': b.index,
        'address': b.address,
        'size': b.size,
        'state': b.state,
        'requested': b.requested,
        'seq': b.seq,
        'owner': b.owner,
        'owner_name': heap.name_owner(b.owner) if b.owner else None,
    }


def fault_document(heap):
    if not heap.last_fault:
        return None
    doc = dict(heap.last_fault)
    doc['owner'] = owner_value(heap.name_owner(doc['owner']), doc['owner'])
    return doc


def heap_document(heap, blocks=None):
    """One entry of "heaps"; `blocks` limits the listed blocks (default: all)."""
    m = heap.metrics()
    counters = None
    if heap.record is not None:
        counters = {k: heap.record[k] for k in COUNTER_FIELDS}
    doc = {
        'name': heap.name,
        'format': heap.format,
        'address': heap.address,
        'size': heap.size,
        'index_bytes': heap.index_bytes,
        'flags': list(heap.flags),
        'unit_count': heap.unit_count,
        'used_entries': m['used_entries'],
        'free_entries': m['free_entries'],
        'used_bytes': m['used_bytes'],
        'free_bytes': m['free_bytes'],
        'requested_bytes': heap.requested_bytes,
        'largest_free': m['largest_free'],
        'largest_alloc': m['largest_alloc'],
        'fragmentation': m['fragmentation'],
        'counters': counters,
        'last_fault': fault_document(heap),
        'problems': [problem_document(p) for p in heap.problems],
        'blocks': [block_document(heap, b) for b in (heap.blocks if blocks is None else blocks)],
    }
    return doc


def document(heap_docs):
    return {'schema': SCHEMA, 'tool': TOOL, 'heaps': list(heap_docs)}


def _str(text):
    """A JSON string exactly as heapview writes one: \\" \\\\ \\n \\t \\r escaped,
    every other byte below 0x20 or above 0x7e as \\u00XX."""
    out = ['"']
    for c in text.encode('utf-8', 'replace'):
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5C:
            out.append('\\\\')
        elif c == 0x0A:
            out.append('\\n')
        elif c == 0x09:
            out.append('\\t')
        elif c == 0x0D:
            out.append('\\r')
        elif c < 0x20 or c >= 0x7F:
            out.append('\\u%04x' % c)
        else:
            out.append(chr(c))
    out.append('"')
    return ''.join(out)


def _inline(value):
    """One JSON value on one line, `, ` and `: ` between items."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, dict):
        return '{' + ', '.join('%s: %s' % (_str(k), _inline(v)) for k, v in value.items()) + '}'
    return '[' + ', '.join(_inline(v) for v in value) + ']'


def _block_line(b):
    # The hot path (tens of thousands of blocks): formatted by hand.
    name = b['owner_name']
    return ('{"index": %d, "address": %d, "size": %d, "state": "%s", "requested": %s, '
            '"seq": %s, "owner": %s, "owner_name": %s}'
            % (b['index'], b['address'], b['size'], b['state'], _inline(b['requested']),
               _inline(b['seq']), _inline(b['owner']), 'null' if name is None else _str(name)))


def _problem_lines(p, indent):
    """A problem as heapview lays it out: one member per line, culprit inline."""
    pad = ' ' * (indent + 2)
    keys = list(p)
    lines = [' ' * indent + '{']
    for k in keys:
        lines.append('%s%s: %s%s' % (pad, _str(k), _inline(p[k]), ',' if k != keys[-1] else ''))
    lines.append(' ' * indent + '}')
    return '\n'.join(lines)


def to_json(doc):
    """The document laid out byte for byte as heapview writes it
    (cli/out.c): one member per line; flags, counters, last_fault, culprits
    and each block inline."""
    out = ['{', '  "schema": %s,' % _inline(doc['schema']), '  "tool": %s,' % _inline(doc['tool'])]
    heaps = doc['heaps']
    if not heaps:
        out.append('  "heaps": []')
    else:
        out.append('  "heaps": [')
        for hi, h in enumerate(heaps):
            out.append('    {')
            keys = list(h)
            for key in keys:
                value = h[key]
                comma = ',' if key != keys[-1] else ''
                if key in ('problems', 'blocks') and value:
                    if key == 'blocks':
                        items = ['        ' + _block_line(v) for v in value]
                    else:
                        items = [_problem_lines(v, 8) for v in value]
                    out.append('      "%s": [' % key)
                    out.append(',\n'.join(items))
                    out.append('      ]' + comma)
                else:
                    out.append('      "%s": %s%s' % (key, _inline(value), comma))
            out.append('    }' + (',' if hi + 1 < len(heaps) else ''))
        out.append('  ]')
    out.append('}')
    return '\n'.join(out) + '\n'
