"""The machine: objects, the board's memory, memory devices and the one plug path.

`Machine` owns everything it maps; `close()` (or the context manager)
releases it all.  The command line and the monitor both create backends
with `object_add` and devices with `device_add`, which ends in `plug`.
"""

from __future__ import annotations

import os

from vnvdimm import options
from vnvdimm.backends import create_backend
from vnvdimm.backends.base import BackendContext, HostMemoryBackend
from vnvdimm.backends.schema import ObjectOptions
from vnvdimm.devices.pc_dimm import DEVICE_TYPES, NVDimm, PCDimm, not_found
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.config import MachineConfig
from vnvdimm.machine.ghash import GHashOrder
from vnvdimm.machine.guest_memory import GuestMemory, GuestRegion
from vnvdimm.machine.memory_map import MemoryMap, build_memory_map
from vnvdimm.qdict import qdict_order

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import TracebackType

    from vnvdimm.acpi.state import NvdimmAcpiState
    from vnvdimm.guest.driver import GuestView

    PlugListener = Callable[[PCDimm], None]


class InertObject:
    """A user-creatable object of a type vnvdimm does not model (iothread, secret...)."""

    __slots__ = ("id", "props", "qom_type")

    def __init__(self, qom_type: str, id: str, props: dict[str, object]) -> None:
        self.qom_type = qom_type
        self.id = id
        self.props = props

    @property
    def canonical_path(self) -> str:
        return f"/objects/{self.id}"


UserObject = HostMemoryBackend | InertObject

# Names that exist in QEMU's QOM tree of a pc machine; a link to them resolves
# to an object of the wrong type rather than to nothing.
_QOM_NAMES = frozenset({"machine", "objects", "peripheral", "peripheral-anon", "unattached",
                        "chardevs", "backend", "fw_cfg", "i440fx", "q35", "ioapic",
                        "device-memory", "smram"})


def _known_device_models() -> frozenset[str]:
    # A plain open: importlib.resources costs ~20 ms of start-up.
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data",
                        "qemu-7.2-device-models.txt")
    with open(path, encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle
                         if line.strip() and not line.startswith("#"))


