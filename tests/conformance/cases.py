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

CASES: tuple[Case, ...] = (
    *MEMORY_ERRORS,
    *MEMORY_ERRORS_MORE,
    *MACHINE_ERRORS,
    *OBJECT_ERRORS,
    *FILE_ERRORS,
    *DEVICE_ERRORS,
    *PLACEMENT_ERRORS,
    *ACCEPTED,
)


def select(substring: str = "") -> list[Case]:
    return [case for case in CASES if substring in case.id]
