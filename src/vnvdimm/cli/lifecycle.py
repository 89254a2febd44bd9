"""Running a built platform: an HMP console on stdio and clean shutdown on signals.

Signals are blocked in every thread and collected by one waiter thread with
sigwaitinfo(), so vnvdimm can say who asked it to stop, as QEMU does.
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import threading

from vnvdimm.cli.report import PROGRAM
from vnvdimm.machine.machine import Machine

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
BANNER = "QEMU 7.2.22 monitor - type 'help' for more information\r\n"
PROMPT = "(qemu) "


def _sender_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().split(b"\0", 1)[0].decode(errors="replace") or "<unknown process>"
    except OSError:
        return "<unknown process>"


def _signal_waiter(write_fd: int) -> None:
    info = signal.sigwaitinfo(_STOP_SIGNALS)
    os.write(write_fd, f"{info.si_signo} {info.si_pid}\n".encode())


def block_stop_signals() -> None:
    """Hold SIGTERM/SIGINT/SIGHUP for the waiter thread (inherited by new threads)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def serve(machine: Machine, *, hmp_stdio: bool, quit_on_eof: bool) -> int:
    """Run until `quit` on the console or a stop signal; returns the exit status."""
    block_stop_signals()
    read_fd, write_fd = os.pipe()
    threading.Thread(target=_signal_waiter, args=(write_fd,), daemon=True).start()
    selector = selectors.DefaultSelector()
    selector.register(read_fd, selectors.EVENT_READ, "signal")
    console = None
    if hmp_stdio:
        from vnvdimm.monitor.hmp_console import HmpConsole

        console = HmpConsole(machine, sys.stdout)
        console.start(BANNER, PROMPT)
        selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "signal":
                    signo, pid = (int(x) for x in os.read(read_fd, 64).split())
                    if pid:
                        sys.stderr.write(f"{PROGRAM}: terminating on signal {signo} from pid "
                                         f"{pid} ({_sender_name(pid)})\n")
                    else:
                        sys.stderr.write(f"{PROGRAM}: terminating on signal {signo}\n")
                    return 0
                assert console is not None
                data = os.read(sys.stdin.fileno(), 65536)
                if not data:
                    selector.unregister(sys.stdin.fileno())
                    if quit_on_eof:
                        return 0
                    continue
                if console.feed(data.decode(errors="replace")):
                    return 0
    finally:
        selector.close()
        os.close(read_fd)
