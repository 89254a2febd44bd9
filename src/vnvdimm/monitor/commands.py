"""The monitor's one command table: typed QMP commands, with HMP as a second face.

Every command is a QMP command with a typed argument schema; an HMP command
line is parsed into the same call (``object_add`` -> ``object-add``), so
hotplug from either face and from the command line ends in `Machine.plug`.
Replies are plain JSON values in QAPI schema order; `qemu_order` gives the
key order QEMU prints.
"""

from __future__ import annotations

from vnvdimm import __version__, options
from vnvdimm.backends.base import HostMemoryBackend
from vnvdimm.backends.schema import visit_object_options
from vnvdimm.devices.pc_dimm import NVDimm, PCDimm
from vnvdimm.errors import CommandNotFoundError, DeviceNotFoundError, VnvdimmError
from vnvdimm.qdict import qemu_order

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Final, Literal

    from vnvdimm.machine.machine import Machine
    from vnvdimm.monitor.events import EventBus
    from vnvdimm.monitor.hmp_format import DumpFormat

    ArgType = Literal["str", "int", "bool"]
    Handler = Callable[["CommandTable", dict[str, object]], object]

QEMU_VERSION = (7, 2, 22)
PACKAGE = f"vnvdimm {__version__}"


class Arg:
    """One argument of a command's typed schema; immutable."""

    __slots__ = ("name", "optional", "type")

    def __init__(self, name: str, type: ArgType, optional: bool = False) -> None:
        self.name: Final = name
        self.type: Final = type
        self.optional: Final = optional


class Command:
    """A QMP command: its name, handler and argument schema; immutable."""

    __slots__ = ("args", "handler", "name")

    def __init__(self, name: str, handler: Handler,
                 args: tuple[Arg, ...] | None = ()) -> None:
        self.name: Final = name
        self.handler: Final = handler
        self.args: Final = args  # None: free-form (device_add, object-add)


def _visit_args(command: Command, arguments: Mapping[str, object]) -> dict[str, object]:
    """QAPI's JSON input visitor over a command's arguments struct."""
    if command.args is None:
        return dict(arguments)
    out: dict[str, object] = {}
    remaining = dict(arguments)
    for arg in command.args:
        if arg.name not in remaining:
            if not arg.optional:
                raise VnvdimmError(f"Parameter '{arg.name}' is missing")
            continue
        value = remaining.pop(arg.name)
        if arg.type == "str" and not isinstance(value, str):
            raise VnvdimmError(f"Invalid parameter type for '{arg.name}', expected: string")
        if arg.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise VnvdimmError(f"Invalid parameter type for '{arg.name}', expected: integer")
        if arg.type == "bool" and not isinstance(value, bool):
            raise VnvdimmError(f"Invalid parameter type for '{arg.name}', expected: boolean")
        out[arg.name] = value
    if remaining:
        raise VnvdimmError(f"Parameter '{next(iter(remaining))}' is unexpected")
    return out


