"""The conformance cases, as data.

Each case is one command line (the NVDIMM-related part only) plus the files it
needs. ``expect_error`` is a substring of what real QEMU 7.2 prints; it only
guards against a case silently drifting to a different error. The actual
comparison is always against a live QEMU run (see test_cli_conformance.py), and
``qemu-7.2-observed.txt`` records what QEMU printed for every case.

Conventions: the default machine is ``pc`` with 256 MiB of RAM, 4 slots and
maxmem 4 GiB, so device memory starts at 0x100000000 and is 0x1f0000000 bytes
long. RAM backends are 2 MiB aligned; file backends are 4 KiB aligned unless
``align`` is given. Files are sparse (cheap), never preallocated.
"""

from __future__ import annotations

from .model import Case, Content, FileSpec

MIB = 1 << 20
GIB = 1 << 30


def cmd(text: str) -> tuple[str, ...]:
    """Split a command line on whitespace (no case needs spaces inside an argument)."""
    return tuple(text.split())


# Building blocks ----------------------------------------------------------------

PC = "-machine pc,nvdimm=on -m 256M,slots=4,maxmem=4G"
Q35 = "-machine q35,nvdimm=on -m 256M,slots=4,maxmem=4G"
RAM1 = "-object memory-backend-ram,id=mem1,size=128M"
RAM2 = "-object memory-backend-ram,id=mem2,size=128M"
NV1 = "-device nvdimm,id=nv1,memdev=mem1"
NV2 = "-device nvdimm,id=nv2,memdev=mem2"
IMG = "{tmp}/nv1.img"


def sparse(path: str, size: int) -> FileSpec:
    return FileSpec(path, size, Content.SPARSE)


def rand(path: str, size: int) -> FileSpec:
    return FileSpec(path, size, Content.RANDOM)


def directory(path: str) -> FileSpec:
    return FileSpec(path, content=Content.DIRECTORY)


IMG_128M = (rand("nv1.img", 128 * MIB),)


# -m / -machine: rejected ----------------------------------------------------------

MEMORY_ERRORS = (
    Case(
        "m-slots-without-maxmem",
        cmd("-machine pc,nvdimm=on -m 256M,slots=4"),
        expect_error="slots specified but no max-size",
    ),
    Case(
        "m-slots-maxmem-equals-size",
        cmd("-machine pc,nvdimm=on -m 256M,slots=4,maxmem=256M"),
        expect_error="memory slots were specified but maximum memory size (0x10000000) is",
    ),
    Case(
        "m-maxmem-below-size",
        cmd("-machine pc,nvdimm=on -m 256M,slots=4,maxmem=128M"),
        expect_error="must be at least the initial memory size (0x10000000)",
    ),
    Case(
        "m-maxmem-not-page-aligned",
        cmd("-machine pc,nvdimm=on -m 256M,slots=4,maxmem=4294967297"),
        expect_error="maximum memory size must by aligned to multiple of 4096 bytes",
    ),
    Case(
        "m-too-many-slots",
        cmd("-machine pc,nvdimm=on -m 256M,slots=257,maxmem=4G"),
        expect_error="unsupported amount of memory slots: 257",
    ),
    Case(
        "m-bad-size-suffix",
        cmd("-machine pc,nvdimm=on -m 12X"),
        expect_error="Parameter 'size' expects a non-negative number below 2^64",
    ),
    Case(
        "m-size-out-of-range",
        cmd("-machine pc,nvdimm=on -m 16E"),
        expect_error="Value '16E' is out of range for parameter 'size'",
    ),
    Case(
        "m-unknown-parameter",
        cmd("-machine pc,nvdimm=on -m 256M,foo=1"),
        expect_error="Invalid parameter 'foo'",
    ),
    Case(
        "m-slots-not-a-number",
        cmd("-machine pc,nvdimm=on -m 256M,slots=abc,maxmem=2G"),
        expect_error="Parameter 'slots' expects a number",
    ),
    Case(
        "m-maxmem-beyond-phys-bits",
        cmd("-machine pc,nvdimm=on -m 256M,slots=4,maxmem=2T"),
        expect_error="phys-bits too low (40)",
    ),
    Case(
        "m-isapc-slots",
        cmd("-machine isapc -m 256M,slots=4,maxmem=2G"),
        expect_error="\"-memory 'slots|maxmem'\" is not supported by: isapc",
    ),
    Case(
        "q35-m-slots-maxmem-equals-size",
        cmd("-machine q35,nvdimm=on -m 256M,slots=2,maxmem=256M"),
        expect_error="memory slots were specified but maximum memory size",
    ),
    Case(
        "q35-m-too-many-slots",
        cmd("-machine q35,nvdimm=on -m 256M,slots=300,maxmem=4G"),
        expect_error="unsupported amount of memory slots: 300",
    ),
)

MEMORY_ERRORS_MORE = (
    Case(
        "m-size-overflow-after-mib-default",
        cmd("-machine pc,nvdimm=on -m 18446744073709550000"),
        expect_error="Parameter 'memory.size' expects size",
        note="a size ending in a digit gets 'M' appended first, which then overflows",
    ),
    Case(
        "m-maxmem-no-suffix-is-bytes",
        cmd("-machine pc,nvdimm=on -m 256M,slots=1,maxmem=1024"),
        expect_error="maximum memory size (0x400) must be at least the initial memory size",
    ),
)

