"""Namespaces on an image: what a Linux 6.1 guest would show, and ndctl's changes to them.

Each image is one QEMU nvdimm, i.e. one 1-way region whose mapping is the
whole pmem area (DPA = offset in the file).  Modes come from the labels'
claim class and the info block at namespace offset 4 KiB, checked as
nd_pfn_validate does.

Guest-physical placement: fsdax/devdax alignment depends on the namespace's
physical address.  These tools assume the NVDIMM's guest-physical address
is a multiple of 2 MiB (QEMU puts the first NVDIMM at the 1 GiB-aligned
start of device memory; later ones follow whole pmem areas, so pmem sizes
that are multiples of 2 MiB keep every NVDIMM aligned).

Every change is planned in full (on an in-memory copy of the label area)
before the first byte is written, so a refused operation changes nothing.
Write order for a create: the namespace's first 8 KiB (zeros and the info
block) while that space is still free, then the labels with the kernel's
two-pass protocol, each write fsync'd: a crash at any point leaves the old
or the new namespace set.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from vnvdimm.guest.sysfs_order import ndctl_order
from vnvdimm.image.file import ImageFile, align_down, align_up
from vnvdimm.labels import (
    BitmapTail,
    BufferMedia,
    ClaimClass,
    LabelArea,
    LabelAreaState,
    LabelError,
    LabelVersion,
    Namespace,
    PfnInfoBlock,
    PfnMode,
    Write,
    btt_arena_is_valid,
    init_writes,
    parse_label_area,
    qemu_nvdimm_cookies,
    validate_pfn_info,
)
from vnvdimm.labels.infoblock import (
    BTT2_INFO_OFFSET,
    INFO_BLOCK_OFFSET,
    INFO_BLOCK_RESERVE,
    INFO_BLOCK_SIZE,
    SZ_2M,
    X86_SUPPORTED_ALIGNMENTS,
)

REGION_ALIGN = 16 << 20  # Linux's default region align (4 KiB for regions below 16 MiB)
PAGE_SIZE = 4096
SECTOR_SIZE = 512
QEMU_SERIAL_BASE = 0x123456
QEMU_VENDOR_ID = 0x8086
MAX_SLOTS = 256


def region_align(pmem_size: int) -> int:
    return REGION_ALIGN if pmem_size >= REGION_ALIGN else PAGE_SIZE


@dataclass(frozen=True)
class NamespaceMode:
    """How the guest would enable a namespace."""

    mode: str  # raw, fsdax, devdax, sector
    size: int  # what ndctl reports (data size for fsdax/devdax)
    map: str | None = None  # fsdax/devdax: mem or dev
    align: int | None = None
    info: PfnInfoBlock | None = None
    problem: str | None = None  # the kernel would not enable it as its labels claim


@dataclass(frozen=True)
class NamespaceInfo:
    index: int  # N of namespaceR.N (Linux numbers by sorted start)
    namespace: Namespace | None  # None: the label-less full-region namespace
    dpa: int
    raw_size: int
    mode: NamespaceMode

    @property
    def uuid(self) -> uuidlib.UUID | None:
        return None if self.namespace is None else self.namespace.uuid

    @property
    def name(self) -> str:
        return "" if self.namespace is None else self.namespace.name


@dataclass
class ImageReport:
    """Everything the tools say about one image."""

    path: str
    slot: int
    size: int
    label_offset: int
    label_size: int
    pmem_size: int
    state: LabelAreaState
    namespaces: list[NamespaceInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the kernel trips over these
    notes: list[str] = field(default_factory=list)  # harmless findings

    @property
    def healthy(self) -> bool:
        return not self.problems


# --- reading

def _read_info(img: ImageFile, dpa: int, offset: int, size: int,
               cache: dict[int, bytes] | None = None) -> bytes:
    if offset + INFO_BLOCK_SIZE > size or dpa + offset + INFO_BLOCK_SIZE > img.layout.pmem_size:
        return b""
    if cache is None:
        return img.pmem_media.read(dpa + offset, INFO_BLOCK_SIZE)
    if offset not in cache:
        cache[offset] = img.pmem_media.read(dpa + offset, INFO_BLOCK_SIZE)
    return cache[offset]


def namespace_mode(img: ImageFile, dpa: int, size: int, parent: uuidlib.UUID,
                   claim: ClaimClass) -> NamespaceMode:
    """nd_pmem_probe: BTT, then PFN, then DAX (as the claim class allows), else raw."""
    cache: dict[int, bytes] = {}  # each info block offset is read once
    if claim in (ClaimClass.NONE, ClaimClass.BTT, ClaimClass.BTT2):
        where = BTT2_INFO_OFFSET if claim is ClaimClass.BTT2 else INFO_BLOCK_OFFSET
        if btt_arena_is_valid(_read_info(img, dpa, where, size, cache), parent):
            return NamespaceMode("sector", size)
    for devdax, claims in ((False, (ClaimClass.NONE, ClaimClass.PFN)),
                           (True, (ClaimClass.NONE, ClaimClass.DAX))):
        if claim not in claims:
            continue
        data = _read_info(img, dpa, INFO_BLOCK_OFFSET, size, cache)
        check = validate_pfn_info(data, devdax=devdax, parent_uuid=parent, start=dpa,
                                  size=size)
        if check.valid and check.block is not None:
            block = check.block
            data_size = size - block.start_pad - block.end_trunc - block.dataoff
            return NamespaceMode("devdax" if devdax else "fsdax", data_size,
                                 "dev" if block.mode == PfnMode.PMEM else "mem",
                                 block.align, block)
        if not check.absent:
            return NamespaceMode("raw", size, problem=f"info block refused: {check.reason}")
    problem = None
    if claim in (ClaimClass.PFN, ClaimClass.DAX, ClaimClass.BTT, ClaimClass.BTT2):
        problem = f"labels claim {claim.value} but there is no valid info block"
    elif claim is ClaimClass.UNKNOWN:
        problem = "unknown abstraction GUID: the kernel refuses the namespace"
    return NamespaceMode("raw", size, problem=problem)


def _slot_for_cookie(cookie: int) -> int | None:
    for slot in range(MAX_SLOTS):
        cookies = qemu_nvdimm_cookies(slot)
        if cookie in (cookies.cookie1, cookies.cookie2, cookies.altcookie):
            return slot
    return None


def report(img: ImageFile) -> ImageReport:
    layout = img.layout
    area = img.labels_media.read(0, layout.label_size)
    state = parse_label_area(area, img.context())
    rep = ImageReport(img.path, img.slot, layout.size, layout.label_offset, layout.label_size,
                      layout.pmem_size, state)
    verdict = state.verdict
    for check in verdict.checks:
        if not check.valid and verdict.valid and check.label_size == verdict.label_size:
            rep.notes.append(f"index block {check.position} invalid ({check.reason}); "
                             "the other one is used")
    if not verdict.valid:
        rep.notes.append("no valid namespace index: the guest sees one label-less namespace")
        mode = namespace_mode(img, 0, layout.pmem_size, uuidlib.UUID(int=0), ClaimClass.NONE)
        rep.namespaces.append(NamespaceInfo(0, None, 0, layout.pmem_size, mode))
        return rep
    if not state.labeling:
        rep.problems.append(f"the kernel ignores the label area: {state.ignored_reason}")
        return rep
    for entry in state.entries:
        if entry.skip_reason is not None:
            rep.problems.append(f"label in slot {entry.slot} is ignored: {entry.skip_reason}")
    for slot, why in state.skipped:
        text = f"label in slot {slot} is skipped: {why}"
        label = next((e.label for e in state.entries if e.slot == slot), None)
        if label is not None and "cookie" in why:
            other = _slot_for_cookie(label.isetcookie)
            if other is not None:
                text += f" (made for the nvdimm in slot {other}, this is slot {img.slot})"
        rep.problems.append(text)
    if state.region_error is not None:
        rep.problems.append(f"the kernel rejects the region's labels: {state.region_error}")
        return rep
    for n, ns in enumerate(state.namespaces):
        mode = namespace_mode(img, ns.dpa, ns.size, ns.uuid, ns.claim_class)
        if mode.problem is not None:
            rep.problems.append(f"namespace {ns.uuid}: {mode.problem}")
        if ns.updating:
            rep.notes.append(f"namespace {ns.uuid}: label still flagged UPDATING "
                             "(an interrupted update; the kernel uses it as is)")
        rep.namespaces.append(NamespaceInfo(n, ns, ns.dpa, ns.size, mode))
    return rep


# --- ndctl list JSON

def human_size(value: int) -> str | int:
    """ndctl's display_size (util/json.c)."""
    if value < 5000 * 1024:
        return value
    if value < 2 << 30:
        c_mib = (value * 200 // (1 << 20) + 1) // 2
        c_mb = (value // (1000000 // 200) + 1) // 2
        return f"{c_mib // 100}.{c_mib % 100:02d} MiB ({c_mb // 100}.{c_mb % 100:02d} MB)"
    c_gib = (value * 200 // (1 << 30) + 1) // 2
    c_gb = (value // (1000000000 // 200) + 1) // 2
    return f"{c_gib // 100}.{c_gib % 100:02d} GiB ({c_gb // 100}.{c_gb % 100:02d} GB)"


def _size(value: int, human: bool) -> int | str:
    return human_size(value) if human else value


def _hex(value: int, human: bool) -> int | str:
    return f"{value:#x}" if human else value


def namespace_json(region: int, info: NamespaceInfo, *, human: bool = False) -> dict[str, Any]:
    """One element of `ndctl list -N`."""
    mode = info.mode
    dev = f"namespace{region}.{info.index}"
    suffix = f".{info.index}" if info.index else ""
    out: dict[str, Any] = {"dev": dev, "mode": mode.mode}
    if mode.map is not None:
        out["map"] = mode.map
    out["size"] = _size(mode.size, human)
    if mode.info is not None:  # ndctl shows the pfn/dax device's uuid, not the label's
        out["uuid"] = str(mode.info.uuid)
    elif info.uuid is not None:
        out["uuid"] = str(info.uuid)
    if mode.mode == "devdax":
        out["chardev"] = f"dax{region}.{info.index}"
        out["align"] = mode.align
    else:
        out["sector_size"] = SECTOR_SIZE
        if mode.mode == "fsdax":
            out["align"] = mode.align
        out["blockdev"] = f"pmem{region}{suffix}"
    if info.name:
        out["name"] = info.name
    return out


def _free_extents(rep: ImageReport) -> list[tuple[int, int]]:
    used = sorted((n.dpa, n.dpa + n.raw_size) for n in rep.namespaces)
    out, cursor = [], 0
    for start, stop in used:
        if start > cursor:
            out.append((cursor, start - cursor))
        cursor = max(cursor, stop)
    if cursor < rep.pmem_size:
        out.append((cursor, rep.pmem_size - cursor))
    return out


def available(rep: ImageReport) -> tuple[int, int]:
    """(available_size, max_available_extent) of a labelled region, region-aligned."""
    if not rep.state.labeling:
        return 0, 0
    align = region_align(rep.pmem_size)
    sizes = []
    for start, length in _free_extents(rep):
        first = align_up(start, align)
        sizes.append(max(align_down(start + length, align) - first, 0))
    return align_down(sum(sizes), align), max(sizes, default=0)


def dimm_json(dimm: int, slot: int, *, human: bool = False) -> dict[str, Any]:
    vendor = int.from_bytes(QEMU_VENDOR_ID.to_bytes(2, "little"), "big")
    serial = int.from_bytes((QEMU_SERIAL_BASE + slot).to_bytes(4, "little"), "big")
    return {"dev": f"nmem{dimm}", "id": f"{vendor:04x}-{serial:08x}",
            "handle": _hex(slot + 1, human), "phys_id": _hex(0, human)}


def region_json(region: int, rep: ImageReport, *, human: bool = False) -> dict[str, Any]:
    avail, extent = available(rep)
    out: dict[str, Any] = {"dev": f"region{region}", "size": _size(rep.pmem_size, human),
                           "align": region_align(rep.pmem_size),
                           "available_size": _size(avail, human),
                           "max_available_extent": _size(extent, human), "type": "pmem"}
    if rep.state.labeling:
        block = rep.state.current_block
        assert block is not None
        cookie = qemu_nvdimm_cookies(rep.slot).for_index_version(block.major, block.minor)
        out["iset_id"] = _hex(cookie, human)
    out["mappings"] = [{"dimm": f"nmem{region}", "offset": 0, "length": rep.pmem_size,
                        "position": 0}]
    out["persistence_domain"] = "unknown"
    return out


def _ordered(items: dict[str, Any]) -> list[Any]:
    return [items[name] for name in ndctl_order(items)]


def _region_namespaces(region: int, rep: ImageReport, human: bool) -> list[dict[str, Any]]:
    return _ordered({f"namespace{region}.{n.index}": namespace_json(region, n, human=human)
                     for n in rep.namespaces})


def ndctl_list(reports: list[ImageReport], *, dimms: bool = False, regions: bool = False,
               namespaces: bool = False, human: bool = False) -> Any:
    """`ndctl list` over images numbered nmemN/regionN in command-line order.

    Devices come in libndctl's order (sysfs readdir order, reversed).
    """
    if not (dimms or regions or namespaces):
        namespaces = True
    out: dict[str, Any] = {}
    by_region = {f"region{i}": (i, r) for i, r in enumerate(reports)}
    if dimms:
        out["dimms"] = _ordered({f"nmem{i}": dimm_json(i, r.slot, human=human)
                                 for i, r in enumerate(reports)})
    if regions:
        out["regions"] = []
        for name in ndctl_order(by_region):
            i, rep = by_region[name]
            value = region_json(i, rep, human=human)
            if namespaces and rep.namespaces:
                value["namespaces"] = _region_namespaces(i, rep, human)
            out["regions"].append(value)
    elif namespaces:
        out["namespaces"] = [ns for name in ndctl_order(by_region)
                             for ns in _region_namespaces(*by_region[name], human)]
    if len(out) == 1:
        # util_display_json_array(): a lone device is printed bare only with -u
        # (ndctl list never checks isatty; a real guest prints `[{...}]` for one namespace)
        value = next(iter(out.values()))
        return value[0] if human and isinstance(value, list) and len(value) == 1 else value
    return out


# --- read-labels -j

def _guid_bytes(guid: uuidlib.UUID | None) -> bytes:
    return (guid or uuidlib.UUID(int=0)).bytes_le


def read_labels_json(dimm: int, area: bytes, *, human: bool = False) -> dict[str, Any]:
    """ndctl's dump_json: both index headers, then every slot whose label names that slot."""
    from vnvdimm.labels.index import NamespaceIndex, validate_indexes
    from vnvdimm.labels.label import NamespaceLabel

    verdict = validate_indexes(area)
    label_size = verdict.label_size or 128  # ndctl's default when no index validates
    index_size = 256
    for check in verdict.checks:
        if check.valid and check.block is not None:
            index_size = check.block.mysize
            break
    indexes = []
    for pos in range(2):
        raw = area[pos * index_size:(pos + 1) * index_size]
        block = NamespaceIndex.from_bytes(raw)
        indexes.append({"signature": block.signature.split(b"\0", 1)[0].decode("latin-1"),
                        "major": block.major, "minor": block.minor,
                        "labelsize": 1 << (7 + block.labelsize), "seq": block.seq,
                        "nslot": block.nslot})
    labels = []
    for slot, offset in enumerate(range(2 * index_size, len(area) - label_size + 1,
                                        label_size)):
        label = NamespaceLabel.from_bytes(area[offset:offset + label_size])
        if label.slot != slot:
            continue
        entry: dict[str, Any] = {
            "uuid": str(label.uuid), "name": label.name_bytes[:63].split(b"\0", 1)[0]
            .decode("utf-8", "replace"), "slot": label.slot, "position": label.position,
            "nlabel": label.nlabel, "flags": _hex(label.flags, human),
            "isetcookie": _hex(label.isetcookie, human), "lbasize": label.lbasize,
            "dpa": _hex(label.dpa, human), "rawsize": _hex(label.rawsize, human)}
        if label_size >= 256:
            # ndctl uuid_unparse()s the raw on-media bytes (GUIDs are stored little-endian)
            entry["type_guid"] = str(uuidlib.UUID(bytes=_guid_bytes(label.type_guid)))
            entry["abstraction_guid"] = str(uuidlib.UUID(
                bytes=_guid_bytes(label.abstraction_guid)))
        labels.append(entry)
    out: dict[str, Any] = {"dev": f"nmem{dimm}", "index": indexes}
    if labels:
        out["label"] = labels
    return out


# --- changes

@dataclass(frozen=True)
class Plan:
    """Every write of one operation, in order: pmem, label area, then pmem again."""

    pmem: tuple[Write, ...]
    labels: tuple[Write, ...]
    after: tuple[Write, ...] = ()


def apply(img: ImageFile, plan: Plan) -> None:
    for w in plan.pmem:
        img.pmem_media.write(w.offset, w.data)
    for w in plan.labels:
        img.labels_media.write(w.offset, w.data)
    for w in plan.after:
        img.pmem_media.write(w.offset, w.data)


def _simulate(img: ImageFile) -> tuple[bytearray, LabelArea]:
    buffer = bytearray(img.labels_media.read(0, img.layout.label_size))
    return buffer, LabelArea(BufferMedia(buffer), len(buffer), img.context())


def plan_init(img: ImageFile, version: LabelVersion) -> Plan:
    area = img.labels_media.read(0, img.layout.label_size)
    return Plan((), tuple(init_writes(area, version, BitmapTail.NDCTL)))


@dataclass(frozen=True)
class CreateRequest:
    mode: str = "fsdax"
    size: int | None = None
    name: str = ""
    uuid: uuidlib.UUID | None = None
    align: int | None = None
    map: str | None = None
    version: LabelVersion = LabelVersion.V1_2  # for auto-labelling a blank image


def plan_create(img: ImageFile, req: CreateRequest) -> tuple[Plan, uuidlib.UUID]:
    """ndctl create-namespace on this image's region, planned without writing."""
    if req.mode == "sector":
        raise LabelError("sector mode is not supported: vnvdimm cannot write a BTT yet")
    if req.mode not in ("raw", "fsdax", "devdax"):
        raise LabelError(f"unknown mode '{req.mode}'")
    if req.mode == "raw" and (req.map or req.align):
        raise LabelError("--map and --align are not valid for raw mode")
    map_ = req.map or "dev"
    if map_ not in ("mem", "dev"):
        raise LabelError(f"invalid --map '{map_}'")
    if req.mode == "devdax" and map_ == "mem":
        raise LabelError("devdax mode does not support --map=mem")
    align = req.align or SZ_2M
    if req.mode != "raw" and align not in X86_SUPPORTED_ALIGNMENTS:
        raise LabelError(f"align {align:#x} is not supported (4K, 2M or 1G)")
    buffer, area = _simulate(img)
    label_writes: list[Write] = []
    state = parse_label_area(bytes(buffer), img.context())
    if not state.verdict.valid:  # ndctl auto-labels a label-less region
        writes = init_writes(bytes(buffer), req.version, BitmapTail.NDCTL)
        for w in writes:
            buffer[w.offset:w.offset + len(w.data)] = w.data
        label_writes += writes
        state = parse_label_area(bytes(buffer), img.context())
    if not state.labeling:
        raise LabelError(f"the kernel ignores this label area: {state.ignored_reason}")
    if state.region_error is not None:
        raise LabelError(f"the kernel rejects this region's labels: {state.region_error}")
    ralign = region_align(img.layout.pmem_size)
    if req.size is not None:
        if req.size <= 0 or req.size % ralign:
            raise LabelError(f"region{0}: align setting is {ralign:#x} size {req.size:#x} "
                             "is misaligned")
        size = req.size
    else:
        size = max((align_down(s + n, ralign) - align_up(s, ralign)
                    for s, n in area.free_extents(state)), default=0)
        if size <= 0:
            raise LabelError("no free capacity in the region")
    ns_uuid = req.uuid or uuidlib.uuid4()
    try:
        dpa = area.allocate_dpa(size, ralign)
    except LabelError:
        raise LabelError(f"insufficient capacity for a {size:#x}-byte namespace") from None
    v12 = state.label_size == 256
    claim = ClaimClass.NONE
    if v12 and req.mode == "fsdax":
        claim = ClaimClass.PFN
    elif v12 and req.mode == "devdax":
        claim = ClaimClass.DAX
    # Linux 6.1 records the 512-byte sector size in v1.2 labels
    label_writes += area.plan_create(ns_uuid=ns_uuid, dpa=dpa, rawsize=size, name=req.name,
                                     lbasize=SECTOR_SIZE if v12 else 0, claim_class=claim)
    head = bytearray(INFO_BLOCK_RESERVE)  # clears stale BTT/PFN/DAX blocks too
    if req.mode != "raw":
        block = PfnInfoBlock.create(
            devdax=req.mode == "devdax", uuid_=uuidlib.uuid4(), parent_uuid=ns_uuid,
            start=dpa, size=size, mode=PfnMode.PMEM if map_ == "dev" else PfnMode.RAM,
            align=align)
        head[INFO_BLOCK_OFFSET:INFO_BLOCK_OFFSET + INFO_BLOCK_SIZE] = block.to_bytes()
    pmem = (Write(dpa, bytes(head), "namespace info area"),)
    return Plan(pmem, tuple(label_writes)), ns_uuid


def find_namespace(rep: ImageReport, region: int, which: str) -> NamespaceInfo | None:
    for info in rep.namespaces:
        if info.namespace is None:
            continue
        if which in (f"namespace{region}.{info.index}", str(info.uuid), info.name):
            return info
    return None


def plan_destroy(img: ImageFile, info: NamespaceInfo) -> Plan:
    """Free the labels (one index write), then clear the info block in the freed space."""
    assert info.namespace is not None
    _, area = _simulate(img)
    label_writes = area.plan_delete(info.namespace.uuid)
    after: tuple[Write, ...] = ()
    if info.mode.mode != "raw":  # as ndctl's zero_info_block, once the labels are gone
        after = (Write(info.dpa, bytes(INFO_BLOCK_RESERVE), "clear info block"),)
    return Plan((), tuple(label_writes), after)
