"""The NVDIMM Firmware Interface Table exactly as QEMU 7.2 builds it (hw/acpi/nvdimm.c).

For each nvdimm, in QEMU's QOM walk order, one System Physical Address (SPA)
Range structure, one Memory Device to SPA Range Map (MemDev) structure and one
NVDIMM Control Region (DCR) structure; then, iff `nvdimm-persistence` is set,
one Platform Capabilities structure.  The identities derive from the slot:
handle = slot + 1, SPA index = (slot + 1) << 1, DCR index = SPA index + 1,
serial = 0x123456 + slot.

The structures without the table header are the "FIT buffer" that the guest
can re-read through the QEMU-reserved Read FIT DSM function after a hotplug.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from vnvdimm.acpi.header import HEADER_SIZE, AcpiTableHeader, finish_table
from vnvdimm.devices.pc_dimm import NVDimm

if TYPE_CHECKING:
    from vnvdimm.machine.machine import Machine

NFIT_SIGNATURE = b"NFIT"
NFIT_REVISION = 1
NFIT_HEADER_SIZE = HEADER_SIZE + 4  # standard header + 4 reserved bytes

# Structure types (ACPI 6.x table 5-131)
TYPE_SPA = 0
TYPE_MEMDEV = 1
TYPE_DCR = 4
TYPE_PLATFORM_CAPS = 7

# The persistent-memory range type GUID 66F0D379-B4F3-4074-AC43-0D3318B78CDB
PERSISTENT_MEMORY_GUID = uuid.UUID("66f0d379-b4f3-4074-ac43-0d3318b78cdb")

SPA_FLAG_CONTROL_REGION_FOR_HOTPLUG = 0x1
SPA_FLAG_PROXIMITY_VALID = 0x2
EFI_MEMORY_WB = 0x8
EFI_MEMORY_NV = 0x8000
MEMDEV_FLAG_NOT_ARMED = 0x8
DCR_VENDOR_INTEL = 0x8086
DCR_DEVICE_ID = 1
DCR_REVISION_ID = 1
DCR_FORMAT_BYTE_ADDRESSABLE = 0x0301  # byte addressable, no energy backing
DCR_SERIAL_BASE = 0x123456
CAPS_CPU_CACHE_FLUSH = 0x1
CAPS_MEM_CTRL_FLUSH = 0x2


def slot_to_handle(slot: int) -> int:
    """NFIT device handle (also the NVxx device's _ADR); 0 is the root device."""
    return slot + 1


def slot_to_spa_index(slot: int) -> int:
    return (slot + 1) << 1


def slot_to_dcr_index(slot: int) -> int:
    return slot_to_spa_index(slot) + 1


def slot_to_serial(slot: int) -> int:
    return DCR_SERIAL_BASE + slot


def _check(data: bytes | bytearray | memoryview, kind: int, size: int, name: str) -> None:
    if len(data) < size:
        raise ValueError(f"{name} needs {size} bytes, got {len(data)}")
    stype, slen = struct.unpack_from("<HH", data, 0)
    if stype != kind or slen != size:
        raise ValueError(f"not a {name}: type {stype}, length {slen}")


@dataclass(frozen=True)
class SpaRange:
    """System Physical Address Range structure (type 0, 56 bytes)."""

    SIZE: ClassVar[int] = 56
    FORMAT: ClassVar[str] = "<HHHHII16sQQQ"
    OFF_RANGE_INDEX: ClassVar[int] = 4
    OFF_FLAGS: ClassVar[int] = 6
    OFF_PROXIMITY_DOMAIN: ClassVar[int] = 12
    OFF_RANGE_GUID: ClassVar[int] = 16
    OFF_ADDRESS: ClassVar[int] = 32
    OFF_LENGTH: ClassVar[int] = 40
    OFF_MEMORY_ATTRIBUTES: ClassVar[int] = 48

    range_index: int
    flags: int
    proximity_domain: int
    range_guid: uuid.UUID
    address: int
    length: int
    memory_attributes: int
    reserved: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> SpaRange:
        _check(data, TYPE_SPA, cls.SIZE, "SPA range structure")
        (_, _, index, flags, reserved, pxm, guid, addr, length,
         attrs) = struct.unpack_from(cls.FORMAT, data, 0)
        return cls(index, flags, pxm, uuid.UUID(bytes_le=guid), addr, length, attrs, reserved)

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_SPA, self.SIZE, self.range_index, self.flags,
                           self.reserved, self.proximity_domain, self.range_guid.bytes_le,
                           self.address, self.length, self.memory_attributes)


