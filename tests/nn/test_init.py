"""nn.init: gains and fans equal PyTorch's; sampled values have the bounds, means and standard
deviations the formulas promise (250k samples: the tolerances are several standard errors);
dtype, identity and reproducibility are preserved."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch_compare import same_error

import numpy2gpt as n2g
from numpy2gpt import nn
from numpy2gpt.nn import init

SHAPE = (500, 500)  # fan_in = fan_out = 500


def param(shape=SHAPE, dtype=n2g.float32):
    return nn.Parameter(n2g.zeros(*shape, dtype=dtype))


def check_stats(a, mean, std, rel=0.01):
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(a.size)
    assert abs(a.std() - std) < rel * std


@pytest.mark.parametrize("name,arg", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                      ("tanh", None), ("relu", None), ("leaky_relu", None),
                                      ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
                                      ("selu", None)])
def test_calculate_gain_matches_torch(name, arg):
    assert init.calculate_gain(name, arg) == pytest.approx(torch.nn.init.calculate_gain(name, arg),
                                                           rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 2, 2), (7, 1)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(n2g.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(n2g.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(n2g.zeros(*shape), mode="fan_avg")


def test_uniform_and_normal():
    n2g.manual_seed(0)
    a = init.uniform_(param(), -2.0, 4.0)._data
    assert a.min() >= -2 and a.max() <= 4 and a.min() < -1.99 and a.max() > 3.99
    check_stats(a, 1.0, 6 / math.sqrt(12))
    check_stats(init.normal_(param(), 3.0, 0.5)._data, 3.0, 0.5)
    check_stats(init.uniform_(param())._data, 0.5, 1 / math.sqrt(12))  # defaults U(0, 1)
    check_stats(init.normal_(param())._data, 0.0, 1.0)  # defaults N(0, 1)


def test_constants():
    assert np.all(init.constant_(param((3, 2)), 0.25)._data == 0.25)
    assert np.all(init.ones_(param((3, 2)))._data == 1)
    p = init.ones_(param((3, 2)))
    assert np.all(init.zeros_(p)._data == 0)
    np.testing.assert_array_equal(init.eye_(param((2, 3)))._data, np.eye(2, 3))


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    n2g.manual_seed(1)
    bound = gain * math.sqrt(6 / (500 + 500))
    a = init.xavier_uniform_(param(), gain=gain)._data
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.999 * bound
    check_stats(a, 0.0, bound / math.sqrt(3))
    check_stats(init.xavier_normal_(param(), gain=gain)._data, 0.0,
                gain * math.sqrt(2 / (500 + 500)))


def test_xavier_uses_both_fans():
    n2g.manual_seed(2)
    a = init.xavier_normal_(param((200, 1250)))._data  # fan_in 1250, fan_out 200
    check_stats(a, 0.0, math.sqrt(2 / 1450))


@pytest.mark.parametrize("kwargs,gain", [({}, math.sqrt(2.0)),
                                         ({"a": math.sqrt(5)}, math.sqrt(1 / 3)),
                                         ({"nonlinearity": "relu"}, math.sqrt(2.0)),
                                         ({"nonlinearity": "linear"}, 1.0)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(kwargs, gain, mode):
    n2g.manual_seed(3)
    shape = (250, 1000)  # fan_in 1000, fan_out 250
    fan = 1000 if mode == "fan_in" else 250
    std = gain / math.sqrt(fan)
    a = init.kaiming_uniform_(param(shape), mode=mode, **kwargs)._data
    bound = math.sqrt(3) * std
    assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.999 * bound
    check_stats(a, 0.0, std)
    check_stats(init.kaiming_normal_(param(shape), mode=mode, **kwargs)._data, 0.0, std)


def test_linear_default_is_kaiming_uniform_with_a_sqrt5():
    """kaiming_uniform_(a=sqrt(5)) is exactly U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    n2g.manual_seed(4)
    a = init.kaiming_uniform_(param(), a=math.sqrt(5))._data
    assert np.abs(a).max() <= 1 / math.sqrt(500) * (1 + 1e-6)
    check_stats(a, 0.0, 1 / math.sqrt(500) / math.sqrt(3))


def truncated_normal_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) truncated to [a, b] (textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (phi(alpha) - phi(beta)) / z
    var = std ** 2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z
                      - ((phi(alpha) - phi(beta)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 3.0),
                                          (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 1.5, 10.0)])
def test_trunc_normal(mean, std, a, b):
    n2g.manual_seed(5)
    x = init.trunc_normal_(param(dtype=n2g.float64), mean, std, a, b)._data
    assert x.min() >= a and x.max() <= b
    m, s = truncated_normal_moments(mean, std, a, b)
    check_stats(x, m, s)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5,), (7, 9), (64, 48)])