def _qemu_opts_value(value: object) -> str | None:
    """qemu_opts_from_qdict: how QMP device_add turns JSON values into option text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".17g")
    return None  # other types are silently dropped, as in QEMU


class CommandTable:
    """Executes QMP commands by name and HMP command lines against one machine.

    `on_quit` is called (after the SHUTDOWN event) when a client asks to quit;
    the caller stops its loop after the reply has been sent.
    """

    def __init__(self, machine: Machine, events: EventBus,
                 on_quit: Callable[[], None] | None = None, *, prelaunch: bool = True) -> None:
        self.machine = machine
        self.events = events
        self.on_quit = on_quit or (lambda: None)
        # QEMU's run state: "prelaunch" with -S, "running" without.
        self.status = "prelaunch" if prelaunch else "running"
        self.last_dump: DumpFormat | None = None  # xp's last /fmt; None: the defaults
        self._commands = {c.name: c for c in _COMMANDS}

    # -- QMP face -----------------------------------------------------------------

    def qmp_command_names(self) -> list[str]:
        """Names for query-commands, in QEMU 7.2's order."""
        return [c.name for c in _COMMANDS]

    def supports_oob(self, name: str) -> bool:
        return name == "migrate-pause"  # QEMU 7.2's one OOB-capable command in this set

    def execute(self, name: str, arguments: Mapping[str, object]) -> object:
        """Run one QMP command; its JSON return value (QEMU's key order)."""
        command = self._commands.get(name)
        if command is None:
            raise CommandNotFoundError(f"The command {name} has not been found")
        return qemu_order(command.handler(self, _visit_args(command, arguments)))

    # -- handlers ---------------------------------------------------------------------

    def query_version(self, args: dict[str, object]) -> object:
        major, minor, micro = QEMU_VERSION
        return {"qemu": {"major": major, "minor": minor, "micro": micro}, "package": PACKAGE}

    def query_commands(self, args: dict[str, object]) -> object:
        return [{"name": name} for name in self.qmp_command_names()]

    def query_status(self, args: dict[str, object]) -> object:
        return {"running": self.status == "running", "singlestep": False, "status": self.status}

    def stop(self, args: dict[str, object]) -> object:
        if self.status == "running":
            self.status = "paused"
            self.events.emit("STOP")
        return {}

    def cont(self, args: dict[str, object]) -> object:
        if self.status != "running":
            self.status = "running"
            self.events.emit("RESUME")
        return {}

    def migrate_pause(self, args: dict[str, object]) -> object:
        raise VnvdimmError("migrate-pause is currently only supported during postcopy-active "
                           "state")

    def system_powerdown(self, args: dict[str, object]) -> object:
        self.events.emit("POWERDOWN")  # the ACPI button; no guest will answer it
        return {}

    def quit(self, args: dict[str, object]) -> object:
        self.events.emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
        self.on_quit()
        return {}

    def object_add(self, args: dict[str, object]) -> object:
        self.machine.object_add(visit_object_options(args, style="json"))
        return {}

    def object_del(self, args: dict[str, object]) -> object:
        object_id = args["id"]
        assert isinstance(object_id, str)
        self.machine.object_del(object_id)
        return {}

    def device_add(self, args: dict[str, object]) -> object:
        """QMP device_add goes through QemuOpts in 7.2: values become option text."""
        props: dict[str, object] = {}
        for key, value in args.items():
            text = _qemu_opts_value(value)
            if text is not None:
                props[key] = text
        device_id = props.get("id")
        if isinstance(device_id, str) and not options.id_wellformed(device_id):
            raise VnvdimmError("Parameter 'id' expects an identifier", hint=options.ID_HINT)
        self.machine.device_add(props, keyval=True)
        return {}

    def device_del(self, args: dict[str, object]) -> object:
        device_id = args["id"]
        assert isinstance(device_id, str)
        device = self._device_by_path(device_id)
        if isinstance(device, NVDimm):
            raise VnvdimmError("nvdimm device hot unplug is not supported yet.")
        if not self.machine.config.type.has_hotplug_handler:
            raise VnvdimmError(f"Bus '{device.qom_name}' does not support hotplugging")
        # pc-dimm: an unplug request the guest must acknowledge; none will.
        return {}

    def query_memory_devices(self, args: dict[str, object]) -> object:
        out = []
        for device in self.machine.memory_devices():
            data: dict[str, object] = {}
            if device.id is not None:
                data["id"] = device.id
            data.update({
                "addr": device.addr,
                "size": device.memory_region_size(),
                "slot": device.slot,
                "node": device.node,
                "memdev": device.memdev.canonical_path if device.memdev else "",
                "hotplugged": device.hotplugged,
                "hotpluggable": True,
            })
            out.append({"type": device.memory_device_type, "data": data})
        return out

    def query_memdev(self, args: dict[str, object]) -> object:
        out = []
        for backend in reversed(self.machine.objects_in_qom_order()):
            if isinstance(backend, HostMemoryBackend):
                out.append({
                    "id": backend.id,
                    "size": backend.size,
                    "merge": backend.merge,
                    "dump": backend.dump,
                    "prealloc": backend.prealloc,
                    "share": backend.share,
                    "reserve": backend.reserve,
                    "host-nodes": sorted(backend.host_nodes),
                    "policy": backend.policy,
                })
        return out

    def query_memory_size_summary(self, args: dict[str, object]) -> object:
        plugged = sum(d.memory_region_size() for d in self.machine.memory_devices())
        summary: dict[str, object] = {"base-memory": self.machine.config.effective_ram_size}
        if self.machine.memory_map is not None and self.machine.memory_map.has_device_memory:
            summary["plugged-memory"] = plugged
        return summary

    def qom_list(self, args: dict[str, object]) -> object:
        path = args["path"]
        assert isinstance(path, str)
        target = self._resolve(path)
        entries = [{"name": "type", "type": "string"}]
        # QEMU prepends while iterating: children come out in reverse hash order.
        if target == "objects":
            for obj in reversed(self.machine.objects_in_qom_order()):
                entries.append({"name": obj.id, "type": f"child<{obj.qom_type}>"})
        elif target in ("peripheral", "peripheral-anon"):
            for device in reversed(self.machine.devices_in_qom_order()):
                if (device.id is None) == (target == "peripheral-anon"):
                    entries.append({"name": device.qom_name, "type": f"child<{device.driver}>"})
        elif isinstance(target, HostMemoryBackend):
            entries += [{"name": name, "type": kind} for name, kind in _backend_props(target)]
        elif isinstance(target, PCDimm):
            entries += [{"name": name, "type": kind} for name, kind in _device_props(target)]
        return entries

    def qom_get(self, args: dict[str, object]) -> object:
        path, prop = args["path"], args["property"]
        assert isinstance(path, str) and isinstance(prop, str)
        target = self._resolve(path)
        if prop == "type":
            if isinstance(target, str):
                return "container"
            return target.qom_type if isinstance(target, HostMemoryBackend) else target.driver
        if isinstance(target, HostMemoryBackend):
            try:
                return target.get_property(prop)
            except VnvdimmError:
                raise VnvdimmError(f"Property '{target.qom_type}.{prop}' not found") from None
        if isinstance(target, PCDimm):
            if prop == "realized":
                return target.realized
            if prop in ("hotplugged", "hotpluggable"):
                return target.hotplugged if prop == "hotplugged" else True
            return target.get_property(prop)
        raise VnvdimmError(f"Property 'container.{prop}' not found")

    def human_monitor_command(self, args: dict[str, object]) -> object:
        line = args["command-line"]
        assert isinstance(line, str)
        return self.hmp(line).replace("\n", "\r\n")

    def pmemsave(self, args: dict[str, object]) -> object:
        addr, size, filename = args["val"], args["size"], args["filename"]
        assert isinstance(addr, int) and isinstance(size, int) and isinstance(filename, str)
        try:
            handle = open(filename, "wb")  # noqa: SIM115 - closed below, QEMU's error text
        except OSError as exc:
            raise VnvdimmError(f"Could not open '{filename}': {exc.strerror}") from None
        with handle:
            done = 0
            while done < size:
                chunk = min(size - done, 1 << 20)
                handle.write(self._read_or_zero(addr + done, chunk))
                done += chunk
        return {}

    # -- helpers ------------------------------------------------------------------

    def _read_or_zero(self, addr: int, length: int) -> bytes:
        """Unassigned guest memory reads as zeros (QEMU's unassigned_mem_read)."""
        try:
            return self.machine.read(addr, length)
        except VnvdimmError:
            out = bytearray(length)
            for offset in range(length):
                try:
                    out[offset:offset + 1] = self.machine.read(addr + offset, 1)
                except VnvdimmError:
                    continue
            return bytes(out)

    def _device_by_path(self, path: str) -> PCDimm:
        if path.startswith("/"):
            target = self._resolve(path)
            if isinstance(target, PCDimm):
                return target
        elif path in self.machine.peripheral:
            return self.machine.peripheral[path]
        raise DeviceNotFoundError(f"Device '{path}' not found")

    def _resolve(self, path: str) -> str | HostMemoryBackend | PCDimm:
        """A QOM path we model: /objects[/id], /machine/peripheral[-anon][/name]."""
        parts = [p for p in path.split("/") if p]
        machine = self.machine
        if parts == ["objects"]:
            return "objects"
        if len(parts) == 2 and parts[0] == "objects":
            obj = machine.objects.get(parts[1])
            if isinstance(obj, HostMemoryBackend):
                return obj
        if parts in (["machine", "peripheral"], ["machine", "peripheral-anon"]):
            return parts[1]
        if len(parts) == 3 and parts[:2] == ["machine", "peripheral"]:
            device = machine.peripheral.get(parts[2])
            if device is not None:
                return device
        if len(parts) == 3 and parts[:2] == ["machine", "peripheral-anon"]:
            anon = machine.peripheral_anon.get(parts[2])
            if anon is not None:
                return anon
        if len(parts) == 1 and not path.startswith("/"):
            named = machine.peripheral.get(parts[0]) or machine.objects.get(parts[0])
            if isinstance(named, HostMemoryBackend | PCDimm):
                return named
        raise DeviceNotFoundError(f"Device '{path}' not found")

    # -- HMP face -----------------------------------------------------------------

    def hmp(self, command_line: str, stderr: Callable[[str], None] | None = None) -> str:
        """Run one HMP command line; its monitor output (`\\n` line ends).

        Text QEMU prints on its stderr instead of the monitor goes to `stderr`."""
        line = command_line.strip()
        if not line:
            return ""
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        handler = _HMP.get(name)
        if handler is None:
            return f"unknown command: '{line}'\n"
        if not rest and name in _HMP_NEEDS_ARGUMENT:
            return f'{name}: string expected\nTry "help {name}" for more information\n'
        try:
            return handler(self, rest, stderr or (lambda text: None))
        except _ArgumentError:
            return f'Try "help {name}" for more information\n'
        except VnvdimmError as error:
            return f"Error: {error.message}\n" + (error.hint or "")

    def _hmp_help(self, rest: str, stderr: Callable[[str], None]) -> str:
        """`help [cmd]`: QEMU's help lines for the commands vnvdimm has."""
        name = rest.split()[0] if rest else ""
        if name == "info":
            return self._hmp_info("", stderr)
        if name:
            lines = [text for names, text in _HMP_HELP if name in names]
            return "".join(f"{text}\n" for text in lines) or f"unknown command: '{name}'\n"
        return "".join(f"{text}\n" for _, text in _HMP_HELP)

    def _hmp_info(self, rest: str, stderr: Callable[[str], None]) -> str:
        what = rest.split()[0] if rest else ""
        info = _HMP_INFO.get(what)
        if info is None:
            if not what:
                return "".join(f"info {n}  -- {h}\n" for n, (_, h) in sorted(_HMP_INFO.items()))
            return f"unknown command: 'info {rest}'\n"
        return info[0](self)

    def _hmp_object_add(self, rest: str, stderr: Callable[[str], None]) -> str:
        if rest.startswith("{"):
            opts = visit_object_options(options.parse_json_object(rest), style="json")
        else:
            opts = visit_object_options(options.keyval_parse(rest, "qom-type"), style="keyval")
        self.machine.object_add(opts)
        return ""

    def _hmp_device_add(self, rest: str, stderr: Callable[[str], None]) -> str:
        # HMP parses the argument as QemuOpts first; its messages go to stderr.
        warnings: list[options.QemuWarning] = []
        try:
            device_id, pairs = options.qemu_opts_parse_with_id(rest, "driver",
                                                               warnings=warnings)
        except VnvdimmError as error:
            for warning in warnings:
                stderr(warning.report("vnvdimm"))
            stderr(error.report("vnvdimm"))
            raise _ArgumentError from None
        for warning in warnings:
            stderr(warning.report("vnvdimm"))
        props: dict[str, object] = dict(pairs)
        if device_id is not None:
            props["id"] = device_id
        self.machine.device_add(props, keyval=True)
        return ""

    def _hmp_simple(self, name: str, args: dict[str, object]) -> str:
        self.execute(name, args)
        return ""

    def _hmp_xp(self, rest: str, stderr: Callable[[str], None]) -> str:
        fmt_text, addr_text = "", rest
        if rest.startswith("/"):
            fmt_text, _, addr_text = rest.partition(" ")
        from vnvdimm.monitor.hmp_format import DumpFormat, memory_dump, parse_format

        fmt = parse_format(fmt_text, DumpFormat() if self.last_dump is None else self.last_dump)
        self.last_dump = DumpFormat(fmt.count, fmt.format, fmt.size)
        if not addr_text.strip():
            raise VnvdimmError("address expected")
        try:
            addr = int(addr_text.strip(), 0)
        except ValueError:
            raise VnvdimmError(f"invalid char '{addr_text.strip()[0]}' in expression") from None

        def read(at: int, length: int) -> bytes | None:
            try:
                return self.machine.read(at, length)
            except VnvdimmError:
                return None

        return memory_dump(read, fmt, addr)


