"""Poisson, Binomial, Multinomial, Geometric, NegativeBinomial, ContinuousBernoulli, VonMises,
FisherSnedecor and Kumaraswamy against torch.distributions: values, dtypes and gradients of
log_prob, entropy, moments, mode, cdf/icdf; shapes, expand and enumerate_support; samples equal
to PyTorch's for a seed (all but NegativeBinomial's and FisherSnedecor's, which come from Gamma
draws PyTorch makes differently: those are checked statistically); rsample gradients; KL
divergences; PyTorch's validation errors and reprs."""

import math

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch

import numpy2gpt as ng
import numpy2gpt.distributions  # noqa: F401  (ng.distributions)
from numpy2gpt.distributions.binomial import Binomial
from numpy2gpt.distributions.continuous_bernoulli import ContinuousBernoulli
from numpy2gpt.distributions.fishersnedecor import FisherSnedecor
from numpy2gpt.distributions.geometric import Geometric
from numpy2gpt.distributions.gumbel import Gumbel
from numpy2gpt.distributions.kumaraswamy import Kumaraswamy
from numpy2gpt.distributions.multinomial import Multinomial
from numpy2gpt.distributions.negative_binomial import NegativeBinomial
from numpy2gpt.distributions.pareto import Pareto
from numpy2gpt.distributions.poisson import Poisson
from numpy2gpt.distributions.transformed_distribution import TransformedDistribution
from numpy2gpt.distributions.von_mises import VonMises

OURS = {"Gumbel": Gumbel, "Pareto": Pareto, "Poisson": Poisson, "Binomial": Binomial,
        "Multinomial": Multinomial, "Geometric": Geometric, "NegativeBinomial": NegativeBinomial,
        "ContinuousBernoulli": ContinuousBernoulli, "VonMises": VonMises,
        "FisherSnedecor": FisherSnedecor, "Kumaraswamy": Kumaraswamy}


class _Namespace:
    """ng.distributions plus the new classes this file needs (until the package exports
    them)."""

    def __getattr__(self, name):
        return OURS.get(name) or getattr(ng.distributions, name)


def D(lib):
    return _Namespace() if lib is ng else lib.distributions


R = np.random.default_rng(3)
RATE = R.uniform(0.5, 15.0, (2, 3))
COUNTS = R.integers(0, 12, (4, 2, 3)).astype(float)
PROBS = R.uniform(0.1, 0.9, (2, 3))
LOGITS = R.standard_normal((2, 3))
TOTAL = np.array([[1, 4, 8], [8, 3, 0]])  # Binomial trials per batch entry
BIN_VALUES = R.integers(0, 9, (4, 2, 3)).astype(float) % (TOTAL + 1)
MULTI_P = R.uniform(0.1, 1.0, (2, 4))
MULTI_VALUES = R.multinomial(6, [0.25] * 4, size=(3, 2)).astype(float)
NB_TOTAL = R.uniform(0.5, 5.0, (2, 3))
CB_PROBS = np.array([[0.1, 0.4995, 0.5], [0.5008, 0.7, 0.95]])  # some in the Taylor region
CB_LOGITS = np.array([[-2.0, 0.001, 0.0], [0.5, -0.003, 3.0]])
U01 = R.uniform(0.02, 0.98, (4, 2, 3))
LOC = R.standard_normal((2, 3))
CONC = np.array([[0.2, 1.5, 3.7], [3.8, 6.0, 30.0]])  # both sides of I0's switch at 3.75
REAL = 3 * R.standard_normal((4, 2, 3))
DF1 = np.array([[0.8, 2.0, 3.5], [6.0, 1.5, 12.0]])
DF2 = np.array([[1.5, 3.0, 4.5], [9.0, 2.5, 20.0]])  # mean / variance NaN for df2 <= 2 / 4
POS = R.uniform(0.05, 4.0, (4, 2, 3))
A = R.uniform(0.5, 3.0, (2, 3))
B = R.uniform(0.5, 3.0, (2, 3))

