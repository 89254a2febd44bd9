"""RAM split and device-memory region, against values real QEMU 7.2 reported."""

from __future__ import annotations

import pytest

from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.config import MachineConfig, find_machine_type
from vnvdimm.machine.memory_map import build_memory_map, split_ram

GiB = 1 << 30
MiB = 1 << 20


def _config(machine: str, ram: int, maxmem: int | None = None, slots: int = 0) -> MachineConfig:
    return MachineConfig(type=find_machine_type(machine), ram_size=ram, maxram_size=maxmem,
                         ram_slots=slots)


@pytest.mark.parametrize(("machine", "ram", "below", "above"), [
    ("pc", 512 * MiB, 512 * MiB, 0),
    ("pc", 0xE0000000, 0xC0000000, 0xE0000000 - 0xC0000000),
    ("pc", 0xDFFFFFFF + 1 - 8192, 0xDFFFE000, 0),
    ("q35", 0xB0000000, 0x80000000, 0x30000000),
    ("q35", 0xAFFFE000, 0xAFFFE000, 0),
    ("pc-i440fx-1.7", 0xE0000000, 0xE0000000, 0),
])
def test_split_ram(machine: str, ram: int, below: int, above: int) -> None:
    assert split_ram(_config(machine, ram)) == (below, above)


def test_dimmpxm_worked_example() -> None:
    mm = build_memory_map(_config("pc", 128 * MiB, GiB, 3))
    assert mm.device_memory_base == 0x100000000
    assert mm.device_memory_size == 0xF8000000


def test_conformance_range_message_values() -> None:
    # QEMU: usable range for memory devices [0x100000000:0x1f0000000] for 256M/4 slots/4G.
    mm = build_memory_map(_config("pc", 256 * MiB, 4 * GiB, 4))
    assert (mm.device_memory_base, mm.device_memory_size) == (0x100000000, 0x1F0000000)


@pytest.mark.parametrize(("machine", "maxmem", "message"), [
    ("pc", 2 << 40,
     "Address space limit 0xffffffffff < 0x3017fffffff phys-bits too low (40)"),
    ("pc", 1100 * GiB,
     "Address space limit 0xffffffffff < 0x2147fffffff phys-bits too low (40)"),
    ("q35", 980 * GiB,
     "Address space limit 0xffffffffff < 0x1fdffffffff phys-bits too low (40)"),
])
def test_phys_bits_limit_after_amd_relocation(machine: str, maxmem: int, message: str) -> None:
    ram = 256 * MiB if maxmem == 2 << 40 else 512 * MiB
    with pytest.raises(VnvdimmError) as info:
        build_memory_map(_config(machine, ram, maxmem, 4))
    assert info.value.message == message


def test_largest_maxmem_below_the_ht_hole_is_accepted() -> None:
    mm = build_memory_map(_config("pc", 512 * MiB, 1000 * GiB, 4))
    assert mm.above_4g_start == 4 * GiB


def test_slots_and_alignment_errors() -> None:
    with pytest.raises(VnvdimmError, match="unsupported amount of memory slots: 257"):
        build_memory_map(_config("pc", 256 * MiB, 4 * GiB, 257))
    with pytest.raises(VnvdimmError, match="must by aligned to multiple of 4096 bytes"):
        build_memory_map(_config("pc", 256 * MiB, 4 * GiB + 1, 4))
    with pytest.raises(VnvdimmError, match="is not supported by: isapc"):
        build_memory_map(_config("isapc", 256 * MiB, 2 * GiB, 4))
