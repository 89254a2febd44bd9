"""Machine-level configuration: the machine type (the x86 types of QEMU 7.2 and
the traits that matter for memory devices), `-machine` properties, `-m`, `-smp`,
`-numa`."""

from __future__ import annotations

from vnvdimm import options
from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final, Literal

    Family = Literal["pc", "q35", "isapc", "microvm", "none"]


# Machine types.  ---------------------------------------------------------------

GiB = 1 << 30
MiB = 1 << 20


class MachineType:
    """One `-machine` type: what QEMU 7.2 builds for it."""

    __slots__ = ("family", "name", "version")

    def __init__(self, name: str, family: Family, version: tuple[int, ...] = (7, 2)) -> None:
        self.name: Final = name  # the full versioned name (pc-i440fx-7.2) or the plain one
        self.family: Final = family
        self.version: Final = version

    @property
    def qom_type(self) -> str:
        return f"{self.name}-machine"

    @property
    def ram_id(self) -> str:
        """Id of the implicit RAM backend."""
        return {"microvm": "microvm.ram", "none": "ram"}.get(self.family, "pc.ram")

    @property
    def is_pc(self) -> bool:
        return self.family in ("pc", "q35")

    @property
    def has_nvdimm_property(self) -> bool:
        return self.family in ("pc", "q35", "isapc")

    @property
    def has_reserved_memory(self) -> bool:
        """Device memory for DIMMs exists from pc-i440fx-2.1 on (and on every q35)."""
        return self.family == "q35" or (self.family == "pc" and self.version >= (2, 1))

    @property
    def piix4_memory_hotplug_default(self) -> bool:
        return self.version > (2, 0)

    @property
    def deprecation(self) -> str | None:
        """QEMU 7.2's warning for the deprecated pc-i440fx-1.x types."""
        if self.family == "pc" and self.version < (2, 0):
            return (f"Machine type '{self.name}' is deprecated: old and unattended - use a "
                    "newer version instead")
        return None

    @property
    def legacy_fw_cfg(self) -> bool:
        """Types up to 2.5 lay fw_cfg files out in legacy mode (nvdimm-mem is unknown)."""
        return self.is_pc and self.version <= (2, 5)

    @property
    def supports_numa(self) -> bool:
        return self.family != "none"

    @property
    def numa_mem_supported(self) -> bool:
        """`-numa node,mem=` and RAM auto-split across nodes: types before 5.1."""
        return self.is_pc and self.version < (5, 1)

    @property
    def max_cpus(self) -> int:
        if self.family in ("isapc", "none"):
            return 1
        if self.family == "microvm" or (self.family == "q35" and self.version >= (2, 7)):
            return 288
        return 255

    @property
    def prefer_sockets(self) -> bool:
        return self.is_pc and self.version < (6, 2)

    @property
    def has_hotplug_handler(self) -> bool:
        """pc/q35/isapc plug memory devices; microvm and none only realize them."""
        return self.family in ("pc", "q35", "isapc")

    @property
    def enforce_aligned_dimm(self) -> bool:
        return not (self.family == "pc" and self.version <= (2, 1))

    @property
    def gigabyte_align(self) -> bool:
        return not (self.family == "pc" and self.version <= (1, 7))

    @property
    def enforce_amd_1tb_hole(self) -> bool:
        return self.is_pc and self.version >= (7, 1)

    @property
    def pci_hole64_size(self) -> int:
        return 32 * GiB if self.family == "q35" else 2 * GiB

    @property
    def default_ram_size(self) -> int:
        return 0 if self.family == "none" else 128 * MiB


_ALIASES = {"pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"}
# Versioned machine types QEMU 7.2 knows (`-machine help`).
_PC_VERSIONS = (
    "1.4 1.5 1.6 1.7 2.0 2.1 2.2 2.3 2.4 2.5 2.6 2.7 2.8 2.9 2.10 2.11 2.12 3.0 3.1 "
    "4.0 4.1 4.2 5.0 5.1 5.2 6.0 6.1 6.2 7.0 7.1 7.2"
).split()
_Q35_VERSIONS = (
    "2.4 2.5 2.6 2.7 2.8 2.9 2.10 2.11 2.12 3.0 3.1 4.0 4.0.1 4.1 4.2 5.0 5.1 5.2 "
    "6.0 6.1 6.2 7.0 7.1 7.2"
).split()
DEFAULT_MACHINE = "pc-i440fx-7.2"
_PLAIN: tuple[Family, ...] = ("isapc", "microvm", "none")
_VERSIONED: tuple[tuple[str, Family, list[str]], ...] = (
    ("pc-i440fx-", "pc", _PC_VERSIONS), ("pc-q35-", "q35", _Q35_VERSIONS))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def machine_names() -> list[str]:
    names = ["microvm", "pc", "q35", "isapc", "none"]
    names += [f"pc-i440fx-{v}" for v in _PC_VERSIONS]
    names += [f"pc-q35-{v}" for v in _Q35_VERSIONS]
    return names


def find_machine_type(name: str) -> MachineType:
    """Resolve a `-machine type=` value, aliases included."""
    full = _ALIASES.get(name, name)
    for prefix, family, versions in _VERSIONED:
        # pc-(i440fx|q35)-<version>: only listed versions resolve (all digits and dots).
        version = full[len(prefix):]
        if full.startswith(prefix) and version in versions:
            return MachineType(full, family, _version(version))
    for plain in _PLAIN:
        if full == plain:
            return MachineType(full, plain)
    raise VnvdimmError(
        "unsupported machine type", hint="Use -machine help to list supported machines\n"
    )


# Configuration.  --------------------------------------------------------------

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