MOMENTS = ["log_prob", "mean", "variance", "stddev", "mode"]
# name -> (make(lib, *params), params, values, methods)
FAMILIES = {
    "Poisson": (lambda lib, r: D(lib).Poisson(r), [RATE], COUNTS, MOMENTS),
    "Binomial_probs": (lambda lib, p: D(lib).Binomial(8, probs=p), [PROBS], BIN_VALUES,
                       MOMENTS + ["entropy"]),
    "Binomial_logits": (lambda lib, lg: D(lib).Binomial(8, logits=lg), [LOGITS], BIN_VALUES,
                        MOMENTS + ["entropy"]),
    "Binomial_counts": (lambda lib, n, p: D(lib).Binomial(n, p), [TOTAL, PROBS], BIN_VALUES,
                        MOMENTS),
    "Multinomial_probs": (lambda lib, p: D(lib).Multinomial(6, probs=p), [MULTI_P],
                          MULTI_VALUES, ["log_prob", "mean", "variance", "entropy"]),
    "Multinomial_logits": (lambda lib, lg: D(lib).Multinomial(6, logits=lg), [MULTI_P - 1],
                           MULTI_VALUES, ["log_prob", "mean", "variance", "entropy"]),
    "Geometric_probs": (lambda lib, p: D(lib).Geometric(p), [PROBS], COUNTS,
                        MOMENTS + ["entropy"]),
    "Geometric_logits": (lambda lib, lg: D(lib).Geometric(logits=lg), [LOGITS], COUNTS,
                         MOMENTS + ["entropy"]),
    "NegativeBinomial_probs": (lambda lib, n, p: D(lib).NegativeBinomial(n, p),
                               [NB_TOTAL, PROBS], COUNTS, MOMENTS),
    "NegativeBinomial_logits": (lambda lib, n, lg: D(lib).NegativeBinomial(n, logits=lg),
                                [NB_TOTAL, LOGITS], COUNTS, MOMENTS),
    "ContinuousBernoulli_probs": (lambda lib, p: D(lib).ContinuousBernoulli(p), [CB_PROBS],
                                  U01, ["log_prob", "mean", "variance", "stddev", "entropy",
                                        "cdf", "icdf"]),
    "ContinuousBernoulli_logits": (lambda lib, lg: D(lib).ContinuousBernoulli(logits=lg),
                                   [CB_LOGITS], U01, ["log_prob", "mean", "variance", "entropy",
                                                      "cdf", "icdf"]),
    "VonMises": (lambda lib, m, k: D(lib).VonMises(m, k), [LOC, CONC], REAL, MOMENTS),
    "FisherSnedecor": (lambda lib, d1, d2: D(lib).FisherSnedecor(d1, d2), [DF1, DF2], POS,
                       MOMENTS),
    "Kumaraswamy": (lambda lib, a, b: D(lib).Kumaraswamy(a, b), [A, B], U01,
                    MOMENTS + ["entropy", "cdf", "icdf"]),
}
METHODS = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(v),
}
CASES = [(f, m) for f in FAMILIES for m in FAMILIES[f][3]]


def _run(family, method, dtype):
    make, params, value, _ = FAMILIES[family]
    arrays = [p.astype(dtype) if p.dtype.kind == "f" else p for p in params]

    def fn(lib):
        return lambda *ps: METHODS[method](make(lib, *ps), lib.tensor(value.astype(dtype)))

    check_against_torch(fn(ng), fn(torch), arrays,
                        rtol=None if dtype == np.float64 else 2e-5,
                        grad_rtol=1e-7 if dtype == np.float64 else 1e-4, grad_atol=1e-12,
                        check_grad=dtype == np.float64 and method != "mode")


