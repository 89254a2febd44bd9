"""`vnvdimm img create|info|check`: NVDIMM backend image files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from vnvdimm.image.file import (
    DEFAULT_ALIGN,
    DEFAULT_LABEL_SIZE,
    ImageError,
    ImageFile,
    ImageLayout,
    create_image,
)
from vnvdimm.image.namespaces import REGION_ALIGN, ImageReport, report
from vnvdimm.labels import LabelError
from vnvdimm.options import SizeError, parse_size

IMAGE_HELP = """\
The image is a memory-backend-file for one QEMU nvdimm: QEMU keeps the label area
in the last --label-size bytes of the backend's first --size bytes (default: the
whole file) and shows the guest the rest, rounded down to --align (the backend's
page size, 4 KiB for a normal file).  Labels are bound to the nvdimm's slot
(serial 0x123456 + slot): --slot must be the slot QEMU gives the device."""


class UsageError(Exception):
    pass


def size_arg(text: str) -> int:
    try:
        return parse_size(text)
    except SizeError:
        raise argparse.ArgumentTypeError(f"invalid size '{text}'") from None


def format_size(value: int) -> str:
    """QEMU size syntax, the largest exact suffix."""
    for suffix, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if value and value % (1 << shift) == 0:
            return f"{value >> shift}{suffix}"
    return str(value)


def add_image_options(parser: argparse.ArgumentParser, *, slots: bool = True,
                      size_flag: bool = True) -> None:
    group = parser.add_argument_group("image layout (as QEMU lays out the backend)")
    flags = ("--size", "--backend-size") if size_flag else ("--backend-size",)
    group.add_argument(*flags, dest="size", type=size_arg, default=None, metavar="SIZE",
                       help="the backend's size= (default: the file size); the label "
                            "area is the last --label-size bytes of it")
    group.add_argument("--label-size", type=size_arg, default=DEFAULT_LABEL_SIZE,
                       metavar="SIZE", help="the nvdimm's label-size= (default 128K)")
    group.add_argument("--backend-align", dest="backend_align", type=size_arg,
                       default=DEFAULT_ALIGN, metavar="SIZE",
                       help="the backend's alignment (align=; default 4K, the page size)")
    if slots:
        group.add_argument("--slot", type=int, action="append", default=None, metavar="N",
                           help="the nvdimm's slot (default 0); labels carry an "
                                "interleave-set cookie made from it.  Give it once per "
                                "image, or once for the first image (the next images "
                                "then take the following slots)")


def slots_for(args: argparse.Namespace, count: int) -> list[int]:
    given: list[int] = args.slot or [0]
    if len(given) == 1:
        return [given[0] + i for i in range(count)]
    if len(given) != count:
        raise UsageError(f"--slot given {len(given)} times for {count} images")
    return given


def open_image(path: str, args: argparse.Namespace, slot: int, *,
               writable: bool = False) -> ImageFile:
    return ImageFile(path, size=args.size, label_size=args.label_size,
                     align=args.backend_align, slot=slot, writable=writable)


def fail(message: str) -> int:
    print(f"vnvdimm: {message}", file=sys.stderr)
    return 1


# --- img create

def qemu_options(path: str, layout: ImageLayout, slot: int, index: int = 0) -> list[str]:
    obj = (f"memory-backend-file,id=mem{index},share=on,mem-path={path},"
           f"size={format_size(layout.size)}")
    if layout.align != DEFAULT_ALIGN:
        obj += f",align={format_size(layout.align)}"
    dev = (f"nvdimm,id=nvdimm{index},memdev=mem{index},"
           f"label-size={format_size(layout.label_size)},slot={slot}")
    return ["-object", obj, "-device", dev]


def cmd_create(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vnvdimm img create", description="Create a sparse NVDIMM backend image.",
        epilog=IMAGE_HELP)
    parser.add_argument("image")
    parser.add_argument("size", nargs="?", type=size_arg,
                        help="the backend size (QEMU's size=), labels included")
    parser.add_argument("--pmem-size", type=size_arg, default=None,
                        help="ask for the guest-visible pmem size instead; the backend "
                             "size is computed (label area added)")
    parser.add_argument("--label-size", type=size_arg, default=DEFAULT_LABEL_SIZE)
    parser.add_argument("--align", type=size_arg, default=DEFAULT_ALIGN,
                        help="the backend alignment (printed as align= when not 4K)")
    parser.add_argument("--slot", type=int, default=0, help="slot for the printed -device")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    try:
        if (args.size is None) == (args.pmem_size is None):
            raise UsageError("give exactly one of SIZE and --pmem-size")
        if args.pmem_size is not None:
            layout = ImageLayout.for_pmem_size(args.pmem_size, args.label_size, args.align)
        else:
            layout = ImageLayout(args.size, args.label_size, args.align)
        create_image(args.image, layout, force=args.force)
    except (ImageError, UsageError) as exc:
        return fail(str(exc))
    print(f"created {args.image}: backend {layout.size} bytes, pmem {layout.pmem_size} "
          f"bytes at 0, labels {layout.label_size} bytes at {layout.label_offset:#x}")
    if layout.pmem_size % REGION_ALIGN:
        print(f"note: the pmem size is not a multiple of 16 MiB; Linux sizes namespaces in "
              f"16 MiB units, so {layout.pmem_size % REGION_ALIGN} bytes stay unused")
    print(" ".join(qemu_options(os.path.abspath(args.image), layout, args.slot)))
    return 0


# --- img info / check

def report_json(rep: ImageReport) -> dict[str, Any]:
    state = rep.state
    index: dict[str, Any] = {"valid": state.verdict.valid}
    block = state.current_block
    if block is not None:
        index.update({"current": state.current, "seq": block.seq,
                      "version": f"{block.major}.{block.minor}",
                      "label_size": state.label_size, "nslot": block.nslot,
                      "free_slots": state.free_slot_count()})
    return {
        "image": rep.path, "slot": rep.slot, "size": rep.size,
        "pmem": {"offset": 0, "size": rep.pmem_size},
        "label_area": {"offset": rep.label_offset, "size": rep.label_size},
        "index": index, "labeling": state.labeling,
        "namespaces": [{
            "uuid": None if n.uuid is None else str(n.uuid), "name": n.name,
            "dpa": n.dpa, "raw_size": n.raw_size, "mode": n.mode.mode, "size": n.mode.size,
            **({"map": n.mode.map, "align": n.mode.align} if n.mode.map else {}),
            **({"claim_class": n.namespace.claim_class.value,
                "label_slot": n.namespace.slot} if n.namespace else {}),
        } for n in rep.namespaces],
        "problems": rep.problems, "notes": rep.notes, "healthy": rep.healthy,
    }


def print_report(rep: ImageReport) -> None:
    data = report_json(rep)
    print(f"image: {rep.path} (slot {rep.slot})")
    print(f"backend size: {rep.size}")
    print(f"pmem area: offset 0, {rep.pmem_size} bytes")
    print(f"label area: offset {rep.label_offset:#x}, {rep.label_size} bytes")
    index = data["index"]
    if index["valid"]:
        print(f"index: v{index['version']}, current block {index['current']} "
              f"(seq {index['seq']}), {index['nslot']} slots, {index['free_slots']} free")
    else:
        print("index: none (label-less: the guest sees one raw namespace for the region)")
    for ns in data["namespaces"]:
        name = f" \"{ns['name']}\"" if ns["name"] else ""
        extra = f" map={ns['map']} align={ns['align']:#x}" if "map" in ns else ""
        print(f"namespace: {ns['uuid'] or '(label-less)'}{name} mode={ns['mode']} "
              f"dpa={ns['dpa']:#x} raw_size={ns['raw_size']} size={ns['size']}{extra}")
    for note in rep.notes:
        print(f"note: {note}")
    for problem in rep.problems:
        print(f"problem: {problem}")


def _info_like(argv: Sequence[str], prog: str, *, check: bool) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, epilog=IMAGE_HELP,
        description=("Check an image the way a Linux guest would read it: exit 0 healthy, "
                     "1 damaged." if check else
                     "Show an image's layout, label index and namespaces."))
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    add_image_options(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        slots = slots_for(args, len(args.images))
        reports = []
        for path, slot in zip(args.images, slots, strict=True):
            with open_image(path, args, slot) as img:
                reports.append(report(img))
    except (ImageError, LabelError, UsageError) as exc:
        return fail(str(exc))
    if args.json:
        out = [report_json(r) for r in reports]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        for rep in reports:
            if check:
                status = "healthy" if rep.healthy else "damaged"
                print(f"{rep.path}: {status}")
                for problem in rep.problems:
                    print(f"  problem: {problem}")
                for note in rep.notes:
                    print(f"  note: {note}")
            else:
                print_report(rep)
    if check:
        return 0 if all(r.healthy for r in reports) else 1
    return 0


IMG_USAGE = """\
usage: vnvdimm img create IMAGE SIZE | --pmem-size S [--label-size 128K] [--align A] [--force]
       vnvdimm img info IMAGE... [--size S] [--label-size L] [--slot N] [--json]
       vnvdimm img check IMAGE... [--size S] [--label-size L] [--slot N] [--json]
"""


def img(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(IMG_USAGE, end="")
        return 0 if argv else 2
    verb, rest = argv[0], list(argv[1:])
    if verb == "create":
        return cmd_create(rest)
    if verb == "info":
        return _info_like(rest, "vnvdimm img info", check=False)
    if verb == "check":
        return _info_like(rest, "vnvdimm img check", check=True)
    print(f"vnvdimm: unknown img command '{verb}'", file=sys.stderr)
    print(IMG_USAGE, end="", file=sys.stderr)
    return 2
