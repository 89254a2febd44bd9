"""`vnvdimm ndctl VERB [options] IMAGE...`: ndctl 76's label and namespace verbs, offline.

Each IMAGE stands for one nvdimm (nmemN) and its region (regionN), numbered
in command-line order.  Output shapes are ndctl's; JSON is printed the way
ndctl's json-c prints it (two-space indent, no space after the colon).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid as uuidlib
from collections.abc import Sequence
from typing import Any

from vnvdimm.cli.img import (
    IMAGE_HELP,
    UsageError,
    add_image_options,
    fail,
    open_image,
    size_arg,
    slots_for,
)
from vnvdimm.guest.sysfs_order import ndctl_order
from vnvdimm.image.file import ImageError
from vnvdimm.image.namespaces import (
    CreateRequest,
    apply,
    find_namespace,
    namespace_json,
    ndctl_list,
    plan_create,
    plan_destroy,
    plan_init,
    read_labels_json,
    report,
)
from vnvdimm.labels import LabelError, LabelVersion, parse_label_area


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, separators=(",", ":"))


def _parser(verb: str, description: str, *, many: bool = True,
            size_flag: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"vnvdimm ndctl {verb}", description=description,
                                     epilog=IMAGE_HELP)
    if many:
        parser.add_argument("images", nargs="+", metavar="IMAGE")
    add_image_options(parser, size_flag=size_flag)
    return parser


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_init_labels(argv: Sequence[str]) -> int:
    parser = _parser("init-labels", "Write fresh namespace index blocks (ndctl init-labels).")
    parser.add_argument("-V", "--label-version", default="1.1", choices=("1.1", "1.2"))
    parser.add_argument("-f", "--force", action="store_true",
                        help="overwrite a valid label area")
    args = parser.parse_args(argv)
    version = LabelVersion.V1_1 if args.label_version == "1.1" else LabelVersion.V1_2
    done = 0
    try:
        for path, slot in zip(args.images, slots_for(args, len(args.images)), strict=True):
            with open_image(path, args, slot, writable=True) as img:
                area = img.labels_media.read(0, img.layout.label_size)
                if parse_label_area(area).verdict.valid and not args.force:
                    print(f"nmem{done}: error: labels already initialized "
                          f"(use --force)", file=sys.stderr)
                    continue
                apply(img, plan_init(img, version))
                done += 1
    except (ImageError, LabelError, UsageError) as exc:
        return fail(str(exc))
    print(f"initialized {_plural(done, 'nmem')}", file=sys.stderr)
    return 0 if done == len(args.images) else 1


def cmd_zero_labels(argv: Sequence[str]) -> int:
    parser = _parser("zero-labels", "Zero the whole label area (ndctl zero-labels).")
    args = parser.parse_args(argv)
    done = 0
    try:
        for path, slot in zip(args.images, slots_for(args, len(args.images)), strict=True):
            with open_image(path, args, slot, writable=True) as img:
                img.labels_media.write(0, bytes(img.layout.label_size))
                done += 1
    except (ImageError, UsageError) as exc:
        return fail(str(exc))
    print(f"zeroed {_plural(done, 'nmem')}", file=sys.stderr)
    return 0


def cmd_read_labels(argv: Sequence[str]) -> int:
    parser = _parser("read-labels", "Dump the label area (ndctl read-labels).")
    parser.add_argument("-j", "--json", action="store_true", help="parse labels into JSON")
    parser.add_argument("-u", "--human", action="store_true", help="hex numbers (with -j)")
    parser.add_argument("-o", "--output", default=None, help="write raw bytes to this file")
    args = parser.parse_args(argv)
    out: list[dict[str, Any]] = []
    raw = b""
    try:
        for i, (path, slot) in enumerate(
                zip(args.images, slots_for(args, len(args.images)), strict=True)):
            with open_image(path, args, slot) as img:
                area = img.labels_media.read(0, img.layout.label_size)
            if args.json:
                out.append(read_labels_json(i, area, human=args.human))
            else:
                raw += area
    except (ImageError, UsageError) as exc:
        return fail(str(exc))
    if args.json:
        by_name = {str(d["dev"]): d for d in out}
        out = [by_name[name] for name in ndctl_order(by_name)]
        text = dumps(out[0] if len(out) == 1 else out) + "\n"
        if args.output:
            with open(args.output, "w") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
    elif args.output:
        with open(args.output, "wb") as handle:
            handle.write(raw)
    else:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
    print(f"read {_plural(len(args.images), 'nmem')}", file=sys.stderr)
    return 0


def cmd_write_labels(argv: Sequence[str]) -> int:
    parser = _parser("write-labels", "Write a raw label-area image (ndctl write-labels): "
                     "the input must be exactly --label-size bytes; on any error the image "
                     "is not changed.", many=False)
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("-i", "--input", default="-",
                        help="file with the raw label area (default: standard input)")
    args = parser.parse_args(argv)
    try:
        if args.input == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.input, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        return fail(f"failed to read {args.input}: {exc.strerror}")
    try:
        slot = slots_for(args, 1)[0]
        with open_image(args.image, args, slot, writable=True) as img:
            if len(data) != img.layout.label_size:
                raise UsageError(f"nmem0: input is {len(data)} bytes, the label area is "
                                 f"{img.layout.label_size} bytes (--label-size)")
            img.labels_media.write(0, data)
    except (ImageError, UsageError) as exc:
        return fail(str(exc))
    print("wrote 1 nmem", file=sys.stderr)
    return 0


def cmd_check_labels(argv: Sequence[str]) -> int:
    parser = _parser("check-labels", "Validate the namespace index (ndctl check-labels).")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    good = 0
    try:
        for i, (path, slot) in enumerate(
                zip(args.images, slots_for(args, len(args.images)), strict=True)):
            with open_image(path, args, slot) as img:
                rep = report(img)
            if not rep.state.verdict.valid:
                print(f"nmem{i}: no valid namespace index", file=sys.stderr)
                continue
            if args.verbose:
                for problem in rep.problems:
                    print(f"nmem{i}: {problem}", file=sys.stderr)
            good += 1
    except (ImageError, UsageError) as exc:
        return fail(str(exc))
    print(f"successfully verified {_plural(good, 'nmem')} label", file=sys.stderr)
    return 0 if good == len(args.images) else 1


def cmd_create_namespace(argv: Sequence[str]) -> int:
    parser = _parser("create-namespace", "Create a namespace in the image's region "
                     "(ndctl create-namespace); a blank image is labelled first (v1.2). "
                     "-s/--size is the namespace size, as in ndctl; the backend's size= "
                     "is --backend-size here.", many=False, size_flag=False)
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("-m", "--mode", default="fsdax",
                        choices=("raw", "fsdax", "devdax", "sector", "memory", "dax"))
    parser.add_argument("-s", "--size", dest="ns_size", type=size_arg, default=None,
                        help="namespace size (a multiple of the region alignment, 16M); "
                             "default: the largest free extent")
    parser.add_argument("-n", "--name", default="")
    parser.add_argument("-u", "--uuid", default=None)
    parser.add_argument("-a", "--align", type=size_arg, default=None,
                        help="fsdax/devdax page-map alignment (4K, 2M (default), 1G)")
    parser.add_argument("-M", "--map", default=None, choices=("mem", "dev"))
    parser.add_argument("-l", "--sector-size", type=int, default=None)
    parser.add_argument("-V", "--label-version", default="1.2", choices=("1.1", "1.2"),
                        help="label version for auto-labelling a blank image")
    args = parser.parse_args(argv)
    mode = {"memory": "fsdax", "dax": "devdax"}.get(args.mode, args.mode)
    try:
        ns_uuid = uuidlib.UUID(args.uuid) if args.uuid else None
    except ValueError:
        return fail(f"failed to parse uuid '{args.uuid}'")
    if args.sector_size not in (None, 512) and mode != "sector":
        return fail(f"sector size {args.sector_size} is not supported for {mode} mode")
    req = CreateRequest(
        mode=mode, size=args.ns_size, name=args.name, uuid=ns_uuid, align=args.align,
        map=args.map,
        version=LabelVersion.V1_1 if args.label_version == "1.1" else LabelVersion.V1_2)
    try:
        slot = slots_for(args, 1)[0]
        with open_image(args.image, args, slot, writable=True) as img:
            plan, new_uuid = plan_create(img, req)
            apply(img, plan)
            rep = report(img)
    except (ImageError, LabelError, UsageError) as exc:
        return fail(f"failed to create namespace: {exc}")
    info = next((n for n in rep.namespaces if n.uuid == new_uuid), None)
    if info is None:  # pragma: no cover - the plan would be wrong
        return fail("failed to create namespace: it did not appear")
    print(dumps(namespace_json(0, info)))
    return 0


def cmd_destroy_namespace(argv: Sequence[str]) -> int:
    parser = _parser("destroy-namespace", "Destroy a namespace (ndctl destroy-namespace).",
                     many=False)
    parser.add_argument("namespace", help="namespace0.N, its uuid or name, or 'all'")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true",
                        help="required: destroying discards the namespace's data")
    args = parser.parse_args(argv)
    if not args.force:
        return fail("destroy-namespace requires --force (the namespace's data is lost)")
    destroyed = 0
    try:
        slot = slots_for(args, 1)[0]
        with open_image(args.image, args, slot, writable=True) as img:
            while True:
                rep = report(img)
                if rep.problems and not rep.namespaces:
                    raise LabelError("; ".join(rep.problems))
                if args.namespace == "all":
                    target = next((n for n in rep.namespaces if n.namespace), None)
                else:
                    target = find_namespace(rep, 0, args.namespace)
                if target is None:
                    break
                apply(img, plan_destroy(img, target))
                destroyed += 1
                if args.namespace != "all":
                    break
    except (ImageError, LabelError, UsageError) as exc:
        return fail(f"failed to destroy namespace: {exc}")
    if not destroyed and args.namespace != "all":
        return fail(f"namespace {args.namespace} not found")
    print(f"destroyed {_plural(destroyed, 'namespace')}", file=sys.stderr)
    return 0


def cmd_list(argv: Sequence[str]) -> int:
    parser = _parser("list", "List dimms, regions and namespaces (ndctl list).")
    parser.add_argument("-D", "--dimms", action="store_true")
    parser.add_argument("-R", "--regions", action="store_true")
    parser.add_argument("-N", "--namespaces", action="store_true")
    parser.add_argument("-u", "--human", action="store_true")
    args = parser.parse_args(argv)
    try:
        reports = []
        for path, slot in zip(args.images, slots_for(args, len(args.images)), strict=True):
            with open_image(path, args, slot) as img:
                reports.append(report(img))
    except (ImageError, LabelError, UsageError) as exc:
        return fail(str(exc))
    value = ndctl_list(reports, dimms=args.dimms, regions=args.regions,
                       namespaces=args.namespaces, human=args.human)
    if value not in ([], {}):
        print(dumps(value))
    return 0


VERBS = {
    "init-labels": cmd_init_labels,
    "zero-labels": cmd_zero_labels,
    "read-labels": cmd_read_labels,
    "write-labels": cmd_write_labels,
    "check-labels": cmd_check_labels,
    "create-namespace": cmd_create_namespace,
    "destroy-namespace": cmd_destroy_namespace,
    "list": cmd_list,
}

USAGE = """\
usage: vnvdimm ndctl VERB [options] IMAGE...
verbs: init-labels, read-labels, write-labels, zero-labels, check-labels,
       create-namespace, destroy-namespace, list
       (each takes --slot N, --label-size, --size; see --help)
"""


def ndctl(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command = VERBS.get(argv[0])
    if command is None:
        print(f"vnvdimm: unknown ndctl command '{argv[0]}'", file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        return 2
    return command(list(argv[1:]))