@pytest.mark.parametrize("family,method", CASES)
def test_values_and_gradients_float64(family, method):
    _run(family, method, np.float64)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_float32_stays_float32(family):
    for method in FAMILIES[family][3]:
        if method != "mode":
            _run(family, method, np.float32)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_shapes_expand_and_flags(family):
    make, params, *_ = FAMILIES[family]
    ours, theirs = (make(lib, *[lib.tensor(p) for p in params]) for lib in (ng, torch))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert type(ours.batch_shape) is ng.Size
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    assert ours.support.is_discrete == theirs.support.is_discrete
    for sample_shape in [(), (5,), (2, 1)]:
        s_ours, s_theirs = ours.sample(sample_shape), theirs.sample(sample_shape)
        assert tuple(s_ours.shape) == tuple(s_theirs.shape)
        assert str(s_ours.dtype).split(".")[-1] == str(s_theirs.dtype).split(".")[-1]
        assert not s_ours.requires_grad
    shape = (4,) + tuple(ours.batch_shape)
    e_ours, e_theirs = ours.expand(shape), theirs.expand(shape)
    assert type(e_ours) is type(ours)
    assert isinstance(ours, TransformedDistribution) == isinstance(
        theirs, torch.distributions.TransformedDistribution)
    assert tuple(e_ours.batch_shape) == tuple(e_theirs.batch_shape)
    assert_close(e_ours.mean, e_theirs.mean)
    assert tuple(e_ours.sample().shape) == tuple(e_theirs.sample().shape)


def test_expanded_multinomial_entropy():
    """PyTorch's expanded Multinomial has no `_binomial` (its entropy raises AttributeError);
    numpy2gpt's gives the entropy of the unexpanded one, repeated."""
    d = D(ng).Multinomial(5, ng.tensor(MULTI_P))
    expanded = d.expand((3, 2))
    assert_close(expanded.entropy(), D(torch).Multinomial(5, torch.tensor(MULTI_P)).entropy()
                 .expand(3, 2))


P_HALF = np.array([0.0, 0.02, 0.3, 0.5, 0.97, 1.0])
SEEDED = {
    "Poisson": lambda lib: D(lib).Poisson(lib.tensor([0.0, 0.4, 3.0, 9.99, 10.0, 35.0, 700.0])),
    "Poisson_float32": lambda lib: D(lib).Poisson(lib.tensor(RATE, dtype=lib.float32) * 3),
    "Poisson_scalar": lambda lib: D(lib).Poisson(4.5),
    "Binomial": lambda lib: D(lib).Binomial(lib.tensor([[5.0], [40.0], [300.0]]),
                                            lib.tensor(P_HALF)),
    "Binomial_float32": lambda lib: D(lib).Binomial(
        lib.tensor([[3.0], [30.0], [500.0]], dtype=lib.float32),
        lib.tensor(P_HALF, dtype=lib.float32)),
    "Binomial_logits": lambda lib: D(lib).Binomial(25, logits=lib.tensor(LOGITS)),
    "Multinomial": lambda lib: D(lib).Multinomial(7, lib.tensor(MULTI_P)),
    "Multinomial_float32": lambda lib: D(lib).Multinomial(
        3, logits=lib.tensor(MULTI_P, dtype=lib.float32)),
    "Geometric": lambda lib: D(lib).Geometric(lib.tensor(PROBS)),
    "Geometric_float32": lambda lib: D(lib).Geometric(logits=lib.tensor(LOGITS,
                                                                         dtype=lib.float32)),
    "ContinuousBernoulli": lambda lib: D(lib).ContinuousBernoulli(lib.tensor(CB_PROBS)),
    "ContinuousBernoulli_float32": lambda lib: D(lib).ContinuousBernoulli(
        logits=lib.tensor(CB_LOGITS, dtype=lib.float32)),
    "VonMises": lambda lib: D(lib).VonMises(lib.tensor(LOC), lib.tensor(CONC)),
    "VonMises_float32": lambda lib: D(lib).VonMises(lib.tensor(LOC, dtype=lib.float32),
                                                    lib.tensor(CONC, dtype=lib.float32)),
    "VonMises_tiny": lambda lib: D(lib).VonMises(0.5, 1e-6),
    "Kumaraswamy": lambda lib: D(lib).Kumaraswamy(lib.tensor(A), lib.tensor(B)),
}


