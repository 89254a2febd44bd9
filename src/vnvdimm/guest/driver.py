"""A model of a guest's NVDIMM driver stack (Linux nfit + libnvdimm, seen through ndctl).

It uses only what a guest can use: the ACPI tables the firmware hands over,
guest-physical memory (the DSM page at the SSDT's MEMA) and the DSM I/O port.
It parses the NFIT into DIMMs and regions the way Linux numbers them, reads
and writes label areas with the ACPI label methods (_LSI/_LSR/_LSW, i.e. DSM
functions 4/5/6 in max_xfer pieces), re-reads the FIT with _FIT's restart
loop after a hotplug notification, and reports what `ndctl list -DRN` prints.

Namespaces: a region whose DIMM has no valid namespace index (no label area,
or one never initialised) gets the one full-size raw namespace Linux creates
("namespace<R>.0", block device "pmem<R>").  Decoding labelled namespaces is
the label layer's job; such regions report their label state and cookies only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vnvdimm.acpi import dsm
from vnvdimm.acpi.nfit import (
    MEMDEV_FLAG_NOT_ARMED,
    PERSISTENT_MEMORY_GUID,
    ControlRegion,
    MemDevMap,
    NfitStructure,
    PlatformCapabilities,
    SpaRange,
    parse_fit,
    parse_nfit,
)
from vnvdimm.guest.cookies import InterleaveSetCookies, fletcher64, interleave_set_cookies
from vnvdimm.guest.sysfs_order import ndctl_order

if TYPE_CHECKING:
    from vnvdimm.acpi.state import NvdimmAcpiState
    from vnvdimm.machine.machine import Machine

# Linux's default region alignment (MEMREMAP_COMPAT_ALIGN_MAX on x86), 4 KiB below that size
REGION_ALIGN = 16 << 20
PAGE_SIZE = 4096
SECTOR_SIZE = 512

# memdev state flags -> ndctl's JSON flag names, in ndctl's print order
_DIMM_FLAGS = (
    (0x1, "flag_failed_save"),
    (MEMDEV_FLAG_NOT_ARMED, "flag_failed_arm"),
    (0x2, "flag_failed_restore"),
    (0x4, "flag_failed_flush"),
    (0x10, "flag_smart_event"),
)

NSINDEX_SIGNATURE = b"NAMESPACE_INDEX\0"
NSINDEX_OFF_SEQ = 20
NSINDEX_OFF_MYOFF = 24
NSINDEX_OFF_MYSIZE = 32
NSINDEX_OFF_MAJOR = 60
NSINDEX_OFF_CHECKSUM = 64
NSINDEX_HEADER = 72


class DsmError(Exception):
    """A DSM call answered with a non-zero status."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: DSM status 0x{status:x}")
        self.status = status


@dataclass
class GuestDimm:
    """One nmemN: a memdev + control region pair from the NFIT."""

    dev: str
    handle: int
    phys_id: int
    memdev: MemDevMap
    dcr: ControlRegion
    label_size: int = 0  # 0: no label methods / no label area
    max_xfer: int = 0
    index_minor: int | None = None  # minor version of a valid namespace index, if any

    @property
    def id(self) -> str:
        """sysfs nfit/id: vendor and serial printed big-endian (`%04x-%08x`)."""
        vendor = int.from_bytes(self.dcr.vendor_id.to_bytes(2, "little"), "big")
        serial = int.from_bytes(self.dcr.serial_number.to_bytes(4, "little"), "big")
        return f"{vendor:04x}-{serial:08x}"

    @property
    def labeling(self) -> bool:
        return self.index_minor is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dev": self.dev, "id": self.id, "handle": self.handle,
                               "phys_id": self.phys_id}
        for bit, name in _DIMM_FLAGS:
            if self.memdev.flags & bit:
                out[name] = True
        return out


