"""`numpy2gpt run SCRIPT` / `python -m numpy2gpt run` / `numpy2gpt.as_torch()`: PyTorch scripts
import numpy2gpt's modules as `torch` and `torch.*`. Each test runs a fresh Python process (this
one has real PyTorch imported, as the tests' oracle, so the hook would refuse here)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def python(*args, cwd=None):
    """Run `python *args` with this checkout importable; (status, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env.pop("NUMPY2GPT_TRACEBACK", None)
    proc = subprocess.run([sys.executable, *args], cwd=cwd or REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def script(folder, text, name="script.py"):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_torch_and_its_submodules_are_numpy2gpts_own_modules(tmp_path):
    path = script(tmp_path, """
        import numpy2gpt
        import torch
        import torch.nn as nn
        from torch.nn import functional as F
        import torch.optim, torch.utils, torch.cuda.amp, torch.backends.cudnn
        from torch.optim import AdamW
        assert torch is numpy2gpt and nn is numpy2gpt.nn and F is numpy2gpt.nn.functional
        assert torch.optim is numpy2gpt.optim and AdamW is numpy2gpt.optim.AdamW
        assert torch.cuda.amp.GradScaler is numpy2gpt.cuda.amp.GradScaler
        # numpy2gpt's modules keep their own names and specs
        assert numpy2gpt.nn.__name__ == numpy2gpt.nn.__spec__.name == "numpy2gpt.nn"
        x = torch.ones(2, 3, requires_grad=True)
        F.gelu(nn.Linear(3, 1)(x)).sum().backward()
        print(type(x).__module__, x.grad.shape)
    """)
    status, out, err = python("-m", "numpy2gpt", "run", str(path))
    assert (status, out, err) == (0, "numpy2gpt.tensor numpy2gpt.Size([2, 3])\n", "")


def test_the_script_runs_as_main_with_its_argv_and_its_folder_on_the_path(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    path = script(tmp_path, """
        import os, sys
        import helper
        import torch
        print(__name__, sys.argv, os.path.basename(__file__), sys.path[0], helper.VALUE)
    """)
    status, out, err = python("-m", "numpy2gpt", "run", str(path), "--lr=0.1", "x", "-v",
                              cwd=tmp_path)
    assert err == "" and status == 0
    assert out == f"__main__ {[str(path), '--lr=0.1', 'x', '-v']} script.py {tmp_path} 42\n"


def test_the_scripts_exit_status_and_traceback_are_its_own(tmp_path):
    assert python("-m", "numpy2gpt", "run", str(script(tmp_path, "import sys; sys.exit(3)")))[0] \
        == 3
    status, out, err = python("-m", "numpy2gpt", "run",
                              str(script(tmp_path, "import torch\nraise ValueError('boom')\n")))
    assert status == 1 and "Traceback" in err and err.endswith("ValueError: boom\n")


def test_an_uncovered_torch_module_fails_at_its_import_with_one_line(tmp_path):
    path = script(tmp_path, "import torch\nimport torch.fft\n")
    status, out, err = python("-m", "numpy2gpt", "run", str(path))
    assert status == 2 and out == ""
    assert err.startswith("error: numpy2gpt does not cover torch.fft: it stands in for torch, ")
    assert err.endswith(" (not every submodule of those)\n")
    listed = err.split("it stands in for ")[1].split(" (not")[0].split(", ")
    assert {"torch.amp", "torch.autograd", "torch.backends", "torch.cuda", "torch.distributed",
            "torch.nn", "torch.optim", "torch.utils"} <= set(listed)
    assert not {"torch.gpt", "torch.kernels", "torch.cli", "torch.torch_hook"} & set(listed)
    assert err.count("\n") == 1


def test_numpy2gpts_own_modules_are_not_torch_modules(tmp_path):
    status, _, err = python("-m", "numpy2gpt", "run",
                            str(script(tmp_path, "from torch.gpt import model\n")))
    assert status == 2 and err.startswith("error: numpy2gpt does not cover torch.gpt: ")


def test_an_uncovered_module_is_a_module_not_found_error_for_code_that_catches_it():
    code = textwrap.dedent("""
        import numpy2gpt
        numpy2gpt.as_torch()
        try:
            import torch.utils.tensorboard
        except ModuleNotFoundError as e:
            print(e.name)
    """)
    assert python("-c", code)[1] == "torch.utils.tensorboard\n"


def test_as_torch_in_a_notebook_then_torch_code_as_it_is():
    code = textwrap.dedent("""
        import numpy2gpt
        assert numpy2gpt.as_torch() is numpy2gpt
        numpy2gpt.as_torch()  # twice is harmless
        import torch
        print(f"{torch.tensor([1.0, 2.0]).mean():.4f}", torch.cuda.is_available())
    """)
    assert python("-c", code) == (0, "1.5000 False\n", "")


def test_real_pytorch_already_imported_is_refused():
    code = "import torch, numpy2gpt\nnumpy2gpt.as_torch()\n"
    status, _, err = python("-c", code)
    assert status == 1 and err.endswith(
        "RuntimeError: PyTorch is already imported in this process, so numpy2gpt cannot stand in "
        "for it: call numpy2gpt.as_torch() (or use `numpy2gpt run`) before anything imports "
        "torch\n")


def test_the_command_refuses_in_one_line_when_real_pytorch_is_loaded(tmp_path):
    path = script(tmp_path, "print('ran')\n")
    code = ("import sys, torch\nfrom numpy2gpt.cli import main\n"
            f"sys.exit(main(['run', {str(path)!r}]))")
    assert python("-c", code) == (2, "", "error: PyTorch is already imported in this process, so "
                                  "numpy2gpt cannot stand in for it: call numpy2gpt.as_torch() (or "
                                  "use `numpy2gpt run`) before anything imports torch\n")


def test_a_missing_script_or_none_is_one_line_and_status_2(tmp_path):
    missing = tmp_path / "nope.py"
    assert python("-m", "numpy2gpt", "run", str(missing)) == (
        2, "", f"error: can't open file {str(missing)!r}: no such file\n")
    status, out, err = python("-m", "numpy2gpt", "run")
    assert status == 2 and err.startswith("usage: numpy2gpt run SCRIPT.py [ARGS ...]")
    assert python("-m", "numpy2gpt", "run", "--help")[0] == 0