@pytest.mark.parametrize("name", list(SEEDED))
@pytest.mark.parametrize("sample_shape", [(), (30,)])
def test_samples_equal_pytorch_for_a_seed(name, sample_shape):
    out = []
    for lib in (ng, torch):
        lib.manual_seed(1234)
        d = SEEDED[name](lib)
        out.append((d.sample(sample_shape), d.sample(sample_shape), lib.rand(3)))
    for o, t in zip(*out):  # the generator moved on the same way
        # numpy's cos, arccos, log and pow may round the last bit differently from PyTorch's
        ulps = 4 if name.startswith(("VonMises", "Kumaraswamy", "ContinuousB")) else 0
        atol = ulps and ulps * np.finfo(o.numpy().dtype).eps * float(np.abs(t.numpy()).max())
        assert_close(o, t, rtol=0, atol=atol)


@pytest.mark.parametrize("family", ["ContinuousBernoulli_probs", "ContinuousBernoulli_logits",
                                    "Kumaraswamy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rsample_values_and_gradients(family, dtype):
    make, params, *_ = FAMILIES[family]

    def fn(lib):
        def run(*ps):
            lib.manual_seed(5)
            return make(lib, *ps).rsample((6,))
        return run

    tol = 1e-10 if dtype == np.float64 else 1e-4
    check_against_torch(fn(ng), fn(torch), [p.astype(dtype) for p in params], rtol=tol,
                        grad_rtol=tol, grad_atol=1e-12)


def test_statistics_of_gamma_based_samples():
    """NegativeBinomial (Gamma-Poisson) and FisherSnedecor (Gamma ratio) draws: means within
    5 standard errors of the exact ones, variances within 15%."""
    ng.manual_seed(0)
    cases = [(D(ng).NegativeBinomial(ng.tensor([0.5, 3.0, 7.0]), ng.tensor([0.2, 0.5, 0.6])),
              6000),
             (D(ng).FisherSnedecor(ng.tensor([2.0, 5.0, 20.0]), ng.tensor([12.0, 15.0, 30.0])),
              20000)]
    for d, n in cases:
        x = d.sample((n,)).numpy()
        mean, var = d.mean.numpy(), d.variance.numpy()
        assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / n))
        assert np.all(np.abs(x.var(0) / var - 1) < 0.15)
    rsample = D(ng).FisherSnedecor(ng.tensor([3.0], requires_grad=True), 5.0).rsample((4,))
    assert rsample.requires_grad and rsample.dtype == ng.float32


def test_sample_dtypes_and_integer_values():
    for lib in (ng, torch):
        lib.manual_seed(0)
        for d in (D(lib).Poisson(lib.tensor([2.0], dtype=lib.float64)),
                  D(lib).Binomial(10, lib.tensor([0.3])),
                  D(lib).NegativeBinomial(3.0, lib.tensor([0.4])),
                  D(lib).Geometric(lib.tensor([0.4])),
                  D(lib).Multinomial(4, lib.tensor([0.5, 0.5], dtype=lib.float64))):
            s = d.sample((50,))
            assert s.dtype == d.mean.dtype
            assert (s == s.floor()).all() and (s >= 0).all()


