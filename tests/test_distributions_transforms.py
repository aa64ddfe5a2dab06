"""Transforms, TransformedDistribution and the families built on them (Gumbel, Weibull, Pareto,
HalfNormal, HalfCauchy, LogNormal, LogisticNormal, RelaxedBernoulli, RelaxedOneHotCategorical),
plus Cauchy, MixtureSameFamily and LowRankMultivariateNormal, against torch.distributions:
values, dtypes and gradients of the transforms and their log-dets, of log_prob / cdf / icdf /
entropy / moments, of seeded rsample draws (PyTorch's numbers: the samplers are rand, randn,
exponential_, cauchy_ and multinomial); shapes, expand, KL divergences, PyTorch's errors."""

import math
import types

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch

import numpy2gpt as ng
import numpy2gpt.distributions  # noqa: F401  (ng.distributions)
from numpy2gpt.distributions import kl as ng_kl
from numpy2gpt.distributions import transforms as ng_transforms
from numpy2gpt.distributions.cauchy import Cauchy
from numpy2gpt.distributions.gumbel import Gumbel
from numpy2gpt.distributions.half_cauchy import HalfCauchy
from numpy2gpt.distributions.half_normal import HalfNormal
from numpy2gpt.distributions.logistic_normal import LogisticNormal
from numpy2gpt.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from numpy2gpt.distributions.mixture_same_family import MixtureSameFamily
from numpy2gpt.distributions.pareto import Pareto
from numpy2gpt.distributions.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from numpy2gpt.distributions.relaxed_categorical import (
    ExpRelaxedCategorical,
    RelaxedOneHotCategorical,
)
from numpy2gpt.distributions.transformed_distribution import TransformedDistribution
from numpy2gpt.distributions.weibull import Weibull

_NG = types.SimpleNamespace(**{k: getattr(ng.distributions, k) for k in dir(ng.distributions)})
_NG.__dict__.update(
    Cauchy=Cauchy, Gumbel=Gumbel, HalfCauchy=HalfCauchy, HalfNormal=HalfNormal,
    LogisticNormal=LogisticNormal, LowRankMultivariateNormal=LowRankMultivariateNormal,
    MixtureSameFamily=MixtureSameFamily, Pareto=Pareto, RelaxedBernoulli=RelaxedBernoulli,
    RelaxedOneHotCategorical=RelaxedOneHotCategorical, TransformedDistribution=
    TransformedDistribution, Weibull=Weibull, transforms=ng_transforms,
    kl_divergence=ng_kl.kl_divergence)


def D(lib):
    """torch.distributions, or numpy2gpt's with the classes of this change."""
    return _NG if lib is ng else lib.distributions


def T(lib):
    return D(lib).transforms


R = np.random.default_rng(5)
LOC = R.standard_normal((2, 3))
A = R.uniform(0.4, 2.5, (2, 3))  # positive parameters
B = R.uniform(0.4, 2.5, (2, 3))
ALPHA = R.uniform(2.5, 4.0, (2, 3))  # Pareto alpha > 2: finite mean and variance
POS = R.uniform(0.1, 3.0, (4, 2, 3))
BIG = R.uniform(2.6, 6.0, (4, 2, 3))  # above Pareto's scale (B + ...)
REAL = 2 * R.standard_normal((4, 2, 3))
U01 = R.uniform(0.05, 0.95, (4, 2, 3))
PROBS = R.uniform(0.1, 0.9, (2, 3))
SIMPLEX = R.uniform(0.1, 1.0, (4, 2, 3))
SIMPLEX /= SIMPLEX.sum(-1, keepdims=True)
TEMP = np.array(0.7)

