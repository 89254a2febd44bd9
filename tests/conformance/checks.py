"""Judgements on run results: does QEMU still do what the case says, and does
vnvdimm do what QEMU does."""

from __future__ import annotations

import difflib

from .harness import TIMEOUT_STATUS, RunResult
from .model import Case


def case_problems(case: Case, qemu: RunResult) -> list[str]:
    """Ways in which QEMU's behaviour no longer matches the case's description."""
    problems: list[str] = []
    if case.qemu_crashes:
        if qemu.status >= 0 or qemu.status == TIMEOUT_STATUS:
            problems.append(f"case is marked qemu_crashes but QEMU exited {qemu.status}")
        return problems
    if case.accepted and qemu.status != 0:
        problems.append(f"expected QEMU to accept, it exited {qemu.status}: {qemu.stderr!r}")
    if not case.accepted and qemu.status == 0:
        problems.append("expected QEMU to refuse, it exited 0")
    if case.expect_error is not None and case.expect_error not in qemu.stderr:
        problems.append(f"QEMU stderr lacks {case.expect_error!r}: {qemu.stderr!r}")
    if case.expect_warning is not None and case.expect_warning not in qemu.stderr:
        problems.append(f"QEMU stderr lacks {case.expect_warning!r}: {qemu.stderr!r}")
    for wanted in case.expect_monitor:
        if wanted not in qemu.monitor:
            problems.append(f"QEMU monitor output lacks {wanted!r}: {qemu.monitor!r}")
    if not case.accepted:
        changes = qemu.file_changes
        if changes and not case.qemu_leaves_strays:
            problems.append(f"QEMU refused but changed files (mark qemu_leaves_strays?): {changes}")
        if not changes and case.qemu_leaves_strays:
            problems.append("case is marked qemu_leaves_strays but QEMU left none")
    return problems


def _diff(label: str, expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        fromfile=f"qemu {label}",
        tofile=f"vnvdimm {label}",
    )
    return "".join(lines)


def differences(case: Case, qemu: RunResult, ours: RunResult) -> list[str]:
    """Every observable way vnvdimm differs from QEMU for this case."""
    found: list[str] = []
    if case.qemu_crashes:
        if ours.status < 0:
            found.append(f"vnvdimm died or hung (status {ours.status}) where QEMU crashes")
        elif ours.status != 0 and ours.file_changes:
            found.append(f"vnvdimm refused but changed files: {ours.file_changes}")
        return found
    if qemu.status != ours.status:
        found.append(f"exit status: qemu {qemu.status}, vnvdimm {ours.status}")
    qemu_stderr = qemu.stderr
    if case.qemu_stderr_not_emulated:
        qemu_stderr = "".join(
            line
            for line in qemu.stderr.splitlines(keepends=True)
            if not line.startswith(case.qemu_stderr_not_emulated)
        )
    if qemu_stderr != ours.stderr:
        found.append(_diff("stderr", qemu_stderr, ours.stderr))
    if qemu.monitor != ours.monitor:
        found.append(_diff("monitor output", qemu.monitor, ours.monitor))
    if ours.status != 0:
        changes = ours.file_changes
        if changes:
            found.append(f"vnvdimm refused but changed files: {changes}")
    elif qemu.after != ours.after:
        found.append(
            "files after the run differ:\n  qemu:    "
            + "\n           ".join(qemu.file_changes or ["(unchanged)"])
            + "\n  vnvdimm: "
            + "\n           ".join(ours.file_changes or ["(unchanged)"])
        )
    return found
