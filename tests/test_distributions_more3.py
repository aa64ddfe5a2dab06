"""Gamma, Chi2, Beta, Dirichlet, StudentT and LogNormal against torch.distributions: values,
dtypes and gradients of log_prob, entropy, moments and cdf/icdf; shapes and expand; samples
(statistically, with fixed seeds: PyTorch's draws are not reproduced, except LogNormal's);
the implicit reparameterization gradient of Gamma draws against torch._standard_gamma_grad
and an exact reference; KL divergences; PyTorch's validation errors and reprs."""

import math

import mpmath
import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch

import numpy2gpt as ng
import numpy2gpt.distributions  # noqa: F401  (ng.distributions)
from numpy2gpt.distributions.gamma import gammainc_array, standard_gamma_grad_array

R = np.random.default_rng(11)
A = R.uniform(0.3, 3.0, (2, 3))  # positive parameters
B = R.uniform(0.3, 3.0, (2, 3))
C = R.uniform(0.5, 4.0, (2, 3, 4))  # Dirichlet concentrations (event 4)
DF = R.uniform(0.5, 6.0, (2, 3))  # StudentT degrees of freedom: some <= 1, some in (1, 2]
LOC = R.standard_normal((2, 3))
POS = R.uniform(0.05, 4.0, (4, 2, 3))
U01 = R.uniform(0.05, 0.95, (4, 2, 3))
SIMPLEX = R.uniform(0.1, 1.0, (4, 2, 3, 4))
SIMPLEX /= SIMPLEX.sum(-1, keepdims=True)
REAL = 2 * R.standard_normal((4, 2, 3))


def D(lib):
    return lib.distributions


# name -> (make(lib, *params), params, values for log_prob / cdf)
FAMILIES = {
    "Gamma": (lambda lib, a, b: D(lib).Gamma(a, b), [A, B], POS),
    "Chi2": (lambda lib, k: D(lib).Chi2(k), [A], POS),
    "Beta": (lambda lib, a, b: D(lib).Beta(a, b), [A, B], U01),
    "Dirichlet": (lambda lib, c: D(lib).Dirichlet(c), [C], SIMPLEX),
    "StudentT": (lambda lib, k, m, s: D(lib).StudentT(k, m, s), [DF, LOC, B], REAL),
    "LogNormal": (lambda lib, m, s: D(lib).LogNormal(m, s), [LOC, B], POS),
}
METHODS = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
}
CASES = [(f, m) for f in FAMILIES for m in METHODS]


def _run(family, method, dtype, rtol=None):
    make, params, value = FAMILIES[family]
    fn = METHODS[method]
    arrays = [p.astype(dtype) for p in params]

    def run(lib):
        return lambda *ps: fn(make(lib, *ps), lib.tensor(value.astype(dtype)))

    check_against_torch(run(ng), run(torch), arrays, rtol=rtol, grad_rtol=rtol, grad_atol=1e-12)


@pytest.mark.parametrize("family,method", CASES)
def test_values_and_gradients_float64(family, method):
    _run(family, method, np.float64)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_float32_stays_float32(family):
    for method in ("log_prob", "entropy", "mean"):
        _run(family, method, np.float32, rtol=1e-4)


CDF_CASES = {  # name -> cdf(lib, parameter, value) for a (2, 3) parameter and (4, 2, 3) values
    "Gamma": lambda lib, b, v: D(lib).Gamma(lib.tensor(A, dtype=b.dtype), b).cdf(v),
    "Chi2": lambda lib, b, v: D(lib).Chi2(lib.tensor(A, dtype=b.dtype)).cdf(v * b),
    "LogNormal": lambda lib, s, v: D(lib).LogNormal(lib.tensor(LOC, dtype=s.dtype), s).cdf(v),
}


