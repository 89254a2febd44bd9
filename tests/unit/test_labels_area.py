"""LabelArea: the kernel's reading of whole areas, the two-pass protocol, crash safety, fuzz."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnvdimm.labels.area import (
    BufferMedia,
    LabelArea,
    LabelAreaState,
    RegionContext,
    parse_label_area,
)
from vnvdimm.labels.cookies import qemu_nvdimm_cookies
from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.index import BitmapTail, Geometry, LabelVersion, NamespaceIndex
from vnvdimm.labels.label import ClaimClass, LabelFlags, NamespaceLabel

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
LSA = 128 * KIB
PMEM = 1 * GIB
CTX = RegionContext.qemu(0, PMEM, addr=0x1_4000_0000)
A, B, C = (uuid.UUID(int=n) for n in (0xA1, 0xB2, 0xC3))


def fresh(version: LabelVersion = LabelVersion.V1_2,
          tail: BitmapTail = BitmapTail.NDCTL) -> tuple[bytearray, LabelArea]:
    buf = bytearray(LSA)
    area = LabelArea(BufferMedia(buf), LSA, CTX)
    area.init(version, tail)
    return buf, area


Summary = tuple[bool, str | None, tuple[tuple[uuid.UUID, str, int, int, ClaimClass], ...]]


def summary(state: LabelAreaState) -> Summary:
    return (state.labeling, state.region_error,
            tuple(sorted((ns.uuid, ns.name, ns.size, ns.dpa, ns.claim_class)
                         for ns in state.namespaces)))


def test_init_and_empty_state() -> None:
    for version in LabelVersion:
        _, area = fresh(version)
        st_ = area.state()
        assert st_.labeling and st_.current == 0 and st_.namespaces == ()
        assert st_.version is version
        assert st_.free_slot_count() == (1020 if version is LabelVersion.V1_1 else 510)


def test_ndctl_init_keeps_padding_kernel_init_zeroes_it() -> None:
    buf = bytearray(b"\x5a" * LSA)
    LabelArea(BufferMedia(buf), LSA, CTX).init(LabelVersion.V1_2, BitmapTail.NDCTL)
    assert buf[72 + 64:256] == b"\x5a" * (256 - 136)
    assert parse_label_area(buf, CTX).labeling
    buf2 = bytearray(b"\x5a" * LSA)
    LabelArea(BufferMedia(buf2), LSA, CTX).init(LabelVersion.V1_2, BitmapTail.KERNEL)
    assert buf2[72 + 64:256] == bytes(120)


def test_blank_area_is_label_less() -> None:
    st_ = parse_label_area(bytes(LSA), CTX)
    assert not st_.labeling and st_.ignored_reason == "no valid namespace index"
    with pytest.raises(LabelError, match="init-labels"):
        LabelArea(BufferMedia(bytearray(LSA)), LSA, CTX).plan_create(ns_uuid=A, dpa=0,
                                                                      rawsize=MIB)


@pytest.mark.parametrize("version", list(LabelVersion))
def test_create_update_delete(version: LabelVersion) -> None:
    _buf, area = fresh(version)
    ns = area.create_namespace(ns_uuid=A, dpa=0, rawsize=256 * MIB, name="one", lbasize=512,
                               claim_class=ClaimClass.PFN)
    assert (ns.name, ns.size, ns.start, ns.updating) == ("one", 256 * MIB, 0x1_4000_0000, False)
    expected_claim = ClaimClass.PFN if version is LabelVersion.V1_2 else ClaimClass.NONE
    assert ns.claim_class is expected_claim
    state = area.state()
    assert state.current_block is not None and state.current_block.seq == 2  # 3 -> 1 -> 2
    assert [e.slot for e in state.entries] == [1]  # pass 1 used slot 0, pass 2 slot 1
    cookies = qemu_nvdimm_cookies(0)
    assert ns.label.isetcookie == (cookies.cookie1 if version is LabelVersion.V1_1
                                   else cookies.cookie2)
    area.create_namespace(ns_uuid=B, dpa=area.allocate_dpa(128 * MIB, 16 * MIB),
                          rawsize=128 * MIB)
    area.update_namespace(A, name="renamed", rawsize=128 * MIB)
    names = {ns.uuid: (ns.name, ns.size) for ns in area.state().namespaces}
    assert names == {A: ("renamed", 128 * MIB), B: ("", 128 * MIB)}
    area.delete_namespace(A)
    assert [ns.uuid for ns in area.state().namespaces] == [B]
    assert len(area.state().entries) == 1


def test_refusals_write_nothing() -> None:
    buf, area = fresh()
    area.create_namespace(ns_uuid=A, dpa=0, rawsize=256 * MIB)
    before = bytes(buf)
    for attempt in (
        lambda: area.create_namespace(ns_uuid=A, dpa=512 * MIB, rawsize=MIB),
        lambda: area.create_namespace(ns_uuid=B, dpa=128 * MIB, rawsize=256 * MIB),
        lambda: area.create_namespace(ns_uuid=B, dpa=PMEM - MIB, rawsize=2 * MIB),
        lambda: area.create_namespace(ns_uuid=B, dpa=0, rawsize=0),
        lambda: area.create_namespace(ns_uuid=B, dpa=512 * MIB, rawsize=MIB, name="x" * 70),
        lambda: area.update_namespace(C, name="nope"),
        lambda: area.delete_namespace(C),
    ):
        with pytest.raises(LabelError):
            attempt()
        assert bytes(buf) == before


def test_full_area_refuses() -> None:
    buf, area = fresh()
    geometry = Geometry.for_area(LSA, 256)
    block = NamespaceIndex.from_bytes(buf[0:256])
    for slot in range(geometry.nslot - 1):
        block = block.with_slot(slot, free=False)
    buf[0:256] = block.with_checksum().to_bytes()  # junk slots fail slot_valid; one slot left
    before = bytes(buf)
    with pytest.raises(LabelError, match="no free label slot"):
        area.create_namespace(ns_uuid=A, dpa=0, rawsize=MIB)
    assert bytes(buf) == before


# --- the kernel's rules on reading

def _write_label(buf: bytearray, label: NamespaceLabel, *, at: int | None = None) -> None:
    """Put a label in a slot (its own by default), used in the current index (block 0)."""
    slot = label.slot if at is None else at
    g = Geometry.for_area(len(buf), label.size)
    off = g.slot_offset(slot)
    buf[off:off + label.size] = label.to_bytes()
    block = NamespaceIndex.from_bytes(buf[0:g.index_size]).with_slot(slot, free=False)
    buf[0:g.index_size] = block.with_checksum().to_bytes()


def _label(slot: int, **kw: object) -> NamespaceLabel:
    args: dict[str, object] = dict(version_size=256, uuid_=A, slot=slot, dpa=0, rawsize=64 * MIB,
                                   isetcookie=qemu_nvdimm_cookies(0).cookie2)
    args.update(kw)
    return NamespaceLabel.create(**args)  # type: ignore[arg-type]


def test_labels_from_another_slot_are_skipped() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0, isetcookie=qemu_nvdimm_cookies(1).cookie2))
    state = parse_label_area(buf, CTX)
    assert state.labeling and state.namespaces == ()
    assert "invalid cookie" in state.skipped[0][1]
    assert len(parse_label_area(buf, RegionContext.qemu(1, PMEM)).namespaces) == 1


def test_v12_label_with_cookie1_passes_as_altcookie() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0, isetcookie=qemu_nvdimm_cookies(0).cookie1))
    assert len(parse_label_area(buf, CTX).namespaces) == 1


def test_updating_label_still_counts() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0, flags=int(LabelFlags.UPDATING)))
    (ns,) = parse_label_area(buf, CTX).namespaces
    assert ns.updating


def test_duplicate_uuid_fails_the_region() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0))
    _write_label(buf, _label(1, dpa=512 * MIB))
    state = parse_label_area(buf, CTX)
    # the first label passes has_uuid_at_pos (it stops at the first match); the second
    # then collides with the namespace just made: either way scan_labels fails
    assert "conflicting extents" in (state.region_error or "")
    assert state.namespaces == ()


def test_overlapping_dpa_makes_area_ignored() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0))
    _write_label(buf, _label(1, uuid_=B, dpa=32 * MIB))
    state = parse_label_area(buf, CTX)
    assert not state.labeling and "overlaps" in (state.ignored_reason or "")


def test_zero_rawsize_makes_area_ignored() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0, dpa=MIB, rawsize=0))
    assert not parse_label_area(buf, CTX).labeling


def test_wrong_nlabel_fails_region_wrong_type_guid_too() -> None:
    for bad in (dict(nlabel=2), dict(position=1), dict(type_guid=uuid.uuid4())):
        buf, _ = fresh()
        _write_label(buf, _label(0, **bad))
        state = parse_label_area(buf, CTX)
        assert "missing label" in (state.region_error or ""), bad


def test_bad_checksum_and_slot_are_skipped_labels() -> None:
    buf, _ = fresh()
    _write_label(buf, replace(_label(0), checksum=1))
    _write_label(buf, _label(9, uuid_=B, dpa=512 * MIB), at=1)
    state = parse_label_area(buf, CTX)
    assert state.labeling and state.namespaces == ()
    assert [e.valid for e in state.entries] == [False, False]


def test_extent_outside_region() -> None:
    buf, _ = fresh()
    _write_label(buf, _label(0, dpa=2 * GIB))
    state = parse_label_area(buf, CTX)
    assert state.namespaces == () and "outside the region" in state.skipped[0][1]
    buf, _ = fresh()
    _write_label(buf, _label(0, dpa=PMEM - MIB, rawsize=2 * MIB))
    assert "invalid label" in (parse_label_area(buf, CTX).region_error or "")


def test_namespace_order_is_bytewise_start() -> None:
    _buf, area = fresh()
    area.create_namespace(ns_uuid=A, dpa=0x100 * MIB, rawsize=MIB)  # start ...40_0000 + 256M
    area.create_namespace(ns_uuid=B, dpa=0x1 * MIB, rawsize=MIB)
    starts = [ns.start for ns in area.state().namespaces]
    keys = [s.to_bytes(8, "little") for s in starts]
    assert keys == sorted(keys)


# --- crash safety

class Crash(Exception):
    pass


class FaultyMedia(BufferMedia):
    """Stops after ``budget`` writes; with ``torn`` the next write lands half-way first."""

    def __init__(self, buffer: bytearray, budget: int, torn: bool) -> None:
        super().__init__(buffer)
        self.budget, self.torn = budget, torn

    def write(self, offset: int, data: bytes) -> None:
        if self.budget == 0:
            if self.torn:
                super().write(offset, data[: len(data) // 2])
            raise Crash
        self.budget -= 1
        super().write(offset, data)


Op = Callable[[LabelArea], object]

OPS: dict[str, Op] = {
    "create": lambda a: a.create_namespace(ns_uuid=C, dpa=768 * MIB, rawsize=64 * MIB,
                                           name="new", claim_class=ClaimClass.DAX),
    "reconfigure": lambda a: a.update_namespace(A, name="grown", rawsize=512 * MIB),
    "rename-other": lambda a: a.update_namespace(B, name="b2", claim_class=ClaimClass.BTT),
    "destroy": lambda a: a.delete_namespace(A),
}


def _prepared(version: LabelVersion, rounds: int) -> bytearray:
    buf, area = fresh(version)
    area.create_namespace(ns_uuid=A, dpa=0, rawsize=256 * MIB, name="a")
    area.create_namespace(ns_uuid=B, dpa=600 * MIB, rawsize=64 * MIB, name="b")
    for n in range(rounds):  # move the sequence numbers around
        area.update_namespace(B, name=f"b{n}")
    return buf


@pytest.mark.parametrize("version", list(LabelVersion))
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("rounds", [0, 1, 2])
@pytest.mark.parametrize("torn", [False, True])
def test_crash_after_every_write(version: LabelVersion, op: str, rounds: int,
                                 torn: bool) -> None:
    base = _prepared(version, rounds)
    old = summary(parse_label_area(base, CTX))
    done = bytearray(base)
    OPS[op](LabelArea(BufferMedia(done), LSA, CTX))
    new = summary(parse_label_area(done, CTX))
    assert new != old
    writes = {"destroy": 1}.get(op, 4)
    seen = set()
    for budget in range(writes + 1):
        buf = bytearray(base)
        area = LabelArea(FaultyMedia(buf, budget, torn), LSA, CTX)
        try:
            OPS[op](area)
        except Crash:
            assert budget < writes
        else:
            assert budget == writes
        state = parse_label_area(buf, CTX)
        got = summary(state)
        assert got in (old, new), (budget, got)
        assert state.labeling and state.region_error is None  # img check would pass
        seen.add(got)
        # and the area stays writable from there on
        LabelArea(BufferMedia(buf), LSA, CTX).create_namespace(ns_uuid=uuid.uuid4(),
                                                               dpa=900 * MIB, rawsize=MIB)
    if not torn:  # a torn write may equal the whole write when its tail matches the media
        assert seen == {old, new}


def test_crash_during_init_over_old_labels() -> None:
    base = _prepared(LabelVersion.V1_2, 1)
    old = summary(parse_label_area(base, CTX))
    for budget in range(3):
        buf = bytearray(base)
        with contextlib.suppress(Crash):
            LabelArea(FaultyMedia(buf, budget, False), LSA, CTX).init(LabelVersion.V1_2)
        got = summary(parse_label_area(buf, CTX))
        assert got in (old, (True, None, ()))


# --- fuzz: the parser never crashes and is self-consistent

def _check_consistent(area: bytes) -> None:
    state = parse_label_area(area, CTX)
    if not state.verdict.valid:
        assert not state.labeling and state.namespaces == () and state.entries == ()
        return
    assert state.label_size in (128, 256)
    block = state.current_block
    assert block is not None
    assert [e.slot for e in state.entries] == list(block.used_slots())
    if not state.labeling:
        assert state.namespaces == () and state.ignored_reason
    if state.region_error is not None:
        assert state.namespaces == ()
    valid_uuids = [e.label.uuid for e in state.entries if e.valid and e.label]
    for ns in state.namespaces:
        assert ns.uuid in valid_uuids
    assert len({ns.uuid for ns in state.namespaces}) == len(state.namespaces)


_GOOD: list[bytes] = []


def _good_areas() -> list[bytes]:
    if not _GOOD:
        for version in LabelVersion:
            _GOOD.append(bytes(_prepared(version, 1)))
            _GOOD.append(bytes(fresh(version, BitmapTail.KERNEL)[0]))
    return _GOOD


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), st.lists(st.tuples(st.integers(0, LSA - 1), st.integers(0, 255)),
                                   min_size=1, max_size=12))
def test_mutated_areas(which: int, flips: list[tuple[int, int]]) -> None:
    area = bytearray(_good_areas()[which])
    for offset, value in flips:
        # bias towards the index blocks and the first label slots
        area[offset % 2048 if value & 1 else offset] = value
    _check_consistent(bytes(area))


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=0, max_size=4096), st.sampled_from([0, 512, 1024, 4096, LSA]))
def test_random_areas(data: bytes, size: int) -> None:
    area = (data * (size // max(1, len(data)) + 1))[:size] if data else bytes(size)
    _check_consistent(area)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3), st.integers(0, 255), st.integers(0, 255))
def test_index_mutation_keeps_other_block(which: int, offset: int, value: int) -> None:
    """Corrupting one index block never loses namespaces when the other is an older copy."""
    area = bytearray(_good_areas()[which])
    state = parse_label_area(bytes(area), CTX)
    assert state.current is not None
    current = state.current
    pos = current * 256 + offset
    if area[pos] == value:
        return
    area[pos] = value
    after = parse_label_area(bytes(area), CTX)
    # either the block still validates (a harmless byte) or the other block takes over
    assert after.verdict.valid
