"""The regions a guest finds in the NFIT, without touching guest memory.

Enough for `vnvdimm check` on a dry-run machine: each pmem region's address,
size, proximity domain, the DIMM's handle, serial and flags, and the
interleave-set cookies its namespace labels must carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from vnvdimm.acpi.nfit import ControlRegion, MemDevMap, SpaRange, parse_nfit
from vnvdimm.guest.cookies import interleave_set_cookies

NOT_ARMED = 0x8  # MemDev state flag


@dataclass(frozen=True)
class GuestRegion:
    address: int
    size: int
    node: int
    handle: int
    serial: int
    armed: bool
    cookie_v1_1: int
    cookie_v1_2: int

    def to_json(self) -> dict[str, object]:
        return {"address": self.address, "size": self.size, "numa_node": self.node,
                "handle": self.handle, "serial": self.serial, "armed": self.armed,
                "iset_cookie_v1_1": f"0x{self.cookie_v1_1:016x}",
                "iset_cookie_v1_2": f"0x{self.cookie_v1_2:016x}"}


def regions_from_nfit(nfit: bytes) -> list[GuestRegion]:
    """One region per SPA range, in NFIT order (QEMU maps each NVDIMM 1-way)."""
    table = parse_nfit(nfit)
    spas = [s for s in table.structures if isinstance(s, SpaRange)]
    maps = [s for s in table.structures if isinstance(s, MemDevMap)]
    dcrs = {s.region_index: s for s in table.structures if isinstance(s, ControlRegion)}
    regions = []
    for spa in spas:
        for memdev in (m for m in maps if m.range_index == spa.range_index):
            dcr = dcrs[memdev.region_index]
            cookies = interleave_set_cookies([(memdev, dcr)])
            regions.append(GuestRegion(
                address=spa.address, size=spa.length, node=spa.proximity_domain,
                handle=memdev.handle, serial=dcr.serial_number,
                armed=not memdev.flags & NOT_ARMED,
                cookie_v1_1=cookies.cookie1, cookie_v1_2=cookies.cookie2))
    return regions
