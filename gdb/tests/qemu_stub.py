"""QEMU's mps2-an385 with its gdbstub on a unix socket, halted at reset:
the target the GDB extension's QEMU tests and benchmark read."""
import os
import subprocess
import time


def start_qemu_gdbstub(qemu, elf, sock):
    """Starts `qemu` on `elf`, its gdbstub listening on the unix socket
    `sock`; returns the process."""
    return subprocess.Popen([qemu, '-M', 'mps2-an385', '-cpu', 'cortex-m3', '-nographic',
                             '-monitor', 'none', '-serial', 'none', '-kernel', elf,
                             '-semihosting-config', 'enable=on,target=native',
                             '-chardev', 'socket,id=g,path=%s,server=on,wait=off' % sock,
                             '-gdb', 'chardev:g', '-S'],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop_qemu(proc):
    """Ends `proc` if it still runs: terminate, then kill after 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_gdbstub(proc, sock, timeout=10):
    """None once `sock` exists, else why it never will: QEMU exited or
    `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(sock):
        if proc.poll() is not None:
            return 'qemu exited with status %s' % proc.returncode
        if time.monotonic() > deadline:
            return 'qemu did not open its gdb socket'
        time.sleep(0.01)
    return None
