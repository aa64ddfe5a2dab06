"""tools/mutation.py stays runnable as the code changes: each mutant's line is still in its file
exactly once, the tests it names still exist, and the README counts the mutants right."""

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location("mutation", REPO / "tools" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = load_tool()
MUTANTS = TOOL.MUTANTS


def test_mutants_are_single_lines_that_name_existing_tests():
    TOOL.check_mutants()  # what the tool checks before it runs


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutant_applies_once(mutant):
    source = (REPO / "numpy2gpt" / mutant.path).read_text()
    assert source.count(mutant.old) == 1, f"{mutant.path}: {mutant.old!r}"
    assert mutant.new != mutant.old


def test_readme_counts_the_mutants():
    readme = (REPO / "README.md").read_text()
    counts = re.findall(r"puts each of (\d+) one-line bugs", readme)
    assert counts == [str(len(MUTANTS))]
