"""QEMU 7.2 option-string syntax and scalar parsing, with QEMU's exact messages.

Facts checked against the real qemu-system-x86_64 7.2 (Debian 7.2.22):

* Three syntaxes exist. ``keyval`` (``-machine``, ``-smp``, HMP ``object_add``,
  ``-blockdev`` ...) rejects bare words (``Expected '=' after parameter 'x'``).
  ``QemuOpts`` (``-m``, ``-device``, ``-numa`` and, in 7.2, also ``-object``)
  turns a bare ``x`` into ``x=on`` / ``nox`` into ``x=off`` with a deprecation
  warning.
* Values are converted by one of two visitors, whose messages differ:
  ``"opts"`` (``-object`` on the command line: ``expects a size value``,
  ``expects a uint64 value``) and ``"keyval"`` (``-device``, ``-machine``
  properties, HMP ``object_add``, the second stage of ``-m``:
  ``expects size``, ``expects integer``).
"""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError
from vnvdimm.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Final, Literal

    VisitorStyle = Literal["keyval", "opts"]
    OptType = Literal["string", "bool", "number", "size"]
else:
    # At run time these are only names (typing is not imported at start-up).
    VisitorStyle = OptType = str

__all__ = [
    "DEFAULT_RAM_SIZE",
    "ID_HINT",
    "SIZE_HINT",
    "HelpRequested",
    "KeyvalDict",
    "KeyvalValue",
    "MemoryOptions",
    "OptType",
    "QemuWarning",
    "SizeError",
    "VisitorStyle",
    "id_wellformed",
    "is_help_option",
    "keyval_parse",
    "keyval_parse_help",
    "opts_parse_id",
    "parse_bool",
    "parse_memory_option",
    "parse_memory_options",
    "parse_size",
    "qemu_opts_parse",
    "qemu_opts_parse_with_id",
    "qemu_strtoi64",
    "qemu_strtou64",
    "visit_bool",
    "visit_enum",
    "visit_int",
    "visit_size",
    "visit_str",
    "visit_uint",
    "visit_uint_list",
]

U64_MAX = (1 << 64) - 1
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
INT_MAX = (1 << 31) - 1

SIZE_HINT = (
    "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
    "and exabytes, respectively.\n"
)
ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"

KeyvalValue = str | dict[str, "KeyvalValue"] | list["KeyvalValue"]
KeyvalDict = dict[str, KeyvalValue]


class QemuWarning:
    """A ``warn_report`` line; ``follow_up`` is extra text QEMU prints bare after it."""

    __slots__ = ("follow_up", "location", "message")

    def __init__(self, message: str, location: str | None = None,
                 follow_up: str | None = None) -> None:
        self.message: Final = message
        self.location: Final = location
        self.follow_up: Final = follow_up

    def at(self, location: str | None) -> QemuWarning:
        """The same warning with a command-line location (kept if already set)."""
        if self.location is not None or location is None:
            return self
        return QemuWarning(self.message, location, self.follow_up)

    def report(self, program: str = "vnvdimm") -> str:
        prefix = f"{program}: "
        if self.location:
            prefix += f"{self.location}: "
        text = f"{prefix}warning: {self.message}\n"
        if self.follow_up:
            text += self.follow_up
        return text


class SizeError(ValueError):
    """``qemu_strtosz`` failed; ``errno_name`` is what QEMU's callers switch on."""

    def __init__(self, text: str, errno_name: Literal["EINVAL", "ERANGE"]) -> None:
        super().__init__(f"{errno_name}: {text!r}")
        self.text = text
        self.errno_name: Literal["EINVAL", "ERANGE"] = errno_name


class HelpRequested(Exception):
    """The user asked for help; QEMU prints ``text`` to stdout and exits ``status``."""

    def __init__(self, text: str, status: int) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


def _emit(warnings: list[QemuWarning] | None, warning: QemuWarning) -> None:
    if warnings is not None:
        warnings.append(warning)


# --- C library number scanning (glibc semantics, "C" locale) -----------------

_C_SPACE = " \t\n\v\f\r"
_DIGIT_VALUE = {c: i for i, c in enumerate("0123456789abcdefghijklmnopqrstuvwxyz")}
_DIGIT_VALUE.update({c.upper(): v for c, v in _DIGIT_VALUE.items()})
_HEX = "0123456789abcdefABCDEF"


