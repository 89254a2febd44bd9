"""Building a machine from QEMU command-line options, in QEMU 7.2's order.

QEMU first parses every option (syntax errors carry the option as location,
e.g. ``-object memory-backend-ram,id=m: Parameter 'size' is missing``), then
applies machine properties, creates the memory backends, resolves NUMA and
the RAM backend, initialises the board and finally creates each ``-device``
(its errors carry the ``-device ...`` location again).  This module mirrors
that order so the first error reported is QEMU's first error.
"""

from __future__ import annotations

from vnvdimm import options
from vnvdimm.backends.schema import visit_object_options
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.config import (
    DEFAULT_MACHINE,
    MachineConfig,
    NumaNode,
    apply_machine_properties,
    find_machine_type,
)
from vnvdimm.machine.machine import Machine
from vnvdimm.qdict import qdict_order

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Protocol

    from vnvdimm.backends.schema import ObjectOptions
    from vnvdimm.machine.config import MachineType

    class Option(Protocol):
        """One command-line option: name without dashes, its argument, as typed."""

        @property
        def name(self) -> str: ...

        @property
        def value(self) -> str | None: ...

        @property
        def text(self) -> str: ...
else:
    class Option:
        """One command-line option: name without dashes, its argument, as typed.

        A structural type (a typing.Protocol for the type checker); anything with
        `name`, `value` and `text` attributes is one."""


class _Located:
    __slots__ = ("item", "location")

    def __init__(self, location: str, item: object) -> None:
        self.location = location
        self.item = item


class ParsedCommandLine:
    """Everything QEMU has parsed before it builds the machine."""

    __slots__ = ("devices", "globals", "ignored", "machine", "memory", "numa", "objects",
                 "smp", "warnings")

    def __init__(self, machine: dict[str, object] | None = None,
                 memory: list[tuple[str, str | None]] | None = None,
                 objects: list[tuple[str, ObjectOptions]] | None = None,
                 devices: list[tuple[str, dict[str, object], bool]] | None = None,
                 numa: list[tuple[str, list[tuple[str, str]]]] | None = None,
                 smp: dict[str, object] | None = None,
                 warnings: list[options.QemuWarning] | None = None,
                 globals: dict[str, str] | None = None,
                 ignored: list[str] | None = None) -> None:
        # None: a fresh empty container each (the dataclass's default_factory).
        self.machine: dict[str, object] = {} if machine is None else machine
        self.memory: list[tuple[str, str | None]] = [] if memory is None else memory
        self.objects: list[tuple[str, ObjectOptions]] = [] if objects is None else objects
        self.devices: list[tuple[str, dict[str, object], bool]] = (
            [] if devices is None else devices)
        self.numa: list[tuple[str, list[tuple[str, str]]]] = [] if numa is None else numa
        self.smp: dict[str, object] = {} if smp is None else smp
        self.warnings: list[options.QemuWarning] = [] if warnings is None else warnings
        self.globals: dict[str, str] = {} if globals is None else globals
        self.ignored: list[str] = [] if ignored is None else ignored


def parse_options(opts: Sequence[Option],
                  warn: Callable[[str], None] | None = None) -> ParsedCommandLine:
    """QEMU's option-parsing pass: syntax only, errors located at the option."""
    parsed = ParsedCommandLine()
    object_ids: set[str] = set()
    device_ids: set[str] = set()
    for opt in opts:
        where = opt.text
        value = opt.value or ""
        try:
            if opt.name in ("machine", "M"):
                for key, item in options.keyval_parse(value, "type").items():
                    parsed.machine[key] = item
            elif opt.name == "m":
                # Syntax now (located); values are applied with the machine properties.
                options.check_memory_option(value, where, parsed.warnings)
                parsed.memory.append((value, where))
            elif opt.name == "object":
                parsed.objects.append((where, _parse_object(value, object_ids)))
            elif opt.name == "device":
                parsed.devices.append((where, *_parse_device(value, device_ids)))
            elif opt.name == "numa":
                parsed.numa.append((where, options.qemu_opts_parse(value, "type")))
            elif opt.name == "smp":
                parsed.smp.update(options.keyval_parse(value, "cpus"))
            elif opt.name == "global":
                key, _, val = value.partition("=")
                parsed.globals[key] = val
        except VnvdimmError as error:
            raise error.with_location(where) from None
    return parsed


def _memory_text(memory: dict[str, object]) -> str:
    """-M memory.size=..,memory.slots=..,memory.max-size=.. as the -m option it means."""
    parts = []
    for key, name in (("size", "size"), ("slots", "slots"), ("max-size", "maxmem")):
        value = memory.get(key)
        if isinstance(value, str):
            digit_end = key == "size" and value[-1:].isdigit()
            parts.append(f"{name}={value}{'B' if digit_end else ''}")  # no MiB default here
    extra = next((k for k in memory if k not in ("size", "slots", "max-size")), None)
    if extra is not None:
        raise VnvdimmError(f"Parameter 'memory.{extra}' is unexpected")
    return ",".join(parts)


