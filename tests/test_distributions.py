"""numpy2gpt.distributions against torch.distributions: values, dtypes and shapes of log_prob,
entropy, moments, cdf/icdf; gradients (float64) w.r.t. the parameters; samples equal to
PyTorch's for a seed; KL divergences; validation errors with PyTorch's messages; reprs."""

import math

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch

import numpy2gpt as ng
import numpy2gpt.distributions  # noqa: F401  (ng.distributions)

R = np.random.default_rng(7)
LOC = R.standard_normal((2, 3))
SCALE = R.uniform(0.5, 2.0, (2, 3))
X = R.standard_normal((4, 2, 3))  # sample_shape (4,) + batch (2, 3)
U01 = R.uniform(0.05, 0.95, (4, 2, 3))
POS = R.uniform(0.1, 3.0, (4, 2, 3))
PROBS = R.uniform(0.1, 0.9, (2, 3))
LOGITS = R.standard_normal((2, 4))
K_VALUES = np.array([[0, 3], [2, 1], [1, 1]])  # (sample 3, batch 2) categories
A = R.standard_normal((2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + np.eye(3)
TRIL = np.tril(A) + 3 * np.eye(3)  # a scale_tril leaf: its upper entries get no gradient
MVN_X = R.standard_normal((5, 2, 3))


def D(lib):
    return lib.distributions


# name -> (make(lib, *params), params, values for log_prob / cdf / icdf (None: not tested))
FAMILIES = {
    "Normal": (lambda lib, m, s: D(lib).Normal(m, s), [LOC, SCALE], X, U01),
    "Uniform": (lambda lib, lo, w: D(lib).Uniform(lo, lo + w), [LOC, SCALE],
                LOC + SCALE * U01, U01),
    "Exponential": (lambda lib, r: D(lib).Exponential(r), [SCALE], POS, U01),
    "Laplace": (lambda lib, m, s: D(lib).Laplace(m, s), [LOC, SCALE], X, U01),
    "Bernoulli_probs": (lambda lib, p: D(lib).Bernoulli(probs=p), [PROBS],
                        (U01 > 0.5).astype(float), None),
    "Bernoulli_logits": (lambda lib, lg: D(lib).Bernoulli(logits=lg), [LOC],
                         (U01 > 0.5).astype(float), None),
    "Categorical_probs": (lambda lib, p: D(lib).Categorical(probs=p), [PROBS.T @ PROBS],
                          K_VALUES[..., :1].repeat(3, -1)[:, :3] % 3, None),
    "Categorical_logits": (lambda lib, lg: D(lib).Categorical(logits=lg), [LOGITS], K_VALUES,
                           None),
    "OneHotCategorical": (lambda lib, lg: D(lib).OneHotCategorical(logits=lg), [LOGITS],
                          np.eye(4)[K_VALUES], None),
    "MVN_cov": (lambda lib, m, c: D(lib).MultivariateNormal(m, covariance_matrix=c),
                [LOC, COV], MVN_X, None),
    "MVN_tril": (lambda lib, m, c: D(lib).MultivariateNormal(
        m, scale_tril=lib.linalg.cholesky(c)), [LOC, COV], MVN_X, None),
    "MVN_tril_leaf": (lambda lib, m, L: D(lib).MultivariateNormal(m, scale_tril=L),
                      [LOC, TRIL], MVN_X, None),
    "MVN_precision": (lambda lib, m, c: D(lib).MultivariateNormal(m, precision_matrix=c),
                      [LOC[0], COV], MVN_X, None),
    "Independent": (lambda lib, m, s: D(lib).Independent(D(lib).Normal(m, s), 1),
                    [LOC, SCALE], X, None),
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
    "covariance_matrix": lambda d, v: d.covariance_matrix,
    "precision_matrix": lambda d, v: d.precision_matrix,
    "scale_tril": lambda d, v: d.scale_tril,
}
CASES = [(f, m) for f in FAMILIES for m in METHODS
         if not (m in ("cdf", "icdf") and FAMILIES[f][3] is None)
         and not (m.endswith(("matrix", "tril")) and not f.startswith("MVN"))
         and not (m == "mode" and f == "Uniform")]  # nan * high: no gradient to compare


def _run(family, method, dtype):
    make, params, values, unit = FAMILIES[family]
    value = unit if method == "icdf" else values
    is_float = np.asarray(value).dtype.kind == "f" and "Categorical" not in family
    value = value.astype(dtype) if is_float or "OneHot" in family else value

    def fn(lib, *ps):
        return METHODS[method](make(lib, *ps), lib.tensor(value))

    check_against_torch(lambda *ps: fn(ng, *ps), lambda *ps: fn(torch, *ps),
                        [p.astype(dtype) for p in params],
                        rtol=None if dtype == np.float64 else 2e-5,
                        grad_rtol=1e-7 if dtype == np.float64 else 1e-4,
                        check_grad=dtype == np.float64 and method != "mode")


@pytest.mark.parametrize("family,method", CASES)
def test_values_and_gradients_float64(family, method):
    _run(family, method, np.float64)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_float32_stays_float32(family):
    for method in ("log_prob", "entropy", "mean", "variance"):
        _run(family, method, np.float32)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 1)])
