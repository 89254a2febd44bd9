"""`vnvdimm run [QEMU options]`: build the platform and run until told to stop."""

from __future__ import annotations

import contextlib
import os
import sys

from vnvdimm.cli.report import report_error, warn
from vnvdimm.errors import VnvdimmError


def run(argv: list[str]) -> int:
    from vnvdimm.cli.qemu_argv import option_kind, split_argv
    from vnvdimm.machine.cmdline import build_machine

    try:
        opts = split_argv(argv)
    except VnvdimmError as error:
        report_error(error)
        return 1
    for opt in opts:
        if opt.name == "global" and (opt.value or "").startswith("PIIX4_PM.memory-hotplug"):
            continue  # the one -global with a meaning for memory devices
        if option_kind(opt.name) == "warn":
            warn(f"-{opt.name}: ignored: vnvdimm runs no guest code")
    monitor_stdio = any(o.name == "monitor" and o.value == "stdio" for o in opts)
    pidfile = next((o.value for o in opts if o.name == "pidfile"), None)
    try:
        machine = build_machine(opts, warn=warn)
    except VnvdimmError as error:
        report_error(error)
        return 1
    from vnvdimm.cli.lifecycle import serve

    try:
        if pidfile:
            _write_pidfile(pidfile)
        return serve(machine, hmp_stdio=monitor_stdio, quit_on_eof=False)
    finally:
        machine.close()
        if pidfile:
            _remove_quiet(pidfile)


def _write_pidfile(path: str) -> None:
    with open(path, "w") as handle:
        handle.write(f"{os.getpid()}\n")


def _remove_quiet(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run(sys.argv[1:]))
