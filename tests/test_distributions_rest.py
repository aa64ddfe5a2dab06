"""The last torch.distributions pieces against PyTorch: InverseGamma, GeneralizedPareto,
OneHotCategoricalStraightThrough, Wishart, LKJCholesky, ExponentialFamily (Bregman entropy and
KL); the constraints cat, stack, corr_cholesky, multinomial, MixtureSameFamilyConstraint; the
transforms CatTransform, StackTransform, CorrCholeskyTransform, PositiveDefiniteTransform;
biject_to / transform_to. Values, dtypes and gradients; samples drawn from samplers numpy2gpt
matches are PyTorch's numbers for a seed; PyTorch's errors and reprs."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng
import numpy2gpt.distributions  # noqa: F401  (ng.distributions)

R = np.random.default_rng(5)
A = R.uniform(0.5, 4.0, (2, 3))  # positive parameters, some <= 1 and <= 2
B = R.uniform(0.3, 3.0, (2, 3))
LOC = R.standard_normal((2, 3))
POS = R.uniform(0.05, 4.0, (4, 2, 3))
K = np.array([[-0.4, 0.0, 0.3], [0.6, -0.2, 1e-9]])  # GeneralizedPareto concentrations
_M = R.standard_normal((2, 3, 3))
SPD = _M @ _M.transpose(0, 2, 1) + np.eye(3)  # two positive-definite 3 x 3 matrices
SPD_VALUE = SPD[::-1] + 0.5 * np.eye(3)


def D(lib):
    return lib.distributions


def run(make, fn):
    """A function of the parameter leaves: fn(distribution) on each library."""
    def on(lib):
        return lambda *ps: fn(make(lib, *ps), lib)
    return on(ng), on(torch)


# ----- InverseGamma

IG_METHODS = {
    "log_prob": lambda d, lib: d.log_prob(lib.tensor(POS, dtype=d.rate.dtype)),
    "entropy": lambda d, lib: d.entropy(),
    "mean": lambda d, lib: d.mean,
    "variance": lambda d, lib: d.variance,
    "mode": lambda d, lib: d.mode,
    "cdf": lambda d, lib: d.cdf(lib.tensor(POS, dtype=d.rate.dtype)),
}


@pytest.mark.parametrize("method", list(IG_METHODS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inverse_gamma(method, dtype):
    ours, theirs = run(lambda lib, a, b: D(lib).InverseGamma(a, b), IG_METHODS[method])
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    # PyTorch's cdf has no derivative in the concentration (numpy2gpt's has)
    requires_grad = [method != "cdf", True]
    check_against_torch(ours, theirs, [A.astype(dtype), B.astype(dtype)], rtol=rtol,
                        grad_rtol=rtol, grad_atol=1e-12, requires_grad=requires_grad)


def test_inverse_gamma_shapes_support_and_rsample():
    for lib in (ng, torch):
        d = D(lib).InverseGamma(lib.tensor(A), lib.tensor(B))
        assert isinstance(d, D(lib).TransformedDistribution)
        assert d.support is D(lib).constraints.positive and d.has_rsample
        assert tuple(d.expand((4, 2, 3)).batch_shape) == (4, 2, 3)
        assert type(d.expand((4, 2, 3))) is D(lib).InverseGamma
        assert math.isinf(d.mean[0, 0]) == (A[0, 0] <= 1)
    d = ng.distributions.InverseGamma(2.5, 3.0)
    assert d.batch_shape == () and d.rsample().dtype == ng.float32
    a = ng.tensor(3.0, requires_grad=True)
    x = ng.distributions.InverseGamma(a, 2.0).rsample((20000,))
    assert (x > 0).all() and abs(x.mean().item() - 1.0) < 0.05  # mean rate / (a - 1) = 1
    x.mean().backward()
    assert a.grad is not None and a.grad.item() < 0  # a larger shape gives smaller 1 / X
    same_error(lambda lib: D(lib).InverseGamma(lib.tensor([-1.0]), lib.tensor([1.0])))


# ----- GeneralizedPareto (PyTorch's log_prob/cdf raise for float64: those compare in float32)

GP_VALUES = np.abs(R.standard_normal((4, 2, 3))) * 0.5  # inside every support (k = -0.4 too)
GP_METHODS = {
    "icdf": lambda d, lib: d.icdf(lib.tensor(np.linspace(0.05, 0.9, 6).reshape(2, 3),
                                             dtype=d.loc.dtype)),
    "mean": lambda d, lib: d.mean,
    "variance": lambda d, lib: d.variance,
    "entropy": lambda d, lib: d.entropy(),
    "mode": lambda d, lib: d.mode,
    "log_prob": lambda d, lib: d.log_prob(lib.tensor(GP_VALUES, dtype=d.loc.dtype) + d.loc),
    "cdf": lambda d, lib: d.cdf(lib.tensor(GP_VALUES, dtype=d.loc.dtype) + d.loc),
    "log_survival_function": lambda d, lib: d.log_survival_function(
        lib.tensor(GP_VALUES, dtype=d.loc.dtype) + d.loc),
}


def _gp(lib, loc, scale, k):
    return D(lib).GeneralizedPareto(loc, scale, k)


@pytest.mark.parametrize("method", list(GP_METHODS))
def test_generalized_pareto(method):
    dtypes = [np.float32] if method in ("log_prob", "cdf", "log_survival_function") \
        else [np.float64, np.float32]
    for dtype in dtypes:
        ours, theirs = run(_gp, GP_METHODS[method])
        rtol = 2e-5 if dtype == np.float32 else 1e-9
        check_against_torch(ours, theirs, [LOC.astype(dtype), B.astype(dtype), K.astype(dtype)],
                            rtol=rtol, grad_rtol=1e-4 if dtype == np.float32 else 1e-8,
                            grad_atol=1e-6)


def test_generalized_pareto_float64_log_prob_and_cdf():
    """Where PyTorch raises ("Double did not match Float"), numpy2gpt computes the density:
    the same as float32 PyTorch's, and the survival function (1 + k z)^(-1/k) exactly."""
    d = _gp(ng, ng.tensor(LOC), ng.tensor(B), ng.tensor(K))
    x = ng.tensor(GP_VALUES) + d.loc
    td = _gp(torch, torch.tensor(LOC, dtype=torch.float32), torch.tensor(B, dtype=torch.float32),
             torch.tensor(K, dtype=torch.float32))
    tx = torch.tensor(GP_VALUES, dtype=torch.float32) + td.loc
    assert d.log_prob(x).dtype == ng.float64
    np.testing.assert_allclose(d.log_prob(x).numpy(), td.log_prob(tx).double().numpy(),
                               rtol=1e-5, atol=1e-5)
    z = GP_VALUES / B
    k = np.where(np.abs(K) < 1e-8, 1.0, K)
    survival = np.where(np.abs(K) < 1e-8, np.exp(-z), (1 + k * z) ** (-1 / k))
    np.testing.assert_allclose(d.cdf(x).numpy(), 1 - survival, rtol=1e-10, atol=1e-14)


