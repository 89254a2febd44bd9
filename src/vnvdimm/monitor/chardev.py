"""Monitor character devices: ``-qmp``, ``-qmp-pretty``, ``-monitor``, ``-mon``, ``-chardev``.

QEMU 7.2's syntax and messages (``qemu_chr_parse_compat``, ``monitor_parse``,
``qemu_chardev_opts``, checked against the binary).  vnvdimm carries the
``socket`` (unix and tcp, server or client), ``stdio`` and ``null`` backends;
QEMU's other backends (``pty``, ``vc``, ``file:``, ...) are refused with a
message saying so, since a monitor nobody can reach would mislead.
"""

from __future__ import annotations

from vnvdimm import options
from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Final, Literal

    Backend = Literal["socket", "stdio", "null"]
    Mode = Literal["control", "readline"]
    OptionWord = tuple[str, str, str]
    """(option name without dashes, canonical; its value; its text as a location)."""
    WarnFn = Callable[[str], None]

# qemu_chardev_opts: every name QemuOpts accepts for -chardev, with its type.
CHARDEV_DESC: dict[str, options.OptType] = {
    "backend": "string", "path": "string", "host": "string", "port": "string",
    "fd": "string", "local_addr": "string", "local_port": "string", "to": "number",
    "ipv4": "bool", "ipv6": "bool", "wait": "bool", "server": "bool", "delay": "bool",
    "nodelay": "bool", "reconnect": "number", "telnet": "bool", "tn3270": "bool",
    "websocket": "bool", "width": "number", "height": "number", "cols": "number",
    "rows": "number", "mux": "bool", "signal": "bool", "name": "string", "debug": "number",
    "size": "size", "chardev": "string", "append": "bool", "logfile": "string",
    "logappend": "bool", "mouse": "bool", "clipboard": "bool", "tight": "bool",
    "abstract": "bool",
}
MON_DESC: dict[str, options.OptType] = {"mode": "string", "chardev": "string", "pretty": "bool"}

# Backends QEMU 7.2 knows but vnvdimm does not carry.
_OTHER_BACKENDS = ("vc", "pty", "file", "pipe", "udp", "serial", "tty", "parallel",
                   "parport", "msmouse", "wctablet", "braille", "testdev", "ringbuf",
                   "memory", "spicevmc", "spiceport", "qemu-vdagent", "dbus", "mux")
_COMPAT_OTHER_NAMES = ("vc", "pty", "msmouse", "braille", "testdev")
_COMPAT_OTHER_PREFIXES = ("con:", "file:", "pipe:", "udp:", "telnet:", "tn3270:", "websocket:",
                          "/dev/", "mon:")


def _other_compat(text: str) -> bool:
    """A compat spec QEMU accepts for a backend vnvdimm does not carry."""
    return (text.split(":", 1)[0] in _COMPAT_OTHER_NAMES
            or text.startswith(_COMPAT_OTHER_PREFIXES))


