"""QMP sessions (qmp_sessions.py) against real QEMU and `vnvdimm run`, reply for reply.

Both programs get the same platform arguments plus ``-S -nodefaults -display
none -qmp unix:{tmp}/qmp.sock,server=on,wait=off``, each in its own temp dir.
The client is a raw socket, so the bytes themselves are compared (qemu.qmp's
QMPClient would hide key order, number formats and the parse errors); see
tests/unit/test_qmp_server.py for the QMPClient and qmp-shell smoke tests.
Skipped when QEMU is not installed.
"""

from __future__ import annotations

import difflib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from . import files, harness
from .qmp_sessions import SESSIONS, Raw, Session, encode

pytestmark = pytest.mark.conformance

FIXED_ARGS = ("-S", "-nodefaults", "-display", "none")
TIMEOUT = 20.0
_TIMESTAMP = re.compile(rb'"timestamp": \{\s*"seconds": \d+,\s*"microseconds": \d+\s*\}')
_PACKAGE = re.compile(rb'"package": "[^"]*"')
_HMP_VERSION = re.compile(rb'"7\.2\.22[^"\\]*\\r\\n"')  # HMP `info version`: version+package

Transcript = list[list[bytes]]
"""Per step (greeting first, quit last): the messages it produced, normalised."""


def _normalise(message: bytes, tmp: str) -> bytes:
    message = _TIMESTAMP.sub(b'"timestamp": <T>', message)
    message = _PACKAGE.sub(b'"package": <P>', message)
    message = _HMP_VERSION.sub(b'"7.2.22<P>\\r\\n"', message)
    for path in {tmp, os.path.realpath(tmp)}:
        message = message.replace(path.encode(), b"{tmp}")
    return message


class _Reader:
    def __init__(self, sock: socket.socket, pretty: bool) -> None:
        self.sock = sock
        self.buffer = b""
        self.end = b"\r\n}\r\n" if pretty else b"\r\n"
        self.eof = False

    def message(self, deadline: float) -> bytes | None:
        while self.end not in self.buffer:
            if self.eof:
                return None
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(f"no complete message; have {self.buffer[:300]!r}") from None
            if not data:
                self.eof = True
            self.buffer += data
        cut = self.buffer.index(self.end) + len(self.end)
        message, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return message


def run_session(session: Session, argv_prefix: list[str]) -> tuple[Transcript, str]:
    """Run one session; its transcript (and, for the record, nothing else yet)."""
    with tempfile.TemporaryDirectory(prefix="qmpconf-") as tmp:
        files.materialise(Path(tmp), session.files)
        sock_path = f"{tmp}/qmp.sock"
        option = "-qmp-pretty" if session.pretty else "-qmp"
        argv = [*argv_prefix, *FIXED_ARGS,
                *(a.replace("{tmp}", tmp) for a in session.args),
                option, f"unix:{sock_path},server=on,wait=off"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp,
                                env={**os.environ, **harness.CHILD_ENV_OVERRIDES})
        try:
            return _talk(session, proc, sock_path, tmp), ""
        finally:
            if proc.poll() is None:
                proc.terminate()
            _, err = proc.communicate(timeout=TIMEOUT)
            if err:
                sys.stderr.write(err.decode(errors="replace"))


def _talk(session: Session, proc: subprocess.Popen[bytes], sock_path: str,
          tmp: str) -> Transcript:
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(sock_path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no QMP socket: {proc.communicate()}")
        time.sleep(0.005)
    while True:  # the path exists from bind(); connections succeed from listen()
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(sock_path)
            break
        except ConnectionRefusedError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    reader = _Reader(sock, session.pretty)
    greeting = reader.message(deadline)
    transcript: Transcript = [[_normalise(greeting or b"", tmp)]]
    steps = list(session.steps)
    if session.negotiate:
        steps.insert(0, Raw(b'{"execute":"qmp_capabilities"}'))
    for number, step in enumerate(steps):
        sock.sendall(encode(step, tmp))
        if isinstance(step, Raw) and not step.sync:
            transcript.append([])
            continue
        marker = b'"__sync__%d"' % number
        sock.sendall(b'{"execute":"query-version","id":' + marker + b"}")
        group: list[bytes] = []
        while True:
            message = reader.message(deadline)
            if message is None:
                raise RuntimeError(f"EOF in step {number}")
            if marker in message:
                break
            group.append(_normalise(message, tmp))
        transcript.append(group)
    sock.sendall(b'{"execute":"quit"}')
    group = []
    while (message := reader.message(deadline)) is not None:
        group.append(_normalise(message, tmp))
    transcript.append(group)
    sock.close()
    return transcript


def _describe(session: Session, transcript: Transcript) -> list[str]:
    names = ["<greeting>", *(["qmp_capabilities"] if session.negotiate else []),
             *(encode(step, "{tmp}").decode(errors="replace")[:160] for step in session.steps),
             "quit"]
    lines: list[str] = []
    for name, group in zip(names, transcript, strict=True):
        lines.append(f">>> {name}")
        lines.extend(m.decode(errors="replace").rstrip("\r\n") for m in group)
    return lines


class _Runs:
    def __init__(self, binary: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 1)))
        self.futures: dict[str, tuple[Future[tuple[Transcript, str]],
                                      Future[tuple[Transcript, str]]]] = {}
        self.binary = binary

    def get(self, session: Session) -> tuple[Transcript, Transcript]:
        if session.id not in self.futures:
            self.futures[session.id] = (
                self.pool.submit(run_session, session, [self.binary]),
                self.pool.submit(run_session, session, [sys.executable, "-m", "vnvdimm", "run"]))
        qemu, ours = self.futures[session.id]
        return qemu.result()[0], ours.result()[0]


