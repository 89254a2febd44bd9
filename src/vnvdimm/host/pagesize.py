"""Host and file page sizes (QEMU's ``qemu_real_host_page_size`` / ``qemu_fd_getpagesize``)."""

from __future__ import annotations

import os
import sys

from vnvdimm.host import libc

_HOST_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")  # getpagesize(), without loading mmap


def host_page_size() -> int:
    """The real host page size (4 KiB on x86_64)."""
    return _HOST_PAGE_SIZE


def page_size_from_statfs(f_type: int, f_bsize: int) -> int:
    """The page size QEMU derives from one fstatfs result.

    hugetlbfs reports its huge page size in ``f_bsize``; anything else maps
    with normal pages. ``f_type`` is a signed long, so compare 32 bits.
    """
    if f_type & 0xFFFFFFFF == libc.HUGETLBFS_MAGIC:
        return f_bsize
    return host_page_size()


def fd_page_size(fd: int) -> int:
    """QEMU's ``qemu_fd_getpagesize``: hugetlbfs page size, else the host page size.

    ``fd == -1`` (anonymous memory) and a failing fstatfs both give the host
    page size, as in QEMU.
    """
    if fd == -1:
        return host_page_size()
    try:
        f_type, f_bsize = libc.fstatfs(fd)
    except OSError:
        return host_page_size()
    return page_size_from_statfs(f_type, f_bsize)


def is_hugetlbfs(fd: int) -> bool:
    """Whether ``fd`` lives on hugetlbfs (its page size differs from the host's)."""
    try:
        f_type, _ = libc.fstatfs(fd)
    except OSError:
        return False
    return f_type & 0xFFFFFFFF == libc.HUGETLBFS_MAGIC


def vmalloc_align() -> int:
    """QEMU_VMALLOC_ALIGN: the alignment of anonymous RAM blocks (memory-backend-ram).

    2 MiB on Linux x86_64/arm/aarch64/ppc64/riscv so THP and KVM can use huge
    pages, 1 MiB on s390x, otherwise the host page size.
    """
    if not sys.platform.startswith("linux"):
        return host_page_size()
    machine = os.uname().machine.lower()
    if machine in ("x86_64", "amd64", "aarch64", "arm64", "ppc64", "ppc64le") or (
        machine.startswith("arm") or machine.startswith("riscv")
    ):
        return 512 * 4096
    if machine == "s390x":
        return 256 * 4096
    return host_page_size()
