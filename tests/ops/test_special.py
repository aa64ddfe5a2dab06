"""erf/erfc (accuracy against math.erf on a million points), exp2/log1p/expm1,
sign and rounding (zero gradients), isfinite/isnan/isinf, all/any, logical ops and ~, one_hot
and multinomial, against PyTorch: values, gradients, dtypes, gradcheck, double backward and
errors."""

import math

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    both,
    check_against_torch,
    run_gradcheck,
    second_order,
)

import numpy2gpt as ng
from numpy2gpt.ops.special import erf_array, erfc_array

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5)) * 2
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 0.46875, -0.46875, 4.0, -4.0, 1e-300,
                    -1e-20, 5.9, 26.0, 27.5, 1e300])


# ----- erf / erfc -------------------------------------------------------------------------------
def _test_points():
    """A million points: the bulk, each of fdlibm's ranges and their edges, and the tails."""
    r = np.random.default_rng(42)
    edges = np.array([0.84375, 1.25, 1 / 0.35, 6.0, 28.0])
    return np.concatenate([
        r.standard_normal(300_000) * 2,
        r.uniform(-0.84375, 0.84375, 100_000),
        r.uniform(-4.0, 4.0, 200_000),
        r.uniform(-27.0, 27.0, 200_000),
        np.sign(r.standard_normal(200_000)) * 10.0 ** r.uniform(-300, 0.5, 200_000),
        np.nextafter(edges, 0.0), edges, np.nextafter(edges, 30.0), -edges, SPECIAL,
    ])


def _ulps(got, ref, dtype):
    """|got - ref| in units in the last place of ref rounded to `dtype`."""
    return np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(ref).astype(dtype)).astype(
        np.float64)


def test_erf_accuracy_against_math_erf_on_a_million_points():
    x = _test_points()
    assert x.size > 1_000_000
    ref = np.array([math.erf(v) for v in x.tolist()])
    got = erf_array(x)
    finite = ~np.isnan(x)
    ulps = _ulps(got[finite], ref[finite], np.float64)
    assert ulps.max() <= 2, (ulps.max(), x[finite][ulps.argmax()])  # fdlibm: within 1 ulp
    assert np.isnan(got[~finite]).all()
    assert np.array_equal(np.signbit(got[x == 0]), np.signbit(x[x == 0]))  # erf(-0) = -0
    assert erf_array(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]


def test_erfc_accuracy_against_math_erfc_including_tails():
    x = _test_points()[::5]
    ref = np.array([math.erfc(v) for v in x.tolist()])
    got = erfc_array(x)
    normal = ref > 1e-300  # below that math.erfc itself is subnormal
    rel = np.abs(got[normal] - ref[normal]) / ref[normal]
    assert rel.max() < 2e-15, (rel.max(), x[normal][rel.argmax()])
    assert np.all(np.abs(got[~normal & ~np.isnan(x)]) < 1e-300)
    assert erfc_array(np.array([np.inf, -np.inf, -30.0])).tolist() == [0.0, 2.0, 2.0]


def test_erf_float32_is_accurate_and_stays_float32():
    with np.errstate(over="ignore"):
        x = _test_points()[::10].astype(np.float32)
    got = erf_array(x)
    assert got.dtype == np.float32
    ref = np.array([math.erf(v) for v in x.astype(np.float64).tolist()])
    ok = ~np.isnan(ref) & (np.abs(ref) > 1e-30)
    assert _ulps(got[ok], ref[ok], np.float32).max() <= 1.5  # fdlibm in float32: within 1 ulp
    refc = np.array([math.erfc(v) for v in x.astype(np.float64).tolist()])
    gotc = erfc_array(x)
    ok = refc > 1e-37
    assert gotc.dtype == np.float32 and _ulps(gotc[ok], refc[ok], np.float32).max() <= 8
    assert erf_array(np.float16([0.5, -2.0])).dtype == np.float16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_of_scaled_input_and_erf_into(dtype):
    """erf_array(x, scale) is erf(scale * x) with the product rounded as x * scale would be;
    erf_into writes into a given array. Sizes around the block size exercise the blocking."""
    from numpy2gpt.ops.special import BLOCK, erf_into

    for n in (0, 1, 7, BLOCK - 1, BLOCK, 3 * BLOCK + 5):
        x = (np.random.default_rng(n).standard_normal(n) * 3).astype(dtype)
        scaled = erf_array(x, scale=1 / math.sqrt(2))
        assert scaled.dtype == dtype
        np.testing.assert_array_equal(scaled, erf_array(x * dtype(1 / math.sqrt(2))))
        out = np.full(n, np.nan, dtype=dtype)
        assert erf_into(x, out) is out
        np.testing.assert_array_equal(out, erf_array(x))
        ref = np.array([math.erf(v) for v in x.astype(np.float64).tolist()])
        assert _ulps(out, ref, dtype).max(initial=0) <= 2


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_match_torch(name):
    for x in (X, X.astype(np.float32), SPECIAL):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x])
        check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [x])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.arange(-3, 4)])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [np.zeros((2, 0))])
    assert run_gradcheck(getattr(ng, name), [X[0]])
    second_order(*both(lambda lib: lambda t: getattr(lib, name)(t).sum()), X[0], rtol=1e-8)


