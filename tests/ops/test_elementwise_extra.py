"""tan/asin/acos/atan (and the arc- names), deg2rad/rad2deg, sinc, reciprocal, signbit,
positive, absolute, negative, logit, erfinv, lgamma, digamma, polygamma, mvlgamma, copysign, ldexp,
logaddexp2, xlogy, float_power, the long names of the comparisons and the in-place forms, against
PyTorch: values, dtypes and gradients in float64 and float32, integer and bool inputs, edge values
(0, -0, +-1, +-inf, NaN, poles), gradcheck, second derivatives and PyTorch's errors."""

# The lambdas in loops below are called at once, inside their iteration, so binding the loop
# variable late is what is meant:
# ruff: noqa: B023

import math

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    both,
    check_against_torch,
    run_gradcheck,
    same_error,
    second_order,
)

import numpy2gpt as ng
from numpy2gpt.ops.special import erfinv_array, lgamma_array

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
U = RNG.uniform(-0.95, 0.95, (3, 4))  # inside (-1, 1)
P = RNG.uniform(0.02, 0.98, (3, 4))  # inside (0, 1)
DTYPES = [np.float64, np.float32]
INF, NAN = np.inf, np.nan

UNARY = {"tan": X, "asin": U, "acos": U, "atan": X * 3, "arcsin": U, "arccos": U,
         "arctan": X, "deg2rad": X * 90, "rad2deg": X, "sinc": X * 2, "reciprocal": X,
         "logit": P, "erfinv": U, "lgamma": X * 3, "digamma": X * 3, "absolute": X,
         "negative": X}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_function_method_and_in_place_match_torch(name, dtype):
    x = UNARY[name].astype(dtype)
    check_against_torch(getattr(ng, name), getattr(torch, name), [x])
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x])
    check_against_torch(lambda t: getattr(t * 1, name + "_")(),
                        lambda t: getattr(t * 1, name + "_")(), [x])
    with ng.no_grad():  # in place on a plain tensor: the same memory, the op's values
        t = ng.tensor(x)
        assert getattr(t, name + "_")() is t
        assert_close(t, getattr(torch, name)(torch.tensor(x)))


EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, -2.5, 1e-30, 30.0, INF, -INF, NAN])


@pytest.mark.parametrize("name", ["tan", "asin", "acos", "atan", "deg2rad", "rad2deg", "sinc",
                                  "reciprocal", "logit", "erfinv", "lgamma", "digamma"])
def test_unary_edge_values_and_their_gradients(name):
    """+-0, the poles (lgamma and digamma at 0 and the negative integers, logit at 0 and 1,
    erfinv at +-1), the domain's ends, inf and NaN: values and gradients (inf, NaN, sinc's 0
    at 0, digamma's huge finite trigamma at the negative integers) as PyTorch's."""
    check_against_torch(getattr(ng, name), getattr(torch, name), [EDGES.astype(np.float32)])
    # PyTorch's float64 logit gradient (a scalar loop) divides by x (1 - x) also at -0., giving
    # -inf for gy > 0 where its float32 one (vectorised) and numpy2gpt's give gy * inf
    edges = np.delete(EDGES, 1) if name == "logit" else EDGES
    check_against_torch(getattr(ng, name), getattr(torch, name), [edges])


@pytest.mark.parametrize("name", ["tan", "asin", "acos", "atan", "deg2rad", "rad2deg", "sinc",
                                  "reciprocal", "logit", "erfinv", "lgamma", "digamma",
                                  "absolute", "negative", "signbit"])
def test_integer_and_bool_inputs(name):
    ints = np.array([0, 1, -1, 2, -3, 7])
    for x in (ints, ints.astype(np.uint8), np.array([True, False])):
        if name in ("negative", "absolute") and x.dtype == bool:
            same_error(lambda lib: getattr(lib, name)(lib.tensor(x)))
            continue
        check_against_torch(getattr(ng, name), getattr(torch, name), [x])
    if name not in ("negative", "absolute", "signbit"):  # a float result into an int tensor
        same_error(lambda lib: getattr(lib.tensor([1, 2]), name + "_")())


