"""Interleave-set cookies of QEMU nvdimms and of multi-DIMM sets."""

from __future__ import annotations

from vnvdimm.labels.cookies import (
    DimmIdentity,
    interleave_set_cookies,
    qemu_nvdimm_cookies,
    qemu_nvdimm_identity,
)
from vnvdimm.labels.fletcher import fletcher64


def test_reference_values_for_slots_0_and_1() -> None:
    c0, c1 = qemu_nvdimm_cookies(0), qemu_nvdimm_cookies(1)
    assert (c0.cookie1, c0.cookie2) == (0x002468AC00123456, 0x00BA90120012B4DC)
    assert (c1.cookie1, c1.cookie2) == (0x002468AE00123457, 0x00BA901C0012B4DD)
    # one DIMM: the byte-wise sort changes nothing
    assert c0.altcookie == c0.cookie1


def test_identity_is_qemus() -> None:
    ident = qemu_nvdimm_identity(3)
    assert ident.serial_number == 0x123459
    assert ident.vendor_id == 0x8086
    assert (ident.region_offset, ident.manufacturing_date, ident.manufacturing_location) == (0,) * 3
    assert len(ident.set_info()) == 16 and len(ident.set_info2()) == 48


def test_cookie_per_index_version() -> None:
    c = qemu_nvdimm_cookies(0)
    assert c.for_index_version(1, 1) == c.cookie1
    assert c.for_index_version(1, 2) == c.cookie2
    assert c.accepts(c.cookie1, 1, 2)  # the altcookie equals cookie1 for one DIMM
    assert not c.accepts(qemu_nvdimm_cookies(1).cookie2, 1, 2)


def test_sort_orders() -> None:
    # offsets 0x100 and 0x1: numerically 0x1 first; byte-wise (LE) 0x100 first
    a = DimmIdentity(serial_number=1, region_offset=0x100)
    b = DimmIdentity(serial_number=2, region_offset=0x1)
    c = interleave_set_cookies([a, b])
    assert c.cookie1 == fletcher64(b.set_info() + a.set_info())
    assert c.altcookie == fletcher64(a.set_info() + b.set_info())
    assert c.cookie2 == fletcher64(b.set_info2() + a.set_info2())
    assert interleave_set_cookies([b, a]) == c
