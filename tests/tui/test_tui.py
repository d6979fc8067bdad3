"""`heapview tui` in a pseudo-terminal against RAM captures of the scenario
firmwares.  What the screen shows is checked against `heapview report
--json` on the same capture (the analysis core's own numbers), and the
terminal is checked to be restored however the program ends."""
import os
import re
import signal
import subprocess
import time

import pytest

from term import HEAPVIEW, Term, dump_args, report_json, tui

STATUS = re.compile(r"used (\d+) B in (\d+)  free (\d+) B in (\d+)  largest free (\d+) B  "
                    r"frag (\d+)%  problems (\d+)")
HEADER = re.compile(r"heap (\d+)/(\d+) (\S+) @0x([0-9a-f]+)  1 cell = (\d+) (unit|units|block)")
BLOCK = re.compile(r"^block (\d+) @0x([0-9a-f]+)  (\S+(?: \S+)?)", re.M)


def status(text):
    m = STATUS.search(text)
    assert m, text
    return [int(x) for x in m.groups()]


def header(text):
    m = HEADER.search(text)
    assert m, text
    return m


def inspected(text):
    m = BLOCK.search(text)
    assert m, text
    return int(m.group(1)), int(m.group(2), 16), m.group(3).strip()


def map_rows(text):
    """The map: from the row under the header to the legend."""
    lines = text.split("\n")
    end = next(i for i, l in enumerate(lines) if l.startswith("# used"))
    return lines[1:end]


