"""Info blocks inside a namespace: PFN (fsdax), DAX (devdax) and BTT (sector).

All are 4096 bytes with a Fletcher64 checksum in the last 8 bytes (summed
with the field zeroed).  PFN and DAX blocks sit at namespace offset 4096;
BTT 1.1 at 4096 and BTT 2.0 (claim class BTT2) at 0.

PFN/DAX blocks can be created here exactly as Linux 6.1's nd_pfn_init
writes them.  BTT blocks are read and checked only: a usable BTT also needs
its map, log and backup info block initialised, which this module does not do.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, replace
from uuid import UUID

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import checksum_with_field_zeroed

INFO_BLOCK_SIZE = 4096
INFO_BLOCK_OFFSET = 4096  # PFN, DAX and BTT 1.1
BTT2_INFO_OFFSET = 0
INFO_BLOCK_RESERVE = 8192  # the kernel keeps the first 8 KiB (MBR page + info block)
OFF_INFO_CHECKSUM = 4088

PFN_SIG = b"NVDIMM_PFN_INFO\x00"
DAX_SIG = b"NVDIMM_DAX_INFO\x00"
BTT_SIG = b"BTT_ARENA_INFO\x00\x00"
SIG_LEN = 16

PFN_VERSION_MAJOR = 1
PFN_VERSION_MINOR = 4  # what Linux 6.1 writes
MAX_STRUCT_PAGE_SIZE = 64
PAGE_SIZE = 4096
SZ_2M = 2 << 20
SZ_1G = 1 << 30
MEMREMAP_COMPAT_ALIGN = SZ_2M  # x86-64: one subsection
X86_SUPPORTED_ALIGNMENTS = (PAGE_SIZE, SZ_2M, SZ_1G)  # nd_pfn_supported_alignments on x86-64

# struct nd_pfn_sb field offsets
PFN_OFF_SIGNATURE = 0
PFN_OFF_UUID = 16
PFN_OFF_PARENT_UUID = 32
PFN_OFF_FLAGS = 48
PFN_OFF_VERSION_MAJOR = 52
PFN_OFF_VERSION_MINOR = 54
PFN_OFF_DATAOFF = 56
PFN_OFF_NPFNS = 64
PFN_OFF_MODE = 72
PFN_OFF_START_PAD = 76
PFN_OFF_END_TRUNC = 80
PFN_OFF_ALIGN = 84
PFN_OFF_PAGE_SIZE = 88
PFN_OFF_PAGE_STRUCT_SIZE = 92
PFN_OFF_PADDING = 94

_PFN = struct.Struct("<16s16s16sIHHQQIIIIIH3994sQ")
_BTT = struct.Struct("<16s16s16sIHHIIIIIIQQQQQ3968sQ")
assert _PFN.size == INFO_BLOCK_SIZE and _BTT.size == INFO_BLOCK_SIZE


class PfnMode(enum.IntEnum):
    NONE = 0
    RAM = 1  # page map in system RAM: ndctl --map=mem
    PMEM = 2  # page map inside the namespace: ndctl --map=dev


def _align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _align_down(value: int, alignment: int) -> int:
    return value // alignment * alignment


@dataclass(frozen=True)
class PfnInfoBlock:
    """struct nd_pfn_sb (4096 bytes): an fsdax (PFN) or devdax (DAX) info block."""

    signature: bytes
    uuid: UUID
    parent_uuid: UUID
    flags: int
    version_major: int
    version_minor: int
    dataoff: int
    npfns: int
    mode: int
    start_pad: int
    end_trunc: int
    align: int
    page_size: int
    page_struct_size: int
    padding: bytes
    checksum: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> PfnInfoBlock:
        if len(data) != INFO_BLOCK_SIZE:
            raise LabelError(f"an info block is {INFO_BLOCK_SIZE} bytes, not {len(data)}")
        (sig, raw_uuid, parent, flags, major, minor, dataoff, npfns, mode, start_pad, end_trunc,
         align, page_size, page_struct_size, padding, checksum) = _PFN.unpack(data)
        return cls(sig, UUID(bytes=raw_uuid), UUID(bytes=parent), flags, major, minor,
                   dataoff, npfns, mode, start_pad, end_trunc, align, page_size,
                   page_struct_size, padding, checksum)

    def to_bytes(self) -> bytes:
        return _PFN.pack(self.signature, self.uuid.bytes, self.parent_uuid.bytes, self.flags,
                         self.version_major, self.version_minor, self.dataoff, self.npfns,
                         self.mode, self.start_pad, self.end_trunc, self.align, self.page_size,
                         self.page_struct_size, self.padding, self.checksum)

    @property
    def is_dax(self) -> bool:
        return self.signature == DAX_SIG

    def computed_checksum(self) -> int:
        return checksum_with_field_zeroed(self.to_bytes(), OFF_INFO_CHECKSUM)

    @property
    def checksum_ok(self) -> bool:
        return self.computed_checksum() == self.checksum

    @property
    def data_size(self) -> int:
        """Bytes of the namespace usable for data (npfns pages)."""
        return self.npfns * PAGE_SIZE

    @classmethod
    def create(cls, *, devdax: bool, uuid_: UUID, parent_uuid: UUID, start: int,
               size: int, mode: PfnMode, align: int = SZ_2M,
               compat_align: int = MEMREMAP_COMPAT_ALIGN) -> PfnInfoBlock:
        """The block nd_pfn_init writes for a namespace at physical ``start`` of ``size`` bytes.

        ``align`` is the pfn/dax device's alignment (ndctl ``--align``;
        default 2 MiB); ``parent_uuid`` the namespace uuid (all zeros for a
        label-less namespace).  Raises LabelError where the kernel refuses.
        """
        if mode not in (PfnMode.RAM, PfnMode.PMEM):
            raise LabelError(f"pfn mode must be ram or pmem, not {mode!r}")
        if start % compat_align:
            raise LabelError(f"start {start:#x} misaligned to {compat_align:#x}")
        if size <= INFO_BLOCK_RESERVE:
            raise LabelError(f"namespace of {size} bytes too small for an info block")
        npfns = (size - INFO_BLOCK_RESERVE) // PAGE_SIZE
        eff_align = max(align, compat_align)
        end_trunc = start + size - _align_down(start + size, eff_align)
        if mode is PfnMode.PMEM:
            offset = _align_up(start + INFO_BLOCK_RESERVE + MAX_STRUCT_PAGE_SIZE * npfns,
                               eff_align) - start
        else:
            offset = _align_up(start + INFO_BLOCK_RESERVE, eff_align) - start
        if offset >= size - end_trunc:
            raise LabelError("unable to satisfy requested alignment")
        npfns = (size - offset - end_trunc) // PAGE_SIZE
        block = cls(
            signature=DAX_SIG if devdax else PFN_SIG, uuid=uuid_, parent_uuid=parent_uuid,
            flags=0, version_major=PFN_VERSION_MAJOR, version_minor=PFN_VERSION_MINOR,
            dataoff=offset, npfns=npfns, mode=int(mode), start_pad=0, end_trunc=end_trunc,
            align=align, page_size=PAGE_SIZE, page_struct_size=MAX_STRUCT_PAGE_SIZE,
            padding=bytes(OFF_INFO_CHECKSUM - PFN_OFF_PADDING), checksum=0)
        return _with_pfn_checksum(block)


def _with_pfn_checksum(block: PfnInfoBlock) -> PfnInfoBlock:
    return replace(block, checksum=block.computed_checksum())


@dataclass(frozen=True)
class PfnCheck:
    """nd_pfn_validate's verdict.  ``absent`` means -ENODEV (no block of this kind)."""

    block: PfnInfoBlock | None
    reason: str | None

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def absent(self) -> bool:
        return self.block is None