MACHINE_ERRORS = (
    Case(
        "machine-nvdimm-without-value",
        cmd(f"-machine pc,nvdimm {RAM1} {NV1}"),
        expect_error="Expected '=' after parameter 'nvdimm'",
    ),
    Case(
        "machine-nvdimm-bad-bool",
        cmd("-machine pc,nvdimm=maybe -m 256M,slots=4,maxmem=4G"),
        expect_error="Parameter 'nvdimm' expects 'on' or 'off'",
    ),
    Case(
        "machine-nvdimm-persistence-bad",
        cmd("-machine pc,nvdimm=on,nvdimm-persistence=foo -m 256M,slots=4,maxmem=4G"),
        expect_error="-machine nvdimm-persistence=foo: unsupported option",
    ),
    Case(
        "machine-unknown-property",
        cmd("-machine pc,nvdimm=on,foo=bar"),
        expect_error="Property 'pc-i440fx-7.2-machine.foo' not found",
    ),
    Case("machine-unknown-type", cmd("-machine foo"), expect_error="unsupported machine type"),
    Case(
        "nvdimm-off-default",
        cmd(f"-machine pc -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
        expect_error="nvdimm is not enabled: missing 'nvdimm' in '-M'",
    ),
    Case(
        "nvdimm-off-explicit-q35",
        cmd(f"-M q35,nvdimm=off -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
        expect_error="nvdimm is not enabled: missing 'nvdimm' in '-M'",
    ),
    Case(
        "acpi-off",
        cmd(f"-machine pc,nvdimm=on,acpi=off -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: missing acpi device or acpi disabled",
    ),
    Case(
        "piix4-memory-hotplug-off",
        cmd(f"{PC} -global PIIX4_PM.memory-hotplug-support=off {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: PIIX4_PM.memory-hotplug-support is not set",
    ),
)

# -object: rejected ---------------------------------------------------------------

OBJECT_ERRORS = (
    Case(
        "obj-ram-missing-size",
        cmd(f"{PC} -object memory-backend-ram,id=mem1 {NV1}"),
        expect_error="Parameter 'size' is missing",
    ),
    Case(
        "obj-file-missing-size",
        cmd(f"{PC} -object memory-backend-file,id=mem1,mem-path={IMG}"),
        files=IMG_128M,
        expect_error="Parameter 'size' is missing",
    ),
    Case(
        "obj-file-missing-mem-path",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M"),
        expect_error="Parameter 'mem-path' is missing",
    ),
    Case(
        "obj-ram-size-zero",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=0"),
        expect_error="property 'size' of memory-backend-ram doesn't take value '0'",
    ),
    Case(
        "obj-file-size-zero",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=0,mem-path={IMG}"),
        files=IMG_128M,
        expect_error="property 'size' of memory-backend-file doesn't take value '0'",
    ),
    Case(
        "obj-ram-size-negative",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=-1"),
        expect_error="Parameter 'size' expects a size value",
    ),
    Case(
        "obj-ram-size-bad-suffix",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=12X"),
        expect_error="Parameter 'size' expects a size value",
    ),
    Case(
        "obj-json-size-string",
        (*cmd(PC), "-object", '{"qom-type":"memory-backend-ram","id":"mem1","size":"1G"}'),
        expect_error="Parameter 'size' expects uint64",
    ),
    Case(
        "obj-unknown-property",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,foo=1"),
        expect_error="Invalid parameter 'foo'",
        note="keyval -object: QemuOpts message, not the QAPI 'is unexpected' one",
    ),
    Case(
        "obj-json-unknown-member",
        (
            *cmd(PC),
            "-object",
            '{"qom-type":"memory-backend-ram","id":"mem1","size":134217728,"foo":1}',
        ),
        expect_error="Parameter 'foo' is unexpected",
    ),
    Case(
        "obj-json-missing-size",
        (*cmd(PC), "-object", '{"qom-type":"memory-backend-ram","id":"mem1"}'),
        expect_error="Parameter 'size' is missing",
    ),
    Case(
        "obj-file-offset-not-in-7.2",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},offset=0"),
        files=IMG_128M,
        expect_error="Invalid parameter 'offset'",
    ),
    Case(
        "obj-file-rom-not-in-7.2",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},rom=off"),
        files=IMG_128M,
        expect_error="Invalid parameter 'rom'",
    ),
    Case(
        "obj-missing-id",
        cmd(f"{PC} -object memory-backend-ram,size=128M"),
        expect_error="Parameter 'id' is missing",
    ),
    Case(
        "obj-bad-id",
        cmd(f"{PC} -object memory-backend-ram,id=1mem,size=128M"),
        expect_error="Parameter 'id' expects an identifier",
    ),
    Case(
        "obj-bad-bool",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,share=maybe"),
        expect_error="Parameter 'share' expects 'on' or 'off'",
    ),
    Case(
        "obj-duplicate-id",
        cmd(f"{PC} {RAM1} -object memory-backend-ram,id=mem1,size=64M"),
        expect_error="Duplicate ID 'mem1' for object",
        note="two keyval -objects: caught by QemuOpts while parsing",
    ),
    Case(
        "obj-duplicate-id-json",
        (
            *cmd(f"{PC} {RAM1}"),
            "-object",
            '{"qom-type":"memory-backend-ram","id":"mem1","size":67108864}',
        ),
        expect_error="attempt to add duplicate property 'mem1' to object (type 'container')",
        note="JSON -object bypasses QemuOpts: caught when adding /objects/mem1",
    ),
    Case(
        "obj-id-pc-ram-reserved",
        cmd(f"{PC} -object memory-backend-ram,id=pc.ram,size=128M"),
        expect_error="object name 'pc.ram' is reserved for the default RAM backend, it can't be "
        "used for any other purposes. Change the object's 'id' to something else",
    ),
    Case(
        "obj-id-pc-ram-reserved-file",
        cmd(f"{PC} -object memory-backend-file,id=pc.ram,size=1M,mem-path={IMG}"),
        expect_error="object name 'pc.ram' is reserved for the default RAM backend",
        qemu_leaves_strays=True,
        note="QEMU creates nv1.img while creating the object, the check comes later",
    ),
    Case(
        "obj-invalid-type",
        cmd(f"{PC} -object memory-backend-foo,id=mem1,size=128M"),
        expect_error="Parameter 'qom-type' does not accept value 'memory-backend-foo'",
        note="7.2 rejects this in the QAPI union visit, not with 'invalid object type'",
    ),
    Case(
        "obj-abstract-type",
        cmd(f"{PC} -object memory-backend,id=mem1,size=128M"),
        expect_error="Parameter 'qom-type' does not accept value 'memory-backend'",
    ),
    Case(
        "obj-prealloc-without-reserve",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,prealloc=on,reserve=off"),
        expect_error="'prealloc=on' and 'reserve=off' are incompatible",
    ),
    Case(
        "obj-prealloc-threads-zero",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,prealloc-threads=0"),
        expect_error="property 'prealloc-threads' of memory-backend-ram doesn't take value '0'",
    ),
    Case(
        "obj-host-nodes-out-of-range",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,host-nodes=200,policy=bind"),
        expect_error="Invalid host-nodes value: 200",
    ),
    Case(
        "obj-host-nodes-policy-default",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,host-nodes=0"),
        expect_error="host-nodes must be empty for policy default",
    ),
    Case(
        "obj-policy-without-host-nodes",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=128M,policy=bind"),
        expect_error="host-nodes must be set for policy bind",
    ),
    Case(
        "obj-memfd-hugetlbsize-zero",
        cmd(f"{PC} -object memory-backend-memfd,id=mem1,size=128M,hugetlbsize=0"),
        expect_error="Property 'memory-backend-memfd.hugetlbsize' doesn't take value '0'",
    ),
)

# memory-backend-file allocation: rejected ------------------------------------------

FILE_ERRORS = (
    Case(
        "file-smaller-than-size",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG} {NV1}"),
        files=(rand("nv1.img", 64 * MIB),),
        expect_error="backing store size 0x4000000 does not match 'size' option 0x8000000",
    ),
    Case(
        "file-smaller-than-size-unaligned",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=1000000,mem-path={IMG} {NV1}"),
        files=(rand("nv1.img", 4096),),
        expect_error="backing store size 0x1000 does not match 'size' option 0xf5000",
        note="the 'size' number is the size rounded up to the host page",
    ),
    Case(
        "file-missing-directory",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={{tmp}}/nodir/nv1.img"),
        expect_error="can't open backing store {tmp}/nodir/nv1.img for guest RAM: "
        "No such file or directory",
    ),
    Case(
        "file-align-not-power-of-two",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},align=3M"),
        files=IMG_128M,
        expect_error="alignment 0x300000 must be a power of two",
    ),
    Case(
        "file-align-not-page-multiple",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},align=6K"),
        files=IMG_128M,
        expect_error="alignment 0x1800 must be multiples of page size 0x1000",
    ),
    Case(
        "file-new-align-not-power-of-two",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},align=3M"),
        expect_error="alignment 0x300000 must be a power of two",
        note="QEMU creates the missing file, then unlinks it again on failure",
    ),
    Case(
        "file-exact-size-not-page-multiple",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=1000000,mem-path={IMG} {NV1}"),
        files=(rand("nv1.img", 1000000),),
        expect_error="backing store size 0xf4240 does not match 'size' option 0xf5000",
        note="a file of exactly 'size' bytes is too small when 'size' is not page aligned",
    ),
    Case(
        "file-dir-align-not-power-of-two",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={{tmp}}/d,align=3M"),
        files=(directory("d"),),
        expect_error="alignment 0x300000 must be a power of two",
        note="mem-path is a directory: QEMU uses an unlinked mkstemp file inside it",
    ),
    Case(
        "file-readonly-without-unarmed",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},readonly=on {NV1}"),
        files=IMG_128M,
        expect_error="'unarmed' property must be 'on' since memdev mem1 is read-only",
    ),
    Case(
        "file-readonly-directory",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={{tmp}}/d,"
            f"readonly=on {NV1},unarmed=on"
        ),
        files=(directory("d"),),
        expect_error="unable to map backing store for guest RAM: No such device",
        note="7.2 opens the directory itself read-only and fails later",
    ),
    Case(
        "file-new-then-device-error",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG} {NV1},label-size=4K"
        ),
        expect_error="Property 'nvdimm.label-size' (0x1000) is required at least 0x20000",
        qemu_leaves_strays=True,
        note="QEMU created nv1.img (0644, truncated to 128M) and exits without removing it",
    ),
    Case(
        "file-new-then-duplicate-object",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG} "
            "-object memory-backend-ram,id=mem1,size=64M"
        ),
        expect_error="Duplicate ID 'mem1' for object",
        note="caught while parsing: nothing was created yet",
    ),
    Case(
        "file-new-then-duplicate-json-object",
        (
            *cmd(f"{PC} -object memory-backend-file,id=mem1,size=1M,mem-path={IMG}"),
            "-object",
            '{"qom-type":"memory-backend-ram","id":"mem1","size":1048576}',
        ),
        expect_error="attempt to add duplicate property 'mem1' to object (type 'container')",
        qemu_leaves_strays=True,
        note="QEMU created nv1.img for the first object and exits without removing it",
    ),
)

# -device nvdimm / pc-dimm: rejected ----------------------------------------------

