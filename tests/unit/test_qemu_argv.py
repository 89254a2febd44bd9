"""vnvdimm.cli.qemu_argv against qemu-system-x86_64 7.2 (Debian 7.2.22) behaviour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnvdimm.cli.qemu_argv import OPTIONS, QemuArg, check_target, option_kind, split_argv
from vnvdimm.errors import VnvdimmError

PROG = "qemu-system-x86_64"


def _stderr(argv: list[str]) -> str:
    with pytest.raises(VnvdimmError) as info:
        split_argv(argv)
    return info.value.report(PROG)


def test_split_options_and_values() -> None:
    argv = ["-machine", "pc,nvdimm=on", "--m", "1G", "-S", "-nodefaults", "disk.img",
            "--object", "memory-backend-ram,id=m,size=1M"]
    assert split_argv(argv) == [
        QemuArg("machine", "pc,nvdimm=on", "-machine pc,nvdimm=on"),
        QemuArg("m", "1G", "--m 1G"),
        QemuArg("S", None, "-S"),
        QemuArg("nodefaults", None, "-nodefaults"),
        QemuArg("hda", "disk.img", "disk.img", positional=True),
        QemuArg("object", "memory-backend-ram,id=m,size=1M",
                "--object memory-backend-ram,id=m,size=1M"),
    ]


def test_argument_may_look_like_an_option() -> None:
    assert split_argv(["-name", "-S"]) == [QemuArg("name", "-S", "-name -S")]


def test_empty_word_is_a_disk_image() -> None:
    assert split_argv([""]) == [QemuArg("hda", "", "", positional=True)]


def test_aliases() -> None:
    assert split_argv(["-M", "q35"])[0].canonical == "machine"
    assert split_argv(["-h"])[0].canonical == "help"
    assert split_argv(["-m", "1G"])[0].canonical == "m"


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["-foo"], f"{PROG}: -foo: invalid option\n"),
        (["--foo"], f"{PROG}: --foo: invalid option\n"),
        (["-m=1G"], f"{PROG}: -m=1G: invalid option\n"),
        (["--m=1G,foo=1"], f"{PROG}: --m=1G,foo=1: invalid option\n"),
        (["-"], f"{PROG}: -: invalid option\n"),
        (["-m", "1G", "--", "-m"], f"{PROG}: --: invalid option\n"),
        (["---m", "1G"], f"{PROG}: ---m: invalid option\n"),
        (["-memory", "1G"], f"{PROG}: -memory: invalid option\n"),
        (["-m"], f"{PROG}: -m: requires an argument\n"),
        (["--m"], f"{PROG}: --m: requires an argument\n"),
        (["-M"], f"{PROG}: -M: requires an argument\n"),
        (["-machine", "pc", "-m", "1G", "-device"], f"{PROG}: -device: requires an argument\n"),
        (["-m", "1G", "-foo", "-bar"], f"{PROG}: -foo: invalid option\n"),  # first one only
    ],
)
def test_first_pass_errors(argv: list[str], stderr: str) -> None:
    assert _stderr(argv) == stderr


def test_repeated_flags_are_fine() -> None:
    assert [a.name for a in split_argv(["-S", "-S", "-nodefaults", "-nodefaults"])] == [
        "S", "S", "nodefaults", "nodefaults"]


@pytest.mark.parametrize(
    ("name", "has_arg"),
    [("m", True), ("machine", True), ("object", True), ("device", True), ("numa", True),
     ("smp", True), ("qmp", True), ("chardev", True), ("pidfile", True), ("S", False),
     ("daemonize", False), ("nodefaults", False), ("nographic", False), ("preconfig", False),
     ("async-teardown", False), ("snapshot", False), ("D", True), ("L", True), ("g", True),
     ("help", False), ("h", False), ("version", False), ("usb", False), ("s", False)],
)
def test_option_table_arity(name: str, has_arg: bool) -> None:
    assert OPTIONS[name].has_arg is has_arg


def test_option_table_size() -> None:
    # qemu-system-x86_64 7.2 knows exactly 122 option names
    assert len(OPTIONS) == 122
    for gone in ("soundhw", "balloon", "curses", "sdl", "watchdog", "enable-fips", "tb-size",
                 "writeconfig", "nodefconfig", "no-kvm", "memory", "alt-grab", "show-cursor"):
        assert gone not in OPTIONS


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["-g", "800x600"], f"{PROG}: -g 800x600: Option not supported for this target\n"),
        (["-prom-env", "x"], f"{PROG}: -prom-env x: Option not supported for this target\n"),
        (["-semihosting"], f"{PROG}: -semihosting: Option not supported for this target\n"),
        (["-old-param"], f"{PROG}: -old-param: Option not supported for this target\n"),
        (["-xen-domid", "1"], f"{PROG}: -xen-domid 1: Option not supported for this target\n"),
    ],
)
def test_non_x86_options(argv: list[str], stderr: str) -> None:
    (arg,) = split_argv(argv)  # accepted by the first pass
    with pytest.raises(VnvdimmError) as info:
        check_target(arg)
    assert info.value.report(PROG) == stderr


def test_x86_options_pass_target_check() -> None:
    for arg in split_argv(["-m", "1G", "-S", "disk.img"]):
        check_target(arg)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("machine", "handled"), ("M", "handled"), ("m", "handled"), ("object", "handled"),
     ("device", "handled"), ("qmp", "handled"), ("monitor", "handled"), ("pidfile", "handled"),
     ("accel", "ignored"), ("cpu", "ignored"), ("display", "ignored"), ("serial", "ignored"),
     ("rtc", "ignored"), ("kernel", "warn"), ("initrd", "warn"), ("append", "warn"),
     ("drive", "warn"), ("hda", "warn"), ("cdrom", "warn"), ("netdev", "warn"),
     ("bios", "warn"), ("no-acpi", "warn")],
)
def test_option_kind(name: str, kind: str) -> None:
    assert option_kind(name) == kind


def test_option_kind_unknown() -> None:
    with pytest.raises(KeyError):
        option_kind("foo")


@given(st.lists(st.one_of(st.sampled_from(["-m", "--m", "-S", "-", "--", "-foo", "x"]),
                          st.text(max_size=8)), max_size=8))
def test_split_argv_raises_only_vnvdimm_errors(argv: list[str]) -> None:
    try:
        args = split_argv(argv)
    except VnvdimmError as error:
        assert error.message in ("invalid option", "requires an argument")
        assert error.location in argv
        return
    for arg in args:
        assert arg.name in OPTIONS
        assert option_kind(arg.name) in ("handled", "ignored", "warn")
