"""NVDIMM backend image files on the host: layout, file media, locking, namespace tools.

This is where the offline tools (`vnvdimm img`, `vnvdimm ndctl`) do their
I/O; the label formats themselves live in the pure ``vnvdimm.labels``.
"""

from vnvdimm.image.file import (
    DEFAULT_ALIGN,
    DEFAULT_LABEL_SIZE,
    FileMedia,
    ImageError,
    ImageFile,
    ImageLayout,
    ImageLocked,
)

__all__ = ["DEFAULT_ALIGN", "DEFAULT_LABEL_SIZE", "FileMedia", "ImageError", "ImageFile",
           "ImageLayout", "ImageLocked"]