def _at(text: str, pos: int) -> str:
    """The char at ``pos``, or NUL past the end (C strings read as '\\0' there)."""
    return text[pos] if 0 <= pos < len(text) else "\0"


def _scan_int(text: str, pos: int, base: int) -> tuple[bool, int, int]:
    """strtol-family scan: (negative, magnitude, end); end == pos if nothing parsed."""
    if base in (0, 10) and "1" <= text[pos:pos + 1] <= "9":  # plain decimal: most sizes
        rest = text[pos:]
        run = len(rest) - len(rest.lstrip("0123456789"))
        return False, int(rest[:run]), pos + run
    i = pos
    while _at(text, i) in _C_SPACE:
        i += 1
    negative = False
    if _at(text, i) in "+-":
        negative = _at(text, i) == "-"
        i += 1
    if base in (0, 16) and _at(text, i) == "0" and _at(text, i + 1) in "xX" \
            and _at(text, i + 2) in _HEX:
        base = 16
        i += 2
    elif base == 0:
        base = 8 if _at(text, i) == "0" else 10
    start = i
    magnitude = 0
    while i < len(text) and _DIGIT_VALUE.get(text[i], 99) < base:
        magnitude = magnitude * base + _DIGIT_VALUE[text[i]]
        i += 1
    if i == start:
        return False, 0, pos
    return negative, magnitude, i


def _strtoull(text: str, pos: int, base: int) -> tuple[int, int, bool]:
    """(value, end, erange) like strtoull: negatives wrap, overflow saturates."""
    negative, magnitude, end = _scan_int(text, pos, base)
    if magnitude > U64_MAX:
        return U64_MAX, end, True
    return (-magnitude) & U64_MAX if negative else magnitude, end, False


def _strtoll(text: str, pos: int, base: int) -> tuple[int, int, bool]:
    negative, magnitude, end = _scan_int(text, pos, base)
    value = -magnitude if negative else magnitude
    if value > I64_MAX:
        return I64_MAX, end, True
    if value < I64_MIN:
        return I64_MIN, end, True
    return value, end, False


def qemu_strtou64(text: str, base: int = 0) -> tuple[int, int]:
    """QEMU's ``qemu_strtou64(text, NULL, base)``: (errno or 0, value).

    Trailing garbage wins over overflow; ``-5`` is accepted as 2**64 - 5.
    """
    value, end, erange = _strtoull(text, 0, base)
    if end == 0 and not erange:
        return 22, 0
    if end != len(text):
        return 22, value
    return (34 if erange else 0), value


def qemu_strtoi64(text: str, base: int = 0) -> tuple[int, int]:
    """QEMU's ``qemu_strtoi64(text, NULL, base)``: (errno or 0, value)."""
    value, end, erange = _strtoll(text, 0, base)
    if end == 0 and not erange:
        return 22, 0
    if end != len(text):
        return 22, value
    return (34 if erange else 0), value


def _parse_uint(text: str) -> tuple[int, int, int]:
    """QEMU's ``parse_uint`` (base 0): (errno or 0, value, end); rejects negatives."""
    value, end, erange = _strtoull(text, 0, 0)
    if erange:
        return 34, value, end
    if end == 0:
        return 22, 0, 0
    if text.lstrip(_C_SPACE).startswith("-"):
        return 34, 0, end
    return 0, value, end


_MIN_NORMAL = 2.2250738585072014e-308


def _strtod_fraction(text: str, pos: int) -> tuple[int, float, int]:
    """strtod on text starting at '.': (errno or 0, value, end).

    Only the forms reachable from ``qemu_strtosz`` matter: ``.digits[e[+-]digits]``.
    """
    i = pos + 1
    while _at(text, i) in "0123456789":
        i += 1
    if i == pos + 1:
        return 22, 0.0, pos
    if _at(text, i) in "eE":
        j = i + 1
        if _at(text, j) in "+-":
            j += 1
        k = j
        while _at(text, k) in "0123456789":
            k += 1
        if k > j:
            i = k
    literal = text[pos:i]
    value = float(literal)
    mantissa = literal.split("e")[0].split("E")[0]
    underflow = (value == 0.0 and mantissa.strip(".0") != "") or 0.0 < value < _MIN_NORMAL
    if value == float("inf") or underflow:
        return 34, value, i
    return 0, value, i


