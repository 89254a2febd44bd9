"""Reduce raw stdout/stderr of either program to comparable text.

How QEMU 7.2's HMP monitor behaves on ``-monitor stdio`` with a *pipe* as stdin
(observed, not guessed):

* Output lines end in ``\\r\\n`` (the chardev converts ``\\n``).
* It first prints the banner ``QEMU 7.2.22 monitor - type 'help' for more
  information`` and a ``(qemu) `` prompt (no newline after the prompt).
* The line editor still runs: every typed character is echoed by redrawing the
  line so far with ANSI ``ESC[K`` (erase to end of line) and ``ESC[D`` (cursor
  left), so ``info memdev`` appears as ``i\\x1b[K\\x1b[Din\\x1b[K...info memdev``
  followed by ``\\r\\n`` when the newline is read. The command's output follows,
  then the next ``(qemu) `` prompt.
* ``quit`` is echoed like any command and prints nothing.
* A configuration error found *after* the monitor was set up (e.g. in
  ``-device``) leaves the banner and one prompt on stdout; errors found earlier
  (option parsing, ``-object``) leave stdout empty. This timing is not part of
  the contract, so banner and prompts are dropped on both sides.

Rules (applied identically to QEMU and to vnvdimm):

stdout -> "monitor": CRLF -> LF; drop the banner line; split at ``(qemu) ``
prompts; in each piece after a prompt drop the first line if it is an echo of
the command (it contains ANSI escapes, or it renders to exactly one of the
commands sent); concatenate what is left; replace the temp dir by ``{tmp}``.

stderr: CRLF -> LF; strip a leading ``qemu-system-x86_64: `` or ``vnvdimm: ``
from every line; replace the temp dir by ``{tmp}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .model import TMP

PROMPT = "(qemu) "
BANNER = re.compile(r"^QEMU \S+ monitor - type 'help' for more information\n", re.MULTILINE)
PROGRAM_PREFIX = re.compile(r"^(?:qemu-system-x86_64|vnvdimm): ", re.MULTILINE)
ANSI = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def _unify_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _replace_dirs(text: str, dirs: Iterable[str]) -> str:
    # Longest first, so a resolved path that extends another is replaced whole.
    for directory in sorted(set(dirs), key=len, reverse=True):
        if directory:
            text = text.replace(directory, TMP)
    return text


def render_line(line: str) -> str:
    """What a terminal shows after ``line``: handles ESC[K, ESC[D, ESC[C only."""
    cells: list[str] = []
    cursor = 0
    pos = 0
    while pos < len(line):
        match = ANSI.match(line, pos)
        if match:
            count = int(match.group(1) or "1")
            code = match.group(2)
            if code == "K":
                del cells[cursor:]
            elif code == "D":
                cursor = max(0, cursor - count)
            elif code == "C":
                cursor = min(len(cells), cursor + count)
            pos = match.end()
            continue
        if cursor < len(cells):
            cells[cursor] = line[pos]
        else:
            cells.append(line[pos])
        cursor += 1
        pos += 1
    return "".join(cells)


def _is_echo(line: str, commands: Sequence[str]) -> bool:
    return "\x1b" in line or render_line(line).strip() in commands


def monitor_output(stdout: str, commands: Sequence[str], dirs: Iterable[str]) -> str:
    text = BANNER.sub("", _unify_newlines(stdout), count=1)
    pieces = text.split(PROMPT)
    kept = [pieces[0]]
    wanted = [command.strip() for command in commands]
    for piece in pieces[1:]:
        first, newline, rest = piece.partition("\n")
        if newline and _is_echo(first, wanted):
            kept.append(rest)
        elif not newline and _is_echo(first, wanted):
            kept.append("")  # echo of the last command without its newline
        else:
            kept.append(piece)
    return _replace_dirs("".join(kept), dirs)


def error_output(stderr: str, dirs: Iterable[str]) -> str:
    return _replace_dirs(PROGRAM_PREFIX.sub("", _unify_newlines(stderr)), dirs)
