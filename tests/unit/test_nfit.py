"""NFIT and SRAT bytes: value types, QEMU's formulas and order, golden tables from a real guest."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from vm_helpers import build

from vnvdimm.acpi.dump import acpi_tables, dump_acpi
from vnvdimm.acpi.header import AcpiTableHeader, verify_checksum
from vnvdimm.acpi.nfit import (
    PERSISTENT_MEMORY_GUID,
    ControlRegion,
    MemDevMap,
    PlatformCapabilities,
    SpaRange,
    UnknownStructure,
    build_fit,
    build_nfit,
    parse_fit,
    parse_nfit,
)
from vnvdimm.acpi.srat import (
    MemoryAffinity,
    ProcessorApicAffinity,
    ProcessorX2ApicAffinity,
    build_srat,
    nvdimm_memory_affinities,
    parse_srat,
)
from vnvdimm.acpi.state import NvdimmAcpiState

DATA = Path(__file__).parent / "data"
MiB = 1 << 20


def _files(tmp_path: Path, *sizes: int) -> list[str]:
    paths = []
    for i, size in enumerate(sizes, 1):
        path = tmp_path / f"nv{i}.img"
        with open(path, "wb") as handle:
            handle.truncate(size)
        paths.append(str(path))
    return paths


def _nv(index: int, path: str, size: str, extra: str = "", dev_id: str | None = None) -> list[str]:
    dev = f"nvdimm,memdev=m{index}" if dev_id == "" else \
        f"nvdimm,id={dev_id or f'nvdimm{index}'},memdev=m{index}"
    return ["-object", f"memory-backend-file,id=m{index},share=on,mem-path={path},size={size}",
            "-device", dev + extra]


# -- value types ----------------------------------------------------------------------

def test_structure_sizes_and_round_trips() -> None:
    spa = SpaRange(2, 3, 1, PERSISTENT_MEMORY_GUID, 0x100000000, 0xFFE0000, 0x8008)
    memdev = MemDevMap(1, 0, 0, 2, 3, 0xFFE0000, 0, 0, 0, 1, 8)
    dcr = ControlRegion(3, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0x123456, 0x301, 0, 0, 0, 0, 0,
                        0, 0)
    caps = PlatformCapabilities.for_persistence(3)
    for value, size in ((spa, 56), (memdev, 48), (dcr, 80), (caps, 16)):
        raw = value.to_bytes()
        assert len(raw) == size == type(value).SIZE
        assert type(value).from_bytes(raw) == value
    assert spa.to_bytes()[16:32] == bytes.fromhex("79d3f066f3b47440ac430d3318b78cdb")
    assert caps.highest_capability == 1 and PlatformCapabilities.for_persistence(2) \
        .highest_capability == 1


def test_from_bytes_rejects_wrong_type_or_length() -> None:
    raw = bytearray(MemDevMap(1, 0, 0, 2, 3, 0, 0, 0, 0, 1, 0).to_bytes())
    with pytest.raises(ValueError):
        SpaRange.from_bytes(raw)
    raw[2] = 47
    with pytest.raises(ValueError):
        MemDevMap.from_bytes(raw)
    with pytest.raises(ValueError):
        MemDevMap.from_bytes(raw[:20])


def test_parse_fit_keeps_unknown_structures_and_rejects_truncation() -> None:
    flush_hint = bytes([6, 0, 8, 0, 1, 2, 3, 4])
    fit = flush_hint + PlatformCapabilities.for_persistence(2).to_bytes()
    parsed = parse_fit(fit)
    assert parsed[0] == UnknownStructure(6, flush_hint)
    assert isinstance(parsed[1], PlatformCapabilities)
    with pytest.raises(ValueError):
        parse_fit(fit[:-1])
    with pytest.raises(ValueError):
        parse_fit(bytes([0, 0, 2, 0]))


# -- built from a machine -------------------------------------------------------------

def test_golden_nfit_and_srat_from_a_real_guest(tmp_path: Path) -> None:
    """Captured from Linux 6.1 under QEMU 7.2 (three nvdimms, two NUMA nodes)."""
    a, b, c = _files(tmp_path, 256 * MiB, 128 * MiB, 128 * MiB)
    argv = ["-machine", "pc,nvdimm=on", "-smp", "2", "-m", "256M,slots=4,maxmem=4G",
            *_nv(1, a, "256M", ",label-size=128K"), *_nv(2, b, "128M", ",node=1"),
            *_nv(3, c, "128M", ",label-size=256K,node=0,unarmed=on"),
            "-object", "memory-backend-ram,id=r0,size=128M",
            "-object", "memory-backend-ram,id=r1,size=128M",
            "-numa", "node,nodeid=0,memdev=r0,cpus=0", "-numa", "node,nodeid=1,memdev=r1,cpus=1"]
    with build(argv, dry_run=True) as machine:
        assert build_nfit(machine) == (DATA / "nfit-pc-3nvdimm-numa.bin").read_bytes()
        # -numa cpus= is not kept by MachineConfig: pass the CPU->node map explicitly
        srat = build_srat(machine, [(0, 0), (1, 1)])
        assert srat == (DATA / "srat-pc-3nvdimm-numa.bin").read_bytes()


def test_dimmpxm_like_upstream_expectation() -> None:
    """QEMU's tests/data/acpi/q35/NFIT.dimmpxm, decoded (reference 7.2)."""
    argv = ["-machine", "q35,nvdimm=on,nvdimm-persistence=cpu", "-smp", "4,sockets=4",
            "-m", "128M,slots=3,maxmem=1G"]
    for i in range(4):
        argv += ["-object", f"memory-backend-ram,id=ram{i},size=32M",
                 "-numa", f"node,nodeid={i},memdev=ram{i}"]
    argv += ["-object", "memory-backend-ram,id=ram4,size=128M",
             "-object", "memory-backend-ram,id=nvm0,size=128M",
             "-device", "pc-dimm,id=dimm0,memdev=ram4,node=1",
             "-device", "nvdimm,id=dimm1,memdev=nvm0,node=2"]
    with build(argv, dry_run=True) as machine:
        table = build_nfit(machine)
    assert table is not None and len(table) == 240 and verify_checksum(table)
    nfit = parse_nfit(table)
    assert nfit.header.oem_id == b"BOCHS " and nfit.header.oem_table_id == b"BXPC    "
    spa, memdev, dcr, caps = nfit.structures
    assert isinstance(spa, SpaRange) and isinstance(memdev, MemDevMap)
    assert isinstance(dcr, ControlRegion) and isinstance(caps, PlatformCapabilities)
    assert (spa.range_index, spa.flags, spa.proximity_domain, spa.address, spa.length,
            spa.memory_attributes) == (4, 3, 2, 0x108000000, 0x8000000, 0x8008)
    assert (memdev.handle, memdev.range_index, memdev.region_index, memdev.interleave_ways,
            memdev.flags) == (2, 4, 5, 1, 0)
    assert (dcr.region_index, dcr.serial_number, dcr.code) == (5, 0x123457, 0x0301)
    assert (caps.highest_capability, caps.capabilities) == (1, 3)
    assert nfit.to_bytes() == table


