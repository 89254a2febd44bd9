"""The System Resource Affinity Table as QEMU 7.2 builds it for pc/q35 (build_srat).

Emitted only when NUMA is configured (explicitly with -numa, or implicitly: QEMU
enables one node when -m has slots or maxmem).  Layout after the header: 4 bytes
reserved (= 1) and 8 reserved bytes; one processor affinity entry per possible
CPU; memory affinity entries for main RAM per node (cutting out the 640 KiB hole
and the PCI hole below 4 GiB); one entry per nvdimm (ENABLED|NON_VOLATILE, in
QOM walk order); empty entries until there are num_nodes + 2 memory entries;
finally the device-memory (hotplug) entry, proximity = last node.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from vnvdimm.acpi.header import HEADER_SIZE, AcpiTableHeader, finish_table
from vnvdimm.acpi.nfit import nvdimms_in_qom_order

if TYPE_CHECKING:
    from vnvdimm.machine.machine import Machine

SRAT_SIGNATURE = b"SRAT"
SRAT_REVISION = 1
SRAT_BODY_PREFIX = struct.pack("<IQ", 1, 0)  # "table revision" 1 (reserved) + 8 reserved
SRAT_HEADER_SIZE = HEADER_SIZE + len(SRAT_BODY_PREFIX)

TYPE_PROCESSOR_APIC = 0
TYPE_MEMORY = 1
TYPE_PROCESSOR_X2APIC = 2

MEM_AFFINITY_NOFLAGS = 0
MEM_AFFINITY_ENABLED = 1
MEM_AFFINITY_HOTPLUGGABLE = 2
MEM_AFFINITY_NON_VOLATILE = 4

HOLE_640K_START = 640 * 1024
HOLE_640K_END = 1024 * 1024
NUMA_MEM_ALIGN_SHIFT = 23  # x86: legacy RAM split across nodes in 8 MiB units


@dataclass(frozen=True)
class ProcessorApicAffinity:
    """Processor Local APIC/SAPIC Affinity structure (type 0, 16 bytes)."""

    SIZE: ClassVar[int] = 16
    FORMAT: ClassVar[str] = "<BBBBIB3sI"

    proximity_domain: int  # 32 bits, stored as [7:0] and [31:8]
    apic_id: int
    flags: int = 1  # enabled
    local_sapic_eid: int = 0
    clock_domain: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> ProcessorApicAffinity:
        stype, slen, lo, apic, flags, eid, hi, clock = struct.unpack_from(cls.FORMAT, data, 0)
        if stype != TYPE_PROCESSOR_APIC or slen != cls.SIZE:
            raise ValueError(f"not a processor APIC affinity structure: {stype}/{slen}")
        return cls(lo | int.from_bytes(hi, "little") << 8, apic, flags, eid, clock)

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_PROCESSOR_APIC, self.SIZE,
                           self.proximity_domain & 0xFF, self.apic_id, self.flags,
                           self.local_sapic_eid,
                           (self.proximity_domain >> 8).to_bytes(3, "little"),
                           self.clock_domain)


@dataclass(frozen=True)
class ProcessorX2ApicAffinity:
    """Processor Local x2APIC Affinity structure (type 2, 24 bytes), for APIC ids >= 255."""

    SIZE: ClassVar[int] = 24
    FORMAT: ClassVar[str] = "<BBHIIIII"

    proximity_domain: int
    x2apic_id: int
    flags: int = 1
    clock_domain: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> ProcessorX2ApicAffinity:
        stype, slen, _, pxm, apic, flags, clock, _ = struct.unpack_from(cls.FORMAT, data, 0)
        if stype != TYPE_PROCESSOR_X2APIC or slen != cls.SIZE:
            raise ValueError(f"not a processor x2APIC affinity structure: {stype}/{slen}")
        return cls(pxm, apic, flags, clock)

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_PROCESSOR_X2APIC, self.SIZE, 0,
                           self.proximity_domain, self.x2apic_id, self.flags,
                           self.clock_domain, 0)


@dataclass(frozen=True)
class MemoryAffinity:
    """Memory Affinity structure (type 1, 40 bytes)."""

    SIZE: ClassVar[int] = 40
    FORMAT: ClassVar[str] = "<BBIHQQIIQ"
    OFF_PROXIMITY_DOMAIN: ClassVar[int] = 2
    OFF_BASE: ClassVar[int] = 8
    OFF_LENGTH: ClassVar[int] = 16
    OFF_FLAGS: ClassVar[int] = 28

    proximity_domain: int
    base: int
    length: int
    flags: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> MemoryAffinity:
        stype, slen, pxm, _, base, length, _, flags, _ = struct.unpack_from(cls.FORMAT, data, 0)
        if stype != TYPE_MEMORY or slen != cls.SIZE:
            raise ValueError(f"not a memory affinity structure: {stype}/{slen}")
        return cls(pxm, base, length, flags)

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_MEMORY, self.SIZE, self.proximity_domain, 0,
                           self.base, self.length, 0, self.flags, 0)


SratEntry = ProcessorApicAffinity | ProcessorX2ApicAffinity | MemoryAffinity


def parse_srat(data: bytes | memoryview) -> tuple[AcpiTableHeader, list[SratEntry]]:
    header = AcpiTableHeader.from_bytes(data)
    if header.signature != SRAT_SIGNATURE:
        raise ValueError(f"not an SRAT: {header.signature!r}")
    view = memoryview(data)[: header.length]
    entries: list[SratEntry] = []
    offset = SRAT_HEADER_SIZE
    parsers: dict[int, type[ProcessorApicAffinity] | type[MemoryAffinity]
                  | type[ProcessorX2ApicAffinity]] = {
        TYPE_PROCESSOR_APIC: ProcessorApicAffinity, TYPE_MEMORY: MemoryAffinity,
        TYPE_PROCESSOR_X2APIC: ProcessorX2ApicAffinity}
    while offset + 2 <= len(view):
        stype, slen = view[offset], view[offset + 1]
        parser = parsers.get(stype)
        if parser is None or slen != parser.SIZE or offset + slen > len(view):
            raise ValueError(f"unexpected SRAT entry type {stype} length {slen} at {offset}")
        entries.append(parser.from_bytes(view[offset: offset + slen]))
        offset += slen
    return header, entries


# -- what QEMU puts in it -------------------------------------------------------------


def nvdimm_memory_affinities(machine: Machine) -> list[MemoryAffinity]:
    """nvdimm_build_srat: one ENABLED|NON_VOLATILE entry per nvdimm, QOM walk order."""
    return [MemoryAffinity(d.node, d.addr, d.memory_region_size(),
                           MEM_AFFINITY_ENABLED | MEM_AFFINITY_NON_VOLATILE)
            for d in nvdimms_in_qom_order(machine)]


def hotplug_memory_affinity(machine: Machine) -> MemoryAffinity | None:
    """The device-memory region entry (ENABLED|HOTPLUGGABLE, proximity = last node)."""
    mm = machine.memory_map
    nodes = len(machine.config.numa_nodes)
    if mm is None or not mm.has_device_memory or not nodes:
        return None
    return MemoryAffinity(nodes - 1, mm.device_memory_base, mm.device_memory_size,
                          MEM_AFFINITY_ENABLED | MEM_AFFINITY_HOTPLUGGABLE)


def node_memory_sizes(machine: Machine) -> list[int]:
    """numa_info[i].node_mem for each node, in node id order."""
    config = machine.config
    sizes: list[int] = []
    backends = {b.id: b.size for b in machine.backends()}
    for node in config.numa_nodes:
        if node.memdev is not None:
            sizes.append(backends.get(node.memdev, 0))
        else:
            sizes.append(node.mem or 0)
    if sizes and not any(sizes) and config.type.numa_mem_supported:
        ram, count = config.effective_ram_size, len(sizes)
        unit = ~((1 << NUMA_MEM_ALIGN_SHIFT) - 1)
        sizes = [(ram // count) & unit for _ in range(count - 1)]
        sizes.append(ram - sum(sizes))
    return sizes


def default_cpu_nodes(machine: Machine) -> list[tuple[int, int]]:
    """(APIC id, node) of each possible CPU for a plain `-smp N`.

    vnvdimm's MachineConfig keeps only the CPU count, so this assumes maxcpus =
    cpus, one die, one thread per core and no `-numa node,cpus=` (QEMU's
    default mapping: socket id modulo the node count).  Pass explicit pairs to
    `build_srat` for anything else."""
    config = machine.config
    nodes = max(len(config.numa_nodes), 1)
    cpus = max(config.smp_cpus, 1)
    if config.type.prefer_sockets:  # sockets = cpus: APIC id = socket id = index
        return [(i, i % nodes) for i in range(cpus)]
    return [(i, 0) for i in range(cpus)]  # one socket with `cpus` cores


def ram_memory_affinities(machine: Machine) -> list[MemoryAffinity]:
    """The per-node RAM entries, cutting out the 640K hole and the PCI hole."""
    mm = machine.memory_map
    below_4g = mm.below_4g if mm is not None else machine.config.effective_ram_size
    out: list[MemoryAffinity] = []
    next_base = 0
    for node, mem_len in enumerate(node_memory_sizes(machine)):
        mem_base = next_base
        next_base = mem_base + mem_len
        if mem_base <= HOLE_640K_START < next_base:
            mem_len -= next_base - HOLE_640K_START
            if mem_len > 0:
                out.append(MemoryAffinity(node, mem_base, mem_len, MEM_AFFINITY_ENABLED))
            if next_base <= HOLE_640K_END:  # the rare 640K < RAM < 1M case
                next_base = HOLE_640K_END
                continue
            mem_base = HOLE_640K_END
            mem_len = next_base - HOLE_640K_END
        if mem_base <= below_4g < next_base:
            mem_len -= next_base - below_4g
            if mem_len > 0:
                out.append(MemoryAffinity(node, mem_base, mem_len, MEM_AFFINITY_ENABLED))
            mem_base = 1 << 32
            mem_len = next_base - below_4g
            next_base = mem_base + mem_len
        if mem_len > 0:
            out.append(MemoryAffinity(node, mem_base, mem_len, MEM_AFFINITY_ENABLED))
    return out


def srat_emitted(machine: Machine) -> bool:
    config = machine.config
    return config.acpi and config.type.is_pc and bool(config.numa_nodes)


def srat_entries(machine: Machine,
                 cpu_nodes: Sequence[tuple[int, int]] | None = None) -> list[SratEntry]:
    entries: list[SratEntry] = []
    for apic_id, node in (cpu_nodes if cpu_nodes is not None else default_cpu_nodes(machine)):
        if apic_id < 255:
            entries.append(ProcessorApicAffinity(node, apic_id))
        else:
            entries.append(ProcessorX2ApicAffinity(node, apic_id))
    memory: list[MemoryAffinity] = ram_memory_affinities(machine)
    if machine.config.nvdimm:
        memory.extend(nvdimm_memory_affinities(machine))
    while len(memory) < len(machine.config.numa_nodes) + 2:
        memory.append(MemoryAffinity(0, 0, 0, MEM_AFFINITY_NOFLAGS))
    entries.extend(memory)
    hotplug = hotplug_memory_affinity(machine)
    if hotplug is not None:
        entries.append(hotplug)
    return entries


def build_srat(machine: Machine,
               cpu_nodes: Sequence[tuple[int, int]] | None = None) -> bytes | None:
    """The whole SRAT, or None when QEMU builds none (no NUMA nodes, or ACPI off)."""
    if not srat_emitted(machine):
        return None
    body = SRAT_BODY_PREFIX + b"".join(e.to_bytes() for e in srat_entries(machine, cpu_nodes))
    return finish_table(SRAT_SIGNATURE, SRAT_REVISION, machine.config.oem_id,
                        machine.config.oem_table_id, body)


__all__ = [
    "MemoryAffinity", "ProcessorApicAffinity", "ProcessorX2ApicAffinity", "SratEntry",
    "build_srat", "hotplug_memory_affinity", "nvdimm_memory_affinities", "parse_srat",
    "srat_entries",
]
