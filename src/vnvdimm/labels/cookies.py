"""Interleave-set cookies: the region identity a label's ``isetcookie`` must match.

Linux's ACPI NFIT driver (acpi_nfit_init_interleave_set) builds one record
per DIMM of a region from the NFIT, sorts them by region offset, and takes
Fletcher64 over the array in native (x86: little-endian) word order:

* cookie1, for v1.1 labels: 16-byte records
  ``{u64 region_offset, u32 serial_number, u32 pad}``;
* cookie2, for v1.2 labels: 48-byte records ``{u64 region_offset,
  u32 serial_number, u16 vendor_id, u16 manufacturing_date,
  u8 manufacturing_location, u8 reserved[31]}``;
* altcookie: cookie1's records sorted by a byte-wise compare of the
  little-endian region offset (an old sort bug kept for compatibility).

Which cookie a label must carry depends on the current index block: 1.1
index -> cookie1, anything else -> cookie2; the altcookie is accepted too.

QEMU's NFIT gives every nvdimm its own 1-way region with region offset 0,
serial number 0x123456 + slot, vendor 0x8086 and zero manufacturing date and
location, so the cookies depend on the slot only: a label set is valid for
the slot it was written in.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import fletcher64

SET_INFO_SIZE = 16  # struct nfit_set_info
SET_INFO2_SIZE = 48  # struct nfit_set_info2
_SET_INFO = struct.Struct("<QII")
_SET_INFO2 = struct.Struct("<QIHHB31s")
assert _SET_INFO.size == SET_INFO_SIZE and _SET_INFO2.size == SET_INFO2_SIZE

QEMU_SERIAL_BASE = 0x123456  # hw/acpi/nvdimm.c: serial = 0x123456 + slot
QEMU_VENDOR_ID = 0x8086


@dataclass(frozen=True)
class DimmIdentity:
    """The NFIT facts about one DIMM of a region that go into the cookies.

    ``region_offset`` is from the Memory Device to SPA Range Map structure;
    the rest from the DIMM's Control Region structure (values as the
    little-endian fields read).
    """

    serial_number: int
    region_offset: int = 0
    vendor_id: int = QEMU_VENDOR_ID
    manufacturing_date: int = 0
    manufacturing_location: int = 0

    def set_info(self) -> bytes:
        """The 16-byte v1.1 record."""
        return _SET_INFO.pack(self.region_offset, self.serial_number, 0)

    def set_info2(self) -> bytes:
        """The 48-byte v1.2 record."""
        return _SET_INFO2.pack(self.region_offset, self.serial_number, self.vendor_id,
                               self.manufacturing_date, self.manufacturing_location, bytes(31))


@dataclass(frozen=True)
class InterleaveSetCookies:
    cookie1: int  # v1.1 labels
    cookie2: int  # v1.2 labels
    altcookie: int  # v1.1 labels written with the old sort order

    def for_index_version(self, major: int, minor: int) -> int:
        """nd_region_interleave_set_cookie: cookie1 for a 1.1 index, else cookie2."""
        return self.cookie1 if (major, minor) == (1, 1) else self.cookie2

    def accepts(self, isetcookie: int, major: int, minor: int) -> bool:
        """Whether a label cookie passes (the version's cookie, or the altcookie)."""
        return isetcookie in (self.for_index_version(major, minor), self.altcookie)


def interleave_set_cookies(dimms: Sequence[DimmIdentity]) -> InterleaveSetCookies:
    """The three cookies of a region made of ``dimms`` (any order)."""
    if not dimms:
        raise LabelError("a region needs at least one DIMM")
    by_offset = sorted(dimms, key=lambda d: d.region_offset)
    by_bytes = sorted(dimms, key=lambda d: d.region_offset.to_bytes(8, "little"))
    return InterleaveSetCookies(
        cookie1=fletcher64(b"".join(d.set_info() for d in by_offset)),
        cookie2=fletcher64(b"".join(d.set_info2() for d in by_offset)),
        altcookie=fletcher64(b"".join(d.set_info() for d in by_bytes)),
    )


def qemu_nvdimm_identity(slot: int) -> DimmIdentity:
    """What QEMU 7.2's NFIT says about the nvdimm in ``slot``."""
    if slot < 0:
        raise LabelError(f"slot must be >= 0, not {slot}")
    return DimmIdentity(serial_number=(QEMU_SERIAL_BASE + slot) & 0xFFFFFFFF)


def qemu_nvdimm_cookies(slot: int) -> InterleaveSetCookies:
    """The cookies of the 1-way region QEMU makes for the nvdimm in ``slot``.

    The region's SPA base and size do not enter the cookies.
    """
    return interleave_set_cookies([qemu_nvdimm_identity(slot)])
