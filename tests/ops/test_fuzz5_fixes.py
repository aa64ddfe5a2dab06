"""Wrong values, gradients, dtypes and errors a differential fuzzer found (each case failed on
the old code), against PyTorch or, where PyTorch's own answer is wrong, the true value."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng

NAN, INF = float("nan"), float("inf")

VALUES = {
    "pow with a 0-d exponent 0.5": lambda T: T.pow(T.tensor([-0.0, -INF, 4.0, NAN]),
                                                   T.tensor(0.5)),
    "float_power with a 0-d exponent 0.5": lambda T: T.float_power(T.tensor([-0.0, -INF]),
                                                                   T.tensor(0.5)),
    "pow_ with a 0-d exponent 0.5": lambda T: T.tensor([-0.0, -INF]).pow_(T.tensor(0.5)),
    "searchsorted with NaN last": lambda T: T.searchsorted(
        T.tensor([1.0, 2.0, 2.0, NAN]), T.tensor([NAN, 2.0, -INF, INF, 5.0])),
    "searchsorted right with NaN last": lambda T: T.searchsorted(
        T.tensor([1.0, 2.0, 2.0, NAN]), T.tensor([NAN, 2.0, -INF, INF, 5.0]), right=True),
    "searchsorted batched with NaN": lambda T: T.searchsorted(
        T.tensor([[1.0, NAN, NAN], [0.0, 1.0, 2.0]]), T.tensor([[0.5, 1.5], [NAN, 1.0]])),
    "bucketize with NaN": lambda T: T.bucketize(T.tensor([3.0, NAN]), T.tensor([NAN, 1.0, 2.0])),
    "bincount of nothing with weights": lambda T: T.bincount(
        T.tensor([], dtype=T.int64), weights=T.tensor([]), minlength=2),
    "topk of a 0-d tensor, k = 0": lambda T: T.topk(T.tensor(1.0), 0),
    "scatter multiply": lambda T: T.scatter(T.ones(3), 0, T.tensor([0, 0]),
                                            T.tensor([3.0, 2.0]), reduce="multiply"),
}


@pytest.mark.parametrize("case", VALUES)
def test_values_like_pytorch(case):
    out = []
    for lib in (ng, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = VALUES[case](lib)
        out.append([t.numpy() for t in (r if isinstance(r, tuple) else (r,))])
    for ours, theirs in zip(*out, strict=True):
        assert ours.dtype.name == theirs.dtype.name and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def test_det_gradient_of_singular_and_nearly_singular_matrices():
    """The cofactor matrix adj(A)^T, also where A is singular (PyTorch gives 0 there for n > 1,
    the true 1 for a 1x1 zero) or nearly so in float32 (the solve failed)."""
    a = ng.tensor([[[0.0]], [[2.0]]], dtype=ng.float64, requires_grad=True)
    ng.linalg.det(a).backward(ng.ones(2, dtype=ng.float64))
    np.testing.assert_array_equal(a.grad.numpy(), [[[1.0]], [[1.0]]])
    m = [[0.8319629430770874, 0.24636007845401764], [1.6639258861541748, 0.4927201569080353]]
    grads = []
    for lib in (ng, torch):
        t = lib.tensor(m, requires_grad=True)
        lib.linalg.det(t).backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    for singular, cofactors in (([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
                                ([[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]),
                                ([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],
                                 [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])):
        t = ng.tensor(singular, dtype=ng.float64, requires_grad=True)
        ng.linalg.det(t).backward()
        np.testing.assert_allclose(t.grad.numpy(), cofactors, atol=1e-12)


def test_scatter_reduce_amax_gradient_reaches_a_nan():
    """A NaN in self is the maximum where it stands: it gets the gradient (0 before; PyTorch's
    0 * inf gives NaN)."""
    x = ng.tensor([[1.0, NAN], [2.0, 3.0]], requires_grad=True)
    ng.scatter_reduce(x, 1, ng.tensor([[0], [1]]), ng.tensor([[5.0], [-1.0]]), "amax",
                      include_self=False).backward(ng.tensor([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0], [3.0, 0.0]])


ERRORS = {
    "cumsum to ints of a tensor that requires grad": lambda T: T.ones(
        3, requires_grad=True).cumsum(0, dtype=T.int64),
    "cumprod to ints": lambda T: T.ones(3, requires_grad=True).cumprod(0, dtype=T.int32),
    "sum to ints": lambda T: T.ones(3, requires_grad=True).sum(dtype=T.int64),
    "prod to ints": lambda T: T.ones(3, requires_grad=True).prod(dtype=T.int64),
    "mean to ints": lambda T: T.ones(3).mean(dtype=T.int64),
    "scatter multiply backward": lambda T: T.scatter(
        T.ones(3, requires_grad=True), 0, T.tensor([0]), T.tensor([3.0]),
        reduce="multiply").sum().backward(),
    "index_select out of range": lambda T: T.ones(3).index_select(0, T.tensor([3])),
    "index_select negative": lambda T: T.ones(3, 2).index_select(0, T.tensor([-1])),
    "index_add out of range, 1-d": lambda T: T.ones(3).index_add(0, T.tensor([3]), T.ones(1)),
    "index_add out of range, 2-d": lambda T: T.ones(3, 2).index_add(0, T.tensor([3]),
                                                                    T.ones(1, 2)),
}
SAME_TYPE = {  # PyTorch lists its overloads; numpy2gpt's one line says what is wrong
    "clamp with a tensor and a number": lambda T: T.clamp(T.ones(3), T.zeros(3), 1.0),
    "clamp_ with a number and a tensor": lambda T: T.ones(3).clamp_(0.0, T.ones(3)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_like_pytorch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(ERRORS[case])


@pytest.mark.parametrize("case", SAME_TYPE)
def test_error_types_like_pytorch(case):
    same_error(SAME_TYPE[case], same_message=False)
