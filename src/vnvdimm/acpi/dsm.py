"""The NVDIMM _DSM protocol at the byte level, as QEMU 7.2 implements it.

Transport: the guest's AML (NCAL in the NVDIMM SSDT) fills a 4 KiB page of
guest RAM (the BIOS-allocated `etc/acpi/nvdimm-mem` blob, whose address is
the SSDT's MEMA) with a request, then writes that page's guest-physical
address to I/O port 0x0A18 with a 4-byte `out`.  The host copies the whole
page first (a guest may change it while the call runs), parses it, and writes
the reply over the start of the same page; the AML then returns the reply's
payload (without its length field) to the OS.

    request  (little-endian)          reply
    0x000 u32 handle                  0x000 u32 len   (bytes written, incl. itself)
    0x004 u32 revision                0x004 ...       payload (status u32 first)
    0x008 u32 function
    0x00C ... Arg3 payload (4084 bytes)

Handles: 0 = the root NVDIMM device, 1..0xFFFF = slot + 1, 0x10000 = QEMU's
reserved root methods (function 1 = Read FIT).  Status codes are below.

Deliberate differences from QEMU 7.2, where QEMU would crash or fault:
a zero-length label read/write passes QEMU's validation and then trips an
assertion (abort); vnvdimm answers Invalid Input (3).  A label write on a
read-only backend makes QEMU 7.2 write into a read-only mapping (SIGSEGV);
vnvdimm answers Not Supported (1), as newer QEMU does.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from vnvdimm.devices.pc_dimm import NVDimm

DSM_PORT = 0x0A18
DSM_PORT_SIZE = 4  # the only valid access size
DSM_PAGE_SIZE = 4096

HANDLE_ROOT = 0
HANDLE_QEMU_RESERVED_ROOT = 0x10000
DSM_REVISION = 1

# The request page
OFF_HANDLE = 0x000
OFF_REVISION = 0x004
OFF_FUNCTION = 0x008
OFF_ARG3 = 0x00C
ARG3_SIZE = DSM_PAGE_SIZE - OFF_ARG3  # 4084
# The reply page
OFF_LEN = 0x000
OFF_PAYLOAD = 0x004
REPLY_HEADER_SIZE = 8  # len + status

# Status codes
STATUS_SUCCESS = 0
STATUS_NOT_SUPPORTED = 1
STATUS_NO_MEMORY_DEVICE = 2
STATUS_INVALID_INPUT = 3
STATUS_FIT_CHANGED = 0x100

# Function numbers
FUNC_QUERY = 0  # "which functions are supported": a bit mask
FUNC_READ_FIT = 1  # on HANDLE_QEMU_RESERVED_ROOT
FUNC_GET_LABEL_SIZE = 4
FUNC_GET_LABEL_DATA = 5
FUNC_SET_LABEL_DATA = 6

RESERVED_ROOT_MASK = 0x1 | 1 << FUNC_READ_FIT
DEVICE_LABEL_MASK = 0x1 | 1 << 4 | 1 << 5 | 1 << 6  # 0x71

# nvdimm_get_max_xfer_label_size(): min(get reply room, set request room)
MAX_XFER = min(DSM_PAGE_SIZE - REPLY_HEADER_SIZE, DSM_PAGE_SIZE - OFF_ARG3 - 8)  # 4076
READ_FIT_MAX = DSM_PAGE_SIZE - REPLY_HEADER_SIZE  # 4088 FIT bytes per Read FIT call

_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class DsmRequest:
    """The request page (4096 bytes): handle, revision, function, Arg3 payload."""

    SIZE: ClassVar[int] = DSM_PAGE_SIZE

    handle: int
    revision: int
    function: int
    arg3: bytes = b""  # up to 4084 bytes; the rest of the page is zero on to_bytes

    @classmethod
    def from_bytes(cls, page: bytes | bytearray | memoryview) -> DsmRequest:
        if len(page) < cls.SIZE:
            raise ValueError(f"a DSM request page is {cls.SIZE} bytes, got {len(page)}")
        handle, revision, function = struct.unpack_from("<III", page, OFF_HANDLE)
        return cls(handle, revision, function, bytes(page[OFF_ARG3: cls.SIZE]))

    def to_bytes(self) -> bytes:
        if len(self.arg3) > ARG3_SIZE:
            raise ValueError(f"Arg3 is at most {ARG3_SIZE} bytes")
        return (struct.pack("<III", self.handle, self.revision, self.function)
                + self.arg3.ljust(ARG3_SIZE, b"\0"))

    def arg3_u32(self, index: int) -> int:
        """The index-th little-endian u32 of Arg3 (past its end reads as 0)."""
        chunk = self.arg3[index * 4: index * 4 + 4]
        return int.from_bytes(chunk.ljust(4, b"\0"), "little")


@dataclass(frozen=True)
class DsmReply:
    """What the host writes at the page's start: u32 len (incl. itself), then payload."""

    payload: bytes  # status (or the function-0 mask) first

    @property
    def length(self) -> int:
        return 4 + len(self.payload)

    def to_bytes(self) -> bytes:
        return struct.pack("<I", self.length) + self.payload

    @classmethod
    def from_bytes(cls, page: bytes | bytearray | memoryview) -> DsmReply:
        (length,) = struct.unpack_from("<I", page, OFF_LEN)
        if not 4 <= length <= min(len(page), DSM_PAGE_SIZE):
            raise ValueError(f"bad DSM reply length {length}")
        return cls(bytes(page[OFF_PAYLOAD: length]))

    @property
    def status(self) -> int:
        return int.from_bytes(self.payload[:4].ljust(4, b"\0"), "little")

    @property
    def data(self) -> bytes:
        """The payload after the status word."""
        return self.payload[4:]


