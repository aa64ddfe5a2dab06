"""sinh/cosh/asinh/acosh/atanh, frac, atan2, hypot, logaddexp, heaviside, fmax/fmin, nan_to_num,
detach, lerp, addcmul and addcdiv against PyTorch: values, dtypes and gradients in float64 and
float32, integer and bool inputs, edge values (0, +-1, inf, NaN), the in-place forms, second
derivatives and PyTorch's errors."""

# The lambdas in loops below are called at once, inside their iteration, so binding the loop
# variable late is what is meant:
# ruff: noqa: B023

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, same_error, second_order

import numpy2gpt as ng

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
DTYPES = [np.float64, np.float32]


# ----- unary: hyperbolic functions, their inverses, frac ----------------------------------------
UNARY = {"sinh": X, "cosh": X, "asinh": X * 3, "acosh": np.abs(X) + 1.05,
         "atanh": np.tanh(X) * 0.9, "frac": X * 3}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_function_method_and_in_place_match_torch(name, dtype):
    x = UNARY[name].astype(dtype)
    check_against_torch(getattr(ng, name), getattr(torch, name), [x])
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x])
    # in place on a non-leaf: recorded, with the gradient of the out-of-place op (PyTorch has
    # no derivative for asinh_, acosh_ and atanh_: those are compared with the out-of-place op)
    in_place = name in ("asinh", "acosh", "atanh")
    check_against_torch(lambda t: getattr(t * 1, name + "_")(),
                        lambda t: getattr(t * 1, name + ("" if in_place else "_"))(), [x])


@pytest.mark.parametrize("name", ["sinh", "cosh", "asinh", "acosh", "atanh"])
def test_unary_second_derivatives(name):
    second_order(lambda t: getattr(ng, name)(t).sum(), lambda t: getattr(torch, name)(t).sum(),
                 UNARY[name][0])


def test_unary_edge_values_and_integer_inputs():
    edges = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, np.inf, -np.inf, np.nan])
    for name in ("sinh", "cosh", "asinh", "acosh", "atanh", "frac"):
        check_against_torch(getattr(ng, name), getattr(torch, name), [edges])  # inf/NaN grads
    for name in ("sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"):
        for x in (np.array([1, 2, 3]), np.array([True, False])):  # -> float32
            check_against_torch(getattr(ng, name), getattr(torch, name), [x])
    for x in (np.array([1, 2]), np.array([True])):
        same_error(lambda lib: lib.frac(lib.tensor(x)))
    same_error(lambda lib: lib.tensor([1, 2]).sinh_())  # a float result into an int tensor


# ----- two operands -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "fmax", "fmin"])
def test_binary_ops_broadcast_and_gradients(name, dtype):
    a, b = X.astype(dtype), Y[:1].astype(dtype)  # (3, 4) with (1, 4)
    check_against_torch(getattr(ng, name), getattr(torch, name), [a, b])
    check_against_torch(lambda s, t: getattr(t, name)(s), lambda s, t: getattr(t, name)(s),
                        [a, b])


def test_binary_ops_edge_values():
    v = np.array([0.0, 0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.0, np.inf, -np.inf])
    w = np.array([0.0, 1.0, 0.0, -1.0, np.inf, -np.inf, 1.0, np.nan, -np.inf, 3.0])
    for name in ("atan2", "hypot", "logaddexp"):
        check_against_torch(getattr(ng, name), getattr(torch, name), [v, w])
    big = np.array([1000.0, -1000.0, 1e300])  # logaddexp and hypot without overflow
    check_against_torch(ng.logaddexp, torch.logaddexp, [big, big[::-1].copy()])
    check_against_torch(ng.hypot, torch.hypot, [big, big])


def test_fmax_fmin_nan_rules_and_ties():
    a = np.array([1.0, np.nan, np.nan, 2.0, 0.0, 5.0])
    b = np.array([np.nan, 3.0, np.nan, 2.0, 1.0, -5.0])
    for name in ("fmax", "fmin", "maximum", "minimum"):  # NaN ignored vs propagated
        check_against_torch(getattr(ng, name), getattr(torch, name), [a, b])
        check_against_torch(getattr(ng, name), getattr(torch, name), [b, a])


