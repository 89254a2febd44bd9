"""EFI namespace labels: v1.1 (128 bytes) and v1.2 (UEFI 2.7, 256 bytes).

A label describes one DIMM's piece of a namespace.  The first 128 bytes are
common; v1.2 adds ``type_guid`` (the region's NFIT range type),
``abstraction_guid`` (the claim class: BTT, BTT2, PFN, DAX or none) and a
Fletcher64 ``checksum`` over the whole label.  UUIDs are stored as raw
RFC 4122 bytes, GUIDs little-endian (``UUID(bytes_le=...)``).
"""

from __future__ import annotations

import enum
import functools
import struct
from dataclasses import dataclass, replace
from uuid import UUID

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import checksum_with_field_zeroed

NSLABEL_UUID_LEN = 16
NSLABEL_NAME_LEN = 64
LABEL_SIZE_V1_1 = 128
LABEL_SIZE_V1_2 = 256

# Field offsets
OFF_UUID = 0
OFF_NAME = 16
OFF_FLAGS = 80
OFF_NLABEL = 84
OFF_POSITION = 86
OFF_ISETCOOKIE = 88
OFF_LBASIZE = 96
OFF_DPA = 104
OFF_RAWSIZE = 112
OFF_SLOT = 120
OFF_ALIGN = 124  # v1.2; v1.1 bytes 124..127 are unused
OFF_RESERVED = 125
OFF_TYPE_GUID = 128
OFF_ABSTRACTION_GUID = 144
OFF_RESERVED2 = 160
OFF_CHECKSUM = 248

_COMMON = struct.Struct("<16s64sIHHQQQQIB3s")  # the first 128 bytes
_V12_TAIL = struct.Struct("<16s16s88sQ")  # bytes 128..255
assert _COMMON.size == LABEL_SIZE_V1_1
assert _COMMON.size + _V12_TAIL.size == LABEL_SIZE_V1_2

# NFIT SPA range type of persistent memory; v1.2 labels must carry the region's.
PMEM_TYPE_GUID = UUID("66f0d379-b4f3-4074-ac43-0d3318b78cdb")


class LabelFlags(enum.IntFlag):
    ROLABEL = 0x1
    LOCAL = 0x2  # BLK namespaces; gone from Linux since 5.18
    BTT = 0x4  # v1.1 hint that the namespace holds a BTT; Linux does not rely on it
    UPDATING = 0x8  # first pass of the two-pass update


class ClaimClass(enum.Enum):
    """The personality a v1.2 label's abstraction GUID names (nvdimm_claim_class)."""

    NONE = "none"
    BTT = "btt"
    BTT2 = "btt2"
    PFN = "pfn"
    DAX = "dax"
    UNKNOWN = "unknown"

    @property
    def guid(self) -> UUID:
        """The GUID written for this class (UNKNOWN has none of its own)."""
        if self is ClaimClass.UNKNOWN:
            raise LabelError("the unknown claim class has no GUID")
        return _CLAIM_GUIDS[self]

    @classmethod
    def from_guid(cls, guid: UUID) -> ClaimClass:
        for claim, value in _CLAIM_GUIDS.items():
            if value == guid:
                return claim
        return cls.UNKNOWN


_CLAIM_GUIDS = {
    ClaimClass.NONE: UUID(int=0),
    ClaimClass.BTT: UUID("8aed63a2-29a2-4c66-8b12-f05d15d3922a"),
    ClaimClass.BTT2: UUID("18633bfc-1735-4217-8ac9-17239282d3f8"),
    ClaimClass.PFN: UUID("266400ba-fb9f-4677-bcb0-968f11d0d225"),
    ClaimClass.DAX: UUID("97a86d9c-3cdd-4eda-986f-5068b4f80088"),
}


def encode_name(name: str) -> bytes:
    """A namespace name as the 64-byte NUL-padded field (at most 63 bytes of UTF-8)."""
    raw = name.encode()
    if len(raw) >= NSLABEL_NAME_LEN or b"\x00" in raw:
        raise LabelError(f"namespace name must be < {NSLABEL_NAME_LEN} bytes without NULs")
    return raw.ljust(NSLABEL_NAME_LEN, b"\x00")


@functools.lru_cache(maxsize=64)
def _guid(raw: bytes) -> UUID:
    """A type/abstraction GUID from its on-media bytes (a handful of values recur)."""
    return UUID(bytes_le=raw)