@dataclass(frozen=True)
class MemDevMap:
    """Memory Device to System Physical Address Range Map structure (type 1, 48 bytes)."""

    SIZE: ClassVar[int] = 48
    FORMAT: ClassVar[str] = "<HHIHHHHQQQHHHH"
    OFF_HANDLE: ClassVar[int] = 4
    OFF_RANGE_INDEX: ClassVar[int] = 12
    OFF_REGION_INDEX: ClassVar[int] = 14
    OFF_REGION_SIZE: ClassVar[int] = 16
    OFF_FLAGS: ClassVar[int] = 44

    handle: int
    physical_id: int
    region_id: int
    range_index: int  # the SPA range structure's index
    region_index: int  # the control region (DCR) structure's index
    region_size: int
    region_offset: int
    region_dpa: int
    interleave_index: int
    interleave_ways: int
    flags: int
    reserved: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> MemDevMap:
        _check(data, TYPE_MEMDEV, cls.SIZE, "memory device map structure")
        fields = struct.unpack_from(cls.FORMAT, data, 0)
        return cls(*fields[2:])

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_MEMDEV, self.SIZE, self.handle, self.physical_id,
                           self.region_id, self.range_index, self.region_index,
                           self.region_size, self.region_offset, self.region_dpa,
                           self.interleave_index, self.interleave_ways, self.flags,
                           self.reserved)


@dataclass(frozen=True)
class ControlRegion:
    """NVDIMM Control Region structure (type 4, 80 bytes).

    QEMU writes the six bytes at offset 18 as "reserved" zeros; ACPI 6.1 names
    them valid_fields, manufacturing_location and manufacturing_date."""

    SIZE: ClassVar[int] = 80
    FORMAT: ClassVar[str] = "<HHHHHHHHHBBHHIHHQQQQQH6s"
    OFF_REGION_INDEX: ClassVar[int] = 4
    OFF_VENDOR_ID: ClassVar[int] = 6
    OFF_VALID_FIELDS: ClassVar[int] = 18
    OFF_SERIAL_NUMBER: ClassVar[int] = 24
    OFF_CODE: ClassVar[int] = 28

    region_index: int
    vendor_id: int
    device_id: int
    revision_id: int
    subsystem_vendor_id: int
    subsystem_device_id: int
    subsystem_revision_id: int
    valid_fields: int
    manufacturing_location: int
    manufacturing_date: int
    reserved: int
    serial_number: int
    code: int
    windows: int
    window_size: int
    command_offset: int
    command_size: int
    status_offset: int
    status_size: int
    flags: int
    reserved1: bytes = bytes(6)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> ControlRegion:
        _check(data, TYPE_DCR, cls.SIZE, "control region structure")
        fields = struct.unpack_from(cls.FORMAT, data, 0)
        return cls(*fields[2:])

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_DCR, self.SIZE, self.region_index, self.vendor_id,
                           self.device_id, self.revision_id, self.subsystem_vendor_id,
                           self.subsystem_device_id, self.subsystem_revision_id,
                           self.valid_fields, self.manufacturing_location,
                           self.manufacturing_date, self.reserved, self.serial_number,
                           self.code, self.windows, self.window_size, self.command_offset,
                           self.command_size, self.status_offset, self.status_size,
                           self.flags, self.reserved1)


