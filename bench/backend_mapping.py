#!/usr/bin/env python3
"""Backend creation + mapping time for a 1 GiB and a 1 TiB sparse file.

Each variant is a full `build_machine(...)` of a pc machine (512 MiB RAM,
4 slots, maxmem 8G) plus, timed separately, its `close()`:

  machine only          no -object: the fixed cost every variant shares
  backend <size>        + -object memory-backend-file,share=on,size=<size>
                          (creates the file, ftruncates it sparse, reserves
                          and maps it; no prealloc)
  backend+nvdimm 1G     + -device nvdimm on it (only for sizes <= 8 GiB)

Why the 1 TiB case has no device: QEMU 7.2's pc machine with the default
qemu64 CPU has 40 physical address bits (1 TiB), and device memory starts at
4 GiB, so the machine refuses `maxmem` large enough for a 1 TiB DIMM
("Address space limit 0xffffffffff < ... phys-bits too low (40)"), in QEMU
and in vnvdimm alike. The backend alone is what scales with the size, so the
1 TiB / 1 GiB ratio compares backend-only builds; the 1 GiB nvdimm row shows
what plugging adds.

The backing file is deleted (untimed) before every build, so every build
creates and sizes a new sparse file, as a first start would. Variants are
interleaved round-robin; medians are shown. The raw row is the same work in
plain Python (open O_CREAT, ftruncate, mmap.mmap shared, close) as a floor.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from _common import (
    fmt_ratio,
    fmt_size,
    fmt_us,
    machine_banner,
    median,
    parse_sizes,
    print_table,
    remove_quiet,
    scratch_dir,
)
from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.machine.cmdline import build_machine

MACHINE = ["-machine", "pc,nvdimm=on", "-m", "512M,slots=4,maxmem=8G"]
DEVICE_LIMIT = 8 << 30  # what fits into maxmem=8G next to 512M of RAM (minus a slot's pad)


@dataclass
class Variant:
    name: str
    size: int  # backend size, 0 for none
    argv: list[str]
    image: str | None
    raw: bool = False
    build: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)

    def run(self, warn: Callable[[str], None]) -> tuple[float, float]:
        """One fresh build (the file removed first, untimed): (build, close) seconds."""
        if self.image is not None:
            remove_quiet(self.image)
            if self.raw:
                return run_raw(self.image, self.size)
        return run_build(self.argv, warn)


def backend_argv(image: str, size: int) -> list[str]:
    return ["-object", f"memory-backend-file,id=m0,share=on,mem-path={image},size={size}"]


def run_raw(image: str, size: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    fd = os.open(image, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    mapping = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    t1 = time.perf_counter()
    mapping.close()
    os.close(fd)
    return t1 - t0, time.perf_counter() - t1


def run_build(argv: list[str], warn: Callable[[str], None]) -> tuple[float, float]:
    opts = split_argv(argv)
    t0 = time.perf_counter()
    m = build_machine(opts, warn=warn)
    t1 = time.perf_counter()
    m.close()
    return t1 - t0, time.perf_counter() - t1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1G,1T", help="backend sizes (default 1G,1T)")
    parser.add_argument("--repeat", type=int, default=201,
                        help="builds per variant (default 201)")
    parser.add_argument("--dir", default=None,
                        help="directory for the sparse files (default: the system temp dir)")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    print(f"backend_mapping: {machine_banner()}")

    def warn(msg: str) -> None:
        print(msg, file=sys.stderr)

    with scratch_dir(args.dir, "vnvdimm-bench-") as tmp:
        print(f"sparse files in {tmp}")
        variants = [Variant("machine only (no backend)", 0, MACHINE, None)]
        for size in sizes:
            image = os.path.join(tmp, f"backend-{fmt_size(size)}.img")
            variants.append(Variant(f"raw open+ftruncate+mmap {fmt_size(size)}", size, [],
                                    image, raw=True))
            variants.append(Variant(f"backend {fmt_size(size)}", size,
                                    MACHINE + backend_argv(image, size), image))
            if size <= DEVICE_LIMIT:
                variants.append(Variant(
                    f"backend+nvdimm {fmt_size(size)}", size,
                    MACHINE + backend_argv(image, size) + ["-device", "nvdimm,id=nv0,memdev=m0"],
                    image))
        for v in variants:  # warm-up: imports, first-time code paths
            v.run(warn)
        for _ in range(args.repeat):
            for v in variants:
                build, close = v.run(warn)
                v.build.append(build)
                v.close.append(close)
        for v in variants:
            if v.image:
                remove_quiet(v.image)

    base_build = median(variants[0].build)
    by_name = {v.name: v for v in variants}
    first = fmt_size(sizes[0])
    rows = []
    for v in variants:
        build = median(v.build)
        backend_only = build - base_build if v.size and not v.raw else None
        ref = by_name.get(v.name.replace(fmt_size(v.size), first)) if v.size else None
        ratio = fmt_ratio(build / median(ref.build)) if ref is not None else ""
        rows.append([v.name, fmt_us(build), fmt_us(backend_only) if backend_only else "",
                     fmt_us(median(v.close)), ratio])
    print_table(f"build_machine + close, median of {args.repeat} (µs); "
                f"'vs {first}' = same variant at {first}",
                ["variant", "build", "build - machine only", "close", f"vs {first}"], rows)

    big = [v for v in variants if v.size == max(sizes) and not v.raw and v.name.startswith("b")]
    small = by_name.get(f"backend {first}")
    if small is not None and big and len(sizes) > 1:
        b = big[0]
        extra_small = median(small.build) - base_build
        extra_big = median(b.build) - base_build
        print(f"\n{fmt_size(max(sizes))} / {first} backend build: "
              f"{fmt_ratio(median(b.build) / median(small.build))} whole build_machine, "
              f"{fmt_ratio(extra_big / extra_small) if extra_small > 0 else 'n/a'} "
              f"backend share only (target: within 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
