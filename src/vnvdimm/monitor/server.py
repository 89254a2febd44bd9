"""The monitor event loop: every QMP and HMP monitor, the stop pipe, one thread.

Built on `select.epoll` and `_socket` rather than asyncio, or even `selectors`
and `socket`: importing asyncio alone costs about as much as QEMU needs to
send its greeting, and selectors and socket pull in enum and more.  For the
same reason a QMP client gets its greeting from `monitor/__init__.py`; the
QMP dispatcher (`monitor/qmp.py`) and the command table are loaded and built
when the first client first says something.

Each monitor owns one character device.  A socket server accepts one client
at a time, as QEMU does: while a client is connected the listening socket is
not watched, so further clients wait in the kernel's backlog (QEMU listens
with a backlog of 1) and get their greeting when the current client leaves.
Output is buffered per client and written without blocking, so a client that
stops reading only delays itself.
"""

from __future__ import annotations

import _socket
import errno
import os
import select
import sys
import time

from vnvdimm.errors import VnvdimmError
from vnvdimm.monitor import greeting_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Protocol

    from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec
    from vnvdimm.monitor.commands import CommandTable
    from vnvdimm.monitor.events import EventBus

    class _Session(Protocol):
        """What a client runs: a QMP session or an HMP console."""

        def start(self) -> None: ...

        def feed(self, data: bytes) -> None: ...

        def halt(self) -> None: ...

        def close(self) -> None: ...

    TableSource = CommandTable | Callable[[], CommandTable]

UNIX_PATH_MAX = 108  # sizeof(sockaddr_un.sun_path)
SOCKET_MODE = 0o600  # vnvdimm's unix sockets; QEMU's follow the umask (0755 under 022)
LISTEN_BACKLOG = 1  # QEMU's qio_net_listener_open_sync(..., 1, ...)
RECV_SIZE = 65536
FINAL_FLUSH_SECONDS = 1.0
CLOSE_GRACE_SECONDS = 0.05
"""After `quit`, how long socket clients may close first.  QEMU's own teardown
takes about that long, and clients such as qemu.qmp's QMPClient count on it:
seeing EOF before their own disconnect() makes disconnect() raise EOFError."""
BANNER = "QEMU 7.2.22 monitor - type 'help' for more information\r\n"
PROMPT = "(qemu) "


_READ = 1  # the selectors.EVENT_READ / EVENT_WRITE the loop speaks in
_WRITE = 2


class _Poller:
    """What the loop used of `selectors.EpollSelector`, on `select.epoll` directly.

    Each watched fd carries its data (a Monitor, a Client or a callback) and the
    events it waits for (`_READ`, `_WRITE`).  Unlike a selector, unregistering
    or modifying an fd that is not registered is not an error."""

    def __init__(self) -> None:
        self.epoll = select.epoll()
        self.keys: dict[int, tuple[int, object]] = {}  # fd -> (events, data)

    @staticmethod
    def _mask(events: int) -> int:
        return (select.EPOLLIN if events & _READ else 0) | (
            select.EPOLLOUT if events & _WRITE else 0)

    def register(self, fd: int, events: int, data: object) -> None:
        if fd in self.keys:
            raise KeyError(f"{fd} is already registered")
        self.epoll.register(fd, self._mask(events))
        self.keys[fd] = (events, data)

    def modify(self, fd: int, events: int, data: object) -> None:
        if fd in self.keys:
            self.epoll.modify(fd, self._mask(events))
            self.keys[fd] = (events, data)

    def unregister(self, fd: int) -> None:
        if self.keys.pop(fd, None) is not None:
            try:  # noqa: SIM105 - no contextlib on the start-up path
                self.epoll.unregister(fd)
            except OSError:
                pass  # closed already

    def select(self, timeout: float | None = None) -> list[tuple[object, int]]:
        """(data, ready events) of the fds ready within `timeout` seconds (None: wait).

        As selectors does, hang-ups and errors count as both readable and
        writable, masked by what the fd waits for."""
        if timeout is not None and timeout < 0:
            timeout = 0
        ready: list[tuple[object, int]] = []
        for fd, event in self.epoll.poll(timeout):
            key = self.keys.get(fd)
            if key is None:
                continue
            events = (_WRITE if event & ~select.EPOLLIN else 0) | (
                _READ if event & ~select.EPOLLOUT else 0)
            ready.append((key[1], events & key[0]))
        return ready

    def close(self) -> None:
        self.epoll.close()
        self.keys.clear()


