"""`vnvdimm img` and `vnvdimm ndctl` on real image files."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vnvdimm.cli.main import main
from vnvdimm.image.file import ImageFile, ImageLayout
from vnvdimm.image.namespaces import report
from vnvdimm.labels import qemu_nvdimm_cookies

MiB = 1 << 20
KiB = 1 << 10
_SCRIPT = shutil.which("vnvdimm")
VNVDIMM = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "vnvdimm"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "nv.img"
    rc, _, err = run(capsys, "img", "create", str(path), "--pmem-size", "64M")
    assert rc == 0, err
    return path


def list_n(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> list[dict[str, object]]:
    rc, out, err = run(capsys, "ndctl", "list", "-N", str(path), *extra)
    assert rc == 0, err
    if not out.strip():
        return []
    value = json.loads(out)
    found = value if isinstance(value, list) else [value]
    return sorted(found, key=lambda n: str(n["dev"]))


# --- layout and img create/info/check

def test_layout_labels_at_size_minus_label_size() -> None:
    layout = ImageLayout(130 * MiB + 5, 128 * KiB, 4096)
    assert layout.label_offset == 130 * MiB + 5 - 128 * KiB
    assert layout.pmem_size == (130 * MiB + 5 - 128 * KiB) // 4096 * 4096
    assert ImageLayout.for_pmem_size(64 * MiB).size == 64 * MiB + 128 * KiB


def test_create_is_sparse_and_prints_qemu_options(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.img"
    rc, out, _ = run(capsys, "img", "create", str(path), "1G")
    assert rc == 0
    assert path.stat().st_size == 1 << 30
    assert path.stat().st_blocks * 512 < 1 * MiB
    assert f"memory-backend-file,id=mem0,share=on,mem-path={path},size=1G" in out
    assert "nvdimm,id=nvdimm0,memdev=mem0,label-size=128K,slot=0" in out
    rc, _, err = run(capsys, "img", "create", str(path), "1G")
    assert rc == 1 and "exists" in err
    rc, _, _ = run(capsys, "img", "create", str(path), "256M", "--force")
    assert rc == 0 and path.stat().st_size == 256 * MiB


def test_larger_file_keeps_labels_at_backend_size(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.img"
    run(capsys, "img", "create", str(path), "96M")
    with open(path, "r+b") as handle:  # the file grows; the backend stays 64M
        handle.truncate(96 * MiB)
    rc, _, err = run(capsys, "ndctl", "create-namespace", "-m", "raw", "--backend-size",
                     "64M", str(path))
    assert rc == 0, err
    data = path.read_bytes()
    assert data[64 * MiB - 128 * KiB:64 * MiB - 128 * KiB + 15] == b"NAMESPACE_INDEX"
    assert data[96 * MiB - 128 * KiB:] == bytes(128 * KiB)
    rc, out, _ = run(capsys, "img", "info", str(path), "--size", "64M", "--json")
    info = json.loads(out)
    assert info["label_area"]["offset"] == 64 * MiB - 128 * KiB
    assert info["namespaces"][0]["mode"] == "raw"


def test_info_and_check_blank(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "img", "info", str(image), "--json")
    info = json.loads(out)
    assert rc == 0 and info["index"] == {"valid": False}
    assert info["pmem"] == {"offset": 0, "size": 64 * MiB}
    assert info["namespaces"][0]["mode"] == "raw"
    rc, out, _ = run(capsys, "img", "check", str(image))
    assert rc == 0 and "healthy" in out


# --- ndctl verbs

def test_init_read_labels(image: Path, capsys: pytest.CaptureFixture[str],
                          tmp_path: Path) -> None:
    rc, _, err = run(capsys, "ndctl", "init-labels", "-V", "1.2", str(image))
    assert rc == 0 and "initialized 1 nmem" in err
    rc, _, err = run(capsys, "ndctl", "init-labels", str(image))
    assert rc == 1 and "already initialized" in err
    rc, out, _ = run(capsys, "ndctl", "read-labels", "-j", str(image))
    dump = json.loads(out)
    assert dump["dev"] == "nmem0"
    assert [(i["seq"], i["labelsize"], i["nslot"], i["minor"]) for i in dump["index"]] == \
        [(3, 256, 510, 2), (2, 256, 510, 2)]
    raw = tmp_path / "raw.bin"
    rc, _, _ = run(capsys, "ndctl", "read-labels", "-o", str(raw), str(image))
    assert rc == 0 and raw.read_bytes() == image.read_bytes()[-128 * KiB:]
    rc, _, _ = run(capsys, "ndctl", "check-labels", str(image))
    assert rc == 0
    rc, _, _ = run(capsys, "ndctl", "zero-labels", str(image))
    assert rc == 0 and image.read_bytes()[-128 * KiB:] == bytes(128 * KiB)
    rc, _, _ = run(capsys, "ndctl", "check-labels", str(image))
    assert rc == 1


def test_create_list_destroy(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "ndctl", "create-namespace", "-m", "fsdax", "-n", "db",
                       "-s", "32M", str(image))
    assert rc == 0, err
    created = json.loads(out)
    assert created["mode"] == "fsdax" and created["name"] == "db"
    assert created["map"] == "dev" and created["align"] == 2 * MiB
    assert created["size"] < 32 * MiB and created["size"] % (2 * MiB) == 0
    u = "5f6b9e8a-3c1e-4a4b-9a44-8d0a1c2b3c4d"
    rc, out, err = run(capsys, "ndctl", "create-namespace", "-m", "raw", "-u", u, "-s",
                       "16M", str(image))
    assert rc == 0, err
    listed = list_n(capsys, image)
    assert [n["mode"] for n in listed] == ["fsdax", "raw"]
    assert listed[1] == {"dev": "namespace0.1", "mode": "raw", "size": 16 * MiB, "uuid": u,
                         "sector_size": 512, "blockdev": "pmem0.1"}
    rc, out, err = run(capsys, "ndctl", "create-namespace", "-m", "devdax", str(image))
    assert rc == 0, err
    assert json.loads(out)["chardev"] == "dax0.2"
    rc, _, err = run(capsys, "ndctl", "destroy-namespace", "db", str(image), "--force")
    assert rc == 0 and "destroyed 1 namespace" in err
    assert [n["mode"] for n in list_n(capsys, image)] == ["raw", "devdax"]
    rc, out, _ = run(capsys, "img", "check", str(image))
    assert rc == 0, out
    rc, _, err = run(capsys, "ndctl", "destroy-namespace", "all", str(image), "-f")
    assert rc == 0 and "destroyed 2 namespaces" in err
    assert list_n(capsys, image) == []


def test_v11_labels(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ndctl", "init-labels", "-V", "1.1", str(image))
    rc, out, err = run(capsys, "ndctl", "create-namespace", "-m", "fsdax", "-n", "x",
                       str(image))
    assert rc == 0, err
    assert json.loads(out)["mode"] == "fsdax"  # v1.1: the mode comes from the info block
    rc, out, _ = run(capsys, "ndctl", "read-labels", "-j", str(image))
    labels = json.loads(out)["label"]
    assert all("abstraction_guid" not in lbl for lbl in labels)
    assert labels[-1]["isetcookie"] == qemu_nvdimm_cookies(0).cookie1


def test_list_regions_and_dimms(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ndctl", "create-namespace", "-m", "raw", "-s", "16M", str(image),
        "--slot", "1")
    rc, out, _ = run(capsys, "ndctl", "list", "-DRN", str(image), "--slot", "1")
    assert rc == 0
    value = json.loads(out)
    assert value["dimms"][0]["id"] == "8680-57341200"
    region = value["regions"][0]
    assert region["size"] == 64 * MiB and region["available_size"] == 48 * MiB
    assert region["namespaces"][0]["mode"] == "raw"


def test_list_one_namespace_is_an_array(image: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """ndctl 76 prints a lone device bare only with -u (a real guest printed `[{...}]`)."""
    run(capsys, "ndctl", "create-namespace", "-m", "raw", "-s", "16M", str(image))
    rc, out, _ = run(capsys, "ndctl", "list", "-N", str(image))
    assert rc == 0 and isinstance(json.loads(out), list) and len(json.loads(out)) == 1
    rc, out, _ = run(capsys, "ndctl", "list", "-N", "-u", str(image))
    assert rc == 0 and json.loads(out)["mode"] == "raw"


def test_labels_made_for_another_slot(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ndctl", "create-namespace", "-m", "raw", "--slot", "2", str(image))
    rc, out, _ = run(capsys, "img", "check", str(image), "--slot", "2")
    assert rc == 0
    rc, out, _ = run(capsys, "img", "check", str(image))
    assert rc == 1
    assert "made for the nvdimm in slot 2, this is slot 0" in out
    assert list_n(capsys, image) == []


@pytest.mark.parametrize("args", [
    ["-m", "raw", "-s", "20M"],  # not a multiple of the 16M region alignment
    ["-m", "raw", "-s", "128M"],  # larger than the region
    ["-m", "sector"],
    ["-m", "fsdax", "-a", "64K"],
    ["-m", "devdax", "-M", "mem"],
    ["-m", "raw", "-n", "x" * 64],
    ["-m", "raw", "-u", "not-a-uuid"],
])
def test_refused_create_changes_nothing(image: Path, capsys: pytest.CaptureFixture[str],
                                        args: list[str]) -> None:
    for state in ("blank", "labelled"):
        if state == "labelled":
            assert run(capsys, "ndctl", "create-namespace", "-m", "raw", "-s", "16M",
                       str(image))[0] == 0
        before = digest(image)
        rc, _, err = run(capsys, "ndctl", "create-namespace", *args, str(image))
        assert rc == 1 and err.startswith("vnvdimm: "), err
        assert digest(image) == before


def test_refused_operations_change_nothing(image: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ndctl", "create-namespace", "-m", "raw", "-s", "64M", str(image))
    before = digest(image)
    assert run(capsys, "ndctl", "create-namespace", "-m", "raw", str(image))[0] == 1
    assert run(capsys, "ndctl", "destroy-namespace", "nope", str(image), "-f")[0] == 1
    assert run(capsys, "ndctl", "destroy-namespace", "namespace0.0", str(image))[0] == 1
    assert run(capsys, "ndctl", "init-labels", str(image))[0] == 1
    assert digest(image) == before


# --- locking

def _wait_for_greeting(sock_path: Path, proc: subprocess.Popen[bytes]) -> None:
    """The QMP greeting: sent once start-up is complete (the socket exists earlier)."""
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(str(sock_path))
        except (FileNotFoundError, ConnectionRefusedError):
            client.close()
            time.sleep(0.02)
            continue
        with client:
            client.settimeout(20)
            assert client.recv(4096).startswith(b'{"QMP"')
        return


def test_write_commands_refuse_while_vnvdimm_runs(image: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*VNVDIMM, "run", "-machine", "pc,nvdimm=on", "-m", "256M,slots=2,maxmem=4G",
            "-object", f"memory-backend-file,id=m0,share=on,size={image.stat().st_size},"
                       f"mem-path={image}",
            "-device", "nvdimm,id=nv0,memdev=m0,label-size=128K", "-S",
            "-qmp", f"unix:{image.parent / 'qmp.sock'},server=on,wait=off"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        _wait_for_greeting(image.parent / "qmp.sock", proc)  # the image is locked by then
        before = digest(image)
        rc, _, err = run(capsys, "ndctl", "create-namespace", "-m", "raw", str(image))
        assert rc == 1 and "in use" in err
        rc, _, err = run(capsys, "ndctl", "init-labels", str(image))
        assert rc == 1 and "in use" in err
        assert digest(image) == before
        rc, out, _ = run(capsys, "img", "info", str(image))  # reading still works
        assert rc == 0 and "label area" in out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    rc, _, err = run(capsys, "ndctl", "create-namespace", "-m", "raw", str(image))
    assert rc == 0, err


# --- crash safety: SIGKILL a real create-namespace at random moments

def _state(path: Path) -> tuple[str, ...]:
    with ImageFile(str(path)) as img:
        rep = report(img)
    assert rep.healthy, rep.problems
    return tuple(sorted(str(n.uuid) for n in rep.namespaces if n.uuid is not None))


def test_sigkill_create_namespace_loop(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    work = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else tmp_path
    base = tmp_path / "base.img"
    run(capsys, "img", "create", str(base), "--pmem-size", "32M")
    assert run(capsys, "ndctl", "create-namespace", "-m", "raw", "-s", "16M", "-n", "old",
               str(base))[0] == 0
    old = _state(base)
    new_uuid = "11111111-2222-4333-8444-555555555555"
    argv = [*VNVDIMM, "ndctl", "create-namespace", "-m", "fsdax", "-u", new_uuid]
    image = work / f"vnvdimm-kill-{os.getpid()}.img"
    try:
        shutil.copyfile(base, image)
        start = time.monotonic()
        subprocess.run([*argv, str(image)], capture_output=True, check=True)
        full = time.monotonic() - start
        assert _state(image) == (*old, new_uuid) or _state(image) == tuple(
            sorted((*old, new_uuid)))
        rng = random.Random(5)
        outcomes = {"old": 0, "new": 0}
        for _ in range(200):
            shutil.copyfile(base, image)
            proc = subprocess.Popen([*argv, str(image)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5 * full, 1.1 * full))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            state = _state(image)
            if state == old:
                outcomes["old"] += 1
            else:
                assert state == tuple(sorted((*old, new_uuid))), state
                outcomes["new"] += 1
        assert outcomes["old"] and outcomes["new"], outcomes
    finally:
        image.unlink(missing_ok=True)


# --- a label area Linux 6.1 + ndctl 76 wrote (tests/interop/test_image_interop.py,
# regenerated with VNVDIMM_SAVE_FIXTURE=path): fsdax "guest-fsdax" 64M + raw 32M, v1.2

DATA = Path(__file__).parent / "data"


def test_linux_written_label_area(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stem = DATA / "linux61-v12-fsdax-raw"
    expected = json.loads(stem.with_suffix(".json").read_text())
    path = tmp_path / "linux.img"
    with open(path, "wb") as handle:
        handle.truncate(128 * MiB + 128 * KiB)
        handle.write(stem.with_suffix(".pmem-head").read_bytes())
        handle.seek(128 * MiB)
        handle.write(stem.with_suffix(".labels").read_bytes())
    rc, out, _ = run(capsys, "ndctl", "list", "-N", str(path))
    assert rc == 0 and json.loads(out) == expected["listN"]
    rc, out, _ = run(capsys, "ndctl", "read-labels", "-j", str(path))
    assert rc == 0 and json.loads(out) == expected["labels"]
    assert run(capsys, "img", "check", str(path))[0] == 0
    # and vnvdimm's own updates on it keep Linux's namespaces
    rc, _, err = run(capsys, "ndctl", "create-namespace", "-m", "devdax", "-n", "more",
                     str(path))
    assert rc == 0, err
    names = {n.get("name", "") for n in list_n(capsys, path)}
    assert names == {"guest-fsdax", "", "more"}
    assert run(capsys, "img", "check", str(path))[0] == 0


def test_write_labels_round_trip_and_refusals(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "big.img"  # the Linux guest's 128M region
    assert run(capsys, "img", "create", str(image), "--pmem-size", "128M")[0] == 0
    stem = DATA / "linux61-v12-fsdax-raw"
    area = stem.with_suffix(".labels").read_bytes()
    raw = tmp_path / "area.bin"
    raw.write_bytes(area)
    rc, _, err = run(capsys, "ndctl", "write-labels", "-i", str(raw), str(image))
    assert rc == 0 and "wrote 1 nmem" in err
    dump = tmp_path / "dump.bin"
    assert run(capsys, "ndctl", "read-labels", "-o", str(dump), str(image))[0] == 0
    assert dump.read_bytes() == area
    # ndctl list now shows Linux's labels (the fsdax one has no info block here: raw)
    assert {n.get("name", "") for n in list_n(capsys, image)} == {"guest-fsdax", ""}
    before = digest(image)
    for bad in (area[:-1], area + b"\0", b""):  # size mismatch: refused, nothing written
        raw.write_bytes(bad)
        rc, _, err = run(capsys, "ndctl", "write-labels", "-i", str(raw), str(image))
        assert rc == 1 and "label area is 131072 bytes" in err
        assert digest(image) == before
    rc, _, err = run(capsys, "ndctl", "write-labels", "-i", str(tmp_path / "nope"), str(image))
    assert rc == 1 and "failed to read" in err and digest(image) == before
    raw.write_bytes(bytes(256 * KiB))
    rc, _, err = run(capsys, "ndctl", "write-labels", "--label-size", "256K", "-i", str(raw),
                     str(image))  # a 256K area at the end of the backend
    assert rc == 0, err
    assert digest(image) != before


def test_write_labels_refuses_locked_image(image: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl

    raw = tmp_path / "area.bin"
    raw.write_bytes(b"\xff" * (128 * KiB))
    before = digest(image)
    fd = os.open(image, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        rc, _, err = run(capsys, "ndctl", "write-labels", "-i", str(raw), str(image))
    finally:
        os.close(fd)
    assert rc == 1 and "in use" in err and digest(image) == before
