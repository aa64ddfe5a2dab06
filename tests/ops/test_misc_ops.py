"""The remaining common Tensor methods and torch functions against PyTorch: index_put, put,
masked_scatter, scatter_reduce, fill_diagonal_; quantile and friends, histograms, cov/corrcoef,
trapezoid, vander; gcd/lcm/frexp/nextafter; the split and in-place shape ops; predicates,
creation functions and the process-wide switches. Values, dtypes, shapes, gradients (under a
random upstream gradient) and PyTorch's errors for bad input."""

# ruff: noqa: B023  (the lambdas built in a loop are called in that same iteration)

import warnings

import numpy as np
import pytest
import torch
from torch_compare import both, compare, rand

import numpy2gpt as nt

DTYPES = [np.float64, np.float32]
I64 = np.int64


def _lib_args(lib, args):
    """NumPy arrays among args as tensors of `lib` (tuples of them too)."""
    def conv(a):
        if isinstance(a, np.ndarray):
            return lib.tensor(a)
        if isinstance(a, tuple):
            return tuple(conv(v) for v in a)
        return a

    return [conv(a) for a in args]


def same_error(fn, *args, prefix=False, **kwargs):
    """fn(lib, ...) raises the same error type and message on numpy2gpt as on torch (prefix:
    numpy2gpt's message starts with PyTorch's and may say more)."""
    errors = []
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            fn(lib, *_lib_args(lib, args), **dict(zip(kwargs, _lib_args(lib, kwargs.values()))))
        errors.append(info.value)
    ours, theirs = (str(e).split("\n")[0] for e in errors)
    assert type(errors[0]) is type(errors[1]), f"{ours!r} vs {theirs!r}"
    assert ours.startswith(theirs) if prefix else ours == theirs, f"{ours!r} vs {theirs!r}"


# ----- index_put / put / masked_scatter ---------------------------------------------------------
INDEX_PUT_CASES = [  # (indices, values' shape, whether a position is named twice)
    ((np.array([0, 2, 3]),), (3, 5), False),
    ((np.array([0, 2, 0]),), (3, 5), True),
    ((np.array([0, 2, 0]), np.array([1, 1, 4])), (3,), False),
    ((np.array([0, 2, 0]), np.array([1, 1, 1])), (3,), True),
    ((np.array([[0], [2]]), np.array([1, 3])), (2, 2), False),  # broadcast index tensors
    ((rand(4, 5) > 0,), (), False),  # a mask and a 0-d value
    ((np.array([1, -1]),), (1, 5), False),  # the value broadcast over the picked rows
    ((np.array([1, -3]),), (5,), True),  # -3 and 1 are the same row
]


# (which of two writes to one position lands is unspecified: repeats are tested accumulating)
@pytest.mark.parametrize("case,accumulate", [(c, a) for c in INDEX_PUT_CASES
                                             for a in (False, True) if a or not c[2]],
                         ids=[f"{i}-{a}" for i, c in enumerate(INDEX_PUT_CASES)
                              for a in (False, True) if a or not c[2]])
@pytest.mark.parametrize("dtype", DTYPES)
def test_index_put_matches_torch(case, accumulate, dtype):
    indices, vshape, _ = case

    def fn(lib, x, v, method):
        idx = tuple(lib.tensor(i) for i in indices)
        if method:
            return (x * 1).index_put_(idx, v, accumulate=accumulate)
        return lib.index_put(x, idx, v, accumulate)

    for method in (False, True):
        compare(lambda x, v: fn(nt, x, v, method), lambda x, v: fn(torch, x, v, method),
                [rand(4, 5), rand(*vshape, seed=1)], dtype)


def test_index_put_integer_and_mask_fill():
    for args in [(np.arange(5), (np.array([1, 1, 3]),), np.array([10, 20, 30]), True),
                 (np.zeros(3, bool), (np.array([1, 1]),), np.array([True, False]), True),
                 (np.zeros(3, np.float32), (np.array([True, False, True]),), np.array(1), False)]:
        ours, theirs = both(lambda lib: lib.index_put(*_lib_args(lib, args)))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == nt.tensor(theirs.numpy()).dtype


def test_index_put_errors():
    x, i = rand(3, 4).astype(np.float32), np.array([0, 2])
    f = lambda lib, *a: lib.index_put(*a)  # noqa: E731
    same_error(f, x, (i,), np.ones(4))  # float64 into float32
    same_error(f, x, i, np.ones(4, np.float32))  # not a tuple
    same_error(f, x, (i,), 1.0)
    same_error(f, x, (i,), np.ones(3, np.float32))
    same_error(f, x, (i,), np.ones((1, 1, 4), np.float32))
    same_error(f, x, (np.array([0, 5]),), np.ones(4, np.float32))
    same_error(f, x, (i.astype(np.float32),), np.ones(4, np.float32))
    same_error(f, x, (i, i, i), np.ones((), np.float32))
    same_error(lambda lib, x: lib.index_put(x, (None, lib.tensor([0])), lib.ones(1)), x)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_put_matches_torch(accumulate, dtype):
    index = np.array([[0, -1], [7, 3]]) if not accumulate else np.array([[0, 11], [7, 0]])
    compare(lambda x, s: nt.put(x, nt.tensor(index), s, accumulate),
            lambda x, s: torch.put(x, torch.tensor(index), s, accumulate),
            [rand(3, 4), rand(4, seed=1)], dtype)
    compare(lambda x, s: (x * 1).put_(nt.tensor(index), s, accumulate=accumulate),
            lambda x, s: (x * 1).put_(torch.tensor(index), s, accumulate=accumulate),
            [rand(3, 4), rand(2, 2, seed=1)], dtype)