def test_float16_keeps_its_dtype():
    x = (U * 0.5).astype(np.float16)
    for name in ("tan", "asin", "atan", "reciprocal", "erfinv", "lgamma", "digamma"):
        ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(x)))
        assert_close(ours, theirs, rtol=2e-3)


@pytest.mark.parametrize("name", ["tan", "asin", "acos", "atan", "sinc", "reciprocal", "logit",
                                  "erfinv", "lgamma", "digamma"])
def test_unary_gradcheck_and_second_derivatives(name):
    x = UNARY[name][0].astype(np.float64)
    assert run_gradcheck(getattr(ng, name), [x])
    second_order(lambda t: getattr(ng, name)(t).sum(), lambda t: getattr(torch, name)(t).sum(),
                 x, rtol=1e-8)


def test_sinc_near_zero():
    x = np.array([0.0, 1e-200, 1e-20, 1e-8, -1e-4, 3.0])
    check_against_torch(ng.sinc, torch.sinc, [x])


def test_logit_eps():
    x = np.array([0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, -0.2, 1.2, NAN])
    for dtype in DTYPES:
        for eps in (None, 0.1, 0.0, -0.5, 0.6):
            # PyTorch's float64 gradient at NaN is 0 when eps clamps (its float32 one is NaN, as
            # numpy2gpt's): compare float64 without the NaN there
            a = x[:-1] if dtype == np.float64 and eps is not None and eps >= 0 else x
            check_against_torch(lambda t: ng.logit(t, eps), lambda t: torch.logit(t, eps),
                                [a.astype(dtype)])
            check_against_torch(lambda t: ng.logit(t, eps=eps), lambda t: torch.logit(t, eps=eps),
                                [a.astype(dtype)])
    check_against_torch(lambda t: (t * 1).logit_(0.1), lambda t: (t * 1).logit_(0.1), [x])
    same_error(lambda lib: lib.logit(lib.tensor([0.5]), eps="a"))


def test_signbit_and_positive():
    x = np.array([0.0, -0.0, 1.5, -2.0, INF, -INF, NAN, -NAN])
    ints = np.array([0, 1, -2, 5])
    for a in (x, x.astype(np.float32), ints, ints.astype(np.int8), np.array([0, 1, 200], np.uint8),
              np.array([True, False])):
        ours, theirs = both(lambda lib: lib.signbit(lib.tensor(a)))
        assert ours.dtype == ng.bool and ours.tolist() == theirs.tolist()
        ours, theirs = both(lambda lib: lib.tensor(a).signbit())
        assert ours.tolist() == theirs.tolist()
    t = ng.tensor(X, requires_grad=True)
    assert ng.positive(t) is t and t.positive() is t  # PyTorch returns the tensor itself
    for dtype in (np.int64, np.uint8, np.float32):
        check_against_torch(ng.positive, torch.positive, [X.astype(dtype)])
    same_error(lambda lib: lib.positive(lib.tensor([True])))
    same_error(lambda lib: lib.negative(lib.tensor([True])))
    same_error(lambda lib: lib.signbit(2.0))
    same_error(lambda lib: lib.positive(2.0))


