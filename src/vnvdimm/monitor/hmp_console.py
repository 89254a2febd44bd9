"""A line-oriented HMP console (the `-monitor stdio` face of the monitor).

Output uses CRLF line ends, like QEMU's stdio character device.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TextIO

from vnvdimm import options
from vnvdimm.backends.schema import visit_object_options
from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.machine import Machine
from vnvdimm.monitor import hmp_info


class ArgumentError(Exception):
    """HMP could not parse the arguments; QEMU then suggests `help <command>`."""


def _object_add(machine: Machine, argument: str, console: HmpConsole) -> None:
    """HMP object_add takes JSON or keyval (unlike -object, which is QemuOpts in 7.2)."""
    if argument.startswith("{"):
        try:
            args = json.loads(argument)
        except ValueError as exc:
            raise VnvdimmError(f"JSON parse error, {exc}") from None
        if not isinstance(args, dict):
            raise VnvdimmError("Invalid JSON object given")
        opts = visit_object_options(args, style="json")
    else:
        opts = visit_object_options(options.keyval_parse(argument, "qom-type"), style="keyval")
    machine.object_add(opts)


def _device_add(machine: Machine, argument: str, console: HmpConsole) -> None:
    # The argument is parsed as QemuOpts first; those errors go to stderr.
    warnings: list[options.QemuWarning] = []
    try:
        device_id, pairs = options.qemu_opts_parse_with_id(argument, "driver",
                                                           warnings=warnings)
    except VnvdimmError as error:
        console.report_stderr(warnings, error)
        raise ArgumentError from None
    console.report_stderr(warnings, None)
    props: dict[str, object] = dict(pairs)
    if device_id is not None:
        props["id"] = device_id
    machine.device_add(props, keyval=True)


def _device_del(machine: Machine, argument: str, console: HmpConsole) -> None:
    device = machine.find_device(argument)
    if isinstance(device, NVDimm):
        raise VnvdimmError("nvdimm device hot unplug is not supported yet.")
    # A pc-dimm unplug is a request the guest must acknowledge; none will.


def _object_del(machine: Machine, argument: str, console: HmpConsole) -> None:
    machine.object_del(argument)


# Commands whose one argument HMP requires ("string expected" when absent).
_NEEDS_ARGUMENT = frozenset({"object_add", "object_del", "device_del"})

_COMMANDS: dict[str, Callable[[Machine, str, HmpConsole], None]] = {
    "object_add": _object_add,
    "device_add": _device_add,
    "device_del": _device_del,
    "object_del": _object_del,
}


class HmpConsole:
    def __init__(self, machine: Machine, out: TextIO, err: TextIO | None = None) -> None:
        self.machine = machine
        self.out = out
        self.err = err if err is not None else sys.stderr
        self.prompt = "(qemu) "
        self._pending = ""

    def _write(self, text: str) -> None:
        self.out.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))
        self.out.flush()

    def start(self, banner: str, prompt: str) -> None:
        self.prompt = prompt
        self._write(banner + prompt)

    def report_stderr(self, warnings: list[options.QemuWarning],
                      error: VnvdimmError | None) -> None:
        for warning in warnings:
            self.err.write(warning.report("vnvdimm"))
        if error is not None:
            self.err.write(error.report("vnvdimm"))
        self.err.flush()

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
        command = _COMMANDS.get(words[0])
        if command is not None:
            argument = line.split(None, 1)[1].strip() if len(words) > 1 else ""
            if not argument and words[0] in _NEEDS_ARGUMENT:
                self._write(f"{words[0]}: string expected\n")
                self._write(f'Try "help {words[0]}" for more information\n')
                return False
            try:
                command(self.machine, argument, self)
            except ArgumentError:
                self._write(f'Try "help {words[0]}" for more information\n')
            except VnvdimmError as error:
                self._write(f"Error: {error.message}\n" + (error.hint or ""))
            return False
        if words[0] == "info" and len(words) > 1:
            handler = {"memory-devices": hmp_info.info_memory_devices,
                       "memdev": hmp_info.info_memdev}.get(words[1])
            if handler is not None:
                self._write(handler(self.machine))
                return False
        self._write(f"unknown command: '{line}'\n")
        return False
