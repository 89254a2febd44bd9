"""The `vnvdimm` command's verbs (`main` dispatches), and how every one of them
prints errors and warnings (QEMU's error_report style)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vnvdimm.errors import VnvdimmError

PROGRAM = "vnvdimm"


def report_error(error: VnvdimmError) -> None:
    sys.stderr.write(error.report(PROGRAM))
    sys.stderr.flush()


def warn(message: str) -> None:
    """Print a warning the way QEMU would print the same message."""
    render = getattr(message, "render", None)
    if callable(render):
        text = str(render(PROGRAM))
    elif message.startswith(f"{PROGRAM}: "):
        text = message  # already formatted (QemuWarning.report)
    else:
        text = f"{PROGRAM}: warning: {message}"
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()
