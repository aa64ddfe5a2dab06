"""erf/erfc (accuracy against math.erf on a million points, speed), exp2/log1p/expm1,
sign and rounding (zero gradients), isfinite/isnan/isinf, all/any, one_hot and multinomial,
against PyTorch: values, gradients, dtypes, gradcheck, double backward and errors."""

import math
import time

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, run_gradcheck

import numpy2gpt as ng
from numpy2gpt.ops.special import erf_array, erfc_array

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5)) * 2
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 0.46875, -0.46875, 4.0, -4.0, 1e-300,
                    -1e-20, 5.9, 26.0, 27.5, 1e300])


def both(fn):
    return fn(ng), fn(torch)


def _second_order(f_ours, f_torch, x):
    w = np.random.default_rng(1).standard_normal(x.shape)
    a, ta = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = ng.autograd.grad(f_ours(a), a, create_graph=True)
    (tg,) = torch.autograd.grad(f_torch(ta), ta, create_graph=True)
    assert_close(g, tg)
    (gg,) = ng.autograd.grad((g * ng.tensor(w)).sum(), a)
    (tgg,) = torch.autograd.grad((tg * torch.tensor(w)).sum(), ta)
    assert_close(gg, tgg, rtol=1e-8)


# ----- erf / erfc -------------------------------------------------------------------------------
def _test_points():
    """A million points: the bulk, each of Cody's three ranges and their edges, and the tails."""
    r = np.random.default_rng(42)
    return np.concatenate([
        r.standard_normal(300_000) * 2,
        r.uniform(-0.46875, 0.46875, 100_000),
        r.uniform(-4.0, 4.0, 200_000),
        r.uniform(-27.0, 27.0, 200_000),
        np.sign(r.standard_normal(200_000)) * 10.0 ** r.uniform(-300, 0.5, 200_000),
        np.nextafter(0.46875, [0.0, 1.0]), np.nextafter(4.0, [0.0, 8.0]), SPECIAL,
    ])


def test_erf_accuracy_against_math_erf_on_a_million_points():
    x = _test_points()
    assert x.size > 1_000_000
    ref = np.array([math.erf(v) for v in x.tolist()])
    got = erf_array(x)
    finite = ~np.isnan(x)
    rel = np.abs(got[finite] - ref[finite]) / np.maximum(np.abs(ref[finite]), 1e-300)
    assert rel.max() < 2e-15, (rel.max(), x[finite][rel.argmax()])
    assert np.isnan(got[~finite]).all()
    assert np.array_equal(np.signbit(got[x == 0]), np.signbit(x[x == 0]))  # erf(-0) = -0


def test_erfc_accuracy_against_math_erfc_including_tails():
    x = _test_points()[::5]
    ref = np.array([math.erfc(v) for v in x.tolist()])
    got = erfc_array(x)
    normal = ref > 1e-300  # below that math.erfc itself is subnormal
    rel = np.abs(got[normal] - ref[normal]) / ref[normal]
    assert rel.max() < 1e-14, (rel.max(), x[normal][rel.argmax()])
    assert np.all(np.abs(got[~normal & ~np.isnan(x)]) < 1e-300)


def test_erf_float32_is_accurate_and_stays_float32():
    x = _test_points()[::10].astype(np.float32)
    got = erf_array(x)
    assert got.dtype == np.float32
    ref = np.array([math.erf(v) for v in x.astype(np.float64).tolist()])
    ok = ~np.isnan(ref) & (np.abs(ref) > 1e-30)
    assert (np.abs(got[ok] - ref[ok]) / np.abs(ref[ok])).max() < 1e-6
    assert erf_array(np.float16([0.5, -2.0])).dtype == np.float16


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_match_torch(name):
    for x in (X, X.astype(np.float32), SPECIAL):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x])
        check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [x])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.arange(-3, 4)])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.zeros((2, 0))])
    assert run_gradcheck(getattr(ng, name), [X[0]])
    _second_order(*both(lambda lib: lambda t: getattr(lib, name)(t).sum()), X[0])


def test_erf_speed():
    """1e6 float32 elements well under 100 ms (no Python loop, no np.vectorize)."""
    x = ng.tensor(np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32) * 2)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ng.erf(x)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.1, best


