"""A backend image file as QEMU 7.2 lays it out for `-device nvdimm,label-size=L`.

QEMU maps ``size`` bytes of the file (the backend's ``size=``).  The label
area is the last ``label_size`` bytes of that region, at ``size -
label_size`` (a larger file keeps its labels there, not at the file's end);
the guest-visible pmem area starts at offset 0 and is ``size -
label_size`` rounded down to the backend's alignment (the host page size
for a file on a normal file system, or the backend's ``align=``).

Writes go straight to the file with ``pwrite`` and each one is followed by
``fsync``, so the ordering the label update protocol relies on (label
durable before the index that references it) holds on disk.

Locking: write commands take ``flock(LOCK_EX|LOCK_NB)`` and refuse when it
is held elsewhere; ``vnvdimm run`` holds ``LOCK_SH`` on its file backends.
QEMU itself takes no lock on memory-backend-file files, so a running QEMU
is not detected.
"""

from __future__ import annotations

import errno
import fcntl
import os
from dataclasses import dataclass

from vnvdimm.labels import LabelArea, RegionContext

DEFAULT_LABEL_SIZE = 128 << 10
DEFAULT_ALIGN = 4096  # qemu_fd_getpagesize() of a file on a normal file system
MIN_LABEL_SIZE = 128 << 10  # QEMU's MIN_NAMESPACE_LABEL_SIZE


class ImageError(Exception):
    """An image cannot be used as asked (the message says why)."""


class ImageLocked(ImageError):
    """Another process holds the image's lock."""


def align_down(value: int, alignment: int) -> int:
    return value // alignment * alignment


def align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


@dataclass(frozen=True)
class ImageLayout:
    """Where QEMU finds the pmem and the label area in a backend of ``size`` bytes."""

    size: int
    label_size: int = DEFAULT_LABEL_SIZE
    align: int = DEFAULT_ALIGN

    def __post_init__(self) -> None:
        if self.label_size < MIN_LABEL_SIZE:
            raise ImageError(f"label size {self.label_size} is below QEMU's minimum "
                             f"{MIN_LABEL_SIZE}")
        if self.align <= 0 or self.align & (self.align - 1):
            raise ImageError(f"alignment {self.align} is not a power of two")
        if self.pmem_size <= 0:
            raise ImageError(f"backend size {self.size} leaves no pmem after a "
                             f"{self.label_size}-byte label area")

    @property
    def label_offset(self) -> int:
        return self.size - self.label_size

    @property
    def pmem_size(self) -> int:
        return align_down(self.size - self.label_size, self.align)

    @classmethod
    def for_pmem_size(cls, pmem_size: int, label_size: int = DEFAULT_LABEL_SIZE,
                      align: int = DEFAULT_ALIGN) -> ImageLayout:
        """The smallest backend whose guest-visible pmem is ``pmem_size`` bytes."""
        if pmem_size <= 0 or pmem_size % align:
            raise ImageError(f"pmem size {pmem_size} must be a positive multiple of {align}")
        return cls(pmem_size + label_size, label_size, align)


class FileMedia:
    """``labels.Media`` over a window of a file: pread, and pwrite + fsync per write."""

    def __init__(self, fd: int, base: int, length: int, *, writable: bool) -> None:
        self.fd, self.base, self.length, self.writable = fd, base, length, writable

    def _check(self, offset: int, size: int) -> None:
        if offset < 0 or size < 0 or offset + size > self.length:
            raise ImageError(f"access of {size} bytes at {offset:#x} is outside "
                             f"the {self.length}-byte window")

    def read(self, offset: int, size: int) -> bytes:
        self._check(offset, size)
        data = os.pread(self.fd, size, self.base + offset)
        return data.ljust(size, b"\0")  # a sparse tail past EOF reads as zeros

    def write(self, offset: int, data: bytes) -> None:
        if not self.writable:
            raise ImageError("the image is open read-only")
        self._check(offset, len(data))
        view = memoryview(data)
        done = 0
        while done < len(data):
            done += os.pwrite(self.fd, view[done:], self.base + offset + done)
        os.fsync(self.fd)


class ImageFile:
    """An open backend image: its layout, label-area media, pmem media and lock."""

    def __init__(self, path: str, *, size: int | None = None,
                 label_size: int = DEFAULT_LABEL_SIZE, align: int = DEFAULT_ALIGN,
                 slot: int = 0, writable: bool = False) -> None:
        self.path = path
        self.slot = slot
        self.writable = writable
        try:
            fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)
        except OSError as exc:
            raise ImageError(f"{path}: {os.strerror(exc.errno or errno.EIO)}") from None
        self.fd = fd
        try:
            if writable:
                self._lock()
            file_size = os.fstat(fd).st_size
            backend = file_size if size is None else size
            if backend > file_size:
                raise ImageError(f"{path}: backend size {backend} is larger than the file "
                                 f"({file_size} bytes)")
            try:
                self.layout = ImageLayout(backend, label_size, align)
            except ImageError as exc:
                raise ImageError(f"{path}: {exc}") from None
        except BaseException:
            os.close(fd)
            raise
        self.labels_media = FileMedia(fd, self.layout.label_offset, label_size,
                                      writable=writable)
        self.pmem_media = FileMedia(fd, 0, self.layout.pmem_size, writable=writable)

    def _lock(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImageLocked(
                f"{self.path}: image is in use (locked by a running vnvdimm or another "
                f"vnvdimm command); refusing to modify it") from None
        except OSError:
            pass  # file systems without flock: proceed unlocked

    def context(self) -> RegionContext:
        return RegionContext.qemu(self.slot, self.layout.pmem_size)

    def label_area(self) -> LabelArea:
        return LabelArea(self.labels_media, self.layout.label_size, self.context())

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> ImageFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_image(path: str, layout: ImageLayout, *, force: bool = False) -> None:
    """A sparse file of ``layout.size`` zero bytes; an existing file only with ``force``."""
    flags = os.O_RDWR | os.O_CREAT | (0 if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise ImageError(f"{path}: file exists (use --force to overwrite)") from None
    except OSError as exc:
        raise ImageError(f"{path}: {os.strerror(exc.errno or errno.EIO)}") from None
    try:
        if force:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ImageLocked(f"{path}: image is in use; refusing to overwrite") from None
            except OSError:
                pass
            os.ftruncate(fd, 0)
        os.ftruncate(fd, layout.size)
        os.fsync(fd)
    finally:
        os.close(fd)
