"""Second derivatives through the fused activations, dropout and pad (their `composed`), against
PyTorch: create_graph=True gradients, their derivatives, gradient penalties through a small MLP,
the kinks, float32, and `composed` giving the fused forward's values."""

import numpy as np
import pytest
import torch
from torch_compare import check_double_backward, rand

import numpy2gpt as ng
import numpy2gpt.nn.functional as F

TF = torch.nn.functional
SLOPE32 = float(np.float32(1 / 6))  # PyTorch's hardsigmoid slope, float32's 1/6 in float64 too


def _hardsigmoid_reference(x):
    """PyTorch's hardsigmoid derivative, 1/6 (float32's) strictly inside (-3, 3), with a second
    derivative: PyTorch's own hardsigmoid has none ("derivative for aten::hardsigmoid_backward is
    not implemented"); numpy2gpt's is 0, as for every piecewise linear op."""
    return TF.hardtanh(x + 3, 0.0, 6.0) * SLOPE32


# (name, numpy2gpt op, PyTorch op): every mode of every op with a `composed`
OPS = [
    ("gelu", F.gelu, TF.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: TF.gelu(x, approximate="tanh")),
    ("silu", F.silu, TF.silu),
    ("mish", F.mish, TF.mish),
    ("leaky_relu", F.leaky_relu, TF.leaky_relu),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("elu", F.elu, TF.elu),
    ("elu_alpha", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    ("celu", lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0)),
    ("selu", F.selu, TF.selu),
    ("hardtanh", F.hardtanh, TF.hardtanh),
    ("hardtanh_bounds", lambda x: F.hardtanh(x, -2.5, 3.0), lambda x: TF.hardtanh(x, -2.5, 3.0)),
    ("relu6", F.relu6, TF.relu6),
    ("hardswish", F.hardswish, TF.hardswish),
    ("hardsigmoid", F.hardsigmoid, _hardsigmoid_reference),
    ("softplus", F.softplus, TF.softplus),
    ("softplus_beta_threshold", lambda x: F.softplus(x, 2.0, 3.0),
     lambda x: TF.softplus(x, 2.0, 3.0)),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
]
PIECEWISE = {"leaky_relu", "leaky_relu_0.2", "hardtanh", "hardtanh_bounds", "relu6", "hardswish",
             "hardsigmoid"}
# every kink of the ops above (0, -3, 3, 6, -2.5, +-1), points near them, and +-inf
KINKS = np.array([-np.inf, -7.0, -4.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.2, 1.0, 2.9, 3.0, 4.0,
                  6.0, 7.0, np.inf])
IDS = [name for name, _, _ in OPS]


@pytest.mark.parametrize("shape", [(3, 5), (), (2, 0, 3)])
@pytest.mark.parametrize("name, fn, tfn", OPS, ids=IDS)
def test_second_derivatives_match_torch(name, fn, tfn, shape):
    check_double_backward(fn, tfn, rand(*shape, seed=1, scale=2.5))


@pytest.mark.parametrize("name, fn, tfn", OPS, ids=IDS)
def test_first_and_second_derivative_at_the_kinks(name, fn, tfn):
    """With a constant upstream gradient: the create_graph=True gradient (values, and whether it
    is still a function of x: PyTorch's is, for every op here) and its derivative, at the kinks,
    near them and at +-inf, as PyTorch gives them."""
    results = []
    for lib, f in ((ng, fn), (torch, tfn)):
        x = lib.tensor(KINKS, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        assert g.requires_grad
        w = lib.arange(len(KINKS), dtype=lib.float64)
        (gg,) = lib.autograd.grad((g * w).sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    (g, gg), (tg, tgg) = results
    # (gelu's tanh form cancels in its far tails, 1 + tanh(u) for u << 0: there both are ~1e-13)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-13, err_msg="d/dx")
    np.testing.assert_allclose(gg, tgg, rtol=1e-10, atol=1e-13, err_msg="d2/dx2")
    if name in PIECEWISE:  # zero almost everywhere; 1/3 on hardswish's middle piece
        assert np.all(gg[np.abs(KINKS) >= 3] == 0)


def test_hardsigmoid_second_derivative_is_zero_where_pytorch_has_none():
    x = ng.tensor(KINKS, requires_grad=True)
    (g,) = ng.autograd.grad(F.hardsigmoid(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), np.where(np.abs(KINKS) < 3, SLOPE32, 0.0))
    (gg,) = ng.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), np.zeros(len(KINKS)))
    tx = torch.tensor(KINKS, requires_grad=True)
    (tg,) = torch.autograd.grad(TF.hardsigmoid(tx).sum(), tx, create_graph=True)
    with pytest.raises(RuntimeError, match="hardsigmoid_backward is not implemented"):
        torch.autograd.grad(tg.sum(), tx)


