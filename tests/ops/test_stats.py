"""var/std, prod, cumsum, logsumexp and norm against PyTorch: values and gradients over dims,
negative dims, keepdim, PyTorch's argument overloads, zeros (prod, norm), infinities
(logsumexp), empty and 0-d tensors, float32; gradcheck, double backward and errors (their
speed: benchmarks/vs_numpy.py)."""


import numpy as np
import pytest
import torch
from torch_compare import (
    assert_float32_throughout,
    both,
    check_against_torch,
    run_gradcheck,
    second_order,
)

import numpy2gpt as ng

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))
DIMS = [None, 0, -1, (0, 2), (-1, -3), [1], ()]


# ----- var / std --------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_dims(name, dim, keepdim):
    # dim=() reduces all dims; PyTorch's values agree, but its backward then divides by
    # N - correction with N = 1 (the product of no sizes) and returns inf: compare values only.
    check_grad = dim != ()
    for x in (X, X.astype(np.float32) + 10):  # an offset mean tests the accuracy of float32
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, dim,
                                                                          keepdim=keepdim)),
                            [x], check_grad=check_grad)
    if not check_grad:  # ... and ours is right
        assert run_gradcheck(lambda t: getattr(ng, name)(t, dim, keepdim=keepdim), [X[:2, :2]])


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_unbiased_and_correction_overloads(name):
    for kwargs in ({"unbiased": False}, {"unbiased": True}, {"correction": 0},
                   {"correction": 2}, {"correction": 0.5}):
        check_against_torch(*both(lambda lib, k=kwargs: lambda t: getattr(t, name)(1, **k)), [X])
        check_against_torch(*both(lambda lib, k=kwargs: lambda t: getattr(lib, name)(t, **k)),
                            [X])
    # var(x, unbiased) with unbiased positional
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, False)), [X])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, 1, True, True)), [X])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, dim=(0, 1),
                                                                      correction=0,
                                                                      keepdim=True)), [X])
    with pytest.raises(TypeError, match="either 'unbiased' or 'correction'"):
        getattr(ng, name)(ng.tensor(X), 1, unbiased=True, correction=0)
    with pytest.raises(RuntimeError, match="only support floating point"):
        getattr(ng, name)(ng.tensor([1, 2, 3]))


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch warns that dof <= 0
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_degenerate_cases(name):
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.array([1.5])])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, 1)), [np.ones((3, 1))])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, 0)),
                        [np.zeros((0, 3))])  # NaN, like PyTorch
    # a constant input: std is 0, and PyTorch's gradient there is 0 (not NaN)
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, 1)),
                        [np.full((2, 3), 2.0)])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.array(2.0)])


def test_var_std_gradcheck_and_double_backward():
    x = X[:2, :3]
    assert run_gradcheck(lambda t: ng.var(t, 1), [x])
    assert run_gradcheck(lambda t: ng.std(t, (0, 2), keepdim=True, correction=0), [x])
    second_order(*both(lambda lib: lambda t: (lib.var(t, -1) ** 2).sum()), x, rtol=1e-8)
    second_order(*both(lambda lib: lambda t: lib.std(t, 0).exp().sum()), x, rtol=1e-8)


# ----- prod -------------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, -3])
def test_prod_matches_torch(dim, keepdim):
    def f(lib):
        return (lambda t: lib.prod(t)) if dim is None else (lambda t: lib.prod(t, dim, keepdim))

    for x in (X, X.astype(np.float32)):
        check_against_torch(*both(f), [x])


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_gradient_with_zeros(dim):
    x = np.round(X[:2] * 0.7, 0) + 0.5 * (np.abs(np.round(X[:2], 0)) > 1)  # zeros and non-zeros
    x[0, 0, :] = [0.0, 2.0, 0.0, 3.0, 1.5]  # two zeros in a slice: the whole gradient is 0 there
    x[1, :, 0] = [0.0, 2.0, 1.5, -1.0]  # exactly one zero: its gradient is the product of others
    assert (x == 0).sum() > 3

    def f(lib):
        return (lambda t: lib.prod(t)) if dim is None else (lambda t: lib.prod(t, dim))

    check_against_torch(*both(f), [x])
    check_against_torch(*both(f), [x.astype(np.float32)])
    assert run_gradcheck(f(ng), [x[:, :2, :3]])


def test_prod_dtypes_double_backward_and_errors():
    check_against_torch(*both(lambda lib: lambda t: lib.prod(t, 1)), [np.arange(6).reshape(2, 3)])
    check_against_torch(*both(lambda lib: lambda t: t.prod()), [np.array([True, True])])
    check_against_torch(*both(lambda lib: lambda t: t.prod(0)), [np.array(2.5)])
    check_against_torch(*both(lambda lib: lambda t: t.prod(dtype=lib.float64)),
                        [X[0].astype(np.float32)])
    second_order(*both(lambda lib: lambda t: lib.prod(t, 1).sum()), X[:2, :3], rtol=1e-8)
    with pytest.raises(TypeError, match="'dim' must be int"):
        ng.prod(ng.tensor(X), (0, 1))
    # with a zero in the input, the first derivative is exact but a second one is refused
    x = ng.tensor(np.array([0.0, 2.0, 3.0]), requires_grad=True)
    (g,) = ng.autograd.grad(ng.prod(x), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [6.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="double backward"):
        ng.autograd.grad(g.sum(), x)


# ----- cumsum -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cumsum_matches_torch(dim):
    for x in (X, X.astype(np.float32)):
        check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, dim)), [x])
        check_against_torch(*both(lambda lib: lambda t: t.cumsum(dim=dim)), [x])
    assert run_gradcheck(lambda t: ng.cumsum(t, dim), [X[:2, :3, :2]])


