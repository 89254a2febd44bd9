"""QAPI validation of `-object` / `object-add` arguments for memory backends.

QEMU visits the whole ``ObjectOptions`` union before it creates anything:
members in schema order (a missing mandatory one fails where it stands),
then leftovers are rejected.  Keyval input (``-object``, HMP) carries
strings; QMP carries JSON values.  The typed result is later applied through
the QOM setters in QDict order (see ``qdict_order``).
"""

from __future__ import annotations

from vnvdimm import options
from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final, Literal

    Kind = Literal["size", "bool", "str", "uint32", "uint16-list", "policy"]
    Style = Literal["opts", "keyval", "json"]

POLICIES = ("default", "preferred", "bind", "interleave")


class Member:
    """One member of a QAPI object type (immutable)."""

    __slots__ = ("kind", "mandatory", "name")

    def __init__(self, name: str, kind: Kind, mandatory: bool = False) -> None:
        self.name: Final = name
        self.kind: Final = kind
        self.mandatory: Final = mandatory


# MemoryBackendProperties in QEMU 7.2's qapi/qom.json order.
_COMMON = (
    Member("dump", "bool"),
    Member("host-nodes", "uint16-list"),
    Member("merge", "bool"),
    Member("policy", "policy"),
    Member("prealloc", "bool"),
    Member("prealloc-threads", "uint32"),
    Member("prealloc-context", "str"),
    Member("share", "bool"),
    Member("reserve", "bool"),
    Member("size", "size", mandatory=True),
    Member("x-use-canonical-path-for-ramblock-id", "bool"),
)
_FILE = (
    Member("align", "size"),
    Member("discard-data", "bool"),
    Member("mem-path", "str", mandatory=True),
    Member("pmem", "bool"),  # Debian's QEMU is built with libpmem
    Member("readonly", "bool"),
)
_MEMFD = (
    Member("hugetlb", "bool"),
    Member("hugetlbsize", "size"),
    Member("seal", "bool"),
)

SCHEMAS: dict[str, tuple[Member, ...]] = {
    "memory-backend-ram": _COMMON,
    "memory-backend-file": _COMMON + _FILE,
    "memory-backend-memfd": _COMMON + _MEMFD,
}

# QAPI ObjectType values of QEMU 7.2 (x86_64 Linux build) that are not memory
# backends: accepted by the parser, created as inert placeholders.
OTHER_OBJECT_TYPES = frozenset(
    {
        "authz-list", "authz-listfile", "authz-pam", "authz-simple", "can-bus",
        "can-host-socketcan", "colo-compare", "cryptodev-backend",
        "cryptodev-backend-builtin", "cryptodev-vhost-user", "dbus-vmstate",
        "filter-buffer", "filter-dump", "filter-mirror", "filter-redirector",
        "filter-replay", "filter-rewriter", "input-barrier", "input-linux",
        "iothread", "main-loop", "memory-backend-epc", "pr-manager-helper",
        "qtest", "rng-builtin", "rng-egd", "rng-random", "secret",
        "secret_keyring", "sev-guest", "thread-context", "throttle-group",
        "tls-creds-anon", "tls-creds-psk", "tls-creds-x509", "tls-cipher-suites",
        "x-remote-object", "x-vfio-user-server",
    }
)


class ObjectOptions:
    """A validated object-add request: type, id and typed properties."""

    __slots__ = ("id", "props", "qom_type")

    def __init__(self, qom_type: str, id: str, props: dict[str, object]) -> None:
        self.qom_type: Final = qom_type
        self.id: Final = id
        self.props: Final = props


def _json_value(member: Member, value: object) -> object:
    name = member.name
    if member.kind in ("size", "uint32"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise VnvdimmError(f"Parameter '{name}' expects uint64")
        if member.kind == "uint32" and value >= 1 << 32:
            raise VnvdimmError(f"Parameter '{name}' expects uint32_t")
        return value
    if member.kind == "bool":
        if not isinstance(value, bool):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: boolean")
        return value
    if member.kind in ("str", "policy"):
        if not isinstance(value, str):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: string")
        if member.kind == "policy" and value not in POLICIES:
            raise VnvdimmError(f"Parameter '{name}' does not accept value '{value}'")
        return value
    # uint16 list
    if not isinstance(value, list):
        raise VnvdimmError(f"Invalid parameter type for '{name}', expected: array")
    out: list[int] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int):
            raise VnvdimmError(
                f"Invalid parameter type for '{name}[{index}]', expected: integer")
        if not 0 <= item <= 0xFFFF:
            raise VnvdimmError(f"Parameter '{name}[{index}]' expects uint16_t")
        out.append(item)
    return out