def test_generalized_pareto_samples_and_support():
    outs = []
    for lib in (ng, torch):
        lib.manual_seed(3)
        d = _gp(lib, lib.tensor(LOC), lib.tensor(B), lib.tensor(K))
        outs.append(d.rsample((5,)))
        assert d.has_rsample and tuple(d.expand((4, 2, 3)).batch_shape) == (4, 2, 3)
        s = d.support
        assert type(s).__name__ == "_Interval" and s.event_dim == 0
        upper = s.upper_bound.numpy()
        assert np.isinf(upper[K >= 0]).all() and np.isfinite(upper[K < 0]).all()
    assert_close(outs[0], outs[1], rtol=1e-12)  # torch.rand through icdf: the same draws
    d = _gp(ng, 0.0, 1.0, 0.5)
    assert d.batch_shape == () and d.rsample((3,)).dtype == ng.float32
    same_error(lambda lib: _gp(lib, 0.0, -1.0, 0.5))
    same_error(lambda lib: _gp(lib, lib.tensor([0.0]), lib.tensor([1.0]),
                               lib.tensor([-0.5])).log_prob(lib.tensor([3.0])))


# ----- OneHotCategoricalStraightThrough

def test_one_hot_straight_through():
    logits = R.standard_normal((2, 4))
    w = R.standard_normal((3, 2, 4))

    def draw(lib):
        lib.manual_seed(7)
        p = lib.tensor(logits, requires_grad=True)
        d = D(lib).OneHotCategoricalStraightThrough(logits=p)
        x = d.rsample((3,))
        (x * lib.tensor(w)).sum().backward()
        return x, p.grad, d

    (x, g, d), (tx, tg, td) = draw(ng), draw(torch)
    assert_close(x, tx)  # torch.multinomial's draws
    assert_close(g, tg, rtol=1e-10)  # the gradient of the probs (straight through)
    assert d.has_rsample and isinstance(d, ng.distributions.OneHotCategorical)
    assert_close(d.log_prob(x.detach()), td.log_prob(tx.detach()), rtol=1e-10)
    assert type(d.expand((5, 2))) is ng.distributions.OneHotCategoricalStraightThrough


