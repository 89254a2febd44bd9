"""A machine's NVDIMM ACPI state: the FIT buffer, the DSM page and port, hotplug events.

`NvdimmAcpiState.attach(machine)` is QEMU's nvdimm_init_acpi_state plus the
nvdimm part of the PC hotplug handler: it claims I/O port 0x0A18, rebuilds
the FIT buffer at every nvdimm plug (marking it dirty, so a guest reading it
in pieces restarts) and, for a hotplug, raises the GPE0 "NVDIMM hotplug"
event a guest answers by re-evaluating _FIT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vnvdimm.acpi import dsm
from vnvdimm.acpi.nfit import build_fit, build_nfit, nvdimms_in_qom_order
from vnvdimm.acpi.srat import build_srat
from vnvdimm.devices.pc_dimm import NVDimm, PCDimm
from vnvdimm.errors import VnvdimmError

if TYPE_CHECKING:
    from vnvdimm.machine.machine import Machine

GPE0_NVDIMM_HOTPLUG = 1 << 4  # ACPI_NVDIMM_HOTPLUG_STATUS: the DSDT's _E04
PAGE = 4096


def dsm_page_address(machine: Machine) -> int:
    """Where vnvdimm's firmware view puts `etc/acpi/nvdimm-mem` (the SSDT's MEMA).

    SeaBIOS allocates the 4 KiB blob first in its "high" zone at the top of RAM
    below 4 GiB, so it lands on the last page of low RAM (checked against the
    real guest's SSDT, e.g. 0x0ffff000 with 256 MiB)."""
    mm = machine.memory_map
    below_4g = mm.below_4g if mm is not None else machine.config.effective_ram_size
    return (below_4g - PAGE) & ~(PAGE - 1)


class NvdimmAcpiState:
    """FIT buffer + dirty flag, DSM transport, hotplug event of one machine."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.fit = b""
        self.dirty = False
        self.dsm_address = dsm_page_address(machine)
        self.gpe0_status = 0
        self.notify_listeners: list[Callable[[int], None]] = []
        self.dsm_calls = 0

    @classmethod
    def attach(cls, machine: Machine) -> NvdimmAcpiState:
        """Create the state, register the plug listener and the DSM port handler.

        Devices plugged before this call count as cold-plugged: the FIT is built
        and marked dirty, as QEMU's cold plugs leave it."""
        if isinstance(machine.acpi, NvdimmAcpiState):
            return machine.acpi  # build_machine attached it already
        state = cls(machine)
        if dsm.DSM_PORT in machine.io_handlers:
            raise VnvdimmError(f"I/O port 0x{dsm.DSM_PORT:x} is already claimed")
        machine.plug_listeners.append(state.on_plug)
        machine.io_handlers[dsm.DSM_PORT] = state.on_port_write
        state.fit = build_fit(machine)
        state.dirty = bool(state.nvdimms())
        machine.acpi = state
        return state

    # -- what QEMU keeps ------------------------------------------------------------

    def nvdimms(self) -> list[NVDimm]:
        return nvdimms_in_qom_order(self.machine)

    def on_plug(self, device: PCDimm) -> None:
        """nvdimm_plug: rebuild the FIT buffer and mark it dirty; notify on hotplug."""
        if not isinstance(device, NVDimm):
            return
        self.fit = build_fit(self.machine)
        self.dirty = True
        if self.machine.ready:
            self.gpe0_status |= GPE0_NVDIMM_HOTPLUG
            for listener in self.notify_listeners:
                listener(GPE0_NVDIMM_HOTPLUG)

    def take_gpe0_status(self) -> int:
        """Read and clear the GPE0 status bits (the guest's SCI handler)."""
        status, self.gpe0_status = self.gpe0_status, 0
        return status

    # -- firmware tables ------------------------------------------------------------

    def nfit(self) -> bytes | None:
        return build_nfit(self.machine)

    def srat(self) -> bytes | None:
        return build_srat(self.machine)

    def firmware_tables(self) -> dict[str, bytes]:
        """The ACPI tables of this layer as the guest finds them (NFIT, SRAT)."""
        tables: dict[str, bytes] = {}
        for name, table in (("NFIT", self.nfit()), ("SRAT", self.srat())):
            if table is not None:
                tables[name] = table
        return tables

    # -- the DSM port --------------------------------------------------------------

    def on_port_write(self, size: int, value: int) -> None:
        """nvdimm_dsm_write: only 4-byte writes reach it; the value is the page address."""
        if size != dsm.DSM_PORT_SIZE:
            return
        self.handle_page(value & 0xFFFFFFFF)

    def handle_page(self, addr: int) -> dsm.DsmReply:
        page = read_guest(self.machine, addr, dsm.DSM_PAGE_SIZE)  # the copy comes first
        reply = dsm.dispatch(self, dsm.DsmRequest.from_bytes(page))
        write_guest(self.machine, addr, reply.to_bytes())
        self.dsm_calls += 1
        return reply


def read_guest(machine: Machine, addr: int, length: int) -> bytes:
    """cpu_physical_memory_read: unbacked guest addresses read as zeros."""
    try:
        return machine.read(addr, length)
    except VnvdimmError:
        pass
    out = bytearray(length)
    for region in machine.guest_memory.regions:
        lo, hi = max(addr, region.start), min(addr + length, region.end)
        if lo < hi:
            out[lo - addr: hi - addr] = region.view[lo - region.start: hi - region.start]
    return bytes(out)


def write_guest(machine: Machine, addr: int, data: bytes) -> None:
    """cpu_physical_memory_write: writes to unbacked or read-only memory are dropped."""
    try:
        machine.write(addr, data)
        return
    except VnvdimmError:
        pass
    end = addr + len(data)
    for region in machine.guest_memory.regions:
        lo, hi = max(addr, region.start), min(end, region.end)
        if lo < hi and not region.view.readonly:
            region.view[lo - region.start: hi - region.start] = data[lo - addr: hi - addr]


__all__ = ["GPE0_NVDIMM_HOTPLUG", "NvdimmAcpiState", "dsm_page_address"]
