"""memory-backend-file: a (possibly new) file, a directory, or a device-DAX node."""

from __future__ import annotations

import errno
import os

from vnvdimm.backends.base import HostMemoryBackend
from vnvdimm.errors import VnvdimmError
from vnvdimm.host import libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from vnvdimm.backends.base import BackendContext


class FileBackend(HostMemoryBackend):
    qom_type = "memory-backend-file"

    def __init__(self, object_id: str, ctx: BackendContext) -> None:
        super().__init__(object_id, ctx)
        self.mem_path: str | None = None
        self.align_option = 0
        self.discard_data = False
        self.pmem = False
        self.readonly = False

    def _setters(self) -> dict[str, Callable[[object], None]]:
        setters = super()._setters()
        setters.update({
            "mem-path": self._set_mem_path,
            "align": self._set_align,
            "discard-data": self._set_discard_data,
            "pmem": self._set_pmem,
            "readonly": self._set_readonly,
        })
        return setters

    def _set_mem_path(self, value: object) -> None:
        assert isinstance(value, str)
        if self.initialised:
            raise VnvdimmError(f"cannot change property 'mem-path' of {self.qom_type}")
        self.mem_path = value

    def _set_align(self, value: object) -> None:
        assert isinstance(value, int)
        if self.initialised:
            raise VnvdimmError(f"cannot change property 'align' of {self.qom_type}")
        self.align_option = value

    def _set_discard_data(self, value: object) -> None:
        assert isinstance(value, bool)
        self.discard_data = value

    def _set_pmem(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError(f"cannot change property 'pmem' of {self.qom_type}.")
        self.pmem = value

    def _set_readonly(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError(f"cannot change property 'readonly' of {self.qom_type}.")
        self.readonly = value

    def get_property(self, name: str) -> object:
        extra: dict[str, object] = {
            "mem-path": self.mem_path,
            "align": self.align_option,
            "discard-data": self.discard_data,
            "pmem": self.pmem,
            "readonly": self.readonly,
        }
        if name in extra:
            return extra[name]
        return super().get_property(name)

    # -- allocation (QEMU 7.2 file_backend_memory_alloc and below) -----------

    def _alloc(self) -> None:
        if not self.size:
            raise VnvdimmError("can't create backend with size 0")
        if not self.mem_path:
            raise VnvdimmError("mem-path property not set")
        fd = self._open(self.mem_path)
        self.readonly_region = self.readonly
        if self.ctx.dry_run:
            try:
                self.map_fd(fd, self.align_option, readonly=self.readonly, sync=self.pmem)
            finally:
                if fd >= 0:
                    os.close(fd)
            return
        self.fd = fd
        _lock_shared(fd)
        self.map_fd(fd, self.align_option, readonly=self.readonly, sync=self.pmem)

    def _open(self, path: str) -> int:
        """QEMU 7.2 file_ram_open: use, create (0644, undone on failure) or mkstemp."""
        if self.ctx.dry_run:
            return self._open_dry(path)
        while True:
            try:
                return os.open(path, os.O_RDONLY if self.readonly else os.O_RDWR)
            except OSError as exc:
                code = exc.errno
            if code == errno.ENOENT:
                try:
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                except OSError as exc:
                    code = exc.errno
                else:
                    self.on_undo(lambda: _unlink_quiet(path))
                    return fd
            elif code == errno.EISDIR:
                import tempfile  # only a directory as mem-path needs it

                name = self.region_name.replace("/", "_")
                try:
                    fd, tmp = tempfile.mkstemp(prefix=f"qemu_back_mem.{name}.", dir=path)
                except OSError as exc:
                    code = exc.errno
                else:
                    os.unlink(tmp)
                    return fd
            if code not in (errno.EEXIST, errno.EINTR):
                raise VnvdimmError(
                    f"can't open backing store {path} for guest RAM: {os.strerror(code or 0)}")

    def _open_dry(self, path: str) -> int:
        """What _open would do, without creating or writing: a read-only descriptor
        for an existing file (to size it), -1 for a file that would be created."""
        def fail(code: int) -> VnvdimmError:
            return VnvdimmError(
                f"can't open backing store {path} for guest RAM: {os.strerror(code)}")
        if os.path.isdir(path):
            if self.readonly:
                return os.open(path, os.O_RDONLY)  # QEMU 7.2 maps the directory itself
            if not os.access(path, os.W_OK | os.X_OK):
                raise fail(errno.EACCES)
            return -1
        if os.path.lexists(path):
            if not os.access(path, os.R_OK if self.readonly else os.R_OK | os.W_OK):
                raise fail(errno.EACCES)
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError as exc:
                raise fail(exc.errno or errno.EIO) from exc
            return fd
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise fail(errno.ENOENT if not os.path.exists(parent) else errno.ENOTDIR)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise fail(errno.EACCES)
        return -1

    def close(self, *, abort: bool = False) -> None:
        # Discarding is for a normal shutdown; an aborted build keeps the data.
        if self.discard_data and not abort and self.mapping is not None and self.region_size:
            self.mapping.madvise(libc.MADV_REMOVE)
        super().close(abort=abort)


def _lock_shared(fd: int) -> None:
    """Hold a shared advisory lock while running, so offline writers refuse the image.

    QEMU 7.2 takes no lock on memory-backend-file files, so a conflict never
    stops the platform: the lock is best effort (a writer holding it
    exclusively, or a file system without flock, just leaves it unlocked).
    The lock goes with the descriptor when the backend closes.
    """
    try:  # noqa: SIM105 (contextlib is kept off the start-up path)
        libc.flock(fd, libc.LOCK_SH | libc.LOCK_NB)
    except OSError:
        pass


def _unlink_quiet(path: str) -> None:
    try:  # noqa: SIM105 (contextlib is kept off the start-up path)
        os.unlink(path)
    except OSError:
        pass



