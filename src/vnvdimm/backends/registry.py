"""Backend types by QOM type name, and creation from validated options."""

from __future__ import annotations

from vnvdimm.backends.base import BackendContext, HostMemoryBackend
from vnvdimm.backends.file import FileBackend
from vnvdimm.backends.ram import RamBackend
from vnvdimm.backends.schema import ObjectOptions
from vnvdimm.qdict import qdict_order


def backend_class(qom_type: str) -> type[HostMemoryBackend]:
    """The class of a backend type: memory-backend-file, -ram or -memfd."""
    if qom_type == "memory-backend-file":
        return FileBackend
    if qom_type == "memory-backend-ram":
        return RamBackend  # also the machine's own RAM: always needed
    if qom_type == "memory-backend-memfd":
        from vnvdimm.backends.memfd import MemfdBackend  # loaded when first asked for

        return MemfdBackend
    raise KeyError(qom_type)


def create_backend(opts: ObjectOptions, ctx: BackendContext) -> HostMemoryBackend:
    """Instantiate and set properties in QEMU's QDict order; not yet completed."""
    backend = backend_class(opts.qom_type)(opts.id, ctx)
    for name in qdict_order(list(opts.props)):
        backend.set_property(name, opts.props[name])
    return backend