class Machine:
    """A QEMU x86 machine as far as memory and NVDIMMs go."""

    def __init__(self, config: MachineConfig | None = None, *,
                 warn: Callable[[str], None] | None = None, sysfs_root: str = "/sys",
                 progress: Callable[[int, int], None] | None = None,
                 dry_run: bool = False) -> None:
        self.config = config or MachineConfig()
        self.dry_run = dry_run
        self.warn: Callable[[str], None] = warn or (lambda message: None)
        self.backend_ctx = BackendContext(
            smp_cpus=self.config.smp_cpus, mem_merge=self.config.mem_merge,
            dump_guest_core=self.config.dump_guest_core, sysfs_root=sysfs_root,
            warn=self.warn, progress=progress, dry_run=dry_run)
        self.objects: dict[str, UserObject] = {}
        self.objects_order = GHashOrder()  # QEMU lists /objects in GLib hash order
        self.peripheral: dict[str, PCDimm] = {}
        self.peripheral_anon: dict[str, PCDimm] = {}
        self.peripheral_order = GHashOrder()
        self.anon_order = GHashOrder()
        self._anon_count = 0
        self.memory_map: MemoryMap | None = None
        self.ram_backends: list[HostMemoryBackend] = []
        self.guest_memory = GuestMemory()
        self.ready = False  # QEMU's PHASE_MACHINE_READY: later plugs are hotplugs
        # Behind properties: with nvdimm=on the NVDIMM ACPI device, made on first use
        # (see defer_acpi), is in them.
        self._plug_listeners: list[PlugListener] = []
        self._io_handlers: dict[int, Callable[[int, int], None]] = {}
        self._acpi: NvdimmAcpiState | None = None
        self._acpi_deferred = False
        self._device_models: frozenset[str] | None = None

    # -- the NVDIMM ACPI device -------------------------------------------------

    def defer_acpi(self) -> None:
        """Give the machine its NVDIMM ACPI device, attached on first use.

        QEMU creates the device (FIT buffer, DSM port) at machine init; build_machine
        calls this where QEMU would, and the ACPI code loads only when something
        looks: `acpi`, `plug_listeners`, `io_handlers`, `io_write`, `guest()` or an
        nvdimm hotplug.  The result is what attaching here would have given: the
        devices plugged so far are cold plugs (they raise no event), and the plug
        listener keeps the place in `plug_listeners` it is given now."""
        self._acpi_deferred = True
        self._plug_listeners.append(self._deferred_acpi_plug)

    def _attach_deferred_acpi(self) -> NvdimmAcpiState:
        from vnvdimm.acpi.state import NvdimmAcpiState

        self._acpi_deferred = False
        listeners = self._plug_listeners
        place = listeners.index(self._deferred_acpi_plug)
        state = NvdimmAcpiState.attach(self)
        if listeners[-1] == state.on_plug:  # appended by attach: to the place held for it
            listeners[place] = listeners.pop()
        return state

    def _deferred_acpi_plug(self, device: PCDimm) -> None:
        """The plug listener's stand-in: a plugged nvdimm changes the FIT, so the
        state is attached now (this plug included, as its listener would see it)."""
        if self._acpi_deferred and isinstance(device, NVDimm):
            self._attach_deferred_acpi().on_plug(device)

    @property
    def acpi(self) -> NvdimmAcpiState | None:
        """The NVDIMM ACPI state (FIT buffer, DSM port, hotplug event), once attached."""
        if self._acpi_deferred:
            self._attach_deferred_acpi()
        return self._acpi

    @acpi.setter
    def acpi(self, state: NvdimmAcpiState | None) -> None:
        if self._acpi_deferred:
            self._attach_deferred_acpi()
        self._acpi = state

    @property
    def plug_listeners(self) -> list[PlugListener]:
        """Called after each plug, in order; one that raises undoes the plug."""
        if self._acpi_deferred:
            self._attach_deferred_acpi()
        return self._plug_listeners

    @property
    def io_handlers(self) -> dict[int, Callable[[int, int], None]]:
        """Guest I/O port -> handler(size, value) for `out` instructions."""
        if self._acpi_deferred:
            self._attach_deferred_acpi()
        return self._io_handlers

    # -- context management ---------------------------------------------------

    def __enter__(self) -> Machine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self, *, abort: bool = False) -> None:
        """Unmap everything, newest first; `abort` also undoes the backends' file
        changes (a configuration that failed to build leaves no trace)."""
        self.guest_memory.clear()
        for obj in reversed(list(self.objects.values())):
            if isinstance(obj, HostMemoryBackend):
                obj.close(abort=abort)
        self.objects.clear()
        self.peripheral.clear()
        self.peripheral_anon.clear()

    # -- objects ----------------------------------------------------------------

    def object_add(self, opts: ObjectOptions) -> UserObject:
        """Create, configure and complete a user object (QEMU's user_creatable_add_type)."""
        from vnvdimm.backends.schema import SCHEMAS, check_object_id

        check_object_id(opts.id)
        if opts.qom_type not in SCHEMAS:
            obj: UserObject = InertObject(opts.qom_type, opts.id, dict(opts.props))
            self._add_child(opts.id, obj)
            return obj
        backend = create_backend(opts, self.backend_ctx)
        self._add_child(opts.id, backend)
        try:
            backend.complete()
        except BaseException:
            self._remove_child(opts.id)
            raise
        return backend

    def _add_child(self, object_id: str, obj: UserObject) -> None:
        if object_id in self.objects:
            raise VnvdimmError(
                f"attempt to add duplicate property '{object_id}' to object (type 'container')")
        self.objects[object_id] = obj
        self.objects_order.insert(object_id)

    def _remove_child(self, object_id: str) -> None:
        del self.objects[object_id]
        self.objects_order.remove(object_id)

    def objects_in_qom_order(self) -> list[UserObject]:
        """/objects children in QEMU's iteration order."""
        return [self.objects[name] for name in self.objects_order.order()]

    def object_del(self, object_id: str) -> None:
        obj = self.objects.get(object_id)
        if obj is None:
            raise VnvdimmError(f"object '{object_id}' not found")
        if isinstance(obj, HostMemoryBackend):
            if obj.is_mapped:
                raise VnvdimmError(f"object '{object_id}' is in use, can not be deleted")
            obj.close()
        self._remove_child(object_id)

    def backends(self) -> list[HostMemoryBackend]:
        return [o for o in self.objects.values() if isinstance(o, HostMemoryBackend)]

    # -- board ------------------------------------------------------------------

    def init_board(self, before_numa: Callable[[], None] | None = None) -> None:
        """Main RAM and the device-memory region (QEMU's machine_run_board_init)."""
        config = self.config
        ram_id = config.type.ram_id
        legacy_ram = config.memory_backend is None and not _numa_memdevs(config)
        if legacy_ram and config.effective_ram_size and ram_id in self.objects:
            raise VnvdimmError(
                f"object name '{ram_id}' is reserved for the default RAM backend, it can't be "
                "used for any other purposes. Change the object's 'id' to something else")
        ram: HostMemoryBackend | None = None
        if legacy_ram and config.effective_ram_size:
            created = self.object_add(ObjectOptions("memory-backend-ram", ram_id,
                                                    {"size": config.effective_ram_size}))
            assert isinstance(created, HostMemoryBackend)
            ram = created
        if before_numa is not None:
            before_numa()
        self.memory_map = build_memory_map(config)
        if config.nvdimm and config.type.legacy_fw_cfg:
            self.warn("Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem")
        node_memdevs = _numa_memdevs(config)
        if node_memdevs:
            self.ram_backends = [self._resolve_ram_memdev(name) for name in node_memdevs]
        elif config.memory_backend is not None:
            self.ram_backends = [self._resolve_ram_memdev(config.memory_backend)]
        elif ram is not None:
            self.ram_backends = [ram]
        for backend in self.ram_backends:
            backend.user = self
        self._map_ram()

    def _resolve_ram_memdev(self, name: str) -> HostMemoryBackend:
        obj = self.objects.get(name)
        if not isinstance(obj, HostMemoryBackend):
            raise VnvdimmError(f"Memory backend '{name}' not found")
        if obj.is_mapped:
            raise VnvdimmError(f"memory backend {name} can't be used multiple times.")
        return obj

    def _map_ram(self) -> None:
        """Expose main RAM at its guest addresses; RAM blocks are laid end to end."""
        assert self.memory_map is not None
        if self.dry_run:
            return
        blocks: list[tuple[int, HostMemoryBackend]] = []
        offset = 0
        for backend in self.ram_backends:
            blocks.append((offset, backend))
            offset += backend.region_size
        ram_offset = 0
        for gpa, size in self.memory_map.ram_ranges():
            for block_start, backend in blocks:
                lo = max(block_start, ram_offset)
                hi = min(block_start + backend.region_size, ram_offset + size)
                if lo < hi:
                    view = backend.view[lo - block_start: hi - block_start]
                    self.guest_memory.add(GuestRegion(gpa + lo - ram_offset, view,
                                                      f"ram {backend.id}"))
            ram_offset += size

    # -- devices ----------------------------------------------------------------

    def devices(self) -> Iterator[PCDimm]:
        yield from self.peripheral.values()
        yield from self.peripheral_anon.values()

    def devices_in_qom_order(self) -> list[PCDimm]:
        """Devices as QEMU's walk of /machine meets them: /machine/peripheral
        before /machine/peripheral-anon, each in GLib hash order."""
        named = [self.peripheral[name] for name in self.peripheral_order.order()]
        anon = [self.peripheral_anon[name] for name in self.anon_order.order()]
        return named + anon

    def memory_devices(self) -> list[PCDimm]:
        """Realized memory devices in query-memory-devices order.

        QEMU inserts each device it meets into an address-sorted list ahead of
        any with the same address, so ties come out in reverse walk order."""
        walk = [d for d in self.devices_in_qom_order() if d.realized]
        return sorted(reversed(walk), key=lambda d: d.addr)

    def find_device(self, device_id: str) -> PCDimm:
        device = self.peripheral.get(device_id)
        if device is None:
            raise not_found(device_id)
        return device

    def device_add(self, props: Mapping[str, object], *, keyval: bool) -> PCDimm | None:
        """QEMU's qdev_device_add_from_qdict for memory devices.

        Returns None for a device model vnvdimm does not emulate (the caller
        decides whether to warn).  `keyval` says the values are strings
        (command line, HMP) rather than JSON values (QMP).
        """
        driver = props.get("driver")
        if driver is None:
            raise VnvdimmError("Parameter 'driver' is missing")
        if not isinstance(driver, str):
            raise VnvdimmError("Invalid parameter type for 'driver', expected: string")
        cls = DEVICE_TYPES.get(driver)
        if cls is None:
            if self._device_models is None:
                self._device_models = _known_device_models()
            if driver in self._device_models:
                if props.get("id") is None:
                    self._next_anon_name()  # it still takes a device[N] name in QEMU
                return None
            raise VnvdimmError(f"'{driver}' is not a valid device model name")
        if self.ready and not self.config.type.has_hotplug_handler:
            raise VnvdimmError(f"Device '{driver}' can not be hotplugged on this machine")
        device_id = props.get("id")
        if device_id is not None and not isinstance(device_id, str):
            raise VnvdimmError("Invalid parameter type for 'id', expected: string")
        device = cls(device_id)
        self._register(device)
        try:
            rest = {k: v for k, v in props.items() if k not in ("driver", "bus", "id")}
            for name in qdict_order(list(rest)):
                value = _convert_device_property(device, name, rest[name], keyval)
                device.set_property(name, value, self._resolve_memdev)
            self.plug(device)
        except BaseException:
            self._unregister(device)
            raise
        return device

    def _register(self, device: PCDimm) -> None:
        if device.id is not None:
            if device.id in self.peripheral:
                raise VnvdimmError(f"Duplicate device ID '{device.id}'")
            self.peripheral[device.id] = device
            self.peripheral_order.insert(device.id)
        else:
            device.anon_name = self._next_anon_name()
            self.peripheral_anon[device.anon_name] = device
            self.anon_order.insert(device.anon_name)

    def _next_anon_name(self) -> str:
        """QEMU names id-less devices device[N] from one counter for all models."""
        name = f"device[{self._anon_count}]"
        self._anon_count += 1
        return name

    def _unregister(self, device: PCDimm) -> None:
        if device.id is not None:
            if self.peripheral.pop(device.id, None) is not None:
                self.peripheral_order.remove(device.id)
        elif device.anon_name is not None:
            self.peripheral_anon.pop(device.anon_name, None)
            self.anon_order.remove(device.anon_name)

    def _resolve_memdev(self, path: str) -> HostMemoryBackend:
        """QOM link resolution for `memdev` (absolute or partial path)."""
        target: object | None = None
        if path.startswith("/"):
            parts = path.strip("/").split("/")
            if parts[:1] == ["objects"] and len(parts) == 2:
                target = self.objects.get(parts[1])
            elif parts[:2] == ["machine", "peripheral"] and len(parts) == 3:
                target = self.peripheral.get(parts[2])
            elif parts[:2] == ["machine", "peripheral-anon"] and len(parts) == 3:
                target = self.peripheral_anon.get(parts[2])
            elif len(parts) <= 2 and parts[0] in ("machine", "objects", ""):
                target = "container"
        else:
            target = self.objects.get(path) or self.peripheral.get(path)
            if target is None and path in _QOM_NAMES:
                target = "internal"
        if isinstance(target, HostMemoryBackend):
            return target
        if target is not None:
            raise VnvdimmError("Invalid parameter type for 'memdev', expected: memory-backend")
        raise not_found(path)

    def plug(self, device: PCDimm) -> None:
        """The one plug path: pre-plug, realize, plug (QEMU's device_set_realized).

        A failure at any step leaves the machine as it was: nothing mapped, the
        backend free again, slot and address unused."""
        if self.config.type.has_hotplug_handler:
            self._pre_plug(device)
        self._realize(device)
        try:
            if self.config.type.has_hotplug_handler:
                self._map_device(device)
            device.hotplugged = self.ready
            for listener in self._plug_listeners:
                listener(device)
        except BaseException:
            self._unplug(device)
            raise

    def _unplug(self, device: PCDimm) -> None:
        if device.plugged and not self.dry_run:
            self.guest_memory.remove(self._region_name(device))
        device.plugged = device.realized = False
        if device.memdev is not None and device.memdev.user is device:
            device.memdev.user = None

    @staticmethod
    def _region_name(device: PCDimm) -> str:
        return f"{device.driver} {device.qom_name}"

    def _pre_plug(self, device: PCDimm) -> None:
        config = self.config
        if not config.type.is_pc or not config.acpi:
            raise VnvdimmError(
                "memory hotplug is not enabled: missing acpi device or acpi disabled")
        if isinstance(device, NVDimm) and not config.nvdimm:
            raise VnvdimmError("nvdimm is not enabled: missing 'nvdimm' in '-M'")
        if not config.memory_hotplug_support:
            device_name = "ICH9-LPC" if config.type.family == "q35" else "PIIX4_PM"
            raise VnvdimmError(f"memory hotplug is not enabled: {device_name}"
                               ".memory-hotplug-support is not set")
        self._assign_slot(device)
        self._assign_addr(device)

    def _assign_slot(self, device: PCDimm) -> None:
        slots = self.config.ram_slots
        slot = device.slot
        if (slot < 0 or slot >= slots) and slot != -1:
            upper = (slots - 1) % (1 << 64)
            raise VnvdimmError(f"invalid slot number {slot}, valid range is [0-{upper}]")
        if slots <= 0:
            raise VnvdimmError("no slots where allocated, please specify the 'slots' option")
        used = {d.slot for d in self.devices() if d.realized}
        if slot != -1:
            if slot >= slots:
                raise VnvdimmError(f"invalid slot# {slot}, should be less than {slots}")
            if slot in used:
                raise VnvdimmError(f"slot {slot} is busy")
        else:
            free = [s for s in range(slots) if s not in used]
            if not free:
                raise VnvdimmError("no free slots available")
            slot = free[0]
        device.slot = slot

    def _assign_addr(self, device: PCDimm) -> None:
        """QEMU 7.2 memory_device_pre_plug + memory_device_get_free_addr."""
        size = device.memory_region_size()
        assert device.memdev is not None
        align = device.alignment() if self.config.type.enforce_aligned_dimm else 4096
        mm = self.memory_map
        assert mm is not None
        if not mm.has_device_memory:
            raise VnvdimmError(
                "memory devices (e.g. for memory hotplug) are not enabled, please specify "
                "the maxmem option")
        base, region = mm.device_memory_base, mm.device_memory_size
        if base % align:
            self.warn(
                f"the alignment (0x{align:x}) exceeds the expected maximum alignment, memory "
                "will get fragmented and not all 'maxmem' might be usable for memory devices.")
        used = sum(d.memory_region_size() for d in self.devices() if d.realized)
        total = mm.maxram_size - mm.ram_size
        if used + size >= 1 << 64 or used + size > total:
            raise VnvdimmError(
                f"not enough space, currently 0x{used:x} in use of total space for memory "
                f"devices 0x{total:x}")
        hint = device.addr or None
        if hint is not None and hint % align:
            raise VnvdimmError(f"address must be aligned to 0x{align:x} bytes")
        if size % align:
            raise VnvdimmError(f"backend memory size must be multiple of 0x{align:x}")
        if hint is not None:
            if size == 0 or hint + size > 1 << 64 or hint < base or hint + size > base + region:
                raise VnvdimmError(
                    f"can't add memory device [0x{hint:x}:0x{size:x}], usable range for memory "
                    f"devices [0x{base:x}:0x{region:x}]")
            start = hint
        else:
            start = -(-base // align) * align
            if size == 0 or start + size > 1 << 64:
                raise VnvdimmError("can't add memory device, device too big")
        empty = False
        for other in self.memory_devices():
            other_start, other_end = other.addr, other.addr + other.memory_region_size()
            if other_start < start + size and start < other_end:
                if hint is not None:
                    raise VnvdimmError(
                        "address range conflicts with memory device "
                        f"id='{other.id if other.id is not None else '(unnamed)'}'")
                start = -(-other_end // align) * align
                if start == 0 or start + size > 1 << 64:
                    empty = True
                    break
            elif other_start >= start + size:
                break
        if empty or not (base <= start and start + size <= base + region):
            raise VnvdimmError(
                "could not find position in guest address space for memory device - memory "
                "fragmented due to alignments")
        device.addr = start

    def _realize(self, device: PCDimm) -> None:
        """pc_dimm_realize: memdev set, not busy, node in range, then the nvdimm hook."""
        if device.memdev is None:
            raise VnvdimmError("'memdev' property is not set")
        if device.memdev.is_mapped:
            raise VnvdimmError(f"can't use already busy memdev: {device.memdev.id}")
        nodes = len(self.config.numa_nodes)
        if not self.config.type.supports_numa:
            if device.node:
                raise VnvdimmError("machine doesn't support NUMA")
        elif (nodes > 0 and device.node >= nodes) or (not nodes and device.node):
            raise VnvdimmError(
                f"'DIMM property node has value {device.node}' which exceeds the number of "
                f"numa nodes: {nodes or 1}")
        device.realize_hook()
        device.memdev.user = device
        device.realized = True

    def _map_device(self, device: PCDimm) -> None:
        device.plugged = True
        if self.dry_run:
            return
        self.guest_memory.add(GuestRegion(device.addr, device.guest_view(),
                                          self._region_name(device)))
        device.plugged = True

    def guest(self) -> GuestView:
        """What a guest's NVDIMM driver sees (`ndctl list -DRN` shape), found only
        through guest-visible interfaces: the NFIT, guest memory and the DSM port."""
        from vnvdimm.acpi.state import NvdimmAcpiState
        from vnvdimm.guest.driver import GuestDriver

        if self.acpi is None:
            self.acpi = NvdimmAcpiState.attach(self)
        return GuestDriver(self, self.acpi).probe()

    # -- guest I/O ports ------------------------------------------------------------

    def io_write(self, port: int, size: int, value: int) -> None:
        """A guest `out` to an I/O port; devices register in `io_handlers`."""
        if self._acpi_deferred:
            self._attach_deferred_acpi()  # the DSM port's handler
        handler = self._io_handlers.get(port)
        if handler is not None:
            handler(size, value)

    def io_read(self, port: int, size: int) -> int:
        """A guest `in` from an I/O port (unclaimed ports and QEMU's DSM port read 0)."""
        return 0

    # -- guest-physical access ----------------------------------------------------

    def read(self, addr: int, length: int) -> bytes:
        """A copy of guest memory.  For blocks of 32 MiB and more prefer `read_into`
        or `view`: allocating a fresh `bytes` that large costs page faults."""
        return self.guest_memory.read(addr, length)

    def read_into(self, addr: int, buffer: bytearray | memoryview) -> None:
        """Fill `buffer` from guest memory at `addr` (memcpy speed at any size)."""
        self.guest_memory.read_into(addr, buffer)

    def write(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        self.guest_memory.write(addr, data)

    def view(self, addr: int, length: int) -> memoryview:
        return self.guest_memory.view(addr, length)


def _numa_memdevs(config: MachineConfig) -> list[str]:
    return [node.memdev for node in config.numa_nodes if node.memdev is not None]


def _convert_device_property(device: PCDimm, name: str, value: object, keyval: bool) -> object:
    """Visit one device property value as QEMU's keyval or JSON input visitor does."""
    kind = device.property_kinds().get(name)
    if kind is None:
        raise VnvdimmError(f"Property '{device.driver}.{name}' not found")
    if kind == "readonly":
        return value
    if keyval:
        if not isinstance(value, str):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: string")
        if kind == "uint64":
            return options.visit_uint(name, value, 64)
        if kind == "uint32":
            return options.visit_uint(name, value, 32)
        if kind == "int32":
            return options.visit_int(name, value, 32)
        if kind == "size":
            return options.visit_size(name, value)
        if kind == "bool":
            return options.visit_bool(name, value)
        return value
    if kind in ("uint64", "uint32", "size"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise VnvdimmError(f"Parameter '{name}' expects uint64")
        if value >= 1 << 64:
            raise VnvdimmError(f"Parameter '{name}' expects uint64")
        if kind == "uint32" and value >= 1 << 32:
            raise VnvdimmError(f"Parameter '{name}' expects uint32_t")
        return value
    if kind == "int32":
        if isinstance(value, bool) or not isinstance(value, int):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: integer")
        if not -(1 << 31) <= value < 1 << 31:
            raise VnvdimmError(f"Parameter '{name}' expects int32_t")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: boolean")
        return value
    if not isinstance(value, str):
        raise VnvdimmError(f"Invalid parameter type for '{name}', expected: string")
    return value


__all__ = ["InertObject", "Machine", "MachineConfig"]