# --- sizes ---------------------------------------------------------------------

_SUFFIX_POWER = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def _suffix_mul(char: str, unit: int) -> int:
    power = _SUFFIX_POWER.get(char.upper()) if char.isascii() else None
    return -1 if power is None else unit**power


def parse_size(
    text: str,
    default_suffix: str = "B",
    *,
    unit: int = 1024,
    warnings: list[QemuWarning] | None = None,
) -> int:
    """QEMU 7.2 ``qemu_strtosz`` on a whole string.

    Decimal integer part (whitespace and ``+`` allowed, ``-`` never), or hex
    with ``0x``; a decimal fraction only together with a multiplier suffix
    (``1.5K`` ok, ``1.5`` / ``1.5B`` rejected, ``1.0`` ok since it is exact);
    no exponents; suffixes ``BKMGTPE`` in either case; result rounded half up;
    values of 2**64 and more give ERANGE.  A suffix on a hex number appends
    the warning ``Using a multiplier suffix on hex numbers is deprecated: <text>``.
    Raises ``SizeError`` with errno_name EINVAL or ERANGE.
    """
    err, val, end = _strtou64_partial(text)
    valf = 0
    if err:
        return _size_out(text, end, err)
    if "-" in text[:end]:
        raise SizeError(text, "EINVAL")
    hexadecimal = False
    if val == 0 and _at(text, end) in "xX":
        hexadecimal = True
        val, end, erange = _strtoull(text, 0, 16)
        if erange:
            return _size_out(text, end, 34)
        if _at(text, end) == ".":
            raise SizeError(text, "EINVAL")
    elif _at(text, end) == ".":
        ferr, fraction, fend = _strtod_fraction(text, end)
        if ferr:
            # QEMU steps one char past what strtod looked at and carries on.
            end = (end if ferr == 22 else fend) + 1
        elif "e" in text[end:fend] or "E" in text[end:fend]:
            raise SizeError(text, "EINVAL")
        else:
            end = fend
            scaled = int(fraction * 18446744073709551616.0)
            valf = 0 if scaled > U64_MAX else scaled  # x86 double->u64 of 2**64 gives 0
    mul = _suffix_mul(_at(text, end), unit)
    if mul > 0:
        if hexadecimal:
            _emit(warnings, QemuWarning(
                f"Using a multiplier suffix on hex numbers is deprecated: {text}"))
        end += 1
    else:
        mul = _suffix_mul(default_suffix, unit)
        if mul <= 0:
            raise ValueError(f"bad default suffix {default_suffix!r}")
    if mul == 1:
        if valf != 0:
            raise SizeError(text, "EINVAL")
        result = val
    else:
        frac_product = valf * mul
        result = val * mul + (frac_product >> 64) + ((frac_product >> 63) & 1)
        if result > U64_MAX:
            return _size_out(text, end, 34)
    if end < len(text):
        raise SizeError(text, "EINVAL")
    return result


def _strtou64_partial(text: str) -> tuple[int, int, int]:
    """``qemu_strtou64(text, &end, 10)``: (errno or 0, value, end)."""
    value, end, erange = _strtoull(text, 0, 10)
    if end == 0 and not erange:
        return 22, 0, 0
    return (34 if erange else 0), value, end


def _size_out(text: str, end: int, err: int) -> int:
    """Failure exit of ``qemu_strtosz``: leftover text turns any error into EINVAL."""
    if end < len(text) or err == 22:
        raise SizeError(text, "EINVAL")
    raise SizeError(text, "ERANGE")


# --- booleans, identifiers -----------------------------------------------------

_TRUE = ("on", "yes", "true", "y")
_FALSE = ("off", "no", "false", "n")


def parse_bool(text: str) -> bool:
    """QAPI's ``qapi_bool_parse`` spellings (case-sensitive); ValueError otherwise."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _isalpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def id_wellformed(ident: str) -> bool:
    """QEMU's ``id_wellformed``: a letter, then letters, digits, '-', '.', '_'."""
    if not ident or not _isalpha(ident[0]):
        return False
    return all(_isalnum(c) or c in "-._" for c in ident[1:])


def is_help_option(name: str) -> bool:
    return name in ("help", "?")


def _bad_id() -> VnvdimmError:
    return VnvdimmError("Parameter 'id' expects an identifier", hint=ID_HINT)