DEVICE_ERRORS = (
    Case(
        "dev-unknown-driver",
        cmd(f"{PC} {RAM1} -device nvdimmx,memdev=mem1"),
        expect_error="'nvdimmx' is not a valid device model name",
    ),
    Case(
        "dev-unknown-property",
        cmd(f"{PC} {RAM1} {NV1},foo=1"),
        expect_error="Property 'nvdimm.foo' not found",
    ),
    Case(
        "dev-missing-memdev",
        cmd(f"{PC} -device nvdimm,id=nv1"),
        expect_error="'memdev' property must be set",
    ),
    Case(
        "dimm-missing-memdev",
        cmd(f"{PC} -device pc-dimm,id=d1"),
        expect_error="'memdev' property must be set",
    ),
    Case(
        "dev-memdev-not-found",
        cmd(f"{PC} {RAM1} -device nvdimm,id=nv1,memdev=mem9"),
        expect_error="Device 'mem9' not found",
    ),
    Case(
        "dev-memdev-wrong-type",
        cmd(f"{PC} -object iothread,id=io0 -device nvdimm,memdev=io0"),
        expect_error="Invalid parameter type for 'memdev', expected: memory-backend",
    ),
    Case(
        "dev-memdev-busy",
        cmd(f"{PC} {RAM1} {NV1} -device nvdimm,id=nv2,memdev=mem1"),
        expect_error="can't use already busy memdev: mem1",
    ),
    Case(
        "dimm-memdev-busy",
        cmd(f"{PC} {RAM1} {NV1} -device pc-dimm,id=d1,memdev=mem1"),
        expect_error="can't use already busy memdev: mem1",
    ),
    Case(
        "dev-duplicate-id",
        cmd(f"{PC} {RAM1} {RAM2} {NV1} -device nvdimm,id=nv1,memdev=mem2"),
        expect_error="Duplicate ID 'nv1' for device",
        note="two keyval -devices: caught by QemuOpts while parsing",
    ),
    Case(
        "dev-duplicate-id-json",
        (
            *cmd(f"{PC} {RAM1} {RAM2} {NV1}"),
            "-device",
            '{"driver":"nvdimm","id":"nv1","memdev":"mem2"}',
        ),
        expect_error="Duplicate device ID 'nv1'",
    ),
    Case(
        "dev-label-size-too-small",
        cmd(f"{PC} {RAM1} {NV1},label-size=4K"),
        expect_error="Property 'nvdimm.label-size' (0x1000) is required at least 0x20000",
    ),
    Case(
        "dev-label-size-zero",
        cmd(f"{PC} {RAM1} {NV1},label-size=0"),
        expect_error="Property 'nvdimm.label-size' (0x0) is required at least 0x20000",
    ),
    Case(
        "dev-label-size-not-a-size",
        cmd(f"{PC} {RAM1} {NV1},label-size=abc"),
        expect_error="Parameter 'label-size' expects size",
    ),
    Case(
        "dev-bad-uuid",
        cmd(f"{PC} {RAM1} {NV1},uuid=xyz"),
        expect_error="Property 'nvdimm.uuid' has invalid value",
    ),
    Case(
        "dev-slot-not-a-number",
        cmd(f"{PC} {RAM1} {NV1},slot=abc"),
        expect_error="Parameter 'slot' expects integer",
    ),
    Case("dev-unarmed-bad-bool", cmd(f"{PC} {RAM1} {NV1},unarmed=maybe"), expect_error="'unarmed'"),
    Case(
        "dev-too-small-ram",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=2M {NV1},label-size=128K"),
        expect_error="the size of memdev mem1 (0x200000) is too small to contain nvdimm label "
        "(0x20000) and aligned PMEM (0x200000)",
    ),
    Case(
        "dev-ram-below-2m-no-label",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=1M {NV1}"),
        expect_error="the size of memdev mem1 (0x100000) is too small to contain nvdimm label "
        "(0x0) and aligned PMEM (0x200000)",
    ),
    Case(
        "dev-too-small-file",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128K,mem-path={IMG} "
            f"{NV1},label-size=128K"
        ),
        files=(rand("nv1.img", 128 * 1024),),
        expect_error="the size of memdev mem1 (0x20000) is too small to contain nvdimm label "
        "(0x20000) and aligned PMEM (0x1000)",
    ),
    Case(
        "dev-too-small-file-align-2m",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=2M,mem-path={IMG},align=2M "
            f"{NV1},label-size=128K"
        ),
        files=(rand("nv1.img", 2 * MIB),),
        expect_error="(0x200000) is too small to contain nvdimm label (0x20000) and aligned "
        "PMEM (0x200000)",
    ),
    Case(
        "dev-file-size-below-page",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=2K,mem-path={IMG} {NV1}"),
        files=(rand("nv1.img", 4096),),
        expect_error="the size of memdev mem1 (0x800) is too small to contain nvdimm label "
        "(0x0) and aligned PMEM (0x1000)",
        note="the backend itself is accepted: 7.2 rounds 'size' up to the host page before "
        "its page-size check, but the region keeps the exact 2K",
    ),
    Case(
        "dimm-size-not-multiple-of-align",
        cmd(f"{PC} -object memory-backend-ram,id=mem1,size=3M -device pc-dimm,id=d1,memdev=mem1"),
        expect_error="backend memory size must be multiple of 0x200000",
    ),
    Case(
        "dev-node-out-of-range",
        cmd(f"{PC} {RAM1} {NV1},node=1"),
        expect_error="'DIMM property node has value 1' which exceeds the number of numa nodes: 1",
    ),
    Case(
        "dev-node-out-of-range-numa",
        cmd(
            f"{PC} -object memory-backend-ram,id=r0,size=128M "
            "-object memory-backend-ram,id=r1,size=128M -numa node,nodeid=0,memdev=r0 "
            f"-numa node,nodeid=1,memdev=r1 {RAM1} {NV1},node=2"
        ),
        expect_error="'DIMM property node has value 2' which exceeds the number of numa nodes: 2",
    ),
    Case(
        "dimm-node-out-of-range",
        cmd(f"{PC} {RAM1} -device pc-dimm,id=d1,memdev=mem1,node=3"),
        expect_error="'DIMM property node has value 3' which exceeds the number of numa nodes: 1",
    ),
)

# slots, space and addresses: rejected ----------------------------------------------

PLACEMENT_ERRORS = (
    Case(
        "slot-out-of-range",
        cmd(f"{PC} {RAM1} {NV1},slot=4"),
        expect_error="invalid slot number 4, valid range is [0-3]",
    ),
    Case(
        "slot-negative",
        cmd(f"{PC} {RAM1} {NV1},slot=-2"),
        expect_error="invalid slot number -2, valid range is [0-3]",
    ),
    Case(
        "slot-without-slots-option",
        cmd(f"-machine pc,nvdimm=on -m 256M,maxmem=4G {RAM1} {NV1},slot=0"),
        expect_error="invalid slot number 0, valid range is [0-18446744073709551615]",
    ),
    Case(
        "slot-busy",
        cmd(f"{PC} {RAM1} {RAM2} {NV1},slot=1 {NV2},slot=1"),
        expect_error="slot 1 is busy",
    ),
    Case(
        "slot-busy-q35",
        cmd(f"{Q35} {RAM1} {RAM2} {NV1} {NV2},slot=0"),
        expect_error="slot 0 is busy",
    ),
    Case(
        "no-free-slots",
        cmd(f"-machine pc,nvdimm=on -m 256M,slots=1,maxmem=4G {RAM1} {RAM2} {NV1} {NV2}"),
        expect_error="no free slots available",
    ),
    Case(
        "maxmem-without-slots",
        cmd(f"-machine pc,nvdimm=on -m 256M,maxmem=4G {RAM1} {NV1}"),
        expect_error="no slots where allocated, please specify the 'slots' option",
    ),
    Case(
        "no-maxmem-no-slots",
        cmd(f"-machine pc,nvdimm=on -m 256M {RAM1} {NV1}"),
        expect_error="no slots where allocated, please specify the 'slots' option",
    ),
    Case(
        "not-enough-space",
        cmd(
            "-machine pc,nvdimm=on -m 256M,slots=2,maxmem=384M "
            f"-object memory-backend-ram,id=mem1,size=256M {NV1}"
        ),
        expect_error="not enough space, currently 0x0 in use of total space for memory devices "
        "0x8000000",
    ),
    Case(
        "not-enough-space-second",
        cmd(
            f"-machine q35,nvdimm=on -m 256M,slots=2,maxmem=512M {RAM1} "
            f"-object memory-backend-ram,id=mem2,size=192M {NV1} {NV2}"
        ),
        expect_error="not enough space, currently 0x8000000 in use of total space for memory "
        "devices 0x10000000",
    ),
    Case(
        "addr-misaligned",
        cmd(f"{PC} {RAM1} {NV1},addr=0x100001000"),
        expect_error="address must be aligned to 0x200000 bytes",
    ),
    Case(
        "addr-below-range",
        cmd(f"{PC} {RAM1} {NV1},addr=0x80000000"),
        expect_error="can't add memory device [0x80000000:0x8000000], usable range for memory "
        "devices [0x100000000:0x1f0000000]",
    ),
    Case(
        "addr-above-range",
        cmd(f"{PC} {RAM1} {NV1},addr=0x2ec000000"),
        expect_error="can't add memory device [0x2ec000000:0x8000000], usable range",
    ),
    Case(
        "addr-conflict",
        cmd(f"{PC} {RAM1} {RAM2} {NV1} {NV2},addr=0x106000000"),
        expect_error="address range conflicts with memory device id='nv1'",
    ),
    Case(
        "addr-conflict-unnamed",
        cmd(f"{PC} {RAM1} {RAM2} -device nvdimm,memdev=mem1 {NV2},addr=0x100000000"),
        expect_error="address range conflicts with memory device id='(unnamed)'",
    ),
    Case(
        "addr-conflict-dimm",
        cmd(f"{PC} {RAM1} {RAM2} -device pc-dimm,id=d1,memdev=mem1 {NV2},addr=0x100000000"),
        expect_error="address range conflicts with memory device id='d1'",
    ),
    Case(
        "addr-misaligned-file-align",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},align=1M "
            f"{NV1},addr=0x100080000"
        ),
        files=IMG_128M,
        expect_error="address must be aligned to 0x100000 bytes",
    ),
)

# Accepted configurations ---------------------------------------------------------

