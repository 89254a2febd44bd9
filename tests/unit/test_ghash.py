"""GLib hash-table order: checked against orders observed on real QEMU 7.2."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.machine.ghash import GHashOrder, str_hash


def _order(keys: list[str]) -> list[str]:
    table = GHashOrder()
    for key in keys:
        table.insert(key)
    return table.order()


def test_str_hash_is_djb2_over_signed_chars() -> None:
    assert str_hash("") == 5381
    assert str_hash("a") == (5381 * 33 + 97) & 0xFFFFFFFF
    # A byte >= 0x80 counts as negative (GLib hashes signed chars).
    assert str_hash("\u00e9") == ((5381 * 33 - 61) * 33 - 87) & 0xFFFFFFFF


def test_query_memdev_orders_seen_on_qemu() -> None:
    # query-memdev prepends while iterating: its list is the reverse order.
    assert _order(["mem1", "mem2", "pc.ram"])[::-1] == ["mem1", "pc.ram", "mem2"]
    assert _order(["pc.ram", "mem1", "mem2", "mem3", "mem4"])[::-1] == [
        "mem3", "mem1", "mem4", "mem2", "pc.ram"]
    assert _order(["mem1", "mem2", "mem3", "mem4", "pc.ram"])[::-1] == [
        "pc.ram", "mem3", "mem1", "mem4", "mem2"]


def test_peripheral_orders_seen_in_nfit() -> None:
    assert _order(["nvdimm1", "nvdimm2", "nvdimm3", "nvdimm4"]) == [
        "nvdimm2", "nvdimm4", "nvdimm1", "nvdimm3"]
    assert _order(["zz", "aa", "mm", "bb"]) == ["aa", "mm", "bb", "zz"]


@given(st.lists(st.text(min_size=1, max_size=12), max_size=80, unique=True),
       st.data())
def test_order_holds_exactly_the_live_keys(keys: list[str], data: st.DataObject) -> None:
    table = GHashOrder()
    for key in keys:
        table.insert(key)
    removed = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    for key in removed:
        table.remove(key)
    assert sorted(table.order()) == sorted(set(keys) - set(removed))
    assert table.size >= 8 and table.size & (table.size - 1) == 0
