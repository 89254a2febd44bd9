"""What a QEMU configuration will make of the label areas already in its image files.

`vnvdimm check` calls :func:`label_warnings` on a machine it built with
``dry_run``: for every nvdimm whose memdev is a memory-backend-file naming an
existing regular file, the label area is read (read-only, no lock: nothing
is written) exactly where QEMU will place it and judged as a Linux 6.1 guest
would, and each way the guest would ignore or lose labels becomes a warning:

* labels whose interleave-set cookie belongs to another slot (the guest
  skips them), or a label area the kernel ignores as a whole;
* an image with a valid namespace index used without ``label-size`` (the
  guest sees the labels as pmem data, and a write there destroys them), or
  with a ``label-size`` other than the one the labels were written with;
* ``label-size`` on an image with no valid index but non-zero bytes in what
  becomes the label area (that data is hidden from the guest, and the first
  label write overwrites it).

Other label sizes are looked for at the powers of two from 128 KiB to
16 MiB (``LABEL_SIZE_CANDIDATES``), each at ``size - label_size`` as QEMU
would place it.  ``share=off`` is reported by ``machine.summary.pitfalls``.
"""

from __future__ import annotations

import os
import stat

from vnvdimm.backends.file import FileBackend
from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.image.namespaces import _slot_for_cookie
from vnvdimm.labels import RegionContext, parse_label_area, validate_indexes
from vnvdimm.machine.machine import Machine

LABEL_SIZE_CANDIDATES = tuple(128 << (10 + k) for k in range(8))  # 128 KiB .. 16 MiB


def _read(fd: int, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset``; past the end of the file reads as zeros (QEMU extends it)."""
    if offset < 0 or size <= 0:
        return b""
    return os.pread(fd, size, offset).ljust(size, b"\0")


def _written_label_sizes(fd: int, backend_size: int, but: int) -> list[int]:
    """Label sizes (other than ``but``) at which a valid namespace index sits."""
    found = []
    for size in LABEL_SIZE_CANDIDATES:
        if size == but or size >= backend_size:
            continue
        if validate_indexes(_read(fd, backend_size - size, size)).valid:
            found.append(size)
    return found


def _size_text(value: int) -> str:
    for suffix, shift in (("G", 30), ("M", 20), ("K", 10)):
        if value and value % (1 << shift) == 0:
            return f"{value >> shift}{suffix}"
    return str(value)


def image_label_warnings(path: str, *, backend_size: int, label_size: int, slot: int,
                         pmem_size: int) -> list[str]:
    """Warnings for one image file as one nvdimm (``label_size`` 0: no label area)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return []
        return _judge(fd, path, backend_size, label_size, slot, pmem_size)
    finally:
        os.close(fd)


def _judge(fd: int, path: str, backend_size: int, label_size: int, slot: int,
           pmem_size: int) -> list[str]:
    notes: list[str] = []
    others = _written_label_sizes(fd, backend_size, label_size)
    if not label_size:
        if others:
            notes.append(
                f"{path} holds namespace labels (written with label-size="
                f"{_size_text(others[0])}) but the nvdimm has no label-size: the labels are "
                "hidden, the guest sees the label area as pmem data and its namespaces are "
                "lost")
        return notes
    area = _read(fd, backend_size - label_size, label_size)
    state = parse_label_area(area, RegionContext.qemu(slot, pmem_size))
    if not state.verdict.valid:
        if others:
            notes.append(
                f"{path}: labels were written with label-size={_size_text(others[0])}, not "
                f"{_size_text(label_size)}: the guest finds no valid index and ignores them "
                "(and the old label area becomes pmem data)")
        elif any(area):
            notes.append(
                f"{path}: the last {_size_text(label_size)} of the backend hold data but no "
                "valid namespace index: with label-size that data is hidden from the guest "
                "(it becomes the label area), and writing labels overwrites it")
        return notes
    if not state.labeling:
        notes.append(f"{path}: the guest ignores the label area: {state.ignored_reason}")
        return notes
    if state.region_error is not None:
        notes.append(f"{path}: the guest rejects the labels: {state.region_error}")
    reported: set[object] = set()
    for entry in state.entries:
        if entry.skip_reason is not None:
            notes.append(f"{path}: label slot {entry.slot} is ignored: {entry.skip_reason}")
    for label_slot, why in state.skipped:
        label = next((e.label for e in state.entries if e.slot == label_slot), None)
        if label is None or label.uuid in reported:
            continue
        reported.add(label.uuid)
        if "cookie" in why:
            other = _slot_for_cookie(label.isetcookie)
            made = "another nvdimm" if other is None else f"the nvdimm in slot {other}"
            notes.append(
                f"{path}: namespace {label.uuid} has labels made for {made}, but this "
                f"nvdimm is in slot {slot}: the guest ignores them")
        else:
            notes.append(f"{path}: namespace {label.uuid}: the guest skips its label ({why})")
    return notes


def label_warnings(machine: Machine) -> list[str]:
    """`vnvdimm check`'s warnings about the label areas of the machine's nvdimm images."""
    notes: list[str] = []
    for device in machine.memory_devices():
        if not isinstance(device, NVDimm) or not isinstance(device.memdev, FileBackend):
            continue
        backend = device.memdev
        if not backend.mem_path:
            continue
        name = device.id or device.qom_name
        found = image_label_warnings(
            backend.mem_path, backend_size=backend.region_size, label_size=device.label_size,
            slot=device.slot, pmem_size=device.memory_region_size())
        notes.extend(f"nvdimm {name}: {text}" for text in found)
    return notes
