"""Smoke tests of the `vnvdimm` command, run as a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from vm_helpers import GiB, KiB, MiB, escape, sha256

import vnvdimm

_SCRIPT = shutil.which("vnvdimm")
VNVDIMM = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "vnvdimm"]


def _run(args: list[str], *, stdin: str = "", env: dict[str, str] | None = None,
         timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VNVDIMM, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _platform(image: Path, *, share: str = "on") -> list[str]:
    return ["-machine", "pc,nvdimm=on", "-m", "1G,slots=2,maxmem=4G",
            "-object", f"memory-backend-file,id=m0,size=8M,share={share},"
                       f"mem-path={escape(image)}",
            "-device", "nvdimm,id=nv0,memdev=m0,label-size=128K"]


def test_version() -> None:
    result = _run(["--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"vnvdimm {vnvdimm.__version__}\n"


def test_check_json_shape_and_values(tmp_path: Path) -> None:
    image = tmp_path / "check.img"
    result = _run(["check", *_platform(image, share="off"), "--json"])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["machine"] == {"type": "pc-i440fx-7.2", "nvdimm": True,
                               "nvdimm-persistence": None, "ram-size": GiB,
                               "maxmem": 4 * GiB, "slots": 2}
    assert data["ram"] == [{"addr": 0, "size": GiB}]
    assert data["device-memory"] == {"base": 4 * GiB, "size": 3 * GiB + 2 * GiB}
    assert data["devices"] == [{
        "id": "nv0", "driver": "nvdimm", "slot": 0, "addr": 4 * GiB,
        "size": 8 * MiB - 128 * KiB, "node": 0, "memdev": "m0", "label-size": 128 * KiB,
        "label-offset": 8 * MiB - 128 * KiB, "unarmed": False}]
    backends = {b["id"]: b for b in data["backends"]}
    assert backends["m0"]["mem-path"] == str(image)
    assert backends["m0"]["size"] == 8 * MiB and backends["m0"]["share"] is False
    assert backends["pc.ram"]["type"] == "memory-backend-ram"
    assert any("share=off" in w for w in data["warnings"])
    assert data["qemu-warnings"] == []
    assert not image.exists()  # check creates nothing


def test_check_table_output(tmp_path: Path) -> None:
    result = _run(["check", *_platform(tmp_path / "t.img")])
    assert result.returncode == 0, result.stderr
    assert "machine:        pc-i440fx-7.2  nvdimm=on" in result.stdout
    assert "device memory:  0x100000000-0x23fffffff" in result.stdout
    assert "nv0" in result.stdout and "128 KiB at backend offset 0x7e0000" in result.stdout
    assert not (tmp_path / "t.img").exists()


@pytest.mark.parametrize(("extra", "location", "message"), [
    (["-m", "1G,slots=2"], None, "slots specified but no max-size"),
    (["-machine", "pc", "-m", "1G,slots=2,maxmem=4G",
      "-object", "memory-backend-ram,id=m0,size=8M", "-device", "nvdimm,memdev=m0"],
     "-device nvdimm,memdev=m0", "nvdimm is not enabled: missing 'nvdimm' in '-M'"),
    (["-object", "memory-backend-ram,id=m0"], "-object memory-backend-ram,id=m0",
     "Parameter 'size' is missing"),
    (["-frobnicate"], "-frobnicate", "invalid option"),
])
def test_check_refused_exits_1_with_message(extra: list[str], location: str | None,
                                            message: str) -> None:
    expected = f"vnvdimm: {location + ': ' if location else ''}{message}\n"
    result = _run(["check", *extra])
    assert result.returncode == 1
    assert result.stderr == expected
    assert result.stdout == ""
    as_json = _run(["check", *extra, "--json"])
    assert as_json.returncode == 1
    assert as_json.stderr == expected
    assert json.loads(as_json.stdout) == {"ok": False, "error": message}


def test_check_refused_file_config_leaves_no_file(tmp_path: Path) -> None:
    image = tmp_path / "x.img"
    result = _run(["check", *_platform(image)[:-1], "nvdimm,memdev=m0,label-size=1K"])
    assert result.returncode == 1
    assert result.stderr == ("vnvdimm: -device nvdimm,memdev=m0,label-size=1K: Property "
                             "'nvdimm.label-size' (0x400) is required at least 0x20000\n")
    assert list(tmp_path.iterdir()) == []


def test_run_monitor_stdio_info_memory_devices(tmp_path: Path) -> None:
    image = tmp_path / "run.img"
    result = _run(["run", *_platform(image), "-monitor", "stdio", "-display", "none"],
                  stdin="info memory-devices\nquit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'Memory device [nvdimm]: "nv0"' in out
    assert "addr: 0x100000000" in out
    assert "slot: 0" in out
    assert f"size: {8 * MiB - 128 * KiB}" in out
    assert "memdev: /objects/m0" in out
    assert "hotplugged: false" in out
    assert image.stat().st_size == 8 * MiB  # created and kept (a successful run)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().endswith("\n")):
        if proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("pidfile never appeared")
        time.sleep(0.02)


def test_run_terminates_on_sigterm_and_manages_pidfile(tmp_path: Path) -> None:
    pidfile = tmp_path / "vnvdimm.pid"
    proc = subprocess.Popen([*VNVDIMM, "run", *_platform(tmp_path / "sig.img"),
                             "-pidfile", str(pidfile)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(pidfile, proc)
        assert pidfile.read_text() == f"{proc.pid}\n"
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"vnvdimm: terminating on signal 15 from pid {os.getpid()} (" in err
    assert not pidfile.exists()


def test_default_platform_creates_and_reuses_image(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    image = tmp_path / "vnvdimm" / "nvdimm0.img"
    first = _run([], stdin="info memory-devices\nquit\n", env=env)
    assert first.returncode == 0, first.stderr
    assert f"vnvdimm: NVDIMM image: {image}" in first.stdout
    assert 'Memory device [nvdimm]: "nvdimm0"' in first.stdout
    st = image.stat()
    assert st.st_size == GiB
    assert st.st_blocks * 512 < 64 * MiB  # sparse: nothing was written or preallocated
    # Data placed in the image (pmem start and label area) must survive the next run.
    fd = os.open(image, os.O_RDWR)
    try:
        os.pwrite(fd, b"persistent pmem", 0)
        os.pwrite(fd, b"persistent label", GiB - 128 * KiB)
    finally:
        os.close(fd)
    digest = sha256(image)
    inode = image.stat().st_ino
    second = _run([], stdin="quit\n", env=env)
    assert second.returncode == 0, second.stderr
    assert image.stat().st_ino == inode and image.stat().st_size == GiB
    assert sha256(image) == digest
    assert sorted(p.name for p in image.parent.iterdir()) == ["nvdimm0.img"]


def test_daemonize_returns_when_ready_and_keeps_running(tmp_path: Path) -> None:
    """QEMU's -daemonize: the parent exits 0 once the platform is up; the daemon
    keeps the pidfile locked until it is stopped, then removes it."""
    pidfile = tmp_path / "daemon.pid"
    result = _run(["run", *_platform(tmp_path / "d.img"), "-daemonize",
                   "-pidfile", str(pidfile)])
    assert result.returncode == 0, result.stderr
    pid = int(pidfile.read_text())
    os.kill(pid, 0)  # alive
    second = _run(["run", "-daemonize", "-pidfile", str(pidfile)])
    assert second.returncode == 1
    assert second.stderr == ("vnvdimm: cannot create PID file: Cannot lock pid file: "
                             "Resource temporarily unavailable\n")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pidfile.exists()


def test_daemonize_refuses_stdio_monitor_and_reports_start_errors(tmp_path: Path) -> None:
    result = _run(["run", "-daemonize", "-monitor", "stdio"])
    assert (result.returncode, result.stderr) == (
        1, "vnvdimm: -monitor stdio: cannot use stdio with -daemonize\n")
    bad = _run(["run", *_platform(tmp_path / "e.img"), "-daemonize",
                "-device", "nvdimm,memdev=m0,label-size=4K"])
    assert bad.returncode == 1
    assert "Property 'nvdimm.label-size' (0x1000) is required at least 0x20000" in bad.stderr