class _ArgumentError(Exception):
    """HMP could not parse the arguments; QEMU then suggests `help <command>`."""


def _backend_props(backend: HostMemoryBackend) -> list[tuple[str, str]]:
    props = [("size", "int"), ("merge", "bool"), ("dump", "bool"), ("prealloc", "bool"),
             ("prealloc-threads", "int"), ("host-nodes", "int"), ("policy", "HostMemPolicy"),
             ("share", "bool"), ("reserve", "bool"),
             ("x-use-canonical-path-for-ramblock-id", "bool")]
    if backend.qom_type == "memory-backend-file":
        props += [("mem-path", "string"), ("align", "int"), ("discard-data", "bool"),
                  ("pmem", "bool"), ("readonly", "bool")]
    if backend.qom_type == "memory-backend-memfd":
        props += [("hugetlb", "bool"), ("hugetlbsize", "int"), ("seal", "bool")]
    return props


def _device_props(device: PCDimm) -> list[tuple[str, str]]:
    props = [("realized", "bool"), ("hotplugged", "bool"), ("hotpluggable", "bool"),
             ("addr", "uint64"), ("node", "uint32"), ("slot", "int32"),
             ("memdev", "link<memory-backend>"), ("size", "uint64")]
    if isinstance(device, NVDimm):
        props += [("label-size", "int"), ("uuid", "str"), ("unarmed", "bool")]
    return props


