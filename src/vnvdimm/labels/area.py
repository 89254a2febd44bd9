"""A label storage area as a whole: what Linux reads from it, and safe updates to it.

``parse_label_area`` is pure: bytes in, the kernel's view out (current
index, in-use slots and which of them it skips, the DPA reservation check,
and the namespaces scan_labels would create for a 1-way region such as
every QEMU nvdimm has).

``LabelArea`` applies ndctl's init-labels and the kernel's two-pass update
protocol to any ``Media`` (anything with ``read``/``write`` at offsets):

* create / reconfigure: pass 1 writes the label with ``UPDATING`` into the
  lowest free slot of the staging ("next") index, frees the namespace's old
  label there, writes that index with the next sequence number (it becomes
  current); pass 2 does the same with flags 0, freeing the pass-1 label;
* destroy: free the namespace's slots in the staging index, write it.

Labels only go into slots that are free in the current index, and each
commit is one index-block write, so after any single write (even a torn
one) the area reads as the old or the new committed state.  Every write of
an operation is planned before the first one is made: a refused operation
writes nothing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from vnvdimm.labels.cookies import InterleaveSetCookies, qemu_nvdimm_cookies
from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.index import (
    BitmapTail,
    Geometry,
    IndexVerdict,
    LabelVersion,
    NamespaceIndex,
    next_seq,
    validate_indexes,
)
from vnvdimm.labels.label import (
    PMEM_TYPE_GUID,
    ClaimClass,
    LabelFlags,
    NamespaceLabel,
    parsed_label_skip_reason,
)

_U64 = (1 << 64) - 1


class Media(Protocol):
    """Byte-addressed storage holding a label area (a file, a buffer, a DSM channel)."""

    def read(self, offset: int, size: int) -> bytes: ...

    def write(self, offset: int, data: bytes) -> None: ...


class BufferMedia:
    """Media over a writable in-memory buffer."""

    def __init__(self, buffer: bytearray | memoryview) -> None:
        self._buffer = buffer

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset + size > len(self._buffer):
            raise LabelError(f"read of {size} bytes at {offset:#x} is outside the label area")
        return bytes(self._buffer[offset:offset + size])

    def write(self, offset: int, data: bytes) -> None:
        if offset < 0 or offset + len(data) > len(self._buffer):
            raise LabelError(
                f"write of {len(data)} bytes at {offset:#x} is outside the label area")
        self._buffer[offset:offset + len(data)] = data


@dataclass(frozen=True)
class RegionContext:
    """What the kernel knows about the region the DIMM's labels must match.

    Without ``cookies`` the cookie check is skipped; without ``mapping_size``
    the DPA range checks are.  ``region_base`` is the region's physical
    address (a namespace starts at region_base + dpa - mapping_start).
    """

    cookies: InterleaveSetCookies | None = None
    mapping_start: int = 0
    mapping_size: int | None = None
    region_base: int = 0
    type_guid: uuid.UUID = PMEM_TYPE_GUID

    @classmethod
    def qemu(cls, slot: int, pmem_size: int | None = None, addr: int = 0) -> RegionContext:
        """The 1-way region QEMU's NFIT describes for the nvdimm in ``slot``."""
        return cls(qemu_nvdimm_cookies(slot), 0, pmem_size, addr, PMEM_TYPE_GUID)


@dataclass(frozen=True)
class SlotEntry:
    """An in-use slot of the current index and whether slot_valid() keeps its label."""

    slot: int
    label: NamespaceLabel | None  # None when the slot lies outside the area
    skip_reason: str | None

    @property
    def valid(self) -> bool:
        return self.skip_reason is None


@dataclass(frozen=True)
class Namespace:
    """A namespace as the kernel reconstructs it from its position-0 label."""

    uuid: uuid.UUID
    name: str
    size: int
    dpa: int
    start: int  # physical address
    lbasize: int
    claim_class: ClaimClass
    slot: int
    label: NamespaceLabel

    @property
    def updating(self) -> bool:
        return self.label.updating


