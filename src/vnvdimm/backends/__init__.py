"""Memory backends (memory-backend-file, -ram, -memfd), created by QOM type name.

A backend type's module loads when a backend of that type is first created:
checking options (`backends.schema`, `vnvdimm check`) loads no backend."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vnvdimm.backends.base import BackendContext, HostMemoryBackend
    from vnvdimm.backends.schema import ObjectOptions


def backend_class(qom_type: str) -> type[HostMemoryBackend]:
    """The class of a backend type: memory-backend-file, -ram or -memfd."""
    if qom_type == "memory-backend-file":
        from vnvdimm.backends.file import FileBackend

        return FileBackend
    if qom_type == "memory-backend-ram":
        from vnvdimm.backends.base import RamBackend  # also the machine's own RAM

        return RamBackend
    if qom_type == "memory-backend-memfd":
        from vnvdimm.backends.memfd import MemfdBackend

        return MemfdBackend
    raise KeyError(qom_type)


def create_backend(opts: ObjectOptions, ctx: BackendContext) -> HostMemoryBackend:
    """Instantiate and set properties in QEMU's QDict order; not yet completed."""
    from vnvdimm.qdict import qdict_order

    backend = backend_class(opts.qom_type)(opts.id, ctx)
    for name in qdict_order(list(opts.props)):
        backend.set_property(name, opts.props[name])
    return backend
