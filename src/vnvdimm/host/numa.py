"""Binding a mapping to host NUMA nodes with mbind(2), as QEMU's backends do."""

from __future__ import annotations

import ctypes
import errno
import os
import platform

from vnvdimm.errors import VnvdimmError

_SYS_MBIND = {"x86_64": 237, "aarch64": 235}.get(platform.machine())
_POLICIES = {"default": 0, "preferred": 1, "bind": 2, "interleave": 3}
_MPOL_MF_STRICT = 1
_MPOL_MF_MOVE = 2
MAX_NODES = 128


def bind_memory(address: int, length: int, policy: str, nodes: list[int]) -> None:
    """mbind(address, length, policy, nodes); QEMU's message on failure."""
    maxnode = max(nodes) + 1 if nodes else 0
    mask = (ctypes.c_ulong * (MAX_NODES // 64))()
    for node in nodes:
        mask[node // 64] |= 1 << (node % 64)
    mode = _POLICIES[policy]
    flags = _MPOL_MF_STRICT | _MPOL_MF_MOVE if policy != "default" else 0
    if _SYS_MBIND is None:
        code = errno.ENOSYS
    else:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        result = libc.syscall(
            ctypes.c_long(_SYS_MBIND), ctypes.c_void_p(address), ctypes.c_ulong(length),
            ctypes.c_int(mode), ctypes.byref(mask) if nodes else None,
            ctypes.c_ulong(maxnode + 1 if nodes else 0), ctypes.c_uint(flags))
        if result == 0:
            return
        code = ctypes.get_errno()
    if policy == "default" and code == errno.ENOSYS:
        return
    raise VnvdimmError(f"cannot bind memory to host NUMA nodes: {os.strerror(code)}")


def nodes_online(sysfs_root: str = "/sys") -> set[int]:
    """Host NUMA nodes from sysfs (`0-3,5`); node 0 when there is no NUMA sysfs."""
    try:
        with open(f"{sysfs_root}/devices/system/node/online", encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return {0}
    nodes: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        nodes.update(range(int(low), int(high or low) + 1))
    return nodes