# ----- accuracy of erfinv and lgamma over wide ranges -------------------------------------------
def _ulps(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    with np.errstate(invalid="ignore"):
        diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
        ulps = diff / np.spacing(np.abs(ref)).astype(np.float64)
    ulps[(ours == ref) | (np.isnan(ours) & np.isnan(ref))] = 0
    return ulps


@pytest.mark.parametrize("dtype", DTYPES)
def test_erfinv_within_two_ulps_of_torch_also_next_to_one(dtype):
    rng = np.random.default_rng(5)
    near_one = 1 - 10.0 ** -rng.uniform(0, 15 if dtype == np.float64 else 7, 2000)
    y = np.concatenate([rng.uniform(-1, 1, 20000), near_one, -near_one,
                        [0.0, -0.0, 0.5, -0.5, 0.7, 1.0, -1.0, 1.5, NAN]]).astype(dtype)
    ours, theirs = erfinv_array(y), torch.erfinv(torch.tensor(y)).numpy()
    assert ours.dtype == dtype
    assert _ulps(ours, theirs).max() <= 2
    number = ~np.isnan(theirs)
    assert np.array_equal(np.signbit(ours[number]), np.signbit(theirs[number]))  # -0. for -0.


def test_lgamma_accuracy_against_math_lgamma_and_torch():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.uniform(0, 10, 20000), 10 ** rng.uniform(-300, 300, 2000),
                        1 + rng.uniform(-1e-3, 1e-3, 500), 2 + rng.uniform(-1e-3, 1e-3, 500)])
    ref = np.array([math.lgamma(v) for v in x])
    # glibc's lgamma (math's and PyTorch's) loses relative accuracy near the zeros at 1 and 2;
    # fdlibm's is within a few ulps there too: compare with a scale-aware tolerance
    np.testing.assert_allclose(lgamma_array(x), ref, rtol=1e-13, atol=5e-15)
    neg = rng.uniform(-40, 0, 5000)
    neg_ref = np.array([math.lgamma(v) for v in neg])
    np.testing.assert_allclose(lgamma_array(neg), neg_ref, rtol=1e-12, atol=1e-12)
    x32 = x[:5000].astype(np.float32)
    assert _ulps(lgamma_array(x32), torch.lgamma(torch.tensor(x32)).numpy()).max() <= 2


def test_gamma_functions_at_their_poles_and_infinities():
    x = np.array([0.0, -0.0, -1.0, -2.0, -100.0, -1e20, INF, -INF, NAN, 1.0, 2.0, 1e-30,
                  -1e-30, 3e37, 10.0])
    for dtype in DTYPES:
        for name in ("lgamma", "digamma"):
            ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(x.astype(dtype))))
            assert_close(ours, theirs)
            assert np.array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))
        ours, theirs = both(lambda lib: lib.polygamma(1, lib.tensor(x.astype(dtype))))
        assert_close(ours, theirs)


def test_digamma_and_polygamma_over_wide_ranges():
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.uniform(-30, 30, 3000), 10 ** rng.uniform(-20, 20, 500)])
    for dtype in DTYPES:
        a = x.astype(dtype)
        for n in range(5):
            ours, theirs = both(lambda lib: lib.polygamma(n, lib.tensor(a)))
            # digamma (n = 0) crosses zero near 1.46 and between the negative poles: the error
            # is judged against the scale around it
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(),
                                       rtol=1e-12 if dtype == np.float64 else 2e-6,
                                       atol=1e-13 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_gradients(n, dtype):
    x = np.abs(X) + 0.3
    check_against_torch(lambda t: ng.polygamma(n, t), lambda t: torch.polygamma(n, t),
                        [x.astype(dtype)])
    check_against_torch(lambda t: t.polygamma(n), lambda t: t.polygamma(n), [x.astype(dtype)])
    check_against_torch(lambda t: (t * 1).polygamma_(n), lambda t: (t * 1).polygamma_(n),
                        [x.astype(dtype)])
    assert run_gradcheck(lambda t: ng.polygamma(n, t), [x[0]])


def test_polygamma_dtypes_and_errors():
    check_against_torch(lambda t: ng.polygamma(1, t), lambda t: torch.polygamma(1, t),
                        [np.array([1, 2, 3])])
    check_against_torch(lambda t: ng.polygamma(2, t), lambda t: torch.polygamma(2, t),
                        [np.array([True, False])])
    same_error(lambda lib: lib.polygamma(-1, lib.ones(2)))
    same_error(lambda lib: lib.polygamma(1.5, lib.ones(2)))
    same_error(lambda lib: lib.polygamma(1, 2.0))


