"""The order in which `ndctl list` prints devices.

libndctl reads a bus's sysfs directory and pushes each nmemN / regionN it finds
to the *front* of its list; sysfs (kernfs) returns directory entries sorted by
kernfs_name_hash(name), then by name.  So ndctl lists devices in descending
(hash, name) order: with three DIMMs, nmem1, nmem0, nmem2.
"""

from __future__ import annotations

from collections.abc import Iterable

_U64 = (1 << 64) - 1
GOLDEN_RATIO_64 = 0x61C8864680B583EB
INT_MAX = 0x7FFFFFFF


def kernfs_name_hash(name: str) -> int:
    """Linux fs/kernfs/dir.c kernfs_name_hash with a NULL namespace (64-bit kernel)."""
    value = 0
    for c in name.encode():
        value = ((value + (c << 4) + (c >> 4)) * 11) & _U64  # partial_name_hash
    value = ((value * GOLDEN_RATIO_64) & _U64) >> 32  # end_name_hash = hash_long(h, 32)
    value &= INT_MAX
    if value < 2:
        value += 2
    if value >= INT_MAX:
        value = INT_MAX - 1
    return value


def readdir_order(names: Iterable[str]) -> list[str]:
    """Entries of one kernfs directory in readdir order."""
    return sorted(names, key=lambda n: (kernfs_name_hash(n), n))


def ndctl_order(names: Iterable[str]) -> list[str]:
    """libndctl's list order: readdir order, each entry added at the head."""
    return list(reversed(readdir_order(names)))
