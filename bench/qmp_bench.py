"""QMP: hotplug round trip, query-memory-devices throughput, start-up to the greeting.

Both programs run the same platform with ``-S -nodefaults -display none`` and a
``-qmp unix:`` socket; the client is a raw socket (request, then wait for its
reply), the same code for both sides.

(a) hotplug: object-add of a 1 GiB file backend (share=on, a new sparse file in
    --dir) + device_add nvdimm + query-memory-devices, timed as one round trip;
    --plugs per process, --processes processes per program.
(b) query-memory-devices requests/second with 16 cold-plugged 1 GiB NVDIMMs,
    one client, one request in flight, for --seconds.
(c) spawn until the greeting is read, 4 cold-plugged 1 GiB NVDIMMs, --runs
    interleaved runs, for QEMU, the installed `vnvdimm` and the same script run
    by a clean venv's Python (see `_common.clean_python`), with `python -c pass`
    of both interpreters for scale; then ``python -X importtime`` of what the
    start-up imports before the greeting.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from _common import (
    QEMU,
    bytecode_env,
    clean_python,
    default_tmpfs_dir,
    fmt_ms,
    fmt_ratio,
    machine_banner,
    median,
    print_table,
    scratch_dir,
    vnvdimm_command,
)

GIB = 1 << 30
FIXED = ["-S", "-nodefaults", "-display", "none"]


def platform_args(directory: str, cold: int, slots: int) -> list[str]:
    args = ["-machine", "pc,nvdimm=on", "-m", f"512M,slots={slots},maxmem={slots + 1}G"]
    for i in range(cold):
        args += ["-object", f"memory-backend-file,id=cold{i},share=on,"
                 f"mem-path={directory}/cold{i}.img,size=1G",
                 "-device", f"nvdimm,id=nvc{i},memdev=cold{i},label-size=128K"]
    return args


class Client:
    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""

    def message(self) -> bytes:
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def call(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        while True:
            line = self.message()
            if not line.startswith(b'{"timestamp"'):
                if b'"error"' in line:
                    raise RuntimeError(line.decode())
                return line

    def close(self) -> None:
        self.sock.close()


class Program:
    """One running QEMU or vnvdimm with a QMP socket."""

    def __init__(self, argv: list[str], sock: str, env: dict[str, str] | None) -> None:
        with open(os.devnull, "wb") as null:
            self.proc = subprocess.Popen([*argv, "-qmp", f"unix:{sock},server=on,wait=off"],
                                         stdin=subprocess.DEVNULL, stdout=null,
                                         stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client = Client(sock)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.proc.communicate()[1].decode()) from None
                time.sleep(0.0005)
        self.greeting = self.client.message()

    def negotiate(self) -> None:
        self.client.call(b'{"execute":"qmp_capabilities"}')

    def quit(self) -> None:
        with contextlib.suppress(EOFError, OSError):
            self.client.call(b'{"execute":"quit"}')
        self.client.close()
        self.proc.wait(30)


def sides(qemu: str | None, cache: str) -> list[tuple[str, list[str], dict[str, str] | None]]:
    out: list[tuple[str, list[str], dict[str, str] | None]] = []
    if qemu:
        out.append(("QEMU", [qemu, *FIXED], None))
    out.append(("vnvdimm", [*vnvdimm_command(), "run", *FIXED], bytecode_env(cache)))
    return out


def bench_hotplug(work: str, qemu: str | None, cache: str, plugs: int,
                  processes: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for round_ in range(processes):
        for name, argv, env in sides(qemu, cache):
            directory = os.path.join(work, f"hp-{name}-{round_}")
            os.makedirs(directory)
            program = Program([*argv, *platform_args(directory, 0, plugs)],
                              f"{directory}/q.sock", env)
            program.negotiate()
            for i in range(plugs):
                add = json.dumps({"execute": "object-add", "arguments": {
                    "qom-type": "memory-backend-file", "id": f"m{i}", "share": True,
                    "mem-path": f"{directory}/hot{i}.img", "size": GIB}}).encode()
                dev = json.dumps({"execute": "device_add", "arguments": {
                    "driver": "nvdimm", "id": f"nv{i}", "memdev": f"m{i}"}}).encode()
                started = time.perf_counter()
                program.client.call(add)
                program.client.call(dev)
                program.client.call(b'{"execute":"query-memory-devices"}')
                times.setdefault(name, []).append(time.perf_counter() - started)
            program.quit()
    return times


def bench_queries(work: str, qemu: str | None, cache: str, seconds: float) -> dict[str, float]:
    rates: dict[str, float] = {}
    for name, argv, env in sides(qemu, cache):
        directory = os.path.join(work, f"q-{name}")
        os.makedirs(directory)
        program = Program([*argv, *platform_args(directory, 16, 16)], f"{directory}/q.sock",
                          env)
        program.negotiate()
        request = b'{"execute":"query-memory-devices"}'
        reply = program.client.call(request)
        assert reply.count(b'"type": "nvdimm"') == 16, reply[:200]
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            program.client.call(request)
            count += 1
        rates[name] = count / elapsed
        program.quit()
    return rates


def startup_sides(qemu: str | None, cache: str, clean: str
                  ) -> list[tuple[str, list[str], dict[str, str] | None]]:
    """QEMU, the installed `vnvdimm`, and the same script run by a clean venv's Python."""
    script = vnvdimm_command()
    in_clean = [clean, script[-1]] if len(script) == 1 else [clean, "-m", "vnvdimm"]
    return [*sides(qemu, cache),
            ("vnvdimm, clean venv", [*in_clean, "run", *FIXED], bytecode_env(cache))]