@dataclass(frozen=True)
class LabelAreaState:
    """The kernel's view of one label area."""

    config_size: int
    verdict: IndexVerdict
    entries: tuple[SlotEntry, ...] = ()
    labeling: bool = False  # NDD_LABELING: the region is label-driven
    ignored_reason: str | None = None  # why labels are ignored when not labeling
    namespaces: tuple[Namespace, ...] = ()
    region_error: str | None = None  # scan_labels failed: the region shows no namespace
    skipped: tuple[tuple[int, str], ...] = ()  # (slot, why) for labels scan_labels passed over

    @property
    def label_size(self) -> int | None:
        return self.verdict.label_size

    @property
    def current(self) -> int | None:
        return self.verdict.current

    @property
    def current_block(self) -> NamespaceIndex | None:
        return self.verdict.current_block

    @property
    def version(self) -> LabelVersion | None:
        size = self.verdict.label_size
        return None if size is None else LabelVersion.for_label_size(size)

    @property
    def geometry(self) -> Geometry | None:
        size = self.verdict.label_size
        return None if size is None else Geometry.for_area(self.config_size, size)

    @property
    def valid_labels(self) -> tuple[SlotEntry, ...]:
        return tuple(e for e in self.entries if e.valid)

    def free_slot_count(self) -> int:
        block = self.current_block
        return 0 if block is None else sum(1 for _ in block.free_slots())

    def namespace(self, ns_uuid: uuid.UUID) -> Namespace | None:
        return next((ns for ns in self.namespaces if ns.uuid == ns_uuid), None)


# --- the kernel's reading of an area

def _active_entries(area: bytes | bytearray | memoryview, verdict: IndexVerdict,
                    ) -> tuple[SlotEntry, ...]:
    """nd_label_active: in-use slots of the current index, each judged by slot_valid."""
    block = verdict.current_block
    size = verdict.label_size
    if block is None or size is None:
        return ()
    geometry = Geometry.for_area(len(area), size)
    entries = []
    for slot in block.used_slots():
        offset = geometry.slot_offset(slot)
        if offset + size > len(area):
            entries.append(SlotEntry(slot, None, f"slot{slot} lies outside the label area"))
            continue
        raw = area[offset:offset + size]
        label = NamespaceLabel.from_bytes(raw)
        entries.append(SlotEntry(slot, label, parsed_label_skip_reason(label, raw, slot)))
    return tuple(entries)


def _reserve_dpa(entries: Sequence[SlotEntry]) -> str | None:
    """nd_label_reserve_dpa: every valid label's DPA range must be claimable, disjoint.

    A failure (-EBUSY) fails the DIMM probe, so the DIMM never gets
    NDD_LABELING and its region is treated as label-less.
    """
    ranges: list[tuple[int, int, int]] = []
    for entry in entries:
        if not entry.valid or entry.label is None:
            continue
        start = entry.label.dpa
        end = (start + entry.label.rawsize - 1) & _U64  # resource_size_t arithmetic
        if end < start:
            return f"slot{entry.slot}: DPA range {start:#x}+{entry.label.rawsize:#x} invalid"
        ranges.append((start, end, entry.slot))
    ranges.sort()
    for (_, end, _slot), (start, _, slot) in itertools.pairwise(ranges):
        if start <= end:  # any two busy resources that overlap conflict
            return f"slot{slot}: DPA range at {start:#x} overlaps another label"
    return None


class _RegionScanError(Exception):
    pass


class _LabelList:
    """nd_mapping->labels: a linked list that select_pmem_id reorders while scanning."""

    def __init__(self, entries: Sequence[SlotEntry]) -> None:
        self.head: int | None = entries[0].slot if entries else None
        self.entry = {e.slot: e for e in entries}
        self.next: dict[int, int | None] = {}
        self.prev: dict[int, int | None] = {}
        for i, e in enumerate(entries):
            self.prev[e.slot] = entries[i - 1].slot if i else None
            self.next[e.slot] = entries[i + 1].slot if i + 1 < len(entries) else None

    def move_to_front(self, slot: int) -> None:
        if self.head == slot:
            return
        before, after = self.prev[slot], self.next[slot]
        if before is not None:
            self.next[before] = after
        if after is not None:
            self.prev[after] = before
        self.prev[slot], self.next[slot] = None, self.head
        if self.head is not None:
            self.prev[self.head] = slot
        self.head = slot

    def iterate_safe(self) -> Iterator[SlotEntry]:
        """list_for_each_entry_safe: the successor is taken before the body runs."""
        current = self.head
        while current is not None:
            successor = self.next[current]
            yield self.entry[current]
            current = successor


