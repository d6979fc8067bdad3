"""A pseudo-terminal for driving `heapview tui`: a private tmux server (its
own socket, no config file, TERM=screen: 8 colours) with one pane of a fixed
size.  The command runs under a small shell wrapper that records the
terminal modes (stty -g) before and after and prints

    EXIT=<status> STTY=<same|changed>

when it ends, then keeps the pane open so the screen can still be read."""
import os
import shlex
import subprocess
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAPVIEW = os.environ.get("HEAPVIEW", os.path.join(TOP, "build/heapview"))
FW_DIR = os.environ.get("FW_DIR", os.path.join(TOP, "build/firmware"))

WRAPPER = ('trap : INT; before=$(stty -g); "$@"; rc=$?; after=$(stty -g); '
           'if [ "$before" = "$after" ]; then s=same; else s=changed; fi; '
           'printf "\\nEXIT=%s STTY=%s\\n" "$rc" "$s"; exec sleep 600')

_count = 0


class Term:
    def __init__(self, argv, cols=100, rows=30, env=None, cwd=None):
        global _count
        _count += 1
        self.socket = "hv-tui-test-%d-%d" % (os.getpid(), _count)
        self.cols, self.rows = cols, rows
        envs = ["env", "-u", "NO_COLOR"]
        for k, v in (env or {}).items():
            envs.append("%s=%s" % (k, v))
        cmd = envs + ["sh", "-c", WRAPPER, "sh"] + [str(a) for a in argv]
        shell = "cd %s && exec %s" % (shlex.quote(str(cwd or os.getcwd())),
                                       " ".join(shlex.quote(c) for c in cmd))
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), shell)
        self.tmux("set-option", "-g", "status", "off")
        self.server_pid = int(self.display("#{pid}"))

    def tmux(self, *args, check=True):
        env = dict(os.environ)
        env.pop("TMUX", None)          # our own server, even when run inside tmux
        r = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, timeout=10, env=env)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (args[0], r.stderr.strip()))
        return r.stdout

    def display(self, fmt):
        return self.tmux("display-message", "-p", "-t", "0", fmt).strip()

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "0"]
        if escapes:
            args.insert(1, "-e")
        return self.tmux(*args)

    def lines(self):
        text = self.screen()
        return [l.rstrip() for l in text.split("\n")][:self.rows]

    def text(self):
        """The screen as compared with golden files: trailing blanks gone."""
        return "\n".join(self.lines()).rstrip("\n") + "\n"

    def keys(self, *keys, settle=None):
        """Sends each key and waits for the screen to answer it: until it
        changes (at most 1 s, since some keys change nothing) and then stays
        the same for a moment.  settle=N just sleeps N seconds instead."""
        for k in keys:
            before = self.screen() if settle is None else None
            self.tmux("send-keys", "-t", "0", k)
            if settle is not None:
                time.sleep(settle)
                continue
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and self.screen() == before:
                time.sleep(0.02)
            self.wait_stable(quiet=0.1, timeout=2.0)

    def repeat(self, key, count):
        """Sends `key` count times in one go, then waits for the screen to settle."""
        self.tmux("send-keys", "-t", "0", "-N", str(count), key)
        self.wait_stable(quiet=0.15, timeout=5.0)

    def literal(self, text):
        self.tmux("send-keys", "-t", "0", "-l", text)
        self.wait_for(lambda s: text in s, timeout=5, what="typed %r" % text)

    def wait_for(self, pred, timeout=10.0, what="screen"):
        """Polls the screen until pred(text) holds; returns the text."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; screen:\n%s" % (what, text))

    def wait_text(self, needle, timeout=10.0):
        return self.wait_for(lambda t: needle in t, timeout, repr(needle))

    def wait_stable(self, quiet=0.3, timeout=5.0):
        """Waits until the screen has not changed for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return now
            time.sleep(0.05)
        return last

    def exit_line(self, timeout=10.0):
        text = self.wait_text("EXIT=", timeout)
        line = [l for l in text.splitlines() if l.startswith("EXIT=")][-1]
        fields = dict(f.split("=") for f in line.split())
        return int(fields["EXIT"]), fields["STTY"]

    def child_pid(self):
        """The PID of the command (the wrapper shell's child)."""
        shell = int(self.display("#{pane_pid}"))
        with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None

    def resize(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.tmux("resize-window", "-t", "0", "-x", str(cols), "-y", str(rows))

    def alternate_on(self):
        return self.display("#{alternate_on}") == "1"

    def close(self):
        self.tmux("kill-server", check=False)
        try:
            os.kill(self.server_pid, 0)
        except OSError:
            return
        time.sleep(0.2)
        try:
            os.kill(self.server_pid, 9)
        except OSError:
            pass


def dump_args(fw, cp=1):
    """(cwd, argv tail) for a capture of firmware `fw`: the dump is named
    relative to its directory, so the status line does not depend on where
    the tree is."""
    d = os.path.join(FW_DIR, "dumps", fw)
    return d, ["%s.cp%d.gdb.bin" % (fw, cp), os.path.join(FW_DIR, fw + ".elf")]


def tui(fw, *extra, cols=100, rows=30, env=None):
    cwd, files = dump_args(fw)
    return Term([HEAPVIEW, "tui", *extra, *files], cols=cols, rows=rows, env=env, cwd=cwd)


def report_json(fw):
    import json
    cwd, files = dump_args(fw)
    r = subprocess.run([HEAPVIEW, "report", "--json", *files], cwd=cwd, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)
