"""A line-oriented HMP console (the `-monitor stdio` face of the monitor).

Output uses CRLF line ends, like QEMU's stdio character device.
"""

from __future__ import annotations

from typing import TextIO

from vnvdimm.machine.machine import Machine
from vnvdimm.monitor import hmp_info


class HmpConsole:
    def __init__(self, machine: Machine, out: TextIO) -> None:
        self.machine = machine
        self.out = out
        self.prompt = "(qemu) "
        self._pending = ""

    def _write(self, text: str) -> None:
        self.out.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))
        self.out.flush()

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
        words = line.split()
        if not words:
            return False
        if words[0] in ("quit", "q"):
            return True
        if words[0] == "info" and len(words) > 1:
            handler = {"memory-devices": hmp_info.info_memory_devices,
                       "memdev": hmp_info.info_memdev}.get(words[1])
            if handler is not None:
                self._write(handler(self.machine))
                return False
        self._write(f"unknown command: '{line}'\n")
        return False
