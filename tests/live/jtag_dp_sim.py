"""A simulated JTAG wire for OpenOCD: speaks OpenOCD's remote_bitbang
protocol and models an ARM JTAG-DP (ADIv5) with one AHB-AP in front of a
Cortex-M3's debug registers and a RAM image.  Real OpenOCD 0.12 with its
real `cortex_m` target examines, halts, resumes and reads through it; the
wire, the DP, the AP and the core are simulated, nothing else is.

Usage: jtag_dp_sim.py --image FILE --base ADDR [--port N] [--ticker ADDR]
Prints `listening on port N` and serves one OpenOCD connection.
--ticker ADDR: while the simulated core "runs", every AP transfer
increments the 32-bit word at ADDR, so reads of a running target change.

Facts used (ADIv5, ARMv7-M, OpenOCD's remote_bitbang.c as documented in
/work/shared/LIVE-TARGETS.md): bytes '0'..'7' = TCK<<2|TMS<<1|TDI, 'R'
samples TDO, 'r'..'u' resets, 'B'/'b' LED, 'Q' quit.  IR length 4, IDCODE
0x4BA00477; IR ABORT 0x8, DPACC 0xA, APACC 0xB, IDCODE 0xE, BYPASS 0xF;
DPACC/APACC scans are 35 bits: RnW, A[3:2], DATA[31:0] in; ACK[2:0]
(OK = 0b010) and the previous transaction's read data out.
"""
import argparse
import socket
import sys

# TAP states
(TLR, RTI, SELDR, CAPDR, SHDR, EX1DR, PADR, EX2DR, UPDR,
 SELIR, CAPIR, SHIR, EX1IR, PAIR, EX2IR, UPIR) = range(16)
NEXT = {
    TLR: (RTI, TLR), RTI: (RTI, SELDR), SELDR: (CAPDR, SELIR),
    CAPDR: (SHDR, EX1DR), SHDR: (SHDR, EX1DR), EX1DR: (PADR, UPDR),
    PADR: (PADR, EX2DR), EX2DR: (SHDR, UPDR), UPDR: (RTI, SELDR),
    SELIR: (CAPIR, TLR), CAPIR: (SHIR, EX1IR), SHIR: (SHIR, EX1IR),
    EX1IR: (PAIR, UPIR), PAIR: (PAIR, EX2IR), EX2IR: (SHIR, UPIR),
    UPIR: (RTI, SELDR),
}
NEXT0 = [NEXT[s][0] for s in range(16)]
NEXT1 = [NEXT[s][1] for s in range(16)]

IDCODE = 0x4BA00477
IR_ABORT, IR_DPACC, IR_APACC, IR_IDCODE, IR_BYPASS = 0x8, 0xA, 0xB, 0xE, 0xF
ACK_OK = 0b010

# DP CTRL/STAT bits
CSYSPWRUPACK, CSYSPWRUPREQ = 1 << 31, 1 << 30
CDBGPWRUPACK, CDBGPWRUPREQ = 1 << 29, 1 << 28
CDBGRSTACK, CDBGRSTREQ = 1 << 27, 1 << 26
STICKYERR, STICKYCMP, STICKYORUN = 1 << 5, 1 << 4, 1 << 1

AHB_AP_IDR = 0x24770011
CPUID_M3 = 0x412FC231

# ARMv7-M debug registers
DHCSR, DCRSR, DCRDR, DEMCR = 0xE000EDF0, 0xE000EDF4, 0xE000EDF8, 0xE000EDFC
DFSR, AIRCR, CPUID = 0xE000ED30, 0xE000ED0C, 0xE000ED00
FP_CTRL, DWT_CTRL = 0xE0002000, 0xE0001000
C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS = 1, 2, 4, 8
S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST = 1 << 16, 1 << 17, 1 << 24, 1 << 25


