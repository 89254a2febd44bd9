"""On-media NVDIMM namespace labels and info blocks, as Linux 6.1 and ndctl 76 use them.

Pure: bytes in, values out.  The only I/O is through a caller's ``Media``
(``area.LabelArea``).  See docs in each module; label-format.md has the facts.
"""

from vnvdimm.labels.area import (
    BufferMedia,
    LabelArea,
    LabelAreaState,
    Media,
    Namespace,
    RegionContext,
    SlotEntry,
    Write,
    init_writes,
    parse_label_area,
)
from vnvdimm.labels.cookies import (
    DimmIdentity,
    InterleaveSetCookies,
    interleave_set_cookies,
    qemu_nvdimm_cookies,
    qemu_nvdimm_identity,
)
from vnvdimm.labels.errors import LabelError
from vnvdimm.labels.fletcher import fletcher64
from vnvdimm.labels.index import (
    BitmapTail,
    Geometry,
    IndexCheck,
    IndexVerdict,
    LabelVersion,
    NamespaceIndex,
    best_seq,
    next_seq,
    validate_indexes,
)
from vnvdimm.labels.infoblock import (
    BttInfoBlock,
    PfnCheck,
    PfnInfoBlock,
    PfnMode,
    btt_arena_is_valid,
    validate_pfn_info,
)
from vnvdimm.labels.label import PMEM_TYPE_GUID, ClaimClass, LabelFlags, NamespaceLabel

__all__ = [
    "PMEM_TYPE_GUID", "BitmapTail", "BttInfoBlock", "BufferMedia", "ClaimClass", "DimmIdentity",
    "Geometry", "IndexCheck", "IndexVerdict", "InterleaveSetCookies", "LabelArea",
    "LabelAreaState", "LabelError", "LabelFlags", "LabelVersion", "Media", "Namespace",
    "NamespaceIndex", "NamespaceLabel", "PfnCheck", "PfnInfoBlock", "PfnMode", "RegionContext",
    "SlotEntry", "Write", "best_seq", "btt_arena_is_valid", "fletcher64", "init_writes",
    "interleave_set_cookies", "next_seq", "parse_label_area", "qemu_nvdimm_cookies",
    "qemu_nvdimm_identity", "validate_indexes", "validate_pfn_info",
]
