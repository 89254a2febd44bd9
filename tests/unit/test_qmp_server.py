"""The monitor loop over real sockets, plus smoke tests with qemu.qmp's own clients."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vm_helpers import build

from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec, parse_monitor_options
from vnvdimm.monitor.commands import CommandTable
from vnvdimm.monitor.server import MonitorServer

PLATFORM = ["-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G"]
NEGOTIATE = b'{"execute":"qmp_capabilities"}'


def unix_qmp(path: Path) -> MonitorSpec:
    text = f"-qmp unix:{path},server=on,wait=off"
    return MonitorSpec(ChardevSpec(str(path), "socket", text, path=str(path), server=True,
                                   wait=False), "control", False, text)


def tcp_qmp() -> MonitorSpec:
    text = "-qmp tcp:127.0.0.1:0,server=on,wait=off"
    return MonitorSpec(ChardevSpec("tcp", "socket", text, host="127.0.0.1", port="0",
                                   server=True, wait=False), "control", False, text)


class Running:
    def __init__(self, server: MonitorServer, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Running]:
    machine = build(PLATFORM)
    specs = [unix_qmp(tmp_path / "a.sock"), unix_qmp(tmp_path / "b.sock"), tcp_qmp()]
    server = MonitorServer(specs)
    server.open()
    server.attach(CommandTable(machine, server.events, server.request_stop))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Running(server, thread)
    finally:
        server.request_stop()
        thread.join(5)
        server.final_flush(0.1)
        server.close()
        machine.close()


def connect(address: str | tuple[str, int]) -> socket.socket:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(address)
    return sock


class Lines:
    """CRLF-separated messages from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self) -> dict[str, object]:
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(self.buffer)
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        message = json.loads(line)
        assert isinstance(message, dict)
        return message

    def eof(self) -> bool:
        try:
            return self.sock.recv(65536) == b"" and not self.buffer
        except OSError:
            return True


def negotiated(address: str | tuple[str, int]) -> tuple[socket.socket, Lines]:
    sock = connect(address)
    lines = Lines(sock)
    assert "QMP" in lines.next()
    sock.sendall(NEGOTIATE)
    assert lines.next() == {"return": {}}
    return sock, lines


def addresses(tmp_path: Path, running: Running) -> list[str | tuple[str, int]]:
    tcp = running.server.addresses()[2]
    assert isinstance(tcp, tuple)
    return [str(tmp_path / "a.sock"), str(tmp_path / "b.sock"), tcp]


def test_socket_mode_is_0600(tmp_path: Path, platform: Running) -> None:
    mode = os.stat(tmp_path / "a.sock").st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_tcp_listens_on_loopback_ephemeral_port(platform: Running) -> None:
    address = platform.server.addresses()[2]
    assert isinstance(address, tuple)
    assert address[0] == "127.0.0.1" and address[1] != 0


def test_clients_on_every_monitor_at_once(tmp_path: Path, platform: Running) -> None:
    clients = [negotiated(address) for address in addresses(tmp_path, platform)]
    for round_ in range(20):
        for index, (sock, _) in enumerate(clients):
            sock.sendall(b'{"execute":"query-version","id":[%d,%d]}' % (index, round_))
        for index, (_, lines) in enumerate(clients):
            reply = lines.next()
            assert reply["id"] == [index, round_] and "return" in reply
    for sock, _ in clients:
        sock.close()


def test_second_client_waits_for_the_first(tmp_path: Path, platform: Running) -> None:
    first = connect(str(tmp_path / "a.sock"))
    first_lines = Lines(first)
    assert "QMP" in first_lines.next()
    second = connect(str(tmp_path / "a.sock"))
    second.settimeout(0.3)
    with pytest.raises(TimeoutError):
        second.recv(1)
    first.close()
    second.settimeout(5)
    assert "QMP" in Lines(second).next()
    second.close()


