"""Running a built platform: its monitors and clean shutdown, in one event loop.

Signals are blocked in every thread and collected by one waiter thread with
sigwaitinfo(), so vnvdimm can say who asked it to stop, as QEMU does; the
waiter writes to a pipe that the monitor loop (`monitor/server.py`) watches.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from vnvdimm.cli.report import PROGRAM
from vnvdimm.machine.machine import Machine
from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec
from vnvdimm.monitor.server import BANNER, PROMPT, MonitorServer

__all__ = ["BANNER", "PROMPT", "block_stop_signals", "serve", "stdio_hmp"]

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


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


def stdio_hmp() -> MonitorSpec:
    """`-monitor stdio`."""
    return MonitorSpec(ChardevSpec("compat_monitor0", "stdio", "-monitor stdio"),
                       "readline", False, "-monitor stdio")


def serve(machine: Machine, *, hmp_stdio: bool = False, quit_on_eof: bool = False,
          server: MonitorServer | None = None, prelaunch: bool = True) -> int:
    """Run until `quit` on a monitor or a stop signal; returns the exit status.

    ``server`` carries the monitors, already opened (`MonitorServer.open`); it is
    closed on return, removing its unix sockets.  ``hmp_stdio`` adds an HMP
    console on stdio when the server has none; ``quit_on_eof`` stops when stdin
    closes (the default platform)."""
    from vnvdimm.monitor.commands import CommandTable

    block_stop_signals()
    if server is None:
        server = MonitorServer([])
    if hmp_stdio and not any(m.chardev.backend == "stdio" for m in server.monitors):
        from vnvdimm.monitor.server import Monitor

        server.monitors.append(Monitor(stdio_hmp()))
    read_fd, write_fd = os.pipe()
    threading.Thread(target=_signal_waiter, args=(write_fd,), daemon=True).start()
    table = CommandTable(machine, server.events, server.request_stop, prelaunch=prelaunch)

    def on_signal() -> None:
        signo, pid = (int(x) for x in os.read(read_fd, 64).split())
        if pid:
            sys.stderr.write(f"{PROGRAM}: terminating on signal {signo} from pid "
                             f"{pid} ({_sender_name(pid)})\n")
        else:
            sys.stderr.write(f"{PROGRAM}: terminating on signal {signo}\n")
        sys.stderr.flush()
        server.events.emit("SHUTDOWN", {"guest": False, "reason": "host-signal"})
        server.request_stop()

    try:
        server.attach(table)
        server.add_reader(read_fd, on_signal)
        server.run(until=(lambda: server.stdin_eof) if quit_on_eof else None)
        server.final_flush()
        return 0
    finally:
        server.close()
        os.close(read_fd)
