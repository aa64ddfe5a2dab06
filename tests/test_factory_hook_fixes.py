"""Small differences from PyTorch a differential fuzzer found: errors for ragged nested lists,
eye with a negative size, from_numpy of a list, set_default_dtype of a non-dtype, one-element
tensors as list indices, grad() with no inputs, what a post-accumulate-grad hook returns, and
relu's backward reading its output (not its input) as PyTorch's does."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng

EXPRESSIONS = [
    "T.tensor([[1, 2], 3])", "T.tensor([[1, 2], [3]])", "T.tensor([[[1], [2]], [[3], [4, 5]]])",
    "T.tensor([[1, 2], (3,)])", "T.eye(2, -1)", "T.eye(-1, 2)", "T.set_default_dtype(float)",
    "T.from_numpy([1, 2])", "[10, 20, 30][T.tensor([1])]", "[10, 20, 30][T.tensor(True)]",
    "[10, 20, 30][T.tensor([[2]])]", "[10, 20, 30][T.tensor(1.0)]",
    "T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(), [])",
]


def _outcome(lib, expr):
    try:
        return repr(eval(expr, {"T": lib}))
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_same_result_or_error(expr):
    assert _outcome(ng, expr) == _outcome(torch, expr)


@pytest.mark.parametrize("returned", ["p.grad.mul_(0.5)", "5", "None"])
def test_a_post_accumulate_grad_hook_must_return_none(returned):
    def run(lib):
        p = lib.ones(2, requires_grad=True)
        p.register_post_accumulate_grad_hook(eval("lambda p: " + returned))
        try:
            (p * 3).sum().backward()
            error = None
        except Exception as e:  # noqa: BLE001
            error = type(e).__name__, str(e)
        return error, p.grad.tolist()

    assert run(ng) == run(torch)


def test_relu_saves_its_output_not_its_input():
    def run(lib, edit):
        x = lib.tensor([0.7, -1.3, 2.1, -0.4, 0.0, float("nan")], requires_grad=True)
        h = x * 1
        y = lib.nn.functional.relu(h)
        (h if edit == "input" else y).add_(0.5)
        try:
            y.sum().backward()
        except RuntimeError as e:
            return str(e).split(" Hint")[0]  # (numpy2gpt's hint is its own)
        return x.grad.tolist()

    for edit in ("input", "output"):
        ours, theirs = run(ng, edit), run(torch, edit)
        assert str(ours).replace("numpy2gpt", "torch") == str(theirs)


def test_a_dtype_change_gives_buffers_new_tensors_and_keeps_parameters():
    def run(lib):
        bn = lib.nn.BatchNorm1d(3)
        old_buffer, weight = bn.running_mean, bn.weight
        bn.double()
        return (str(old_buffer.dtype), str(bn.running_mean.dtype), bn.weight is weight,
                str(bn.weight.dtype), str(bn.num_batches_tracked.dtype))

    assert [s.replace("torch.", "") if isinstance(s, str) else s for s in run(torch)] == \
        [s.replace("numpy2gpt.", "") if isinstance(s, str) else s for s in run(ng)]


@pytest.mark.parametrize("value", ["T.ones(2)", "T.ones(3, dtype=T.float64)", "5",
                                   "T.ones(3, dtype=T.int64)", "T.ones(2, dtype=T.uint8)"])
def test_assigning_a_wrong_grad_gives_pytorchs_error(value):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        try:
            x.grad = eval(value, {"T": lib})
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)

    assert run(ng) == run(torch)


def test_grad_and_backward_take_any_iterable_of_tensors():
    def run(lib):
        lin = lib.nn.Linear(2, 1)
        loss = lin(lib.ones(1, 2)).sum()
        grads = lib.autograd.grad(loss, lin.parameters(), retain_graph=True)
        again = lib.autograd.grad(loss, dict(lin.named_parameters()).values(), retain_graph=True)
        lib.autograd.backward(loss, inputs=lin.parameters())
        return [g.tolist() for g in grads + again] + [lin.bias.grad.tolist()]

    torch.manual_seed(0)
    ng.manual_seed(0)
    assert run(ng) == run(torch)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_a_number_over_a_tensor_is_pytorchs_reciprocal_times_the_number(dtype):
    x = np.random.default_rng(0).standard_normal(2000).astype(dtype)
    for number in (3, 2.5, -1):
        ours = (number / ng.tensor(x)).numpy()
        theirs = (number / torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("expr", ["3 / h", "T.lerp(h, T.ones(4), 0.3)",
                                  "T.lerp(h, T.ones(4), T.full((4,), 0.3))"])
def test_editing_an_input_the_backward_does_not_read_is_no_error(expr):
    def run(lib):
        x = lib.tensor([0.7, -1.3, 2.1, -0.4], requires_grad=True)
        h = x * 1
        y = eval(expr, {"T": lib, "h": h})
        h.add_(0.5)
        y.sum().backward()
        return x.grad.tolist()

    np.testing.assert_allclose(run(ng), run(torch), rtol=1e-6)


def test_sigmoid_is_pytorchs_formula():
    """1 / (1 + exp(-x)) (float16 in float32) and gy (1 - y) y: float16 values and gradients are
    PyTorch's to the bit (float32 and float64 differ only where NumPy's exp does)."""
    x = np.random.default_rng(0).standard_normal(3000) * 4
    x[:3] = [-100.0, 100.0, float("nan")]
    g = np.random.default_rng(1).standard_normal(3000)

    def run(lib):
        t = lib.tensor(x, dtype=lib.float16, requires_grad=True)
        y = lib.sigmoid(t)
        y.backward(lib.tensor(g, dtype=lib.float16))
        return y.detach().numpy(), t.grad.numpy()

    for ours, theirs in zip(run(ng), run(torch)):
        np.testing.assert_array_equal(ours, theirs)
    for dtype in ("float32", "float64"):
        ours = ng.sigmoid(ng.tensor(x, dtype=getattr(ng, dtype))).numpy()
        theirs = torch.sigmoid(torch.tensor(x, dtype=getattr(torch, dtype))).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)
    assert ng.autograd.gradgradcheck(ng.sigmoid, (ng.tensor(x[3:20], requires_grad=True),))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_lerp_and_hardswish_give_pytorchs_bits(dtype):
    """lerp is one fused multiply-add per branch, hardswish x * relu6(x + 3) / 6 (float16 in
    float32, and its gradient too), as PyTorch's kernels compute them."""
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal(2000), rng.standard_normal(2000), rng.uniform(-1, 2, 2000)
    x[:3] = [np.inf, 3.0, -3.0]  # (not NaN: PyTorch's hardswish gradient there depends on
    # whether the element falls in a SIMD vector, NaN, or the scalar tail, the upstream gradient)

    def run(lib):
        d = getattr(lib, dtype)
        t = lib.tensor(x, dtype=d, requires_grad=True)
        h = lib.nn.functional.hardswish(t)
        h.backward(lib.tensor(y, dtype=d))
        return [lib.lerp(lib.tensor(x, dtype=d), lib.tensor(y, dtype=d), weight).numpy()
                for weight in (0.3, -0.7, lib.tensor(w, dtype=d))] + [h.detach().numpy(),
                                                                     t.grad.numpy()]

    for ours, theirs in zip(run(ng), run(torch)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("expr", ["F.softmax(h, 0) * T.arange(4.)",
                                  "F.log_softmax(h, 0) * T.arange(4.)",
                                  "F.cross_entropy(h[None], T.tensor([1]))"])
def test_softmax_and_cross_entropy_do_not_read_their_input_in_backward(expr):
    def run(lib):
        x = lib.tensor([0.7, -1.3, 2.1, -0.4], requires_grad=True)
        h = x * 1
        y = eval(expr, {"T": lib, "F": lib.nn.functional, "h": h})
        h.add_(0.5)  # PyTorch saves the results, so this edit is no error
        y.sum().backward()
        return x.grad.tolist()

    np.testing.assert_allclose(run(ng), run(torch), rtol=1e-6)


def test_a_lazy_norm_cast_before_its_first_forward_still_materialises():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.LazyBatchNorm2d().to(lib.float64)
        y = m(lib.randn(3, 2, 2, 2, dtype=lib.float64))
        return str(y.dtype).split(".")[-1], str(m.running_mean.dtype).split(".")[-1], \
            m.running_mean.numpy()

    ours, theirs = run(ng), run(torch)
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_float_of_a_tensor_that_requires_grad_warns_once_per_process_as_pytorch():
    import subprocess
    import sys

    program = """if True:
        import warnings, {lib} as T
        warnings.simplefilter("always")
        y = T.tensor(2.5, requires_grad=True) * 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.item(); int(y); f"{{y:.3f}}"
            with T.no_grad():
                float(y)
            float(y); float(y)
        print(len(caught))"""
    counts = [subprocess.run([sys.executable, "-c", program.format(lib=lib)],
                             capture_output=True, text=True, check=True).stdout.strip()
              for lib in ("numpy2gpt", "torch")]
    assert counts[0] == counts[1] == "1"
