"""Guest-RAM mappings placed exactly like QEMU 7.2's ``qemu_ram_mmap`` places them.

The algorithm (util/mmap-alloc.c):

1. Reserve ``size + align`` bytes of PROT_NONE, private, anonymous address
   space wherever the kernel likes.
2. Pick the first ``align``-aligned address inside it and map the real thing
   there with MAP_FIXED ("activate"): the file (or anonymous memory when
   ``fd == -1``), shared or private, PROT_READ plus PROT_WRITE unless
   read-only, MAP_NORESERVE if asked for and effective. For ``shared`` +
   ``sync`` (``pmem=on``) MAP_SHARED_VALIDATE|MAP_SYNC is tried first.
3. Unmap the leading pad, keep exactly one PROT_NONE guard page after the
   block, unmap the rest. Freeing unmaps ``size + guard``.

Error split: QEMU's ``qemu_ram_mmap`` only returns MAP_FAILED with errno set;
the *caller* names the failure (``unable to map backing store for guest RAM``
for files, ``cannot set up guest memory '<id>'`` for anonymous RAM) and
appends ``: <strerror>`` only when errno is non-zero (error_setg_errno). Here
the caller passes that text as ``error_message`` and gets a fully formed
:class:`HostMapError`; :func:`ram_mmap` defaults to the file-backed text and
:func:`anon_ram_alloc` uses the RAM one.

Side messages go to the ``warn`` callback as :class:`~vnvdimm.host.messages.HostMessage`
strings tagged ``raw`` (QEMU's bare fprintf: no program prefix), ``warning``
(warn_report: ``prog: warning: ``) or ``error`` (error_report: ``prog: ``).

The page sizes that decide alignment live here too, as in QEMU's mmap-alloc.c:
the host's (``qemu_real_host_page_size``), a file's (``qemu_fd_getpagesize``:
hugetlbfs or not) and QEMU_VMALLOC_ALIGN.
"""

from __future__ import annotations

import errno as errno_mod
import os
import sys

from vnvdimm.errors import VnvdimmError
from vnvdimm.host import libc
from vnvdimm.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _ctypes import Array
    from ctypes import c_ubyte
    from types import TracebackType
    from typing import Final

    from vnvdimm.host.messages import MessageKind, Reporter

# Page sizes.  ----------------------------------------------------------------

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


# Mappings.  -------------------------------------------------------------------

OVERCOMMIT_MEMORY_PATH = "/proc/sys/vm/overcommit_memory"
MAP_ERROR_MESSAGE = "unable to map backing store for guest RAM"

MAP_SYNC_FAILED_WARNING = (
    "Warning: requesting persistence across crashes for backend file {} failed. "
    "Proceeding without persistence, data might become corrupted in case of host crash."
)
NON_DAX_PMEM_WARNING = "Using non DAX backing file with 'pmem=on' option is deprecated"
_NORESERVE_UNSUPPORTED = "Skipping reservation of swap space is not supported"

_UINT_MAX = 0xFFFFFFFF
_INT_MIN = -(1 << 31)


class HostMapError(VnvdimmError):
    """A mapping failed; ``errno`` is what QEMU's errno would be (0: none)."""

    def __init__(self, message: str, err: int) -> None:
        super().__init__(error_with_errno(message, err))
        self.errno = err


def error_with_errno(message: str, err: int) -> str:
    """QEMU's ``error_setg_errno`` text: ``message: strerror`` unless errno is 0."""
    return f"{message}: {os.strerror(err)}" if err else message


# --------------------------------------------------------------------------
# MAP_NORESERVE effectiveness


class NoreserveCheck(Value):
    """Result of :func:`map_noreserve_effective`; true when effective.

    ``message`` is the error_report text QEMU prints when not effective;
    ``errno`` is the errno left behind, which ends up in the caller's error.
    """

    __slots__ = ("effective", "errno", "message")
    _fields = ("effective", "message", "errno")

    def __init__(self, effective: bool, message: str | None = None, errno: int = 0) -> None:
        self.effective: Final = effective
        self.message: Final = message
        self.errno: Final = errno

    def __bool__(self) -> bool:
        return self.effective