def _mlp_penalty(lib, act, arrays):
    """linear -> act -> linear; the gradient penalty |d out / d x|^2 and its gradient w.r.t.
    the input and every weight (not the last bias: it does not change d out / d x). None for
    one it does not depend on (x and the first bias, when act is linear)."""
    x, w1, b1, w2, b2 = (lib.tensor(a, requires_grad=True) for a in arrays)
    out = lib.nn.functional.linear(act(lib.nn.functional.linear(x, w1, b1)), w2, b2)
    (gx,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    penalty = (gx * gx).sum()
    grads = lib.autograd.grad(penalty, (x, w1, b1, w2), allow_unused=True)
    return [None if g is None else g.numpy() for g in grads]


def _assert_same_grads(ours, theirs, rtol):
    for a, b in zip(ours, theirs, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


MLP_ARRAYS = [rand(4, 3, seed=5), rand(6, 3, seed=6), rand(6, seed=7), rand(2, 6, seed=8),
              rand(2, seed=9)]


@pytest.mark.parametrize("name, fn, tfn", OPS, ids=IDS)
def test_gradient_penalty_through_an_mlp(name, fn, tfn):
    arrays = [a * 2.0 for a in MLP_ARRAYS]  # pre-activations spread over the ops' pieces
    ours, theirs = _mlp_penalty(ng, fn, arrays), _mlp_penalty(torch, tfn, arrays)
    assert all(g is not None for g in ours[2:])  # both weights (and b1 unless act is linear)
    _assert_same_grads(ours, theirs, rtol=1e-9)


def _in_place(lib, name, *args):
    """lib's `name` activation with inplace=True, on a non-leaf copy of x."""
    op = getattr(lib.nn.functional, name)
    return lambda x: op(x * 1.0, *args, inplace=True)


IN_PLACE = [("silu",), ("mish",), ("leaky_relu", 0.2), ("elu", 0.7), ("celu", 2.0), ("selu",),
            ("hardtanh", -2.5, 3.0), ("relu6",), ("hardswish",)]


@pytest.mark.parametrize("name_args", IN_PLACE, ids=[a[0] for a in IN_PLACE])
def test_in_place_forms(name_args):
    """The node of an in-place activation saw the input's old value: its `composed` too."""
    check_double_backward(_in_place(ng, *name_args), _in_place(torch, *name_args),
                          rand(3, 5, seed=2, scale=2.5))


@pytest.mark.parametrize("name, fn, tfn", OPS, ids=IDS)
def test_float32_stays_float32_and_agrees(name, fn, tfn):
    x_arr = rand(3, 5, seed=3, scale=2.5)
    results = []
    for dtype in (ng.float32, ng.float64):
        x = ng.tensor(x_arr, dtype=dtype, requires_grad=True)
        y = fn(x)
        (g,) = ng.autograd.grad(y, x, ng.ones_like(y), create_graph=True)
        (gg,) = ng.autograd.grad((g * g).sum(), x)
        assert y.dtype == g.dtype == gg.dtype == dtype
        results.append((g.detach().numpy(), gg.numpy()))
    (g32, gg32), (g64, gg64) = results
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gg32, gg64, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype, rtol", [(ng.float64, 1e-13), (ng.float32, 2e-6)])
@pytest.mark.parametrize("name, fn, tfn", OPS, ids=IDS)
def test_composed_gives_the_fused_values(name, fn, tfn, dtype, rtol):
    x = ng.tensor(np.concatenate([KINKS, rand(40, seed=4, scale=4.0)]), dtype=dtype,
                  requires_grad=True)
    y = fn(x)
    with ng.no_grad():
        z = y.grad_fn.composed(x)
    assert z.dtype == dtype
    np.testing.assert_allclose(z.numpy(), y.detach().numpy(), rtol=rtol, atol=1e-7)


# ----- dropout: the mask forward drew ------------------------------------------------------------
def _dropout_mask(p, shape, seed):
    """The keep / (1 - p) factors numpy2gpt's dropout draws after manual_seed(seed)."""
    ng.manual_seed(seed)
    return F.dropout(ng.ones(shape, dtype=ng.float64), p).numpy()


@pytest.mark.parametrize("p", [0.3, 0.5, 1.0])
def test_dropout_second_derivatives_reuse_the_saved_mask(p):
    mask = _dropout_mask(p, (4, 5), seed=7)
    assert (p == 1.0) == (not mask.any())

    def fn(x):
        ng.manual_seed(7)
        return F.dropout(x, p)

    check_double_backward(fn, lambda x: x * torch.tensor(mask), rand(4, 5, seed=1))
    x = ng.tensor(rand(4, 5, seed=1), requires_grad=True)
    (g,) = ng.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert not g.requires_grad  # a constant, as PyTorch's: x * mask is linear in x
    np.testing.assert_array_equal(g.numpy(), mask)
    arrays = [a * 2.0 for a in MLP_ARRAYS]
    ours = _mlp_penalty(ng, fn, arrays)
    mlp_mask = _dropout_mask(p, (4, 6), seed=7)
    theirs = _mlp_penalty(torch, lambda h: h * torch.tensor(mlp_mask), arrays)
    assert ours[0] is None and ours[3] is not None  # (x * mask is linear: x has no effect)
    _assert_same_grads(ours, theirs, rtol=1e-10)


def test_dropout_float32():
    ng.manual_seed(3)
    x = ng.tensor(rand(6, seed=2), dtype=ng.float32, requires_grad=True)
    v = ng.tensor(rand(6, seed=3), dtype=ng.float32, requires_grad=True)
    (g,) = ng.autograd.grad(F.dropout(x, 0.5), x, v, create_graph=True)
    (gv,) = ng.autograd.grad(g.sum(), v)
    assert g.dtype == gv.dtype == ng.float32
    np.testing.assert_array_equal(g.detach().numpy(), v.detach().numpy() * gv.numpy())


# ----- pad ---------------------------------------------------------------------------------------
PADS = [((1, 2), 0.0), ((2, 0, 1, 3), -1.5), ((-1, 2), 0.0), ((1, -2, -1, 1), 4.0),
        ((0, 0, 2, 1, 1, 1), 2.0)]


@pytest.mark.parametrize("pad, value", PADS)
def test_pad_second_derivatives(pad, value):
    check_double_backward(lambda x: F.pad(x, pad, value=value),
                          lambda x: TF.pad(x, pad, value=value), rand(2, 3, 4, seed=1))


@pytest.mark.parametrize("pad, value", PADS)
def test_pad_gradient_penalty_and_float32(pad, value):
    """A penalty on the gradient through pad and a cube, w.r.t. the input; float32 too."""
    results = []
    for lib, dtype in ((torch, torch.float64), (ng, ng.float64), (ng, ng.float32)):
        x = lib.tensor(rand(2, 3, 4, seed=2), dtype=dtype, requires_grad=True)
        y = lib.nn.functional.pad(x, pad, value=value)
        (g,) = lib.autograd.grad((y * y * y).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        assert y.dtype == g.dtype == gg.dtype == dtype
        results.append((g.detach().numpy(), gg.numpy()))
    (tg, tgg), (g, gg), (g32, gg32) = results
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=0)
    np.testing.assert_allclose(gg, tgg, rtol=1e-12, atol=0)
    np.testing.assert_allclose(g32, tg, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gg32, tgg, rtol=1e-5, atol=1e-6)


def test_pad_composed_gives_the_fused_values():
    for dtype in (ng.float32, ng.float64):
        x = ng.tensor(rand(2, 3, 4, seed=3), dtype=dtype, requires_grad=True)
        for pad, value in PADS:
            y = F.pad(x, pad, value=value)
            with ng.no_grad():
                z = y.grad_fn.composed(x)
            assert z.dtype == dtype and z.shape == y.shape
            np.testing.assert_array_equal(z.numpy(), y.detach().numpy())