KL_MAKERS = {
    "Poisson": lambda lib, r: D(lib).Poisson(r),
    "Bernoulli": lambda lib, p: D(lib).Bernoulli(p),
    "Binomial": lambda lib, p: D(lib).Binomial(8, p),
    "Geometric": lambda lib, p: D(lib).Geometric(p),
    "ContinuousBernoulli": lambda lib, p: D(lib).ContinuousBernoulli(p),
    "Beta": lambda lib, a, b: D(lib).Beta(a, b),
    "Uniform": lambda lib, lo, hi: D(lib).Uniform(lo, hi),
    "Exponential": lambda lib, r: D(lib).Exponential(r),
    "Gamma": lambda lib, a, b: D(lib).Gamma(a, b),
    "Normal": lambda lib, m, s: D(lib).Normal(m, s),
    "Laplace": lambda lib, m, s: D(lib).Laplace(m, s),
    "Gumbel": lambda lib, m, s: D(lib).Gumbel(m, s),
    "Pareto": lambda lib, s, a: D(lib).Pareto(s, a),
}
INSIDE = 0.1 + 0.3 * PROBS  # a Uniform strictly inside (0, 1) ...
KL_PAIRS = {
    ("Poisson", "Poisson"): ([RATE], [RATE[::-1]]),
    ("Bernoulli", "Poisson"): ([PROBS], [RATE]),
    ("Poisson", "Bernoulli"): ([RATE], [PROBS]),
    ("Poisson", "Binomial"): ([RATE], [PROBS]),
    ("Binomial", "Binomial"): ([PROBS], [PROBS[::-1]]),
    ("Geometric", "Geometric"): ([PROBS], [PROBS[::-1]]),
    ("ContinuousBernoulli", "ContinuousBernoulli"): ([CB_PROBS], [CB_PROBS[::-1]]),
    ("Beta", "ContinuousBernoulli"): ([A, B], [CB_PROBS]),
    ("Uniform", "ContinuousBernoulli"): ([INSIDE, INSIDE + 0.4], [CB_PROBS]),
    ("ContinuousBernoulli", "Exponential"): ([CB_PROBS], [RATE]),
    ("ContinuousBernoulli", "Normal"): ([CB_PROBS], [LOC, A]),
    ("ContinuousBernoulli", "Uniform"): ([CB_PROBS], [-INSIDE, 1 + INSIDE]),
    ("Exponential", "ContinuousBernoulli"): ([RATE], [CB_PROBS]),
    ("Gamma", "ContinuousBernoulli"): ([A, B], [CB_PROBS]),
    ("Normal", "ContinuousBernoulli"): ([LOC, A], [CB_PROBS]),
    ("Laplace", "ContinuousBernoulli"): ([LOC, A], [CB_PROBS]),
    ("Gumbel", "ContinuousBernoulli"): ([LOC, A], [CB_PROBS]),
    ("Pareto", "ContinuousBernoulli"): ([A, B], [CB_PROBS]),
    ("ContinuousBernoulli", "Pareto"): ([CB_PROBS], [A, B]),
}


@pytest.mark.parametrize("pair", list(KL_PAIRS), ids="-".join)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_divergence(pair, dtype):
    (fp, fq), (pp, pq) = pair, KL_PAIRS[pair]
    n = len(pp)

    def fn(lib):
        return lambda *ps: D(lib).kl_divergence(KL_MAKERS[fp](lib, *ps[:n]),
                                                KL_MAKERS[fq](lib, *ps[n:]))

    arrays = [np.ascontiguousarray(a).astype(dtype) for a in pp + pq]
    check_against_torch(fn(ng), fn(torch), arrays,
                        rtol=None if dtype == np.float64 else 2e-5,
                        grad_rtol=1e-7 if dtype == np.float64 else 1e-4, grad_atol=1e-12,
                        check_grad=dtype == np.float64)


def test_kl_infinite_where_supports_differ():
    for lib in (ng, torch):
        t = lib.tensor
        kl = D(lib).kl_divergence
        assert kl(D(lib).Binomial(t([5.0, 4.0]), t([0.3, 0.3])),
                  D(lib).Binomial(t([4.0, 4.0]), t([0.5, 0.5]))).tolist()[0] == math.inf
        with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
            kl(D(lib).Binomial(3, t([0.3])), D(lib).Binomial(4, t([0.3])))
        cb = D(lib).ContinuousBernoulli(t([0.3, 0.3]))
        assert kl(cb, D(lib).Uniform(t([0.0, -0.1]), t([1.5, 1.1]))).tolist()[0] == math.inf
        assert kl(D(lib).Uniform(t([0.0, 0.1]), t([0.5, 0.5])), cb).tolist()[0] == math.inf
        assert math.isfinite(kl(D(lib).Uniform(t([0.0, 0.1]), t([0.5, 0.5])), cb).tolist()[1])


