"""The harness's own rules (no QEMU needed): monitor/stderr normalisation, digests."""

from __future__ import annotations

from pathlib import Path

from . import files, harness, normalise
from .cases import CASES
from .model import Case, Content, FileSpec

COMMANDS = ("info memdev", "quit")
BODY = "memory backend: pc.ram\r\n  size:  134217728\r\n\r\n"


def qemu_echo(command: str) -> str:
    """How QEMU 7.2's readline echoes a piped command (redraw after every key)."""
    return "".join(f"{command[:n]}\x1b[K" + "\x1b[D" * n for n in range(1, len(command))) + command


def test_render_line_undoes_readline_redraws() -> None:
    assert normalise.render_line(qemu_echo("info memory-devices") + "\x1b[K") == (
        "info memory-devices"
    )


def test_qemu_style_transcript() -> None:
    raw = (
        "QEMU 7.2.22 monitor - type 'help' for more information\r\n"
        f"(qemu) {qemu_echo('info memdev')}\x1b[K\r\n{BODY}"
        f"(qemu) {qemu_echo('quit')}\x1b[K\r\n"
    )
    assert normalise.monitor_output(raw, COMMANDS, ()) == BODY.replace("\r\n", "\n")


def test_plain_transcript_gives_the_same_result() -> None:
    plain = f"(qemu) info memdev\n{BODY}(qemu) quit\n"
    no_echo = f"(qemu) {BODY}(qemu) "
    expected = BODY.replace("\r\n", "\n")
    assert normalise.monitor_output(plain, COMMANDS, ()) == expected
    assert normalise.monitor_output(no_echo, COMMANDS, ()) == expected


def test_error_transcripts_reduce_to_nothing() -> None:
    banner_only = "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) "
    assert normalise.monitor_output(banner_only, COMMANDS, ()) == ""
    assert normalise.monitor_output("", COMMANDS, ()) == ""


def test_stderr_prefix_and_tmp_dir() -> None:
    raw = "qemu-system-x86_64: can't open /t/x/a.img\nvnvdimm: warning: w\nWarning: raw\n"
    assert normalise.error_output(raw, ("/t/x",)) == (
        "can't open {tmp}/a.img\nwarning: w\nWarning: raw\n"
    )


def test_digest_ignores_sparseness(tmp_path: Path) -> None:
    size = 3 * files.CHUNK + 123
    (tmp_path / "sparse").write_bytes(b"")
    with open(tmp_path / "sparse", "r+b") as handle:
        handle.truncate(size)
        handle.seek(files.CHUNK + 5)
        handle.write(b"x")
    dense = bytearray(size)
    dense[files.CHUNK + 5] = ord("x")
    (tmp_path / "dense").write_bytes(bytes(dense))
    first = files.content_digest(tmp_path / "sparse", size)
    assert first == files.content_digest(tmp_path / "dense", size)
    dense[-1] = 1
    (tmp_path / "dense").write_bytes(bytes(dense))
    assert first != files.content_digest(tmp_path / "dense", size)


def test_materialise_is_deterministic(tmp_path: Path) -> None:
    spec = (FileSpec("a/b.img", 5 * files.CHUNK, Content.RANDOM, 0o600),)
    files.materialise(tmp_path / "one", spec)
    files.materialise(tmp_path / "two", spec)
    one, two = files.snapshot(tmp_path / "one"), files.snapshot(tmp_path / "two")
    assert one == two
    assert one["a/b.img"].mode == 0o600
    assert one["a/b.img"].size == 5 * files.CHUNK


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_monitor_script_comes_first_with_tmp_expanded() -> None:
    case = Case("x", (), monitor=("object_add memory-backend-file,mem-path={tmp}/a,id=m",))
    commands = harness.monitor_commands(case, "/t/x")
    assert commands == ("object_add memory-backend-file,mem-path=/t/x/a,id=m", *harness.COMMANDS)
    assert harness.stdin_text(commands).endswith("info memdev\nquit\n")


def test_monitor_script_errors_are_kept() -> None:
    script = ("device_add nvdimm,id=nv1", "info memdev", "quit")
    error = "Error: 'memdev' property must be set\r\n"
    raw = (
        f"(qemu) {qemu_echo(script[0])}\x1b[K\r\n{error}"
        f"(qemu) {qemu_echo('info memdev')}\x1b[K\r\n{BODY}"
        f"(qemu) {qemu_echo('quit')}\x1b[K\r\n"
    )
    plain = f"(qemu) {script[0]}\n{error}(qemu) info memdev\n{BODY}(qemu) quit\n"
    expected = (error + BODY).replace("\r\n", "\n")
    assert normalise.monitor_output(raw, script, ()) == expected
    assert normalise.monitor_output(plain, script, ()) == expected


def test_monitor_expectations_need_a_script() -> None:
    for case in CASES:
        if case.expect_monitor:
            assert case.monitor, case.id
