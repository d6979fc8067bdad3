"""Real peers for the live-target tests, shared by tests/live and
tests/tui: free ports, a listening check that never connects, QEMU with a
gdbstub, and a real OpenOCD whose JTAG wire is simulated by jtag_dp_sim.py.
Every process is started and killed by PID."""
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port, pid=None):
    """True when something listens on 127.0.0.1:port -- process `pid` when
    given, so a busy port held by someone else's QEMU does not count --
    found without connecting (a connection would stop QEMU's VM)."""
    want = "0100007F:%04X" % port
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                inodes.add(fields[9])
    if not inodes or pid is None:
        return bool(inodes)
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


class Qemu:
    def __init__(self, elf, halted=True):
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            cmd = ["qemu-system-arm", "-M", "mps2-an385", "-cpu", "cortex-m3",
                   "-nographic", "-monitor", "none", "-serial", "none",
                   "-kernel", elf, "-gdb", "tcp:127.0.0.1:%d" % self.port]
            if halted:
                cmd.append("-S")
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.proc.poll() is None:
                if listening(self.port, self.proc.pid):
                    return
                time.sleep(0.02)
            self.stop()
        raise RuntimeError("qemu did not start a gdbstub")

    @property
    def target(self):
        return "127.0.0.1:%d" % self.port

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)


BASE = 0x20000000
TICKER = BASE + 0x7000


class SimulatedJtagOpenocd:
    def __init__(self, image_path, ticker=TICKER, gdb=False, base=BASE):
        self.sim = self.openocd = self.log = None
        self.log_path = image_path + ".openocd.log"
        for _ in range(3):
            if self._start(image_path, ticker, gdb, base):
                return
        raise RuntimeError("openocd did not examine the simulated target:\n" +
                           open(self.log_path).read())

    def _start(self, image_path, ticker, gdb, base):
        """One attempt; False (everything stopped) when a port we picked
        was taken meanwhile, so the caller tries again."""
        cmd = [sys.executable, os.path.join(HERE, "jtag_dp_sim.py"), "--image", image_path,
               "--base", hex(base)]
        if ticker is not None:
            cmd += ["--ticker", hex(ticker)]
        self.sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.sim.stdout.readline()
        if not line.startswith("listening on port "):
            self.stop()
            raise RuntimeError("jtag_dp_sim did not start: %r" % line)
        sim_port = int(line.split()[-1])
        self.tcl_port = free_port()
        self.gdb_port = free_port() if gdb else None
        cfg = ("adapter driver remote_bitbang; remote_bitbang host 127.0.0.1; "
               "remote_bitbang port %d; transport select jtag; "
               "jtag newtap sim cpu -irlen 4 -expected-id 0x4ba00477; "
               "dap create sim.dap -chain-position sim.cpu; "
               "target create sim.cpu cortex_m -dap sim.dap -ap-num 0; "
               "gdb_port %s; telnet_port disabled; tcl_port %d; "
               "gdb_report_data_abort enable; bindto 127.0.0.1"
               % (sim_port, self.gdb_port or "disabled", self.tcl_port))
        self.log = open(self.log_path, "w")
        self.openocd = subprocess.Popen(["openocd", "-c", cfg], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.openocd.poll() is None:
            with open(self.log_path) as f:
                text = f.read()
            if "Cortex-M3 r2p1 processor detected" in text and \
                    listening(self.tcl_port, self.openocd.pid):
                return True
            time.sleep(0.05)
        self.stop()
        with open(self.log_path) as f:
            if "Address already in use" in f.read():
                return False
        raise RuntimeError("openocd did not examine the simulated target:\n" +
                           open(self.log_path).read())

    @property
    def target(self):
        return "127.0.0.1:%d" % self.tcl_port

    def tcl(self, command):
        """Runs one raw Tcl RPC command (test-side check, not the client under test)."""
        with socket.create_connection(("127.0.0.1", self.tcl_port), timeout=10) as s:
            s.sendall(command.encode() + b"\x1a")
            buf = b""
            while not buf.endswith(b"\x1a"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.rstrip(b"\x1a").decode()

    def stop_sim(self):
        if self.sim.poll() is None:
            self.sim.kill()
        self.sim.wait(timeout=10)

    def stop(self):
        for p in (self.openocd, self.sim):
            if p is not None and p.poll() is None:
                p.kill()
        for p in (self.openocd, self.sim):
            if p is not None:
                p.wait(timeout=10)
        if self.sim is not None:
            self.sim.stdout.close()
        if self.log is not None:
            self.log.close()
            self.log = None
