"""Fuzzing the command-line path: whatever the option text, only VnvdimmError comes out.

Option strings are assembled from fragments of valid ones (keys, values, sizes,
suffixes, `,`, `,,`, `=`, unicode, very long words) and then mutated; every build
is a `dry_run` (nothing is created or mapped), from a scratch working directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from vm_helpers import build

from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.errors import VnvdimmError

# VNVDIMM_FUZZ_EXAMPLES raises the budget for a longer local run.
FUZZ = settings(max_examples=int(os.environ.get("VNVDIMM_FUZZ_EXAMPLES", "200")), deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -numa has its own fuzz test below.
OPTIONS = ["-machine", "-M", "-m", "-object", "-device", "-smp", "-global"]

KEYS = [
    "type", "nvdimm", "nvdimm-persistence", "acpi", "memory-backend", "max-ram-below-4g",
    "mem-merge", "dump-guest-core", "x-oem-id", "x-oem-table-id", "accel", "hpet",
    "size", "slots", "maxmem", "id", "qom-type", "mem-path", "share", "readonly", "align",
    "prealloc", "prealloc-threads", "prealloc-context", "host-nodes", "policy", "reserve",
    "discard-data", "pmem", "hugetlb", "hugetlbsize", "seal", "merge", "dump",
    "x-use-canonical-path-for-ramblock-id", "driver", "memdev", "label-size", "addr", "slot",
    "node", "uuid", "unarmed", "bus", "nodeid", "cpus", "mem", "sockets", "cores", "threads",
    "maxcpus", "dies", "clusters", "src", "dst", "val", "PIIX4_PM.memory-hotplug-support",
    "help", "nvdimm.x", "smp.cpus", "memory.size", "host-nodes.0", "0",
]
VALUES = [
    "on", "off", "yes", "no", "true", "auto", "0", "1", "2", "3", "-1", "0x10", "010", "4096",
    "2M", "1G", "128K", "64k", "4097", "1.5G", "0.5", "16E", "8E", "1T", "1P", "2b", "3B",
    "18446744073709551615", "18446744073709551616", "9223372036854775807", "1e3", "0x",
    "", " ", "pc", "q35", "microvm", "none", "isapc", "pc-i440fx-2.0", "pc-q35-7.2",
    "memory-backend-ram", "memory-backend-file", "memory-backend-memfd", "iothread",
    "nvdimm", "pc-dimm", "virtio-rng-pci", "m0", "m1", "mem0", "pc.ram", "/objects/m0",
    "/machine/peripheral/d0", "/", "bind", "default", "preferred", "interleave", "cpu",
    "mem-ctrl", "node", "dist", "hmat-lb", "0-3", "1-0", "0:1",
    "1f8b1cb8-5a79-4b3b-9ec7-3e0d3a2c1c47", "abc", "é", "\u2603", "\x00", "a\nb",
    "fuzz.img", "./dir/", "..", "x" * 300,
]
PUNCT = [",", ",,", "=", ".", "==", ",=", "=,", "{", "}", "[", "]", "\"", ":", " "]


@pytest.fixture(scope="module", autouse=True)
def scratch_cwd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Relative mem-paths land in an empty directory that must stay empty."""
    directory = tmp_path_factory.mktemp("fuzz-cwd")
    (directory / "dir").mkdir()
    old = os.getcwd()
    os.chdir(directory)
    try:
        yield directory
    finally:
        os.chdir(old)
    assert sorted(p.name for p in directory.iterdir()) == ["dir"], "dry_run created files"


_pair = st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES))
_fragment = st.one_of(st.sampled_from(KEYS), st.sampled_from(VALUES), st.sampled_from(PUNCT))


@st.composite
def option_text(draw: st.DrawFn) -> str:
    """key=value lists (optionally with a leading implied value), then mutations."""
    pairs = draw(st.lists(_pair, max_size=8))
    parts = [f"{k}={v.replace(',', ',,')}" for k, v in pairs]
    if draw(st.booleans()):
        parts.insert(0, draw(st.sampled_from(VALUES)))
    text = ",".join(parts)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "double"]))
        pos = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:pos] + draw(st.one_of(_fragment, st.text(max_size=4))) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 5)):]
        elif kind == "replace":
            text = text[:pos] + draw(_fragment) + text[pos + 1:]
        else:
            text = text + text
    return text


