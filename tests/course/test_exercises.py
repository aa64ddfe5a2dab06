"""Every exercise is graded both ways: its tests pass on the reference solution and every one of
them fails on the untouched stub, so no exercise test can pass vacuously.

An exercise is a stub `docs/course/exercises/chNN_name.py` (functions raising NotImplementedError,
to be filled in by the learner), its tests `docs/course/exercises/test_chNN_name.py` (importing
the learner's file) and a reference solution `tests/course/solutions/chNN_name.py`, kept out of
the chapter's folder. The exercises' tests run in one pytest subprocess per side (conftest.py there
swaps in the solutions when NUMPY2GPT_COURSE_MODULES names their folder).
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from course_runner import COURSE, REPO

EXERCISES = COURSE / "exercises"
SOLUTIONS = REPO / "tests" / "course" / "solutions"
STUBS = sorted(p for p in EXERCISES.glob("ch[0-9][0-9]_*.py"))


def outcomes(side, tmp_dir):
    """{test file stem: {test name: "passed" | "failed" | "skipped"}} of all exercise tests, run
    in one pytest process against the stubs (side "stub") or the solutions (side "solution")."""
    xml = os.path.join(tmp_dir, f"{side}.xml")
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    env.pop("NUMPY2GPT_COURSE_MODULES", None)
    if side == "solution":
        env["NUMPY2GPT_COURSE_MODULES"] = str(SOLUTIONS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
         str(EXERCISES)],
        cwd=tmp_dir, env=env, capture_output=True, text=True, timeout=600)
    if not os.path.exists(xml):
        pytest.fail(f"pytest on the exercises ({side}) did not run:\n{proc.stdout}\n{proc.stderr}")
    result = {}
    for case in ET.parse(xml).iter("testcase"):
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                kind = "failed"
            elif child.tag == "skipped":
                kind = "skipped"
        result.setdefault(case.get("classname").split(".")[-1], {})[case.get("name")] = kind
    return result, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_there_are_exercises():
    assert len(STUBS) >= 7, [s.name for s in STUBS]


@pytest.mark.parametrize("stub", STUBS, ids=[s.stem for s in STUBS])
def test_exercise_has_tests_and_a_solution(stub):
    tests = EXERCISES / f"test_{stub.name}"
    solution = SOLUTIONS / stub.name
    assert tests.is_file(), f"{stub.name} has no tests: expected {tests.relative_to(REPO)}"
    assert solution.is_file(), f"{stub.name} has no solution: expected {solution.relative_to(REPO)}"
    assert "NotImplementedError" in stub.read_text(encoding="utf-8"), \
        f"{stub.name}: a stub raises NotImplementedError where the learner's code goes"
    assert stub.read_text(encoding="utf-8") != solution.read_text(encoding="utf-8")


def test_every_exercise_passes_on_its_solution(tmp_path):
    results, log = outcomes("solution", tmp_path)
    for stub in STUBS:
        mine = results.get(f"test_{stub.stem}")
        assert mine, f"no tests collected from test_{stub.name}:\n{log}"
        failing = [name for name, kind in mine.items() if kind != "passed"]
        assert not failing, f"test_{stub.name} on the solution: {failing} do not pass\n{log}"


def test_every_exercise_test_fails_on_the_untouched_stub(tmp_path):
    results, log = outcomes("stub", tmp_path)
    for stub in STUBS:
        theirs = results.get(f"test_{stub.stem}")
        assert theirs, f"no tests collected from test_{stub.name}:\n{log}"
        passing = [name for name, kind in theirs.items() if kind != "failed"]
        assert not passing, \
            f"test_{stub.name}: these tests do not fail on the untouched stub: {passing}"


def test_solutions_solve_exercises_that_exist():
    for solution in SOLUTIONS.glob("ch*.py"):
        stub = EXERCISES / solution.name
        assert stub.is_file(), f"{solution.name} solves no exercise (no {stub.relative_to(REPO)})"