def test_put_errors():
    x = rand(3, 4).astype(np.float32)
    f = lambda lib, *a: lib.put(*a)  # noqa: E731
    same_error(f, x, np.array([0, 12]), np.ones(2, np.float32))
    same_error(f, x, np.array([0, 1]), np.ones(3, np.float32))
    same_error(f, x, np.array([0, 1]), np.ones(2))
    same_error(f, x, np.array([0, 1], np.int32), np.ones(2, np.float32))
    same_error(f, x, np.array([0, 1]), 1.0)
    same_error(f, np.zeros(0, np.float32), np.array([0]), np.ones(1, np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_scatter_matches_torch(dtype):
    mask = rand(3, 4, seed=5) > 0
    for mshape in [mask, mask[1]]:  # a mask broadcast over the rows
        compare(lambda x, s: nt.masked_scatter(x, nt.tensor(mshape), s),
                lambda x, s: torch.masked_scatter(x, torch.tensor(mshape), s),
                [rand(3, 4), rand(15, seed=1)], dtype)
        compare(lambda x, s: (x * 1).masked_scatter_(nt.tensor(mshape), s),
                lambda x, s: (x * 1).masked_scatter_(torch.tensor(mshape), s),
                [rand(3, 4), rand(3, 5, seed=1)], dtype)
    compare(lambda x, s: nt.masked_scatter(x, nt.tensor(np.ones((2, 1, 4), bool)), s),
            lambda x, s: torch.masked_scatter(x, torch.tensor(np.ones((2, 1, 4), bool)), s),
            [rand(3, 4), rand(24, seed=1)], dtype)  # input broadcast to the mask's shape


def test_masked_scatter_errors():
    x = rand(3, 4).astype(np.float32)
    m = x > 0
    f = lambda lib, *a: lib.masked_scatter(*a)  # noqa: E731
    same_error(f, x, m, np.arange(2, dtype=np.float32))
    same_error(f, x, m.astype(np.float32), np.arange(12, dtype=np.float32))
    same_error(f, x, m, np.arange(12.0))
    same_error(f, x, np.ones(5, bool), np.arange(30, dtype=np.float32), prefix=True)


# ----- scatter_reduce ---------------------------------------------------------------------------
SR_INDEX = np.array([[0, 1, 0, 0], [3, 3, 1, 2], [2, 2, 2, 0]])


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_reduce_matches_torch(reduce, include_self, dtype):
    x, src = rand(3, 5), rand(3, 4, seed=1)
    if reduce == "prod":  # zeros: in x, a lone one in src, and two sent to the same position
        x[0, 0], src[0, 0], src[2, 0], src[2, 1] = 0.0, 0.0, 0.0, 0.0
    for dim in (1, -1):
        compare(lambda a, b: nt.scatter_reduce(a, dim, nt.tensor(SR_INDEX), b, reduce,
                                               include_self=include_self),
                lambda a, b: torch.scatter_reduce(a, dim, torch.tensor(SR_INDEX), b, reduce,
                                                  include_self=include_self), [x, src], dtype)
    compare(lambda a, b: (a * 1).scatter_reduce_(0, nt.tensor(SR_INDEX[:2, :3] % 3), b, reduce,
                                                 include_self=include_self),
            lambda a, b: (a * 1).scatter_reduce_(0, torch.tensor(SR_INDEX[:2, :3] % 3), b, reduce,
                                                 include_self=include_self),
            [x, src[:2, :3].copy()], dtype)


def test_scatter_reduce_ties_share_the_gradient():
    x, src = np.array([[1.0, 5.0, 2.0]]), np.array([[5.0, 5.0, 0.5, 2.0]])
    index = np.array([[1, 1, 2, 2]])
    for reduce in ("amax", "amin"):
        compare(lambda a, b: a.scatter_reduce(1, nt.tensor(index), b, reduce),
                lambda a, b: a.scatter_reduce(1, torch.tensor(index), b, reduce), [x, src])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_integers(reduce, include_self):
    x, src = np.array([-5, 1, 2, 7], np.int32), np.array([-3, 4, -6, 9, 2], np.int32)
    index = np.array([0, 0, 1, 1, 0])
    ours, theirs = both(lambda lib: lib.scatter_reduce(
        lib.tensor(x), 0, lib.tensor(index), lib.tensor(src), reduce, include_self=include_self))
    assert ours.dtype == nt.int32 and theirs.dtype == torch.int32
    assert ours.tolist() == theirs.tolist()


def test_scatter_reduce_errors():
    x, src = rand(3, 4).astype(np.float32), rand(2, 3).astype(np.float32)
    idx = np.array([[0, 1, 0], [2, 2, 1]])
    f = lambda lib, *a: lib.scatter_reduce(*a)  # noqa: E731
    same_error(f, x, 1, idx, src, "foo")
    same_error(f, x, 1, idx, src.astype(np.float64), "sum")
    same_error(f, x, 1, idx, src[:1], "sum")
    same_error(f, x, 1, idx + 5, src, "sum")
    same_error(f, x, 1, idx, 1.0, "sum")
    same_error(f, x, 1, idx.astype(np.float32), src, "sum", prefix=True)


# ----- fill_diagonal_ ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                         ((3, 5), True), ((2, 2, 2), False)])
def test_fill_diagonal_matches_torch(shape, wrap):
    compare(lambda x: (x * 1).fill_diagonal_(2.5, wrap),
            lambda x: (x * 1).fill_diagonal_(2.5, wrap), [rand(*shape)])
    ours, theirs = both(lambda lib: lib.zeros(*shape, dtype=lib.long).fill_diagonal_(1.7, wrap))
    assert ours.tolist() == theirs.tolist() and ours.dtype == nt.int64


def test_fill_diagonal_errors():
    same_error(lambda lib: lib.zeros(3).fill_diagonal_(1))
    same_error(lambda lib: lib.zeros(3, 4, 3).fill_diagonal_(1))
    same_error(lambda lib: lib.zeros(3, 3).fill_diagonal_(lib.tensor(1.0, requires_grad=True)))
    ours, theirs = both(lambda lib: lib.zeros(2, 2).fill_diagonal_(lib.tensor(3.0)))
    assert ours.tolist() == theirs.tolist()


# ----- quantile / nanquantile / nanmedian / mode / msort ----------------------------------------
def _with_nans(a):
    a = a.copy()
    a.flat[[1, 5, 6, 7]] = np.nan  # row 1 of a (3, 4): all but one NaN
    return a


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_quantile_matches_torch(interpolation, dtype):
    x = rand(3, 4)
    for name, data in (("quantile", x), ("nanquantile", _with_nans(x))):
        for q, dim, keepdim in [(0.3, None, False), (0.5, 1, True), (np.array([0.0, 0.25, 1.0]),
                                                                   0, False),
                                (np.array(0.75), -1, False), (np.array([0.1, 0.9]), None, True)]:
            def fn(lib, a):
                qq = lib.tensor(q, dtype=a.dtype) if isinstance(q, np.ndarray) else q
                return getattr(lib, name)(a, qq, dim, keepdim, interpolation=interpolation)
            compare(lambda a: fn(nt, a), lambda a: fn(torch, a), [data], dtype)
    compare(lambda a: a.quantile(0.4), lambda a: a.quantile(0.4), [x.copy()], dtype)  # a NaN
    compare(lambda a: a.quantile(0.4, dim=1), lambda a: a.quantile(0.4, dim=1),
            [_with_nans(x)], dtype, grad=False)


def test_quantile_errors():
    x = rand(3, 4).astype(np.float32)
    for name in ("quantile", "nanquantile"):
        f = lambda lib, *a, **k: getattr(lib, name)(*a, **k)  # noqa: E731
        same_error(f, x, 1.5)
        same_error(f, x, np.array([[0.5]], np.float32))
        same_error(f, np.arange(4), 0.5)
        same_error(f, x, np.array([0.5]))
        same_error(f, np.zeros(0, np.float32), 0.5)
        same_error(f, x, 0.5, interpolation="foo")
        same_error(f, x, np.array([0.5, 2.0], np.float32))
        same_error(f, x, 0.5, dim=3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nanmedian_matches_torch(dtype):
    x = _with_nans(rand(3, 4))
    compare(lambda a: nt.nanmedian(a), lambda a: torch.nanmedian(a), [x], dtype)
    ties = np.array([1.0, 2.0, 2.0, 3.0, 2.0, np.nan])  # tied medians share the gradient
    compare(lambda a: a.nanmedian(), lambda a: a.nanmedian(), [ties], dtype)
    for dim, keepdim in [(0, False), (1, True), (-1, False)]:
        compare(lambda a: nt.nanmedian(a, dim, keepdim), lambda a: torch.nanmedian(a, dim, keepdim),
                [x[[0, 2]]], dtype)
    ours, theirs = both(lambda lib: lib.nanmedian(lib.tensor([[3, 1, 2, 2]]), 1))
    assert ours.values.tolist() == theirs.values.tolist() == [2]
    assert type(ours).__name__ == "nanmedian" and ours._fields == ("values", "indices")
    same_error(lambda lib: lib.nanmedian(lib.tensor([True])))
    same_error(lambda lib: lib.nanmedian(lib.zeros(0, 3), 0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mode_matches_torch(dtype):
    x = np.array([[1.0, 2, 2, 3, 3, 1, 0], [5, 4, 4, 5, 5, 0, 4], [7, 6, 5, 4, 3, 2, 1]])
    for dim, keepdim in [(1, False), (0, True), (-1, True)]:
        compare(lambda a: nt.mode(a, dim, keepdim), lambda a: torch.mode(a, dim, keepdim), [x],
                dtype)
    compare(lambda a: a.mode(), lambda a: a.mode(), [np.array(5.0)], dtype)
    ours, theirs = both(lambda lib: lib.mode(lib.tensor([True, False, True])))
    assert ours.values.item() == theirs.values.item() and ours.indices.item() == 2
    same_error(lambda lib: lib.mode(lib.zeros(0)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_msort_matches_torch(dtype):
    compare(nt.msort, torch.msort, [rand(4, 3)], dtype)
    compare(lambda a: a.msort(), lambda a: a.msort(), [rand(5)], dtype)


# ----- histc / histogram ------------------------------------------------------------------------
HIST_DATA = np.array([1.0, 2, 1, 4, 2.5, 5, -1, 3.9, 0.3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_histc_matches_torch(dtype):
    for data, args in [(HIST_DATA, (4, 1, 4)), (HIST_DATA, (5,)), (rand(100), (7,)),
                       (np.array([1.0, 1, 1]), (4,)), (np.zeros(0), (3,))]:
        ours, theirs = both(lambda lib: lib.histc(lib.tensor(data.astype(dtype)), *args))
        assert_same(ours, theirs)
    ours, theirs = both(lambda lib: lib.tensor(rand(6), requires_grad=True).histc(3))
    assert_same(ours, theirs)
    assert not ours.requires_grad


def assert_same(ours, theirs):
    assert ours.dtype == nt.tensor(theirs.numpy()).dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_histc_errors():
    f = lambda lib, *a: lib.histc(*a)  # noqa: E731
    same_error(f, np.array([1, 2]), 4)
    same_error(f, np.array([1.0, 2]), -4)
    same_error(f, np.array([1.0, 2]), 4, 3, 1)
    same_error(f, np.array([1.0, np.inf]), 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_histogram_matches_torch(dtype):
    data = HIST_DATA.astype(dtype)
    for bins, kwargs in [(4, {}), (np.array([0.0, 1, 3, 4]), {}), (3, {"range": (0.0, 4.0)}),
                         (3, {"range": (0.0, 4.0), "weight": np.arange(9.0), "density": True}),
                         (5, {"density": True})]:
        def fn(lib):
            b = lib.tensor(bins.astype(dtype)) if isinstance(bins, np.ndarray) else bins
            kw = {k: lib.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                  for k, v in kwargs.items()}
            return lib.histogram(lib.tensor(data), b, **kw)
        ours, theirs = both(fn)
        assert type(ours).__name__ == "histogram" and ours._fields == ("hist", "bin_edges")
        assert_same(ours.hist, theirs.hist)
        assert_same(ours.bin_edges, theirs.bin_edges)
    for data in (np.array([2.0, 2.0]), np.zeros(0), np.array([[1.0, 2], [3, 4]])):
        ours, theirs = both(lambda lib: lib.histogram(lib.tensor(data), 2))
        assert_same(ours.hist, theirs.hist)
        assert_same(ours.bin_edges, theirs.bin_edges)


def test_histogram_errors():
    f = lambda lib, *a, **k: lib.histogram(*a, **k)  # noqa: E731
    x = np.array([1.0, 2.0], np.float32)
    same_error(f, np.array([1, 2]), 4)
    same_error(f, x, 4, range=(3.0, 1.0))
    same_error(f, x, np.array([1, 2]))
    same_error(f, x, 0)
    same_error(f, x, 3, weight=np.ones(3, np.float32))


# ----- cov / corrcoef ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_cov_matches_torch(dtype):
    x = rand(3, 5)
    fw, aw = np.array([1, 2, 3, 1, 2]), rand(5, seed=2) ** 2
    for kwargs in [{}, {"correction": 0}, {"correction": 2}, {"fweights": fw},
                   {"aweights": aw}, {"fweights": fw, "aweights": aw, "correction": 1}]:
        def fn(lib, a):
            kw = {k: lib.tensor(v.astype(dtype) if v.dtype.kind == "f" else v)
                  for k, v in kwargs.items() if isinstance(v, np.ndarray)}
            return lib.cov(a, correction=kwargs.get("correction", 1), **kw)
        compare(lambda a: fn(nt, a), lambda a: fn(torch, a), [x], dtype)
    compare(nt.cov, torch.cov, [rand(6)], dtype)  # one variable: a 0-d result
    compare(nt.corrcoef, torch.corrcoef, [x], dtype)
    compare(lambda a: a.corrcoef(), lambda a: a.corrcoef(), [rand(4)], dtype)
    ours, theirs = both(lambda lib: lib.cov(lib.arange(4)))
    assert_same(ours, theirs)
    ours, theirs = both(lambda lib: lib.corrcoef(lib.tensor([[1.0, 2, 3], [1, 1, 1]])))
    assert_same(ours, theirs)  # a constant variable: NaN


def test_cov_warns_and_errors():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        ours = nt.cov(nt.tensor(rand(2, 1)))
    assert np.isnan(ours.numpy()).all()
    x = rand(3, 4).astype(np.float32)
    f = lambda lib, *a, **k: lib.cov(*a, **k)  # noqa: E731
    same_error(f, rand(2, 3, 4))
    same_error(f, x, fweights=np.array([1.0, 2, 3, 1]))
    same_error(f, x, fweights=np.array([1, -2, 3, 1]))
    same_error(f, x, fweights=np.array([1, 2, 3]))
    same_error(f, x, fweights=np.array([[1, 2, 3, 1]]))
    same_error(f, x, aweights=np.array([1, 2, 3, 1]))
    same_error(f, x, aweights=np.array([1.0, -2, 3, 1]))
    same_error(lambda lib, a: lib.corrcoef(a), rand(2, 3, 4))


# ----- trapezoid / cumulative_trapezoid / vander ------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_trapezoid_matches_torch(dtype):
    y, xs = rand(3, 4), np.cumsum(rand(4, seed=1) ** 2)
    for fn_name in ("trapezoid", "trapz", "cumulative_trapezoid"):
        for call in [lambda lib, a, b: getattr(lib, fn_name)(a),
                     lambda lib, a, b: getattr(lib, fn_name)(a, dx=2.5, dim=0),
                     lambda lib, a, b: getattr(lib, fn_name)(a, b),
                     lambda lib, a, b: getattr(lib, fn_name)(a, b[:3], dim=0),
                     lambda lib, a, b: getattr(lib, fn_name)(a, a * b)]:
            compare(lambda a, b: call(nt, a, b), lambda a, b: call(torch, a, b), [y, xs], dtype)
    for fn_name in ("trapezoid", "cumulative_trapezoid"):
        ours, theirs = both(lambda lib: getattr(lib, fn_name)(lib.arange(5), dx=1.5))
        assert_same(ours, theirs)
    ours, theirs = both(lambda lib: lib.trapezoid(lib.zeros(3, 0)))
    assert_same(ours, theirs)


def test_trapezoid_errors():
    y = rand(3, 4).astype(np.float32)
    f = lambda lib, *a, **k: lib.trapezoid(*a, **k)  # noqa: E731
    same_error(f, y, np.arange(5.0, dtype=np.float32))
    same_error(f, np.array(3.0, np.float32))
    same_error(f, y, np.zeros((2, 4), np.float32), dim=1, prefix=True)
    same_error(lambda lib, a, b: lib.cumulative_trapezoid(a, b), y, np.zeros(3, np.float32))
    with pytest.raises(TypeError):
        nt.trapezoid(nt.tensor(y), nt.tensor(y), dx=2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vander_matches_torch(dtype):
    x = rand(4)
    for args in [(), (3,), (1,), (0,), (None, True), (6, True)]:
        compare(lambda a: nt.vander(a, *args), lambda a: torch.vander(a, *args), [x], dtype,
                grad=False)
    # (PyTorch's vander fails in backward: its in-place cumprod; so the powers are the oracle)
    compare(lambda a: nt.vander(a, 5), lambda a: a[:, None] ** torch.arange(4, -1, -1), [x],
            dtype)
    for data in (np.array([1, 2, 3]), np.array([True, False]), np.array([1, -2], np.int8)):
        ours, theirs = both(lambda lib: lib.vander(lib.tensor(data), 4))
        assert ours.dtype == nt.int64 and ours.tolist() == theirs.tolist()
    same_error(lambda lib: lib.vander(lib.ones(2, 2)))
    same_error(lambda lib: lib.vander(lib.ones(2), -1))


# ----- process-wide switches --------------------------------------------------------------------
@pytest.fixture
def switches():
    """numpy2gpt.switches (the functions are exported from numpy2gpt), state restored after."""
    from numpy2gpt import switches

    saved = dict(switches._state)
    yield switches
    switches._state.update(saved)


def test_switches_remember_their_setting_like_torch(switches):
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.get_float32_matmul_precision(), torch.is_warn_always_enabled())
    try:
        for mode, warn_only in [(True, False), (True, True), (False, False)]:
            for lib in (switches, torch):
                lib.use_deterministic_algorithms(mode, warn_only=warn_only)
            assert switches.are_deterministic_algorithms_enabled() is mode is \
                torch.are_deterministic_algorithms_enabled()
            assert switches.is_deterministic_algorithms_warn_only_enabled() is warn_only is \
                torch.is_deterministic_algorithms_warn_only_enabled()
        assert switches.get_float32_matmul_precision() == "highest"
        for precision in ("high", "medium", "highest"):
            for lib in (switches, torch):
                lib.set_float32_matmul_precision(precision)
            assert switches.get_float32_matmul_precision() == precision
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            switches.set_float32_matmul_precision("foo")
        assert switches.get_float32_matmul_precision() == "highest"
        for b in (True, False):
            for lib in (switches, torch):
                lib.set_warn_always(b)
            assert switches.is_warn_always_enabled() is b is torch.is_warn_always_enabled()
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.set_float32_matmul_precision(saved[2])
        torch.set_warn_always(saved[3])


def test_switch_errors(switches):
    for call in [lambda lib: lib.use_deterministic_algorithms(1),
                 lambda lib: lib.use_deterministic_algorithms(False, warn_only=1),
                 lambda lib: lib.set_float32_matmul_precision(3),
                 lambda lib: lib.set_flush_denormal(2), lambda lib: lib.set_warn_always(0)]:
        errors = []
        for lib in (switches, torch):
            with pytest.raises(Exception) as info:
                call(lib)
            errors.append(info.value)
        assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])


def test_default_device_is_the_cpu(switches):
    assert switches.get_default_device() == nt.device("cpu")
    assert str(switches.get_default_device()) == str(torch.get_default_device()) == "cpu"
    switches.set_default_device("cpu")
    switches.set_default_device(None)
    switches.set_default_device(nt.device("cpu"))
    with pytest.raises(AssertionError):
        switches.set_default_device("cuda")
    with pytest.raises(RuntimeError):
        switches.set_default_device("meta")
    assert switches.set_flush_denormal(False) is True
    assert switches.set_flush_denormal(True) is False  # NumPy keeps denormals


# ----- gcd / lcm / frexp / nextafter ------------------------------------------------------------
def test_gcd_lcm_match_torch():
    a, b = np.array([12, -18, 0, 7, 0]), np.array([8, 12, 0, -21, 5])
    for name in ("gcd", "lcm"):
        for x, y in [(a, b), (a.astype(np.int8), b), (np.array([100], np.int8),
                                                      np.array([3], np.int8))]:
            ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(x), lib.tensor(y)))
            assert ours.dtype == nt.tensor(theirs.numpy()).dtype
            assert ours.tolist() == theirs.tolist()
        ours, theirs = both(lambda lib: getattr(lib.tensor(a), name + "_")(lib.tensor(b)))
        assert ours.tolist() == theirs.tolist()
        f = lambda lib, *x: getattr(lib, name)(*x)  # noqa: E731
        same_error(f, np.array([12.0]), np.array([8]))
        same_error(f, np.array([True]), np.array([True]))
        same_error(f, np.array([12]), 8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_frexp_matches_torch(dtype):
    x = np.array([0.0, 1, -3.5, 6, 0.1, 1e-30, np.inf, np.nan])
    compare(lambda a: tuple(nt.frexp(a)), lambda a: tuple(torch.frexp(a)), [x], dtype)
    ours, theirs = both(lambda lib: lib.tensor(x.astype(dtype)).frexp())
    assert ours.exponent.dtype == nt.int32 and ours._fields == ("mantissa", "exponent")
    same_error(lambda lib: lib.frexp(lib.tensor([1])))


@pytest.mark.parametrize("dtype", DTYPES)
def test_nextafter_matches_torch(dtype):
    compare(nt.nextafter, torch.nextafter, [rand(5), np.array([1.0, -1, 0, 5, -5])], dtype)
    compare(lambda a, b: (a * 1).nextafter_(b), lambda a, b: (a * 1).nextafter_(b),
            [rand(5), rand(5, seed=1)], dtype)
    same_error(lambda lib: lib.nextafter(lib.tensor([1]), lib.tensor([2])))
    same_error(lambda lib: lib.nextafter(lib.tensor([1.0]), 2.0))


# ----- splits, sum_to_size ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_splits_match_torch(dtype):
    for name, shape, arg in [("hsplit", (4, 6), 3), ("hsplit", (4, 6), [1, 4]), ("hsplit", (6,), 2),
                             ("vsplit", (4, 6), 2), ("vsplit", (4, 6), [3]),
                             ("dsplit", (2, 3, 4), 2), ("split_with_sizes", (4, 6), [1, 3]),
                             ("unsafe_split", (5, 2), 2), ("unsafe_chunk", (5, 2), 3)]:
        compare(lambda a: tuple(getattr(nt, name)(a, arg)),
                lambda a: tuple(getattr(torch, name)(a, arg)), [rand(*shape)], dtype)
        compare(lambda a: tuple(getattr(a, name)(arg)), lambda a: tuple(getattr(a, name)(arg)),
                [rand(*shape)], dtype)
    f = lambda lib, name, *a: getattr(lib, name)(*a)  # noqa: E731
    same_error(f, "hsplit", rand(4, 6), 4)
    same_error(f, "hsplit", np.array(1.0), 2)
    same_error(f, "vsplit", rand(6), 2)
    same_error(f, "vsplit", rand(4, 6), 3)
    same_error(f, "dsplit", rand(4, 6), 3)
    same_error(f, "split_with_sizes", rand(4, 6), [1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_to_size_matches_torch(dtype):
    for size in [(1, 6), (6,), (4, 1), ((1, 1),), (4, 6)]:
        compare(lambda a: a.sum_to_size(*size), lambda a: a.sum_to_size(*size), [rand(4, 6)],
                dtype)
    same_error(lambda lib: lib.zeros(4, 6).sum_to_size(3, 1))
    same_error(lambda lib: lib.zeros(4, 6).sum_to_size(2, 4, 6))


# ----- in-place shape changes, clamp_min_ / clamp_max_ / cumsum_ ---------------------------------
IN_PLACE_SHAPE_OPS = [("t_", ()), ("transpose_", (0, 1)), ("swapdims_", (1, 0)),
                      ("swapaxes_", (0, -1)), ("unsqueeze_", (1,)), ("squeeze_", ()),
                      ("squeeze_", (0,))]


@pytest.mark.parametrize("name, args", IN_PLACE_SHAPE_OPS)
def test_in_place_shape_ops_match_torch(name, args):
    x = rand(1, 3) if name.startswith("squeeze") else rand(2, 3)

    def fn(a):
        b = a * 2
        out = getattr(b, name)(*args)
        assert out is b
        return b * a.reshape(-1)[0]  # uses b after the change: its new shape and history

    compare(fn, fn, [x])
    ours, theirs = both(lambda lib: getattr(lib.tensor(x), name)(*args)._version)
    assert ours == theirs == 1
    same_error(lambda lib: getattr(lib.tensor(x, requires_grad=True), name)(*args))


def test_in_place_shape_op_of_a_view_keeps_sharing_memory():
    for lib in (nt, torch):
        x = lib.zeros(2, 3)
        v = x[0]
        v.unsqueeze_(0)
        v.add_(1)
        assert v.shape == (1, 3) and x.tolist() == [[1, 1, 1], [0, 0, 0]]
    same_error(lambda lib: lib.zeros(3, 1, 2).t_())


def test_resize_matches_torch():
    for shape in [(3, 2), (6,), (2, 2), (3, 3)]:
        ours, theirs = both(lambda lib: lib.arange(6.0).reshape(2, 3).resize_(*shape))
        assert ours.shape == theirs.shape
        n = min(6, int(np.prod(shape)))
        assert ours.reshape(-1)[:n].tolist() == theirs.reshape(-1)[:n].tolist()
    ours, theirs = both(lambda lib: lib.resize_as_(lib.zeros(2, 3), lib.zeros(6)))
    assert ours.shape == theirs.shape == (6,)
    same_error(lambda lib: lib.zeros(2, requires_grad=True).resize_(3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_min_max_cumsum_in_place(dtype):
    for name, args in [("clamp_min_", (0.1,)), ("clamp_max_", (-0.2,)), ("cumsum_", (1,)),
                       ("cumsum_", (0,))]:
        compare(lambda a: getattr(a * 1, name)(*args), lambda a: getattr(a * 1, name)(*args),
                [rand(3, 4)], dtype)
    ours, theirs = both(lambda lib: lib.clamp_min_(lib.tensor([-1.0, 2.0]), 0.5))
    assert ours.tolist() == theirs.tolist()
    ours, theirs = both(lambda lib: lib.clamp_max_(lib.tensor([-1.0, 2.0]), 0.5))
    assert ours.tolist() == theirs.tolist()


# ----- predicates and facts ---------------------------------------------------------------------
def test_predicates_match_torch():
    for data in (np.array([1.5]), np.array([0], np.uint8), np.array([True]),
                 np.array([-3], np.int8)):
        ours, theirs = both(lambda lib: lib.tensor(data))
        assert ours.is_signed() == theirs.is_signed() == nt.is_signed(ours)
        assert ours.is_nonzero() == theirs.is_nonzero() == nt.is_nonzero(ours)
    same_error(lambda lib: lib.tensor([]).is_nonzero())
    same_error(lambda lib: lib.tensor([1, 2]).is_nonzero())
    same_error(lambda lib: lib.is_signed(3))
    same_error(lambda lib: lib.is_nonzero(3))
    ours, theirs = both(lambda lib: lib.zeros(2, 3))
    assert nt.is_same_size(ours, nt.ones(2, 3)) and not ours.is_same_size(nt.ones(3, 2))
    assert ours.is_cpu and theirs.is_cpu and nt.is_inference(ours) is theirs.is_inference()
    x, tx = nt.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for index in ((slice(1, None),), (slice(None), 2), (2, slice(1, 3))):
        assert x[index].storage_offset() == tx[index].storage_offset()
        assert x[index].data_ptr() - x.data_ptr() == tx[index].data_ptr() - tx.data_ptr()
    assert x.t()[1].storage_offset() == tx.t()[1].storage_offset() == 1


def test_new_apply_map_match_torch():
    for args in [(), (2, 3), ([1, 2],), ((2, 3),), ("size",)]:
        ours, theirs = both(lambda lib: lib.zeros(2, dtype=lib.float64).new(
            *[lib.Size([2]) if a == "size" else a for a in args]))
        assert ours.shape == theirs.shape and ours.dtype == nt.float64
        if args and isinstance(args[0], list | tuple):
            assert ours.tolist() == theirs.tolist()
    same_error(lambda lib: lib.zeros(2).new(2.5))
    ours, theirs = both(lambda lib: lib.arange(4).apply_(lambda v: v * 2.7))
    assert ours.tolist() == theirs.tolist() and ours.dtype == nt.int64
    ours, theirs = both(lambda lib: lib.arange(4.0).map_(lib.tensor([1.0, 2, 3, 4]),
                                                         lambda a, b: a * b))
    assert ours.tolist() == theirs.tolist()
    ours, theirs = both(lambda lib: lib.arange(4.0).map_(lib.tensor([2.0]), lambda a, b: a - b))
    assert ours.tolist() == theirs.tolist()
    same_error(lambda lib: lib.arange(4.0).requires_grad_().apply_(lambda v: v))


# ----- creation ---------------------------------------------------------------------------------
def test_creation_functions_match_torch():
    for make in [lambda lib: lib.scalar_tensor(3), lambda lib: lib.scalar_tensor(True),
                 lambda lib: lib.scalar_tensor(3, dtype=lib.int64),
                 lambda lib: lib.scalar_tensor(lib.tensor(2)),
                 lambda lib: lib.rsub(lib.tensor([1.0, 2]), 5),
                 lambda lib: lib.rsub(lib.tensor([1.0, 2]), lib.tensor([3.0, 3]), alpha=2),
                 lambda lib: lib.rsub(lib.tensor([1, 2]), 5.5),
                 lambda lib: lib.zero_(lib.ones(2)), lambda lib: lib.fill(lib.ones(2), 3),
                 lambda lib: lib.row_stack([lib.ones(2), lib.zeros(2)]),
                 lambda lib: lib.asarray([1, 2]), lambda lib: lib.asarray([1.0, 2]),
                 lambda lib: lib.asarray(3),
                 lambda lib: lib.asarray(np.arange(3.0), dtype=lib.float32),
                 lambda lib: lib.frombuffer(bytearray(b"\x01\x02\x03\x04"), dtype=lib.int16),
                 lambda lib: lib.frombuffer(bytearray(b"\x01\x02\x03\x04"), dtype=lib.int8,
                                            count=2, offset=1)]:
        ours, theirs = both(make)
        assert ours.dtype == nt.tensor(theirs.numpy()).dtype and ours.shape == theirs.shape
        assert ours.tolist() == theirs.tolist()
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        for args, kwargs in [((1, 4), {}), ((1, 4, 0.5), {}), ((1, 4), {"dtype": nt.int64}),
                             ((4, 1, -1.5), {})]:
            ours = nt.range(*args, **kwargs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = torch.range(*args, **{k: torch.int64 for k in kwargs})
            assert ours.tolist() == theirs.tolist()
            assert ours.dtype == nt.tensor(theirs.numpy()).dtype
    same_error(lambda lib: lib.range(4))
    same_error(lambda lib: lib.scalar_tensor([1]))
    same_error(lambda lib: lib.rsub(lib.tensor([True]), lib.tensor([True])))
    same_error(lambda lib: lib.fill(lib.ones(2), lib.tensor([3.0])))
    same_error(lambda lib: lib.frombuffer(bytearray(b"\x01\x02\x03"), dtype=lib.int16))
    same_error(lambda lib: lib.frombuffer(bytearray(b""), dtype=lib.int16))
    same_error(lambda lib: lib.asarray(np.arange(3.0), copy=False, dtype=lib.float32))


def test_fill_gradient_and_strided_and_randint_like():
    compare(lambda a: nt.fill(a, 3.0) * a, lambda a: torch.fill(a, 3.0) * a, [rand(3)])
    ours, theirs = both(lambda lib: lib.empty_strided((2, 3), (1, 2)))
    assert ours.shape == theirs.shape and ours.stride() == theirs.stride() == (1, 2)
    r = nt.randint_like(nt.zeros(200, 3), 2, 5)
    assert r.shape == (200, 3) and r.dtype == nt.float32
    assert set(np.unique(r.numpy())) == {2.0, 3.0, 4.0}
    assert nt.randint_like(nt.zeros(4, dtype=nt.int32), 3).dtype == nt.int32


def test_asarray_shares_memory_like_torch():
    a = np.arange(3.0)
    ours, theirs = nt.asarray(a), torch.asarray(a)
    a[0] = 9.0
    assert ours.tolist() == theirs.tolist() == [9.0, 1.0, 2.0]
    copied = nt.asarray(a, copy=True)
    a[1] = 7.0
    assert copied.tolist() == [9.0, 1.0, 2.0]
    x = nt.ones(2)
    assert nt.asarray(x) is x
    assert nt.asarray(x, copy=True) is not x
    assert nt.asarray(x, dtype=nt.float64).dtype == nt.float64
