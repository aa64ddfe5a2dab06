"""clamp/clip, maximum/minimum, max/min/amax/amin, argmax/argmin, sort/argsort, topk against
PyTorch: values, indices and gradients (ties, NaN, negative dims, keepdim, empty and 0-d tensors,
float32), gradcheck, double backward and errors (their speed: benchmarks/vs_numpy.py)."""


import itertools

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    assert_float32_throughout,
    both,
    check_against_torch,
    run_gradcheck,
    second_order,
)

import numpy2gpt as ng

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))
# Many ties (values from a small set), so tie-breaking rules are exercised.
TIES = RNG.integers(0, 3, size=(4, 6)).astype(np.float64)
DTYPES = [np.float64, np.float32]


# ----- clamp ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.0), (0.0, None), (1.0, -1.0), (-1, 1)])
def test_clamp_scalar_bounds(lo, hi, dtype):
    x = np.concatenate([X.ravel(), [-0.5, 0.5, 0.0, -1.0, 1.0]]).astype(dtype)  # on the bounds
    check_against_torch(lambda t: t.clamp(lo, hi), lambda t: t.clamp(lo, hi), [x])
    check_against_torch(lambda t: t.clip(lo, hi), lambda t: t.clip(lo, hi), [x])
    check_against_torch(lambda t: ng.clamp(t, min=lo, max=hi),
                        lambda t: torch.clamp(t, min=lo, max=hi), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["both", "min", "max"])
def test_clamp_tensor_bounds_broadcast(which, dtype):
    x = np.round(X[0], 1).astype(dtype)  # (4, 5)
    lo = np.array([-0.5, 0.1, -2.0, 0.3, 0.0], dtype)  # broadcast along rows
    hi = np.array([[0.5], [-0.1], [2.0], [0.3]], dtype)  # lo > hi in some places
    x[0, 0], x[1, 1] = lo[0], hi[1, 0]  # exactly on a bound

    def f(lib):
        if which == "both":
            return lambda a, b, c: lib.clamp(a, b, c)
        if which == "min":
            return lambda a, b, c: lib.clamp(a, min=b) + 0 * c.sum()
        return lambda a, b, c: lib.clamp(a, max=c) + 0 * b.sum()

    check_against_torch(f(ng), f(torch), [x, lo, hi])


def test_clamp_min_max_methods_and_int_promotion():
    check_against_torch(lambda t: t.clamp_min(0.1) * t.clamp_max(0.2),
                        lambda t: t.clamp_min(0.1) * t.clamp_max(0.2), [X])
    check_against_torch(lambda t: ng.clamp(t, min=1.5), lambda t: torch.clamp(t, min=1.5),
                        [np.arange(4)])  # an int tensor clamped by a float becomes float32
    check_against_torch(lambda t: ng.clamp(t, 1, 2), lambda t: torch.clamp(t, 1, 2),
                        [np.arange(4)])
    assert run_gradcheck(lambda a, b, c: ng.clamp(a, b, c),
                         [np.round(X[0], 1), np.full(5, -0.25), np.full((4, 1), 0.35)])


CLAMP_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "bool"]
NUMBER_BOUNDS = {"int": int, "float": lambda v: v + 0.5, "bool_number": bool}


def _clamp_result(lib, x_dtype, x_shape, b_dtype, b_shape, which):
    """(dtype name, values) of x.clamp by bounds of `b_dtype` (or a kind of number), or the
    error; min 1 and max 2 (1 for bools)."""
    x = lib.tensor([0, 1, 3] if x_shape else 1, dtype=getattr(lib, x_dtype))

    def bound(v):
        if b_dtype in NUMBER_BOUNDS:
            return NUMBER_BOUNDS[b_dtype](v)
        return lib.tensor(np.full(b_shape, v), dtype=getattr(lib, b_dtype))

    kw = {"min": bound(1)} if which != "max" else {}
    if which != "min":
        kw["max"] = bound(2 if b_dtype not in ("bool", "bool_number") else 1)
    try:
        r = x.clamp(**kw)
    except (RuntimeError, NotImplementedError) as e:
        return type(e).__name__, str(e)
    return str(r.dtype).split(".")[-1], r.tolist()