@dataclass(frozen=True)
class NamespaceLabel:
    """One namespace label, 128 or 256 bytes, byte-exact.

    For a 128-byte label the v1.2-only fields are None and ``align`` /
    ``reserved`` hold the four "unused" bytes at 124..127 as found.
    """

    uuid: UUID
    name_bytes: bytes  # the raw 64-byte field
    flags: int
    nlabel: int
    position: int
    isetcookie: int
    lbasize: int
    dpa: int
    rawsize: int
    slot: int
    align: int = 0
    reserved: bytes = bytes(3)
    type_guid: UUID | None = None
    abstraction_guid: UUID | None = None
    reserved2: bytes | None = None
    checksum: int | None = None

    @property
    def size(self) -> int:
        return LABEL_SIZE_V1_1 if self.checksum is None else LABEL_SIZE_V1_2

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> NamespaceLabel:
        if len(data) not in (LABEL_SIZE_V1_1, LABEL_SIZE_V1_2):
            raise LabelError(f"a namespace label is 128 or 256 bytes, not {len(data)}")
        (raw_uuid, name, flags, nlabel, position, cookie, lbasize, dpa, rawsize, slot, align,
         reserved) = _COMMON.unpack_from(data, 0)
        if len(data) == LABEL_SIZE_V1_1:
            return cls(UUID(bytes=raw_uuid), name, flags, nlabel, position, cookie, lbasize,
                       dpa, rawsize, slot, align, reserved)
        type_guid, abstraction, reserved2, checksum = _V12_TAIL.unpack_from(data, OFF_TYPE_GUID)
        return cls(UUID(bytes=raw_uuid), name, flags, nlabel, position, cookie, lbasize,
                   dpa, rawsize, slot, align, reserved, _guid(type_guid), _guid(abstraction),
                   reserved2, checksum)

    def to_bytes(self) -> bytes:
        head = _COMMON.pack(self.uuid.bytes, self.name_bytes, self.flags, self.nlabel,
                            self.position, self.isetcookie, self.lbasize, self.dpa, self.rawsize,
                            self.slot, self.align, self.reserved)
        if self.checksum is None:
            return head
        return head + _V12_TAIL.pack(
            (self.type_guid or UUID(int=0)).bytes_le,
            (self.abstraction_guid or UUID(int=0)).bytes_le,
            self.reserved2 if self.reserved2 is not None else bytes(88), self.checksum)

    @classmethod
    def create(cls, *, version_size: int, uuid_: UUID, slot: int, dpa: int, rawsize: int,
               isetcookie: int, name: str = "", flags: int = 0, nlabel: int = 1,
               position: int = 0, lbasize: int = 0,
               claim_class: ClaimClass = ClaimClass.NONE,
               abstraction_guid: UUID | None = None,
               type_guid: UUID = PMEM_TYPE_GUID) -> NamespaceLabel:
        """A label as Linux's namespace_label_update fills it (zeros elsewhere, align 0).

        ``abstraction_guid`` overrides ``claim_class`` (to keep an unknown GUID,
        which the kernel leaves untouched when it rewrites a label).
        """
        if version_size not in (LABEL_SIZE_V1_1, LABEL_SIZE_V1_2):
            raise LabelError(f"label size must be 128 or 256, not {version_size}")
        label = cls(uuid_, encode_name(name), flags, nlabel, position, isetcookie, lbasize, dpa,
                    rawsize, slot)
        if version_size == LABEL_SIZE_V1_1:
            return label
        guid = abstraction_guid if abstraction_guid is not None else claim_class.guid
        return replace(label, type_guid=type_guid, abstraction_guid=guid,
                       reserved2=bytes(88), checksum=0).with_checksum()

    # -- derived values

    @property
    def name(self) -> str:
        """The friendly name: bytes up to the first NUL (all 64 if none)."""
        return self.name_bytes.split(b"\x00", 1)[0].decode("utf-8", "replace")

    @property
    def label_flags(self) -> LabelFlags:
        return LabelFlags(self.flags & 0xF)

    @property
    def updating(self) -> bool:
        return bool(self.flags & LabelFlags.UPDATING)

    @property
    def claim_class(self) -> ClaimClass:
        """nsl_get_claim_class: NONE for v1.1 labels, else from the abstraction GUID."""
        if self.abstraction_guid is None:
            return ClaimClass.NONE
        return ClaimClass.from_guid(self.abstraction_guid)

    def computed_checksum(self) -> int | None:
        if self.checksum is None:
            return None
        return checksum_with_field_zeroed(self.to_bytes(), OFF_CHECKSUM)

    def with_checksum(self) -> NamespaceLabel:
        if self.checksum is None:
            return self
        return replace(self, checksum=self.computed_checksum())

    @property
    def checksum_ok(self) -> bool:
        return self.checksum is None or self.computed_checksum() == self.checksum

    def with_slot(self, slot: int) -> NamespaceLabel:
        return replace(self, slot=slot).with_checksum()


def label_skip_reason(data: bytes | bytearray | memoryview, slot: int) -> str | None:
    """Why the kernel's slot_valid() would ignore the label in ``slot`` (None: kept).

    Only two checks remain in Linux 6.1: the label's own slot field must name
    the slot it sits in, and a 256-byte label must pass its checksum.  (The
    4 KiB dpa/rawsize alignment check was removed in 2019.)
    """
    return parsed_label_skip_reason(NamespaceLabel.from_bytes(data), data, slot)


def parsed_label_skip_reason(label: NamespaceLabel, data: bytes | bytearray | memoryview,
                 slot: int) -> str | None:
    """label_skip_reason for a label already parsed from ``data``."""
    if label.slot != slot:
        return f"slot{slot} invalid slot: {label.slot}"
    if label.checksum is not None and (
            checksum_with_field_zeroed(data, OFF_CHECKSUM) != label.checksum):
        return f"namespace label checksum fail. slot: {slot}"
    return None
