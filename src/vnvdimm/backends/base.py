"""The abstract memory-backend: common properties, setters and `complete`; and
memory-backend-ram, the plain anonymous one (also the machine's own RAM).

A backend is "initialised" once its region is allocated (QEMU: the memory
region has a non-zero size); many setters refuse after that.  `complete`
allocates through the concrete type's `_alloc`, then applies merge/dump,
the NUMA policy and preallocation.  If any step fails, everything the
backend created is undone (file unlinked or restored, mapping released).
"""

from __future__ import annotations

import errno
import os
import stat

from vnvdimm.errors import VnvdimmError
from vnvdimm.host import libc
from vnvdimm.host.filesize import get_file_align, get_file_size
from vnvdimm.host.mapping import anon_ram_alloc, fd_page_size, host_page_size, ram_mmap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from vnvdimm.host.mapping import HostMapping

MAX_NODES = 128
VMALLOC_ALIGN = 2 * 1024 * 1024  # QEMU_VMALLOC_ALIGN on x86_64 Linux


def _ignore(message: str) -> None:
    """The default ``warn``: messages go nowhere."""


class BackendContext:
    """What a backend needs from the machine and host while it is created."""

    __slots__ = ("dry_run", "dump_guest_core", "mem_merge", "progress", "smp_cpus",
                 "sysfs_root", "warn")

    def __init__(
        self,
        smp_cpus: int = 1,
        mem_merge: bool = True,
        dump_guest_core: bool = True,
        sysfs_root: str = "/sys",
        warn: Callable[[str], None] = _ignore,
        progress: Callable[[int, int], None] | None = None,
        dry_run: bool = False,
    ) -> None:
        self.smp_cpus = smp_cpus
        self.mem_merge = mem_merge
        self.dump_guest_core = dump_guest_core
        self.sysfs_root = sysfs_root
        self.warn = warn
        self.progress = progress
        # Validate and lay out only: open nothing for writing, create and map nothing.
        self.dry_run = dry_run


