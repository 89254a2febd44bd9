"""Helpers shared by the benchmark scripts (not a benchmark itself).

Benchmarks are scripts, not tests: they time, print tables and never assert on
a timing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence

QEMU = "/usr/bin/qemu-system-x86_64"
# What a start-up run gets on stdin: the monitor command that ends it.
QUIT = b"quit\n"

_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """`1G`, `16M`, `4096`: a size in bytes (binary units, as QEMU reads them)."""
    text = text.strip().upper()
    unit = text[-1:] if text[-1:] in _UNITS and not text[-1:].isdigit() else ""
    number = text[: len(text) - len(unit)]
    return int(float(number) * _UNITS[unit])


def parse_sizes(text: str) -> list[int]:
    return [parse_size(part) for part in text.split(",") if part.strip()]


def fmt_size(size: int) -> str:
    """Shortest exact binary-unit spelling: 1G, 128K, 1536M."""
    for unit in ("T", "G", "M", "K"):
        if size and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
                *, left: int = 1) -> None:
    """A plain aligned text table: the first `left` columns left-aligned, the rest right."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        out = [cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
               for i, cell in enumerate(cells)]
        return "  ".join(out).rstrip()

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    sys.stdout.flush()


def machine_banner() -> str:
    cpus = os.cpu_count() or 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {cpus} CPUs, Python {sys.version.split()[0]}, "
            f"kernel {os.uname().release}, load average {load}")


def default_tmpfs_dir() -> str:
    """/dev/shm when it is a writable directory, else the usual temp dir."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


@contextlib.contextmanager
def scratch_dir(parent: str | None, prefix: str) -> Iterator[str]:
    """A fresh directory under `parent`, removed with everything in it afterwards."""
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def remove_quiet(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def bytecode_env(cache_dir: str) -> dict[str, str]:
    """The environment with a writable bytecode cache under `cache_dir`.

    An installed package has its .pyc files; an editable one writes them on
    first import, unless PYTHONDONTWRITEBYTECODE is set (it is in some CI and
    sandbox images), and then every start compiles every vnvdimm module from
    source. A private PYTHONPYCACHEPREFIX gives subprocesses a cache without
    writing into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def vnvdimm_command() -> list[str]:
    """The interpreter's own `vnvdimm` console script.

    Not the first `vnvdimm` on PATH: under pyenv that is a bash shim that runs
    `pyenv exec`, which would add its own start-up to every measurement.
    Falls back to `python -m vnvdimm`.
    """
    script = os.path.join(sysconfig.get_path("scripts"), "vnvdimm")
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "vnvdimm"]


def clean_python(directory: str) -> str:
    """A Python in a new venv under `directory` that sees vnvdimm and nothing else.

    The same interpreter without its site-packages' .pth files: a sandbox may
    install one that imports several modules into every Python process (this
    one: certifi, about 30 ms), which is no part of vnvdimm's start-up.
    """
    import vnvdimm

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", directory], check=True)
    python = os.path.join(directory, "bin", "python3")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(vnvdimm.__file__)))
    with open(os.path.join(site, "vnvdimm-source.pth"), "w") as handle:
        handle.write(package_root + "\n")
    return python


def timed_run(argv: Sequence[str], stdin: bytes = QUIT, *, timeout: float = 60.0,
              env: Mapping[str, str] | None = None) -> float:
    """Wall time from spawn until exit, with `stdin` piped in (then closed).

    Output is drained (a monitor console writes its banner and echo); a failing
    command raises RuntimeError with its stderr, because a benchmark of an
    error path would measure the wrong thing.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    _, err = proc.communicate(stdin, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: "
                           f"{err.decode(errors='replace').strip()}")
    return elapsed
