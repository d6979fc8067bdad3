"""Small misbehaving servers for fault injection: a GDB stub and an
OpenOCD Tcl RPC server that serve memory from a bytes buffer and can be
told to close, stall, split, garble or mix in notifications.  Each serves
one connection on 127.0.0.1 in a daemon thread."""
import socket
import threading
import time


def rsp_packet(payload):
    data = payload.encode() if isinstance(payload, str) else payload
    return b"$" + data + b"#%02x" % (sum(data) & 0xff)


def rle(text):
    """Run-length encodes like gdbserver: c*n with n - 29 extra copies,
    never using '#' or '$' as the count."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        j = i
        while j < len(text) and text[j] == c and j - i < 97:
            j += 1
        extra = j - i - 1
        while extra + 29 in (ord("#"), ord("$"), ord("+"), ord("-")) or (0 < extra < 3):
            extra -= 1
        out.append(c)
        if extra > 0:
            out.append("*" + chr(extra + 29))
        i += 1 + extra
    return "".join(out)


class FakeServer:
    def __init__(self, handler):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.log = []
        self.errors = []
        self.stop = threading.Event()
        self.conn = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def target(self):
        return "127.0.0.1:%d" % self.port

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(20)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = conn
        try:
            self.handler(self, conn)
        except (OSError, socket.timeout):
            pass
        except Exception as e:  # reported by the test through self.errors
            self.errors.append(e)
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)


class RspReader:
    """Reads packets the client sends, acking them like a stub."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def packet(self):
        """The next packet's payload, "\x03" for an interrupt or "-" for a
        nak of our last reply."""
        while True:
            while self.buf[:1] == b"+":
                self.buf = self.buf[1:]
            if self.buf[:1] == b"-":
                self.buf = self.buf[1:]
                return "-"
            if self.buf[:1] == b"\x03":
                self.buf = self.buf[1:]
                return "\x03"
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start)
            if start >= 0 and end >= 0 and len(self.buf) >= end + 3:
                payload = self.buf[start + 1:end]
                self.buf = self.buf[end + 3:]
                return payload.decode()
            data = self.conn.recv(65536)
            if not data:
                raise OSError("client closed")
            self.buf += data


def gdb_stub(memory, base=0, max_read=2048, mode="ok"):
    """A handler speaking enough RSP for source_gdb.c.  Modes change one
    behaviour: split (1-3 byte writes), rle, notify (a %Stop notification
    before each reply), badsum_once, badsum_always, error (E14 for every m),
    etext (an `E.message` error),
    empty_m, garbled_m, nak_always."""

    def handler(server, conn):
        rd = RspReader(conn)
        bad_sent = False
        last_good = b""
        while True:
            p = rd.packet()
            if p == "-":
                conn.sendall(last_good)
                continue
            server.log.append(p)
            if mode == "nak_always":
                conn.sendall(b"-")
                continue
            if mode == "notify":
                # a notification (with + and - in its body) before the ack
                conn.sendall(rsp_packet("Stop:T05thread:p-1.+1;").replace(b"$", b"%", 1))
            conn.sendall(b"+")
            if p.startswith("qSupported"):
                reply = "PacketSize=%x;multiprocess+" % (2 * max_read)
            elif p == "?":
                reply = "T05thread:p01.01;"
            elif p == "\x03":
                reply = "T02thread:p01.01;"
            elif p == "c":
                continue
            elif p.startswith("D"):
                reply = "OK"
            elif p.startswith("m"):
                addr, length = (int(x, 16) for x in p[1:].split(","))
                off = addr - base
                if mode == "etext":
                    reply = "E.cannot access memory"
                elif mode == "error" or off < 0 or off + length > len(memory):
                    reply = "E14"
                elif length > max_read:
                    reply = "E22"
                elif mode == "empty_m":
                    reply = ""
                elif mode == "garbled_m":
                    reply = "zz" * length
                else:
                    reply = memory[off:off + length].hex()
                    if mode == "rle":
                        reply = rle(reply)
            else:
                reply = ""
            pkt = last_good = rsp_packet(reply)
            if mode == "badsum_always" or (mode == "badsum_once" and p.startswith("m")
                                           and not bad_sent):
                bad_sent = True
                pkt = pkt[:-2] + (b"00" if pkt[-2:] != b"00" else b"01")
                if mode == "badsum_always":
                    last_good = pkt
            if mode == "notify":
                # an asynchronous notification may precede any reply
                conn.sendall(b"%Stop:T05thread:p01.01;#" +
                             b"%02x" % (sum(b"Stop:T05thread:p01.01;") & 0xff))
            if mode == "split":
                for n, i in enumerate(range(0, len(pkt), 3)):
                    conn.sendall(pkt[i:i + 3])
                    if n % 64 == 0:
                        time.sleep(0.0005)
            else:
                conn.sendall(pkt)

    return handler