@dataclass
class GuestRegion:
    """One regionN: a persistent-memory SPA range and its DIMM mappings."""

    dev: str
    index: int
    spa: SpaRange
    mappings: list[tuple[GuestDimm, MemDevMap]]
    persistence_domain: str
    cookies: InterleaveSetCookies

    @property
    def size(self) -> int:
        return self.spa.length

    @property
    def align(self) -> int:
        return REGION_ALIGN if self.size >= REGION_ALIGN else PAGE_SIZE

    @property
    def labeling(self) -> bool:
        """nd_region_to_nstype: PMEM (labelled) if any DIMM has a valid index, else IO."""
        return any(d.labeling for d, _ in self.mappings)

    @property
    def set_cookie(self) -> int:
        """sysfs regionN/set_cookie (and ndctl's iset_id for a labelled region).

        With a label area the cookie follows the index version (v1.1: cookie1, else
        cookie2, also when no valid index exists yet); a region of DIMMs without a
        label area shows cookie1.  Both checked against Linux 6.1."""
        dimm = self.mappings[0][0] if self.mappings else None
        if dimm is None or not dimm.label_size:
            return self.cookies.cookie1
        return self.cookies.cookie1 if dimm.index_minor == 1 else self.cookies.cookie2

    @property
    def iset_id(self) -> int:
        return self.set_cookie

    def namespaces(self) -> list[dict[str, Any]]:
        if self.labeling:
            return []  # labelled namespaces: decoded by the label layer
        return [{"dev": f"namespace{self.index}.0", "mode": "raw", "size": self.size,
                 "sector_size": SECTOR_SIZE, "blockdev": f"pmem{self.index}"}]

    def to_json(self, *, namespaces: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"dev": self.dev, "size": self.size, "align": self.align,
                               "available_size": 0, "max_available_extent": 0,
                               "type": "pmem"}
        if self.labeling:
            out["iset_id"] = self.iset_id
        out["mappings"] = [{"dimm": d.dev, "offset": m.region_dpa, "length": m.region_size,
                            "position": m.interleave_index} for d, m in self.mappings]
        out["persistence_domain"] = self.persistence_domain
        if namespaces:
            found = self.namespaces()
            if found:
                out["namespaces"] = found
        return out


@dataclass
class GuestView:
    """What the guest knows: DIMMs and regions, numbered as Linux numbers them."""

    dimms: list[GuestDimm] = field(default_factory=list)
    regions: list[GuestRegion] = field(default_factory=list)
    structures: list[NfitStructure] = field(default_factory=list)

    def ndctl_list(self, *, dimms: bool = False, regions: bool = False,
                   namespaces: bool = False) -> Any:
        """`ndctl list` with -D/-R/-N: the JSON value ndctl prints."""
        by_dimm = {d.dev: d for d in self.dimms}
        by_region = {r.dev: r for r in self.regions}
        dimm_json = [by_dimm[n].to_json() for n in ndctl_order(by_dimm)]
        ordered_regions = [by_region[n] for n in ndctl_order(by_region)]
        if regions:
            region_json = [r.to_json(namespaces=namespaces) for r in ordered_regions]
            if dimms:
                return {"dimms": dimm_json, "regions": region_json}
            return region_json
        if namespaces:
            ns = [n for r in ordered_regions for n in r.namespaces()]
            if dimms:
                return {"dimms": dimm_json, "namespaces": ns}
            return ns
        return dimm_json