def origin(h):
    """Map units before unit 0: the control block up to the block array
    (lib/FORMAT.md section 1), rounded up to whole units."""
    blocks_address = h["blocks"][0]["address"] - 8 * h["blocks"][0]["index"]
    return -(-(blocks_address - h["address"]) // 8)


def fit_units(h, cells):
    upc = 1
    while -(-(h["unit_count"] + origin(h)) // upc) > cells:
        upc *= 2
    return upc


def expect_status(text, h):
    assert status(text) == [h["used_bytes"], h["used_entries"], h["free_bytes"], h["free_entries"],
                            h["largest_free"], h["fragmentation"], len(h["problems"])]


@pytest.fixture
def term_list():
    terms = []
    yield terms
    for t in terms:
        t.close()


def start(term_list, fw, *extra, **kw):
    t = tui(fw, *extra, **kw)
    term_list.append(t)
    t.wait_for(lambda s: "inspector" in s or "too small" in s, what="first screen")
    return t


def test_healthy_summary_and_inspector_match_the_report(term_list):
    doc = report_json("sc-healthy")
    h = doc["heaps"][0]
    t = start(term_list, "sc-healthy")
    text = t.screen()
    expect_status(text, h)
    m = header(text)
    assert m.group(3) == h["name"] and int(m.group(4), 16) == h["address"]
    # the cursor starts on the first block; stepping right walks the blocks in order
    blocks = h["blocks"]
    for b in blocks[:4]:
        text = t.screen()
        index, addr, state = inspected(text)
        assert (index, addr) == (b["index"], b["address"])
        assert state == b["state"]
        assert "size %d B" % b["size"] in text
        if b["state"] == "used":
            assert "requested %d  seq %d" % (b["requested"], b["seq"]) in text
            assert "owner " + b["owner_name"] in text
        t.keys("Right")


def test_fit_scale_follows_the_terminal(term_list):
    """Fit zoom: the smallest power-of-two units per cell that puts the
    whole unit array on the map rows."""
    h = report_json("sc-healthy")["heaps"][0]
    t = start(term_list, "sc-healthy")
    text = t.screen()
    rows = len(map_rows(text))
    upc = fit_units(h, 100 * rows)
    assert int(header(text).group(5)) == upc
    # zooming in doubles the detail; the map scrolls with the cursor
    t.keys("+")
    assert int(header(t.screen()).group(5)) == max(upc // 2, 1)
    t.keys("End")
    assert "end marker" in t.screen()
    t.keys("0", "b")
    assert "1 cell = 1 block" in t.screen()
    # one cell per block: control block, head sentinel, the blocks, end marker
    row = map_rows(t.screen())[0].rstrip()
    assert len(row) == len(h["blocks"]) + 3
    assert row[-1] == "@" and row[-2] == "<" and row[0] == "=" and row[1] == "="


def test_down_moves_one_map_row(term_list):
    """j/Down: the block under the cell one row below; a block taller than
    the move is stepped past."""
    h = report_json("sc-healthy")["heaps"][0]
    t = start(term_list, "sc-healthy")
    upc = int(header(t.screen()).group(5))
    index = inspected(t.screen())[0]
    for _ in range(4):
        want_unit = ((index + origin(h)) // upc + 100) * upc - origin(h)
        holder = [b for b in h["blocks"] if b["index"] <= want_unit < b["index"] + b["size"] // 8]
        t.keys("j")
        now = inspected(t.screen())[0] if BLOCK.search(t.screen()) else None
        if holder and holder[0]["index"] != index:
            assert now == holder[0]["index"], (want_unit, now)
        else:
            after = [b for b in h["blocks"] if b["index"] > index]
            assert now == (after[0]["index"] if after else None)
        if now is None:
            break
        index = now


def test_damaged_heap_problem_list_jumps_to_the_block(term_list):
    doc = report_json("sc-overrun")
    h = doc["heaps"][0]
    p = h["problems"][0]
    t = start(term_list, "sc-overrun")
    text = t.screen()
    expect_status(text, h)
    assert "problems (1)" in text
    assert "%s 0x%x: %s" % (p["kind"], p["address"], p["message"][:20]) in text
    assert "!" in "".join(map_rows(text)) or "@" in "".join(map_rows(text))
    t.keys("Home")
    assert "control block @0x%x" % h["address"] in t.screen()
    t.keys("Right")
    assert "head sentinel" in t.screen()
    assert "!" in "".join(map_rows(t.screen()))     # poison damage shows in the map
    t.keys("!", "Enter")
    text = t.screen()
    index, addr, state = inspected(text)
    assert index == p["block"] and state == "poison damaged"
    assert addr == p["culprit"]["address"]
    assert "%s at 0x%x" % (p["kind"], p["address"]) in text
    assert "owner " + p["culprit"]["owner"] in text


def test_header_smash_shows_a_corrupt_span(term_list):
    h = report_json("sc-header-smash")["heaps"][0]
    p = h["problems"][0]
    t = start(term_list, "sc-header-smash")
    text = t.screen()
    assert "corrupt span @0x%x" % p["address"] in text
    t.keys("Home")
    assert "X" in "".join(map_rows(t.screen()))


def test_two_heaps_switching(term_list):
    doc = report_json("sc-two-heaps")
    heaps = doc["heaps"]
    assert len(heaps) == 2
    t = start(term_list, "sc-two-heaps")
    seen = []
    for key in ["Tab", "Tab", "]", "["]:
        text = t.screen()
        m = header(text)
        h = [x for x in heaps if x["name"] == m.group(3)][0]
        assert int(m.group(2)) == 2
        expect_status(text, h)
        index, addr, _ = inspected(text)
        assert addr == h["blocks"][0]["address"]
        seen.append(m.group(3))
        t.keys(key)
    assert seen[0] != seen[1] and seen[0] == seen[2] and seen[1] == seen[3]


def test_goto_address_finds_the_block_in_any_heap(term_list):
    heaps = report_json("sc-two-heaps")["heaps"]
    t = start(term_list, "sc-two-heaps")
    for h in heaps:
        b = h["blocks"][2]
        t.keys("g")
        t.literal("0x%x" % (b["address"] + 9))
        t.keys("Enter")
        text = t.screen()
        assert header(text).group(3) == h["name"]
        assert inspected(text)[:2] == (b["index"], b["address"])
    t.keys("g")
    t.literal("0x10")
    t.keys("Enter")
    assert "0x10 is in no heap's blocks" in t.screen()
    t.keys("g")
    t.literal("zzz")
    t.keys("Enter")
    assert "not an address: 'zzz'" in t.screen()


def test_owner_selection_highlights_its_blocks(term_list):
    h = report_json("sc-healthy")["heaps"][0]
    used = [b for b in h["blocks"] if b["state"] == "used"]
    owners = {}
    for b in used:
        owners.setdefault(b["owner_name"], []).append(b)
    by_bytes = sorted(owners.items(), key=lambda kv: -sum(b["size"] for b in kv[1]))
    t = start(term_list, "sc-healthy")
    t.keys("b", "End")           # one cell per block; the cursor far from the blocks
    last = h["blocks"][-1]
    t.keys("o")
    for k, (name, blocks) in enumerate(by_bytes):
        text = t.screen()
        row = map_rows(text)[0]
        assert "*" in text.split("\n")[[i for i, l in enumerate(text.split("\n"))
                                          if "owners by live bytes" in l][0] + 1 + k]
        # the cells under the cursor's neighbour are drawn as '<', not '*'
        hidden = 1 if last in blocks else 0
        assert row.count("*") == len(blocks) - hidden, (name, row)
        for i, b in enumerate(h["blocks"]):
            cell = row[2 + i]
            if b in blocks and b is not last:
                assert cell == "*"
        t.keys("j")
    t.keys("c")
    assert "*" not in map_rows(t.screen())[0]


def test_resize_reflows_and_small_terminal_gets_a_message(term_list):
    h = report_json("sc-healthy")["heaps"][0]
    t = start(term_list, "sc-healthy")
    t.resize(50, 12)
    text = t.wait_text("terminal too small")
    assert "50x12, need 72x20" in text
    assert all(len(l) <= 50 for l in text.split("\n"))
    t.resize(130, 40)
    text = t.wait_text("inspector")
    rows = map_rows(text)
    assert int(header(text).group(5)) == fit_units(h, 130 * len(rows))
    assert max(len(r) for r in rows) == 130
    assert all(len(l) <= 130 for l in text.split("\n"))
    expect_status(text, h)
    t.keys("q")
    assert t.exit_line() == (0, "same")


def test_colour_and_no_color_show_the_same_text(term_list):
    colour = start(term_list, "sc-overrun")
    plain = start(term_list, "sc-overrun", env={"NO_COLOR": "1"})
    assert colour.text() == plain.text()
    sgr = re.compile(r"\x1b\[([0-9;]*)m")
    colours = lambda s: {c for m in sgr.findall(s) for c in m.split(";") if re.fullmatch(r"[34][0-7]", c)}
    assert len(colours(colour.screen(escapes=True))) >= 5
    assert colours(plain.screen(escapes=True)) == set()
    mono = start(term_list, "sc-overrun", "--no-color")
    assert colours(mono.screen(escapes=True)) == set()
    vt100 = start(term_list, "sc-overrun", env={"TERM": "vt100"})   # a terminal without colour
    assert colours(vt100.screen(escapes=True)) == set()
    assert vt100.text() == plain.text()


@pytest.mark.parametrize("how,status", [("q", 0), ("C-c", 130), ("TERM", 143), ("HUP", 129)])
def test_every_exit_restores_the_terminal(term_list, how, status):
    t = start(term_list, "sc-healthy")
    assert t.alternate_on()
    if how in ("q", "C-c"):
        t.keys(how)
    else:
        os.kill(t.child_pid(), getattr(signal, "SIG" + how))
    assert t.exit_line() == (status, "same")
    assert not t.alternate_on()
    assert t.display("#{cursor_flag}") == "1"
    assert t.display("#{keypad_cursor_flag}") == "0"


def test_crash_restores_the_terminal(term_list):
    t = start(term_list, "sc-healthy")
    assert t.alternate_on()
    os.kill(t.child_pid(), signal.SIGSEGV)
    rc, stty = t.exit_line()
    assert rc == 128 + signal.SIGSEGV and stty == "same"
    assert not t.alternate_on()
    assert t.display("#{cursor_flag}") == "1"


def test_errors_never_start_the_screen(term_list):
    cwd, files = dump_args("sc-healthy")
    t = Term([HEAPVIEW, "tui", "missing.bin", files[1]], cwd=cwd)
    term_list.append(t)
    rc, stty = t.exit_line()
    assert (rc, stty) == (2, "same")
    assert "heapview: cannot read 'missing.bin': " in t.screen()
    t2 = Term([HEAPVIEW, "tui", "--interval", "5", *files], cwd=cwd)
    term_list.append(t2)
    assert t2.exit_line() == (2, "same")
    assert "heapview: --interval wants milliseconds" in t2.screen()
    t3 = Term([HEAPVIEW, "tui", *files], cwd=cwd, env={"TERM": "nosuchterm"})
    term_list.append(t3)
    assert t3.exit_line() == (2, "same")
    assert "heapview: cannot use terminal type 'nosuchterm'" in t3.screen()
    # not a terminal: one line, exit 2
    r = subprocess.run([HEAPVIEW, "tui", *files], cwd=cwd, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 2
    assert r.stderr == "heapview: the tui needs a terminal on stdin and stdout\n"


def test_refresh_keys_on_a_dump_say_so(term_list):
    t = start(term_list, "sc-healthy")
    before = t.text()
    t.keys("r")
    assert "r refreshes live targets only; this is a dump" in t.screen()
    t.keys("p", "m")
    assert t.text() == before


def byte_attrs(line):
    """[(byte text, set of SGR codes in force)] for the hex bytes of a
    captured line (capture-pane -e)."""
    out, codes, i, word = [], set(), 0, ""
    while i < len(line):
        m = re.match(r"\x1b\[([0-9;]*)m", line[i:])
        if m:
            for c in (m.group(1) or "0").split(";"):
                if c in ("0", ""):
                    codes = set()
                elif c in ("39", "49"):
                    codes = {x for x in codes if not x.startswith(c[0])}
                else:
                    codes.add(c)
            i += m.end()
            continue
        if line[i] == " ":
            word = ""
        else:
            if not word:
                start_codes = set(codes)
            word += line[i]
            if len(word) == 2 and (i + 1 == len(line) or line[i + 1] in " \x1b"):
                out.append((word, start_codes))
        i += 1
    return out[1:] if out and len(out[0][0]) != 2 else out


@pytest.mark.parametrize("env,bad,canary", [({}, "41", "33"), ({"NO_COLOR": "1"}, "7", "4")])
def test_inspector_highlights_canaries_and_the_damaged_byte(term_list, env, bad, canary):
    h = report_json("sc-overrun")["heaps"][0]
    p = h["problems"][0]
    b = [x for x in h["blocks"] if x["address"] == p["culprit"]["address"]][0]
    user = b["address"] + 4 + 16          # header + prefix (FORMAT.md section 5, 32-bit)
    assert p["address"] == user + b["requested"]
    t = start(term_list, "sc-overrun", env=env)
    line_addr = p["address"] & ~7
    plain = [l for l in t.lines() if l.startswith("%08x " % line_addr)]
    assert plain, t.text()
    esc = [l for l in t.screen(escapes=True).split("\n")
           if re.sub(r"\x1b\[[0-9;]*m", "", l).startswith("%08x " % line_addr)][0]
    cells = byte_attrs(esc[esc.index("%08x" % line_addr) + 8:])
    assert len(cells) == 8, cells
    for k, (text, codes) in enumerate(cells):
        addr = line_addr + k
        if addr == p["address"]:
            assert text != "a5" and bad in codes, (text, codes)
        elif p["address"] < addr < b["address"] + b["size"]:
            assert text == "a5" and canary in codes, (addr, text, codes)
        else:
            assert bad not in codes and canary not in codes


KEY_TOUR = ["Home", "l", "l", "j", "j", "NPage", "End", "k", "PPage", "+", "+", "-", "b", "Right", "0",
            "!", "Down", "Enter", "o", "Down", "Enter", "Tab", "]", "[", "?", "x", "c", "m"]


@pytest.mark.parametrize("seed", range(6))
def test_damaged_mutants_never_crash_the_screen(term_list, tmp_path, seed):
    """Random damage inside the heap (headers, links, canaries): whatever
    the core makes of it, every key works and q leaves cleanly."""
    import json
    import random
    cwd, files = dump_args("sc-healthy")
    with open(os.path.join(cwd, "sc-healthy.json")) as f:
        base = json.load(f)["range"][0]
    h = report_json("sc-healthy")["heaps"][0]
    data = bytearray(open(os.path.join(cwd, files[0]), "rb").read())
    rng = random.Random(seed)
    lo = h["blocks"][0]["address"] - base - 4
    for _ in range(2 + seed * 3):
        at = rng.randrange(lo, lo + 2048)
        data[at:at + 4] = rng.randbytes(4)
    dump = tmp_path / "mutant.bin"
    dump.write_bytes(bytes(data))
    t = Term([HEAPVIEW, "tui", "%s@0x%x" % (dump, base), files[1]], cwd=str(tmp_path))
    term_list.append(t)
    text = t.wait_for(lambda s: "inspector" in s or "EXIT=" in s, what="first screen")
    if "EXIT=" in text:          # the core refused the image: one line, status 2
        assert t.exit_line() == (2, "same")
        return
    for k in KEY_TOUR:
        t.keys(k, settle=0.02)
    t.keys("q")
    assert t.exit_line() == (0, "same"), t.screen()


def test_curses_stays_in_cli_tui():
    """Only cli/tui/ draws (STYLE.md: the core never includes curses), and
    the TUI's model is curses-free too."""
    from term import TOP
    offenders = []
    for root, _, names in os.walk(os.path.join(TOP, "cli")):
        for name in names:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, TOP)
            with open(path, errors="replace") as f:
                uses = re.search(r"#\s*include\s*[<\"](n?curses|term)\.h[>\"]", f.read())
            if uses and (not rel.startswith("cli/tui/") or name.startswith("tui_model")):
                offenders.append(rel)
    assert offenders == []


def test_million_block_host_heap_with_64_bit_addresses(term_list):
    """mkdump's bench heap (16 MiB, about a million blocks, allocated by
    the host at an address above 4 GiB): the first screen comes quickly and
    the hex view's address column grows to fit."""
    import json
    mkdump = os.environ.get("TUI_MKDUMP")
    if not mkdump:
        pytest.skip("mkdump (tests/cli) not available")
    work = os.environ.get("TUI_TEST_DIR", "/tmp")
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, "bench16m.bin")
    truth = json.loads(subprocess.check_output([mkdump, "bench", dump], text=True, timeout=60))
    try:
        args = ["--base", hex(truth["base"]), "--heap", hex(truth["ctl"]), dump]
        started = time.monotonic()
        t = Term([HEAPVIEW, "tui", *args])
        term_list.append(t)
        text = t.wait_text("inspector", timeout=20)
        first_screen = time.monotonic() - started
        # `top` has the totals without a million block entries
        doc = json.loads(subprocess.check_output([HEAPVIEW, "top", "--json", *args], text=True, timeout=60))
        h = doc["heaps"][0]
        assert h["used_entries"] == truth["live"]
        assert status(text)[:2] == [h["used_bytes"], h["used_entries"]]
        digits = len("%x" % (truth["base"] + os.path.getsize(dump)))
        assert digits > 8
        hexlines = [l for l in t.lines() if re.match(r"^[0-9a-f]{%d} " % digits, l)]
        assert len(hexlines) >= 4, t.text()
        for l in hexlines:
            assert re.match(r"^[0-9a-f]{%d}( [0-9a-f]{2}){8}(\s|$)" % digits, l), l
        _, addr, _ = inspected(text)
        assert int(hexlines[0][:digits], 16) <= addr < int(hexlines[-1][:digits], 16) + 8
        t.keys("End")
        assert "end marker" in t.screen()
        t.keys("q")
        assert t.exit_line() == (0, "same")
        assert first_screen < 10, first_screen
    finally:
        os.remove(dump)


def test_inspector_bytes_scroll_within_the_block(term_list):
    """J/K move the byte view one line at a time, never past the block."""
    h = report_json("sc-healthy")["heaps"][0]
    big = max((b for b in h["blocks"] if b["state"] == "used"), key=lambda b: b["size"])
    t = start(term_list, "sc-healthy")
    t.keys("g")
    t.literal("0x%x" % big["address"])
    t.keys("Enter")
    assert inspected(t.screen())[1] == big["address"]

    def first_hex():
        return [int(l[:8], 16) for l in t.lines() if re.match(r"^[0-9a-f]{8}( [0-9a-f]{2}){8}", l)]

    top = first_hex()
    assert top[0] <= big["address"]
    t.keys("J", "J", "J")
    assert first_hex()[0] == top[0] + 3 * 8
    t.repeat("J", big["size"] // 8 + 5)
    lines = first_hex()
    assert lines[0] <= big["address"] + big["size"] - 1 < lines[0] + 8   # the block's last line at the top
    t.repeat("K", big["size"] // 8 + 5)
    assert first_hex() == top
