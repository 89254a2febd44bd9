"""A line-oriented HMP console (the `-monitor stdio` face of the monitor).

Output uses CRLF line ends, like QEMU's stdio character device; text QEMU
prints on stderr (QemuOpts errors of device_add) goes to `err`.
"""

from __future__ import annotations

import sys

from vnvdimm.monitor.commands import CommandTable
from vnvdimm.monitor.events import EventBus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from vnvdimm.machine.machine import Machine


class HmpConsole:
    def __init__(self, target: Machine | CommandTable, out: TextIO,
                 err: TextIO | None = None) -> None:
        self.table = target if isinstance(target, CommandTable) else CommandTable(
            target, EventBus())
        self.machine = self.table.machine
        self.out = out
        self.err = err if err is not None else sys.stderr
        self.prompt = "(qemu) "
        self._pending = ""
        self._escape = ""
        self._last = ""
        self.history: list[str] = []
        self._history_at = 0

    def _write(self, text: str) -> None:
        self.out.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))
        self.out.flush()

    def _write_err(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()

    def start(self, banner: str, prompt: str) -> None:
        self.prompt = prompt
        self._write(banner + prompt)

    def feed(self, data: str) -> bool:
        """Handle typed input; True when the user asked to quit.

        A small readline like QEMU's: Enter is CR, LF or CR LF; backspace and
        Ctrl-U edit; up/down walk the history.  Each change redraws the line the
        way QEMU does: back over the old text (ESC[D each), new text, ESC[K."""
        echo: list[str] = []
        for char in data:
            if self._escape:
                self._escape += char
                if len(self._escape) >= 3 or (len(self._escape) == 2 and char != "["):
                    self._key(self._escape, echo)
                    self._escape = ""
                continue
            if char in "\r\n":
                if char == "\n" and self._last == "\r":
                    self._last = char
                    continue
                self._last = char
                line, self._pending = self._pending, ""
                echo.append("\r\n")
                self.out.write("".join(echo))
                echo.clear()
                if line.strip():
                    self.history.append(line)
                self._history_at = len(self.history)
                if self.execute(line.strip()):
                    self.out.flush()
                    return True
                self._write(self.prompt)
                continue
            self._last = char
            if char == "\x1b":
                self._escape = char
            elif char in ("\x7f", "\x08"):
                self._redraw(self._pending[:-1], echo)
            elif char == "\x15":
                self._redraw("", echo)
            elif char >= " ":
                self._redraw(self._pending + char, echo)
        self.out.write("".join(echo))
        self.out.flush()
        return False

    def _redraw(self, text: str, echo: list[str]) -> None:
        echo.append("\x1b[D" * len(self._pending) + text + "\x1b[K")
        self._pending = text

    def _key(self, sequence: str, echo: list[str]) -> None:
        if sequence in ("\x1b[A", "\x1b[B") and self.history:
            step = -1 if sequence == "\x1b[A" else 1
            self._history_at = max(0, min(len(self.history), self._history_at + step))
            text = self.history[self._history_at] if self._history_at < len(self.history) else ""
            self._redraw(text, echo)

    def execute(self, line: str) -> bool:
        """Run one command line; True when it was `quit`."""
        if line.split()[:1] in (["quit"], ["q"]):
            self.table.execute("quit", {})
            return True
        self._write(self.table.hmp(line, self._write_err))
        return False
