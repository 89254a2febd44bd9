"""pc-dimm and nvdimm: memory devices over a host memory backend.

A device is created, has its properties set (QOM setters, QEMU's words),
then the machine plugs it: pre-plug (slot, address), realize (memdev,
node) and plug (map into device memory).  The nvdimm's pmem region is the
backend's first ``align_down(size - label_size, align)`` bytes; its label
area is the backend's last ``label_size`` bytes.
"""

from __future__ import annotations

from vnvdimm.errors import DeviceNotFoundError, VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import uuid as uuid_module
    from collections.abc import Callable, Mapping

    from vnvdimm.backends.base import HostMemoryBackend

    # Resolves a memdev link path to a backend, or raises QEMU's link errors.
    BackendResolver = Callable[[str], HostMemoryBackend]

UNASSIGNED_SLOT = -1
MIN_NAMESPACE_LABEL_SIZE = 128 * 1024
_NIL_UUID = "00000000-0000-0000-0000-000000000000"


class PCDimm:
    """QEMU's `pc-dimm` (RAM) device."""

    driver = "pc-dimm"
    memory_device_type = "dimm"

    def __init__(self, device_id: str | None) -> None:
        self.id = device_id
        self.addr = 0
        self.slot = UNASSIGNED_SLOT
        self.node = 0
        self.memdev: HostMemoryBackend | None = None
        self.realized = False
        self.plugged = False
        self.hotplugged = False
        self.anon_name: str | None = None  # device[N] for devices without id

    # -- properties ---------------------------------------------------------

    def property_kinds(self) -> Mapping[str, str]:
        """QOM property name -> visitor kind (for keyval/JSON conversion)."""
        return {"addr": "uint64", "node": "uint32", "slot": "int32", "memdev": "link",
                "size": "readonly"}

    def set_property(self, name: str, value: object, resolve: BackendResolver) -> None:
        if name == "addr":
            assert isinstance(value, int)
            self.addr = value
        elif name == "node":
            assert isinstance(value, int)
            self.node = value
        elif name == "slot":
            assert isinstance(value, int)
            self.slot = value
        elif name == "memdev":
            assert isinstance(value, str)
            self.memdev = resolve(value)
        elif name == "size":
            raise VnvdimmError("Insufficient permission to perform this operation")
        else:
            raise VnvdimmError(f"Property '{self.driver}.{name}' not found")

    def get_property(self, name: str) -> object:
        values: dict[str, object] = {
            "addr": self.addr,
            "node": self.node,
            "slot": self.slot,
            "memdev": self.memdev.canonical_path if self.memdev else "",
            "size": self.region_size() if self.memdev and self.memdev.initialised else 0,
        }
        if name not in values:
            raise VnvdimmError(f"Property '{self.driver}.{name}' not found")
        return values[name]

    # -- memory-device interface ----------------------------------------------

    def memory_region_size(self) -> int:
        """get_memory_region(): the size the device occupies in guest memory."""
        if self.memdev is None:
            raise VnvdimmError("'memdev' property must be set")
        return self.memdev.region_size

    def region_size(self) -> int:
        return self.memory_region_size()

    def alignment(self) -> int:
        assert self.memdev is not None
        return self.memdev.align

    def realize_hook(self) -> None:
        """Device-specific realize step (nvdimm prepares its regions)."""

    def guest_view(self) -> memoryview:
        """The guest-visible bytes of the device."""
        assert self.memdev is not None
        return self.memdev.view[: self.region_size()]

    @property
    def qom_name(self) -> str:
        return self.id if self.id is not None else (self.anon_name or "")


