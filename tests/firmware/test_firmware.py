"""The `firmware` suite: every test firmware runs in QEMU to its checkpoints,
RAM is captured there through gdb, QMP pmemsave and QMP dump-guest-memory,
and the tests check that the three captures are byte-identical, that the
firmware said what it should, and that the heap in the dump matches what
the firmware recorded in `hv_truth` (tests/firmware/README.md).

Run through `make test-firmware` (which builds the firmwares first); the
firmwares are looked up in $FW_DIR (default build/firmware).
"""

import json
import os
import re
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fwtruth  # noqa: E402
import qemu_dump  # noqa: E402

FW_DIR = os.path.abspath(os.environ.get("FW_DIR", os.path.join(TOP, "build", "firmware")))
DUMP_DIR = os.path.join(FW_DIR, "dumps")
DRIVER = [sys.executable, os.path.join(HERE, "qemu_dump.py")]


def format_constants():
    """UMM_* integer constants of lib/umm_format.h, so a format change
    breaks one place."""
    consts = {}
    with open(os.path.join(TOP, "lib", "umm_format.h")) as f:
        for line in f:
            m = re.match(r"#define\s+(UMM_\w+)\s+(0x[0-9A-Fa-f]+|\d+)u?\b", line)
            if m:
                consts[m.group(1)] = int(m.group(2), 0)
    return consts


FMT = format_constants()

# Scenario firmwares: name -> (HV_SC_* id, checkpoints).
SCENARIOS = {
    "healthy": (2, [1]), "fragmented": (3, [1]), "two-heaps": (4, [1]), "overrun": (5, [1]),
    "underrun": (6, [1]), "header-smash": (7, [1]), "write-after-free": (8, [1]),
    "double-free": (9, [1]), "leak": (10, [1, 2]), "wide": (11, [1]),
}
FIRMWARES = {"bare": (0, [1]), "demo": (1, [1])}
FIRMWARES.update({"sc-" + k: v for k, v in SCENARIOS.items()})
# Release builds of the undamaged scenarios.
FIRMWARES.update({"sc-%s-rel" % k: SCENARIOS[k] for k in ("healthy", "fragmented", "two-heaps",
                                                          "leak")})
CORRUPT_BYTE = 0x5A
HEADER_SMASH_BYTE = 0x7E

def elf_path(name):
    return os.path.join(FW_DIR, name + ".elf")


_captures = {}