def _parse_object(value: str, seen_ids: set[str]) -> ObjectOptions:
    """QEMU 7.2 parses `-object` with QemuOpts (not keyval) unless it is JSON."""
    if value.startswith("{"):
        return visit_object_options(options.parse_json_object(value), style="json")
    object_id, pairs = options.qemu_opts_parse_with_id(value, "qom-type")
    if object_id is not None:
        if object_id in seen_ids:
            raise VnvdimmError(f"Duplicate ID '{object_id}' for object")
        seen_ids.add(object_id)
    args: dict[str, object] = {} if object_id is None else {"id": object_id}
    for key, item in pairs:
        if key == "host-nodes":
            previous = args.get(key)
            args[key] = [*previous, item] if isinstance(previous, list) else [item]
        else:
            args[key] = item
    return visit_object_options(args, style="opts")


def _parse_device(value: str, seen_ids: set[str]) -> tuple[dict[str, object], bool]:
    if value.startswith("{"):
        return options.parse_json_object(value), False
    device_id, pairs = options.qemu_opts_parse_with_id(value, "driver")
    props: dict[str, object] = {}
    for key, item in pairs:
        props[key] = item
    if device_id is not None:
        props["id"] = device_id
        if device_id in seen_ids:
            raise VnvdimmError(f"Duplicate ID '{device_id}' for device")
        seen_ids.add(device_id)
    return props, True


_SMP_MEMBERS = ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")


def _smp_cpus(smp: dict[str, object], mtype: MachineType,
              warnings: list[options.QemuWarning] | None) -> int:
    """QEMU 7.2's machine_parse_smp_config for x86 (dies yes, clusters no)."""
    given: dict[str, int] = {}
    for key, value in smp.items():
        if key not in _SMP_MEMBERS:
            raise VnvdimmError(f"Parameter 'smp.{key}' is unexpected")
        given[key] = options.visit_uint(f"smp.{key}", str(value), 64)
    if any(v == 0 for v in given.values()) and warnings is not None:
        warnings.append(options.QemuWarning(
            "Deprecated CPU topology (considered invalid): CPU topology parameters must be "
            "greater than zero"))
    if given.get("clusters", 0) > 1:
        raise VnvdimmError("clusters not supported by this machine's CPU topology")
    cpus, maxcpus = given.get("cpus", 0), given.get("maxcpus", 0)
    sockets, cores = given.get("sockets", 0), given.get("cores", 0)
    threads = given.get("threads", 0)
    dies = given.get("dies", 0) or 1
    if cpus == 0 and maxcpus == 0:
        sockets, cores, threads = sockets or 1, cores or 1, threads or 1
    else:
        maxcpus = maxcpus or cpus
        if mtype.prefer_sockets:
            if sockets == 0:
                cores, threads = cores or 1, threads or 1
                sockets = maxcpus // (dies * cores * threads)
            elif cores == 0:
                threads = threads or 1
                cores = maxcpus // (sockets * dies * threads)
        elif cores == 0:
            sockets, threads = sockets or 1, threads or 1
            cores = maxcpus // (sockets * dies * threads)
        elif sockets == 0:
            threads = threads or 1
            sockets = maxcpus // (dies * cores * threads)
        if threads == 0:
            threads = maxcpus // (sockets * dies * cores)
    maxcpus = maxcpus or sockets * dies * cores * threads
    cpus = cpus or maxcpus
    topology = f"sockets ({sockets}) * dies ({dies}) * cores ({cores}) * threads ({threads})"
    if sockets * dies * cores * threads != maxcpus:
        raise VnvdimmError("Invalid CPU topology: product of the hierarchy must match "
                           f"maxcpus: {topology} != maxcpus ({maxcpus})")
    if maxcpus < cpus:
        raise VnvdimmError("Invalid CPU topology: maxcpus must be equal to or greater than "
                           f"smp: {topology} == maxcpus ({maxcpus}) < smp_cpus ({cpus})")
    if maxcpus > mtype.max_cpus:
        raise VnvdimmError(f"Invalid SMP CPUs {maxcpus}. The max CPUs supported by machine "
                           f"'{mtype.name}' is {mtype.max_cpus}")
    return cpus


