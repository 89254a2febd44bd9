"""memory-backend-ram: anonymous memory, 2 MiB aligned (QEMU_VMALLOC_ALIGN)."""

from __future__ import annotations

from vnvdimm.backends.base import VMALLOC_ALIGN, HostMemoryBackend
from vnvdimm.errors import VnvdimmError
from vnvdimm.host.mapping import anon_ram_alloc, host_page_size


class RamBackend(HostMemoryBackend):
    qom_type = "memory-backend-ram"

    def _alloc(self) -> None:
        if not self.size:
            raise VnvdimmError("can't create backend with size 0")
        page = host_page_size()
        if self.ctx.dry_run:
            self.page_size, self.align, self.region_size = page, VMALLOC_ALIGN, self.size
            return
        self.mapping = anon_ram_alloc(self.size, name=self.region_name, shared=self.share,
                                      noreserve=not self.reserve, warn=self.ctx.warn)
        self.page_size = page
        self.align = VMALLOC_ALIGN
        self.region_size = self.size
