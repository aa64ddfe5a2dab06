"""elu, celu, selu, mish, softsign, hardtanh, relu6, hardswish, hardsigmoid, glu, softmin,
rms_norm, group_norm, smooth_l1_loss, huber_loss and kl_div against PyTorch: values and gradients
in float32 and float64, the gradient exactly at each kink, dtypes, warnings and errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import RTOL, check_against_torch, check_double_backward, compare, rand

import numpy2gpt as ng
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no NumPy warnings leak
TF = torch.nn.functional
DTYPES = [np.float64, np.float32]

# every kink of the ops below (0, +-1, +-3, 6, the hardtanh bounds), both sides of them, and
# values far out where exp over- or underflows
KINKS = np.array([-1e4, -100.0, -7.0, -6.0, -3.0, -2.5, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5,
                  1.0, 2.0, 2.5, 3.0, 5.5, 6.0, 7.0, 30.0, 100.0, 1e4])



def compare_tiny(fn, tfn, arrays, dtype):
    """`compare`, but values below 1e-30 in size count as equal: float32 subnormals (mish(-100)
    is -3.8e-42) keep only a few bits, and PyTorch's and NumPy's exp round them differently."""
    check_against_torch(fn, tfn, [a.astype(dtype) for a in arrays], rtol=RTOL[dtype],
                        atol=1e-30, grad_rtol=RTOL[dtype], grad_atol=1e-12)


ACTIVATIONS = {  # name -> (ours, PyTorch's)
    "elu": (F.elu, TF.elu),
    "elu alpha=0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "celu alpha=2": (lambda x: F.celu(x, alpha=2.0), lambda x: TF.celu(x, alpha=2.0)),
    "celu alpha=-0.5": (lambda x: F.celu(x, -0.5), lambda x: TF.celu(x, -0.5)),
    "selu": (F.selu, TF.selu),
    "mish": (F.mish, TF.mish),
    "softsign": (F.softsign, TF.softsign),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh -2, 2.5": (lambda x: F.hardtanh(x, -2, 2.5), lambda x: TF.hardtanh(x, -2, 2.5)),
    "hardtanh 0, 0": (lambda x: F.hardtanh(x, 0.0, 0.0), lambda x: TF.hardtanh(x, 0.0, 0.0)),
    "relu6": (F.relu6, TF.relu6),
    "hardswish": (F.hardswish, TF.hardswish),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_at_its_kinks_and_far_out_is_pytorchs(name, dtype):
    fn, tfn = ACTIVATIONS[name]
    compare_tiny(fn, tfn, [KINKS], dtype)


@pytest.mark.parametrize("shape", [(), (3, 4), (2, 0, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_on_random_input_is_pytorchs(name, dtype, shape):
    fn, tfn = ACTIVATIONS[name]
    compare(fn, tfn, [rand(*shape, seed=1, scale=3.0)], dtype)


def test_the_gradient_at_each_kink_is_pytorchs_choice():
    """Spelled out, so that a changed convention shows here by name."""
    def grad(fn, points):
        x = ng.tensor(points, dtype=ng.float64, requires_grad=True)
        fn(x).sum().backward()
        return x.grad.tolist()

    assert grad(F.relu6, [0.0, 6.0, 3.0]) == [0.0, 0.0, 1.0]
    assert grad(F.hardtanh, [-1.0, 1.0, 0.0]) == [0.0, 0.0, 1.0]
    assert grad(F.hardswish, [-3.0, 3.0]) == [0.0, 1.0]
    assert grad(F.hardsigmoid, [-3.0, 3.0]) == [0.0, 0.0]
    assert grad(F.elu, [0.0]) == [1.0]  # the left slope alpha, here 1
    assert grad(lambda x: F.elu(x, 0.5), [0.0]) == [0.5]
    assert grad(F.selu, [0.0]) == pytest.approx([1.7580993408473766], rel=1e-15)  # PyTorch's
    assert grad(F.softsign, [0.0]) == [1.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("inplace_ok", ["elu", "celu", "selu", "mish", "hardtanh", "relu6",
                                        "hardswish", "hardsigmoid"])
def test_inplace_writes_into_the_input_and_backpropagates_like_pytorch(inplace_ok, dtype):
    def run(lib):
        x = lib.tensor(KINKS.astype(dtype), requires_grad=True)
        y = x * 1.0
        out = getattr(lib.nn.functional, inplace_ok)(y, inplace=True)
        assert out is y
        out.backward(lib.tensor(np.linspace(-1, 1, KINKS.size).astype(dtype)))
        return y.detach().numpy(), x.grad.numpy()

    (y, g), (ty, tg) = run(ng), run(torch)
    np.testing.assert_allclose(y, ty, rtol=RTOL[dtype], atol=1e-30)  # subnormals: see above
    # PyTorch's in-place elu backward works from the result: (y + alpha) for x <= 0 loses the
    # digits of y + 1 ~ 0 (exp(-100) in float64 is 0 there); ours, from x, does not (so: rtol
    # plus that rounding error)
    np.testing.assert_allclose(g, tg, rtol=RTOL[dtype],
                               atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((2,), 0)])
def test_glu_matches_pytorch(shape, dim, dtype):
    compare(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), [rand(*shape, seed=2)], dtype)


def test_glu_float16_is_computed_in_float32():
    """gy * a overflowed float16 before the factor sigmoid'(b) = 0 could make it 0, and the
    gradient was NaN; PyTorch computes in float32. Values and node as PyTorch's."""
    x16 = np.array([[273.5, -518.0, -341.5, 378.0], [0.5, 3.0, -2.0, 0.25]], np.float16)
    gy16 = np.array([[1.0, 1000.0], [-3.0, 2.0]], np.float16)
    out = []
    for lib in (ng, torch):
        x = lib.tensor(x16, requires_grad=True)
        y = lib.nn.functional.glu(x, 1)
        y.backward(lib.tensor(gy16))
        out.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()))
    (y, g, node), (ty, tg, tnode) = out
    assert node == tnode == "GluBackward0" and y.dtype == g.dtype == np.float16
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_allclose(g, tg, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_matches_pytorch(dim, dtype):
    compare(lambda x: F.softmin(x, dim), lambda x: TF.softmin(x, dim), [rand(3, 5, seed=3)], dtype)
    compare(lambda x: F.softmin(x, dim, dtype=ng.float64),
            lambda x: TF.softmin(x, dim, dtype=torch.float64), [rand(3, 5, seed=3)], dtype)


def test_softmin_without_dim_warns_and_picks_pytorchs_dim():
    x = rand(2, 3, seed=4)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = F.softmin(ng.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = TF.softmin(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)


def test_composed_ops_differentiate_twice_like_pytorch():
    x = rand(2, 4, seed=5)
    check_double_backward(F.softsign, TF.softsign, x)
    check_double_backward(F.glu, TF.glu, x)


def test_activation_dtypes_and_errors_are_pytorchs():
    ints = np.array([-3, 0, 2, 7])
    for name in ("hardtanh", "relu6"):  # integers are clamped, and stay integers
        y, ty = (getattr(lib.nn.functional, name)(lib.tensor(ints)) for lib in (ng, torch))
        assert y.dtype == ng.int64 and y.tolist() == ty.tolist()
    y = F.hardtanh(ng.tensor(ints), -1.5, 1.5)  # the bounds are cast to the integer dtype
    assert y.tolist() == TF.hardtanh(torch.tensor(ints), -1.5, 1.5).tolist()
    assert F.softsign(ng.tensor(ints)).dtype == ng.float32  # true division: float
    with pytest.raises(NotImplementedError, match="\"elu_cpu\" not implemented for 'Long'"):
        F.elu(ng.tensor(ints))
    for name, kernel in (("selu", "elu_cpu"), ("celu", "elu_cpu"), ("mish", "mish_cpu"),
                         ("hardswish", "hardswish_cpu"), ("hardsigmoid", "hardsigmoid_cpu"),
                         ("glu", "glu_cpu")):
        for lib in (ng, torch):
            with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for'):
                getattr(lib.nn.functional, name)(lib.tensor(ints))
    for lib in (ng, torch):
        F_ = lib.nn.functional
        with pytest.raises(RuntimeError, match="Bool inputs not supported for hardtanh"):
            F_.relu6(lib.tensor([True]))
        with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
            F_.hardtanh(lib.zeros(2), 1.0, 0.0)
        with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
            F_.celu(lib.zeros(2), 0.0)
        with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                               "is size 3"):
            F_.glu(lib.zeros(2, 3))
        with pytest.raises(RuntimeError, match="glu does not support scalars"):
            F_.glu(lib.tensor(1.0))
        with pytest.raises(IndexError, match="Dimension out of range"):
            F_.glu(lib.zeros(2, 4), 2)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            F_.elu(lib.zeros(2, requires_grad=True), inplace=True)


# ----- rms_norm and group_norm -------------------------------------------------------------------
RMS_CASES = [((2, 3, 4), [4], True, None), ((2, 3, 4), (3, 4), True, 1e-3),
             ((5,), [5], False, None), ((2, 3, 4), [4], False, 0.5), ((3, 0), [0], True, None)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, normalized, affine, eps", RMS_CASES)
def test_rms_norm_matches_pytorch(shape, normalized, affine, eps, dtype):
    arrays = [rand(*shape, seed=6, scale=2.0) + 0.5]
    if affine:
        arrays.append(rand(*normalized, seed=7))
    compare(lambda x, *w: F.rms_norm(x, normalized, *w, eps=eps),
            lambda x, *w: TF.rms_norm(x, normalized, *w, eps=eps), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon(dtype):
    # rows of tiny numbers: mean(x^2) is far below eps, so y = x / sqrt(eps) shows which eps
    x = rand(2, 4, seed=8, scale=1e-11 if dtype == np.float64 else 1e-6)
    ours, = compare(lambda x: F.rms_norm(x, [4]), lambda x: TF.rms_norm(x, [4]), [x], dtype)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(ours.detach().numpy(), x.astype(dtype) / np.sqrt(eps),
                               rtol=1e-3)


def test_rms_norm_gradient_checks_numerically():
    x = ng.tensor(rand(3, 4, seed=9), requires_grad=True)
    w = ng.tensor(rand(4, seed=10), requires_grad=True)
    assert ng.autograd.gradcheck(lambda x, w: F.rms_norm(x, [4], w, 1e-6), (x, w))


def test_rms_norm_weight_of_another_dtype_gives_the_inputs_dtype():
    x, w = rand(2, 3, seed=11).astype(np.float32), rand(3, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's notice that it cannot use its fused kernel
        ours, = compare(lambda x, w: F.rms_norm(x, [3], w.double()),
                        lambda x, w: TF.rms_norm(x, [3], w.double()), [x, w], np.float32)
    assert ours.dtype == ng.float32


def test_rms_norm_errors_are_pytorchs():
    for lib in (ng, torch):
        F_, x = lib.nn.functional, lib.zeros(2, 3)
        with pytest.raises(RuntimeError, match=r"expected input with shape \[\*4\], but got "
                                               r"input of size\[2, 3\]"):
            F_.rms_norm(x, [4])
        with pytest.raises(RuntimeError, match="at least 1-dimensional"):
            F_.rms_norm(x, [])
        with pytest.raises(RuntimeError, match=r"weight of shape \[4\] and normalized_shape = "
                                               r"\[3\]"):
            F_.rms_norm(x, [3], lib.ones(4))
        with pytest.raises(TypeError, match="must be tuple of ints, not int"):
            F_.rms_norm(x, 3)
        with pytest.raises(NotImplementedError, match="\"rms_norm\" not implemented for 'Long'"):
            F_.rms_norm(lib.zeros(2, 3, dtype=lib.int64), [3])


# (groups of at least 3 elements: with 2, xhat is +-1 whatever x, and dL/dx is rounding noise)
GROUP_CASES = [((2, 6, 3, 2), 3, True, True), ((2, 6, 5), 2, True, False),
               ((4, 6), 2, False, False), ((2, 4, 3), 1, True, True), ((0, 4, 2), 2, True, True)]


@pytest.mark.parametrize("backend", K.BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, groups, has_weight, has_bias", GROUP_CASES)
def test_group_norm_matches_pytorch(shape, groups, has_weight, has_bias, dtype, backend):
    c = shape[1]
    x = rand(*shape, seed=13, scale=3.0) + 1.0
    w, b = rand(c, seed=14), rand(c, seed=15)

    def run(lib):
        def fn(x, *params):
            it = iter(params)
            weight = next(it) if has_weight else None
            bias = next(it) if has_bias else None
            return lib.nn.functional.group_norm(x, groups, weight, bias, eps=1e-4)
        return fn

    arrays = [x] + [w] * has_weight + [b] * has_bias
    with K.backend(backend):  # atol: rtol times the largest element (gradients cancel to ~0)
        check_against_torch(run(ng), run(torch), [a.astype(dtype) for a in arrays],
                            rtol=RTOL[dtype], grad_rtol=RTOL[dtype])


def test_group_norm_errors_are_pytorchs():
    for lib in (ng, torch):
        F_ = lib.nn.functional
        with pytest.raises(RuntimeError, match="divisible by num_groups, but got input of shape "
                                               r"\[2, 4, 3\] and num_groups=3"):
            F_.group_norm(lib.zeros(2, 4, 3), 3)
        with pytest.raises(RuntimeError, match="Expected at least 2 dimensions for input tensor "
                                               "but received 1"):
            F_.group_norm(lib.zeros(4), 2)
        with pytest.raises(RuntimeError, match=r"weight of shape \[3\] and input of shape "
                                               r"\[2, 4, 3\]"):
            F_.group_norm(lib.zeros(2, 4, 3), 2, lib.ones(3))
        with pytest.raises(RuntimeError, match="Expected bias to be a vector of size equal to "
                                               "the number of channels in input"):
            F_.group_norm(lib.zeros(2, 4, 3), 2, None, lib.ones(4, 1))
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when "
                                             r"training, got input size \[1, 2\]"):
            F_.group_norm(lib.zeros(1, 2), 2)
        with pytest.raises(RuntimeError, match="Expected num groups to be greater than 0"):
            F_.group_norm(lib.zeros(3, 4), -2)
        with pytest.raises(RuntimeError, match="mixed dtype"):
            F_.group_norm(lib.zeros(2, 4), 2, lib.ones(4, dtype=lib.float64))


# ----- smooth_l1_loss, huber_loss, kl_div ---------------------------------------------------------
# differences input - target exactly at 0 and at +-1 (beta / delta 1), +-2 (beta / delta 2)
DIFF = np.array([-5.0, -2.0, -1.5, -1.0, -0.3, 0.0, 0.3, 1.0, 1.5, 2.0, 5.0])
TARGET = rand(DIFF.size, seed=16)
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta", [1.0, 2.0, 0.5, 0.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_loss_matches_pytorch_at_its_kinks(reduction, beta, dtype):
    # input = target + DIFF (rounded to dtype): the target's gradient is checked too
    compare(lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=beta),
            lambda x, t: TF.smooth_l1_loss(x, t, reduction=reduction, beta=beta),
            [DIFF, np.zeros_like(DIFF)], dtype)
    compare(lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=beta),
            lambda x, t: TF.smooth_l1_loss(x, t, reduction=reduction, beta=beta),
            [TARGET + DIFF, TARGET], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("delta", [1.0, 2.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_matches_pytorch_at_its_kinks(reduction, delta, dtype):
    compare(lambda x, t: F.huber_loss(x, t, reduction=reduction, delta=delta),
            lambda x, t: TF.huber_loss(x, t, reduction=reduction, delta=delta),
            [DIFF, np.zeros_like(DIFF)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_with_weight_matches_pytorch(reduction, dtype):
    compare(lambda x, t, w: F.huber_loss(x, t, reduction, 1.5, w),
            lambda x, t, w: TF.huber_loss(x, t, reduction, 1.5, w),
            [TARGET + DIFF, TARGET, np.abs(rand(DIFF.size, seed=17))], dtype)


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_smooth_l1_and_huber_broadcast_with_pytorchs_warning(name):
    x, t = rand(3, 4, seed=18), rand(4, seed=19)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(getattr(F, name), getattr(TF, name), [x, t])
    with pytest.warns(UserWarning, match=r"Using a target size \(.*\b4\b.*\) that is different "
                                         r"to the input size \(.*3, 4.*\)") as record:
        getattr(F, name)(ng.tensor(x), ng.tensor(t))
    assert record[0].filename == __file__  # stacklevel: the warning names the caller's line


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
def test_kl_div_matches_pytorch(reduction, log_target, dtype):
    logq = np.log(np.random.default_rng(20).dirichlet(np.ones(5), 4))
    p = np.random.default_rng(21).dirichlet(np.ones(5), 4)
    p[0, 1] = p[2, 3] = 0.0  # t log t is 0 there, and its gradient NaN, in PyTorch too
    target = np.log(p + 0.1) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reduction 'mean' warns (tested below)
        compare(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
                [logq, target], dtype)


def test_kl_div_zero_target_negative_target_and_0d_batchmean():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda x, t: F.kl_div(x, t, reduction="none"),
                lambda x, t: TF.kl_div(x, t, reduction="none"),
                [np.array([-1.0, -0.5, -2.0]), np.array([0.0, 0.5, -0.2])])  # 0, finite, NaN
    # a 0-d input: 'batchmean' is the sum (no batch dim to divide by)
    compare(lambda x, t: F.kl_div(x, t, reduction="batchmean"),
            lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
            [np.array(-1.0), np.array(0.5)])


def test_kl_div_mean_warns_like_pytorch_and_legacy_flags_win():
    x, t = ng.tensor(rand(2, 3, seed=22)), ng.tensor(np.full((2, 3), 0.2))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size") as rec:
        mean = F.kl_div(x, t)
    assert rec[0].filename == __file__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the legacy flags: only their deprecation warning
        legacy = F.kl_div(x, t, size_average=True)
        assert F.kl_div(x, t, reduce=False).shape == (2, 3)
        # as in PyTorch, 'batchmean' still divides the legacy result by the batch size
        both = F.kl_div(x, t, size_average=True, reduction="batchmean")
    assert [str(w.message) for w in caught] == [
        f"size_average and reduce args will be deprecated, please use reduction='{r}' instead."
        for r in ("mean", "none", "mean")]
    assert mean.item() == pytest.approx(legacy.item(), rel=1e-12)
    assert both.item() == pytest.approx(legacy.item() / 2, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.kl_div(torch.tensor(rand(2, 3, seed=22)),
                             torch.tensor(np.full((2, 3), 0.2)))
    assert mean.item() == pytest.approx(expected.item(), rel=1e-12)


def test_loss_errors_are_pytorchs():
    for lib in (ng, torch):
        F_, x = lib.nn.functional, lib.zeros(2, 3)
        with pytest.raises(ValueError, match="x is not a valid value for reduction"):
            F_.smooth_l1_loss(x, x, reduction="x")
        with pytest.raises(ValueError, match="x is not a valid value for reduction"):
            F_.huber_loss(x, x, reduction="x")
        with pytest.raises(ValueError, match="Invalid reduction mode: x"):
            F_.huber_loss(x, x, reduction="x", weight=lib.ones(2, 3))
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            F_.huber_loss(x, x, weight=lib.ones(3))
        with pytest.raises(ValueError, match="x is not a valid value for reduction"):
            F_.kl_div(x, x, reduction="x")
        with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values "
                                               "for beta."):
            F_.smooth_l1_loss(x, x, beta=-1.0)
        with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values "
                                               "for delta."):
            F_.huber_loss(x, x, delta=0.0)
        ints = lib.ones(2, 3, dtype=lib.int64)
        with pytest.raises(NotImplementedError, match="\"smooth_l1_cpu\" not implemented for "
                                                      "'Long'"):
            F_.smooth_l1_loss(ints, ints)
        with pytest.raises(NotImplementedError, match="\"huber_cpu\" not implemented for 'Long'"):
            F_.huber_loss(ints, ints)
        with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported."):
            F_.kl_div(x, ints, reduction="sum")


def test_losses_keep_float32_and_promote_mixed_dtypes_like_pytorch():
    x32, t64 = rand(2, 3, seed=23).astype(np.float32), rand(2, 3, seed=24)
    for name in ("smooth_l1_loss", "kl_div"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, = compare(getattr(F, name), getattr(TF, name), [x32, x32], np.float32)
            assert ours.dtype == ng.float32
            y = getattr(F, name)(ng.tensor(x32), ng.tensor(t64))
            ty = getattr(TF, name)(torch.tensor(x32), torch.tensor(t64))
        assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1] == "float64"
