"""What the host OS gives: aligned guest-RAM mappings, page sizes, file sizes, prealloc.

Everything here mirrors QEMU 7.2's util/mmap-alloc.c, util/oslib-posix.c and
the file helpers of softmmu/physmem.c, including their messages. Linux only
in practice; importing works anywhere.
"""

from vnvdimm.host.filesize import get_file_align, get_file_size
from vnvdimm.host.mapping import (
    HostMapError,
    HostMapping,
    NoreserveCheck,
    anon_ram_alloc,
    madvise,
    map_noreserve_effective,
    ram_mmap,
)
from vnvdimm.host.messages import HostMessage, Reporter
from vnvdimm.host.pagesize import fd_page_size, host_page_size, vmalloc_align
from vnvdimm.host.prealloc import prealloc

__all__ = [
    "HostMapError",
    "HostMapping",
    "HostMessage",
    "NoreserveCheck",
    "Reporter",
    "anon_ram_alloc",
    "fd_page_size",
    "get_file_align",
    "get_file_size",
    "host_page_size",
    "madvise",
    "map_noreserve_effective",
    "prealloc",
    "ram_mmap",
    "vmalloc_align",
]