@pytest.mark.parametrize("family", list(CDF_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cdf_values_and_gradients(family, dtype):
    """cdf, differentiable in the rate / scale and in the value (PyTorch has no gradient of
    the incomplete gamma function in its shape: that one is checked below)."""
    cdf = CDF_CASES[family]
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    check_against_torch(lambda b, v: cdf(ng, b, v), lambda b, v: cdf(torch, b, v),
                        [B.astype(dtype), POS.astype(dtype)], rtol=rtol, grad_rtol=rtol,
                        grad_atol=1e-12)


def test_lognormal_icdf():
    check_against_torch(lambda m, s, u: D(ng).LogNormal(m, s).icdf(u),
                        lambda m, s, u: D(torch).LogNormal(m, s).icdf(u), [LOC, B, U01])


def test_gamma_cdf_matches_gammainc_across_shapes():
    """P(a, x) from the series (x <= a), the continued fraction (x > a) and, for a > 1e6,
    Temme's expansion, against torch.special.gammainc."""
    a = np.array([1e-3, 0.3, 1.0, 7.5, 80.0, 3000.0, 2e6, 5e8])
    x = a[:, None] * np.array([1e-3, 0.5, 0.999, 1.0, 1.001, 1.5, 4.0]) + 1e-300
    a = np.broadcast_to(a[:, None], x.shape)
    expected = torch.special.gammainc(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(gammainc_array(a, x), expected, rtol=1e-8, atol=1e-9)


def test_gamma_cdf_gradient_in_concentration():
    """dP/da, which PyTorch does not implement, against central differences of its gammainc."""
    a = ng.tensor(A, requires_grad=True)
    (ours,) = ng.autograd.grad(D(ng).Gamma(a, ng.tensor(B)).cdf(ng.tensor(POS)).sum(), [a])
    h = 1e-6
    x = torch.tensor(B * POS)

    def total(shift):
        return torch.special.gammainc(torch.tensor(A + shift), x).sum(0).numpy()

    np.testing.assert_allclose(ours.numpy(), (total(h) - total(-h)) / (2 * h), rtol=1e-6)


# ----- samples -------------------------------------------------------------------------------
def _t(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, dtype))


SAMPLERS = {  # name -> make(lib, dtype name) of a batch of 2
    "Gamma": lambda lib, dt: D(lib).Gamma(_t(lib, [0.2, 5.0], dt), _t(lib, [2.0, 0.5], dt)),
    "Chi2": lambda lib, dt: D(lib).Chi2(_t(lib, [1.0, 7.0], dt)),
    "Beta": lambda lib, dt: D(lib).Beta(_t(lib, [0.5, 3.0], dt), _t(lib, [2.0, 0.7], dt)),
    "Dirichlet": lambda lib, dt: D(lib).Dirichlet(_t(lib, [[0.3, 1.0, 2.0], [4.0, 0.8, 1.5]],
                                                     dt)),
    "StudentT": lambda lib, dt: D(lib).StudentT(_t(lib, [5.0, 9.0], dt), _t(lib, [1.0, -2.0], dt),
                                                _t(lib, [0.5, 2.0], dt)),
    "LogNormal": lambda lib, dt: D(lib).LogNormal(_t(lib, [0.0, -1.0], dt),
                                                  _t(lib, [0.25, 0.5], dt)),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 1)])
def test_shapes_and_dtypes(name, sample_shape):
    ours, theirs = SAMPLERS[name](ng, "float32"), SAMPLERS[name](torch, "float32")
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    for method in ("sample", "rsample"):
        s, t = getattr(ours, method)(sample_shape), getattr(theirs, method)(sample_shape)
        assert tuple(s.shape) == tuple(t.shape)
        assert str(s.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] == "float32"
        assert not s.requires_grad
    expanded, expected = ours.expand((4, 2)), theirs.expand((4, 2))
    assert type(expanded) is type(ours)
    assert tuple(expanded.batch_shape) == tuple(expected.batch_shape)
    assert tuple(expanded.sample((3,)).shape) == tuple(expected.sample((3,)).shape)
    assert_close(expanded.mean, expected.mean)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samples_have_the_right_mean_and_variance(name):
    """20,000 draws in float64: sample means within 5 standard errors of the mean, variances
    within 10% (the sampler's mistakes, e.g. a wrong boost for shape < 1, are far larger)."""
    ng.manual_seed(0)
    d = SAMPLERS[name](ng, "float64")
    samples = d.sample((20_000,))
    mean, var = d.mean, d.variance
    assert samples.dtype == ng.float64
    n = samples.shape[0]
    sample_mean = samples.mean(0).numpy()
    standard_error = np.sqrt(var.numpy() / n)
    assert np.all(np.abs(sample_mean - mean.numpy()) < 5 * standard_error)
    np.testing.assert_allclose(samples.var(0).numpy(), var.numpy(), rtol=0.1)
    assert float(samples.min()) > 0 or name == "StudentT"


