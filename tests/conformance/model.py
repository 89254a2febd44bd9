"""Data model of a conformance case: a command line plus the files it needs."""

from __future__ import annotations

import enum
from dataclasses import dataclass

TMP = "{tmp}"
"""Placeholder for the per-case temporary directory, in args and in outputs."""


class Content(enum.Enum):
    """What a regular file contains when it is created before the run."""

    SPARSE = "sparse"
    """All zero, created with ftruncate (no blocks allocated)."""
    RANDOM = "random"
    """Deterministic pseudo-random bytes (seeded by the path) in the first and the
    last MiB; the middle, if any, is a hole."""
    DIRECTORY = "directory"
    """Not a file: a directory."""


@dataclass(frozen=True)
class FileSpec:
    """A file or directory created inside the case's temp dir before the run."""

    path: str
    """Relative to the temp dir; parent directories are created as needed."""
    size: int = 0
    content: Content = Content.SPARSE
    mode: int | None = None
    """chmod applied after creation; None keeps the default (umask 022)."""

    def describe(self) -> str:
        if self.content is Content.DIRECTORY:
            text = f"{TMP}/{self.path}/ (directory)"
        else:
            text = f"{TMP}/{self.path} ({self.content.value}, {self.size:#x} bytes)"
        if self.mode is not None:
            text += f" mode {self.mode:04o}"
        return text


@dataclass(frozen=True)
class Case:
    """One command line, run identically under QEMU and under ``vnvdimm run``.

    ``args`` are the case's own options only; the harness adds
    ``-S -nodefaults -display none`` (QEMU only) and ``-monitor stdio`` (both).
    Every ``{tmp}`` in ``args`` and in ``monitor`` is replaced by the case's
    fresh temp dir.
    """

    id: str
    args: tuple[str, ...]
    files: tuple[FileSpec, ...] = ()
    monitor: tuple[str, ...] = ()
    """HMP lines typed (one per line) after start-up, before the standard
    ``info memory-devices`` / ``info memdev`` / ``quit``; e.g. ``object_add ...``,
    ``device_add ...`` for hotplug. Their output (``Error: ...`` lines) is part of
    the compared monitor output."""
    expect_error: str | None = None
    """Substring QEMU's normalised stderr must contain (a self-check that the case
    reaches the error it was written for); None for an accepted configuration."""
    expect_warning: str | None = None
    """For an accepted configuration: a substring QEMU's stderr must contain."""
    expect_monitor: tuple[str, ...] = ()
    """Substrings QEMU's normalised monitor output must contain (self-check that a
    monitor script reaches the ``Error: ...`` or the state it was written for)."""
    qemu_leaves_strays: bool = False
    """QEMU refuses this configuration but leaves a created file behind.
    vnvdimm is held to the stricter rule (no stray files), QEMU is not."""
    qemu_crashes: bool = False
    """QEMU dies from a signal (e.g. a failed assertion) while running the monitor
    script. Nothing of QEMU's output is compared; vnvdimm must not die or hang, and
    the note says what it does instead."""
    qemu_stderr_not_emulated: tuple[str, ...] = ()
    """Prefixes of QEMU stderr lines vnvdimm deliberately does not print (each
    documented in the case's note); they are dropped from QEMU's side only."""
    note: str = ""

    @property
    def accepted(self) -> bool:
        return self.expect_error is None

    def expand(self, tmp: str) -> list[str]:
        return [arg.replace(TMP, tmp) for arg in self.args]

    def expand_monitor(self, tmp: str) -> list[str]:
        return [line.replace(TMP, tmp) for line in self.monitor]
