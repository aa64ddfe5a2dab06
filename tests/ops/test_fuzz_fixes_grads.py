"""Gradients a differential fuzzer found wrong, against PyTorch: masked activation gradients
with an infinite or NaN upstream gradient (a select, not a product), in-place metadata ops
(unsqueeze_, t_, transpose_, squeeze_) on a tensor the graph already used, nextafter's gradient,
cumprod's gradient with inf in the input, and var / std / var_mean / std_mean of float32 and
float16 computed in float64."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both

import numpy2gpt as ng

inf, nan = float("inf"), float("nan")


def _grad(lib, fn, x, gy):
    """x.grad after fn(leaf x).backward(gy), both NumPy arrays."""
    leaf = lib.tensor(x, requires_grad=True)
    y = fn(lib, leaf)
    y.backward(lib.tensor(np.broadcast_to(gy, tuple(y.shape)).astype(x.dtype)))
    return leaf.grad


def _same_grad(fn, x, gy):
    ours, theirs = both(lambda lib: _grad(lib, fn, x, gy))
    assert_close(ours, theirs)


# ----- #10: masked activation gradients --------------------------------------------------------
ACTIVATIONS = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_method": lambda lib, x: x.relu(),
    "F.relu_inplace": lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -1.0, 2.0),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x, 2.0),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "clamp": lambda lib, x: lib.clamp(x, -1.0, 2.0),
}
X = [-1e30, -4.0, -3.0, -1.0, -0.5, 0.0, 0.5, 2.0, 3.0, 6.0, 7.0, nan]


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("upstream", [inf, -inf, nan, "mixed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_gradient_with_nonfinite_upstream(name, upstream, dtype):
    """Where the slope is 0 the gradient is 0 even for an inf or NaN upstream gradient (PyTorch
    selects, it does not multiply); a NaN input passes the gradient as PyTorch's kernels do."""
    x = np.array(X, dtype)
    if upstream == "mixed":
        gy = np.array([inf, -inf, nan, 1.5, -2.0, inf, nan, -inf, 3.0, inf, -1.0, inf], dtype)
    else:
        gy = np.full(len(X), upstream, dtype)
    _same_grad(ACTIVATIONS[name], x, gy)


def test_relu_gradient_0d_and_finite_values():
    _same_grad(ACTIVATIONS["relu"], np.array(-2.0, np.float32), np.array(inf, np.float32))
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    _same_grad(ACTIVATIONS["relu"], x, np.random.default_rng(1).standard_normal((3, 4)))


def test_relu_gradient_of_gradient():
    """Under create_graph the gradient (inf upstream included) is still PyTorch's, and
    differentiating it again gives PyTorch's zeros in x and the mask in the upstream gradient."""
    def run(lib):
        x = lib.tensor([-2.0, 0.0, 3.0, nan], dtype=lib.float64, requires_grad=True)
        gy = lib.tensor([inf, 2.0, -1.0, 4.0], dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.relu(x), x, gy, create_graph=True)
        w = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)
        ggx, ggy = lib.autograd.grad((gx * w).sum(), (x, gy), allow_unused=True)
        return gx, ggx, ggy

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs)


# ----- #13: in-place metadata ops on a tensor the graph already used ---------------------------
META_CASES = {
    # y's consumer saves its output only (exp): its gradient has y's shape at the time it ran
    "unsqueeze_": lambda lib, x: _meta(lib, x, lambda y: y.exp(), lambda y: y.unsqueeze_(0)),
    "transpose_": lambda lib, x: _meta(lib, x.reshape(2, 3), lambda y: y.exp(),
                                       lambda y: y.transpose_(0, 1)),
    # shape-only consumers (broadcast add, sum): they use y's shape as it was
    "add_broadcast": lambda lib, x: _meta(lib, x, lambda y: y + lib.ones(2, 6),
                                          lambda y: y.unsqueeze_(0)),
    "sum_t_": lambda lib, x: _meta(lib, x.reshape(2, 3), lambda y: y.sum(0), lambda y: y.t_()),
    "tanh_after": lambda lib, x: _meta(lib, x.reshape(1, 6), lambda y: y.exp(),
                                       lambda y: y.unsqueeze_(0).tanh_()),
}


def _meta(lib, x, consume, edit):
    y = x.sin()
    z = consume(y)
    edit(y)
    return z


@pytest.mark.parametrize("name", META_CASES)
def test_inplace_metadata_change_after_use(name):
    x = np.linspace(-1.0, 2.0, 6)
    gy = np.random.default_rng(2).standard_normal(META_CASES[name](torch, torch.tensor(x)).shape)
    _same_grad(META_CASES[name], x, gy)


def test_inplace_metadata_change_twice_through_retained_graph():
    def run(lib):
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        y = x * 1
        z = y.sum(0)
        y.t_()
        z.backward(lib.tensor([1.0, 2.0, 3.0]), retain_graph=True)
        z.backward(lib.tensor([1.0, 2.0, 3.0]))
        return x.grad

    assert_close(*both(run))


def test_inplace_metadata_change_of_a_saved_input_is_refused():
    """sin saved y: unsqueeze_ bumps y's version, so backward refuses, as in PyTorch."""
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = y.sin()
        y.unsqueeze_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


