"""Run a course chapter (docs/course/NN-*.md) the way a learner would, and check its printed output.

A chapter is Markdown. Its fenced blocks mean:

  ```python               code the learner types: run, top to bottom, in ONE fresh interpreter
  ```py                   code shown, never run (a sketch, a line of the library, something too
                          slow); a highlighted Markdown block in the notebook, not a cell
  ```python requires=mpi  run only where the requirement is met (comma-separated list, see
                          REQUIREMENTS); elsewhere left out, and the chapter's test skips with a
                          reason once everything else has run and passed
  ```text                 right after a python block: exactly what that block prints (trailing
                          spaces and trailing blank lines aside). Directly after a block that
                          did not run (```py, unmet requirement) it is shown, not checked.
  ```console              commands for a terminal (pytest, numpy2gpt train ...): shown, not run

A ```text block anywhere else is an error (the reader would take it for checked output), and so is
a chapter that runs nothing. So are ```bash and ```sh blocks, and `python skip`: jupytext turns
them into notebook cells that run (use ```console, ```py). A chapter may also say, anywhere in its
text,

  <!-- course: requires=tinyshakespeare -->

to put a requirement on all of its python blocks. The code runs in the current directory, which
the test makes a temporary one: pictures a chapter saves land there, never in the repository.

Command line (what the test runs, also handy while writing a chapter):

    python tests/course/course_runner.py docs/course/01-derivative.md [REPORT.json]

runs the chapter in this interpreter and says what differs from the text (exit 1), or "ok"; with
REPORT.json it also writes what each block printed there (what tests/course/test_chapters.py
reads).
"""

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "docs" / "course"

_FENCE = re.compile(r"^```(\S*)[ \t]*(.*?)[ \t]*$")
_CHAPTER_REQUIRES = re.compile(r"<!--\s*course:\s*requires=([\w,-]+)\s*-->")


def shakespeare_path():
    """Where the test suite finds tinyshakespeare ($NUMPY2GPT_DATA, else ../shared/data beside
    the repository, as tests/conftest.py does)."""
    return Path(os.environ.get("NUMPY2GPT_DATA")
                or REPO / ".." / "shared" / "data" / "tinyshakespeare.txt")


def _has_mpi():
    if shutil.which("mpiexec") is None:
        return "MPI's `mpiexec` is not on PATH (pip install mpich mpi4py, or your system's MPI)"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install mpi4py)"
    if importlib.util.find_spec("numpy2gpt.distributed") is None:
        return "numpy2gpt.distributed is not in this version of numpy2gpt"
    return None


def _has_module(name, how):
    def check():
        return None if importlib.util.find_spec(name) else f"{name} is not installed ({how})"
    return check


# requirement -> check returning None when met, else the reason it is not
REQUIREMENTS = {
    "tinyshakespeare": lambda: None if shakespeare_path().is_file() else (
        f"needs the tinyshakespeare text, not found at {shakespeare_path()}: download "
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
        " and set NUMPY2GPT_DATA=/absolute/path/to/tinyshakespeare.txt"),
    "graphviz": lambda: None if shutil.which("dot") else (
        "Graphviz's `dot` is not installed (Debian/Ubuntu: `apt-get install graphviz`, macOS: "
        "`brew install graphviz`, conda: `conda install graphviz`)"),
    "matplotlib": _has_module("matplotlib", 'pip install matplotlib, or the ".[plot]" extra'),
    "mpi": _has_mpi,
}


class Block:
    """One fenced block: its language, options, code and the line its code starts on."""

    def __init__(self, lang, options, code, line):
        self.lang, self.options, self.code, self.line = lang, options, code, line
        self.expected = None  # the ```text block that follows, if any
        self.requires = ()
        for word in options.split():
            if word.startswith("requires="):
                names = word[len("requires="):].strip("\"'")
                self.requires += tuple(r for r in names.split(",") if r)
            elif word == "skip":
                raise ValueError(f"line {line - 1}: fence code that is shown but not run as ```py "
                                 "(a notebook would run a ```python skip block)")
            else:
                raise ValueError(f"line {line - 1}: unknown option {word!r} on a ```{lang} "
                                 "block (known: requires=NAME[,NAME])")
        for r in self.requires:
            if r not in REQUIREMENTS:
                raise ValueError(f"line {line - 1}: unknown requirement {r!r} "
                                 f"(known: {', '.join(REQUIREMENTS)})")