def _simple(name: str) -> Callable[[CommandTable, str, Callable[[str], None]], str]:
    def run(table: CommandTable, rest: str, stderr: Callable[[str], None]) -> str:
        return table._hmp_simple(name, {})
    return run


def _by_id(name: str) -> Callable[[CommandTable, str, Callable[[str], None]], str]:
    def run(table: CommandTable, rest: str, stderr: Callable[[str], None]) -> str:
        return table._hmp_simple(name, {"id": rest.split()[0]})
    return run


def _info_memory_devices(table: CommandTable) -> str:
    from vnvdimm.monitor import hmp_info

    return hmp_info.info_memory_devices(table.machine)


def _info_memdev(table: CommandTable) -> str:
    from vnvdimm.monitor import hmp_info

    return hmp_info.info_memdev(table.machine)


def _info_status(table: CommandTable) -> str:
    if table.status == "prelaunch":
        return "VM status: paused (prelaunch)\n"
    return "VM status: running\n" if table.status == "running" else "VM status: paused\n"


def _info_version(table: CommandTable) -> str:
    major, minor, micro = QEMU_VERSION
    return f"{major}.{minor}.{micro}{PACKAGE}\n"


def _info_memory_size_summary(table: CommandTable) -> str:
    summary = table.execute("query-memory-size-summary", {})
    assert isinstance(summary, dict)
    out = f"base memory: {summary['base-memory']}\n"
    if "plugged-memory" in summary:
        out += f"plugged memory: {summary['plugged-memory']}\n"
    return out


