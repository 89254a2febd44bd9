"""`vnvdimm check [QEMU options] [--json]`: validate and explain, map nothing."""

from __future__ import annotations

import sys
from typing import Any

from vnvdimm.cli import report_error, warn
from vnvdimm.errors import VnvdimmError


def _size(value: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if value >= 1 << shift:
            number = value / (1 << shift)
            return f"{number:.0f} {unit}" if number == int(number) else f"{number:.2f} {unit}"
    return f"{value} B"


def check(argv: list[str]) -> int:
    as_json = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    dump_dir = None
    if "--dump-acpi" in argv:
        at = argv.index("--dump-acpi")
        if at + 1 >= len(argv):
            print("vnvdimm: --dump-acpi needs a directory", file=sys.stderr)
            return 2
        dump_dir = argv[at + 1]
        del argv[at:at + 2]
    from vnvdimm.cli.qemu_argv import split_argv
    from vnvdimm.machine.cmdline import build_machine
    from vnvdimm.machine.summary import summarize

    warnings: list[str] = []
    try:
        machine = build_machine(split_argv(argv), dry_run=True, warn=warnings.append)
    except VnvdimmError as error:
        if as_json:
            import json

            print(json.dumps({"ok": False, "error": error.message}))
        report_error(error)
        return 1
    try:
        summary = summarize(machine)
        from vnvdimm.image.configcheck import label_warnings

        summary["warnings"] = [*summary["warnings"], *label_warnings(machine)]
        summary["guest"] = _guest_regions(machine)
        if dump_dir is not None:
            from vnvdimm.acpi.dump import dump_acpi

            summary["acpi-files"] = dump_acpi(machine, dump_dir)
    finally:
        machine.close()
    summary["qemu-warnings"] = [str(w) for w in warnings]
    if as_json:
        import json

        print(json.dumps({"ok": True, **summary}, indent=2))
        return 0
    for message in warnings:
        warn(message)
    print(_table(summary))
    return 0


def _guest_regions(machine: Any) -> list[dict[str, object]]:
    """The pmem regions the guest will find in the NFIT (none without one)."""
    from vnvdimm.acpi.nfit import build_nfit
    from vnvdimm.guest.regions import regions_from_nfit

    nfit = build_nfit(machine)
    return [] if nfit is None else [r.to_json() for r in regions_from_nfit(nfit)]


def _table(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [
        f"machine:        {m['type']}  nvdimm={'on' if m['nvdimm'] else 'off'}"
        + (f"  nvdimm-persistence={m['nvdimm-persistence']}" if m["nvdimm-persistence"] else ""),
        f"memory:         {_size(m['ram-size'])} RAM, maxmem {_size(m['maxmem'])}, "
        f"{m['slots']} slots",
    ]
    for piece in summary["ram"]:
        lines.append(f"RAM:            0x{piece['addr']:x}-0x{piece['addr'] + piece['size'] - 1:x}"
                     f"  ({_size(piece['size'])})")
    dm = summary["device-memory"]
    if dm:
        lines.append(f"device memory:  0x{dm['base']:x}-0x{dm['base'] + dm['size'] - 1:x}"
                     f"  ({_size(dm['size'])})")
    else:
        lines.append("device memory:  none (no maxmem larger than the RAM size)")
    if summary["devices"]:
        lines.append("")
        header = (f"{'slot':>4}  {'id':<12} {'driver':<7} {'addr':<14} {'size':<12} "
                  f"{'memdev':<10} label area")
        lines.append(header)
        for d in summary["devices"]:
            label = "-"
            if d.get("label-size"):
                label = f"{_size(d['label-size'])} at backend offset 0x{d['label-offset']:x}"
            lines.append(
                f"{d['slot']:>4}  {(d['id'] or '-'):<12} {d['driver']:<7} "
                f"0x{d['addr']:<12x} {_size(d['size']):<12} {(d['memdev'] or '-'):<10} {label}")
    if summary["guest"]:
        lines.append("")
        lines.append("guest view (NFIT):")
        lines.append(f"{'handle':>6}  {'region':<30} {'node':>4}  {'serial':<10} "
                     f"{'armed':<5}  iset cookies v1.1 / v1.2")
        for r in summary["guest"]:
            end = r["address"] + r["size"] - 1
            lines.append(
                f"{r['handle']:>6}  0x{r['address']:x}-0x{end:x}".ljust(38)
                + f" {r['numa_node']:>4}  0x{r['serial']:<8x} {'yes' if r['armed'] else 'no':<5}"
                f"  {r['iset_cookie_v1_1']} / {r['iset_cookie_v1_2']}")
    for path in summary.get("acpi-files", []):
        lines.append(f"wrote {path}")
    if summary["warnings"]:
        lines.append("")
        lines.extend(f"warning: {w}" for w in summary["warnings"])
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(check(sys.argv[1:]))
