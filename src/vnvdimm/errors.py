"""The one error type: QEMU's exact message text plus its QMP error class."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    ErrorClass = Literal[
        "GenericError", "CommandNotFound", "DeviceNotActive", "DeviceNotFound", "KVMMissingCap"
    ]


class VnvdimmError(Exception):
    """A failure reported the way QEMU reports it.

    ``message`` is QEMU's text, verbatim; ``hint`` is the extra text QEMU
    appends on the command line and in HMP (never in QMP); ``location`` is the
    command-line context QEMU prefixes (``-device nvdimm,id=x``), filled in by
    whoever knows it.
    """

    error_class: ErrorClass = "GenericError"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        location: str | None = None,
        error_class: ErrorClass | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        if error_class is not None:
            self.error_class = error_class

    def with_location(self, location: str) -> VnvdimmError:
        """Attach the command-line location, keeping the innermost one already set."""
        if self.location is None:
            self.location = location
        return self

    def report(self, program: str = "vnvdimm") -> str:
        """The text QEMU's error_report prints: ``prog: [loc: ]message`` plus any hint."""
        prefix = f"{program}: "
        if self.location:
            prefix += f"{self.location}: "
        text = prefix + self.message + "\n"
        if self.hint:
            text += self.hint if self.hint.endswith("\n") else self.hint + "\n"
        return text

    def qmp(self) -> dict[str, str]:
        """The ``error`` member of a QMP reply."""
        return {"class": self.error_class, "desc": self.message}


class DeviceNotFoundError(VnvdimmError):
    """QMP class DeviceNotFound: a named device or object link does not exist."""

    error_class: ErrorClass = "DeviceNotFound"


class CommandNotFoundError(VnvdimmError):
    """QMP class CommandNotFound."""

    error_class: ErrorClass = "CommandNotFound"
