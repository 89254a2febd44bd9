"""HMP `xp` memory dumps, formatted as QEMU's memory_dump() prints them."""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError


class DumpFormat:
    """`/NFS`: count, format letter, unit size; QEMU remembers the last ones."""

    __slots__ = ("count", "format", "size")

    def __init__(self, count: int = 1, format: str = "x", size: int = 4) -> None:
        self.count = count
        self.format = format
        self.size = size


_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}


def parse_format(text: str, last: DumpFormat) -> DumpFormat:
    """Parse `/fmt` after the command name; missing parts come from `last`."""
    fmt = DumpFormat(1, last.format, last.size)
    if not text:
        return fmt
    if not text.startswith("/"):
        raise VnvdimmError("invalid char in format")
    body = text[1:]
    digits = len(body) - len(body.lstrip("0123456789"))
    if digits:
        fmt.count = int(body[:digits])
    size_given = False
    for char in body[digits:]:
        if char in _SIZES:
            fmt.size, size_given = _SIZES[char], True
        elif char in "xduoci":
            fmt.format = char
        else:
            raise VnvdimmError(f"invalid char in format: '{char}'")
    if not size_given and fmt.format in ("c", "i"):
        fmt.size = 1
    return fmt


def memory_dump(read: object, fmt: DumpFormat, addr: int) -> str:
    """`read(addr, n) -> bytes | None` (None: not backed). Physical addresses."""
    assert callable(read)
    size = 1 if fmt.format == "c" else fmt.size
    length = size * fmt.count if fmt.format != "c" else fmt.count
    line_size = 8 if size == 1 else 16
    bits = size * 8
    digits = {"o": -(-bits // 3), "x": bits // 4, "u": -(-bits * 10 // 33),
              "d": -(-bits * 10 // 33)}.get(fmt.format, 0)
    out: list[str] = []
    while length > 0:
        chunk = min(length, line_size)
        line = f"{addr:016x}:"
        data = read(addr, chunk)
        if data is None:
            out.append(line + " Cannot access memory\n")
            break
        for i in range(0, chunk, size):
            value = int.from_bytes(data[i:i + size], "little")
            if fmt.format == "o":
                line += " " + (f"0{value:o}" if value else "0").rjust(digits)
            elif fmt.format == "x":
                line += f" 0x{value:0{digits}x}"
            elif fmt.format in ("u", "d"):
                line += f" {value:>{digits}}"
            else:
                line += " " + _printc(value)
        out.append(line + "\n")
        addr += chunk
        length -= chunk
    return "".join(out)


def _printc(value: int) -> str:
    """QEMU's monitor_printc: quoted char or escape."""
    escapes = {0x27: "\\'", 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r"}
    if value in escapes:
        text = escapes[value]
    elif 32 <= value <= 126:
        text = chr(value)
    else:
        text = f"\\x{value:02x}"
    return f"'{text}'"
