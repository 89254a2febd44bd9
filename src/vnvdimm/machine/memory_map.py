"""The PC memory map: RAM below/above 4 GiB and the device-memory region.

Pure arithmetic over the machine configuration (QEMU 7.2's pc_init1 /
pc_q35_init / pc_memory_init); `vnvdimm check` uses it without mapping.
"""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError
from vnvdimm.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from vnvdimm.machine.config import MachineConfig

GiB = 1 << 30
FOUR_GIB = 4 * GiB
ACPI_MAX_RAM_SLOTS = 256
TARGET_PAGE_SIZE = 4096
AMD_HT_START = 0xFD00000000
AMD_ABOVE_1TB_START = 1 << 40
DEFAULT_PHYS_BITS = 40  # TCG's qemu64 CPU


def _round_up(value: int, align: int) -> int:
    return -(-value // align) * align


class MemoryMap(Value):
    """Guest-physical layout of a machine (all values in bytes); compared (dry-run
    against real layouts), printed and hashable as a value."""

    __slots__ = ("above_4g", "above_4g_start", "below_4g", "device_memory_base",
                 "device_memory_size", "maxram_size", "ram_size")
    _fields = ("below_4g", "above_4g", "above_4g_start", "device_memory_base",
               "device_memory_size", "maxram_size", "ram_size")

    def __init__(self, below_4g: int, above_4g: int, above_4g_start: int,
                 device_memory_base: int, device_memory_size: int, maxram_size: int,
                 ram_size: int) -> None:
        self.below_4g: Final = below_4g
        self.above_4g: Final = above_4g
        self.above_4g_start: Final = above_4g_start
        self.device_memory_base: Final = device_memory_base  # 0 without device memory
        self.device_memory_size: Final = device_memory_size
        self.maxram_size: Final = maxram_size
        self.ram_size: Final = ram_size

    @property
    def has_device_memory(self) -> bool:
        return self.device_memory_size > 0

    @property
    def device_memory_end(self) -> int:
        return self.device_memory_base + self.device_memory_size

    @property
    def reserved_memory_end(self) -> int:
        """fw_cfg `etc/reserved-memory-end`: device memory end rounded up to 1 GiB."""
        return _round_up(self.device_memory_end, GiB) if self.has_device_memory else 0

    def ram_ranges(self) -> list[tuple[int, int]]:
        """(guest address, size) of each main-RAM piece."""
        ranges = [(0, self.below_4g)]
        if self.above_4g:
            ranges.append((self.above_4g_start, self.above_4g))
        return ranges


def split_ram(config: MachineConfig) -> tuple[int, int]:
    """RAM below and above 4 GiB, per machine family (QEMU 7.2)."""
    ram = config.effective_ram_size
    family = config.type.family
    if family == "q35":
        lowmem = 0x80000000 if ram >= 0xB0000000 else 0xB0000000
        limit = config.max_ram_below_4g or FOUR_GIB
        lowmem = min(lowmem, limit)
    elif family == "pc":
        max_below = config.max_ram_below_4g or 0xE0000000
        lowmem = max_below
        if ram >= max_below and config.type.gigabyte_align:
            lowmem = min(lowmem, 0xC0000000)
    elif family == "isapc":
        lowmem = 0xE0000000
    else:  # microvm: 3 GiB below 4 GiB; none: RAM is a plain region
        lowmem = 0xC0000000 if family == "microvm" else ram
    if ram >= lowmem:
        return lowmem, ram - lowmem
    return ram, 0


def build_memory_map(config: MachineConfig, *, phys_bits: int = DEFAULT_PHYS_BITS) -> MemoryMap:
    """Lay out memory, raising QEMU's fatal board-init errors."""
    mtype = config.type
    ram = config.effective_ram_size
    maxram = config.effective_maxram_size
    below, above = split_ram(config)
    above_start = FOUR_GIB

    has_device_memory = mtype.has_reserved_memory and ram < maxram
    dm_size = 0
    if has_device_memory:
        dm_size = maxram - ram
        if mtype.enforce_aligned_dimm:
            dm_size += GiB * config.ram_slots

    def device_base(start: int) -> int:
        return _round_up(start + above, GiB) if has_device_memory else 0

    def max_used_gpa(start: int) -> int:
        if has_device_memory:
            hole64_start = _round_up(device_base(start) + dm_size, GiB)
        else:
            hole64_start = _round_up(start + above, GiB)
        return hole64_start + mtype.pci_hole64_size - 1

    if mtype.is_pc:
        # qemu64 is an AMD CPU: move RAM above 1 TiB when it would reach the HT hole.
        if mtype.enforce_amd_1tb_hole and max_used_gpa(above_start) >= AMD_HT_START:
            above_start = AMD_ABOVE_1TB_START
        max_phys = (1 << phys_bits) - 1
        used = max_used_gpa(above_start)
        if max_phys < used:
            raise VnvdimmError(
                f"Address space limit 0x{max_phys:x} < 0x{used:x} "
                f"phys-bits too low ({phys_bits})")
    if (mtype.family in ("pc", "isapc") and not mtype.has_reserved_memory
            and (config.ram_slots or maxram > ram)):
        raise VnvdimmError(f"\"-memory 'slots|maxmem'\" is not supported by: {mtype.name}")
    if has_device_memory:
        if config.ram_slots > ACPI_MAX_RAM_SLOTS:
            raise VnvdimmError(f"unsupported amount of memory slots: {config.ram_slots}")
        if maxram % TARGET_PAGE_SIZE:
            raise VnvdimmError(
                "maximum memory size must by aligned to multiple of "
                f"{TARGET_PAGE_SIZE} bytes")
    base = device_base(above_start)
    if has_device_memory and base + dm_size >= 1 << 64:
        raise VnvdimmError(f"unsupported amount of maximum memory: {maxram:x}")
    return MemoryMap(
        below_4g=below,
        above_4g=above,
        above_4g_start=above_start,
        device_memory_base=base,
        device_memory_size=dm_size,
        maxram_size=maxram,
        ram_size=ram,
    )
