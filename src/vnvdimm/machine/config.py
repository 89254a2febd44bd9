"""Machine-level configuration: `-machine` properties, `-m`, `-smp`, `-numa`."""

from __future__ import annotations

from vnvdimm import options
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.types import DEFAULT_MACHINE, MachineType, find_machine_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

NVDIMM_PERSISTENCE = {"cpu": 3, "mem-ctrl": 2}

# Machine properties vnvdimm accepts without acting on them (QEMU 7.2, pc/q35).
_INERT_PROPERTIES = frozenset(
    [
        "append",
        "boot",
        "bus-lock-ratelimit",
        "confidential-guest-support",
        "default-bus-bypass-iommu",
        "dt-compatible",
        "dtb",
        "dumpdtb",
        "firmware",
        "graphics",
        "hpet",
        "i8042",
        "initrd",
        "kernel",
        "max-fw-size",
        "memory-encryption",
        "phandle-start",
        "pic",
        "pit",
        "sata",
        "sgx-epc",
        "smbios-entry-point-type",
        "smbus",
        "smm",
        "suppress-vmdesc",
        "usb",
        "vmport",
        "cxl",
        "hmat",
        "kernel-irqchip",
        "kvm-shadow-mem",
        "pcspk-audiodev",
        "ioapic2",
        "isa-serial",
        "pcie",
        "rtc",
        "auto-kernel-cmdline",
        "x-option-roms",
    ]
)
_MICROVM_ONLY = frozenset(
    {"ioapic2", "isa-serial", "pcie", "rtc", "auto-kernel-cmdline", "x-option-roms"}
)
_PC_ONLY = frozenset(
    {
        "hpet",
        "i8042",
        "max-ram-below-4g",
        "pcspk-audiodev",
        "sata",
        "smbus",
        "vmport",
        "cxl",
        "smbios-entry-point-type",
    }
)


class NumaNode:
    __slots__ = ("mem", "memdev", "nodeid")

    def __init__(self, nodeid: int, memdev: str | None = None, mem: int | None = None) -> None:
        self.nodeid = nodeid
        self.memdev = memdev
        self.mem = mem


class MachineConfig:
    """Everything the board needs before any backend or device exists."""

    __slots__ = ("acpi", "dump_guest_core", "ich9_memory_hotplug", "max_ram_below_4g",
                 "maxram_size", "mem_merge", "memory_backend", "numa_nodes", "nvdimm",
                 "nvdimm_persistence", "oem_id", "oem_table_id", "piix4_memory_hotplug",
                 "ram_size", "ram_slots", "smp_cpus", "type")

    def __init__(self, type: MachineType | None = None,
                 nvdimm: bool = False, nvdimm_persistence: int = 0, acpi: bool = True,
                 mem_merge: bool = True, dump_guest_core: bool = True,
                 max_ram_below_4g: int = 0, oem_id: str = "BOCHS ",
                 oem_table_id: str = "BXPC    ", memory_backend: str | None = None,
                 ram_size: int | None = None, maxram_size: int | None = None,
                 ram_slots: int = 0, smp_cpus: int = 1,
                 numa_nodes: list[NumaNode] | None = None,
                 piix4_memory_hotplug: bool | None = None,
                 ich9_memory_hotplug: bool = True) -> None:
        # None: the default machine type / no nodes (a fresh one per config).
        self.type = find_machine_type(DEFAULT_MACHINE) if type is None else type
        self.nvdimm = nvdimm
        self.nvdimm_persistence = nvdimm_persistence
        self.acpi = acpi
        self.mem_merge = mem_merge
        self.dump_guest_core = dump_guest_core
        self.max_ram_below_4g = max_ram_below_4g
        self.oem_id = oem_id
        self.oem_table_id = oem_table_id
        self.memory_backend = memory_backend
        self.ram_size = ram_size  # None: the machine type's default
        self.maxram_size = maxram_size
        self.ram_slots = ram_slots
        self.smp_cpus = smp_cpus
        self.numa_nodes: list[NumaNode] = [] if numa_nodes is None else numa_nodes
        # -global PIIX4_PM.memory-hotplug-support, -global ICH9-LPC.memory-hotplug-support
        self.piix4_memory_hotplug = piix4_memory_hotplug
        self.ich9_memory_hotplug = ich9_memory_hotplug

    @property
    def memory_hotplug_support(self) -> bool:
        """The ACPI device's memory-hotplug-support (PIIX4 default off up to 2.0)."""
        if self.type.family == "q35":
            return self.ich9_memory_hotplug
        if self.piix4_memory_hotplug is None:
            return self.type.piix4_memory_hotplug_default
        return self.piix4_memory_hotplug

    @property
    def effective_ram_size(self) -> int:
        return self.ram_size if self.ram_size is not None else self.type.default_ram_size

    @property
    def effective_maxram_size(self) -> int:
        return self.maxram_size if self.maxram_size is not None else self.effective_ram_size


