"""Fletcher64 exactly as Linux's nd_fletcher64 and ndctl's fletcher64 compute it.

The input is read as 32-bit words.  Two accumulators run over them: ``lo``
(32 bits, wrapping) gets each word, ``hi`` gets each new ``lo``.  The result
is ``hi << 32 | lo`` truncated to 64 bits, so only the low 32 bits of ``hi``
survive.  Labels, index blocks and info blocks use little-endian words;
interleave-set cookies use the CPU's native order (little-endian on x86).

Because only ``hi mod 2**32`` matters, ``hi`` is the sum of the prefix sums,
i.e. ``sum(w[j] * (n - j))``; that closed form is what is computed here.
"""

from __future__ import annotations

import array
import itertools
import sys

_MASK32 = 0xFFFFFFFF
_WORD = 4


def fletcher64(data: bytes | bytearray | memoryview, *, little_endian: bool = True) -> int:
    """The 64-bit Fletcher checksum of ``data`` (a whole number of 32-bit words)."""
    view = memoryview(data).cast("B")
    if len(view) % _WORD:
        raise ValueError(f"fletcher64 needs a multiple of 4 bytes, got {len(view)}")
    words = array.array("I")
    if words.itemsize != _WORD:  # pragma: no cover - every CPython platform has 4-byte "I"
        raise RuntimeError("array 'I' is not 32 bits on this platform")
    words.frombytes(view)
    if (sys.byteorder == "little") != little_endian:
        words.byteswap()
    # hi sums the running lo after every word: the sum of the prefix sums (exact
    # integers, reduced once at the end, equal the per-step mod 2^32 arithmetic)
    lo = sum(words) & _MASK32
    hi = sum(itertools.accumulate(words)) & _MASK32
    return (hi << 32) | lo


def checksum_with_field_zeroed(data: bytes | bytearray | memoryview, field_offset: int) -> int:
    """Fletcher64 of ``data`` with the 8-byte checksum field at ``field_offset`` read as 0.

    Every on-media structure with a checksum (index block, v1.2 label, info
    block) sums itself this way.
    """
    buf = bytearray(data)
    buf[field_offset:field_offset + 8] = bytes(8)
    return fletcher64(buf)