def build_config(parsed: ParsedCommandLine,
                 warnings: list[options.QemuWarning] | None = None,
                 early_backends: Callable[[], None] | None = None) -> MachineConfig:
    """Machine type and properties (incl. -m) in QEMU's QDict order.

    ``early_backends`` runs between the two, where QEMU creates its character
    devices (the -qmp/-monitor sockets): a socket error comes before any
    machine-property, -m or backend error, and before the deprecated-type
    warning."""
    type_name = parsed.machine.get("type", DEFAULT_MACHINE)
    if not isinstance(type_name, str):
        raise VnvdimmError("unsupported machine type")
    config = MachineConfig(type=find_machine_type(type_name))
    if early_backends is not None:
        early_backends()
    if config.type.deprecation and warnings is not None:
        warnings.append(options.QemuWarning(config.type.deprecation))
    props = {k: v for k, v in parsed.machine.items() if k != "type"}
    machine_memory = props.get("memory")
    if isinstance(machine_memory, dict) and not parsed.memory:
        parsed.memory.append((_memory_text(machine_memory), None))  # -M memory.size=...
    machine_smp = props.get("smp")
    if isinstance(machine_smp, dict):
        parsed.smp = {**machine_smp, **parsed.smp}
    for key in ("memory", "smp"):
        props.pop(key, None)
    if parsed.memory:
        props["memory"] = parsed.memory
    if parsed.smp:
        props["smp"] = parsed.smp
    for name in qdict_order(list(props)):
        if name == "smp":
            config.smp_cpus = _smp_cpus(parsed.smp, config.type, warnings)
        elif name == "memory":
            memory = options.parse_memory_options(parsed.memory, warnings=warnings)
            config.ram_size = memory.size
            config.maxram_size = memory.maxram_size
            config.ram_slots = memory.ram_slots
        else:
            apply_machine_properties(config, {name: props[name]})
    hotplug = parsed.globals.get("PIIX4_PM.memory-hotplug-support")
    if hotplug is not None and config.type.family == "pc":
        config.piix4_memory_hotplug = options.visit_bool("memory-hotplug-support", hotplug)
    hotplug = parsed.globals.get("ICH9-LPC.memory-hotplug-support")
    if hotplug is not None and config.type.family == "q35":
        config.ich9_memory_hotplug = options.visit_bool("memory-hotplug-support", hotplug)
    return config


# NumaOptions members per type (QEMU 7.2 qapi/machine.json), in schema order.
_NUMA_MEMBERS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "node": (("nodeid", "uint16", False), ("cpus", "uint16-list", False),
             ("mem", "size", False), ("memdev", "str", False), ("initiator", "uint16", False)),
    "dist": (("src", "uint16", True), ("dst", "uint16", True), ("val", "uint8", True)),
    "cpu": (("node-id", "int", False), ("socket-id", "int", False), ("die-id", "int", False),
            ("cluster-id", "int", False), ("core-id", "int", False), ("thread-id", "int", False)),
}
_NUMA_TYPES = ("node", "dist", "cpu", "hmat-lb", "hmat-cache")


def _visit_numa(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[str, object]]:
    """The opts visitor over NumaOptions: type, then members, then leftovers."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    if "type" not in values:
        raise VnvdimmError("Parameter 'type' is missing")
    kind = options.visit_enum("type", values.pop("type")[-1], _NUMA_TYPES)
    members = _NUMA_MEMBERS.get(kind)
    if members is None:
        return kind, {}  # HMAT: accepted, not modelled
    out: dict[str, object] = {}
    for name, vtype, mandatory in members:
        texts = values.pop(name, None)
        if texts is None:
            if mandatory:
                raise VnvdimmError(f"Parameter '{name}' is missing")
            continue
        if vtype == "uint16-list":
            out[name] = options.visit_uint_list(name, texts, 16)
        elif vtype.startswith("uint"):
            out[name] = options.visit_uint(name, texts[-1], int(vtype[4:]), "opts")
        elif vtype == "int":
            out[name] = options.visit_int(name, texts[-1], 64, "opts")
        elif vtype == "size":
            out[name] = options.visit_size(name, texts[-1], "opts")
        else:
            out[name] = texts[-1]
    if values:
        raise VnvdimmError(f"Invalid parameter '{next(iter(values))}'")
    return kind, out


def _parse_numa(config: MachineConfig, machine: Machine,
                entries: Sequence[tuple[str, list[tuple[str, str]]]],
                warn: Callable[[str], None] | None) -> None:
    """QEMU's parse_numa_opts: every -numa in order, errors at its location."""
    for where, pairs in entries:
        try:
            kind, items = _visit_numa(pairs)
            if not config.type.supports_numa:
                raise VnvdimmError("NUMA is not supported by this machine-type")
            if kind == "node":
                _add_numa_node(config, machine, items, warn)
        except VnvdimmError as error:
            raise error.with_location(where) from None