_HMP_INFO: dict[str, tuple[Callable[[CommandTable], str], str]] = {
    "memory-devices": (_info_memory_devices, "show memory devices"),
    "memdev": (_info_memdev, "show memory backends"),
    "status": (_info_status, "show the current VM status (running|paused)"),
    "version": (_info_version, "show the version of QEMU"),
    "memory_size_summary": (
        _info_memory_size_summary,
        "show the amount of initially allocated and present hotpluggable (if enabled) "
        "memory in bytes."),
}

# QEMU 7.2's `help` lines for these commands, in its (alphabetical) order.
_HMP_HELP: tuple[tuple[tuple[str, ...], str], ...] = (
    (("cont", "c"), "cont|c  -- resume emulation"),
    (("device_add",),
     "device_add driver[,prop=value][,...] -- add device, like -device on the command line"),
    (("device_del",), "device_del device -- remove device"),
    (("help", "?"), "help|? [cmd] -- show the help"),
    (("info",), "info [subcommand] -- show various information about the system state"),
    (("object_add",),
     "object_add [qom-type=]type,id=str[,prop=value][,...] -- create QOM object"),
    (("object_del",), "object_del id -- destroy QOM object"),
    (("quit", "q"), "quit|q  -- quit the emulator"),
    (("stop", "s"), "stop|s  -- stop emulation"),
    (("system_powerdown",), "system_powerdown  -- send system power down event"),
    (("xp",), "xp /fmt addr -- physical memory dump starting at 'addr'"),
)

