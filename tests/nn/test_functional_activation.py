"""gelu, silu, leaky_relu, relu, dropout, pad and mse_loss: fused == composed from
primitive ops == PyTorch, values and gradients; gradcheck; dtypes; errors."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch_compare import RTOL, check_fused

import numpy2gpt as n2g
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck
from numpy2gpt.kernels.threads import BLOCK

TF = torch.nn.functional
SHAPES = [(), (7,), (3, 5), (2, 3, 4), (2, 1, 3, 2), (0, 3)]


def _x(shape, dtype=np.float64, seed=0, scale=2.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# ----- gelu --------------------------------------------------------------------------------------
# (the fast kernels against the textbook references: tests/kernels/test_gelu.py)
@pytest.fixture(params=K.BACKENDS)
def kernels(request):
    """Run the test on each kernel backend, "reference" and "fast"."""
    with K.backend(request.param):
        yield request.param


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(kernels, shape, dtype, approximate):
    check_fused(lambda x: F.gelu(x, approximate=approximate),
                lambda x: TF.gelu(x, approximate=approximate), torch, [_x(shape, dtype)],
                RTOL[dtype])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_over_a_wide_range(kernels, approximate):
    x = np.linspace(-12, 12, 2401)  # every erf range, and both tails
    check_fused(lambda x: F.gelu(x, approximate=approximate),
                lambda x: TF.gelu(x, approximate=approximate), torch, [x], 1e-8)
    check_fused(lambda x: F.gelu(x, approximate=approximate),
                lambda x: TF.gelu(x, approximate=approximate), torch, [x.astype(np.float32)], 1e-5)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(kernels, approximate):
    t = n2g.tensor(_x((2, 3), seed=2), requires_grad=True)
    assert gradcheck(lambda x: F.gelu(x, approximate=approximate), (t,))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_on_arrays_larger_than_a_block(kernels, approximate, dtype):
    """The fused GELU works block by block (and gathers erf's large-|x| elements a block's worth
    at a time): sizes around and across the block size agree with PyTorch."""
    for n in (BLOCK - 1, BLOCK, 2 * BLOCK + 123):
        x = _x((n,), dtype, seed=n, scale=3.0)
        check_fused(lambda x: F.gelu(x, approximate=approximate),
                    lambda x: TF.gelu(x, approximate=approximate), torch, [x], RTOL[dtype])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_without_grad_saves_nothing_and_gives_the_same_values(kernels, approximate):
    """With no gradient needed (no_grad, or an input that does not require grad), forward skips
    the derivative; the values are bit-for-bit those of the differentiable path. Backward is one
    multiply by the saved derivative, so it can run twice (retain_graph)."""
    x = _x((5, 300), np.float32, seed=7)
    t = n2g.tensor(x, requires_grad=True)
    y = F.gelu(t, approximate=approximate)
    with n2g.no_grad():
        y_nograd = F.gelu(t, approximate=approximate)
    y_const = F.gelu(n2g.tensor(x), approximate=approximate)
    np.testing.assert_array_equal(y_nograd.numpy(), y.detach().numpy())
    np.testing.assert_array_equal(y_const.numpy(), y.detach().numpy())
    assert y_nograd.grad_fn is None and y_const.grad_fn is None
    assert y.grad_fn.d.dtype == np.float32  # the derivative, saved in forward
    gy = n2g.tensor(_x((5, 300), np.float32, seed=8))
    y.backward(gy, retain_graph=True)
    first = t.grad.numpy().copy()
    t.grad = None
    y.backward(gy)
    np.testing.assert_array_equal(t.grad.numpy(), first)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float16_and_small_inputs(kernels, approximate):
    """float16 is computed in float32 and returned as float16 (like PyTorch on the CPU); a
    512-element input (one token's MLP in KV-cache sampling) matches PyTorch too."""
    x16 = _x((4, 64), np.float16, seed=9)
    check_fused(lambda x: F.gelu(x, approximate=approximate),
                lambda x: TF.gelu(x, approximate=approximate), torch, [x16], 2e-3)
    check_fused(lambda x: F.gelu(x, approximate=approximate),
                lambda x: TF.gelu(x, approximate=approximate), torch,
                [_x((1, 1, 512), np.float32, seed=10)], 1e-5)


def test_gelu_float32_and_errors(kernels):
    x = n2g.randn(3, 4, requires_grad=True)
    y = F.gelu(x)
    assert all(t.grad_fn is None for t in y.grad_fn.inputs)  # one fused node
    y.sum().backward()
    assert y.dtype == x.grad.dtype == n2g.float32
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="fast")
    with pytest.raises(NotImplementedError, match="\"GeluKernelImpl\" not implemented for 'Long'"):
        F.gelu(n2g.tensor([1, 2]))