# --- typed value conversion (visitors) -----------------------------------------

_INT_TYPE_NAMES = {8: "int8_t", 16: "int16_t", 32: "int32_t"}


def _expects(name: str, what: str) -> VnvdimmError:
    return VnvdimmError(f"Parameter '{name}' expects {what}")


def visit_size(
    name: str,
    text: str,
    style: VisitorStyle = "keyval",
    *,
    warnings: list[QemuWarning] | None = None,
) -> int:
    """A ``size`` property value (no suffix means bytes)."""
    try:
        return parse_size(text, warnings=warnings)
    except SizeError:
        raise _expects(name, "a size value" if style == "opts" else "size") from None


def visit_int(name: str, text: str, bits: int = 64, style: VisitorStyle = "keyval") -> int:
    """A signed integer property (base 0: ``0x`` hex, leading ``0`` octal)."""
    if style == "opts":
        value, end, erange = _strtoll(text, 0, 0)
        if erange or end == 0 or end != len(text):
            raise _expects(name, "an int64 value")
    else:
        err, value = qemu_strtoi64(text, 0)
        if err:
            raise _expects(name, "integer")
    if bits < 64:
        limit = 1 << (bits - 1)
        if not -limit <= value < limit:
            raise _expects(name, _INT_TYPE_NAMES[bits])
    return value


def visit_uint(name: str, text: str, bits: int = 64, style: VisitorStyle = "keyval") -> int:
    """An unsigned integer property.

    keyval: ``-1`` wraps to 2**64-1 (then fails the range check of narrower
    types); opts: negative numbers are rejected outright.
    """
    if style == "opts":
        err, value, end = _parse_uint(text)
        if err or end != len(text):
            raise _expects(name, "a uint64 value")
    else:
        err, value = qemu_strtou64(text, 0)
        if err:
            raise _expects(name, "integer")
    if bits < 64 and value >= 1 << bits:
        raise _expects(name, f"uint{bits}_t")
    return value


_OPTS_RANGE_MAX = 65536


def visit_uint_list(name: str, texts: Sequence[str], bits: int = 64) -> list[int]:
    """An opts-visitor list of unsigned ints from repeated options (``a-b`` ranges allowed)."""
    out: list[int] = []
    for text in texts:
        err, low, end = _parse_uint(text)
        high = low
        if not err and end != len(text):
            rest = text[end + 1:]
            err2, high, end2 = _parse_uint(rest)
            if text[end] != "-" or err2 or end2 != len(rest) or high < low \
                    or high - low >= _OPTS_RANGE_MAX:
                err = 22
        if err:
            raise _expects(name, "a uint64 value or range")
        for value in range(low, high + 1):
            if bits < 64 and value >= 1 << bits:
                raise _expects(name, f"uint{bits}_t")
            out.append(value)
    return out


