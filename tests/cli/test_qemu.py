"""heapview on the Cortex-M3 scenario firmwares (tests/firmware): RAM
captured in QEMU with gdb, QMP pmemsave and dump-guest-memory, checked
against the `hv_truth` record each firmware keeps about its own heap."""
import json
import struct
import subprocess

import pytest

from conftest import FW_DIR, SCENARIOS, heapview

KINDS = {1: "header", 3: "underrun", 4: "overrun", 5: "use_after_free", 6: "double_free"}
PREFIX_32 = 16       # FORMAT.md section 5 with P = 4
METHODS = {"gdb": "gdb.bin", "pmemsave": "pmemsave.bin", "core": "core"}


def symbol(elf, name):
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(name)


def truth(dump_dir, name, cp=1):
    """hv_truth as tests/firmware/README.md lays it out, read from the dump."""
    meta = json.loads((dump_dir / f"sc-{name}.json").read_text())
    base = meta["range"][0]
    data = (dump_dir / f"sc-{name}.cp{cp}.gdb.bin").read_bytes()
    at = symbol(FW_DIR / f"sc-{name}.elf", "hv_truth") - base
    head = struct.unpack_from("<16I", data, at)
    assert head[0] == 0x52545648 and head[1] == 1
    t = dict(zip(["magic", "version", "size", "scenario", "checkpoint", "heap_count", "live_count",
                  "live_requested", "fault_kind", "damaged_address", "damaged_ptr", "damaged_heap",
                  "leak_count", "leak_bytes", "check_count", "check_failures"], head))
    t["heaps"] = [dict(zip(["handle", "ctl", "region", "region_bytes", "live_count", "live_requested"],
                           struct.unpack_from("<6I", data, at + 64 + 24 * i))) for i in range(t["heap_count"])]
    t["live"] = []
    for i in range(64):
        ptr, req, heap, order = struct.unpack_from("<4I", data, at + 160 + 16 * i)
        if ptr:
            t["live"].append({"ptr": ptr, "requested": req, "heap": heap})
    return t


def run(dump_dir, name, method="gdb", cp=1, *extra):
    return heapview(*extra, "--json", dump_dir / f"sc-{name}.cp{cp}.{METHODS[method]}", FW_DIR / f"sc-{name}.elf")


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_matches_the_firmware_truth(qemu_dumps, name):
    t = truth(qemu_dumps, name)
    r = run(qemu_dumps, name)
    assert r.rc == (1 if t["fault_kind"] else 0), r.out[-3000:] + r.err
    doc = r.json()
    by_addr = {h["address"]: h for h in doc["heaps"]}
    for i, th in enumerate(t["heaps"]):
        if not th["ctl"]:
            continue
        h = by_addr[th["ctl"]]
        assert h["format"] == "heapview" and h["size"] == th["region_bytes"]
        if t["fault_kind"] in (0, 6):   # intact heaps: every live allocation accounted for
            assert h["used_entries"] == th["live_count"]
            assert h["requested_bytes"] == th["live_requested"]
            ptrs = sorted(b["address"] + 4 + PREFIX_32 for b in h["blocks"] if b["state"] == "used")
            assert ptrs == sorted(l["ptr"] for l in t["live"] if l["heap"] == i)
            req = {b["address"] + 4 + PREFIX_32: b["requested"] for b in h["blocks"]}
            assert all(req[l["ptr"]] == l["requested"] for l in t["live"] if l["heap"] == i)
    if t["fault_kind"]:
        h = by_addr[t["heaps"][t["damaged_heap"]]["ctl"]]
        p = h["problems"][0]
        assert p["kind"] == KINDS[t["fault_kind"]], h["problems"]
        assert p["address"] == t["damaged_address"]
        if p["kind"] in ("overrun", "underrun"):
            assert p["culprit"]["address"] + 4 + PREFIX_32 == t["damaged_ptr"]
            assert p["culprit"]["owner"].startswith("hv_")   # a function of the firmware, symbolised
            assert "(" in p["culprit"]["owner"] and ".c:" in p["culprit"]["owner"]
    else:
        assert all(h["problems"] == [] for h in doc["heaps"])


@pytest.mark.parametrize("name", ["healthy", "overrun", "header-smash"])
def test_three_capture_methods_agree(qemu_dumps, name):
    outs = {m: run(qemu_dumps, name, m) for m in METHODS}
    assert len({(r.rc, r.out) for r in outs.values()}) == 1, {m: r.rc for m, r in outs.items()}


def test_leak_between_two_checkpoints(qemu_dumps):
    t1, t2 = truth(qemu_dumps, "leak", 1), truth(qemu_dumps, "leak", 2)
    elf = FW_DIR / "sc-leak.elf"
    r = heapview("diff", "--json", qemu_dumps / "sc-leak.cp1.core", qemu_dumps / "sc-leak.cp2.core", elf)
    assert r.rc == 0, r.err
    h = [h for h in r.json()["heaps"] if h["address"] == t2["heaps"][0]["ctl"]][0]
    assert h["used_entries_delta"] == t2["leak_count"] == t2["live_count"] - t1["live_count"]
    assert sum(o["new_count"] for o in h["owners"]) == t2["leak_count"]
    # seq tells new from old even where an address was reused
    blocks2 = run(qemu_dumps, "leak", "core", 2).json()["heaps"]
    req2 = sum(b["requested"] for hh in blocks2 for b in hh["blocks"] if b["state"] == "used")
    blocks1 = run(qemu_dumps, "leak", "core", 1).json()["heaps"]
    req1 = sum(b["requested"] for hh in blocks1 for b in hh["blocks"] if b["state"] == "used")
    assert req2 - req1 == t2["leak_bytes"]


def test_fragmented_metrics_follow_the_spec(qemu_dumps):
    """FORMAT.md section 9 recomputed from the listed blocks."""
    import math
    h = run(qemu_dumps, "fragmented").json()["heaps"]
    h = [x for x in h if x["used_entries"]][0]
    free = [b["size"] // 8 for b in h["blocks"] if b["state"] == "free"]
    assert h["free_entries"] == len(free) >= 20
    want = 100 - math.isqrt(sum(u * u for u in free)) * 100 // sum(free)
    assert h["fragmentation"] == want
    assert h["largest_free"] == max(free) * 8
    assert h["largest_alloc"] == max(free) * 8 - 4 - PREFIX_32 - 4


def test_report_text_on_firmware(qemu_dumps):
    r = heapview("--no-color", qemu_dumps / "sc-overrun.cp1.pmemsave.bin", FW_DIR / "sc-overrun.elf")
    assert r.rc == 1
    assert "heap umm_heap_default at 0x" in r.out
    assert "overrun at 0x" in r.out and "allocated by hv_" in r.out
