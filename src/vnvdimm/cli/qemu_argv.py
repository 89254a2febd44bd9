"""qemu-system-x86_64 7.2 command-line tokenizer.

Behaviour of the real program (checked against Debian's 7.2.22 build):

* ``-opt`` and ``--opt`` are the same; ``-opt=value`` is not an option
  (``-m=1G: invalid option``), nor are ``-`` and ``--``.
* A word not starting with ``-`` is a disk image, exactly like ``-hda word``.
* QEMU first scans the whole command line: the first unknown option
  (``<word>: invalid option``) or an option lacking its argument
  (``<word>: requires an argument``) ends the program with status 1 before
  anything else is looked at.  The location printed is the word as typed.
* Options valid in QEMU but not for x86 (``-g``, ``-prom-env``, ...) fail only
  when their turn comes, as ``<opt> <arg>: Option not supported for this target``.
"""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError
from vnvdimm.value import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, Literal

    OptionKind = Literal["handled", "ignored", "warn"]
else:
    OptionKind = str  # at run time only a name: typing is not imported at start-up

__all__ = [
    "OPTIONS",
    "OptionKind",
    "OptionSpec",
    "QemuArg",
    "check_target",
    "option_kind",
    "split_argv",
]


class OptionSpec:
    """How one option is handled (immutable)."""

    __slots__ = ("has_arg", "kind", "x86")

    def __init__(self, has_arg: bool, kind: OptionKind, x86: bool = True) -> None:
        self.has_arg: Final = has_arg
        self.kind: Final = kind
        self.x86: Final = x86  # False: QEMU says "Option not supported for this target"


class QemuArg(Value):
    """One option: ``name`` without dashes, ``text`` as QEMU prints it as a location."""

    __slots__ = ("name", "positional", "text", "value")
    _fields = ("name", "value", "text", "positional")

    def __init__(self, name: str, value: str | None, text: str,
                 positional: bool = False) -> None:
        self.name: Final = name
        self.value: Final = value
        self.text: Final = text
        self.positional: Final = positional  # a bare disk image word (treated as -hda)

    @property
    def canonical(self) -> str:
        """The option's main spelling (``M`` is ``machine``, ``h`` is ``help``)."""
        return _ALIASES.get(self.name, self.name)


_ALIASES = {"M": "machine", "h": "help"}

_A, _N = True, False  # takes an argument / does not