# ----- #12: nextafter ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_gradient_broadcasts_and_is_zero_where_equal(dtype):
    def run(lib):
        x = lib.tensor(np.array([[1.0, 2.0, 3.0]], dtype), requires_grad=True)
        w = lib.tensor(np.array([[0.5], [2.0]], dtype), requires_grad=True)
        y = lib.nextafter(x, w)
        y.backward(lib.tensor(np.array([[inf, 1.0, -2.0], [3.0, inf, 5.0]], dtype)))
        return y, x.grad, w.grad

    for ours, theirs in zip(*both(run)):
        assert_close(ours, theirs)


def test_nextafter_gradient_nan_and_name():
    def run(lib):
        x = lib.tensor([1.0, 2.0, nan, 1.0], requires_grad=True)
        y = lib.nextafter(x, lib.tensor([0.0, 2.0, 1.0, nan]))
        y.backward(lib.tensor([1.0, inf, 2.0, 3.0]))
        return x.grad

    assert_close(*both(run))
    y = ng.nextafter(ng.tensor([1.0], requires_grad=True), ng.tensor([2.0]))
    assert y.grad_fn.name() == type(torch.nextafter(torch.tensor([1.0], requires_grad=True),
                                                    torch.tensor([2.0])).grad_fn).__name__


# ----- #11: cumprod with inf --------------------------------------------------------------------
@pytest.mark.parametrize("values", [
    [2.0, 0.0, 3.0, inf],
    [inf],
    [0.0, 0.0, inf],
    [2.0, 0.0, 3.0, 0.0, 5.0],
    [0.0, 5.0, 2.0, 0.0, inf],
    [1.5, -2.0, 0.0, 3.0, 0.0, inf, 4.0],
    [3.0, -0.0, 2.0],
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cumprod_gradient_with_zeros_and_inf(values, dtype):
    x = np.array(values, dtype)
    gy = np.random.default_rng(3).standard_normal(len(values)).astype(dtype)
    _same_grad(lambda lib, t: t.cumprod(0), x, gy)
    _same_grad(lambda lib, t: t.cumprod(0), x, np.ones(len(values), dtype))


def test_cumprod_gradient_along_a_dim_of_size_one_and_2d():
    _same_grad(lambda lib, t: t.cumprod(1), np.array([[inf], [2.0]]), np.array([[1.0], [3.0]]))
    x = np.array([[2.0, 0.0, 3.0, inf], [1.0, 2.0, 0.0, 0.0], [0.5, 4.0, 2.0, 1.0]])
    gy = np.random.default_rng(4).standard_normal((3, 4))
    _same_grad(lambda lib, t: t.cumprod(1), x, gy)
    _same_grad(lambda lib, t: t.T.cumprod(0), x, gy.T)


# ----- #9: var / std in float64 for float32 and float16 -----------------------------------------
STAT_CASES = [
    [1e20, 1.0],
    [3e38, 3e38],
    [3e38, -3e38],
    [1e-30, 3e-30, 2e-30],
    [1e19, 2e19, 3e19, -1e19],
]


@pytest.mark.parametrize("values", STAT_CASES)
@pytest.mark.parametrize("name", ["std", "var", "std_mean", "var_mean"])
def test_var_std_do_not_overflow_in_float32(values, name):
    """float32 is computed in float64 (var and std reduced to one number: all but the mean)."""
    x = np.array(values, np.float32)
    for arg in (x, x.reshape(1, -1), x.reshape(-1, 1).repeat(2, 1), x.astype(np.float64)):
        for dim in (None, -1):
            ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(arg), dim))  # noqa: B023
            for a, b in zip(_tuple(ours), _tuple(theirs)):
                assert_close(a, b)


def test_std_float16_and_dims():
    x = np.array([[60000.0, 1.0, 3.0], [1e-4, 3e-4, 2e-4]], np.float16)
    for dim in (None, 1):
        ours, theirs = both(lambda lib: lib.std_mean(lib.tensor(x), dim))  # noqa: B023
        for a, b in zip(ours, theirs):
            assert_close(a, b)
        assert_close(*both(lambda lib: lib.var(lib.tensor(x), dim)))  # noqa: B023
    y = np.array([[1e20, 1.0], [3e38, 3e38], [1.0, 2.0]], np.float32)
    for kwargs in ({"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": (0, 1), "correction": 0}):
        for name in ("std", "var_mean"):
            ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(y), **kwargs))  # noqa: B023
            for a, b in zip(_tuple(ours), _tuple(theirs)):
                assert_close(a, b)


def _tuple(t):
    return t if isinstance(t, tuple) else (t,)


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_std_mean_var_mean_one_node_gradients(name, dtype):
    """Both outputs come from one node (PyTorch's StdMeanBackward0 / VarMeanBackward0) and each
    output's gradient flows, alone or together."""
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(dtype)
    g = np.random.default_rng(6).standard_normal((2, 3)).astype(dtype)

    def run(lib, use):
        leaf = lib.tensor(x, requires_grad=True)
        s, m = getattr(lib, name)(leaf, 1)
        assert s.grad_fn is m.grad_fn
        loss = sum((t * lib.tensor(gk)).sum() for t, gk, u in zip((s, m), g, use) if u)
        loss.backward()
        return s, m, leaf.grad, s.grad_fn

    for use in ((True, True), (True, False), (False, True)):
        ours, theirs = run(ng, use), run(torch, use)
        for a, b in zip(ours[:3], theirs[:3]):
            assert_close(a, b)
        assert ours[3].name() == type(theirs[3]).__name__