class ChardevSpec:
    """One character device, as its options were given.

    ``location`` is the option as QEMU prints it before its messages;
    ``in_use`` is set once a monitor takes the device."""

    __slots__ = ("backend", "host", "id", "in_use", "ipv4", "ipv6", "location", "path",
                 "port", "server", "wait")

    def __init__(self, id: str, backend: Backend, location: str,
                 path: str | None = None, host: str | None = None, port: str | None = None,
                 server: bool = False, wait: bool = True, ipv4: bool = False,
                 ipv6: bool = False, in_use: bool = False) -> None:
        self.id = id
        self.backend = backend
        self.location = location
        self.path = path
        self.host = host
        self.port = port
        self.server = server
        self.wait = wait
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.in_use = in_use

    @property
    def is_unix(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        """QEMU's ``disconnected:...`` filename (the waiting-for-connection message)."""
        server = ",server=on" if self.server else ""
        if self.path is not None:
            return f"disconnected:unix:{self.path}{server}"
        return f"disconnected:tcp:{self.host}:{self.port}{server}"


class MonitorSpec:
    """One monitor (immutable): its character device, QMP or HMP, and its option."""

    __slots__ = ("chardev", "location", "mode", "pretty")

    def __init__(self, chardev: ChardevSpec, mode: Mode, pretty: bool, location: str) -> None:
        self.chardev: Final = chardev
        self.mode: Final = mode
        self.pretty: Final = pretty
        self.location: Final = location


def _socket_from_pairs(chardev_id: str, pairs: list[tuple[str, str]],
                       location: str) -> ChardevSpec:
    values = dict(pairs)
    spec = ChardevSpec(chardev_id, "socket", location)
    for name in ("server", "wait", "ipv4", "ipv6"):
        if name in values:
            setattr(spec, name, options.visit_bool(name, values[name]))
    path = values.get("path")
    if path is not None and path != "":
        spec.path = path
    elif values.get("host") is not None and path is None:
        spec.host = values["host"]
        port = values.get("port")
        if port is None:
            raise VnvdimmError("chardev: socket: no port given")
        spec.port = port
    elif path == "" and spec.server:
        spec.path = ""  # QEMU then binds a temporary qemu-socket-XXXXXX
    else:
        raise VnvdimmError("Unable to parse FD number ")
    return spec


def _parse_error(message: str | None, spec: str) -> VnvdimmError:
    """A compat spec QEMU refuses: maybe a reason, then always ``parse error: <spec>``."""
    if message is None:
        return VnvdimmError(f"parse error: {spec}")
    return VnvdimmError(message, hint=f"\0parse error: {spec}")


def parse_compat(text: str, label: str, location: str) -> ChardevSpec:
    """qemu_chr_parse_compat(): ``stdio``, ``null``, ``unix:...``, ``tcp:host:port,...``."""
    if text in ("null", "stdio"):
        return ChardevSpec(label, "stdio" if text == "stdio" else "null", location)
    if text.startswith("unix:"):
        return _socket_from_pairs(label, _do_parse(text[5:], "path", text), location)
    if text.startswith("tcp:"):
        rest = text[4:]
        # sscanf(p, "%64[^:]:%32[^,]%n") or sscanf(p, ":%32[^,]%n")
        host, port, tail = _scan_host_port(rest)
        if port is None:
            raise _parse_error(None, text)
        pairs = [("host", host), ("port", port)]
        if tail.startswith(","):
            pairs += _do_parse(tail[1:], None, text)
        return _socket_from_pairs(label, pairs, location)
    if _other_compat(text):
        raise VnvdimmError(f"'{text}': this character device is not supported by vnvdimm "
                           "(it carries stdio, null, unix: and tcp:)")
    raise _parse_error(f"'{text}' is not a valid char driver", text)


def _scan_host_port(text: str) -> tuple[str, str | None, str]:
    """sscanf(p, "%64[^:]:%32[^,]%n"), else sscanf(p, ":%32[^,]%n"): host, port, rest."""
    colon = text.find(":")
    host = text[:colon] if colon >= 0 else text
    if colon < 0 or len(host) > 64:
        return "", None, text
    end = text.find(",", colon + 1)
    end = len(text) if end < 0 else end
    port = text[colon + 1:end]
    if not port or len(port) > 32:
        return "", None, text
    return host, port, text[end:]


def _do_parse(params: str, implied: str | None, whole: str) -> list[tuple[str, str]]:
    """qemu_opts_do_parse() on the chardev list (no short-form boolean warnings)."""
    try:
        return options.qemu_opts_parse_with_id(params, implied, desc=CHARDEV_DESC,
                                               warn_on_flag=False)[1] if params else []
    except VnvdimmError as error:
        raise _parse_error(error.message, whole) from None


def parse_monitor_options(opts: Sequence[OptionWord], *,
                          warn: WarnFn | None = None) -> list[MonitorSpec]:
    """Every monitor on the command line; QEMU's errors raised with their location.

    A two-line QEMU error (``'x' is not a valid char driver`` then ``parse error:
    x``) carries its second line as a hint starting with NUL: the caller prints
    it with the same prefix (see `report`)."""
    chardevs: dict[str, ChardevSpec] = {}
    pending: list[tuple[str, str, Mode, bool]] = []  # (location, chardev id, mode, pretty)
    index = 0
    for name, value, location in opts:
        if name not in ("qmp", "qmp-pretty", "monitor", "mon", "chardev"):
            continue
        try:
            if name == "chardev":
                spec = _parse_chardev(value, location, warn)
                if spec.id in chardevs:
                    raise VnvdimmError(f"Duplicate ID '{spec.id}' for chardev")
                chardevs[spec.id] = spec
            elif name == "mon":
                pending.append(_parse_mon(value, location))
            elif name == "monitor" and value.startswith("none"):
                continue  # QEMU: strncmp(optarg, "none", 4)
            else:
                mode: Mode = "readline" if name == "monitor" else "control"
                if value.startswith("chardev:"):
                    pending.append((location, value[8:][:31], mode, name == "qmp-pretty"))
                    continue
                label = f"compat_monitor{index}"
                chardevs[label] = parse_compat(value, label, location)
                pending.append((location, label, mode, name == "qmp-pretty"))
                index += 1
        except VnvdimmError as error:
            raise error.with_location(location) from None
    stdio_seen = False
    for spec in chardevs.values():  # chardevs are created in order, before monitors
        if spec.backend == "stdio":
            if stdio_seen:
                raise VnvdimmError("cannot use stdio by multiple character devices",
                                   location=spec.location)
            stdio_seen = True
    monitors: list[MonitorSpec] = []
    for location, chardev_id, mode, pretty in pending:
        found = chardevs.get(chardev_id)
        if found is None:
            raise VnvdimmError(f'chardev "{chardev_id}" not found', location=location)
        if found.in_use:
            raise VnvdimmError(f"Device '{chardev_id}' is in use", location=location)
        found.in_use = True
        monitors.append(MonitorSpec(found, mode, pretty, location))
    return monitors


def report(error: VnvdimmError, program: str) -> str:
    """`VnvdimmError.report`, printing a NUL-marked hint as a second prefixed line."""
    if error.hint and error.hint.startswith("\0"):
        prefix = f"{program}: {error.location}: " if error.location else f"{program}: "
        return f"{prefix}{error.message}\n{prefix}{error.hint[1:]}\n"
    return error.report(program)


def _parse_chardev(text: str, location: str, warn: WarnFn | None) -> ChardevSpec:
    warnings: list[options.QemuWarning] = []
    chardev_id, pairs = options.qemu_opts_parse_with_id(text, "backend", desc=CHARDEV_DESC,
                                                        warnings=warnings)
    for warning in warnings:
        if warn is not None:
            warn(warning.at(location).report("vnvdimm"))
    values = dict(pairs)
    backend = values.get("backend")
    if chardev_id is None:
        raise VnvdimmError("chardev: no id specified")
    if backend is None:
        raise VnvdimmError(f'chardev: "{chardev_id}" missing backend')
    if backend in ("null", "stdio"):
        return ChardevSpec(chardev_id, "stdio" if backend == "stdio" else "null", location)
    if backend == "socket":
        return _socket_from_pairs(chardev_id, pairs, location)
    if backend in _OTHER_BACKENDS:
        raise VnvdimmError(f"chardev backend '{backend}' is not supported by vnvdimm "
                           "(it carries stdio, null and socket)")
    raise VnvdimmError(f"'{backend}' is not a valid char driver name")


def _parse_mon(text: str, location: str) -> tuple[str, str, Mode, bool]:
    _, pairs = options.qemu_opts_parse_with_id(text, "chardev", desc=MON_DESC)
    values = dict(pairs)
    mode_text = values.get("mode", "readline")
    if mode_text not in ("readline", "control"):
        raise VnvdimmError(f"Parameter 'mode' does not accept value '{mode_text}'")
    pretty = options.visit_bool("pretty", values["pretty"]) if "pretty" in values else False
    chardev_id = values.get("chardev")
    if chardev_id is None:
        raise VnvdimmError("Parameter 'chardev' is missing")
    if pretty and mode_text == "readline":
        raise VnvdimmError("'pretty' is not compatible with HMP monitors")
    mode: Mode = "control" if mode_text == "control" else "readline"
    return location, chardev_id, mode, pretty
