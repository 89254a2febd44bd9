"""Backend types by QOM type name, and creation from validated options."""

from __future__ import annotations

from vnvdimm.backends.base import BackendContext, HostMemoryBackend
from vnvdimm.backends.file import FileBackend
from vnvdimm.backends.memfd import MemfdBackend
from vnvdimm.backends.ram import RamBackend
from vnvdimm.backends.schema import ObjectOptions
from vnvdimm.qdict import qdict_order

BACKEND_TYPES: dict[str, type[HostMemoryBackend]] = {
    "memory-backend-ram": RamBackend,
    "memory-backend-file": FileBackend,
    "memory-backend-memfd": MemfdBackend,
}


def create_backend(opts: ObjectOptions, ctx: BackendContext) -> HostMemoryBackend:
    """Instantiate and set properties in QEMU's QDict order; not yet completed."""
    backend = BACKEND_TYPES[opts.qom_type](opts.id, ctx)
    for name in qdict_order(list(opts.props)):
        backend.set_property(name, opts.props[name])
    return backend
