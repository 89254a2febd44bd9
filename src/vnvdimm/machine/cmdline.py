"""Building a machine from QEMU command-line options, in QEMU 7.2's order.

QEMU first parses every option (syntax errors carry the option as location,
e.g. ``-object memory-backend-ram,id=m: Parameter 'size' is missing``), then
applies machine properties, creates the memory backends, resolves NUMA and
the RAM backend, initialises the board and finally creates each ``-device``
(its errors carry the ``-device ...`` location again).  This module mirrors
that order so the first error reported is QEMU's first error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vnvdimm import options
from vnvdimm.backends.schema import ObjectOptions, qdict_order, visit_object_options
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.config import MachineConfig, NumaNode, apply_machine_properties
from vnvdimm.machine.machine import Machine
from vnvdimm.machine.types import DEFAULT_MACHINE, find_machine_type


class Option(Protocol):
    """One command-line option: name without dashes, its argument, as typed."""

    @property
    def name(self) -> str: ...

    @property
    def value(self) -> str | None: ...

    @property
    def text(self) -> str: ...


@dataclass
class _Located:
    location: str
    item: object


@dataclass
class ParsedCommandLine:
    """Everything QEMU has parsed before it builds the machine."""

    machine: dict[str, object] = field(default_factory=dict)
    memory: list[tuple[str, str | None]] = field(default_factory=list)
    objects: list[tuple[str, ObjectOptions]] = field(default_factory=list)
    devices: list[tuple[str, dict[str, object], bool]] = field(default_factory=list)
    numa: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    smp: dict[str, object] = field(default_factory=dict)
    warnings: list[options.QemuWarning] = field(default_factory=list)
    globals: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


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
                parsed.numa.append((where, dict(options.qemu_opts_parse(value, "type"))))
            elif opt.name == "smp":
                parsed.smp.update(options.keyval_parse(value, "cpus"))
            elif opt.name == "global":
                key, _, val = value.partition("=")
                parsed.globals[key] = val
        except VnvdimmError as error:
            raise error.with_location(where) from None
    return parsed


def _parse_object(value: str, seen_ids: set[str]) -> ObjectOptions:
    """QEMU 7.2 parses `-object` with QemuOpts (not keyval) unless it is JSON."""
    if value.startswith("{"):
        return visit_object_options(_json_object(value), style="json")
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
        return _json_object(value), False
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


def _json_object(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise VnvdimmError(f"JSON parse error, {exc}") from None
    if not isinstance(value, dict):
        raise VnvdimmError("Invalid JSON object given")
    return value


_SMP_MEMBERS = ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")


def _smp_cpus(smp: dict[str, object]) -> int:
    """The `smp` machine property (SMPConfiguration); only the CPU count matters here."""
    cpus = 1
    for key, value in smp.items():
        if key not in _SMP_MEMBERS:
            raise VnvdimmError(f"Parameter 'smp.{key}' is unexpected")
        number = options.visit_uint(f"smp.{key}", str(value), 64)
        if key == "cpus" and number:
            cpus = number
    return cpus


def build_config(parsed: ParsedCommandLine,
                 warnings: list[options.QemuWarning] | None = None) -> MachineConfig:
    """Machine type and properties (incl. -m) in QEMU's QDict order."""
    type_name = parsed.machine.get("type", DEFAULT_MACHINE)
    if not isinstance(type_name, str):
        raise VnvdimmError("unsupported machine type")
    config = MachineConfig(type=find_machine_type(type_name))
    props = {k: v for k, v in parsed.machine.items() if k != "type"}
    if parsed.memory:
        props["memory"] = parsed.memory
    if parsed.smp:
        props["smp"] = parsed.smp
    for name in qdict_order(list(props)):
        if name == "smp":
            config.smp_cpus = _smp_cpus(parsed.smp)
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
    return config


def _parse_numa(config: MachineConfig, machine: Machine,
                entries: Sequence[tuple[str, dict[str, str]]]) -> None:
    for where, items in entries:
        try:
            kind = items.get("type", "node")
            if kind != "node":
                continue
            nodeid = int(items["nodeid"], 0) if "nodeid" in items else len(config.numa_nodes)
            if nodeid >= 128:
                raise VnvdimmError(f"Max number of NUMA nodes reached: {nodeid}")
            if any(node.nodeid == nodeid for node in config.numa_nodes):
                raise VnvdimmError(f"Duplicate NUMA nodeid: {nodeid}")
            if "mem" in items and "memdev" in items:
                raise VnvdimmError("cannot specify both mem= and memdev=")
            if "mem" in items:
                raise VnvdimmError(
                    "Parameter -numa node,mem is not supported by this machine type",
                    hint="Use -numa node,memdev instead\n")
            memdev = items.get("memdev")
            if memdev is not None and memdev not in {b.id for b in machine.backends()}:
                raise VnvdimmError(f"memdev={memdev} is ambiguous")
            config.numa_nodes.append(NumaNode(nodeid, memdev))
        except VnvdimmError as error:
            raise error.with_location(where) from None


def _complete_numa(config: MachineConfig, machine: Machine) -> None:
    """numa_complete_configuration: an implicit node with memory hotplug, checks."""
    nodes = config.numa_nodes
    if not nodes and (config.ram_slots or config.effective_maxram_size > config.effective_ram_size):
        if config.type.is_pc:
            nodes.append(NumaNode(0))
        return
    if not nodes:
        return
    present = {node.nodeid for node in nodes}
    for nodeid in range(max(present) + 1):
        if nodeid not in present:
            raise VnvdimmError(f"numa: Node ID missing: {nodeid}")
    memdevs = {b.id: b for b in machine.backends()}
    total = sum(memdevs[n.memdev].size for n in nodes if n.memdev is not None)
    if total == 0 and not any(n.memdev for n in nodes):
        return  # RAM is split across the nodes automatically
    if total != config.effective_ram_size:
        raise VnvdimmError(
            f"total memory for NUMA nodes (0x{total:x}) should equal RAM size "
            f"(0x{config.effective_ram_size:x})")
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
                  progress: Callable[[int, int], None] | None = None) -> Machine:
    """Parse, validate and build (or, with dry_run, only lay out) a machine."""
    parsed = parse_options(opts, warn)
    _flush_warnings(parsed.warnings, warn)
    config = build_config(parsed, parsed.warnings)
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
        _parse_numa(config, machine, parsed.numa)
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
        machine.ready = True
    except BaseException:
        machine.close(abort=True)
        raise
    return machine
