"""The guest-physical memory interface over real mappings."""

from __future__ import annotations

import pytest

from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.guest_memory import GuestMemory, GuestRegion


def _memory() -> tuple[GuestMemory, bytearray, bytearray]:
    low, high = bytearray(4096), bytearray(8192)
    memory = GuestMemory()
    memory.add(GuestRegion(0x1000, memoryview(high), "high"))
    memory.add(GuestRegion(0, memoryview(low), "low"))
    return memory, low, high


def test_read_write_across_adjacent_regions() -> None:
    memory, low, high = _memory()
    memory.write(0xFFE, b"abcd")
    assert low[-2:] == b"ab" and high[:2] == b"cd"
    assert memory.read(0xFFE, 4) == b"abcd"


def test_unbacked_address_is_named() -> None:
    memory, _, _ = _memory()
    with pytest.raises(VnvdimmError, match="0x3000 is not backed"):
        memory.read(0x3000, 1)
    with pytest.raises(VnvdimmError, match="0x3000 is not backed"):
        memory.write(0x2FFF, b"xy")


def test_view_is_zero_copy_and_bounded() -> None:
    memory, _, high = _memory()
    view = memory.view(0x1010, 16)
    view[0] = 0x5A
    assert high[0x10] == 0x5A
    with pytest.raises(VnvdimmError, match="crosses the end of high"):
        memory.view(0x2FF0, 32)


def test_overlap_refused() -> None:
    memory, _, _ = _memory()
    with pytest.raises(VnvdimmError, match="overlaps"):
        memory.add(GuestRegion(0x800, memoryview(bytearray(16)), "x"))


def test_read_only_region_refuses_writes() -> None:
    memory = GuestMemory()
    memory.add(GuestRegion(0, memoryview(bytes(16)), "rom"))
    with pytest.raises(VnvdimmError, match="read-only"):
        memory.write(4, b"z")
