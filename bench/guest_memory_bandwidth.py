#!/usr/bin/env python3
"""Sequential guest-memory bandwidth through vnvdimm's guest-physical interface.

Builds a pc machine with RAM and one file-backed NVDIMM, pre-faults both (one
full write pass), then walks each region sequentially in blocks of 1, 4, 16
and 64 MiB (64 MiB is past glibc's 32 MiB mmap threshold; see m.read) through:

  read:  m.read(addr, n)                       (returns new bytes)
         m.guest_memory.read_into(addr, buf)   (into a preallocated bytearray)
         buf[:] = m.view(addr, n)              (zero-copy view, then one copy)
  write: m.write(addr, data)
         m.view(addr, n)[:] = data

Baseline, same process, same mapping, same block: a plain memoryview slice
copy, `buf[:] = whole[off:off + n]` for reads and `whole[off:off + n] = data`
for writes, where `whole` is one memoryview over the region taken up front.
The diagnostic row `bytes(whole[off:off+n])` is plain Python doing what
m.read has to do (allocate and fill a new bytes object), so a gap between
m.read and the baseline can be split into "vnvdimm overhead" and "cost of
returning a new object".

Each (region, block, path) is timed `--repeat` times, paths interleaved
round-robin; the table shows the best and the median GB/s (1 GB = 1e9 bytes),
the ratio of the best pass to the baseline's best pass (the best pass is the
one least disturbed by other work on the machine; the median shows the
spread), and minor page faults per MiB moved (evidence for allocation costs).
`--profile` adds a cProfile of every path below 0.8x.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from _common import (
    default_tmpfs_dir,
    fmt_ratio,
    fmt_size,
    machine_banner,
    median,
    parse_size,
    parse_sizes,
    print_table,
    scratch_dir,
)
from vnvdimm.cli.qemu_argv import split_argv
from vnvdimm.machine.cmdline import build_machine
from vnvdimm.machine.machine import Machine

TARGET = 0.8
MiB = 1 << 20


@dataclass
class Access:
    direction: str  # "read" or "write"
    name: str
    # One pass: moves every block of [start, start + span) once; returns bytes moved.
    run: Callable[[], int]
    baseline: bool = False
    diagnostic: bool = False


@dataclass
class Sample:
    seconds: list[float]
    faults: list[int]


def make_paths(m: Machine, whole: memoryview, start: int, span: int, block: int,
               buf: bytearray, data: bytes) -> list[Access]:
    """The timed loops for one region and block size (closures over the region)."""
    offsets = range(0, span - block + 1, block)
    moved = len(offsets) * block
    dst = memoryview(buf)
    gm = m.guest_memory

    def read_baseline() -> int:
        for off in offsets:
            dst[:] = whole[off: off + block]
        return moved

    def read_bytes_plain() -> int:
        for off in offsets:
            bytes(whole[off: off + block])
        return moved

    def read_m_read() -> int:
        for off in offsets:
            m.read(start + off, block)
        return moved

    def read_into() -> int:
        for off in offsets:
            gm.read_into(start + off, buf)
        return moved

    def read_view() -> int:
        for off in offsets:
            dst[:] = m.view(start + off, block)
        return moved

    def write_baseline() -> int:
        for off in offsets:
            whole[off: off + block] = data
        return moved

    def write_m_write() -> int:
        for off in offsets:
            m.write(start + off, data)
        return moved

    def write_view() -> int:
        for off in offsets:
            m.view(start + off, block)[:] = data
        return moved

    return [
        Access("read", "baseline: buf[:] = mv[off:off+n]", read_baseline, baseline=True),
        Access("read", "m.read(addr, n)", read_m_read),
        Access("read", "m.guest_memory.read_into(addr, buf)", read_into),
        Access("read", "buf[:] = m.view(addr, n)", read_view),
        Access("read", "diag: bytes(mv[off:off+n]) (plain)", read_bytes_plain, diagnostic=True),
        Access("write", "baseline: mv[off:off+n] = data", write_baseline, baseline=True),
        Access("write", "m.write(addr, data)", write_m_write),
        Access("write", "m.view(addr, n)[:] = data", write_view),
    ]


def minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(paths: list[Access], repeat: int) -> list[Sample]:
    samples = [Sample([], []) for _ in paths]
    for _ in range(repeat):
        for path, sample in zip(paths, samples, strict=True):
            faults = minflt()
            t0 = time.perf_counter()
            moved = path.run()
            elapsed = time.perf_counter() - t0
            sample.seconds.append(elapsed / moved)  # seconds per byte
            sample.faults.append(minflt() - faults)
    return samples


def profile_path(path: Access) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    path.run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(6)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    return "\n".join(lines[2:])  # drop the header noise


def bench_region(m: Machine, label: str, start: int, size: int, blocks: list[int],
                 span: int, repeat: int, profile: bool) -> list[str]:
    span = min(span, size)
    notes: list[str] = []
    rows: list[list[str]] = []
    with m.view(start, size) as whole:
        whole[:] = bytes(size)  # pre-fault every page writable, once
        for block in blocks:
            if block > span:
                continue
            buf = bytearray(block)  # preallocated destination (faulted by its zeroing)
            data = bytes([0xA5]) * block
            paths = make_paths(m, whole, start, span, block, buf, data)
            samples = measure(paths, repeat)
            base: dict[str, float] = {}
            for path, sample in zip(paths, samples, strict=True):
                if path.baseline:
                    base[path.direction] = 1 / min(sample.seconds) / 1e9
            for path, sample in zip(paths, samples, strict=True):
                best = 1 / min(sample.seconds) / 1e9
                typical = 1 / median(sample.seconds) / 1e9
                ratio = best / base[path.direction]
                moved = span // block * block
                faults = median(sample.faults) / (moved / MiB)
                flag = ""
                if not path.baseline and not path.diagnostic and ratio < TARGET:
                    flag = f"< {TARGET}x"
                    if profile:
                        notes.append(f"--- profile: {label}, {fmt_size(block)} blocks, "
                                     f"{path.name}\n{profile_path(path)}")
                rows.append([f"{path.direction} {fmt_size(block)}", path.name,
                             f"{best:.2f}", f"{typical:.2f}", fmt_ratio(ratio),
                             f"{faults:.1f}", flag])
            del paths, samples, buf
    print_table(f"{label}: {fmt_size(span)} walked per pass, {repeat} passes; "
                f"ratio = best pass / baseline's best pass",
                ["block", "path", "best GB/s", "median GB/s", "vs baseline", "faults/MiB",
                 "target"], rows, left=2)
    for note in notes:
        print(note)
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="NVDIMM backend size (default 1G)")
    parser.add_argument("--ram", default="512M", help="machine RAM, also measured (default 512M)")
    parser.add_argument("--blocks", default="1M,4M,16M,64M",
                        help="block sizes (default 1M,4M,16M,64M)")
    parser.add_argument("--span", default=None,
                        help="bytes walked per pass (default: each whole region)")
    parser.add_argument("--repeat", type=int, default=5, help="passes per path (default 5)")
    parser.add_argument("--dir", default=None,
                        help="directory for the backing file (default /dev/shm, a tmpfs)")
    parser.add_argument("--no-ram", action="store_true", help="skip the RAM region")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile every path below the 0.8x target")
    args = parser.parse_args(argv)

    size = parse_size(args.size)
    ram = parse_size(args.ram)
    blocks = parse_sizes(args.blocks)
    span = parse_size(args.span) if args.span else max(size, ram)
    directory = args.dir or default_tmpfs_dir()
    print(f"guest_memory_bandwidth: {machine_banner()}; backing file in {directory}")

    with scratch_dir(directory, "vnvdimm-bench-") as tmp:
        image = os.path.join(tmp, "nvdimm.img")
        maxmem = ram + size + (1 << 30)
        m = build_machine(split_argv([
            "-machine", "pc,nvdimm=on",
            "-m", f"{ram >> 20}M,slots=4,maxmem={maxmem >> 20}M",
            "-object", f"memory-backend-file,id=m0,share=on,mem-path={image},size={size}",
            "-device", "nvdimm,id=nv0,memdev=m0,label-size=128K",
        ]), warn=lambda msg: print(msg, file=sys.stderr))
        try:
            dev = m.find_device("nv0")
            bench_region(m, f"NVDIMM nv0 ({fmt_size(size)} file, share=on, label 128K)",
                         dev.addr, dev.memory_region_size(), blocks, span, args.repeat,
                         args.profile)
            if not args.no_ram:
                low = m.guest_memory.find(0).size  # RAM below 4 GiB (all of it up to 3.5G)
                bench_region(m, f"RAM pc.ram ({fmt_size(low)} anonymous, at 0)", 0, low,
                             blocks, span, args.repeat, args.profile)
        finally:
            m.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