_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70), st.floats(allow_nan=False),
    st.sampled_from(VALUES))
_json_value = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=6)


@st.composite
def json_text(draw: st.DrawFn) -> str:
    obj = draw(st.dictionaries(st.sampled_from(KEYS), _json_value, max_size=8))
    if draw(st.booleans()):
        obj["qom-type"] = draw(st.sampled_from(
            ["memory-backend-ram", "memory-backend-file", "memory-backend-memfd"]))
        obj["id"] = draw(st.sampled_from(["m0", "m1", "x"]))
    elif draw(st.booleans()):
        obj["driver"] = draw(st.sampled_from(["nvdimm", "pc-dimm"]))
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]
    return text


_any_text = st.one_of(option_text(), json_text(), st.text(max_size=40),
                      st.text(alphabet=",=.", max_size=10))

# A valid platform the fuzzed options are added to, so devices and NUMA get reached.
BASE = [
    "-machine", "pc,nvdimm=on", "-m", "1G,slots=4,maxmem=8G",
    "-object", "memory-backend-ram,id=m0,size=8M",
    "-object", "memory-backend-file,id=m1,size=8M,mem-path=fuzz.img,share=on",
]


def _dry_build(argv: list[str]) -> None:
    warnings: list[str] = []
    try:
        machine = build(argv, dry_run=True, warnings=warnings)
    except VnvdimmError as error:
        assert isinstance(error.message, str) and error.message
        assert isinstance(error.report(), str)
        return
    machine.close()
    assert all(isinstance(w, str) for w in warnings)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), _any_text), min_size=1, max_size=6),
       st.booleans())
def test_fuzzed_options_raise_only_vnvdimm_error(options: list[tuple[str, str]],
                                                with_base: bool) -> None:
    argv = list(BASE) if with_base else []
    for name, value in options:
        argv += [name, value]
    _dry_build(argv)


@FUZZ
@given(st.sampled_from(["-machine", "-m", "-object", "-device", "-smp"]),
       option_text())
def test_fuzzed_option_after_valid_platform(name: str, value: str) -> None:
    """One mutated option at the end of a valid platform (devices reach the plug path)."""
    _dry_build([*BASE, "-device", "nvdimm,id=d0,memdev=m1", name, value])


@FUZZ
@given(st.lists(option_text(), min_size=1, max_size=4), st.booleans())
@example(["node,nodeid=abc"], False)
def test_fuzzed_numa_raises_only_vnvdimm_error(values: list[str], with_base: bool) -> None:
    argv = list(BASE) if with_base else []
    for value in values:
        argv += ["-numa", value]
    _dry_build(argv)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(
    ["-m", "--m", "-object", "-device", "-S", "--", "-", "-M", "-machine", "-numa", "-foo",
     "-m=1G", "-monitor", "-pidfile", "-g", "-hda", "disk.img", "--version"]),
    st.text(max_size=12)), max_size=10))
def test_split_argv_raises_only_vnvdimm_error(argv: list[str]) -> None:
    try:
        opts = split_argv(argv)
    except VnvdimmError as error:
        assert error.location is not None and error.location in argv
        return
    # Every word is consumed exactly once, in order.
    words: list[str] = []
    for opt in opts:
        words += [opt.value or ""] if opt.positional else (
            [opt.text.split(" ", 1)[0]] + ([] if opt.value is None else [opt.value]))
    assert words == argv


# -- deterministic regressions found while fuzzing ------------------------------------------------


def test_numa_nodeid_not_a_number() -> None:
    with pytest.raises(VnvdimmError) as info:
        build(["-numa", "node,nodeid=abc"], dry_run=True)
    assert info.value.message == "Parameter 'nodeid' expects a uint64 value"


def test_numa_nodeid_negative() -> None:
    with pytest.raises(VnvdimmError) as info:
        build(["-numa", "node,nodeid=-1"], dry_run=True)
    assert info.value.message == "Parameter 'nodeid' expects a uint64 value"


def test_json_object_qom_type_list() -> None:
    with pytest.raises(VnvdimmError) as info:
        build(["-object", '{"qom-type":["memory-backend-ram"],"id":"m","size":4096}'],
              dry_run=True)
    assert info.value.message == "Invalid parameter type for 'qom-type', expected: string"
