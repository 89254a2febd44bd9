"""QEMU's QDict iteration order, which decides two user-visible things: the
order QEMU applies properties in (so which error comes first) and the key order
of every JSON object it prints.

A QDict is a 512-bucket hash table keyed by the TDB hash of the key's bytes
(modified UTF-8: NUL as C0 80); each bucket lists its newest entry first.
"""

from __future__ import annotations

BUCKETS = 512

# Memo tables (functools costs start-up time), bounded: a full one starts afresh
# (clear() is one atomic step, whichever thread fills it).
_HASHES: dict[str, int] = {}
_ORDERS: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_HASHES = 4096
_MAX_ORDERS = 1024


def tdb_hash(key: str) -> int:
    """QEMU's qdict tdb_hash, 32-bit."""
    known = _HASHES.get(key)
    if known is not None:
        return known
    data = key.encode("utf-8", "surrogatepass").replace(b"\0", b"\xc0\x80")
    value = (0x238F13AF * len(data)) & 0xFFFFFFFF
    for i, byte in enumerate(data):
        value = (value + (byte << (i * 5 % 24))) & 0xFFFFFFFF
    value = (1103515243 * value + 12345) & 0xFFFFFFFF
    if len(_HASHES) >= _MAX_HASHES:
        _HASHES.clear()
    _HASHES[key] = value
    return value


def _order(keys: tuple[str, ...]) -> tuple[str, ...]:
    # Replies reuse a handful of key sets: each permutation is computed once.
    known = _ORDERS.get(keys)
    if known is not None:
        return known
    buckets: dict[int, list[str]] = {}
    for key in keys:
        buckets.setdefault(tdb_hash(key) % BUCKETS, []).insert(0, key)
    order = tuple(key for bucket in sorted(buckets) for key in buckets[bucket])
    if len(_ORDERS) >= _MAX_ORDERS:
        _ORDERS.clear()
    _ORDERS[keys] = order
    return order


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