class HostMemoryBackend:
    """QEMU's abstract `memory-backend`; concrete types override `_alloc`."""

    qom_type = "memory-backend"

    def __init__(self, object_id: str, ctx: BackendContext) -> None:
        self.id = object_id
        self.ctx = ctx
        self.size = 0
        self.merge = ctx.mem_merge
        self.dump = ctx.dump_guest_core
        self.prealloc = False
        self.prealloc_threads = ctx.smp_cpus
        self.prealloc_context: str | None = None
        self.host_nodes: set[int] = set()
        self.policy = "default"
        self.share = False
        self.reserve = True
        self.use_canonical_path = False
        # Set by complete():
        self.mapping: HostMapping | None = None
        self.region_size = 0  # exact user size; the mapping is page-rounded
        self.align = 0  # the region's alignment after mapping
        self.page_size = 0
        self.readonly_region = False  # ROM (QEMU 7.2: readonly=on)
        self.fd: int | None = None
        # Set by the machine: the device that maps this backend, or "machine RAM".
        self.user: object | None = None
        self._undo: list[Callable[[], None]] = []

    # -- identity ----------------------------------------------------------

    @property
    def canonical_path(self) -> str:
        return f"/objects/{self.id}"

    @property
    def region_name(self) -> str:
        """RAM block name: the id, or the canonical path when asked for."""
        return self.canonical_path if self.use_canonical_path else self.id

    @property
    def initialised(self) -> bool:
        return self.region_size != 0

    @property
    def is_mapped(self) -> bool:
        return self.user is not None

    # -- QOM setters (QEMU's order of checks and words) --------------------

    def set_property(self, name: str, value: object) -> None:
        setter = self._setters().get(name)
        if setter is None:
            raise VnvdimmError(f"Property '{self.qom_type}.{name}' not found")
        setter(value)

    def _setters(self) -> dict[str, Callable[[object], None]]:
        return {
            "size": self._set_size,
            "merge": self._set_merge,
            "dump": self._set_dump,
            "prealloc": self._set_prealloc,
            "prealloc-threads": self._set_prealloc_threads,
            "prealloc-context": self._set_prealloc_context,
            "host-nodes": self._set_host_nodes,
            "policy": self._set_policy,
            "share": self._set_share,
            "reserve": self._set_reserve,
            "x-use-canonical-path-for-ramblock-id": self._set_canonical,
        }

    def _set_size(self, value: object) -> None:
        if self.initialised:
            # The trailing space is QEMU's.
            raise VnvdimmError(f"cannot change property size of {self.qom_type} ")
        assert isinstance(value, int)
        if value == 0:
            raise VnvdimmError(f"property 'size' of {self.qom_type} doesn't take value '0'")
        self.size = value

    def _set_merge(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.mapping is not None and value != self.merge:
            advice = libc.MADV_MERGEABLE if value else libc.MADV_UNMERGEABLE
            self.mapping.madvise(advice)
        self.merge = value

    def _set_dump(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.mapping is not None and value != self.dump:
            advice = libc.MADV_DODUMP if value else libc.MADV_DONTDUMP
            self.mapping.madvise(advice)
        self.dump = value

    def _set_prealloc(self, value: object) -> None:
        assert isinstance(value, bool)
        if not self.reserve and value:
            raise VnvdimmError("'prealloc=on' and 'reserve=off' are incompatible")
        if not self.initialised:
            self.prealloc = value
            return
        if value and not self.prealloc:
            self._preallocate()
            self.prealloc = True

    def _set_prealloc_threads(self, value: object) -> None:
        assert isinstance(value, int)
        if value <= 0:
            raise VnvdimmError(
                f"property 'prealloc-threads' of {self.qom_type} doesn't take value '{value}'")
        self.prealloc_threads = value

    def _set_prealloc_context(self, value: object) -> None:
        assert isinstance(value, str)
        # A link to a thread-context object; vnvdimm has no CPU affinity to honour.
        self.prealloc_context = value

    def _set_host_nodes(self, value: object) -> None:
        assert isinstance(value, list)
        for node in value:
            if node >= MAX_NODES:
                raise VnvdimmError(f"Invalid host-nodes value: {node}")
            self.host_nodes.add(node)  # QEMU ORs into the existing set

    def _set_policy(self, value: object) -> None:
        assert isinstance(value, str)
        self.policy = value

    def _set_share(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError("cannot change property value")
        self.share = value

    def _set_reserve(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError("cannot change property value")
        if self.prealloc and not value:
            raise VnvdimmError("'prealloc=on' and 'reserve=off' are incompatible")
        self.reserve = value

    def _set_canonical(self, value: object) -> None:
        assert isinstance(value, bool)
        self.use_canonical_path = value

    # -- property getters (qom-get, query-memdev) ---------------------------

    def get_property(self, name: str) -> object:
        getters: dict[str, object] = {
            "size": self.size,
            "merge": self.merge,
            "dump": self.dump,
            "prealloc": self.prealloc,
            "prealloc-threads": self.prealloc_threads,
            "host-nodes": sorted(self.host_nodes),
            "policy": self.policy,
            "share": self.share,
            "reserve": self.reserve,
            "x-use-canonical-path-for-ramblock-id": self.use_canonical_path,
        }
        if name not in getters:
            raise VnvdimmError(f"Property '{self.qom_type}.{name}' not found")
        return getters[name]

    # -- completion ---------------------------------------------------------

    def complete(self) -> None:
        """Allocate and map the region (QEMU's host_memory_backend_memory_complete)."""
        try:
            self._alloc()
            if self.ctx.dry_run:
                self._check_numa_policy()
                self._check_prealloc()
                return
            assert self.mapping is not None
            if self.merge:
                self.mapping.madvise(libc.MADV_MERGEABLE)
            if not self.dump:
                self.mapping.madvise(libc.MADV_DONTDUMP)
            self._apply_numa_policy()
            if self.prealloc:
                self._preallocate()
        except BaseException:
            self.close(abort=True)
            raise

    def _alloc(self) -> None:
        raise NotImplementedError

    def map_fd(self, fd: int, align_option: int, *, readonly: bool = False,
               sync: bool = False, file_size: int | None = None) -> None:
        """QEMU 7.2 qemu_ram_alloc_from_fd + file_ram_alloc.

        `fd` is -1 in a dry run for a file that would be created; `file_size`
        overrides what the descriptor says (a dry-run memfd)."""
        host_page = host_page_size()
        size = -(-self.size // host_page) * host_page
        if file_size is None:
            file_size = get_file_size(fd, self.ctx.sysfs_root) if fd >= 0 else 0
        if 0 < file_size < size:
            raise VnvdimmError(
                f"backing store size 0x{file_size:x} does not match 'size' option 0x{size:x}")
        if fd >= 0:
            # Debian's QEMU links libdaxctl: a device-DAX region's alignment is enforced.
            dax_align = get_file_align(fd, self.ctx.sysfs_root)
            if dax_align > align_option:
                raise VnvdimmError(
                    f"backing store align 0x{dax_align:x} is larger than 'align' option "
                    f"0x{align_option:x}")
        self.page_size = fd_page_size(fd) if fd >= 0 else host_page
        align = align_option
        if align % self.page_size:
            raise VnvdimmError(
                f"alignment 0x{align:x} must be multiples of page size 0x{self.page_size:x}")
        if align and align & (align - 1):
            raise VnvdimmError(f"alignment 0x{align:x} must be a power of two")
        align = max(self.page_size, align)
        if size < self.page_size:
            raise VnvdimmError(
                f"memory size 0x{size:x} must be equal to or larger than page size "
                f"0x{self.page_size:x}")
        size = -(-size // self.page_size) * self.page_size
        if self.ctx.dry_run:
            if fd >= 0 and stat.S_ISDIR(os.fstat(fd).st_mode):
                raise VnvdimmError("unable to map backing store for guest RAM: "
                                   + os.strerror(errno.ENODEV))
            self.align, self.region_size = align, self.size
            return
        if file_size == 0:
            self._truncate_empty(fd, size)
        self.mapping = ram_mmap(
            fd, size, align,
            shared=self.share, readonly=readonly, sync=sync,
            noreserve=not self.reserve, file_name=_fd_path(fd), warn=self.ctx.warn,
        )
        self.align = align
        self.region_size = self.size

    def _truncate_empty(self, fd: int, size: int) -> None:
        """Size an empty file; undone on failure so the user's file stays empty.

        QEMU leaves an empty file extended when a later step fails; we do not."""
        try:
            os.ftruncate(fd, size)
        except OSError as exc:
            # QEMU only perror()s and carries on.
            self.ctx.warn(f"ftruncate: {_strerror(exc.errno or 0)}")
            return
        if stat.S_ISREG(os.fstat(fd).st_mode):
            self.on_undo(lambda: _ftruncate_quiet(fd, 0))

    def _apply_numa_policy(self) -> None:
        self._check_numa_policy()
        if self.host_nodes:
            from vnvdimm.host.numa import bind_memory

            assert self.mapping is not None
            bind_memory(self.mapping.address, self.mapping.size, self.policy,
                        sorted(self.host_nodes))

    def _check_prealloc(self) -> None:
        """What a dry run can tell about preallocation: a read-only mapping
        cannot be populated for writing (QEMU 7.2 crashes here; we fail)."""
        if self.prealloc and self.readonly_region:
            from vnvdimm.host.prealloc import PREALLOC_FAILED

            raise VnvdimmError(f"{PREALLOC_FAILED}: {os.strerror(errno.EFAULT)}")

    def _check_numa_policy(self) -> None:
        if self.host_nodes and self.policy == "default":
            raise VnvdimmError(
                "host-nodes must be empty for policy default, or you should explicitly "
                "specify a policy other than default")
        if not self.host_nodes and self.policy != "default":
            raise VnvdimmError(f"host-nodes must be set for policy {self.policy}")
        if self.ctx.dry_run and self.host_nodes:
            from vnvdimm.host.numa import nodes_online

            if not self.host_nodes <= nodes_online():
                raise VnvdimmError("cannot bind memory to host NUMA nodes: "
                                   + os.strerror(errno.EINVAL))

    def _preallocate(self) -> None:
        from vnvdimm.host.prealloc import prealloc

        assert self.mapping is not None
        prealloc(self.mapping, self.page_size, self.prealloc_threads, self.ctx.progress)

    # -- access ---------------------------------------------------------------

    @property
    def view(self) -> memoryview:
        """The region's bytes (exactly `region_size` of them), without a copy."""
        if self.mapping is None:
            raise VnvdimmError(f"memory backend '{self.id}' is not allocated")
        return self.mapping.view[: self.region_size]

    def on_undo(self, action: Callable[[], None]) -> None:
        """Register what to undo (unlink a created file, re-empty a sized one)
        if the backend, or the configuration it belongs to, is abandoned."""
        self._undo.append(action)

    def close(self, *, abort: bool = False) -> None:
        """Release the mapping and descriptor.

        With `abort` (a failed or refused configuration) also undo every file
        change this backend made, so the user's files end as they started."""
        if self.mapping is not None:
            self.mapping.close()
            self.mapping = None
        while self._undo:  # newest first, while the descriptor is still open
            action = self._undo.pop()
            if abort:
                action()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.region_size = 0


def _strerror(code: int) -> str:
    return os.strerror(code)


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _ftruncate_quiet(fd: int, size: int) -> None:
    try:  # noqa: SIM105 (contextlib is kept off the start-up path)
        os.ftruncate(fd, size)
    except OSError:
        pass


class RamBackend(HostMemoryBackend):
    """memory-backend-ram: anonymous memory, 2 MiB aligned (QEMU_VMALLOC_ALIGN)."""

    qom_type = "memory-backend-ram"

    def _alloc(self) -> None:
        if not self.size:
            raise VnvdimmError("can't create backend with size 0")
        page = host_page_size()
        if self.ctx.dry_run:
            self.page_size, self.align, self.region_size = page, VMALLOC_ALIGN, self.size
            return
        self.mapping = anon_ram_alloc(self.size, name=self.region_name, shared=self.share,
                                      noreserve=not self.reserve, warn=self.ctx.warn)
        self.page_size = page
        self.align = VMALLOC_ALIGN
        self.region_size = self.size
