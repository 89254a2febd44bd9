"""Create a case's files and fingerprint everything in a temp dir."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .model import Content, FileSpec

CHUNK = 1 << 20
"""Random head/tail length, and the block size of the sparse-aware digest."""


@dataclass(frozen=True)
class FileState:
    """What we remember of one directory entry (mtime deliberately ignored)."""

    kind: str  # "file", "dir", "symlink" or "other"
    size: int
    mode: int  # permission bits only
    digest: str  # sha256 of the content as defined by content_digest(); "" if not a file

    def describe(self) -> str:
        if self.kind != "file":
            return f"{self.kind} mode {self.mode:04o}"
        return f"file {self.size:#x} bytes mode {self.mode:04o} sha256 {self.digest[:16]}"


Snapshot = dict[str, FileState]
"""Relative path -> state, for every entry below the temp dir."""


def random_bytes(path: str, length: int, salt: str) -> bytes:
    return random.Random(f"{path}:{salt}").randbytes(length)


def materialise(root: Path, specs: Iterable[FileSpec]) -> None:
    for spec in specs:
        target = root / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if spec.content is Content.DIRECTORY:
            target.mkdir(exist_ok=True)
        else:
            with open(target, "wb") as handle:
                handle.truncate(spec.size)
                if spec.content is Content.RANDOM and spec.size:
                    head = min(spec.size, CHUNK)
                    handle.write(random_bytes(spec.path, head, "head"))
                    tail = min(spec.size - head, CHUNK)
                    if tail:
                        handle.seek(spec.size - tail)
                        handle.write(random_bytes(spec.path, tail, "tail"))
        if spec.mode is not None:
            target.chmod(spec.mode)


def _data_blocks(fd: int, size: int) -> Iterator[int]:
    """Indices of CHUNK-sized blocks that may hold data (holes are skipped)."""
    try:
        os.lseek(fd, 0, os.SEEK_DATA)
    except OSError as error:
        if error.errno != errno.ENXIO:  # SEEK_DATA unsupported: read everything
            yield from range((size + CHUNK - 1) // CHUNK)
        return  # ENXIO: the file is one hole
    offset, last = 0, -1
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole remains
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        for block in range(max(start // CHUNK, last + 1), (end - 1) // CHUNK + 1):
            last = block
            yield block
        offset = end


def content_digest(path: Path, size: int) -> str:
    """sha256 over the size and every non-zero CHUNK block (with its index).

    Two files with the same bytes get the same digest whatever their sparseness,
    and sparse multi-GiB files are hashed without reading their holes.
    """
    digest = hashlib.sha256(f"size={size}\n".encode())
    zero = bytes(CHUNK)
    with open(path, "rb") as handle:
        fd = handle.fileno()
        for block in _data_blocks(fd, size):
            data = os.pread(fd, CHUNK, block * CHUNK)
            if data != zero[: len(data)]:
                digest.update(f"block={block}\n".encode())
                digest.update(data)
    return digest.hexdigest()


def snapshot(root: Path) -> Snapshot:
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            info = full.lstat()
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISREG(info.st_mode):
                state = FileState("file", info.st_size, mode, content_digest(full, info.st_size))
            elif stat.S_ISDIR(info.st_mode):
                state = FileState("dir", 0, mode, "")
            elif stat.S_ISLNK(info.st_mode):
                state = FileState("symlink", 0, mode, os.readlink(full))
            else:
                state = FileState("other", 0, mode, "")
            result[rel] = state
    return result


def describe_changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Human-readable differences between two snapshots; empty if identical."""
    lines: list[str] = []
    for rel in sorted(before.keys() | after.keys()):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        if old is None and new is not None:
            lines.append(f"created {rel}: {new.describe()}")
        elif new is None and old is not None:
            lines.append(f"deleted {rel}: was {old.describe()}")
        elif old is not None and new is not None:
            lines.append(f"changed {rel}: {old.describe()} -> {new.describe()}")
    return lines
