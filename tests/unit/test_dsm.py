"""The DSM byte protocol: every request a guest can form, and what it may touch."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vm_helpers import build

from vnvdimm.acpi import dsm
from vnvdimm.acpi.nfit import build_fit
from vnvdimm.acpi.state import NvdimmAcpiState
from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.machine.machine import Machine

MiB = 1 << 20
LABEL = 128 * 1024
RAM = 16 * MiB
ARGV = ["-machine", "pc,nvdimm=on", "-m", "16M,slots=4,maxmem=1G",
        "-object", "memory-backend-ram,id=m1,size=4M",
        "-device", "nvdimm,id=nv1,memdev=m1,label-size=128K",
        "-object", "memory-backend-ram,id=m2,size=4M",
        "-device", "nvdimm,id=nv2,memdev=m2"]


@pytest.fixture(scope="module")
def vm() -> Iterator[tuple[Machine, NvdimmAcpiState]]:
    with build(ARGV) as machine:
        yield machine, NvdimmAcpiState.attach(machine)


def request(handle: int, function: int, arg3: bytes = b"", revision: int = 1) -> bytes:
    return dsm.DsmRequest(handle, revision, function, arg3).to_bytes()


def call(machine: Machine, state: NvdimmAcpiState, page: bytes,
         addr: int | None = None) -> tuple[int, bytes]:
    """Write a request page, `out` its address, return (len field, payload)."""
    addr = state.dsm_address if addr is None else addr
    machine.write(addr, page)
    machine.io_write(dsm.DSM_PORT, 4, addr)
    (length,) = struct.unpack("<I", machine.read(addr, 4))
    return length, machine.read(addr + 4, length - 4)


def status(payload: bytes) -> int:
    return int.from_bytes(payload[:4], "little")


def device(machine: Machine, name: str) -> NVDimm:
    found = machine.find_device(name)
    assert isinstance(found, NVDimm)
    return found


# -- dispatch ---------------------------------------------------------------------------

@pytest.mark.parametrize("handle,mask", [(0, 0), (0x10000, 0x3), (1, 0x71), (2, 0),
                                         (3, 0), (0xFFFF, 0), (0x10001, 0), (0xFFFFFFFF, 0)])
def test_function0_masks(vm: tuple[Machine, NvdimmAcpiState], handle: int, mask: int) -> None:
    machine, state = vm
    assert call(machine, state, request(handle, 0)) == (8, struct.pack("<I", mask))


@pytest.mark.parametrize("handle", [0, 1, 2, 3, 0x10000])
@pytest.mark.parametrize("revision", [0, 2, 0xFFFFFFFF])
@pytest.mark.parametrize("function", [0, 1, 4, 5, 6])
def test_wrong_revision_is_not_supported(vm: tuple[Machine, NvdimmAcpiState], handle: int,
                                         revision: int, function: int) -> None:
    machine, state = vm
    page = request(handle, function, struct.pack("<II", 0, 8), revision)
    assert call(machine, state, page) == (8, struct.pack("<I", 1))


@pytest.mark.parametrize("handle,function,expect", [
    (0, 1, 1), (0, 4, 1), (0x10000, 2, 1), (0x10000, 4, 1),
    (1, 1, 1), (1, 2, 1), (1, 3, 1), (1, 7, 1), (1, 0xFFFFFFFF, 1),
    (2, 4, 1), (2, 5, 1), (2, 6, 1),  # no label area
    (3, 4, 2), (3, 5, 2), (3, 1, 2), (0x10001, 4, 2), (0xFFFF, 6, 2),  # no such device
])
def test_unsupported_and_missing(vm: tuple[Machine, NvdimmAcpiState], handle: int,
                                 function: int, expect: int) -> None:
    machine, state = vm
    assert call(machine, state, request(handle, function, bytes(8))) == (
        8, struct.pack("<I", expect))


def test_get_label_size(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    machine, state = vm
    assert call(machine, state, request(1, 4)) == (16, struct.pack("<III", 0, LABEL, 4076))
    assert dsm.MAX_XFER == 4076


@pytest.mark.parametrize("offset,length,ok", [
    (0, 4076, True), (LABEL - 4076, 4076, True), (LABEL - 1, 1, True), (5, 100, True),
    (0, 4077, False), (LABEL - 100, 101, False), (LABEL, 1, False),
    (0xFFFFFFFF, 1, False), (1, 0xFFFFFFFF, False), (0x80000000, 0x80000000, False),
    (0, 0, False), (LABEL, 0, False),  # zero length: QEMU 7.2 aborts; vnvdimm says invalid
])
def test_label_read_validation(vm: tuple[Machine, NvdimmAcpiState], offset: int, length: int,
                               ok: bool) -> None:
    machine, state = vm
    label = device(machine, "nv1").label_view()
    label[:] = bytes(range(256)) * (LABEL // 256)
    got = call(machine, state, request(1, 5, struct.pack("<II", offset, length)))
    if ok:
        assert got == (8 + length, bytes(4) + bytes(label[offset: offset + length]))
    else:
        assert got == (8, struct.pack("<I", 3))


def test_label_write_and_its_validation(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    machine, state = vm
    label = device(machine, "nv1").label_view()
    label[:] = bytes(LABEL)
    data = bytes((i * 7) & 0xFF for i in range(4076))
    assert call(machine, state, request(1, 6, struct.pack("<II", 1000, 4076) + data)) == (
        8, bytes(4))
    assert bytes(label[1000: 1000 + 4076]) == data and not any(label[:1000])
    for offset, length in ((LABEL - 10, 11), (0, 4077), (0, 0), (0xFFFFFFF0, 0x20)):
        before = bytes(label)
        page = request(1, 6, struct.pack("<II", offset, length) + data[:8])
        assert call(machine, state, page) == (8, struct.pack("<I", 3))
        assert bytes(label) == before


def test_truncated_payload_reads_the_rest_of_the_page(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    """Arg3 is whatever the page holds: a short payload leaves earlier bytes in place."""
    machine, state = vm
    label = device(machine, "nv1").label_view()
    label[:16] = bytes(16)
    addr = state.dsm_address
    machine.write(addr, request(1, 6, struct.pack("<II", 0, 16) + b"A" * 16))
    machine.write(addr, struct.pack("<III", 1, 1, 6) + struct.pack("<II", 0, 16))  # header only
    machine.io_write(dsm.DSM_PORT, 4, addr)
    assert machine.read(addr, 8) == struct.pack("<II", 8, 0)
    assert bytes(label[:16]) == b"A" * 16


def test_readonly_backend_write_is_not_supported(tmp_path: Path) -> None:
    path = tmp_path / "ro.img"
    with open(path, "wb") as handle:
        handle.truncate(4 * MiB)
        handle.seek(4 * MiB - LABEL)
        handle.write(b"label!")
    argv = ["-machine", "pc,nvdimm=on", "-m", "32M,slots=2,maxmem=1G",
            "-object", f"memory-backend-file,id=ro,mem-path={path},size=4M,readonly=on",
            "-device", "nvdimm,id=nv,memdev=ro,label-size=128K,unarmed=on"]
    with build(argv) as machine:
        state = NvdimmAcpiState.attach(machine)
        got = call(machine, state, request(1, 6, struct.pack("<II", 0, 4) + b"XXXX"))
        assert got == (8, struct.pack("<I", 1))
        assert call(machine, state, request(1, 5, struct.pack("<II", 0, 6))) == (
            14, bytes(4) + b"label!")


# -- Read FIT ---------------------------------------------------------------------------

def test_read_fit_rules(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    machine, state = vm
    fit = build_fit(machine)
    assert state.fit == fit and len(fit) == 2 * 184
    state.dirty = True
    assert call(machine, state, request(0x10000, 1, struct.pack("<I", 8))) == (
        8, struct.pack("<I", 0x100))
    assert call(machine, state, request(0x10000, 1, struct.pack("<I", 0))) == (
        8 + len(fit), bytes(4) + fit)
    assert not state.dirty
    assert call(machine, state, request(0x10000, 1, struct.pack("<I", 100))) == (
        8 + len(fit) - 100, bytes(4) + fit[100:])
    assert call(machine, state, request(0x10000, 1, struct.pack("<I", len(fit)))) == (
        8, bytes(4))
    assert call(machine, state, request(0x10000, 1, struct.pack("<I", len(fit) + 1))) == (
        8, struct.pack("<I", 3))


def test_read_fit_pieces_are_at_most_4088_bytes() -> None:
    argv = ["-machine", "q35,nvdimm=on", "-m", "32M,slots=32,maxmem=2G"]
    for i in range(25):
        argv += ["-object", f"memory-backend-ram,id=m{i},size=2M",
                 "-device", f"nvdimm,id=nv{i},memdev=m{i}"]
    with build(argv) as machine:
        state = NvdimmAcpiState.attach(machine)
        assert len(state.fit) == 25 * 184
        length, payload = call(machine, state, request(0x10000, 1, bytes(4)))
        assert length == 4096 and payload[4:] == state.fit[:4088]
        length, payload = call(machine, state, request(0x10000, 1, struct.pack("<I", 4088)))
        assert payload[4:] == state.fit[4088:]


# -- transport --------------------------------------------------------------------------

def test_only_4_byte_port_writes_count(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    machine, state = vm
    addr = state.dsm_address
    machine.write(addr, request(0, 0))
    before = state.dsm_calls
    for size in (1, 2, 8):
        machine.io_write(dsm.DSM_PORT, size, addr)
    assert state.dsm_calls == before and machine.read(addr, 4) == bytes(4)
    assert machine.io_read(dsm.DSM_PORT, 4) == 0
    machine.io_write(dsm.DSM_PORT, 4, addr)
    assert state.dsm_calls == before + 1 and machine.read(addr, 8) == struct.pack("<II", 8, 0)


def test_page_across_the_end_of_ram_and_unbacked_pages(vm: tuple[Machine, NvdimmAcpiState]) -> None:
    machine, _state = vm
    top = RAM
    machine.write(top - 8, struct.pack("<II", 1, 1))  # handle 1, revision 1; the rest reads 0
    machine.io_write(dsm.DSM_PORT, 4, top - 8)  # function 0 on handle 1
    assert machine.read(top - 8, 8) == struct.pack("<II", 8, 0x71)
    machine.io_write(dsm.DSM_PORT, 4, 0xFFFFF000)  # nothing there: reads zeros, reply dropped
    machine.io_write(dsm.DSM_PORT, 4, 0x1_0000_0000 + 5)  # the value is a 32-bit address


# -- the property: nothing outside the label area and the reply page changes -------------

def _snapshot(machine: Machine) -> list[bytes]:
    return [bytes(region.view) for region in machine.guest_memory.regions] + [
        bytes(b.view) for b in machine.backends()]


HANDLES = st.sampled_from([0, 1, 2, 3, 0x10000, 0xFFFF]) | st.integers(0, 0xFFFFFFFF)
EDGES = st.sampled_from([0, 1, 4075, 4076, 4077, LABEL - 4076, LABEL - 1, LABEL, LABEL + 1,
                         0x7FFFFFFF, 0x80000000, 0xFFFFF000, 0xFFFFFFFF])
U32 = EDGES | st.integers(0, 0xFFFFFFFF)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(handle=HANDLES, revision=st.sampled_from([1, 1, 1, 0, 2]) | st.integers(0, 0xFFFFFFFF),
       function=st.integers(0, 8) | st.integers(0, 0xFFFFFFFF), offset=U32, length=U32,
       garbage=st.binary(max_size=4076),
       page_offset=st.integers(0, RAM - 4096), raw=st.booleans(),
       raw_page=st.binary(max_size=4096))
def test_random_pages_touch_only_the_reply_page_and_the_label_area(
        vm: tuple[Machine, NvdimmAcpiState], handle: int, revision: int, function: int,
        offset: int, length: int, garbage: bytes, page_offset: int, raw: bool,
        raw_page: bytes) -> None:
    machine, _state = vm
    addr = page_offset
    if raw:
        page = raw_page.ljust(4096, b"\xa5")
    else:
        page = struct.pack("<IIIII", handle, revision, function, offset, length) + garbage
        page = page.ljust(4096, b"\0")
    machine.write(addr, page)
    before = _snapshot(machine)
    machine.io_write(dsm.DSM_PORT, 4, addr)
    after = _snapshot(machine)
    nv1 = device(machine, "nv1")
    label = (nv1.label_offset, nv1.label_offset + LABEL)
    regions = machine.guest_memory.regions
    backends = machine.backends()
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if index < len(regions):  # guest memory: the reply page; nv1's region has no label
            allowed = [(addr - regions[index].start, addr - regions[index].start + 4096)]
            where = regions[index].name
        else:
            backend = backends[index - len(regions)]
            where = backend.id
            allowed = [label] if backend is nv1.memdev else []
            if backend in machine.ram_backends:
                allowed.append((addr, addr + 4096))  # RAM starts at guest address 0
        assert _equal_outside(old, new, allowed), where
    (reply_len,) = struct.unpack("<I", machine.read(addr, 4))
    assert 8 <= reply_len <= 4096


def _equal_outside(old: bytes, new: bytes, allowed: list[tuple[int, int]]) -> bool:
    position = 0
    for lo, hi in sorted(allowed):
        lo, hi = max(lo, 0), max(hi, 0)
        if old[position: lo] != new[position: lo]:
            return False
        position = max(position, hi)
    return old[position:] == new[position:]
