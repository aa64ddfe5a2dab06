"""numpy2gpt.special (torch.special) against PyTorch's: each function's signature, values and
dtypes (integer inputs, +-0, +-inf, NaN, the tails), gradients and gradcheck; ndtri and
log_ndtr far in their tails."""

# The lambdas in loops below are called at once, inside their iteration, so binding the loop
# variable late is what is meant:
# ruff: noqa: B023

import inspect

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, run_gradcheck, same_error

import numpy2gpt as ng
import numpy2gpt.special as special

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 4))
P = RNG.uniform(0.01, 0.99, (3, 4))
INF, NAN = np.inf, np.nan
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, -2.5, 1e-30, 9.0, -9.0, INF, -INF, NAN])

UNARY = {"erf": X, "erfc": X, "erfinv": P * 2 - 1, "expit": X, "logit": P, "gammaln": X * 3,
         "digamma": X * 3, "psi": X * 3, "ndtr": X * 3, "ndtri": P, "log_ndtr": X * 5,
         "sinc": X, "entr": np.abs(X), "expm1": X, "exp2": X, "log1p": np.abs(X), "round": X * 3}


def test_every_function_is_there_with_torchs_signature():
    for name in special.__all__:
        theirs = getattr(torch.special, name)
        doc = (theirs.__doc__ or "").strip().split("\n")[0]
        params = inspect.signature(getattr(special, name)).parameters
        # PyTorch's builtins show their signature in the docstring's first line: the same
        # positional names, and the same keyword-only ones (apart from out=)
        head, _, tail = doc[doc.index("(") + 1:doc.index(")")].partition("*")
        positional = [p.split("=")[0].split(":")[0].strip() for p in head.split(",") if p.strip()]
        keyword = {p.split("=")[0].strip() for p in tail.split(",") if p.strip()} - {"out"}
        assert [p for p, v in params.items() if v.kind != v.KEYWORD_ONLY] == positional, name
        assert {p for p, v in params.items() if v.kind == v.KEYWORD_ONLY} >= keyword, name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", UNARY)
def test_unary_functions_match_torch(name, dtype):
    x = UNARY[name].astype(dtype)
    check_against_torch(getattr(special, name), getattr(torch.special, name), [x])


@pytest.mark.parametrize("name", UNARY)
def test_edge_values_and_integer_inputs(name):
    edges = EDGES
    if name == "logit":  # (PyTorch's float64 logit gradient at -0. divides by -0.)
        edges = np.delete(EDGES, 1)
    check_against_torch(getattr(special, name), getattr(torch.special, name), [edges])
    check_against_torch(getattr(special, name), getattr(torch.special, name),
                        [EDGES.astype(np.float32)])
    for x in (np.array([0, 1, -1, 3]), np.array([True, False])):
        if name == "round":  # PyTorch's special.round refuses them (torch.round does not)
            same_error(lambda lib: lib.special.round(lib.tensor(x)))
            continue
        check_against_torch(getattr(special, name), getattr(torch.special, name), [x])


@pytest.mark.parametrize("name", ["erfinv", "logit", "ndtri", "log_ndtr", "entr", "digamma",
                                  "gammaln", "ndtr"])
def test_gradcheck(name):
    assert run_gradcheck(getattr(special, name), [UNARY[name][0] + (0.5 if name == "entr" else 0)])


def test_ndtri_inverts_ndtr_far_in_both_tails():
    p = np.concatenate([10.0 ** -np.arange(1, 308, 7), [0.25, 0.5, 0.75]])
    p = np.concatenate([p, 1 - p[:8]])  # 1 - p: exact, up to 1 - 1e-50 = 1
    ours, theirs = both(lambda lib: lib.special.ndtri(lib.tensor(p)))
    assert_close(ours, theirs, rtol=1e-14, atol=0)
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])  # (ndtr is 1 + erf: inexact in its tails)
    assert_close(special.ndtri(special.ndtr(ng.tensor(x))), x, rtol=1e-8)