def _bool(name: str, value: object, keyval: bool) -> bool:
    if keyval:
        assert isinstance(value, str)
        return options.visit_bool(name, value)
    if not isinstance(value, bool):
        raise VnvdimmError(f"Invalid parameter type for '{name}', expected: boolean")
    return value


def _str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise VnvdimmError(f"Invalid parameter type for '{name}', expected: string")
    return value


def apply_machine_properties(config: MachineConfig, props: Mapping[str, object]) -> None:
    """Set -machine properties (keyval strings) the way QEMU's setters check them.

    `type` must already have been resolved into `config.type`.
    """
    mtype = config.type
    for name, value in props.items():
        if name in ("type", "accel"):
            continue
        if isinstance(value, dict | list) and _known(name, mtype):
            raise VnvdimmError(f"Parameters '{name}.*' are unexpected")
        if name == "nvdimm" and mtype.has_nvdimm_property:
            config.nvdimm = _bool(name, value, True)
        elif name == "nvdimm-persistence" and mtype.has_nvdimm_property:
            text = _str(name, value)
            if text not in NVDIMM_PERSISTENCE:
                raise VnvdimmError(f"-machine nvdimm-persistence={text}: unsupported option")
            config.nvdimm_persistence = NVDIMM_PERSISTENCE[text]
        elif name == "acpi":
            text = _str(name, value)
            if text not in ("on", "off", "auto"):
                raise VnvdimmError(f"Parameter '{name}' does not accept value '{text}'")
            config.acpi = text != "off"
        elif name == "mem-merge":
            config.mem_merge = _bool(name, value, True)
        elif name == "dump-guest-core":
            config.dump_guest_core = _bool(name, value, True)
        elif name == "max-ram-below-4g" and mtype.is_pc:
            config.max_ram_below_4g = options.visit_size(name, _str(name, value))
        elif name == "x-oem-id":
            text = _str(name, value)
            if len(text) > 6:
                raise VnvdimmError("Property 'x-oem-id' should be up to 6 characters")
            config.oem_id = text  # QEMU copies it into a NUL-padded field
        elif name == "x-oem-table-id":
            text = _str(name, value)
            if len(text) > 8:
                raise VnvdimmError("Property 'x-oem-table-id' should be up to 8 characters")
            config.oem_table_id = text
        elif name == "memory-backend":
            config.memory_backend = _str(name, value)
        elif name in _INERT_PROPERTIES and _applies(name, mtype):
            continue
        else:
            raise VnvdimmError(f"Property '{mtype.qom_type}.{name}' not found")


def _known(name: str, mtype: MachineType) -> bool:
    """A scalar machine property of this type (a dotted key there is refused)."""
    if name in ("nvdimm", "nvdimm-persistence"):
        return mtype.has_nvdimm_property
    if name in ("max-ram-below-4g",):
        return mtype.is_pc
    return name in _SCALARS or (name in _INERT_PROPERTIES and _applies(name, mtype))


_SCALARS = frozenset({"acpi", "mem-merge", "dump-guest-core", "x-oem-id", "x-oem-table-id",
                      "memory-backend"})


def _applies(name: str, mtype: MachineType) -> bool:
    if name in _MICROVM_ONLY:
        return mtype.family == "microvm"
    if name in _PC_ONLY:
        return mtype.is_pc or mtype.family == "isapc"
    return True
