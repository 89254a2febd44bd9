"""Guest-physical memory: one narrow interface over RAM and plugged DIMMs.

Modelled on rust-vmm's vm-memory: a guest address is its own small type,
regions know their bounds, and an access names the address that failed.
"""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, NewType

    GuestAddress = NewType("GuestAddress", int)
else:
    def GuestAddress(value: int) -> int:
        """What NewType makes at run time: the identity."""
        return value


class GuestRegion:
    """A guest-physical range backed by host memory (no copies)."""

    __slots__ = ("name", "start", "view")

    def __init__(self, start: int, view: memoryview, name: str) -> None:
        self.start: Final = start
        self.view: Final = view
        self.name: Final = name

    @property
    def size(self) -> int:
        return len(self.view)

    @property
    def end(self) -> int:
        return self.start + len(self.view)


class GuestMemory:
    """Sorted, non-overlapping guest regions with read/write/view by address."""

    def __init__(self) -> None:
        self._regions: list[GuestRegion] = []
        self._starts: list[int] = []

    def add(self, region: GuestRegion) -> None:
        # A handful of regions, added at plug time: a scan keeps the bisect
        # module (and its C library) off the start-up path.
        index = next((i for i, start in enumerate(self._starts) if start > region.start),
                     len(self._starts))
        before = self._regions[index - 1] if index else None
        after = self._regions[index] if index < len(self._regions) else None
        if (before and before.end > region.start) or (after and region.end > after.start):
            raise VnvdimmError(f"guest region {region.name} at 0x{region.start:x} overlaps")
        self._regions.insert(index, region)
        self._starts.insert(index, region.start)

    def remove(self, name: str) -> None:
        for index, region in enumerate(self._regions):
            if region.name == name:
                del self._regions[index]
                del self._starts[index]
                return

    def clear(self) -> None:
        self._regions.clear()
        self._starts.clear()

    @property
    def regions(self) -> tuple[GuestRegion, ...]:
        return tuple(self._regions)

    def find(self, addr: int) -> GuestRegion:
        from bisect import bisect  # every access: after the first, a dict look-up

        index = bisect(self._starts, addr) - 1
        if index >= 0:
            region = self._regions[index]
            if addr < region.end:
                return region
        raise VnvdimmError(f"guest address 0x{addr:x} is not backed by memory")

    def view(self, addr: int, length: int) -> memoryview:
        """A view of [addr, addr+length) if it lies within one region."""
        region = self.find(addr)
        offset = addr - region.start
        if offset + length > region.size:
            raise VnvdimmError(
                f"guest range 0x{addr:x}+0x{length:x} crosses the end of {region.name} "
                f"at 0x{region.end:x}")
        return region.view[offset: offset + length]

    def read(self, addr: int, length: int) -> bytes:
        """Read bytes; the range may span adjacent regions but no hole."""
        if length <= 0:
            return b""
        region = self.find(addr)
        offset = addr - region.start
        if offset + length <= region.size:
            return bytes(region.view[offset: offset + length])
        out = bytearray(length)
        self.read_into(addr, out)
        return bytes(out)

    def read_into(self, addr: int, buffer: bytearray | memoryview) -> None:
        target = memoryview(buffer).cast("B")
        done = 0
        while done < len(target):
            region = self.find(addr + done)
            offset = addr + done - region.start
            n = min(len(target) - done, region.size - offset)
            target[done: done + n] = region.view[offset: offset + n]
            done += n

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        source = memoryview(data).cast("B")
        done = 0
        while done < len(source):
            region = self.find(addr + done)
            offset = addr + done - region.start
            n = min(len(source) - done, region.size - offset)
            if region.view.readonly:
                raise VnvdimmError(
                    f"guest address 0x{addr + done:x} is read-only ({region.name})")
            region.view[offset: offset + n] = source[done: done + n]
            done += n