# ----- constraints

def _check(make_constraint, value):
    ours = make_constraint(ng).check(ng.tensor(value))
    theirs = make_constraint(torch).check(torch.tensor(value))
    assert_close(ours, theirs)
    return ours


def _corr_cholesky_value():
    L = np.linalg.cholesky(SPD)
    return L / np.linalg.norm(L, axis=-1, keepdims=True)  # unit rows


def test_corr_cholesky_constraint():
    good = _corr_cholesky_value()
    bad = good.copy()
    bad[1, 2, 2] *= 1.01  # a row no longer of unit length
    upper = good.copy()
    upper[0] = upper[0].T  # not lower-triangular
    out = _check(lambda lib: D(lib).constraints.corr_cholesky, np.stack([good, bad, upper]))
    assert out.numpy().tolist() == [[True, True], [True, False], [False, True]]
    c = ng.distributions.constraints.corr_cholesky
    assert c.event_dim == 2 and not c.is_discrete and repr(c) == "CorrCholesky()"


def test_multinomial_constraint_moved():
    value = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0], [-1.0, 2.0, 2.0]])
    out = _check(lambda lib: D(lib).constraints.multinomial(4), value)
    assert out.numpy().tolist() == [True, False, False]
    c = ng.distributions.constraints.multinomial(4)
    assert c.is_discrete and c.event_dim == 1 and repr(c) == "Multinomial()"
    d = ng.distributions.Multinomial(4, ng.tensor([0.2, 0.3, 0.5]))
    assert isinstance(d.support, ng.distributions.constraints.multinomial)
    assert d.support.upper_bound == 4


def test_mixture_same_family_constraint_moved():
    C = ng.distributions.constraints
    for lib in (ng, torch):
        mix = D(lib).MixtureSameFamily(
            D(lib).Categorical(logits=lib.zeros(3)),
            D(lib).Independent(D(lib).Uniform(lib.zeros(3, 2), lib.ones(3, 2)), 1))
        assert type(mix.support) is D(lib).constraints.MixtureSameFamilyConstraint
    value = np.array([[0.5, 0.5], [0.5, 1.5], [0.1, 0.9]])
    out = _check(lambda lib: D(lib).constraints.MixtureSameFamilyConstraint(
        D(lib).constraints.independent(D(lib).constraints.unit_interval, 1)), value)
    assert out.numpy().tolist() == [True, False, True]
    assert repr(C.MixtureSameFamilyConstraint(C.positive)) == \
        repr(torch.distributions.constraints.MixtureSameFamilyConstraint(
            torch.distributions.constraints.positive))
    same_error(lambda lib: D(lib).constraints.MixtureSameFamilyConstraint(1.0))