def test_binary_ops_dtypes_and_errors():
    i, f = np.array([1, -2, 3]), np.array([0.5, 2.0, -1.0], np.float32)
    d, bools = f.astype(np.float64), np.array([True, False, True])
    check_against_torch(ng.atan2, torch.atan2, [i, i])  # ints -> float32
    check_against_torch(ng.atan2, torch.atan2, [f, d])  # float32 with float64 -> float64
    check_against_torch(ng.hypot, torch.hypot, [f, d])
    check_against_torch(ng.logaddexp, torch.logaddexp, [d, f])
    for x, y in ((i, f), (i, i), (bools, bools), (f, bools)):
        check_against_torch(ng.fmax, torch.fmax, [x, y])
        check_against_torch(ng.fmin, torch.fmin, [x, y])
    for name in ("hypot", "logaddexp"):
        same_error(lambda lib: getattr(lib, name)(lib.tensor(i), lib.tensor(i)))
    same_error(lambda lib: lib.logaddexp(lib.tensor(bools), lib.tensor(bools)))
    for name in ("atan2", "hypot", "logaddexp", "fmax", "fmin"):
        same_error(lambda lib: getattr(lib, name)(lib.tensor(f), 2.0))
        same_error(lambda lib: getattr(lib, name)(lib.tensor(f), lib.ones(2)), False)


def test_binary_in_place_forms():
    a, b = X.copy(), Y[0].copy()
    for name in ("atan2", "arctan2", "hypot"):
        check_against_torch(lambda s, t: getattr(s * 1, name + "_")(t),
                            lambda s, t: getattr(s * 1, name + "_")(t), [a, b])
    for lib in (ng, torch):  # a float32 tensor keeps its dtype with a float64 operand
        t = lib.tensor(a, dtype=lib.float32).atan2_(lib.tensor(b))
        assert t.dtype == lib.float32
    same_error(lambda lib: lib.tensor([1, 2]).atan2_(lib.tensor([1, 2])))
    same_error(lambda lib: lib.zeros(3).hypot_(lib.ones(2, 3)))  # the result would be bigger
    same_error(lambda lib: lib.zeros(3, requires_grad=True).atan2_(lib.ones(3)))


def test_heaviside():
    x = np.array([-1.5, 0.0, 2.0, np.nan, -0.0])
    check_against_torch(ng.heaviside, torch.heaviside, [x, np.array([0.5])],
                        requires_grad=[False, False])
    check_against_torch(ng.heaviside, torch.heaviside, [np.array([-1, 0, 3]), np.array([7])])
    check_against_torch(ng.heaviside, torch.heaviside, [np.array([True, False]),
                                                       np.array([True])])
    check_against_torch(lambda a, v: a.heaviside(v), lambda a, v: a.heaviside(v),
                        [x, np.array([0.25])], requires_grad=[False, False])
    same_error(lambda lib: lib.heaviside(lib.zeros(2), lib.zeros(2, dtype=lib.float64)))
    same_error(lambda lib: lib.heaviside(lib.zeros(2), 0.5))
    # PyTorch has no derivative: the result requires grad, backward raises
    same_error(lambda lib: lib.heaviside(lib.zeros(2, requires_grad=True),
                                         lib.ones(1)).sum().backward())
    ours, theirs = both(lambda lib: lib.heaviside(lib.zeros(2, requires_grad=True), lib.ones(1)))
    assert ours.requires_grad and theirs.requires_grad


# ----- nan_to_num, detach -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
def test_nan_to_num_values_defaults_and_gradient(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], dtype)
    check_against_torch(ng.nan_to_num, torch.nan_to_num, [x])
    check_against_torch(lambda t: t.nan_to_num(nan=1.0, posinf=2, neginf=-3.5),
                        lambda t: t.nan_to_num(nan=1.0, posinf=2, neginf=-3.5), [x])
    check_against_torch(lambda t: (t * 1).nan_to_num_(posinf=1e10),
                        lambda t: (t * 1).nan_to_num_(posinf=1e10), [x])