# name -> (make(lib, *params), params, values for log_prob / cdf)
FAMILIES = {
    "Gumbel": (lambda lib, m, s: D(lib).Gumbel(m, s), [LOC, A], REAL),
    "Weibull": (lambda lib, s, k: D(lib).Weibull(s, k), [A, B], POS),
    "Pareto": (lambda lib, s, a: D(lib).Pareto(s, a), [B, ALPHA], BIG),
    "HalfNormal": (lambda lib, s: D(lib).HalfNormal(s), [A], POS),
    "HalfCauchy": (lambda lib, s: D(lib).HalfCauchy(s), [A], POS),
    "Cauchy": (lambda lib, m, s: D(lib).Cauchy(m, s), [LOC, A], REAL),
    "LogNormal": (lambda lib, m, s: D(lib).LogNormal(m, s), [LOC, A], POS),
    "LogisticNormal": (lambda lib, m, s: D(lib).LogisticNormal(m[..., :2], s[..., :2]),
                       [LOC, A], SIMPLEX),
    "RelaxedBernoulli": (lambda lib, t, p: D(lib).RelaxedBernoulli(t, probs=p),
                         [TEMP, PROBS], U01),
    "RelaxedBernoulliLogits": (lambda lib, t, x: D(lib).RelaxedBernoulli(t, logits=x),
                               [TEMP, LOC], U01),
    "RelaxedOneHotCategorical": (lambda lib, t, x: D(lib).RelaxedOneHotCategorical(t, logits=x),
                                 [TEMP, LOC], SIMPLEX),
}
METHODS = {
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(v.clamp(0.05, 0.95)),
}
HAS = {  # the methods PyTorch gives each family (others raise NotImplementedError there)
    "Gumbel": set(METHODS), "Weibull": set(METHODS), "Pareto": set(METHODS),
    "HalfNormal": set(METHODS), "HalfCauchy": set(METHODS), "Cauchy": set(METHODS),
    "LogNormal": set(METHODS), "LogisticNormal": {"log_prob"},
    "RelaxedBernoulli": {"log_prob"}, "RelaxedBernoulliLogits": {"log_prob"},
    "RelaxedOneHotCategorical": {"log_prob"},
}
CASES = [(f, m) for f in FAMILIES for m in METHODS if m in HAS[f]]


def _run(family, method, dtype, rtol=None):
    make, params, value = FAMILIES[family]
    fn = METHODS[method]
    if method == "icdf":
        value = U01
    arrays = [p.astype(dtype) for p in params]

    def run(lib):
        return lambda *ps: fn(make(lib, *ps), lib.tensor(value.astype(dtype)))

    check_against_torch(run(ng), run(torch), arrays, rtol=rtol, grad_rtol=rtol, grad_atol=1e-12)


@pytest.mark.parametrize("family,method", CASES)
def test_values_and_gradients_float64(family, method):
    _run(family, method, np.float64)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_float32_stays_float32(family):
    for method in sorted(HAS[family] & {"log_prob", "entropy", "mean", "cdf"}):
        _run(family, method, np.float32, rtol=1e-4)


def test_methods_pytorch_lacks_raise_as_pytorch():
    for family in ("LogisticNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical"):
        make, params, value = FAMILIES[family]
        for lib in (ng, torch):
            d = make(lib, *[lib.tensor(p) for p in params])
            for method in ("entropy", "mean", "cdf"):
                with pytest.raises(NotImplementedError):
                    METHODS[method](d, lib.tensor(value))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_seeded_rsample_values_and_gradients(family):
    """Same seed, same draws as PyTorch, and the same reparameterization gradients."""
    make, params, _ = FAMILIES[family]

    def run(lib):
        def fn(*ps):
            lib.manual_seed(7)
            return make(lib, *ps).rsample((5,))
        return fn

    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 1e-4)):
        ours, _, _, _ = check_against_torch(run(ng), run(torch), [p.astype(dtype) for p in params],
                                            rtol=rtol, grad_rtol=rtol, grad_atol=1e-9)
        assert ours[0].dtype == dtype


@pytest.mark.parametrize("family", list(FAMILIES))
def test_sample_shapes_support_and_flags(family):
    make, params, value = FAMILIES[family]
    d, td = (make(lib, *[lib.tensor(p, requires_grad=True) for p in params]) for lib in (ng, torch))
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    assert repr(d.support).replace("numpy2gpt", "torch") == repr(td.support)
    ng.manual_seed(1)
    torch.manual_seed(1)
    s, ts = d.sample((3, 2)), td.sample((3, 2))
    assert not s.requires_grad
    assert_close(s, ts, rtol=1e-9)
    assert bool(d.support.check(s).all())
    assert isinstance(d, TransformedDistribution) == isinstance(td, torch.distributions
                                                                .TransformedDistribution)
    assert repr(d).replace("numpy2gpt", "torch") == repr(td)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_expand(family):
    make, params, value = FAMILIES[family]
    outs = []
    for lib in (ng, torch):
        d = make(lib, *[lib.tensor(p[:1] if p.ndim else p) for p in params])  # batch (1, 3)
        e = d.expand((4,) + tuple(d.batch_shape))
        lib.manual_seed(2)
        outs.append((type(e).__name__, tuple(e.batch_shape), tuple(e.event_shape),
                     e.log_prob(lib.tensor(value[:1])).numpy(), e.sample().numpy(),
                     e._validate_args))
    (n1, b1, e1, lp1, s1, v1), (n2, b2, e2, lp2, s2, v2) = outs
    assert (n1, b1, e1, v1) == (n2, b2, e2, v2)
    assert_close(lp1, lp2)
    assert_close(s1, s2, rtol=1e-9)