def test_cat_and_stack_constraints():
    value = np.array([[0.5, -1.0, 2.0, 0.3], [1.5, 3.0, -2.0, 0.0]])

    def cat(lib):
        c = D(lib).constraints
        return c.cat([c.unit_interval, c.positive, c.real], dim=1, lengths=[1, 2, 1])

    def stack(lib):
        c = D(lib).constraints
        return c.stack([c.unit_interval, c.positive], dim=0)

    out = _check(cat, value)
    assert out.numpy().tolist() == [[True, False, True, True], [False, True, False, True]]
    out = _check(stack, value)
    assert out.numpy().tolist() == [[True, False, False, True], [True, True, False, False]]
    for make in (cat, stack):
        c, tc = make(ng), make(torch)
        assert (c.event_dim, c.is_discrete, repr(c)) == (tc.event_dim, tc.is_discrete, repr(tc))
    simplex_stack = both_constraints(lambda c: c.stack([c.simplex, c.real_vector], dim=-1))
    assert simplex_stack[0].event_dim == simplex_stack[1].event_dim
    inner = both_constraints(lambda c: c.stack([c.simplex, c.real_vector], dim=-2))
    assert inner[0].event_dim == inner[1].event_dim == 2  # the stacked dim is in the event
    default = both_constraints(lambda c: c.cat([c.boolean, c.real]))
    assert default[0].lengths == [1, 1] and default[0].is_discrete == default[1].is_discrete
    same_error(lambda lib: D(lib).constraints.cat([D(lib).constraints.real], lengths=[1, 2]))
    same_error(lambda lib: D(lib).constraints.stack([1.0]))
    same_error(lambda lib: stack(lib).check(lib.ones(2)[0]))


def both_constraints(fn):
    return fn(ng.distributions.constraints), fn(torch.distributions.constraints)


def test_constraints_names_match_torch():
    assert set(torch.distributions.constraints.__all__) <= set(
        dir(ng.distributions.constraints))


# ----- transforms

def test_corr_cholesky_transform():
    x = R.standard_normal((2, 6))

    def fwd(lib):
        t = D(lib).transforms.CorrCholeskyTransform()
        return lambda x: (t(x), t.log_abs_det_jacobian(x, t(x)), t.inv(t(x)))

    ours, theirs = fwd(ng), fwd(torch)
    (y, _, _), *_ = check_against_torch(ours, theirs, [x], rtol=1e-10, grad_rtol=1e-8)
    assert ng.distributions.constraints.corr_cholesky.check(y).all()
    ours, theirs = fwd(ng), fwd(torch)
    check_against_torch(ours, theirs, [x.astype(np.float32)], rtol=1e-5, grad_rtol=1e-4)
    t, tt = ng.distributions.CorrCholeskyTransform(), torch.distributions.CorrCholeskyTransform()
    for shape in [(5, 6), (3,), (1,)]:
        assert t.forward_shape(shape) == tt.forward_shape(shape)
    assert t.inverse_shape((2, 4, 4)) == tt.inverse_shape((2, 4, 4)) == (2, 6)
    assert t.bijective and t.domain.event_dim == 1 and t.codomain.event_dim == 2
    for call in (lambda t: t.forward_shape((5,)), lambda t: t.forward_shape(()),
                 lambda t: t.inverse_shape((3, 4)), lambda t: t.inverse_shape((3,))):
        same_error(lambda lib, call=call: call(D(lib).CorrCholeskyTransform()))


def test_positive_definite_transform():
    x = R.standard_normal((2, 3, 3))

    def fwd(lib):
        t = D(lib).transforms.PositiveDefiniteTransform()
        return lambda x: (t(x), t.inv(t(x)))

    (y, x_back), *_ = check_against_torch(fwd(ng), fwd(torch), [x], rtol=1e-9, grad_rtol=1e-8)
    assert ng.distributions.constraints.positive_definite.check(y).all()
    assert_close(x_back.tril(), ng.tensor(np.tril(x)), rtol=1e-9)  # the upper part is lost
    t = ng.distributions.PositiveDefiniteTransform()
    assert t == ng.distributions.PositiveDefiniteTransform() and not t.bijective
    assert t.codomain is ng.distributions.constraints.positive_definite


def _cat_transform(lib, dim=-1):
    T = D(lib).transforms
    inner = T.CatTransform([T.ExpTransform(), T.identity_transform], dim=dim, lengths=[2, 1])
    return T.CatTransform([inner, T.SigmoidTransform(), T.AffineTransform(1.0, 3.0)], dim=dim,
                          lengths=[3, 1, 2])


def _stack_transform(lib, dim=1):
    T = D(lib).transforms
    return T.StackTransform([T.ExpTransform(), T.identity_transform, T.TanhTransform()], dim=dim)


@pytest.mark.parametrize("make,shape,dim", [(_cat_transform, (4, 6), -1),
                                            (_cat_transform, (6, 2), 0),
                                            (_stack_transform, (4, 3), 1),
                                            (_stack_transform, (3, 4, 2), 0)])