def parse_overcommit(content: bytes) -> tuple[int | None, int]:
    """Parse ``/proc/sys/vm/overcommit_memory`` exactly as QEMU 7.2 does.

    Returns ``(value, errno)``: ``value`` is None when QEMU would say
    "Could not read". The rules come from ``qemu_strtoui`` with an end
    pointer: C whitespace and a sign may lead, base is auto (``0x``, octal),
    negatives wrap (``-2`` is 4294967294, not 2), values outside the
    unsigned-int range fail with ERANGE, and the first unparsed character must
    be a newline: ``"2"`` without one fails, ``"2\\n\\n"`` passes.
    """
    from vnvdimm.host import _cparse  # only MAP_NORESERVE checks read overcommit_memory

    text = content.split(b"\0", 1)[0].decode("latin-1")
    parsed = _cparse.strtoull(text)
    err = parsed.errno
    if not err:
        as_signed = _cparse.to_int64(parsed.value)
        if as_signed > _UINT_MAX or as_signed < _INT_MIN:
            err = errno_mod.ERANGE
    if err or parsed.end == 0:
        return None, err
    if parsed.end < len(text) and text[parsed.end] == "\n":
        return _cparse.to_int64(parsed.value) & _UINT_MAX, 0
    return None, 0


def map_noreserve_effective(
    fd: int,
    *,
    readonly: bool,
    shared: bool,
    overcommit_path: str = OVERCOMMIT_MEMORY_PATH,
) -> NoreserveCheck:
    """Whether MAP_NORESERVE would really skip swap reservation (QEMU's rules).

    * hugetlbfs (fd page size != host page size): yes, hugetlb accounting differs.
    * read-only, or shared with a real fd: yes, such mappings are never accounted.
    * otherwise it depends on ``overcommit_memory``: "2" (never overcommit)
      means no; an unreadable/unparsable file also means no.
    """
    if not sys.platform.startswith("linux"):
        return NoreserveCheck(False, _NORESERVE_UNSUPPORTED, 0)
    if fd_page_size(fd) != host_page_size():
        return NoreserveCheck(True)
    if readonly or (shared and fd >= 0):
        return NoreserveCheck(True)
    try:
        with open(overcommit_path, "rb") as f:
            content = f.read()
    except OSError as e:
        return NoreserveCheck(
            False,
            f'{_NORESERVE_UNSUPPORTED}: Could not read: "{OVERCOMMIT_MEMORY_PATH}"',
            e.errno or 0,
        )
    value, err = parse_overcommit(content)
    if value is None:
        return NoreserveCheck(
            False, f'{_NORESERVE_UNSUPPORTED}: Could not read: "{OVERCOMMIT_MEMORY_PATH}"', err
        )
    if value == 2:
        return NoreserveCheck(
            False, f'{_NORESERVE_UNSUPPORTED}: "{OVERCOMMIT_MEMORY_PATH}" is "2"', 0
        )
    return NoreserveCheck(True)


# --------------------------------------------------------------------------
# The mapping object


def madvise(addr: int, length: int, advice: int) -> int:
    """madvise(2) over any range; returns 0 or the errno (QEMU mostly ignores it)."""
    return libc.madvise(addr, length, advice)


