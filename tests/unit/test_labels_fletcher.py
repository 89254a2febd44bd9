"""Fletcher64 against the reference vectors and a literal transcription of the loop."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.labels.fletcher import checksum_with_field_zeroed, fletcher64


def loop_fletcher64(data: bytes, little_endian: bool = True) -> int:
    lo, hi = 0, 0
    for (word,) in struct.iter_unpack("<I" if little_endian else ">I", data):
        lo = (lo + word) & 0xFFFFFFFF
        hi = hi + lo
    return ((hi << 32) | lo) & (2**64 - 1)


def test_reference_vector() -> None:
    assert fletcher64(bytes([1, 0, 0, 0, 2, 0, 0, 0])) == 0x0000000400000003


def test_empty_is_zero() -> None:
    assert fletcher64(b"") == 0


def test_rejects_partial_word() -> None:
    with pytest.raises(ValueError):
        fletcher64(b"\x01\x02\x03")


def test_all_ones_wraps() -> None:
    data = b"\xff" * 4096
    assert fletcher64(data) == loop_fletcher64(data)


@given(st.binary(max_size=1024).map(lambda b: b[: len(b) // 4 * 4]), st.booleans())
def test_matches_the_loop(data: bytes, little_endian: bool) -> None:
    assert fletcher64(data, little_endian=little_endian) == loop_fletcher64(data, little_endian)


def test_field_zeroed() -> None:
    data = bytes(range(64))
    zeroed = bytearray(data)
    zeroed[8:16] = bytes(8)
    assert checksum_with_field_zeroed(data, 8) == fletcher64(bytes(zeroed))