def _error(fn, error=ValueError):
    messages = []
    for lib in (ng, torch):
        with pytest.raises(error) as err:
            fn(lib)
        messages.append(str(err.value).replace("torch.Size", "numpy2gpt.Size"))
    return messages


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Poisson(lib.tensor([1.0, -1.0])),
    lambda lib: D(lib).Poisson(lib.tensor([1.0])).log_prob(lib.tensor([0.5])),
    lambda lib: D(lib).Binomial(lib.tensor([2.5]), lib.tensor([0.5])),
    lambda lib: D(lib).Binomial(5, lib.tensor([1.5])),
    lambda lib: D(lib).Binomial(5, lib.tensor([0.5])).log_prob(lib.tensor([6.0])),
    lambda lib: D(lib).Binomial(5, probs=lib.tensor([0.5]), logits=lib.tensor([0.0])),
    lambda lib: D(lib).Binomial(5),
    lambda lib: D(lib).Multinomial(3, lib.tensor([0.5, -0.5])),
    lambda lib: D(lib).Multinomial(3, lib.tensor(0.5)),
    lambda lib: D(lib).Multinomial(3, lib.tensor([0.5, 0.5])).log_prob(lib.tensor([-1.0, 2.0])),
    lambda lib: D(lib).Multinomial(3, lib.tensor([0.5, 0.5])).log_prob(lib.tensor([3.0, 2.0])),
    lambda lib: D(lib).Geometric(lib.tensor([0.0, 0.5])),
    lambda lib: D(lib).Geometric(lib.tensor([1.5])),
    lambda lib: D(lib).Geometric(logits=lib.tensor([0.0])).log_prob(lib.tensor([-1.0])),
    lambda lib: D(lib).Geometric(),
    lambda lib: D(lib).NegativeBinomial(lib.tensor([-1.0]), lib.tensor([0.5])),
    lambda lib: D(lib).NegativeBinomial(2.0, lib.tensor([1.0])),
    lambda lib: D(lib).NegativeBinomial(2.0, lib.tensor([0.5])).log_prob(lib.tensor([1.5])),
    lambda lib: D(lib).ContinuousBernoulli(lib.tensor([1.5]), validate_args=True),
    lambda lib: D(lib).ContinuousBernoulli(lib.tensor([0.3])).log_prob(lib.tensor([1.5])),
    lambda lib: D(lib).ContinuousBernoulli(),
    lambda lib: D(lib).VonMises(lib.tensor([0.0]), lib.tensor([0.0])),
    lambda lib: D(lib).VonMises(lib.tensor([math.nan]), 1.0),
    lambda lib: D(lib).FisherSnedecor(lib.tensor([-1.0]), 2.0),
    lambda lib: D(lib).FisherSnedecor(1.0, 2.0).log_prob(lib.tensor(-1.0)),
    lambda lib: D(lib).Kumaraswamy(lib.tensor([-1.0]), 2.0),
    lambda lib: D(lib).Kumaraswamy(1.0, 2.0).log_prob(lib.tensor(1.5)),
    lambda lib: D(lib).Kumaraswamy(1.0, 0.5).cdf(lib.tensor(1.5)),  # base Uniform's check
])
def test_validation_errors(fn):
    ours, theirs = _error(fn)
    assert ours == theirs


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Multinomial(lib.tensor(3), lib.tensor([0.5, 0.5])),
    lambda lib: D(lib).Binomial(lib.tensor([2.0, 3.0]), lib.tensor([0.5, 0.5])).entropy(),
    lambda lib: D(lib).Binomial(lib.tensor([2.0, 3.0]), lib.tensor(0.5)).enumerate_support(),
    lambda lib: D(lib).Poisson(2.0).entropy(),
    lambda lib: D(lib).VonMises(0.0, 1.0).rsample(),
])
def test_not_implemented(fn):
    _error(fn, NotImplementedError)