def test_shapes(family, sample_shape):
    make, params, *_ = FAMILIES[family]
    ours, theirs = (make(lib, *[lib.tensor(p) for p in params]) for lib in (ng, torch))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert type(ours.batch_shape) is ng.Size and type(ours.event_shape) is ng.Size
    s_ours, s_theirs = ours.sample(sample_shape), theirs.sample(sample_shape)
    assert tuple(s_ours.shape) == tuple(s_theirs.shape)
    assert str(s_ours.dtype).split(".")[-1] == str(s_theirs.dtype).split(".")[-1]
    assert not s_ours.requires_grad
    assert ours.has_rsample == theirs.has_rsample
    e_ours, e_theirs = ours.expand((4,) + tuple(ours.batch_shape)), theirs.expand(
        (4,) + tuple(theirs.batch_shape))
    assert tuple(e_ours.batch_shape) == tuple(e_theirs.batch_shape)
    assert_close(e_ours.entropy(), e_theirs.entropy())


SEEDED = {
    "Normal": lambda lib: D(lib).Normal(lib.tensor(LOC), lib.tensor(SCALE)),
    "Normal_scalar": lambda lib: D(lib).Normal(0.5, 2.0),
    "Uniform": lambda lib: D(lib).Uniform(lib.tensor(LOC), lib.tensor(LOC + SCALE)),
    "Exponential": lambda lib: D(lib).Exponential(lib.tensor(SCALE)),
    "Laplace": lambda lib: D(lib).Laplace(lib.tensor(LOC), lib.tensor(SCALE)),
    "Bernoulli": lambda lib: D(lib).Bernoulli(lib.tensor(PROBS)),
    "Bernoulli_float32": lambda lib: D(lib).Bernoulli(lib.tensor(PROBS, dtype=lib.float32)),
    "Categorical": lambda lib: D(lib).Categorical(logits=lib.tensor(LOGITS)),
    "OneHotCategorical": lambda lib: D(lib).OneHotCategorical(lib.tensor(PROBS)),
    "MVN": lambda lib: D(lib).MultivariateNormal(lib.tensor(LOC), lib.tensor(COV)),
    "Independent": lambda lib: D(lib).Independent(D(lib).Laplace(
        lib.tensor(LOC, dtype=lib.float32), lib.tensor(SCALE, dtype=lib.float32)), 2),
}


@pytest.mark.parametrize("name", list(SEEDED))
@pytest.mark.parametrize("sample_shape", [(), (7,), (3, 20)])
def test_samples_equal_pytorch_for_a_seed(name, sample_shape):
    out = []
    for lib in (ng, torch):
        lib.manual_seed(1234)
        d = SEEDED[name](lib)
        first = d.sample(sample_shape)
        out.append((first, d.sample(sample_shape)))  # the generator moved on the same way
    for o, t in zip(*out):
        # Laplace's log1p and MVN's matrix product may round the last bits differently
        ulps = 4 if name in ("Laplace", "MVN", "Independent") else 0
        atol = ulps and ulps * np.finfo(o.numpy().dtype).eps * float(np.abs(t.numpy()).max())
        assert_close(o, t, rtol=0, atol=atol)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "MVN"])
def test_rsample_values_and_gradients(name):
    make, params, *_ = FAMILIES[name if name != "MVN" else "MVN_cov"]

    def fn(lib, *ps):
        lib.manual_seed(5)
        return make(lib, *ps).rsample((6,))

    check_against_torch(lambda *ps: fn(ng, *ps), lambda *ps: fn(torch, *ps), params,
                        rtol=1e-12, grad_rtol=1e-8)