def validate_pfn_info(data: bytes | bytearray | memoryview, *, devdax: bool,
                      parent_uuid: UUID, start: int, size: int,
                      page_size: int = PAGE_SIZE,
                      supported_alignments: tuple[int, ...] = X86_SUPPORTED_ALIGNMENTS,
                      compat_align: int = MEMREMAP_COMPAT_ALIGN) -> PfnCheck:
    """Check the 4096 bytes at namespace offset 4096 the way nd_pfn_validate does.

    ``start``/``size`` are the namespace's physical address and size.  Any
    failure makes Linux fall back to a raw namespace; ``absent`` (wrong
    signature, bad checksum, other parent) is the quiet -ENODEV case.
    """
    sig = DAX_SIG if devdax else PFN_SIG
    if len(data) != INFO_BLOCK_SIZE:
        return PfnCheck(None, "short read")
    if bytes(data[:SIG_LEN]) != sig:
        return PfnCheck(None, "no info block (signature)")
    block = PfnInfoBlock.from_bytes(data)
    if not block.checksum_ok:
        return PfnCheck(None, "no info block (checksum)")
    if block.parent_uuid != parent_uuid:
        return PfnCheck(None, "no info block (parent uuid)")
    start_pad, end_trunc, align = block.start_pad, block.end_trunc, block.align
    psize, pstruct = block.page_size, block.page_struct_size
    if block.version_minor < 1:
        start_pad = end_trunc = 0
    if block.version_minor < 2:
        align = 0
    if block.version_minor < 4:
        pstruct, psize = 64, page_size
    if block.mode not in (PfnMode.RAM, PfnMode.PMEM):
        return PfnCheck(block, f"invalid mode {block.mode}")
    offset = block.dataoff
    if align == 0:
        align = 1 << (offset.bit_length() - 1) if offset else 0
    if block.mode == PfnMode.PMEM and psize > page_size:
        return PfnCheck(block, f"init failed, page size mismatch {psize}")
    if block.mode == PfnMode.PMEM and pstruct < MAX_STRUCT_PAGE_SIZE:
        return PfnCheck(block, f"init failed, struct page size mismatch {pstruct}")
    if devdax and align not in supported_alignments:
        return PfnCheck(block, f"init failed, alignment mismatch: {align}")
    if align > size:
        return PfnCheck(block, f"alignment: {align:x} exceeds capacity {size:x}")
    if offset >= size:
        return PfnCheck(block, "pfn array size exceeds capacity")
    if (align and (start + offset + start_pad) % align) or offset % PAGE_SIZE:
        return PfnCheck(block, f"bad offset: {offset:#x} dax disabled align: {align:#x}")
    if (start + start_pad) % compat_align:
        return PfnCheck(block, "resource start misaligned")
    if (start + size - end_trunc) % compat_align:
        return PfnCheck(block, "resource end misaligned")
    if offset >= size - start_pad - end_trunc:
        return PfnCheck(block, "bad offset with small namespace")
    return PfnCheck(block, None)