def _scan_labels(entries: Sequence[SlotEntry], block: NamespaceIndex, label_size: int,
                 ctx: RegionContext) -> tuple[list[Namespace], list[tuple[int, str]]]:
    """scan_labels + create_namespace_pmem for a 1-way region (nr = 1, position 0)."""
    nr = 1
    usable = [e for e in entries if e.valid and e.label is not None]
    labels = _LabelList(usable)
    # Moving a uuid's first label to the front keeps each uuid's labels in slot order,
    # so the per-uuid scans below can walk these groups instead of the whole list.
    groups: dict[uuid.UUID, list[SlotEntry]] = {}
    for e in usable:
        assert e.label is not None
        groups.setdefault(e.label.uuid, []).append(e)
    created_uuids: set[uuid.UUID] = set()
    skipped: list[tuple[int, str]] = []
    created: list[Namespace] = []
    cookies = ctx.cookies
    cookie = cookies.for_index_version(block.major, block.minor) if cookies else None
    altcookie = cookies.altcookie if cookies else None
    map_end = None if ctx.mapping_size is None else ctx.mapping_start + ctx.mapping_size - 1

    def has_uuid_at_pos(ns_uuid: uuid.UUID, want: int | None, pos: int) -> bool:
        found_uuid = False
        for entry in groups[ns_uuid]:
            lbl = entry.label
            assert lbl is not None
            if want is not None and lbl.isetcookie != want:
                continue
            if label_size >= 256 and lbl.type_guid != ctx.type_guid:
                continue
            if found_uuid:
                raise _RegionScanError(f"duplicate entry for uuid {ns_uuid}")
            found_uuid = True
            if lbl.nlabel != nr or lbl.position != pos:
                continue
            return True
        return False

    for entry in labels.iterate_safe():
        lbl = entry.label
        assert lbl is not None
        if map_end is not None and not ctx.mapping_start <= lbl.dpa <= map_end:
            skipped.append((entry.slot, "label describes an extent outside the region"))
            continue
        if lbl.uuid in created_uuids:
            raise _RegionScanError(f"error: conflicting extents for uuid: {lbl.uuid}")
        if cookies is not None:
            if cookie == 0:
                raise _RegionScanError("invalid interleave-set-cookie")
            if lbl.isetcookie not in (cookie, altcookie):
                skipped.append((entry.slot, f"invalid cookie in label: {lbl.uuid}"))
                continue
        for pos in range(nr):
            if not (has_uuid_at_pos(lbl.uuid, cookie, pos)
                    or has_uuid_at_pos(lbl.uuid, altcookie, pos)):
                raise _RegionScanError(f"missing label for {lbl.uuid}")
        # select_pmem_id: the first label with this uuid, whatever its cookie
        chosen = groups[lbl.uuid][0]
        label0 = chosen.label
        assert label0 is not None
        if ctx.mapping_size is not None:
            hw_start, hw_end = ctx.mapping_start, ctx.mapping_start + ctx.mapping_size
            pmem_start, pmem_end = label0.dpa, label0.dpa + label0.rawsize
            if not (hw_start <= pmem_start < hw_end and hw_start < pmem_end <= hw_end):
                raise _RegionScanError(f"invalid label for {label0.uuid}")
        labels.move_to_front(chosen.slot)
        if label0.position != 0:
            raise _RegionScanError(f"no position-0 label for {label0.uuid}")
        created_uuids.add(label0.uuid)
        created.append(Namespace(
            uuid=label0.uuid, name=label0.name, size=label0.rawsize, dpa=label0.dpa,
            start=ctx.region_base + label0.dpa - ctx.mapping_start, lbasize=label0.lbasize,
            claim_class=label0.claim_class, slot=chosen.slot, label=label0))
    # the kernel sorts by a byte-wise compare of the little-endian start address
    created.sort(key=lambda ns: (ns.start & _U64).to_bytes(8, "little"))
    return created, skipped


