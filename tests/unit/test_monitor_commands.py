"""The command table: QMP replies, errors and HMP output, without sockets.

Expected texts are what QEMU 7.2 printed for the same commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.cmdline import build_machine
from vnvdimm.monitor.commands import CommandTable
from vnvdimm.monitor.events import Event, EventBus
from vnvdimm.monitor.hmp_format import DumpFormat, memory_dump, parse_format

PLATFORM = ["-M", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G"]


@pytest.fixture
def table() -> Iterator[tuple[CommandTable, list[Event]]]:
    machine = build_machine(split_argv(PLATFORM))
    machine.ready = True
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    yield CommandTable(machine, bus), events
    machine.close()


def test_query_version_and_status_key_order(table: tuple[CommandTable, list[Event]]) -> None:
    t, _ = table
    version = t.execute("query-version", {})
    assert isinstance(version, dict)
    assert list(version["qemu"]) == ["micro", "minor", "major"]  # as QEMU prints it
    status = t.execute("query-status", {})
    assert isinstance(status, dict)
    assert list(status) == ["status", "singlestep", "running"]


def test_run_state_transitions_and_events(table: tuple[CommandTable, list[Event]]) -> None:
    t, events = table
    assert t.execute("stop", {}) == {} and not events  # stop in prelaunch: no event
    assert t.execute("query-status", {}) == {
        "status": "prelaunch", "singlestep": False, "running": False}
    t.execute("cont", {})
    t.execute("stop", {})
    assert [e.name for e in events] == ["RESUME", "STOP"]
    assert t.hmp("info status") == "VM status: paused\n"


def test_quit_emits_shutdown_before_returning(table: tuple[CommandTable, list[Event]]) -> None:
    t, events = table
    quits: list[int] = []
    t.on_quit = lambda: quits.append(len(events))
    assert t.execute("quit", {}) == {}
    assert events[-1].to_json()["data"] == {"guest": False, "reason": "host-qmp-quit"}
    assert quits == [1]


@pytest.mark.parametrize(("name", "args", "message"), [
    ("query-status", {"a": 1}, "Parameter 'a' is unexpected"),
    ("nope", {}, "The command nope has not been found"),
    ("object-del", {}, "Parameter 'id' is missing"),
    ("object-del", {"id": 1}, "Invalid parameter type for 'id', expected: string"),
    ("object-del", {"id": "zz"}, "object 'zz' not found"),
    ("device_del", {"id": "zz"}, "Device 'zz' not found"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": "1G"},
     "Parameter 'size' expects uint64"),
    ("device_add", {"driver": "nvdimm", "id": "n", "memdev": "m9"}, "Device 'm9' not found"),
])
def test_qmp_errors(table: tuple[CommandTable, list[Event]], name: str,
                    args: dict[str, object], message: str) -> None:
    t, _ = table
    with pytest.raises(VnvdimmError) as info:
        t.execute(name, args)
    assert info.value.message == message


def test_hotplug_through_qmp(table: tuple[CommandTable, list[Event]], tmp_path: Path) -> None:
    t, _ = table
    t.execute("object-add", {"qom-type": "memory-backend-file", "id": "m1", "size": 134217728,
                             "mem-path": str(tmp_path / "nv.img"), "share": True})
    # QMP device_add goes through QemuOpts in 7.2: a JSON number becomes option text.
    with pytest.raises(VnvdimmError, match=r"\(0x1\) is required at least 0x20000"):
        t.execute("device_add", {"driver": "nvdimm", "id": "n1", "memdev": "m1",
                                 "label-size": 1})
    t.execute("device_add", {"driver": "nvdimm", "id": "n1", "memdev": "m1",
                             "label-size": 131072, "unarmed": False})
    devices = t.execute("query-memory-devices", {})
    assert devices == [{"type": "nvdimm", "data": {
        "memdev": "/objects/m1", "hotplugged": True, "addr": 0x100000000, "hotpluggable": True,
        "size": 134217728 - 131072, "slot": 0, "node": 0, "id": "n1"}}]
    assert t.execute("qom-get", {"path": "/machine/peripheral/n1", "property": "size"}) \
        == 134217728 - 131072
    with pytest.raises(VnvdimmError, match=r"nvdimm device hot unplug is not supported yet\."):
        t.execute("device_del", {"id": "n1"})
    with pytest.raises(VnvdimmError, match="object 'm1' is in use, can not be deleted"):
        t.execute("object-del", {"id": "m1"})
    memdev = t.execute("query-memdev", {})
    assert isinstance(memdev, list)
    assert [m["id"] for m in memdev] == ["m1", "pc.ram"]


def test_pmemsave_writes_guest_memory(table: tuple[CommandTable, list[Event]],
                                      tmp_path: Path) -> None:
    t, _ = table
    t.machine.write(0x1000, b"vnvdimm")
    out = tmp_path / "dump.bin"
    t.execute("pmemsave", {"val": 0x1000, "size": 16, "filename": str(out)})
    assert out.read_bytes() == b"vnvdimm" + bytes(9)
    with pytest.raises(VnvdimmError, match="Could not open '/nonexistent/x': No such file"):
        t.execute("pmemsave", {"val": 0, "size": 1, "filename": "/nonexistent/x"})


def test_hmp_argument_errors(table: tuple[CommandTable, list[Event]]) -> None:
    t, _ = table
    assert t.hmp("object_add") == (
        'object_add: string expected\nTry "help object_add" for more information\n')
    assert t.hmp("foo bar") == "unknown command: 'foo bar'\n"
    stderr: list[str] = []
    assert t.hmp("device_add nvdimm,id=1x", stderr.append) == (
        'Try "help device_add" for more information\n')
    assert stderr[0] == "vnvdimm: Parameter 'id' expects an identifier\n" \
        "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"


def test_xp_matches_qemu_layout() -> None:
    data = bytes(range(32))

    def read(addr: int, n: int) -> bytes | None:
        return data[addr:addr + n] if addr + n <= len(data) else None

    last = DumpFormat()
    assert memory_dump(read, parse_format("/20xb", last), 0) == (
        "0000000000000000: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07\n"
        "0000000000000008: 0x08 0x09 0x0a 0x0b 0x0c 0x0d 0x0e 0x0f\n"
        "0000000000000010: 0x10 0x11 0x12 0x13\n")
    assert memory_dump(read, parse_format("/2xg", last), 0) == (
        "0000000000000000: 0x0706050403020100 0x0f0e0d0c0b0a0908\n")
    assert memory_dump(read, parse_format("/3dh", last), 0) == (
        "0000000000000000:   256   770  1284\n")
    assert memory_dump(read, parse_format("", last), 0) == "0000000000000000: 0x03020100\n"
    assert memory_dump(read, parse_format("/4xw", last), 28) == (
        "000000000000001c: Cannot access memory\n")


def test_hmp_help_lines_are_qemus(table: tuple[CommandTable, list[Event]]) -> None:
    t, _ = table
    assert t.hmp("help xp") == "xp /fmt addr -- physical memory dump starting at 'addr'\n"
    assert "device_del device -- remove device\n" in t.hmp("help")
    assert t.hmp("help info").startswith("info memdev  -- show memory backends\n")


def test_console_line_editing_like_qemus_readline(
        table: tuple[CommandTable, list[Event]]) -> None:
    """Raw terminal input: CR is Enter, DEL erases, and the echo redraws the line
    as QEMU's readline does (ESC[D per old character, the new text, ESC[K)."""
    import io

    from vnvdimm.monitor.hmp_console import HmpConsole

    t, _ = table
    out = io.StringIO()
    console = HmpConsole(t, out, io.StringIO())
    assert console.feed("info statx\x7fus\r") is False
    text = out.getvalue()
    assert text.startswith("i\x1b[K\x1b[Din\x1b[K")
    assert "\x1b[D" * 10 + "info stat\x1b[K" in text  # the erase redraw
    assert text.endswith("VM status: paused (prelaunch)\r\n(qemu) ")
    assert console.feed("\x1b[A\r") is False  # up-arrow recalls the last line
    assert out.getvalue().endswith("VM status: paused (prelaunch)\r\n(qemu) ")
    assert console.feed("quit\n") is True