def test_client_that_stops_reading_does_not_block_others(tmp_path: Path,
                                                        platform: Running) -> None:
    slow, _ = negotiated(str(tmp_path / "a.sock"))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    fast, fast_lines = negotiated(str(tmp_path / "b.sock"))
    request = b'{"execute":"query-memory-devices"}{"execute":"query-version"}' * 200
    for _ in range(50):  # ~2 MB of replies nobody reads
        slow.sendall(request)
    started = time.monotonic()
    for i in range(50):
        fast.sendall(b'{"execute":"query-version","id":%d}' % i)
        assert fast_lines.next()["id"] == i
    assert time.monotonic() - started < 5
    client = platform.server.monitors[0].client
    assert client is not None and len(client.out) > 0  # still queued for the slow one
    slow.close()
    fast.close()


def test_client_vanishing_mid_message(tmp_path: Path, platform: Running) -> None:
    sock, _ = negotiated(str(tmp_path / "a.sock"))
    sock.sendall(b'{"execute":"query-ver')
    sock.close()
    again, lines = negotiated(str(tmp_path / "a.sock"))  # fresh parser, fresh negotiation
    again.sendall(b'{"execute":"query-version","id":1}')
    assert lines.next()["id"] == 1
    again.close()


def test_quit_sequence(tmp_path: Path, platform: Running) -> None:
    watcher, watcher_lines = negotiated(str(tmp_path / "b.sock"))
    quitter, lines = negotiated(str(tmp_path / "a.sock"))
    quitter.sendall(b'{"execute":"quit","id":"q"}{"execute":"query-version"}')
    event = lines.next()
    assert event["event"] == "SHUTDOWN"
    assert event["data"] == {"guest": False, "reason": "host-qmp-quit"}
    assert lines.next() == {"return": {}, "id": "q"}  # and nothing for the query after it
    assert watcher_lines.next()["event"] == "SHUTDOWN"
    platform.thread.join(5)
    assert not platform.thread.is_alive()
    platform.server.final_flush()
    platform.server.close()
    assert lines.eof() and watcher_lines.eof()
    assert not (tmp_path / "a.sock").exists()
    watcher.close()
    quitter.close()


# -- chardev option parsing (QEMU 7.2's texts) ---------------------------------------------

def monitors_of(*args: str) -> list[MonitorSpec]:
    words = [(args[i].lstrip("-"), args[i + 1], f"{args[i]} {args[i + 1]}")
             for i in range(0, len(args), 2)]
    return parse_monitor_options(words)


@pytest.mark.parametrize(("args", "message"), [
    (("-qmp", "foo"), "'foo' is not a valid char driver"),
    (("-qmp", "tcp:127.0.0.1,server=on,wait=off"), "parse error: tcp:127.0.0.1,server=on,wait=off"),
    (("-qmp", "unix:/x.sock,server=on,wait=off,bogus=1"), "Invalid parameter 'bogus'"),
    (("-qmp", "unix:/x.sock,server=maybe"), "Parameter 'server' expects 'on' or 'off'"),
    (("-qmp", "stdio", "-monitor", "stdio"), "cannot use stdio by multiple character devices"),
    (("-mon", "chardev=x,mode=control"), 'chardev "x" not found'),
    (("-mon", "chardev=x,mode=bogus"), "Parameter 'mode' does not accept value 'bogus'"),
    (("-mon", "mode=control"), "Parameter 'chardev' is missing"),
    (("-chardev", "socket,id=x"), "Unable to parse FD number "),
    (("-qmp", "chardev:nope"), 'chardev "nope" not found'),
    (("-chardev", "socket,id=x,path=/a,server=on,wait=off", "-mon", "chardev=x,pretty=on"),
     "'pretty' is not compatible with HMP monitors"),
    (("-chardev", "socket,id=x,path=/a,server=on,wait=off", "-mon",
      "chardev=x,mode=control", "-mon", "chardev=x,mode=control"), "Device 'x' is in use"),
])
def test_chardev_errors(args: tuple[str, ...], message: str) -> None:
    from vnvdimm.errors import VnvdimmError

    with pytest.raises(VnvdimmError) as caught:
        monitors_of(*args)
    assert caught.value.message == message


def test_chardev_forms() -> None:
    specs = monitors_of("-qmp", "unix:/t/q.sock,server,nowait", "-monitor", "none",
                        "-monitor", "tcp::4444,server=on,wait=off", "-qmp-pretty", "stdio")
    assert [(s.chardev.path, s.chardev.host, s.chardev.port, s.chardev.wait, s.mode, s.pretty)
            for s in specs] == [("/t/q.sock", None, None, False, "control", False),
                                (None, "", "4444", False, "readline", False),
                                (None, None, None, True, "control", True)]


