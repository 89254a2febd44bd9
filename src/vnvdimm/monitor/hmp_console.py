"""A line-oriented HMP console (the `-monitor stdio` face of the monitor).

Output uses CRLF line ends, like QEMU's stdio character device; text QEMU
prints on stderr (QemuOpts errors of device_add) goes to `err`.
"""

from __future__ import annotations

import sys
from typing import TextIO

from vnvdimm.machine.machine import Machine
from vnvdimm.monitor.commands import CommandTable
from vnvdimm.monitor.events import EventBus


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
        """Handle typed input; True when the user asked to quit."""
        self._pending += data
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            line = line.rstrip("\r")
            self._write(line + "\n")
            if self.execute(line.strip()):
                return True
            self._write(self.prompt)
        return False

    def execute(self, line: str) -> bool:
        """Run one command line; True when it was `quit`."""
        if line.split()[:1] in (["quit"], ["q"]):
            self.table.execute("quit", {})
            return True
        self._write(self.table.hmp(line, self._write_err))
        return False
