#!/usr/bin/env python3
"""Preallocation time of a file-backed backend: vnvdimm vs QEMU 7.2.

Both sides build the same platform, a pc machine with 512 MiB RAM plus

  -object memory-backend-file,id=m0,share=on,mem-path=<fresh file>,size=1G
          [,prealloc=on,prealloc-threads=2]

  vnvdimm: build_machine(...) + close(), in this process
  QEMU:    qemu-system-x86_64 -S -nodefaults -display none -monitor stdio ...
           spawned, `quit` piped in, timed until it has exited

each with and without prealloc, so that the difference is the preallocation
alone (for QEMU its process start-up cancels out, for vnvdimm the machine
build does). Both sides include unmapping the populated block (close() /
QEMU's exit). The file is deleted before every run (untimed), so every run
populates fresh pages. Runs are interleaved; medians shown. The files live in
a fresh temp directory (`--dir`, default /dev/shm, a tmpfs) that is removed
afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field

from _common import (
    QEMU,
    default_tmpfs_dir,
    fmt_ms,
    fmt_ratio,
    fmt_size,
    machine_banner,
    median,
    parse_size,
    print_table,
    remove_quiet,
    scratch_dir,
    timed_run,
)
from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.machine.cmdline import build_machine

MACHINE = ["-machine", "pc,nvdimm=on", "-m", "512M"]
QEMU_ONLY = ["-S", "-nodefaults", "-display", "none", "-monitor", "stdio"]


@dataclass
class Case:
    side: str  # "vnvdimm" or "qemu"
    prealloc: bool
    argv: list[str]
    times: list[float] = field(default_factory=list)


def run_vnvdimm(argv: list[str]) -> float:
    opts = split_argv(argv)
    t0 = time.perf_counter()
    m = build_machine(opts, warn=lambda msg: print(msg, file=sys.stderr))
    m.close()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="backend size (default 1G)")
    parser.add_argument("--threads", type=int, default=2, help="prealloc-threads (default 2)")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--dir", default=None,
                        help="where the temp directory goes (default /dev/shm, a tmpfs)")
    parser.add_argument("--qemu", default=QEMU, help=f"QEMU binary (default {QEMU})")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    directory = args.dir or default_tmpfs_dir()
    have_qemu = os.access(args.qemu, os.X_OK)
    print(f"prealloc: {machine_banner()}; backing files under {directory}")
    if not have_qemu:
        print(f"{args.qemu} not found: QEMU rows skipped")

    with scratch_dir(directory, "vnvdimm-bench-") as tmp:
        image = os.path.join(tmp, "backend.img")
        obj = f"memory-backend-file,id=m0,share=on,mem-path={image},size={size}"
        with_prealloc = f"{obj},prealloc=on,prealloc-threads={args.threads}"
        cases = [Case("vnvdimm", False, [*MACHINE, "-object", obj]),
                 Case("vnvdimm", True, [*MACHINE, "-object", with_prealloc])]
        if have_qemu:
            cases += [Case("qemu", False, [args.qemu, *QEMU_ONLY, *MACHINE, "-object", obj]),
                      Case("qemu", True,
                           [args.qemu, *QEMU_ONLY, *MACHINE, "-object", with_prealloc])]
        for round_no in range(args.runs + 1):  # round 0 is an untimed warm-up
            for case in cases:
                remove_quiet(image)  # fresh file: nothing already in the page cache
                t = run_vnvdimm(case.argv) if case.side == "vnvdimm" else timed_run(case.argv)
                if round_no:
                    case.times.append(t)
        remove_quiet(image)

    def times(side: str, prealloc: bool) -> list[float]:
        return next(c for c in cases if c.side == side and c.prealloc == prealloc).times

    sides = [side for side in ("vnvdimm", "qemu") if any(c.side == side for c in cases)]
    deltas = {side: median(times(side, True)) - median(times(side, False)) for side in sides}
    min_deltas = {side: min(times(side, True)) - min(times(side, False)) for side in sides}
    rows = []
    for side in sides:
        delta = deltas[side]
        ratio = fmt_ratio(delta / deltas["qemu"]) if "qemu" in deltas else ""
        ratio_min = fmt_ratio(min_deltas[side] / min_deltas["qemu"]) if "qemu" in deltas else ""
        rate = f"{size / delta / 1e9:.2f}" if delta > 0 else ""
        what = "build_machine+close" if side == "vnvdimm" else "spawn..exit"
        rows.append([f"{side} ({what})", fmt_ms(median(times(side, False))),
                     fmt_ms(median(times(side, True))), fmt_ms(delta), rate, ratio,
                     fmt_ms(min_deltas[side]), ratio_min])
    print_table(f"prealloc of {fmt_size(size)}, prealloc-threads={args.threads}, "
                f"median of {args.runs} (ms)",
                ["side", "without prealloc", "with prealloc", "prealloc only", "GB/s",
                 "vs QEMU", "min-based", "vs QEMU (min)"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