def test_lognormal_is_a_transformed_distribution():
    d = ng.distributions.LogNormal(ng.tensor(0.5), ng.tensor(1.5))
    assert isinstance(d, TransformedDistribution)
    assert isinstance(d.transforms[0], ng_transforms.ExpTransform)
    assert isinstance(d.base_dist, ng.distributions.Normal)


# ----- validation errors (PyTorch's types and messages)
BAD = {
    "Gumbel": lambda lib: D(lib).Gumbel(lib.tensor([0.0]), lib.tensor([-1.0])),
    "Weibull": lambda lib: D(lib).Weibull(lib.tensor([1.0]), lib.tensor([0.0])),
    "Pareto": lambda lib: D(lib).Pareto(lib.tensor([1.0]), lib.tensor([-2.0])),
    "HalfNormal": lambda lib: D(lib).HalfNormal(lib.tensor([-1.0])),
    "HalfCauchy": lambda lib: D(lib).HalfCauchy(lib.tensor([0.0])),
    "Cauchy": lambda lib: D(lib).Cauchy(lib.tensor([math.nan]), lib.tensor([1.0])),
    "LogisticNormal": lambda lib: D(lib).LogisticNormal(lib.tensor([0.0]), lib.tensor([-1.0])),
    "RelaxedBernoulli": lambda lib: D(lib).RelaxedBernoulli(lib.tensor(0.5),
                                                            probs=lib.tensor([1.5])),
    "RelaxedOneHotCategorical": lambda lib: D(lib).RelaxedOneHotCategorical(
        lib.tensor(0.5), probs=lib.tensor([-0.5, 1.5])),
    "LowRankMultivariateNormal": lambda lib: D(lib).LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(2, 1), lib.tensor([1.0, -1.0])),
}


def _outcome(fn, lib):
    """fn(lib), or the type of the exception it raises."""
    try:
        return fn(lib)
    except Exception as e:
        return type(e)