def bench_startup(work: str, qemu: str | None, cache: str, clean: str,
                  runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for round_ in range(runs + 1):  # round 0 is a warm-up (creates the images)
        for name, argv, env in startup_sides(qemu, cache, clean):
            directory = os.path.join(work, f"s-{name.replace(' ', '_').replace(',', '')}")
            os.makedirs(directory, exist_ok=True)
            started = time.perf_counter()
            program = Program([*argv, *platform_args(directory, 4, 4)], f"{directory}/q.sock",
                              env)
            elapsed = time.perf_counter() - started
            program.negotiate()
            program.quit()
            if round_:
                times.setdefault(name, []).append(elapsed)
        for name, python in (("python -c pass", sys.executable),
                             ("python -c pass, clean venv", clean)):
            started = time.perf_counter()
            subprocess.run([python, "-c", "pass"], check=True, env=bytecode_env(cache))
            if round_:
                times.setdefault(name, []).append(time.perf_counter() - started)
    return times


def import_times(work: str, cache: str, clean: str, top: int
                 ) -> list[tuple[str, int, float, float]]:
    directory = os.path.join(work, "imp")
    os.makedirs(directory, exist_ok=True)
    env = bytecode_env(cache)
    script = vnvdimm_command()
    argv = [clean, "-X", "importtime", *(script[-1:] if len(script) == 1 else ["-m", "vnvdimm"]),
            "run", *FIXED, *platform_args(directory, 4, 4),
            "-qmp", f"unix:{directory}/q.sock,server=on,wait=off"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    while not os.path.exists(f"{directory}/q.sock"):
        time.sleep(0.001)
    client = Client(f"{directory}/q.sock")
    client.message()
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    before = proc.stderr.read() or b""  # what was imported before the greeting
    client.call(b'{"execute":"qmp_capabilities"}')
    client.sock.sendall(b'{"execute":"quit"}')
    proc.communicate(timeout=30)
    rows = []
    pattern = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
    for line in before.decode().splitlines():
        match = pattern.match(line)
        if match:
            rows.append((match.group(4), len(match.group(3)) // 2,
                         int(match.group(2)) / 1000, int(match.group(1)) / 1000))
    total = sum(row[2] for row in rows if row[1] == 0)
    rows.sort(key=lambda row: -row[2])
    return [("-- all imports before the greeting --", 0, total, 0.0), *rows[:top]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qemu", default=QEMU)
    parser.add_argument("--dir", default=default_tmpfs_dir())
    parser.add_argument("--plugs", type=int, default=8)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    qemu = args.qemu if os.access(args.qemu, os.X_OK) else None
    print(machine_banner())
    with scratch_dir(args.dir, "qmpbench-") as work, scratch_dir(None, "pyc-") as cache:
        hotplug = bench_hotplug(work, qemu, cache, args.plugs, args.processes)
        rates = bench_queries(work, qemu, cache, args.seconds)
        clean = clean_python(os.path.join(work, "venv"))
        startup = bench_startup(work, qemu, cache, clean, args.runs)
        imports = import_times(work, cache, clean, args.top)
    base = median(hotplug["QEMU"]) if "QEMU" in hotplug else None
    print_table(f"(a) hotplug round trip: object-add 1 GiB file + device_add nvdimm + "
                f"query-memory-devices ({args.plugs} plugs x {args.processes} processes)",
                ["program", "median ms", "min ms", "vs QEMU"],
                [[name, fmt_ms(median(v)), fmt_ms(min(v)),
                  fmt_ratio(median(v) / base) if base else "-"] for name, v in hotplug.items()])
    qrate = rates.get("QEMU")
    print_table("(b) query-memory-devices, 16 NVDIMMs, one client, one request in flight",
                ["program", "requests/s", "us/request", "vs QEMU (time)"],
                [[name, f"{rate:.0f}", f"{1e6 / rate:.1f}",
                  fmt_ratio(qrate / rate) if qrate else "-"] for name, rate in rates.items()])
    sbase = startup.get("QEMU")
    print_table(f"(c) spawn to QMP greeting, 4 x 1 GiB NVDIMM (median of {args.runs})",
                ["program", "median ms", "min ms", "vs QEMU", "vs QEMU (min)"],
                [[name, fmt_ms(median(v)), fmt_ms(min(v)),
                  fmt_ratio(median(v) / median(sbase)) if sbase else "-",
                  fmt_ratio(min(v) / min(sbase)) if sbase else "-"]
                 for name, v in startup.items()])
    print_table("python -X importtime of `vnvdimm run ... -qmp unix:` until the greeting "
                "(clean venv, with .pyc), largest cumulative",
                ["module", "depth", "cumulative ms", "self ms"],
                [[m, str(d), f"{c:.2f}", f"{s:.2f}"] for m, d, c, s in imports])
    return 0


if __name__ == "__main__":
    sys.exit(main())