def test_gamma_samples_float64_and_small_shapes():
    """Shape 0.05: mass piles up near 0 (drawn as Gamma(1.05) * u^(1/0.05)); the mean and
    the mean of log x (digamma(a) - log rate) both checked. float64 parameters stay float64."""
    ng.manual_seed(1)
    a, rate = 0.05, 3.0
    d = D(ng).Gamma(ng.tensor([a], dtype=ng.float64), ng.tensor([rate], dtype=ng.float64))
    x = d.sample((20_000,))
    assert x.dtype == ng.float64 and float(x.min()) > 0
    log_mean = float(x.log().mean())
    assert abs(log_mean - (float(torch.digamma(torch.tensor(a))) - math.log(rate))) < 0.5
    assert abs(float(x.mean()) - a / rate) < 5 * math.sqrt(a / rate ** 2 / 20_000)


def test_lognormal_samples_equal_pytorch_for_a_seed():
    ng.manual_seed(3)
    torch.manual_seed(3)
    assert_close(SAMPLERS["LogNormal"](ng, "float32").sample((50,)),
                 SAMPLERS["LogNormal"](torch, "float32").sample((50,)))


# ----- reparameterized gradients -----------------------------------------------------------
def _exact_grad(x, a):
    """-dP/da / f at (a, x) in 40-digit arithmetic."""
    mpmath.mp.dps = 40
    x, a = mpmath.mpf(x), mpmath.mpf(a)
    density = mpmath.exp((a - 1) * mpmath.log(x) - x - mpmath.loggamma(a))
    if x > a:  # dP/da = -dQ/da, Q = 1 - P computed directly (P rounds to 1 in the tail)
        return float(mpmath.diff(lambda s: mpmath.gammainc(s, x, regularized=True), a)
                     / density)
    return float(-mpmath.diff(lambda s: mpmath.gammainc(s, 0, x, regularized=True), a)
                 / density)


