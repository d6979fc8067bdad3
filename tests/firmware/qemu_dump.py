#!/usr/bin/python3
"""Run a test firmware in QEMU (mps2-an385, Cortex-M3) and capture its RAM.

    qemu_dump.py run ELF [--timeout S]
        Runs the firmware to its semihosting exit, prints its output and
        exits with its status (124 on timeout).

    qemu_dump.py dump ELF --out DIR [--checkpoint N ...] [--method M ...]
                      [--range START:END] [--timeout S] [--name NAME] [--gdb-tcp]
        Starts QEMU halted with a gdbstub and a QMP server on UNIX sockets
        (--gdb-tcp: the gdbstub on a free 127.0.0.1 port QEMU picks),
        lets gdb-multiarch run the firmware to `hv_checkpoint` with
        hv_checkpoint_id == N (for each N, in order; without --checkpoint, to
        every checkpoint the firmware reaches before it exits) and at each
        stop writes the range through every method asked for:
            gdb       gdb's `dump binary memory`        NAME.cpN.gdb.bin
            pmemsave  QMP pmemsave                      NAME.cpN.pmemsave.bin
            core      QMP dump-guest-memory (ELF core)  NAME.cpN.core, and the
                      range cut out of it               NAME.cpN.core.bin
        Then lets the firmware run to its exit and writes NAME.json: the
        range, the checkpoints reached, each file's SHA-256, whether the
        methods agree, the firmware's output and exit status.  Exits 0 when
        every checkpoint was reached, every method gave the same bytes and
        the firmware exited with status 0; 1 otherwise; 2 on bad arguments.

The default range is [__hv_ram_start, __hv_ram_end) from the ELF's symbols
(every byte the firmware uses), else the whole 4 MiB data RAM.  QEMU is
stopped by its PID on every path; every wait is bounded.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

QEMU = os.environ.get("QEMU", "qemu-system-arm")
GDB = os.environ.get("GDB", "gdb-multiarch")
DATA_RAM = (0x20000000, 0x20400000)
METHODS = ("gdb", "pmemsave", "core")
MAX_CHECKPOINTS = 64


class CaptureError(Exception):
    pass


# ---- ELF32 reading (symbols of the firmware, segments of the core) -------

def elf_header(blob, what):
    if len(blob) < 52 or blob[:4] != b"\x7fELF":
        raise CaptureError(f"cannot read '{what}': not an ELF file")
    if blob[4] != 1 or blob[5] != 1:
        raise CaptureError(f"cannot read '{what}': not a little-endian ELF32 file")
    fields = struct.unpack_from("<HHIIIIIHHHHHH", blob, 16)
    return {
        "phoff": fields[4], "shoff": fields[5], "phentsize": fields[8], "phnum": fields[9],
        "shentsize": fields[10], "shnum": fields[11],
    }


def elf_symbols(path):
    """Returns {name: value} of the ELF's symbol table."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
        return elf_symbols_of(blob, path)
    except OSError as e:
        raise CaptureError(f"cannot read '{path}': {e.strerror.lower()}") from None
    except (struct.error, IndexError):
        raise CaptureError(f"cannot read '{path}': truncated or damaged ELF file") from None


def elf_symbols_of(blob, path):
    hdr = elf_header(blob, path)
    sections = []
    for i in range(hdr["shnum"]):
        off = hdr["shoff"] + i * hdr["shentsize"]
        if off + 40 > len(blob):
            raise CaptureError(f"cannot read '{path}': section header {i} out of range")
        sections.append(struct.unpack_from("<IIIIIIIIII", blob, off))
    symbols = {}
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sh[6]] if sh[6] < len(sections) else None
        if strtab is None:
            continue
        str_off, str_size = strtab[4], strtab[5]
        for pos in range(sh[4], sh[4] + sh[5] - 15, 16):
            name_off, value = struct.unpack_from("<II", blob, pos)
            if name_off >= str_size:
                continue
            start = str_off + name_off
            end = blob.find(b"\0", start, str_off + str_size)
            if end > start:
                symbols[blob[start:end].decode("ascii", "replace")] = value
    return symbols


