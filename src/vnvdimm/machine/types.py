"""The x86 machine types of QEMU 7.2 and the traits that matter for memory devices."""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, Literal

    Family = Literal["pc", "q35", "isapc", "microvm", "none"]

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