@dataclass(frozen=True)
class PlatformCapabilities:
    """Platform Capabilities structure (type 7, 16 bytes)."""

    SIZE: ClassVar[int] = 16
    FORMAT: ClassVar[str] = "<HHB3sII"
    OFF_HIGHEST_CAPABILITY: ClassVar[int] = 4
    OFF_CAPABILITIES: ClassVar[int] = 8

    highest_capability: int
    capabilities: int
    reserved: bytes = bytes(3)
    reserved1: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> PlatformCapabilities:
        _check(data, TYPE_PLATFORM_CAPS, cls.SIZE, "platform capabilities structure")
        _, _, highest, reserved, caps, reserved1 = struct.unpack_from(cls.FORMAT, data, 0)
        return cls(highest, caps, reserved, reserved1)

    def to_bytes(self) -> bytes:
        return struct.pack(self.FORMAT, TYPE_PLATFORM_CAPS, self.SIZE, self.highest_capability,
                           self.reserved, self.capabilities, self.reserved1)

    @classmethod
    def for_persistence(cls, persistence: int) -> PlatformCapabilities:
        """QEMU: highest valid bit = 31 - clz32(caps), i.e. 1 for both 2 and 3."""
        return cls(persistence.bit_length() - 1, persistence)


@dataclass(frozen=True)
class UnknownStructure:
    """A structure type QEMU never emits, kept verbatim (type, length, body)."""

    type: int
    data: bytes  # the whole structure including its 4-byte type/length prefix

    def to_bytes(self) -> bytes:
        return self.data


NfitStructure = SpaRange | MemDevMap | ControlRegion | PlatformCapabilities | UnknownStructure

_PARSERS: dict[int, type[SpaRange] | type[MemDevMap] | type[ControlRegion]
               | type[PlatformCapabilities]] = {
    TYPE_SPA: SpaRange, TYPE_MEMDEV: MemDevMap, TYPE_DCR: ControlRegion,
    TYPE_PLATFORM_CAPS: PlatformCapabilities,
}


@dataclass(frozen=True)
class Nfit:
    """A whole NFIT: header, the 4 reserved bytes and the structures."""

    header: AcpiTableHeader
    structures: tuple[NfitStructure, ...]
    reserved: int = 0

    def to_bytes(self) -> bytes:
        return self.header.to_bytes() + struct.pack("<I", self.reserved) + encode_fit(
            self.structures)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Nfit:
        return parse_nfit(data)


def parse_fit(data: bytes | bytearray | memoryview) -> list[NfitStructure]:
    """Split a FIT buffer (NFIT structures without the table header) into values."""
    out: list[NfitStructure] = []
    view = memoryview(data).cast("B")
    offset = 0
    while offset < len(view):
        if len(view) - offset < 4:
            raise ValueError(f"truncated NFIT structure header at offset {offset}")
        stype, slen = struct.unpack_from("<HH", view, offset)
        if slen < 4 or offset + slen > len(view):
            raise ValueError(f"bad NFIT structure length {slen} at offset {offset}")
        chunk = view[offset: offset + slen]
        parser = _PARSERS.get(stype)
        if parser is not None and slen == parser.SIZE:
            out.append(parser.from_bytes(chunk))
        else:
            out.append(UnknownStructure(stype, bytes(chunk)))
        offset += slen
    return out


def parse_nfit(data: bytes | bytearray | memoryview) -> Nfit:
    header = AcpiTableHeader.from_bytes(data)
    if header.signature != NFIT_SIGNATURE:
        raise ValueError(f"not an NFIT: signature {header.signature!r}")
    if header.length > len(data) or header.length < NFIT_HEADER_SIZE:
        raise ValueError(f"NFIT length {header.length} does not fit {len(data)} bytes")
    (reserved,) = struct.unpack_from("<I", data, HEADER_SIZE)
    body = memoryview(data)[NFIT_HEADER_SIZE: header.length]
    return Nfit(header, tuple(parse_fit(body)), reserved)


def encode_fit(structures: Iterable[NfitStructure]) -> bytes:
    return b"".join(s.to_bytes() for s in structures)


