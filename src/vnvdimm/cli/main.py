"""The `vnvdimm` command: dispatch only; each verb imports what it needs."""

from __future__ import annotations

import sys

USAGE = """\
usage: vnvdimm                       run the default platform (1 GiB NVDIMM, data kept)
       vnvdimm run [QEMU options]    run a platform from a QEMU command line
       vnvdimm check [QEMU options] [--json] [--dump-acpi DIR]
                                     validate a QEMU command line, show its memory map and
                                     the guest's view; write the NFIT/SRAT it implies
       vnvdimm img create|info|check IMAGE ...
                                     create, show and check NVDIMM backend images
       vnvdimm ndctl VERB [options] IMAGE...
                                     ndctl's label and namespace verbs on backend images
       vnvdimm --version
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from vnvdimm.cli.default import run_default

        return run_default()
    verb, rest = args[0], args[1:]
    if verb in ("--version", "-V", "version"):
        from vnvdimm import __version__

        print(f"vnvdimm {__version__}")
        return 0
    if verb in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if verb == "run":
        from vnvdimm.cli.run import run

        return run(rest)
    if verb == "check":
        from vnvdimm.cli.check import check

        return check(rest)
    if verb == "img":
        from vnvdimm.cli.img import img

        return img(rest)
    if verb == "ndctl":
        from vnvdimm.cli.ndctl import ndctl

        return ndctl(rest)
    print(f"vnvdimm: unknown command '{verb}'", file=sys.stderr)
    print(USAGE, end="", file=sys.stderr)
    return 2