class Target:
    """A Cortex-M3 seen from its AHB-AP: RAM from an image, the private
    peripheral bus with the debug registers, nothing else."""

    def __init__(self, image, base, ticker=None):
        self.ram = bytearray(image)
        self.base = base
        self.end = base + len(image)
        self.ticker = ticker
        self.halted = False
        self.dhcsr_ctrl = 0
        self.reset_seen = False
        self.ppb = {DEMCR: 0, DFSR: 0}
        self.regs = {13: self.base + len(image), 15: 0x100, 16: 0x01000000}
        self.dcrdr = 0

    def tick(self):
        t = self.ticker
        if not self.halted and t is not None and self.base <= t and t + 4 <= self.end:
            o = t - self.base
            v = (int.from_bytes(self.ram[o:o + 4], "little") + 1) & 0xffffffff
            self.ram[o:o + 4] = v.to_bytes(4, "little")

    def reset(self):
        self.reset_seen = True
        self.halted = bool(self.ppb[DEMCR] & 1) and bool(self.dhcsr_ctrl & C_DEBUGEN)
        if self.halted:
            self.ppb[DFSR] |= 1 << 3          # VCATCH

    def read_word(self, addr):
        """Returns the aligned word at addr, or None when unmapped."""
        if self.base <= addr and addr + 4 <= self.end:
            o = addr - self.base
            return int.from_bytes(self.ram[o:o + 4], "little")
        if 0xE0000000 <= addr < 0xE0100000:
            return self.ppb_read(addr)
        return None

    def write_word(self, addr, value, mask):
        if self.base <= addr and addr + 4 <= self.end:
            o = addr - self.base
            old = int.from_bytes(self.ram[o:o + 4], "little")
            self.ram[o:o + 4] = ((old & ~mask) | (value & mask)).to_bytes(4, "little")
            return True
        if 0xE0000000 <= addr < 0xE0100000:
            self.ppb_write(addr, value, mask)
            return True
        return False

    def ppb_read(self, addr):
        if addr == DHCSR:
            v = self.dhcsr_ctrl | S_REGRDY
            if self.halted:
                v |= S_HALT
            else:
                v |= S_RETIRE_ST
            if self.reset_seen:
                v |= S_RESET_ST
                self.reset_seen = False
            return v
        if addr == DCRDR:
            return self.dcrdr
        if addr == CPUID:
            return CPUID_M3
        if addr == AIRCR:
            return 0xFA050000
        if addr in (FP_CTRL, DWT_CTRL):
            return 0                          # no comparators
        return self.ppb.get(addr, 0)

    def ppb_write(self, addr, value, mask):
        old = self.ppb_read(addr) if addr not in (DHCSR, DCRSR) else 0
        value = (old & ~mask) | (value & mask)
        if addr == DHCSR:
            if value >> 16 != 0xA05F:
                return
            self.dhcsr_ctrl = value & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS)
            if not self.dhcsr_ctrl & C_DEBUGEN:
                self.halted = False
            elif self.dhcsr_ctrl & C_HALT:
                if not self.halted:
                    self.ppb[DFSR] |= 1           # HALTED
                self.halted = True
            elif self.dhcsr_ctrl & C_STEP and self.halted:
                self.ppb[DFSR] |= 1               # one instruction, then halt
            else:
                self.halted = False
        elif addr == DCRSR:
            sel = value & 0x7f
            if value & (1 << 16):
                self.regs[sel] = self.dcrdr
            else:
                self.dcrdr = self.regs.get(sel, 0)
        elif addr == DCRDR:
            self.dcrdr = value
        elif addr == DFSR:
            self.ppb[DFSR] &= ~value              # write one to clear
        elif addr == AIRCR:
            if value >> 16 == 0x05FA and value & 0b101:
                self.reset()
        elif addr in (CPUID, FP_CTRL, DWT_CTRL):
            pass
        else:
            self.ppb[addr] = value