class GuestDriver:
    """The guest side: AML's NCAL over the DSM page, then Linux's NFIT bookkeeping."""

    def __init__(self, machine: Machine, acpi: NvdimmAcpiState) -> None:
        self.machine = machine
        self.acpi = acpi
        self.mema = acpi.dsm_address  # the SSDT's MEMA as the BIOS patched it
        self.view = GuestView()
        self._handles: set[int] = set()
        self._spa_indices: set[int] = set()

    # -- AML: NCAL, _LSI/_LSR/_LSW, RFIT/_FIT -----------------------------------------

    def call_dsm(self, handle: int, revision: int, function: int,
                 arg3: bytes | None = None) -> bytes:
        """NCAL: fill the page, `out` its address to the port, return ODAT[:RLEN-4]."""
        page = self.mema
        self.machine.write(page, struct.pack("<III", handle, revision, function))
        if arg3 is not None:  # Store(Buffer, FARG) zero-fills the rest of the field
            if len(arg3) > dsm.ARG3_SIZE:
                raise ValueError(f"Arg3 is at most {dsm.ARG3_SIZE} bytes")
            self.machine.write(page + dsm.OFF_ARG3, arg3.ljust(dsm.ARG3_SIZE, b"\0"))
        self.machine.io_write(dsm.DSM_PORT, 4, page)
        (rlen,) = struct.unpack("<I", self.machine.read(page, 4))
        return self.machine.read(page + dsm.OFF_PAYLOAD, max(rlen - 4, 0))

    @staticmethod
    def _status(payload: bytes) -> int:
        return int.from_bytes(payload[:4].ljust(4, b"\0"), "little")

    def label_info(self, handle: int) -> tuple[int, int, int]:
        """_LSI: (status, label size, max_xfer)."""
        reply = self.call_dsm(handle, 1, dsm.FUNC_GET_LABEL_SIZE, b"")
        status = self._status(reply)
        if status or len(reply) < 12:
            return status, 0, 0
        _, size, max_xfer = struct.unpack_from("<III", reply)
        return status, size, max_xfer

    def read_label(self, handle: int, offset: int, length: int) -> bytes:
        """_LSR(offset, length) for one piece of at most max_xfer bytes."""
        reply = self.call_dsm(handle, 1, dsm.FUNC_GET_LABEL_DATA,
                              struct.pack("<II", offset, length))
        status = self._status(reply)
        if status:
            raise DsmError(f"_LSR(0x{offset:x}, 0x{length:x}) on handle {handle}", status)
        return reply[4:]

    def write_label(self, handle: int, offset: int, data: bytes) -> None:
        """_LSW(offset, length, data) for one piece of at most max_xfer bytes."""
        reply = self.call_dsm(handle, 1, dsm.FUNC_SET_LABEL_DATA,
                              struct.pack("<II", offset, len(data)) + data)
        status = self._status(reply)
        if status:
            raise DsmError(f"_LSW(0x{offset:x}, 0x{len(data):x}) on handle {handle}", status)

    def read_label_area(self, handle: int, offset: int = 0, length: int | None = None) -> bytes:
        """Read [offset, offset+length) of the label area in max_xfer pieces."""
        status, size, max_xfer = self.label_info(handle)
        if status or not max_xfer:
            raise DsmError(f"_LSI on handle {handle}", status or dsm.STATUS_NOT_SUPPORTED)
        end = size if length is None else offset + length
        out = bytearray()
        while offset < end:
            n = min(max_xfer, end - offset)
            out += self.read_label(handle, offset, n)
            offset += n
        return bytes(out)

    def write_label_area(self, handle: int, offset: int, data: bytes) -> None:
        status, _, max_xfer = self.label_info(handle)
        if status or not max_xfer:
            raise DsmError(f"_LSI on handle {handle}", status or dsm.STATUS_NOT_SUPPORTED)
        for start in range(0, len(data), max_xfer):
            self.write_label(handle, offset + start, data[start: start + max_xfer])

    def read_fit(self) -> bytes:
        """_FIT: RFIT from offset 0 until an empty piece; restart on status 0x100."""
        buffer = b""
        offset = 0
        while True:
            reply = self.call_dsm(dsm.HANDLE_QEMU_RESERVED_ROOT, 1, dsm.FUNC_READ_FIT,
                                  struct.pack("<I", offset))
            status = self._status(reply)
            if status == dsm.STATUS_FIT_CHANGED:
                buffer, offset = b"", 0
                continue
            piece = reply[4:] if status == dsm.STATUS_SUCCESS else b""
            if not piece:
                return buffer
            offset += len(piece)
            buffer += piece

    # -- Linux's NFIT driver -------------------------------------------------------------

    def probe(self) -> GuestView:
        """Boot: parse the firmware's NFIT (none: no NVDIMM bus) and register everything."""
        table = self.acpi.firmware_tables().get("NFIT")
        self.view = GuestView()
        self._handles.clear()
        self._spa_indices.clear()
        if table is not None:
            self._register(list(parse_nfit(table).structures))
        return self.view

    def handle_notification(self) -> GuestView:
        """The SCI for GPE0 bit 4 (_E04: Notify(NVDR, 0x80)): re-read _FIT and add what is new."""
        if self.acpi.take_gpe0_status():
            self._register(parse_fit(self.read_fit()))
        return self.view

    def _register(self, structures: list[NfitStructure]) -> None:
        self.view.structures = structures
        spas = [s for s in structures if isinstance(s, SpaRange)
                and s.range_guid == PERSISTENT_MEMORY_GUID]
        memdevs = [s for s in structures if isinstance(s, MemDevMap)]
        dcrs = {s.region_index: s for s in structures if isinstance(s, ControlRegion)}
        caps = next((s for s in structures if isinstance(s, PlatformCapabilities)), None)
        # acpi_nfit_register_dimms: sorted by handle, new ones numbered after the old
        by_handle = {d.handle: d for d in self.view.dimms}
        for memdev in sorted(memdevs, key=lambda m: m.handle):
            if memdev.handle in by_handle or memdev.region_index not in dcrs:
                continue
            dimm = GuestDimm(f"nmem{len(self.view.dimms)}", memdev.handle, memdev.physical_id,
                             memdev, dcrs[memdev.region_index])
            self._probe_labels(dimm)
            self.view.dimms.append(dimm)
            by_handle[memdev.handle] = dimm
        domain = _persistence_domain(caps)
        for spa in spas:  # acpi_nfit_register_regions: NFIT order
            if spa.range_index in self._spa_indices:
                continue
            pairs = [(by_handle[m.handle], m) for m in memdevs
                     if m.range_index == spa.range_index and m.handle in by_handle]
            if not pairs:
                continue
            self._spa_indices.add(spa.range_index)
            index = len(self.view.regions)
            cookies = interleave_set_cookies([(m, d.dcr) for d, m in pairs])
            self.view.regions.append(GuestRegion(f"region{index}", index, spa, pairs, domain,
                                                 cookies))

    def _probe_labels(self, dimm: GuestDimm) -> None:
        """nvdimm_probe: _LSI, then the index blocks (a valid one enables labelling)."""
        query = self.call_dsm(dimm.handle, 1, dsm.FUNC_QUERY, b"")
        if not self._status(query) & (1 << dsm.FUNC_GET_LABEL_SIZE):
            return
        status, size, max_xfer = self.label_info(dimm.handle)
        if status or not size or not max_xfer:
            return
        dimm.label_size, dimm.max_xfer = size, max_xfer
        head = self.read_label_area(dimm.handle, 0, min(size, 2 * 4096))
        dimm.index_minor = valid_index_minor(head, size)


