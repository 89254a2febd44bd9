"""C library number parsing (strtoull / strtoll, base 0) with its exact edge cases.

QEMU reads sysfs and procfs values with these, and what counts as valid
(leading blanks, ``0x``, octal, a sign, trailing junk) decides which message
the user sees, so a plain ``int()`` is not good enough.
"""

from __future__ import annotations

import errno

_C_SPACE = " \t\n\v\f\r"
_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1
_I64_MIN = -(1 << 63)


class Parsed(tuple[int, int, int]):
    """A C conversion: its value, how many characters it consumed, and errno.

    A ``(value, end, errno)`` tuple with named fields, like a NamedTuple.
    """

    __slots__ = ()

    def __new__(cls, value: int, end: int, errno: int) -> Parsed:
        return tuple.__new__(cls, (value, end, errno))

    @property
    def value(self) -> int:
        return self[0]

    @property
    def end(self) -> int:
        """Index of the first unparsed character; 0 when nothing converted."""
        return self[1]

    @property
    def errno(self) -> int:
        return self[2]

    def __repr__(self) -> str:
        return f"Parsed(value={self[0]!r}, end={self[1]!r}, errno={self[2]!r})"


def _digits(text: str, pos: int, base: int) -> tuple[int, int]:
    value = 0
    start = pos
    while pos < len(text):
        ch = text[pos].lower()
        if "0" <= ch <= "9":
            digit = ord(ch) - ord("0")
        elif "a" <= ch <= "z":
            digit = ord(ch) - ord("a") + 10
        else:
            break
        if digit >= base:
            break
        value = value * base + digit
        pos += 1
    return value, pos - start


def _scan(text: str) -> tuple[bool, int, int] | None:
    """Sign, magnitude, end index for base 0; None when no digits."""
    pos = 0
    while pos < len(text) and text[pos] in _C_SPACE:
        pos += 1
    negative = False
    if pos < len(text) and text[pos] in "+-":
        negative = text[pos] == "-"
        pos += 1
    if text.startswith(("0x", "0X"), pos):
        value, count = _digits(text, pos + 2, 16)
        if count:
            return negative, value, pos + 2 + count
        # "0x" without hex digits: only the "0" is consumed.
        return negative, 0, pos + 1
    if text.startswith("0", pos):
        value, count = _digits(text, pos, 8)
        return negative, value, pos + count
    value, count = _digits(text, pos, 10)
    if not count:
        return None
    return negative, value, pos + count


def strtoull(text: str) -> Parsed:
    """``strtoull(text, &end, 0)``: negatives wrap modulo 2**64, overflow gives ERANGE."""
    scanned = _scan(text)
    if scanned is None:
        return Parsed(0, 0, 0)
    negative, magnitude, end = scanned
    if magnitude >= _U64:
        return Parsed(_U64 - 1, end, errno.ERANGE)
    return Parsed((-magnitude) % _U64 if negative else magnitude, end, 0)


def strtoll(text: str) -> Parsed:
    """``strtoll(text, &end, 0)`` (also ``g_ascii_strtoll``): clamps with ERANGE."""
    scanned = _scan(text)
    if scanned is None:
        return Parsed(0, 0, 0)
    negative, magnitude, end = scanned
    value = -magnitude if negative else magnitude
    if value > _I64_MAX:
        return Parsed(_I64_MAX, end, errno.ERANGE)
    if value < _I64_MIN:
        return Parsed(_I64_MIN, end, errno.ERANGE)
    return Parsed(value, end, 0)


def to_int64(value: int) -> int:
    """Reinterpret an unsigned 64-bit value as signed, like a C cast to int64_t."""
    value %= _U64
    return value - _U64 if value > _I64_MAX else value