# -- building it from a machine ------------------------------------------------------


def nvdimms_in_qom_order(machine: Machine) -> list[NVDimm]:
    """nvdimm_get_device_list(): every realized nvdimm met walking /machine."""
    return [d for d in machine.devices_in_qom_order() if isinstance(d, NVDimm) and d.realized]


def device_structures(device: NVDimm) -> tuple[SpaRange, MemDevMap, ControlRegion]:
    """The three structures QEMU emits for one nvdimm."""
    slot = device.slot
    size = device.memory_region_size()
    spa = SpaRange(
        range_index=slot_to_spa_index(slot),
        flags=SPA_FLAG_CONTROL_REGION_FOR_HOTPLUG | SPA_FLAG_PROXIMITY_VALID,
        proximity_domain=device.node,
        range_guid=PERSISTENT_MEMORY_GUID,
        address=device.addr,
        length=size,
        memory_attributes=EFI_MEMORY_WB | EFI_MEMORY_NV,
    )
    memdev = MemDevMap(
        handle=slot_to_handle(slot), physical_id=0, region_id=0,
        range_index=slot_to_spa_index(slot), region_index=slot_to_dcr_index(slot),
        region_size=size, region_offset=0, region_dpa=0, interleave_index=0,
        interleave_ways=1, flags=MEMDEV_FLAG_NOT_ARMED if device.unarmed else 0,
    )
    dcr = ControlRegion(
        region_index=slot_to_dcr_index(slot), vendor_id=DCR_VENDOR_INTEL,
        device_id=DCR_DEVICE_ID, revision_id=DCR_REVISION_ID, subsystem_vendor_id=0,
        subsystem_device_id=0, subsystem_revision_id=0, valid_fields=0,
        manufacturing_location=0, manufacturing_date=0, reserved=0,
        serial_number=slot_to_serial(slot), code=DCR_FORMAT_BYTE_ADDRESSABLE, windows=0,
        window_size=0, command_offset=0, command_size=0, status_offset=0, status_size=0,
        flags=0,
    )
    return spa, memdev, dcr


def fit_structures(devices: Sequence[NVDimm], persistence: int) -> list[NfitStructure]:
    """nvdimm_build_device_structure: per device SPA, MemDev, DCR; then the caps."""
    out: list[NfitStructure] = []
    for device in devices:
        out.extend(device_structures(device))
    if persistence:
        out.append(PlatformCapabilities.for_persistence(persistence))
    return out


def build_fit(machine: Machine) -> bytes:
    """The FIT buffer for the machine as it is now."""
    return encode_fit(fit_structures(nvdimms_in_qom_order(machine),
                                     machine.config.nvdimm_persistence))


def nfit_table(fit: bytes, oem_id: str, oem_table_id: str) -> bytes:
    """The NFIT: standard header, 4 reserved bytes, the FIT buffer; checksummed."""
    return finish_table(NFIT_SIGNATURE, NFIT_REVISION, oem_id, oem_table_id,
                        bytes(4) + fit)


def nfit_emitted(machine: Machine) -> bool:
    """QEMU adds an NFIT iff ACPI is built, nvdimm=on, slots > 0 and an nvdimm exists."""
    config = machine.config
    return (config.acpi and config.type.is_pc and config.nvdimm and config.ram_slots > 0
            and bool(nvdimms_in_qom_order(machine)))


def build_nfit(machine: Machine) -> bytes | None:
    """The complete NFIT as the guest sees it, or None when QEMU emits none."""
    if not nfit_emitted(machine):
        return None
    return nfit_table(build_fit(machine), machine.config.oem_id, machine.config.oem_table_id)


__all__ = [
    "ControlRegion", "MemDevMap", "Nfit", "NfitStructure", "PlatformCapabilities", "SpaRange",
    "UnknownStructure", "build_fit", "build_nfit", "device_structures", "encode_fit",
    "fit_structures", "nfit_emitted", "nfit_table", "nvdimms_in_qom_order", "parse_fit",
    "parse_nfit",
]
