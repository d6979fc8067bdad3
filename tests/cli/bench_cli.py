#!/usr/bin/env python3
"""bench-cli: heapview on a 16 MiB heap of about a million blocks (the real
allocator, release build, every other smallest block freed).  Measures wall
time and peak RSS of the whole analysis (`heapview check`: load, discover,
decode, every check, metrics) with /usr/bin/time, best and median of five,
and the JSON rendering of every block once.  Budget: 200 ms, 3x the dump."""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HEAPVIEW = os.environ["HEAPVIEW"]
MKDUMP = os.environ["MKDUMP_REL"]
WORK = Path(os.environ["CLI_TEST_DIR"]) / "bench"
TIME_BUDGET_S = 0.200
RSS_FACTOR = 3.0


def timed(args, stdout=subprocess.DEVNULL):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", *args], stdout=stdout, stderr=subprocess.PIPE, text=True)
    secs, kb = r.stderr.strip().splitlines()[-1].split()
    return r.returncode, float(secs), int(kb) * 1024


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    dump = WORK / "heap16m.bin"
    truth = json.loads(subprocess.check_output([MKDUMP, "bench", str(dump)], text=True))
    size = dump.stat().st_size
    args = [HEAPVIEW, "check", "--base", hex(truth["base"]), "--heap", hex(truth["ctl"]), str(dump)]
    runs = [timed(args) for _ in range(5)]
    assert all(rc == 0 for rc, _, _ in runs), runs
    doc = json.loads(subprocess.check_output([HEAPVIEW, "--json", "--base", hex(truth["base"]), "--heap",
                                              hex(truth["ctl"]), str(dump)], text=True))
    h = doc["heaps"][0]
    blocks = h["used_entries"] + h["free_entries"]
    rc, json_secs, json_rss = timed([HEAPVIEW, "--json", "--base", hex(truth["base"]), "--heap", hex(truth["ctl"]),
                                     str(dump)])
    best = min(s for _, s, _ in runs)
    median = statistics.median(s for _, s, _ in runs)
    rss = max(m for _, _, m in runs)
    print(f"bench-cli: heap {size / 2**20:.0f} MiB, {blocks} blocks ({h['used_entries']} used, "
          f"{h['free_entries']} free), {len(h['problems'])} problems")
    print(f"bench-cli: analysis (heapview check): best {best * 1000:.0f} ms, median {median * 1000:.0f} ms, "
          f"peak RSS {rss / 2**20:.1f} MiB = {rss / size:.2f}x the dump")
    print(f"bench-cli: --json of every block: {json_secs * 1000:.0f} ms, peak RSS {json_rss / 2**20:.1f} MiB")
    if os.path.exists("/usr/bin/valgrind"):
        r = subprocess.run(["/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ir = [l.split()[-1] for l in r.stderr.splitlines() if "Collected" in l]
        if ir:
            print(f"bench-cli: analysis instructions (callgrind): {int(ir[-1]):,} "
                  f"({int(ir[-1]) / blocks:.0f} per block)")
    ok = blocks >= 1_000_000 and median <= TIME_BUDGET_S and rss <= RSS_FACTOR * size and h["used_entries"] == truth["live"]
    print(f"bench-cli: budget {TIME_BUDGET_S * 1000:.0f} ms and {RSS_FACTOR:.0f}x: "
          f"{'1 passed, 0 failed' if ok else '0 passed, 1 failed'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