def test_log_ndtr_far_in_the_left_tail():
    x = np.concatenate([-(10.0 ** np.linspace(0, 8, 60)), np.linspace(-40, 40, 81)])
    for dtype in (np.float64, np.float32):
        ours, theirs = both(lambda lib: lib.special.log_ndtr(lib.tensor(x.astype(dtype))))
        # (in the right tail log_ndtr is -erfc(x / sqrt 2) / 2: erfc's last digits differ)
        assert_close(ours, theirs, rtol=1e-12 if dtype == np.float64 else 1e-5,
                     atol=0 if dtype == np.float64 else 1e-37)  # (float32's subnormals)
    # the gradient e^(-x^2/2 - log_ndtr(x)) / sqrt(2 pi) (PyTorch's formula) cancels in the
    # exponent far out, where PyTorch's and numpy2gpt's last digits of log_ndtr differ
    check_against_torch(special.log_ndtr, torch.special.log_ndtr, [x[x >= -40]])


def test_ndtr_entr_and_expit():
    x = np.array([-40.0, -8.0, -1.0, 0.0, 1.0, 8.0, 40.0])
    check_against_torch(special.ndtr, torch.special.ndtr, [x])
    e = np.array([0.0, 1e-300, 0.3, 1.0, 5.0, -0.5, INF, NAN])
    check_against_torch(special.entr, torch.special.entr, [e])
    assert special.expit is ng.sigmoid and special.gammaln is ng.lgamma
    assert special.psi is ng.digamma


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_xlog1py(name):
    a = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, NAN, 2.0, 0.0, -0.0, 3.0])
    b = np.array([0.0, NAN, INF, -1.0, 0.0, NAN, 0.0, INF, -INF, 1.0, -1.0])
    for dtype in (np.float64, np.float32):
        check_against_torch(getattr(special, name), getattr(torch.special, name),
                            [a.astype(dtype), b.astype(dtype)])
    x, y = X, np.abs(X[:1]) + 0.1  # broadcast
    check_against_torch(getattr(special, name), getattr(torch.special, name), [x, y])
    check_against_torch(lambda t: getattr(special, name)(t, 2.0),
                        lambda t: getattr(torch.special, name)(t, 2.0), [x])
    check_against_torch(lambda t: getattr(special, name)(2, t),
                        lambda t: getattr(torch.special, name)(2, t), [y])
    check_against_torch(getattr(special, name), getattr(torch.special, name),
                        [np.array([0, 1, 2]), np.array([1, 2, 3])])
    for fn in (lambda lib, t: getattr(lib.special, name)(t, t),
               lambda lib, t: getattr(lib.special, name)(2.0, t),
               lambda lib, t: getattr(lib.special, name)(t, 2.0)):
        ours, theirs = both(lambda lib: fn(lib, lib.ones(2, requires_grad=True)))
        assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert run_gradcheck(getattr(special, name), [x[0], y[0]])
    same_error(lambda lib: getattr(lib.special, name)(2, 3), same_message=False)


def test_polygamma_multigammaln_round():
    x = np.abs(X) + 1.5
    for n in (0, 1, 3):
        check_against_torch(lambda t: special.polygamma(n, t),
                            lambda t: torch.special.polygamma(n, t), [x])
    check_against_torch(lambda t: special.multigammaln(t, 3),
                        lambda t: torch.special.multigammaln(t, 3), [x])
    for decimals in (0, 1, -1):
        check_against_torch(lambda t: special.round(t * 10, decimals=decimals),
                            lambda t: torch.special.round(t * 10, decimals=decimals), [X])


def test_softmax_log_softmax_logsumexp():
    for dim in (0, 1, -1):
        check_against_torch(lambda t: special.softmax(t, dim), lambda t: torch.special.softmax(
            t, dim), [X])
        check_against_torch(lambda t: special.log_softmax(t, dim, dtype=ng.float64),
                            lambda t: torch.special.log_softmax(t, dim, dtype=torch.float64),
                            [X.astype(np.float32)])
        check_against_torch(lambda t: special.logsumexp(t, dim, keepdim=True),
                            lambda t: torch.special.logsumexp(t, dim, keepdim=True), [X])
    same_error(lambda lib: lib.special.softmax(lib.ones(2)), same_message=False)  # dim required