KL_PAIRS = {
    ("Normal", "Normal"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Laplace", "Laplace"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Exponential", "Exponential"): ([SCALE], [SCALE[::-1]]),
    ("Uniform", "Uniform"): ([LOC, SCALE], [LOC - 0.5 * SCALE[::-1], 3 * SCALE]),
    ("Bernoulli_probs", "Bernoulli_logits"): ([PROBS], [LOC]),
    ("Categorical_logits", "Categorical_probs"): ([LOGITS], [np.abs(LOGITS[::-1]) + 0.1]),
    ("OneHotCategorical", "OneHotCategorical"): ([LOGITS], [LOGITS[::-1]]),
    ("MVN_cov", "MVN_tril"): ([LOC, COV], [LOC[::-1], COV[::-1]]),
    ("MVN_tril_leaf", "MVN_tril_leaf"): ([LOC, TRIL], [LOC[::-1], TRIL[::-1]]),
    ("MVN_precision", "MVN_cov"): ([LOC[0], COV], [LOC, COV[::-1]]),
    ("Independent", "Independent"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Uniform", "Normal"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Uniform", "Exponential"): ([np.abs(LOC), SCALE], [SCALE[::-1]]),
    ("Exponential", "Normal"): ([SCALE], [LOC, SCALE[::-1]]),
    ("Laplace", "Normal"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Normal", "Laplace"): ([LOC, SCALE], [LOC[::-1], SCALE[::-1]]),
    ("Normal", "Uniform"): ([LOC, SCALE], [LOC, SCALE]),
    ("Exponential", "Uniform"): ([SCALE], [LOC, SCALE]),
}


@pytest.mark.parametrize("pair", list(KL_PAIRS), ids="-".join)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_divergence(pair, dtype):
    (fp, fq), (pp, pq) = pair, KL_PAIRS[pair]
    make_p, make_q = FAMILIES[fp][0], FAMILIES[fq][0]
    n = len(pp)

    def fn(lib, *ps):
        return D(lib).kl_divergence(make_p(lib, *ps[:n]), make_q(lib, *ps[n:]))

    arrays = [np.ascontiguousarray(a).astype(dtype) for a in pp + pq]
    check_against_torch(lambda *ps: fn(ng, *ps), lambda *ps: fn(torch, *ps), arrays,
                        rtol=None if dtype == np.float64 else 2e-5,
                        grad_rtol=1e-7 if dtype == np.float64 else 1e-4,
                        check_grad=dtype == np.float64)


def test_kl_infinite_where_supports_differ():
    for lib_out in [(lib, D(lib).kl_divergence(D(lib).Uniform(lib.tensor([0.0, 0.0]),
                                                              lib.tensor([1.0, 3.0])),
                                               D(lib).Uniform(lib.tensor([0.0, -1.0]),
                                                              lib.tensor([2.0, 2.0]))))
                    for lib in (ng, torch)]:
        assert lib_out[1].tolist() == [pytest.approx(math.log(2.0)), math.inf]


def test_register_kl_and_missing_pair():
    for lib in (ng, torch):
        class MyNormal(D(lib).Normal):
            pass

        @D(lib).register_kl(MyNormal, D(lib).Normal)
        def _kl(p, q):
            return p.loc * 0 + 42.0

        p, q = MyNormal(0.0, 1.0), D(lib).Normal(0.0, 1.0)
        assert D(lib).kl_divergence(p, q).item() == 42.0
        assert D(lib).kl_divergence(q, q).item() == 0.0  # Normal-Normal still its own
        with pytest.raises(NotImplementedError) as err:
            D(lib).kl_divergence(D(lib).Categorical(lib.ones(2)), q)
        assert str(err.value) == ("No KL(p || q) is implemented for p type Categorical and q "
                                  "type Normal")
        with pytest.raises(TypeError):
            D(lib).register_kl(3, D(lib).Normal)


def _error(fn):
    messages = []
    for lib in (ng, torch):
        with pytest.raises(ValueError) as err:
            fn(lib)
        messages.append(str(err.value).replace("torch.Size", "numpy2gpt.Size"))
    return messages


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0])),
    lambda lib: D(lib).Normal(0.0, 1.0).log_prob(0.5),
    lambda lib: D(lib).Normal(lib.tensor([0.0, 1.0]), 1.0).log_prob(lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: D(lib).Exponential(lib.tensor([1.0])).log_prob(lib.tensor([-1.0])),
    lambda lib: D(lib).Bernoulli(lib.tensor([1.5])),
    lambda lib: D(lib).Bernoulli(lib.tensor([0.5])).log_prob(lib.tensor([0.5])),
    lambda lib: D(lib).Bernoulli(probs=0.5, logits=0.0),
    lambda lib: D(lib).Categorical(),
    lambda lib: D(lib).Categorical(lib.tensor(0.5)),
    lambda lib: D(lib).Categorical(logits=lib.tensor(0.5)),
    lambda lib: D(lib).Categorical(lib.tensor([0.5, -0.5])),
    lambda lib: D(lib).Categorical(lib.tensor([0.5, 0.5])).log_prob(lib.tensor([2])),
    lambda lib: D(lib).OneHotCategorical(lib.tensor([0.5, 0.5])).log_prob(lib.tensor([1, 1])),
    lambda lib: D(lib).Uniform(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 0.5])),
    lambda lib: D(lib).Uniform(0.0, 1.0).log_prob(lib.tensor(1.5)),
    lambda lib: D(lib).Laplace(0.0, 0.0),
    lambda lib: D(lib).MultivariateNormal(lib.tensor(0.0), lib.eye(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.ones(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 2.0], [0.0, 1.0]])),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), scale_tril=lib.tensor([[1.0, 1.0],
                                                                               [0.0, 1.0]])),
    lambda lib: D(lib).Independent(D(lib).Normal(0.0, 1.0), 1),
])
def test_validation_errors(fn):
    ours, theirs = _error(fn)
    assert ours == theirs