def visit_bool(name: str, text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError:
        raise _expects(name, "'on' or 'off'") from None


def visit_str(name: str, text: str) -> str:
    """Strings need no conversion; here for symmetry with the other visitors."""
    return text


def visit_enum(name: str, text: str, choices: Sequence[str]) -> str:
    if text not in choices:
        raise VnvdimmError(f"Parameter '{name}' does not accept value '{text}'")
    return text


# --- keyval ----------------------------------------------------------------------


def _parse_qapi_name(text: str, pos: int) -> int:
    """Length of the QAPI name at ``pos`` (``__RFQDN_`` prefix allowed), or 0."""
    p = pos
    if _at(text, p) == "_":
        p += 1
        if _at(text, p) != "_":
            return 0
        p += 1
        while p < len(text) and (_isalnum(text[p]) or text[p] in "-."):
            p += 1
        if _at(text, p) != "_":
            return 0
        p += 1
    if not _isalpha(_at(text, p)):
        return 0
    p += 1
    while p < len(text) and (_isalnum(text[p]) or text[p] in "-_"):
        p += 1
    return p - pos


def _key_to_index(text: str, pos: int) -> tuple[int, int]:
    """(index capped at INT_MAX, end) for a digit-led fragment, or (-1, pos)."""
    end = pos
    while end < len(text) and text[end] in "0123456789":
        end += 1
    if end == pos:
        return -1, pos
    return min(int(text[pos:end]), INT_MAX), end


def _is_index(key: str) -> bool:
    index, end = _key_to_index(key, 0)
    return index >= 0 and end == len(key)


def _help_prefix_len(text: str) -> int:
    if text.startswith("help"):
        return 4
    return 1 if text.startswith("?") else 0


def _inconsistent(key_text: str) -> VnvdimmError:
    return VnvdimmError(f"Parameters '{key_text}.*' used inconsistently")


def _name_end(params: str, pos: int) -> int:
    """Where the name starting at ``pos`` ends: the first '=' or ',' (or the end)."""
    end = len(params)
    equals, comma = params.find("=", pos, end), params.find(",", pos, end)
    if 0 <= equals < end:
        end = equals
    if 0 <= comma < end:
        end = comma
    return end


def _keyval_one(
    root: dict[str, object], params: str, pos: int, implied_key: str | None
) -> tuple[int, bool]:
    """Parse one ``key=value`` at ``pos``; returns (next position, help seen)."""
    span = _name_end(params, pos) - pos
    key, kstart = params, pos
    val_end = -1
    if span and _at(params, pos + span) != "=":
        if _help_prefix_len(params[pos:]) == span:
            nxt = pos + span
            return (nxt + 1 if _at(params, nxt) == "," else nxt), True
        if implied_key is not None:
            key, kstart, val_end = implied_key, 0, pos + span
            span = len(implied_key)
    kend = kstart + span
    cur = root
    s = kstart
    fragment = ""
    while True:
        if s != kstart and _key_to_index(key, s)[0] >= 0:
            flen = _key_to_index(key, s)[1] - s
        else:
            flen = _parse_qapi_name(key[:kend], s)
        if not flen or (s + flen < kend and key[s + flen] != "."):
            raise VnvdimmError(f"Invalid parameter '{key[kstart:kend]}'")
        if flen >= 128:
            whole = s == kstart and s + flen == kend
            raise VnvdimmError(
                f"Parameter{'' if whole else ' fragment'} '{key[s:s + flen]}' is too long")
        if s != kstart:
            nxt_obj = cur.get(fragment)
            if nxt_obj is None:
                nxt_obj = {}
                cur[fragment] = nxt_obj
            elif not isinstance(nxt_obj, dict):
                raise _inconsistent(key[kstart:s - 1])
            cur = nxt_obj
        fragment = key[s:s + flen]
        s += flen
        if _at(key, s) != ".":
            break
        s += 1
    if val_end >= 0:
        value = params[pos:val_end]
        s = val_end + 1 if _at(params, val_end) == "," else val_end
    else:
        if _at(params, s) != "=":
            raise VnvdimmError(f"Expected '=' after parameter '{params[kstart:s]}'")
        s += 1
        chars: list[str] = []
        while s < len(params):
            if params[s] == ",":
                s += 1
                if _at(params, s) != ",":
                    break
            chars.append(params[s])
            s += 1
        value = "".join(chars)
    if isinstance(cur.get(fragment), dict):
        raise _inconsistent(key[kstart:kend])
    cur[fragment] = value
    return s, False


def _listify(cur: dict[str, object], prefix: str) -> KeyvalValue:
    """Turn dicts whose keys are all indexes into lists, as keyval_listify does."""
    has_index = has_member = False
    for key, value in list(cur.items()):
        if _is_index(key):
            has_index = True
        else:
            has_member = True
        if isinstance(value, dict):
            cur[key] = _listify(value, f"{prefix}{key}.")
    if has_index and has_member:
        raise VnvdimmError(f"Parameters '{prefix}*' used inconsistently")
    if not has_index:
        return _as_keyval_dict(cur)
    nelt = len(cur) + 1
    elements: list[object] = [None] * nelt
    max_index = -1
    for key, value in cur.items():
        index = _key_to_index(key, 0)[0]
        max_index = max(max_index, index)
        if index < nelt - 1:
            elements[index] = value
    out: list[KeyvalValue] = []
    for i in range(min(nelt, max_index + 1)):
        element = elements[i]
        if element is None:
            raise VnvdimmError(f"Parameter '{prefix}{i}' missing")
        out.append(_as_keyval(element))
    return out


def _as_keyval(value: object) -> KeyvalValue:
    if isinstance(value, str | list):
        return value
    if isinstance(value, dict):
        return _as_keyval_dict(value)
    raise TypeError(value)


def _as_keyval_dict(value: dict[str, object]) -> KeyvalDict:
    return {k: _as_keyval(v) for k, v in value.items()}


def keyval_parse_help(text: str, implied_key: str | None) -> tuple[KeyvalDict, bool]:
    """QEMU 7.2 ``keyval_parse`` with help allowed: (tree, help requested).

    A bare ``help`` or ``?`` item anywhere asks for help.  The implied key
    applies only to a bare first item, whose value ends at the first ',' or
    '=' (no ``,,`` escaping there).  Later duplicates win.
    """
    root: dict[str, object] = {}
    pos = 0
    help_wanted = False
    while pos < len(text):
        pos, seen = _keyval_one(root, text, pos, implied_key)
        help_wanted = help_wanted or seen
        implied_key = None
    listified = _listify(root, "")
    assert isinstance(listified, dict)
    return listified, help_wanted


def keyval_parse(text: str, implied_key: str | None) -> KeyvalDict:
    """QEMU 7.2 ``keyval_parse`` for options that offer no help."""
    tree, help_wanted = keyval_parse_help(text, implied_key)
    if help_wanted:
        raise VnvdimmError("Help is not available for this option")
    return tree


# --- QemuOpts --------------------------------------------------------------------


def _opt_value(params: str, pos: int) -> tuple[str, int]:
    """Value up to a single ',' with ',,' meaning ','; returns (value, end at ',' or EOS)."""
    parts: list[str] = []
    while True:
        comma = params.find(",", pos)
        if comma < 0:
            parts.append(params[pos:])
            return "".join(parts), len(params)
        if not params.startswith(",", comma + 1):
            parts.append(params[pos:comma])
            return "".join(parts), comma
        parts.append(params[pos:comma + 1])  # ",," is one literal ','
        pos = comma + 2


def _opt_name_value(
    params: str,
    pos: int,
    firstname: str | None,
    warnings: list[QemuWarning] | None,
) -> tuple[str, str, int, bool]:
    """One item: (name, value, next position, is a bare help flag)."""
    span = _name_end(params, pos) - pos
    is_help = False
    if _at(params, pos + span) != "=":
        if firstname is not None:
            name = firstname
            value, pos = _opt_value(params, pos)
        else:
            name = params[pos:pos + span]
            pos += span
            prefix = ""
            if name.startswith("no"):
                name, value, prefix = name[2:], "off", "no"
            else:
                value = "on"
                is_help = is_help_option(name)
            if not is_help:
                if name == "delay":
                    follow = f"Please use nodelay={'on' if prefix else 'off'} instead\n"
                else:
                    follow = f"Please use {name}={value} instead\n"
                _emit(warnings, QemuWarning(
                    f"short-form boolean option '{prefix}{name}' deprecated",
                    follow_up=follow))
    else:
        name = params[pos:pos + span]
        value, pos = _opt_value(params, pos + span + 1)
    if pos < len(params):
        pos += 1  # skip the separating ','
    return name, value, pos, is_help


def opts_parse_id(text: str) -> str | None:
    """The ``id`` QemuOpts takes from a string: the first ``id`` item (``id`` alone is "on")."""
    pos = 0
    while pos < len(text):
        name, value, pos, _ = _opt_name_value(text, pos, None, None)
        if name == "id":
            return value
    return None


def _validate_opt(name: str, value: str, kind: OptType,
                  warnings: list[QemuWarning] | None) -> None:
    """QemuOpts' own typed check for lists that describe their options."""
    if kind == "bool":
        visit_bool(name, value)
    elif kind == "number":
        err, _ = qemu_strtou64(value, 0)
        if err == 34:
            raise VnvdimmError(f"Value '{value}' is too large for parameter '{name}'")
        if err:
            raise _expects(name, "a number")
    elif kind == "size":
        try:
            parse_size(value, warnings=warnings)
        except SizeError as exc:
            if exc.errno_name == "ERANGE":
                raise VnvdimmError(
                    f"Value '{value}' is out of range for parameter '{name}'") from None
            raise VnvdimmError(
                f"Parameter '{name}' expects a non-negative number below 2^64",
                hint=SIZE_HINT) from None


def qemu_opts_parse_with_id(
    text: str,
    implied_key: str | None,
    *,
    merge_lists: bool = False,
    desc: Mapping[str, OptType] | None = None,
    detect_help: bool = False,
    warn_on_flag: bool = True,
    warnings: list[QemuWarning] | None = None,
) -> tuple[str | None, list[tuple[str, str]]]:
    """QemuOpts parsing (``qemu_opts_parse_noisily``): (id, [(name, value), ...]).

    ``id`` items are taken out (the first one is the id).  ``merge_lists``
    lists (``-m``) refuse any id with ``Invalid parameter 'id'``; others check
    it is well formed.  With ``desc`` unknown names give ``Invalid parameter``
    and typed values are checked as QemuOpts does.  With ``detect_help`` a bare
    ``help``/``?`` item raises ``HelpRequested`` (text left empty for the caller).
    Checking ``Duplicate ID '<id>' for <list>`` needs state and is the caller's.
    """
    ident = opts_parse_id(text)
    if ident is not None:
        if merge_lists:
            raise VnvdimmError("Invalid parameter 'id'")
        if not id_wellformed(ident):
            raise _bad_id()
    pairs: list[tuple[str, str]] = []
    pos = 0
    firstname = implied_key
    while pos < len(text):
        name, value, pos, is_help = _opt_name_value(
            text, pos, firstname, warnings if warn_on_flag else None)
        firstname = None
        if is_help and detect_help:
            raise HelpRequested("", 1)
        if name == "id":
            continue
        if desc is not None:
            kind = desc.get(name)
            if kind is None:
                raise VnvdimmError(f"Invalid parameter '{name}'")
            _validate_opt(name, value, kind, warnings)
        pairs.append((name, value))
    return ident, pairs


def qemu_opts_parse(
    text: str,
    implied_key: str | None,
    *,
    merge_lists: bool = False,
    desc: Mapping[str, OptType] | None = None,
    detect_help: bool = False,
    warnings: list[QemuWarning] | None = None,
) -> list[tuple[str, str]]:
    """QemuOpts items in order, duplicates kept, ``id`` items left out (see ``opts_parse_id``)."""
    return qemu_opts_parse_with_id(
        text, implied_key, merge_lists=merge_lists, desc=desc,
        detect_help=detect_help, warnings=warnings)[1]


# --- -m ----------------------------------------------------------------------------

DEFAULT_RAM_SIZE = 128 * 1024 * 1024
_RAM_ALIGN = 8192
_MEMORY_DESC: Mapping[str, OptType] = {"size": "size", "slots": "number", "maxmem": "size"}
_MEMORY_HELP = "memory options:\n  maxmem=<size>\n  size=<size>\n  slots=<num>\n"


class MemoryOptions(Value):
    """Result of ``-m``: ``size`` is the final RAM size (default applied, 8 KiB aligned)."""

    __slots__ = ("maxmem", "size", "slots")
    _fields = ("size", "slots", "maxmem")

    def __init__(self, size: int, slots: int | None = None, maxmem: int | None = None) -> None:
        self.size: Final = size
        self.slots: Final = slots
        self.maxmem: Final = maxmem

    @property
    def maxram_size(self) -> int:
        return self.size if self.maxmem is None else self.maxmem

    @property
    def ram_slots(self) -> int:
        return 0 if self.maxmem is None or self.slots is None else self.slots


def check_memory_option(text: str, location: str | None = None,
                        warnings: list[QemuWarning] | None = None) -> list[tuple[str, str]]:
    """Stage 1 of one ``-m`` option alone (QemuOpts syntax, errors located)."""
    found: list[QemuWarning] = []
    try:
        return qemu_opts_parse(text, "size", merge_lists=True, desc=_MEMORY_DESC,
                               detect_help=True, warnings=found)
    except HelpRequested:
        raise HelpRequested(_MEMORY_HELP, 1) from None
    except VnvdimmError as exc:
        if location:
            exc.with_location(location)
        raise
    finally:
        _flush(warnings, found, location)


def parse_memory_option(
    text: str,
    *,
    location: str | None = None,
    warnings: list[QemuWarning] | None = None,
) -> MemoryOptions:
    """One ``-m`` option; see ``parse_memory_options``."""
    return parse_memory_options([(text, location)], warnings=warnings)


def parse_memory_options(
    occurrences: Sequence[tuple[str, str | None]],
    *,
    warnings: list[QemuWarning] | None = None,
) -> MemoryOptions:
    """All ``-m`` options in order (QemuOpts merges them; the last value of a key wins).

    ``occurrences`` holds (option text, location such as ``"-m 1G,foo=1"``).
    Behaviour of qemu-system-x86_64 7.2, every failure exits with status 1:

    Stage 1, QemuOpts, printed WITH the location prefix:
      ``-m 1G,foo=1: Invalid parameter 'foo'`` (also for ``id=``),
      ``-m x: Parameter 'size' expects a non-negative number below 2^64`` plus
      the two-line hint ``SIZE_HINT`` (same for maxmem; ``-m 1.5`` fails here),
      ``-m 16E: Value '16E' is out of range for parameter 'size'``,
      ``-m 1G,slots=x: Parameter 'slots' expects a number``,
      ``Value '99999999999999999999' is too large for parameter 'slots'``;
      bare ``slots`` warns ``short-form boolean option 'slots' deprecated`` /
      ``Please use slots=on instead`` then fails as a number.  ``-m 1G,help``
      prints ``memory options:`` help to stdout and exits 1 (``HelpRequested``);
      ``-m help`` is just a bad size.
    Stage 2, the machine's ``memory`` property, printed WITHOUT location:
      the size string gets ``M`` appended when it ends in a digit (so plain
      numbers are MiB, ``0x10`` becomes ``0x10M`` and warns again), maxmem is
      used as written (no suffix = bytes); ``Parameter 'memory.size' expects size``
      when the MiB value overflows (``-m 17592186044416``);
      size 0/absent means 128 MiB; size is rounded up to 8 KiB (wrapping at
      2**64, QEMU's "ram size too large" cannot trigger on 64-bit hosts);
      ``invalid value of maxmem: maximum memory size (0x20000000) must be at
      least the initial memory size (0x40000000)``;
      ``invalid value of maxmem: memory slots were specified but maximum memory
      size (0x40000000) is equal to the initial memory size (0x40000000)``
      (only when slots != 0); ``slots specified but no max-size`` (even slots=0).
    Later board checks (``maximum memory size must by aligned to multiple of
    4096 bytes``, ``unsupported amount of memory slots: 300``) are not done here.
    """
    merged: dict[str, str] = {}
    nonzero_size: str | None = None
    for text, location in occurrences:
        for name, value in check_memory_option(text, location, warnings):
            merged[name] = value
    size_text = merged.get("size")
    if size_text is not None and parse_size(size_text) != 0:
        # QEMU's legacy rule: a size ending in a digit is in MiB.
        nonzero_size = size_text + "M" if size_text[-1] in "0123456789" else size_text
    size = DEFAULT_RAM_SIZE
    if nonzero_size is not None:
        size = visit_size("memory.size", nonzero_size, warnings=warnings)
    maxmem = None
    if "maxmem" in merged:
        maxmem = visit_size("memory.max-size", merged["maxmem"], warnings=warnings)
    slots = visit_uint("memory.slots", merged["slots"]) if "slots" in merged else None
    size = (size + _RAM_ALIGN - 1) // _RAM_ALIGN * _RAM_ALIGN & U64_MAX
    if maxmem is not None:
        if maxmem < size:
            raise VnvdimmError(
                f"invalid value of maxmem: maximum memory size (0x{maxmem:x}) must be at "
                f"least the initial memory size (0x{size:x})")
        if slots and maxmem == size:
            raise VnvdimmError(
                "invalid value of maxmem: memory slots were specified but maximum memory "
                f"size (0x{maxmem:x}) is equal to the initial memory size (0x{size:x})")
    elif slots is not None:
        raise VnvdimmError("slots specified but no max-size")
    return MemoryOptions(size=size, slots=slots, maxmem=maxmem)


def _flush(into: list[QemuWarning] | None, found: list[QemuWarning],
           location: str | None) -> None:
    if into is not None:
        into.extend(w.at(location) for w in found)


def parse_json_object(text: str) -> dict[str, object]:
    """A JSON-form option (``-object {...}``, ``object_add {...}``)."""
    import json  # only JSON-form options pay for it

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise VnvdimmError(f"JSON parse error, {exc}") from None
    if not isinstance(value, dict):
        raise VnvdimmError("Invalid JSON object given")
    return value