@pytest.fixture(scope="module")
def runs() -> _Runs:
    binary = harness.qemu_binary()
    if binary is None:
        pytest.skip("qemu-system-x86_64 is not on PATH")
    result = _Runs(binary)
    for session in SESSIONS:  # start them all now; they run concurrently
        result.futures.setdefault(session.id, (
            result.pool.submit(run_session, session, [binary]),
            result.pool.submit(run_session, session, [sys.executable, "-m", "vnvdimm", "run"])))
    return result


@pytest.mark.parametrize("session", SESSIONS, ids=[s.id for s in SESSIONS])
def test_session_describes_qemu(session: Session, runs: _Runs) -> None:
    qemu, _ = runs.get(session)
    text = "\n".join(_describe(session, qemu))
    missing = [want for want in session.expect if want not in text]
    assert not missing, f"QEMU's replies lack {missing}:\n{text}"


@pytest.mark.parametrize("session", SESSIONS, ids=[s.id for s in SESSIONS])
def test_vnvdimm_matches_qemu(session: Session, runs: _Runs) -> None:
    qemu, ours = runs.get(session)
    if qemu != ours:
        diff = difflib.unified_diff(_describe(session, qemu), _describe(session, ours),
                                    "qemu", "vnvdimm", lineterm="", n=2)
        pytest.fail("\n".join(diff))


# -- monitor options QEMU refuses: same message, same status -------------------------------

PLATFORM = ("-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G")
OPTION_ERRORS: tuple[tuple[str, ...], ...] = (
    ("-qmp", "foo"),
    ("-qmp", ""),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off"),
    ("-qmp", "unix:{tmp}/absent.sock"),
    ("-qmp", "tcp:127.0.0.1,server=on,wait=off"),
    ("-qmp", "tcp:localhost:x,server=on,wait=off"),
    ("-qmp", "unix:{tmp}/q.sock,server=on,wait=off,bogus=1"),
    ("-qmp", "unix:{tmp}/q.sock,server=maybe"),
    ("-qmp", "unix:{tmp}/" + "a" * 120 + ",server=on,wait=off"),
    ("-qmp", "stdio", "-monitor", "stdio"),
    ("-qmp", "stdio", "-daemonize"),
    ("-qmp", "chardev:nope"),
    ("-qmp-pretty", "foo"),
    ("-mon", "chardev=x,mode=control"),
    ("-mon", "chardev=x,mode=bogus"),
    ("-mon", "mode=control"),
    ("-chardev", "socket,id=x"),
    ("-chardev", "socket,id=x,path={tmp}/a.sock,server=on,wait=off", "-mon",
     "chardev=x,pretty=on"),
    ("-chardev", "socket,id=x,path={tmp}/a.sock,server=on,wait=off",
     "-chardev", "socket,id=x,path={tmp}/b.sock,server=on,wait=off"),
    ("-chardev", "socket,id=x,path={tmp}/a.sock,server=on,wait=off",
     "-mon", "chardev=x,mode=control", "-mon", "chardev=x,mode=control"),
    ("-monitor", "unix:{tmp}/a.sock,server=on,wait=off,mode=control"),
    # QEMU opens its character devices once the machine type is known, before
    # machine properties, -m, -numa and backends: their errors come later.
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off", "-machine", "pc,nvdimm=maybe"),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off", "-m", "512M,maxmem=256M"),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off", "-numa", "node,memdev=zz"),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off",
     "-object", "memory-backend-file,id=m0,size=1G,mem-path={tmp}/no/such/dir/m0.img"),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off", "-machine", "pc-i440fx-1.4"),
    ("-qmp", "unix:{tmp}/no/such/dir/q.sock,server=on,wait=off", "-machine", "nope"),
    ("-qmp", "unix:{tmp}/q.sock,server=on,wait=off", "-numa", "node,memdev=zz"),
)


def _refusal(argv_prefix: list[str], program: str, extra: tuple[str, ...]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="qmpopt-") as tmp:
        argv = [*argv_prefix, *FIXED_ARGS, *PLATFORM, *(a.replace("{tmp}", tmp) for a in extra)]
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, cwd=tmp,
                              timeout=TIMEOUT, env={**os.environ, **harness.CHILD_ENV_OVERRIDES},
                              check=False)
        text = proc.stderr.decode(errors="replace").replace(tmp, "{tmp}")
        return proc.returncode, text.replace(f"{program}:", "<prog>:")


@pytest.mark.parametrize("extra", OPTION_ERRORS, ids=[" ".join(e)[:60] for e in OPTION_ERRORS])
def test_monitor_option_errors(extra: tuple[str, ...]) -> None:
    binary = harness.qemu_binary()
    if binary is None:
        pytest.skip("qemu-system-x86_64 is not on PATH")
    qemu = _refusal([binary], os.path.basename(binary), extra)
    ours = _refusal([sys.executable, "-m", "vnvdimm", "run"], "vnvdimm", extra)
    assert qemu[0] == 1
    assert ours == qemu
