"""Boots every interop configuration once per session, a few at a time."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from .boot import QEMU, GuestCapture, boot
from .configs import CONFIGS
from .guest_image import Unavailable, guest_image

PARALLEL = int(os.environ.get("VNVDIMM_INTEROP_PARALLEL", "3"))


@pytest.fixture(scope="session")
def captures() -> Iterator[dict[str, GuestCapture]]:
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} is not installed (apt-get install qemu-system-x86)")
    try:
        image = guest_image()
    except Unavailable as reason:
        pytest.skip(f"no guest image: {reason}")
    with tempfile.TemporaryDirectory(prefix="vnvdimm-interop-") as root:
        dirs = {}
        for config in CONFIGS:
            dirs[config.name] = os.path.join(root, config.name)
            os.makedirs(dirs[config.name])
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = {c.name: pool.submit(boot, c, image, dirs[c.name]) for c in CONFIGS}
            yield {name: future.result() for name, future in futures.items()}