def _text_value(member: Member, value: object, style: Style) -> object:
    """A string-valued member: `-object` (QemuOpts, "opts") or HMP (keyval)."""
    name = member.name
    vstyle: options.VisitorStyle = "opts" if style == "opts" else "keyval"
    if member.kind == "uint16-list":
        if style == "opts":
            texts = value if isinstance(value, list) else [value]
            return options.visit_uint_list(name, [str(t) for t in texts], 16)
        # keyval lists are dotted keys: host-nodes.0=1,host-nodes.1=2
        if not isinstance(value, list):
            raise VnvdimmError(f"Invalid parameter type for '{name}', expected: array")
        return [options.visit_uint(f"{name}[{i}]", str(t), 16, vstyle)
                for i, t in enumerate(value)]
    if isinstance(value, list):
        value = value[-1]  # QemuOpts: the last occurrence of a scalar wins
    if not isinstance(value, str):
        raise VnvdimmError(f"Invalid parameter type for '{name}', expected: "
                           + ("boolean" if member.kind == "bool" else "string"))
    if member.kind == "size":
        return options.visit_size(name, value, vstyle)
    if member.kind == "uint32":
        return options.visit_uint(name, value, 32, vstyle)
    if member.kind == "bool":
        return options.visit_bool(name, value)
    if member.kind == "policy":
        return options.visit_enum(name, value, POLICIES)
    return value


def visit_object_options(args: Mapping[str, object], *, style: Style) -> ObjectOptions:
    """Validate like QEMU's ``visit_type_ObjectOptions``; raise QEMU's message.

    `style` is the input: "opts" for `-object key=value` (QemuOpts), "keyval"
    for HMP `object_add`, "json" for QMP and JSON `-object`.
    """
    remaining = dict(args)
    qom_type = remaining.pop("qom-type", None)
    if style == "opts" and isinstance(qom_type, list):
        qom_type = qom_type[-1]
    if qom_type is None:
        raise VnvdimmError("Parameter 'qom-type' is missing")
    if not isinstance(qom_type, str):
        raise VnvdimmError("Invalid parameter type for 'qom-type', expected: string")
    if qom_type not in SCHEMAS and qom_type not in OTHER_OBJECT_TYPES:
        raise VnvdimmError(f"Parameter 'qom-type' does not accept value '{qom_type}'")
    if "id" not in remaining:
        raise VnvdimmError("Parameter 'id' is missing")
    object_id = remaining.pop("id")
    if not isinstance(object_id, str):
        raise VnvdimmError("Invalid parameter type for 'id', expected: string")
    props: dict[str, object] = {}
    schema = SCHEMAS.get(qom_type)
    if schema is None:
        # Not a memory backend: its members are not ours to judge.
        return ObjectOptions(qom_type, object_id, dict(remaining))
    for member in schema:
        if member.name not in remaining:
            if member.mandatory:
                raise VnvdimmError(f"Parameter '{member.name}' is missing")
            continue
        value = remaining.pop(member.name)
        props[member.name] = (_json_value(member, value) if style == "json"
                              else _text_value(member, value, style))
    if remaining:
        extra = next(iter(remaining))
        if style == "opts":
            raise VnvdimmError(f"Invalid parameter '{extra}'")
        raise VnvdimmError(f"Parameter '{extra}' is unexpected")
    return ObjectOptions(qom_type, object_id, props)


IDENTIFIER_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"


def id_wellformed(value: str) -> bool:
    """QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'."""
    if not value or not value[0].isascii() or not value[0].isalpha():
        return False
    return all(c.isascii() and (c.isalnum() or c in "-._") for c in value[1:])


def check_object_id(object_id: str) -> None:
    if not id_wellformed(object_id):
        raise VnvdimmError("Parameter 'id' expects an identifier", hint=IDENTIFIER_HINT)
