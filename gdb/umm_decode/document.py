"""The JSON document of cli/JSON.md (schema 1), keys in the documented order."""
import json

TOOL = 'heapview 0.1.0'
SCHEMA = 1

COUNTER_FIELDS = ('alloc_count', 'free_count', 'realloc_count', 'oom_count',
                  'bad_free_count', 'corruption_count', 'seq_next')


def problem_document(prob):
    doc = {'kind': prob.kind, 'address': prob.address, 'block': prob.block,
           'message': prob.message}
    if prob.culprit is not None:
        c = prob.culprit
        doc['culprit'] = {'block': c.block, 'address': c.address, 'owner': c.owner_name,
                          'seq': c.seq}
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
        'owner_name': heap.owner_name(b.owner),
    }


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
        'last_fault': dict(heap.last_fault) if heap.last_fault else None,
        'problems': [problem_document(p) for p in heap.problems],
        'blocks': [block_document(heap, b) for b in (heap.blocks if blocks is None else blocks)],
    }
    return doc


def document(heap_docs):
    return {'schema': SCHEMA, 'tool': TOOL, 'heaps': list(heap_docs)}


def _inline(value):
    """One JSON value on one line, `, ` and `: ` between items."""
    return json.dumps(value, separators=(', ', ': '))


def _num(value):
    return 'null' if value is None else str(value)


def _block_line(b):
    # The hot path (tens of thousands of blocks): formatted by hand, same
    # text json.dumps would give for the dict.
    name = b['owner_name']
    return ('{"index": %d, "address": %d, "size": %d, "state": "%s", "requested": %s, '
            '"seq": %s, "owner": %s, "owner_name": %s}'
            % (b['index'], b['address'], b['size'], b['state'], _num(b['requested']),
               _num(b['seq']), _num(b['owner']), 'null' if name is None else json.dumps(name)))


def to_json(doc):
    """The document laid out as cli/JSON.md shows it: one key per line, and
    each flag list, counter set, fault, problem and block on a line of its own."""
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
                    lines = [_block_line(v) if key == 'blocks' else _inline(v) for v in value]
                    out.append('      "%s": [' % key)
                    out.append(',\n'.join('        ' + line for line in lines))
                    out.append('      ]' + comma)
                else:
                    out.append('      "%s": %s%s' % (key, _inline(value), comma))
            out.append('    }' + (',' if hi + 1 < len(heaps) else ''))
        out.append('  ]')
    out.append('}')
    return '\n'.join(out) + '\n'
