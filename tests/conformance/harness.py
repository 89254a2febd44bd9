"""Run one case under real QEMU and under ``vnvdimm run``, each in a fresh temp dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import files, normalise
from .model import Case

QEMU_ENV = "VNVDIMM_CONFORMANCE_QEMU"
"""Environment variable overriding the QEMU binary (default: qemu-system-x86_64 on PATH)."""

QEMU_FIXED_ARGS = ("-S", "-nodefaults", "-display", "none")
MONITOR_ARGS = ("-monitor", "stdio")
COMMANDS = ("info memory-devices", "info memdev", "quit")
STDIN = "".join(f"{command}\n" for command in COMMANDS)
"""The stdin of a case without a monitor script."""
TIMEOUT = 30.0
TIMEOUT_STATUS = -9999
"""Pseudo exit status recorded when a program had to be killed."""

ArgvBuilder = Callable[[Sequence[str]], list[str]]
"""Case args (temp dir already expanded) -> the full argv to execute."""

CHILD_ENV_OVERRIDES = {"LC_ALL": "C", "LANG": "C"}
"""Stable strerror() texts and number formats in both programs."""


@dataclass(frozen=True)
class RunResult:
    program: str  # "qemu" or "vnvdimm"
    argv: tuple[str, ...]
    status: int
    stderr: str  # normalised
    monitor: str  # normalised stdout
    raw_stdout: str
    raw_stderr: str
    before: files.Snapshot
    after: files.Snapshot

    @property
    def file_changes(self) -> list[str]:
        return files.describe_changes(self.before, self.after)


def qemu_binary() -> str | None:
    return os.environ.get(QEMU_ENV) or shutil.which("qemu-system-x86_64")


def qemu_argv(binary: str, case_args: Sequence[str]) -> list[str]:
    return [binary, *QEMU_FIXED_ARGS, *case_args, *MONITOR_ARGS]


def vnvdimm_argv(case_args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "vnvdimm", "run", *case_args, *MONITOR_ARGS]


def monitor_commands(case: Case, tmp: str) -> tuple[str, ...]:
    """The HMP lines sent: the case's own script (temp dir expanded), then COMMANDS."""
    return (*case.expand_monitor(tmp), *COMMANDS)


def stdin_text(commands: Sequence[str]) -> str:
    return "".join(f"{command}\n" for command in commands)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHILD_ENV_OVERRIDES)
    return env


def run_in(program: str, case: Case, build_argv: ArgvBuilder) -> RunResult:
    """Materialise the case in a new temp dir, run the program there, clean up."""
    with tempfile.TemporaryDirectory(prefix=f"conf-{program}-") as name:
        root = Path(name)
        files.materialise(root, case.files)
        before = files.snapshot(root)
        argv = build_argv(case.expand(str(root)))
        commands = monitor_commands(case, str(root))
        try:
            proc = subprocess.run(
                argv,
                input=stdin_text(commands),
                capture_output=True,
                text=True,
                errors="replace",
                cwd=root,
                env=_child_env(),
                umask=0o022,
                timeout=TIMEOUT,
                check=False,
            )
            status, raw_out, raw_err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as expired:
            status = TIMEOUT_STATUS
            raw_out = _text(expired.stdout)
            raw_err = _text(expired.stderr) + f"\n[harness: killed after {TIMEOUT}s]\n"
        after = files.snapshot(root)
        dirs = (str(root), os.path.realpath(root))
        return RunResult(
            program=program,
            argv=tuple(argv),
            status=status,
            stderr=normalise.error_output(raw_err, dirs),
            monitor=normalise.monitor_output(raw_out, commands, dirs),
            raw_stdout=raw_out,
            raw_stderr=raw_err,
            before=before,
            after=after,
        )


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data


def run_qemu(case: Case, binary: str) -> RunResult:
    return run_in("qemu", case, lambda args: qemu_argv(binary, args))


def run_vnvdimm(case: Case) -> RunResult:
    return run_in("vnvdimm", case, vnvdimm_argv)


def run_both(case: Case, binary: str) -> tuple[RunResult, RunResult]:
    """Run QEMU and vnvdimm concurrently (separate temp dirs); return (qemu, vnvdimm)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        qemu = pool.submit(run_qemu, case, binary)
        ours = pool.submit(run_vnvdimm, case)
        return qemu.result(), ours.result()
