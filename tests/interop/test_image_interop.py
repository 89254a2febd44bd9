"""Images made offline by `vnvdimm img`/`vnvdimm ndctl` versus a real Linux 6.1 guest.

Forward: images labelled only by vnvdimm are booted; the guest's `ndctl list -N`
must show every namespace with vnvdimm's uuid, name, size and mode, enabled.
Backward: the guest's ndctl creates namespaces on a blank image; after shutdown
vnvdimm must read the image exactly as the guest's ndctl printed it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .boot import GuestCapture, boot, guest_image_or_skip
from .configs import GuestConfig

pytestmark = pytest.mark.interop
MiB = 1 << 20
_SCRIPT = shutil.which("vnvdimm")
VNVDIMM = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "vnvdimm"]


def _nv(index: int, slot: int) -> tuple[str, ...]:
    return ("-object", f"memory-backend-file,id=mem{index},share=on,"
                       f"mem-path={{dir}}/nv{index}.img,size={{size{index}}}",
            "-device", f"nvdimm,id=nvdimm{index},memdev=mem{index},label-size=128K,"
                       f"slot={slot}")


def vnv(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*VNVDIMM, *args], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, f"vnvdimm {' '.join(args)}: {done.stderr}"
    return done


def _config(name: str, sizes: dict[int, int], slots: dict[int, int],
            kernel_args: str = "") -> GuestConfig:
    args: tuple[str, ...] = ()
    for index, slot in slots.items():
        args += tuple(a.replace(f"{{size{index}}}", str(sizes[index]))
                      for a in _nv(index, slot))
    return GuestConfig(name, "pc,nvdimm=on", args, (), kernel_args=kernel_args)


def _forward_images(directory: str) -> dict[int, int]:
    d = Path(directory)
    vnv("img", "create", str(d / "nv0.img"), "--pmem-size", "128M")
    vnv("ndctl", "create-namespace", "-m", "fsdax", "-n", "fwd-fsdax", "--slot", "0",
        str(d / "nv0.img"))
    vnv("img", "create", str(d / "nv1.img"), "--pmem-size", "64M")
    vnv("ndctl", "init-labels", "-V", "1.1", "--slot", "1", str(d / "nv1.img"))
    vnv("ndctl", "create-namespace", "-m", "raw", "-n", "fwd-raw", "-s", "32M", "--slot",
        "1", str(d / "nv1.img"))
    vnv("ndctl", "create-namespace", "-m", "devdax", "-n", "fwd-devdax", "-s", "32M",
        "--slot", "1", str(d / "nv1.img"))
    return {0: os.path.getsize(d / "nv0.img"), 1: os.path.getsize(d / "nv1.img")}


def _backward_images(directory: str) -> dict[int, int]:
    path = Path(directory) / "nv0.img"
    vnv("img", "create", str(path), "--pmem-size", "128M")
    return {0: os.path.getsize(path)}


def _forward12_images(directory: str) -> dict[int, int]:
    """Two v1.2 namespaces (devdax and fsdax, named) made only by `img create` +
    `ndctl create-namespace` (which labels the blank image v1.2 itself)."""
    path = Path(directory) / "nv0.img"
    vnv("img", "create", str(path), "--pmem-size", "128M")
    vnv("ndctl", "create-namespace", "-m", "devdax", "-n", "fwd12-devdax", "-s", "32M",
        "--slot", "0", str(path))
    vnv("ndctl", "create-namespace", "-m", "fsdax", "-n", "fwd12-fsdax", "-s", "48M",
        "--slot", "0", str(path))
    return {0: os.path.getsize(path)}


@pytest.fixture(scope="module")
def image_boots() -> Iterator[dict[str, GuestCapture]]:
    image = guest_image_or_skip()
    with tempfile.TemporaryDirectory(prefix="vnvdimm-image-interop-") as root:
        fwd, back = os.path.join(root, "forward"), os.path.join(root, "backward")
        os.makedirs(fwd)
        os.makedirs(back)
        reconf, fwd12 = os.path.join(root, "reconf"), os.path.join(root, "forward12")
        os.makedirs(reconf)
        os.makedirs(fwd12)
        configs = {
            "forward": (_config("forward", _forward_images(fwd), {0: 0, 1: 1},
                                "vnv.labels"), fwd),
            "backward": (_config("backward", _backward_images(back), {0: 0},
                                 "vnv.backward"), back),
            "reconf": (_config("reconf", _backward_images(reconf), {0: 0},
                               "vnv.reconf"), reconf),
            "forward12": (_config("forward12", _forward12_images(fwd12), {0: 0},
                                  "vnv.labels"), fwd12),
        }
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {n: pool.submit(boot, c, image, d) for n, (c, d) in configs.items()}
            yield {n: f.result() for n, f in futures.items()}


def _done(capture: GuestCapture) -> GuestCapture:
    assert capture.done, f"guest did not finish:\n{capture.stderr}\n{capture.serial[-3000:]}"
    return capture


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ours(capture: GuestCapture, *args: str) -> Any:
    d = Path(capture.directory)
    images = sorted(str(p) for p in d.glob("nv*.img"))
    return json.loads(vnv("ndctl", *args, *images, "--slot", "0").stdout or "null")


KEYS = ("uuid", "name", "size", "mode")


def test_forward_namespaces_match(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["forward"])
    guest = _as_list(capture.json("listN"))
    ours = _as_list(_ours(capture, "list", "-N"))
    assert len(ours) == 3
    assert [{k: n.get(k) for k in KEYS} for n in guest] == \
        [{k: n.get(k) for k in KEYS} for n in ours]
    modes = {n["name"]: n for n in guest}
    assert modes["fwd-fsdax"]["mode"] == "fsdax" and modes["fwd-fsdax"]["blockdev"]
    assert modes["fwd-raw"]["mode"] == "raw" and modes["fwd-raw"]["blockdev"]
    assert modes["fwd-devdax"]["mode"] == "devdax" and modes["fwd-devdax"]["chardev"]


def test_forward_list_json_is_ndctls(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["forward"])
    assert _ours(capture, "list", "-N") == capture.json("listN")


def test_forward_read_labels_is_ndctls(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["forward"])
    assert _as_list(_ours(capture, "read-labels", "-j")) == _as_list(
        capture.json("readLabels"))


def test_backward_list(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["backward"])
    guest = capture.json("backListN")
    assert guest, capture.serial[-3000:]
    image = Path(capture.directory) / "nv0.img"
    size = image.stat().st_size
    with open(image, "rb") as handle:
        handle.seek(size - 128 * 1024)
        area = handle.read()
    out = os.environ.get("VNVDIMM_SAVE_FIXTURE")  # regenerate tests/unit/data fixtures
    if out:
        Path(out).write_bytes(area)
        with open(image, "rb") as handle:  # the guest's fsdax namespace starts at DPA 0
            Path(out + ".pmem-head").write_bytes(handle.read(8192))
        Path(out + ".json").write_text(json.dumps(
            {"listN": guest, "labels": capture.json("backLabels")}, indent=2))
    assert _ours(capture, "list", "-N") == guest
    assert subprocess.run([*VNVDIMM, "img", "check", str(image)], capture_output=True,
                          check=False).returncode == 0


def test_backward_read_labels(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["backward"])
    assert _ours(capture, "read-labels", "-j") == capture.json("backLabels")


def _healthy(capture: GuestCapture) -> None:
    image = Path(capture.directory) / "nv0.img"
    done = subprocess.run([*VNVDIMM, "img", "check", str(image)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_reconf_guest_did_it(image_boots: dict[str, GuestCapture]) -> None:
    """The guest's ndctl created two raw namespaces, reconfigured one into fsdax and
    destroyed the other: one fsdax namespace is left."""
    capture = _done(image_boots["reconf"])
    assert len(_as_list(capture.json("reMidListN"))) == 2, capture.serial[-3000:]
    assert "destroyed 1 namespace" in capture.outputs.get("reDestroy", ""), \
        capture.outputs
    left = _as_list(capture.json("reListN"))
    assert [(n["name"], n["mode"]) for n in left] == [("guest-first", "fsdax")], left


def test_reconf_list(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["reconf"])
    guest = capture.json("reListN")
    assert guest, capture.serial[-3000:]
    assert _ours(capture, "list", "-N") == guest


def test_reconf_read_labels(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["reconf"])
    guest = capture.json("reLabels")
    assert guest, capture.serial[-3000:]
    assert _ours(capture, "read-labels", "-j") == guest


def test_reconf_image_healthy(image_boots: dict[str, GuestCapture]) -> None:
    _healthy(_done(image_boots["reconf"]))


def test_forward12_namespaces_match(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["forward12"])
    guest = _as_list(capture.json("listN"))
    ours = _as_list(_ours(capture, "list", "-N"))
    assert len(ours) == 2
    assert ours == guest
    by_name = {n["name"]: n for n in guest}
    assert by_name["fwd12-devdax"]["mode"] == "devdax"
    assert by_name["fwd12-devdax"]["chardev"].startswith("dax")
    assert by_name["fwd12-fsdax"]["mode"] == "fsdax"
    assert by_name["fwd12-fsdax"]["blockdev"].startswith("pmem")


def test_forward12_read_labels_is_ndctls(image_boots: dict[str, GuestCapture]) -> None:
    capture = _done(image_boots["forward12"])
    assert _as_list(_ours(capture, "read-labels", "-j")) == _as_list(
        capture.json("readLabels"))