class _TextSink:
    """A file-like `out` for HmpConsole that writes into a client's buffer."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def write(self, text: str) -> int:
        self.client.send(text.encode("utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        pass


class _NoSession:
    def start(self) -> None:
        pass

    def feed(self, data: bytes) -> None:
        pass

    def halt(self) -> None:
        pass

    def close(self) -> None:
        pass


class _HmpSession:
    def __init__(self, table: CommandTable, out: object) -> None:
        from vnvdimm.monitor.hmp_console import HmpConsole

        self.console = HmpConsole(table, out, sys.stderr)  # type: ignore[arg-type]
        self.halted = False

    def start(self) -> None:
        self.console.start(BANNER, PROMPT)

    def feed(self, data: bytes) -> None:
        if not self.halted and self.console.feed(data.decode("utf-8", "replace")):
            self.halted = True

    def halt(self) -> None:
        self.halted = True

    def close(self) -> None:
        self.halted = True


class _QmpSession:
    """A QMP client: the greeting at once, a `qmp.QmpSession` from its first input.

    Until the client negotiates capabilities (which takes input) a QMP session
    sends nothing but the greeting, not even events, so nothing is lost by
    building the real session, and the command table, only when input comes."""

    def __init__(self, server: MonitorServer, client: Client, pretty: bool) -> None:
        self.server = server
        self.client = client
        self.pretty = pretty
        self.session: _Session | None = None
        self.halted = False

    def start(self) -> None:
        self.client.send(greeting_bytes(True, self.pretty))  # QmpSession(oob=True).start()

    def feed(self, data: bytes) -> None:
        if self.session is None:
            if self.halted:
                return
            from vnvdimm.monitor.qmp import QmpSession

            self.session = QmpSession(self.server.command_table(), self.server.events,
                                      self.client.send, pretty=self.pretty)
        self.session.feed(data)

    def halt(self) -> None:
        self.halted = True
        if self.session is not None:
            self.session.halt()

    def close(self) -> None:
        self.halted = True
        if self.session is not None:
            self.session.close()


class Client:
    """One connected client of one monitor (or the stdio pair)."""

    def __init__(self, server: MonitorServer, monitor: Monitor, read_fd: int, write_fd: int,
                 sock: _socket.socket | None) -> None:
        self.server = server
        self.monitor = monitor
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.sock = sock
        self.out = bytearray()
        self.closed = False
        self.session: _Session = _NoSession()

    def send(self, data: bytes) -> None:
        """Queue output; write what the peer takes now, the rest when it is writable."""
        if self.closed:
            return
        if self.out:
            self.out += data
            return
        written = self._write(data)
        if written < len(data) and not self.closed:
            self.out += data[written:]
            self.server.want_write(self, True)

    def _write(self, data: bytes | bytearray) -> int:
        try:
            if self.sock is not None:
                return self.sock.send(data)
            if self.write_fd == sys.stdout.fileno():
                os.write(self.write_fd, data)  # stdio stays blocking, as the terminal expects
                return len(data)
            return os.write(self.write_fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            self.server.drop(self)
            return 0

    def flush(self) -> None:
        if self.out and not self.closed:
            written = self._write(self.out)
            del self.out[:written]
        if not self.out and not self.closed:
            self.server.want_write(self, False)


class Monitor:
    """One -qmp/-monitor/-mon: its chardev's listening socket and current client."""

    def __init__(self, spec: MonitorSpec) -> None:
        self.spec = spec
        self.listener: _socket.socket | None = None
        self.client: Client | None = None
        self.unix_path: str | None = None

    @property
    def chardev(self) -> ChardevSpec:
        return self.spec.chardev


