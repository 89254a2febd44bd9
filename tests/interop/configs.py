"""The guest configurations the interop suite boots (QEMU options, `{dir}` = a temp dir)."""

from __future__ import annotations

from dataclasses import dataclass, field

MiB = 1 << 20


@dataclass(frozen=True)
class GuestConfig:
    name: str
    machine: str
    args: tuple[str, ...]
    files: tuple[tuple[str, int], ...]  # backend files to create (sparse, zero): name, size
    memory: str = "256M,slots=4,maxmem=4G"
    smp: str = "1"
    # (APIC id, node) per CPU when -numa assigns CPUs (vnvdimm's config does not keep cpus=)
    cpu_nodes: tuple[tuple[int, int], ...] | None = None
    notes: str = field(default="", compare=False)
    kernel_args: str = ""  # appended to the guest's command line (vnv.* switches in /init)

    def qemu_options(self, directory: str) -> list[str]:
        out = ["-machine", self.machine, "-m", self.memory, "-smp", self.smp]
        out += [a.replace("{dir}", directory) for a in self.args]
        return out


def _nv(index: int, size: str, dev_extra: str = "", obj_extra: str = "",
        dev_id: str | None = None) -> tuple[str, ...]:
    obj = f"memory-backend-file,id=mem{index},share=on,mem-path={{dir}}/nv{index}.img,size={size}"
    dev = "nvdimm,memdev=mem" + str(index)
    if dev_id is None:
        dev_id = f"nvdimm{index}"
    if dev_id:
        dev = f"nvdimm,id={dev_id},memdev=mem{index}"
    return ("-object", obj + obj_extra, "-device", dev + dev_extra)


def _files(*sizes: int) -> tuple[tuple[str, int], ...]:
    return tuple((f"nv{i}.img", size) for i, size in enumerate(sizes, 1))


CONFIGS: tuple[GuestConfig, ...] = (
    GuestConfig("pc-1", "pc,nvdimm=on", _nv(1, "128M"), _files(128 * MiB)),
    GuestConfig("q35-1-label", "q35,nvdimm=on", _nv(1, "256M", ",label-size=128K"),
                _files(256 * MiB)),
    GuestConfig("pc-2", "pc,nvdimm=on",
                _nv(1, "128M", ",label-size=128K") + _nv(2, "128M"),
                _files(128 * MiB, 128 * MiB)),
    GuestConfig("q35-4", "q35,nvdimm=on",
                _nv(1, "64M") + _nv(2, "64M", ",label-size=256K") + _nv(3, "64M")
                + _nv(4, "64M"), _files(*[64 * MiB] * 4)),
    GuestConfig("pc-slot-addr", "pc,nvdimm=on",
                _nv(1, "128M", ",slot=5,addr=0x140000000") + _nv(2, "128M", ",slot=2")
                + _nv(3, "64M", ",label-size=128K"),
                _files(128 * MiB, 128 * MiB, 64 * MiB), memory="256M,slots=8,maxmem=8G"),
    GuestConfig("pc-numa", "pc,nvdimm=on",
                ("-object", "memory-backend-ram,id=r0,size=128M",
                 "-object", "memory-backend-ram,id=r1,size=128M",
                 "-numa", "node,nodeid=0,memdev=r0", "-numa", "node,nodeid=1,memdev=r1",
                 *_nv(1, "128M", ",node=1,label-size=128K"), *_nv(2, "64M", ",node=0")),
                _files(128 * MiB, 64 * MiB), smp="2"),
    GuestConfig("q35-numa-memoryless", "q35,nvdimm=on",
                ("-object", "memory-backend-ram,id=r0,size=256M",
                 "-numa", "node,nodeid=0,memdev=r0", "-numa", "node,nodeid=1",
                 *_nv(1, "128M", ",node=1")),
                _files(128 * MiB)),
    GuestConfig("pc-unarmed", "pc,nvdimm=on",
                _nv(1, "128M", ",unarmed=on,label-size=128K")
                + _nv(2, "64M", ",unarmed=on", ",readonly=on"),
                _files(128 * MiB, 64 * MiB)),
    GuestConfig("q35-persist-cpu", "q35,nvdimm=on,nvdimm-persistence=cpu",
                _nv(1, "128M") + _nv(2, "128M", ",label-size=128K"),
                _files(128 * MiB, 128 * MiB)),
    GuestConfig("pc-persist-memctrl", "pc,nvdimm=on,nvdimm-persistence=mem-ctrl",
                _nv(1, "128M"), _files(128 * MiB)),
    GuestConfig("pc-mix", "pc,nvdimm=on",
                ("-object", "memory-backend-ram,id=ram1,size=128M",
                 "-device", "pc-dimm,id=dimm1,memdev=ram1",
                 *_nv(1, "128M", dev_id=""),
                 "-object", "memory-backend-ram,id=ram2,size=128M",
                 "-device", "pc-dimm,memdev=ram2",
                 *_nv(2, "64M", ",label-size=128K", dev_id="pmemA")),
                _files(128 * MiB, 64 * MiB)),
    GuestConfig("q35-oem", "q35,nvdimm=on,x-oem-id=ABC,x-oem-table-id=TBL1",
                _nv(1, "64M"), _files(64 * MiB)),
    GuestConfig("pc-7-mixed-ids", "pc,nvdimm=on",
                _nv(1, "32M") + _nv(2, "32M", dev_id="") + _nv(3, "32M", dev_id="zz")
                + _nv(4, "32M", dev_id="aa") + _nv(5, "32M", dev_id="")
                + _nv(6, "32M", dev_id="mm") + _nv(7, "32M", ",label-size=128K"),
                _files(*[32 * MiB] * 7), memory="256M,slots=8,maxmem=4G"),
    GuestConfig("pc61-smp4-numa", "pc-i440fx-6.1,nvdimm=on",
                ("-object", "memory-backend-ram,id=r0,size=128M",
                 "-object", "memory-backend-ram,id=r1,size=128M",
                 "-numa", "node,nodeid=0,memdev=r0", "-numa", "node,nodeid=1,memdev=r1",
                 *_nv(1, "64M", ",node=1")),
                _files(64 * MiB), smp="4",
                notes="sockets preferred: QEMU's default CPU mapping is socket % nodes"),
)