ACCEPTED = (
    Case("ok-nvdimm-enabled-no-devices", cmd(PC)),
    Case("ok-one-ram", cmd(f"{PC} {RAM1} {NV1}")),
    Case("ok-one-ram-q35", cmd(f"{Q35} {RAM1} {NV1}")),
    Case(
        "ok-versioned-i440fx",
        cmd(f"-machine pc-i440fx-7.2,nvdimm=on -m 256M,slots=2,maxmem=1G {RAM1} {NV1}"),
    ),
    Case(
        "ok-versioned-q35",
        cmd(f"-M pc-q35-7.2,nvdimm=on -m 256M,slots=2,maxmem=1G {RAM1} {NV1},label-size=128K"),
    ),
    Case("ok-two-ram", cmd(f"{PC} {RAM1} {RAM2} {NV1} {NV2}")),
    Case(
        "ok-four-mixed-backends",
        cmd(
            f"{Q35} {RAM1} -object memory-backend-file,id=mem2,size=64M,mem-path={{tmp}}/b.img "
            "-object memory-backend-memfd,id=mem3,size=32M "
            "-object memory-backend-file,id=mem4,size=16M,mem-path={tmp}/d.img,share=on "
            f"{NV1} {NV2},label-size=128K -device nvdimm,id=nv3,memdev=mem3 "
            "-device nvdimm,id=nv4,memdev=mem4,label-size=256K"
        ),
        files=(rand("b.img", 64 * MIB), sparse("d.img", 16 * MIB)),
    ),
    Case(
        "ok-explicit-slot-and-addr",
        cmd(f"{PC} {RAM1} {RAM2} {NV1},slot=3,addr=0x140000000 {NV2},slot=1"),
    ),
    Case(
        "ok-auto-fills-gap-before-explicit-addr",
        cmd(f"{PC} {RAM1} {RAM2} {NV1},addr=0x108000000 {NV2}"),
    ),
    Case(
        "ok-file-share-on",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,"
            f"mem-path={IMG},share=on {NV1},label-size=128K"
        ),
        files=IMG_128M,
    ),
    Case(
        "ok-file-share-off",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},share=off {NV1}"),
        files=IMG_128M,
    ),
    Case(
        "ok-file-align-2m",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=129M,"
            f"mem-path={IMG},align=2M,share=on {NV1},label-size=128K"
        ),
        files=(rand("nv1.img", 129 * MIB),),
    ),
    Case(
        "ok-file-size-not-2m-multiple",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=129M,mem-path={IMG} "
            f"{NV1},label-size=128K -object memory-backend-ram,id=mem2,size=65M {NV2}"
        ),
        files=(rand("nv1.img", 129 * MIB),),
    ),
    Case(
        "ok-file-size-not-page-multiple",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=1000000,mem-path={IMG} {NV1}"),
        files=(rand("nv1.img", 0xF5000),),
    ),
    Case(
        "ok-file-new-size-below-page",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=2K,mem-path={IMG}"),
        note="the created file is truncated to one page, not to 'size'",
    ),
    Case(
        "ok-file-larger-than-size",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG},share=on "
            f"{NV1},label-size=128K"
        ),
        files=IMG_128M,
    ),
    Case(
        "ok-file-empty-is-truncated",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG},share=on {NV1}"),
        files=(sparse("nv1.img", 0),),
    ),
    Case(
        "ok-file-missing-is-created",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG} {NV1}"),
    ),
    Case(
        "ok-file-mem-path-directory",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={{tmp}}/d {NV1}"),
        files=(directory("d"),),
    ),
    Case(
        "ok-file-readonly-unarmed",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=128M,mem-path={IMG},readonly=on "
            f"{NV1},unarmed=on"
        ),
        files=IMG_128M,
    ),
    Case(
        "ok-file-readonly-missing-is-created",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG},readonly=on "
            f"{NV1},unarmed=on"
        ),
        note="7.2 creates a missing file even with readonly=on",
    ),
    Case(
        "ok-file-pmem-share-on",
        cmd(
            f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG},pmem=on,share=on "
            f"{NV1}"
        ),
        files=(sparse("nv1.img", 64 * MIB),),
        expect_warning="Using non DAX backing file with 'pmem=on' option is deprecated",
    ),
    Case(
        "ok-file-pmem-share-off",
        cmd(f"{PC} -object memory-backend-file,id=mem1,size=64M,mem-path={IMG},pmem=on {NV1}"),
        files=(sparse("nv1.img", 64 * MIB),),
    ),
    Case(
        "ok-file-4g-sparse",
        cmd(
            f"-machine q35,nvdimm=on -m 256M,slots=2,maxmem=9G "
            f"-object memory-backend-file,id=mem1,size=4G,mem-path={IMG},share=on "
            f"{NV1},label-size=128K"
        ),
        files=(rand("nv1.img", 4 * GIB),),
    ),
    Case("ok-memfd", cmd(f"{PC} -object memory-backend-memfd,id=mem1,size=128M {NV1}")),
    Case(
        "ok-ram-share-on-label",
        cmd(
            f"{PC} -object memory-backend-ram,id=mem1,size=128M,share=on "
            f"{NV1},label-size=128K,uuid=6a5f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
        ),
    ),
    Case(
        "ok-numa-nodes",
        cmd(
            f"{PC} -object memory-backend-ram,id=r0,size=128M "
            "-object memory-backend-ram,id=r1,size=128M -numa node,nodeid=0,memdev=r0 "
            f"-numa node,nodeid=1,memdev=r1 {RAM1} {RAM2} {NV1},node=1 {NV2}"
        ),
    ),
    Case(
        "ok-dimm-mixed-with-nvdimms",
        cmd(
            f"{PC} {RAM1} -object memory-backend-ram,id=mem2,size=64M "
            "-object memory-backend-ram,id=mem3,size=32M "
            f"{NV1} -device pc-dimm,id=d1,memdev=mem2 -device nvdimm,id=nv3,memdev=mem3"
        ),
    ),
    Case(
        "ok-dimm-only-nvdimm-off",
        cmd(f"-machine pc -m 256M,slots=2,maxmem=1G {RAM1} -device pc-dimm,id=d1,memdev=mem1"),
    ),
    Case("ok-unnamed-nvdimm", cmd(f"{PC} {RAM1} -device nvdimm,memdev=mem1")),
    Case(
        "ok-persistence-cpu",
        cmd(f"-machine pc,nvdimm=on,nvdimm-persistence=cpu -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
    ),
    Case(
        "ok-persistence-mem-ctrl",
        cmd(
            f"-machine q35,nvdimm=on,nvdimm-persistence=mem-ctrl -m 256M,slots=4,maxmem=4G "
            f"{RAM1} {NV1}"
        ),
    ),
    Case(
        "ok-m-without-suffix-maxmem-bytes",
        cmd(f"-machine pc,nvdimm=on -m 256,slots=2,maxmem=1073741824 {RAM1} {NV1}"),
    ),
    Case(
        "ok-m-size-key-256-slots",
        cmd(f"-machine pc,nvdimm=on -m size=200M,slots=256,maxmem=2G {RAM1} {NV1},slot=255"),
        qemu_stderr_not_emulated=("warning: ACPI table size ", "Try removing CPUs"),
        note="QEMU warns that its ACPI tables exceed 64 KiB (a migration concern); "
        "vnvdimm has no migration and does not build the DSDT, so it does not warn",
    ),
    Case(
        "ok-json-object",
        (
            *cmd(PC),
            "-object",
            '{"qom-type":"memory-backend-ram","id":"mem1","size":134217728}',
            *cmd(NV1),
        ),
    ),
    Case(
        "ok-slots-zero-no-devices",
        cmd("-machine q35,nvdimm=on -m 256M,slots=0,maxmem=1G"),
    ),
    Case(
        "ok-m-zero-means-default",
        cmd(f"-machine pc,nvdimm=on -m 0 {RAM1}"),
        note="-m 0 selects the 128 MiB default",
    ),
    Case("ok-maxmem-without-slots-no-devices", cmd("-machine pc,nvdimm=on -m 256M,maxmem=4G")),
)

# Hotplug over HMP ----------------------------------------------------------------
#
# A case's ``monitor`` lines are typed after start-up, before the standard
# ``info memory-devices`` / ``info memdev`` / ``quit``. The machine starts
# (exit status 0) and each refused command prints ``Error: ...`` on the monitor.

A2 = "object_add memory-backend-ram,id=mem2,size=128M"
A3 = "object_add memory-backend-ram,id=mem3,size=128M"
D2 = "device_add nvdimm,id=nv2,memdev=mem2"
D3 = "device_add nvdimm,id=nv3,memdev=mem3"
COLD1 = f"{PC} {RAM1} {NV1}"
"""pc with nv1 (mem1, 128M) cold-plugged at 0x100000000 in slot 0."""


def hmp(*lines: str) -> tuple[str, ...]:
    return lines


def error(text: str) -> tuple[str, ...]:
    return (f"Error: {text}",)


