"""The namespace index block, its sizing rules, the sequence rule and its validation.

Layout of the label storage area (LSA) as Linux and ndctl lay it out::

    0               index block 0            (index_size bytes)
    index_size      index block 1            (index_size bytes)
    2*index_size    label slot 0 .. nslot-1  (label_size bytes each)

An index block is a 72-byte header followed by the free-slot bitmap (one bit
per slot, 1 = free, little-endian bit order), zero-padded to a multiple of
256 bytes.  Neither index is ever updated in place: an update writes the
*other* block with the next sequence number, which then becomes current.

Everything here mirrors drivers/nvdimm/label.c (Linux 6.1) and
ndctl/lib/dimm.c (ndctl 76); see the function docstrings for which part.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import checksum_with_field_zeroed

NSINDEX_SIGNATURE = b"NAMESPACE_INDEX\x00"
NSINDEX_SIG_LEN = 16
NSINDEX_ALIGN = 256
NSINDEX_SEQ_MASK = 0x3
INDEX_HEADER_SIZE = 72  # sizeof(struct nd_namespace_index) without free[]

# Header field offsets
OFF_SIG = 0
OFF_FLAGS = 16  # 3 bytes
OFF_LABELSIZE = 19  # 1 byte: label size is 128 << labelsize (v1.2+)
OFF_SEQ = 20
OFF_MYOFF = 24
OFF_MYSIZE = 32
OFF_OTHEROFF = 40
OFF_LABELOFF = 48
OFF_NSLOT = 56
OFF_MAJOR = 60
OFF_MINOR = 62
OFF_CHECKSUM = 64
OFF_FREE = 72

_HEADER = struct.Struct("<16s3sBIQQQQIHHQ")
assert _HEADER.size == INDEX_HEADER_SIZE

LABEL_SIZES = (128, 256)  # the kernel probes 128 first, then 256
_U32 = 0xFFFFFFFF
_BITS_PER_LONG = 64


class LabelVersion(enum.Enum):
    """The two EFI label formats, named as ndctl's ``-V`` option names them."""

    V1_1 = "1.1"
    V1_2 = "1.2"

    @property
    def label_size(self) -> int:
        return 128 if self is LabelVersion.V1_1 else 256

    @classmethod
    def for_label_size(cls, label_size: int) -> LabelVersion:
        if label_size == 128:
            return cls.V1_1
        if label_size == 256:
            return cls.V1_2
        raise LabelError(f"no label version has {label_size}-byte labels")


class BitmapTail(enum.Enum):
    """How the unused bits after ``nslot`` in a fresh bitmap are written."""

    KERNEL = "kernel"  # nd_label_write_index(ND_NSINDEX_INIT): bits >= nslot cleared
    NDCTL = "ndctl"  # write_label_index: whole 0xff bytes up to ALIGN(nslot, 64)


# --- sizing (label.c: __sizeof_namespace_index, nvdimm_num_label_slots, sizeof_namespace_index)

