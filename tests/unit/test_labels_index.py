"""Index blocks: sizing, fresh blocks (reference checksums), the sequence rule, validation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.index import (
    BitmapTail,
    Geometry,
    LabelVersion,
    NamespaceIndex,
    best_seq,
    current_position,
    index_block_size,
    index_invalid_reason,
    next_seq,
    sizeof_namespace_index,
    validate_indexes,
)

KIB = 1024


@pytest.mark.parametrize(("config", "label", "index", "labels_at", "nslot"), [
    (1 * KIB, 128, 256, 0x200, 4),
    (1 * KIB, 256, 256, 0x200, 2),
    (128 * KIB, 128, 256, 0x200, 1020),
    (128 * KIB, 256, 256, 0x200, 510),
    (1024 * KIB, 128, 1280, 0xA00, 8172),
    (1024 * KIB, 256, 768, 0x600, 4090),
])
def test_sizing_table(config: int, label: int, index: int, labels_at: int, nslot: int) -> None:
    g = Geometry.for_area(config, label)
    assert (g.index_size, g.label_offset, g.nslot) == (index, labels_at, nslot)
    assert g.label_offset + g.nslot * label <= config


def test_128k_has_no_tail() -> None:
    for label in (128, 256):
        g = Geometry.for_area(128 * KIB, label)
        assert g.slot_offset(g.nslot) == 128 * KIB


@pytest.mark.parametrize("config", [0, 100, 511, 767])
def test_too_small(config: int) -> None:
    assert sizeof_namespace_index(config, 256) == 0
    with pytest.raises(LabelError, match="too small"):
        Geometry.for_area(config, 256)


@given(st.integers(min_value=0, max_value=4 << 20), st.sampled_from([128, 256]))
def test_sizing_invariants(config: int, label: int) -> None:
    size = sizeof_namespace_index(config, label)
    if size == 0:
        return
    g = Geometry.for_area(config, label)
    assert size % 256 == 0 and size >= index_block_size(g.nslot)
    assert 2 * size + g.nslot * label <= config and g.nslot >= 2


def test_odd_size() -> None:
    g = Geometry.for_area(128 * KIB + 1000, 256)
    assert g.index_size == 256 and g.nslot == (128 * KIB + 1000 - 512) // 256


# Reference test vectors (label-format.md 5.3)
VECTORS = [
    (LabelVersion.V1_2, 0, BitmapTail.KERNEL, 0xE793E3ED18323C1C),
    (LabelVersion.V1_2, 1, BitmapTail.KERNEL, 0xE793E7B218323C1B),
    (LabelVersion.V1_2, 0, BitmapTail.NDCTL, 0x2793E3EDD8323C1C),
    (LabelVersion.V1_2, 1, BitmapTail.NDCTL, 0x2793E7B2D8323C1B),
    (LabelVersion.V1_1, 0, BitmapTail.KERNEL, 0xDB634621E7313E0A),
    (LabelVersion.V1_1, 1, BitmapTail.KERNEL, 0xDB6349E6E7313E09),
    (LabelVersion.V1_1, 0, BitmapTail.NDCTL, 0xEB634621D7313E0A),
    (LabelVersion.V1_1, 1, BitmapTail.NDCTL, 0xEB6349E6D7313E09),
]


@pytest.mark.parametrize(("version", "position", "tail", "checksum"), VECTORS)
def test_fresh_block_vectors(version: LabelVersion, position: int, tail: BitmapTail,
                             checksum: int) -> None:
    g = Geometry.for_area(128 * KIB, version.label_size)
    block = NamespaceIndex.fresh(g, position, 3 - position, tail)
    assert block.checksum == checksum
    assert (block.flags, block.myoff, block.mysize, block.labeloff) == (
        bytes(3), 256 * position, 256, 512)
    assert block.otheroff == 256 * (1 - position)
    assert (block.major, block.minor) == (1, 2 if version is LabelVersion.V1_2 else 1)
    assert block.labelsize == (1 if version is LabelVersion.V1_2 else 0)
    assert len(block.to_bytes()) == 256
    assert list(block.free_slots()) == list(range(g.nslot))
    tail_bits = [block.is_free(s) for s in range(g.nslot, (g.nslot + 63) // 64 * 64)]
    assert tail_bits and all(bit == (tail is BitmapTail.NDCTL) for bit in tail_bits)


def test_seq_rule() -> None:
    assert [next_seq(s) for s in range(4)] == [0, 2, 3, 1]
    assert best_seq(3, 2) == 3 and current_position(3, 2) == 0  # fresh init: block 0
    assert current_position(3, 1) == 1  # first update wins
    assert current_position(1, 2) == 1 and current_position(2, 3) == 1
    assert current_position(2, 1) == 0 and current_position(1, 3) == 0
    assert current_position(2, 2) == 1  # ties go to block 1
    assert best_seq(0, 2) == 2 and best_seq(2, 0) == 2
    assert current_position(5, 2) == 1  # only the low two bits count: 5 & 3 = 1, next(1) = 2
    assert best_seq(5, 2) == 2


def _area(version: LabelVersion = LabelVersion.V1_2, size: int = 128 * KIB,
          tail: BitmapTail = BitmapTail.NDCTL) -> bytearray:
    g = Geometry.for_area(size, version.label_size)
    area = bytearray(size)
    for pos in (0, 1):
        area[g.index_offset(pos):g.index_offset(pos) + g.index_size] = NamespaceIndex.fresh(
            g, pos, 3 - pos, tail).to_bytes()
    return area


def _put(area: bytearray, pos: int, block: NamespaceIndex, size: int = 256) -> None:
    area[pos * size:(pos + 1) * size] = block.to_bytes()


def test_fresh_area_verdict() -> None:
    for version in LabelVersion:
        v = validate_indexes(_area(version))
        assert v.valid and v.current == 0 and v.label_size == version.label_size
        # v1.2 areas fail the 128-byte probe first
        sizes = [c.label_size for c in v.checks]
        assert sizes == ([128, 128] if version is LabelVersion.V1_1 else [128, 128, 256, 256])


def test_blank_area_ignored() -> None:
    v = validate_indexes(bytes(128 * KIB))
    assert not v.valid and len(v.checks) == 4
    assert all("signature" in (c.reason or "") for c in v.checks)


CORRUPTIONS = {
    "signature": lambda b: replace(b, signature=b"NAMESPACE_INDEY\x00"),
    "labelsize": lambda b: replace(b, labelsize=2),
    "checksum": lambda b: replace(b, checksum=b.checksum ^ 1),
    "sequence": lambda b: replace(b, seq=4),
    "myoff": lambda b: replace(b, myoff=b.myoff + 256),
    "otheroff": lambda b: replace(b, otheroff=b.otheroff + 256),
    "labeloff": lambda b: replace(b, labeloff=1024),
    "mysize": lambda b: replace(b, mysize=71),
    "nslot": lambda b: replace(b, nslot=511),
}


@pytest.mark.parametrize("what", sorted(CORRUPTIONS))
def test_each_check_invalidates(what: str) -> None:
    area = _area()
    block = NamespaceIndex.from_bytes(area[0:256])
    bad = CORRUPTIONS[what](block)
    if what != "checksum":
        bad = bad.with_checksum()
    _put(area, 0, bad)
    assert what in (index_invalid_reason(area, 0, 256) or "")
    v = validate_indexes(area)
    assert v.current == 1  # the other block carries on


def test_mysize_smaller_than_index_is_fine() -> None:
    area = _area()
    block = NamespaceIndex.from_bytes(area[0:256])
    _put(area, 0, replace(block, mysize=72).with_checksum())
    assert index_invalid_reason(area, 0, 256) is None


def test_historic_nslot_accepted() -> None:
    """Old kernels wrote nslot = config / 129 (1016 for 128 KiB); readers use the stored one."""
    area = _area(LabelVersion.V1_1)
    block = NamespaceIndex.from_bytes(area[0:256])
    _put(area, 0, replace(block, nslot=1016).with_checksum())
    v = validate_indexes(area)
    assert v.current == 0 and v.current_block is not None and v.current_block.nslot == 1016


def test_nslot_product_wraps_like_the_kernel() -> None:
    area = _area(LabelVersion.V1_1)
    block = NamespaceIndex.from_bytes(area[0:256])
    _put(area, 0, replace(block, nslot=1 << 25).with_checksum())  # 2**25 * 128 == 2**32
    assert index_invalid_reason(area, 0, 128) is None


def test_labelsize_shift_is_masked() -> None:
    area = _area()
    block = NamespaceIndex.from_bytes(area[0:256])
    _put(area, 0, replace(block, labelsize=33).with_checksum())  # (7 + 33) & 31 == 8
    assert index_invalid_reason(area, 0, 256) is None


def test_v11_index_ignores_labelsize_byte() -> None:
    area = _area(LabelVersion.V1_1)
    block = NamespaceIndex.from_bytes(area[0:256])
    _put(area, 0, replace(block, labelsize=1).with_checksum())
    assert index_invalid_reason(area, 0, 128) is None


@pytest.mark.parametrize(("seq0", "seq1", "current"), [
    (3, 2, 0), (3, 1, 1), (1, 2, 1), (2, 3, 1), (1, 1, 1), (2, 1, 0),
])
def test_current_selection(seq0: int, seq1: int, current: int) -> None:
    area = _area()
    for pos, seq in ((0, seq0), (1, seq1)):
        block = NamespaceIndex.from_bytes(area[pos * 256:(pos + 1) * 256])
        _put(area, pos, replace(block, seq=seq).with_checksum())
    assert validate_indexes(area).current == current


@given(st.binary(min_size=256, max_size=256))
def test_block_round_trip(data: bytes) -> None:
    assert NamespaceIndex.from_bytes(data).to_bytes() == data


def test_rewritten_keeps_bitmap() -> None:
    g = Geometry.for_area(128 * KIB, 256)
    block = NamespaceIndex.fresh(g, 0, 3).with_slot(5, free=False)
    new = block.rewritten(g, 1, 1)
    assert (new.myoff, new.otheroff, new.seq) == (256, 0, 1)
    assert not new.is_free(5) and new.is_free(4) and new.free[-1:] == block.free[-1:]
    assert new.checksum == new.computed_checksum()