HOTPLUG_OK = (
    Case(
        "hp-ok-pc",
        cmd(COLD1),
        monitor=hmp(A2, D2),
        expect_monitor=('"nv2"\n  addr: 0x108000000\n  slot: 1', "hotplugged: true"),
    ),
    Case(
        "hp-ok-q35-file-created",
        cmd(f"{Q35} {RAM1} {NV1}"),
        monitor=hmp(
            "object_add memory-backend-file,id=mem2,size=64M,mem-path={tmp}/hot.img,share=on",
            "device_add nvdimm,id=nv2,memdev=mem2,label-size=128K",
        ),
        expect_monitor=('"nv2"\n  addr: 0x108000000', "size: 66977792"),
        note="the missing file is created (0644, truncated to 64M) and kept",
    ),
    Case(
        "hp-ok-no-cold-devices",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1",
        ),
        expect_monitor=('"nv1"\n  addr: 0x100000000\n  slot: 0',),
    ),
    Case(
        "hp-ok-memdev-order-four-hot",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            A2,
            A3,
            "object_add memory-backend-ram,id=mem4,size=128M",
        ),
        expect_monitor=("mem3\n",),
        note="/objects is a GHashTable: info memdev lists mem3, mem1, mem4, mem2, pc.ram",
    ),
    Case(
        "hp-ok-memdev-order-cold-and-hot",
        cmd(f"{PC} {RAM1} {RAM2}"),
        monitor=hmp(A3, "object_add memory-backend-ram,id=mem4,size=32M"),
    ),
    Case(
        "hp-ok-memdev-order-after-object-del",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            A2,
            "object_del mem1",
            A3,
            "object_add memory-backend-ram,id=mem4,size=128M",
        ),
        note="the deleted entry leaves a GLib tombstone that steers later insertions",
    ),
    Case(
        "hp-ok-object-del-then-readd-same-id",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "object_del mem1",
            "object_add memory-backend-ram,id=mem1,size=64M",
        ),
        expect_monitor=("size:  67108864",),
    ),
    Case(
        "hp-ok-dimm-and-nvdimm",
        cmd(COLD1),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem2,size=64M",
            "device_add pc-dimm,id=d2,memdev=mem2",
            A3,
            D3,
            "device_del d2",
        ),
        expect_monitor=('Memory device [dimm]: "d2"',),
        note="device_del of a pc-dimm only sends the unplug request; no guest acks it",
    ),
    Case(
        "hp-ok-explicit-slot-and-addr",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,slot=3,addr=0x140000000", A3, D3),
        expect_monitor=("addr: 0x140000000\n  slot: 3",),
    ),
    Case(
        "hp-ok-auto-fills-gap",
        cmd(COLD1),
        monitor=hmp(
            A2,
            "device_add nvdimm,id=nv2,memdev=mem2,addr=0x104000000",
            "device_add nvdimm,id=nv2,memdev=mem2,addr=0x110000000",
            "object_add memory-backend-ram,id=mem3,size=64M",
            D3,
        ),
        expect_monitor=(
            "Error: address range conflicts with memory device id='nv1'",
            '"nv3"\n  addr: 0x108000000\n  slot: 2',
        ),
        note="the refused addr leaves mem2 usable and slot 1 free",
    ),
    Case(
        "hp-ok-refused-slot-then-plugged",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,slot=4", D2),
        expect_monitor=(
            "Error: invalid slot number 4, valid range is [0-3]",
            '"nv2"\n  addr: 0x108000000\n  slot: 1',
        ),
    ),
    Case(
        "hp-ok-refused-space-then-smaller-q35",
        cmd(f"-machine q35,nvdimm=on -m 256M,slots=2,maxmem=512M {RAM1} {NV1}"),
        monitor=hmp("object_add memory-backend-ram,id=mem2,size=192M", D2, A3, D3),
        expect_monitor=(
            "Error: not enough space, currently 0x8000000 in use of total space for memory "
            "devices 0x10000000",
            '"nv3"\n  addr: 0x108000000\n  slot: 1',
        ),
    ),
    Case(
        "hp-ok-object-del-after-refused-plug",
        cmd(f"-machine pc,nvdimm=on -m 256M,slots=4,maxmem=384M {RAM1} {NV1}"),
        monitor=hmp(
            A2,
            D2,
            "object_del mem2",
            "object_add memory-backend-ram,id=mem2,size=64M",
            D2,
        ),
        expect_monitor=("Error: not enough space, currently 0x8000000 in use of total space",),
        note="a backend whose plug was refused is not busy: object_del succeeds",
    ),
    Case(
        "hp-ok-file-directory-mem-path",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-file,id=mem1,size=64M,mem-path={tmp}/d",
            "device_add nvdimm,id=nv1,memdev=mem1",
        ),
        files=(directory("d"),),
        expect_monitor=('"nv1"',),
    ),
    Case(
        "hp-ok-file-readonly-needs-unarmed",
        cmd(PC),
        monitor=hmp(
            f"object_add memory-backend-file,id=mem1,size=128M,mem-path={IMG},readonly=on",
            "device_add nvdimm,id=nv1,memdev=mem1",
            "device_add nvdimm,id=nv1,memdev=mem1,unarmed=on",
        ),
        files=IMG_128M,
        expect_monitor=(
            "Error: 'unarmed' property must be 'on' since memdev mem1 is read-only",
            '"nv1"',
        ),
    ),
    Case(
        "hp-ok-file-then-device-error-keeps-file",
        cmd(PC),
        monitor=hmp(
            f"object_add memory-backend-file,id=mem1,size=128M,mem-path={IMG}",
            "device_add nvdimm,id=nv1,memdev=mem1,label-size=4K",
        ),
        expect_monitor=("Error: Property 'nvdimm.label-size' (0x1000) is required at least",),
        note="the object stays, and so does the file it created",
    ),
    Case(
        "hp-ok-id-given-twice",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,id=nv2"),
        expect_monitor=('"nv1"',),
        note="QemuOpts keeps the first id=",
    ),
    Case(
        "hp-ok-unnamed",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,memdev=mem1", A2, "device_add nvdimm,memdev=mem2,slot=3"),
        expect_monitor=('Memory device [nvdimm]: ""',),
    ),
    Case(
        "hp-ok-object-add-qom-type-key",
        cmd(PC),
        monitor=hmp("object_add qom-type=memory-backend-ram,id=mem1,size=128M,size=64M"),
        note="keyval: the implied key may be given explicitly; a repeated key: last wins",
    ),
    Case(
        "hp-ok-object-add-json",
        cmd(PC),
        monitor=hmp(
            'object_add {"qom-type":"memory-backend-ram","id":"mem1","size":134217728}',
            "device_add nvdimm,id=nv1,memdev=mem1",
        ),
        expect_monitor=('"nv1"',),
        note="HMP object_add accepts JSON like -object",
    ),
)

