"""softmax / log_softmax (fused, hand-derived backward) against PyTorch under both kernel backends,
fast against reference at the library level, and against numerical gradients; rows far below
their block's max, dtypes, and bad input. (The kernels themselves, fast against reference on odd
shapes and layouts, and `exp_rows`'s contract: tests/kernels/test_softmax.py.)"""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import RTOL, assert_close_ulps, rand

import numpy2gpt as nt
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no NumPy warnings leak
FUNCS = {"softmax": (F.softmax, torch.softmax), "log_softmax": (F.log_softmax, torch.log_softmax)}
CASES = [((5,), 0), ((5,), -1), ((3, 7), 1), ((3, 7), 0), ((3, 7), -2), ((2, 3, 4), 0),
         ((2, 3, 4), 1), ((2, 3, 4), -1), ((), 0), ((), -1), ((1, 1), 1)]


@pytest.fixture(params=K.BACKENDS)
def backend(request):
    """Run the test under each kernel backend."""
    with K.backend(request.param):
        yield request.param


def run(fn, x_arr, dtype, seed_arr, **kw):
    """fn(x) and dL/dx for L = sum(fn(x) * seed); works for numpy2gpt and torch alike."""
    lib = torch if fn.__module__.startswith("torch") else nt
    x = lib.tensor(x_arr.astype(dtype), requires_grad=True)
    y = fn(x, **kw)
    y.backward(lib.tensor(seed_arr.astype(dtype)))
    to_np = (lambda t: t.detach().numpy()) if lib is torch else (lambda t: t._data)
    return to_np(y), to_np(x.grad), y.dtype, x.grad.dtype


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim", CASES)
def test_matches_torch(name, dtype, shape, dim, backend):
    fn, tfn = FUNCS[name]
    x, g = rand(*shape, scale=3.0), rand(*shape, seed=1)
    y, gx, ydt, gdt = run(fn, x, dtype, g, dim=dim)
    ty, tgx, _, _ = run(tfn, x, dtype, g, dim=dim)
    assert y.shape == ty.shape and ydt == dtype and gdt == dtype  # float32 stays float32
    assert_close_ulps(y, ty, RTOL[dtype])
    assert_close_ulps(gx, tgx, RTOL[dtype])


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape,dim", CASES)
def test_fast_equals_reference(name, shape, dim):
    fn = FUNCS[name][0]
    x, g = rand(*shape, scale=3.0), rand(*shape, seed=1)
    with K.backend("fast"):
        y, gx, _, _ = run(fn, x, np.float64, g, dim=dim)
    with K.backend("reference"):
        yc, gxc, _, _ = run(fn, x, np.float64, g, dim=dim)
    np.testing.assert_allclose(y, yc, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gx, gxc, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape,dim", [((4,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 2), -2)])
def test_gradcheck(name, shape, dim):
    fn = FUNCS[name][0]
    x = nt.tensor(rand(*shape, seed=3), requires_grad=True)
    assert gradcheck(lambda t: fn(t, dim), (x,))


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_far_below_the_block_max(name, dtype, backend):
    """Rows whose max sits far below the block's max would underflow with the block shift; they
    must take the exact row-max path (else they would come out as 0/0 = NaN)."""
    fn, tfn = FUNCS[name]
    x = rand(4, 3, 6, scale=2.0)
    x[0, 1] -= 500.0  # exp(-500) underflows in float32 and is tiny in float64
    x[2, 2] -= 2000.0  # underflows in float64 too
    x[3] += 300.0
    g = rand(4, 3, 6, seed=1)
    y, gx, _, _ = run(fn, x, dtype, g, dim=-1)
    ty, tgx, _, _ = run(tfn, x, dtype, g, dim=-1)
    assert np.isfinite(y).all() and np.isfinite(gx).all()
    assert_close_ulps(y, ty, RTOL[dtype])
    assert_close_ulps(gx, tgx, RTOL[dtype])


@pytest.mark.parametrize("name", FUNCS)
def test_infinities_and_nan_like_torch(name, backend):
    fn, tfn = FUNCS[name]
    x = rand(5, 4)
    x[0] = -np.inf  # all -inf: NaN, like PyTorch
    x[1, 2] = -np.inf  # one -inf: exp gives 0 there (log_softmax: -inf)
    x[2, 0] = np.inf  # +inf: NaN row
    x[3, 1] = np.nan
    g = rand(5, 4, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarnings leak out
        y, gx, _, _ = run(fn, x, np.float64, g, dim=1)
    ty, tgx, _, _ = run(tfn, x, np.float64, g, dim=1)
    np.testing.assert_allclose(y, ty, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(gx[[1, 4]], tgx[[1, 4]], rtol=1e-10)  # the finite rows
    assert np.isnan(y[[0, 2, 3]]).all()


def test_large_logits_are_stable():
    x = rand(4, 6, scale=1e4).astype(np.float32)
    y = F.softmax(nt.tensor(x), -1)._data
    np.testing.assert_allclose(y, torch.softmax(torch.tensor(x), -1).numpy(), rtol=1e-5,
                               atol=1e-30)
    ly = F.log_softmax(nt.tensor(x), -1)._data
    np.testing.assert_allclose(ly, torch.log_softmax(torch.tensor(x), -1).numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", FUNCS)
def test_dtype_argument(name):
    fn, tfn = FUNCS[name]
    x = rand(3, 4).astype(np.float32)
    a = nt.tensor(x, requires_grad=True)
    y = fn(a, 1, dtype=nt.float64)
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32  # the gradient comes back in the input's dtype
    ty = tfn(torch.tensor(x), 1, dtype=torch.float64)
    np.testing.assert_allclose(y._data, ty.numpy(), rtol=1e-12)
    yi = fn(nt.tensor([1, 2, 3]), 0, dtype=nt.float32)  # integers need an explicit dtype
    assert yi.dtype == np.float32


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_dim_warns_like_torch(name, shape):
    fn = FUNCS[name][0]
    x = rand(*shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = fn(nt.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = getattr(torch.nn.functional, name)(torch.tensor(x))
    np.testing.assert_allclose(y._data, ty.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", FUNCS)
def test_bad_input(name):
    fn = FUNCS[name][0]
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-2, 1\], but got 2\)"):
        fn(nt.randn(2, 3), 2)
    with pytest.raises(NotImplementedError, match="kernel_impl\" not implemented for 'Long'"):
        fn(nt.tensor([1, 2]), 0)
    with pytest.raises(TypeError, match="'dim' must be int"):
        fn(nt.randn(2, 3), 1.0)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dim", [0, 1])
def test_empty(name, dim):
    fn, tfn = FUNCS[name]
    a = nt.zeros(3, 0, requires_grad=True)
    y = fn(a, dim)
    assert y.shape == (3, 0) and tfn(torch.zeros(3, 0), dim).shape == (3, 0)
    y.sum().backward()
    assert a.grad.shape == (3, 0)


def test_softmax_output_modified_in_place_is_detected():
    a = nt.tensor(rand(2, 3), requires_grad=True)
    y = F.softmax(a, -1)
    with nt.no_grad():
        y.mul_(2.0)  # backward needs y itself: the edit must be noticed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("name", FUNCS)
def test_retain_graph_twice_gives_the_same_gradient(name):
    fn = FUNCS[name][0]
    a = nt.tensor(rand(3, 5), requires_grad=True)
    y = fn(a, 1)
    w = nt.tensor(rand(3, 5, seed=2))
    (y * w).sum().backward(retain_graph=True)
    first = a.grad._data.copy()
    (y * w).sum().backward()
    np.testing.assert_allclose(a.grad._data, 2 * first, rtol=1e-14)


@pytest.mark.parametrize("name", FUNCS)
def test_composed_and_fused_are_twice_differentiable(name):
    fn, tfn = FUNCS[name]

    def composed(x, dim):  # the same math from primitive ops, each with its own backward
        z = x - x.max(dim, keepdim=True).values.detach()  # a constant shift changes nothing
        return z.exp() / z.exp().sum(dim, keepdim=True) if name == "softmax" else \
            z - z.exp().sum(dim, keepdim=True).log()

    x, w = rand(3, 4), rand(3, 4, seed=5)
    a = nt.tensor(x, requires_grad=True)
    (g,) = nt.autograd.grad((composed(a, 1) * nt.tensor(w)).sum(), a, create_graph=True)
    (gg,) = nt.autograd.grad((g * g).sum(), a)
    t = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((tfn(t, 1) * torch.tensor(w)).sum(), t, create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(gg._data, tgg.numpy(), rtol=1e-8, atol=1e-12)
    (g,) = nt.autograd.grad((fn(a, 1) * nt.tensor(w)).sum(), a, create_graph=True)
    (gg,) = nt.autograd.grad((g * g).sum(), a)  # the fused op's, through its `composed`
    np.testing.assert_allclose(gg._data, tgg.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_contiguous_input(name, dtype, backend):
    fn, tfn = FUNCS[name]
    x, g = rand(4, 3, 5, scale=2.0).astype(dtype), rand(3, 4, 5, seed=1).astype(dtype)
    a, t = nt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = fn(a.transpose(0, 1), -1), tfn(t.transpose(0, 1), -1)
    y.backward(nt.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close_ulps(y._data, ty.detach().numpy(), RTOL[dtype])
    assert_close_ulps(a.grad._data, t.grad.numpy(), RTOL[dtype])
