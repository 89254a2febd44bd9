"""HMP `info` output, byte for byte as QEMU 7.2 prints it."""

from __future__ import annotations

from vnvdimm.backends.base import HostMemoryBackend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vnvdimm.machine.machine import Machine


def info_memory_devices(machine: Machine) -> str:
    out = []
    for device in machine.memory_devices():
        out.append(
            f"Memory device [{device.memory_device_type}]: \"{device.id or ''}\"\n"
            f"  addr: 0x{device.addr:x}\n"
            f"  slot: {device.slot}\n"
            f"  node: {device.node}\n"
            f"  size: {device.memory_region_size()}\n"
            f"  memdev: {device.memdev.canonical_path if device.memdev else ''}\n"
            f"  hotplugged: {'true' if device.hotplugged else 'false'}\n"
            f"  hotpluggable: true\n"
        )
    return "".join(out)


def _node_ranges(nodes: list[int]) -> str:
    """QEMU prints host nodes as a comma list with runs collapsed to a-b."""
    parts: list[str] = []
    i = 0
    while i < len(nodes):
        j = i
        while j + 1 < len(nodes) and nodes[j + 1] == nodes[j] + 1:
            j += 1
        parts.append(str(nodes[i]) if i == j else f"{nodes[i]}-{nodes[j]}")
        i = j + 1
    return ",".join(parts)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def info_memdev(machine: Machine) -> str:
    out = []
    # query-memdev prepends while iterating, so the list is the reverse order.
    for obj in reversed(machine.objects_in_qom_order()):
        if not isinstance(obj, HostMemoryBackend):
            continue
        out.append(
            f"memory backend: {obj.id}\n"
            f"  size:  {obj.size}\n"
            f"  merge: {_bool(obj.merge)}\n"
            f"  dump: {_bool(obj.dump)}\n"
            f"  prealloc: {_bool(obj.prealloc)}\n"
            f"  share: {_bool(obj.share)}\n"
            f"  reserve: {_bool(obj.reserve)}\n"
            f"  policy: {obj.policy}\n"
            f"  host nodes: {_node_ranges(sorted(obj.host_nodes))}\n"
        )
    return "".join(out) + "\n"
