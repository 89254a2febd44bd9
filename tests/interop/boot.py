"""Boot one configuration under the real qemu-system-x86_64 and collect what the guest saw."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .configs import GuestConfig
from .guest_image import GuestImage, Unavailable, guest_image

QEMU = os.environ.get("VNVDIMM_INTEROP_QEMU", "qemu-system-x86_64")
BOOT_TIMEOUT = 180.0


@dataclass
class GuestCapture:
    """The marked sections of one guest's serial console."""

    config: GuestConfig
    directory: str
    tables: dict[str, bytes] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    done: bool = False
    seconds: float = 0.0
    serial: str = ""
    stderr: str = ""

    def json(self, name: str) -> Any:
        text = self.outputs.get(name, "").strip()
        return json.loads(text) if text else None

    @property
    def nvdimm_ssdt(self) -> bytes | None:
        for name, table in self.tables.items():
            if name.startswith("SSDT") and table[16:24] == b"NVDIMM\0\0":
                return table
        return None

    @property
    def mema(self) -> int | None:
        table = self.nvdimm_ssdt
        if table is None:
            return None
        at = table.rfind(b"MEMA\x0c")
        return int.from_bytes(table[at + 5: at + 9], "little") if at >= 0 else None

    @property
    def set_cookies(self) -> dict[str, int]:
        out = {}
        for line in self.outputs.get("cookies", "").splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = int(parts[1], 16)
        return out


def prepare_files(config: GuestConfig, directory: str) -> None:
    for name, size in config.files:
        path = Path(directory) / name
        with open(path, "wb") as handle:
            handle.truncate(size)


def boot(config: GuestConfig, image: GuestImage, directory: str) -> GuestCapture:
    """Boot to the init script's end (it powers off); parse its console output."""
    prepare_files(config, directory)
    argv = [QEMU, "-nodefaults", "-no-user-config", "-display", "none", "-accel", "tcg",
            "-cpu", "qemu64", "-serial", "stdio", "-no-reboot",
            "-kernel", str(image.kernel), "-initrd", str(image.initramfs),
            "-append", f"console=ttyS0 quiet loglevel=1 panic=-1 {config.kernel_args}".strip(),
            *config.qemu_options(directory)]
    start = time.monotonic()
    capture = GuestCapture(config, directory)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=BOOT_TIMEOUT, check=False)
        out, err = done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        out, err = expired.stdout or b"", expired.stderr or b""
    capture.seconds = time.monotonic() - start
    capture.serial = out.decode("utf-8", "replace").replace("\r", "")
    capture.stderr = err.decode("utf-8", "replace")
    _split(capture)
    return capture


def _split(capture: GuestCapture) -> None:
    name: str | None = None
    is_b64 = False
    lines: list[str] = []
    for line in capture.serial.splitlines():
        if line.startswith("@@VNV-BEGIN-B64 "):
            name, is_b64, lines = line.split()[1], True, []
        elif line.startswith("@@VNV-BEGIN "):
            name, is_b64, lines = line.split()[1], False, []
        elif line == "@@VNV-END" and name is not None:
            if is_b64:
                capture.tables[name] = base64.b64decode("".join(lines))
            else:
                capture.outputs[name] = "".join(f"{x}\n" for x in lines)
            name = None
        elif line == "@@VNV-DONE":
            capture.done = True
        elif name is not None:
            lines.append(line)


def guest_image_or_skip() -> GuestImage:
    """QEMU and the cached guest image, or skip the tests that need them."""
    import pytest

    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} is not installed (apt-get install qemu-system-x86)")
    try:
        return guest_image()
    except Unavailable as reason:
        pytest.skip(f"no guest image: {reason}")