def test_validate_args_off_and_default_switch():
    for lib in (ng, torch):
        d = D(lib).Normal(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=False)
        assert math.isnan(d.log_prob(lib.tensor([0.0])).item())
        try:
            D(lib).Distribution.set_default_validate_args(False)
            D(lib).Normal(0.0, -1.0)  # no error
            with pytest.raises(ValueError):
                D(lib).Normal(0.0, -1.0, validate_args=True)
        finally:
            D(lib).Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            D(lib).Distribution.set_default_validate_args(1.5)
        with pytest.raises(ValueError):
            D(lib).Normal(0.0, -1.0)


@pytest.mark.parametrize("fn", [
    lambda lib: D(lib).Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0])),
    lambda lib: D(lib).Normal(0.0, 1.0),
    lambda lib: D(lib).Uniform(lib.zeros(2, 3), 1.0),
    lambda lib: D(lib).Bernoulli(logits=lib.zeros(3)),
    lambda lib: D(lib).Categorical(lib.ones(2, 3)),
    lambda lib: D(lib).OneHotCategorical(lib.ones(2, 3)),
    lambda lib: D(lib).MultivariateNormal(lib.zeros(2), lib.eye(2)),
    lambda lib: D(lib).Independent(D(lib).Exponential(lib.ones(2, 3)), 1),
    lambda lib: D(lib).constraints.independent(D(lib).constraints.real, 1),
    lambda lib: D(lib).constraints.interval(0.0, 1.0),
    lambda lib: D(lib).constraints.greater_than(0.0),
    lambda lib: D(lib).Categorical(lib.ones(3)).support,
])
def test_repr(fn):
    ours, theirs = both_repr(fn)
    assert ours == theirs


def both_repr(fn):
    return repr(fn(ng)), repr(fn(torch)).replace("torch.Size", "numpy2gpt.Size")


def test_lazy_probs_logits_and_enumerate_support():
    for make in (lambda lib: D(lib).Bernoulli(logits=lib.tensor([[0.3, -1.0]])),
                 lambda lib: D(lib).Categorical(probs=lib.tensor([[0.2, 0.8], [0.5, 0.5]])),
                 lambda lib: D(lib).OneHotCategorical(logits=lib.tensor([[0.2, 0.8, 0.1]]))):
        ours, theirs = make(ng), make(torch)
        assert_close(ours.probs, theirs.probs)
        assert_close(ours.logits, theirs.logits)
        for expand in (True, False):
            assert_close(ours.enumerate_support(expand), theirs.enumerate_support(expand))
