"""`vnvdimm check ... --dump-acpi DIR`: write this layer's ACPI tables as files.

Like QEMU's bios-tables-test extracts them: one file per table, named by its
signature, holding the complete table (header included).  Works on a dry-run
machine: nothing is mapped, only the layout is needed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from vnvdimm.acpi.nfit import build_nfit
from vnvdimm.acpi.srat import build_srat

if TYPE_CHECKING:
    from vnvdimm.machine.machine import Machine


def acpi_tables(machine: Machine) -> dict[str, bytes]:
    """The NFIT and SRAT QEMU 7.2 would build for this machine (absent ones left out)."""
    tables: dict[str, bytes] = {}
    for name, table in (("NFIT", build_nfit(machine)), ("SRAT", build_srat(machine))):
        if table is not None:
            tables[name] = table
    return tables


def dump_acpi(machine: Machine, directory: str | os.PathLike[str]) -> list[str]:
    """Write DIR/NFIT and DIR/SRAT (those QEMU emits); return the paths written."""
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, table in acpi_tables(machine).items():
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(table)
        written.append(path)
    return written
