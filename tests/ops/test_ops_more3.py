"""fix, real / imag / isreal, rsub, addr, addbmm, renorm, as_strided, the modified Bessel
functions i0 / i0e / i1 / i1e and erfcx, the transposes of 0-d tensors (mT, mH, H) and device
strings in `.to()`: values, dtypes, gradients and errors against PyTorch."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, compare, rand, same_error

import numpy2gpt as ng


# ----- fix, real, imag, isreal --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fix_is_trunc_with_a_zero_gradient(dtype):
    x = np.array([-2.7, -0.5, 0.0, 0.5, 1.5, 3.9], dtype)
    ours, _, _, _ = check_against_torch(lambda t: ng.fix(t), lambda t: torch.fix(t), [x])
    assert ours[0].grad_fn.name() == "TruncBackward0"
    check_against_torch(lambda t: t.fix(), lambda t: t.fix(), [x])


def test_fix_of_integers_and_in_place_and_bool_error():
    a, b = both(lambda lib: lib.fix(lib.tensor([3, -4])))
    assert_close(a, b)
    a, b = both(lambda lib: lib.tensor([-1.7, 1.7]).fix_())
    assert_close(a, b)
    for fn in ("fix", "trunc", "floor", "ceil", "round"):
        same_error(lambda lib, fn=fn: getattr(lib, fn)(lib.tensor([True])))
    same_error(lambda lib: lib.tensor([True]).fix_())


def test_real_is_the_tensor_itself_and_writes_through():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert x.real is x and lib.real(x) is x
        y = lib.tensor([1.0, 2.0])
        y.real = lib.tensor([5.0, 6.0])
        assert y.tolist() == [5.0, 6.0]
    same_error(lambda lib: setattr(lib.tensor([1.0], requires_grad=True), "real", 3.0))
    same_error(lambda lib: lib.real([1.0]))


def test_imag_is_refused_and_isreal_is_all_true():
    same_error(lambda lib: lib.tensor([1.0]).imag)
    same_error(lambda lib: lib.imag(lib.tensor([1, 2])))
    same_error(lambda lib: setattr(lib.tensor([1.0]), "imag", lib.tensor([2.0])))
    for make in (lambda lib: lib.tensor([[1.5, float("nan")]]), lambda lib: lib.tensor(2),
                 lambda lib: lib.tensor([True])):
        a, b = both(lambda lib, make=make: lib.isreal(make(lib)))
        assert_close(a, b)
    same_error(lambda lib: lib.isreal(1.0))


# ----- rsub ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rsub_values_and_gradients(dtype):
    x, y = rand(2, 3, seed=1), rand(3, seed=2)
    compare(lambda a, b: ng.rsub(a, b, alpha=0.5), lambda a, b: torch.rsub(a, b, alpha=0.5),
            [x, y], dtype)
    compare(lambda a: ng.rsub(a, 2.5, alpha=3), lambda a: torch.rsub(a, 2.5, alpha=3), [x],
            dtype)
    compare(lambda a: 2 - a, lambda a: 2 - a, [x], dtype)


def test_rsub_dtypes_and_errors():
    for call in (lambda lib: lib.rsub(lib.tensor([1, 2]), 2),
                 lambda lib: lib.rsub(lib.tensor([1, 2]), 2.5),
                 lambda lib: lib.rsub(lib.tensor([1, 2], dtype=lib.int8), lib.tensor([3.0]))):
        a, b = both(call)
        assert_close(a, b)
    same_error(lambda lib: lib.rsub(lib.tensor([1, 2]), 2, alpha=2.5))
    same_error(lambda lib: lib.rsub(lib.tensor([1.0]), 2, alpha=True))
    same_error(lambda lib: lib.rsub(lib.tensor([True]), 1))
    same_error(lambda lib: lib.rsub(2, lib.tensor([1.0])))
    same_error(lambda lib: lib.rsub(lib.tensor([1.0]), "a"))


# ----- addr ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_addr_values_and_gradients(dtype, beta, alpha):
    m, v1, v2 = rand(3, 4, seed=1), rand(3, seed=2), rand(4, seed=3)
    compare(lambda a, b, c: ng.addr(a, b, c, beta=beta, alpha=alpha),
            lambda a, b, c: torch.addr(a, b, c, beta=beta, alpha=alpha), [m, v1, v2], dtype)
    compare(lambda a, b, c: a.addr(b, c, beta=beta, alpha=alpha),
            lambda a, b, c: a.addr(b, c, beta=beta, alpha=alpha), [rand(4, seed=4), v1, v2],
            dtype)


def test_addr_beta_zero_ignores_nan_and_input_gets_zero_gradient():
    m = np.array([[np.nan, 1.0, 2.0], [3.0, np.inf, 5.0]])
    v1, v2 = rand(2, seed=5), rand(3, seed=6)
    ours, _, leaves, _ = check_against_torch(lambda a, b, c: ng.addr(a, b, c, beta=0),
                                             lambda a, b, c: torch.addr(a, b, c, beta=0),
                                             [m, v1, v2])
    assert not np.isnan(ours[0].detach().numpy()).any()
    assert (leaves[0].grad.numpy() == 0).all()


def test_addr_promotes_dtypes_and_handles_integers_and_bools():
    calls = [
        lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.int64), lib.tensor([1.0, 2.0]),
                             lib.tensor([1.0, 2.0, 3.0])),
        lambda lib: lib.addr(lib.tensor(2.0, dtype=lib.float64), lib.tensor([1.0, 2.0]),
                             lib.tensor([1.0, 2.0, 3.0])),
        lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.int32), lib.tensor([1, 2], dtype=lib.int32),
                             lib.tensor([1, 2, 3], dtype=lib.int16), alpha=2, beta=3),
        lambda lib: lib.addr(lib.tensor([[True, False], [False, False]]),
                             lib.tensor([True, False]), lib.tensor([False, True]), beta=0, alpha=2),
        lambda lib: lib.addr(lib.tensor([[True, False], [False, False]]),
                             lib.tensor([True, False]), lib.tensor([False, True])),
        lambda lib: lib.ones(2, 3).addr_(lib.tensor([1.0, 2.0], dtype=lib.float64),
                                         lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)),
    ]
    for call in calls:
        a, b = both(call)
        assert_close(a, b)


@pytest.mark.parametrize("call", [
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2, 1), lib.ones(3)),
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2), lib.ones(1, 3)),
    lambda lib: lib.addr(lib.ones(3, 2), lib.ones(2), lib.ones(3)),
    lambda lib: lib.addr(lib.ones(2, 2, 3), lib.ones(2), lib.ones(3)),
    lambda lib: lib.addr(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, dtype=lib.int64),
                         lib.ones(3, dtype=lib.int64), alpha=2.5, beta=1.5),
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2), lib.ones(3), alpha=True),
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2), lib.ones(3), beta="a"),
    lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2), [1.0, 2.0, 3.0]),
    lambda lib: lib.ones(3).addr_(lib.ones(2), lib.ones(3)),
    lambda lib: lib.ones(2, 3, dtype=lib.int64).addr_(lib.ones(2), lib.ones(3)),
], ids=range(10))
def test_addr_errors(call):
    same_error(call)


# ----- addbmm -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_addbmm_values_and_gradients(dtype, beta, alpha):
    m, b1, b2 = rand(2, 4, seed=1), rand(3, 2, 5, seed=2), rand(3, 5, 4, seed=3)
    compare(lambda a, b, c: ng.addbmm(a, b, c, beta=beta, alpha=alpha),
            lambda a, b, c: torch.addbmm(a, b, c, beta=beta, alpha=alpha), [m, b1, b2], dtype)
    compare(lambda a, b, c: a.addbmm(b, c, beta=beta, alpha=alpha),
            lambda a, b, c: a.addbmm(b, c, beta=beta, alpha=alpha), [rand(4, seed=4), b1, b2],
            dtype)


def test_addbmm_beta_zero_empty_batch_integers_and_in_place():
    m = np.array([[np.nan, 1.0, 2.0], [3.0, 4.0, 5.0]])
    calls = [
        lambda lib: lib.addbmm(lib.tensor(m), lib.ones(4, 2, 5, dtype=lib.float64),
                               lib.ones(4, 5, 3, dtype=lib.float64), beta=0),
        lambda lib: lib.addbmm(lib.tensor(m), lib.ones(0, 2, 5, dtype=lib.float64),
                               lib.ones(0, 5, 3, dtype=lib.float64)),
        lambda lib: lib.addbmm(lib.ones(2, 3, dtype=lib.int32), lib.ones(4, 2, 5, dtype=lib.int32),
                               lib.ones(4, 5, 3, dtype=lib.int32), alpha=2, beta=3),
        lambda lib: lib.ones(2, 3).addbmm_(lib.ones(4, 2, 5), lib.ones(4, 5, 3), alpha=0.5),
    ]
    for call in calls:
        a, b = both(call)
        assert_close(a, b)
    compare(lambda a, b, c: ng.addbmm(a, b, c), lambda a, b, c: torch.addbmm(a, b, c),
            [rand(2, 3), np.zeros((0, 2, 5)), np.zeros((0, 5, 3))])


@pytest.mark.parametrize("call", [
    lambda lib: lib.addbmm(lib.ones(2, 2, 3), lib.ones(4, 2, 5), lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(3, 2), lib.ones(4, 2, 5), lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(2, 5), lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5), lib.ones(5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5, 1), lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5), lib.ones(3, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5), lib.ones(4, 4, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5, dtype=lib.float64),
                           lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3, dtype=lib.float64), lib.ones(4, 2, 5),
                           lib.ones(4, 5, 3)),
    lambda lib: lib.addbmm(lib.ones(2, 3, dtype=lib.bool), lib.ones(4, 2, 5, dtype=lib.bool),
                           lib.ones(4, 5, 3, dtype=lib.bool)),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.ones(4, 2, 5), lib.ones(4, 5, 3), alpha="x"),
    lambda lib: lib.addbmm(lib.ones(2, 3), lib.tensor(1.0), lib.ones(4, 5, 3)),
], ids=range(12))
def test_addbmm_errors(call):
    same_error(call)


# ----- renorm -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p, dim, maxnorm", [(2, 0, 1.5), (1, 1, 2.0), (float("inf"), 0, 1.0),
                                             (0.5, -1, 3.0), (3, 1, 0.0)])
def test_renorm_values_and_gradients(dtype, p, dim, maxnorm):
    x = rand(3, 4, 2, seed=7)
    x[1] *= 0.01  # one slice below maxnorm along dim 0: left unchanged
    x = x.astype(dtype)  # (float32 gradients judged against their largest element)
    check_against_torch(lambda t: ng.renorm(t, p, dim, maxnorm),
                        lambda t: torch.renorm(t, p, dim, maxnorm), [x])
    check_against_torch(lambda t: t.renorm(p, dim, maxnorm), lambda t: t.renorm(p, dim, maxnorm),
                        [x])


def test_renorm_in_place_float16_and_norm_at_maxnorm():
    x = np.array([[3.0, 4.0], [1.0, 1.0]])
    for call in (lambda lib: lib.tensor(x).renorm_(2, 0, 2),
                 lambda lib: lib.tensor(x, dtype=lib.float16).renorm(2, 0, 2),
                 lambda lib: lib.renorm(lib.tensor(x), lib.tensor(2.0), 0, lib.tensor(1.0)),
                 lambda lib: lib.renorm(lib.tensor(x), True, 1, 5)):
        a, b = both(call)
        assert_close(a, b, rtol=1e-3 if a.dtype == ng.float16 else None)
    # a slice whose norm equals maxnorm is not scaled: gradient is the identity there
    check_against_torch(lambda t: ng.renorm(t, 2, 0, 5), lambda t: torch.renorm(t, 2, 0, 5), [x])


@pytest.mark.parametrize("call", [
    lambda lib: lib.renorm(lib.ones(3, 3), -1, 0, 5),
    lambda lib: lib.renorm(lib.ones(3, 3), 0, 0, 5),
    lambda lib: lib.renorm(lib.ones(3, 3), 2, 0, -5.5),
    lambda lib: lib.renorm(lib.ones(3, 3), 2, 0, float("nan")),
    lambda lib: lib.renorm(lib.ones(3, 3), 2, 2, 5),
    lambda lib: lib.renorm(lib.ones(3), 2, 0, 5),
    lambda lib: lib.renorm(lib.ones(3, 3, dtype=lib.int64), 2, 0, 1),
    lambda lib: lib.renorm(lib.ones(3, 3), 2, 0.5, 1),
    lambda lib: lib.renorm(lib.ones(3, 3), "a", 0, 1),
    lambda lib: lib.renorm(lib.ones(3, 3), 2, 0, "m"),
    lambda lib: lib.ones(3, 3).renorm(2, True, 5),
], ids=range(11))
def test_renorm_errors(call):
    same_error(call)


# ----- as_strided ---------------------------------------------------------------------------------
def _as_strided_results(call):
    """call(lib) on both libraries, compared as values (or the same error)."""
    a, b = both(call)
    assert_close(a, b)


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(10.0)[2:].as_strided((3,), (1,)),
    lambda lib: lib.arange(10.0)[2:].as_strided((3,), (1,), 0),
    lambda lib: lib.arange(10.0).as_strided((4, 3), (2, 1)),
    lambda lib: lib.arange(10.0).as_strided((3, 3), (0, 3), 1),
    lambda lib: lib.arange(10.0)[::2].as_strided((3,), (1,)),
    lambda lib: lib.arange(6).view(2, 3).t().as_strided((2, 2), (1, 2), 1),
    lambda lib: lib.tensor(5.0).as_strided((2, 2), (0, 0)),
    lambda lib: lib.arange(10.0).as_strided((), (), 4),
    lambda lib: lib.arange(10.0).as_strided((2, 0), (1, 1), 20),
    lambda lib: lib.arange(4, dtype=lib.float64).view(lib.int32).as_strided((2,), (2,), 1),
    lambda lib: lib.as_strided(lib.arange(10.0), size=[3], stride=[2], storage_offset=1),
], ids=range(11))
def test_as_strided_values(call):
    _as_strided_results(call)


def test_as_strided_storage_offset_and_writes_through():
    for lib in (ng, torch):
        base = lib.arange(10.0)
        assert base[2:].as_strided((3,), (1,)).storage_offset() == 2
        assert base[2:].expand(3, 8).storage_offset() == 2
        y = base.as_strided((2, 2), (1, 2), 1)
        y[0, 0] = 100.0
        assert base[1].item() == 100.0
        v = base[5:].as_strided((2,), (1,), 0)  # outside base[5:] in memory, still a view
        version = v._version
        base.add_(1)
        assert v._version == version + 1 and v.tolist() == [1.0, 101.0]


@pytest.mark.parametrize("size, stride, offset", [((3, 3), (1, 1), 0), ((2, 3), (3, 1), 1),
                                                  ((4,), (2,), None), ((2, 2, 2), (0, 2, 1), 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_as_strided_gradient_adds_overlaps(size, stride, offset, dtype):
    compare(lambda t: t.as_strided(size, stride, offset),
            lambda t: t.as_strided(size, stride, offset), [rand(10, seed=3)], dtype)


@pytest.mark.parametrize("view", [
    lambda t: (t * 1)[2:].as_strided((3,), (1,), 0),  # storage outside the input: no gradient
    lambda t: t[:5].expand(2, 5).as_strided((4,), (1,)),  # an input that repeats elements
    lambda t: (t * 1).view(5, 2).t().as_strided((2, 2), (2, 1), 1),
    lambda t: t[1:].as_strided((2, 2), (1, 2)),
])
def test_as_strided_gradient_through_views(view):
    compare(view, view, [rand(10, seed=4)])


def test_as_strided_second_derivative():
    a = np.array([1.0, 2.0, 3.0])
    grads = []
    for lib in (ng, torch):
        x = lib.tensor(a, requires_grad=True)
        y = (x * x).as_strided((2, 2), (1, 1))
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        grads.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("edit", [
    lambda v: v.mul_(10.0),
    lambda v: v.add_(v.detach() * 2),
])
@pytest.mark.parametrize("make", [
    lambda c: c.as_strided((2, 2), (1, 2), 1),
    lambda c: c[1:].as_strided((2,), (2,), 1),
    lambda c: c.view(2, 3).as_strided((3,), (2,)),
])
def test_as_strided_in_place_edit_is_recorded_on_the_base(make, edit):
    w = rand(6, seed=8)
    results = []
    for lib in (ng, torch):
        b = lib.tensor(np.arange(6.0), requires_grad=True)
        c = b * 1
        edit(make(c))
        (c * lib.tensor(w)).sum().backward()
        c2 = b * 1
        edit(make(c2))
        c2.sum().backward()  # a broadcast upstream gradient
        results.append((c.detach().numpy().copy(), b.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_as_strided_in_place_copy_into_a_view_sends_the_gradient_to_the_source():
    results = []
    for lib in (ng, torch):
        src = lib.tensor([1.0, 2.0], requires_grad=True)
        base = lib.zeros(6)
        base.as_strided((2,), (2,), 1).copy_(src * 3)
        (base * lib.arange(6.0)).sum().backward()
        results.append((base.detach().numpy().copy(), src.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_as_strided_refuses_a_recorded_edit_of_a_view_reaching_outside_its_input():
    c = ng.arange(6.0, requires_grad=True) * 1
    v = c[2:].as_strided((2,), (1,), 0)
    with pytest.raises(RuntimeError, match="modified inplace"):
        v.mul_(3)


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(10.0).as_strided((3,), (1,), 8),
    lambda lib: lib.arange(10.0)[2:].as_strided((3,), (0,), 10),
    lambda lib: lib.arange(10.0).as_strided((3,), (1,), -1),
    lambda lib: lib.arange(10.0).as_strided((3, 2), (1,)),
    lambda lib: lib.arange(10.0).as_strided((3,), (-1,)),
    lambda lib: lib.arange(10.0).as_strided((-3,), (1,)),
    lambda lib: lib.arange(10.0).as_strided((-3,), (-1,)),
    lambda lib: lib.arange(10.0).as_strided(3, 1),
    lambda lib: lib.arange(10.0).as_strided((3,), 1),
    lambda lib: lib.arange(10.0).as_strided((3.0,), (1,)),
    lambda lib: lib.arange(10.0).as_strided((3,), (1,), 1.5),
    lambda lib: lib.as_strided(lib.arange(10.0), (3,), (1,), True),
    lambda lib: lib.as_strided(lib.arange(10.0), 3, (1,)),
    lambda lib: lib.as_strided([1.0], (1,), (1,)),
    lambda lib: lib.ones(2, 3).as_strided((3,), (1,), 4),
    lambda lib: lib.arange(4, dtype=lib.float64).view(lib.int32).as_strided((2,), (2,), 7),
], ids=range(16))
def test_as_strided_errors(call):
    same_error(call)


# ----- i0, i0e, i1, i1e, erfcx --------------------------------------------------------------------
_BESSEL = ["i0", "i0e", "i1", "i1e"]


def _special(lib, name):
    return getattr(lib.special, name)


@pytest.mark.parametrize("name", _BESSEL + ["erfcx"])
def test_special_functions_float64_values_and_gradients(name):
    x = np.concatenate([np.linspace(-30, 30, 121), [-8.0, 8.0, 1e-3, -0.25]])
    if name == "erfcx":
        x = np.concatenate([x, [60.0, 1e3, 1e9, -26.5]])
    check_against_torch(lambda t: _special(ng, name)(t), lambda t: _special(torch, name)(t), [x])


@pytest.mark.parametrize("name", _BESSEL + ["erfcx"])
def test_special_functions_float32_within_a_few_ulp(name):
    x = np.concatenate([np.linspace(-95, 95, 381), [0.0, 8.0, -8.0, 1e-4]]).astype(np.float32)
    x = x[np.abs(x) < 9.3] if name == "erfcx" else x  # erfcx(-9.5) is inf in float32
    ours, theirs = both(lambda lib: _special(lib, name)(lib.tensor(x)))
    assert ours.dtype == ng.float32
    a, b = ours.numpy(), theirs.numpy()
    assert np.array_equal(np.isinf(a), np.isinf(b))  # i0(89) overflows in float32, as PyTorch's
    finite = np.isfinite(b)
    ulps = np.abs(a[finite].astype(np.float64) - b[finite]) / np.spacing(np.abs(b[finite]))
    assert ulps.max() <= 8
    check_against_torch(lambda t: _special(ng, name)(t), lambda t: _special(torch, name)(t),
                        [np.linspace(-5, 5, 41).astype(np.float32)], grad_rtol=1e-4)


@pytest.mark.parametrize("name", _BESSEL + ["erfcx"])
def test_special_functions_special_values_dtypes_and_names(name):
    x = [0.0, float("inf"), float("-inf"), float("nan"), 1e-30]
    a, b = both(lambda lib: _special(lib, name)(lib.tensor(x, dtype=lib.float64)))
    assert_close(a, b)
    a, b = both(lambda lib: _special(lib, name)(lib.tensor([1, 2, -3])))
    assert_close(a, b)
    ours = _special(ng, name)(ng.tensor([1.5], requires_grad=True))
    theirs = _special(torch, name)(torch.tensor([1.5], requires_grad=True))
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__
    same_error(lambda lib: _special(lib, name)([1.0]))
    if name == "erfcx":
        same_error(lambda lib: lib.special.erfcx(lib.tensor([1.0], dtype=lib.float16)))
    else:
        a, b = both(lambda lib: _special(lib, name)(lib.tensor([1.5, -3.0], dtype=lib.float16)))
        assert_close(a, b)


@pytest.mark.parametrize("name", _BESSEL + ["erfcx"])
def test_special_functions_second_derivatives(name):
    x = np.array([-3.0, -0.5, 0.0, 1e-20, 0.7, 9.0])
    results = []
    for lib in (ng, torch):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(_special(lib, name)(t).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), t)
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_i0_function_method_and_in_place():
    x = np.array([-2.0, 0.5, 4.0])
    check_against_torch(lambda t: ng.i0(t), lambda t: torch.i0(t), [x])
    check_against_torch(lambda t: t.i0(), lambda t: t.i0(), [x])
    a, b = both(lambda lib: lib.tensor(x).i0_())
    assert_close(a, b)
    same_error(lambda lib: lib.tensor([1, 2]).i0_())
    same_error(lambda lib: lib.i0([1.0]))


# ----- transposes of 0-d tensors, device strings --------------------------------------------------
@pytest.mark.parametrize("name", ["mT", "mH", "H"])
def test_matrix_transposes_of_a_0d_tensor_are_the_tensor_itself_with_a_warning(name):
    messages = []
    for lib in (ng, torch):
        s = lib.tensor(3.0, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert getattr(s, name) is s
        messages.append(str(caught[0].message).split(" (Triggered")[0])
        assert caught[0].category is UserWarning
    assert messages[0] == messages[1]
    same_error(lambda lib: getattr(lib.ones(3), name))


def test_T_of_a_0d_tensor_warns_and_mH_H_of_matrices():
    with pytest.warns(UserWarning, match="Tensor.T is deprecated on 0-D tensors"):
        assert ng.tensor(3.0).T.shape == ()
    x = rand(2, 3, 4)
    compare(lambda t: t.mH, lambda t: t.mH, [x])
    compare(lambda t: t.H, lambda t: t.H, [x[0]])
    same_error(lambda lib: lib.ones(2, 3, 4).H)


@pytest.mark.parametrize("device", ["float32", "float64", "torch.float32", "float", "int", "",
                                    "cpu:x", "cuda:01", "cpu_1", "cpu:", "bogus:0", " cpu"])
def test_to_a_string_is_always_a_device(device):
    same_error(lambda lib: lib.tensor([1.0]).to(device))
    same_error(lambda lib: lib.device(device))
    same_error(lambda lib: lib.zeros(2, device=device))


def test_to_cpu_strings_still_work():
    x = ng.ones(2)
    assert x.to("cpu") is x and x.to("cpu:1") is x and x.to("cpu", ng.float64).dtype == ng.float64