def test_cat_and_stack_transforms(make, shape, dim):
    x = R.standard_normal(shape)

    def fwd(lib):
        t = make(lib, dim)
        return lambda x: (t(x), t.log_abs_det_jacobian(x, t(x)), t.inv(t(x)))

    check_against_torch(fwd(ng), fwd(torch), [x], rtol=1e-10, grad_rtol=1e-8)
    t, tt = make(ng, dim), make(torch, dim)
    assert (t.event_dim, t.bijective, repr(t.domain), repr(t.codomain)) == \
        (tt.event_dim, tt.bijective, repr(tt.domain), repr(tt.codomain))
    assert_close(t.domain.check(ng.tensor(x)), tt.domain.check(torch.tensor(x)))
    cached = t.with_cache(1)
    xt = ng.tensor(x)
    assert cached.inv(cached(xt)) is xt and t.with_cache(0) is t


def test_cat_transform_with_vector_parts_sums_log_dets():
    """A part with event_dim 1 makes the whole an event_dim 1 transform: the log-dets of the
    parts along the event dimension add up; along a batch dimension they are concatenated."""
    x = R.standard_normal((3, 5))
    for dim in (-1, 0):
        def fwd(lib, dim=dim):
            T = D(lib).transforms
            t = T.CatTransform([T.IndependentTransform(T.SigmoidTransform(), 1),
                                T.ExpTransform()], dim=dim,
                               lengths=[2, 1] if dim == 0 else [3, 2])
            return lambda x: t.log_abs_det_jacobian(x, t(x))

        check_against_torch(fwd(ng), fwd(torch), [x], rtol=1e-10, grad_rtol=1e-8)


def test_cat_and_stack_transform_errors():
    T = ng.distributions.transforms
    same_error(lambda lib: D(lib).transforms.CatTransform([1.0]))
    same_error(lambda lib: D(lib).transforms.CatTransform([D(lib).transforms.ExpTransform()],
                                                          lengths=[1, 2]))
    same_error(lambda lib: _cat_transform(lib)(lib.ones(4, 5)))
    same_error(lambda lib: _cat_transform(lib).inv(lib.ones(4, 5)))
    same_error(lambda lib: _cat_transform(lib, dim=2)(lib.ones(4, 6)))
    same_error(lambda lib: _cat_transform(lib).log_abs_det_jacobian(lib.ones(4, 6),
                                                                    lib.ones(4, 5)))
    same_error(lambda lib: _stack_transform(lib)(lib.ones(4, 2)))
    same_error(lambda lib: _stack_transform(lib).log_abs_det_jacobian(lib.ones(4, 3),
                                                                      lib.ones(4, 2)))
    same_error(lambda lib: D(lib).transforms.StackTransform([2]))
    assert T.CatTransform([T.ExpTransform()]) != T.CatTransform([T.ExpTransform()])


def test_transforms_names_match_torch():
    assert set(torch.distributions.transforms.__all__) <= set(dir(ng.distributions.transforms))


# ----- biject_to / transform_to

