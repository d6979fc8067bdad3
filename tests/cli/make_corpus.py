#!/usr/bin/env python3
"""Regenerates tests/cli/corpus/, the seed inputs of fuzz_heapview.c (first
byte: 0 Intel HEX, 1 ELF core, 2 raw memory at 0x20000000, 3 firmware ELF).
Usage: make_corpus.py QEMU_DUMP_DIR FIRMWARE_DIR
(QEMU_DUMP_DIR as written by scripts/qemu-dump.sh for the sc-* firmwares).
The `fuzz-*` files beside the seeds are inputs libFuzzer found (`make
fuzz-cli`, then `-merge=1`, those under 3 KB kept); this script leaves them."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import specheap  # noqa: E402
from test_host import write_ihex  # noqa: E402

BASE = 0x20000000


def main():
    dumps, fw = Path(sys.argv[1]), Path(sys.argv[2])
    out = Path(__file__).parent / "corpus"
    out.mkdir(exist_ok=True)
    for name in ("healthy", "overrun", "header-smash", "two-heaps", "write-after-free"):
        (out / f"raw-{name}").write_bytes(b"\x02" + (dumps / f"sc-{name}.cp1.gdb.bin").read_bytes())
    (out / "core-underrun").write_bytes(b"\x01" + (dumps / "sc-underrun.cp1.core").read_bytes())
    (out / "core-double-free").write_bytes(b"\x01" + (dumps / "sc-double-free.cp1.core").read_bytes())
    blocks = [dict(units=5, state="used", requested=12, seq=1, owner=0x1234), dict(units=4, state="free"),
              dict(units=9, state="used", requested=40, seq=2, owner=0x1234), dict(units=0, state="free")]
    mem, _, _ = specheap.heapview_heap(BASE, 1024, blocks, 15)
    hexf = out / "tmp.hex"
    write_ihex(mem, BASE, hexf)
    (out / "ihex-spec").write_bytes(b"\x00" + hexf.read_bytes())
    hexf.unlink()
    (out / "raw-spec").write_bytes(b"\x02" + mem)
    up = specheap.upstream_heap(64, [(3, "used", 10), (2, "free", 0), (4, "used", 20), (0, "free", 0)],
                                poison=True)
    (out / "raw-upstream").write_bytes(b"\x02" + up + bytes([64, 0, 8, 1]))
    (out / "elf-bare").write_bytes(b"\x03" + (fw / "bare.elf").read_bytes()[:65536])


if __name__ == "__main__":
    main()
