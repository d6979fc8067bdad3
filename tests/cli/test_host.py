"""heapview on host heaps: the real allocator (tests/cli/mkdump.c) builds the
state, its own diagnostics give the truth, heapview reads the raw dump with
mkdump itself as the firmware ELF."""
import json
import random
import re
import struct
import xml.etree.ElementTree as ET

import pytest

from conftest import heapview

PREFIX_64 = 24       # FORMAT.md section 5: round_up_8(8 + P + 4) with P = 8


def heap_named(doc, name):
    for h in doc["heaps"]:
        if h["name"] == name:
            return h
    raise AssertionError(f"no heap {name} in {[h['name'] for h in doc['heaps']]}")


def user_pointers(heap):
    hdr = 2 * heap["index_bytes"]
    prefix = PREFIX_64 if ("poison" in heap["flags"] or "owners" in heap["flags"]) else 0
    return sorted(b["address"] + hdr + prefix for b in heap["blocks"] if b["state"] == "used")


def test_healthy_matches_the_allocator(mkdump):
    d = mkdump("healthy")
    r = heapview("--json", d.path, d.elf)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "umm_heap_default")
    assert h["address"] == d.truth["heaps"]["umm_heap_default"]
    info = d.truth["info"]
    for key in ("used_entries", "free_entries", "used_bytes", "free_bytes", "largest_free",
                "largest_alloc", "requested_bytes", "fragmentation"):
        assert h[key] == info[key], key
    assert h["problems"] == []
    assert h["last_fault"] is None
    assert h["counters"]["alloc_count"] >= len(d.truth["live"])
    assert user_pointers(h) == sorted(l["ptr"] for l in d.truth["live"])
    sizes = {l["ptr"]: l["size"] for l in d.truth["live"]}
    for b in h["blocks"]:
        if b["state"] == "used":
            assert b["requested"] == sizes[b["address"] + 4 + PREFIX_64]
            assert re.match(r"alloc_(sensor|network)\+0x[0-9a-f]+ \(mkdump\.c:\d+\)$", b["owner_name"]), b


def test_release_heap_has_no_prefix_or_record(mkdump):
    d = mkdump("healthy", release=True)
    r = heapview("--json", d.path, d.elf)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "umm_heap_default")
    assert h["counters"] is None and h["last_fault"] is None and h["requested_bytes"] is None
    assert "poison" not in h["flags"]
    assert user_pointers(h) == sorted(l["ptr"] for l in d.truth["live"])
    assert all(b["requested"] is None and b["owner"] is None and b["owner_name"] is None
               for b in h["blocks"])


@pytest.mark.parametrize("scenario,kind", [
    ("overrun", "overrun"), ("underrun", "underrun"), ("header-smash", "header"),
    ("use-after-free", "use_after_free"), ("double-free", "double_free"), ("freelist", "freelist"),
])
def test_damage_is_found_where_it_was_done(mkdump, scenario, kind):
    d = mkdump(scenario)
    r = heapview("--json", d.path, d.elf)
    assert r.rc == 1, r.err
    h = heap_named(r.json(), "umm_heap_default")
    kinds = [p["kind"] for p in h["problems"]]
    assert kinds[0] == kind, h["problems"]
    p = h["problems"][0]
    assert p["address"] == d.truth["damaged_address"]
    if kind in ("overrun", "underrun"):
        # The culprit is the allocation whose bounds were broken, named.
        assert p["culprit"]["address"] + 4 + PREFIX_64 == d.truth["damaged_ptr"]
        assert p["culprit"]["owner"].startswith("alloc_network+0x")
        assert "alloc_network" in p["message"]
    if kind == "header":
        # The allocation just before the smashed header is blamed.
        before = [b for b in h["blocks"] if b["address"] + b["size"] == p["address"]]
        assert len(before) == 1 and before[0]["state"] == "used"
        assert p["culprit"]["address"] == before[0]["address"]
        assert p["culprit"]["owner"] == before[0]["owner_name"]
    if kind == "double_free":
        assert h["last_fault"]["kind"] == "double_free"
        assert h["last_fault"]["op"] == "free"
        assert h["counters"]["bad_free_count"] == 1
    text = heapview("--no-color", d.path, d.elf)
    assert text.rc == 1
    assert f"{kind} at 0x{d.truth['damaged_address']:x}" in text.out