@pytest.mark.parametrize("x_dtype", CLAMP_DTYPES)
def test_clamp_result_dtype_follows_torch_result_type(x_dtype):
    """The result dtype is PyTorch's result_type(input, min, max): a 0-d bound or a number only
    wins with a higher kind (int8 by tensor(2) stays int8, float32 by a float16 bound stays
    float32); bool clamps by two bounds or by numbers raise, as in PyTorch."""
    cases = itertools.product(CLAMP_DTYPES + list(NUMBER_BOUNDS), [(), (3,)], [(), (3,)],
                              ["min", "max", "both"])
    for b_dtype, x_shape, b_shape, which in cases:
        args = (x_dtype, x_shape, b_dtype, b_shape, which)
        assert _clamp_result(ng, *args) == _clamp_result(torch, *args), args


def test_clamp_tensor_bounds_of_other_dtypes_values_and_gradients():
    x = np.array([0.1, 2.0, -3.0, 0.7])
    lo, hi = np.array([0.0, 0.0, -1.0, 0.7]), np.array([5.0, 1.0, 5.0, 5.0])
    both_fns = both(lambda lib: lambda a, b, c: lib.clamp(a, min=b, max=c))
    check_against_torch(*both_fns, [x, lo.astype(np.float32), hi.astype(np.float32)])
    check_against_torch(*both_fns, [x.astype(np.float32), lo.astype(np.float16),
                                    np.array(1.0)])
    check_against_torch(*both(lambda lib: lambda a, b: a.clamp_min(b).clip(max=1.0)),
                        [x.astype(np.float32), np.array(0.5)])
    check_against_torch(*both(lambda lib: lambda a, b: lib.clamp_max(a, b)),
                        [x.astype(np.float16), np.array(0.5)])
    for lib in (ng, torch):  # in place: the result keeps x's dtype
        t = lib.tensor([1, 5, 9], dtype=lib.int8)
        t.clamp_(min=lib.tensor(2), max=lib.tensor([4, 4, 4], dtype=lib.int16))
        assert t.tolist() == [2, 4, 4] and str(t.dtype).endswith("int8")


def test_clamp_errors():
    x = ng.tensor(X)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        ng.clamp(x)
    with pytest.raises(TypeError, match="'min' must be a Number or a Tensor"):
        ng.clamp(x, min="0")
    with pytest.raises(RuntimeError, match="must match the size"):
        ng.clamp(x, min=ng.tensor(np.zeros(4)))


# ----- maximum / minimum ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum", "max", "min"])
def test_maximum_minimum_ties_nan_broadcast(name, dtype):
    a = TIES.astype(dtype)
    b = TIES[::-1].astype(dtype)  # equal to `a` in many places: the gradient splits in half
    a[0, 0] = np.nan  # NaN wins and both get the full gradient (PyTorch's formula)
    check_against_torch(*both(lambda lib: lambda p, q: getattr(lib, name)(p, q)), [a, b])
    check_against_torch(*both(lambda lib: lambda p, q: getattr(p, name)(q)), [a, b[:1]])
    check_against_torch(*both(lambda lib: lambda p, q: getattr(lib, name)(p, q)),
                        [a[:, :1], b[0]])  # both broadcast: (4, 1) and (6,)


def test_maximum_gradcheck_and_errors():
    assert run_gradcheck(lambda p, q: ng.maximum(p, q) * ng.minimum(p, q), [X[0], X[1, ::-1]])
    with pytest.raises(TypeError, match="argument 'other' .* must be Tensor, not float"):
        ng.maximum(ng.tensor(X), 3.0)
    with pytest.raises(RuntimeError, match="must match the size"):
        ng.minimum(ng.tensor(X), ng.tensor(np.zeros(4)))


