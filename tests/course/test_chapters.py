"""Every chapter of the course runs, and prints what its text says it prints.

Each chapter (docs/course/NN-*.md) runs in its own fresh interpreter, in a temporary directory
(pictures land there), with the package of this checkout; see course_runner.py for the block
syntax. A chapter whose blocks need something missing here (the tinyshakespeare text, MPI,
Graphviz) runs all its other blocks first and then skips, saying what is missing and how to get it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from course_runner import COURSE, REPO, normalize, parse, problems, run_chapter, shakespeare_path

CHAPTERS = sorted(COURSE.glob("[0-9][0-9]-*.md"))
TIMEOUT = 300  # seconds; a chapter takes a few (the whole course about 2 minutes on 2 cores)


def run_in_subprocess(chapter, tmp_path):
    report_file = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH",
                                                                                    "")]),
               MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if shakespeare_path().is_file():  # as a learner would: NUMPY2GPT_DATA names the text
        env["NUMPY2GPT_DATA"] = str(shakespeare_path().resolve())
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("course_runner.py")), str(chapter),
         str(report_file)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if not report_file.exists():
        pytest.fail(f"{chapter.name}: the runner died (exit {proc.returncode})\n{proc.stdout}\n"
                    f"{proc.stderr}")
    return json.loads(report_file.read_text(encoding="utf-8"))


def test_the_course_has_chapters():
    assert len(CHAPTERS) >= 7, [c.name for c in CHAPTERS]
    numbers = [int(c.name[:2]) for c in CHAPTERS]
    assert numbers == list(range(1, len(numbers) + 1)), "chapters are numbered 01, 02, ... in order"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_and_prints_what_it_shows(chapter, tmp_path):
    report = run_in_subprocess(chapter, tmp_path)
    found = problems(report, chapter.relative_to(REPO))
    assert not found, "\n\n".join(found)
    if report["unmet"]:
        ran = sum(b["ran"] for b in report["blocks"])
        pytest.skip(f"ran {ran} blocks, all as shown; left out the rest: "
                    + "; ".join(report["unmet"].values()))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_opens_as_a_notebook_with_the_same_code(chapter):
    """jupytext reads the chapter as a notebook: its code cells are exactly the blocks the test
    runs (shown-only code and terminal commands stay Markdown)."""
    jupytext = pytest.importorskip(
        "jupytext", reason="checking the notebook form needs jupytext: pip install jupytext")
    notebook = jupytext.read(chapter)
    cells = [c.source.strip("\n") for c in notebook.cells if c.cell_type == "code"]
    assert cells == [b.code.strip("\n") for b in parse(chapter.read_text(encoding="utf-8"))]


def test_index_lists_every_chapter():
    index = (COURSE / "README.md").read_text(encoding="utf-8")
    missing = [c.name for c in CHAPTERS if f"({c.name})" not in index]
    assert not missing, f"docs/course/README.md does not link {missing}"


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_PREFIXES = {"torch", "numpy2gpt", "nn", "F", "optim", "autograd"}  # import names, not in the file


def broken_links(markdown, folder, chapter_numbers):
    """Relative links that lead nowhere, and `Name.attr` link texts naming something the linked
    Python file does not contain (so a renamed function breaks the test, not the reader's trust).
    A link to a chapter numbered above every chapter present is one not written yet: allowed."""
    found = []
    for text, target in _LINK.findall(markdown):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (folder / target.split("#")[0]).resolve()
        number = re.match(r"(\d\d)-.*\.md$", path.name)
        if not path.exists():
            if not (number and path.parent == COURSE and int(number[1]) > max(chapter_numbers)):
                found.append(f"{target}: no such file")
            continue
        code = re.fullmatch(r"`([\w.]+)`", text.strip())
        if path.suffix == ".py" and code and not code[1].endswith(".py"):
            source = path.read_text(encoding="utf-8")
            names = [n for n in code[1].split(".") if n not in _PREFIXES]
            found += [f"[{text}]({target}): {path.name} has no {n!r}" for n in names
                      if not re.search(rf"\b{re.escape(n)}\b", source)]
    return found


@pytest.mark.parametrize("page", CHAPTERS + [COURSE / "README.md"],
                         ids=[c.stem for c in CHAPTERS] + ["index"])
def test_links_lead_to_the_code_they_name(page):
    numbers = [int(c.name[:2]) for c in CHAPTERS]
    found = broken_links(page.read_text(encoding="utf-8"), page.parent, numbers)
    assert not found, "\n".join(found)


def test_a_renamed_function_breaks_its_link():
    assert broken_links("[`Exp.backward`](../../numpy2gpt/ops/elementwise.py)", COURSE, [1]) == []
    (msg,) = broken_links("[`Exp.bakward`](../../numpy2gpt/ops/elementwise.py)", COURSE, [1])
    assert "elementwise.py has no 'bakward'" in msg
    (msg,) = broken_links("see [the engine](../../numpy2gpt/autograd/engin.py)", COURSE, [1])
    assert "no such file" in msg
    assert broken_links("[next](02-graph.md) [later](99-x.md)", COURSE, [1, 2]) == []


# ----- the harness itself: it must be able to fail ------------------------------------------------
def _chapter(tmp_path, text):
    path = tmp_path / "99-test.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_wrong_output_is_reported(tmp_path):
    path = _chapter(tmp_path, "```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n")
    (msg,) = problems(run_chapter(path), path)
    assert "printed\n2\n" in msg and "shows\n3\n" in msg


def test_right_output_passes_and_state_carries_between_blocks(tmp_path):
    path = _chapter(tmp_path, "Some prose.\n\n```python\nx = 2  \n```\n\nMore.\n\n"
                              "```python\nprint(x * 21)\n```\n```text\n42   \n\n```\n")
    assert problems(run_chapter(path), path) == []


def test_an_error_names_the_chapter_line(tmp_path):
    path = _chapter(tmp_path, "# t\n\n```python\nx = 1\n1 / 0\n```\n")
    (msg,) = problems(run_chapter(path), path)
    assert "ZeroDivisionError" in msg and f'File "{path}", line 5' in msg


def test_a_chapter_that_runs_nothing_fails(tmp_path):
    path = _chapter(tmp_path, "```py\nprint(1)\n```\n```text\n1\n```\n```console\nls\n```\n")
    (msg,) = problems(run_chapter(path), path)
    assert "runs nothing" in msg


def test_skip_and_unmet_requirements_are_left_out(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY2GPT_DATA", str(tmp_path / "missing.txt"))
    path = _chapter(tmp_path, "```python\nprint('a')\n```\n```text\na\n```\n"
                              "```python requires=tinyshakespeare\nprint('b')\n```\n"
                              "```text\nc\n```\n```py\nraise SystemExit\n```\n")
    report = run_chapter(path)
    assert [b["ran"] for b in report["blocks"]] == [True, False]
    assert "tinyshakespeare" in report["unmet"] and problems(report, path) == []


def test_text_must_follow_a_python_block(tmp_path):
    with pytest.raises(ValueError, match="line 5: a ```text block must come right after"):
        parse("```python\nx = 1\n```\nprose\n```text\n1\n```\n")
    with pytest.raises(ValueError, match="unknown option 'sikp'"):
        parse("```python sikp\nx = 1\n```\n")
    with pytest.raises(ValueError, match="line 1: fence code that is shown but not run as ```py"):
        parse("```python skip\nx = 1\n```\n")
    with pytest.raises(ValueError, match="line 1: fence terminal commands as ```console"):
        parse("```bash\nls\n```\n")


def test_normalize_keeps_everything_but_trailing_space():
    assert normalize("a  \n b\n\n") == "a\n b"
    assert normalize("a\n\nb") != normalize("a\nb")