def _message(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.type, str(info.value).replace("numpy2gpt", "torch")


@pytest.mark.parametrize("family", list(BAD))
def test_invalid_parameters_raise_pytorchs_error(family):
    ours, theirs = _message(BAD[family], ng), _message(BAD[family], torch)
    assert ours[0] is theirs[0] is ValueError
    assert ours[1] == theirs[1]


def test_half_distributions_outside_their_support_without_validation():
    for name in ("HalfNormal", "HalfCauchy"):
        def run(lib, name=name):
            d = getattr(D(lib), name)(lib.tensor([1.0, 2.0, 0.5]), validate_args=False)
            return d.log_prob(lib.tensor([-1.0, 0.0, 2.0]))

        ours, theirs = run(ng), run(torch)
        assert_close(ours, theirs)
        assert ours[0].item() == -math.inf


def test_invalid_parameters_pass_without_validation():
    for lib in (ng, torch):
        D(lib).Gumbel(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=False)
        D(lib).HalfNormal(lib.tensor([-1.0]), validate_args=False)


@pytest.mark.parametrize("family,value", [("HalfNormal", -1.0), ("Pareto", 0.5),
                                          ("Weibull", -2.0), ("LogisticNormal", None)])
def test_values_outside_the_support_raise(family, value):
    make, params, _ = FAMILIES[family]

    def run(lib):
        d = make(lib, *[lib.tensor(p) for p in params])
        v = lib.tensor([0.7, 0.7, 0.7]) if value is None else lib.full(d.batch_shape, value)
        return d.log_prob(v)

    ours, theirs = _message(run, ng), _message(run, torch)
    assert ours[0] is theirs[0] is ValueError
    assert ours[1].split(" of the distribution")[0] == theirs[1].split(" of the distribution")[0]


# ----- transforms
TRANSFORMS = {  # name -> (make(lib, param), param, input x)
    "Exp": (lambda lib, p: T(lib).ExpTransform(), None, REAL),
    "AffineNumber": (lambda lib, p: T(lib).AffineTransform(1.5, -2.0), None, REAL),
    "AffineTensor": (lambda lib, p: T(lib).AffineTransform(p, p * 2 - 1), LOC, REAL),
    "AffineEvent1": (lambda lib, p: T(lib).AffineTransform(0.5, p, event_dim=1), LOC, REAL),
    "Sigmoid": (lambda lib, p: T(lib).SigmoidTransform(), None, REAL),
    "Tanh": (lambda lib, p: T(lib).TanhTransform(), None, REAL),
    "Softplus": (lambda lib, p: T(lib).SoftplusTransform(), None, REAL),
    "Power": (lambda lib, p: T(lib).PowerTransform(p), A, POS),
    "StickBreaking": (lambda lib, p: T(lib).StickBreakingTransform(), None, REAL),
    "InverseSigmoid": (lambda lib, p: T(lib).SigmoidTransform().inv, None, U01),
    "Compose": (lambda lib, p: T(lib).ComposeTransform(
        [T(lib).ExpTransform(), T(lib).AffineTransform(p, 3.0), T(lib).ExpTransform().inv]),
        A, REAL),
    "ComposeEvent": (lambda lib, p: T(lib).ComposeTransform(
        [T(lib).AffineTransform(p, 2.0), T(lib).StickBreakingTransform()]), LOC, REAL),
    "Independent": (lambda lib, p: T(lib).IndependentTransform(T(lib).TanhTransform(), 2),
                    None, REAL),
}


def _transform_case(name, dtype):
    make, param, x = TRANSFORMS[name]
    arrays = [x.astype(dtype)] + ([] if param is None else [param.astype(dtype)])

    def run(lib):
        def fn(x, p=None):
            t = make(lib, p)
            y = t(x)
            return y, t.inv(y), t.log_abs_det_jacobian(x, y)
        return fn

    rtol, atol = (1e-10, 1e-9) if dtype == np.float64 else (2e-5, 1e-6)
    check_against_torch(run(ng), run(torch), arrays, rtol=rtol, grad_rtol=rtol, grad_atol=atol)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_forward_inverse_logdet(name):
    _transform_case(name, np.float64)
    _transform_case(name, np.float32)


@pytest.mark.parametrize("name", list(TRANSFORMS) + ["Abs", "Softmax"])
def test_transform_attributes(name):
    extra = {"Abs": (lambda lib, p: T(lib).AbsTransform(), None, REAL),
             "Softmax": (lambda lib, p: T(lib).SoftmaxTransform(), None, REAL)}
    make, param, _ = {**TRANSFORMS, **extra}[name]
    t, tt = (make(lib, None if param is None else lib.tensor(param)) for lib in (ng, torch))
    for attr in ("bijective", "event_dim"):
        try:
            expected = getattr(tt, attr)
        except ValueError:
            with pytest.raises(ValueError):
                getattr(t, attr)
            continue
        assert getattr(t, attr) == expected, attr
    for attr in ("domain", "codomain"):
        assert repr(getattr(t, attr)).replace("numpy2gpt", "torch") == repr(getattr(tt, attr))
        assert getattr(t, attr).event_dim == getattr(tt, attr).event_dim
    for shape in ((4, 2, 3), (2, 3), (2, 4), ()):
        for method in ("forward_shape", "inverse_shape"):
            ours, theirs = (_outcome(lambda lib, tr=tr, method=method, shape=shape:
                                     tuple(getattr(tr, method)(lib.Size(shape))), lib)
                            for lib, tr in ((ng, t), (torch, tt)))
            assert ours == theirs, (method, shape)
    try:
        sign = tt.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _ = t.sign
    else:
        ours = t.sign
        assert type(ours).__name__ == type(sign).__name__
        assert_close(np.asarray(ours.numpy() if isinstance(ours, ng.Tensor) else ours),
                     np.asarray(sign.numpy() if isinstance(sign, torch.Tensor) else sign))
    assert t.inv.inv is t
    assert repr(t).replace("numpy2gpt", "torch") == repr(tt)


def test_abs_and_softmax_pseudo_inverses():
    x = REAL
    for name in ("AbsTransform", "SoftmaxTransform"):
        outs = []
        for lib in (ng, torch):
            t = getattr(T(lib), name)()
            y = t(lib.tensor(x))
            outs.append((y.numpy(), t.inv(y).numpy(), t(t.inv(y)).numpy()))
        for a, b in zip(*outs):
            assert_close(a, b)
        with pytest.raises(NotImplementedError):
            getattr(T(ng), name)().log_abs_det_jacobian(ng.tensor(x), ng.tensor(x))


def test_transform_equality_and_hashing():
    tr = ng_transforms
    assert tr.ExpTransform() == tr.ExpTransform()
    assert tr.ExpTransform().inv == tr.ExpTransform().inv
    assert tr.ExpTransform() != tr.SigmoidTransform()
    assert tr.AffineTransform(1.0, 2.0) == tr.AffineTransform(1.0, 2.0)
    assert tr.AffineTransform(1.0, 2.0) != tr.AffineTransform(1.0, 3.0)
    assert tr.AffineTransform(ng.zeros(2), ng.ones(2)) == tr.AffineTransform(0.0, ng.ones(2))
    assert tr.PowerTransform(2.0) != tr.PowerTransform(3.0)
    assert tr.ComposeTransform([tr.ExpTransform()]) == tr.ComposeTransform([tr.ExpTransform()])
    with pytest.raises(TypeError, match="unhashable"):
        hash(tr.ExpTransform())


def test_transform_cache_and_its_errors():
    x = ng.tensor([0.5, 3.0], requires_grad=True)
    t = ng_transforms.TanhTransform(cache_size=1)
    y = t(x)
    assert t(x) is y and t.inv(y) is x  # the cached pair: exact, even where atanh is not
    assert ng_transforms.ExpTransform().with_cache(1)._cache_size == 1
    for lib in (ng, torch):
        with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
            T(lib).ExpTransform(cache_size=2)

    def custom(lib):
        class Scaled(T(lib).Transform):
            def __init__(self, factor):
                super().__init__()
                self.factor = factor

        return Scaled(2.0).with_cache(1)

    ours, theirs = _message(custom, ng), _message(custom, torch)
    assert ours[0] is theirs[0] is NotImplementedError
    assert ours[1].endswith("Scaled'>.with_cache is not implemented")
    assert theirs[1].endswith("Scaled'>.with_cache is not implemented")
    ours, theirs = (_message(lambda lib: T(lib).ReshapeTransform((2, 3), (5,)), lib)
                    for lib in (ng, torch))
    assert ours == theirs


def test_reshape_transform_against_torch():
    def run(lib):
        def fn(x):
            t = T(lib).ReshapeTransform((2, 3), (3, 2))
            y = t(x)
            return y, t.inv(y), t.log_abs_det_jacobian(x, y)
        return fn

    check_against_torch(run(ng), run(torch), [REAL])


# ----- TransformedDistribution itself
def test_transformed_distribution_logistic():
    """Uniform pushed through logit and an affine map: a Logistic, with cdf and icdf."""
    def make(lib, loc, scale):
        return D(lib).TransformedDistribution(
            D(lib).Uniform(lib.zeros(2, 3, dtype=loc.dtype), lib.ones(2, 3, dtype=loc.dtype)),
            [T(lib).SigmoidTransform().inv, T(lib).AffineTransform(loc, scale)])

    for method in ("log_prob", "cdf", "icdf"):
        value = U01 if method == "icdf" else REAL

        def run(lib, method=method, value=value):
            return lambda m, s: METHODS[method](make(lib, m, s), lib.tensor(value))

        check_against_torch(run(ng), run(torch), [LOC, A], grad_atol=1e-12)


def test_transformed_distribution_decreasing_transform_cdf():
    def run(lib):
        def fn(scale, v):
            d = D(lib).TransformedDistribution(D(lib).Exponential(lib.ones(2, 3, dtype=v.dtype)),
                                               [T(lib).AffineTransform(0.0, -scale)])
            return d.cdf(-v), d.icdf(v.clamp(0.05, 0.95)), d.log_prob(-v)
        return fn

    check_against_torch(run(ng), run(torch), [A, U01], grad_atol=1e-12)


def test_transformed_distribution_event_shapes_and_broadcast_base():
    for lib in (ng, torch):
        base = D(lib).Normal(lib.zeros(3), lib.ones(3))
        d = D(lib).TransformedDistribution(base, [T(lib).StickBreakingTransform()])
        assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((), (4,))
        d = D(lib).TransformedDistribution(D(lib).Normal(0.0, 1.0),
                                           T(lib).AffineTransform(lib.zeros(2, 3), 2.0))
        assert (tuple(d.batch_shape), tuple(d.base_dist.batch_shape)) == ((2, 3), (2, 3))
        d = D(lib).TransformedDistribution(D(lib).Normal(lib.zeros(2, 3), 1.0), [])
        assert (tuple(d.batch_shape), repr(d.support)) == ((2, 3), "Real()")


def test_transformed_distribution_errors():
    for bad in ("exp", [1]):
        ours, theirs = (_message(lambda lib, bad=bad: D(lib).TransformedDistribution(
            D(lib).Normal(0.0, 1.0), bad), lib) for lib in (ng, torch))
        assert ours == theirs and ours[0] is ValueError
    ours, theirs = (_message(lambda lib: D(lib).TransformedDistribution(
        D(lib).Normal(0.0, 1.0), T(lib).StickBreakingTransform()), lib) for lib in (ng, torch))
    assert ours == theirs and ours[0] is ValueError


def test_tanh_normal_with_cache_scores_its_own_samples():
    """The squashed Gaussian of SAC: cache_size=1 lets log_prob use the pre-tanh draw."""
    def run(lib):
        def fn(m, s):
            d = D(lib).TransformedDistribution(D(lib).Normal(m, s),
                                               [T(lib).TanhTransform(cache_size=1)])
            lib.manual_seed(4)
            x = d.rsample()
            return x, d.log_prob(x)
        return fn

    check_against_torch(run(ng), run(torch), [3 * LOC, A], grad_atol=1e-12)


# ----- MixtureSameFamily
def _gmm(lib, logits, loc, scale):
    return D(lib).MixtureSameFamily(D(lib).Categorical(logits=logits), D(lib).Normal(loc, scale))


@pytest.mark.parametrize("method", ["log_prob", "cdf", "mean", "variance"])
def test_mixture_same_family(method):
    def run(lib):
        return lambda w, m, s: METHODS[method](_gmm(lib, w, m, s), lib.tensor(REAL[..., :1]))

    check_against_torch(run(ng), run(torch), [LOC, LOC * 2, A], grad_atol=1e-12)
    check_against_torch(run(ng), run(torch), [x.astype(np.float32) for x in (LOC, LOC, A)],
                        rtol=1e-4, grad_rtol=1e-4)


def test_mixture_same_family_of_multivariate_components():
    def make(lib, w, m, s):
        comp = D(lib).Independent(D(lib).Normal(m.reshape(2, 3, 1).expand(2, 3, 4),
                                                s.reshape(2, 3, 1).expand(2, 3, 4)), 1)
        return D(lib).MixtureSameFamily(D(lib).Categorical(logits=w), comp)

    def run(lib):
        def fn(w, m, s):
            d = make(lib, w, m, s)
            lib.manual_seed(6)
            return d.log_prob(lib.tensor(X4[:, :, :4])), d.mean, d.variance, d.sample((5,))
        return fn

    check_against_torch(run(ng), run(torch), [LOC, LOC, A], grad_atol=1e-12)
    d, td = (make(lib, *[lib.tensor(x) for x in (LOC, LOC, A)]) for lib in (ng, torch))
    assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((2,), (4,)) == (
        tuple(td.batch_shape), tuple(td.event_shape))
    e, te = d.expand((3, 2)), td.expand((3, 2))
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    assert repr(d.support).replace("numpy2gpt", "torch") == repr(td.support)
    assert repr(d).replace("numpy2gpt", "torch") == repr(td)
    assert not d.has_rsample
    with pytest.raises(NotImplementedError):
        d.rsample()


def test_mixture_same_family_errors():
    def cases(lib):
        cat3, normal3 = D(lib).Categorical(lib.ones(3)), D(lib).Normal(lib.zeros(3), 1.0)
        yield lambda lib: D(lib).MixtureSameFamily(normal3, normal3)
        yield lambda lib: D(lib).MixtureSameFamily(cat3, "normal")
        yield lambda lib: D(lib).MixtureSameFamily(D(lib).Categorical(lib.ones(4)), normal3)
        yield lambda lib: D(lib).MixtureSameFamily(D(lib).Categorical(lib.ones(2, 3)),
                                                   D(lib).Normal(lib.zeros(5, 3), 1.0))

    for ours_case, torch_case in zip(cases(ng), cases(torch)):
        ours, theirs = _message(ours_case, ng), _message(torch_case, torch)
        assert ours == theirs and ours[0] is ValueError


# ----- LowRankMultivariateNormal
W = R.standard_normal((2, 4, 2))
COV_DIAG = R.uniform(0.5, 2.0, (2, 4))
MVN_LOC = R.standard_normal((2, 4))
X4 = R.standard_normal((3, 2, 4))


@pytest.mark.parametrize("what", ["log_prob", "entropy", "variance", "scale_tril",
                                  "covariance_matrix", "precision_matrix", "rsample"])
def test_lowrank_multivariate_normal(what):
    def run(lib):
        def fn(m, w, d):
            dist = D(lib).LowRankMultivariateNormal(m, w, d)
            if what == "log_prob":
                return dist.log_prob(lib.tensor(X4, dtype=m.dtype))
            if what == "entropy":
                return dist.entropy()
            if what == "rsample":
                lib.manual_seed(8)
                return dist.rsample((3,))
            return getattr(dist, what)
        return fn

    check_against_torch(run(ng), run(torch), [MVN_LOC, W, COV_DIAG], grad_atol=1e-10)
    check_against_torch(run(ng), run(torch), [x.astype(np.float32) for x in (MVN_LOC, W, COV_DIAG)],
                        rtol=1e-4, grad_rtol=1e-4)


def test_lowrank_multivariate_normal_shapes_and_errors():
    for lib in (ng, torch):
        d = D(lib).LowRankMultivariateNormal(lib.zeros(4), lib.tensor(W), lib.tensor(COV_DIAG))
        assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((2,), (4,))
        e = d.expand((3, 2))
        assert tuple(e.cov_factor.shape) == (3, 2, 4, 2)
    bad = [lambda lib: D(lib).LowRankMultivariateNormal(lib.tensor(0.0), lib.ones(1, 1),
                                                        lib.ones(1)),
           lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(4), lib.ones(4), lib.ones(4)),
           lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(4), lib.ones(3, 1),
                                                        lib.ones(4)),
           lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(4), lib.ones(4, 1),
                                                        lib.ones(3)),
           lambda lib: D(lib).LowRankMultivariateNormal(lib.zeros(3, 4), lib.ones(2, 4, 1),
                                                        lib.ones(4))]
    for case in bad:
        ours, theirs = _message(case, ng), _message(case, torch)
        assert ours == theirs and ours[0] is ValueError