def test_gelu_float32_special_values_like_pytorch(kernels):
    """NaN, +-inf and signed zeros give gelu(x) = x * Phi(x) in IEEE arithmetic: gelu(+inf) = inf,
    gelu(-inf) = -inf * 0 = NaN, gelu(-0.) = -0. (PyTorch's float64 values), with no NumPy
    warning. PyTorch's float32 kernel gives the same except where its vectorised path depends on
    the CPU (gelu(+inf) is NaN on some CPUs, gelu(-0.) is +0. on others): there only the
    CPU-independent part is compared (a zero, of either sign)."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30], np.float32)
    t = n2g.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.gelu(t)
        y.backward(n2g.ones_like(y))
    y = y.detach().numpy()
    with np.errstate(invalid="ignore"):  # -inf * 0
        phi = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.astype(np.float64)])
        definition = (x.astype(np.float64) * phi).astype(np.float32)
    np.testing.assert_array_equal(y, definition)
    real = ~np.isnan(definition)
    np.testing.assert_array_equal(np.signbit(y[real]), np.signbit(definition[real]))

    tt = torch.tensor(x, requires_grad=True)
    ty = TF.gelu(tt)
    ty.backward(torch.ones_like(ty))
    theirs = ty.detach().numpy()
    same = [0, 2, 3, 5, 6]  # NaN, -inf, +0., +-1e-30: the same on every CPU
    np.testing.assert_array_equal(y[same], theirs[same])
    np.testing.assert_array_equal(np.signbit(y[[3, 5, 6]]), np.signbit(theirs[[3, 5, 6]]))
    assert y[4] == theirs[4] == 0.0  # -0. or +0. (CPU-dependent in PyTorch's float32)
    assert theirs[1] == np.inf or np.isnan(theirs[1])  # (likewise)
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())


# ----- silu, leaky_relu, relu --------------------------------------------------------------------
def leaky_relu_composed(x, slope):
    return n2g.relu(x) - slope * n2g.relu(-x)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_silu_and_leaky_relu_match_torch(shape, dtype):
    x = _x(shape, dtype, scale=5.0)
    check_fused(F.silu, TF.silu, torch, [x], RTOL[dtype])
    check_fused(lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), torch, [x],
                RTOL[dtype])


def test_silu_extremes_and_leaky_relu_at_zero():
    x = np.array([-800.0, -40.0, -1e-3, 0.0, 1e-3, 40.0, 800.0])
    check_fused(F.silu, TF.silu, torch, [x], 1e-8)
    check_fused(F.leaky_relu, TF.leaky_relu, torch, [np.array([-1.0, 0.0, 2.0])], 1e-8)


def test_silu_and_leaky_relu_fused_equal_composed_and_gradcheck():
    x = _x((3, 4), seed=3)
    check_fused(F.silu, lambda x: x * n2g.sigmoid(x), n2g, [x], 1e-10)
    check_fused(lambda x: F.leaky_relu(x, 0.1), lambda x: leaky_relu_composed(x, 0.1), n2g, [x],
                1e-10)
    t = n2g.tensor(x, requires_grad=True)
    assert gradcheck(F.silu, (t,))
    assert gradcheck(lambda x: F.leaky_relu(x, 0.3), (t,))
    for fn in (F.silu, F.leaky_relu):
        t32 = n2g.randn(5, requires_grad=True)
        y = fn(t32)
        y.sum().backward()
        assert y.dtype == t32.grad.dtype == n2g.float32


def test_inplace_flags():
    x = n2g.tensor([-1.0, 2.0, -3.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0, 0.0]
    assert x._version == 1
    y = n2g.tensor([-1.0, 2.0])
    assert F.leaky_relu(y, 0.5, inplace=True) is y and y.tolist() == [-0.5, 2.0]
    leaf = n2g.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        F.relu(leaf, inplace=True)
    assert F.relu(leaf).tolist() == [1.0]


# ----- dropout -----------------------------------------------------------------------------------
def test_dropout_mask_scale_and_gradient():
    x = n2g.tensor(_x((50, 40), np.float32, seed=4), requires_grad=True)
    n2g.manual_seed(7)
    y = F.dropout(x, p=0.3)
    # the mask comes from numpy2gpt's global generator, drawn as PyTorch draws it (a float64
    # uniform per element, kept below 1 - p): redraw it and compose the same op
    n2g.manual_seed(7)
    u = n2g.random.get_rng().uniform(x.shape, dtype=np.float64)
    m = (u < 0.7).astype(np.float32) / np.float32(0.7)
    composed = x * n2g.tensor(m)
    np.testing.assert_array_equal(y.detach().numpy(), composed.detach().numpy())
    gy = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    y.backward(n2g.tensor(gy))
    np.testing.assert_array_equal(x.grad.numpy(), gy * m)
    assert y.dtype == x.grad.dtype == n2g.float32
    assert abs((m == 0).mean() - 0.3) < 0.03  # about p of the elements are dropped


def test_dropout_identity_cases_and_p_one():
    x = n2g.randn(4, 5, requires_grad=True)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0) is x
    y = F.dropout(x, p=1.0)
    y.sum().backward()
    assert not y.detach().numpy().any() and not x.grad.numpy().any()
    n2g.manual_seed(3)
    a = F.dropout(n2g.ones(100), 0.5).numpy()
    n2g.manual_seed(3)
    b = F.dropout(n2g.ones(100), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0}


def test_dropout_float64_gradcheck_and_errors():
    x = n2g.tensor(_x((3, 4), seed=6), requires_grad=True)

    def seeded_dropout(x):  # the same mask at every call of the check
        n2g.manual_seed(1)
        return F.dropout(x, 0.4)

    assert gradcheck(seeded_dropout, (x,))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
            F.dropout(x, p)
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                           "output type Long$"):  # PyTorch's
        F.dropout(n2g.tensor([1, 2]))
    z = n2g.ones(1000)
    assert F.dropout(z, 0.5, inplace=True) is z and z._version == 1
    assert set(np.unique(z.numpy())) == {0.0, 2.0}


# ----- pad ---------------------------------------------------------------------------------------
def pad_composed(x, pad, value=0.0):
    """Constant pad from primitive ops: for each padded dim, a matmul with a constant 0/1
    placement matrix E (n, n + before + after) moves the input into place (crops too); the
    padding value is added where E put nothing."""
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    filled = n2g.ones(*x.shape, dtype=x.dtype)  # where the input lands
    for i, (before, after) in enumerate(pairs):
        dim = x.ndim - 1 - i
        n = x.shape[dim]
        e = np.zeros((n, n + before + after), dtype=x.dtype)
        for j in range(n):
            if 0 <= j + before < n + before + after:
                e[j, j + before] = 1.0
        e = n2g.tensor(e)
        x = n2g.transpose(n2g.transpose(x, dim, -1) @ e, dim, -1)
        filled = n2g.transpose(n2g.transpose(filled, dim, -1) @ e, dim, -1)
    return x + value * (1 - filled)


PADS = [((5,), (1, 2)), ((3, 4), (0, 1, 2, 0)), ((2, 3, 4), (1, 1)), ((2, 3, 4), (-1, 2, 1, -2)),
        ((2, 3, 4), (1, 0, 0, 1, 2, 1)), ((3, 4), (-4, 1))]


@pytest.mark.parametrize("shape,pad", PADS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [None, 1.5])
def test_pad_matches_torch(shape, pad, dtype, value):
    check_fused(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), torch,
                [_x(shape, dtype)], RTOL[dtype])


@pytest.mark.parametrize("shape,pad", PADS)
def test_pad_fused_equals_composed_and_gradcheck(shape, pad):
    x = _x(shape, seed=7)
    check_fused(lambda x: F.pad(x, pad, value=-2.0), lambda x: pad_composed(x, pad, -2.0), n2g,
                [x], 1e-10)
    t = n2g.tensor(_x(shape, seed=8), requires_grad=True)
    assert gradcheck(lambda x: F.pad(x, pad, value=0.5), (t,))


def test_pad_dtypes_and_errors():
    y = F.pad(n2g.randn(2, 3), (1, 1))
    assert y.dtype == n2g.float32 and y.shape == (2, 5)
    assert F.pad(n2g.tensor([1, 2]), (1, 0), value=7).tolist() == [7, 1, 2]
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(n2g.randn(3), (1, 2, 3))
    with pytest.raises(RuntimeError, match="padding length 4 and input of dimension 1"):
        F.pad(n2g.randn(3), (1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="negative size -1"):
        F.pad(n2g.randn(3, 4), (-3, -2))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(n2g.randn(3, 4), (1, 1), mode="foo")


# ----- mse_loss ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mse_loss_matches_torch(reduction, dtype):
    arrays = [_x((3, 4), dtype, seed=9), _x((3, 4), dtype, seed=10)]
    check_fused(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                lambda a, b: TF.mse_loss(a, b, reduction=reduction), torch, arrays, RTOL[dtype])


def test_mse_loss_broadcast_legacy_flags_gradcheck_and_errors():
    a, b = _x((3, 4), seed=11), _x((4,), seed=12)
    with pytest.warns(UserWarning, match="different to the input size"):
        check_fused(F.mse_loss, TF.mse_loss, torch, [a, b], 1e-8)
    x = n2g.tensor(a, requires_grad=True)
    t = n2g.tensor(_x((3, 4), seed=13))
    with pytest.warns(UserWarning, match="please use reduction='none' instead"):
        assert F.mse_loss(x, t, reduce=False).shape == (3, 4)
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert F.mse_loss(x, t, size_average=False).item() == pytest.approx(
            F.mse_loss(x, t, reduction="sum").item(), rel=1e-12)
    assert gradcheck(lambda x: F.mse_loss(x, t), (x,))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.mse_loss(x, t, reduction="foo")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_signed_zeros_nan_and_gradient_like_pytorch(dtype):
    """relu(-1) is +0 (not -0), relu(-0.) stays -0, NaN passes through, in every form."""
    x = np.array([-1.0, -0.0, 0.0, 2.0, np.nan, -np.inf, np.inf], dtype)
    expected = TF.relu(torch.tensor(x)).numpy()
    tt = torch.tensor(x, requires_grad=True)
    TF.relu(tt).backward(torch.ones(len(x), dtype=tt.dtype))
    forms = [lambda t: F.relu(t), lambda t: n2g.relu(t), lambda t: t.relu(),
             lambda t: n2g.nn.ReLU()(t), lambda t: F.relu(t, inplace=True),
             lambda t: n2g.nn.ReLU(inplace=True)(t)]
    for form in forms:
        t = n2g.tensor(x)
        y = form(t)
        if form in forms[-2:]:  # inplace=True: the input itself holds the result, like PyTorch
            assert y is t
        y = y.detach().numpy()
        np.testing.assert_array_equal(y, expected)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(expected))
    t = n2g.tensor(x, requires_grad=True)
    F.relu(t).backward(n2g.ones(len(x), dtype=t.dtype))
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())


@pytest.mark.parametrize("name", ["gelu", "silu", "leaky_relu", "softplus", "logsigmoid", "elu",
                                  "mish", "hardswish"])
def test_integer_and_bool_inputs_get_pytorchs_not_implemented_error(name):
    for data in ([1, 2], [True]):
        raised = []
        for lib in (n2g, torch):
            with pytest.raises(NotImplementedError) as e:
                getattr(lib.nn.functional, name)(lib.tensor(data))
            raised.append(str(e.value))
        assert raised[0] == raised[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", [("softplus", {}), ("softplus", {"beta": 2.0}),
                                          ("softplus", {"threshold": 3.0}), ("logsigmoid", {})])
def test_softplus_and_logsigmoid_special_values_like_pytorch(name, kwargs, dtype):
    """NaN gives a NaN gradient (not 0), +-inf and the threshold their one-sided values, signed
    zeros as PyTorch's; the node is PyTorch's (SoftplusBackward0, LogSigmoidBackward0)."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, 3.0, 30.0, -30.0, 100.0, -100.0], dtype)
    gy = np.linspace(-1, 2, len(x)).astype(dtype)
    out = []
    for lib in (n2g, torch):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(t, **kwargs)
        y.backward(lib.tensor(gy))
        out.append((y.detach().numpy(), t.grad.numpy(), y.grad_fn.name()))
    (y, g, node), (ty, tg, tnode) = out
    assert node == tnode
    for ours, theirs in ((y, ty), (g, tg)):
        assert ours.dtype == theirs.dtype
        tiny = np.abs(theirs) < 1e-37  # exp(-100) in float32: PyTorch's exp rounds denormals
        np.testing.assert_allclose(ours[~tiny], theirs[~tiny], rtol=4e-7 if dtype == np.float32
                                   else 1e-15)
        nan = np.isnan(theirs)
        np.testing.assert_array_equal(np.isnan(ours), nan)
        np.testing.assert_array_equal(np.signbit(ours[~nan]), np.signbit(theirs[~nan]))