def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def index_block_size(nslot: int) -> int:
    """Bytes of one index block describing ``nslot`` slots: header + bitmap, 256-aligned."""
    return _align(INDEX_HEADER_SIZE + (nslot + 7) // 8, NSINDEX_ALIGN)


def num_label_slots(config_size: int, label_size: int) -> int:
    """Slots that fit: size the index for config_size/label_size slots, then fill the rest."""
    tmp_nslot = config_size // label_size
    index_size = index_block_size(tmp_nslot)
    return max(0, (config_size - 2 * index_size) // label_size)


def sizeof_namespace_index(config_size: int, label_size: int) -> int:
    """The index block size Linux uses for this area, or 0 when it is too small for labels.

    Too small means: the two index blocks do not fit beside ``nslot`` labels,
    or fewer than two labels fit (UEFI 2.7 minimum).
    """
    nslot = num_label_slots(config_size, label_size)
    space = config_size - nslot * label_size
    size = index_block_size(nslot)
    if 2 * size <= space and nslot >= 2:
        return size
    return 0


@dataclass(frozen=True)
class Geometry:
    """Where everything sits in a label area of ``config_size`` bytes for one label size."""

    config_size: int
    label_size: int
    index_size: int
    nslot: int

    @classmethod
    def for_area(cls, config_size: int, label_size: int) -> Geometry:
        if label_size not in LABEL_SIZES:
            raise LabelError(f"label size must be 128 or 256, not {label_size}")
        index_size = sizeof_namespace_index(config_size, label_size)
        if index_size == 0:
            raise LabelError(
                f"label area ({config_size}) too small to host ({label_size} byte) labels")
        return cls(config_size, label_size, index_size,
                   num_label_slots(config_size, label_size))

    @property
    def label_offset(self) -> int:
        return 2 * self.index_size

    def index_offset(self, position: int) -> int:
        return position * self.index_size

    def slot_offset(self, slot: int) -> int:
        return self.label_offset + slot * self.label_size


# --- the sequence rule (label.c: nd_inc_seq, best_seq)

_NEXT_SEQ = (0, 2, 3, 1)


def next_seq(seq: int) -> int:
    """1 -> 2 -> 3 -> 1; 0 (invalid) stays 0.  Only the low two bits count."""
    return _NEXT_SEQ[seq & NSINDEX_SEQ_MASK]


def best_seq(a: int, b: int) -> int:
    """The kernel's pick between two valid sequence numbers (masked to two bits)."""
    a &= NSINDEX_SEQ_MASK
    b &= NSINDEX_SEQ_MASK
    if a == 0 or a == b:
        return b
    if b == 0:
        return a
    if next_seq(a) == b:
        return b
    return a


def current_position(seq0: int, seq1: int) -> int:
    """Which of two valid index blocks (0 or 1) is current: block 1 wins ties."""
    return 1 if best_seq(seq0, seq1) == (seq1 & NSINDEX_SEQ_MASK) else 0


# --- the block itself

@dataclass(frozen=True)
class NamespaceIndex:
    """One index block, byte-exact (``mysize``/``index_size`` bytes, normally 256).

    ``free`` holds every byte after the 72-byte header: the bitmap and the
    padding, so ``to_bytes`` reproduces the block exactly.
    """

    signature: bytes
    flags: bytes  # 3 reserved bytes
    labelsize: int  # raw byte 19
    seq: int
    myoff: int
    mysize: int
    otheroff: int
    labeloff: int
    nslot: int
    major: int
    minor: int
    checksum: int
    free: bytes

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> NamespaceIndex:
        if len(data) < INDEX_HEADER_SIZE:
            raise LabelError(f"an index block needs at least {INDEX_HEADER_SIZE} bytes")
        (sig, flags, labelsize, seq, myoff, mysize, otheroff, labeloff, nslot, major, minor,
         checksum) = _HEADER.unpack_from(data, 0)
        return cls(sig, flags, labelsize, seq, myoff, mysize, otheroff, labeloff, nslot, major,
                   minor, checksum, bytes(data[INDEX_HEADER_SIZE:]))

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.signature, self.flags, self.labelsize, self.seq, self.myoff,
                            self.mysize, self.otheroff, self.labeloff, self.nslot, self.major,
                            self.minor, self.checksum) + self.free

    @classmethod
    def fresh(cls, geometry: Geometry, position: int, seq: int,
              tail: BitmapTail = BitmapTail.NDCTL, *, padding: bytes | None = None,
              ) -> NamespaceIndex:
        """An index block with every slot free, as init-labels writes it.

        ``padding`` is what sits after the bitmap: zeros from the kernel
        (it clears its buffer first); ndctl leaves whatever its buffer held,
        i.e. the bytes it read from the media.
        """
        nslot = geometry.nslot
        rest = geometry.index_size - INDEX_HEADER_SIZE
        nfree_bits = _align(nslot, _BITS_PER_LONG)
        body = bytearray(padding[:rest] if padding is not None else bytes(rest))
        body.extend(bytes(rest - len(body)))
        body[:nfree_bits // 8] = b"\xff" * (nfree_bits // 8)
        if tail is BitmapTail.KERNEL:
            for bit in range(nslot, nfree_bits):
                body[bit // 8] &= ~(1 << (bit % 8)) & 0xFF
        block = cls(
            signature=NSINDEX_SIGNATURE, flags=bytes(3), labelsize=geometry.label_size >> 8,
            seq=seq, myoff=geometry.index_offset(position), mysize=geometry.index_size,
            otheroff=geometry.index_offset(1 - position), labeloff=geometry.label_offset,
            nslot=nslot, major=1, minor=1 if geometry.label_size < 256 else 2, checksum=0,
            free=bytes(body))
        return block.with_checksum()

    # -- derived values

    @property
    def version(self) -> int:
        """major * 100 + minor, the number the kernel compares with 102."""
        return self.major * 100 + self.minor

    @property
    def label_size(self) -> int:
        """The label size this block announces, computed the way the validator does.

        ``1 << (7 + labelsize)`` is a 32-bit shift whose count x86 masks to
        5 bits, so e.g. labelsize 32 also means 128 there.
        """
        if self.version >= 102:
            return (1 << ((7 + self.labelsize) & 31)) & _U32
        return 128

    def computed_checksum(self) -> int:
        return checksum_with_field_zeroed(self.to_bytes(), OFF_CHECKSUM)

    def with_checksum(self) -> NamespaceIndex:
        return replace(self, checksum=self.computed_checksum())

    def is_free(self, slot: int) -> bool:
        """Bit ``slot`` of the bitmap (1 = free); bits beyond this block read as in use."""
        byte = slot // 8
        if byte >= len(self.free):
            return False
        return bool(self.free[byte] >> (slot % 8) & 1)

    def used_slots(self) -> Iterator[int]:
        """Slots below ``nslot`` whose bit is clear, in ascending order (for_each_clear_bit_le)."""
        for slot in range(self.nslot):
            if not self.is_free(slot):
                yield slot

    def free_slots(self) -> Iterator[int]:
        for slot in range(self.nslot):
            if self.is_free(slot):
                yield slot

    def first_free_slot(self) -> int | None:
        """nd_label_alloc_slot's choice: the lowest free slot below ``nslot``."""
        return next(self.free_slots(), None)

    def with_slot(self, slot: int, *, free: bool) -> NamespaceIndex:
        """A copy with one bitmap bit changed (checksum not yet recomputed)."""
        if not 0 <= slot < self.nslot:
            raise LabelError(f"slot {slot} out of range 0..{self.nslot - 1}")
        body = bytearray(self.free)
        mask = 1 << (slot % 8)
        if free:
            body[slot // 8] |= mask
        else:
            body[slot // 8] &= ~mask & 0xFF
        return replace(self, free=bytes(body))

    def rewritten(self, geometry: Geometry, position: int, seq: int) -> NamespaceIndex:
        """The block nd_label_write_index writes at ``position`` from this in-memory copy.

        The header is rebuilt from the geometry (nslot and bitmap are kept),
        the sequence number set, and the checksum recomputed.
        """
        return replace(
            self, signature=NSINDEX_SIGNATURE, flags=bytes(3),
            labelsize=geometry.label_size >> 8, seq=seq, myoff=geometry.index_offset(position),
            mysize=geometry.index_size, otheroff=geometry.index_offset(1 - position),
            labeloff=geometry.label_offset, major=1,
            minor=1 if geometry.label_size < 256 else 2,
        ).with_checksum()


# --- validation (label.c: __nd_label_validate, nd_label_validate)

def index_invalid_reason(area: bytes | bytearray | memoryview, position: int,
                         label_size: int) -> str | None:
    """Why the kernel would reject index block ``position`` when probing ``label_size``.

    Returns None when the block is valid.  The checks and their order are
    those of __nd_label_validate; the reasons use its debug-message wording.
    """
    config_size = len(area)
    index_size = sizeof_namespace_index(config_size, label_size)
    start = position * index_size
    if config_size < start + INDEX_HEADER_SIZE or index_size == 0:
        # The kernel refuses the whole area before validating (nd_label_data_init).
        return f"label area ({config_size}) too small to host ({label_size} byte) labels"
    block = NamespaceIndex.from_bytes(area[start:start + index_size])
    if block.signature != NSINDEX_SIGNATURE:
        return f"nsindex{position} signature invalid"
    if block.label_size != label_size:
        return f"nsindex{position} labelsize {block.labelsize} invalid"
    if block.computed_checksum() != block.checksum:
        return f"nsindex{position} checksum invalid"
    if block.seq & NSINDEX_SEQ_MASK == 0:
        return f"nsindex{position} sequence: {block.seq:#x} invalid"
    if block.myoff != position * index_size:
        return f"nsindex{position} myoff: {block.myoff:#x} invalid"
    if block.otheroff != (1 - position) * index_size:
        return f"nsindex{position} otheroff: {block.otheroff:#x} invalid"
    if block.labeloff != 2 * index_size:
        return f"nsindex{position} labeloff: {block.labeloff:#x} invalid"
    if block.mysize > index_size or block.mysize < INDEX_HEADER_SIZE:
        return f"nsindex{position} mysize: {block.mysize:#x} invalid"
    # nslot * label size is a 32-bit product in the kernel: it wraps.
    if ((block.nslot * label_size) & _U32) + 2 * index_size > config_size:
        return f"nsindex{position} nslot: {block.nslot} invalid, config_size: {config_size:#x}"
    return None


@dataclass(frozen=True)
class IndexCheck:
    """The verdict on one index block for one probed label size."""

    position: int
    label_size: int
    reason: str | None  # None = valid
    block: NamespaceIndex | None  # parsed when the area had room for it

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class IndexVerdict:
    """nd_label_validate's result: which block is current, at which label size.

    ``checks`` holds every block check made, in the order the kernel makes
    them (label size 128 both blocks, then 256 both blocks, stopping at the
    first size with a valid block).
    """

    checks: tuple[IndexCheck, ...]
    label_size: int | None
    current: int | None  # 0, 1 or None when the whole area is ignored

    @property
    def valid(self) -> bool:
        return self.current is not None

    @property
    def next(self) -> int | None:
        return None if self.current is None else 1 - self.current

    def block(self, position: int) -> NamespaceIndex | None:
        for check in reversed(self.checks):
            if check.position == position:
                return check.block
        return None

    @property
    def current_block(self) -> NamespaceIndex | None:
        return None if self.current is None else self.block(self.current)


def validate_indexes(area: bytes | bytearray | memoryview) -> IndexVerdict:
    """Find the current index block of a label area the way Linux does.

    Probe 128-byte labels, then 256-byte labels; at the first size where at
    least one block validates, the current block is the only valid one, or
    the best_seq winner of two.  If no block validates at either size the
    kernel treats the DIMM as having no labels at all.
    """
    checks: list[IndexCheck] = []
    for label_size in LABEL_SIZES:
        valid: list[IndexCheck] = []
        for position in (0, 1):
            reason = index_invalid_reason(area, position, label_size)
            index_size = sizeof_namespace_index(len(area), label_size)
            block = None
            if index_size:
                start = position * index_size
                raw = area[start:start + index_size]
                if len(raw) >= INDEX_HEADER_SIZE:
                    block = NamespaceIndex.from_bytes(raw)
            check = IndexCheck(position, label_size, reason, block)
            checks.append(check)
            if check.valid:
                valid.append(check)
        if len(valid) == 1:
            return IndexVerdict(tuple(checks), label_size, valid[0].position)
        if len(valid) == 2:
            b0, b1 = valid[0].block, valid[1].block
            assert b0 is not None and b1 is not None
            return IndexVerdict(tuple(checks), label_size, current_position(b0.seq, b1.seq))
    return IndexVerdict(tuple(checks), None, None)
