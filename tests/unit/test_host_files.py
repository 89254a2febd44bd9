"""vnvdimm.host page sizes, file sizes, device-DAX sysfs lookups and C number parsing."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vnvdimm.host import _cparse, libc
from vnvdimm.host.filesize import (
    dax_regions,
    devdax_size,
    get_file_align,
    get_file_size,
    region_align_for,
)
from vnvdimm.host.mapping import fd_page_size, host_page_size, page_size_from_statfs

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

MiB = 1 << 20
EXT4_SUPER_MAGIC = 0xEF53


# --- page sizes --------------------------------------------------------------

def test_hugetlbfs_statfs_gives_its_block_size() -> None:
    assert page_size_from_statfs(libc.HUGETLBFS_MAGIC, 2 * MiB) == 2 * MiB
    assert page_size_from_statfs(libc.HUGETLBFS_MAGIC, 1 << 30) == 1 << 30
    # f_type is a signed long: a 32-bit libc hands the magic back negative.
    assert page_size_from_statfs(libc.HUGETLBFS_MAGIC - (1 << 32), 2 * MiB) == 2 * MiB


def test_other_filesystems_give_host_page_size() -> None:
    assert page_size_from_statfs(EXT4_SUPER_MAGIC, 4096) == host_page_size()
    assert page_size_from_statfs(libc.TMPFS_MAGIC, 4096) == host_page_size()


@linux_only
def test_fd_page_size(tmp_path: Path) -> None:
    assert fd_page_size(-1) == host_page_size()
    with open(tmp_path / "f", "wb") as f:
        assert fd_page_size(f.fileno()) == host_page_size()
        _, f_bsize = libc.fstatfs(f.fileno())
        assert f_bsize == os.fstatvfs(f.fileno()).f_bsize  # the same field through glibc
    assert fd_page_size(10_000) == host_page_size()  # EBADF: QEMU falls back too


def _tmpfs_mount() -> str | None:
    with open("/proc/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "tmpfs" and os.access(fields[1], os.W_OK):
                return fields[1]
    return None


@linux_only
def test_fstatfs_reads_the_filesystem_type() -> None:
    mount = _tmpfs_mount()
    if mount is None:
        pytest.skip("no writable tmpfs mount")
    fd = os.open(mount, os.O_RDONLY)
    try:
        f_type, _ = libc.fstatfs(fd)
    finally:
        os.close(fd)
    assert f_type & 0xFFFFFFFF == libc.TMPFS_MAGIC


# --- get_file_size -----------------------------------------------------------

@pytest.fixture
def dev_null() -> Iterator[int]:
    fd = os.open("/dev/null", os.O_RDWR)
    yield fd
    os.close(fd)


def _char_dir(root: Path, fd: int) -> Path:
    st = os.fstat(fd)
    path = root / "dev" / "char" / f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    return path


def _fake_devdax(root: Path, fd: int, size_text: str | None, subsystem: str) -> None:
    """A /sys/dev/char/M:m directory for ``fd``'s device claiming to be device-DAX."""
    node = _char_dir(root, fd)
    node.mkdir(parents=True)
    os.symlink(subsystem, node / "subsystem")
    if size_text is not None:
        (node / "size").write_text(size_text)


@linux_only
def test_regular_file_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 12345)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert get_file_size(fd) == 12345
    finally:
        os.close(fd)
    fd = os.open(tmp_path / "empty", os.O_RDWR | os.O_CREAT)
    try:
        assert get_file_size(fd) == 0
    finally:
        os.close(fd)


@linux_only
def test_bad_fd_gives_negative_errno() -> None:
    assert get_file_size(10_000) == -errno.EBADF
    assert get_file_align(10_000) == -errno.EBADF


@linux_only
def test_pipe_gives_lseek_error() -> None:
    r, w = os.pipe()
    try:
        assert get_file_size(r) == -errno.ESPIPE
    finally:
        os.close(r)
        os.close(w)


@linux_only
def test_char_device_without_dax_uses_lseek(dev_null: int, tmp_path: Path) -> None:
    assert get_file_size(dev_null, sysfs_root=str(tmp_path)) == 0
    assert get_file_size(dev_null) == 0  # real sysfs: /dev/null is subsystem "mem"


@linux_only
def test_devdax_size_from_fake_sysfs(dev_null: int, tmp_path: Path) -> None:
    _fake_devdax(tmp_path, dev_null, "0x40000000\n", "../../../bus/dax")
    assert get_file_size(dev_null, sysfs_root=str(tmp_path)) == 1 << 30


@linux_only
def test_subsystem_must_end_in_slash_dax(dev_null: int, tmp_path: Path) -> None:
    _fake_devdax(tmp_path, dev_null, "4096\n", "../../../bus/daxx")
    assert get_file_size(dev_null, sysfs_root=str(tmp_path)) == 0