HOTPLUG_ERRORS = (
    Case(
        "hp-label-size-too-small",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1,label-size=4K",
        ),
        expect_monitor=error("Property 'nvdimm.label-size' (0x1000) is required at least 0x20000"),
    ),
    Case(
        "hp-too-small-for-label",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=2M",
            "device_add nvdimm,id=nv1,memdev=mem1,label-size=128K",
        ),
        expect_monitor=error("the size of memdev mem1 (0x200000) is too small to contain nvdimm"),
    ),
    Case(
        "hp-memdev-missing",
        cmd(PC),
        monitor=hmp("device_add nvdimm,id=nv1"),
        expect_monitor=error("'memdev' property must be set"),
    ),
    Case(
        "hp-memdev-not-found",
        cmd(PC),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=nope"),
        expect_monitor=error("Device 'nope' not found"),
    ),
    Case(
        "hp-memdev-busy-cold",
        cmd(COLD1),
        monitor=hmp("device_add nvdimm,id=nv2,memdev=mem1"),
        expect_monitor=error("can't use already busy memdev: mem1"),
    ),
    Case(
        "hp-memdev-busy-hot",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,memdev=mem1", "device_add pc-dimm,memdev=mem1"),
        expect_monitor=error("can't use already busy memdev: mem1"),
    ),
    Case(
        "hp-no-free-slots",
        cmd(f"-machine pc,nvdimm=on -m 256M,slots=1,maxmem=4G {RAM1} {NV1}"),
        monitor=hmp(A2, D2),
        expect_monitor=error("no free slots available"),
    ),
    Case(
        "hp-not-enough-space",
        cmd(f"-machine pc,nvdimm=on -m 256M,slots=2,maxmem=384M {RAM1} {NV1}"),
        monitor=hmp(A2, D2),
        expect_monitor=error(
            "not enough space, currently 0x8000000 in use of total space for memory devices "
            "0x8000000"
        ),
    ),
    Case(
        "hp-slot-busy",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,slot=0"),
        expect_monitor=error("slot 0 is busy"),
    ),
    Case(
        "hp-slot-negative",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,slot=-2"),
        expect_monitor=error("invalid slot number -2, valid range is [0-3]"),
    ),
    Case(
        "hp-addr-misaligned",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,addr=0x100001000"),
        expect_monitor=error("address must be aligned to 0x200000 bytes"),
    ),
    Case(
        "hp-addr-below-range",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,addr=0x80000000"),
        expect_monitor=error(
            "can't add memory device [0x80000000:0x8000000], usable range for memory devices "
            "[0x100000000:0x1f0000000]"
        ),
    ),
    Case(
        "hp-addr-above-range",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,addr=0x2ec000000"),
        expect_monitor=error("can't add memory device [0x2ec000000:0x8000000]"),
    ),
    Case(
        "hp-addr-conflict",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv2,memdev=mem2,addr=0x104000000"),
        expect_monitor=error("address range conflicts with memory device id='nv1'"),
    ),
    Case(
        "hp-nvdimm-off",
        cmd("-machine pc -m 256M,slots=4,maxmem=4G"),
        monitor=hmp(A2, D2),
        expect_monitor=error("nvdimm is not enabled: missing 'nvdimm' in '-M'"),
    ),
    Case(
        "hp-no-slots-no-maxmem",
        cmd("-machine pc,nvdimm=on -m 256M"),
        monitor=hmp(A2, D2),
        expect_monitor=error("no slots where allocated, please specify the 'slots' option"),
    ),
    Case(
        "hp-maxmem-without-slots",
        cmd("-machine pc,nvdimm=on -m 256M,maxmem=4G"),
        monitor=hmp(A2, D2),
        expect_monitor=error("no slots where allocated, please specify the 'slots' option"),
    ),
    Case(
        "hp-slots-zero-q35",
        cmd("-machine q35,nvdimm=on -m 256M,slots=0,maxmem=1G"),
        monitor=hmp(A2, D2),
        expect_monitor=error("no slots where allocated, please specify the 'slots' option"),
    ),
    Case(
        "hp-duplicate-device-id-cold",
        cmd(COLD1),
        monitor=hmp(A2, "device_add nvdimm,id=nv1,memdev=mem2"),
        expect_monitor=error("Duplicate device ID 'nv1'"),
    ),
    Case(
        "hp-duplicate-device-id-hot",
        cmd(COLD1),
        monitor=hmp(A2, D2, A3, "device_add nvdimm,id=nv2,memdev=mem3"),
        expect_monitor=error("Duplicate device ID 'nv2'"),
    ),
    Case(
        "hp-duplicate-object-id",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=64M"),
        expect_monitor=error(
            "attempt to add duplicate property 'mem1' to object (type 'container')"
        ),
    ),
    Case(
        "hp-object-id-pc-ram",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=pc.ram,size=1M"),
        expect_monitor=error("attempt to add duplicate property 'pc.ram' to object"),
        note="at runtime pc.ram exists already: the duplicate check, not the reserved-id one",
    ),
    Case(
        "hp-object-unexpected-parameter",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=128M,foo=1"),
        expect_monitor=error("Parameter 'foo' is unexpected"),
        note="HMP object_add is keyval + QAPI, unlike -object (QemuOpts 'Invalid parameter')",
    ),
    Case(
        "hp-object-expected-equals",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=128M,share"),
        expect_monitor=error("Expected '=' after parameter 'share'"),
    ),
    Case(
        "hp-object-size-bad",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=12X"),
        expect_monitor=error("Parameter 'size' expects size"),
    ),
    Case(
        "hp-object-size-zero",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=0"),
        expect_monitor=error("property 'size' of memory-backend-ram doesn't take value '0'"),
    ),
    Case(
        "hp-object-bool-bad",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=128M,share=maybe"),
        expect_monitor=error("Parameter 'share' expects 'on' or 'off'"),
    ),
    Case(
        "hp-object-size-missing",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1"),
        expect_monitor=error("Parameter 'size' is missing"),
    ),
    Case(
        "hp-object-id-missing",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,size=1M"),
        expect_monitor=error("Parameter 'id' is missing"),
    ),
    Case(
        "hp-object-bad-id",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=1mem,size=128M"),
        expect_monitor=(
            "Error: Parameter 'id' expects an identifier\nIdentifiers consist of letters, "
            "digits, '-', '.', '_', starting with a letter.\n",
        ),
    ),
    Case(
        "hp-object-bad-type",
        cmd(PC),
        monitor=hmp("object_add memory-backend-foo,id=mem1,size=1M"),
        expect_monitor=error("Parameter 'qom-type' does not accept value 'memory-backend-foo'"),
    ),
    Case(
        "hp-object-prealloc-without-reserve",
        cmd(PC),
        monitor=hmp("object_add memory-backend-ram,id=mem1,size=128M,prealloc=on,reserve=off"),
        expect_monitor=error("'prealloc=on' and 'reserve=off' are incompatible"),
    ),
    Case(
        "hp-object-no-argument",
        cmd(PC),
        monitor=hmp("object_add"),
        expect_monitor=(
            'object_add: string expected\nTry "help object_add" for more information\n',
        ),
        note="HMP's own argument parser refuses before object_add runs (no 'Error: ')",
    ),
    Case(
        "hp-file-smaller-than-size",
        cmd(PC),
        monitor=hmp(f"object_add memory-backend-file,id=mem1,size=128M,mem-path={IMG}"),
        files=(rand("nv1.img", 64 * MIB),),
        expect_monitor=error("backing store size 0x4000000 does not match 'size' option 0x8000000"),
    ),
    Case(
        "hp-file-missing-directory",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-file,id=mem1,size=128M,mem-path={tmp}/nodir/nv1.img"
        ),
        expect_monitor=error("can't open backing store {tmp}/nodir/nv1.img for guest RAM: No such"),
    ),
    Case(
        "hp-file-new-align-not-power-of-two",
        cmd(PC),
        monitor=hmp(f"object_add memory-backend-file,id=mem1,size=128M,mem-path={IMG},align=3M"),
        expect_monitor=error("alignment 0x300000 must be a power of two"),
        note="QEMU creates the file and unlinks it again",
    ),
    Case(
        "hp-object-del-in-use",
        cmd(COLD1),
        monitor=hmp("object_del mem1"),
        expect_monitor=error("object 'mem1' is in use, can not be deleted"),
    ),
    Case(
        "hp-object-del-in-use-hot",
        cmd(PC),
        monitor=hmp(A2, D2, "object_del mem2"),
        expect_monitor=error("object 'mem2' is in use, can not be deleted"),
    ),
    Case(
        "hp-object-del-unknown",
        cmd(PC),
        monitor=hmp("object_del nope"),
        expect_monitor=error("object 'nope' not found"),
    ),
    Case(
        "hp-object-del-pc-ram",
        cmd(PC),
        monitor=hmp("object_del pc.ram"),
        expect_monitor=error("object 'pc.ram' is in use, can not be deleted"),
    ),
    Case(
        "hp-object-del-no-argument",
        cmd(PC),
        monitor=hmp("object_del"),
        expect_monitor=(
            'object_del: string expected\nTry "help object_del" for more information\n',
        ),
    ),
    Case(
        "hp-device-del-cold-nvdimm",
        cmd(COLD1),
        monitor=hmp("device_del nv1"),
        expect_monitor=error("nvdimm device hot unplug is not supported yet."),
    ),
    Case(
        "hp-device-del-hot-nvdimm",
        cmd(PC),
        monitor=hmp(A2, D2, "device_del nv2"),
        expect_monitor=error("nvdimm device hot unplug is not supported yet."),
    ),
    Case(
        "hp-device-del-unknown",
        cmd(COLD1),
        monitor=hmp("device_del nope"),
        expect_monitor=error("Device 'nope' not found"),
    ),
    Case(
        "hp-device-del-no-argument",
        cmd(PC),
        monitor=hmp("device_del"),
        expect_monitor=(
            'device_del: string expected\nTry "help device_del" for more information\n',
        ),
    ),
    Case(
        "hp-device-add-no-argument",
        cmd(PC),
        monitor=hmp("device_add"),
        expect_monitor=error("Parameter 'driver' is missing"),
    ),
    Case(
        "hp-device-unknown-driver",
        cmd(PC),
        monitor=hmp("device_add nvdimmx,memdev=mem1"),
        expect_monitor=error("'nvdimmx' is not a valid device model name"),
    ),
    Case(
        "hp-device-unknown-property",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,foo=1"),
        expect_monitor=error("Property 'nvdimm.foo' not found"),
    ),
    Case(
        "hp-device-label-size-not-a-size",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,label-size=abc"),
        expect_monitor=error("Parameter 'label-size' expects size"),
    ),
    Case(
        "hp-device-slot-not-a-number",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,slot=abc"),
        expect_monitor=error("Parameter 'slot' expects integer"),
    ),
    Case(
        "hp-device-bad-uuid",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,memdev=mem1,uuid=xyz"),
        expect_monitor=error("Property 'nvdimm.uuid' has invalid value"),
    ),
    Case(
        "hp-device-unarmed-bad-bool",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,unarmed=maybe"),
        expect_monitor=error("Parameter 'unarmed' expects 'on' or 'off'"),
    ),
    Case(
        "hp-device-unarmed-short-form",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,unarmed"),
        expect_warning="warning: short-form boolean option 'unarmed' deprecated",
        expect_monitor=('"nv1"',),
        note="QemuOpts accepts the short form (unarmed=on) and warns on stderr",
    ),
    Case(
        "hp-device-bad-id",
        cmd(PC),
        monitor=hmp("device_add nvdimm,id=1nv"),
        expect_monitor=('Try "help device_add" for more information\n',),
        note="HMP's QemuOpts argument parse fails: the message goes to stderr, the "
        "'Try help' line to the monitor",
    ),
    Case(
        "hp-device-json-is-not-json",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp('device_add {"driver":"nvdimm","id":"nv1","memdev":"mem1"}'),
        expect_warning='short-form boolean option \'"id":"nv1"\' deprecated',
        expect_monitor=error('\'{"driver":"nvdimm"\' is not a valid device model name'),
        note="HMP device_add parses QemuOpts only: the JSON splits at commas",
    ),
    Case(
        "hp-node-out-of-range",
        cmd(f"{PC} {RAM1}"),
        monitor=hmp("device_add nvdimm,id=nv1,memdev=mem1,node=1"),
        expect_monitor=error("'DIMM property node has value 1' which exceeds the number of numa"),
    ),
    Case(
        "hp-dimm-size-not-multiple-of-align",
        cmd(PC),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=3M", "device_add pc-dimm,id=d1,memdev=mem1"
        ),
        expect_monitor=error("backend memory size must be multiple of 0x200000"),
    ),
    Case(
        "hp-acpi-off-pc",
        cmd("-machine pc,nvdimm=on,acpi=off -m 256M,slots=4,maxmem=4G"),
        monitor=hmp(A2, D2, "device_del nope"),
        expect_monitor=error("memory hotplug is not enabled: missing acpi device or acpi disabled"),
    ),
    Case(
        "hp-acpi-off-q35",
        cmd("-machine q35,nvdimm=on,acpi=off -m 256M,slots=4,maxmem=4G"),
        monitor=hmp(A2, D2),
        expect_monitor=error("memory hotplug is not enabled: missing acpi device or acpi disabled"),
    ),
    Case(
        "hp-piix4-memory-hotplug-off",
        cmd(f"{PC} -global PIIX4_PM.memory-hotplug-support=off"),
        monitor=hmp(A2, D2),
        expect_monitor=error(
            "memory hotplug is not enabled: PIIX4_PM.memory-hotplug-support is not set"
        ),
    ),
    Case(
        "hp-ich9-memory-hotplug-off",
        cmd(f"{Q35} -global ICH9-LPC.memory-hotplug-support=off"),
        monitor=hmp(A2, D2),
        expect_monitor=error(
            "memory hotplug is not enabled: ICH9-LPC.memory-hotplug-support is not set"
        ),
    ),
)

