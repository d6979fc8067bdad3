"""bench-live: a 256 KiB live snapshot through source_gdb.c against
gdb-multiarch's `dump binary memory` of the same range, both from QEMU's
gdbstub running mini_fw.  Prints medians of several runs: whole process
(connect, read, detach) and transfer only (gdb timed from inside with its
Python API, ours from the probe's counters), plus round trips per
snapshot.  Goal: live / gdb <= 1.2."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import PROBE, MINI_FW, Qemu, probe  # noqa: E402

ADDR, LEN, RUNS = 0x20000000, 0x40000, 9


def gdb_dump_timed(target, path):
    script = ("import time\n"
              "t = time.perf_counter()\n"
              "gdb.execute('dump binary memory %s 0x%x 0x%x')\n"
              "print('transfer_ms=%%.3f' %% ((time.perf_counter() - t) * 1000))\n"
              % (path, ADDR, ADDR + LEN))
    start = time.perf_counter()
    r = subprocess.run(["gdb-multiarch", "-q", "-nx", "-batch",
                        "-ex", "set architecture arm", "-ex", "target remote " + target,
                        "-ex", "python\n" + script + "end", "-ex", "detach"],
                       capture_output=True, text=True, timeout=60)
    total = (time.perf_counter() - start) * 1000
    transfer = None
    for line in r.stdout.splitlines():
        if line.startswith("transfer_ms="):
            transfer = float(line.split("=")[1])
    if transfer is None:
        # `python` with an inline script needs a file on some builds
        with open(path + ".py", "w") as f:
            f.write(script)
        start = time.perf_counter()
        r = subprocess.run(["gdb-multiarch", "-q", "-nx", "-batch",
                            "-ex", "set architecture arm", "-ex", "target remote " + target,
                            "-ex", "source " + path + ".py", "-ex", "detach"],
                           capture_output=True, text=True, timeout=60)
        total = (time.perf_counter() - start) * 1000
        for line in r.stdout.splitlines():
            if line.startswith("transfer_ms="):
                transfer = float(line.split("=")[1])
    if transfer is None:
        raise RuntimeError("gdb-multiarch failed: " + r.stderr.strip())
    return total, transfer


def bench_openocd_simulated_jtag(tmp):
    """Throughput of the Tcl RPC source through real OpenOCD on the
    simulated (bit-level, Python) JTAG wire: the wire dominates."""
    from test_openocd_simulated_jtag import SimulatedJtagOpenocd
    size = 0x10000
    image = os.path.join(tmp, "bench-ocd-image.bin")
    data = os.urandom(size)
    with open(image, "wb") as f:
        f.write(data)
    ocd = SimulatedJtagOpenocd(image, ticker=None)
    try:
        out = os.path.join(tmp, "bench-ocd.bin")
        r = probe("openocd", ocd.target, "--timeout", 20000, "--out", out,
                  "0x20000000:0x%x" % size, limit=120)
        if r.rc != 0:
            raise RuntimeError(r.err.strip())
        with open(out, "rb") as f:
            if f.read() != data:
                raise RuntimeError("openocd snapshot differs from the image")
        st = r.stats()
    finally:
        ocd.stop()
    ms = st["read_us"] / 1000
    print("  openocd (simulated JTAG wire): 64 KiB read in %.0f ms, %.0f KB/s, %d round trips"
          % (ms, size / 1e3 / (ms / 1000), st["round_trips"]))


def main():
    tmp = os.environ.get("LIVE_BUILD", "build/live")
    q = Qemu(MINI_FW, halted=False)
    try:
        time.sleep(0.3)   # mini_fw writes its pattern in well under this
        live_total, live_total_ms, live_read, trips = [], [], [], []
        gdb_total, gdb_read = [], []
        for _ in range(RUNS):
            out = os.path.join(tmp, "bench-live.bin")
            r = probe("gdb", q.target, "--out", out, "0x%x:0x%x" % (ADDR, LEN))
            if r.rc != 0:
                raise RuntimeError(r.err.strip())
            live_total.append(r.seconds * 1000)
            st = r.stats()
            live_total_ms.append(st["ms"])
            live_read.append(st["read_us"] / 1000)
            trips.append(st["round_trips"])
            ref = os.path.join(tmp, "bench-gdb.bin")
            total, transfer = gdb_dump_timed(q.target, ref)
            gdb_total.append(total)
            gdb_read.append(transfer)
            with open(out, "rb") as a, open(ref, "rb") as b:
                if a.read() != b.read():
                    raise RuntimeError("live snapshot differs from gdb's dump")
    finally:
        q.stop()
    lt, gt = statistics.median(live_total), statistics.median(gdb_total)
    lr, gr = statistics.median(live_read), statistics.median(gdb_read)
    print("bench-live: 256 KiB from QEMU gdbstub, median of %d runs" % RUNS)
    print("  heapview live snapshot: %.1f ms process, %.1f ms connect+read+detach, "
          "%.1f ms reads (%.1f MB/s), %d round trips"
          % (lt, statistics.median(live_total_ms), lr, LEN / 1e6 / (max(lr, 0.01) / 1000),
             statistics.median(trips)))
    print("  gdb-multiarch dump:     %.1f ms process, %.1f ms dump command (%.1f MB/s)"
          % (gt, gr, LEN / 1e6 / (gr / 1000)))
    print("  ratio live/gdb: process %.2f, transfer %.2f (goal <= 1.2)" % (lt / gt, lr / gr))
    bench_openocd_simulated_jtag(tmp)


if __name__ == "__main__":
    main()
