"""Boots every interop configuration once per session, a few at a time."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from .boot import GuestCapture, boot, guest_image_or_skip
from .configs import CONFIGS

PARALLEL = int(os.environ.get("VNVDIMM_INTEROP_PARALLEL", "3"))


@pytest.fixture(scope="session")
def captures() -> Iterator[dict[str, GuestCapture]]:
    image = guest_image_or_skip()
    with tempfile.TemporaryDirectory(prefix="vnvdimm-interop-") as root:
        dirs = {}
        for config in CONFIGS:
            dirs[config.name] = os.path.join(root, config.name)
            os.makedirs(dirs[config.name])
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = {c.name: pool.submit(boot, c, image, dirs[c.name]) for c in CONFIGS}
            yield {name: future.result() for name, future in futures.items()}
