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


def to_json(doc):
    return json.dumps(doc, indent=2) + '\n'