def test_mvlgamma():
    x = np.abs(X) + 2.0
    for dtype in DTYPES:
        for p in (1, 2, 5):
            check_against_torch(lambda t: ng.mvlgamma(t, p), lambda t: torch.mvlgamma(t, p),
                                [x.astype(dtype)])
            check_against_torch(lambda t: t.mvlgamma(p=p), lambda t: t.mvlgamma(p=p),
                                [x.astype(dtype)])
    check_against_torch(lambda t: ng.mvlgamma(t, 3), lambda t: torch.mvlgamma(t, 3),
                        [np.array([3, 4, 5])])
    same_error(lambda lib: lib.mvlgamma(lib.tensor([True]), 1))
    same_error(lambda lib: lib.mvlgamma(lib.ones(2), 0))


# ----- two operands ------------------------------------------------------------------------------
BINARY = ["copysign", "ldexp", "logaddexp2", "xlogy", "float_power"]


def _operands(name):
    a, b = X, Y[:1]  # (3, 4) with (1, 4)
    if name in ("xlogy", "float_power"):
        b = np.abs(b) + 0.1
    if name == "float_power":
        a = np.abs(a) + 0.1
    return a, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_broadcast_and_gradients(name, dtype):
    a, b = (v.astype(dtype) for v in _operands(name))
    check_against_torch(getattr(ng, name), getattr(torch, name), [a, b])
    check_against_torch(lambda s, t: getattr(s, name)(t), lambda s, t: getattr(s, name)(t),
                        [a, b])
    check_against_torch(lambda s, t: getattr(t, name)(s[:1]), lambda s, t: getattr(t, name)(s[:1]),
                        [a, b])
    assert run_gradcheck(getattr(ng, name), [a[:2].astype(np.float64), b.astype(np.float64)])


@pytest.mark.parametrize("name", ["copysign", "xlogy", "float_power"])
def test_binary_ops_with_a_number(name):
    a, b = _operands(name)
    for dtype in DTYPES:
        check_against_torch(lambda t: getattr(ng, name)(t, 2.5),
                            lambda t: getattr(torch, name)(t, 2.5), [a.astype(dtype)])
        check_against_torch(lambda t: getattr(ng, name)(t, -2),
                            lambda t: getattr(torch, name)(t, -2), [a.astype(dtype)])
        if name != "copysign":  # PyTorch's copysign takes no number first
            check_against_torch(lambda t: getattr(ng, name)(3, t),
                                lambda t: getattr(torch, name)(3, t), [b.astype(dtype)])
    same_error(lambda lib: getattr(lib, name)(2, 3), same_message=False)
    same_error(lambda lib: getattr(lib, name)(lib.ones(2), "a"), same_message=False)


