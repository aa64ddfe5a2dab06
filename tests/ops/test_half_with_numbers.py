"""A float16 tensor with a Python number: PyTorch's half kernels keep the number in float32 and
round the result once, so x * 0.1 is not x * float16(0.1) (one ulp off in a third of the
elements) and x * 1e5 is not x * inf; values, gradients and no NumPy warning."""

import warnings

import numpy as np
import pytest
from torch_compare import both

X = np.random.default_rng(0).standard_normal(2000).astype(np.float16)
NUMBERS = [0.1, -2.5e-3, 3, 1e-5, 70000, 1e5, 0.0]
OPS = {
    "x * c": lambda x, c: x * c,
    "c * x": lambda x, c: c * x,
    "x / c": lambda x, c: x / c,
    "mul": lambda x, c: x.mul(c),
    "div": lambda x, c: x.div(c),
    "x + c": lambda x, c: x + c,
    "c - x": lambda x, c: c - x,
    "x < c": lambda x, c: x < c,
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("number", NUMBERS)
def test_half_op_number_equals_pytorch_values_and_gradients(op, number):
    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        y = OPS[op](x, number)
        if y.dtype == lib.float16:
            y.backward(lib.full_like(y, 0.3))
        return y.detach().numpy(), None if x.grad is None else x.grad.numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning where PyTorch has none
        (y, g), (ty, tg) = both(run)
    assert y.dtype == ty.dtype
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


def test_grad_fn_names_stay_pytorchs():
    x = both(lambda lib: lib.ones(2, dtype=lib.float16, requires_grad=True))
    for xx in x:
        assert type(xx * 0.5).__name__ == "Tensor"
    names = [(xx * 0.5).grad_fn.name() for xx in x], [(xx / 3).grad_fn.name() for xx in x]
    assert names[0][0] == names[0][1] == "MulBackward0"
    assert names[1][0] == names[1][1] == "DivBackward0"


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -0.5, -1, -2, 1, 0, 2.5, 1.7])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_pow_number_values_and_gradients_as_pytorch(exponent, dtype):
    """x ** c in float16 is computed in float32 and rounded once; its gradient is
    gy * (c * x ** (c - 1)) in PyTorch's order, and 0 for c = 0 even where the upstream gradient
    is NaN. Bit for bit where neither the power nor its gradient needs a pow function (c = 2, 3,
    +-1, 0); otherwise NumPy's pow (or sqrt, which rounds correctly) and PyTorch's pow may round
    differently: within 2 ulp (1 in the power, 1 more after the product)."""
    x = np.abs(X[:500]).astype(dtype) + np.asarray(0.25, dtype)
    gy = np.random.default_rng(1).standard_normal(500).astype(dtype)
    gy[0] = np.nan

    def run(lib):
        t = lib.tensor(x, requires_grad=True)
        y = t ** exponent
        y.backward(lib.tensor(gy))
        return y.detach().numpy(), t.grad.numpy()

    (y, g), (ty, tg) = both(run)
    if exponent not in (2, 3, 1, -1, 0):
        for ours, theirs in ((y, ty), (g, tg)):
            np.testing.assert_array_max_ulp(ours[1:], theirs[1:], maxulp=2)
        return
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


@pytest.mark.parametrize("op", ["mul_", "div_"])
@pytest.mark.parametrize("number", NUMBERS)
def test_half_in_place_mul_and_div_by_a_number(op, number):
    with np.errstate(divide="ignore", invalid="ignore"):
        ours, theirs = both(lambda lib: getattr(lib.tensor(X), op)(number).numpy())
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(3, dtype=lib.int8).pow(300),
    lambda lib: lib.tensor([2], dtype=lib.uint8) ** 256,
    lambda lib: lib.tensor([2], dtype=lib.int8).pow_(300),
    lambda lib: lib.tensor([1.5], dtype=lib.float16).pow(1e5),
])
def test_an_exponent_the_dtype_cannot_hold_is_pytorchs_error(call):
    from torch_compare import same_error

    same_error(call)
