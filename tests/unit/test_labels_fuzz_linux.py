"""Mutated Linux-written label areas: the parser raises only LabelError, the tools never crash.

The seed is the label area (and namespace head) a Linux 6.1 guest with ndctl 76
wrote (tests/unit/data/linux61-v12-fsdax-raw.*: v1.2, index blocks of 256
bytes, labels of 256 bytes from offset 512).  Mutations flip bytes and
overwrite ranges, biased towards the index blocks and the used label slots.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnvdimm.cli.main import main
from vnvdimm.image.namespaces import read_labels_json
from vnvdimm.labels import LabelError, RegionContext, parse_label_area, validate_indexes

KiB, MiB = 1 << 10, 1 << 20
DATA = Path(__file__).parent / "data" / "linux61-v12-fsdax-raw"
AREA = DATA.with_suffix(".labels").read_bytes()
HEAD = DATA.with_suffix(".pmem-head").read_bytes()
PMEM = 128 * MiB
CTX = RegionContext.qemu(0, PMEM)
# index block 0 and 1, label slots 0..3 (slots 1 and 2 hold Linux's labels)
HOT = (0, 256, 512, 768, 1024, 1280)

flip = st.tuples(st.just("xor"), st.one_of(
    st.builds(lambda base, off: base + off, st.sampled_from(HOT), st.integers(0, 255)),
    st.integers(0, len(AREA) - 1)), st.integers(1, 255))
overwrite = st.tuples(st.just("set"), st.one_of(st.sampled_from(HOT),
                                                  st.integers(0, len(AREA) - 1)),
                      st.binary(min_size=1, max_size=300))
mutations = st.lists(st.one_of(flip, overwrite), min_size=1, max_size=6)
head_mutations = st.lists(st.tuples(st.integers(0, len(HEAD) - 1), st.integers(1, 255)),
                          max_size=4)


def mutate(data: bytes, changes: list[tuple[str, int, int | bytes]]) -> bytes:
    out = bytearray(data)
    for kind, offset, value in changes:
        if kind == "xor":
            assert isinstance(value, int)
            out[offset] ^= value
        else:
            assert isinstance(value, bytes)
            out[offset:offset + len(value)] = value
    return bytes(out[:len(data)])


def test_seed_is_valid() -> None:
    state = parse_label_area(AREA, CTX)
    assert state.labeling and len(state.namespaces) == 2


@settings(max_examples=300, deadline=None)
@given(mutations)
def test_parser_raises_only_label_error(changes: list[tuple[str, int, int | bytes]]) -> None:
    area = mutate(AREA, changes)
    with contextlib.suppress(LabelError):
        validate_indexes(area)
    with contextlib.suppress(LabelError):
        state = parse_label_area(area, CTX)
        # the state's own accessors must hold up too
        state.free_slot_count()
        _ = state.geometry, state.version, state.valid_labels
    with contextlib.suppress(LabelError):
        read_labels_json(0, area)


@pytest.fixture(scope="module")
def image_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "linux.img"


def _tool(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue() + err.getvalue()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations, head_mutations)
def test_tools_never_crash(image_path: Path, changes: list[tuple[str, int, int | bytes]],
                           head_changes: list[tuple[int, int]]) -> None:
    head = bytearray(HEAD)
    for offset, value in head_changes:
        head[offset] ^= value
    with open(image_path, "wb") as handle:
        handle.truncate(PMEM + 128 * KiB)
        handle.write(head)
        handle.seek(PMEM)
        handle.write(mutate(AREA, changes))
    for verb in (("img", "check"), ("ndctl", "list", "-RN"), ("ndctl", "read-labels", "-j"),
                 ("ndctl", "check-labels")):
        rc, text = _tool(*verb, str(image_path))
        assert rc in (0, 1), (verb, rc, text)
        if rc == 1:
            assert text.strip(), verb
    rc, text = _tool("img", "check", str(image_path))
    assert ("healthy" in text) == (rc == 0), text
