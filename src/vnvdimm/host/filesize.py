"""Backing-file size and device-DAX alignment, as QEMU 7.2's physmem.c sees them.

Both functions follow QEMU's return convention: a non-negative value, or a
negative errno on failure. Callers compare the way QEMU does (7.2:
``file_size > 0 && file_size < size``, and ``file_align > 0 && file_align >
align``), which is why a failure quietly disables the check instead of being
reported.

``sysfs_root`` exists so tests can point at a fake tree; it replaces the
leading ``/sys`` of every sysfs path QEMU (and libdaxctl) would use.
"""

from __future__ import annotations

import errno
import os
import stat

# libdaxctl's SYSFS_ATTR_SIZE: it reads at most this much of an attribute.
_SYSFS_ATTR_SIZE = 1024
# libdaxctl accepts directory entries that sscanf "dax%d.%d" matches.
_DAX_DEVICE_NAME = r"dax[ \t\n\v\f\r]*[+-]?\d+\.[ \t\n\v\f\r]*[+-]?\d+"


def _char_dir(st: os.stat_result, sysfs_root: str) -> str:
    return os.path.join(sysfs_root, "dev", "char", f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")


def devdax_size(char_dir: str) -> int | None:
    """Size of a device-DAX character device from its ``/sys/dev/char/M:m`` directory.

    QEMU reads the ``subsystem`` link *target text* (g_file_read_link, not a
    resolved path); only if it ends in ``/dax`` does it read ``size`` and
    parse it with ``g_ascii_strtoll(..., 0)``. ``None`` means "not device-DAX,
    or unreadable": QEMU then falls back to lseek.
    """
    try:
        subsystem = os.readlink(os.path.join(char_dir, "subsystem"))
    except OSError:
        return None
    if not subsystem.endswith("/dax"):
        return None
    try:
        with open(os.path.join(char_dir, "size"), "rb") as f:
            text = f.read()
    except OSError:
        return None
    from vnvdimm.host import _cparse  # device DAX only

    # g_file_get_contents gives a C string: it stops at the first NUL.
    return _cparse.strtoll(text.split(b"\0", 1)[0].decode("latin-1")).value


def get_file_size(fd: int, sysfs_root: str = "/sys") -> int:
    """QEMU's ``get_file_size``: bytes in the file/device, or ``-errno``.

    * fstat failure: ``-errno``.
    * character device whose sysfs subsystem is ``.../dax``: the sysfs
      ``size`` (device-DAX reports 0 in st_size and cannot be lseek'd usefully).
    * otherwise ``lseek(fd, 0, SEEK_END)`` (st_size may be 0 for special files
      where lseek still works). Like QEMU this moves the file offset.
    """
    try:
        st = os.fstat(fd)
    except OSError as e:
        return -(e.errno or errno.EIO)
    if stat.S_ISCHR(st.st_mode):
        size = devdax_size(_char_dir(st, sysfs_root))
        if size is not None:
            return size
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    except OSError as e:
        return -(e.errno or errno.EIO)


def _read_attr(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read(_SYSFS_ATTR_SIZE)
    except OSError:
        return None
    return data.split(b"\0", 1)[0].decode("latin-1")


def dax_regions(sysfs_root: str = "/sys") -> list[tuple[str, int]]:
    """The (region path, align) pairs libdaxctl's region iterator yields, in its order.

    libdaxctl lists ``daxX.Y`` entries of ``/sys/class/dax`` (region = the
    resolved path minus two components) and ``/sys/bus/dax/devices`` (minus
    one), reads ``<region>/dax_region/align`` with strtoul (unreadable means
    ULONG_MAX, i.e. -1 once QEMU stores it in an int64), skips duplicates, and
    pushes each new region at the list head, so iteration is newest first.
    """
    import re  # only character devices get here: regular files never load it

    dax_device_name = re.compile(_DAX_DEVICE_NAME)
    regions: list[tuple[str, int]] = []
    sources = (
        (os.path.join(sysfs_root, "class", "dax"), 2),
        (os.path.join(sysfs_root, "bus", "dax", "devices"), 1),
    )
    for directory, strip in sources:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if not dax_device_name.match(name):
                continue
            try:
                region = os.path.realpath(os.path.join(directory, name), strict=True)
            except OSError:
                continue
            for _ in range(strip):
                region = os.path.dirname(region)
            if any(path == region for path, _align in regions):
                continue
            text = _read_attr(os.path.join(region, "dax_region", "align"))
            from vnvdimm.host import _cparse  # device DAX only

            align = -1 if text is None else _cparse.to_int64(_cparse.strtoull(text).value)
            regions.insert(0, (region, align))
    return regions


def get_file_align(fd: int, sysfs_root: str = "/sys") -> int:
    """QEMU 7.2's ``get_file_align`` as built with libdaxctl (Debian's build is).

    Returns the device-DAX *region* alignment of a character device, ``-1``
    when there is none (regular files, non-DAX devices), or ``-errno`` when
    the device's sysfs node cannot be resolved. The caller fails with
    ``backing store align 0x%x is larger than 'align' option 0x%x`` when the
    result is positive and larger than the user's raw ``align`` (0 if unset).

    A QEMU built without libdaxctl always returns -1 here (no check at all).
    The region is matched as libdaxctl + QEMU do: the first region whose path
    is a substring of the device's resolved sysfs path.
    """
    try:
        st = os.fstat(fd)
    except OSError as e:
        return -(e.errno or errno.EIO)
    if not stat.S_ISCHR(st.st_mode):
        return -1
    try:
        resolved = os.path.realpath(_char_dir(st, sysfs_root), strict=True)
    except OSError as e:
        return -(e.errno or errno.ENOENT)
    return region_align_for(resolved, sysfs_root)


def region_align_for(resolved_device_path: str, sysfs_root: str = "/sys") -> int:
    """The align of the first dax region whose path occurs in ``resolved_device_path``."""
    for region, align in dax_regions(sysfs_root):
        if region in resolved_device_path:
            return align
    return -1
