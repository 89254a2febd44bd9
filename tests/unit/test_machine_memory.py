"""Whole-machine guarantees: refused configurations never damage files, and
`dry_run=True` (what `vnvdimm check` uses) touches nothing yet agrees with a real build.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
from vm_helpers import (
    NVDIMM_PC,
    GiB,
    MiB,
    build,
    escape,
    layout,
    outcome,
    stat_state,
    tree_state,
)

from vnvdimm.errors import VnvdimmError

MEM = ["-m", "1G,slots=4,maxmem=8G"]


def _populate(d: Path) -> None:
    """The files every case may refer to: {d}/data.img, empty.img, small.img, dir/."""
    with open(d / "data.img", "wb") as handle:
        for page in range(8 * MiB // 4096):
            handle.write(page.to_bytes(4, "little") * 1024)
    (d / "empty.img").touch()
    (d / "small.img").write_bytes(b"\x5a" * MiB)
    (d / "dir").mkdir()
    (d / "dir" / "keep.txt").write_text("keep me")


def _expand(args: list[str], d: Path) -> list[str]:
    return [a.replace("{d}", escape(d)) for a in args]


def _file(obj_id: str, name: str, size: str = "8M", extra: str = "") -> list[str]:
    return ["-object",
            f"memory-backend-file,id={obj_id},size={size},mem-path={{d}}/{name}{extra}"]


# -- refused configurations leave every file as it was ---------------------------------------

REFUSED: dict[str, tuple[list[str], str]] = {
    "existing-smaller-non-empty-file": (
        [*NVDIMM_PC, *MEM, *_file("m", "small.img", "8M", ",share=on")],
        "backing store size 0x100000 does not match 'size' option 0x800000"),
    "created-file-then-device-error": (
        [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M", ",share=on"),
         "-device", "nvdimm,memdev=m,label-size=1K"],
        "Property 'nvdimm.label-size' (0x400) is required at least 0x20000"),
    "created-file-then-unknown-memdev": (
        [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M", ",share=on"),
         "-device", "nvdimm,memdev=m", "-device", "nvdimm,memdev=nope"],
        "Device 'nope' not found"),
    "created-file-then-second-object-error": (
        [*NVDIMM_PC, *MEM, *_file("a", "a.img"), *_file("b", "b.img", "8M", ",align=3M")],
        "alignment 0x300000 must be a power of two"),
    "readonly-without-unarmed-existing": (
        [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",readonly=on"),
         "-device", "nvdimm,memdev=m"],
        "'unarmed' property must be 'on' since memdev m is read-only"),
    "readonly-without-unarmed-created": (
        [*NVDIMM_PC, *MEM, *_file("m", "ro-new.img", "8M", ",readonly=on"),
         "-device", "nvdimm,memdev=m"],
        "'unarmed' property must be 'on' since memdev m is read-only"),
    "bad-align-new-file": (
        [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M", ",align=3M")],
        "alignment 0x300000 must be a power of two"),
    "bad-align-existing-file": (
        [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",align=6K,share=on")],
        "alignment 0x1800 must be multiples of page size 0x1000"),
    "empty-file-sized-then-device-error": (
        [*NVDIMM_PC, *MEM, *_file("m", "empty.img", "8M", ",share=on"),
         "-device", "nvdimm,memdev=m,slot=9"],
        "invalid slot number 9, valid range is [0-3]"),
    "empty-file-sized-prealloc-then-device-error": (
        [*NVDIMM_PC, *MEM, *_file("m", "empty.img", "8M", ",share=on,prealloc=on"),
         "-device", "nvdimm,memdev=m,node=2"],
        "'DIMM property node has value 2' which exceeds the number of numa nodes: 1"),
    "empty-file-sized-then-board-error": (
        [*NVDIMM_PC, "-m", "1G,slots=300,maxmem=2G", *_file("m", "empty.img", "8M")],
        "unsupported amount of memory slots: 300"),
    "created-file-then-numa-error": (
        [*NVDIMM_PC, "-m", "64M", *_file("r", "ram.img", "32M", ",share=on"),
         "-numa", "node,memdev=r"],
        "total memory for NUMA nodes (0x2000000) should equal RAM size (0x4000000)"),
    "created-file-then-reserved-ram-id": (
        [*NVDIMM_PC, "-m", "64M", *_file("pc.ram", "ram.img", "64M")],
        "object name 'pc.ram' is reserved for the default RAM backend, it can't be used for "
        "any other purposes. Change the object's 'id' to something else"),
    "created-file-readonly-prealloc": (
        [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M", ",readonly=on,prealloc=on")],
        "qemu_prealloc_mem: preallocating memory failed: Bad address"),
    "existing-shared-file-prealloc-then-error": (
        [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",share=on,prealloc=on"),
         "-device", "nvdimm,memdev=m,label-size=8M"],
        "the size of memdev m (0x800000) is too small to contain nvdimm label (0x800000) and "
        "aligned PMEM (0x1000)"),
    "directory-mem-path-then-error": (
        [*NVDIMM_PC, *MEM, *_file("m", "dir", "8M", ",share=on"),
         "-device", "nvdimm,memdev=m,uuid=bad"],
        "Property 'nvdimm.uuid' has invalid value"),
    "two-files-then-machine-memory-mismatch": (
        [*NVDIMM_PC, "-machine", "memory-backend=r", "-m", "64M",
         *_file("r", "ram.img", "32M", ",share=on"), *_file("x", "empty.img", "4M")],
        "Machine memory size does not match the size of the memory backend"),
}

_DISCARD_CASE = (
    [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",share=on,discard-data=on"),
     "-device", "nvdimm,memdev=m,label-size=1K"],
    "Property 'nvdimm.label-size' (0x400) is required at least 0x20000")

_DRY_PREALLOC_BUG = (
    "fixed: dry_run never preallocates, so readonly=on,prealloc=on (always refused by a real "
    "build: 'qemu_prealloc_mem: preallocating memory failed: Bad address') is accepted by "
    "`vnvdimm check`")


def _refused_params(*, dry_run: bool) -> list[object]:
    params: list[object] = []
    for name, (args, message) in [*REFUSED.items(),
                                  ("existing-file-discard-data-then-error", _DISCARD_CASE)]:
        params.append(pytest.param(args, message, id=name))
    return params


@pytest.mark.parametrize(("args", "message"), _refused_params(dry_run=False))
def test_refused_configuration_leaves_files_unchanged(tmp_path: Path, args: list[str],
                                                      message: str) -> None:
    _populate(tmp_path)
    before = tree_state(tmp_path)
    argv = _expand(args, tmp_path)
    with pytest.raises(VnvdimmError) as info:
        build(argv)
    assert info.value.message == message
    assert tree_state(tmp_path) == before  # same names (no stray file), sizes and contents
    assert (tmp_path / "empty.img").stat().st_size == 0


@pytest.mark.parametrize(("args", "message"), _refused_params(dry_run=True))
def test_dry_run_refuses_the_same_way_and_touches_nothing(tmp_path: Path, args: list[str],
                                                          message: str) -> None:
    _populate(tmp_path)
    before = stat_state(tmp_path)
    with pytest.raises(VnvdimmError) as info:
        build(_expand(args, tmp_path), dry_run=True)
    assert info.value.message == message
    assert stat_state(tmp_path) == before


def test_refused_object_add_at_runtime_leaves_no_file(tmp_path: Path) -> None:
    from vnvdimm.backends.schema import ObjectOptions

    _populate(tmp_path)
    before = tree_state(tmp_path)
    with build([*NVDIMM_PC, *MEM]) as m:
        for props in ({"size": 8 * MiB, "mem-path": str(tmp_path / "n.img"), "align": 3 * MiB},
                      {"size": 8 * MiB, "mem-path": str(tmp_path / "small.img")},
                      {"size": 8 * MiB, "mem-path": str(tmp_path / "empty.img"),
                       "readonly": True, "prealloc": True}):
            with pytest.raises(VnvdimmError):
                m.object_add(ObjectOptions("memory-backend-file", "x", props))
            assert "x" not in m.objects
            assert tree_state(tmp_path) == before
    assert tree_state(tmp_path) == before


# -- dry_run: nothing created, opened for writing, or mapped -----------------------------------

_ACCEPTED_EVERYTHING = [
    *NVDIMM_PC, "-m", "8G,slots=4,maxmem=16G",
    *_file("a", "data.img", "8M", ",share=on"),
    *_file("b", "empty.img", "8M", ",share=on"),
    *_file("c", "new.img", "64M", ",share=on,align=2M,prealloc=on"),
    *_file("d", "dir", "8M"),
    "-device", "nvdimm,id=na,memdev=a,label-size=128K",
    "-device", "nvdimm,id=nb,memdev=b",
    "-device", "nvdimm,id=nc,memdev=c,label-size=256K",
    "-device", "nvdimm,id=nd,memdev=d,slot=3",
]


def _fd_targets() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
    return sorted(out)


def _vm_size_kib() -> int:
    match = re.search(r"^VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert match
    return int(match.group(1))


def test_dry_run_creates_opens_and_maps_nothing(tmp_path: Path) -> None:
    _populate(tmp_path)
    before = stat_state(tmp_path)
    fds_before = _fd_targets()
    vm_before = _vm_size_kib()
    with build(_expand(_ACCEPTED_EVERYTHING, tmp_path), dry_run=True) as m:
        assert stat_state(tmp_path) == before  # no new file, no size/mtime/ctime/inode change
        assert not (tmp_path / "new.img").exists()
        assert _fd_targets() == fds_before  # nothing left open
        maps = Path("/proc/self/maps").read_text()
        assert str(tmp_path) not in maps
        assert _vm_size_kib() - vm_before < 1 << 20  # 8 GiB of RAM were not mapped
        assert all(b.mapping is None and b.fd is None for b in m.backends())
        assert m.guest_memory.regions == ()
        assert [(d.qom_name, d.slot) for d in m.memory_devices()] == [
            ("na", 0), ("nb", 1), ("nc", 2), ("nd", 3)]
    assert stat_state(tmp_path) == before


def test_dry_run_layout_equals_real_layout(tmp_path: Path) -> None:
    _populate(tmp_path)
    argv = _expand(_ACCEPTED_EVERYTHING, tmp_path)
    with build(argv, dry_run=True) as dry:
        dry_layout = layout(dry)
    with build(argv) as real:
        assert layout(real) == dry_layout
        assert len(real.guest_memory.regions) == 2 + 4  # RAM below/above 4G, four DIMMs
    assert (tmp_path / "empty.img").stat().st_size == 8 * MiB  # only the real build sized it


# -- dry_run agrees with a real build, command line by command line ------------------------------

COMPARED: dict[str, list[str]] = {
    "one-nvdimm": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "64M", ",share=on"),
                   "-device", "nvdimm,id=n,memdev=m,label-size=128K"],
    "existing-larger-file": [*NVDIMM_PC, *MEM, *_file("m", "data.img", "4M", ",share=on"),
                             "-device", "nvdimm,id=n,memdev=m,label-size=128K"],
    "empty-file": [*NVDIMM_PC, *MEM, *_file("m", "empty.img", "6M"),
                   "-device", "pc-dimm,id=n,memdev=m"],
    "directory": [*NVDIMM_PC, *MEM, *_file("m", "dir", "6M"), "-device", "nvdimm,memdev=m"],
    "mixed-alignments": [*NVDIMM_PC, *MEM, *_file("a", "a.img", "1028K"),
                         "-object", "memory-backend-ram,id=b,size=2M",
                         "-object", "memory-backend-memfd,id=c,size=64K",
                         "-device", "pc-dimm,memdev=a,slot=3", "-device", "pc-dimm,memdev=b",
                         "-device", "nvdimm,memdev=c,addr=0x140000000"],
    "q35-high-ram": ["-machine", "q35,nvdimm=on", "-m", "4G,slots=2,maxmem=8G",
                     *_file("m", "new.img", "16M", ",align=2M"),
                     "-device", "nvdimm,memdev=m,label-size=256K"],
    "numa-nodes": [*NVDIMM_PC, "-m", "64M,slots=2,maxmem=1G",
                   "-object", "memory-backend-ram,id=r0,size=32M",
                   "-object", "memory-backend-ram,id=r1,size=32M",
                   "-numa", "node,memdev=r0", "-numa", "node,memdev=r1",
                   *_file("m", "new.img", "8M"), "-device", "nvdimm,memdev=m,node=1"],
    "readonly-unarmed": [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",readonly=on"),
                         "-device", "nvdimm,memdev=m,unarmed=on"],
    "smaller-file": [*NVDIMM_PC, *MEM, *_file("m", "small.img", "2M")],
    "missing-directory": [*NVDIMM_PC, *MEM, *_file("m", "nodir/x.img", "2M")],
    "bad-align": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M", ",align=24K")],
    "readonly-no-unarmed": [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",readonly=on"),
                            "-device", "nvdimm,memdev=m"],
    "no-nvdimm-option": [*MEM, *_file("m", "new.img", "8M"), "-device", "nvdimm,memdev=m"],
    "no-maxmem": [*NVDIMM_PC, *_file("m", "new.img", "8M"), "-device", "nvdimm,memdev=m"],
    "busy-memdev": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "8M"),
                    "-device", "nvdimm,memdev=m", "-device", "nvdimm,memdev=m"],
    "too-small-for-label": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "2M", ",align=2M"),
                            "-device", "nvdimm,memdev=m,label-size=128K"],
    "file-size-not-page-multiple-pc-dimm": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "4097"),
                                            "-device", "pc-dimm,memdev=m"],
    "tiny-file": [*NVDIMM_PC, *MEM, *_file("m", "new.img", "100")],
    "numa-policy": [*NVDIMM_PC, *MEM,
                    "-object", "memory-backend-ram,id=m,size=2M,host-nodes=0"],
    "address-space-limit": [*NVDIMM_PC, "-m", "1G,slots=4,maxmem=1000G"],
    "duplicate-object": [*NVDIMM_PC, *MEM, *_file("m", "a.img", "2M"),
                         "-object", "memory-backend-ram,id=m,size=2M"],
}

_DIVERGENT = {
    "memfd-size-not-page-multiple": (
        [*NVDIMM_PC, *MEM, "-object", "memory-backend-memfd,id=m,size=4097"],
        "fixed: dry_run skips map_fd's size check for memfd (it passes fd -1, file size 0); a "
        "real build refuses with \"backing store size 0x1001 does not match 'size' option "
        "0x2000\", `vnvdimm check` accepts"),
    "readonly-prealloc": (
        [*NVDIMM_PC, *MEM, *_file("m", "data.img", "8M", ",readonly=on,prealloc=on")],
        _DRY_PREALLOC_BUG),
    "readonly-directory": (
        [*NVDIMM_PC, *MEM, *_file("m", "dir", "8M", ",readonly=on")],
        "fixed: a directory mem-path with readonly=on is opened O_RDONLY by a real build and "
        "mmap fails ('unable to map backing store for guest RAM: No such device'); dry_run "
        "treats every directory as a mkstemp target and accepts it"),
    "unknown-host-node": (
        [*NVDIMM_PC, *MEM,
         "-object", "memory-backend-ram,id=m,size=2M,host-nodes=100,policy=bind"],
        "fixed: dry_run only checks the policy/host-nodes combination; a real build's mbind "
        "refuses a host node that does not exist ('cannot bind memory to host NUMA nodes: "
        "Invalid argument') and `vnvdimm check` accepts it"),
}

_COMPARED_PARAMS = [
    *[pytest.param(args, id=name) for name, args in COMPARED.items()],
    *[pytest.param(args, id=name) for name, (args, _fixed) in _DIVERGENT.items()],
]


@pytest.mark.parametrize("args", _COMPARED_PARAMS)
def test_dry_run_matches_real_build(tmp_path: Path, args: list[str]) -> None:
    _populate(tmp_path)
    argv = _expand(args, tmp_path)
    before = stat_state(tmp_path)
    dry = outcome(argv, dry_run=True)
    assert stat_state(tmp_path) == before
    real = outcome(argv, dry_run=False)
    assert dry == real


def test_compared_lines_cover_both_outcomes(tmp_path: Path) -> None:
    """The comparison above is only meaningful if it sees accepted and refused lines."""
    _populate(tmp_path)
    kinds = [outcome(_expand(args, tmp_path), dry_run=True)[0] for args in COMPARED.values()]
    assert kinds.count("ok") >= 8 and kinds.count("error") >= 8


# -- the memory map itself ------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "ranges", "dm_base", "dm_size"), [
    (["-m", "4G"], [(0, 3 * GiB), (4 * GiB, GiB)], 0, 0),
    (["-m", "1G,slots=2,maxmem=3G"], [(0, GiB)], 4 * GiB, 2 * GiB + 2 * GiB),
    (["-machine", "q35", "-m", "4G,slots=1,maxmem=5G"], [(0, 2 * GiB), (4 * GiB, 2 * GiB)],
     6 * GiB, GiB + GiB),
    (["-machine", "pc,max-ram-below-4g=1G", "-m", "2G"], [(0, GiB), (4 * GiB, GiB)], 0, 0),
])
def test_memory_map_pieces(args: list[str], ranges: list[tuple[int, int]], dm_base: int,
                           dm_size: int) -> None:
    with build(args, dry_run=True) as m:
        assert m.memory_map is not None
        assert m.memory_map.ram_ranges() == ranges
        assert (m.memory_map.device_memory_base, m.memory_map.device_memory_size) == (
            dm_base, dm_size)
