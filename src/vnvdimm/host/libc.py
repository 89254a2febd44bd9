"""ctypes bindings to the few libc calls Python's stdlib lacks.

Python's ``mmap`` module cannot place a mapping at a chosen address
(MAP_FIXED) nor reserve PROT_NONE address space, and ``os`` has no madvise
or fstatfs, so QEMU's allocator needs these directly. Importing never fails:
on a host without a usable libc every call raises ``OSError(ENOSYS)``.

All wrappers raise ``OSError`` built from the C ``errno`` (``use_errno=True``),
except :func:`madvise`, which returns the errno like QEMU's ``qemu_madvise``
callers expect.

The bindings are built on ``_ctypes``, the C module behind the ``ctypes``
package, with the few fundamental types they need defined here the way
``ctypes`` defines them: they behave the same and mix freely with ``ctypes``
objects (``Structure`` and ``Array`` are the very same classes), while
start-up skips the package's import.
"""

from __future__ import annotations

import errno
import os
import sys
from _ctypes import (
    FUNCFLAG_CDECL,
    FUNCFLAG_USE_ERRNO,
    CFuncPtr,
    get_errno,
    set_errno,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _ctypes import Array
    from ctypes import (
        c_int,
        c_int64,
        c_long,
        c_size_t,
        c_ssize_t,
        c_ubyte,
        c_ulong,
        c_void_p,
    )
    from typing import Any
else:
    # The C module under ``ctypes``, used directly: the ctypes package costs
    # over a millisecond of start-up.  These are its fundamental types,
    # defined exactly as ctypes defines them (Linux: long is pointer-sized).
    from _ctypes import _SimpleCData, sizeof

    class c_ubyte(_SimpleCData):
        _type_ = "B"

    class c_int(_SimpleCData):
        _type_ = "i"

    class c_long(_SimpleCData):
        _type_ = "l"

    class c_ulong(_SimpleCData):
        _type_ = "L"

    if sizeof(c_long) == 8:
        c_int64 = c_long
    else:

        class c_int64(_SimpleCData):
            _type_ = "q"

    class c_void_p(_SimpleCData):
        _type_ = "P"

    c_size_t = c_ulong
    c_ssize_t = c_long

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

LOCK_SH = 1  # flock(2) operations
LOCK_NB = 4

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


# glibc's ``struct statfs64`` (120 bytes on 64-bit Linux) begins with the two
# longs QEMU reads, f_type and f_bsize.  A plain array of longs, with room to
# spare, receives it: a Structure for it costs start-up time for fields nobody reads.
_STATFS_LONGS = 32
_F_TYPE, _F_BSIZE = 0, 1


class _CFunc(CFuncPtr):
    """A libc function: C calling convention, errno saved for ``get_errno``
    (what ``ctypes.CDLL(..., use_errno=True)`` gives)."""

    _flags_ = FUNCFLAG_CDECL | FUNCFLAG_USE_ERRNO
    _restype_ = c_int


def _load() -> int | None:
    """A dlopen handle for the C library (``ctypes.CDLL``'s RTLD_NOW | RTLD_LOCAL)."""
    if not sys.platform.startswith("linux"):
        return None
    from _ctypes import RTLD_LOCAL, dlopen

    # The soname first: find_library() spawns ldconfig and costs start-up time.
    # None: the symbols the program already has (a libc under another name).
    names: tuple[str | None, ...] = ("libc.so.6", None)
    for name in names:
        try:
            return dlopen(name, RTLD_LOCAL)  # type: ignore[arg-type]
        except OSError:
            continue
    return None


_libc = _load()


def _fn(name: str, *alternatives: str) -> _CFunc | None:
    if _libc is None:
        return None
    from _ctypes import dlsym

    for candidate in (name, *alternatives):
        try:
            return _CFunc(dlsym(_libc, candidate))
        except OSError:
            continue
    return None


_off_t = c_int64
_mmap = _fn("mmap64", "mmap")
_munmap = _fn("munmap")
_madvise = _fn("madvise")
_fstatfs = _fn("fstatfs64", "fstatfs")
_flock = _fn("flock")
_process_vm_readv = _fn("process_vm_readv")
_process_vm_writev = _fn("process_vm_writev")

# Pointer parameters are void *: they take byref() and ctypes arrays alike.
if _mmap is not None:
    _mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, _off_t]
    _mmap.restype = c_void_p
