"""heapview on heaps written from the specs alone (specheap.py): golden text
output, upstream umm_malloc heaps, and decoder/encoder agreement."""
import os
import struct
from pathlib import Path

import pytest

import specheap
from conftest import heapview

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("HV_REGEN_GOLDEN") == "1"
ADDR = 0x20000100


def golden(name, text):
    path = GOLDEN / name
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"missing {path}; run with HV_REGEN_GOLDEN=1 and review it"
    assert text == path.read_text()


def fixture_heap(flags, damage=None):
    blocks = [
        dict(units=5, state="used", requested=12, seq=1, owner=0x1234),
        dict(units=4, state="free"),
        dict(units=9, state="used", requested=40, seq=2, owner=0x1234),
        dict(units=4, state="used", requested=3, seq=4, owner=0x5678),
        dict(units=20, state="free"),
        dict(units=6, state="used", requested=20, seq=5, owner=0x5678),
        dict(units=0, state="free"),
    ]
    mem, ctl, n = specheap.heapview_heap(ADDR, 4096, blocks, flags, seq_next=6)
    mem = bytearray(mem)
    return mem, ctl, n


FULL = specheap.F_METRICS | specheap.F_POISON | specheap.F_OWNERS | specheap.F_FILL


def run_mem(tmp_path, mem, *args, name="heap.bin"):
    p = tmp_path / name
    p.write_bytes(bytes(mem))
    return heapview(*args, f"{p}@{ADDR:#x}")