class HostMapping:
    """One mapped RAM block: ``size`` usable bytes at ``address`` plus a guard page.

    ``view`` is a zero-copy ``memoryview`` (format ``B``) over exactly
    ``size`` bytes; it is read-only when the mapping is. Slices of it share
    the mapping, so drop them before :meth:`close` — ``close`` refuses
    (BufferError) rather than unmap memory a live view still points at.
    """

    def __init__(
        self,
        address: int,
        size: int,
        guard_size: int,
        *,
        fd: int,
        align: int,
        shared: bool,
        readonly: bool,
        sync: bool,
        noreserve: bool,
    ) -> None:
        self.address = address
        self.size = size
        self.guard_size = guard_size
        self.fd = fd
        self.align = align
        self.shared = shared
        self.readonly = readonly
        self.sync = sync  # MAP_SYNC really in effect (pmem on real DAX)
        self.noreserve = noreserve
        self._array: Array[c_ubyte] | None = None
        self._views: list[memoryview] = []
        self._closed = False
        self._make_views()

    def _make_views(self) -> None:
        self._array = libc.bytes_at(self.address, self.size)
        base = memoryview(self._array).cast("B")
        self._views = [base, base.toreadonly()] if self.readonly else [base]

    @property
    def view(self) -> memoryview:
        """The bytes of the block (no copy)."""
        if self._closed:
            raise ValueError("operation on a closed HostMapping")
        return self._views[-1]

    @property
    def closed(self) -> bool:
        return self._closed

    def madvise(self, advice: int, offset: int = 0, length: int | None = None) -> int:
        """madvise over part or all of the block; returns 0 or errno."""
        if self._closed:
            raise ValueError("operation on a closed HostMapping")
        if length is None:
            length = self.size - offset
        return libc.madvise(self.address + offset, length, advice)

    def close(self) -> None:
        """Release the view and unmap block + guard page. Safe to call twice.

        If views of the block are still alive somewhere (a slice kept by the
        caller, a traceback holding one), unmapping would let them crash the
        interpreter.  The block is then replaced in place by anonymous private
        memory: the file is released all the same, stale views read zeros, and
        only the address space stays reserved until they are gone."""
        if self._closed:
            return
        in_use = False
        for view in reversed(self._views):
            try:
                view.release()
            except BufferError:
                in_use = True
        self._views = []
        array = self._array
        # Derived views (slices, casts) keep the array alive through their
        # shared buffer; unmapping under them would crash the interpreter.
        if in_use or (hasattr(sys, "getrefcount") and sys.getrefcount(array) > 3):
            libc.mmap(self.address, self.size + self.guard_size,
                      libc.PROT_READ | libc.PROT_WRITE,
                      libc.MAP_PRIVATE | libc.MAP_ANONYMOUS | libc.MAP_FIXED, -1, 0)
        else:
            libc.munmap(self.address, self.size + self.guard_size)
        self._array = None
        self._closed = True

    def __enter__(self) -> HostMapping:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net only: owners are expected to close explicitly.
        try:  # noqa: SIM105 (contextlib is kept off the start-up path)
            self.close()
        except Exception:  # never raise from a finaliser
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"size=0x{self.size:x}"
        return f"<HostMapping 0x{self.address:x} {state}>"


# --------------------------------------------------------------------------
# qemu_ram_mmap


def _emit(warn: Reporter | None, text: str, kind: MessageKind) -> None:
    from vnvdimm.host.messages import emit  # only when there is something to say

    emit(warn, text, kind)


def _fd_path(fd: int) -> str:
    """What QEMU's readlink("/proc/self/fd/N") gives, or "" on failure."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _activate(
    where: int,
    size: int,
    fd: int,
    *,
    shared: bool,
    readonly: bool,
    sync: bool,
    noreserve: bool,
    offset: int,
    file_name: str,
    warn: Reporter | None,
    overcommit_path: str,
) -> tuple[int, bool]:
    """QEMU's ``mmap_activate``: returns (address, MAP_SYNC used) or raises OSError."""
    if noreserve:
        check = map_noreserve_effective(
            fd, readonly=readonly, shared=shared, overcommit_path=overcommit_path
        )
        if not check.effective:
            if check.message:
                _emit(warn, check.message, "error")
            raise OSError(check.errno, os.strerror(check.errno) if check.errno else "")
    flags = libc.MAP_FIXED
    flags |= libc.MAP_ANONYMOUS if fd == -1 else 0
    flags |= libc.MAP_SHARED if shared else libc.MAP_PRIVATE
    flags |= libc.MAP_NORESERVE if noreserve else 0
    prot = libc.PROT_READ | (0 if readonly else libc.PROT_WRITE)
    if shared and sync:
        try:
            return libc.mmap(where, size, prot,
                             flags | libc.MAP_SHARED_VALIDATE | libc.MAP_SYNC, fd, offset), True
        except OSError as e:
            # ENOTSUP == EOPNOTSUPP on Linux: the file is not on DAX storage.
            if e.errno in (errno_mod.ENOTSUP, errno_mod.EOPNOTSUPP):
                _emit(warn, MAP_SYNC_FAILED_WARNING.format(file_name or _fd_path(fd)), "raw")
                _emit(warn, NON_DAX_PMEM_WARNING, "warning")
            # Any other errno: retry silently without the sync flags.
    return libc.mmap(where, size, prot, flags, fd, offset), False


