"""Preallocation of guest RAM (``prealloc=on``), as QEMU 7.2's ``qemu_prealloc_mem``.

QEMU's procedure (util/oslib-posix.c):

* Probe MADV_POPULATE_WRITE on the first page, on every call: usable unless
  the kernel answers EINVAL (pre-5.14 kernels, or special mappings).
* Pick the thread count: ``min(online CPUs, 16, prealloc-threads)``, then no
  more threads than pages, then at most one thread per 64 MiB (at least one).
* With MADV_POPULATE_WRITE and one thread: a single madvise in the caller.
  Otherwise split the pages evenly: every thread gets ``numpages // n`` pages
  and the first ``numpages % n`` threads one more, in address order.
  Each thread either madvises its range or touches one byte per page
  (reads it and writes the same value back, so file data is unchanged).
* Any failure becomes ``qemu_prealloc_mem: preallocating memory failed: <strerror>``
  (a SIGBUS while touching is reported as EFAULT, "Bad address"); when
  several threads fail, the last one in thread order wins.

Differences, all deliberate: the madvise ranges are issued in chunks so a
``progress`` callback can be driven from the calling thread; and the touch
fallback uses process_vm_readv/writev on our own pid, because a fault there
is an EFAULT instead of a SIGBUS that Python cannot recover from. One
visible consequence: on a read-only mapping QEMU 7.2 crashes with SIGSEGV,
we raise the EFAULT error instead.
"""

from __future__ import annotations

import array
import ctypes
import errno as errno_mod
import os
import threading
from collections.abc import Callable

from vnvdimm.host import libc
from vnvdimm.host.mapping import HostMapError, HostMapping

MAX_MEM_PREALLOC_THREAD_COUNT = 16
PREALLOC_FAILED = "qemu_prealloc_mem: preallocating memory failed"

# Bytes per madvise call: small enough for smooth progress, large enough to be free.
_MADVISE_CHUNK = 256 << 20
# How often the calling thread refreshes progress while workers run (seconds).
_PROGRESS_PERIOD = 0.1

Progress = Callable[[int, int], None]