@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 3.0),  # wide windows: normals, redrawn when out
    (0.0, 1.0, -0.1, 0.1), (0.0, 0.02, 0.01, 0.03), (0.0, 1.0, 5.0, 6.0),  # narrow or far out:
    (0.0, 1.0, 50.0, 51.0), (0.0, 1.0, 1.0, 1.0)])  # uniform proposals, accepted by the density
def test_trunc_normal_is_torchs_for_the_same_seed(mean, std, a, b, shape, dtype):
    """PyTorch's two samplers, draw for draw: the same values, and the generator left where
    PyTorch leaves it (the next draw agrees too)."""
    n2g.manual_seed(3)
    torch.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "mean is more than 2 std from [a, b]", in both
        ours = init.trunc_normal_(n2g.empty(*shape, dtype=getattr(n2g, dtype)), mean, std, a, b)
        theirs = torch.nn.init.trunc_normal_(torch.empty(*shape, dtype=getattr(torch, dtype)),
                                             mean, std, a, b)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(n2g.rand(3).numpy(), torch.rand(3).numpy())


def test_trunc_normal_errors():
    same_error(lambda lib: lib.nn.init.trunc_normal_(lib.empty(2, 2), a=1.0, b=0.0))
    with pytest.raises(ValueError, match="std must be positive"):
        init.trunc_normal_(param((2, 2)), std=0.0)
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(param((2, 2)), mean=0.0, std=1.0, a=20.0, b=21.0)


@pytest.mark.parametrize("dtype", [n2g.float32, n2g.float64])
@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.trunc_normal_, init.ones_,
                                init.zeros_, init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_])
def test_in_place_on_parameters_keeps_identity_dtype_and_records_no_graph(fn, dtype):
    p = param((4, 3), dtype=dtype)
    array, version = p._data, p._version
    assert fn(p) is p
    assert p.dtype == dtype and p._data is array
    assert p._version == version + 1  # a graph that saved the old value would notice
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_reproducible_with_manual_seed_and_generator():
    n2g.manual_seed(123)
    a = init.normal_(param((3, 3)))._data.copy()
    n2g.manual_seed(123)
    np.testing.assert_array_equal(init.normal_(param((3, 3)))._data, a)
    g1, g2 = n2g.Generator().manual_seed(7), n2g.Generator().manual_seed(7)
    np.testing.assert_array_equal(init.kaiming_uniform_(param((3, 3)), generator=g1)._data,
                                  init.kaiming_uniform_(param((3, 3)), generator=g2)._data)
    with pytest.raises(TypeError, match="numpy2gpt.Generator"):  # not a NumPy generator
        init.normal_(param((3, 3)), generator=np.random.default_rng(7))


INITS = [("normal_", dict(mean=0.5, std=2.0)), ("uniform_", dict(a=-1.0, b=3.0)),
         ("kaiming_uniform_", dict(a=math.sqrt(5))), ("xavier_normal_", dict(gain=1.5))]


@pytest.mark.parametrize("shape", [(3, 5), (7, 9), (64, 48)])  # numel < 16, 63, a multiple of 16
@pytest.mark.parametrize("explicit", [False, True], ids=["global", "generator"])
def test_fills_are_torchs_values_for_the_same_seed(shape, explicit):
    """The same seed gives torch.nn.init's float32 values bit for bit, call after call on one
    generator (small tensors are drawn one by one in float64, with a cached Box-Muller value;
    others 16 at a time, the last 16 redrawn when the size is not a multiple of 16)."""
    torch.manual_seed(11)
    n2g.manual_seed(11)
    tg = torch.Generator().manual_seed(21) if explicit else None
    g = n2g.Generator().manual_seed(21) if explicit else None
    for name, kwargs in INITS:
        want = getattr(torch.nn.init, name)(torch.empty(shape), generator=tg, **kwargs)
        got = getattr(init, name)(param(shape), generator=g, **kwargs)
        assert got.dtype == n2g.float32
        np.testing.assert_array_equal(got._data, want.numpy(), err_msg=name)
    # the generators end in the same state (and the global one was left alone with `generator`)
    np.testing.assert_array_equal(n2g.randn(5).numpy(), torch.randn(5).numpy())
    if explicit:
        np.testing.assert_array_equal(n2g.rand(5, generator=g).numpy(),
                                      torch.rand(5, generator=tg).numpy())


def test_zero_element_kaiming_warns_and_is_a_no_op():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(param((0, 3)))
