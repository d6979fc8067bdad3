#!/usr/bin/python3
"""Read a test firmware's own account of its heaps (`hv_truth`, layout in
tests/firmware/README.md) out of a RAM capture, for tests that compare a
tool's findings with what the firmware did.

    fwtruth.py FIRMWARE.elf DUMP.bin [--start ADDR]

prints the record as JSON: scenario, checkpoint, per-heap control block,
region, live allocations and requested bytes, and the damage the firmware
did (kind named as in lib/FORMAT.md section 6).  DUMP.bin is a raw capture
starting at ADDR (default: the ELF's __hv_ram_start, where qemu_dump.py
captures start).  From Python: `load(elf, dump, start)` returns the dict.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_dump  # noqa: E402

MAGIC = 0x52545648
VERSION = 1
FIELDS = ("magic version size scenario checkpoint heap_count live_count live_requested "
          "fault_kind damaged_address damaged_ptr damaged_heap leak_count leak_bytes "
          "check_count check_failures").split()
HEAP_FIELDS = "handle ctl region region_bytes live_count live_requested".split()
MAX_HEAPS = 4
MAX_LIVE = 64
SCENARIOS = {0: "bare", 1: "demo", 2: "healthy", 3: "fragmented", 4: "two-heaps",
             5: "overrun", 6: "underrun", 7: "header-smash", 8: "write-after-free",
             9: "double-free", 10: "leak", 11: "wide"}
FAULT_KINDS = {0: None, 1: "header", 2: "freelist", 3: "underrun", 4: "overrun",
               5: "use_after_free", 6: "double_free", 7: "interior_free", 8: "foreign_free",
               9: "wrong_heap", 10: "control"}


class Snapshot:
    """A raw capture of target memory starting at `start`, read as the
    (little-endian) target would."""

    def __init__(self, data, start):
        self.data = data
        self.start = start

    @classmethod
    def from_file(cls, path, start):
        with open(path, "rb") as f:
            return cls(f.read(), start)

    def bytes(self, addr, length):
        off = addr - self.start
        if off < 0 or off + length > len(self.data):
            raise ValueError(f"0x{addr:08x}+{length} lies outside the capture "
                             f"(0x{self.start:08x}+{len(self.data)})")
        return self.data[off:off + length]

    def u8(self, addr):
        return self.bytes(addr, 1)[0]

    def u16(self, addr):
        return struct.unpack("<H", self.bytes(addr, 2))[0]

    def u32(self, addr):
        return struct.unpack("<I", self.bytes(addr, 4))[0]


def read(snap, truth_address):
    """The raw record at `truth_address`: every field, heaps[:heap_count],
    and the used slots of live[]."""
    truth = {k: snap.u32(truth_address + 4 * i) for i, k in enumerate(FIELDS)}
    if truth["magic"] != MAGIC or truth["version"] != VERSION:
        raise ValueError(f"no hv_truth version {VERSION} at 0x{truth_address:08x}")
    heaps_at = truth_address + 4 * len(FIELDS)
    truth["heaps"] = []
    for i in range(MAX_HEAPS):
        vals = [snap.u32(heaps_at + 24 * i + 4 * j) for j in range(len(HEAP_FIELDS))]
        truth["heaps"].append(dict(zip(HEAP_FIELDS, vals)))
    live_at = heaps_at + 24 * MAX_HEAPS
    truth["live"] = []
    for i in range(MAX_LIVE):
        ptr, requested, heap, order = (snap.u32(live_at + 16 * i + 4 * j) for j in range(4))
        if ptr:
            truth["live"].append({"ptr": ptr, "requested": requested, "heap": heap,
                                  "order": order})
    truth["end"] = live_at + 16 * MAX_LIVE
    return truth


def summary(truth):
    """The record in the terms tools report (cli/JSON.md)."""
    heaps = []
    for i, h in enumerate(truth["heaps"][:truth["heap_count"]]):
        heaps.append({
            "index": i, "handle": h["handle"], "address": h["ctl"] or None,
            "region": h["region"], "size": h["region_bytes"],
            "used_entries": h["live_count"], "requested_bytes": h["live_requested"],
            "allocations": sorted(({"ptr": a["ptr"], "requested": a["requested"],
                                    "order": a["order"]}
                                   for a in truth["live"] if a["heap"] == i),
                                  key=lambda a: a["ptr"]),
        })
    damage = None
    if truth["fault_kind"]:
        damage = {"kind": FAULT_KINDS.get(truth["fault_kind"], str(truth["fault_kind"])),
                  "address": truth["damaged_address"], "ptr": truth["damaged_ptr"],
                  "heap": truth["damaged_heap"]}
    return {"scenario": SCENARIOS.get(truth["scenario"], str(truth["scenario"])),
            "checkpoint": truth["checkpoint"], "heaps": heaps, "damage": damage,
            "leak": ({"count": truth["leak_count"], "bytes": truth["leak_bytes"]}
                     if truth["leak_count"] else None)}


def load(elf, dump, start=None):
    symbols = qemu_dump.elf_symbols(elf)
    if "hv_truth" not in symbols:
        raise ValueError(f"'{elf}' has no hv_truth symbol")
    if start is None:
        start = symbols.get("__hv_ram_start", qemu_dump.DATA_RAM[0])
    return summary(read(Snapshot.from_file(dump, start), symbols["hv_truth"]))


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--start"):
        print("usage: fwtruth.py FIRMWARE.elf DUMP.bin [--start ADDR]", file=sys.stderr)
        return 2
    try:
        start = int(argv[3], 0) if len(argv) == 4 else None
        doc = load(argv[0], argv[1], start)
    except (OSError, ValueError, qemu_dump.CaptureError) as e:
        msg = (getattr(e, "strerror", None) or "").lower() or str(e)
        print(f"fwtruth: cannot read '{argv[1]}': {msg}", file=sys.stderr)
        return 2
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
