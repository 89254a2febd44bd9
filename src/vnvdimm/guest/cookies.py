"""Interleave-set cookies of a region as the guest derives them from its NFIT.

The cookie arithmetic lives in `labels.cookies` (labels is a leaf anyone may
import); this module only turns NFIT structures into the per-DIMM identities.
"""

from __future__ import annotations

from collections.abc import Sequence

from vnvdimm.acpi.nfit import ControlRegion, MemDevMap
from vnvdimm.labels.cookies import DimmIdentity, InterleaveSetCookies
from vnvdimm.labels.cookies import interleave_set_cookies as _cookies
from vnvdimm.labels.fletcher import fletcher64

__all__ = ["InterleaveSetCookies", "fletcher64", "interleave_set_cookies"]


def interleave_set_cookies(
        mappings: Sequence[tuple[MemDevMap, ControlRegion]]) -> InterleaveSetCookies:
    """acpi_nfit_init_interleave_set for one region's (memdev, dcr) pairs."""
    return _cookies([
        DimmIdentity(serial_number=d.serial_number, region_offset=m.region_offset,
                     vendor_id=d.vendor_id, manufacturing_date=d.manufacturing_date,
                     manufacturing_location=d.manufacturing_location)
        for m, d in mappings])
