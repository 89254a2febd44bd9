#!/usr/bin/env python3
"""Start-up time: `vnvdimm run` / `vnvdimm check` / `vnvdimm --version` vs QEMU.

Platform: pc with nvdimm=on, 512 MiB RAM, 4 slots, and `--dimms` (4) NVDIMMs
of `--dimm-size` (1 GiB) on share=on sparse files with 128 KiB labels.

  (a) vnvdimm run -S -nodefaults -display none -monitor stdio <platform>
      vs qemu-system-x86_64 with the very same arguments
  (b) vnvdimm check <same arguments> vs the same QEMU run
  (c) vnvdimm --version vs `python -c pass` (the interpreter's own floor) and
      `qemu-system-x86_64 --version`

Same method for every command: spawn, write `quit\\n` to its stdin and close
it, drain its output, stop the clock when it has exited (a command that does
not read stdin just exits). QEMU's monitor answers `quit` by exiting once the
platform is up, and so does vnvdimm's, so this is spawn-to-ready plus
shutdown for both. One untimed warm-up round creates the image files and warms
the page cache; then `--runs` rounds, commands interleaved; medians shown.

Finally `python -X importtime -m vnvdimm check <platform>` runs once and the
ten largest cumulative import times are printed: where start-up goes.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass, field

from _common import (
    QEMU,
    bytecode_env,
    fmt_ms,
    fmt_ratio,
    fmt_size,
    machine_banner,
    median,
    parse_size,
    print_table,
    scratch_dir,
    timed_run,
    vnvdimm_command,
)

QEMU_ONLY = ["-S", "-nodefaults", "-display", "none", "-monitor", "stdio"]


@dataclass
class Command:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    times: list[float] = field(default_factory=list)


def platform_argv(directory: str, dimms: int, dimm_size: int) -> list[str]:
    ram = 512 << 20
    maxmem = ram + dimms * (dimm_size + (1 << 30))
    argv = ["-machine", "pc,nvdimm=on", "-m", f"512M,slots={max(dimms, 1)},maxmem={maxmem}"]
    for i in range(dimms):
        image = os.path.join(directory, f"nvdimm{i}.img")
        argv += ["-object",
                 f"memory-backend-file,id=mem{i},share=on,mem-path={image},size={dimm_size}",
                 "-device", f"nvdimm,id=nv{i},memdev=mem{i},label-size=128K"]
    return argv


def import_costs(argv: list[str], top: int,
                 env: dict[str, str] | None) -> tuple[list[list[str]], str]:
    """Run once under -X importtime; the `top` largest cumulative costs and the total."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "vnvdimm", *argv],
                          capture_output=True, text=True, check=False, env=env)
    entries: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_text, cumulative_text, name = line[len("import time:"):].split("|", 2)
        entries.append((int(cumulative_text), int(self_text), name.rstrip()))
    # Top-level imports (least indented) sum to the whole import time.
    depth = min((len(n) - len(n.lstrip()) for _, _, n in entries), default=0)
    top_level = {n.strip(): c for c, _, n in entries if len(n) - len(n.lstrip()) == depth}
    total = sum(top_level.values())
    site = top_level.get("site", 0)
    own = sum(c for n, c in top_level.items() if n.startswith("vnvdimm"))
    rows = []
    for cumulative, self_us, name in sorted(entries, reverse=True)[:top]:
        level = (len(name) - len(name.lstrip()) - depth) // 2
        rows.append([name.strip(), str(level), fmt_ms(cumulative / 1e6), fmt_ms(self_us / 1e6),
                     f"{cumulative / total:.0%}" if total else ""])
    summary = (f"all imports {fmt_ms(total / 1e6)} ms = site (interpreter start-up, "
               f".pth files) {fmt_ms(site / 1e6)} ms + vnvdimm and what it imports "
               f"{fmt_ms(own / 1e6)} ms + other {fmt_ms((total - site - own) / 1e6)} ms")
    return rows, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--dimms", type=int, default=4, help="NVDIMMs (default 4)")
    parser.add_argument("--dimm-size", default="1G", help="size of each NVDIMM (default 1G)")
    parser.add_argument("--dir", default=None,
                        help="directory for the image files (default: the system temp dir)")
    parser.add_argument("--qemu", default=QEMU, help=f"QEMU binary (default {QEMU})")
    parser.add_argument("--top", type=int, default=10, help="import costs shown (default 10)")
    args = parser.parse_args(argv)
    vnvdimm = vnvdimm_command()
    spec = importlib.util.find_spec("vnvdimm")
    vnvdimm_file = spec.origin if spec is not None and spec.origin else ""
    have_qemu = os.access(args.qemu, os.X_OK)
    print(f"startup: {machine_banner()}; vnvdimm = {' '.join(vnvdimm)}")
    if not have_qemu:
        print(f"{args.qemu} not found: QEMU rows skipped")

    no_pyc = os.environ.get("PYTHONDONTWRITEBYTECODE") and not any(
        "__pycache__" in dirs for _, dirs, _ in os.walk(os.path.dirname(vnvdimm_file)))
    with scratch_dir(args.dir, "vnvdimm-bench-") as tmp:
        platform = platform_argv(tmp, args.dimms, parse_size(args.dimm_size))
        env = bytecode_env(os.path.join(tmp, "pycache"))
        run_argv = [*vnvdimm, "run", *QEMU_ONLY, *platform]
        check_argv = [*vnvdimm, "check", *QEMU_ONLY, *platform]
        commands = {name: Command(name, argv, env) for name, argv in [
            ("vnvdimm run", run_argv),
            ("vnvdimm check", check_argv),
            ("vnvdimm --version", [*vnvdimm, "--version"]),
            ("python -c pass", [sys.executable, "-c", "pass"]),
        ]}
        if no_pyc:
            # This environment as it is: every start compiles vnvdimm from source.
            commands["vnvdimm run (no .pyc)"] = Command("vnvdimm run (no .pyc)", run_argv)
            commands["vnvdimm check (no .pyc)"] = Command("vnvdimm check (no .pyc)", check_argv)
        if have_qemu:
            commands["qemu -S"] = Command("qemu -S", [args.qemu, *QEMU_ONLY, *platform])
            commands["qemu --version"] = Command("qemu --version", [args.qemu, "--version"])
        for command in commands.values():  # warm-up: image files, bytecode cache
            timed_run(command.argv, env=command.env)
        for _ in range(args.runs):
            for command in commands.values():
                command.times.append(timed_run(command.argv, env=command.env))
        imports, import_summary = import_costs(["check", *QEMU_ONLY, *platform], args.top, env)

    def row(name: str, baseline: str | None, section: str) -> list[str]:
        t = median(commands[name].times)
        ref = commands.get(baseline) if baseline else None
        ratio = fmt_ratio(t / median(ref.times)) if ref else ""
        best = min(commands[name].times)
        ratio_min = fmt_ratio(best / min(ref.times)) if ref else ""
        return [section, name, fmt_ms(t), fmt_ms(best), baseline or "", ratio, ratio_min]

    qemu = "qemu -S" if have_qemu else None
    rows = [
        row("qemu -S", None, "(a)/(b) baseline") if have_qemu else [],
        row("vnvdimm run", qemu, "(a) run to ready+quit"),
        row("vnvdimm check", qemu, "(b) check"),
        row("vnvdimm check", "vnvdimm run", "(b) check"),
        row("vnvdimm run (no .pyc)", qemu, "(a) as-is env") if no_pyc else [],
        row("vnvdimm check (no .pyc)", qemu, "(b) as-is env") if no_pyc else [],
        row("python -c pass", None, "(c) baseline"),
        row("qemu --version", None, "(c) baseline") if have_qemu else [],
        row("vnvdimm --version", "python -c pass", "(c) --version"),
        row("vnvdimm --version", "qemu --version" if have_qemu else None, "(c) --version"),
    ]
    print_table(f"spawn until exit with 'quit' piped in; {args.dimms} x "
                f"{fmt_size(parse_size(args.dimm_size))} NVDIMM; median of {args.runs} (ms)",
                ["part", "command", "median", "min", "baseline", "ratio", "ratio of mins"],
                [r for r in rows if r], left=2)
    if no_pyc:
        print("\n(no .pyc) rows: this environment as it is: PYTHONDONTWRITEBYTECODE is set and "
              "vnvdimm has no __pycache__,\nso every start compiles vnvdimm from source. The "
              "other Python rows use a private PYTHONPYCACHEPREFIX\n(as an installed package "
              "would have its .pyc files).")
    print_table(f"python -X importtime -m vnvdimm check ... (with .pyc): top {args.top} by "
                "cumulative import time",
                ["module", "depth", "cumulative ms", "self ms", "of all imports"], imports)
    print(import_summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