@dataclass(frozen=True)
class BttInfoBlock:
    """struct btt_sb (4096 bytes): one BTT arena's info block.  Read-only here."""

    signature: bytes
    uuid: UUID
    parent_uuid: UUID
    flags: int
    version_major: int
    version_minor: int
    external_lbasize: int
    external_nlba: int
    internal_lbasize: int
    internal_nlba: int
    nfree: int
    infosize: int
    nextoff: int
    dataoff: int
    mapoff: int
    logoff: int
    info2off: int
    padding: bytes
    checksum: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> BttInfoBlock:
        if len(data) != INFO_BLOCK_SIZE:
            raise LabelError(f"an info block is {INFO_BLOCK_SIZE} bytes, not {len(data)}")
        fields = list(_BTT.unpack(data))
        fields[1] = UUID(bytes=fields[1])
        fields[2] = UUID(bytes=fields[2])
        return cls(*fields)

    def to_bytes(self) -> bytes:
        return _BTT.pack(self.signature, self.uuid.bytes, self.parent_uuid.bytes, self.flags,
                         self.version_major, self.version_minor, self.external_lbasize,
                         self.external_nlba, self.internal_lbasize, self.internal_nlba,
                         self.nfree, self.infosize, self.nextoff, self.dataoff, self.mapoff,
                         self.logoff, self.info2off, self.padding, self.checksum)

    def computed_checksum(self) -> int:
        return checksum_with_field_zeroed(self.to_bytes(), OFF_INFO_CHECKSUM)

    @property
    def checksum_ok(self) -> bool:
        return self.computed_checksum() == self.checksum


def btt_arena_is_valid(data: bytes | bytearray | memoryview, namespace_uuid: UUID) -> bool:
    """nd_btt_arena_is_valid: signature, parent uuid (when set), checksum."""
    if len(data) != INFO_BLOCK_SIZE or bytes(data[:SIG_LEN]) != BTT_SIG:
        return False
    block = BttInfoBlock.from_bytes(data)
    if block.parent_uuid.int and block.parent_uuid != namespace_uuid:
        return False
    return block.checksum_ok
