"""The guest driver model: NFIT parsing, label I/O over DSM, _FIT after hotplug, ndctl JSON."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from vm_helpers import build

from vnvdimm.acpi import dsm
from vnvdimm.acpi.nfit import build_fit
from vnvdimm.acpi.state import NvdimmAcpiState
from vnvdimm.backends.schema import ObjectOptions
from vnvdimm.devices.pc_dimm import NVDimm
from vnvdimm.errors import VnvdimmError
from vnvdimm.guest.cookies import fletcher64
from vnvdimm.guest.driver import GuestDriver, index_size, valid_index_minor
from vnvdimm.guest.sysfs_order import kernfs_name_hash, ndctl_order
from vnvdimm.machine.machine import Machine

MiB = 1 << 20
LABEL = 128 * 1024


@pytest.fixture
def vm() -> Iterator[tuple[Machine, GuestDriver]]:
    argv = ["-machine", "pc,nvdimm=on", "-m", "16M,slots=4,maxmem=1G"]
    for i, extra in enumerate((",label-size=128K", "", ",label-size=128K,unarmed=on"), 1):
        argv += ["-object", f"memory-backend-ram,id=m{i},size=4M",
                 "-device", f"nvdimm,id=nvdimm{i},memdev=m{i}{extra}"]
    with build(argv) as machine:
        yield machine, GuestDriver(machine, NvdimmAcpiState.attach(machine))


def test_fletcher64_vector() -> None:
    assert fletcher64(bytes.fromhex("0100000002000000")) == 0x0000000400000003


def test_kernfs_order_matches_what_ndctl_printed() -> None:
    assert ndctl_order(["nmem0", "nmem1", "nmem2"]) == ["nmem1", "nmem0", "nmem2"]
    assert ndctl_order(["region0", "region1", "region2"]) == ["region1", "region0", "region2"]
    assert 2 <= kernfs_name_hash("nmem0") < 0x7FFFFFFF


def test_probe_numbers_like_linux(vm: tuple[Machine, GuestDriver]) -> None:
    machine, driver = vm
    view = driver.probe()
    # nmemN by handle; regionN in NFIT order (GLib order nvdimm2, nvdimm1, nvdimm3 here)
    assert [(d.dev, d.handle) for d in view.dimms] == [("nmem0", 1), ("nmem1", 2), ("nmem2", 3)]
    assert [r.mappings[0][0].dev for r in view.regions] == ["nmem1", "nmem0", "nmem2"]
    listing = view.ndctl_list(dimms=True, regions=True)
    assert listing["dimms"][1] == {"dev": "nmem0", "id": "8680-56341200", "handle": 1,
                                   "phys_id": 0}
    assert listing["dimms"][2]["flag_failed_arm"] is True
    region = listing["regions"][0]
    assert region == {"dev": "region1", "size": 4 * MiB - 2 * MiB, "align": 4096,
                      "available_size": 0, "max_available_extent": 0, "type": "pmem",
                      "mappings": [{"dimm": "nmem0", "offset": 0, "length": 2 * MiB,
                                    "position": 0}],
                      "persistence_domain": "unknown"}
    nv1 = machine.find_device("nvdimm1")
    assert view.ndctl_list(namespaces=True)[0] == {
        "dev": "namespace1.0", "mode": "raw", "size": 2 * MiB, "sector_size": 512,
        "blockdev": "pmem1"}
    assert isinstance(nv1, NVDimm) and view.regions[1].spa.address == nv1.addr
    assert view.regions[1].set_cookie == view.regions[1].cookies.cookie2  # has a label area
    assert view.regions[0].set_cookie == 0x002468AE00123457  # no label area: cookie1


def test_label_area_through_dsm(vm: tuple[Machine, GuestDriver]) -> None:
    machine, driver = vm
    driver.probe()
    nv1 = machine.find_device("nvdimm1")
    assert isinstance(nv1, NVDimm)
    nv1.label_view()[:] = bytes((i * 13) & 0xFF for i in range(LABEL))
    assert driver.label_info(1) == (0, LABEL, 4076)
    calls = driver.acpi.dsm_calls
    assert driver.read_label_area(1) == bytes(nv1.label_view())
    assert driver.acpi.dsm_calls - calls == 1 + -(-LABEL // 4076)  # _LSI + ceil(128K/4076)
    data = bytes(range(256)) * 40
    driver.write_label_area(1, 5000, data)
    assert bytes(nv1.label_view()[5000: 5000 + len(data)]) == data
    assert driver.read_label_area(1, 5000, len(data)) == data
    assert driver.call_dsm(2, 1, dsm.FUNC_GET_LABEL_SIZE) == struct.pack("<I", 1)
    assert driver.call_dsm(9, 1, dsm.FUNC_GET_LABEL_SIZE) == struct.pack("<I", 2)


def _index_block(config_size: int, block: int, seq: int, minor: int) -> bytes:
    size = index_size(config_size, 256 if minor == 2 else 128)
    head = bytearray(size)
    head[:16] = b"NAMESPACE_INDEX\0"
    struct.pack_into("<IQQQQIHH", head, 20, seq, block * size, size, (1 - block) * size,
                     2 * size, 1, 1, minor)
    struct.pack_into("<Q", head, 64, fletcher64(bytes(head)))
    return bytes(head)


def test_valid_index_enables_labelling(vm: tuple[Machine, GuestDriver]) -> None:
    machine, driver = vm
    nv1 = machine.find_device("nvdimm1")
    assert isinstance(nv1, NVDimm)
    block = _index_block(LABEL, 0, 3, 2)
    assert valid_index_minor(block, LABEL) == 2
    nv1.label_view()[: len(block)] = block
    view = driver.probe()
    region = next(r for r in view.regions if r.mappings[0][0].handle == 1)
    assert region.labeling and region.iset_id == region.cookies.cookie2
    assert region.to_json()["iset_id"] == region.cookies.cookie2 and region.namespaces() == []
    broken = bytearray(block)
    broken[100] ^= 1
    assert valid_index_minor(bytes(broken), LABEL) is None


def test_hotplug_then_fit_reread(vm: tuple[Machine, GuestDriver]) -> None:
    machine, driver = vm
    before = driver.probe()
    assert len(before.dimms) == 3
    assert driver.handle_notification() is driver.view  # no event: nothing re-read
    machine.object_add(ObjectOptions("memory-backend-ram", "m4", {"size": 4 * MiB}))
    machine.device_add({"driver": "nvdimm", "id": "hot", "memdev": "m4",
                        "label-size": LABEL}, keyval=False)
    assert driver.read_fit() == build_fit(machine)
    view = driver.handle_notification()
    assert [d.dev for d in view.dimms] == ["nmem0", "nmem1", "nmem2", "nmem3"]
    assert view.regions[-1].dev == "region3" and view.dimms[-1].handle == 4
    assert view.dimms[-1].label_size == LABEL


def test_read_fit_restarts_when_the_fit_changes_midway() -> None:
    argv = ["-machine", "q35,nvdimm=on", "-m", "16M,slots=40,maxmem=2G"]
    for i in range(25):
        argv += ["-object", f"memory-backend-ram,id=m{i},size=2M",
                 "-device", f"nvdimm,id=nv{i},memdev=m{i}"]
    with build(argv) as machine:
        state = NvdimmAcpiState.attach(machine)
        driver = GuestDriver(machine, state)
        original = state.on_port_write
        plugged: list[int] = []

        def port(size: int, value: int) -> None:
            original(size, value)
            if not plugged:  # after the first piece, hotplug one more nvdimm
                plugged.append(1)
                machine.object_add(ObjectOptions("memory-backend-ram", "late",
                                                 {"size": 2 * MiB}))
                machine.device_add({"driver": "nvdimm", "id": "late", "memdev": "late"},
                                   keyval=False)

        machine.io_handlers[dsm.DSM_PORT] = port
        fit = driver.read_fit()
        assert fit == build_fit(machine) and len(fit) == 26 * 184


def test_hotplug_from_the_monitor_reaches_the_guest(vm: tuple[Machine, GuestDriver]) -> None:
    """QMP object-add + device_add go through the same plug path: the FIT is
    rebuilt, the NVDIMM hotplug GPE bit is raised, and _FIT shows the new DIMM."""
    from vnvdimm.monitor.commands import CommandTable
    from vnvdimm.monitor.events import EventBus

    machine, driver = vm
    driver.probe()
    assert driver.acpi.take_gpe0_status() == 0  # cold plugs raise no event
    table = CommandTable(machine, EventBus())
    table.execute("object-add", {"qom-type": "memory-backend-ram", "id": "m9",
                                 "size": 4 * MiB})
    table.execute("device_add", {"driver": "nvdimm", "id": "qmp", "memdev": "m9",
                                 "label-size": LABEL})
    assert driver.acpi.gpe0_status != 0
    view = driver.handle_notification()
    assert len(view.dimms) == 4
    assert driver.read_fit() == build_fit(machine)
    # A refused hotplug changes neither the FIT nor the event state.
    fit = driver.acpi.fit
    with pytest.raises(VnvdimmError, match="no free slots available"):
        table.execute("device_add", {"driver": "nvdimm", "id": "again", "memdev": "m9"})
    assert driver.acpi.fit == fit and driver.acpi.gpe0_status == 0
