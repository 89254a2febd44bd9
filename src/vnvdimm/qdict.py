"""QEMU's QDict iteration order, which decides two user-visible things: the
order QEMU applies properties in (so which error comes first) and the key order
of every JSON object it prints.

A QDict is a 512-bucket hash table keyed by the TDB hash of the key's bytes
(modified UTF-8: NUL as C0 80); each bucket lists its newest entry first.
"""

from __future__ import annotations

import functools

BUCKETS = 512


@functools.lru_cache(maxsize=4096)
def tdb_hash(key: str) -> int:
    """QEMU's qdict tdb_hash, 32-bit."""
    data = key.encode("utf-8", "surrogatepass").replace(b"\0", b"\xc0\x80")
    value = (0x238F13AF * len(data)) & 0xFFFFFFFF
    for i, byte in enumerate(data):
        value = (value + (byte << (i * 5 % 24))) & 0xFFFFFFFF
    return (1103515243 * value + 12345) & 0xFFFFFFFF


@functools.lru_cache(maxsize=1024)
def _order(keys: tuple[str, ...]) -> tuple[str, ...]:
    # Replies reuse a handful of key sets: each permutation is computed once.
    buckets: dict[int, list[str]] = {}
    for key in keys:
        buckets.setdefault(tdb_hash(key) % BUCKETS, []).insert(0, key)
    return tuple(key for bucket in sorted(buckets) for key in buckets[bucket])


def qdict_order(keys: list[str] | tuple[str, ...]) -> list[str]:
    """The order qdict_first/qdict_next visit `keys`, given in insertion order."""
    return list(_order(tuple(keys)))


def qemu_order(value: object) -> object:
    """Reorder every dict (built in insertion order) the way QEMU iterates it."""
    if isinstance(value, dict):
        return {key: qemu_order(value[key]) for key in _order(tuple(value))}
    if isinstance(value, list):
        return [qemu_order(item) for item in value]
    return value
