"""Running a built platform: its monitors and clean shutdown, in one event loop.

Signals are blocked in every thread and collected by one waiter thread with
sigwaitinfo(), so vnvdimm can say who asked it to stop, as QEMU does; the
waiter writes to a pipe that the monitor loop (`monitor/server.py`) watches.
The C modules `_signal` and `_thread` do this: `signal` and `threading` cost
milliseconds to import, before the first QMP greeting.  The command table is
built when a monitor first needs it.
"""

from __future__ import annotations

import _thread
import os
import sys

from vnvdimm.cli import PROGRAM
from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec
from vnvdimm.monitor.server import BANNER, PROMPT, MonitorServer

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal  # typeshed has no _signal; signal re-exports it

    from vnvdimm.machine.machine import Machine
    from vnvdimm.monitor.commands import CommandTable
else:
    import _signal

__all__ = ["BANNER", "PROMPT", "block_stop_signals", "serve", "stdio_hmp"]

_STOP_SIGNALS = {_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP}


def _sender_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().split(b"\0", 1)[0].decode(errors="replace") or "<unknown process>"
    except OSError:
        return "<unknown process>"


def _load_qmp() -> None:
    import vnvdimm.monitor.qmp  # noqa: F401  (loaded, not used here)


def _signal_waiter(write_fd: int) -> None:
    info = _signal.sigwaitinfo(_STOP_SIGNALS)
    os.write(write_fd, f"{info.si_signo} {info.si_pid}\n".encode())


def block_stop_signals() -> None:
    """Hold SIGTERM/SIGINT/SIGHUP for the waiter thread (inherited by new threads)."""
    _signal.pthread_sigmask(_signal.SIG_BLOCK, _STOP_SIGNALS)


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
    block_stop_signals()
    if server is None:
        server = MonitorServer([])
    if hmp_stdio and not any(m.chardev.backend == "stdio" for m in server.monitors):
        from vnvdimm.monitor.server import Monitor

        server.monitors.append(Monitor(stdio_hmp()))
    read_fd, write_fd = os.pipe()
    # A bare _thread thread, like a daemon thread, does not hold up the exit.
    _thread.start_new_thread(_signal_waiter, (write_fd,))

    def make_table() -> CommandTable:
        from vnvdimm.monitor.commands import CommandTable

        return CommandTable(machine, server.events, server.request_stop, prelaunch=prelaunch)

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
        server.attach(make_table)
        server.add_reader(read_fd, on_signal)
        # What start-up left for later (the QMP dispatcher, the command table, the
        # NVDIMM ACPI state), done while no client needs anything, so that
        # neither a first command nor a first hotplug waits for it.
        server.when_idle(_load_qmp)
        server.when_idle(server.command_table)
        server.when_idle(lambda: machine.acpi)
        server.run(until=(lambda: server.stdin_eof) if quit_on_eof else None)
        server.final_flush()
        return 0
    finally:
        server.close()
        os.close(read_fd)