def test_cumsum_long_float32_dtypes_and_double_backward():
    # PyTorch accumulates float32 in double; a float32 running sum drifts far beyond 1e-5.
    long = RNG.standard_normal(200_000).astype(np.float32)
    ours, theirs = ng.cumsum(ng.tensor(long), 0), torch.cumsum(torch.tensor(long), 0)
    assert ours.dtype == ng.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, 0)),
                        [np.arange(5, dtype=np.int32)], check_grad=False)  # int -> int64
    check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, 0)),
                        [np.array([True, False, True])], check_grad=False)
    check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, 0, dtype=lib.float64)),
                        [X[0].astype(np.float32)])
    check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, 0)), [np.array(1.5)])
    check_against_torch(*both(lambda lib: lambda t: lib.cumsum(t, 1)), [np.zeros((2, 0))])
    second_order(*both(lambda lib: lambda t: (lib.cumsum(t, 1) ** 3).sum()), X[0], rtol=1e-8)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.cumsum(ng.tensor(X), 3)
    with pytest.raises(TypeError, match="'dim' must be int"):
        ng.cumsum(ng.tensor(X), None)


# ----- logsumexp --------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, (0, 2), [1], (-1, -2, -3)], ids=str)
def test_logsumexp_matches_torch(dim, keepdim):
    for x in (X, X.astype(np.float32), X * 1000):  # x 1000: would overflow without the shift
        check_against_torch(*both(lambda lib: lambda t: lib.logsumexp(t, dim, keepdim)), [x])
    check_against_torch(*both(lambda lib: lambda t: t.logsumexp(dim, keepdim=keepdim)), [X])


def test_logsumexp_infinities_empty_ints_and_derivatives():
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0], [np.inf, 0.0, 1.0]])
    check_against_torch(*both(lambda lib: lambda t: lib.logsumexp(t, 1)), [x])  # NaN grads too
    check_against_torch(*both(lambda lib: lambda t: lib.logsumexp(t, 0)), [np.zeros((0, 3))])
    check_against_torch(*both(lambda lib: lambda t: lib.logsumexp(t, 0)), [np.arange(4)])
    check_against_torch(*both(lambda lib: lambda t: lib.logsumexp(t, 0)), [np.array(0.5)])
    assert run_gradcheck(lambda t: ng.logsumexp(t, (0, 2)), [X[:2, :2]])
    second_order(*both(lambda lib: lambda t: (lib.logsumexp(t, 1) ** 2).sum()), X[0], rtol=1e-8)


# ----- norm -------------------------------------------------------------------------------------
PS = [2, "fro", 1, 3, 0.5, 1.5, float("inf"), -float("inf"), 0, 2.5]


@pytest.mark.parametrize("p", PS, ids=str)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (-1, True), ((0, 2), False),
                                          ((0, 1), True)], ids=str)
def test_norm_matches_torch(p, dim, keepdim):
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        dim = (dim,)
    for x in (X, X.astype(np.float32)):
        check_against_torch(*both(lambda lib: lambda t: lib.norm(t, p, dim, keepdim)), [x])


@pytest.mark.parametrize("p", PS, ids=str)
def test_norm_gradient_at_zero_is_zero(p):
    x = np.round(X[0], 0)
    x[1] = 0.0  # a whole zero row: the norm is 0 there and so is PyTorch's gradient
    x[2, 2] = 2.0  # ties for the inf-norms
    check_against_torch(*both(lambda lib: lambda t: lib.norm(t, p, 1)), [x])
    check_against_torch(*both(lambda lib: lambda t: lib.norm(t, p)), [np.zeros(3)])


def test_norm_gradcheck_double_backward_and_errors():
    x = X[:2, :3]
    for p in (2, 1.5, 3, float("inf")):
        assert run_gradcheck(lambda t, p=p: ng.norm(t, p, dim=1), [x])
    second_order(*both(lambda lib: lambda t: lib.norm(t) ** 3), x, rtol=1e-8)
    second_order(*both(lambda lib: lambda t: lib.norm(t, 3, dim=1).sum()), x, rtol=1e-8)
    check_against_torch(*both(lambda lib: lambda t: t.norm(dim=1)), [x])  # the method form
    check_against_torch(*both(lambda lib: lambda t: t.norm(dtype=lib.float64)),
                        [x.astype(np.float32)])
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        ng.norm(ng.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        ng.norm(ng.zeros(0), float("inf"))
    with pytest.raises(RuntimeError, match="'nuc' is not supported"):
        ng.norm(ng.tensor(x), "nuc")
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        ng.norm(ng.tensor(X), "fro", dim=(0, 1, 2))


# ----- float32 in, float32 out -----------------------------------------------------------------
def test_float32_stays_float32():
    x = ng.tensor(X.astype(np.float32), requires_grad=True)
    outs = [ng.var(x, 1), ng.std(x), ng.prod(x, 2), ng.cumsum(x, 0), ng.logsumexp(x, 1),
            ng.norm(x), ng.norm(x, 3, dim=0), ng.norm(x, float("inf"))]
    assert_float32_throughout(x, outs)