def ram_mmap(
    fd: int,
    size: int,
    align: int,
    *,
    shared: bool,
    readonly: bool = False,
    sync: bool = False,
    noreserve: bool = False,
    offset: int = 0,
    file_name: str = "",
    warn: Reporter | None = None,
    error_message: str = MAP_ERROR_MESSAGE,
    overcommit_path: str = OVERCOMMIT_MEMORY_PATH,
) -> HostMapping:
    """Map ``size`` bytes of ``fd`` (or anonymous memory if ``fd == -1``) at an
    ``align``-aligned address, exactly as QEMU 7.2's ``qemu_ram_mmap``.

    ``size`` must be a positive multiple of the host page size (callers round
    as QEMU does) and ``align`` a power of two no smaller than the host page
    size (QEMU asserts both); violating that is a programming error
    (ValueError). ``file_name`` overrides the name in the MAP_SYNC warning;
    leave it empty to get QEMU's readlink of ``/proc/self/fd/N``.
    ``overcommit_path`` is for tests only: messages always name the real path.

    Raises :class:`HostMapError` (``error_message`` plus ``: strerror``).
    """
    guard = host_page_size()  # ppc64 would use the fd page size; not a target here
    if size <= 0 or size % guard:
        raise ValueError(f"size 0x{size:x} is not a positive multiple of the page size")
    if align < guard or align & (align - 1):
        raise ValueError(f"align 0x{align:x} is not a power of two >= the page size")
    total = size + align
    try:
        reservation = libc.mmap(0, total, libc.PROT_NONE,
                                libc.MAP_PRIVATE | libc.MAP_ANONYMOUS, -1, 0)
    except OSError as e:
        raise HostMapError(error_message, e.errno or 0) from None
    pad = -reservation % align
    try:
        address, synced = _activate(
            reservation + pad, size, fd, shared=shared, readonly=readonly, sync=sync,
            noreserve=noreserve, offset=offset, file_name=file_name, warn=warn,
            overcommit_path=overcommit_path,
        )
    except OSError as e:
        libc.munmap(reservation, total)
        raise HostMapError(error_message, e.errno or 0) from None
    if pad:
        libc.munmap(reservation, pad)
    tail = total - pad - size - guard
    if tail > 0:
        libc.munmap(address + size + guard, tail)
    return HostMapping(
        address, size, guard, fd=fd, align=align, shared=shared, readonly=readonly,
        sync=synced, noreserve=noreserve,
    )


def anon_ram_alloc(
    size: int,
    *,
    name: str,
    shared: bool = False,
    noreserve: bool = False,
    warn: Reporter | None = None,
    overcommit_path: str = OVERCOMMIT_MEMORY_PATH,
) -> HostMapping:
    """Anonymous guest RAM (memory-backend-ram), as ``qemu_anon_ram_alloc`` + ``ram_block_add``.

    The size is rounded up to the host page size (HOST_PAGE_ALIGN), the block
    is aligned to QEMU_VMALLOC_ALIGN (2 MiB on x86_64; that also becomes the
    region's alignment), and a failure reads
    ``cannot set up guest memory '<name>'[: <strerror>]``.
    """
    page = host_page_size()
    return ram_mmap(
        -1, -(-size // page) * page, vmalloc_align(), shared=shared, noreserve=noreserve,
        warn=warn, error_message=f"cannot set up guest memory '{name}'",
        overcommit_path=overcommit_path,
    )