def test_binary_grad_fn_names_follow_torch():
    for fn in (lambda lib, t: lib.xlogy(t, t), lambda lib, t: lib.xlogy(2.0, t),
               lambda lib, t: lib.xlogy(t, 2), lambda lib, t: lib.copysign(t, t),
               lambda lib, t: lib.copysign(t, -1.0), lambda lib, t: lib.ldexp(t, t),
               lambda lib, t: lib.logaddexp2(t, t), lambda lib, t: lib.float_power(t, 2),
               lambda lib, t: lib.float_power(t, t)):
        ours, theirs = both(lambda lib: fn(lib, lib.ones(2, requires_grad=True)))
        assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_binary_dtypes():
    i, f = np.array([1, -2, 3]), np.array([0.5, 2.0, -1.5], np.float32)
    d, bools, h = f.astype(np.float64), np.array([True, False, True]), f.astype(np.float16)
    for name in ("copysign", "ldexp", "xlogy"):
        for x, y in ((i, i), (i, f), (f, d), (bools, bools), (f, np.abs(i)), (h, h)):
            check_against_torch(getattr(ng, name), getattr(torch, name), [x, y],
                                rtol=1e-3 if x.dtype == np.float16 else None)
    for x, y in ((i, i), (f, f), (f, d), (bools, bools), (h, h), (i, f)):  # always float64
        check_against_torch(ng.float_power, torch.float_power, [x, y])
    check_against_torch(ng.logaddexp2, torch.logaddexp2, [f, d])
    # ldexp's gradient is 2^other also for negative integer `other`: PyTorch's is
    # grad * pow(2, other) in integers, 0 there
    x = ng.tensor(f, requires_grad=True)
    ng.ldexp(x, ng.tensor(i)).backward(ng.ones(3))
    assert x.grad.tolist() == [2.0, 0.25, 8.0]
    for x in (i, bools):
        same_error(lambda lib: lib.logaddexp2(lib.tensor(x), lib.tensor(x)))
    same_error(lambda lib: lib.ldexp(lib.ones(2), 2))
    same_error(lambda lib: lib.ldexp(2, lib.ones(2)))
    same_error(lambda lib: lib.logaddexp2(lib.ones(2), 2.0))
    # (the project's broadcast error adds the two shapes to PyTorch's message)
    same_error(lambda lib: lib.copysign(lib.ones(2), lib.ones(3)), same_message=False)
    same_error(lambda lib: lib.xlogy(lib.ones(2), lib.ones(3)), same_message=False)


def test_binary_edge_values():
    a = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, NAN, 2.0, 0.0, -0.0, -1.5, INF, 0.0])
    b = np.array([0.0, NAN, INF, -1.0, 0.0, NAN, 0.0, INF, -INF, 1.0, -0.0, 2.0, -2.0])
    for dtype in DTYPES:
        x, y = a.astype(dtype), b.astype(dtype)
        # xlogy: 0 where x == 0 unless y is NaN; its gradients' special cases too
        check_against_torch(ng.xlogy, torch.xlogy, [x, y])
        check_against_torch(ng.copysign, torch.copysign, [x, y])  # zero gradient at 0
        check_against_torch(ng.logaddexp2, torch.logaddexp2, [x, y])
        check_against_torch(ng.ldexp, torch.ldexp, [x, np.array([0.0, 1, -1, 3]).astype(dtype)[
            np.arange(13) % 4]])
        check_against_torch(ng.float_power, torch.float_power, [x, y])
    big = np.array([1000.0, -1000.0, 1e300])
    check_against_torch(ng.logaddexp2, torch.logaddexp2, [big, big[::-1].copy()])


def test_binary_in_place_forms():
    a, b = X.copy(), np.abs(Y[0]) + 0.1
    for name in ("copysign", "xlogy", "ldexp"):
        check_against_torch(lambda s, t: getattr(s * 1, name + "_")(t),
                            lambda s, t: getattr(s * 1, name + "_")(t), [a, b])
    check_against_torch(lambda s: (s * 1).copysign_(-1.0), lambda s: (s * 1).copysign_(-1.0), [a])
    check_against_torch(lambda s, t: (s * 1).float_power_(t), lambda s, t: (s * 1).float_power_(t),
                        [np.abs(a), b])
    for lib in (ng, torch):  # a float32 tensor keeps its dtype with a float64 operand
        t = lib.tensor(a, dtype=lib.float32).xlogy_(lib.tensor(b))
        assert t.dtype == lib.float32
    same_error(lambda lib: lib.tensor([1.0, 2.0]).float_power_(2))
    same_error(lambda lib: lib.tensor([1, 2]).float_power_(2))
    same_error(lambda lib: lib.tensor([1, 2]).ldexp_(lib.tensor([1, 2])))
    same_error(lambda lib: lib.tensor([1, 2]).copysign_(-1))
    same_error(lambda lib: lib.zeros(2).xlogy_(lib.ones(2, 2)))
    same_error(lambda lib: lib.zeros(2, requires_grad=True).xlogy_(lib.ones(2)))