# ----- KL divergences
KL_FAMILIES = {  # name -> make(lib, x, y) for (2, 3) parameter arrays x, y
    "Gumbel": lambda lib, x, y: D(lib).Gumbel(x - 1, y),
    "Pareto": lambda lib, x, y: D(lib).Pareto(y, x + 2),
    "HalfNormal": lambda lib, x, y: D(lib).HalfNormal(y),
    "Cauchy": lambda lib, x, y: D(lib).Cauchy(x, y),
    "LogNormal": lambda lib, x, y: D(lib).LogNormal(x, y),
    "Normal": lambda lib, x, y: D(lib).Normal(x, y),
    "Exponential": lambda lib, x, y: D(lib).Exponential(y),
    "Gamma": lambda lib, x, y: D(lib).Gamma(x + 1, y),
    "Uniform": lambda lib, x, y: D(lib).Uniform(x, x + y),
    "Beta": lambda lib, x, y: D(lib).Beta(x + 1, y),
    "Laplace": lambda lib, x, y: D(lib).Laplace(x, y),
}
KL_PAIRS = [("Gumbel", "Gumbel"), ("Pareto", "Pareto"), ("HalfNormal", "HalfNormal"),
            ("Cauchy", "Cauchy"), ("LogNormal", "LogNormal"), ("Exponential", "Gumbel"),
            ("Gamma", "Gumbel"), ("Gumbel", "Normal"), ("Normal", "Gumbel"),
            ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
            ("Uniform", "Gumbel"), ("Uniform", "Pareto")]
