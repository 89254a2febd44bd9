"""vnvdimm.host.mapping: QEMU's qemu_ram_mmap placement, guard page, flags and messages."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from vnvdimm.host import libc
from vnvdimm.host.mapping import (
    HostMapError,
    HostMapping,
    NoreserveCheck,
    anon_ram_alloc,
    host_page_size,
    map_noreserve_effective,
    parse_overcommit,
    ram_mmap,
    vmalloc_align,
)
from vnvdimm.host.messages import HostMessage

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not libc.AVAILABLE, reason="Linux mmap only"
)

MiB = 1 << 20
GiB = 1 << 30
PAGE = host_page_size()


class Vma(NamedTuple):
    start: int
    end: int
    perms: str
    inode: int
    path: str


def vmas() -> list[Vma]:
    result = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            path = fields[5].strip() if len(fields) > 5 else ""
            result.append(Vma(start, end, fields[1], int(fields[4]), path))
    return result


def vma_at(address: int) -> Vma | None:
    return next((v for v in vmas() if v.start <= address < v.end), None)


def make_file(path: Path, size: int, data: bytes = b"") -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, size)
    if data:
        os.pwrite(fd, data, 0)
    return fd


@pytest.fixture
def backing(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    path = tmp_path / "mem"
    fd = make_file(path, 4 * MiB)
    yield path, fd
    os.close(fd)


class Messages(list[HostMessage]):
    def __call__(self, message: str) -> None:
        assert isinstance(message, HostMessage)
        self.append(message)


@pytest.mark.parametrize("align", [PAGE, 2 * MiB, GiB])
def test_address_is_aligned(backing: tuple[Path, int], align: int) -> None:
    _, fd = backing
    with ram_mmap(fd, 4 * MiB, align, shared=True) as mapping:
        assert mapping.address % align == 0
        assert mapping.size == 4 * MiB
        assert mapping.guard_size == PAGE
        assert len(mapping.view) == 4 * MiB


@pytest.mark.parametrize("align", [PAGE, 2 * MiB, GiB])
def test_one_guard_page_after_and_no_pad_before(backing: tuple[Path, int], align: int) -> None:
    _, fd = backing
    with ram_mmap(fd, 4 * MiB, align, shared=True) as mapping:
        block = vma_at(mapping.address)
        assert block is not None
        assert (block.start, block.end, block.perms) == (
            mapping.address, mapping.address + mapping.size, "rw-s",
        )
        guard = vma_at(mapping.address + mapping.size)
        assert guard is not None
        assert guard.perms == "---p" and guard.inode == 0
        assert guard.start == mapping.address + mapping.size
        assert guard.end == mapping.address + mapping.size + PAGE
        before = vma_at(mapping.address - 1)
        # The leading pad of the reservation is gone: no anonymous PROT_NONE ends here.
        assert before is None or not (before.end == mapping.address and before.perms == "---p")


def test_shared_writes_reach_file_and_other_process(backing: tuple[Path, int]) -> None:
    path, fd = backing
    with ram_mmap(fd, 4 * MiB, 2 * MiB, shared=True) as mapping:
        mapping.view[0:6] = b"parent"
        assert os.pread(fd, 6, 0) == b"parent"
        child = textwrap.dedent(
            f"""
            import mmap, os, sys
            fd = os.open({str(path)!r}, os.O_RDWR)
            m = mmap.mmap(fd, {4 * MiB}, mmap.MAP_SHARED)
            sys.stdout.write(m[0:6].decode())
            m[4096:4101] = b"child"
            m.close()
            """
        )
        out = subprocess.run([sys.executable, "-c", child], capture_output=True, check=True)
        assert out.stdout == b"parent"
        assert bytes(mapping.view[4096:4101]) == b"child"


def test_private_writes_stay_private(tmp_path: Path) -> None:
    fd = make_file(tmp_path / "mem", 2 * MiB, b"original")
    try:
        with ram_mmap(fd, 2 * MiB, 2 * MiB, shared=False) as mapping:
            assert bytes(mapping.view[0:8]) == b"original"
            mapping.view[0:8] = b"changed!"
            assert bytes(mapping.view[0:8]) == b"changed!"
            assert os.pread(fd, 8, 0) == b"original"
            assert vma_at(mapping.address) is not None
            assert vma_at(mapping.address).perms == "rw-p"  # type: ignore[union-attr]
    finally:
        os.close(fd)


def test_readonly_view_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "mem"
    os.close(make_file(path, 2 * MiB, b"rom"))
    fd = os.open(path, os.O_RDONLY)
    try:
        with ram_mmap(fd, 2 * MiB, PAGE, shared=False, readonly=True) as mapping:
            assert mapping.view.readonly
            assert bytes(mapping.view[0:3]) == b"rom"
            with pytest.raises(TypeError):
                mapping.view[0] = 1
            assert vma_at(mapping.address).perms == "r--p"  # type: ignore[union-attr]
    finally:
        os.close(fd)


def test_close_unmaps_block_and_guard_and_is_idempotent(backing: tuple[Path, int]) -> None:
    _, fd = backing
    mapping = ram_mmap(fd, 4 * MiB, 2 * MiB, shared=True)
    address = mapping.address
    mapping.close()
    assert mapping.closed
    assert vma_at(address) is None
    assert vma_at(address + 4 * MiB) is None
    mapping.close()
    with pytest.raises(ValueError):
        _ = mapping.view


def test_close_detaches_while_a_slice_is_alive(backing: tuple[Path, int]) -> None:
    path, fd = backing
    mapping = ram_mmap(fd, 4 * MiB, PAGE, shared=True)
    piece = mapping.view[10:20]
    mapping.view[10] = 7
    mapping.close()  # never raises: the file mapping is swapped for anonymous memory
    assert mapping.closed
    assert piece[0] == 0  # the stale view is still safe to touch, and detached
    piece[0] = 9
    with open(f"/proc/{os.getpid()}/maps") as maps:
        assert str(path) not in maps.read()
    piece.release()


def test_one_tib_sparse_file(tmp_path: Path) -> None:
    size = 1 << 40
    fd = os.open(tmp_path / "huge", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            os.ftruncate(fd, size)
        except OSError as e:
            pytest.skip(f"filesystem cannot hold a 1 TiB sparse file: {e}")
        with ram_mmap(fd, size, 2 * MiB, shared=True) as mapping:
            assert len(mapping.view) == size
            mapping.view[size - 1] = 0xAB
            assert os.pread(fd, 1, size - 1) == b"\xab"
    finally:
        os.close(fd)


def test_map_sync_fallback_warns_like_qemu(backing: tuple[Path, int]) -> None:
    path, fd = backing
    messages = Messages()
    with ram_mmap(fd, 4 * MiB, PAGE, shared=True, sync=True, warn=messages) as mapping:
        assert not mapping.sync  # tmpfs/ext4 are not DAX
    assert [m.kind for m in messages] == ["raw", "warning"]
    assert str(messages[0]) == (
        f"Warning: requesting persistence across crashes for backend file {os.path.realpath(path)}"
        " failed. Proceeding without persistence, data might become corrupted in case of host"
        " crash."
    )
    assert messages[0].render("qemu-system-x86_64") == str(messages[0]) + "\n"
    assert messages[1].render("vnvdimm") == (
        "vnvdimm: warning: Using non DAX backing file with 'pmem=on' option is deprecated\n"
    )


def test_map_sync_needs_share(backing: tuple[Path, int]) -> None:
    _, fd = backing
    messages = Messages()
    with ram_mmap(fd, 4 * MiB, PAGE, shared=False, sync=True, warn=messages):
        pass
    assert messages == []


def test_map_sync_on_tmpfs(tmp_path: Path) -> None:
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    path = Path("/dev/shm") / f"vnvdimm-test-{os.getpid()}"
    fd = make_file(path, 2 * MiB)
    try:
        messages = Messages()
        with ram_mmap(fd, 2 * MiB, PAGE, shared=True, sync=True, warn=messages):
            pass
        assert [m.kind for m in messages] == ["raw", "warning"]
        assert str(path) in messages[0]
    finally:
        os.close(fd)
        path.unlink()


def test_mapping_error_carries_strerror(tmp_path: Path) -> None:
    path = tmp_path / "mem"
    os.close(make_file(path, 2 * MiB))
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(HostMapError) as info:
            ram_mmap(fd, 2 * MiB, PAGE, shared=True)  # writable shared map of an O_RDONLY fd
        assert info.value.message == (
            "unable to map backing store for guest RAM: Permission denied"
        )
        assert info.value.errno == errno.EACCES
        # The reservation was released again: nothing of ours is left behind.
    finally:
        os.close(fd)


def test_anonymous_ram_is_vmalloc_aligned() -> None:
    with anon_ram_alloc(3 * PAGE + 1, name="m0") as mapping:
        assert mapping.address % vmalloc_align() == 0
        assert mapping.size == 4 * PAGE
        assert mapping.fd == -1
        assert bytes(mapping.view[0:16]) == bytes(16)
        mapping.view[0] = 1
        assert vma_at(mapping.address).perms == "rw-p"  # type: ignore[union-attr]
    if sys.platform.startswith("linux") and os.uname().machine == "x86_64":
        assert vmalloc_align() == 2 * MiB


def test_invalid_arguments_are_programming_errors(backing: tuple[Path, int]) -> None:
    _, fd = backing
    with pytest.raises(ValueError):
        ram_mmap(fd, PAGE, 3 * PAGE, shared=True)
    with pytest.raises(ValueError):
        ram_mmap(fd, PAGE + 1, PAGE, shared=True)
    with pytest.raises(ValueError):
        ram_mmap(fd, 0, PAGE, shared=True)


def test_madvise_helper(backing: tuple[Path, int]) -> None:
    _, fd = backing
    with ram_mmap(fd, 4 * MiB, PAGE, shared=True) as mapping:
        assert mapping.madvise(libc.MADV_DONTDUMP) == 0
        assert mapping.madvise(libc.MADV_DODUMP) == 0
        assert mapping.madvise(12345) == errno.EINVAL
        mapping.view[0] = 9
        assert mapping.madvise(libc.MADV_REMOVE) == 0  # like discard-data=on
        assert os.pread(fd, 1, 0) == b"\0"


# --- MAP_NORESERVE ---------------------------------------------------------

# Observed with QEMU 7.2 by bind-mounting a file over /proc/sys/vm/overcommit_memory.
@pytest.mark.parametrize(
    ("content", "value", "err"),
    [
        (b"0\n", 0, 0),
        (b"2\n", 2, 0),
        (b"2\n\n", 2, 0),
        (b"0x2\n", 2, 0),
        (b"02\n", 2, 0),
        (b"+2\n", 2, 0),
        (b" 2\n", 2, 0),
        (b"-2\n", 4294967294, 0),
        (b"-1\n", 4294967295, 0),
        (b"1", None, 0),
        (b"2 \n", None, 0),
        (b"2x\n", None, 0),
        (b"abc\n", None, 0),
        (b"", None, 0),
        (b"\n", None, 0),
        (b"4294967298\n", None, errno.ERANGE),
        (b"99999999999999999999999\n", None, errno.ERANGE),
        (b"-4294967298\n", None, errno.ERANGE),
        (b"2\0\n", None, 0),
    ],
)
def test_parse_overcommit_like_qemu(content: bytes, value: int | None, err: int) -> None:
    assert parse_overcommit(content) == (value, err)


def _overcommit(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "overcommit_memory"
    path.write_bytes(content)
    return str(path)


def test_noreserve_rules(tmp_path: Path, backing: tuple[Path, int]) -> None:
    _, fd = backing
    never = _overcommit(tmp_path, b"2\n")
    missing = str(tmp_path / "missing")
    # Shared file mappings and read-only ones are never accounted: no file read at all.
    assert map_noreserve_effective(fd, readonly=False, shared=True, overcommit_path=missing)
    assert map_noreserve_effective(fd, readonly=True, shared=False, overcommit_path=missing)
    check = map_noreserve_effective(fd, readonly=False, shared=False, overcommit_path=never)
    assert check == NoreserveCheck(
        False,
        'Skipping reservation of swap space is not supported: '
        '"/proc/sys/vm/overcommit_memory" is "2"',
        0,
    )
    # Shared *anonymous* memory is accounted like private memory.
    assert not map_noreserve_effective(-1, readonly=False, shared=True, overcommit_path=never)
    check = map_noreserve_effective(-1, readonly=False, shared=False, overcommit_path=missing)
    assert check == NoreserveCheck(
        False,
        'Skipping reservation of swap space is not supported: Could not read: '
        '"/proc/sys/vm/overcommit_memory"',
        errno.ENOENT,
    )
    heuristic = _overcommit(tmp_path, b"0\n")
    assert map_noreserve_effective(-1, readonly=False, shared=False, overcommit_path=heuristic)


def test_noreserve_failure_messages(tmp_path: Path, backing: tuple[Path, int]) -> None:
    _, fd = backing
    messages = Messages()
    never = _overcommit(tmp_path, b"2\n")
    before = len(vmas())
    with pytest.raises(HostMapError) as info:
        anon_ram_alloc(4 * MiB, name="m0", noreserve=True, warn=messages, overcommit_path=never)
    assert info.value.message == "cannot set up guest memory 'm0'"  # errno 0: no suffix
    assert [(m.kind, str(m)) for m in messages] == [
        ("error", 'Skipping reservation of swap space is not supported: '
                  '"/proc/sys/vm/overcommit_memory" is "2"'),
    ]
    assert messages[0].render("qemu-system-x86_64") == (
        'qemu-system-x86_64: Skipping reservation of swap space is not supported: '
        '"/proc/sys/vm/overcommit_memory" is "2"\n'
    )
    assert len(vmas()) == before  # the reservation was unmapped again
    with pytest.raises(HostMapError) as info:
        ram_mmap(fd, 4 * MiB, PAGE, shared=False, noreserve=True, warn=messages,
                 overcommit_path=never)
    assert info.value.message == "unable to map backing store for guest RAM"
    out_of_range = _overcommit(tmp_path, b"4294967298\n")
    with pytest.raises(HostMapError) as info:
        anon_ram_alloc(4 * MiB, name="m0", noreserve=True, warn=messages,
                       overcommit_path=out_of_range)
    assert info.value.message == "cannot set up guest memory 'm0': Numerical result out of range"


def test_noreserve_effective_maps_with_flag(tmp_path: Path, backing: tuple[Path, int]) -> None:
    _, fd = backing
    heuristic = _overcommit(tmp_path, b"0\n")
    with anon_ram_alloc(4 * MiB, name="m0", noreserve=True, overcommit_path=heuristic) as m:
        assert m.noreserve
        m.view[0] = 1
    with ram_mmap(fd, 4 * MiB, PAGE, shared=True, noreserve=True) as m:
        assert m.noreserve


def test_host_mapping_repr(backing: tuple[Path, int]) -> None:
    _, fd = backing
    mapping = ram_mmap(fd, 4 * MiB, PAGE, shared=True)
    assert isinstance(mapping, HostMapping)
    assert "size=0x400000" in repr(mapping)
    mapping.close()
    assert "closed" in repr(mapping)


def test_default_reporter_prints_like_qemu(
    backing: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, fd = backing
    with ram_mmap(fd, 4 * MiB, PAGE, shared=True, sync=True):
        pass
    err = capsys.readouterr().err
    assert err == (
        f"Warning: requesting persistence across crashes for backend file {os.path.realpath(path)}"
        " failed. Proceeding without persistence, data might become corrupted in case of host"
        " crash.\n"
        "vnvdimm: warning: Using non DAX backing file with 'pmem=on' option is deprecated\n"
    )
