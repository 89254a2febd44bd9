"""ctypes bindings to the few libc calls Python's stdlib lacks.

Python's ``mmap`` module cannot place a mapping at a chosen address
(MAP_FIXED) nor reserve PROT_NONE address space, and ``os`` has no madvise
or fstatfs, so QEMU's allocator needs these directly. Importing never fails:
on a host without a usable libc every call raises ``OSError(ENOSYS)``.

All wrappers raise ``OSError`` built from the C ``errno`` (``use_errno=True``),
except :func:`madvise`, which returns the errno like QEMU's ``qemu_madvise``
callers expect.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from typing import Any

_CFunc = Any  # a ctypes foreign function; typeshed has no public name for it

# Linux generic values (x86_64, aarch64, riscv, s390x share them).
PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2

MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_SHARED_VALIDATE = 0x03
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_NORESERVE = 0x4000
MAP_SYNC = 0x80000

MADV_DONTNEED = 4
MADV_REMOVE = 9
MADV_DONTFORK = 10
MADV_MERGEABLE = 12
MADV_UNMERGEABLE = 13
MADV_HUGEPAGE = 14
MADV_DONTDUMP = 16
MADV_DODUMP = 17
MADV_POPULATE_READ = 22
MADV_POPULATE_WRITE = 23

HUGETLBFS_MAGIC = 0x958458F6
TMPFS_MAGIC = 0x01021994

# Kernel's UIO_MAXIOV: most iovecs one process_vm_{readv,writev} call accepts.
IOV_MAX = 1024


class StatFs(ctypes.Structure):
    """glibc ``struct statfs64`` (the same layout as ``struct statfs`` on 64-bit)."""

    _fields_ = [
        ("f_type", ctypes.c_long),
        ("f_bsize", ctypes.c_long),
        ("f_blocks", ctypes.c_uint64),
        ("f_bfree", ctypes.c_uint64),
        ("f_bavail", ctypes.c_uint64),
        ("f_files", ctypes.c_uint64),
        ("f_ffree", ctypes.c_uint64),
        ("f_fsid", ctypes.c_int * 2),
        ("f_namelen", ctypes.c_long),
        ("f_frsize", ctypes.c_long),
        ("f_flags", ctypes.c_long),
        ("f_spare", ctypes.c_long * 4),
        # Slack in case a libc's struct is larger than we think: never overrun.
        ("_pad", ctypes.c_char * 64),
    ]


class IoVec(ctypes.Structure):
    """``struct iovec``."""

    _fields_ = [
        ("iov_base", ctypes.c_void_p),
        ("iov_len", ctypes.c_size_t),
    ]


def _load() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    # The soname first: find_library() spawns ldconfig and costs start-up time.
    for name in ("libc.so.6", None):
        try:
            return ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
    return None


_libc = _load()


def _fn(name: str, *alternatives: str) -> _CFunc | None:
    if _libc is None:
        return None
    for candidate in (name, *alternatives):
        try:
            return getattr(_libc, candidate)
        except AttributeError:
            continue
    return None


_off_t = ctypes.c_int64
_mmap = _fn("mmap64", "mmap")
_munmap = _fn("munmap")
_madvise = _fn("madvise")
_fstatfs = _fn("fstatfs64", "fstatfs")
_process_vm_readv = _fn("process_vm_readv")
_process_vm_writev = _fn("process_vm_writev")

if _mmap is not None:
    _mmap.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, _off_t,
    ]
    _mmap.restype = ctypes.c_void_p
if _munmap is not None:
    _munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    _munmap.restype = ctypes.c_int
if _madvise is not None:
    _madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    _madvise.restype = ctypes.c_int
if _fstatfs is not None:
    _fstatfs.argtypes = [ctypes.c_int, ctypes.POINTER(StatFs)]
    _fstatfs.restype = ctypes.c_int
for _vm_func in (_process_vm_readv, _process_vm_writev):
    if _vm_func is not None:
        _vm_func.argtypes = [
            ctypes.c_int, ctypes.POINTER(IoVec), ctypes.c_ulong,
            ctypes.POINTER(IoVec), ctypes.c_ulong, ctypes.c_ulong,
        ]
        _vm_func.restype = ctypes.c_ssize_t

# (void *) -1 as ctypes hands it back through a c_void_p restype.
MAP_FAILED: int = ctypes.c_void_p(-1).value or -1

AVAILABLE = _mmap is not None and _munmap is not None


def _missing(name: str) -> OSError:
    return OSError(errno.ENOSYS, f"{name}: {os.strerror(errno.ENOSYS)}")


def _raise_errno(name: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err), name)


def mmap(addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    """mmap(2); returns the mapped address or raises ``OSError``."""
    if _mmap is None:
        raise _missing("mmap")
    ctypes.set_errno(0)
    result = _mmap(addr or None, length, prot, flags, fd, offset)
    if result is None or result == MAP_FAILED:
        raise _raise_errno("mmap")
    return int(result)


def munmap(addr: int, length: int) -> None:
    """munmap(2); raises ``OSError`` on failure."""
    if _munmap is None:
        raise _missing("munmap")
    if _munmap(addr, length) != 0:
        raise _raise_errno("munmap")


def madvise(addr: int, length: int, advice: int) -> int:
    """madvise(2); returns 0 or the errno (QEMU ignores or reports it per call site)."""
    if _madvise is None:
        return errno.ENOSYS
    if _madvise(addr, length, advice) != 0:
        return ctypes.get_errno() or errno.EINVAL
    return 0


def fstatfs(fd: int) -> StatFs:
    """fstatfs(2), retried on EINTR like QEMU does; raises ``OSError``."""
    if _fstatfs is None:
        raise _missing("fstatfs")
    buf = StatFs()
    while True:
        if _fstatfs(fd, ctypes.byref(buf)) == 0:
            return buf
        err = ctypes.get_errno()
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err), "fstatfs")


def _vm_rw(func: _CFunc | None, name: str,
           local: ctypes.Array[IoVec], remote: ctypes.Array[IoVec], count: int) -> int:
    if func is None:
        raise _missing(name)
    done = func(os.getpid(), local, len(local), remote, count, 0)
    if done < 0:
        raise _raise_errno(name)
    return int(done)


def process_vm_readv(local: ctypes.Array[IoVec], remote: ctypes.Array[IoVec],
                     count: int) -> int:
    """process_vm_readv(2) on our own pid; returns bytes transferred.

    Faults on ``remote`` come back as EFAULT/short counts instead of SIGBUS,
    which is what lets prealloc survive a file that cannot be backed.
    """
    return _vm_rw(_process_vm_readv, "process_vm_readv", local, remote, count)


def process_vm_writev(local: ctypes.Array[IoVec], remote: ctypes.Array[IoVec],
                      count: int) -> int:
    """process_vm_writev(2) on our own pid; returns bytes transferred."""
    return _vm_rw(_process_vm_writev, "process_vm_writev", local, remote, count)