_HMP_NEEDS_ARGUMENT = frozenset({"object_add", "object_del", "device_del"})

_HMP: dict[str, Callable[[CommandTable, str, Callable[[str], None]], str]] = {
    "help": CommandTable._hmp_help,
    "?": CommandTable._hmp_help,
    "info": CommandTable._hmp_info,
    "i": CommandTable._hmp_info,
    "object_add": CommandTable._hmp_object_add,
    "object_del": _by_id("object-del"),
    "device_add": CommandTable._hmp_device_add,
    "device_del": _by_id("device_del"),
    "stop": _simple("stop"),
    "s": _simple("stop"),
    "cont": _simple("cont"),
    "c": _simple("cont"),
    "system_powerdown": _simple("system_powerdown"),
    "xp": CommandTable._hmp_xp,
}

_S = Arg
# query-commands order of QEMU 7.2 (filtered to the commands vnvdimm has).
_COMMANDS = (
    Command("device_add", CommandTable.device_add, None),
    Command("human-monitor-command", CommandTable.human_monitor_command,
            (_S("command-line", "str"), _S("cpu-index", "int", optional=True))),
    Command("cont", CommandTable.cont),
    Command("stop", CommandTable.stop),
    Command("query-memory-devices", CommandTable.query_memory_devices),
    Command("query-memory-size-summary", CommandTable.query_memory_size_summary),
    Command("query-memdev", CommandTable.query_memdev),
    Command("pmemsave", CommandTable.pmemsave,
            (_S("val", "int"), _S("size", "int"), _S("filename", "str"))),
    Command("system_powerdown", CommandTable.system_powerdown),
    Command("device_del", CommandTable.device_del, (_S("id", "str"),)),
    Command("object-del", CommandTable.object_del, (_S("id", "str"),)),
    Command("object-add", CommandTable.object_add, None),
    Command("qom-get", CommandTable.qom_get, (_S("path", "str"), _S("property", "str"))),
    Command("qom-list", CommandTable.qom_list, (_S("path", "str"),)),
    Command("quit", CommandTable.quit),
    Command("query-commands", CommandTable.query_commands),
    Command("query-version", CommandTable.query_version),
    Command("qmp_capabilities", lambda table, args: {}, None),  # the session negotiates
    Command("migrate-pause", CommandTable.migrate_pause),
    Command("query-status", CommandTable.query_status),
)

__all__ = ["CommandTable"]
