"""`vnvdimm check` reads the label areas of the nvdimm images a configuration names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vnvdimm.cli.main import main

KiB, MiB = 1 << 10, 1 << 20
BACKEND = 64 * MiB + 128 * KiB


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def config(*images: tuple[Path, str], share: str = "on", size: int = BACKEND) -> list[str]:
    """A pc machine with one nvdimm per (image, device options) pair, in slots 0, 1, ..."""
    argv = ["-machine", "pc,nvdimm=on", "-m", "512M,slots=4,maxmem=4G"]
    for i, (path, extra) in enumerate(images):
        argv += ["-object", f"memory-backend-file,id=m{i},share={share},mem-path={path},"
                            f"size={size}",
                 "-device", f"nvdimm,id=nv{i},memdev=m{i}{extra}"]
    return argv


def warnings(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    rc, out, err = run(capsys, "check", *argv, "--json")
    assert rc == 0, err
    found: list[str] = json.loads(out)["warnings"]
    return found


@pytest.fixture
def labelled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An image with one fsdax namespace, labelled for slot 0 (label-size 128K)."""
    path = tmp_path / "nv.img"
    assert run(capsys, "img", "create", str(path), "--pmem-size", "64M")[0] == 0
    rc, _, err = run(capsys, "ndctl", "create-namespace", "-n", "data", str(path))
    assert rc == 0, err
    return path


def test_matching_labels_no_warning(labelled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert warnings(capsys, config((labelled, ",label-size=128K,slot=0"))) == []


def test_labels_made_for_another_slot(labelled: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.img"
    assert run(capsys, "img", "create", str(other), "--pmem-size", "64M")[0] == 0
    argv = config((other, ",label-size=128K"), (labelled, ",label-size=128K"))
    found = warnings(capsys, argv)
    assert len(found) == 1, found
    assert found[0].startswith("nvdimm nv1: ")
    assert "made for the nvdimm in slot 0" in found[0] and "in slot 1" in found[0]
    # and in the table
    rc, out, _ = run(capsys, "check", *argv)
    assert rc == 0 and "warning: nvdimm nv1: " in out and "slot 0" in out


def test_labels_hidden_without_label_size(labelled: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    found = warnings(capsys, config((labelled, "")))
    assert len(found) == 1 and "no label-size" in found[0] and "label-size=128K" in found[0]


def test_label_size_differs(labelled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = warnings(capsys, config((labelled, ",label-size=256K")))
    assert len(found) == 1, found
    assert "written with label-size=128K, not 256K" in found[0]


def test_label_size_added_over_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.img"
    with open(path, "wb") as handle:
        handle.truncate(BACKEND)
        handle.seek(BACKEND - 1000)
        handle.write(b"user data")
    found = warnings(capsys, config((path, ",label-size=128K")))
    assert len(found) == 1 and "hold data but no valid namespace index" in found[0]
    assert warnings(capsys, config((path, ""))) == []  # no label area: data stays data


def test_blank_and_missing_images_are_quiet(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "blank.img"
    blank.write_bytes(b"")  # QEMU would extend it: reads as zeros
    argv = config((blank, ",label-size=128K"), (tmp_path / "missing.img", ",label-size=128K"))
    assert warnings(capsys, argv) == []
    assert blank.stat().st_size == 0 and not (tmp_path / "missing.img").exists()


def test_share_off_with_label_size(labelled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = warnings(capsys, config((labelled, ",label-size=128K"), share="off"))
    assert len(found) == 1 and "label updates" in found[0] and "will not persist" in found[0]
    found = warnings(capsys, config((labelled, ""), share="off"))
    assert any("share=off" in w and "label updates" not in w for w in found)


def test_check_reads_without_lock_or_change(labelled: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import fcntl
    import os

    before = labelled.read_bytes()
    fd = os.open(labelled, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a running platform's lock does not matter
        assert warnings(capsys, config((labelled, ",label-size=128K"))) == []
    finally:
        os.close(fd)
    assert labelled.read_bytes() == before
