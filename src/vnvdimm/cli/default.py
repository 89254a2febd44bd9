"""`vnvdimm` with no arguments: the built-in default platform.

pc with nvdimm=on, 512 MiB RAM, 4 slots, one 1 GiB file-backed NVDIMM
(share=on, 128 KiB label area).  Its image lives in the user's state
directory and is reused on the next start, so data persists.
"""

from __future__ import annotations

import os
import sys

from vnvdimm.cli import report_error, warn
from vnvdimm.errors import VnvdimmError

IMAGE_NAME = "nvdimm0.img"
QMP_SOCKET_NAME = "qmp.sock"
IMAGE_SIZE = "1G"
LABEL_SIZE = "128K"


def state_dir() -> str:
    # os.path, not pathlib: pathlib pulls in re, fnmatch and urllib at start-up.
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "vnvdimm")


def default_args(image: str) -> list[str]:
    path = image.replace(",", ",,")  # QEMU option syntax escapes commas
    return [
        "-machine", "pc,nvdimm=on",
        "-m", "512M,slots=4,maxmem=8G",
        "-object", f"memory-backend-file,id=mem0,share=on,mem-path={path},size={IMAGE_SIZE}",
        "-device", f"nvdimm,id=nvdimm0,memdev=mem0,label-size={LABEL_SIZE}",
    ]


def run_default() -> int:
    from vnvdimm.cli.qemu_argv import split_argv
    from vnvdimm.cli.run import serve
    from vnvdimm.machine.cmdline import build_machine
    from vnvdimm.monitor.chardev import ChardevSpec, MonitorSpec
    from vnvdimm.monitor.server import MonitorServer

    directory = state_dir()
    os.makedirs(directory, exist_ok=True)
    image = os.path.join(directory, IMAGE_NAME)
    args = default_args(image)
    try:
        machine = build_machine(split_argv(args), warn=warn)
    except VnvdimmError as error:
        report_error(error)
        return 1
    qmp_path = os.path.join(directory, QMP_SOCKET_NAME)
    location = f"-qmp unix:{qmp_path},server=on,wait=off"
    qmp = ChardevSpec("compat_monitor0", "socket", location, path=qmp_path, server=True,
                      wait=False)
    server = MonitorServer([MonitorSpec(qmp, "control", False, location)])
    try:
        server.open()
    except VnvdimmError as error:
        machine.close()
        report_error(error)
        return 1
    try:
        nvdimm = machine.find_device("nvdimm0")
        print(f"vnvdimm: platform ready: {' '.join(args)}")
        print(f"vnvdimm: NVDIMM image: {image} (pmem {nvdimm.memory_region_size()} bytes "
              f"at 0x{nvdimm.addr:x}, labels in the last {LABEL_SIZE})")
        print(f"vnvdimm: QMP monitor: {qmp_path} (e.g. qmp-shell {qmp_path})")
        print("vnvdimm: HMP monitor on this terminal; 'quit' or Ctrl-C stops")
        sys.stdout.flush()
        return serve(machine, hmp_stdio=True, quit_on_eof=True, server=server)
    finally:
        machine.close()
