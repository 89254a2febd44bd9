"""Side messages the host layer prints while it works, tagged with how QEMU prints them.

QEMU uses three channels here and they look different on stderr:

* ``raw``: a bare ``fprintf(stderr, ...)``; printed as is, no program name.
* ``warning``: ``warn_report``; printed as ``<prog>: warning: <text>``.
* ``error``: ``error_report``; printed as ``<prog>: <text>``.

A :class:`HostMessage` is a ``str`` (the text QEMU formats, without prefix or
newline) that also carries its ``kind``, so a plain ``Callable[[str], None]``
sink still works and a careful one can call :meth:`HostMessage.render`.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal

    MessageKind = Literal["raw", "warning", "error"]
    Reporter = Callable[[str], None]


class HostMessage(str):
    """Message text plus the QEMU reporting channel it belongs to."""

    kind: MessageKind

    def __new__(cls, text: str, kind: MessageKind) -> HostMessage:
        self = super().__new__(cls, text)
        self.kind = kind
        return self

    def render(self, program: str = "vnvdimm") -> str:
        """The full stderr line(s) QEMU would print, newline included."""
        if self.kind == "raw":
            return str(self) + "\n"
        if self.kind == "warning":
            return f"{program}: warning: {self}\n"
        return f"{program}: {self}\n"


def stderr_reporter(program: str = "vnvdimm") -> Reporter:
    """A reporter that prints like QEMU would, on ``sys.stderr``."""

    def report(message: str) -> None:
        if isinstance(message, HostMessage):
            sys.stderr.write(message.render(program))
        else:
            sys.stderr.write(message + "\n")
        sys.stderr.flush()

    return report


def emit(reporter: Reporter | None, text: str, kind: MessageKind) -> None:
    """Send one message to ``reporter``, or to stderr when there is none."""
    (reporter if reporter is not None else stderr_reporter())(HostMessage(text, kind))