def test_order_follows_the_qom_walk(tmp_path: Path) -> None:
    paths = _files(tmp_path, *[32 * MiB] * 4)
    argv = ["-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G"]
    for i, path in enumerate(paths, 1):
        argv += _nv(i, path, "32M")
    with build(argv, dry_run=True) as machine:
        table = build_nfit(machine)
    assert table is not None
    handles = [s.handle for s in parse_nfit(table).structures if isinstance(s, MemDevMap)]
    assert handles == [2, 4, 1, 3]  # ids nvdimm2, nvdimm4, nvdimm1, nvdimm3 in GLib order


@pytest.mark.parametrize("machine_opts,slots,expect", [
    ("pc,nvdimm=on", "256M,slots=4,maxmem=4G", True),
    ("q35,nvdimm=on", "256M,slots=4,maxmem=4G", True),
])
def test_nfit_emitted_only_when_qemu_emits_it(tmp_path: Path, machine_opts: str, slots: str,
                                              expect: bool) -> None:
    (path,) = _files(tmp_path, 32 * MiB)
    with build(["-machine", machine_opts, "-m", slots, *_nv(1, path, "32M")],
               dry_run=True) as machine:
        assert (build_nfit(machine) is not None) is expect
    with build(["-machine", machine_opts, "-m", slots], dry_run=True) as machine:
        assert build_nfit(machine) is None  # no nvdimm: SSDT only, no NFIT
        assert build_fit(machine) == b""


