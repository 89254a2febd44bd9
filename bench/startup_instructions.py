#!/usr/bin/env python3
"""Instructions to the first QMP greeting: a noise-free view of start-up.

Wall-clock start-up on a shared machine swings by 10-50% from run to run, too
much to judge a change worth a few percent.  Counting the instructions a process
executes (valgrind's callgrind, user space only) repeats to within ~0.2%, so
this script measures what vnvdimm does up to the greeting in instructions, next
to the interpreter's own floor (`python -c pass`), both with a clean venv's
Python (see `_common.clean_python`).  The platform is `qmp_bench.py`'s (c): pc
with nvdimm=on, 512 MiB RAM and 4 NVDIMMs of 1 GiB on share=on files.

The child is vnvdimm's own `main`, with `_QmpSession.start` wrapped to end the
process (`os._exit`) once the greeting is sent; the client connects before the
monitor loop starts, as a waiting management tool does, so no idle-time work
is counted.  Instructions are not time (system calls, page faults and cache
misses are not in them): use this to compare two versions of vnvdimm, and
`qmp_bench.py` to compare with QEMU.

  python3 bench/startup_instructions.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

from _common import (
    bytecode_env,
    clean_python,
    default_tmpfs_dir,
    machine_banner,
    print_table,
    scratch_dir,
)
from qmp_bench import FIXED, platform_args

UNTIL_GREETING = (
    "import os, sys; from vnvdimm.monitor.server import _QmpSession as Q; start = Q.start; "
    "Q.start = lambda self: (start(self), os._exit(0)) and None; "
    "from vnvdimm.cli.main import main; sys.exit(main(sys.argv[1:]))")
COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(argv: list[str], env: dict[str, str]) -> int:
    """User-space instructions `argv` executes, counted by callgrind."""
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                             *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=300, check=False)
    match = COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from {argv[:3]}: {result.stderr[-500:]}")
    return int(match.group(1))


def _greet_and_leave(path: str, stop: threading.Event) -> None:
    while not stop.is_set():
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(path)
        except OSError:
            client.close()
            time.sleep(0.0002)
            continue
        with client:
            client.settimeout(120)
            client.recv(4096)
        return


def until_greeting(python: str, work: str, env: dict[str, str]) -> int:
    sock = os.path.join(work, "q.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    stop = threading.Event()
    waiter = threading.Thread(target=_greet_and_leave, args=(sock, stop), daemon=True)
    waiter.start()
    try:
        return instructions([python, "-c", UNTIL_GREETING, "run", *FIXED,
                             *platform_args(work, 4, 4), "-qmp",
                             f"unix:{sock},server=on,wait=off"], env)
    finally:
        stop.set()
        waiter.join(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default=default_tmpfs_dir())
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    print(machine_banner())
    with scratch_dir(args.dir, "instr-") as work, scratch_dir(None, "pyc-") as cache:
        python = clean_python(os.path.join(work, "venv"))
        env = bytecode_env(cache)
        until_greeting(python, work, env)  # creates the images and the .pyc files
        floor = [instructions([python, "-c", "pass"], env) for _ in range(args.runs)]
        total = [until_greeting(python, work, env) for _ in range(args.runs)]
    low, high = min(floor), min(total)
    print_table("instructions (millions, min of runs; spread = max - min)",
                ["what", "instructions", "spread"],
                [["python -c pass, clean venv", f"{low / 1e6:.2f}",
                  f"{(max(floor) - low) / 1e6:.2f}"],
                 ["vnvdimm run ... until the QMP greeting", f"{high / 1e6:.2f}",
                  f"{(max(total) - high) / 1e6:.2f}"],
                 ["vnvdimm's own part", f"{(high - low) / 1e6:.2f}", "-"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