def parse(text):
    """The python blocks of a chapter, each with the ```text block it must print (or None)."""
    chapter_requires = tuple(r for m in _CHAPTER_REQUIRES.finditer(text)
                             for r in m.group(1).split(","))
    lines = text.splitlines()
    blocks, previous, i = [], None, 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m.group(1):  # prose, or a bare ``` fence (a shown, unnamed block)
            if m:  # skip over an unnamed block's body
                i += 1
                while i < len(lines) and not lines[i].startswith("```"):
                    i += 1
            elif lines[i].strip():
                previous = None  # prose between a python block and a text block
            i += 1
            continue
        lang, options, start = m.group(1), m.group(2), i + 1
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start}: the ```{lang} block is never closed")
        body = "\n".join(lines[start:i]) + "\n"
        i += 1
        if lang in ("bash", "sh", "shell"):
            raise ValueError(f"line {start}: fence terminal commands as ```console (a notebook "
                             f"would run a ```{lang} block as a cell, in the wrong folder)")
        if lang == "py":  # shown only; a ```text after it is shown too
            previous = Block(lang, "", body, start + 1)
        elif lang == "python":
            block = Block(lang, options, body, start + 1)
            block.requires = tuple(dict.fromkeys(block.requires + chapter_requires))
            blocks.append(block)
            previous = block
        elif lang == "text":
            if previous is None:
                raise ValueError(
                    f"line {start}: a ```text block must come right after a ```python block (it "
                    "is that block's printed output, and checked); fence other text with ```")
            previous.expected, previous = body, None
        else:
            previous = None
    return blocks


def normalize(output):
    """Output as compared: trailing spaces of each line and trailing blank lines dropped."""
    return "\n".join(line.rstrip() for line in output.rstrip("\n").splitlines())


def run_chapter(path):
    """Run a chapter's python blocks in this interpreter. Returns a dict:
    {"blocks": [{"line", "ran", "output", "expected", "error"}...], "unmet": {req: reason}}.
    Running stops at the first block that raises."""
    path = Path(path)
    blocks = parse(path.read_text(encoding="utf-8"))
    unmet = {}
    for b in blocks:
        for r in b.requires:
            if r not in unmet:
                reason = REQUIREMENTS[r]()
                if reason:
                    unmet[r] = reason
    namespace = {"__name__": "__main__"}
    results = []
    for b in blocks:
        result = {"line": b.line, "ran": False, "output": None, "expected": b.expected,
                  "error": None}
        results.append(result)
        if any(r in unmet for r in b.requires):
            continue
        # blank lines in front, so a traceback names the chapter's own line numbers
        code = compile("\n" * (b.line - 1) + b.code, str(path), "exec")
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
        except BaseException:  # noqa: BLE001 - report any failure of the learner's code
            result["error"] = traceback.format_exc()
        result["ran"], result["output"] = True, out.getvalue()
        if result["error"]:
            break
    return {"blocks": results, "unmet": unmet}


def problems(report, path):
    """What is wrong with a chapter's run, as readable messages (empty when it passed)."""
    found = []
    ran = [b for b in report["blocks"] if b["ran"]]
    for b in ran:
        where = f"{path}:{b['line']}"
        if b["error"]:
            found.append(f"{where}: the block raised\n{b['error']}")
        elif b["expected"] is not None and normalize(b["output"]) != normalize(b["expected"]):
            found.append(f"{where}: the block printed\n{b['output']}\nbut the chapter shows\n"
                         f"{b['expected']}")
    if not found and not ran and not report["unmet"]:
        found.append(f"{path}: runs nothing (no ```python block)")
    return found


def main(argv):
    if len(argv) not in (1, 2):
        sys.exit("usage: python tests/course/course_runner.py docs/course/NN-name.md [REPORT.json]")
    report = run_chapter(argv[0])
    if len(argv) == 2:
        Path(argv[1]).write_text(json.dumps(report), encoding="utf-8")
    found = problems(report, argv[0])
    for r, reason in report["unmet"].items():
        print(f"left out the blocks that need {r}: {reason}")
    print("\n\n".join(found) if found else "ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