def capture(name):
    """Runs the dump driver once per firmware (to every checkpoint the
    firmware reaches) and caches its result."""
    if name not in _captures:
        out = os.path.join(DUMP_DIR, name)
        cmd = DRIVER + ["dump", elf_path(name), "--out", out, "--quiet", "--timeout", "20"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        summary = os.path.join(out, name + ".json")
        assert proc.returncode != 2 and os.path.exists(summary), \
            f"capture of {name} failed: {proc.stderr.strip()}"
        with open(summary) as f:
            result = json.load(f)
        result["driver_status"] = proc.returncode
        result["driver_stderr"] = proc.stderr
        result["symbols"] = qemu_dump.elf_symbols(elf_path(name))
        _captures[name] = result
    return _captures[name]


def snapshot(name, cp, method="gdb"):
    result = capture(name)
    entry = next(c for c in result["checkpoints"] if c["id"] == cp)
    return fwtruth.Snapshot.from_file(entry["files"][method], result["range"][0])


def read_truth(snap, symbols):
    return fwtruth.read(snap, symbols["hv_truth"])


def read_ctl(snap, ctl):
    c = FMT
    return {
        "magic": snap.u32(ctl + c["UMM_CTL_MAGIC"]),
        "version": snap.u8(ctl + c["UMM_CTL_VERSION"]),
        "index_bytes": snap.u8(ctl + c["UMM_CTL_INDEX_BYTES"]),
        "ptr_bytes": snap.u8(ctl + c["UMM_CTL_PTR_BYTES"]),
        "flags": snap.u16(ctl + c["UMM_CTL_FLAGS"]),
        "ctl_bytes": snap.u16(ctl + c["UMM_CTL_CTL_BYTES"]),
        "unit_count": snap.u32(ctl + c["UMM_CTL_UNIT_COUNT"]),
        "instr_off": snap.u16(ctl + c["UMM_CTL_INSTR_OFF"]),
        "prefix_bytes": snap.u8(ctl + c["UMM_CTL_PREFIX_BYTES"]),
        "self": snap.u32(ctl + c["UMM_CTL_SELF"]),
    }


def walk_used(snap, ctl):
    """User pointers of the used blocks, by a bounded walk of the address
    chain (lib/FORMAT.md section 3); None if the chain is broken."""
    h = read_ctl(snap, ctl)
    ib = h["index_bytes"]
    read_index = snap.u16 if ib == 2 else snap.u32
    free_flag = 0x8000 if ib == 2 else 0x80000000
    blocks = ctl + h["ctl_bytes"]
    n = h["unit_count"]
    used, b, steps = [], 0, 0
    while True:
        nxt_raw = read_index(blocks + 8 * b)
        nxt = nxt_raw & ~free_flag
        if nxt == 0:
            return used if b == n - 1 else None
        if nxt <= b or nxt >= n or steps > n:
            return None
        if b != 0 and not nxt_raw & free_flag:
            used.append(blocks + 8 * b + 2 * ib + h["prefix_bytes"])
        b, steps = nxt, steps + 1


def record(snap, ctl, field):
    h = read_ctl(snap, ctl)
    assert h["instr_off"] != 0, "heap has no instrumentation record"
    return snap.u32(ctl + h["instr_off"] + FMT["UMM_REC_" + field])


# ---- capture -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIRMWARES))
def test_capture_methods_agree(name):
    result = capture(name)
    assert result["error"] is None, result["error"] + "\n" + result.get("gdb_output", "")
    assert result["driver_status"] == 0
    start, end = result["range"]
    assert [c["id"] for c in result["checkpoints"]] == FIRMWARES[name][1]
    for cp in result["checkpoints"]:
        assert cp["reached"] and cp["captured"]
        assert set(cp["files"]) == {"gdb", "pmemsave", "core"}
        blobs = {}
        for method, path in cp["files"].items():
            with open(path, "rb") as f:
                blobs[method] = f.read()
        assert len(blobs["gdb"]) == end - start
        assert blobs["gdb"] == blobs["pmemsave"], "gdb and pmemsave captures differ"
        assert blobs["gdb"] == blobs["core"], "gdb and dump-guest-memory captures differ"
        # The core itself is an ELF32 ARM core gdb can open with the ELF.
        with open(cp["files"]["core"][:-len(".bin")], "rb") as f:
            head = f.read(20)
        assert head[:4] == b"\x7fELF" and struct.unpack_from("<H", head, 16)[0] == 4  # ET_CORE
        assert struct.unpack_from("<H", head, 18)[0] == 40  # EM_ARM


@pytest.mark.parametrize("name", sorted(FIRMWARES))
def test_checkpoint_and_output(name):
    result = capture(name)
    out = result["output"]
    symbols = result["symbols"]
    for cp in result["checkpoints"]:
        assert f"checkpoint {cp['id']}\n" in out
        assert cp["pc"] == symbols["hv_checkpoint"] & ~1, "stopped elsewhere than hv_checkpoint"
    checks = re.findall(r"^check (.*): (OK|FAILED)$", out, re.M)
    assert checks, "no self-check lines"
    assert [c for c in checks if c[1] != "OK"] == []
    m = re.search(r"^done: (\d+) checks, (\d+) failed$", out, re.M)
    assert m and int(m.group(1)) == len(checks) and m.group(2) == "0"
    assert result["qemu_status"] == 0, "firmware exit status"
    assert "FAULT" not in out


@pytest.mark.parametrize("name", sorted(FIRMWARES))
def test_truth_record(name):
    scenario, checkpoints = FIRMWARES[name]
    result = capture(name)
    for cp in checkpoints:
        snap = snapshot(name, cp)
        truth = read_truth(snap, result["symbols"])
        assert truth["magic"] == 0x52545648 and truth["version"] == 1  # also checked by read
        assert truth["size"] == truth["end"] - result["symbols"]["hv_truth"]
        assert truth["scenario"] == scenario
        assert truth["checkpoint"] == cp
        assert snap.u32(result["symbols"]["hv_checkpoint_id"]) == cp
        # The live list and the totals are kept by the same wrappers.
        assert truth["live_count"] == len(truth["live"])
        assert truth["live_requested"] == sum(a["requested"] for a in truth["live"])
        for i, heap in enumerate(truth["heaps"][:truth["heap_count"]]):
            mine = [a for a in truth["live"] if a["heap"] == i]
            assert heap["live_count"] == len(mine)
            assert heap["live_requested"] == sum(a["requested"] for a in mine)
            for a in mine:
                assert heap["region"] <= a["ptr"] < heap["region"] + heap["region_bytes"]


def test_bare_pattern_in_dump():
    """The bare firmware's xorshift pattern, recomputed here, is in RAM."""
    result = capture("bare")
    snap = snapshot("bare", 1, "pmemsave")
    state, words = 0x2545F491, []
    for _ in range(1024):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        words.append(state)
    assert snap.bytes(result["symbols"]["hv_bare_pattern"], 4096) == struct.pack("<1024I", *words)


# ---- heaps in the dump against the truth -------------------------------------

ALLOC_FIRMWARES = sorted(n for n in FIRMWARES if n != "bare")


@pytest.mark.parametrize("name", ALLOC_FIRMWARES)
def test_heaps_in_dump(name):
    result = capture(name)
    for cp in FIRMWARES[name][1]:
        snap = snapshot(name, cp, "core")
        truth = read_truth(snap, result["symbols"])
        head = snap.u32(result["symbols"]["umm_heap_list"])
        listed, at = [], head
        while at and len(listed) < FMT["UMM_FMT_MAX_HEAPS"]:
            listed.append(at)
            at = snap.u32(at + 32 + 4)  # next_heap, ptr_bytes = 4
        initialised = [h for h in truth["heaps"][:truth["heap_count"]] if h["ctl"]]
        assert sorted(listed) == sorted(h["ctl"] for h in initialised)
        for heap in initialised:
            ctl = read_ctl(snap, heap["ctl"])
            assert ctl["magic"] == FMT["UMM_FMT_MAGIC"] and ctl["version"] == 1
            assert ctl["self"] == heap["ctl"] and ctl["ptr_bytes"] == 4
            # The handle in RAM points at the same control block.
            assert snap.u32(heap["handle"] + 8) == heap["ctl"]
        instrumented = name.startswith("sc-") and not name.endswith("-rel")
        for heap in initialised:
            ctl = read_ctl(snap, heap["ctl"])
            assert bool(ctl["flags"] & FMT["UMM_FLAG_POISON"]) == instrumented
            assert (ctl["instr_off"] != 0) == instrumented
            assert (ctl["prefix_bytes"] != 0) == instrumented


@pytest.mark.parametrize("name", ALLOC_FIRMWARES)
def test_walk_matches_truth(name):
    """A walk of each heap's blocks finds exactly the allocations the
    firmware holds (the header-smash scenario breaks the walk on purpose)."""
    result = capture(name)
    for cp in FIRMWARES[name][1]:
        snap = snapshot(name, cp)
        truth = read_truth(snap, result["symbols"])
        for i, heap in enumerate(truth["heaps"][:truth["heap_count"]]):
            if not heap["ctl"]:
                continue
            used = walk_used(snap, heap["ctl"])
            if name == "sc-header-smash" and i == truth["damaged_heap"]:
                assert used is None, "the smashed header should break the chain"
                continue
            assert used is not None, f"heap {i}: broken block chain"
            assert sorted(used) == sorted(a["ptr"] for a in truth["live"] if a["heap"] == i)


@pytest.mark.parametrize("name", sorted("sc-" + s for s in SCENARIOS if s != "header-smash"))
def test_record_matches_truth(name):
    """The allocator's own counters agree with what the firmware holds."""
    result = capture(name)
    for cp in FIRMWARES[name][1]:
        snap = snapshot(name, cp)
        truth = read_truth(snap, result["symbols"])
        for heap in truth["heaps"][:truth["heap_count"]]:
            if heap["ctl"]:
                assert record(snap, heap["ctl"], "USED_BLOCKS") == heap["live_count"]
                assert record(snap, heap["ctl"], "REQUESTED_BYTES") == heap["live_requested"]


DAMAGE = {"overrun": (4, CORRUPT_BYTE), "underrun": (3, CORRUPT_BYTE),
          "write-after-free": (5, CORRUPT_BYTE), "header-smash": (1, HEADER_SMASH_BYTE)}


@pytest.mark.parametrize("scenario", sorted(DAMAGE))
def test_damage_is_where_truth_says(scenario):
    name = "sc-" + scenario
    kind, byte = DAMAGE[scenario]
    snap = snapshot(name, 1)
    truth = read_truth(snap, capture(name)["symbols"])
    assert truth["fault_kind"] == kind
    assert snap.u8(truth["damaged_address"]) == byte
    ptr = truth["damaged_ptr"]
    if scenario == "overrun":
        assert truth["damaged_address"] == ptr + next(
            a["requested"] for a in truth["live"] if a["ptr"] == ptr)
    elif scenario == "underrun":
        assert truth["damaged_address"] == ptr - 1
        assert snap.u8(ptr - 2) == FMT["UMM_CANARY_BYTE"]  # only one byte hit
    elif scenario == "write-after-free":
        assert ptr not in [a["ptr"] for a in truth["live"]]
        assert snap.u8(truth["damaged_address"] + 1) == FMT["UMM_FREE_FILL_BYTE"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_allocator_detects_what_truth_says(scenario):
    """After the last checkpoint the firmware runs the allocator's own
    integrity check on every heap: it must find exactly the damage the
    firmware recorded (kind and address), and nothing in healthy heaps."""
    name = "sc-" + scenario
    result = capture(name)
    truth = read_truth(snapshot(name, FIRMWARES[name][1][-1]), result["symbols"])
    found = {int(m.group(1)): m.groups()[1:] for m in re.finditer(
        r"^detect heap (\d+): (?:clean|fault kind (\d+) op \d+ at 0x([0-9a-f]{8})) "
        r"\(check (passes|fails)\)$", result["output"], re.M)}
    initialised = [i for i, h in enumerate(truth["heaps"][:truth["heap_count"]]) if h["ctl"]]
    assert sorted(found) == initialised
    for i in initialised:
        kind, address, check = found[i]
        if truth["fault_kind"] and i == truth["damaged_heap"]:
            assert int(kind) == truth["fault_kind"]
            assert int(address, 16) == truth["damaged_address"]
            # A refused double free leaves the heap itself intact.
            assert check == ("passes" if truth["fault_kind"] == 6 else "fails")
        else:
            assert (kind, address, check) == (None, None, "passes")


def test_double_free_refused_and_recorded():
    name = "sc-double-free"
    snap = snapshot(name, 1)
    truth = read_truth(snap, capture(name)["symbols"])
    assert truth["fault_kind"] == 6
    ctl = truth["heaps"][truth["damaged_heap"]]["ctl"]
    assert record(snap, ctl, "BAD_FREE_COUNT") == 1
    assert record(snap, ctl, "FAULT_KIND") == FMT["UMM_FAULT_DOUBLE_FREE"]
    assert record(snap, ctl, "FAULT_ADDRESS") == truth["damaged_address"]


def test_leak_grows_between_checkpoints():
    name = "sc-leak"
    symbols = capture(name)["symbols"]
    t1 = read_truth(snapshot(name, 1), symbols)
    snap2 = snapshot(name, 2)
    t2 = read_truth(snap2, symbols)
    assert t2["leak_count"] == 6 and t2["live_count"] - t1["live_count"] == 6
    assert t2["live_requested"] - t1["live_requested"] == t2["leak_bytes"]
    old = {a["ptr"] for a in t1["live"]}
    new = [a for a in t2["live"] if a["ptr"] not in old]
    assert len(new) == 6 and sum(a["requested"] for a in new) == t2["leak_bytes"]
    ctl = t2["heaps"][0]["ctl"]
    assert (record(snap2, ctl, "USED_BLOCKS") -
            record(snapshot(name, 1), ctl, "USED_BLOCKS")) == 6


# ---- the driver itself -------------------------------------------------------

def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes only once reaped; check /proc.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_unreached_checkpoint_fails_and_stops_qemu(tmp_path):
    proc = subprocess.run(DRIVER + ["dump", elf_path("bare"), "--out", str(tmp_path),
                                    "--checkpoint", "7", "--timeout", "10", "--quiet"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "checkpoint 7 not reached" in proc.stderr
    with open(tmp_path / "bare.json") as f:
        result = json.load(f)
    assert not result["ok"] and not result["checkpoints"][0]["reached"]
    assert not pid_alive(result["qemu_pid"])


def test_explicit_checkpoint_selects_one(tmp_path):
    """--checkpoint 2 of the leak firmware passes checkpoint 1 by and
    captures the same bytes as the run that stopped at both."""
    proc = subprocess.run(DRIVER + ["dump", elf_path("sc-leak"), "--out", str(tmp_path),
                                    "--quiet", "--checkpoint", "2", "--method", "pmemsave"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["sc-leak.cp2.pmemsave.bin", "sc-leak.gdb",
                                            "sc-leak.json", "sc-leak.out"]
    with open(tmp_path / "sc-leak.cp2.pmemsave.bin", "rb") as f:
        assert f.read() == snapshot("sc-leak", 2).data


def test_explicit_range_matches_full_capture(tmp_path):
    """A capture of just hv_truth equals that slice of the full capture."""
    symbols = capture("demo")["symbols"]
    start = symbols["hv_truth"]
    end = start + read_truth(snapshot("demo", 1), symbols)["size"]
    proc = subprocess.run(DRIVER + ["dump", elf_path("demo"), "--out", str(tmp_path), "--quiet",
                                    "--checkpoint", "1",
                                    "--range", f"0x{start:x}:0x{end:x}", "--method", "pmemsave",
                                    "--method", "gdb"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "demo.cp1.gdb.bin", "rb") as f:
        part = f.read()
    assert part == snapshot("demo", 1).bytes(start, end - start)
    assert not os.path.exists(tmp_path / "demo.cp1.core")


def test_gdb_over_tcp_matches_unix_socket(tmp_path):
    """The gdbstub on a loopback TCP port QEMU picked gives the same bytes."""
    proc = subprocess.run(DRIVER + ["dump", elf_path("demo"), "--out", str(tmp_path), "--quiet",
                                    "--gdb-tcp", "--method", "gdb"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "demo.json") as f:
        result = json.load(f)
    assert re.fullmatch(r"127\.0\.0\.1:\d+", result["gdb_endpoint"])
    with open(tmp_path / "demo.cp1.gdb.bin", "rb") as f:
        assert f.read() == snapshot("demo", 1).data


def test_damaged_elf_is_refused(tmp_path):
    with open(elf_path("demo"), "rb") as f:
        head = f.read(4096)
    bad = tmp_path / "cut.elf"
    bad.write_bytes(head)
    proc = subprocess.run(DRIVER + ["dump", str(bad), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qemu-dump: cannot read '{bad}': ")
    # A symbol table cut short inside the file.
    blob = bytearray(open(elf_path("demo"), "rb").read())
    shoff, shentsize, shnum = struct.unpack_from("<I", blob, 32)[0], 40, \
        struct.unpack_from("<H", blob, 48)[0]
    for i in range(shnum):
        if struct.unpack_from("<I", blob, shoff + i * shentsize + 4)[0] == 2:  # SHT_SYMTAB
            struct.pack_into("<I", blob, shoff + i * shentsize + 20, 0x7FFFFFF0)  # sh_size
    bad.write_bytes(bytes(blob))
    proc = subprocess.run(DRIVER + ["dump", str(bad), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr == f"qemu-dump: cannot read '{bad}': truncated or damaged ELF file\n"


@pytest.mark.parametrize("args, message", [
    (["dump", "/nonexistent.elf", "--out", "OUT"], "cannot read '/nonexistent.elf'"),
    (["dump", "ELF", "--out", "OUT", "--range", "0x20000010:0x20000000"], "bad range"),
    (["dump", "ELF", "--out", "OUT", "--range", "nonsense"], "bad range"),
])
def test_bad_arguments(tmp_path, args, message):
    args = [str(tmp_path) if a == "OUT" else elf_path("bare") if a == "ELF" else a for a in args]
    proc = subprocess.run(DRIVER + args, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("qemu-dump: ")


def test_fault_is_reported(tmp_path):
    """A fault after the checkpoint: the capture still happens, the fault
    handler names the faulting instruction and the driver reports the
    firmware's status 3."""
    elf = elf_path("bare-fault")
    proc = subprocess.run(DRIVER + ["dump", elf, "--out", str(tmp_path), "--quiet"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "firmware exited with status 3" in proc.stderr
    with open(tmp_path / "bare-fault.json") as f:
        result = json.load(f)
    assert result["qemu_status"] == 3 and result["checkpoints"][0]["identical"]
    m = re.search(r"^FAULT exception (\d+) pc 0x([0-9a-f]{8}) .*cfsr 0x([0-9a-f]{8})",
                  result["output"], re.M)
    assert m, result["output"]
    assert int(m.group(1)) == 6  # UsageFault
    assert int(m.group(3), 16) & (1 << 16)  # CFSR.UFSR.UNDEFINSTR
    # The reported PC is the udf instruction inside main.
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", elf], capture_output=True, text=True)
    assert re.search(r"^\s*%x:\s+de00\s+udf" % int(m.group(2), 16), dis.stdout, re.M)


def qemu_pids_running(elf):
    """PIDs of QEMU processes running `elf` (to prove none is left)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"qemu-system-arm") and elf.encode() in argv:
                pids.append(int(entry))
    return [p for p in pids if pid_alive(p)]


def test_run_times_out_and_stops_qemu():
    elf = elf_path("bare-hang")
    proc = subprocess.run(DRIVER + ["run", elf, "--timeout", "1"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 124
    assert "bare firmware: hanging" in proc.stdout
    assert f"qemu-run: '{elf}' did not exit within 1.0s\n" in proc.stderr
    assert qemu_pids_running(elf) == []


def test_dump_times_out_and_stops_qemu(tmp_path):
    """A firmware that never reaches its checkpoint: gdb is given up after
    the timeout and QEMU is stopped."""
    elf = elf_path("bare-hang")
    proc = subprocess.run(DRIVER + ["dump", elf, "--out", str(tmp_path), "--timeout", "2",
                                    "--quiet"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr == "qemu-dump: bare-hang: gdb did not finish within 2.0s\n"
    with open(tmp_path / "bare-hang.json") as f:
        result = json.load(f)
    assert 2.0 <= result["seconds"] < 10
    assert not pid_alive(result["qemu_pid"])
    assert qemu_pids_running(elf) == []


def test_run_reports_exit_status():
    proc = subprocess.run(DRIVER + ["run", elf_path("demo")], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0
    assert "check memalign alignment: OK" in proc.stdout
    assert proc.stdout.rstrip().endswith("failed")


# ---- the commands the README shows -------------------------------------------

def test_qemu_dump_script_example(tmp_path):
    proc = subprocess.run([os.path.join(TOP, "scripts", "qemu-dump.sh"), elf_path("sc-leak"),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "qemu-dump: checkpoint 1: methods agree\n" in proc.stdout
    assert "qemu-dump: checkpoint 2: methods agree\n" in proc.stdout
    assert "qemu-dump: firmware exit status 0;" in proc.stdout
    assert "check leak grew by 6 allocations: OK" in proc.stdout


def test_make_demo():
    build = os.path.dirname(FW_DIR)
    proc = subprocess.run(["make", "--no-print-directory", "-C", TOP, "BUILD=" + build, "demo"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("heapview demo: umm heaps on a Cortex-M3")
    assert re.search(r"^memalign\(256, 70\) -> 0x[0-9a-f]{8} aligned$", out, re.M)
    assert re.search(r"^done: \d+ checks, 0 failed$", out, re.M)
    assert "qemu-dump: checkpoint 1: methods agree\n" in out
    # ... and ends with heapview's report on that capture: both heaps, healthy.
    assert "$ heapview " in out
    report = out[out.index("$ heapview "):]
    assert re.search(r"^heap umm_heap_default at 0x[0-9a-f]+: heapview v1", report, re.M)
    assert re.search(r"^heap hv_demo_heap at 0x[0-9a-f]+: heapview v1", report, re.M)
    assert report.count("  no problems") == 2
    dump = os.path.join(build, "firmware", "demo-dump", "demo.cp1.gdb.bin")
    with open(dump, "rb") as f:
        assert f.read() == snapshot("demo", 1).data


def test_fwtruth_command(tmp_path):
    """fwtruth.py prints the record in tool terms; its numbers are the raw
    record's, regrouped."""
    name = "sc-two-heaps"
    dump = capture(name)["checkpoints"][0]["files"]["pmemsave"]
    proc = subprocess.run([sys.executable, os.path.join(HERE, "fwtruth.py"), elf_path(name), dump],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    raw = read_truth(snapshot(name, 1), capture(name)["symbols"])
    assert doc["scenario"] == "two-heaps" and doc["checkpoint"] == 1 and doc["damage"] is None
    assert [h["address"] for h in doc["heaps"]] == [h["ctl"] for h in raw["heaps"][:2]]
    assert sum(len(h["allocations"]) for h in doc["heaps"]) == raw["live_count"]
    assert [h["requested_bytes"] for h in doc["heaps"]] == \
        [h["live_requested"] for h in raw["heaps"][:2]]
    doc = fwtruth.load(elf_path("sc-overrun"), capture("sc-overrun")["checkpoints"][0]["files"]["gdb"])
    assert doc["damage"]["kind"] == "overrun"
    # A capture that does not reach hv_truth, and a missing file.
    short = tmp_path / "short.bin"
    short.write_bytes(b"\0" * 64)
    for path, reason in ((short, "lies outside the capture"), (tmp_path / "none.bin",
                                                                "no such file or directory")):
        proc = subprocess.run([sys.executable, os.path.join(HERE, "fwtruth.py"), elf_path(name),
                               str(path)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"fwtruth: cannot read '{path}': ") and reason in proc.stderr