def _resolve(host: str, port: str, *, passive: bool, spec: ChardevSpec) -> Sequence[tuple[
        int, int, int, str, tuple[object, ...]]]:
    family = _socket.AF_UNSPEC
    if spec.ipv4 and not spec.ipv6:
        family = _socket.AF_INET
    elif spec.ipv6 and not spec.ipv4:
        family = _socket.AF_INET6
    try:
        return _socket.getaddrinfo(host or None, port, family, _socket.SOCK_STREAM, 0,
                                   _socket.AI_PASSIVE if passive else 0)
    except _socket.gaierror as exc:
        raise VnvdimmError(f"address resolution failed for {host}:{port}: {exc.strerror}") \
            from None


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _accept(listener: _socket.socket) -> _socket.socket:
    """`socket.accept()` without the socket module: `_accept` gives the new fd."""
    fd, _ = listener._accept()  # type: ignore[attr-defined]
    return _socket.socket(fileno=fd)


def listen_unix(path: str) -> tuple[_socket.socket, str]:
    """unix_listen_saddr(): unlink whatever is there, bind (mode 0600), listen."""
    if path == "":
        import tempfile

        path = os.path.join(tempfile.gettempdir(), "qemu-socket-" + os.urandom(3).hex())
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        raise VnvdimmError(f"UNIX socket path '{path}' is too long",
                           hint=f"Path must be less than {UNIX_PATH_MAX} bytes\n")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise VnvdimmError(f"Failed to unlink socket {path}: {_strerror(exc)}") from None
        old = os.umask(0o777 & ~SOCKET_MODE)
        try:
            sock.bind(path)
        except OSError as exc:
            raise VnvdimmError(f"Failed to bind socket to {path}: {_strerror(exc)}") from None
        finally:
            os.umask(old)
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock, path


def listen_tcp(spec: ChardevSpec) -> _socket.socket:
    """inet_listen_saddr(): the first resolved address that binds wins."""
    host, port = spec.host or "", spec.port or ""
    last: OSError | None = None
    for family, kind, proto, _, address in _resolve(host, port, passive=True, spec=spec):
        sock = _socket.socket(family, kind, proto)
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.setblocking(False)
        return sock
    reason = _strerror(last) if last is not None else "Invalid argument"
    raise VnvdimmError(f"Failed to find an available port: {reason}")


def connect(spec: ChardevSpec) -> _socket.socket:
    """A client-mode socket chardev: connect now, or fail as QEMU does."""
    if spec.path is not None:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(spec.path)
        except OSError as exc:
            sock.close()
            raise VnvdimmError(f"Failed to connect to '{spec.path}': {_strerror(exc)}") \
                from None
        return sock
    host, port = spec.host or "", spec.port or ""
    last: OSError | None = None
    for family, kind, proto, _, address in _resolve(host, port, passive=False, spec=spec):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    reason = _strerror(last) if last is not None else "Invalid argument"
    raise VnvdimmError(f"Failed to connect to '{host}:{port}': {reason}")