def test_nan_to_num_integers_and_errors():
    for x in (np.array([1, -2]), np.array([True, False])):
        check_against_torch(lambda t: ng.nan_to_num(t, nan=1.5), lambda t: torch.nan_to_num(
            t, nan=1.5), [x])
        check_against_torch(lambda t: t.clone().nan_to_num_(), lambda t: t.clone().nan_to_num_(),
                            [x])
    same_error(lambda lib: lib.nan_to_num(lib.zeros(2), nan="a"))


def test_detach_function():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.detach(x * 2)
        assert not y.requires_grad and y.grad_fn is None
        assert y.tolist() == [2.0, 4.0]
    same_error(lambda lib: lib.detach(3))


# ----- lerp, addcmul, addcdiv -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight", [0.3, 0.5, 0.9, 1.0, -0.7, 2])
def test_lerp_scalar_weight(weight, dtype):
    a, b = X.astype(dtype), Y[0].astype(dtype)
    check_against_torch(lambda s, e: ng.lerp(s, e, weight), lambda s, e: torch.lerp(s, e, weight),
                        [a, b])
    check_against_torch(lambda s, e: s.lerp(e, weight), lambda s, e: s.lerp(e, weight), [a, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_lerp_tensor_weight(dtype):
    a, b = X.astype(dtype), Y[:, :1].astype(dtype)
    w = np.array([0.1, 0.6, -0.4, 1.5], dtype)  # both branches of PyTorch's formula
    check_against_torch(ng.lerp, torch.lerp, [a, b, w])
    # a 0-d weight may have another dtype; its gradient keeps that dtype
    w0 = np.array(0.7, np.float32 if dtype == np.float64 else np.float64)
    check_against_torch(ng.lerp, torch.lerp, [a, b, w0], rtol=1e-5, grad_rtol=1e-5)


def test_lerp_in_place_is_an_ema_update():
    """`ema.lerp_(param, 1 - decay)` under no_grad, as EMA models update their weights."""
    results = []
    for lib in (ng, torch):
        ema = lib.tensor(X, dtype=lib.float32)
        param = lib.tensor(Y, dtype=lib.float32, requires_grad=True)
        version = ema._version
        with lib.no_grad():
            out = ema.lerp_(param, 0.001)
        assert out is ema and ema._version == version + 1 and not ema.requires_grad
        results.append(ema)
    assert_close(*results)
    # recorded when the operand needs a gradient (in grad mode)
    check_against_torch(lambda s, e, w: (s * 1).lerp_(e, w), lambda s, e, w: (s * 1).lerp_(e, w),
                        [X, Y, np.full(4, 0.25)])
    check_against_torch(lambda e: ng.zeros(3, 4, dtype=ng.float64).lerp_(e, 0.75),
                        lambda e: torch.zeros(3, 4, dtype=torch.float64).lerp_(e, 0.75), [Y])


def test_lerp_errors():
    same_error(lambda lib: lib.lerp(lib.zeros(2), lib.zeros(2, dtype=lib.float64), 0.5))
    same_error(lambda lib: lib.lerp(lib.zeros(2), lib.zeros(2), lib.zeros(2, dtype=lib.float64)))
    same_error(lambda lib: lib.lerp(lib.zeros(2), lib.zeros(2), lib.zeros(2, dtype=lib.int64)))
    same_error(lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), 0.5))
    same_error(lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), lib.tensor([1, 2])))
    same_error(lambda lib: lib.lerp(lib.zeros(3), lib.zeros(2), 0.5), False)
    same_error(lambda lib: lib.lerp(lib.zeros(3), 1.0, 0.5), False)
    same_error(lambda lib: lib.zeros(3).lerp_(lib.zeros(2, 3), 0.5))
    same_error(lambda lib: lib.zeros(3, requires_grad=True).lerp_(lib.ones(3), 0.5))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [1, 0.5, -2])
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv_values_and_gradients(name, value, dtype):
    a, t1, t2 = X.astype(dtype), Y[0].astype(dtype), (np.abs(Y[:, :1]) + 0.5).astype(dtype)
    check_against_torch(lambda *t: getattr(ng, name)(*t, value=value),
                        lambda *t: getattr(torch, name)(*t, value=value), [a, t1, t2])
    check_against_torch(lambda s, p, q: getattr(s, name)(p, q, value=value),
                        lambda s, p, q: getattr(s, name)(p, q, value=value), [a, t1, t2])
    check_against_torch(lambda s, p, q: getattr(s * 1, name + "_")(p, q, value=value),
                        lambda s, p, q: getattr(s * 1, name + "_")(p, q, value=value),
                        [a, t1, t2])