# ----- exp2 / log1p / expm1 ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["exp2", "log1p", "expm1"])
def test_exp2_log1p_expm1(name):
    pos = np.abs(X) + 1e-3  # log1p needs x > -1
    tiny = np.array([1e-12, -1e-12, 1e-300, 0.0])  # where log1p / expm1 beat log / exp
    for x in (X, X.astype(np.float32), pos, tiny):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [x])
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [np.arange(4)])
    assert run_gradcheck(getattr(ng, name), [pos[0]])
    second_order(*both(lambda lib: lambda t: getattr(lib, name)(t).sum()), pos[0], rtol=1e-8)


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


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_one_sample_per_row_follows_the_probabilities(replacement, dtype):
    """One sample per row (next-token sampling): zero-probability categories, in the middle and at
    the end, are never drawn; the others come with frequency p / sum(p)."""
    p = np.array([0.05, 0.0, 0.5, 0.25, 0.2, 0.0, 0.0]).astype(dtype) * 3  # unnormalised
    ng.manual_seed(2)
    n = 50_000
    s = ng.multinomial(ng.tensor(np.tile(p, (n, 1))), 1, replacement)
    assert s.shape == (n, 1) and s.dtype == ng.int64
    freq = np.bincount(s.numpy()[:, 0], minlength=p.size) / n
    probs = p.astype(np.float64) / p.astype(np.float64).sum()
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / n) + 1e-12), freq
    assert np.all(freq[probs == 0] == 0)
    one = ng.multinomial(ng.tensor(p), 1, replacement)  # 1-D in, shape (1,) out
    assert one.shape == (1,) and p[one.item()] > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_samples, replacement", [(1, False), (1, True), (4, False), (7, True)])
def test_multinomial_draws_torchs_samples_under_the_same_seed(num_samples, replacement, dtype):
    """PyTorch's CPU algorithms on PyTorch's generator: one sample or no replacement is the argmax
    (top-k) of p / q with q ~ Exp(1); several with replacement invert the cdf at float64
    uniforms. Same seed, same float probabilities: the same indices, and the generator advanced
    by as many draws (the next numbers agree too)."""
    probs = (np.random.default_rng(0).random((6, 50)) ** 4).astype(dtype)  # unnormalised
    probs[:, 20:23] = 0.0  # zero categories in the middle and at the end
    probs[:, -3:] = 0.0
    one_hot = replacement or num_samples == 1  # (top-k past the positive ones: ties of zeros)
    if one_hot:
        probs[2] = 0.0
        probs[2, 10] = 1.0
    for seed in (0, 9, 1337):
        torch.manual_seed(seed)
        want = torch.multinomial(torch.from_numpy(probs), num_samples, replacement).numpy()
        want_next = torch.rand(5).numpy()
        ng.manual_seed(seed)
        got = ng.multinomial(ng.tensor(probs), num_samples, replacement).numpy()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(ng.rand(5).numpy(), want_next)
        assert np.all(np.take_along_axis(probs, got, axis=1) > 0)  # zero categories never drawn
        if one_hot:
            assert np.all(got[2] == 10)
    # a 1-D row and explicit generators: the same again, and the global streams stay apart
    torch.manual_seed(3)
    ng.manual_seed(3)
    row = probs[0]
    want = torch.multinomial(torch.from_numpy(row), num_samples, replacement,
                             generator=torch.Generator().manual_seed(5))
    got = ng.multinomial(ng.tensor(row), num_samples, replacement,
                         generator=ng.Generator().manual_seed(5))
    assert got.shape == (num_samples,)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(ng.rand(5).numpy(), torch.rand(5).numpy())  # untouched


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multinomial_one_sample_draws_a_lone_tiny_probability(dtype):
    """The one-sample path with one tiny positive category among zeros: p / q stays positive (q
    is at most -log(2^-53) ~ 36.7), so that category always wins the argmax."""
    tiny = 1e-30 if dtype == np.float32 else 1e-300
    probs = np.zeros((2000, 9), dtype)
    where = np.arange(2000) % 9  # first, middle and last positions
    probs[np.arange(2000), where] = tiny
    for replacement in (False, True):
        got = ng.multinomial(ng.tensor(probs), 1, replacement,
                             generator=ng.Generator().manual_seed(4)).numpy()[:, 0]
        np.testing.assert_array_equal(got, where)


