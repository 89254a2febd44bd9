"""Offline image tools: create-namespace and list CPU time, and whole-command start-up.

* `create-namespace` (fsdax, whole region) run in-process through the CLI entry
  point on a blank sparse 1 GiB backend with a 128 KiB label area: CPU time
  (``time.process_time``; the fsyncs' waiting is not CPU), a fresh image each
  run.  It auto-labels the image (v1.2), writes the info block and the labels
  with the two-pass protocol.  Target: < 50 ms.
* `list -RN` in-process of an image whose v1.2 label area holds 500 labels (500
  raw 2 MiB namespaces, built with ``vnvdimm.labels.LabelArea``).  Target: < 20 ms.
* Whole-command wall time of `vnvdimm ndctl list IMAGE` (the 500-label image)
  against `vnvdimm --version` in subprocesses: the difference is what the
  tools cost beyond starting Python and vnvdimm.

    python3 bench/labels_bench.py [--runs 21] [--subprocess-runs 11] [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from _common import (
    bytecode_env,
    fmt_ms,
    fmt_ratio,
    machine_banner,
    print_table,
    scratch_dir,
    timed_run,
    vnvdimm_command,
)
from vnvdimm.cli.main import main as vnvdimm_main
from vnvdimm.image.file import FileMedia, ImageLayout, create_image
from vnvdimm.labels import BufferMedia, LabelArea, LabelVersion, RegionContext

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
LABELS = 500


def quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return vnvdimm_main(argv)


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def bench_create(directory: str, runs: int) -> list[float]:
    path = os.path.join(directory, "blank.img")
    layout = ImageLayout(1 * GiB, 128 * KiB)
    argv = ["ndctl", "create-namespace", "-m", "fsdax", "-n", "bench", path]
    times = []
    for _ in range(runs):
        create_image(path, layout, force=True)  # untimed: a fresh blank image each run
        start = time.process_time()
        rc = quiet(argv)
        times.append(time.process_time() - start)
        if rc != 0:
            sys.exit("create-namespace failed")
    return times


def build_many(path: str) -> None:
    """1 GiB pmem + 128 KiB labels, v1.2, LABELS raw 2 MiB namespaces back to back."""
    layout = ImageLayout(1 * GiB + 128 * KiB, 128 * KiB)
    create_image(path, layout, force=True)
    buffer = bytearray(layout.label_size)
    area = LabelArea(BufferMedia(buffer), layout.label_size,
                     RegionContext.qemu(0, layout.pmem_size))
    area.init(LabelVersion.V1_2)
    for i in range(LABELS):
        area.create_namespace(ns_uuid=uuid.UUID(int=i + 1), dpa=i * 2 * MiB,
                              rawsize=2 * MiB, name=f"ns{i}", lbasize=512)
    fd = os.open(path, os.O_RDWR)
    try:
        FileMedia(fd, layout.label_offset, layout.label_size, writable=True).write(0, bytes(buffer))
    finally:
        os.close(fd)
    state = area.state()
    assert len(state.valid_labels) == LABELS and len(state.namespaces) == LABELS


def bench_list(path: str, runs: int) -> list[float]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        vnvdimm_main(["ndctl", "list", "-N", path])
    assert out.getvalue().count('"dev"') == LABELS, "list did not show every namespace"
    return [cpu(lambda: quiet(["ndctl", "list", "-RN", path])) for _ in range(runs)]


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="in-process runs (21)")
    parser.add_argument("--subprocess-runs", type=int, default=11,
                        help="runs of each whole command (11)")
    parser.add_argument("--dir", default=None, help="where the images go (a temp dir)")
    args = parser.parse_args(argv)
    print(machine_banner())
    with scratch_dir(args.dir, "vnvdimm-labels-bench-") as directory:
        create_med, create_min = summary(bench_create(directory, args.runs))
        many = os.path.join(directory, "many.img")
        build_many(many)
        list_med, list_min = summary(bench_list(many, args.runs))
        print_table(
            "in-process CPU time (time.process_time), ms",
            ("operation", "median", "min", "target", "median/target"),
            [("create-namespace, blank 1 GiB, 128K labels", fmt_ms(create_med),
              fmt_ms(create_min), "50", fmt_ratio(create_med / 0.050)),
             (f"list -RN, {LABELS} labels", fmt_ms(list_med), fmt_ms(list_min), "20",
              fmt_ratio(list_med / 0.020))])
        env = bytecode_env(os.path.join(directory, "pycache"))
        command = vnvdimm_command()
        timed_run([*command, "--version"], b"", env=env)  # warm the bytecode cache
        timed_run([*command, "ndctl", "list", many], b"", env=env)
        version, listing = [], []
        for _ in range(args.subprocess_runs):
            version.append(timed_run([*command, "--version"], b"", env=env))
            listing.append(timed_run([*command, "ndctl", "list", many], b"", env=env))
        v_med, l_med = statistics.median(version), statistics.median(listing)
        print_table(
            "whole command, wall time (median), ms",
            ("command", "median", "min", "ratio to --version"),
            [("vnvdimm --version", fmt_ms(v_med), fmt_ms(min(version)), fmt_ratio(1.0)),
             (f"vnvdimm ndctl list ({LABELS} labels)", fmt_ms(l_med), fmt_ms(min(listing)),
              fmt_ratio(l_med / v_med))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
