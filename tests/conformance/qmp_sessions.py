"""Scripted QMP sessions, as data: each runs against real QEMU and `vnvdimm run`.

A session is a command line (the platform; ``-S -nodefaults -display none`` and
the ``-qmp unix:`` socket are added by the harness) and a list of steps.  A step
is a command (``cmd(...)``, sent as compact JSON) or raw bytes (``Raw``, sent as
they are, for the protocol's own errors).  After each step the harness sends a
synchronisation request and reads every reply up to its answer, so each step's
replies are compared as a group; a step that leaves a message unfinished says
``sync=False``.  Unless ``negotiate=False``, ``qmp_capabilities`` is sent first.
Replies are compared byte for byte after normalisation (timestamps, the version
``package`` string, the temp dir as ``{tmp}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .model import Content, FileSpec

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Raw:
    data: bytes
    sync: bool = True


Step = dict[str, object] | Raw


@dataclass(frozen=True)
class Session:
    id: str
    args: tuple[str, ...]
    steps: tuple[Step, ...]
    negotiate: bool = True
    files: tuple[FileSpec, ...] = ()
    pretty: bool = False
    note: str = ""
    expect: tuple[str, ...] = field(default=())
    """Substrings QEMU's replies must contain (the session reaches what it is for)."""


def cmd(name: str, arguments: dict[str, object] | None = None, **kw: object) -> dict[str, object]:
    """A QMP request; ``id`` and other envelope members as keywords."""
    request: dict[str, object] = {"execute": name}
    if arguments is not None:
        request["arguments"] = arguments
    request.update(kw)
    return request


def encode(step: Step, tmp: str) -> bytes:
    if isinstance(step, Raw):
        return step.data.replace(b"{tmp}", tmp.encode())
    return json.dumps(step, separators=(",", ":")).replace("{tmp}", tmp).encode()


PC = ("-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=4G")


