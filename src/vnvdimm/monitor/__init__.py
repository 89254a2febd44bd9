"""The monitors (QMP and HMP), and the QMP greeting without the QMP dispatcher.

A QMP client's first line is all that vnvdimm must produce before it is
useful, so the greeting is encoded here, by hand, in the exact bytes
`vnvdimm.monitor.qmp.to_json` would write (compact or pretty, CRLF line
ends); ``monitor/qmp.py`` and its JSON machinery load on the client's
first input.
"""

from __future__ import annotations

from vnvdimm import __version__

QEMU_VERSION = {"micro": 22, "minor": 2, "major": 7}  # QDict order of major/minor/micro
PACKAGE = f"vnvdimm {__version__}"

_cache: dict[tuple[bool, bool], bytes] = {}


def greeting(oob: bool) -> dict[str, object]:
    """``{"QMP": {"version": ..., "capabilities": [...]}}`` as QEMU 7.2 sends it."""
    version = {"qemu": dict(QEMU_VERSION), "package": PACKAGE}
    return {"QMP": {"version": version, "capabilities": ["oob"] if oob else []}}


def greeting_bytes(oob: bool = True, pretty: bool = False) -> bytes:
    """The greeting as the monitor writes it: one message, CRLF-terminated."""
    found = _cache.get((oob, pretty))
    if found is None:
        text = _encode(greeting(oob), pretty, 0)
        if pretty:
            text = text.replace("\n", "\r\n")
        found = _cache[(oob, pretty)] = text.encode("ascii") + b"\r\n"
    return found


def _encode(value: object, pretty: bool, indent: int) -> str:
    """`qmp.to_json` for the few types a greeting holds."""
    if isinstance(value, str):
        if all(" " <= c < "\x7f" and c not in '"\\' for c in value):
            return f'"{value}"'
        from vnvdimm.monitor.qmp import to_json  # escapes: never for vnvdimm's own text

        return to_json(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        items = [f'"{k}": {_encode(v, pretty, indent + 1)}' for k, v in value.items()]
        return _join("{", items, "}", pretty, indent)
    if isinstance(value, list):
        return _join("[", [_encode(v, pretty, indent + 1) for v in value], "]", pretty, indent)
    raise TypeError(f"not a greeting value: {type(value).__name__}")


def _join(opening: str, items: list[str], closing: str, pretty: bool, indent: int) -> str:
    if not pretty:
        return opening + ", ".join(items) + closing
    inner = "\n" + "    " * (indent + 1)
    return opening + ",".join(inner + item for item in items) + "\n" + "    " * indent + closing