def test_unix_path_too_long(tmp_path: Path) -> None:
    from vnvdimm.errors import VnvdimmError

    server = MonitorServer([unix_qmp(tmp_path / ("a" * 120))])
    with pytest.raises(VnvdimmError) as caught:
        server.open()
    assert caught.value.message.endswith("' is too long")
    assert caught.value.hint == "Path must be less than 108 bytes\n"


# -- end to end: `vnvdimm run` with qemu.qmp's QMPClient and qmp-shell -------------------

def start_vnvdimm(sock: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "vnvdimm", "run", "-S", *PLATFORM,
                             "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:  # a first client, gone at once, proves the socket listens
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        try:
            connect(str(sock)).close()
            return proc
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.01)


def test_qemu_qmp_client_smoke(tmp_path: Path) -> None:
    qmp = pytest.importorskip("qemu.qmp")
    sock = tmp_path / "qmp.sock"
    proc = start_vnvdimm(sock)

    async def session() -> tuple[Any, Any, tuple[Any, list[Any]]]:
        client = qmp.QMPClient("vnvdimm")
        events = client.events
        await client.connect(str(sock))  # greeting and negotiation
        greeting = client.greeting
        version = await client.execute("query-version")
        shutdown: list[Any] = []

        async def watch() -> None:
            async for event in events:
                shutdown.append(event)
                return

        watcher = asyncio.create_task(watch())
        result = await client.execute("quit")
        await asyncio.wait_for(watcher, 5)
        await client.disconnect()
        return greeting, version, (result, shutdown)

    greeting, version, (result, shutdown) = asyncio.run(session())
    assert proc.wait(10) == 0
    assert not sock.exists()
    assert greeting is not None
    assert version == {"qemu": {"micro": 22, "minor": 2, "major": 7},
                       "package": f"vnvdimm {__import__('vnvdimm').__version__}"}
    assert result == {}
    assert shutdown and shutdown[0]["event"] == "SHUTDOWN"


def test_qmp_shell_smoke(tmp_path: Path) -> None:
    pytest.importorskip("qemu.qmp")
    sock = tmp_path / "qmp.sock"
    proc = start_vnvdimm(sock)
    shell = subprocess.run([sys.executable, "-m", "qemu.qmp.qmp_shell", str(sock)],
                           input="query-version\nquery-memory-devices\nquit\n",
                           capture_output=True, text=True, timeout=30, check=False)
    assert proc.wait(10) == 0
    assert '"major": 7' in shell.stdout and '"return": []' in shell.stdout, shell


def _spawn_until_socket(sock: Path, *args: str) -> subprocess.Popen[str]:
    """`vnvdimm run` with PLATFORM and `args`, once `sock` exists."""
    proc = subprocess.Popen([sys.executable, "-m", "vnvdimm", "run", *PLATFORM, *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no socket: {proc.communicate()}")
        time.sleep(0.02)
    return proc


def test_socket_removed_after_a_stop_signal(tmp_path: Path) -> None:
    """QEMU leaves its unix socket behind after SIGTERM; vnvdimm removes it."""
    import signal

    sock = tmp_path / "sig.sock"
    proc = _spawn_until_socket(sock, "-qmp", f"unix:{sock},server=on,wait=off")
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "terminating on signal 15" in err
    assert not sock.exists()


def test_sockets_open_before_the_machine_is_built(tmp_path: Path) -> None:
    """As QEMU: a wait=on monitor waits for its client before a -numa error is
    found; then vnvdimm exits with that error and, unlike QEMU, removes the socket."""
    sock = tmp_path / "early.sock"
    proc = _spawn_until_socket(sock, "-numa", "node,memdev=zz",
                               "-qmp", f"unix:{sock},server=on")
    try:
        time.sleep(0.2)
        assert proc.poll() is None  # waiting for a client, the machine not yet built
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(sock))
            _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert "info: QEMU waiting for connection on: disconnected:unix:" in err
    assert err.endswith("vnvdimm: -numa node,memdev=zz: memdev=zz is ambiguous\n"), err
    assert not sock.exists()