def test_spec_heap_decodes_as_written(tmp_path):
    mem, ctl, n = fixture_heap(FULL)
    r = run_mem(tmp_path, mem, "--json")
    assert r.rc == 0, r.out + r.err
    h = r.json()["heaps"][0]
    assert h["address"] == ctl and h["unit_count"] == n and h["name"] == f"heap@{ctl:#x}"
    assert h["flags"] == ["metrics", "poison", "owners", "fill"]
    assert [b["size"] // 8 for b in h["blocks"]][:6] == [5, 4, 9, 4, 20, 6]
    assert [b["requested"] for b in h["blocks"] if b["state"] == "used"] == [12, 40, 3, 20]
    assert h["used_entries"] == 4 and h["requested_bytes"] == 75
    assert h["counters"]["seq_next"] == 6


def test_golden_report_healthy(tmp_path):
    mem, _, _ = fixture_heap(FULL)
    golden("report-healthy.txt", run_mem(tmp_path, mem, "--no-color").out)


def test_golden_report_damage(tmp_path):
    mem, ctl, n = fixture_heap(FULL)
    ctl_bytes = struct.unpack_from("<H", mem, 10)[0]
    unit = lambda i: ctl_bytes + 8 * i
    mem[unit(1) + 4 + 16 + 12 + 1] = 0x00         # block 1: second byte past its 12 requested
    mem[unit(6) + 4 + 6] = 0x42                   # free block 6: fill byte after the links
    struct.pack_into("<HH", mem, unit(19), 0x4141, 0x4141)   # block 19's header smashed
    r = run_mem(tmp_path, mem, "--no-color")
    assert r.rc == 1
    golden("report-damage.txt", r.out)
    b = run_mem(tmp_path, mem, "blocks", "--no-color")
    golden("blocks-damage.txt", b.out)


def test_golden_release_map(tmp_path):
    mem, _, _ = fixture_heap(0)
    r = run_mem(tmp_path, mem, "map", "--no-color", "--width", "32", "--rows", "4")
    assert r.rc == 0
    golden("map-release.txt", r.out)


def test_record_disagreeing_with_blocks_is_a_control_problem(tmp_path):
    mem, ctl, n = fixture_heap(FULL)
    instr_off = struct.unpack_from("<H", mem, 26)[0]
    struct.pack_into("<I", mem, instr_off + 28, 99)      # used_blocks
    r = run_mem(tmp_path, mem, "--json")
    assert r.rc == 1
    p = r.json()["heaps"][0]["problems"]
    assert [x["kind"] for x in p] == ["control"] and "used_blocks = 99" in p[0]["message"]


def test_bitmap_and_bins_checked(tmp_path):
    mem, ctl, n = fixture_heap(FULL)
    bitmap_off = struct.unpack_from("<H", mem, 22)[0]
    struct.pack_into("<I", mem, bitmap_off + 4, 0)       # clear every class bit
    r = run_mem(tmp_path, mem, "--json")
    assert r.rc == 1
    msgs = [x["message"] for x in r.json()["heaps"][0]["problems"]]
    assert any(m.startswith("bitmap word 0") for m in msgs) and any("summary" in m for m in msgs)


def test_free_list_cycle_is_bounded(tmp_path):
    mem, ctl, n = fixture_heap(0)
    ctl_bytes = struct.unpack_from("<H", mem, 10)[0]
    # block 23 (20 units): next_free = itself
    struct.pack_into("<H", mem, ctl_bytes + 8 * 23 + 4, 23)
    r = run_mem(tmp_path, mem, "--json")
    assert r.rc == 1
    assert any("listed twice" in x["message"] or "prev_free" in x["message"]
               for x in r.json()["heaps"][0]["problems"])


def up_blocks():
    return [(3, "used", 10), (2, "free", 0), (4, "used", 20), (1, "used", 2), (0, "free", 0)]


def test_upstream_heap(tmp_path):
    mem = specheap.upstream_heap(64, up_blocks())
    p = tmp_path / "up.bin"
    p.write_bytes(mem)
    r = heapview("--json", "--upstream", "--heap", hex(ADDR), "--heap-size", "512", f"{p}@{ADDR:#x}")
    assert r.rc == 0, r.err
    h = r.json()["heaps"][0]
    assert h["format"] == "upstream" and h["unit_count"] == 64
    assert [(b["size"] // 8, b["state"]) for b in h["blocks"]] == [(3, "used"), (2, "free"), (4, "used"),
                                                                   (1, "used"), (52, "free")]
    # UPSTREAM-UMM.md metric: 100 - floor(sqrt(sum f^2)) * 100 / sum f, in blocks
    assert h["fragmentation"] == 100 - int((2 * 2 + 52 * 52) ** 0.5) * 100 // 54
    golden("report-upstream.txt",
           heapview("--no-color", "--upstream", "--heap", hex(ADDR), "--heap-size", "512", f"{p}@{ADDR:#x}").out)


def test_upstream_poison_overrun_and_block_size(tmp_path):
    mem = bytearray(specheap.upstream_heap(64, up_blocks(), bs=16, poison=True))
    d = 6 * 16 + 4                                    # block 6: the 20-byte allocation
    mem[d + 6 + 20] = 0                               # first post-canary byte
    p = tmp_path / "up16.bin"
    p.write_bytes(mem)
    r = heapview("--json", "--upstream", "--poison", "--block-size", "16", "--heap", hex(ADDR),
                 "--heap-size", str(64 * 16), f"{p}@{ADDR:#x}")
    assert r.rc == 1, r.err
    h = r.json()["heaps"][0]
    assert [b["requested"] for b in h["blocks"] if b["state"] == "used"] == [10, 20, 2]
    assert [(x["kind"], x["address"]) for x in h["problems"]] == [("overrun", ADDR + d + 6 + 20)]


@pytest.mark.parametrize("bs", [8, 12, 16])
def test_upstream_alternating_holes_reference_points(tmp_path, bs):
    """UPSTREAM-UMM.md reference: 0x2000 blocks... here a smaller heap with every other
    one-block hole; the metric is recomputed from the spec formula."""
    blocks = []
    for i in range(200):
        blocks.append((1, "used", 0))
        blocks.append((1, "free", 0))
    blocks.append((1, "used", 0))
    blocks.append((0, "free", 0))
    numblocks = 1024
    mem = specheap.upstream_heap(numblocks, blocks, bs=bs)
    p = tmp_path / f"alt{bs}.bin"
    p.write_bytes(mem)
    r = heapview("--json", "--upstream", "--block-size", str(bs), "--heap", hex(ADDR), "--heap-size",
                 str(numblocks * bs), f"{p}@{ADDR:#x}")
    assert r.rc == 0, r.err
    h = r.json()["heaps"][0]
    free = [1] * 200 + [numblocks - 2 - 401]
    assert h["free_entries"] == 201
    assert h["fragmentation"] == 100 - int(sum(f * f for f in free) ** 0.5) * 100 // sum(free)


def test_big_endian_heap(tmp_path):
    """The magic tells the byte order; a big-endian target's heap decodes the same."""
    blocks = lambda: [dict(units=5, state="used", requested=12, seq=1, owner=0x1234), dict(units=4, state="free"),
                      dict(units=9, state="used", requested=40, seq=2, owner=0x1234), dict(units=0, state="free")]
    little, _, _ = specheap.heapview_heap(ADDR, 2048, blocks(), FULL, seq_next=3)
    big, _, _ = specheap.heapview_heap(ADDR, 2048, blocks(), FULL, seq_next=3, endian=">")
    assert little != big and big[:4] == b"HMMU"
    a = run_mem(tmp_path, little, "--json", name="le.bin")
    b = run_mem(tmp_path, big, "--json", name="be.bin")
    assert a.rc == b.rc == 0, b.out + b.err
    assert a.json() == b.json()
    damaged = bytearray(big)
    ctl_bytes = int.from_bytes(big[10:12], "big")
    damaged[ctl_bytes + 8 * 1 + 4 + 16 + 12] = 0     # first byte past block 1's 12 requested
    r = run_mem(tmp_path, damaged, "--json", name="be-bad.bin")
    assert r.rc == 1
    assert [(p["kind"], p["address"]) for p in r.json()["heaps"][0]["problems"]] == \
        [("overrun", ADDR + ctl_bytes + 8 + 4 + 16 + 12)]


@pytest.mark.parametrize("field,offset,value,fmt", [
    ("unit_count", 12, 0xFFFFFFF0, "<I"),      # far beyond a narrow heap
    ("ctl_bytes", 10, 8, "<H"),                # smaller than the control block
    ("index_bytes", 5, 3, "<B"),
    ("class_count", 20, 7, "<B"),
    ("reserved", 30, 0x55, "<H"),
])
def test_control_block_damage(tmp_path, field, offset, value, fmt):
    mem, ctl, n = fixture_heap(FULL)
    struct.pack_into(fmt, mem, offset, value)
    r = run_mem(tmp_path, mem, "--json", name=f"ctl-{field}.bin")
    assert r.rc == 1, r.err
    p = r.json()["heaps"][0]["problems"]
    assert p[0]["kind"] == "control" and field in p[0]["message"]


def test_heap_address_that_is_not_a_heap(tmp_path):
    mem, ctl, n = fixture_heap(FULL)
    r = run_mem(tmp_path, mem, "--heap", hex(ADDR + 64))
    assert r.rc == 2 and r.out == ""
    assert r.err.startswith("heapview: cannot read '") and f"no heapview control block at {ADDR + 64:#x}" in r.err
    struct.pack_into("<I", mem, 32, ADDR + 8)          # self no longer matches
    r = run_mem(tmp_path, mem, "--heap", hex(ADDR))
    assert r.rc == 2 and "names itself" in r.err
    r = run_mem(tmp_path, mem)                         # and the scan no longer believes it
    assert r.rc == 2 and "no heap found" in r.err