if _munmap is not None:
    _munmap.argtypes = [c_void_p, c_size_t]
    _munmap.restype = c_int
if _madvise is not None:
    _madvise.argtypes = [c_void_p, c_size_t, c_int]
    _madvise.restype = c_int
if _fstatfs is not None:
    _fstatfs.argtypes = [c_int, c_void_p]
    _fstatfs.restype = c_int
if _flock is not None:
    _flock.argtypes = [c_int, c_int]
    _flock.restype = c_int
for _vm_func in (_process_vm_readv, _process_vm_writev):
    if _vm_func is not None:
        _vm_func.argtypes = [c_int, c_void_p, c_ulong, c_void_p, c_ulong, c_ulong]
        _vm_func.restype = c_ssize_t

# (void *) -1 as ctypes hands it back through a c_void_p restype.
MAP_FAILED: int = c_void_p(-1).value or -1

AVAILABLE = _mmap is not None and _munmap is not None


def _missing(name: str) -> OSError:
    return OSError(errno.ENOSYS, f"{name}: {os.strerror(errno.ENOSYS)}")


def _raise_errno(name: str) -> OSError:
    err = get_errno()
    return OSError(err, os.strerror(err), name)


def mmap(addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    """mmap(2); returns the mapped address or raises ``OSError``."""
    if _mmap is None:
        raise _missing("mmap")
    set_errno(0)
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
        return get_errno() or errno.EINVAL
    return 0


def fstatfs(fd: int) -> tuple[int, int]:
    """fstatfs(2), retried on EINTR like QEMU does: ``(f_type, f_bsize)``; raises ``OSError``."""
    if _fstatfs is None:
        raise _missing("fstatfs")
    buf = (c_long * _STATFS_LONGS)()
    while True:
        if _fstatfs(fd, buf) == 0:
            return int(buf[_F_TYPE]), int(buf[_F_BSIZE])
        err = get_errno()
        if err != errno.EINTR:
            raise OSError(err, os.strerror(err), "fstatfs")


def flock(fd: int, operation: int) -> None:
    """flock(2) (``fcntl.flock`` without loading the fcntl module); raises ``OSError``."""
    if _flock is None:
        raise _missing("flock")
    if _flock(fd, operation) != 0:
        raise _raise_errno("flock")


def bytes_at(address: int, length: int) -> Array[c_ubyte]:
    """The ``length`` bytes at ``address`` as a ctypes array (no copy):
    ``(ctypes.c_ubyte * length).from_address(address)``."""
    return (c_ubyte * length).from_address(address)


def _vm_rw(func: _CFunc | None, name: str,
           local: Array[Any], remote: Array[Any], count: int) -> int:
    if func is None:
        raise _missing(name)
    done = func(os.getpid(), local, len(local), remote, count, 0)
    if done < 0:
        raise _raise_errno(name)
    return int(done)


def process_vm_readv(local: Array[Any], remote: Array[Any], count: int) -> int:
    """process_vm_readv(2) on our own pid; returns bytes transferred.

    Faults on ``remote`` come back as EFAULT/short counts instead of SIGBUS,
    which is what lets prealloc survive a file that cannot be backed.
    """
    return _vm_rw(_process_vm_readv, "process_vm_readv", local, remote, count)


def process_vm_writev(local: Array[Any], remote: Array[Any], count: int) -> int:
    """process_vm_writev(2) on our own pid; returns bytes transferred."""
    return _vm_rw(_process_vm_writev, "process_vm_writev", local, remote, count)
