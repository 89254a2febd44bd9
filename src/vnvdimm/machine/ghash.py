"""GLib 2.74's GHashTable iteration order, for QOM child containers.

QEMU lists `/objects` (query-memdev) and walks `/machine/peripheral` (NFIT
structure order) in the bucket order of GLib's open-addressing hash table,
keyed by the child's name.  That order is deterministic: this class tracks
exactly where GLib puts each key (insert, remove, resize) so vnvdimm can
list things in QEMU's order.  Only the placement is modelled, not values.
"""

from __future__ import annotations

MIN_SHIFT = 3
UNUSED, TOMBSTONE = 0, 1
_PRIME_MOD = (
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
    131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393,
    67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647,
)


def str_hash(key: str) -> int:
    """g_str_hash: djb2 over the bytes as *signed* chars, modulo 2**32."""
    h = 5381
    for byte in key.encode():
        signed = byte - 256 if byte >= 128 else byte
        h = (h * 33 + signed) & 0xFFFFFFFF
    return h


def _closest_shift(n: int) -> int:
    shift = 0
    while n:
        n >>= 1
        shift += 1
    return shift


class GHashOrder:
    """Key placement of a GHashTable(g_str_hash, g_str_equal) map."""

    def __init__(self) -> None:
        self._set_shift(MIN_SHIFT)
        self.hashes = [UNUSED] * self.size
        self.keys: list[str | None] = [None] * self.size
        self.nnodes = 0
        self.noccupied = 0

    def _set_shift(self, shift: int) -> None:
        self.size = 1 << shift
        self.mod = _PRIME_MOD[shift]
        self.mask = self.size - 1

    def _hash(self, key: str) -> int:
        h = str_hash(key)
        return 2 if h < 2 else h

    def _index(self, h: int) -> int:
        return ((h * 11) & 0xFFFFFFFF) % self.mod

    def _lookup(self, key: str, h: int) -> tuple[int, bool]:
        index = self._index(h)
        step = 0
        tombstone = -1
        while self.hashes[index] != UNUSED:
            if self.hashes[index] == h and self.keys[index] == key:
                return index, True
            if self.hashes[index] == TOMBSTONE and tombstone < 0:
                tombstone = index
            step += 1
            index = (index + step) & self.mask
        return (tombstone if tombstone >= 0 else index), False

    def insert(self, key: str) -> None:
        h = self._hash(key)
        index, found = self._lookup(key, h)
        if found:
            return
        was_unused = self.hashes[index] == UNUSED
        self.hashes[index] = h
        self.keys[index] = key
        self.nnodes += 1
        if was_unused:
            self.noccupied += 1
            self._maybe_resize()

    def remove(self, key: str) -> None:
        h = self._hash(key)
        index, found = self._lookup(key, h)
        if not found:
            return
        self.hashes[index] = TOMBSTONE
        self.keys[index] = None
        self.nnodes -= 1
        self._maybe_resize()

    def _maybe_resize(self) -> None:
        if (self.size > self.nnodes * 4 and self.size > 1 << MIN_SHIFT) or (
            self.size <= self.noccupied + self.noccupied // 16
        ):
            self._resize()

    def _resize(self) -> None:
        old_size = self.size
        self._set_shift(max(_closest_shift(int(self.nnodes * 1.333)), MIN_SHIFT))
        if self.size > old_size:
            self.hashes += [UNUSED] * (self.size - old_size)
            self.keys += [None] * (self.size - old_size)
        placed = [False] * max(self.size, old_size)
        # GLib rehashes in place: walk the old buckets, evicting as it goes.
        for i in range(old_size):
            node_hash = self.hashes[i]
            if node_hash < 2:
                self.hashes[i] = UNUSED
                continue
            if placed[i]:
                continue
            self.hashes[i] = UNUSED
            node_key = self.keys[i]
            self.keys[i] = None
            while True:
                index = self._index(node_hash)
                step = 0
                while placed[index]:
                    step += 1
                    index = (index + step) & self.mask
                placed[index] = True
                replaced_hash, replaced_key = self.hashes[index], self.keys[index]
                self.hashes[index], self.keys[index] = node_hash, node_key
                if replaced_hash < 2:
                    break
                node_hash, node_key = replaced_hash, replaced_key
        if self.size < old_size:
            del self.hashes[self.size:]
            del self.keys[self.size:]
        self.noccupied = self.nnodes

    def order(self) -> list[str]:
        """Keys in GHashTableIter order (bucket index ascending)."""
        return [k for h, k in zip(self.hashes, self.keys, strict=True) if h >= 2 and k]