CONSTRAINTS = {
    "real": (lambda c: c.real, (2, 3)),
    "real_vector": (lambda c: c.real_vector, (2, 3)),
    "positive": (lambda c: c.positive, (2, 3)),
    "nonnegative": (lambda c: c.nonnegative, (2, 3)),
    "greater_than": (lambda c: c.greater_than(1.5), (2, 3)),
    "greater_than_eq": (lambda c: c.greater_than_eq(-1.0), (2, 3)),
    "less_than": (lambda c: c.less_than(2.0), (2, 3)),
    "unit_interval": (lambda c: c.unit_interval, (2, 3)),
    "interval": (lambda c: c.interval(-2.0, 3.0), (2, 3)),
    "half_open_interval": (lambda c: c.half_open_interval(0.0, 1.0), (2, 3)),
    "independent_positive": (lambda c: c.independent(c.positive, 2), (2, 3)),
    "simplex": (lambda c: c.simplex, (2, 3)),
    "lower_cholesky": (lambda c: c.lower_cholesky, (2, 3, 3)),
    "positive_definite": (lambda c: c.positive_definite, (2, 3, 3)),
    "positive_semidefinite": (lambda c: c.positive_semidefinite, (2, 3, 3)),
    "corr_cholesky": (lambda c: c.corr_cholesky, (2, 6)),
    "cat": (lambda c: c.cat([c.positive, c.interval(0.0, 2.0)], dim=-1, lengths=[2, 1]),
            (2, 3)),
    "stack": (lambda c: c.stack([c.real, c.positive, c.unit_interval], dim=-1), (2, 3)),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_registry(registry, name):
    make, shape = CONSTRAINTS[name]
    x = R.standard_normal(shape)

    def lookup(lib):
        return getattr(D(lib), registry)(make(D(lib).constraints))

    try:
        tt = lookup(torch)
    except NotImplementedError:
        same_error(lookup)
        return
    t = lookup(ng)
    assert type(t).__name__ == type(tt).__name__ and repr(t) == repr(tt)

    def fwd(lib):
        t = lookup(lib)
        if t.bijective:
            return lambda x: (t(x), t.log_abs_det_jacobian(x, t(x)))
        return t

    check_against_torch(fwd(ng), fwd(torch), [x], rtol=1e-10, grad_rtol=1e-8)
    y = t(ng.tensor(x))
    assert make(ng.distributions.constraints).check(y).all()


def test_registry_errors_and_registration():
    same_error(lambda lib: D(lib).biject_to(D(lib).constraints.lower_cholesky))
    same_error(lambda lib: D(lib).transform_to(D(lib).constraints.boolean))
    same_error(lambda lib: D(lib).transform_to.register(float, lambda c: None))
    from numpy2gpt.distributions.constraint_registry import ConstraintRegistry
    registry = ConstraintRegistry()

    @registry.register(ng.distributions.constraints.positive)
    def _softplus(constraint):
        return ng.distributions.transforms.SoftplusTransform()

    C = ng.distributions.constraints
    assert type(registry(C.greater_than(2.0))).__name__ == "SoftplusTransform"  # by class
    with pytest.raises(NotImplementedError, match="Cannot transform _GreaterThanEq"):
        registry(C.nonnegative)  # a subclass is not looked up through its base class
    # PyTorch registers the GreaterThan class twice (positive, then greater_than): the second
    # wins, so transform_to(positive) is exp then a shift by 0, as PyTorch's
    assert type(ng.distributions.transform_to(C.positive)).__name__ == "ComposeTransform"


# ----- Wishart

def _wishart(lib, df, matrix, which="covariance_matrix"):
    return D(lib).Wishart(df, **{which: matrix})


WISHART_METHODS = {
    "log_prob": lambda d, lib: d.log_prob(lib.tensor(SPD_VALUE, dtype=d.df.dtype)),
    "entropy": lambda d, lib: d.entropy(),
    "mean": lambda d, lib: d.mean,
    "variance": lambda d, lib: d.variance,
    "mode": lambda d, lib: d.mode,
    "precision_matrix": lambda d, lib: d.precision_matrix,
    "covariance_matrix": lambda d, lib: d.covariance_matrix,
    "scale_tril": lambda d, lib: d.scale_tril,
}


@pytest.mark.parametrize("which", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("method", list(WISHART_METHODS))
def test_wishart(which, method):
    matrix = np.linalg.cholesky(SPD) if which == "scale_tril" else SPD
    df = np.array([3.5, 2.5])  # df = 2.5 <= p + 1: a NaN mode
    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 2e-4)):
        ours, theirs = run(lambda lib, df, m: _wishart(lib, df, m, which),
                           WISHART_METHODS[method])
        check_against_torch(ours, theirs, [df.astype(dtype), matrix.astype(dtype)], rtol=rtol,
                            grad_rtol=rtol, grad_atol=1e-9)


