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
