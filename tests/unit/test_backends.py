"""Guest-physical access through real backend mappings: files, sharing, RAM, ROM.

Every test builds a machine with `build_machine` over real files in tmp_path and
checks bytes where they must land: in the backing file (read back with a
separate descriptor), in a second process, or through the machine.
"""

from __future__ import annotations

import mmap
import os
from functools import partial
from pathlib import Path

import pytest
from vm_helpers import (
    NVDIMM_PC,
    GiB,
    KiB,
    MiB,
    build,
    error_message,
    escape,
    run_python,
    sha256,
)

from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.machine.machine import Machine

SIZE = 64 * MiB
LABEL = 128 * KiB


def _nvdimm_args(path: Path, *, share: str = "on", size: int = SIZE, extra: str = "",
                 device_extra: str = "") -> list[str]:
    return [*NVDIMM_PC, "-m", "512M,slots=4,maxmem=4G",
            "-object", f"memory-backend-file,id=mem0,share={share},mem-path={escape(path)},"
                       f"size={size}{extra}",
            "-device", f"nvdimm,id=nv0,memdev=mem0,label-size={LABEL}{device_extra}"]


def _pread(path: Path, offset: int, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, length, offset)
    finally:
        os.close(fd)


def _pwrite(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        assert os.pwrite(fd, data, offset) == len(data)
    finally:
        os.close(fd)


def _patterned_file(path: Path, size: int) -> None:
    """A file whose every 4 KiB page starts with its own page number."""
    with open(path, "wb") as handle:
        for page in range(size // 4096):
            handle.write(page.to_bytes(8, "little") + b"\xee" * 4088)


def _nvdimm(m: Machine) -> NVDimm:
    device = m.find_device("nv0")
    assert isinstance(device, NVDimm)
    return device


# -- share=on: writes reach the file at the right offset ---------------------------


def test_pmem_write_lands_at_file_offset(tmp_path: Path) -> None:
    image = tmp_path / "pmem.img"
    with build(_nvdimm_args(image)) as m:
        nv = _nvdimm(m)
        pmem = nv.memory_region_size()
        assert pmem == SIZE - LABEL  # 4 KiB pages: no rounding below size - label
        for offset in (0, 4095, 12345, 3 * MiB + 7, pmem - 16):
            m.write(nv.addr + offset, f"pmem@{offset}".encode()[:16])
        for offset in (0, 4095, 12345, 3 * MiB + 7, pmem - 16):
            assert _pread(image, offset, 16)[:len(f"pmem@{offset}"[:16])] == \
                f"pmem@{offset}".encode()[:16]
        # ... and the file is exactly `size` long: created and sized by the backend.
        assert image.stat().st_size == SIZE
    assert _pread(image, 12345, 10) == b"pmem@12345"  # persists after close


def test_label_area_is_last_label_size_bytes_of_size_not_of_file(tmp_path: Path) -> None:
    image = tmp_path / "big.img"
    file_size = SIZE + 8 * MiB  # larger than `size`: only `size` bytes are used
    _patterned_file(image, file_size)
    tail_before = _pread(image, SIZE, file_size - SIZE)
    with build(_nvdimm_args(image)) as m:
        nv = _nvdimm(m)
        assert isinstance(nv, NVDimm)
        assert nv.label_offset == SIZE - LABEL
        with nv.label_view() as labels:
            assert len(labels) == LABEL
            # The existing file content is what the label area shows ...
            assert bytes(labels[:8]) == ((SIZE - LABEL) // 4096).to_bytes(8, "little")
            labels[:12] = b"LABEL-HEADER"
            labels[-4:] = b"TAIL"
        # ... guest-visible pmem starts at file offset 0.
        assert m.read(nv.addr, 8) == (0).to_bytes(8, "little")
        assert m.read(nv.addr + 5 * 4096, 8) == (5).to_bytes(8, "little")
    assert _pread(image, SIZE - LABEL, 12) == b"LABEL-HEADER"
    assert _pread(image, SIZE - 4, 4) == b"TAIL"
    assert _pread(image, SIZE, file_size - SIZE) == tail_before  # beyond `size`: untouched
    assert image.stat().st_size == file_size


def test_label_area_of_non_page_multiple_size_uses_exact_size(tmp_path: Path) -> None:
    image = tmp_path / "odd.img"
    size = SIZE + 1000  # not a page multiple: the mapping rounds up, the region does not
    with build(_nvdimm_args(image, size=size)) as m:
        nv = _nvdimm(m)
        assert isinstance(nv, NVDimm)
        assert nv.memory_region_size() == (size - LABEL) // 4096 * 4096
        with nv.label_view() as labels:
            assert len(labels) == LABEL
            labels[-3:] = b"END"
    assert _pread(image, size - 3, 3) == b"END"


def test_pmem_end_is_not_guest_visible(tmp_path: Path) -> None:
    with build(_nvdimm_args(tmp_path / "a.img")) as m:
        nv = _nvdimm(m)
        end = nv.addr + nv.memory_region_size()
        m.write(end - 1, b"x")
        # the label area is not guest memory
        assert f"0x{end:x}" in error_message(lambda: m.write(end, b"y"))
        assert f"0x{end:x}" in error_message(lambda: m.read(end - 2, 4))


# -- a second process sees the same bytes -------------------------------------------

_MMAP_READER = """
import mmap, sys
path, offset, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
    sys.stdout.write(m[offset:offset + length].hex())
"""

_MMAP_WRITER = """
import mmap, sys
path, offset, data = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
    m[offset:offset + len(data)] = data
    m.flush()
"""

_MACHINE_PEER = """
import sys
from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.machine.cmdline import build_machine
argv = sys.argv[1:-2]
offset, data = int(sys.argv[-2]), bytes.fromhex(sys.argv[-1])
with build_machine(split_argv(argv)) as m:
    nv = m.find_device("nv0")
    old = m.read(nv.addr + offset, len(data))
    m.write(nv.addr + offset, data)
    sys.stdout.write(old.hex())
"""


def test_second_process_mmap_sees_guest_writes_and_vice_versa(tmp_path: Path) -> None:
    image = tmp_path / "shared.img"
    with build(_nvdimm_args(image)) as m:
        nv = _nvdimm(m)
        ours = os.urandom(64)
        m.write(nv.addr + 7 * MiB + 3, ours)
        seen = run_python(_MMAP_READER, str(image), str(7 * MiB + 3), "64").stdout
        assert bytes.fromhex(seen) == ours
        theirs = os.urandom(48)
        run_python(_MMAP_WRITER, str(image), str(9 * MiB + 1), theirs.hex())
        assert m.read(nv.addr + 9 * MiB + 1, 48) == theirs  # same pages: no re-read needed
        with nv.label_view() as labels:  # the label area is shared too
            labels[100:104] = b"lbl!"
        seen = run_python(_MMAP_READER, str(image), str(SIZE - LABEL + 100), "4").stdout
        assert bytes.fromhex(seen) == b"lbl!"


def test_second_vnvdimm_machine_on_the_same_file(tmp_path: Path) -> None:
    image = tmp_path / "peer.img"
    args = _nvdimm_args(image)
    with build(args) as m:
        nv = _nvdimm(m)
        m.write(nv.addr + 4 * MiB, b"from-parent")
        theirs = b"from-child-machine"
        result = run_python(_MACHINE_PEER, *args, str(4 * MiB), theirs.hex())
        # The peer machine saw our write, and we see its write over ours.
        assert bytes.fromhex(result.stdout) == b"from-parent" + b"\0" * 7
        assert m.read(nv.addr + 4 * MiB, len(theirs)) == theirs


# -- share=off: private copy-on-write ----------------------------------------------------


def test_share_off_writes_stay_private(tmp_path: Path) -> None:
    image = tmp_path / "private.img"
    _patterned_file(image, SIZE)
    before = sha256(image)
    with build(_nvdimm_args(image, share="off")) as m:
        nv = _nvdimm(m)
        m.write(nv.addr + 4096, b"private-write")
        assert m.read(nv.addr + 4096, 13) == b"private-write"
        assert m.read(nv.addr + 8192, 8) == (2).to_bytes(8, "little")  # file content shows
        with nv.label_view() as labels:
            labels[:5] = b"label"
        # A second process reading the file sees the original bytes.
        seen = run_python(_MMAP_READER, str(image), "4096", "13").stdout
        assert bytes.fromhex(seen) == (1).to_bytes(8, "little") + b"\xee" * 5
        assert sha256(image) == before
    assert sha256(image) == before  # and still nothing after unmapping


# -- main RAM -------------------------------------------------------------------------


def test_ram_below_and_above_4g_on_pc(tmp_path: Path) -> None:
    ram = tmp_path / "ram.img"
    args = ["-machine", "pc,memory-backend=ram0", "-m", "4G",
            "-object", f"memory-backend-file,id=ram0,share=on,size=4G,mem-path={escape(ram)}"]
    with build(args) as m:
        assert m.memory_map is not None
        assert m.memory_map.ram_ranges() == [(0, 3 * GiB), (4 * GiB, 1 * GiB)]
        probes = {0: b"low-start", 3 * GiB - 9: b"low--end!", 4 * GiB: b"high-strt",
                  5 * GiB - 9: b"high-end!"}
        for gpa, data in probes.items():
            m.write(gpa, data)
        for gpa, data in probes.items():
            assert m.read(gpa, len(data)) == data
        # The hole below 4 GiB and the end of RAM are unbacked; errors name the address.
        for gpa in (3 * GiB, 4 * GiB - 1, 5 * GiB):
            assert f"0x{gpa:x} is not backed" in error_message(partial(m.read, gpa, 1))
        # runs off the end of low RAM into the hole
        assert f"0x{3 * GiB:x}" in error_message(lambda: m.read(3 * GiB - 4, 8))
    # RAM is one block: GPA 4 GiB is RAM offset 3 GiB.
    assert _pread(ram, 0, 9) == b"low-start"
    assert _pread(ram, 3 * GiB - 9, 9) == b"low--end!"
    assert _pread(ram, 3 * GiB, 9) == b"high-strt"
    assert _pread(ram, 4 * GiB - 9, 9) == b"high-end!"


def test_default_ram_split_with_anonymous_ram() -> None:
    with build(["-m", "4G"]) as m:
        assert [(r.start, r.size) for r in m.guest_memory.regions] == [
            (0, 3 * GiB), (4 * GiB, 1 * GiB)]
        m.write(4 * GiB + 123, b"anon")
        assert m.read(4 * GiB + 123, 4) == b"anon"
        assert m.read(3 * GiB - 4, 4) == b"\0" * 4


def test_read_spanning_numa_ram_blocks_and_ram_into_dimm(tmp_path: Path) -> None:
    a, b = tmp_path / "node0.img", tmp_path / "node1.img"
    args = [*NVDIMM_PC, "-m", "128M,slots=2,maxmem=1G",
            "-object", f"memory-backend-file,id=r0,share=on,size=64M,mem-path={escape(a)}",
            "-object", f"memory-backend-file,id=r1,share=on,size=64M,mem-path={escape(b)}",
            "-numa", "node,nodeid=0,memdev=r0", "-numa", "node,nodeid=1,memdev=r1"]
    with build(args) as m:
        m.write(64 * MiB - 4, b"ABCDEFGH")  # crosses from r0 into r1
        assert m.read(64 * MiB - 6, 12) == b"\0\0ABCDEFGH\0\0"
        assert f"0x{128 * MiB:x}" in error_message(lambda: m.read(128 * MiB - 2, 4))
    assert _pread(a, 64 * MiB - 4, 4) == b"ABCD"
    assert _pread(b, 0, 4) == b"EFGH"


def test_read_spanning_high_ram_into_adjacent_nvdimm(tmp_path: Path) -> None:
    args = [*NVDIMM_PC, "-m", "4G,slots=2,maxmem=8G",
            "-object", f"memory-backend-file,id=mem0,share=on,size=8M,"
                       f"mem-path={escape(tmp_path / 'n.img')}",
            "-device", "nvdimm,id=nv0,memdev=mem0"]
    with build(args) as m:
        nv = _nvdimm(m)
        assert nv.addr == 5 * GiB  # device memory starts right after high RAM
        m.write(5 * GiB - 3, b"ramNVD")
        assert m.read(5 * GiB - 3, 6) == b"ramNVD"
    assert _pread(tmp_path / "n.img", 0, 3) == b"NVD"


# -- read-only backends -------------------------------------------------------------------


def test_readonly_backend_refuses_guest_writes(tmp_path: Path) -> None:
    image = tmp_path / "rom.img"
    _patterned_file(image, SIZE)
    before = sha256(image)
    args = _nvdimm_args(image, extra=",readonly=on", device_extra=",unarmed=on")
    with build(args) as m:
        nv = _nvdimm(m)
        assert m.read(nv.addr + 3 * 4096, 8) == (3).to_bytes(8, "little")
        message = error_message(lambda: m.write(nv.addr + 3 * 4096, b"no"))
        assert "read-only" in message
        assert f"0x{nv.addr + 3 * 4096:x}" in message
        with m.view(nv.addr, 16) as view:
            assert view.readonly
            with pytest.raises(TypeError):
                view[0] = 1
        with nv.label_view() as labels:
            assert labels.readonly
        assert m.read(nv.addr + 3 * 4096, 8) == (3).to_bytes(8, "little")
    assert sha256(image) == before


def test_readonly_backend_maps_the_file_readonly(tmp_path: Path) -> None:
    image = tmp_path / "rom2.img"
    _patterned_file(image, SIZE)
    os.chmod(image, 0o444)  # a writable open would be refused by a non-root user
    args = _nvdimm_args(image, extra=",readonly=on", device_extra=",unarmed=on")
    with build(args) as m:
        maps = Path("/proc/self/maps").read_text().splitlines()
        mine = [line for line in maps if line.endswith(str(image))]
        assert mine, "the file is not mapped"
        assert all(line.split()[1].startswith("r-") for line in mine)
        nv = _nvdimm(m)
        assert m.read(nv.addr + SIZE // 2, 8) == (SIZE // 2 // 4096).to_bytes(8, "little")


def test_mmap_module_agrees_with_guest_view(tmp_path: Path) -> None:
    """The guest view is the same page cache a plain Python mmap of the file sees."""
    image = tmp_path / "coherent.img"
    with build(_nvdimm_args(image)) as m, open(image, "r+b") as handle, \
            mmap.mmap(handle.fileno(), SIZE) as other:
        nv = _nvdimm(m)
        other[1000:1005] = b"hello"
        assert m.read(nv.addr + 1000, 5) == b"hello"
        m.write(nv.addr + 2000, b"world")
        assert other[2000:2005] == b"world"