def no_payload(status: int) -> DsmReply:
    return DsmReply(struct.pack("<I", status))


def function0(mask: int) -> DsmReply:
    return DsmReply(struct.pack("<I", mask))


class FitSource(Protocol):
    """What the dispatcher needs from the NVDIMM ACPI state."""

    fit: bytes
    dirty: bool

    def nvdimms(self) -> Sequence[NVDimm]: ...


def find_by_handle(devices: Sequence[NVDimm], handle: int) -> NVDimm | None:
    """nvdimm_get_device_by_handle: the first nvdimm (walk order) with slot + 1 == handle."""
    for device in devices:
        if device.slot + 1 == handle:
            return device
    return None


def check_label_access(device: NVDimm, offset: int, length: int) -> int:
    """nvdimm_rw_label_data_check, plus the zero-length case QEMU aborts on."""
    if offset + length > _U32:
        return STATUS_INVALID_INPUT
    if device.label_size < offset + length:
        return STATUS_INVALID_INPUT
    if length > MAX_XFER:
        return STATUS_INVALID_INPUT
    if length == 0:  # QEMU 7.2: assertion failure in nvdimm_validate_rw_label_data
        return STATUS_INVALID_INPUT
    return STATUS_SUCCESS


def dispatch(state: FitSource, request: DsmRequest) -> DsmReply:
    """nvdimm_dsm_write after the copy: the reply for one request."""
    if request.revision != DSM_REVISION:
        return no_payload(STATUS_NOT_SUPPORTED)
    if request.handle == HANDLE_QEMU_RESERVED_ROOT:
        if request.function == FUNC_QUERY:
            return function0(RESERVED_ROOT_MASK)
        if request.function == FUNC_READ_FIT:
            return read_fit(state, request.arg3_u32(0))
        return no_payload(STATUS_NOT_SUPPORTED)
    if request.handle == HANDLE_ROOT:
        if request.function == FUNC_QUERY:
            return function0(0)
        return no_payload(STATUS_NOT_SUPPORTED)
    return _device_method(state, request)


def _device_method(state: FitSource, request: DsmRequest) -> DsmReply:
    device = find_by_handle(state.nvdimms(), request.handle)
    if request.function == FUNC_QUERY:
        return function0(DEVICE_LABEL_MASK if device is not None and device.label_size else 0)
    if device is None:
        return no_payload(STATUS_NO_MEMORY_DEVICE)
    if not device.label_size or request.function not in (
            FUNC_GET_LABEL_SIZE, FUNC_GET_LABEL_DATA, FUNC_SET_LABEL_DATA):
        return no_payload(STATUS_NOT_SUPPORTED)
    if request.function == FUNC_GET_LABEL_SIZE:
        return DsmReply(struct.pack("<III", STATUS_SUCCESS, device.label_size & _U32, MAX_XFER))
    offset, length = request.arg3_u32(0), request.arg3_u32(1)
    status = check_label_access(device, offset, length)
    if status != STATUS_SUCCESS:
        return no_payload(status)
    label = device.label_view()
    if request.function == FUNC_GET_LABEL_DATA:
        return DsmReply(struct.pack("<I", STATUS_SUCCESS) + bytes(label[offset: offset + length]))
    if device.readonly or label.readonly:
        return no_payload(STATUS_NOT_SUPPORTED)
    label[offset: offset + length] = request.arg3[8: 8 + length]
    return no_payload(STATUS_SUCCESS)


def read_fit(state: FitSource, offset: int) -> DsmReply:
    """nvdimm_dsm_func_read_fit: status 0x100 when the FIT changed since offset 0."""
    fit = state.fit
    if offset > len(fit):
        return no_payload(STATUS_INVALID_INPUT)
    if offset == 0:
        state.dirty = False
    elif state.dirty:
        return no_payload(STATUS_FIT_CHANGED)
    chunk = fit[offset: offset + READ_FIT_MAX]
    return DsmReply(struct.pack("<I", STATUS_SUCCESS) + chunk)


__all__ = [
    "DSM_PAGE_SIZE", "DSM_PORT", "MAX_XFER", "DsmReply", "DsmRequest", "dispatch",
    "read_fit",
]
