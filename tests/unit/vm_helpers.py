"""Small helpers shared by the machine-level unit tests (real files, real mappings)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.cmdline import build_machine
from vnvdimm.machine.machine import Machine

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

NVDIMM_PC = ["-machine", "pc,nvdimm=on"]


def build(args: Sequence[str], *, dry_run: bool = False,
          warnings: list[str] | None = None) -> Machine:
    """build_machine over a QEMU argv list."""
    sink: Callable[[str], None] = warnings.append if warnings is not None else _drop
    return build_machine(split_argv(list(args)), dry_run=dry_run, warn=sink)


def _drop(message: str) -> None:
    del message


def build_error(args: Sequence[str], *, dry_run: bool = False) -> VnvdimmError:
    """The VnvdimmError a refused command line raises (fails if it is accepted)."""
    try:
        machine = build(args, dry_run=dry_run)
    except VnvdimmError as error:
        return error
    machine.close()
    raise AssertionError(f"accepted: {list(args)}")


def outcome(args: Sequence[str], *, dry_run: bool) -> tuple[str, object]:
    """("error", (location, message)) or ("ok", layout) for comparisons."""
    try:
        machine = build(args, dry_run=dry_run)
    except VnvdimmError as error:
        return "error", (error.location, error.message)
    try:
        return "ok", layout(machine)
    finally:
        machine.close()


@dataclass(frozen=True)
class DeviceLayout:
    name: str
    driver: str
    slot: int
    addr: int
    size: int
    memdev: str
    label_offset: int | None


def layout(machine: Machine) -> tuple[object, list[DeviceLayout]]:
    """Memory map plus every realized memory device's slot, address and size."""
    from vnvdimm.devices.pc_dimm import NVDimm

    devices = []
    for device in machine.memory_devices():
        assert device.memdev is not None
        devices.append(DeviceLayout(
            device.qom_name, device.driver, device.slot, device.addr,
            device.memory_region_size(), device.memdev.id,
            device.label_offset if isinstance(device, NVDimm) else None))
    return machine.memory_map, devices


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_state(directory: Path) -> dict[str, tuple[int, str]]:
    """name -> (size, sha256) of every file under `directory` (sub-directories too)."""
    state: dict[str, tuple[int, str]] = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            state[str(path.relative_to(directory))] = (path.stat().st_size, sha256(path))
    return state


def stat_state(directory: Path) -> dict[str, tuple[int, int, int, int]]:
    """name -> (inode, size, mtime_ns, ctime_ns) of every entry under `directory`."""
    state: dict[str, tuple[int, int, int, int]] = {}
    for root, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            path = Path(root) / name
            st = path.lstat()
            state[str(path.relative_to(directory))] = (
                st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return state


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (a second process); fail on a non-zero exit."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def escape(path: Path | str) -> str:
    """A path as a QEMU option value (commas doubled)."""
    return str(path).replace(",", ",,")


def error_message(action: Callable[[], object]) -> str:
    """Run `action`, which must raise VnvdimmError; return its message.

    Only the text is kept: a retained traceback would keep the frames (and the
    guest-memory views they reference) alive, and `Machine.close` refuses to unmap
    memory that live views still point at."""
    try:
        action()
    except VnvdimmError as error:
        return error.message
    raise AssertionError("no VnvdimmError raised")
