"""Print what the REAL qemu-system-x86_64 does for each conformance case.

Usage: python tests/conformance/observe.py [case-id-substring]

The output (normalised exactly as the conformance test compares it) is the
reference the implementation is checked against; ``qemu-7.2-observed.txt`` next
to this file is a saved copy of a full run:

    python tests/conformance/observe.py > tests/conformance/qemu-7.2-observed.txt
"""

from __future__ import annotations

import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if not __package__:  # run as a script: make the ``conformance`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "conformance"

from . import harness
from .cases import select
from .model import Case

RULE = "=" * 78


def indent(text: str, prefix: str = "    ") -> str:
    if not text:
        return f"{prefix}(empty)\n"
    lines = text.split("\n")
    trailer = "" if lines[-1] == "" else f"{prefix}(no newline at end)\n"
    if lines[-1] == "":
        lines.pop()
    return "".join(f"{prefix}{line}\n" if line else "\n" for line in lines) + trailer


def report(case: Case, result: harness.RunResult) -> str:
    out = [f"{RULE}\ncase: {case.id}\n"]
    if case.note:
        out.append(f"note: {case.note}\n")
    out.append(f"args: {shlex.join(case.args)}\n")
    if case.monitor:
        out.append("monitor script:\n" + "".join(f"    {line}\n" for line in case.monitor))
    if case.files:
        out.append("files before:\n" + "".join(f"    {f.describe()}\n" for f in case.files))
    verdict = "accepted" if result.status == 0 else "refused"
    out.append(f"exit status: {result.status} ({verdict})\n")
    out.append("stderr:\n" + indent(result.stderr))
    out.append("monitor:\n" + indent(result.monitor))
    changes = result.file_changes
    out.append("file changes:\n" + indent("\n".join(changes) + "\n" if changes else ""))
    return "".join(out)


def main(argv: list[str]) -> int:
    binary = harness.qemu_binary()
    if binary is None:
        print("qemu-system-x86_64 not found on PATH", file=sys.stderr)
        return 2
    cases = select(argv[1] if len(argv) > 1 else "")
    print(f"# {harness.qemu_argv(binary, ['<case args>'])}")
    print(f"# stdin: the case's monitor script (if any), then {harness.STDIN!r}")
    print(f"# {len(cases)} case(s); outputs normalised (see normalise.py)")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda case: harness.run_qemu(case, binary), cases))
    for case, result in zip(cases, results, strict=True):
        sys.stdout.write(report(case, result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