KL_INFINITE = [("Gumbel", "Beta"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"),
               ("Gumbel", "Pareto"), ("Gumbel", "Uniform"), ("Normal", "Pareto"),
               ("Laplace", "Pareto"), ("Exponential", "Pareto"), ("Gamma", "Pareto"),
               ("Beta", "Pareto"), ("Pareto", "Beta"), ("Pareto", "Uniform")]


@pytest.mark.parametrize("p,q", KL_PAIRS + KL_INFINITE)
def test_kl_divergence(p, q):
    x1, y1 = np.abs(LOC) + 0.5, A
    x2, y2 = np.abs(LOC[::-1]).copy() + 0.3, B

    def run(lib):
        return lambda a, b, c, d: D(lib).kl_divergence(KL_FAMILIES[p](lib, a, b),
                                                       KL_FAMILIES[q](lib, c, d))

    ours, theirs, _, _ = check_against_torch(run(ng), run(torch), [x1, y1, x2, y2],
                                             grad_atol=1e-12)
    if (p, q) in KL_INFINITE:
        assert np.isinf(ours[0].detach().numpy()).all()
    else:
        assert np.isfinite(theirs[0].detach().numpy()).any()  # a real test of the formula


def test_kl_infinite_where_supports_do_not_nest_and_undefined_pairs():
    def run(lib):
        p = D(lib).Pareto(lib.tensor([1.0, 3.0]), lib.tensor([3.0, 0.5]))
        q = D(lib).Pareto(lib.tensor([2.0, 2.0]), lib.tensor([2.0, 2.0]))
        e = D(lib).Exponential(lib.tensor([1.0, 1.0]))
        p2 = D(lib).Pareto(lib.tensor([1.0, 1.0, 1.0]), lib.tensor([0.8, 1.5, 3.0]))
        g = D(lib).Gamma(lib.tensor([2.0, 2.0, 2.0]), lib.tensor([1.0, 1.0, 1.0]))
        n = D(lib).Normal(lib.tensor([2.0, 2.0, 2.0]), lib.tensor([1.0, 1.0, 1.0]))
        return (D(lib).kl_divergence(p, q).numpy(), D(lib).kl_divergence(p, e).numpy(),
                D(lib).kl_divergence(p2, g).numpy(), D(lib).kl_divergence(p2, n).numpy())

    for a, b in zip(run(ng), run(torch)):
        assert_close(a, b)
    for lib in (ng, torch):
        with pytest.raises(NotImplementedError):  # different transforms
            D(lib).kl_divergence(D(lib).LogNormal(0.0, 1.0), D(lib).Weibull(1.0, 1.0))


@pytest.mark.parametrize("pair", ["lowrank_lowrank", "mvn_lowrank", "lowrank_mvn"])
def test_kl_lowrank(pair):
    S = R.standard_normal((4, 4))
    S = S @ S.T + 4 * np.eye(4)

    def run(lib):
        def fn(m, w, d, s):
            lr = D(lib).LowRankMultivariateNormal(m, w, d)
            lr2 = D(lib).LowRankMultivariateNormal(m.flip(0) * 0.5, w.flip(0), d.flip(0) + 1)
            mvn = D(lib).MultivariateNormal(m[0] + 1, covariance_matrix=s @ s.mT)
            p, q = {"lowrank_lowrank": (lr, lr2), "mvn_lowrank": (mvn, lr),
                    "lowrank_mvn": (lr, mvn)}[pair]
            return D(lib).kl_divergence(p, q)
        return fn

    check_against_torch(run(ng), run(torch), [MVN_LOC, W, COV_DIAG, S], grad_atol=1e-10)
    ours, theirs = (_message(lambda lib: D(lib).kl_divergence(
        D(lib).LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(3)),
        D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2))), lib) for lib in (ng, torch))
    assert ours == theirs and ours[0] is ValueError


def test_relaxed_base_distributions():
    """The log-space bases: LogitRelaxedBernoulli and ExpRelaxedCategorical."""
    def run(lib):
        def fn(t, x):
            mod = lib.distributions if lib is torch else None
            lrb = (LogitRelaxedBernoulli if mod is None else mod.relaxed_bernoulli
                   .LogitRelaxedBernoulli)(t, logits=x)
            erc = (ExpRelaxedCategorical if mod is None else mod.relaxed_categorical
                   .ExpRelaxedCategorical)(t, logits=x)
            lib.manual_seed(9)
            s1, s2 = lrb.rsample((2,)), erc.rsample((2,))
            return s1, lrb.log_prob(s1), s2, erc.log_prob(s2), erc.expand((2, 2)).log_prob(s2)
        return fn

    check_against_torch(run(ng), run(torch), [TEMP, LOC], grad_atol=1e-12)