def core_extract(core_path, start, end):
    """Returns the bytes of [start, end) from the PT_LOAD segments of an ELF core."""
    with open(core_path, "rb") as f:
        blob = f.read()
    hdr = elf_header(blob, core_path)
    out = bytearray(end - start)
    covered = 0
    for i in range(hdr["phnum"]):
        off = hdr["phoff"] + i * hdr["phentsize"]
        if off + 32 > len(blob):
            raise CaptureError(f"cannot read '{core_path}': program header {i} out of range")
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from("<IIIII", blob, off)
        if p_type != 1:  # PT_LOAD
            continue
        lo, hi = max(start, p_paddr), min(end, p_paddr + p_filesz)
        if lo >= hi:
            continue
        src = p_offset + (lo - p_paddr)
        if src + (hi - lo) > len(blob):
            raise CaptureError(f"cannot read '{core_path}': segment at 0x{p_paddr:08x} is truncated")
        out[lo - start:hi - start] = blob[src:src + (hi - lo)]
        covered += hi - lo
    if covered != end - start:
        raise CaptureError(f"cannot read '{core_path}': core covers {covered} of the "
                           f"{end - start} bytes at 0x{start:08x}")
    return bytes(out)


# ---- QMP -------------------------------------------------------------------

class Qmp:
    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise CaptureError(f"cannot connect to QMP at '{path}': timed out")
                time.sleep(0.01)
        self.buf = b""
        greeting = self.reply()
        if "QMP" not in greeting:
            raise CaptureError(f"QMP at '{path}': unexpected greeting")
        self.execute("qmp_capabilities")

    def reply(self):
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                msg = json.loads(line)
                if "event" in msg:
                    continue
                return msg
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise CaptureError("QMP: no reply in time") from None
            if not chunk:
                raise CaptureError("QMP: connection closed")
            self.buf += chunk

    def execute(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        reply = self.reply()
        if "error" in reply:
            raise CaptureError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    def close(self):
        self.sock.close()


def qmp_capture(qmp_path, start, end, pmemsave_path, core_path, timeout):
    """Captures through QMP while gdb holds the target halted."""
    qmp = Qmp(qmp_path, timeout)
    try:
        status = qmp.execute("query-status")
        if status.get("running"):
            raise CaptureError(f"QMP: target is running ({status.get('status')}), not halted")
        if pmemsave_path:
            qmp.execute("pmemsave", val=start, size=end - start, filename=pmemsave_path)
        if core_path:
            qmp.execute("dump-guest-memory", paging=False, protocol="file:" + core_path,
                        begin=start, length=end - start)
            with open(core_path[:-len(".core")] + ".core.bin", "wb") as f:
                f.write(core_extract(core_path, start, end))
    finally:
        qmp.close()


# ---- QEMU ------------------------------------------------------------------

def qemu_command(elf, semihost_log=None, gdb_sock=None, qmp_sock=None, halted=False):
    cmd = [QEMU, "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic",
           "-monitor", "none", "-serial", "none", "-kernel", elf]
    if semihost_log == "stdio":
        cmd += ["-chardev", "stdio,id=hvout,signal=off",
                "-semihosting-config", "enable=on,target=native,chardev=hvout"]
    elif semihost_log:
        cmd += ["-chardev", f"file,id=hvout,path={semihost_log}",
                "-semihosting-config", "enable=on,target=native,chardev=hvout"]
    else:
        cmd += ["-semihosting-config", "enable=on,target=native"]
    if gdb_sock == "tcp":
        # Port 0: QEMU binds a free port on loopback; QMP query-chardev says
        # which.  nodelay=on as `-gdb tcp:` sets it: with Nagle on, every
        # small RSP exchange waits on a delayed ACK (~2 s per session).
        cmd += ["-chardev", "socket,id=hvgdb,host=127.0.0.1,port=0,server=on,wait=off,nodelay=on",
                "-gdb", "chardev:hvgdb"]
    elif gdb_sock:
        cmd += ["-chardev", f"socket,id=hvgdb,path={gdb_sock},server=on,wait=off",
                "-gdb", "chardev:hvgdb"]
    if qmp_sock:
        cmd += ["-qmp", f"unix:{qmp_sock},server=on,wait=off"]
    if halted:
        cmd.append("-S")
    return cmd


def stop_process(proc, grace=2.0):
    """Stops `proc` (by its PID, through Popen) and reaps it."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_for_socket(path, proc, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise CaptureError(f"qemu exited with status {proc.returncode} before "
                               f"opening '{path}'")
        if time.monotonic() > deadline:
            raise CaptureError(f"qemu did not open '{path}' within {timeout}s")
        time.sleep(0.005)


def gdb_tcp_port(qmp_path, timeout):
    """The loopback port QEMU bound for its gdbstub (chardev hvgdb)."""
    qmp = Qmp(qmp_path, timeout)
    try:
        for dev in qmp.execute("query-chardev"):
            if dev.get("label") == "hvgdb":
                m = re.search(r"tcp:127\.0\.0\.1:(\d+)", dev.get("filename", ""))
                if m:
                    return int(m.group(1))
    finally:
        qmp.close()
    raise CaptureError("QMP: qemu did not report its gdbstub port")


def cmd_run(args):
    proc = subprocess.Popen(qemu_command(args.elf, "stdio"), stdin=subprocess.DEVNULL)
    try:
        status = proc.wait(args.timeout)
    except subprocess.TimeoutExpired:
        print(f"qemu-run: '{args.elf}' did not exit within {args.timeout}s", file=sys.stderr)
        status = 124
    finally:
        stop_process(proc)
    return status


def gdb_script(checkpoints, out, name, start, end, methods, qmp_sock, timeout):
    """The gdb commands: stop at each checkpoint asked for (all of them when
    `checkpoints` is None), capture there, then let the firmware finish."""
    lines = ["set pagination off", "set confirm off", "set height 0",
             "set remotetimeout %d" % max(2, int(timeout)),
             "target remote {gdb_sock}",
             "break *hv_checkpoint"]

    def capture(cp):
        # With cp None the id is only known at run time: `eval` fills it in.
        tag = "%u" if cp is None else str(cp)
        base = os.path.join(out, f"{name}.cp{tag}")
        cmds = []
        if "gdb" in methods:
            cmds.append(f"dump binary memory {base}.gdb.bin 0x{start:x} 0x{end:x}")
        qmp_args = []
        if "pmemsave" in methods:
            qmp_args += ["--pmemsave", base + ".pmemsave.bin"]
        if "core" in methods:
            qmp_args += ["--core", base + ".core"]
        if qmp_args:
            helper = [sys.executable, os.path.abspath(__file__), "qmp-capture",
                      "--qmp", qmp_sock, "--range", f"0x{start:x}:0x{end:x}",
                      "--timeout", str(timeout)] + qmp_args
            cmds.append("shell " + " ".join(helper) + " || echo HV-QMP-FAILED")
        if cp is not None:
            return cmds
        return ['eval "%s"%s' % (c, ", hv_checkpoint_id" * c.count("%u")) for c in cmds]

    report = 'printf "HV-CHECKPOINT %u pc=0x%08x\\n", hv_checkpoint_id, $pc'
    captured = 'printf "HV-CAPTURED %u\\n", hv_checkpoint_id'
    if checkpoints is None:
        # Every checkpoint until the firmware exits; the `continue` that
        # meets the exit fails and so ends the script.
        lines += ["set $hv_stops = 0", f"while $hv_stops < {MAX_CHECKPOINTS}", "continue", report]
        lines += capture(None)
        lines += [captured, "set $hv_stops = $hv_stops + 1", "end"]
        return "\n".join(lines) + "\n"
    for cp in checkpoints:
        lines += ["continue", f"while hv_checkpoint_id != {cp}", "  continue", "end", report]
        lines += capture(cp)
        lines.append(captured)
    # Let the firmware finish: its exit status and closing lines are part of
    # the result.  The stub closes when QEMU exits, which ends the script.
    lines += ["delete", "continue"]
    return "\n".join(lines) + "\n"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cmd_dump(args):
    elf = os.path.abspath(args.elf)
    if not os.path.isfile(elf):
        raise CaptureError(f"cannot read '{args.elf}': no such file")
    syms = elf_symbols(elf)
    if "hv_checkpoint" not in syms or "hv_checkpoint_id" not in syms:
        raise CaptureError(f"cannot use '{args.elf}': no hv_checkpoint/hv_checkpoint_id symbols")
    if args.range:
        start, end = parse_range(args.range)
    elif "__hv_ram_start" in syms and "__hv_ram_end" in syms:
        start, end = syms["__hv_ram_start"], syms["__hv_ram_end"]
    else:
        start, end = DATA_RAM
    methods = args.method or list(METHODS)
    checkpoints = sorted(set(args.checkpoint)) if args.checkpoint else None
    name = args.name or os.path.splitext(os.path.basename(elf))[0]
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    stale = re.compile(re.escape(name) + r"\.cp\d+\.(gdb\.bin|pmemsave\.bin|core|core\.bin)$")
    for entry in os.listdir(out):
        if stale.match(entry):
            os.unlink(os.path.join(out, entry))

    # UNIX socket paths must stay under ~100 bytes: keep them in a short
    # private directory, unique per run, so parallel runs never collide.
    sockdir = tempfile.mkdtemp(prefix="hvq")
    gdb_sock = os.path.join(sockdir, "gdb")
    qmp_sock = os.path.join(sockdir, "qmp")
    qemu_err_path = os.path.join(sockdir, "stderr")
    log_path = os.path.join(out, name + ".out")
    script_path = os.path.join(out, name + ".gdb")
    result = {"elf": elf, "range": [start, end], "methods": methods, "checkpoints": [],
              "qemu_status": None, "output": "", "ok": False, "error": None}
    qemu = None
    t0 = time.monotonic()
    try:
        # QEMU's own messages go to a file: a pipe nobody reads could fill.
        with open(qemu_err_path, "w") as qemu_err:
            qemu = subprocess.Popen(qemu_command(elf, log_path,
                                                 "tcp" if args.gdb_tcp else gdb_sock,
                                                 qmp_sock, halted=True),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=qemu_err)
        result["qemu_pid"] = qemu.pid
        if args.gdb_tcp:
            wait_for_socket(qmp_sock, qemu, args.timeout)
            gdb_endpoint = "127.0.0.1:%d" % gdb_tcp_port(qmp_sock, args.timeout)
        else:
            wait_for_socket(gdb_sock, qemu, args.timeout)
            gdb_endpoint = gdb_sock
        result["gdb_endpoint"] = gdb_endpoint
        script = gdb_script(checkpoints, out, name, start, end, methods, qmp_sock,
                            args.timeout).replace("{gdb_sock}", gdb_endpoint)
        with open(script_path, "w") as f:
            f.write(script)
        try:
            gdb = subprocess.run([GDB, "-batch", "-nx", "-x", script_path, elf],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=args.timeout)
            gdb_out = gdb.stdout + gdb.stderr
        except subprocess.TimeoutExpired as e:
            gdb_out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
            result["error"] = f"gdb did not finish within {args.timeout}s"
        result["gdb_output"] = gdb_out
        try:
            result["qemu_status"] = qemu.wait(max(0.5, args.timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            result["error"] = result["error"] or "qemu did not exit after the last checkpoint"
        reached = {}
        for line in gdb_out.splitlines():
            if line.startswith("HV-CHECKPOINT "):
                parts = line.split()
                reached[int(parts[1])] = int(parts[2].split("=")[1], 16)
        captured = {int(line.split()[1]) for line in gdb_out.splitlines()
                    if line.startswith("HV-CAPTURED ")}
        all_ok = result["error"] is None and "HV-QMP-FAILED" not in gdb_out
        if checkpoints is None:
            checkpoints = list(reached)  # in the order the firmware reached them
            if not checkpoints:
                result["error"] = result["error"] or "no checkpoint reached"
                all_ok = False
        for cp in checkpoints:
            entry = {"id": cp, "reached": cp in reached, "captured": cp in captured,
                     "pc": reached.get(cp), "files": {}, "sha256": {}}
            for method in methods:
                path = os.path.join(out, f"{name}.cp{cp}." +
                                    ("core.bin" if method == "core" else method + ".bin"))
                if os.path.exists(path):
                    entry["files"][method] = path
                    entry["sha256"][method] = sha256(path)
            sizes = {os.path.getsize(p) for p in entry["files"].values()}
            entry["identical"] = (len(entry["files"]) == len(methods) and
                                  len(set(entry["sha256"].values())) == 1 and
                                  sizes == {end - start})
            all_ok = all_ok and entry["reached"] and entry["captured"] and entry["identical"]
            result["checkpoints"].append(entry)
        all_ok = all_ok and result["qemu_status"] == 0
        result["ok"] = all_ok
        if result["error"] is None and not all_ok:
            missing = [c["id"] for c in result["checkpoints"] if not c["reached"]]
            differ = [c["id"] for c in result["checkpoints"] if c["reached"] and not c["identical"]]
            if missing:
                result["error"] = "checkpoint %s not reached" % ",".join(map(str, missing))
            elif differ:
                result["error"] = "methods disagree at checkpoint %s" % ",".join(map(str, differ))
            elif result["qemu_status"] != 0:
                result["error"] = f"firmware exited with status {result['qemu_status']}"
            else:
                result["error"] = "capture failed (see gdb_output)"
    except CaptureError as e:
        result["error"] = str(e)
    finally:
        stop_process(qemu)
        if os.path.exists(qemu_err_path):
            with open(qemu_err_path, errors="replace") as f:
                result["qemu_stderr"] = f.read()
        shutil.rmtree(sockdir, ignore_errors=True)
        if os.path.exists(log_path):
            with open(log_path, errors="replace") as f:
                result["output"] = f.read()
        result["seconds"] = round(time.monotonic() - t0, 3)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(result, f, indent=1)
    if not args.quiet:
        sys.stdout.write(result["output"])
        print(f"qemu-dump: firmware exit status {result['qemu_status']}; "
              f"range 0x{start:08x}-0x{end:08x} ({end - start} bytes)")
        for c in result["checkpoints"]:
            print(f"qemu-dump: checkpoint {c['id']}: " +
                  ("not reached" if not c["reached"] else
                   ("methods agree" if c["identical"] else "methods DISAGREE")) +
                  "".join(f"\n  {m}: {p}" for m, p in c["files"].items()))
    if result["error"]:
        print(f"qemu-dump: {name}: {result['error']}", file=sys.stderr)
    return 0 if result["ok"] else 1


def parse_range(text):
    try:
        a, b = text.split(":")
        start, end = int(a, 0), int(b, 0)
    except ValueError:
        raise CaptureError(f"bad range '{text}': want START:END") from None
    if not 0 <= start < end <= 0xFFFFFFFF:
        raise CaptureError(f"bad range '{text}': want START < END within 32 bits")
    return start, end


def cmd_qmp_capture(args):
    start, end = parse_range(args.range)
    qmp_capture(args.qmp, start, end, args.pmemsave, args.core, args.timeout)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a firmware to its exit")
    p.add_argument("elf")
    p.add_argument("--timeout", type=float, default=10.0)
    p = sub.add_parser("dump", help="capture RAM at checkpoints")
    p.add_argument("elf")
    p.add_argument("--out", required=True)
    p.add_argument("--name")
    p.add_argument("--checkpoint", type=int, action="append")
    p.add_argument("--method", choices=METHODS, action="append")
    p.add_argument("--range")
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--gdb-tcp", action="store_true",
                   help="gdbstub on a free 127.0.0.1 port instead of a UNIX socket")
    p = sub.add_parser("qmp-capture", help="(used by dump) capture through QMP")
    p.add_argument("--qmp", required=True)
    p.add_argument("--range", required=True)
    p.add_argument("--pmemsave")
    p.add_argument("--core")
    p.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "dump": cmd_dump, "qmp-capture": cmd_qmp_capture}[args.command](args)
    except CaptureError as e:
        print(f"qemu-dump: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
