"""A machine's memory map as plain data, plus the pitfalls worth a warning.

`vnvdimm check` prints this as a table or JSON; the library can use it too.
"""

from __future__ import annotations

from typing import Any

from vnvdimm.backends.base import HostMemoryBackend
from vnvdimm.backends.file import FileBackend
from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.machine.machine import Machine


def _backend(backend: HostMemoryBackend) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": backend.id,
        "type": backend.qom_type,
        "size": backend.size,
        "share": backend.share,
        "align": backend.align,
        "prealloc": backend.prealloc,
    }
    if isinstance(backend, FileBackend):
        data["mem-path"] = backend.mem_path
        data["readonly"] = backend.readonly
        data["pmem"] = backend.pmem
    return data


def summarize(machine: Machine) -> dict[str, Any]:
    config, mm = machine.config, machine.memory_map
    assert mm is not None
    devices = []
    for device in machine.memory_devices():
        entry: dict[str, Any] = {
            "id": device.id,
            "driver": device.driver,
            "slot": device.slot,
            "addr": device.addr,
            "size": device.memory_region_size(),
            "node": device.node,
            "memdev": device.memdev.id if device.memdev else None,
        }
        if isinstance(device, NVDimm):
            entry["label-size"] = device.label_size
            entry["label-offset"] = device.label_offset
            entry["unarmed"] = device.unarmed
        devices.append(entry)
    return {
        "machine": {
            "type": config.type.name,
            "nvdimm": config.nvdimm,
            "nvdimm-persistence": {0: None, 2: "mem-ctrl", 3: "cpu"}[config.nvdimm_persistence],
            "ram-size": mm.ram_size,
            "maxmem": mm.maxram_size,
            "slots": config.ram_slots,
        },
        "ram": [{"addr": addr, "size": size} for addr, size in mm.ram_ranges() if size],
        "device-memory": (
            {"base": mm.device_memory_base, "size": mm.device_memory_size}
            if mm.has_device_memory else None
        ),
        "devices": devices,
        "backends": [_backend(b) for b in machine.backends()],
        "warnings": pitfalls(machine),
    }


def pitfalls(machine: Machine) -> list[str]:
    """Things QEMU accepts that will surprise the user or the guest later."""
    notes: list[str] = []
    for device in machine.memory_devices():
        if not isinstance(device, NVDimm) or device.memdev is None:
            continue
        name = device.id or device.qom_name
        backend = device.memdev
        if isinstance(backend, FileBackend) and not backend.share and not backend.readonly:
            if device.label_size:
                notes.append(
                    f"nvdimm {name}: memdev {backend.id} has share=off with label-size: "
                    f"label updates (and guest writes) will not persist to {backend.mem_path}")
            else:
                notes.append(
                    f"nvdimm {name}: memdev {backend.id} has share=off: guest writes stay "
                    f"private and never reach {backend.mem_path}")
        if backend.qom_type == "memory-backend-ram":
            notes.append(f"nvdimm {name}: memdev {backend.id} is RAM: its contents are lost "
                         "when the platform stops")
        if device.unarmed is False and backend.readonly_region:
            notes.append(f"nvdimm {name}: read-only memdev without unarmed=on")
    return notes
