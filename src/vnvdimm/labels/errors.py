"""The labels package's error: bad input values or an operation the area cannot take."""

from __future__ import annotations

from vnvdimm.errors import VnvdimmError


class LabelError(VnvdimmError, ValueError):
    """A label-area operation was refused; nothing was written when this is raised."""