def test_wishart_kl_expand_and_bregman_entropy():
    def kl(lib):
        def fn(df, m):
            p = _wishart(lib, df, m)
            q = _wishart(lib, 4.0, lib.tensor(SPD[::-1].copy()), "precision_matrix")
            return D(lib).kl_divergence(p, q)
        return fn

    check_against_torch(kl(ng), kl(torch), [np.array([3.5, 5.0]), SPD], rtol=1e-9,
                        grad_rtol=1e-8, grad_atol=1e-10)
    for lib in (ng, torch):
        e = _wishart(lib, 3.0, lib.tensor(SPD)).expand((4, 2))
        assert tuple(e.batch_shape) == (4, 2) and tuple(e.event_shape) == (3, 3)
    d = _wishart(ng, 3.0, ng.tensor(SPD))
    td = _wishart(torch, 3.0, torch.tensor(SPD))
    value = ng.tensor(SPD_VALUE)
    assert_close(d.expand((4, 2)).log_prob(value),
                 td.expand((4, 2)).log_prob(torch.tensor(SPD_VALUE)), rtol=1e-9)
    # (PyTorch's Bregman entropy needs a df of the batch shape)
    df = ng.tensor([3.0, 4.0], dtype=ng.float64)
    bregman = ng.distributions.ExponentialFamily.entropy(_wishart(ng, df, ng.tensor(SPD)))
    closed_form = _wishart(torch, torch.tensor([3.0, 4.0], dtype=torch.float64),
                           torch.tensor(SPD)).entropy()
    assert_close(bregman, closed_form, rtol=1e-9)  # the closed form, by autograd on F


def test_wishart_samples():
    df = ng.tensor([4.0, 6.0], requires_grad=True)
    d = _wishart(ng, df, ng.tensor(SPD))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no singular draws here: no warning
        x = d.rsample((3000,))
    assert tuple(x.shape) == (3000, 2, 3, 3) and x.dtype == ng.float64
    assert ng.distributions.constraints.positive_definite.check(x).all()
    mean = x.mean(0).detach().numpy()
    expected = np.array([4.0, 6.0])[:, None, None] * SPD
    assert np.abs(mean - expected).max() < 0.1 * np.abs(expected).max()
    x.sum().backward()  # reparameterized through the Chi2 draws
    assert df.grad is not None and (df.grad > 0).all()
    assert _wishart(ng, 3.0, ng.tensor(SPD, dtype=ng.float32)).sample().dtype == ng.float32


def test_wishart_errors():
    same_error(lambda lib: D(lib).Wishart(3.0))
    same_error(lambda lib: D(lib).Wishart(3.0, covariance_matrix=lib.eye(2),
                                          scale_tril=lib.eye(2)))
    same_error(lambda lib: D(lib).Wishart(3.0, covariance_matrix=lib.ones(2)))
    same_error(lambda lib: D(lib).Wishart(lib.tensor([3.0, 1.5]),
                                          covariance_matrix=lib.eye(3)))
    same_error(lambda lib: D(lib).Wishart(3.0, covariance_matrix=-lib.eye(2)), False)
    same_error(lambda lib: D(lib).Wishart(3.0, covariance_matrix=lib.eye(2)).log_prob(
        -lib.eye(2)), False)
    for lib in (ng, torch):
        with pytest.warns(UserWarning, match="Low df values detected"):
            D(lib).Wishart(2.5, covariance_matrix=lib.eye(3))


# ----- LKJCholesky

def test_lkj_cholesky_log_prob():
    value = _corr_cholesky_value()
    conc = np.array([[0.5], [1.0], [2.5]])  # batch (3, 1) against values (2,)

    for dim_value, dtype, rtol in ((value, np.float64, 1e-9),
                                   (value.astype(np.float32), np.float32, 1e-5)):
        def fn(lib, v=dim_value):
            return lambda c: D(lib).LKJCholesky(3, c).log_prob(lib.tensor(v))

        check_against_torch(fn(ng), fn(torch), [conc.astype(dtype)], rtol=rtol,
                            grad_rtol=rtol, grad_atol=1e-9)


def test_lkj_cholesky_shapes_samples_errors():
    for lib in (ng, torch):
        d = D(lib).LKJCholesky(4, lib.tensor([0.5, 2.0]))
        assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (4, 4)
        assert d.support is D(lib).constraints.corr_cholesky and not d.has_rsample
        assert tuple(d.expand((3, 2)).batch_shape) == (3, 2)
        assert tuple(d.expand((3, 2))._beta.batch_shape) == (3, 2, 4)
    d = ng.distributions.LKJCholesky(4, ng.tensor([0.5, 2.0]))
    x = d.sample((2000,))
    assert tuple(x.shape) == (2000, 2, 4, 4) and d.support.check(x).all()
    # the marginal of an off-diagonal correlation is Beta(eta + (d-2)/2, same) on (-1, 1):
    # variance 1 / (2 eta + d - 1)
    corr = (x @ x.mT)[..., 0, 1].numpy()
    np.testing.assert_allclose(corr.var(0), [1 / 4.0, 1 / 7.0], rtol=0.12)
    assert ng.distributions.LKJCholesky(2).sample().dtype == ng.float32
    same_error(lambda lib: D(lib).LKJCholesky(1, 1.0))
    same_error(lambda lib: D(lib).LKJCholesky(3, -1.0), False)  # (messages show the Size
    same_error(lambda lib: D(lib).LKJCholesky(3, 1.0).log_prob(lib.eye(3) * 2), False)  # class)