@linux_only
def test_unreadable_devdax_size_falls_back_to_lseek(dev_null: int, tmp_path: Path) -> None:
    _fake_devdax(tmp_path, dev_null, None, "/sys/bus/dax")
    assert get_file_size(dev_null, sysfs_root=str(tmp_path)) == 0


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1073741824\n", 1 << 30),
        ("  0x200000", 2 * MiB),
        ("010", 8),
        ("-5\n", -5),
        ("junk", 0),
        ("", 0),
        ("99999999999999999999", (1 << 63) - 1),
    ],
)
def test_devdax_size_parsing(tmp_path: Path, text: str, size: int) -> None:
    os.symlink("../../bus/dax", tmp_path / "subsystem")
    (tmp_path / "size").write_text(text)
    assert devdax_size(str(tmp_path)) == size


def test_devdax_size_none_when_not_dax(tmp_path: Path) -> None:
    assert devdax_size(str(tmp_path)) is None
    os.symlink("../../class/mem", tmp_path / "subsystem")
    assert devdax_size(str(tmp_path)) is None


# --- get_file_align (libdaxctl emulation) ------------------------------------

def _fake_dax_bus(root: Path, align: str | None) -> Path:
    """A bus-model device-DAX tree: region0/dax0.0/{dax0.0, dax_region/align}."""
    region = root / "devices" / "platform" / "e820_pmem" / "ndbus0" / "region0" / "dax0.0"
    device = region / "dax0.0"
    device.mkdir(parents=True)
    (region / "dax_region").mkdir()
    if align is not None:
        (region / "dax_region" / "align").write_text(align)
    bus = root / "bus" / "dax" / "devices"
    bus.mkdir(parents=True)
    os.symlink(os.path.relpath(device, bus), bus / "dax0.0")
    return device


def test_dax_regions_bus_model(tmp_path: Path) -> None:
    device = _fake_dax_bus(tmp_path, "2097152\n")
    regions = dax_regions(str(tmp_path))
    assert regions == [(str(device.parent.resolve()), 2 * MiB)]
    assert region_align_for(str(device.resolve()), str(tmp_path)) == 2 * MiB
    assert region_align_for("/elsewhere", str(tmp_path)) == -1


def test_dax_regions_class_model_and_unreadable_align(tmp_path: Path) -> None:
    device = tmp_path / "devices" / "region1" / "dax" / "dax1.0"
    device.mkdir(parents=True)
    klass = tmp_path / "class" / "dax"
    klass.mkdir(parents=True)
    os.symlink(os.path.relpath(device, klass), klass / "dax1.0")
    os.symlink(os.path.relpath(device, klass), klass / "not-a-dax")
    # No dax_region/align: libdaxctl keeps ULONG_MAX, which QEMU sees as -1.
    assert dax_regions(str(tmp_path)) == [(str((tmp_path / "devices" / "region1").resolve()), -1)]


@linux_only
def test_get_file_align_for_devdax(dev_null: int, tmp_path: Path) -> None:
    device = _fake_dax_bus(tmp_path, "0x40000000\n")
    node = _char_dir(tmp_path, dev_null)
    node.parent.mkdir(parents=True)
    os.symlink(os.path.relpath(device, node.parent), node)
    assert get_file_align(dev_null, sysfs_root=str(tmp_path)) == 1 << 30


@linux_only
def test_get_file_align_without_region(dev_null: int, tmp_path: Path) -> None:
    assert get_file_align(dev_null, sysfs_root=str(tmp_path)) == -errno.ENOENT
    assert get_file_align(dev_null) == -1  # real /dev/null is no DAX region


@linux_only
def test_get_file_align_regular_file(tmp_path: Path) -> None:
    with open(tmp_path / "f", "wb") as f:
        assert get_file_align(f.fileno()) == -1


# --- C parsing ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value", "end", "err"),
    [
        ("12", 12, 2, 0),
        ("0x1f\n", 31, 4, 0),
        ("0X1F", 31, 4, 0),
        ("0x", 0, 1, 0),
        ("0xg", 0, 1, 0),
        ("017", 15, 3, 0),
        ("08", 0, 1, 0),
        ("\t\n +7", 7, 5, 0),
        ("-1", (1 << 64) - 1, 2, 0),
        ("18446744073709551615", (1 << 64) - 1, 20, 0),
        ("18446744073709551616", (1 << 64) - 1, 20, errno.ERANGE),
        ("x", 0, 0, 0),
        ("-", 0, 0, 0),
    ],
)
def test_strtoull(text: str, value: int, end: int, err: int) -> None:
    assert _cparse.strtoull(text) == (value, end, err)


def test_strtoll_clamps() -> None:
    assert _cparse.strtoll("9223372036854775807") == ((1 << 63) - 1, 19, 0)
    assert _cparse.strtoll("9223372036854775808") == ((1 << 63) - 1, 19, errno.ERANGE)
    assert _cparse.strtoll("-9223372036854775809") == (-(1 << 63), 20, errno.ERANGE)
    assert _cparse.to_int64((1 << 64) - 1) == -1
