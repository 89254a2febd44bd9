"""Namespace labels v1.1 / v1.2: layout, claim-class GUIDs, checksum, skip rules."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.label import (
    PMEM_TYPE_GUID,
    ClaimClass,
    LabelFlags,
    NamespaceLabel,
    label_skip_reason,
)

U = uuid.UUID("11223344-5566-7788-99aa-bbccddeeff00")


def make(size: int = 256, **kw: object) -> NamespaceLabel:
    args: dict[str, object] = dict(version_size=size, uuid_=U, slot=7, dpa=0x1000000,
                                   rawsize=0x2000000, isetcookie=0x1234, name="data",
                                   lbasize=512)
    args.update(kw)
    return NamespaceLabel.create(**args)  # type: ignore[arg-type]


def test_v12_layout() -> None:
    raw = make(claim_class=ClaimClass.PFN).to_bytes()
    assert len(raw) == 256
    assert raw[0:16] == U.bytes
    assert raw[16:21] == b"data\x00"
    assert raw[84:86] == b"\x01\x00" and raw[120:124] == b"\x07\x00\x00\x00"
    assert raw[128:144] == PMEM_TYPE_GUID.bytes_le
    # the PFN GUID as it appears on media (label-format.md 6.3)
    assert raw[144:160] == bytes.fromhex("ba006426 9ffb 7746 bcb0 968f11d0d225".replace(" ", ""))
    assert NamespaceLabel.from_bytes(raw).checksum_ok


def test_v11_layout_has_no_checksum() -> None:
    label = make(128)
    assert label.size == 128 and label.checksum is None and label.claim_class is ClaimClass.NONE
    assert len(label.to_bytes()) == 128 and label.checksum_ok


@pytest.mark.parametrize("claim", [c for c in ClaimClass if c is not ClaimClass.UNKNOWN])
def test_claim_round_trip(claim: ClaimClass) -> None:
    label = NamespaceLabel.from_bytes(make(claim_class=claim).to_bytes())
    assert label.claim_class is claim


def test_unknown_claim_kept() -> None:
    odd = uuid.uuid4()
    label = make(abstraction_guid=odd)
    assert label.claim_class is ClaimClass.UNKNOWN and label.abstraction_guid == odd


def test_skip_reasons() -> None:
    good = make().to_bytes()
    assert label_skip_reason(good, 7) is None
    assert "invalid slot" in (label_skip_reason(good, 8) or "")
    flipped = bytearray(good)
    flipped[200] ^= 1
    assert "checksum" in (label_skip_reason(bytes(flipped), 7) or "")
    # 128-byte labels have no checksum: the same flip in a v1.1 label is kept
    v11 = bytearray(make(128).to_bytes())
    v11[100] ^= 1
    assert label_skip_reason(bytes(v11), 7) is None


def test_unaligned_dpa_is_accepted() -> None:
    """Linux 6.1 dropped the 4 KiB dpa/rawsize alignment check."""
    assert label_skip_reason(make(dpa=0x1001, rawsize=0x1003).to_bytes(), 7) is None


def test_flags_and_name() -> None:
    label = make(flags=int(LabelFlags.UPDATING))
    assert label.updating and label.label_flags == LabelFlags.UPDATING
    assert make(name="").name == ""
    full = replace(make(), name_bytes=b"x" * 64)
    assert full.name == "x" * 64
    with pytest.raises(LabelError):
        make(name="y" * 64)


@given(st.binary(min_size=128, max_size=128) | st.binary(min_size=256, max_size=256))
def test_round_trip(data: bytes) -> None:
    assert NamespaceLabel.from_bytes(data).to_bytes() == data