class Dap:
    """JTAG-DP plus one AHB-AP (APSEL 0)."""

    def __init__(self, target):
        self.t = target
        self.ctrl = 0
        self.select = 0
        self.csw = 0x03000002                     # 32-bit, no increment
        self.tar = 0
        self.last_ap_read = 0

    def dp(self, rnw, a, data):
        if a == 0:                                # DPIDR (reads), reserved (writes)
            return IDCODE if rnw else 0
        if a == 1:
            if rnw:
                v = self.ctrl & ~(CSYSPWRUPACK | CDBGPWRUPACK | CDBGRSTACK)
                if v & CSYSPWRUPREQ:
                    v |= CSYSPWRUPACK
                if v & CDBGPWRUPREQ:
                    v |= CDBGPWRUPACK
                if v & CDBGRSTREQ:
                    v |= CDBGRSTACK
                return v
            sticky = self.ctrl & (STICKYERR | STICKYCMP | STICKYORUN)
            sticky &= ~data                       # JTAG-DP: write 1 to clear
            self.ctrl = (data & ~(STICKYERR | STICKYCMP | STICKYORUN)) | sticky
            return 0
        if a == 2:
            if not rnw:
                self.select = data
            return self.select
        return self.last_ap_read                  # RDBUFF

    def mem_access(self, addr, rnw, data):
        size = self.csw & 7
        nbytes = 1 << size if size <= 2 else 4
        word_addr = addr & ~3
        lane = (addr & 3) * 8
        mask = ((1 << (8 * nbytes)) - 1) << lane & 0xffffffff
        self.t.tick()
        if rnw:
            v = self.t.read_word(word_addr)
            if v is None:
                self.ctrl |= STICKYERR
                v = 0
            result = v & mask if nbytes < 4 else v
        else:
            if not self.t.write_word(word_addr, data, mask):
                self.ctrl |= STICKYERR
            result = 0
        return result, nbytes

    def ap(self, rnw, a, data):
        if self.select >> 24 != 0:
            return 0                              # no AP there
        reg = (self.select & 0xF0) | (a << 2)
        if reg == 0x00:                           # CSW
            if rnw:
                return self.csw | (1 << 6)        # DeviceEn
            inc = (data >> 4) & 3
            if inc > 1:                           # no packed transfers
                data &= ~(3 << 4)
            self.csw = data & ~((1 << 6) | (1 << 7))
            return 0
        if reg == 0x04:                           # TAR
            if not rnw:
                self.tar = data
            return self.tar
        if reg == 0x0C:                           # DRW
            v, nbytes = self.mem_access(self.tar, rnw, data)
            if (self.csw >> 4) & 3 == 1:
                self.tar = (self.tar & ~0xFFF) | ((self.tar + nbytes) & 0xFFF)
            return v
        if 0x10 <= reg <= 0x1C:                   # BD0-BD3
            saved = self.csw
            self.csw = (self.csw & ~7) | 2
            v, _ = self.mem_access((self.tar & ~0xF) | (reg - 0x10), rnw, data)
            self.csw = saved
            return v
        if reg == 0xF4:
            return 0                              # CFG: little-endian, 32-bit addresses
        if reg == 0xF8:
            return 0xFFFFFFFF                     # BASE: no debug entry
        if reg == 0xFC:
            return AHB_AP_IDR
        return 0


def serve(conn, dap):
    state = TLR
    ir = IR_IDCODE
    sr = 0          # the shift register of the selected scan
    sr_len = 1
    posted = 0      # read data returned by the next DPACC/APACC capture
    prev_tck = 0
    tdo = 0
    while True:
        data = conn.recv(65536)
        if not data:
            return
        out = bytearray()
        for b in data:
            if 48 <= b <= 55:
                tck = b & 4
                if tck and not prev_tck:
                    # rising edge: shift in the shift states, then move
                    if state == SHDR or state == SHIR:
                        sr = (sr >> 1) | ((b & 1) << (sr_len - 1))
                    state = NEXT1[state] if b & 2 else NEXT0[state]
                    if state == CAPDR:
                        if ir == IR_DPACC or ir == IR_APACC:
                            sr, sr_len = (posted << 3) | ACK_OK, 35
                        elif ir == IR_ABORT:
                            sr, sr_len = 0, 35
                        elif ir == IR_IDCODE:
                            sr, sr_len = IDCODE, 32
                        else:
                            sr, sr_len = 0, 1
                    elif state == UPDR:
                        if ir == IR_DPACC or ir == IR_APACC:
                            rnw = sr & 1
                            a = (sr >> 1) & 3
                            value = (sr >> 3) & 0xffffffff
                            if ir == IR_DPACC:
                                r = dap.dp(rnw, a, value)
                            else:
                                r = dap.ap(rnw, a, value)
                                if rnw:
                                    dap.last_ap_read = r
                            if rnw:
                                posted = r
                    elif state == CAPIR:
                        sr, sr_len = 0b0001, 4
                    elif state == UPIR:
                        ir = sr & 0xF
                    elif state == TLR:
                        ir = IR_IDCODE
                    tdo = sr & 1 if state == SHDR or state == SHIR else 0
                prev_tck = tck
            elif b == 82:                         # 'R'
                out.append(49 if tdo else 48)
            elif 114 <= b <= 117:                 # 'r'..'u': TRST<<1 | SRST
                v = b - 114
                if v & 2:
                    state, ir = TLR, IR_IDCODE
                if v & 1:
                    dap.t.reset()
            elif b == 81:                         # 'Q'
                if out:
                    conn.sendall(out)
                return
            # 'B'/'b' (LED) and anything else: ignored
        if out:
            conn.sendall(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--base", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ticker", type=lambda s: int(s, 0))
    args = ap.parse_args()
    with open(args.image, "rb") as f:
        image = f.read()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(1)
    print("listening on port %d" % srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    srv.close()
    try:
        serve(conn, Dap(Target(image, args.base, args.ticker)))
    except (ConnectionError, BrokenPipeError):
        pass
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
