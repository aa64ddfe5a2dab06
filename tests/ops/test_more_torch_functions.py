"""torch.diagflat, gradient, index_reduce, unravel_index, nonzero_static, poisson and binomial
against PyTorch: values, dtypes, gradients (gradcheck in float64), seeded draws and errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng

RNG = np.random.default_rng(0)
F5 = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
COORDS = np.array([0.0, 1.0, 1.5, 3.5, 4.0])
M = RNG.standard_normal((4, 5))

CASES = {
    "diagflat": lambda T: T.diagflat(T.tensor([[1, 2], [3, 4]]), 1),
    "diagflat 0-d": lambda T: T.diagflat(T.tensor(3.0)),
    "diagflat method": lambda T: T.tensor([1.0, 2.0]).diagflat(-1),
    "gradient": lambda T: T.gradient(T.tensor(F5)),
    "gradient float32": lambda T: T.gradient(T.tensor(F5, dtype=T.float32), spacing=2.0),
    "gradient edge_order=2": lambda T: T.gradient(T.tensor(F5), spacing=2.0, edge_order=2),
    "gradient of a matrix": lambda T: T.gradient(T.tensor(M)),
    "gradient dims and spacings": lambda T: T.gradient(T.tensor(M), spacing=[0.5, 3.0],
                                                       dim=(1, 0)),
    "gradient coordinates": lambda T: T.gradient(T.tensor(F5), spacing=(T.tensor(COORDS),)),
    "gradient coordinates edge_order=2": lambda T: T.gradient(
        T.tensor(F5), spacing=(T.tensor(COORDS),), edge_order=2),
    "gradient of ints": lambda T: T.gradient(T.tensor([1, 4, 9, 16])),
    "index_reduce mean": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0, 4, 2, 0]), T.arange(12.0).reshape(4, 3), "mean"),
    "index_reduce amax, without self": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0, 4, 2, 0]), T.arange(12.0).reshape(4, 3), "amax", include_self=False),
    "index_reduce amin dim 1": lambda T: T.ones(5, 3).index_reduce(
        1, T.tensor([0, 2, 0, 1]), T.arange(20.0).reshape(5, 4), "amin"),
    "index_reduce_ prod": lambda T: T.ones(5, 3).index_reduce_(
        1, T.tensor([0, 2, 0, 1]), T.arange(20.0).reshape(5, 4), "prod", include_self=False),
    "index_reduce of ints": lambda T: T.ones(5, dtype=T.int64).index_reduce(
        0, T.tensor([0, 0, 1]), T.tensor([3, 4, 5]), "mean"),
    "torch.index_reduce": lambda T: T.index_reduce(T.zeros(3), 0, T.tensor([1, 1]),
                                                   T.tensor([2.0, 5.0]), "amax"),
    "unravel_index": lambda T: T.unravel_index(T.tensor([-1, 5, 3]), (2, 3)),
    "unravel_index of a matrix": lambda T: T.unravel_index(T.tensor([[4, 1]]), T.Size([2, 3])),
    "unravel_index 0-d": lambda T: T.unravel_index(T.tensor(4), (2, 3)),
    "nonzero_static filled": lambda T: T.nonzero_static(T.tensor([[1, 0], [0, 2]]), size=3),
    "nonzero_static cut": lambda T: T.nonzero_static(T.tensor([1, 0, 1, 1]), size=2,
                                                     fill_value=9),
    "nonzero_static method": lambda T: T.tensor([1, 0, 3]).nonzero_static(size=1),
    "Tensor.dist": lambda T: T.tensor(M).dist(T.zeros(4, 5), 3),
    "Tensor.prelu": lambda T: T.tensor(M).prelu(T.tensor([0.25], dtype=T.float64)),
    "Tensor.hardshrink": lambda T: T.tensor(M).hardshrink(0.7),
    "adjoint": lambda T: T.adjoint(T.tensor(M)),
    "Tensor.adjoint of a batch": lambda T: T.tensor(M).reshape(2, 2, 5).adjoint(),
    "ger": lambda T: T.ger(T.tensor(F5), T.tensor(COORDS[:3])),
    "Tensor.ger": lambda T: T.tensor(F5).ger(T.tensor(COORDS[:3])),
    "sgn_": lambda T: T.tensor([-2.0, 0.0, 3.0]).sgn_(),
    "new_empty_strided": lambda T: T.tensor(M).new_empty_strided((2, 3), (1, 2)).fill_(1),
}


@pytest.mark.parametrize("case", CASES)
def test_like_torch(case):
    out = []
    for lib in (ng, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # index_reduce's "in beta" warning
            r = CASES[case](lib)
        out.append(r if isinstance(r, tuple) else (r,))
    assert len(out[0]) == len(out[1])
    for ours, theirs in zip(*out, strict=True):
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda T, x: T.gradient(x, spacing=0.7, edge_order=2)[0],
    lambda T, x: T.gradient(x, spacing=(T.tensor(COORDS[:4]), T.tensor(COORDS)))[1],
    lambda T, x: T.diagflat(x, 2),
    lambda T, x: T.ones(3, 5, dtype=T.float64).index_reduce(0, T.tensor([2, 0, 2, 1]), x, "prod"),
    lambda T, x: T.ones(3, 5, dtype=T.float64).index_reduce(0, T.tensor([2, 0, 2, 1]), x, "mean",
                                                            include_self=False),
], ids=["gradient", "gradient coordinates", "diagflat", "index_reduce prod",
        "index_reduce mean"])
def test_gradients(fn):
    grads = []
    for lib in (ng, torch):
        x = lib.tensor(M, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = fn(lib, x)
        y.backward(lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape))))
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ng.autograd.gradcheck(lambda t: fn(ng, t), (ng.tensor(M, requires_grad=True),))


def test_poisson_and_binomial_draw_pytorchs_numbers():
    out = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        rates = lib.tensor([1.0, 2.0, 4.0, 7.0, 30.0, 0.5, 0.0], requires_grad=True)
        p = lib.poisson(rates)
        p.sum().backward()
        b = lib.binomial(lib.tensor([10.0, 5.0, 100.0, 3.0]), lib.tensor([0.5, 0.2, 0.7, 0.9]))
        out.append((p.tolist(), p.grad_fn.name(), rates.grad.tolist(), b.tolist(),
                    b.requires_grad, lib.rand(1).item()))
    assert out[0] == out[1]


ERRORS = {
    "adjoint of a vector": lambda T: T.ones(3).adjoint(),
    "index_reduce sum": lambda T: T.ones(5, 3).index_reduce(0, T.tensor([0, 4]), T.ones(2, 3),
                                                            "sum"),
    "index_reduce float index": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0.0, 4.0]), T.ones(2, 3), "mean"),
    "index_reduce index out of range": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0, 5]), T.ones(2, 3), "mean"),
    "index_reduce negative index": lambda T: T.ones(5).index_reduce(
        0, T.tensor([-1]), T.ones(1), "mean"),
    "index_reduce count": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0, 4, 1]), T.ones(2, 3), "mean"),
    "index_reduce dtypes": lambda T: T.ones(5, 3).index_reduce(
        0, T.tensor([0, 4]), T.ones(2, 3, dtype=T.float64), "mean"),
    "unravel_index of floats": lambda T: T.unravel_index(T.tensor([1.0]), (2, 3)),
    "unravel_index negative shape": lambda T: T.unravel_index(T.tensor([4]), (2, -3)),
    "gradient edge_order 3": lambda T: T.gradient(T.ones(5), edge_order=3),
    "gradient too short": lambda T: T.gradient(T.ones(2), edge_order=2),
    "binomial of int counts": lambda T: T.binomial(T.tensor([10, 5]), T.tensor([0.5, 0.2])),
    "poisson of ints": lambda T: T.poisson(T.tensor([1, 2])),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # (PyTorch's message names its dtype "torch.float32", numpy2gpt's "numpy2gpt.float32")
        same_error(ERRORS[case], same_message=case != "unravel_index of floats")


INF = float("inf")
SPECIAL = {
    "log_ndtr of a 0-d tensor far left": lambda T: T.special.log_ndtr(
        T.tensor(-10.0, dtype=T.float64)),
    "log_ndtr of a 0-d tensor": lambda T: T.special.log_ndtr(T.tensor(-3.0, dtype=T.float64)),
    "polygamma at poles and -inf": lambda T: T.special.polygamma(
        2, T.tensor([-INF, -1e10, -2.0, 0.5, -0.5], dtype=T.float64)),
    "gammainc with a = inf": lambda T: T.special.gammainc(
        T.tensor([INF, INF, INF, INF, 2.0]), T.tensor([2.0, 0.0, INF, -1.0, INF])),
    "gammaincc with a = inf": lambda T: T.special.gammaincc(
        T.tensor([INF, INF, INF, INF, 2.0]), T.tensor([2.0, 0.0, INF, -1.0, INF])),
}


@pytest.mark.parametrize("case", SPECIAL)
def test_special_functions_at_their_edges(case):
    """Values PyTorch gives where numpy2gpt gave others (a 0-d log_ndtr wrote into a copy) or
    never returned (polygamma's series at a pole)."""
    ours, theirs = SPECIAL[case](ng), SPECIAL[case](torch)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, equal_nan=True)


def test_log_ndtr_gradient_of_a_0d_tensor():
    grads = []
    for lib in (ng, torch):
        x = lib.tensor(-10.0, dtype=lib.float64, requires_grad=True)
        lib.special.log_ndtr(x).backward()
        grads.append(x.grad.item())
    assert grads[0] == pytest.approx(grads[1], rel=1e-12)
