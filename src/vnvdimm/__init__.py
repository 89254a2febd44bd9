"""vnvdimm: QEMU's virtual NVDIMM platform in pure Python.

Imports are lazy so that `vnvdimm --version` and `vnvdimm check` do not pay
for the platform's modules.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from vnvdimm.errors import VnvdimmError
    from vnvdimm.machine.machine import Machine

__all__ = ["Machine", "VnvdimmError", "__version__"]

_LAZY = {
    "Machine": "vnvdimm.machine.machine",
    "VnvdimmError": "vnvdimm.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vnvdimm' has no attribute {name!r}")
    __import__(module)
    return getattr(sys.modules[module], name)
