"""Fault injection: the live sources against fake peers that close, stall,
split, garble or refuse.  Every failure must be one clear line within the
timeout; every odd-but-legal peer must still give the right bytes."""
import os

import pytest

from conftest import free_port, probe
from fake_peers import (FakeServer, closing, gdb_stub, hang_after_handshake,
                        junk_forever, openocd_tcl, silent)

MEMORY = os.urandom(3 * 4096 + 123)
BASE = 0x20000000


@pytest.fixture
def server_factory():
    servers = []

    def make(handler):
        s = FakeServer(handler)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()
    for s in servers:
        assert not s.errors, s.errors


def assert_one_line_error(r, target, *fragments, within=3.0):
    assert r.rc == 2, (r.out, r.err)
    assert r.err.startswith("live-probe: cannot read '%s': " % target), r.err
    assert r.err.count("\n") == 1 and r.err.endswith("\n"), r.err
    for frag in fragments:
        assert frag in r.err, r.err
    assert r.seconds < within, r.seconds


# GDB remote serial protocol

@pytest.mark.parametrize("mode", ["ok", "split", "rle", "notify", "badsum_once"])
def test_gdb_fake_peer_odd_but_legal_replies(server_factory, tmp_path, mode):
    s = server_factory(gdb_stub(MEMORY, BASE, max_read=1024, mode=mode))
    out = tmp_path / "m.bin"
    r = probe("gdb", s.target, "--timeout", 2000, "--out", out, "--progress", "--no-resume",
              "0x%x:%d" % (BASE + 5, len(MEMORY) - 5))
    assert r.rc == 0, r.err
    assert out.read_bytes() == MEMORY[5:]
    # one progress call per 1024-byte `m`
    assert "progress calls=%d in-order" % -(-(len(MEMORY) - 5) // 1024) in r.out
    assert s.log[-1] == "D;1"    # multiprocess+ negotiated: detach is D;1


def test_gdb_fake_peer_resumed_target_is_left_running(server_factory):
    # halt, read, resume, hang up: no second halt just to send `D`
    s = server_factory(gdb_stub(MEMORY, BASE))
    r = probe("gdb", s.target, "0x%x:64" % BASE)
    assert r.rc == 0, r.err
    assert s.log[-1] == "c" and "\x03" not in s.log


def test_gdb_fake_peer_rle_really_compresses(server_factory, tmp_path):
    zeros = bytes(8192)
    s = server_factory(gdb_stub(zeros, BASE, max_read=2048, mode="rle"))
    out = tmp_path / "z.bin"
    r = probe("gdb", s.target, "--out", out, "0x%x:8192" % BASE)
    assert r.rc == 0, r.err
    assert out.read_bytes() == zeros


def test_gdb_fake_peer_adapts_to_e22(server_factory, tmp_path):
    # PacketSize promises 2048-byte reads, the stub refuses more than 512
    def handler(server, conn):
        inner = gdb_stub(MEMORY, BASE, max_read=512)
        # advertise a larger packet than the stub honours
        from fake_peers import RspReader, rsp_packet
        rd = RspReader(conn)
        p = rd.packet()
        server.log.append(p)
        conn.sendall(b"+" + rsp_packet("PacketSize=1000"))
        conn_wrapper = _Replay(conn, rd.buf)
        inner(server, conn_wrapper)

    s = server_factory(handler)
    out = tmp_path / "m.bin"
    r = probe("gdb", s.target, "--out", out, "0x%x:%d" % (BASE, len(MEMORY)))
    assert r.rc == 0, r.err
    assert out.read_bytes() == MEMORY
    sizes = [int(p.split(",")[1], 16) for p in s.log if p.startswith("m")]
    assert sizes[0] == 2048 and 512 in sizes
    assert max(sizes[sizes.index(512):]) == 512   # learned, not re-tried


class _Replay:
    """A socket whose first recv returns bytes already read."""

    def __init__(self, conn, pending):
        self.conn, self.pending = conn, pending

    def recv(self, n):
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        return self.conn.recv(n)

    def sendall(self, data):
        self.conn.sendall(data)


@pytest.mark.parametrize("mode,fragment", [
    ("error", "target reported E14 (bad address)"),
    ("etext", "target reported an error: cannot access memory"),
    ("empty_m", "the stub does not support memory reads"),
    ("garbled_m", "garbled reply to 'm'"),
    ("badsum_always", "reply checksums keep failing"),
    ("nak_always", "peer keeps rejecting our packets"),
])
def test_gdb_fake_peer_errors(server_factory, mode, fragment):
    s = server_factory(gdb_stub(MEMORY, BASE, mode=mode))
    r = probe("gdb", s.target, "--timeout", 1000, "0x%x:64" % BASE)
    assert_one_line_error(r, s.target, fragment)


def test_gdb_fake_peer_closes_at_once(server_factory):
    s = server_factory(closing)
    r = probe("gdb", s.target, "--timeout", 1000, "0x0:4")
    assert_one_line_error(r, s.target, "qSupported: connection closed by peer")


def test_gdb_fake_peer_silent(server_factory):
    s = server_factory(silent)
    r = probe("gdb", s.target, "--timeout", 700, "0x0:4")
    assert_one_line_error(r, s.target, "no complete reply within 700 ms")
    assert r.seconds >= 0.6


def test_gdb_fake_peer_endless_junk(server_factory):
    s = server_factory(junk_forever)
    r = probe("gdb", s.target, "--timeout", 700, "0x0:4")
    assert_one_line_error(r, s.target, "no complete reply within 700 ms")


def test_gdb_fake_peer_stalls_mid_session(server_factory):
    s = server_factory(hang_after_handshake)
    r = probe("gdb", s.target, "--timeout", 700, "0x20000000:4")
    assert_one_line_error(r, s.target, "cannot read 4 bytes at 0x20000000",
                          "no complete reply within 700 ms")


def test_gdb_nobody_listening():
    target = "127.0.0.1:%d" % free_port()
    r = probe("gdb", target, "--timeout", 700, "0x0:4")
    assert_one_line_error(r, target, "cannot connect: Connection refused")


# OpenOCD Tcl RPC

@pytest.mark.parametrize("mode", ["ok", "notify"])
def test_openocd_fake_peer_reads(server_factory, tmp_path, mode):
    s = server_factory(openocd_tcl(MEMORY, BASE, mode=mode))
    out = tmp_path / "m.bin"
    # unaligned start and end: the client reads aligned words and trims
    r = probe("openocd", s.target, "--out", out, "0x%x:%d" % (BASE + 3, len(MEMORY) - 10))
    assert r.rc == 0, r.err
    assert out.read_bytes() == MEMORY[3:len(MEMORY) - 7]
    assert any("{halt}" in c for c in s.log) and s.log[-1] == "set rc [catch {resume} r]; list $rc $r"


def test_openocd_fake_peer_no_halt_leaves_target_alone(server_factory):
    s = server_factory(openocd_tcl(MEMORY, BASE))
    r = probe("openocd", s.target, "--no-halt", "0x%x:16" % BASE)
    assert r.rc == 0, r.err
    assert not [c for c in s.log if "{halt}" in c or "{resume}" in c]


@pytest.mark.parametrize("mode,fragment", [
    ("fail", "openocd: read_memory: failed to read memory"),
    ("garbled", "garbled reply to read_memory"),
    ("short", "garbled reply to read_memory"),
])
def test_openocd_fake_peer_errors(server_factory, mode, fragment):
    s = server_factory(openocd_tcl(MEMORY, BASE, mode=mode))
    r = probe("openocd", s.target, "--timeout", 1000, "0x%x:64" % BASE)
    assert_one_line_error(r, s.target, "cannot read 64 bytes at 0x20000000", fragment)


def test_openocd_fake_peer_closes_at_once(server_factory):
    s = server_factory(closing)
    r = probe("openocd", s.target, "--timeout", 1000, "0x0:4")
    assert_one_line_error(r, s.target, "connection closed by peer")


def test_openocd_fake_peer_silent(server_factory):
    s = server_factory(silent)
    r = probe("openocd", s.target, "--timeout", 700, "0x0:4")
    assert_one_line_error(r, s.target, "no complete reply within 700 ms")


def test_openocd_fake_peer_target_will_not_halt(server_factory):
    s = server_factory(openocd_tcl(MEMORY, BASE, mode="nohalt"))
    r = probe("openocd", s.target, "0x%x:64" % BASE)
    assert_one_line_error(r, s.target, "cannot halt the target: openocd: timed out while "
                                       "waiting for target halted")
    assert not any("read_memory" in c for c in s.log)
