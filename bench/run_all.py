#!/usr/bin/env python3
"""Run every benchmark, each in its own process, and print all their tables.

By default with small sizes (about a minute in all on 2 cores); `--full` uses
each script's own defaults (the sizes the README's results were taken with).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# script, arguments for the quick run
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("guest_memory_bandwidth.py", ["--size", "256M", "--ram", "128M", "--repeat", "3"]),
    ("backend_mapping.py", ["--repeat", "51"]),
    ("startup.py", ["--runs", "5"]),
    ("prealloc.py", ["--size", "256M", "--runs", "3"]),
    ("qmp_bench.py", ["--plugs", "4", "--processes", "2", "--seconds", "1", "--runs", "5"]),
    ("labels_bench.py", ["--runs", "7", "--subprocess-runs", "5"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="each benchmark's own (larger) defaults")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark (repeatable), e.g. --only startup")
    args = parser.parse_args(argv)
    failed = []
    for script, quick in BENCHMARKS:
        name = script.removesuffix(".py")
        if args.only and name not in args.only:
            continue
        cmd = [sys.executable, os.path.join(HERE, script), *([] if args.full else quick)]
        print(f"\n===== {name} {' '.join(cmd[2:])}", flush=True)
        start = time.perf_counter()
        result = subprocess.run(cmd, check=False)
        print(f"===== {name}: {time.perf_counter() - start:.1f} s, exit {result.returncode}",
              flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
