"""``vnvdimm run`` must behave like qemu-system-x86_64 7.2 for every case in cases.py.

Both programs run each case in their own fresh temp dir; exit status, normalised
stderr, normalised monitor output and the files left behind are compared (see
harness.py / normalise.py / checks.py). Skipped when QEMU is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from . import checks, harness
from .cases import CASES
from .model import Case

pytestmark = pytest.mark.conformance

WORKERS = max(8, 2 * (os.cpu_count() or 1))


class Runs:
    """Runs the cases selected in this session concurrently, on first use."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.pool = ThreadPoolExecutor(max_workers=WORKERS)
        self.futures: dict[str, Future[tuple[harness.RunResult, harness.RunResult]]] = {}

    def prefetch(self, cases: list[Case]) -> None:
        for case in cases:
            self._submit(case)

    def _submit(self, case: Case) -> Future[tuple[harness.RunResult, harness.RunResult]]:
        if case.id not in self.futures:
            self.futures[case.id] = self.pool.submit(harness.run_both, case, self.binary)
        return self.futures[case.id]

    def get(self, case: Case) -> tuple[harness.RunResult, harness.RunResult]:
        return self._submit(case).result()


def _selected_cases(session: pytest.Session) -> list[Case]:
    wanted: dict[str, Case] = {}
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        if isinstance(case, Case):
            wanted[case.id] = case
    return list(wanted.values())


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest) -> Iterator[Runs]:
    binary = harness.qemu_binary()
    if binary is None:
        pytest.skip("qemu-system-x86_64 is not on PATH")
    result = Runs(binary)
    result.prefetch(_selected_cases(request.session))
    yield result
    result.pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_describes_qemu(case: Case, runs: Runs) -> None:
    """Self-check of the case data: real QEMU still accepts/refuses as written."""
    qemu, _ = runs.get(case)
    problems = checks.case_problems(case, qemu)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_vnvdimm_matches_qemu(case: Case, runs: Runs) -> None:
    qemu, ours = runs.get(case)
    found = checks.differences(case, qemu, ours)
    if found:
        found.append(f"vnvdimm argv: {list(ours.argv)}\nvnvdimm raw stderr:\n{ours.raw_stderr}")
    assert not found, "\n".join(found)