def test_two_heaps_found_through_symbols(mkdump):
    d = mkdump("two-heaps")
    r = heapview("--json", d.path, d.elf)
    assert r.rc == 0, r.err
    doc = r.json()
    assert {h["name"] for h in doc["heaps"]} == {"umm_heap_default", "second_heap"}
    second = heap_named(doc, "second_heap")
    assert second["address"] == d.truth["heaps"]["second_heap"]
    assert user_pointers(second) == sorted(l["ptr"] for l in d.truth["live"] if l["heap"] == 1)


def test_wide_heap(mkdump):
    d = mkdump("wide")
    r = heapview("--json", d.path, d.elf)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "wide_heap")
    assert h["index_bytes"] == 4
    assert h["address"] == d.truth["heaps"]["wide_heap"]
    assert user_pointers(h) == sorted(l["ptr"] for l in d.truth["live"] if l["heap"] == 2)
    assert h["problems"] == []


def test_many_blocks(workdir):
    """Thousands of alternating blocks: the block array grows while it is
    walked (a regression: a pointer into it was kept across the growth)."""
    import subprocess
    from conftest import MKDUMP_INSTR
    out = workdir / "many.bin"
    truth = json.loads(subprocess.check_output([MKDUMP_INSTR, "many", str(out)], text=True))["many"]
    r = heapview("--json", out, MKDUMP_INSTR)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "wide_heap")
    assert h["used_entries"] == truth["live"] and truth["live"] > 2000
    assert h["free_entries"] in (truth["allocated"] - truth["live"], truth["allocated"] - truth["live"] + 1)
    assert h["problems"] == []
    assert h["fragmentation"] > 90


def test_upstream_heap_found_through_umm_heap_current(workdir):
    import subprocess
    from conftest import MKDUMP_INSTR
    out = workdir / "upstream.bin"
    where = json.loads(subprocess.check_output([MKDUMP_INSTR, "upstream", str(out)], text=True))["upstream"]
    r = heapview("--json", "--upstream", out, MKDUMP_INSTR)
    assert r.rc == 0, r.err
    up = heap_named(r.json(), "umm_heap_current")
    assert up["format"] == "upstream" and up["address"] == where and up["unit_count"] == 64
    assert [(b["size"], b["state"]) for b in up["blocks"]] == [(24, "used"), (59 * 8, "free")]
    # heap_size / numblocks says 16 here; the block size came from DWARF
    # (umm_block_t), and forcing the wrong one shows as damage
    assert up["size"] == 1024
    wrong = heapview("--json", "--upstream", "--block-size", "16", out, MKDUMP_INSTR)
    assert wrong.rc == 1 and heap_named(wrong.json(), "umm_heap_current")["problems"]
    # without --upstream the heapview heaps alone are reported
    names = [h["name"] for h in heapview("--json", out, MKDUMP_INSTR).json()["heaps"]]
    assert "umm_heap_current" not in names


def test_colour_on_a_terminal(mkdump):
    """--color auto colours a TTY (a pseudo-terminal here) unless NO_COLOR."""
    import os
    import pty
    import subprocess
    from conftest import HEAPVIEW
    d = mkdump("overrun")

    def on_tty(env):
        master, slave = pty.openpty()
        p = subprocess.Popen([HEAPVIEW, str(d.path), d.elf], stdout=slave, stderr=subprocess.DEVNULL,
                             env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        p.wait(timeout=30)
        os.close(master)
        return b"".join(chunks).decode()

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    assert "\033[31m" in on_tty(env)
    assert "\033[" not in on_tty(dict(env, NO_COLOR="1"))


def test_diff_names_the_leaking_owner(mkdump, workdir):
    d = mkdump("leak")
    a, b = f"{d.path}.1", f"{d.path}.2"
    r = heapview("diff", "--json", a, b, d.elf)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "umm_heap_default")
    assert h["used_entries_delta"] == 5
    leaky = [o for o in h["owners"] if re.match(r"alloc_leaky(\.\w+)*\+0x", o["owner_name"] or "")]
    assert len(leaky) == 1 and leaky[0]["new_count"] == 5 and leaky[0]["count_before"] == 0
    assert all(o["new_count"] == 0 for o in h["owners"] if o is not leaky[0])
    t = heapview("diff", a, b, d.elf)
    assert "+5 allocations" in t.out and re.search(r"alloc_leaky(\.\w+)*\+0x", t.out)