# ----- max / min / amax / amin ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_full_reduction_shares_ties(name, dtype):
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [TIES.astype(dtype)])
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [X.astype(dtype)])
    with_nan = TIES.astype(dtype)
    with_nan[1, 2] = with_nan[3, 3] = np.nan  # NaN is the result; the NaNs share the gradient
    check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t)), [with_nan])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_values_and_indices(name, dim, keepdim):
    for x in (TIES, TIES.astype(np.float32), np.where(TIES == 2, np.nan, TIES)):
        ours, theirs, *_ = check_against_torch(
            *both(lambda lib: lambda t: getattr(lib, name)(t, dim, keepdim)), [x])
    # a namedtuple like torch.return_types.max: fields and tuple unpacking
    r = getattr(ng, name)(ng.tensor(X), dim=dim, keepdim=keepdim)
    values, indices = r
    assert r.values is values and r.indices is indices and indices.dtype == ng.int64
    assert type(r).__name__ == name and "values=" in repr(r)
    tr = getattr(torch, name)(torch.tensor(X), dim=dim, keepdim=keepdim)
    assert_close(r.indices, tr.indices)
    assert_close(getattr(ng.tensor(X), name)(dim, keepdim).values, tr.values)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [(), 0, -1, (0, 2), (-1, -3), [1], (0, 1, 2)], ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, dim, keepdim):
    x3 = np.round(X, 0)  # ties
    for x in (x3, x3.astype(np.float32)):
        check_against_torch(*both(lambda lib: lambda t: getattr(lib, name)(t, dim, keepdim)), [x])
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)(dim=dim)), [x3])


def test_amax_with_nan_matches_torch():
    x = TIES.copy()
    x[0, 1] = np.nan
    check_against_torch(*both(lambda lib: lambda t: lib.amax(t, 1)), [x])


def test_max_on_zero_dim_and_empty_tensors():
    s = np.array(2.5)
    for args in [(), (0,), (-1, True)]:
        check_against_torch(*both(lambda lib, a=args: lambda t: lib.max(t, *a)), [s])
        check_against_torch(*both(lambda lib, a=args: lambda t: lib.min(t, *a)), [s])
    # an empty tensor may be reduced along a non-empty dim
    check_against_torch(*both(lambda lib: lambda t: lib.max(t, 1)), [np.zeros((0, 3))])
    check_against_torch(*both(lambda lib: lambda t: lib.min(t, 1)), [np.zeros((0, 3))])
    check_against_torch(*both(lambda lib: lambda t: lib.amax(t, 0)), [np.zeros((3, 0))])
    e = ng.zeros(0, 3)
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        ng.max(e)
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero"):
        ng.max(e, 0)
    with pytest.raises(IndexError, match=r"amin\(\): Expected reduction dim 0 to have non-zero"):
        ng.amin(e, (0, 1))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.max(ng.tensor(X), 3)
    with pytest.raises(TypeError, match="'dim' must be int"):
        ng.max(ng.tensor(X), 1.5)


def test_selection_gradcheck():
    x = X[:2, :3]
    assert run_gradcheck(lambda t: ng.max(t, 1)[0], [x])
    assert run_gradcheck(lambda t: ng.min(t, -1, keepdim=True).values, [x])
    assert run_gradcheck(lambda t: ng.amax(t, (0, 2)), [x])
    assert run_gradcheck(lambda t: ng.amin(t, 1, keepdim=True), [x])
    assert run_gradcheck(lambda t: ng.max(t), [x])
    assert run_gradcheck(lambda t: ng.sort(t, 1, descending=True).values, [x])
    assert run_gradcheck(lambda t: ng.topk(t, 2, dim=0).values, [x])
    assert run_gradcheck(lambda t: ng.clamp(t, -0.3, 0.4), [x])


def test_double_backward_against_torch():
    x = X[:2]
    second_order(*both(lambda lib: lambda t: (lib.max(t, 1).values ** 3).sum()), x)
    second_order(*both(lambda lib: lambda t: (lib.amax(t, (0, 2)) ** 2).exp().sum()), x)
    second_order(*both(lambda lib: lambda t: (lib.sort(t, -1).values ** 3
                                              * lib.tensor(np.arange(5.0))).sum()), x)
    second_order(*both(lambda lib: lambda t: (lib.maximum(t, -t) ** 3).sum()), x)
    second_order(*both(lambda lib: lambda t: (lib.clamp(t, -0.5, 0.5) ** 3).sum()), x)
    second_order(*both(lambda lib: lambda t: (lib.topk(t, 2, dim=1).values ** 3).sum()), x)