def memset_num_threads(page_size: int, numpages: int, max_threads: int) -> int:
    """QEMU's ``get_memset_num_threads``."""
    host_procs = os.sysconf("SC_NPROCESSORS_ONLN") if hasattr(os, "sysconf") else -1
    count = 1
    if host_procs > 0:
        count = min(host_procs, MAX_MEM_PREALLOC_THREAD_COUNT, max_threads)
    count = min(count, numpages)  # huge pages: never more threads than pages
    return min(count, max(1, page_size * numpages // (64 << 20)))


def split_pages(numpages: int, threads: int) -> list[int]:
    """Pages per thread, in address order, exactly as QEMU splits them."""
    per_thread, leftover = divmod(numpages, threads)
    return [per_thread + (1 if i < leftover else 0) for i in range(threads)]


def madv_populate_write_possible(address: int, page_size: int) -> bool:
    """QEMU's probe: populate the first page; only EINVAL means "not supported"."""
    err = libc.madvise(address, page_size, libc.MADV_POPULATE_WRITE)
    return err != errno_mod.EINVAL


class _Counter:
    """Bytes done so far, shared by the workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = 0

    def add(self, amount: int) -> None:
        with self._lock:
            self.done += amount


def _populate(address: int, length: int, page_size: int, counter: _Counter) -> int:
    """MADV_POPULATE_WRITE over a range in chunks; 0 or errno."""
    chunk = max(page_size, _MADVISE_CHUNK // page_size * page_size)
    offset = 0
    while offset < length:
        step = min(chunk, length - offset)
        err = libc.madvise(address + offset, step, libc.MADV_POPULATE_WRITE)
        if err:
            return err
        counter.add(step)
        offset += step
    return 0


class IoVec(ctypes.Structure):
    """``struct iovec``."""

    _fields_ = (
        ("iov_base", ctypes.c_void_p),
        ("iov_len", ctypes.c_size_t),
    )


def _iovec_array(addresses: range) -> ctypes.Array[IoVec]:
    """Remote iovecs of one byte at each address, built without a Python loop."""
    code = "Q" if ctypes.sizeof(ctypes.c_void_p) == 8 else "I"
    flat = array.array(code, bytes(2 * len(addresses) * ctypes.sizeof(ctypes.c_void_p)))
    flat[0::2] = array.array(code, addresses)
    flat[1::2] = array.array(code, [1]) * len(addresses)
    return (IoVec * len(addresses)).from_buffer(flat)


def _touch_syscalls(address: int, numpages: int, page_size: int, counter: _Counter) -> int:
    """Read one byte per page and write it back, via process_vm_{readv,writev}."""
    buf = ctypes.create_string_buffer(libc.IOV_MAX)
    local = (IoVec * 1)()
    local[0].iov_base = ctypes.addressof(buf)
    for first in range(0, numpages, libc.IOV_MAX):
        count = min(libc.IOV_MAX, numpages - first)
        start = address + first * page_size
        remote = _iovec_array(range(start, start + count * page_size, page_size))
        local[0].iov_len = count
        try:
            got = libc.process_vm_readv(local, remote, count)
            local[0].iov_len = got
            put = libc.process_vm_writev(local, remote, got) if got else 0
        except OSError as e:
            return e.errno or errno_mod.EFAULT
        counter.add(put * page_size)
        if put < count:
            return errno_mod.EFAULT  # a page could not be backed: QEMU's SIGBUS case
    return 0


def _touch_python(address: int, numpages: int, page_size: int, counter: _Counter) -> int:
    """Last resort when process_vm_* is unavailable: touch from Python (SIGBUS is fatal)."""
    for i in range(numpages):
        byte = ctypes.c_ubyte.from_address(address + i * page_size)
        byte.value = byte.value
        if i % 1024 == 1023:
            counter.add(1024 * page_size)
    counter.add(numpages % 1024 * page_size)
    return 0


def _touch(address: int, numpages: int, page_size: int, counter: _Counter) -> int:
    err = _touch_syscalls(address, numpages, page_size, counter)
    if err in (errno_mod.ENOSYS, errno_mod.EPERM):
        return _touch_python(address, numpages, page_size, counter)
    return err


def _run_threads(
    jobs: list[tuple[int, int]],
    page_size: int,
    use_madvise: bool,
    counter: _Counter,
    total: int,
    progress: Progress | None,
) -> int:
    results = [0] * len(jobs)
    go = threading.Event()  # QEMU holds all threads until every one exists

    def work(index: int, address: int, numpages: int) -> None:
        go.wait()
        if use_madvise:
            results[index] = _populate(address, numpages * page_size, page_size, counter)
        else:
            results[index] = _touch(address, numpages, page_size, counter)

    workers = [
        threading.Thread(target=work, args=(i, addr, n), name="touch_pages", daemon=True)
        for i, (addr, n) in enumerate(jobs)
    ]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        while worker.is_alive():
            worker.join(_PROGRESS_PERIOD)
            if progress is not None:
                progress(min(counter.done, total), total)
    err = 0
    for result in results:
        if result:
            err = result  # QEMU keeps the last failing thread's error
    return err


def prealloc_range(
    address: int,
    size: int,
    page_size: int,
    threads: int,
    progress: Progress | None = None,
    *,
    use_madvise: bool | None = None,
) -> None:
    """Preallocate ``[address, address + size)``; see :func:`prealloc`."""
    if threads < 1:
        raise ValueError("threads must be at least 1")
    numpages = -(-size // page_size)
    total = numpages * page_size
    if use_madvise is None:
        use_madvise = madv_populate_write_possible(address, page_size)
    count = memset_num_threads(page_size, numpages, threads)
    counter = _Counter()
    if use_madvise and count == 1:
        # QEMU: one madvise in the calling thread, no worker.
        err = 0
        offset = 0
        chunk = max(page_size, _MADVISE_CHUNK // page_size * page_size)
        while offset < total and not err:
            step = min(chunk, total - offset)
            err = libc.madvise(address + offset, step, libc.MADV_POPULATE_WRITE)
            offset += step
            if progress is not None and not err:
                progress(offset, total)
    else:
        jobs = []
        addr = address
        for pages in split_pages(numpages, count):
            jobs.append((addr, pages))
            addr += pages * page_size
        err = _run_threads(jobs, page_size, use_madvise, counter, total, progress)
    if err:
        raise HostMapError(PREALLOC_FAILED, err)
    if progress is not None:
        progress(total, total)


def prealloc(
    mapping: HostMapping,
    page_size: int,
    threads: int,
    progress: Progress | None = None,
    *,
    size: int | None = None,
    use_madvise: bool | None = None,
) -> None:
    """Fault in every page of ``mapping`` writable, like ``qemu_prealloc_mem``.

    ``page_size`` is the block's page size (``fd_page_size(fd)``: the huge
    page size on hugetlbfs); ``threads`` is the backend's ``prealloc-threads``;
    ``size`` defaults to the whole mapping (QEMU passes the region size, which
    rounds up to the same page count). ``progress(done, total)`` is called from
    the calling thread, in bytes. ``use_madvise`` forces a method (tests);
    None probes as QEMU does.

    Raises :class:`~vnvdimm.host.mapping.HostMapError` with
    ``qemu_prealloc_mem: preallocating memory failed: <strerror>``.
    """
    prealloc_range(
        mapping.address, mapping.size if size is None else size, page_size, threads,
        progress, use_madvise=use_madvise,
    )