def test_unarmed_node_persistence_and_header(tmp_path: Path) -> None:
    (path,) = _files(tmp_path, 64 * MiB)
    argv = ["-machine", "pc,nvdimm=on,nvdimm-persistence=mem-ctrl",
            "-m", "256M,slots=4,maxmem=4G", *_nv(1, path, "64M", ",unarmed=on,slot=3")]
    with build(argv, dry_run=True) as machine:
        table = build_nfit(machine)
    assert table is not None
    header = AcpiTableHeader.from_bytes(table)
    assert (header.signature, header.length, header.revision) == (b"NFIT", len(table), 1)
    assert (header.creator_id, header.creator_revision, header.oem_revision) == (b"BXPC", 1, 1)
    spa, memdev, dcr, caps = parse_nfit(table).structures
    assert isinstance(memdev, MemDevMap) and memdev.flags == 8 and memdev.handle == 4
    assert isinstance(dcr, ControlRegion) and dcr.serial_number == 0x123456 + 3
    assert isinstance(spa, SpaRange) and spa.range_index == 8
    assert isinstance(caps, PlatformCapabilities) and caps.capabilities == 2
    assert spa.range_guid == uuid.UUID("66f0d379-b4f3-4074-ac43-0d3318b78cdb")


def test_fit_rebuilt_and_dirty_on_every_plug(tmp_path: Path) -> None:
    paths = _files(tmp_path, 32 * MiB, 32 * MiB)
    argv = ["-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G", *_nv(1, paths[0], "32M")]
    with build(argv, dry_run=True) as machine:
        state = NvdimmAcpiState.attach(machine)
        assert state.dirty and state.fit == build_fit(machine) and len(state.fit) == 184
        state.dirty = False
        from vnvdimm.backends.schema import ObjectOptions
        machine.object_add(ObjectOptions("memory-backend-file", "m2",
                                         {"size": 32 * MiB, "mem-path": paths[1],
                                          "share": True}))
        machine.device_add({"driver": "nvdimm", "id": "hot", "memdev": "m2"}, keyval=False)
        assert state.dirty and len(state.fit) == 368 and state.fit == build_fit(machine)
        assert state.take_gpe0_status() == 0x10 and state.take_gpe0_status() == 0


# -- SRAT -----------------------------------------------------------------------------

def test_srat_value_types() -> None:
    for value in (ProcessorApicAffinity(0x123456, 7), ProcessorX2ApicAffinity(3, 300),
                  MemoryAffinity(1, 0x100000000, 0x8000000, 5)):
        assert type(value).from_bytes(value.to_bytes()) == value
        assert len(value.to_bytes()) == type(value).SIZE


def test_srat_implicit_node_and_nvdimm_entries(tmp_path: Path) -> None:
    (path,) = _files(tmp_path, 64 * MiB)
    argv = ["-machine", "q35,nvdimm=on", "-m", "256M,slots=2,maxmem=2G",
            *_nv(1, path, "64M", ",label-size=128K")]
    with build(argv, dry_run=True) as machine:
        srat = build_srat(machine)
        entries = nvdimm_memory_affinities(machine)
    assert srat is not None and verify_checksum(srat)
    _, parsed = parse_srat(srat)
    assert parsed == [
        ProcessorApicAffinity(0, 0),
        MemoryAffinity(0, 0, 0xA0000, 1), MemoryAffinity(0, 0x100000, 256 * MiB - 0x100000, 1),
        MemoryAffinity(0, 0x100000000, 64 * MiB - 128 * 1024, 5),
        MemoryAffinity(0, 0x100000000, 2048 * MiB - 256 * MiB + 2 * 1024 * MiB, 3),
    ]
    assert entries == [parsed[3]]


def test_srat_absent_without_numa_and_padded_when_short() -> None:
    with build(["-machine", "pc,nvdimm=on", "-m", "256M"], dry_run=True) as machine:
        assert build_srat(machine) is None
    with build(["-machine", "pc,nvdimm=on", "-m", "256M,slots=1,maxmem=1G"],
               dry_run=True) as machine:
        srat = build_srat(machine)
    assert srat is not None
    _, parsed = parse_srat(srat)
    assert parsed[3] == MemoryAffinity(0, 0, 0, 0)  # padding to num_nodes + 2 entries


def test_dump_acpi_writes_complete_tables(tmp_path: Path) -> None:
    (path,) = _files(tmp_path, 32 * MiB)
    with build(["-machine", "pc,nvdimm=on", "-m", "256M,slots=2,maxmem=2G",
                *_nv(1, path, "32M")], dry_run=True) as machine:
        written = dump_acpi(machine, tmp_path / "out")
        tables = acpi_tables(machine)
    assert sorted(os.path.basename(p) for p in written) == ["NFIT", "SRAT"]
    assert (tmp_path / "out" / "NFIT").read_bytes() == tables["NFIT"]
    assert (tmp_path / "out" / "SRAT").read_bytes() == tables["SRAT"]