# ----- exp2 / log1p / expm1 ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp2", "log1p", "expm1"])
def test_exp2_log1p_expm1(name):
    pos = np.abs(X) + 1e-3  # log1p needs x > -1
    tiny = np.array([1e-12, -1e-12, 1e-300, 0.0])  # where log1p / expm1 beat log / exp
    for x in (X, X.astype(np.float32), pos, tiny):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x])
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [np.arange(4)])
    assert run_gradcheck(getattr(ng, name), [pos[0]])
    _second_order(*both(lambda lib: lambda t: getattr(lib, name)(t).sum()), pos[0])


# ----- sign and rounding: zero gradients --------------------------------------------------------
HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -0.0, 1.2345, 2.675,
                   np.nan, np.inf, -np.inf, 1234.5678, -1250.0])


@pytest.mark.parametrize("name", ["sign", "sgn", "floor", "ceil", "round", "trunc"])
def test_sign_and_rounding(name):
    check_grad = name != "sgn"  # torch's sgn gradient is a ZeroTensor, which numpy() refuses
    for x in (X, X.astype(np.float32), HALVES):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x],
                            check_grad=check_grad)  # the gradients are zeros on both sides
        check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [x],
                            check_grad=check_grad)
    for ints in (np.arange(-3, 4), np.arange(-3, 4, dtype=np.int32)):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [ints])
    x = ng.tensor(X, requires_grad=True)
    y = getattr(ng, name)(x)
    assert y.requires_grad and y.grad_fn is not None  # like PyTorch: a node with zero gradient
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(X))


@pytest.mark.parametrize("decimals", [1, 2, 3, -1, -2])
def test_round_decimals(decimals):
    for x in (HALVES, X * 100, (X * 100).astype(np.float32)):
        check_against_torch(*both(lambda lib: lambda t: lib.round(t, decimals=decimals)), [x])


def test_sign_of_bool():
    check_against_torch(*both(lambda lib: lambda t: lib.sign(t)), [np.array([True, False])])


# ----- predicates, all / any --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["isfinite", "isnan", "isinf", "isposinf", "isneginf"])
def test_predicates(name):
    for x in (HALVES, HALVES.astype(np.float32), np.arange(3)):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x],
                            requires_grad=[False])
    if name in ("isfinite", "isnan", "isinf"):
        check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [HALVES],
                            requires_grad=[False])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), 1])
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any(name, dim, keepdim):
    mostly = RNG.random((3, 4, 5)) > 0.2
    for x in (mostly, ~mostly, mostly.astype(np.float64), mostly.astype(np.uint8),
              mostly.astype(np.int64) * 3, np.zeros((2, 0, 3), bool)):
        if dim is None:
            f = both(lambda lib: lambda t: getattr(lib, name)(t))
        else:
            f = both(lambda lib: lambda t: getattr(t, name)(dim, keepdim=keepdim))
        check_against_torch(*f, [x], requires_grad=[False])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, 0)),
                        [np.array(True)], requires_grad=[False])


# ----- one_hot ----------------------------------------------------------------------------------
def test_one_hot_matches_torch():
    idx = RNG.integers(0, 5, size=(3, 4))
    f = torch.nn.functional.one_hot
    for n in (-1, 5, 7):
        assert_close(ng.one_hot(ng.tensor(idx), n), f(torch.tensor(idx), n))
    assert_close(ng.one_hot(ng.tensor(idx)), f(torch.tensor(idx)))
    assert_close(ng.one_hot(ng.tensor(3), 4), f(torch.tensor(3), 4))
    assert_close(ng.one_hot(ng.tensor(np.zeros(0, np.int64)), 3),
                 f(torch.tensor(np.zeros(0, np.int64)), 3))
    assert ng.one_hot(ng.tensor(idx)).dtype == ng.int64


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        ng.one_hot(ng.tensor([1, 2]), 2)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        ng.one_hot(ng.tensor([-1, 2]), 3)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        ng.one_hot(ng.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type LongTensor"):
        ng.one_hot(ng.tensor(np.array([1, 2], np.int32)))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes"):
        ng.one_hot(ng.tensor(np.zeros(0, np.int64)))


# ----- multinomial ------------------------------------------------------------------------------
def test_multinomial_with_replacement_follows_the_probabilities():
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.0, 0.0, 2.0, 2.0]])  # unnormalised rows are fine
    ng.manual_seed(0)
    n = 40_000
    s = ng.multinomial(ng.tensor(p), n, replacement=True)
    assert s.shape == (2, n) and s.dtype == ng.int64
    for row, probs in zip(s.numpy(), p / p.sum(1, keepdims=True)):
        freq = np.bincount(row, minlength=4) / n
        sigma = np.sqrt(probs * (1 - probs) / n)
        assert np.all(np.abs(freq - probs) <= 5 * sigma + 1e-12), (freq, probs)
        assert np.all(freq[probs == 0] == 0)  # impossible categories are never drawn
    one = ng.multinomial(ng.tensor([0.0, 1.0, 0.0]), 5, True)  # 1-D in, 1-D out
    np.testing.assert_array_equal(one.numpy(), [1] * 5)


