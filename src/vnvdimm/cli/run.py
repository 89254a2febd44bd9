"""`vnvdimm run [QEMU options]`: build the platform and run until told to stop.

Running a built platform means its monitors and a clean shutdown, in one event
loop (`serve`, also the default platform's).  Signals are blocked in every
thread and collected by one waiter thread with sigwaitinfo(), so vnvdimm can
say who asked it to stop, as QEMU does; the waiter writes to a pipe that the
monitor loop (`monitor/server.py`) watches.  The C modules `_signal` and
`_thread` do this: `signal` and `threading` cost milliseconds to import, before
the first QMP greeting.  The command table is built when a monitor first needs it.
"""

from __future__ import annotations

import _thread
import gc
import os
import sys

from vnvdimm.cli import PROGRAM, report_error, warn
from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal  # typeshed has no _signal; signal re-exports it
    from collections.abc import Callable

    from vnvdimm.machine.machine import Machine
    from vnvdimm.monitor.chardev import MonitorSpec
    from vnvdimm.monitor.commands import CommandTable
    from vnvdimm.monitor.server import MonitorServer
else:
    import _signal

PREALLOC_PROGRESS_MIN = 256 << 20  # show progress for preallocations at least this big
MEMORY_HOTPLUG_GLOBALS = ("PIIX4_PM.memory-hotplug-support=", "ICH9-LPC.memory-hotplug-support=")


def run(argv: list[str]) -> int:
    # Start-up creates thousands of objects that all stay alive: letting the
    # cyclic collector scan them as they come costs a millisecond or more of
    # the time to the first greeting.  Collection resumes before serving, with
    # those objects frozen (see `_run`).
    collect = gc.isenabled()
    gc.disable()
    try:
        return _run(argv, collect)
    finally:
        if collect:
            gc.enable()


def _run(argv: list[str], collect: bool) -> int:
    from vnvdimm.cli.qemu_argv import check_target, option_kind, split_argv
    from vnvdimm.machine.cmdline import build_machine

    try:
        opts = split_argv(argv)
        for opt in opts:
            check_target(opt)
    except VnvdimmError as error:
        report_error(error)
        return 1
    for opt in opts:
        if opt.name == "global" and (opt.value or "").startswith(MEMORY_HOTPLUG_GLOBALS):
            continue  # the -globals with a meaning for memory devices
        if option_kind(opt.name) == "warn":
            warn(f"{opt.text}: ignored: vnvdimm runs no guest code")
    from vnvdimm.monitor import chardev

    try:
        monitors = chardev.parse_monitor_options(
            [(o.canonical, o.value or "", o.text) for o in opts], warn=warn)
    except VnvdimmError as error:
        sys.stderr.write(chardev.report(error, PROGRAM))
        return 1
    daemonize = any(o.name == "daemonize" for o in opts)
    pidfile = next((o.value for o in opts if o.name == "pidfile"), None)
    stdio = next((m for m in monitors if m.chardev.backend == "stdio"), None)
    if daemonize and stdio is not None:
        report_error(VnvdimmError("cannot use stdio with -daemonize",
                                  location=stdio.chardev.location))
        return 1
    status_fd = _daemonize() if daemonize else None
    block_stop_signals()  # a stop request during start-up is honoured once running
    from vnvdimm.monitor.server import MonitorServer

    pid_fd = None
    machine = None
    server = MonitorServer(monitors)
    try:
        if pidfile:
            pid_fd = _write_pidfile(pidfile)
        # The monitors' sockets are opened as QEMU opens its character devices:
        # once the machine type is known, before the machine is built.
        machine = build_machine(opts, warn=warn, progress=_progress_printer(),
                                early_backends=lambda: server.open(info=_info))
    except VnvdimmError as error:
        report_error(error)
        return 1
    finally:
        if machine is None:
            server.close()  # QEMU leaves its unix socket behind here; vnvdimm does not
            if pidfile and pid_fd is not None:
                _remove_pidfile(pidfile, pid_fd)
    if collect:
        # Everything start-up made (modules, machine, tables) lives as long as
        # the process: freezing it keeps collections from scanning it, the first
        # of which would otherwise come due at once, before the first greeting.
        gc.freeze()
        gc.enable()
    try:
        if status_fd is not None:
            _detach(status_fd)
        return serve(machine, server=server,
                     prelaunch=any(o.name == "S" for o in opts))
    finally:
        machine.close()
        if pidfile and pid_fd is not None:
            _remove_pidfile(pidfile, pid_fd)


def _info(location: str, text: str) -> None:
    sys.stderr.write(f"{PROGRAM}: {location}: info: {text}\n")
    sys.stderr.flush()


def _daemonize() -> int:
    """Fork like QEMU's os_daemonize: the parent exits with the child's start-up status."""
    read_fd, write_fd = os.pipe()
    if os.fork() > 0:
        os.close(write_fd)
        status = os.read(read_fd, 1)
        os._exit(0 if status == b"\0" else 1)
    os.close(read_fd)
    os.setsid()
    return write_fd


def _detach(status_fd: int) -> None:
    """Start-up succeeded: tell the parent, drop the terminal (QEMU's os_setup_post)."""
    os.write(status_fd, b"\0")
    os.close(status_fd)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _write_pidfile(path: str) -> int:
    """Create, lock and fill the PID file; QEMU's message when it is locked."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise VnvdimmError(f"cannot create PID file: Cannot open pid file: {exc.strerror}") \
            from None
    import fcntl  # here: the module is a shared library, and only -pidfile needs it

    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # lockf(F_TLOCK), as QEMU
    except OSError as exc:
        os.close(fd)
        raise VnvdimmError(f"cannot create PID file: Cannot lock pid file: {exc.strerror}") \
            from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _remove_pidfile(path: str, fd: int) -> None:
    try:  # noqa: SIM105 - no contextlib on the start-up path
        os.unlink(path)
    except OSError:
        pass
    os.close(fd)


def _progress_printer() -> Callable[[int, int], None] | None:
    """Prealloc progress on a terminal for large backends; None elsewhere."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < PREALLOC_PROGRESS_MIN:
            return
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\rvnvdimm: preallocating {total >> 20} MiB: "
                         f"{100 * done // total:3d}%{end}")
        sys.stderr.flush()

    return show


# Serving.  --------------------------------------------------------------------

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
    from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec

    return MonitorSpec(ChardevSpec("compat_monitor0", "stdio", "-monitor stdio"),
                       "readline", False, "-monitor stdio")


def serve(machine: Machine, *, hmp_stdio: bool = False, quit_on_eof: bool = False,
          server: MonitorServer | None = None, prelaunch: bool = True) -> int:
    """Run until `quit` on a monitor or a stop signal; returns the exit status.

    ``server`` carries the monitors, already opened (`MonitorServer.open`); it is
    closed on return, removing its unix sockets.  ``hmp_stdio`` adds an HMP
    console on stdio when the server has none; ``quit_on_eof`` stops when stdin
    closes (the default platform)."""
    from vnvdimm.monitor.server import Monitor, MonitorServer

    block_stop_signals()
    if server is None:
        server = MonitorServer([])
    if hmp_stdio and not any(m.chardev.backend == "stdio" for m in server.monitors):
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
