"""The plug path: slots, addresses, hotplug, refusals that change nothing, pmem sizes."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from vm_helpers import NVDIMM_PC, GiB, KiB, MiB, build, build_error, error_message, escape

from vnvdimm.backends.schema import ObjectOptions
from vnvdimm.devices.pc_dimm import NVDimm, PCDimm
from vnvdimm.errors import VnvdimmError
from vnvdimm.machine.machine import Machine

BASE = 4 * GiB  # device memory starts at 4 GiB when all RAM is below it
MEM = ["-m", "1G,slots=4,maxmem=9G"]


def _file(obj_id: str, path: Path, size: str, extra: str = "") -> list[str]:
    return ["-object",
            f"memory-backend-file,id={obj_id},share=on,size={size},mem-path={escape(path)}{extra}"]


def _ram(obj_id: str, size: str) -> list[str]:
    return ["-object", f"memory-backend-ram,id={obj_id},size={size}"]


def _placement(m: Machine) -> list[tuple[str, int, int, int]]:
    return [(d.qom_name, d.slot, d.addr, d.memory_region_size()) for d in m.memory_devices()]


# -- slots and addresses ------------------------------------------------------------------


def test_lowest_free_slot_and_first_fit_aligned_addresses(tmp_path: Path) -> None:
    args = [*NVDIMM_PC, *MEM,
            *_file("f1", tmp_path / "f1", "1028K"),        # 0x101000, 4 KiB aligned
            *_ram("r2", "2M"),                              # 2 MiB aligned
            *_file("f3", tmp_path / "f3", "64K"),
            *_file("f4", tmp_path / "f4", "4M", ",align=2M"),
            "-device", "pc-dimm,id=d1,memdev=f1,slot=2",
            "-device", "pc-dimm,id=d2,memdev=r2",
            "-device", "pc-dimm,id=d3,memdev=f3",
            "-device", f"nvdimm,id=d4,memdev=f4,addr={BASE + GiB:#x}"]
    with build(args) as m:
        assert _placement(m) == [
            ("d1", 2, BASE, 0x101000),
            ("d3", 1, BASE + 0x101000, 64 * KiB),   # first fit: the gap before d2
            ("d2", 0, BASE + 2 * MiB, 2 * MiB),     # aligned up past d1 to 2 MiB
            ("d4", 3, BASE + GiB, 4 * MiB),          # explicit address, last free slot
        ]
        assert all(not d.hotplugged for d in m.memory_devices())
        # Slot numbers and addresses are written back into the properties.
        assert m.find_device("d3").get_property("slot") == 1
        assert m.find_device("d2").get_property("addr") == BASE + 2 * MiB


def test_explicit_slot_is_honoured_and_the_rest_fill_upwards() -> None:
    args = [*NVDIMM_PC, *MEM, *_ram("a", "2M"), *_ram("b", "2M"), *_ram("c", "2M"),
            "-device", "pc-dimm,id=x,memdev=a,slot=1",
            "-device", "pc-dimm,id=y,memdev=b",
            "-device", "pc-dimm,id=z,memdev=c"]
    with build(args) as m:
        assert {d.qom_name: d.slot for d in m.memory_devices()} == {"x": 1, "y": 0, "z": 2}
        assert [d.qom_name for d in m.memory_devices()] == ["x", "y", "z"]
        assert [d.addr for d in m.memory_devices()] == [BASE, BASE + 2 * MiB, BASE + 4 * MiB]


@pytest.mark.parametrize(("device", "message"), [
    ("pc-dimm,memdev=b,slot=0", "slot 0 is busy"),
    ("pc-dimm,memdev=b,slot=4", "invalid slot number 4, valid range is [0-3]"),
    ("pc-dimm,memdev=b,slot=-2", "invalid slot number -2, valid range is [0-3]"),
    ("pc-dimm,memdev=b,addr=0x100100000", "address must be aligned to 0x200000 bytes"),
    ("pc-dimm,memdev=b,addr=0x100000000", "address range conflicts with memory device id='a'"),
    ("pc-dimm,memdev=b,addr=0x80000000",
     "can't add memory device [0x80000000:0x200000], usable range for memory devices "
     "[0x100000000:0x300000000]"),
    ("pc-dimm,memdev=a", "can't use already busy memdev: a"),
    ("pc-dimm,memdev=b,node=1",
     "'DIMM property node has value 1' which exceeds the number of numa nodes: 1"),
    ("nvdimm,memdev=b,label-size=4K",
     "Property 'nvdimm.label-size' (0x1000) is required at least 0x20000"),
])
def test_plug_errors(device: str, message: str) -> None:
    args = [*NVDIMM_PC, *MEM, *_ram("a", "2M"), *_ram("b", "2M"),
            "-device", "pc-dimm,id=a,memdev=a,slot=0", "-device", device]
    error = build_error(args)
    assert error.message == message
    assert error.location == f"-device {device}"


def test_no_free_slot_left() -> None:
    args = [*NVDIMM_PC, "-m", "1G,slots=1,maxmem=2G", *_ram("a", "2M"), *_ram("b", "2M"),
            "-device", "pc-dimm,memdev=a", "-device", "pc-dimm,memdev=b"]
    assert build_error(args).message == "no free slots available"


def test_not_enough_space() -> None:
    args = [*NVDIMM_PC, "-m", "1G,slots=2,maxmem=1028M", *_ram("a", "2M"), *_ram("b", "4M"),
            "-device", "pc-dimm,memdev=a", "-device", "pc-dimm,memdev=b"]
    assert build_error(args).message == (
        "not enough space, currently 0x200000 in use of total space for memory devices "
        "0x400000")


# -- hotplug --------------------------------------------------------------------------


def _hotplug_machine(tmp_path: Path) -> Machine:
    return build([*NVDIMM_PC, *MEM, *_file("mem0", tmp_path / "cold.img", "8M"),
                  "-device", "nvdimm,id=cold,memdev=mem0,label-size=128K"])


def test_hotplug_after_ready_marks_hotplugged_and_maps(tmp_path: Path) -> None:
    with _hotplug_machine(tmp_path) as m:
        assert m.ready
        cold = m.find_device("cold")
        assert not cold.hotplugged
        m.object_add(ObjectOptions("memory-backend-file", "hot0", {
            "size": 16 * MiB, "mem-path": str(tmp_path / "hot.img"), "share": True,
            "align": 2 * MiB}))
        hot = m.device_add({"driver": "nvdimm", "id": "hot", "memdev": "hot0",
                            "label-size": "256K"}, keyval=True)
        assert isinstance(hot, NVDimm)
        assert hot.hotplugged and hot.realized
        assert hot.slot == 1
        # After cold's 8M - 128K (4 KiB aligned) comes the next 2 MiB boundary.
        assert hot.addr == BASE + 8 * MiB
        assert hot.memory_region_size() == 14 * MiB  # align_down(16M - 256K, 2M)
        m.write(hot.addr + hot.memory_region_size() - 4, b"hot!")
        assert m.read(hot.addr + hot.memory_region_size() - 4, 4) == b"hot!"
        assert [d.qom_name for d in m.memory_devices()] == ["cold", "hot"]
        assert m.objects["hot0"].is_mapped  # type: ignore[union-attr]
        assert "in use" in error_message(lambda: m.object_del("hot0"))
    with open(tmp_path / "hot.img", "rb") as handle:
        handle.seek(14 * MiB - 4)
        assert handle.read(4) == b"hot!"


def _snapshot(m: Machine) -> object:
    return (
        _placement(m),
        sorted(m.peripheral), sorted(m.peripheral_anon),
        [(r.start, r.size, r.name) for r in m.guest_memory.regions],
        {b.id: (b.user is not None) for b in m.backends()},
        [d.hotplugged for d in m.memory_devices()],
    )


_REFUSED_HOTPLUGS: list[tuple[dict[str, object], str]] = [
    ({"label-size": "64K"}, "Property 'nvdimm.label-size' (0x10000) is required at least 0x20000"),
    ({"slot": "0"}, "slot 0 is busy"),
    ({"addr": str(BASE)}, "address range conflicts with memory device id='cold'"),
    ({"addr": str(BASE + 4096)}, "address must be aligned to 0x200000 bytes"),
    ({"node": "3"}, "'DIMM property node has value 3' which exceeds the number of numa nodes: 1"),
    ({"id": "cold"}, "Duplicate device ID 'cold'"),
    ({"bogus": "1"}, "Property 'nvdimm.bogus' not found"),
    ({"memdev": "mem0"}, "can't use already busy memdev: mem0"),
    ({"memdev": "nothere"}, "Device 'nothere' not found"),
    ({"label-size": "3M"},
     "the size of memdev spare (0x400000) is too small to contain nvdimm label (0x300000) and "
     "aligned PMEM (0x200000)"),
]


@pytest.mark.parametrize(("override", "message"), _REFUSED_HOTPLUGS)
def test_refused_hotplug_leaves_machine_unchanged(tmp_path: Path, override: dict[str, object],
                                                  message: str) -> None:
    with _hotplug_machine(tmp_path) as m:
        m.object_add(ObjectOptions("memory-backend-ram", "spare", {"size": 4 * MiB}))
        before = _snapshot(m)
        props: dict[str, object] = {"driver": "nvdimm", "id": "new", "memdev": "spare",
                                    **override}
        assert error_message(lambda: m.device_add(props, keyval=True)) == message
        assert _snapshot(m) == before
        assert m.objects["spare"].user is None  # type: ignore[union-attr]
        m.object_del("spare")
        assert "spare" not in m.objects
        # The slot and address the refused device would have taken are still free.
        m.object_add(ObjectOptions("memory-backend-ram", "spare", {"size": 4 * MiB}))
        device = m.device_add({"driver": "pc-dimm", "memdev": "spare"}, keyval=True)
        assert device is not None
        assert (device.slot, device.addr) == (1, BASE + 8 * MiB)


def test_refused_hotplug_without_space(tmp_path: Path) -> None:
    with _hotplug_machine(tmp_path) as m:
        m.object_add(ObjectOptions("memory-backend-ram", "huge", {"size": 9 * GiB}))
        before = _snapshot(m)
        assert error_message(lambda: m.device_add(
            {"driver": "pc-dimm", "memdev": "huge"}, keyval=True)).startswith(
            "not enough space, currently 0x7e0000 in use")
        assert _snapshot(m) == before
        m.object_del("huge")


def test_hotplug_refused_by_plug_listener_is_rolled_back(tmp_path: Path) -> None:
    with _hotplug_machine(tmp_path) as m:
        m.object_add(ObjectOptions("memory-backend-ram", "spare", {"size": 4 * MiB}))
        before = _snapshot(m)

        def refuse(device: PCDimm) -> None:
            raise VnvdimmError(f"listener refuses {device.qom_name}")

        m.plug_listeners.append(refuse)
        message = error_message(lambda: m.device_add(
            {"driver": "nvdimm", "id": "new", "memdev": "spare"}, keyval=True))
        m.plug_listeners.clear()
        assert message == "listener refuses new"
        assert _snapshot(m) == before
        m.object_del("spare")


def test_hotplug_refused_without_nvdimm_machine_option() -> None:
    with build(["-m", "1G,slots=2,maxmem=2G"]) as m:
        m.object_add(ObjectOptions("memory-backend-ram", "r", {"size": 2 * MiB}))
        assert error_message(lambda: m.device_add(
            {"driver": "nvdimm", "memdev": "r"}, keyval=True)) == (
            "nvdimm is not enabled: missing 'nvdimm' in '-M'")
        assert m.memory_devices() == []
        m.object_del("r")
        assert m.backends() == [m.objects["pc.ram"]]


def test_hotplug_refused_on_machine_without_hotplug_handler() -> None:
    with build(["-machine", "microvm"]) as m:
        m.object_add(ObjectOptions("memory-backend-ram", "r", {"size": 2 * MiB}))
        assert error_message(lambda: m.device_add(
            {"driver": "pc-dimm", "memdev": "r"}, keyval=True)) == (
            "Device 'pc-dimm' can not be hotplugged on this machine")
        m.object_del("r")


# -- object_del -----------------------------------------------------------------------------


def test_object_del_refuses_backends_in_use(tmp_path: Path) -> None:
    args = [*NVDIMM_PC, "-m", "64M,slots=2,maxmem=1G",
            *_ram("r0", "32M"), *_ram("r1", "32M"),
            "-numa", "node,memdev=r0", "-numa", "node,memdev=r1",
            *_file("nvm", tmp_path / "n.img", "8M"), *_ram("free", "2M"),
            "-device", "nvdimm,id=nv,memdev=nvm"]
    with build(args) as m:
        for name in ("r0", "r1", "nvm"):
            assert error_message(partial(m.object_del, name)) == (
                f"object '{name}' is in use, can not be deleted")
            assert name in m.objects
        assert error_message(lambda: m.object_del("nope")) == "object 'nope' not found"
        m.object_del("free")
        assert "free" not in m.objects
        # The id is free again.
        m.object_add(ObjectOptions("memory-backend-ram", "free", {"size": 2 * MiB}))


def test_object_del_refuses_machine_memory_backend() -> None:
    args = ["-machine", "pc,memory-backend=ram", "-m", "64M", *_ram("ram", "64M")]
    with build(args) as m:
        assert error_message(lambda: m.object_del("ram")) == (
            "object 'ram' is in use, can not be deleted")


# -- pmem and label sizes ---------------------------------------------------------------------


@pytest.mark.parametrize(("backend", "label", "pmem"), [
    ("memory-backend-file,size=100M,align=2M", 128 * KiB, 98 * MiB),
    ("memory-backend-file,size=100M", 128 * KiB, 100 * MiB - 128 * KiB),
    ("memory-backend-file,size=100M,align=64K", 200 * KiB, 100 * MiB - 256 * KiB),
    ("memory-backend-file,size=100M", 0, 100 * MiB),
    ("memory-backend-ram,size=100M", 128 * KiB, 98 * MiB),
    ("memory-backend-ram,size=100M", 0, 100 * MiB),
    ("memory-backend-ram,size=3M", 1 * MiB, 2 * MiB),
    ("memory-backend-memfd,size=100M", 128 * KiB, 100 * MiB - 128 * KiB),
])
def test_pmem_size_and_label_view(tmp_path: Path, backend: str, label: int, pmem: int) -> None:
    path = f",mem-path={escape(tmp_path / 'img')}" if "file" in backend else ""
    label_opt = f",label-size={label}" if label else ""
    args = [*NVDIMM_PC, *MEM, "-object", f"{backend},id=m0{path}",
            "-device", f"nvdimm,id=nv,memdev=m0{label_opt}"]
    with build(args) as m:
        nv = m.find_device("nv")
        assert isinstance(nv, NVDimm)
        assert nv.memory_region_size() == pmem
        assert nv.get_property("size") == pmem
        backend_obj = nv.memdev
        assert backend_obj is not None
        size = backend_obj.size
        with nv.label_view() as labels:
            assert len(labels) == label
            if label:
                labels[0:2] = b"L0"
                labels[-2:] = b"LZ"
        with backend_obj.view[size - label: size] as tail:
            if label:
                assert bytes(tail[:2]) == b"L0" and bytes(tail[-2:]) == b"LZ"
        # The guest sees pmem, from backend offset 0, and not a byte more.
        m.write(nv.addr + pmem - 1, b"!")
        with backend_obj.view[pmem - 1: pmem] as last:
            assert bytes(last) == b"!"
        assert "not backed" in error_message(lambda: m.read(nv.addr + pmem, 1))


def test_pc_dimm_size_is_backend_size() -> None:
    args = [*NVDIMM_PC, *MEM, *_ram("m0", "6M"), "-device", "pc-dimm,id=d,memdev=m0"]
    with build(args) as m:
        assert m.find_device("d").memory_region_size() == 6 * MiB


@pytest.mark.parametrize(("backend", "message"), [
    ("memory-backend-file,size=2M,align=2M",
     "the size of memdev m0 (0x200000) is too small to contain nvdimm label (0x20000) and "
     "aligned PMEM (0x200000)"),
    ("memory-backend-ram,size=128K",
     "the size of memdev m0 (0x20000) is too small to contain nvdimm label (0x20000) and "
     "aligned PMEM (0x200000)"),
])
def test_backend_too_small_for_label(tmp_path: Path, backend: str, message: str) -> None:
    path = f",mem-path={escape(tmp_path / 'img')}" if "file" in backend else ""
    args = [*NVDIMM_PC, *MEM, "-object", f"{backend},id=m0{path}",
            "-device", "nvdimm,memdev=m0,label-size=128K"]
    assert build_error(args).message == message