def parse_label_area(area: bytes | bytearray | memoryview,
                     context: RegionContext | None = None) -> LabelAreaState:
    """What Linux 6.1 makes of this label area on a DIMM in a 1-way region."""
    ctx = context or RegionContext()
    verdict = validate_indexes(area)
    if not verdict.valid:
        return LabelAreaState(len(area), verdict, ignored_reason="no valid namespace index")
    entries = _active_entries(area, verdict)
    conflict = _reserve_dpa(entries)
    if conflict is not None:
        return LabelAreaState(len(area), verdict, entries, ignored_reason=conflict)
    block = verdict.current_block
    assert block is not None and verdict.label_size is not None
    try:
        namespaces, skipped = _scan_labels(entries, block, verdict.label_size, ctx)
    except _RegionScanError as exc:
        return LabelAreaState(len(area), verdict, entries, labeling=True, region_error=str(exc))
    return LabelAreaState(len(area), verdict, entries, labeling=True,
                          namespaces=tuple(namespaces), skipped=tuple(skipped))


# --- writing

@dataclass(frozen=True)
class Write:
    """One planned media write."""

    offset: int
    data: bytes
    what: str


def init_writes(existing: bytes | bytearray | memoryview, version: LabelVersion,
                tail: BitmapTail = BitmapTail.NDCTL) -> list[Write]:
    """The two index-block writes of ``ndctl init-labels -V version`` (block 0 seq 3, 1 seq 2).

    ndctl fills the bitmap bytes up to ALIGN(nslot, 64) and leaves the rest
    of each block as it read it from the media; the kernel's own
    initialisation (BitmapTail.KERNEL) zeroes that padding.
    """
    geometry = Geometry.for_area(len(existing), version.label_size)
    writes = []
    for position in (0, 1):
        offset = geometry.index_offset(position)
        padding = None
        if tail is BitmapTail.NDCTL:
            padding = bytes(existing[offset + 72:offset + geometry.index_size])
        block = NamespaceIndex.fresh(geometry, position, 3 - position, tail, padding=padding)
        writes.append(Write(offset, block.to_bytes(), f"index{position} seq {3 - position}"))
    return writes