def test_multinomial_without_replacement():
    p = np.array([0.5, 0.2, 0.2, 0.1, 0.0])
    ng.manual_seed(1)
    draws = ng.multinomial(ng.tensor(np.tile(p, (20_000, 1))), 3).numpy()
    assert draws.shape == (20_000, 3)
    assert np.all(np.sort(draws, 1)[:, 1:] != np.sort(draws, 1)[:, :-1])  # distinct in a row
    assert not np.any(draws == 4)  # enough positive categories: the zero one is never taken
    first = np.bincount(draws[:, 0], minlength=5) / len(draws)  # the first draw follows p
    assert np.all(np.abs(first - p) < 5 * np.sqrt(p * (1 - p) / len(draws)) + 1e-12), first
    # the second draw follows p renormalised without the first: P(second = 1 | first = 0) = 0.4
    second = draws[draws[:, 0] == 0, 1]
    assert abs(np.mean(second == 1) - 0.4) < 5 * np.sqrt(0.24 / len(second))
    all_of_them = ng.multinomial(ng.tensor(p[:4]), 4).numpy()
    assert sorted(all_of_them.tolist()) == [0, 1, 2, 3]


def test_multinomial_is_reproducible_and_takes_a_generator():
    p = ng.tensor([0.2, 0.3, 0.5])
    ng.manual_seed(7)
    a = ng.multinomial(p, 10, True).numpy()
    ng.manual_seed(7)
    b = ng.multinomial(p, 10, True).numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(ng.multinomial(p, 3, generator=g1).numpy(),
                                  ng.multinomial(p, 3, generator=g2).numpy())
    assert p.multinomial(2).shape == (2,)


def test_multinomial_errors():
    cases = [
        (ng.tensor([0.0, 1.0]), 3, False, "cannot sample n_sample > prob_dist.size"),
        (ng.tensor([-1.0, 1.0]), 1, False, "contains either `inf`, `nan` or element < 0"),
        (ng.tensor([1.0, np.nan]), 1, True, "contains either `inf`, `nan` or element < 0"),
        (ng.tensor([0.0, 0.0]), 1, True, "sum of probabilities <= 0"),
        (ng.tensor([[0.5, 0.5], [0.0, 0.0]]), 1, True, "sum of probabilities <= 0"),
        (ng.ones(2, 2, 2), 1, True, "prob_dist must be 1 or 2 dim"),
        (ng.tensor([1, 2]), 1, True, "only supports floating-point dtypes"),
        (ng.tensor([1.0, 2.0]), 0, True, "cannot sample n_sample <= 0 samples"),
    ]
    for p, n, replacement, message in cases:
        with pytest.raises(RuntimeError, match=message):
            ng.multinomial(p, n, replacement)
        with pytest.raises(RuntimeError, match=message.split(" (")[0]):
            torch.multinomial(torch.tensor(p.numpy()), n, replacement)  # the same complaint


def test_exported_names():
    for name in ["erf", "erfc", "exp2", "log1p", "expm1", "sign", "floor", "ceil", "round",
                 "trunc", "isfinite", "isnan", "isinf", "all", "any", "one_hot", "multinomial"]:
        assert callable(getattr(ng, name)), name