def test_validation_quirks_and_switch_off():
    for lib in (ng, torch):
        t = lib.tensor
        # probs are clamped into (0, 1) before the default validation sees them
        assert D(lib).ContinuousBernoulli(t([1.5])).probs.item() < 1
        d = D(lib).Poisson(t([-1.0]), validate_args=False)
        assert math.isnan(d.log_prob(t([1.0])).item())
        assert D(lib).Binomial(5, t([0.5]), validate_args=False).log_prob(t([7.0])).item() < 0
        assert math.isinf(D(lib).Geometric(t([0.0]), validate_args=False).log_prob(
            t([1.0])).item())


def test_log_prob_edge_cases():
    for lib in (ng, torch):
        t = lib.tensor
        # p = 1 and k = 0: probability 1, not 0 * log 0
        assert D(lib).Geometric(t([1.0])).log_prob(t([0.0])).item() == 0.0
        # r = 0 and k = 0: probability 1, though lgamma(0) is infinite
        assert D(lib).NegativeBinomial(t([0.0]), t([0.3])).log_prob(t([0.0])).item() == 0.0
        # a zero count of a zero-probability category contributes nothing
        m = D(lib).Multinomial(3, logits=t([0.0, -math.inf, 0.0]))
        assert m.log_prob(t([1.0, 0.0, 2.0])).item() == pytest.approx(math.log(3 / 8))
        assert D(lib).Poisson(t([0.0])).log_prob(t([0.0])).item() == 0.0


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Binomial(lib.tensor([[3.0], [3.0]]), lib.tensor([0.2, 0.5, 0.9])),
    lambda lib: D(lib).Binomial(4, logits=lib.tensor([0.2, -1.0], dtype=lib.float64)),
])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support(fn, expand):
    assert_close(fn(ng).enumerate_support(expand), fn(torch).enumerate_support(expand))


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Poisson(lib.tensor([1.0, 2.0])),
    lambda lib: D(lib).Poisson(3.0),
    lambda lib: D(lib).Binomial(10, lib.tensor([0.5])),
    lambda lib: D(lib).Binomial(10, lib.tensor([0.5])).support,
    lambda lib: D(lib).Multinomial(3, lib.tensor([0.5, 0.5])),
    lambda lib: D(lib).Multinomial(3, lib.tensor([0.5, 0.5])).support,
    lambda lib: D(lib).Geometric(logits=lib.zeros(2, 3)),
    lambda lib: D(lib).NegativeBinomial(2.0, logits=lib.tensor(0.5)),
    lambda lib: D(lib).ContinuousBernoulli(0.3),
    lambda lib: D(lib).VonMises(0.0, 1.0),
    lambda lib: D(lib).FisherSnedecor(lib.ones(3), 2.0),
    lambda lib: D(lib).Kumaraswamy(1.0, 2.0),
    lambda lib: D(lib).Kumaraswamy(1.0, 2.0).support,
])
def test_repr(fn):
    assert repr(fn(ng)) == repr(fn(torch)).replace("torch.Size", "numpy2gpt.Size")


def test_lazy_probs_and_logits():
    for make in (lambda lib: D(lib).Binomial(3, logits=lib.tensor([0.3, -1.0])),
                 lambda lib: D(lib).Geometric(probs=lib.tensor([0.2, 0.8])),
                 lambda lib: D(lib).NegativeBinomial(2.0, probs=lib.tensor([0.2, 0.8])),
                 lambda lib: D(lib).ContinuousBernoulli(logits=lib.tensor([0.2, 0.8])),
                 lambda lib: D(lib).Multinomial(2, probs=lib.tensor([0.2, 0.8]))):
        ours, theirs = make(ng), make(torch)
        assert_close(ours.probs, theirs.probs)
        assert_close(ours.logits, theirs.logits)
        if hasattr(theirs, "param_shape"):
            assert tuple(ours.param_shape) == tuple(theirs.param_shape)