class LabelArea:
    """One DIMM's label area on some media, updated with the kernel's protocol."""

    def __init__(self, media: Media, config_size: int,
                 context: RegionContext | None = None) -> None:
        self.media = media
        self.config_size = config_size
        self.context = context or RegionContext()

    def read(self) -> bytes:
        return self.media.read(0, self.config_size)

    def state(self) -> LabelAreaState:
        return parse_label_area(self.read(), self.context)

    def _apply(self, writes: Sequence[Write]) -> None:
        for w in writes:
            self.media.write(w.offset, w.data)

    # -- init-labels / zero-labels

    def init(self, version: LabelVersion = LabelVersion.V1_1,
             tail: BitmapTail = BitmapTail.NDCTL) -> None:
        self._apply(init_writes(self.read(), version, tail))

    def zero(self) -> None:
        self.media.write(0, bytes(self.config_size))

    # -- namespaces

    def _cookie(self, state: LabelAreaState) -> int:
        block = state.current_block
        assert block is not None
        if self.context.cookies is None:
            raise LabelError("the region's interleave-set cookies are needed to write labels")
        return self.context.cookies.for_index_version(block.major, block.minor)

    def _writable_state(self) -> tuple[LabelAreaState, Geometry, NamespaceIndex]:
        state = self.state()
        if not state.verdict.valid:
            raise LabelError("the label area has no valid namespace index (init-labels first)")
        if not state.labeling:
            raise LabelError(f"the kernel ignores this label area: {state.ignored_reason}")
        geometry = state.geometry
        block = state.current_block
        assert geometry is not None and block is not None
        return state, geometry, block

    def _check_extent(self, state: LabelAreaState, dpa: int, rawsize: int,
                      ignore: uuid.UUID | None) -> None:
        if rawsize <= 0:
            raise LabelError("namespace size must be > 0")
        if dpa < 0 or dpa + rawsize - 1 > _U64:
            raise LabelError(f"invalid DPA range {dpa:#x}+{rawsize:#x}")
        ctx = self.context
        if ctx.mapping_size is not None and not (
                ctx.mapping_start <= dpa and dpa + rawsize <= ctx.mapping_start + ctx.mapping_size):
            raise LabelError(f"DPA range {dpa:#x}+{rawsize:#x} is outside the region")
        for entry in state.valid_labels:
            lbl = entry.label
            assert lbl is not None
            if ignore is not None and lbl.uuid == ignore:
                continue
            if dpa < lbl.dpa + lbl.rawsize and lbl.dpa < dpa + rawsize:
                raise LabelError(f"DPA range {dpa:#x}+{rawsize:#x} overlaps namespace {lbl.uuid}")

    def _two_pass(self, geometry: Geometry, block: NamespaceIndex, current: int,
                  victims: Sequence[int], make: Callable[[int, int], NamespaceLabel],
                  ) -> list[Write]:
        """Plan nd_pmem_namespace_label_update's writes for one DIMM."""
        writes: list[Write] = []
        staged, position, seq = block, 1 - current, block.seq
        for flags in (int(LabelFlags.UPDATING), 0):
            slot = staged.first_free_slot()
            if slot is None:
                raise LabelError("no free label slot")
            staged = staged.with_slot(slot, free=False)
            label = make(slot, flags)
            writes.append(Write(geometry.slot_offset(slot), label.to_bytes(),
                                f"label slot {slot} flags {flags:#x}"))
            for victim in victims:
                staged = staged.with_slot(victim, free=True)
            seq = next_seq(seq)
            staged = staged.rewritten(geometry, position, seq)
            writes.append(Write(geometry.index_offset(position), staged.to_bytes(),
                                f"index{position} seq {seq}"))
            victims, position = [slot], 1 - position
        return writes

    def plan_create(self, *, ns_uuid: uuid.UUID, dpa: int, rawsize: int, name: str = "",
                    lbasize: int = 0, claim_class: ClaimClass = ClaimClass.NONE,
                    ) -> list[Write]:
        state, geometry, block = self._writable_state()
        if state.region_error is not None:
            raise LabelError(f"the kernel rejects this region's labels: {state.region_error}")
        if any(e.label is not None and e.label.uuid == ns_uuid for e in state.valid_labels):
            raise LabelError(f"namespace {ns_uuid} already exists")
        self._check_extent(state, dpa, rawsize, None)
        cookie = self._cookie(state)
        assert state.current is not None

        def make(slot: int, flags: int) -> NamespaceLabel:
            return NamespaceLabel.create(
                version_size=geometry.label_size, uuid_=ns_uuid, slot=slot, dpa=dpa,
                rawsize=rawsize, isetcookie=cookie, name=name, flags=flags, lbasize=lbasize,
                claim_class=claim_class, type_guid=self.context.type_guid)

        return self._two_pass(geometry, block, state.current, [], make)

    def plan_update(self, ns_uuid: uuid.UUID, *, dpa: int | None = None,
                    rawsize: int | None = None, name: str | None = None,
                    lbasize: int | None = None, claim_class: ClaimClass | None = None,
                    ) -> list[Write]:
        state, geometry, block = self._writable_state()
        if state.region_error is not None:
            raise LabelError(f"the kernel rejects this region's labels: {state.region_error}")
        old = state.namespace(ns_uuid)
        if old is None:
            raise LabelError(f"no namespace {ns_uuid}")
        new_dpa = old.dpa if dpa is None else dpa
        new_size = old.size if rawsize is None else rawsize
        self._check_extent(state, new_dpa, new_size, ns_uuid)
        victims = [e.slot for e in state.valid_labels
                   if e.label is not None and e.label.uuid == ns_uuid]
        cookie = self._cookie(state)
        new_name = old.name if name is None else name
        new_lbasize = old.lbasize if lbasize is None else lbasize
        keep_guid = old.label.abstraction_guid if claim_class is None else None
        new_claim = old.claim_class if claim_class is None else claim_class
        assert state.current is not None

        def make(slot: int, flags: int) -> NamespaceLabel:
            return NamespaceLabel.create(
                version_size=geometry.label_size, uuid_=ns_uuid, slot=slot, dpa=new_dpa,
                rawsize=new_size, isetcookie=cookie, name=new_name, flags=flags,
                lbasize=new_lbasize, claim_class=new_claim,
                abstraction_guid=keep_guid if new_claim is ClaimClass.UNKNOWN else None,
                type_guid=self.context.type_guid)

        return self._two_pass(geometry, block, state.current, victims, make)

    def plan_delete(self, ns_uuid: uuid.UUID) -> list[Write]:
        state, geometry, block = self._writable_state()
        victims = [e.slot for e in state.valid_labels
                   if e.label is not None and e.label.uuid == ns_uuid]
        if not victims:
            raise LabelError(f"no namespace {ns_uuid}")
        assert state.current is not None
        staged = block
        for slot in victims:
            staged = staged.with_slot(slot, free=True)
        position, seq = 1 - state.current, next_seq(block.seq)
        staged = staged.rewritten(geometry, position, seq)
        return [Write(geometry.index_offset(position), staged.to_bytes(),
                      f"index{position} seq {seq}")]

    def create_namespace(self, *, ns_uuid: uuid.UUID, dpa: int, rawsize: int, name: str = "",
                         lbasize: int = 0, claim_class: ClaimClass = ClaimClass.NONE,
                         ) -> Namespace:
        self._apply(self.plan_create(ns_uuid=ns_uuid, dpa=dpa, rawsize=rawsize, name=name,
                                     lbasize=lbasize, claim_class=claim_class))
        return self._after(ns_uuid)

    def update_namespace(self, ns_uuid: uuid.UUID, *, dpa: int | None = None,
                         rawsize: int | None = None, name: str | None = None,
                         lbasize: int | None = None, claim_class: ClaimClass | None = None,
                         ) -> Namespace:
        self._apply(self.plan_update(ns_uuid, dpa=dpa, rawsize=rawsize, name=name,
                                     lbasize=lbasize, claim_class=claim_class))
        return self._after(ns_uuid)

    def delete_namespace(self, ns_uuid: uuid.UUID) -> None:
        self._apply(self.plan_delete(ns_uuid))

    def _after(self, ns_uuid: uuid.UUID) -> Namespace:
        ns = self.state().namespace(ns_uuid)
        if ns is None:  # pragma: no cover - would mean the plan is wrong
            raise LabelError(f"namespace {ns_uuid} did not appear after the update")
        return ns

    # -- DPA allocation

    def free_extents(self, state: LabelAreaState | None = None) -> list[tuple[int, int]]:
        """Unused (dpa, size) ranges of the region's mapping, lowest first."""
        st = state or self.state()
        ctx = self.context
        if ctx.mapping_size is None:
            raise LabelError("the region's mapping size is needed to allocate DPA")
        used = sorted((e.label.dpa, e.label.dpa + e.label.rawsize)
                      for e in st.valid_labels if e.label is not None)
        extents, cursor = [], ctx.mapping_start
        end = ctx.mapping_start + ctx.mapping_size
        for start, stop in used:
            if start > cursor:
                extents.append((cursor, min(start, end) - cursor))
            cursor = max(cursor, stop)
        if cursor < end:
            extents.append((cursor, end - cursor))
        return [(s, n) for s, n in extents if n > 0]

    def allocate_dpa(self, size: int, align: int = 1) -> int:
        """The lowest ``align``-aligned DPA with ``size`` free bytes."""
        for start, length in self.free_extents():
            aligned = (start + align - 1) // align * align
            if aligned + size <= start + length:
                return aligned
        raise LabelError(f"no free extent of {size:#x} bytes")
