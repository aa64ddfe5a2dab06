"""exponential_, cauchy_, geometric_, log_normal_, bernoulli_ and bernoulli: PyTorch's values for
a seed (and the generator left where PyTorch leaves it), its dtypes, gradients and errors."""

import numpy as np
import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng

FILLS = [("exponential_", (2.0,)), ("exponential_", ()), ("cauchy_", (1.0, 0.5)), ("cauchy_", ()),
         ("geometric_", (0.3,)), ("log_normal_", (0.5, 0.25)), ("log_normal_", ())]


@pytest.mark.parametrize("shape", [(5,), (4, 9), (40,)])  # fewer and more than 16 values
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", FILLS)
def test_fills_give_torchs_values_for_a_seed(name, args, dtype, shape):
    out = []
    for lib in (ng, torch):
        lib.manual_seed(3)
        x = getattr(lib.zeros(*shape, dtype=getattr(lib, dtype)), name)(*args)
        out.append((x.numpy().copy(), lib.rand(2).numpy()))  # and the generator's next draws
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_of_probabilities_is_torchs_and_has_a_zero_gradient(dtype):
    out = []
    for lib in (ng, torch):
        lib.manual_seed(5)
        p = lib.rand(7, 3, dtype=getattr(lib, dtype), requires_grad=True)
        b = lib.bernoulli(p)
        b.sum().backward()
        m = lib.zeros(7, 3, dtype=lib.int64).bernoulli_(p.detach())
        out.append([b.detach().numpy(), p.grad.numpy(), m.numpy(), p.detach().bernoulli().numpy(),
                    str(b.dtype).split(".")[-1], b.grad_fn.name()])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_bernoulli_with_a_number_and_the_errors():
    ng.manual_seed(0)
    draws = ng.empty(100_000).bernoulli_(0.3).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.01
    assert ng.bernoulli(ng.zeros(4, 4), 0.25).shape == (4, 4)
    for call in (lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(),
                 lambda lib: lib.zeros(3).exponential_(0),
                 lambda lib: lib.zeros(3, dtype=lib.int64).cauchy_(),
                 lambda lib: lib.zeros(3).cauchy_(0, -1),
                 lambda lib: lib.zeros(3).geometric_(1.5),
                 lambda lib: lib.zeros(3).log_normal_(0, 0),
                 lambda lib: lib.zeros(3, dtype=lib.int64).log_normal_(),
                 lambda lib: lib.zeros(3).bernoulli_(1.5),
                 lambda lib: lib.zeros(3).bernoulli_(lib.tensor([2.0, 0, 0])),
                 lambda lib: lib.bernoulli(lib.tensor([1, 0])),
                 lambda lib: lib.zeros(3, requires_grad=True).exponential_()):
        same_error(call)