# Other x86 machine types: cold plug and hotplug --------------------------------------

MICROVM = "-machine microvm -m 256M"

MACHINE_TYPES = (
    Case(
        "mt-microvm-no-nvdimm-property",
        cmd("-machine microvm,nvdimm=on -m 256M"),
        expect_error="Property 'microvm-machine.nvdimm' not found",
    ),
    Case(
        "mt-microvm-ok-nvdimm-realized-not-plugged",
        cmd(f"{MICROVM} {RAM1} {NV1}"),
        note="microvm has no hotplug handler for DIMMs: the device is realized (memdev busy) "
        "but never pre-plugged, so addr 0x0 and slot -1",
    ),
    Case(
        "mt-microvm-ok-slots-maxmem-accepted",
        cmd("-machine microvm -m 256M,slots=4,maxmem=4G"),
    ),
    Case(
        "mt-microvm-ok-explicit-addr-slot-kept",
        cmd(f"{MICROVM} {RAM1} {NV1},addr=0x100000000,slot=2"),
    ),
    Case(
        "mt-microvm-ok-dimm-and-nvdimm-same-addr",
        cmd(
            f"{MICROVM} {RAM1} {NV1} -object memory-backend-ram,id=mem2,size=64M "
            "-device pc-dimm,id=d2,memdev=mem2"
        ),
        note="both at addr 0: info memory-devices order among equal addresses follows "
        "GLib's insertion into the sorted list (d2 first)",
    ),
    Case(
        "mt-microvm-ok-four-same-addr-order",
        cmd(
            f"{MICROVM} "
            + " ".join(
                f"-object memory-backend-ram,id=m{n},size=2M -device nvdimm,id=nv{n},memdev=m{n}"
                for n in range(1, 5)
            )
        ),
        note="QEMU lists nv3, nv1, nv4, nv2: equal addresses keep the QOM walk order "
        "(GHashTable children), reversed by g_slist_insert_sorted",
    ),
    Case(
        "mt-microvm-ok-named-and-unnamed-order",
        cmd(
            f"{MICROVM} "
            + " ".join(
                f"-object memory-backend-ram,id=m{n},size=2M -device nvdimm,{name}memdev=m{n}"
                for n, name in ((1, "id=nv1,"), (2, "id=nv2,"), (3, ""), (4, ""))
            )
        ),
        note="QEMU lists the two unnamed devices (/machine/peripheral-anon) before nv1, nv2",
    ),
    Case(
        "mt-microvm-label-size-too-small",
        cmd(f"{MICROVM} {RAM1} {NV1},label-size=4K"),
        expect_error="Property 'nvdimm.label-size' (0x1000) is required at least 0x20000",
    ),
    Case(
        "mt-microvm-memdev-not-set",
        cmd(f"{MICROVM} -device nvdimm,id=nv1"),
        expect_error="'memdev' property is not set",
        note="no pre-plug: the realize-time message, not \"'memdev' property must be set\"",
    ),
    Case(
        "mt-microvm-memdev-busy",
        cmd(f"{MICROVM} {RAM1} {NV1} -device nvdimm,id=nv2,memdev=mem1"),
        expect_error="can't use already busy memdev: mem1",
    ),
    Case(
        "mt-microvm-node-out-of-range",
        cmd(f"{MICROVM} {RAM1} {NV1},node=1"),
        expect_error="'DIMM property node has value 1' which exceeds the number of numa nodes: 1",
    ),
    Case(
        "mt-microvm-hotplug-nvdimm",
        cmd(MICROVM),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1",
        ),
        expect_monitor=error("Device 'nvdimm' can not be hotplugged on this machine"),
    ),
    Case(
        "mt-microvm-hotplug-dimm",
        cmd(MICROVM),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add pc-dimm,id=d1,memdev=mem1",
        ),
        expect_monitor=error("Device 'pc-dimm' can not be hotplugged on this machine"),
    ),
    Case(
        "mt-microvm-object-del-in-use",
        cmd(f"{MICROVM} {RAM1} {NV1}"),
        monitor=hmp("object_del mem1", "device_del nope"),
        expect_monitor=error("object 'mem1' is in use, can not be deleted"),
    ),
    Case(
        "mt-microvm-device-del-crashes-qemu",
        cmd(f"{MICROVM} {RAM1} {NV1}"),
        monitor=hmp("device_del nv1"),
        qemu_crashes=True,
        note="QEMU 7.2 aborts: qdev_unplug: assertion failed: (hotplug_ctrl) (SIGABRT); "
        "vnvdimm prints 'Error: nvdimm device hot unplug is not supported yet.'",
    ),
    Case(
        "mt-isapc-nvdimm",
        cmd(f"-machine isapc -m 256M {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: missing acpi device or acpi disabled",
    ),
    Case(
        "mt-isapc-nvdimm-on",
        cmd(f"-machine isapc,nvdimm=on -m 256M {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: missing acpi device or acpi disabled",
    ),
    Case(
        "mt-isapc-hotplug",
        cmd("-machine isapc,nvdimm=on -m 256M"),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1",
            "device_add pc-dimm,id=d1,memdev=mem1",
        ),
        expect_monitor=error("memory hotplug is not enabled: missing acpi device or acpi disabled"),
    ),
    Case(
        "mt-none-ok-nvdimm-realized-not-plugged",
        cmd(f"-machine none {RAM1} {NV1}"),
        note="-M none without -m has no RAM backend at all",
    ),
    Case(
        "mt-none-ok-ram-backend-id",
        cmd("-machine none -m 256M,slots=4,maxmem=4G"),
        note="the none machine's default RAM backend is called 'ram', not 'pc.ram'",
    ),
    Case(
        "mt-none-node-no-numa",
        cmd(f"-machine none {RAM1} {NV1},node=1"),
        expect_error="machine doesn't support NUMA",
    ),
    Case(
        "mt-none-hotplug",
        cmd("-machine none"),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1",
        ),
        expect_monitor=error("Device 'nvdimm' can not be hotplugged on this machine"),
    ),
    Case(
        "mt-none-object-del-ram",
        cmd("-machine none -m 256M"),
        monitor=hmp("object_del ram", "device_del nope"),
        expect_monitor=error("object 'ram' is in use, can not be deleted"),
    ),
    Case(
        "mt-none-device-del-crashes-qemu",
        cmd(f"-machine none {RAM1} {NV1}"),
        monitor=hmp("device_del nv1"),
        qemu_crashes=True,
        note="QEMU 7.2 aborts: qdev_unplug: assertion failed: (hotplug_ctrl) (SIGABRT)",
    ),
    Case(
        "mt-i440fx-2.1-legacy-page-aligned-addr",
        cmd(
            "-machine pc-i440fx-2.1,nvdimm=on -m 256M,slots=4,maxmem=4G "
            f"{RAM1} {NV1},addr=0x100001000"
        ),
        expect_warning="warning: Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem",
        note="enforce_aligned_dimm is off before 2.2: DIMMs are only page aligned",
    ),
    Case(
        "mt-i440fx-2.1-no-slot-padding",
        cmd(
            "-machine pc-i440fx-2.1,nvdimm=on -m 256M,slots=2,maxmem=1G "
            f"{RAM1} {NV1},addr=0x130000000"
        ),
        expect_error="usable range for memory devices [0x100000000:0x30000000]",
        note="no 1 GiB per slot is added to the device-memory region before 2.2",
    ),
    Case(
        "mt-i440fx-2.1-hotplug",
        cmd(
            "-machine pc-i440fx-2.1,nvdimm=on -m 256M,slots=4,maxmem=1G "
            f"-object memory-backend-file,id=mem1,size=1M,mem-path={IMG} {NV1}"
        ),
        monitor=hmp(
            A2,
            "device_add nvdimm,id=nv2,memdev=mem2,addr=0x100101000",
            "object_add memory-backend-ram,id=mem3,size=700M",
            D3,
            "object_add memory-backend-ram,id=mem4,size=4M",
            "device_add pc-dimm,id=d4,memdev=mem4",
        ),
        expect_warning="warning: Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem",
        expect_monitor=(
            "Error: not enough space, currently 0x8100000 in use of total space for memory "
            "devices 0x30000000",
            "addr: 0x100101000",
        ),
    ),
    Case(
        "mt-i440fx-2.0-slots-not-supported",
        cmd("-machine pc-i440fx-2.0,nvdimm=on -m 256M,slots=4,maxmem=4G"),
        expect_error="\"-memory 'slots|maxmem'\" is not supported by: pc-i440fx-2.0",
    ),
    Case(
        "mt-i440fx-2.0-memory-hotplug-off",
        cmd(f"-machine pc-i440fx-2.0,nvdimm=on -m 256M {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: PIIX4_PM.memory-hotplug-support is not set",
        note="PIIX4_PM memory-hotplug-support defaults to off before 2.1; checked before slots",
    ),
    Case(
        "mt-i440fx-1.7-slots-not-supported",
        cmd(f"-machine pc-i440fx-1.7,nvdimm=on -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
        expect_error="\"-memory 'slots|maxmem'\" is not supported by: pc-i440fx-1.7",
    ),
    Case(
        "mt-i440fx-1.7-hotplug",
        cmd("-machine pc-i440fx-1.7,nvdimm=on -m 256M"),
        monitor=hmp(A2, D2),
        expect_warning="Machine type 'pc-i440fx-1.7' is deprecated",
        expect_monitor=error(
            "memory hotplug is not enabled: PIIX4_PM.memory-hotplug-support is not set"
        ),
    ),
    Case(
        "mt-i440fx-2.5-nvdimm-on-warns",
        cmd("-machine pc-i440fx-2.5,nvdimm=on -m 256M"),
        expect_warning="warning: Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem",
        note="fw_cfg legacy layout (machine types up to 2.5) does not know the nvdimm file",
    ),
    Case(
        "mt-i440fx-2.6-ok-no-warning",
        cmd(f"-machine pc-i440fx-2.6,nvdimm=on -m 256M,slots=2,maxmem=1G {RAM1} {NV1}"),
    ),
    Case(
        "mt-i440fx-2.5-ok-dimm-nvdimm-off",
        cmd(
            f"-machine pc-i440fx-2.5 -m 256M,slots=2,maxmem=1G {RAM1} "
            "-device pc-dimm,id=d1,memdev=mem1"
        ),
        note="no warning without nvdimm=on",
    ),
    Case(
        "mt-q35-2.4-cold",
        cmd(f"-machine pc-q35-2.4,nvdimm=on -m 256M,slots=4,maxmem=4G {RAM1} {NV1}"),
        expect_warning="warning: Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem",
    ),
    Case(
        "mt-q35-2.4-hotplug",
        cmd("-machine pc-q35-2.4,nvdimm=on -m 256M,slots=4,maxmem=4G"),
        monitor=hmp(A2, D2),
        expect_warning="warning: Unknown firmware file in legacy mode: etc/acpi/nvdimm-mem",
        expect_monitor=("hotplugged: true",),
    ),
    Case(
        "mt-q35-ich9-memory-hotplug-off",
        cmd(f"{Q35} -global ICH9-LPC.memory-hotplug-support=off {RAM1} {NV1}"),
        expect_error="memory hotplug is not enabled: ICH9-LPC.memory-hotplug-support is not set",
    ),
)

# -numa and -smp ------------------------------------------------------------------

NUMA_BACKENDS = (
    "-object memory-backend-ram,id=r0,size=128M -object memory-backend-ram,id=r1,size=128M"
)
NUMA2 = f"{NUMA_BACKENDS} -numa node,nodeid=0,memdev=r0 -numa node,nodeid=1,memdev=r1"

NUMA_SMP = (
    Case(
        "numa-duplicate-nodeid",
        cmd(f"{PC} {NUMA_BACKENDS} -numa node,nodeid=0,memdev=r0 -numa node,nodeid=0,memdev=r1"),
        expect_error="Duplicate NUMA nodeid: 0",
    ),
    Case(
        "numa-node-id-missing-first",
        cmd(f"{PC} {NUMA_BACKENDS} -numa node,nodeid=1,memdev=r0"),
        expect_error="numa: Node ID missing: 0",
    ),
    Case(
        "numa-node-id-missing-middle",
        cmd(f"{PC} {NUMA2} -numa node,nodeid=3"),
        expect_error="numa: Node ID missing: 2",
    ),
    Case(
        "numa-memdev-total-too-small",
        cmd(f"{PC} {NUMA_BACKENDS} -numa node,nodeid=0,memdev=r0"),
        expect_error="total memory for NUMA nodes (0x8000000) should equal RAM size (0x10000000)",
    ),
    Case(
        "numa-memdev-total-too-large",
        cmd(f"{PC} {NUMA2} -numa node,nodeid=2,memdev=r1"),
        expect_error="total memory for NUMA nodes (0x18000000) should equal RAM size",
    ),
    Case(
        "numa-memdev-not-found",
        cmd(f"{PC} -numa node,nodeid=0,memdev=nope"),
        expect_error="memdev=nope is ambiguous",
    ),
    Case(
        "numa-mem-not-supported",
        cmd(f"{PC} -numa node,mem=256M"),
        expect_error="Parameter -numa node,mem is not supported by this machine type",
    ),
    Case(
        "numa-unknown-parameter",
        cmd(f"{PC} -numa node,nodeid=0,foo=1"),
        expect_error="Invalid parameter 'foo'",
    ),
    Case(
        "numa-node-without-memory",
        cmd(f"{PC} -numa node,nodeid=0"),
        expect_error="total memory for NUMA nodes (0x0) should equal RAM size (0x10000000)",
    ),
    Case(
        "numa-nodes-without-memory-before-device",
        cmd(f"{PC} -numa node,nodeid=0 {RAM1} {NV1},node=1"),
        expect_error="total memory for NUMA nodes (0x0) should equal RAM size",
        note="the NUMA total is checked before any -device is created",
    ),
    Case(
        "numa-none-not-supported",
        cmd("-machine none -numa node,nodeid=0"),
        expect_error="NUMA is not supported by this machine-type",
    ),
    Case(
        "numa-microvm-nodes-without-memory",
        cmd(f"{MICROVM} -numa node,nodeid=0 -numa node,nodeid=1"),
        expect_error="total memory for NUMA nodes (0x0) should equal RAM size",
    ),
    Case(
        "numa-hotplug-node",
        cmd(f"{PC} {NUMA2}"),
        monitor=hmp(
            "object_add memory-backend-ram,id=mem1,size=128M",
            "device_add nvdimm,id=nv1,memdev=mem1,node=1",
            A2,
            "device_add nvdimm,id=nv2,memdev=mem2,node=2",
        ),
        expect_monitor=(
            "Error: 'DIMM property node has value 2' which exceeds the number of numa nodes: 2",
            "node: 1",
        ),
    ),
    Case(
        "numa-q35-ok-nvdimm-node",
        cmd(f"{Q35} {NUMA2} {RAM1} {NV1},node=1"),
    ),
    Case(
        "smp-unknown-parameter",
        cmd(f"{PC} -smp 2,foo=1"),
        expect_error="Parameter 'smp.foo' is unexpected",
    ),
    Case(
        "smp-not-a-number",
        cmd(f"{PC} -smp abc"),
        expect_error="Parameter 'smp.cpus' expects integer",
    ),
    Case(
        "smp-too-many-cpus",
        cmd(f"{PC} -smp 300"),
        expect_error="Invalid SMP CPUs 300. The max CPUs supported by machine "
        "'pc-i440fx-7.2' is 255",
    ),
    Case(
        "smp-maxcpus-below-cpus",
        cmd(f"{PC} -smp 2,maxcpus=1"),
        expect_error="Invalid CPU topology: maxcpus must be equal to or greater than smp",
    ),
    Case(
        "smp-topology-mismatch",
        cmd(f"{PC} -smp 4,sockets=3"),
        expect_error="Invalid CPU topology: product of the hierarchy must match maxcpus",
    ),
    Case(
        "smp-zero-deprecated",
        cmd(f"{PC} -smp 0"),
        expect_warning="warning: Deprecated CPU topology (considered invalid): CPU topology "
        "parameters must be greater than zero",
    ),
    Case("smp-ok-with-nvdimm", cmd(f"{PC} -smp 2,dies=2 {RAM1} {NV1}")),
)

CASES: tuple[Case, ...] = (
    *MEMORY_ERRORS,
    *MEMORY_ERRORS_MORE,
    *MACHINE_ERRORS,
    *OBJECT_ERRORS,
    *FILE_ERRORS,
    *DEVICE_ERRORS,
    *PLACEMENT_ERRORS,
    *ACCEPTED,
    *HOTPLUG_OK,
    *HOTPLUG_ERRORS,
    *MACHINE_TYPES,
    *NUMA_SMP,
)


def select(substring: str = "") -> list[Case]:
    return [case for case in CASES if substring in case.id]
