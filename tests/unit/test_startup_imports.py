"""What `vnvdimm` imports before it is useful: the start-up diet, as a test.

Start-up to the first QMP greeting is measured against QEMU's in
`bench/qmp_bench.py`; on these machines the interpreter alone is half of
QEMU's time, and single pure-Python standard modules (typing, dataclasses,
re, enum...) cost milliseconds each.  So the path to the greeting imports
only the vnvdimm modules it runs and the standard library's C modules; the
rest (the QMP dispatcher, json, ACPI tables) loads when first needed.

The child runs with ``-S`` (no site, the package found through PYTHONPATH), so
that whatever a site's .pth files import does not hide a regression here.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from vm_helpers import escape

import vnvdimm

PACKAGE_ROOT = str(Path(vnvdimm.__file__).resolve().parents[1])
MAIN = "import sys; from vnvdimm.cli.main import main; sys.exit(main(sys.argv[1:]))"
IDLE_MARK = b"--- vnvdimm: idle work begins ---\n"
# The monitor loop starts the work start-up deferred (`MonitorServer.when_idle`)
# as soon as it is idle, which can be before the client has read the greeting:
# the child marks where that work begins on stderr, and what follows the mark
# was not needed for the greeting.
MAIN_MARKING_IDLE = (
    "import os; from vnvdimm.monitor.server import MonitorServer as S; w = S.when_idle; "
    f"S.when_idle = lambda self, task: w(self, lambda: (os.write(2, {IDLE_MARK!r}), task())); "
    + MAIN)

# Pure-Python standard modules that cost a millisecond or more each here, and
# the parts of vnvdimm that the greeting does not need.
FORBIDDEN_BEFORE_GREETING = {
    "typing", "dataclasses", "inspect", "re", "enum", "collections", "functools",
    "contextlib", "socket", "selectors", "signal", "threading", "json", "tempfile", "uuid",
    "platform", "shutil", "random", "copy", "weakref", "warnings", "asyncio",
    "ast", "dis", "tokenize", "linecache", "pathlib", "argparse", "subprocess", "mmap",
    "bisect", "_bisect", "fcntl",
    "vnvdimm.acpi", "vnvdimm.monitor.commands", "vnvdimm.monitor.qmp",
    "vnvdimm.monitor.hmp_console", "vnvdimm.monitor.hmp_info", "vnvdimm.labels",
    "vnvdimm.image", "vnvdimm.guest", "vnvdimm.backends.memfd", "vnvdimm.host._cparse",
    "vnvdimm.host.messages", "vnvdimm.host.numa", "vnvdimm.host.prealloc",
    "vnvdimm.monitor.events",
}
"""A module is forbidden if it or its package is in this set."""

IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+\d+ \| ( *)(\S+)")


def _imported(stderr: str) -> list[tuple[str, str]]:
    """(module, the module whose import pulled it in), in import order."""
    rows: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            rows.append((len(match.group(1)) // 2, match.group(2)))
    # -X importtime prints a module after its children: the parent is the next
    # line one level up.
    out: list[tuple[str, str]] = []
    for i, (depth, name) in enumerate(rows):
        parent = next((n for d, n in rows[i + 1:] if d < depth), "(top level)")
        out.append((name, parent))
    return out


def _baseline() -> set[str]:
    result = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", "pass"],
                            capture_output=True, text=True, check=True)
    return {module for module, _ in _imported(result.stderr)}


def _forbidden(module: str, forbidden: set[str] = FORBIDDEN_BEFORE_GREETING) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in forbidden for n in range(1, len(parts) + 1))


def _start(tmp_path: Path, code: str = MAIN_MARKING_IDLE
           ) -> tuple[subprocess.Popen[bytes], socket.socket]:
    args = ["run", "-S", "-nodefaults", "-display", "none", "-machine", "pc,nvdimm=on",
            "-m", "512M,slots=4,maxmem=5G"]
    for i in range(4):
        args += ["-object", f"memory-backend-file,id=m{i},share=on,size=1G,"
                            f"mem-path={escape(tmp_path / f'nv{i}.img')}",
                 "-device", f"nvdimm,id=nv{i},memdev=m{i},label-size=128K"]
    sock_path = tmp_path / "qmp.sock"
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    proc = subprocess.Popen([sys.executable, "-S", "-X", "importtime", "-c", code,
                             *args, "-qmp", f"unix:{sock_path},server=on,wait=off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    while True:
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(str(sock_path))
            return proc, client
        except (FileNotFoundError, ConnectionRefusedError):
            client.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                assert proc.stderr is not None
                pytest.fail(f"vnvdimm did not start: {proc.stderr.read().decode()}")
            time.sleep(0.005)


def _hang_up(proc: subprocess.Popen[bytes], client: socket.socket) -> None:
    """Close the client; kill the child if it has not exited by itself."""
    client.close()
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _read_line(client: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = client.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_greeting_needs_only_the_platform_and_c_modules(tmp_path: Path) -> None:
    proc, client = _start(tmp_path)
    try:
        client.settimeout(30)
        greeting = _read_line(client)
        assert greeting.startswith(b'{"QMP": {"version": {"qemu": ')
        # Everything imported before the greeting is already in the pipe.
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        before = (proc.stderr.read() or b"").split(IDLE_MARK)[0]
        # The lazily loaded parts still work once asked for.
        client.sendall(b'{"execute": "qmp_capabilities"}'
                       b'{"execute": "query-memory-devices", "id": 7}')
        assert _read_line(client) == b'{"return": {}}\r\n'
        reply = _read_line(client)
        assert reply.startswith(b'{"return": [{"type": "nvdimm", "data": {')
        assert reply.count(b'"type": "nvdimm"') == 4 and reply.endswith(b'"id": 7}\r\n')
        client.sendall(b'{"execute": "quit"}')
        assert proc.wait(30) == 0
    finally:
        _hang_up(proc, client)
    baseline = _baseline()
    imported = [(m, top) for m, top in _imported(before.decode()) if m not in baseline]
    assert any(m == "vnvdimm.machine.machine" for m, _ in imported), before.decode()
    bad = [f"{module} (via {top})" for module, top in imported if _forbidden(module)]
    assert not bad, "imported before the greeting:\n" + "\n".join(bad)


def test_deferred_work_is_done_while_idle(tmp_path: Path) -> None:
    """What start-up leaves for later loads once the loop is idle, before any
    command asks for it: a first command or hotplug does not wait for it."""
    proc, client = _start(tmp_path)
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    seen = b""
    try:
        client.settimeout(30)
        _read_line(client)  # the greeting; nothing is sent after it
        deadline = time.monotonic() + 30
        while b"vnvdimm.acpi.state" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
            seen += proc.stderr.read() or b""
    finally:
        client.close()
        proc.terminate()
        proc.wait(30)
    loaded = {module for module, _ in _imported(seen.decode())}
    assert {"vnvdimm.monitor.qmp", "vnvdimm.monitor.commands",
            "vnvdimm.acpi.state", "vnvdimm.acpi.nfit"} <= loaded, sorted(loaded)


# The child reports the collector's state as it sends the first greeting.
MAIN_REPORTING_GC = (
    "import gc, os; from vnvdimm.monitor.server import _QmpSession as Q; s = Q.start; "
    "Q.start = lambda self: (s(self), os.write(2, b'gc %d %d %d\\n' % (gc.isenabled(), "
    "gc.get_freeze_count(), gc.get_count()[0]))) and None; " + MAIN)


def test_start_up_objects_are_frozen_before_the_greeting(tmp_path: Path) -> None:
    """Collection is back on when the platform serves, and what start-up built is
    frozen out of it (README): no collection is due that would scan it first."""
    proc, client = _start(tmp_path, MAIN_REPORTING_GC)
    try:
        client.settimeout(30)
        _read_line(client)
        client.sendall(b'{"execute": "qmp_capabilities"}{"execute": "quit"}')
        assert proc.wait(30) == 0
    finally:
        _hang_up(proc, client)
    assert proc.stderr is not None
    report = re.search(rb"^gc (\d+) (\d+) (\d+)$", proc.stderr.read(), re.M)
    assert report is not None
    enabled, frozen, pending = (int(x) for x in report.groups())
    assert enabled == 1
    assert frozen > 5_000  # the modules, the machine and its tables
    assert pending < gc_threshold0()


def gc_threshold0() -> int:
    import gc

    return gc.get_threshold()[0]


# What a QMP client's first input loads (`_QmpSession.feed`): the dispatcher and
# the command table, on top of the start-up modules.
STARTUP_MODULES = ("vnvdimm.cli.main", "vnvdimm.cli.run", "vnvdimm.cli.qemu_argv",
                   "vnvdimm.machine.cmdline", "vnvdimm.monitor.chardev",
                   "vnvdimm.monitor.server")
FORBIDDEN_FOR_FIRST_COMMAND = {
    "dataclasses", "inspect", "typing", "ast", "dis", "tokenize", "collections", "functools",
    "contextlib", "json", "socket", "selectors", "asyncio", "tempfile", "uuid", "platform",
}
MARK = "--- vnvdimm import mark ---"


def _ancestors(rows: list[tuple[str, str]], module: str) -> list[str]:
    parents = dict(rows)
    chain = []
    while module in parents:
        module = parents[module]
        chain.append(module)
    return chain


def test_first_command_loads_no_heavy_standard_modules() -> None:
    """The first command waits for `vnvdimm.monitor.qmp` and `.commands` to load
    (unless the idle loop got there first): they import only vnvdimm modules, C
    modules and, for the lexer's compiled patterns, `re`, whose own imports
    (enum, functools, collections...) are the one exception.  The table is
    imported first, so that it cannot hide behind what `re` loads."""
    code = (f"import os; import {', '.join(STARTUP_MODULES)}; os.write(2, b'{MARK}\\n'); "
            f"import vnvdimm.monitor.commands; os.write(2, b'{MARK}\\n'); "
            f"import vnvdimm.monitor.qmp")
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    result = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", code],
                            capture_output=True, text=True, check=True, env=env)
    _, table_part, qmp_part = result.stderr.split(MARK + "\n")
    table, qmp = _imported(table_part), _imported(qmp_part)
    assert any(m == "vnvdimm.monitor.commands" for m, _ in table), table_part
    assert any(m == "vnvdimm.monitor.qmp" for m, _ in qmp), qmp_part
    bad = [f"{module} (via {parent})" for module, parent in table
           if _forbidden(module, FORBIDDEN_FOR_FIRST_COMMAND | {"re", "enum"})]
    bad += [f"{module} (via {parent})" for module, parent in qmp
            if _forbidden(module, FORBIDDEN_FOR_FIRST_COMMAND)
            and "re" not in _ancestors(qmp, module)]
    assert not bad, "imported by the first command:\n" + "\n".join(bad)


def test_the_command_script_imports_nothing_of_its_own() -> None:
    """`scripts/vnvdimm` (the installed command) starts vnvdimm without the `re`
    import a pip entry-point wrapper makes first."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "vnvdimm"
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    result = subprocess.run([sys.executable, "-S", "-X", "importtime", str(script),
                             "--version"], capture_output=True, text=True, check=True, env=env)
    assert result.stdout == f"vnvdimm {vnvdimm.__version__}\n"
    loaded = {module for module, _ in _imported(result.stderr)} - _baseline()
    assert loaded and not {m for m in loaded if _forbidden(m)}, sorted(loaded)


def test_run_resumes_garbage_collection_when_start_up_ends() -> None:
    """`run` pauses the cyclic collector during start-up (README); it is back on
    when start-up fails, as when it succeeds (then before serving)."""
    import gc

    from vnvdimm.cli.run import run

    assert gc.isenabled()
    assert run(["-machine", "no-such-machine"]) == 1
    assert gc.isenabled()