# ----- comparisons: long names and in-place forms; in-place arithmetic aliases --------------------
COMPARISONS = {"greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
               "not_equal": "ne"}


@pytest.mark.parametrize("name", list(COMPARISONS) + list(COMPARISONS.values()) + ["eq"])
def test_comparison_long_names_and_in_place(name):
    a = np.array([[1.0, 2.0, NAN], [0.0, -1.0, 3.0]])
    b = np.array([1.0, 1.5, NAN])
    for other in (b, 1.0):
        make = (lambda lib: lib.tensor(other)) if isinstance(other, np.ndarray) else \
            (lambda lib: other)
        ours, theirs = both(lambda lib: getattr(lib, name)(lib.tensor(a), make(lib)))
        assert ours.dtype == ng.bool and ours.tolist() == theirs.tolist()
        ours, theirs = both(lambda lib: getattr(lib.tensor(a), name)(make(lib)))
        assert ours.tolist() == theirs.tolist()
        for dtype in (np.float32, np.int64, np.bool_):  # in place: 1/0 in the tensor's dtype
            ours, theirs = both(lambda lib: getattr(lib.tensor(a[:, :2].astype(dtype)),
                                                    name + "_")(lib.tensor(b[:2])))
            assert_close(ours, theirs)
    # recorded: the gradients through the overwritten tensor and `other` are zero, as PyTorch's
    check_against_torch(lambda t: getattr(t * 1, name + "_")(0.5),
                        lambda t: getattr(t * 1, name + "_")(0.5), [X])
    check_against_torch(lambda s, t: getattr(s * 1, name + "_")(t),
                        lambda s, t: getattr(s * 1, name + "_")(t), [X, Y[0]])
    ours, theirs = both(lambda lib: getattr(lib.ones(2, requires_grad=True) * 1, name + "_")(
        lib.zeros(2, requires_grad=True)))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    same_error(lambda lib: getattr(lib.zeros(2), name + "_")(lib.ones(2, 2)))


def test_in_place_arithmetic_aliases():
    a, b = X, Y + 3
    for name, dtype in (("divide_", np.float64), ("true_divide_", np.float64),
                        ("multiply_", np.float32), ("subtract_", np.float64)):
        check_against_torch(lambda s, t: getattr(s * 1, name)(t),
                            lambda s, t: getattr(s * 1, name)(t), [a.astype(dtype),
                                                                   b.astype(dtype)])
    check_against_torch(lambda s: (s * 1).subtract_(2.0, alpha=3),
                        lambda s: (s * 1).subtract_(2.0, alpha=3), [a])
    for mode in ("floor", "trunc"):
        ours, theirs = both(lambda lib: lib.tensor([7, -7, 9]).divide_(lib.tensor([2, 2, -4]),
                                                                        rounding_mode=mode))
        assert_close(ours, theirs)
    # (div_'s message names the dtype numpy2gpt.int64 where PyTorch's says Long)
    same_error(lambda lib: lib.tensor([1, 2]).divide_(lib.tensor([2, 2])), same_message=False)


def test_exported_names():
    names = ["tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "deg2rad", "rad2deg",
             "sinc", "reciprocal", "signbit", "positive", "negative", "absolute", "float_power",
             "copysign", "ldexp", "logaddexp2", "xlogy", "logit", "erfinv", "lgamma", "digamma",
             "polygamma", "mvlgamma"] + list(COMPARISONS)
    for name in names:
        assert hasattr(ng, name) and hasattr(ng.Tensor, name), name
        assert hasattr(ng.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "divide_", "multiply_", "subtract_",
                 "true_divide_"):
        assert hasattr(ng.Tensor, name), name
    assert ng.arcsin is ng.asin and ng.absolute is ng.abs