def test_addcmul_addcdiv_dtypes():
    i, f = np.array([1, 2, 3]), np.array([1.5, -2.0, 4.0], np.float32)
    d, bools = f.astype(np.float64), np.array([True, False, True])
    for args, value in (((i, i, i), 2), ((i, i, i), 0.5), ((f, i, i), 0.5), ((i, f, f), 1),
                        ((f, d, f), 1), ((i, bools, bools), 3)):  # 0.5 into ints truncates to 0
        check_against_torch(lambda *t: ng.addcmul(*t, value=value),
                            lambda *t: torch.addcmul(*t, value=value), list(args))
    for args in ((i, f, f), (f, d, f), (f, bools, f), (bools, f, f)):
        # PyTorch's gradient for tensor1 is grad * (value / tensor2) with the division in
        # tensor2's dtype (float32 here); numpy2gpt divides in the result's float64
        check_against_torch(ng.addcdiv, torch.addcdiv, list(args), grad_rtol=1e-6)
    # (PyTorch's backward fails for an integer tensor2: values only)
    check_against_torch(ng.addcdiv, torch.addcdiv, [f, f, i], check_grad=False)
    zero_d = np.array(2.0)  # a 0-d float64 operand does not widen a float32 result
    check_against_torch(ng.addcmul, torch.addcmul, [f, f, zero_d])


def test_addcmul_addcdiv_errors():
    same_error(lambda lib: lib.addcmul(lib.tensor([True]), lib.tensor([True]),
                                       lib.tensor([True])))
    same_error(lambda lib: lib.addcdiv(lib.zeros(2), lib.tensor([1, 2]), lib.tensor([1, 2])))
    same_error(lambda lib: lib.addcdiv(lib.zeros(2), lib.tensor([True]), lib.tensor([True])))
    same_error(lambda lib: lib.addcmul(lib.zeros(2), lib.zeros(2), 2.0))
    same_error(lambda lib: lib.addcmul(lib.zeros(2), lib.zeros(2), lib.zeros(2), 2))
    same_error(lambda lib: lib.addcmul(lib.zeros(2), lib.zeros(3), lib.zeros(2)), False)
    same_error(lambda lib: lib.tensor([1, 2]).addcmul_(lib.zeros(2), lib.zeros(2)))
    same_error(lambda lib: lib.zeros(3).addcdiv_(lib.ones(3, 1), lib.ones(3)))


SHIFTS = {
    "right": lambda lib: lib.tensor([4, 8, -8]) >> 1,
    "left, beyond the width": lambda lib: lib.tensor([1, 3]) << lib.tensor([2, 70]),
    "right of a negative, beyond the width": lambda lib: lib.tensor([-8, 8]) >> 70,
    "int8 into the sign bit": lambda lib: lib.tensor([1], dtype=lib.int8) << 7,
    "uint8 beyond the width": lambda lib: lib.tensor([1, 2], dtype=lib.uint8) >> 9,
    "bool tensor": lambda lib: lib.tensor([True, False]) << 1,
    "reflected": lambda lib: 2 << lib.tensor([1, 2]),
    "functions": lambda lib: (lib.bitwise_left_shift(lib.tensor([3]), 2),
                              lib.bitwise_right_shift(lib.tensor([-7]), 1)),
}


@pytest.mark.parametrize("case", list(SHIFTS))
def test_shifts_as_torch(case):
    ours, theirs = SHIFTS[case](ng), SHIFTS[case](torch)
    ours, theirs = (r if isinstance(r, tuple) else (r,) for r in (ours, theirs))
    for a, b in zip(ours, theirs):
        assert a.tolist() == b.tolist()
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


def test_shifts_in_place_and_errors_as_torch():
    for lib in (ng, torch):
        x = lib.tensor([4, 8])
        same = x
        x >>= 1
        x <<= 2
        assert x is same and x.tolist() == [8, 16]
        assert lib.tensor([5]).bitwise_left_shift_(1).tolist() == [10]
    same_error(lambda lib: lib.tensor([1.5]) << 1)