def _add_numa_node(config: MachineConfig, machine: Machine, items: dict[str, object],
                   warn: Callable[[str], None] | None) -> None:
    nodeid = items.get("nodeid", len(config.numa_nodes))
    assert isinstance(nodeid, int)
    if nodeid >= 128:
        raise VnvdimmError(f"Max number of NUMA nodes reached: {nodeid}")
    if any(node.nodeid == nodeid for node in config.numa_nodes):
        raise VnvdimmError(f"Duplicate NUMA nodeid: {nodeid}")
    if "mem" in items and "memdev" in items:
        raise VnvdimmError("cannot specify both mem= and memdev=")
    mem = items.get("mem")
    if mem is not None:
        if not config.type.numa_mem_supported:
            raise VnvdimmError(
                "Parameter -numa node,mem is not supported by this machine type",
                hint="Use -numa node,memdev instead\n")
        if warn is not None:
            warn("Parameter -numa node,mem is deprecated, use -numa node,memdev instead")
    memdev = items.get("memdev")
    if memdev is not None and memdev not in {b.id for b in machine.backends()}:
        raise VnvdimmError(f"memdev={memdev} is ambiguous")
    config.numa_nodes.append(NumaNode(nodeid, memdev if isinstance(memdev, str) else None,
                                      mem if isinstance(mem, int) else None))


def _complete_numa(config: MachineConfig, machine: Machine) -> None:
    """numa_complete_configuration: the implicit node, node ids, memory totals."""
    nodes = config.numa_nodes
    ram = config.effective_ram_size
    if not nodes:
        if config.type.is_pc and (config.ram_slots or config.effective_maxram_size > ram):
            nodes.append(NumaNode(0, mem=ram))  # NUMA is enabled implicitly
        return
    present = {node.nodeid for node in nodes}
    for nodeid in range(max(present) + 1):
        if nodeid not in present:
            raise VnvdimmError(f"numa: Node ID missing: {nodeid}")
    sizes = {b.id: b.size for b in machine.backends()}
    total = sum(sizes[n.memdev] if n.memdev is not None else (n.mem or 0) for n in nodes)
    if total == 0 and config.type.numa_mem_supported:
        return  # older machine types split RAM across the nodes themselves
    if total != ram:
        raise VnvdimmError(
            f"total memory for NUMA nodes (0x{total:x}) should equal RAM size (0x{ram:x})")
    nodes.sort(key=lambda n: n.nodeid)


def _flush_warnings(warnings: list[options.QemuWarning],
                    warn: Callable[[str], None] | None) -> None:
    for warning in warnings:
        if warn is not None:
            warn(warning.report("vnvdimm"))
    warnings.clear()


def build_machine(opts: Sequence[Option], *, dry_run: bool = False,
                  warn: Callable[[str], None] | None = None,
                  sysfs_root: str = "/sys",
                  progress: Callable[[int, int], None] | None = None,
                  early_backends: Callable[[], None] | None = None) -> Machine:
    """Parse, validate and build (or, with dry_run, only lay out) a machine.

    ``early_backends``: see `build_config`."""
    parsed = parse_options(opts, warn)
    _flush_warnings(parsed.warnings, warn)
    config = build_config(parsed, parsed.warnings, early_backends)
    _flush_warnings(parsed.warnings, warn)
    machine = Machine(config, warn=warn, sysfs_root=sysfs_root, progress=progress,
                      dry_run=dry_run)
    try:
        for _where, obj in parsed.objects:
            machine.object_add(obj)
        if config.memory_backend is not None:
            backend = next((b for b in machine.backends() if b.id == config.memory_backend), None)
            if backend is None:
                raise VnvdimmError(f"Memory backend '{config.memory_backend}' not found")
            if config.ram_size is None:
                config.ram_size = backend.size
        _parse_numa(config, machine, parsed.numa, warn)
        if config.memory_backend is not None:
            backend = next(b for b in machine.backends() if b.id == config.memory_backend)
            if backend.size != config.effective_ram_size:
                raise VnvdimmError(
                    "Machine memory size does not match the size of the memory backend")
        machine.init_board(before_numa=lambda: _complete_numa(config, machine))
        for where, props, keyval in parsed.devices:
            try:
                device = machine.device_add(props, keyval=keyval)
            except VnvdimmError as error:
                raise error.with_location(where) from None
            if device is None and warn is not None:
                warn(f"{where}: device ignored: vnvdimm emulates only memory devices")
        if config.nvdimm:
            # The NVDIMM ACPI device (FIT buffer, DSM port) exists from machine
            # init, as in QEMU; its state is built when first used.
            machine.defer_acpi()
        machine.ready = True
    except BaseException:
        machine.close(abort=True)
        raise
    return machine