# Every option qemu-system-x86_64 7.2 accepts (probed one by one on the binary).
# handled: vnvdimm acts on it.  ignored: meaningless without guest code (CPU,
# display, firmware tweaks, host process details).  warn: a guest would depend
# on it, so silently dropping it could mislead.
OPTIONS: dict[str, OptionSpec] = {
    # platform and its management interfaces
    "help": OptionSpec(_N, "handled"),
    "h": OptionSpec(_N, "handled"),
    "version": OptionSpec(_N, "handled"),
    "machine": OptionSpec(_A, "handled"),
    "M": OptionSpec(_A, "handled"),
    "m": OptionSpec(_A, "handled"),
    "object": OptionSpec(_A, "handled"),
    "device": OptionSpec(_A, "handled"),
    "numa": OptionSpec(_A, "handled"),
    "smp": OptionSpec(_A, "handled"),
    "qmp": OptionSpec(_A, "handled"),
    "qmp-pretty": OptionSpec(_A, "handled"),
    "monitor": OptionSpec(_A, "handled"),
    "mon": OptionSpec(_A, "handled"),
    "chardev": OptionSpec(_A, "handled"),
    "daemonize": OptionSpec(_N, "handled"),
    "pidfile": OptionSpec(_A, "handled"),
    "S": OptionSpec(_N, "handled"),
    "nodefaults": OptionSpec(_N, "handled"),
    "nographic": OptionSpec(_N, "handled"),
    "name": OptionSpec(_A, "handled"),
    "no-user-config": OptionSpec(_N, "handled"),
    "preconfig": OptionSpec(_N, "ignored"),
    # no meaning without a CPU, display or firmware
    "accel": OptionSpec(_A, "ignored"),
    "cpu": OptionSpec(_A, "ignored"),
    "enable-kvm": OptionSpec(_N, "ignored"),
    "display": OptionSpec(_A, "ignored"),
    "vga": OptionSpec(_A, "ignored"),
    "full-screen": OptionSpec(_N, "ignored"),
    "portrait": OptionSpec(_N, "ignored"),
    "rotate": OptionSpec(_A, "ignored"),
    "k": OptionSpec(_A, "ignored"),
    "serial": OptionSpec(_A, "ignored"),
    "parallel": OptionSpec(_A, "ignored"),
    "debugcon": OptionSpec(_A, "ignored"),
    "rtc": OptionSpec(_A, "ignored"),
    "uuid": OptionSpec(_A, "ignored"),
    "no-reboot": OptionSpec(_N, "ignored"),
    "no-shutdown": OptionSpec(_N, "ignored"),
    "action": OptionSpec(_A, "ignored"),
    "watchdog-action": OptionSpec(_A, "ignored"),
    "no-hpet": OptionSpec(_N, "ignored"),
    "no-fd-bootchk": OptionSpec(_N, "ignored"),
    "win2k-hack": OptionSpec(_N, "ignored"),
    "icount": OptionSpec(_A, "ignored"),
    "singlestep": OptionSpec(_N, "ignored"),
    "echr": OptionSpec(_A, "ignored"),
    "msg": OptionSpec(_A, "ignored"),
    "trace": OptionSpec(_A, "ignored"),
    "d": OptionSpec(_A, "ignored"),
    "D": OptionSpec(_A, "ignored"),
    "dfilter": OptionSpec(_A, "ignored"),
    "L": OptionSpec(_A, "ignored"),
    "seed": OptionSpec(_A, "ignored"),
    "sandbox": OptionSpec(_A, "ignored"),
    "chroot": OptionSpec(_A, "ignored"),
    "runas": OptionSpec(_A, "ignored"),
    "overcommit": OptionSpec(_A, "ignored"),
    "only-migratable": OptionSpec(_N, "ignored"),
    "dump-vmstate": OptionSpec(_A, "ignored"),
    "enable-sync-profile": OptionSpec(_N, "ignored"),
    "async-teardown": OptionSpec(_N, "ignored"),
    "compat": OptionSpec(_A, "ignored"),
    "add-fd": OptionSpec(_A, "ignored"),
    "audio-help": OptionSpec(_N, "ignored"),
    "qtest": OptionSpec(_A, "ignored"),
    "qtest-log": OptionSpec(_A, "ignored"),
    # rejected by QEMU on x86 ("Option not supported for this target")
    "g": OptionSpec(_A, "ignored", x86=False),
    "prom-env": OptionSpec(_A, "ignored", x86=False),
    "old-param": OptionSpec(_N, "ignored", x86=False),
    "semihosting": OptionSpec(_N, "ignored", x86=False),
    "semihosting-config": OptionSpec(_A, "ignored", x86=False),
    "xen-attach": OptionSpec(_N, "ignored", x86=False),
    "xen-domid": OptionSpec(_A, "ignored", x86=False),
    "xen-domid-restrict": OptionSpec(_N, "ignored", x86=False),
    # a guest would depend on these
    "kernel": OptionSpec(_A, "warn"),
    "initrd": OptionSpec(_A, "warn"),
    "append": OptionSpec(_A, "warn"),
    "dtb": OptionSpec(_A, "warn"),
    "bios": OptionSpec(_A, "warn"),
    "option-rom": OptionSpec(_A, "warn"),
    "fw_cfg": OptionSpec(_A, "warn"),
    "smbios": OptionSpec(_A, "warn"),
    "acpitable": OptionSpec(_A, "warn"),
    "no-acpi": OptionSpec(_N, "warn"),
    "boot": OptionSpec(_A, "warn"),
    "drive": OptionSpec(_A, "warn"),
    "blockdev": OptionSpec(_A, "warn"),
    "hda": OptionSpec(_A, "warn"),
    "hdb": OptionSpec(_A, "warn"),
    "hdc": OptionSpec(_A, "warn"),
    "hdd": OptionSpec(_A, "warn"),
    "cdrom": OptionSpec(_A, "warn"),
    "fda": OptionSpec(_A, "warn"),
    "fdb": OptionSpec(_A, "warn"),
    "sd": OptionSpec(_A, "warn"),
    "pflash": OptionSpec(_A, "warn"),
    "mtdblock": OptionSpec(_A, "warn"),
    "snapshot": OptionSpec(_N, "warn"),
    "iscsi": OptionSpec(_A, "warn"),
    "fsdev": OptionSpec(_A, "warn"),
    "virtfs": OptionSpec(_A, "warn"),
    "netdev": OptionSpec(_A, "warn"),
    "net": OptionSpec(_A, "warn"),
    "nic": OptionSpec(_A, "warn"),
    "usb": OptionSpec(_N, "warn"),
    "usbdevice": OptionSpec(_A, "warn"),
    "audio": OptionSpec(_A, "warn"),
    "audiodev": OptionSpec(_A, "warn"),
    "spice": OptionSpec(_A, "warn"),
    "vnc": OptionSpec(_A, "warn"),
    "tpmdev": OptionSpec(_A, "warn"),
    "mem-path": OptionSpec(_A, "warn"),
    "mem-prealloc": OptionSpec(_N, "warn"),
    "global": OptionSpec(_A, "warn"),
    "set": OptionSpec(_A, "warn"),
    "readconfig": OptionSpec(_A, "warn"),
    "loadvm": OptionSpec(_A, "warn"),
    "incoming": OptionSpec(_A, "warn"),
    "gdb": OptionSpec(_A, "warn"),
    "s": OptionSpec(_N, "warn"),
    "plugin": OptionSpec(_A, "warn"),
}


def split_argv(argv: list[str]) -> list[QemuArg]:
    """Split a QEMU command line (without the program name) into options.

    Raises ``VnvdimmError`` with QEMU's text and location for the first
    unknown option or missing argument, as QEMU's first pass does.
    """
    out: list[QemuArg] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if not word.startswith("-"):
            out.append(QemuArg("hda", word, word, positional=True))
            i += 1
            continue
        name = word[2:] if word.startswith("--") else word[1:]
        spec = OPTIONS.get(name)
        if spec is None:
            raise VnvdimmError("invalid option", location=word)
        if not spec.has_arg:
            out.append(QemuArg(name, None, word))
            i += 1
            continue
        if i + 1 >= len(argv):
            raise VnvdimmError("requires an argument", location=word)
        value = argv[i + 1]
        out.append(QemuArg(name, value, f"{word} {value}"))
        i += 2
    return out


def option_kind(name: str) -> OptionKind:
    """How vnvdimm treats an option (``name`` without dashes; ``hda`` for disk images)."""
    spec = OPTIONS.get(name)
    if spec is None:
        raise KeyError(name)
    return spec.kind


def check_target(arg: QemuArg) -> None:
    """Fail like QEMU does, when the option's turn comes, for non-x86 options."""
    spec = OPTIONS.get(arg.name)
    if spec is not None and not spec.x86:
        raise VnvdimmError("Option not supported for this target", location=arg.text)
