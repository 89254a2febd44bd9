"""vnvdimm.host.prealloc: QEMU 7.2's qemu_prealloc_mem thread split, methods and errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from vnvdimm.host import libc
from vnvdimm.host.mapping import HostMapError, HostMapping, host_page_size, ram_mmap
from vnvdimm.host.prealloc import (
    MAX_MEM_PREALLOC_THREAD_COUNT,
    madv_populate_write_possible,
    memset_num_threads,
    prealloc,
    split_pages,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not libc.AVAILABLE, reason="Linux mmap only"
)

MiB = 1 << 20
PAGE = host_page_size()
PATTERN = bytes(range(256)) * (MiB // 256)


def rss(mapping: HostMapping) -> int:
    """Resident bytes of the mapping's VMA, from /proc/self/smaps."""
    header = f"{mapping.address:x}-{mapping.address + mapping.size:x} "
    with open("/proc/self/smaps") as f:
        lines = iter(f)
        for line in lines:
            if line.startswith(header):
                for field in lines:
                    if field.startswith("Rss:"):
                        return int(field.split()[1]) * 1024
    raise AssertionError("mapping not found in smaps")


def test_thread_count_rules() -> None:
    procs = os.sysconf("SC_NPROCESSORS_ONLN")
    many = 1 << 20  # 4 GiB of small pages
    assert memset_num_threads(PAGE, many, 64) == min(procs, MAX_MEM_PREALLOC_THREAD_COUNT)
    assert memset_num_threads(PAGE, many, 1) == 1
    # One thread per 64 MiB at most, never less than one.
    assert memset_num_threads(PAGE, (64 * MiB) // PAGE, 16) == 1
    assert memset_num_threads(PAGE, (128 * MiB) // PAGE, 16) == min(procs, 2)
    # Gigantic pages: never more threads than pages.
    assert memset_num_threads(1 << 30, 1, 16) == 1
    assert memset_num_threads(1 << 30, 3, 16) == min(procs, 3)


def test_split_like_qemu() -> None:
    assert split_pages(10, 3) == [4, 3, 3]
    assert split_pages(2, 4) == [1, 1, 0, 0]
    assert split_pages(8, 2) == [4, 4]
    assert sum(split_pages(1001, 16)) == 1001


def _mapped(tmp_path: Path, size: int, shared: bool, data: bytes = b"") -> tuple[int, HostMapping]:
    fd = os.open(tmp_path / "mem", os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    if data:
        os.pwrite(fd, data, 0)
    return fd, ram_mmap(fd, size, PAGE, shared=shared)


def test_probe_detects_populate_write(tmp_path: Path) -> None:
    fd, mapping = _mapped(tmp_path, 4 * MiB, shared=True)
    with mapping:
        assert isinstance(madv_populate_write_possible(mapping.address, PAGE), bool)
    os.close(fd)


@pytest.mark.parametrize("use_madvise", [True, False])
@pytest.mark.parametrize("threads", [1, 4])
@pytest.mark.parametrize("shared", [True, False])
def test_prealloc_populates_and_keeps_data(
    tmp_path: Path, use_madvise: bool, threads: int, shared: bool
) -> None:
    size = 8 * MiB
    data = PATTERN * 8
    fd, mapping = _mapped(tmp_path, size, shared, data)
    if use_madvise and not madv_populate_write_possible(mapping.address, PAGE):
        pytest.skip("kernel lacks MADV_POPULATE_WRITE")
    try:
        with mapping:
            assert rss(mapping) < size
            prealloc(mapping, PAGE, threads, use_madvise=use_madvise)
            assert rss(mapping) == size
            assert bytes(mapping.view) == data
        with open(tmp_path / "mem", "rb") as f:
            assert f.read() == data
    finally:
        os.close(fd)


def test_prealloc_allocates_sparse_file_blocks(tmp_path: Path) -> None:
    size = 16 * MiB
    fd, mapping = _mapped(tmp_path, size, shared=True)
    try:
        with mapping:
            assert os.fstat(fd).st_blocks * 512 < size
            prealloc(mapping, PAGE, 2)
            assert os.fstat(fd).st_blocks * 512 >= size
    finally:
        os.close(fd)


@pytest.mark.parametrize("use_madvise", [None, False])
def test_progress_reports_bytes_to_the_end(tmp_path: Path, use_madvise: bool | None) -> None:
    size = 128 * MiB  # enough for two threads under the 64 MiB rule
    fd, mapping = _mapped(tmp_path, size, shared=True)
    calls: list[tuple[int, int]] = []
    try:
        with mapping:
            prealloc(mapping, PAGE, 2, lambda done, total: calls.append((done, total)),
                     use_madvise=use_madvise)
            assert rss(mapping) == size
    finally:
        os.close(fd)
    assert calls[-1] == (size, size)
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("use_madvise", [None, False])
@pytest.mark.parametrize("threads", [1, 3])
def test_unbackable_pages_fail_like_qemu(
    tmp_path: Path, use_madvise: bool | None, threads: int
) -> None:
    # The mapping runs past the end of the file: QEMU gets SIGBUS (touching)
    # or EFAULT (MADV_POPULATE_WRITE) and reports EFAULT either way.
    fd = os.open(tmp_path / "short", os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 4 * PAGE)
    try:
        with ram_mmap(fd, 64 * PAGE, PAGE, shared=True) as mapping:
            with pytest.raises(HostMapError) as info:
                prealloc(mapping, PAGE, threads, use_madvise=use_madvise)
            assert info.value.message == (
                "qemu_prealloc_mem: preallocating memory failed: Bad address"
            )
            assert info.value.report("qemu-system-x86_64") == (
                "qemu-system-x86_64: qemu_prealloc_mem: preallocating memory failed: "
                "Bad address\n"
            )
    finally:
        os.close(fd)


def test_readonly_mapping_fails_instead_of_crashing(tmp_path: Path) -> None:
    # QEMU 7.2 segfaults on readonly=on,prealloc=on; we report EFAULT.
    path = tmp_path / "rom"
    path.write_bytes(PATTERN)
    fd = os.open(path, os.O_RDONLY)
    try:
        with (
            ram_mmap(fd, MiB, PAGE, shared=False, readonly=True) as mapping,
            pytest.raises(HostMapError, match="Bad address"),
        ):
            prealloc(mapping, PAGE, 1)
    finally:
        os.close(fd)


def test_thread_count_must_be_positive(tmp_path: Path) -> None:
    fd, mapping = _mapped(tmp_path, MiB, shared=True)
    try:
        with mapping, pytest.raises(ValueError):
            prealloc(mapping, PAGE, 0)
    finally:
        os.close(fd)


def test_python_touch_fallback_keeps_data(tmp_path: Path) -> None:
    from vnvdimm.host.prealloc import _Counter, _touch_python

    fd, mapping = _mapped(tmp_path, 2 * MiB, shared=True, data=PATTERN * 2)
    try:
        with mapping:
            counter = _Counter()
            assert _touch_python(mapping.address, 2 * MiB // PAGE, PAGE, counter) == 0
            assert counter.done == 2 * MiB
            assert rss(mapping) == 2 * MiB
            assert bytes(mapping.view) == PATTERN * 2
    finally:
        os.close(fd)