def index_size(config_size: int, label_size: int) -> int:
    """sizeof_namespace_index for a label area of config_size and a label size."""
    def idx(nslot: int) -> int:
        return -(-(NSINDEX_HEADER + -(-nslot // 8)) // 256) * 256

    nslot = (config_size - 2 * idx(config_size // label_size)) // label_size
    return idx(max(nslot, 0))


def valid_index_minor(area: bytes, config_size: int) -> int | None:
    """nd_label_validate: the minor version of a valid namespace index block, or None.

    Like Linux it tries 256-byte then 128-byte labels, and both index blocks."""
    for label_size in (256, 128):
        size = index_size(config_size, label_size)
        for block in range(2):
            minor = _index_block_minor(area, block * size, size)
            if minor is not None:
                return minor
    return None


def _index_block_minor(area: bytes, start: int, size: int) -> int | None:
    if start + size > len(area):
        return None
    data = area[start: start + size]
    if data[:16] != NSINDEX_SIGNATURE:
        return None
    seq, myoff, mysize = struct.unpack_from("<IQQ", data, NSINDEX_OFF_SEQ)
    if not seq & 3 or myoff != start or mysize != size:
        return None
    major, minor = struct.unpack_from("<HH", data, NSINDEX_OFF_MAJOR)
    (stored,) = struct.unpack_from("<Q", data, NSINDEX_OFF_CHECKSUM)
    zeroed = data[:NSINDEX_OFF_CHECKSUM] + bytes(8) + data[NSINDEX_OFF_CHECKSUM + 8:]
    if major != 1 or minor not in (1, 2) or fletcher64(zeroed) != stored:
        return None
    return int(minor)


def _persistence_domain(caps: PlatformCapabilities | None) -> str:
    if caps is None:
        return "unknown"
    value = caps.capabilities & ((1 << (caps.highest_capability + 1)) - 1)
    if value & 0x1:
        return "cpu_cache"
    if value & 0x2:
        return "memory_controller"
    return "unknown"
