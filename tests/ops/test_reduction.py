"""sum and mean against PyTorch: all dims, one dim, tuples of dims, negative dims, keepdim,
0-d tensors, dtype rules; gradients, gradcheck, second order and errors."""

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch, run_gradcheck

import numpy2gpt as ng

X = np.random.default_rng(0).standard_normal((2, 3, 4))
DIMS = [None, 0, 1, -1, (0, 2), (-1, -3), (1,), (0, 1, 2), ()]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reduction_matches_torch(name, dim, keepdim):
    def run(lib):
        def f(t):
            if dim is None:
                return getattr(lib, name)(t) if not keepdim else getattr(t, name)(
                    dim=tuple(range(t.ndim)), keepdim=True)
            return getattr(lib, name)(t, dim=dim, keepdim=keepdim)
        return f

    check_against_torch(run(ng), run(torch), [X])
    check_against_torch(run(ng), run(torch), [X.astype(np.float32)])


@pytest.mark.parametrize("dim", [None, 1, (0, -1)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reduction_gradcheck_and_method_form(name, dim):
    assert run_gradcheck(lambda t: getattr(t, name)(dim), [X])
    assert run_gradcheck(lambda t: getattr(t, name)(dim, keepdim=True), [X])


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reduction_second_order(name):
    """A reduction inside a nonlinear function, differentiated twice."""
    x, tx = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    (g,) = ng.autograd.grad((getattr(x, name)(1) ** 3).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((getattr(tx, name)(1) ** 3).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ng.autograd.grad(g.sum(), x)[0].data,
                               torch.autograd.grad(tg.sum(), tx)[0].numpy(), rtol=1e-8)


@pytest.mark.parametrize("dim", [0, -1, None])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_zero_dim_tensor_reductions(name, dim):
    check_against_torch(lambda t: getattr(t, name)(dim) if dim is not None else getattr(t, name)(),
                        lambda t: getattr(t, name)(dim) if dim is not None else getattr(t, name)(),
                        [np.array(2.5)])
    check_against_torch(lambda t: getattr(t, name)(0, keepdim=True),
                        lambda t: getattr(t, name)(0, keepdim=True), [np.array(2.5)])


def test_integer_sum_is_int64_and_mean_rejects_integers():
    for dtype in (np.int32, np.int64, np.bool_):
        ours = ng.tensor(np.array([1, 2, 3]).astype(dtype)).sum()
        theirs = torch.tensor(np.array([1, 2, 3]).astype(dtype)).sum()
        assert ours.dtype == ng.int64 and theirs.dtype == torch.int64
        assert ours.item() == theirs.item()
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        ng.tensor([1, 2]).mean()
    assert ng.tensor([1, 2]).mean(dtype=ng.float64).item() == 1.5
    assert ng.tensor([1.0, 2.0]).sum(dtype=ng.float64).dtype == ng.float64


SUM_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _sum_result(lib, x_dtype, dim, dtype):
    x = lib.tensor([[100, 100, 1], [0, 120, 7]], dtype=getattr(lib, x_dtype))
    r = x.sum(*([] if dim is None else [dim]), dtype=dtype and getattr(lib, dtype))
    return str(r.dtype).split(".")[-1], r.tolist()


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("x_dtype", SUM_DTYPES)
def test_sum_with_dtype_sums_in_that_dtype(x_dtype, dim):
    """sum(dtype=) casts and sums in that dtype: an int8 sum wraps around (100 + 100 = -56),
    where NumPy alone would widen to int64."""
    for dtype in SUM_DTYPES + [None]:
        assert _sum_result(ng, x_dtype, dim, dtype) == _sum_result(torch, x_dtype, dim, dtype)
    check_against_torch(lambda t: t.sum(dim, dtype=ng.float64),
                        lambda t: t.sum(dim, dtype=torch.float64), [X[0].astype(np.float32)])


def test_reduction_dim_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-3, 2\], but got 3\)"):
        ng.zeros(2, 3, 4).sum(3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.zeros(2, 3).mean(-3)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        ng.zeros(2, 3).sum((0, -2))


@pytest.mark.parametrize("call,name", [
    (lambda t: t.sum(), "SumBackward0"), (lambda t: t.sum(0), "SumBackward1"),
    (lambda t: t.mean(), "MeanBackward0"), (lambda t: t.mean((0, 1)), "MeanBackward1"),
])
def test_grad_fn_names(call, name):
    assert repr(call(ng.zeros(2, 3, requires_grad=True)).grad_fn) == f"<{name}>"
    assert type(call(torch.zeros(2, 3, requires_grad=True)).grad_fn).__name__ == name