class NVDimm(PCDimm):
    """QEMU's `nvdimm`: pmem area plus a label area at the end of the backend."""

    driver = "nvdimm"
    memory_device_type = "nvdimm"

    def __init__(self, device_id: str | None) -> None:
        super().__init__(device_id)
        self.label_size = 0
        self._uuid: uuid_module.UUID | None = None  # None: the nil UUID, made when asked for
        self.unarmed = False
        self.pmem_size: int | None = None  # set once the region is prepared
        self.readonly = False

    @property
    def uuid(self) -> uuid_module.UUID:
        if self._uuid is None:
            import uuid as uuid_module  # here: uuid (and platform) cost start-up time

            self._uuid = uuid_module.UUID(int=0)
        return self._uuid

    @uuid.setter
    def uuid(self, value: uuid_module.UUID) -> None:
        self._uuid = value

    def property_kinds(self) -> Mapping[str, str]:
        kinds = dict(super().property_kinds())
        kinds.update({"label-size": "size", "uuid": "str", "unarmed": "bool"})
        return kinds

    def set_property(self, name: str, value: object, resolve: BackendResolver) -> None:
        if name == "label-size":
            if self.pmem_size is not None:
                raise VnvdimmError("cannot change property value")
            assert isinstance(value, int)
            if value < MIN_NAMESPACE_LABEL_SIZE:
                raise VnvdimmError(
                    f"Property 'nvdimm.label-size' (0x{value:x}) is required at least "
                    f"0x{MIN_NAMESPACE_LABEL_SIZE:x}")
            self.label_size = value
        elif name == "uuid":
            assert isinstance(value, str)
            try:
                self.uuid = parse_qemu_uuid(value)
            except ValueError:
                raise VnvdimmError("Property 'nvdimm.uuid' has invalid value") from None
        elif name == "unarmed":
            assert isinstance(value, bool)
            self.unarmed = value
        else:
            super().set_property(name, value, resolve)

    def get_property(self, name: str) -> object:
        if name == "label-size":
            return self.label_size
        if name == "uuid":
            return _NIL_UUID if self._uuid is None else str(self._uuid)
        if name == "unarmed":
            return self.unarmed
        return super().get_property(name)

    def prepare_memory_region(self) -> None:
        """QEMU's nvdimm_prepare_memory_region (once, at pre-plug or realize)."""
        if self.pmem_size is not None:
            return
        if self.memdev is None:
            raise VnvdimmError("'memdev' property must be set")
        backend = self.memdev
        size, align = backend.region_size, backend.align
        pmem = (size - self.label_size) % (1 << 64)
        pmem -= pmem % align
        if size <= self.label_size or pmem == 0:
            raise VnvdimmError(
                f"the size of memdev {backend.id} (0x{size:x}) is too small to contain "
                f"nvdimm label (0x{self.label_size:x}) and aligned PMEM (0x{align:x})")
        if not self.unarmed and backend.readonly_region:
            raise VnvdimmError(
                f"'unarmed' property must be 'on' since memdev {backend.id} is read-only")
        self.pmem_size = pmem
        self.readonly = backend.readonly_region

    def memory_region_size(self) -> int:
        self.prepare_memory_region()
        assert self.pmem_size is not None
        return self.pmem_size

    def realize_hook(self) -> None:
        self.prepare_memory_region()

    @property
    def label_offset(self) -> int:
        """Offset of the label area inside the backend region."""
        assert self.memdev is not None
        return self.memdev.region_size - self.label_size

    def label_view(self) -> memoryview:
        """The label area: the backend's last label-size bytes (empty without labels)."""
        assert self.memdev is not None
        return self.memdev.view[self.label_offset: self.memdev.region_size]


def parse_qemu_uuid(text: str) -> uuid_module.UUID:
    """QEMU's qemu_uuid_parse: exactly 36 characters in 8-4-4-4-12 hex form."""
    if len(text) != 36:
        raise ValueError(text)
    parts = text.split("-")
    if [len(p) for p in parts] != [8, 4, 4, 4, 12]:
        raise ValueError(text)
    if not all(c in "0123456789abcdefABCDEF" for c in "".join(parts)):
        raise ValueError(text)
    import uuid as uuid_module  # here: uuid (and platform) cost start-up time

    return uuid_module.UUID(text)


DEVICE_TYPES: dict[str, type[PCDimm]] = {"pc-dimm": PCDimm, "nvdimm": NVDimm}


def not_found(path: str) -> DeviceNotFoundError:
    return DeviceNotFoundError(f"Device '{path}' not found")
