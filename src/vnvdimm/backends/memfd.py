"""memory-backend-memfd: an anonymous sealed memfd, mapped like a file."""

from __future__ import annotations

import fcntl
import os

from vnvdimm.backends.base import HostMemoryBackend
from vnvdimm.errors import VnvdimmError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from vnvdimm.backends.base import BackendContext

_MFD_HUGE_SHIFT = 26


class MemfdBackend(HostMemoryBackend):
    qom_type = "memory-backend-memfd"

    def __init__(self, object_id: str, ctx: BackendContext) -> None:
        super().__init__(object_id, ctx)
        self.share = True
        self.seal = True
        self.hugetlb = False
        self.hugetlbsize = 0

    def _setters(self) -> dict[str, Callable[[object], None]]:
        setters = super()._setters()
        setters.update({"hugetlb": self._set_hugetlb, "hugetlbsize": self._set_hugetlbsize,
                        "seal": self._set_seal})
        return setters

    def _set_hugetlb(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError("cannot change property value")
        self.hugetlb = value

    def _set_hugetlbsize(self, value: object) -> None:
        assert isinstance(value, int)
        if self.initialised:
            raise VnvdimmError("cannot change property value")
        if value == 0:
            raise VnvdimmError(f"Property '{self.qom_type}.hugetlbsize' doesn't take value '0'")
        self.hugetlbsize = value

    def _set_seal(self, value: object) -> None:
        assert isinstance(value, bool)
        if self.initialised:
            raise VnvdimmError("cannot change property value")
        self.seal = value

    def get_property(self, name: str) -> object:
        extra: dict[str, object] = {"hugetlb": self.hugetlb, "hugetlbsize": self.hugetlbsize,
                                    "seal": self.seal}
        if name in extra:
            return extra[name]
        return super().get_property(name)

    def _alloc(self) -> None:
        if not self.size:
            raise VnvdimmError("can't create backend with size 0")
        if self.hugetlbsize & (self.hugetlbsize - 1):
            raise VnvdimmError("Hugepage size must be a power of 2")
        if self.ctx.dry_run:
            self.map_fd(-1, 0, file_size=self.size)  # the memfd would be sized exactly
            return
        flags = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
        if self.hugetlb:
            flags |= os.MFD_HUGETLB
            if self.hugetlbsize:
                flags |= (self.hugetlbsize.bit_length() - 1) << _MFD_HUGE_SHIFT
        try:
            fd = os.memfd_create("memory-backend-memfd", flags)
        except OSError as exc:
            raise VnvdimmError(f"failed to create memfd: {exc.strerror}") from exc
        self.fd = fd
        try:
            os.ftruncate(fd, self.size)
            if self.seal:
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS,
                            fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
        except OSError as exc:
            raise VnvdimmError(f"failed to resize memfd to {self.size}: {exc.strerror}") from exc
        self.map_fd(fd, 0)