def write_ihex(data, base, path):
    """Type 00/04/01 records of at most 16 bytes that never cross a 64 KiB
    boundary (inside a record the offset wraps, as objcopy never lets it)."""
    lines, upper, off = [], None, 0
    while off < len(data):
        addr = base + off
        n = min(16, len(data) - off, 0x10000 - (addr & 0xFFFF))
        if addr >> 16 != upper:
            upper = addr >> 16
            rec = bytes([2, 0, 0, 4, upper >> 8 & 0xFF, upper & 0xFF])
            lines.append(":" + (rec + bytes([-sum(rec) & 0xFF])).hex().upper())
        rec = bytes([n, addr >> 8 & 0xFF, addr & 0xFF, 0]) + data[off:off + n]
        lines.append(":" + (rec + bytes([-sum(rec) & 0xFF])).hex().upper())
        off += n
    lines.append(":00000001FF")
    path.write_text("\r\n".join(lines) + "\r\n")


def write_core64(segments, path):
    """A minimal ELF64 little-endian core: one PT_LOAD per (address, bytes)."""
    phoff, phnum = 64, len(segments)
    data_off = phoff + 56 * phnum
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0)
    phs, blobs, off = b"", b"", data_off
    for addr, blob in segments:
        phs += struct.pack("<IIQQQQQQ", 1, 6, off, addr, 0, len(blob), len(blob), 1)
        blobs += blob
        off += len(blob)
    path.write_bytes(eh + phs + blobs)


def elf_lowest_writable(path):
    import subprocess
    out = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True).stdout
    addrs = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S+)", line)
        if m and "W" in m.group(4) and "A" in m.group(4) and "T" not in m.group(4) and int(m.group(3), 16):
            addrs.append(int(m.group(2), 16))
    return min(addrs)