class MonitorServer:
    """Every monitor of one platform, served from one epoll loop."""

    def __init__(self, monitors: list[MonitorSpec], events: EventBus | None = None) -> None:
        self.monitors = [Monitor(spec) for spec in monitors]
        self._events = events
        self.table: CommandTable | None = None
        self._make_table: Callable[[], CommandTable] | None = None
        self.selector = _Poller()
        self.stopping = False
        self.stdin_eof = False
        self._pending_clients: list[tuple[Monitor, _socket.socket]] = []
        self._idle_tasks: list[Callable[[], object]] = []
        self._restore_terminal: Callable[[], None] = lambda: None
        self._wakeup_read, self._wakeup_write = os.pipe()  # request_stop from other threads
        os.set_blocking(self._wakeup_write, False)
        self.selector.register(self._wakeup_read, _READ, self._woken)

    @property
    def events(self) -> EventBus:
        """Where the platform's events go to every QMP monitor (made on first use:
        nothing subscribes or emits before the first client or command)."""
        if self._events is None:
            from vnvdimm.monitor.events import EventBus

            self._events = EventBus()
        return self._events

    # -- set-up -----------------------------------------------------------------------

    def open(self, info: Callable[[str, str], None] | None = None) -> None:
        """Create every chardev (bind, connect, or wait for the first client).

        Raises VnvdimmError with the option's location; what was opened so far is
        closed again."""
        try:
            for monitor in self.monitors:
                try:
                    self._open(monitor, info)
                except VnvdimmError as error:
                    raise error.with_location(monitor.chardev.location) from None
        except BaseException:
            self.close()
            raise

    def _open(self, monitor: Monitor, info: Callable[[str, str], None] | None) -> None:
        spec = monitor.chardev
        if spec.backend != "socket":
            return
        if not spec.server:
            self._pending_clients.append((monitor, connect(spec)))
            return
        if spec.path is not None:
            monitor.listener, monitor.unix_path = listen_unix(spec.path)
        else:
            monitor.listener = listen_tcp(spec)
        if spec.wait:
            if info is not None:
                info(spec.location, f"QEMU waiting for connection on: {spec.describe()}")
            monitor.listener.setblocking(True)
            try:
                conn = _accept(monitor.listener)
            finally:
                monitor.listener.setblocking(False)
            self._pending_clients.append((monitor, conn))

    def addresses(self) -> list[tuple[str, int] | str]:
        """Where each listening monitor listens: a path, or (host, port) (for port 0)."""
        out: list[tuple[str, int] | str] = []
        for monitor in self.monitors:
            if monitor.listener is not None:
                name = monitor.listener.getsockname()
                out.append(name if isinstance(name, str) else (str(name[0]), int(name[1])))
        return out

    def attach(self, table: TableSource) -> None:
        """Start serving: greet already-connected clients, watch the listeners.

        ``table`` is the command table, or a function that builds it: then it is
        built when a monitor first needs it (`command_table`), which for QMP is
        the first client's first input."""
        if callable(table):
            self._make_table = table
        else:
            self.table = table
        for monitor in self.monitors:
            spec = monitor.chardev
            if spec.backend == "stdio":
                from vnvdimm.monitor.terminal import make_raw

                self._restore_terminal = make_raw(sys.stdin.fileno())
                self._connect(monitor, sys.stdin.fileno(), sys.stdout.fileno(), None)
            elif monitor.listener is not None:
                self.selector.register(monitor.listener.fileno(), _READ, monitor)
        for monitor, sock in self._pending_clients:
            self._connect(monitor, sock.fileno(), sock.fileno(), sock)
        self._pending_clients.clear()

    def command_table(self) -> CommandTable:
        """The command table `attach` was given, built on first call if need be."""
        if self.table is None:
            assert self._make_table is not None, "attach() first"
            self.table = self._make_table()
            self._make_table = None
        return self.table

    # -- clients ----------------------------------------------------------------------

    def _connect(self, monitor: Monitor, read_fd: int, write_fd: int,
                 sock: _socket.socket | None) -> None:
        assert self.table is not None or self._make_table is not None, "attach() first"
        if sock is not None:
            sock.setblocking(False)
        client = Client(self, monitor, read_fd, write_fd, sock)
        monitor.client = client
        if monitor.spec.mode == "control":
            client.session = _QmpSession(self, client, monitor.spec.pretty)
        elif sock is None:
            client.session = _HmpSession(self.command_table(), sys.stdout)
        else:
            client.session = _HmpSession(self.command_table(), _TextSink(client))
        self.selector.register(read_fd, _READ, client)
        if monitor.listener is not None:
            self.selector.unregister(monitor.listener.fileno())
        client.session.start()

    def want_write(self, client: Client, wanted: bool) -> None:
        if client.closed or client.read_fd != client.write_fd:
            return  # stdio output is written blocking
        self.selector.modify(client.read_fd, _READ | (_WRITE if wanted else 0), client)

    def drop(self, client: Client) -> None:
        """The client went away (or failed): forget it, listen again."""
        if client.closed:
            return
        client.closed = True
        client.out.clear()
        client.session.close()
        self.selector.unregister(client.read_fd)
        if client.sock is not None:
            client.sock.close()
        monitor = client.monitor
        monitor.client = None
        if monitor.listener is not None and not self.stopping:
            self.selector.register(monitor.listener.fileno(), _READ, monitor)

    def _accept(self, monitor: Monitor) -> None:
        assert monitor.listener is not None
        try:
            conn = _accept(monitor.listener)
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        self._connect(monitor, conn.fileno(), conn.fileno(), conn)

    def _readable(self, client: Client) -> None:
        try:
            data = os.read(client.read_fd, RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if client.sock is None:  # stdin closed: stop watching it
                self.selector.unregister(client.read_fd)
                self.stdin_eof = True
                return
            self.drop(client)
            return
        client.session.feed(data)

    # -- the loop ---------------------------------------------------------------------

    def request_stop(self) -> None:
        """`quit` (from any monitor): finish the current request, flush, stop."""
        self.stopping = True
        for monitor in self.monitors:
            if monitor.client is not None:
                monitor.client.session.halt()
        try:  # noqa: SIM105 - no contextlib on the start-up path
            os.write(self._wakeup_write, b"\0")
        except OSError:
            pass

    def _woken(self) -> None:
        try:  # noqa: SIM105 - no contextlib on the start-up path
            os.read(self._wakeup_read, 64)
        except OSError:
            pass

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        self.selector.register(fd, _READ, callback)

    def run_once(self, timeout: float | None = None) -> int:
        """Wait up to `timeout` (None: for ever) and handle what is ready; returns
        how many descriptors were."""
        ready = self.selector.select(timeout)
        for target, mask in ready:
            if isinstance(target, Monitor):
                self._accept(target)
            elif isinstance(target, Client):
                if target.closed:
                    continue
                if mask & _WRITE:
                    target.flush()
                if mask & _READ and not target.closed:
                    self._readable(target)
            else:
                target()  # type: ignore[operator]  # add_reader's callback
            if self.stopping:
                break
        return len(ready)

    def when_idle(self, task: Callable[[], object]) -> None:
        """Run `task` once the loop has nothing else to do (tasks in order, one
        per idle moment): work start-up deferred, done before it is asked for."""
        self._idle_tasks.append(task)

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Serve until `request_stop` (or `until()` is true after an event)."""
        while not self.stopping and not (until is not None and until()):
            if not self._idle_tasks:
                self.run_once()
            elif not self.run_once(0):
                self._idle_tasks.pop(0)()

    def final_flush(self, seconds: float = FINAL_FLUSH_SECONDS,
                    grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Give clients a moment to take what is still queued for them, and to
        hang up first."""
        self._flush_pending(seconds)
        deadline = time.monotonic() + grace
        while True:
            open_clients = [m.client for m in self.monitors if m.client is not None
                            and not m.client.closed and m.client.sock is not None]
            remaining = deadline - time.monotonic()
            if not open_clients or remaining <= 0:
                return
            waiter = _Poller()
            try:
                for client in open_clients:
                    waiter.register(client.read_fd, _READ, client)
                for target, _ in waiter.select(remaining):
                    assert isinstance(target, Client)
                    try:
                        data = os.read(target.read_fd, RECV_SIZE)
                    except OSError:
                        data = b""
                    if not data:
                        self.drop(target)
            finally:
                waiter.close()

    def _flush_pending(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            pending = [m.client for m in self.monitors
                       if m.client is not None and m.client.out and not m.client.closed]
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for client in pending:
                client.flush()
            if any(c.out and not c.closed for c in pending):
                waiter = _Poller()
                try:
                    for client in pending:
                        if client.out and not client.closed:
                            waiter.register(client.write_fd, _WRITE, None)
                    waiter.select(min(remaining, 0.05))
                finally:
                    waiter.close()

    def close(self) -> None:
        """Close every client and listener; remove the unix sockets we created."""
        self._restore_terminal()
        for monitor in self.monitors:
            if monitor.client is not None:
                client = monitor.client
                client.session.close()
                client.closed = True
                if client.sock is not None:
                    client.sock.close()
                monitor.client = None
            if monitor.listener is not None:
                monitor.listener.close()
                monitor.listener = None
            if monitor.unix_path is not None:
                try:
                    if _is_socket(monitor.unix_path):
                        os.unlink(monitor.unix_path)
                except OSError:
                    pass
                monitor.unix_path = None
        for _, sock in self._pending_clients:
            sock.close()
        self._pending_clients.clear()
        self.selector.close()
        for fd in (self._wakeup_read, self._wakeup_write):
            if fd >= 0:
                try:  # noqa: SIM105 - no contextlib on the start-up path
                    os.close(fd)
                except OSError:
                    pass
        # Closing twice (open() failed, then the caller's clean-up) must not
        # close descriptors that have been reused since.
        self._wakeup_read = self._wakeup_write = -1


def _is_socket(path: str) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
