"""QEMU's JSON key order: QDict iteration order of keys inserted in schema order."""

from __future__ import annotations

from vnvdimm.backends.schema import qdict_order


def qemu_order(value: object) -> object:
    """Reorder every dict (built in QAPI schema order) the way QEMU prints it."""
    if isinstance(value, dict):
        return {key: qemu_order(value[key]) for key in qdict_order(list(value))}
    if isinstance(value, list):
        return [qemu_order(item) for item in value]
    return value