@pytest.mark.parametrize("a", [0.01, 0.4, 1.0, 3.0, 12.0, 150.0])
def test_implicit_gamma_gradient_is_exact(a):
    x = np.array([a * 0.01, a * 0.5, a, a + 1.5, 3 * a + 2]) + 1e-3
    expected = np.array([_exact_grad(xi, a) for xi in x])
    np.testing.assert_allclose(standard_gamma_grad_array(np.full_like(x, a), x), expected,
                               rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rsample_gradient_matches_torch_standard_gamma_grad(dtype):
    """d x / d concentration of our own draws against torch._standard_gamma_grad at the same
    draws (PyTorch approximates the exact value to some 1e-3: the tolerance), and d x / d rate
    = -x / rate."""
    ng.manual_seed(0)
    alpha = np.array([0.02, 0.3, 1.0, 2.5, 7.0, 9.0, 40.0, 500.0, 3e4], dtype)
    rate = np.full_like(alpha, 1.7)
    a, r = ng.tensor(alpha, requires_grad=True), ng.tensor(rate, requires_grad=True)
    x = D(ng).Gamma(a, r).rsample((200,))
    assert x.dtype == a.dtype
    ga, gr = ng.autograd.grad(x.sum(), [a, r])
    assert ga.dtype == gr.dtype == a.dtype
    draws = x.detach().numpy()
    expected = torch._standard_gamma_grad(torch.tensor(np.broadcast_to(alpha, draws.shape)),
                                          torch.tensor(draws * rate)).numpy() / rate
    np.testing.assert_allclose(ga.numpy(), expected.sum(0), rtol=2e-3)
    np.testing.assert_allclose(gr.numpy(), (-draws / rate).sum(0), rtol=1e-5)


def test_rsample_gradients_are_unbiased():
    """The mean over 20,000 draws of d sample / d parameter estimates d E[sample] / d parameter:
    Gamma's 1 / rate; Beta's and Dirichlet's those of a / sum(a) (their draws are normalised
    Gamma draws, so these gradients go through the implicit Gamma gradient too)."""
    ng.manual_seed(5)
    n = 20_000
    a = ng.tensor([0.4, 3.0], dtype=ng.float64, requires_grad=True)
    (g,) = ng.autograd.grad(D(ng).Gamma(a, 2.0).rsample((n,)).sum(), [a])
    np.testing.assert_allclose(g.numpy() / n, [0.5, 0.5], rtol=0.05)
    c = ng.tensor([0.6, 1.5, 3.0], dtype=ng.float64, requires_grad=True)
    (g,) = ng.autograd.grad(D(ng).Dirichlet(c).rsample((n,))[:, 0].sum(), [c])
    total = 5.1
    expected = np.array([1 / total - 0.6 / total ** 2, -0.6 / total ** 2, -0.6 / total ** 2])
    np.testing.assert_allclose(g.numpy() / n, expected, rtol=0.1)
    c1 = ng.tensor(2.0, dtype=ng.float64, requires_grad=True)
    c0 = ng.tensor(0.5, dtype=ng.float64, requires_grad=True)
    g1, g0 = ng.autograd.grad(D(ng).Beta(c1, c0).rsample((n,)).sum(), [c1, c0])
    np.testing.assert_allclose([float(g1) / n, float(g0) / n], [0.5 / 2.5 ** 2, -2 / 2.5 ** 2],
                               rtol=0.1)


def test_rsample_gradients_of_studentt_and_lognormal():
    ng.manual_seed(2)
    m, s = ng.tensor(0.3, requires_grad=True), ng.tensor(0.5, requires_grad=True)
    y = D(ng).LogNormal(m, s).rsample((100,))
    gm, gs = ng.autograd.grad(y.sum(), [m, s])
    z = (y.log() - m) / s  # the standard normal draws behind y
    np.testing.assert_allclose(float(gm), float(y.sum()), rtol=1e-5)
    np.testing.assert_allclose(float(gs), float((y * z).sum()), rtol=1e-4)
    df = ng.tensor(4.0, dtype=ng.float64, requires_grad=True)
    loc = ng.tensor(1.0, dtype=ng.float64, requires_grad=True)
    (g,) = ng.autograd.grad(D(ng).StudentT(df, loc, 2.0).rsample((10,)).sum(), [loc])
    assert float(g) == 10.0


def test_double_backward_through_gamma_draws_raises_as_pytorch():
    for lib in (ng, torch):
        a = lib.tensor([0.5, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(D(lib).Gamma(a, 1.0).rsample((3,)).sum(), [a],
                                 create_graph=True)
        with pytest.raises(NotImplementedError, match="'_standard_gamma_grad' is not impl"):
            g.sum().backward()


# ----- KL divergences ----------------------------------------------------------------------
def _gamma(lib, a, b):
    return D(lib).Gamma(a, b)


KL_PAIRS = {  # (p, q) -> (make p, make q), each from two positive (2, 3) arrays
    ("Gamma", "Gamma"): (_gamma, lambda lib, a, b: D(lib).Gamma(b, a)),
    ("Chi2", "Gamma"): (lambda lib, a, b: D(lib).Chi2(a), _gamma),
    ("Beta", "Beta"): (lambda lib, a, b: D(lib).Beta(a, b), lambda lib, a, b: D(lib).Beta(b, a)),
    ("Dirichlet", "Dirichlet"): (
        lambda lib, a, b: D(lib).Dirichlet(a.unsqueeze(-1) * b.unsqueeze(-2)),
        lambda lib, a, b: D(lib).Dirichlet(b.unsqueeze(-1) + a.unsqueeze(-2))),
    ("LogNormal", "LogNormal"): (lambda lib, a, b: D(lib).LogNormal(a, b),
                                 lambda lib, a, b: D(lib).LogNormal(b, a)),
    ("Beta", "Exponential"): (lambda lib, a, b: D(lib).Beta(a, b),
                              lambda lib, a, b: D(lib).Exponential(a)),
    ("Beta", "Gamma"): (lambda lib, a, b: D(lib).Beta(a, b), _gamma),
    ("Beta", "Normal"): (lambda lib, a, b: D(lib).Beta(a, b),
                         lambda lib, a, b: D(lib).Normal(a - b, b)),
    ("Beta", "Uniform"): (lambda lib, a, b: D(lib).Beta(a, b),
                          lambda lib, a, b: D(lib).Uniform(-a, 1 + b)),
    ("Exponential", "Gamma"): (lambda lib, a, b: D(lib).Exponential(a), _gamma),
    ("Gamma", "Exponential"): (_gamma, lambda lib, a, b: D(lib).Exponential(b)),
    ("Gamma", "Normal"): (_gamma, lambda lib, a, b: D(lib).Normal(a - b, b)),
    ("Uniform", "Beta"): (lambda lib, a, b: D(lib).Uniform(a / 10, a / 10 + 0.5),
                          lambda lib, a, b: D(lib).Beta(a, b)),
    ("Uniform", "Gamma"): (lambda lib, a, b: D(lib).Uniform(a, a + b), _gamma),
}


@pytest.mark.parametrize("pair", list(KL_PAIRS), ids="-".join)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_divergence(pair, dtype):
    make_p, make_q = KL_PAIRS[pair]
    rtol, atol = (None, 1e-10) if dtype == np.float64 else (2e-4, 1e-6)

    def kl(lib):
        return lambda a, b: D(lib).kl_divergence(make_p(lib, a, b), make_q(lib, a, b))

    check_against_torch(kl(ng), kl(torch), [A.astype(dtype), B.astype(dtype)], rtol=rtol,
                        grad_rtol=rtol, grad_atol=atol)


@pytest.mark.parametrize("p,q", [
    (lambda lib: D(lib).Gamma(lib.tensor([1.0, 2.0]), 1.0), lambda lib: D(lib).Beta(1.0, 2.0)),
    (lambda lib: D(lib).Gamma(lib.tensor([1.0, 2.0]), 1.0),
     lambda lib: D(lib).Uniform(0.0, 3.0)),
    (lambda lib: D(lib).Normal(lib.tensor([1.0, 2.0]), 1.0), lambda lib: D(lib).Gamma(1.0, 2.0)),
    (lambda lib: D(lib).Laplace(lib.tensor([1.0, 2.0]), 1.0), lambda lib: D(lib).Beta(1.0, 2.0)),
    (lambda lib: D(lib).Exponential(lib.tensor([1.0, 2.0])), lambda lib: D(lib).Beta(1.0, 2.0)),
    (lambda lib: D(lib).Beta(lib.tensor([1.0, 2.0]), 3.0),
     lambda lib: D(lib).Uniform(lib.tensor([0.0, 0.1]), 1.0)),
    (lambda lib: D(lib).Uniform(lib.tensor([-0.5, 0.2]), 0.8),
     lambda lib: D(lib).Beta(2.0, 3.0)),
    (lambda lib: D(lib).Uniform(lib.tensor([-0.5, 0.2]), 0.8),
     lambda lib: D(lib).Gamma(2.0, 3.0)),
])
def test_kl_infinite_where_supports_differ(p, q):
    ours = D(ng).kl_divergence(p(ng), q(ng))
    theirs = D(torch).kl_divergence(p(torch), q(torch))
    assert_close(ours, theirs)
    assert np.isinf(ours.numpy()).any()


# ----- validation, errors and reprs ----------------------------------------------------------
def both_ways(fn):
    return fn(ng), fn(torch)


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e), str(e)
    return None


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Gamma(lib.tensor([1.0, -1.0]), 1.0),
    lambda lib: D(lib).Gamma(1.0, lib.tensor([0.0])),
    lambda lib: D(lib).Gamma(1.0, 2.0).log_prob(lib.tensor(-1.0)),
    lambda lib: D(lib).Gamma(1.0, 2.0).cdf(lib.tensor([-1.0])),
    lambda lib: D(lib).Gamma(lib.tensor([1.0, 2.0]), 2.0).log_prob(lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: D(lib).Chi2(lib.tensor([-1.0])),
    lambda lib: D(lib).Dirichlet(lib.tensor(1.0)),
    lambda lib: D(lib).Dirichlet(lib.tensor([[1.0, 1.0], [-1.0, 1.0]])),
    lambda lib: D(lib).Dirichlet(lib.tensor([1.0, 1.0])).log_prob(lib.tensor([0.5, 0.6])),
    lambda lib: D(lib).Dirichlet(lib.tensor([1.0, 1.0])).log_prob(lib.tensor([1.0, 0, 0])),
    lambda lib: D(lib).Beta(lib.tensor([1.0, -1.0]), 1.0),
    lambda lib: D(lib).Beta(1.0, 2.0).log_prob(lib.tensor(1.5)),
    lambda lib: D(lib).Beta(1.0, 2.0).cdf(lib.tensor(0.5)),
    lambda lib: D(lib).StudentT(lib.tensor([-1.0])),
    lambda lib: D(lib).StudentT(1.0, 0.0, lib.tensor([-1.0])),
    lambda lib: D(lib).LogNormal(0.0, -1.0),
    lambda lib: D(lib).LogNormal(0.0, 1.0).log_prob(lib.tensor([-1.0, 1.0])),
    lambda lib: D(lib).LogNormal(0.0, 1.0).cdf(lib.tensor([-1.0, 1.0])),
    lambda lib: D(lib).Beta(1.0, 1.0).log_prob(0.5),
    lambda lib: D(lib).Gamma(1.0, 1.0).icdf(lib.tensor(0.5)),
    lambda lib: D(lib).Dirichlet(lib.tensor([[1.0, 1.0]] * 2)).expand((3,)),
])
def test_errors_as_pytorch(fn):
    ours, theirs = _error(lambda: fn(ng)), _error(lambda: fn(torch))
    assert theirs is not None and ours is not None
    assert ours[0] is theirs[0]
    assert ours[1].replace("numpy2gpt", "torch") == theirs[1]


def test_validate_args_off():
    ours, theirs = both_ways(lambda lib: D(lib).Gamma(lib.tensor([-1.0, 2.0]), 1.0,
                                                      validate_args=False).log_prob(
        lib.tensor([1.0, -1.0])))
    assert_close(ours, theirs)
    ours, theirs = both_ways(lambda lib: D(lib).Beta(1.0, 2.0, validate_args=False).log_prob(
        lib.tensor([1.0, 1.5])))
    assert_close(ours, theirs)
    assert ours[0] == -math.inf


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Gamma(lib.tensor([1.0, 2.0]), 2.0),
    lambda lib: D(lib).Gamma(1.0, 2.0),
    lambda lib: D(lib).Chi2(lib.tensor([1.0, 2.0])),
    lambda lib: D(lib).Beta(1.0, 2.0),
    lambda lib: D(lib).Dirichlet(lib.tensor([1.0, 3.0])),
    lambda lib: D(lib).StudentT(lib.tensor([1.0, 3.0])),
    lambda lib: D(lib).LogNormal(0.0, 1.0),
])
def test_repr(fn):
    assert repr(fn(ng)) == repr(fn(torch)).replace("torch.Size", "numpy2gpt.Size")


def test_properties_and_numbers():
    """Chi2's df, Beta's concentrations, Python numbers as parameters (default dtype, () batch),
    log_prob of a number (Gamma turns it into a tensor), support edges."""
    for lib in (ng, torch):
        assert float(D(lib).Chi2(3.0).df) == 3.0
        beta = D(lib).Beta(1.0, 2.0)
        assert tuple(beta.batch_shape) == () and float(beta.concentration0) == 2.0
        assert str(beta.concentration1.dtype).endswith("float32")
    assert_close(D(ng).Gamma(1.0, 2.0).log_prob(1.0), D(torch).Gamma(1.0, 2.0).log_prob(1.0))
    for v in (0.0, 1.0):
        assert_close(D(ng).Beta(0.5, 2.0).log_prob(ng.tensor(v)),
                     D(torch).Beta(0.5, 2.0).log_prob(torch.tensor(v)))
    assert_close(D(ng).Dirichlet(ng.tensor([[0.5, 0.2, 0.9], [2.0, 0.5, 3.0]])).mode,
                 D(torch).Dirichlet(torch.tensor([[0.5, 0.2, 0.9], [2.0, 0.5, 3.0]])).mode)