def test_multinomial_with_replacement_at_the_largest_uniform_stays_in_range():
    """u = 1 - 2^-53 (the largest float64 uniform) picks the last positive category: the
    normalised cdf's last entry is exactly 1 (rounding in the cumulative sum cannot leave u past
    the end), and trailing zero-probability categories share it, so searchsorted(side='left')
    stops before them."""
    class Largest(ng.Generator):
        def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
            return np.full(shape, 1.0 - 2.0 ** -53, dtype)

    for p in ([0.3, 0.7, 0.0, 0.0], [1e-300, 3.0, 1e-3, 0.0], [0.1] * 10, [1e-30, 0.0, 0.0]):
        last = max(i for i, v in enumerate(p) if v > 0)
        for dtype in (ng.float32, ng.float64):
            s = ng.multinomial(ng.tensor(p, dtype=dtype), 3, True, generator=Largest())
            assert s.tolist() == [last] * 3, (p, dtype, s)


def test_multinomial_is_reproducible_and_takes_a_generator():
    p = ng.tensor([0.2, 0.3, 0.5])
    ng.manual_seed(7)
    a = ng.multinomial(p, 10, True).numpy()
    ng.manual_seed(7)
    b = ng.multinomial(p, 10, True).numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = ng.Generator().manual_seed(3), ng.Generator().manual_seed(3)
    np.testing.assert_array_equal(ng.multinomial(p, 3, generator=g1).numpy(),
                                  ng.multinomial(p, 3, generator=g2).numpy())
    assert p.multinomial(2).shape == (2,)
    with pytest.raises(TypeError, match="generator must be a numpy2gpt.Generator"):
        ng.multinomial(p, 1, generator=np.random.default_rng(3))  # not a NumPy generator


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


# ----- logical ops, ~ -----------------------------------------------------------------------------
LOGICAL_INPUTS = [
    np.array([1.0, 0.0, -0.0, np.nan, np.inf, 2.5]),
    np.array([3, 0, -1, 0, 7, 1]),
    np.array([True, False, True, False, False, True]),
    np.array([0.0, 0.0, 1.0, 1.0, 0.0, 3.0], dtype=np.float32),
]


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_ops_match_torch(name):
    for a in LOGICAL_INPUTS:
        for b in LOGICAL_INPUTS:  # mixed dtypes: nonzero (NaN included) is True
            check_against_torch(*both(lambda lib: lambda x, y: getattr(lib, name)(x, y)),
                                [a, b], requires_grad=[False, False])
    col, row = np.array([[0.0], [2.0]]), np.array([True, False, True])
    check_against_torch(*both(lambda lib: lambda x, y: getattr(x, name)(y)), [col, row],
                        requires_grad=[False, False])  # broadcast, as a method
    x = ng.tensor([1.0, 0.0], requires_grad=True)
    y = getattr(ng, name)(x, x)
    assert y.dtype == ng.bool and not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="must match the size"):
        getattr(ng, name)(ng.ones(2), ng.ones(3))
    with pytest.raises(TypeError, match=f"{name}\\(\\): argument 'other' \\(position 2\\) must be "
                                        "Tensor, not int"):
        getattr(ng, name)(ng.ones(2), 1)


def test_logical_not_and_invert_match_torch():
    for a in LOGICAL_INPUTS + [np.array(0.0), np.zeros((2, 0))]:
        check_against_torch(*both(lambda lib: lambda x: lib.logical_not(x)), [a],
                            requires_grad=[False])
        check_against_torch(*both(lambda lib: lambda x: x.logical_not()), [a],
                            requires_grad=[False])
    for a in (LOGICAL_INPUTS[1], LOGICAL_INPUTS[2], np.array([0, 1, 254], dtype=np.uint8),
              np.array([5, -6], dtype=np.int32), np.array(True)):
        check_against_torch(*both(lambda lib: lambda x: ~x), [a], requires_grad=[False])
        check_against_torch(*both(lambda lib: lambda x: lib.bitwise_not(x)), [a],
                            requires_grad=[False])
    mask = ng.tensor([True, False, True])
    assert (~~mask).tolist() == mask.tolist() and (~mask).dtype == ng.bool
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        ~ng.tensor([1.0])
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        ~torch.tensor([1.0])
    with pytest.raises(NotImplementedError, match="bitwise_not_cpu\" not implemented for 'Float'"):
        ng.bitwise_not(ng.tensor([1.0]))
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        ng.logical_not([1.0])


def test_exported_names():
    for name in ["erf", "erfc", "exp2", "log1p", "expm1", "sign", "floor", "ceil", "round",
                 "trunc", "isfinite", "isnan", "isinf", "all", "any", "one_hot", "multinomial",
                 "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not"]:
        assert callable(getattr(ng, name)), name