def test_every_source_gives_the_same_answer(mkdump, workdir):
    d = mkdump("overrun")
    base = elf_lowest_writable(d.elf)
    data = d.path.read_bytes()
    want = heapview("--json", d.path, d.elf)
    hexf, core = workdir / "overrun.hex", workdir / "overrun.core"
    write_ihex(data, base, hexf)
    half = (len(data) // 2) & ~7
    write_core64([(base, data[:half]), (base + half, data[half:])], core)
    (workdir / "part1.bin").write_bytes(data[:half])
    (workdir / "part2.bin").write_bytes(data[half:])
    runs = {
        "base": heapview("--json", "--base", hex(base), d.path, d.elf),
        "ihex": heapview("--json", hexf, d.elf),
        "core": heapview("--json", core, d.elf),
        "two raw images": heapview("--json", f"{workdir / 'part1.bin'}@{base:#x}",
                                   f"{workdir / 'part2.bin'}@{base + half:#x}", d.elf),
    }
    for name, r in runs.items():
        assert r.rc == want.rc == 1, (name, r.err)
        assert r.out == want.out, name


def test_raw_image_starting_with_a_colon_is_raw(mkdump, workdir):
    """A raw image whose first byte is ':' (0x3A) is read as raw, not as
    Intel HEX: the same bytes as an ELF core give the same answer."""
    d = mkdump("healthy")
    base = elf_lowest_writable(d.elf)
    data = b":" + d.path.read_bytes()[1:]
    raw, core = workdir / "colon.bin", workdir / "colon.core"
    raw.write_bytes(data)
    write_core64([(base, data)], core)
    want = heapview("--json", core, d.elf)
    r = heapview("--json", f"{raw}@{base:#x}", d.elf)
    assert r.rc == want.rc == 0, r.err
    assert r.out == want.out


def test_heap_by_address_without_symbols(mkdump, workdir):
    d = mkdump("healthy")
    base = elf_lowest_writable(d.elf)
    ctl = d.truth["heaps"]["umm_heap_default"]
    data = d.path.read_bytes()
    region = data[ctl - base: ctl - base + 16384]
    (workdir / "heap-only.bin").write_bytes(region)
    with_elf = heap_named(heapview("--json", d.path, d.elf).json(), "umm_heap_default")
    r = heapview("--json", "--base", hex(ctl), "--heap", hex(ctl), workdir / "heap-only.bin")
    assert r.rc == 0, r.err
    h = r.json()["heaps"][0]
    for key in ("used_entries", "free_entries", "used_bytes", "free_bytes", "largest_free", "fragmentation"):
        assert h[key] == with_elf[key]
    assert h["blocks"][0]["owner_name"] is None     # no ELF, no names
    # Without --heap the magic scan finds the same control block.
    s = heapview("--json", "--base", hex(ctl), workdir / "heap-only.bin")
    assert s.rc == 0 and s.json()["heaps"][0]["address"] == ctl


def test_truncated_dump_reports_what_it_could_not_read(mkdump, workdir):
    d = mkdump("healthy")
    base = elf_lowest_writable(d.elf)
    ctl = d.truth["heaps"]["umm_heap_default"]
    data = d.path.read_bytes()
    cut = ctl - base + 4096
    (workdir / "cut.bin").write_bytes(data[:cut])
    r = heapview("--json", "--heap", hex(ctl), "--base", hex(base), workdir / "cut.bin")
    assert r.rc == 1, r.err
    kinds = {p["kind"] for p in r.json()["heaps"][0]["problems"]}
    assert "unreadable" in kinds


def test_hostile_bytes_never_crash(mkdump, workdir):
    """Seeded random damage anywhere in the heap region: heapview answers 0 or
    1 and never crashes or hangs."""
    d = mkdump("two-heaps")
    base = elf_lowest_writable(d.elf)
    ctl = d.truth["heaps"]["umm_heap_default"]
    data = bytearray(d.path.read_bytes())
    rng = random.Random(1234)
    for i in range(60):
        bad = bytearray(data)
        for _ in range(rng.choice([1, 4, 32])):
            at = ctl - base + rng.randrange(16384)
            bad[at] = rng.randrange(256)
        p = workdir / "hostile.bin"
        p.write_bytes(bad)
        r = heapview("--json", p, d.elf, timeout=20)
        assert r.rc in (0, 1, 2), (i, r.rc, r.err)
        if r.rc == 2:
            assert r.err.count("\n") == 1 and r.err.startswith("heapview: ")
        else:
            r.json()


def test_usage_and_input_errors(mkdump, workdir):
    d = mkdump("healthy")
    cases = [
        ((workdir / "missing.bin", d.elf), "cannot read '.*missing.bin': No such file"),
        ((d.elf,), "no memory dump given"),
        (("--frobnicate", d.path, d.elf), "unknown option '--frobnicate'"),
        (("--base", "nope", d.path), "wants a number"),
        ((d.path,), "a raw image needs a base address"),
    ]
    (workdir / "empty.bin").write_bytes(b"")
    cases.append(((workdir / "empty.bin", d.elf), "file is empty"))
    (workdir / "zeros.bin").write_bytes(bytes(4096))
    cases.append((("--base", "0x1000", workdir / "zeros.bin"), "no heap found"))
    (workdir / "bad.hex").write_text(":10000000FFFF\n")
    cases.append(((workdir / "bad.hex", d.elf), "line 1: "))
    for args, pattern in cases:
        r = heapview(*args)
        assert r.rc == 2, (args, r.rc, r.out)
        assert r.out == ""
        assert r.err.count("\n") == 1, r.err
        assert re.match(r"(heapview: |usage: )", r.err)
        assert re.search(pattern, r.err), (pattern, r.err)
        assert not r.err.rstrip("\n").endswith(".")


def test_check_gates_and_junit(mkdump, workdir):
    d = mkdump("fragmented")
    ok = heapview("check", "--max-fragmentation", "90", "--min-largest-free", "1K", "--max-used", "50%",
                  "--junit", workdir / "ok.xml", d.path, d.elf)
    assert ok.rc == 0, ok.out + ok.err
    assert "check: passed" in ok.out
    suite = ET.parse(workdir / "ok.xml").getroot()
    assert suite.get("failures") == "0" and suite.get("tests") == "4"
    h = heap_named(heapview("--json", d.path, d.elf).json(), "umm_heap_default")
    frag = h["fragmentation"]
    bad = heapview("check", "--json", "--max-fragmentation", str(frag - 1), "--min-largest-free",
                   str(h["largest_free"] + 1), "--junit", workdir / "bad.xml", d.path, d.elf)
    assert bad.rc == 1
    doc = bad.json()
    assert doc["pass"] is False
    gates = {g["gate"]: g["pass"] for g in doc["heaps"][0]["gates"]}
    assert gates == {"integrity": True, "fragmentation": False, "largest_free": False}
    root = ET.parse(workdir / "bad.xml").getroot()
    assert root.get("failures") == "2"
    assert len(root.findall(".//failure")) == 2
    broken = mkdump("overrun")
    r = heapview("check", broken.path, broken.elf)
    assert r.rc == 1 and "FAIL integrity" in r.out


def test_map_svg_and_cells(mkdump, workdir):
    d = mkdump("fragmented")
    r = heapview("map", "--json", "--width", "32", "--rows", "8", d.path, d.elf)
    assert r.rc == 0, r.err
    m = r.json()["maps"][0]
    h = heap_named(heapview("--json", d.path, d.elf).json(), m["name"])
    assert sum(c["units"] for c in m["cells"]) == h["unit_count"]
    assert sum(c["used_units"] for c in m["cells"]) * 8 == h["used_bytes"]
    assert sum(c["free_units"] for c in m["cells"]) * 8 == h["free_bytes"]
    per = heapview("map", "--json", "--per-block", d.path, d.elf).json()["maps"][0]["cells"]
    assert [(c["first_unit"], c["units"], c["kind"]) for c in per] == \
        [(b["index"], b["size"] // 8, b["state"]) for b in h["blocks"]]
    svg = workdir / "map.svg"
    r = heapview("map", "--svg", svg, "--width", "32", "--rows", "8", d.path, d.elf)
    assert r.rc == 0, r.err
    root = ET.parse(svg).getroot()
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 32 * 8
    t = heapview("map", "--no-color", "--width", "40", "--rows", "2", d.path, d.elf)
    rows = [l for l in t.out.splitlines() if l.startswith("  |")]
    assert len(rows) == 2 and all(len(l) == 2 + 1 + 40 + 1 for l in rows)
    drawn = "".join(rows)
    assert "." in drawn and ("#" in drawn or "+" in drawn)


def test_top_and_blocks(mkdump):
    d = mkdump("healthy")
    r = heapview("top", "--json", d.path, d.elf)
    assert r.rc == 0, r.err
    h = heap_named(r.json(), "umm_heap_default")
    assert sum(o["count"] for o in h["owners"]) == h["used_entries"] == len(d.truth["live"])
    assert sum(o["bytes"] for o in h["owners"]) == h["used_bytes"]
    names = [o["owner_name"] for o in h["owners"]]
    assert any(n.startswith("alloc_sensor+") for n in names) and any(n.startswith("alloc_network+") for n in names)
    b = heapview("blocks", "--no-color", "--used", d.path, d.elf)
    rows = [l for l in b.out.splitlines() if re.match(r"\s+\d+\s+0x", l)]
    assert len(rows) == len(d.truth["live"]) and all(" used " in l for l in rows)
    f = heapview("blocks", "--no-color", "--free", d.path, d.elf)
    assert all(" free " in l for l in f.out.splitlines() if re.match(r"\s+\d+\s+0x", l))


def test_colour_only_when_asked_and_not_with_no_color(mkdump):
    d = mkdump("overrun")
    plain = heapview(d.path, d.elf)                 # not a TTY
    assert "\033[" not in plain.out
    forced = heapview("--color", "always", d.path, d.elf)
    assert "\033[31m" in forced.out
    auto = heapview("--color", "auto", d.path, d.elf, env={"NO_COLOR": "1"})
    assert "\033[" not in auto.out
    assert re.sub(r"\033\[[0-9;]*m", "", forced.out) == plain.out


@pytest.mark.parametrize("cmd", ["report", "blocks", "map", "top", "diff", "check"])
def test_help_lists_the_option_table(cmd):
    r = heapview(cmd, "--help")
    assert r.rc == 0 and r.out.startswith(f"usage: heapview {cmd} ")
    for opt in ("--json", "--base", "--heap", "--no-color"):
        assert opt in r.out
    extra = {"map": ["--svg", "--width"], "top": ["--limit"], "check": ["--max-fragmentation", "--junit"],
             "blocks": ["--used", "--free"]}
    for opt in extra.get(cmd, []):
        assert opt in r.out


def test_every_command_speaks_json(mkdump):
    d = mkdump("leak")
    a, b = f"{d.path}.1", f"{d.path}.2"
    for args in (["report"], ["blocks"], ["map"], ["top"], ["check"]):
        r = heapview(*args, "--json", a, d.elf)
        assert r.rc == 0, (args, r.err)
        doc = r.json()
        assert doc["schema"] == 1 and doc["tool"].startswith("heapview ")
    r = heapview("diff", "--json", a, b, d.elf)
    assert r.json()["schema"] == 1


def test_gdb_gcore_of_the_host_process(mkdump, workdir):
    """A real `gcore` (gdb, PT_LOAD at p_vaddr) of mkdump stopped where it
    would write its dump gives the same report as the raw dump."""
    import shutil
    import subprocess
    import os
    gdb = shutil.which("gdb") or shutil.which("gdb-multiarch")
    if not gdb:
        pytest.skip("no gdb")
    if "ASAN_OPTIONS" in os.environ or "SANITIZE" in os.environ:
        # a sanitized process maps terabytes of shadow memory: its core
        # would fill the disk
        pytest.skip("not under ASan")
    d = mkdump("overrun")
    core = workdir / "overrun.gcore"
    r = subprocess.run([gdb, "-batch", "-nx", "-ex", "break write_dump", "-ex", "run", "-ex", f"gcore {core}",
                        "-ex", "kill", "--args", d.elf, "overrun", str(workdir / "unused.bin")],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if not core.exists():
        pytest.skip("gdb could not write a core here: " + r.stderr[-300:])
    size = core.stat().st_size
    if size > 64 << 20:
        core.unlink()
        pytest.fail(f"gcore wrote {size} bytes")
    a = heapview("--json", d.path, d.elf)
    b = heapview("--json", core, d.elf)
    assert a.rc == b.rc == 1, b.err
    assert a.json() == b.json()


def test_gap_in_the_dump_is_reported_and_stepped_over(mkdump, workdir):
    """Two images with a hole inside the heap: the hole is `unreadable`, and
    the walk resynchronises after it."""
    d = mkdump("fragmented")
    base = elf_lowest_writable(d.elf)
    ctl = d.truth["heaps"]["umm_heap_default"]
    data = d.path.read_bytes()
    whole = heap_named(heapview("--json", d.path, d.elf).json(), "umm_heap_default")
    hole_start = (ctl - base) + 1024
    hole_end = hole_start + 512
    (workdir / "lo.bin").write_bytes(data[:hole_start])
    (workdir / "hi.bin").write_bytes(data[hole_end:])
    r = heapview("--json", f"{workdir / 'lo.bin'}@{base:#x}", f"{workdir / 'hi.bin'}@{base + hole_end:#x}", d.elf)
    assert r.rc == 1, r.err
    h = heap_named(r.json(), "umm_heap_default")
    hole = [p for p in h["problems"] if p["kind"] == "unreadable"]
    assert hole and hole[0]["address"] == base + hole_start
    after = [b for b in whole["blocks"] if b["address"] >= base + hole_end + 64]
    got = {(b["address"], b["size"], b["state"]) for b in h["blocks"]}
    assert after and all((b["address"], b["size"], b["state"]) in got for b in after)
