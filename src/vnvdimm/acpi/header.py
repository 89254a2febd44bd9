"""The standard 36-byte ACPI table header and table checksums (QEMU's acpi_table_begin/end)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_SIZE = 36
OFF_SIGNATURE = 0
OFF_LENGTH = 4
OFF_REVISION = 8
OFF_CHECKSUM = 9
OFF_OEM_ID = 10
OFF_OEM_TABLE_ID = 16
OFF_OEM_REVISION = 24
OFF_CREATOR_ID = 28
OFF_CREATOR_REVISION = 32

QEMU_CREATOR_ID = b"BXPC"  # ACPI_BUILD_APPNAME8's first four bytes
_FORMAT = "<4sIBB6s8sI4sI"


def padded(text: str | bytes, size: int) -> bytes:
    """build_append_padded_str(.., '\\0'): truncate to `size`, pad with NULs."""
    raw = text.encode("latin-1") if isinstance(text, str) else text
    return raw[:size].ljust(size, b"\0")


@dataclass(frozen=True)
class AcpiTableHeader:
    """Standard ACPI system description table header (36 bytes)."""

    signature: bytes
    length: int
    revision: int
    checksum: int
    oem_id: bytes  # 6 bytes
    oem_table_id: bytes  # 8 bytes
    oem_revision: int = 1
    creator_id: bytes = QEMU_CREATOR_ID
    creator_revision: int = 1

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> AcpiTableHeader:
        if len(data) < HEADER_SIZE:
            raise ValueError(f"ACPI table header needs {HEADER_SIZE} bytes, got {len(data)}")
        fields = struct.unpack_from(_FORMAT, data, 0)
        return cls(*fields)

    def to_bytes(self) -> bytes:
        return struct.pack(_FORMAT, padded(self.signature, 4), self.length, self.revision,
                           self.checksum, padded(self.oem_id, 6), padded(self.oem_table_id, 8),
                           self.oem_revision, padded(self.creator_id, 4), self.creator_revision)


def table_checksum(data: bytes | bytearray | memoryview) -> int:
    """The byte that makes the whole table sum to 0 modulo 256 (checksum field as 0)."""
    return (-sum(data)) & 0xFF


def finish_table(signature: bytes, revision: int, oem_id: str, oem_table_id: str,
                 body: bytes) -> bytes:
    """Header + body with length and checksum filled in (acpi_table_end)."""
    header = AcpiTableHeader(signature, HEADER_SIZE + len(body), revision, 0,
                             padded(oem_id, 6), padded(oem_table_id, 8))
    table = bytearray(header.to_bytes() + body)
    table[OFF_CHECKSUM] = table_checksum(table)
    return bytes(table)


def verify_checksum(table: bytes | memoryview) -> bool:
    return sum(table) & 0xFF == 0