def closing(server, conn):
    conn.close()


def silent(server, conn):
    while conn.recv(4096):
        pass


def junk_forever(server, conn):
    """Line noise that never forms a packet: the client's deadline must win."""
    while not server.stop.is_set():
        conn.sendall(b"+garbage without a dollar sign ")
        time.sleep(0.01)


def hang_after_handshake(server, conn):
    """Answers the handshake, then never answers `m` (a stalled stub)."""
    rd = RspReader(conn)
    while True:
        p = rd.packet()
        conn.sendall(b"+")
        if p.startswith("qSupported"):
            conn.sendall(rsp_packet("PacketSize=1000"))
        elif p == "?":
            conn.sendall(rsp_packet("S05"))
        else:
            server.stop.wait(30)
            return


def tcl_reply(rc, result):
    words = result.split()
    if len(words) == 1:
        return "%d %s" % (rc, result)
    return "%d {%s}" % (rc, result)


def openocd_tcl(memory, base=0, mode="ok"):
    """A handler for OpenOCD's Tcl RPC wrapper as source_openocd.c sends it.
    Modes: ok, notify (notifications before every reply, split in pieces),
    fail (read_memory fails like OpenOCD does), garbled, short, nohalt
    (the target will not halt)."""

    def handler(server, conn):
        buf = b""
        state = "running"
        while True:
            while b"\x1a" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            raw, buf = buf.split(b"\x1a", 1)
            text = raw.decode()
            server.log.append(text)
            inner = text[len("set rc [catch {"):text.index("} r]")]
            argv = inner.split()
            if argv[:1] == ["read_memory"]:
                addr, width, count = int(argv[1], 0), int(argv[2]), int(argv[3])
                off = addr - base
                if mode == "fail" or off < 0 or off + 4 * count > len(memory) or width != 32:
                    reply = tcl_reply(1, "read_memory: failed to read memory")
                else:
                    words = ["0x%x" % int.from_bytes(memory[off + 4 * i:off + 4 * i + 4], "little")
                             for i in range(count)]
                    if mode == "garbled":
                        words[0] = "0xnothex"
                    if mode == "short":
                        words = words[:-1]
                    reply = tcl_reply(0, " ".join(words))
            elif inner == "[target current] cget -endian":
                reply = "0 little"
            elif inner == "[target current] curstate":
                reply = "0 " + state
            elif inner == "halt" and mode == "nohalt":
                reply = "1 {timed out while waiting for target halted}"
            elif inner == "halt":
                state = "halted"
                reply = "0 {}"
            elif inner == "resume":
                state = "running"
                reply = "0 {}"
            else:
                reply = tcl_reply(1, 'invalid command name "%s"' % argv[0])
            out = reply.encode() + b"\x1a"
            if mode == "notify":
                note = (b"type target_event event halted\r\n\x1a"
                        b"type target_state state running\r\n\x1a")
                out = note + out
                for n, i in enumerate(range(0, len(out), 7)):
                    conn.sendall(out[i:i + 7])
                    if n % 64 == 0:
                        time.sleep(0.0005)
            else:
                conn.sendall(out)

    return handler