def args(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def ram(mem_id: str, size: object = 128 * MIB, **extra: object) -> dict[str, object]:
    return cmd("object-add", {"qom-type": "memory-backend-ram", "id": mem_id, "size": size,
                              **extra})


def nvdimm(dev_id: str, memdev: str, **extra: object) -> dict[str, object]:
    return cmd("device_add", {"driver": "nvdimm", "id": dev_id, "memdev": memdev, **extra})


QUERIES = (cmd("query-memory-devices"), cmd("query-memdev"))

SESSIONS: tuple[Session, ...] = (
    Session(
        "handshake",
        PC,
        (
            cmd("query-version"),
            cmd("nope", id=1),
            Raw(b"[]"),
            Raw(b"{}"),
            Raw(b'{"execute":1}'),
            Raw(b'{"exec-oob":"qmp_capabilities"}'),
            cmd("qmp_capabilities", {"enable": ["foo"]}),
            cmd("qmp_capabilities", {"enable": "oob"}),
            cmd("qmp_capabilities", {"enable": [1]}),
            cmd("qmp_capabilities", {"x": 1}),
            Raw(b'{"execute":"qmp_capabilities","id":{"a":[1,2]},"foo":1}'),
            cmd("qmp_capabilities", [], id="list"),  # type: ignore[arg-type]
            cmd("qmp_capabilities", {"enable": ["oob"]}, id="neg"),
            cmd("qmp_capabilities", id="again"),
            cmd("query-version", id=1.5),
        ),
        negotiate=False,
        expect=("Expecting capabilities negotiation", "already complete"),
    ),
    Session(
        "envelope-errors",
        PC,
        (
            Raw(b"[]"), Raw(b"{}"), Raw(b'{"execute":1}'), Raw(b'"str"'),
            Raw(b'{"execute":"query-version","arguments":[]}'),
            Raw(b'{"execute":"query-version","foo":1,"id":"x"}'),
            Raw(b'{"execute":"query-version","exec-oob":"query-version"}'),
            Raw(b'{"exec-oob":"query-version"}'),
            cmd("nope", id=None),
            cmd("query-version", {"x": 1}),
            cmd("query-memory-devices", id={"b": [True, False, None], "a": -1}),
        ),
        expect=("lacks member 'execute'", "is unexpected"),
    ),
    Session(
        "oob-enabled",
        PC,
        (
            cmd("qmp_capabilities", {"enable": ["oob"]}),
            Raw(b'{"exec-oob":"query-version","id":1}'),
            Raw(b'{"exec-oob":"migrate-pause","id":2}'),
            Raw(b'{"exec-oob":"migrate-pause","execute":"x"}'),
            Raw(b'{"exec-oob":1}'),
            Raw(b'{"exec-oob":"qmp_capabilities"}'),
            Raw(b'{"exec-oob":"no-such-command"}'),
        ),
        negotiate=False,
        note="negotiates with enable: [oob] as its first step",
    ),
    Session(
        "json-stream",
        PC,
        (
            Raw(b"@"), Raw(b'{"execute":"query-version",@}'), Raw(b"123 "), Raw(b"foo "),
            Raw(b'{"a":1,"a":2}'), Raw(b"{1:2}"), Raw(b'{"a" 1}'), Raw(b"[1 2]"),
            Raw(b'{"a":1 "b":2}'), Raw(b'{"a":}'), Raw(b"[1,]"), Raw(b"]"), Raw(b"}"),
            Raw(b"[}]"), Raw(b'"\\u12"'), Raw(b'"\\uD800"'), Raw(b'"\\uFFFF"'), Raw(b'"\\x"'),
            Raw(b'"\xff"\n'), Raw(b"01"), Raw(b'{"execute":"x"}\x00'),
            Raw(b'{"exe', sync=False), Raw(b'cute":"query-version","id":"split"}'),
            Raw(b'{"execute":"query-version","id":1}{"execute":"query-version","id":2}'),
            Raw(b"\t{'execute':'query-version','id':'single\\'quoted'}\r\n"),
            Raw(b'{"execute":"x","id":"a\\u0000b\xc3\xa9\\u007f/\\ud83d\\ude00"}'),
            Raw(b'{"execute":"x","id":[0.1,18446744073709551615,18446744073709551616,'
                b'-9223372036854775809,1e400,-0.0,1E5]}'),
            Raw(b'{"execute":"x","id":{"micro":1,"minor":2,"major":3}}'),
            Raw(b"[" * 1025 + b"]" * 3),
            Raw(b"[" * 1024 + b"]" * 1024),
        ),
        expect=("stray '@'", "nesting depth limit", "\\u00E9"),
    ),
    Session(
        "object-add-ram",
        PC,
        (
            ram("mem1"),
            ram("mem1"),
            cmd("object-add", {"qom-type": "memory-backend-ram", "id": "m2"}),
            ram("m3", size=0),
            ram("m4", size="1G"),
            ram("m5", bogus=1),
            ram("m6", share="yes"),
            ram("m7", policy="bind"),
            ram("m8", policy="bind", **{"host-nodes": [0]}),
            ram("9bad"),
            ram("pc.ram"),
            cmd("object-add", {"qom-type": "no-such-type", "id": "x"}),
            cmd("object-add", {"id": "x"}),
            cmd("object-add", {"qom-type": "memory-backend-ram", "size": MIB}),
            cmd("query-memdev"),
        ),
        expect=("attempt to add duplicate property", "'size'"),
    ),
    Session(
        "object-add-file",
        PC,
        (
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f1",
                               "mem-path": "{tmp}/f1.img", "size": 128 * MIB, "share": True}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f2",
                               "size": 128 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f3",
                               "mem-path": "{tmp}/no/such/dir/f3.img", "size": 128 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f4",
                               "mem-path": "{tmp}/f4.img", "size": 128 * MIB,
                               "align": 3 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f5",
                               "mem-path": "{tmp}/small.img", "size": 128 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f6",
                               "mem-path": "{tmp}/f6.img", "size": 128 * MIB, "pmem": True}),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "f7",
                               "mem-path": "{tmp}/ro.img", "size": 64 * MIB,
                               "readonly": True}),
            cmd("query-memdev"),
        ),
        files=(FileSpec("small.img", MIB), FileSpec("ro.img", 64 * MIB, Content.SPARSE)),
        expect=("mem-path",),
    ),
    Session(
        "object-add-memfd",
        PC,
        (
            cmd("object-add", {"qom-type": "memory-backend-memfd", "id": "d1",
                               "size": 128 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-memfd", "id": "d2",
                               "size": 128 * MIB, "seal": False, "share": False}),
            cmd("object-add", {"qom-type": "memory-backend-memfd", "id": "d3",
                               "size": 128 * MIB, "hugetlbsize": 3 * MIB}),
            cmd("object-add", {"qom-type": "memory-backend-memfd", "id": "d4",
                               "size": 128 * MIB, "hugetlb": "on"}),
            cmd("query-memdev"),
        ),
    ),
    Session(
        "hotplug-nvdimm",
        PC,
        (
            *QUERIES,
            ram("mem1"),
            nvdimm("nv1", "mem1"),
            cmd("object-add", {"qom-type": "memory-backend-file", "id": "mem2",
                               "mem-path": "{tmp}/nv2.img", "size": 256 * MIB,
                               "share": True}),
            nvdimm("nv2", "mem2", **{"label-size": 128 * 1024}),
            *QUERIES,
            cmd("query-memory-size-summary"),
        ),
        expect=('"hotplugged": true', '"type": "nvdimm"'),
    ),
    Session(
        "device-add-errors",
        PC,
        (
            ram("mem1"), ram("mem2"), ram("mem3", size=MIB),
            nvdimm("a", "nosuch"),
            nvdimm("b", "mem1", **{"label-size": 100}),
            nvdimm("c", "mem1", **{"label-size": 256 * MIB}),
            nvdimm("d", "mem3", **{"label-size": 2 * MIB}),
            nvdimm("ok", "mem1"),
            nvdimm("e", "mem1"),
            nvdimm("ok", "mem2"),
            nvdimm("f", "mem2", bogus=1),
            nvdimm("g", "mem2", unarmed="x"),
            cmd("device_add", {"id": "h", "memdev": "mem2"}),
            cmd("device_add", {"driver": "no-such-device", "id": "i"}),
            cmd("device_add", {"driver": "nvdimm", "id": "j"}),
            nvdimm("k", "mem2", node=7),
            cmd("query-memory-devices"),
        ),
        expect=("already busy memdev", "nvdimm label"),
    ),
    Session(
        "slots-exhausted",
        ("-machine", "pc,nvdimm=on", "-m", "256M,slots=1,maxmem=4G"),
        (ram("mem1"), ram("mem2"), nvdimm("nv1", "mem1"), nvdimm("nv2", "mem2"),
         cmd("query-memory-devices")),
        expect=("slots",),
    ),
    Session(
        "maxmem-exhausted",
        ("-machine", "pc,nvdimm=on", "-m", "256M,slots=4,maxmem=512M"),
        (ram("mem1", size=128 * MIB), ram("mem2", size=256 * MIB), nvdimm("nv1", "mem1"),
         nvdimm("nv2", "mem2"), cmd("query-memory-devices")),
        expect=("not enough space",),
    ),
    Session(
        "slot-and-addr",
        PC,
        (
            ram("mem1"), ram("mem2"), ram("mem3"), ram("mem4"), ram("mem5"),
            nvdimm("nv1", "mem1", slot=2, addr=0x140000000),
            nvdimm("nv2", "mem2", slot=2),
            nvdimm("nv3", "mem3", slot=9),
            nvdimm("nv4", "mem4", addr=0x140000000),
            nvdimm("nv5", "mem4", addr=0x100001000),
            nvdimm("nv6", "mem4", addr=0x40000000),
            nvdimm("nv7", "mem4", slot=-1),
            nvdimm("nv8", "mem5", addr=0x100000000),
            cmd("query-memory-devices"),
        ),
        expect=("slot",),
    ),
    Session(
        "machine-without-nvdimm",
        ("-machine", "pc", "-m", "256M,slots=4,maxmem=4G"),
        (ram("mem1"), nvdimm("nv1", "mem1"), cmd("query-memory-devices")),
        expect=("nvdimm is not enabled",),
    ),
    Session(
        "machine-without-slots",
        ("-machine", "pc,nvdimm=on", "-m", "256M"),
        (ram("mem1"), nvdimm("nv1", "mem1"), cmd("query-memory-devices")),
        expect=("memory",),
    ),
    Session(
        "cold-plug-queries",
        (*PC, *args("-object memory-backend-ram,id=mem1,size=128M "
                    "-object memory-backend-file,id=mem2,share=on,mem-path={tmp}/nv2.img,"
                    "size=256M -device nvdimm,id=nv1,memdev=mem1 "
                    "-device nvdimm,memdev=mem2,label-size=128K,slot=3")),
        (*QUERIES, cmd("query-memory-size-summary"), ram("mem3"), nvdimm("nv3", "mem3"),
         *QUERIES),
        expect=('"hotplugged": false',),
    ),
    Session(
        "del-refusals",
        (*PC, *args("-object memory-backend-ram,id=mem1,size=128M "
                    "-device nvdimm,id=nv1,memdev=mem1")),
        (
            cmd("device_del", {"id": "nv1"}),
            cmd("device_del", {"id": "nosuch"}),
            cmd("device_del"),
            cmd("object-del", {"id": "mem1"}),
            cmd("object-del", {"id": "nosuch"}),
            ram("mem2"),
            cmd("object-del", {"id": "mem2"}),
            cmd("object-del", {"id": "mem2"}),
            *QUERIES,
        ),
        expect=("hot unplug is not supported", "in use"),
    ),
    Session(
        "hmp-passthrough",
        (*PC, *args("-object memory-backend-ram,id=mem1,size=128M "
                    "-device nvdimm,id=nv1,memdev=mem1")),
        (
            cmd("human-monitor-command", {"command-line": "info memory-devices"}),
            cmd("human-monitor-command", {"command-line": "info memdev"}),
            cmd("human-monitor-command",
                {"command-line": "object_add memory-backend-ram,id=mem2,size=128M"}),
            cmd("human-monitor-command", {"command-line": "device_add nvdimm,id=nv2,memdev=mem2"}),
            cmd("human-monitor-command", {"command-line": "device_del nv2"}),
            cmd("human-monitor-command", {"command-line": "object_del mem1"}),
            cmd("human-monitor-command", {"command-line": "no_such_command"}),
            cmd("human-monitor-command", {"command-line": "info status"}),
            cmd("human-monitor-command", {"command-line": "info version"}),
            cmd("human-monitor-command", {}),
            cmd("query-memory-devices"),
        ),
        expect=("Memory device [nvdimm]",),
    ),
    Session(
        "run-state-events",
        PC,
        (cmd("query-status"), cmd("cont"), cmd("query-status"), cmd("stop"),
         cmd("query-status"), cmd("system_powerdown")),
        expect=('"RESUME"', '"STOP"'),
    ),
    Session(
        "qom",
        (*PC, *args("-object memory-backend-ram,id=mem1,size=128M "
                    "-device nvdimm,id=nv1,memdev=mem1,label-size=128K")),
        (
            cmd("qom-get", {"path": "/objects/mem1", "property": "size"}),
            cmd("qom-get", {"path": "nv1", "property": "label-size"}),
            cmd("qom-get", {"path": "nv1", "property": "addr"}),
            cmd("qom-get", {"path": "/machine/peripheral/nv1", "property": "memdev"}),
            cmd("qom-get", {"path": "nosuch", "property": "x"}),
            cmd("qom-get", {"path": "nv1", "property": "nosuch"}),
            cmd("qom-list", {"path": "/objects"}),
        ),
    ),
    Session(
        "pretty",
        PC,
        (cmd("query-version"), ram("mem1"), nvdimm("nv1", "mem1"), cmd("query-memory-devices"),
         cmd("nope")),
        pretty=True,
    ),
)