# ----- argmax / argmin --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name):
    with_nan = TIES.copy()
    with_nan[2, 1] = with_nan[2, 4] = np.nan
    for x in (TIES, TIES.astype(np.float32), with_nan, X, np.arange(12).reshape(3, 4)):
        for args in [(None, False), (None, True), (0, False), (-1, True), (1, False)]:
            check_against_torch(*both(lambda lib, a=args: lambda t: getattr(lib, name)(t, *a)),
                                [x], check_grad=False)
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)()), [np.array(1.5)])
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)(0)), [np.array(1.5)])
    check_against_torch(*both(lambda lib: lambda t: getattr(t, name)(1)), [np.zeros((0, 2))])
    with pytest.raises(IndexError, match="Expected reduction dim to be specified"):
        getattr(ng, name)(ng.zeros(0))
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        getattr(ng, name)(ng.zeros(0, 2), 0)


# ----- sort / argsort / topk --------------------------------------------------------------------
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [-1, 0, 1, -3])
def test_sort_is_stable_like_torch(dim, descending):
    x = np.round(X, 0)  # many ties: stable order of equal values is checked via the indices
    x[1, 2, 3] = x[0, 0, 0] = np.nan  # NaN sorts as the largest
    for a in (x, x.astype(np.float32)):
        check_against_torch(lambda t: ng.sort(t, dim, descending, stable=True),
                            lambda t: torch.sort(t, dim=dim, descending=descending, stable=True),
                            [a])
        check_against_torch(lambda t: t.argsort(dim, descending=descending),
                            lambda t: t.argsort(dim=dim, descending=descending, stable=True), [a],
                            check_grad=False)
    ints = RNG.integers(-3, 3, size=(4, 7))
    check_against_torch(lambda t: ng.sort(t, descending=descending),
                        lambda t: torch.sort(t, descending=descending, stable=True), [ints])
    r = ng.sort(ng.tensor(X))
    assert type(r).__name__ == "sort" and r.values.shape == r.indices.shape == (3, 4, 5)


def test_sort_zero_dim_and_empty():
    check_against_torch(*both(lambda lib: lambda t: lib.sort(t)), [np.array(3.0)])
    check_against_torch(*both(lambda lib: lambda t: lib.sort(t, 0)), [np.zeros((0, 3))])
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.sort(ng.tensor(X), dim=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, dim, largest", [(1, -1, True), (3, -1, False), (5, 2, True),
                                             (2, 0, True), (4, 1, False), (0, 1, True)])
def test_topk_matches_torch(k, dim, largest, dtype):
    x = X.astype(dtype)  # distinct values: the indices are unambiguous
    check_against_torch(*both(lambda lib: lambda t: lib.topk(t, k, dim, largest)), [x])
    check_against_torch(*both(lambda lib: lambda t: t.topk(k, dim=dim, largest=largest,
                                                           sorted=True)), [x])


def test_topk_ties_route_gradient_to_returned_indices():
    """PyTorch leaves the choice among tied values open; ours takes the first ones. The values
    must match, and each gradient must land exactly on the returned indices."""
    x = ng.tensor(TIES, requires_grad=True)
    values, indices = ng.topk(x, 3, dim=1)
    assert_close(values, torch.topk(torch.tensor(TIES), 3, dim=1).values)
    assert np.all(np.take_along_axis(TIES, indices.numpy(), 1) == values.detach().numpy())
    w = RNG.standard_normal(values.shape)
    (values * ng.tensor(w)).sum().backward()
    expected = np.zeros_like(TIES)
    np.put_along_axis(expected, indices.numpy(), w, 1)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_topk_errors_and_zero_dim():
    check_against_torch(*both(lambda lib: lambda t: lib.topk(t, 1)), [np.array(3.0)])
    x = ng.tensor(X)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ng.topk(x, 6)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ng.topk(x, -1)
    with pytest.raises(TypeError, match="'k' must be int"):
        ng.topk(x, 1.0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ng.topk(x, 1, dim=-4)


# ----- float32 in, float32 out -----------------------------------------------------------------
def test_float32_stays_float32_everywhere():
    x = ng.tensor(X.astype(np.float32), requires_grad=True)
    outs = [ng.clamp(x, -0.1, 0.1), ng.maximum(x, x * 0.5), ng.max(x), ng.max(x, 1).values,
            ng.amax(x, (0, 1)), ng.sort(x).values, ng.topk(x, 2).values,
            ng.clamp(x, ng.tensor(np.float32(-0.1)), ng.tensor(np.float32(0.2)))]
    assert_float32_throughout(x, outs)
