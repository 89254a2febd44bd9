"""PFN/DAX info blocks as nd_pfn_init writes and nd_pfn_validate checks them; BTT reading."""

from __future__ import annotations

import struct
import uuid
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import fletcher64
from vnvdimm.labels.infoblock import (
    BTT_SIG,
    INFO_BLOCK_SIZE,
    SZ_1G,
    SZ_2M,
    BttInfoBlock,
    PfnInfoBlock,
    PfnMode,
    btt_arena_is_valid,
    validate_pfn_info,
)

NS = uuid.UUID("9c2f0e52-41c6-4f1a-9c0d-3f6c29a1b7e4")
PFN_UUID = uuid.UUID("0b3d2a55-0c2a-44a1-8a27-7cd1f1e7d0aa")
START = 0x1_4000_0000
SIZE = 1 << 30


def test_map_mem() -> None:
    b = PfnInfoBlock.create(devdax=False, uuid_=PFN_UUID, parent_uuid=NS, start=START,
                            size=SIZE, mode=PfnMode.RAM)
    assert b.dataoff == SZ_2M  # ALIGN(start + 8K, 2M) - start
    assert b.npfns == (SIZE - SZ_2M) // 4096 and b.end_trunc == 0
    assert (b.version_major, b.version_minor, b.align, b.page_size, b.page_struct_size) == (
        1, 4, SZ_2M, 4096, 64)
    raw = b.to_bytes()
    assert len(raw) == INFO_BLOCK_SIZE and raw[:16] == b"NVDIMM_PFN_INFO\x00"
    summed = bytearray(raw)
    summed[4088:] = bytes(8)
    assert struct.unpack_from("<Q", raw, 4088)[0] == fletcher64(bytes(summed))
    assert validate_pfn_info(raw, devdax=False, parent_uuid=NS, start=START, size=SIZE).valid


def test_map_dev() -> None:
    b = PfnInfoBlock.create(devdax=False, uuid_=PFN_UUID, parent_uuid=NS, start=START,
                            size=SIZE, mode=PfnMode.PMEM)
    npfns0 = (SIZE - 8192) // 4096
    expected = (START + 8192 + 64 * npfns0 + SZ_2M - 1) // SZ_2M * SZ_2M - START
    assert b.dataoff == expected == 18 << 20
    assert b.npfns == (SIZE - expected) // 4096 and b.mode == 2


def test_devdax_alignment() -> None:
    b = PfnInfoBlock.create(devdax=True, uuid_=PFN_UUID, parent_uuid=NS, start=START,
                            size=2 * SIZE + SZ_2M, mode=PfnMode.PMEM, align=SZ_1G)
    assert b.is_dax and b.align == SZ_1G and b.dataoff == SZ_1G and b.end_trunc == SZ_2M
    check = validate_pfn_info(b.to_bytes(), devdax=True, parent_uuid=NS, start=START,
                              size=2 * SIZE + SZ_2M)
    assert check.valid
    odd = replace(b, align=SZ_2M * 3)
    odd = replace(odd, checksum=odd.computed_checksum())
    reason = validate_pfn_info(odd.to_bytes(), devdax=True, parent_uuid=NS, start=START,
                               size=2 * SIZE + SZ_2M).reason
    assert "alignment" in (reason or "")


def test_refusals() -> None:
    with pytest.raises(LabelError, match="misaligned"):
        PfnInfoBlock.create(devdax=False, uuid_=PFN_UUID, parent_uuid=NS, start=START + 4096,
                            size=SIZE, mode=PfnMode.RAM)
    with pytest.raises(LabelError, match="alignment"):
        PfnInfoBlock.create(devdax=False, uuid_=PFN_UUID, parent_uuid=NS, start=START,
                            size=SZ_2M, mode=PfnMode.RAM)


def test_validation_absent_cases() -> None:
    raw = PfnInfoBlock.create(devdax=False, uuid_=PFN_UUID, parent_uuid=NS, start=START,
                              size=SIZE, mode=PfnMode.RAM).to_bytes()
    kw = dict(parent_uuid=NS, start=START, size=SIZE)
    assert validate_pfn_info(raw, devdax=True, **kw).absent  # type: ignore[arg-type]
    flipped = bytearray(raw)
    flipped[1000] ^= 1
    assert validate_pfn_info(bytes(flipped), devdax=False, **kw).absent  # type: ignore[arg-type]
    other = validate_pfn_info(raw, devdax=False, parent_uuid=uuid.uuid4(), start=START, size=SIZE)
    assert other.absent
    moved = validate_pfn_info(raw, devdax=False, parent_uuid=NS, start=START + SZ_1G // 2 + 4096,
                              size=SIZE)
    assert not moved.valid and not moved.absent


def test_kata_style_block() -> None:
    """Label-less image: minor 2, mode RAM, dataoff = align = 2 MiB, zero uuids."""
    zero = uuid.UUID(int=0)
    b = PfnInfoBlock(b"NVDIMM_PFN_INFO\x00", zero, zero, 0, 1, 2, SZ_2M, (SIZE - SZ_2M) // 4096,
                     1, 0, 0, SZ_2M, 0, 0, bytes(3994), 0)
    b = replace(b, checksum=b.computed_checksum())
    assert validate_pfn_info(b.to_bytes(), devdax=False, parent_uuid=zero, start=START,
                             size=SIZE).valid


def _btt(parent: uuid.UUID) -> bytes:
    b = BttInfoBlock(BTT_SIG, uuid.uuid4(), parent, 0, 1, 1, 4096, 1000, 4096, 1256, 256, 4096,
                     0, 4096, 1 << 20, 2 << 20, (3 << 20) - 4096, bytes(3968), 0)
    return replace(b, checksum=b.computed_checksum()).to_bytes()


def test_btt_read() -> None:
    raw = _btt(NS)
    assert BttInfoBlock.from_bytes(raw).to_bytes() == raw
    assert btt_arena_is_valid(raw, NS)
    assert not btt_arena_is_valid(raw, uuid.uuid4())
    assert btt_arena_is_valid(_btt(uuid.UUID(int=0)), uuid.uuid4())  # unset parent: not checked
    bad = bytearray(raw)
    bad[300] ^= 1
    assert not btt_arena_is_valid(bytes(bad), NS)


@settings(suppress_health_check=[HealthCheck.large_base_example], max_examples=50)
@given(st.binary(min_size=4096, max_size=4096))
def test_round_trips(data: bytes) -> None:
    assert PfnInfoBlock.from_bytes(data).to_bytes() == data
    assert BttInfoBlock.from_bytes(data).to_bytes() == data
    validate_pfn_info(data, devdax=False, parent_uuid=NS, start=START, size=SIZE)