# ----- ExponentialFamily

EXPFAM = {
    "Normal": lambda lib, a, b: D(lib).Normal(a, b),
    "Gamma": lambda lib, a, b: D(lib).Gamma(a, b),
    "Exponential": lambda lib, a, b: D(lib).Exponential(a),
    "Bernoulli": lambda lib, a, b: D(lib).Bernoulli(a / (a + b)),
    "ContinuousBernoulli": lambda lib, a, b: D(lib).ContinuousBernoulli(a / (a + b)),
}


@pytest.mark.parametrize("name", list(EXPFAM))
def test_exponential_family_entropy_and_kl(name):
    make = EXPFAM[name]
    for lib in (ng, torch):
        assert isinstance(make(lib, lib.tensor(A), lib.tensor(B)), D(lib).ExponentialFamily)

    def bregman(lib):
        return lambda a, b: D(lib).ExponentialFamily.entropy(make(lib, a, b))

    outs, *_ = check_against_torch(bregman(ng), bregman(torch), [A, B], rtol=1e-8,
                                   check_grad=False)
    assert_close(outs[0], make(ng, ng.tensor(A), ng.tensor(B)).entropy(), rtol=1e-6)

    def kl(lib):
        expfam_kl = D(lib).kl._kl_expfamily_expfamily
        return lambda a, b: expfam_kl(make(lib, a, b), make(lib, b, a))

    check_against_torch(kl(ng), kl(torch), [A, B], rtol=1e-8, grad_rtol=1e-7)


def test_exponential_family_membership_and_kl_dispatch():
    names = ["Bernoulli", "Beta", "ContinuousBernoulli", "Dirichlet", "Exponential", "Gamma",
             "Normal", "Poisson", "Wishart", "Chi2", "Categorical", "InverseGamma", "Uniform"]
    for name in names:
        assert issubclass(getattr(ng.distributions, name), ng.distributions.ExponentialFamily) \
            == issubclass(getattr(torch.distributions, name),
                          torch.distributions.ExponentialFamily), name
    same_error(lambda lib: D(lib).kl._kl_expfamily_expfamily(
        D(lib).Normal(0.0, 1.0), D(lib).Exponential(1.0)))
    same_error(lambda lib: D(lib).kl_divergence(D(lib).Beta(1.0, 2.0), D(lib).Poisson(1.0)))


def test_distributions_names_match_torch():
    assert set(torch.distributions.__all__) <= set(dir(ng.distributions))
    assert set(torch.distributions.__all__) <= set(ng.distributions.__all__)


def test_integer_less_than_constraint():
    value = np.array([-3.0, 2.0, 2.5, 3.0])
    out = _check(lambda lib: D(lib).constraints._IntegerLessThan(2), value)
    assert out.numpy().tolist() == [True, True, False, False]
    c = ng.distributions.constraints._IntegerLessThan(2)
    assert c.is_discrete and repr(c) == "IntegerLessThan(upper_bound=2)"


@pytest.mark.parametrize("diag", [0, -1, 1])
def test_tril_vec_helpers(diag):
    mat = R.standard_normal((2, 4, 4))

    def roundtrip(lib):
        utils = D(lib).utils
        return lambda m: (utils.tril_matrix_to_vec(m, diag),
                          utils.vec_to_tril_matrix(utils.tril_matrix_to_vec(m, diag), diag))

    check_against_torch(roundtrip(ng), roundtrip(torch), [mat], rtol=0, grad_rtol=0)
    same_error(lambda lib: D(lib).utils.tril_matrix_to_vec(lib.ones(3, 3), 3))
    same_error(lambda lib: D(lib).utils.vec_to_tril_matrix(lib.ones(2, 5), diag))
