"""+ - * / ** neg (tensor/scalar, reflected forms, functional forms), comparisons, dtype promotion
and clone, against PyTorch: values and gradients (float64 rtol 1e-10 / 1e-8), numerical gradcheck,
and hypothesis property tests over random broadcastable shapes."""

import itertools
import operator
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from torch_compare import check_against_torch, run_gradcheck

import numpy2gpt as ng

# (name, op, makes positive inputs?) - pow needs a positive base for real results
BINARY = [
    ("add", operator.add, False), ("sub", operator.sub, False), ("mul", operator.mul, False),
    ("truediv", operator.truediv, False), ("pow", operator.pow, True),
]
BINARY_IDS = [b[0] for b in BINARY]
SHAPE_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)),
               ((4, 1, 2), (3, 1))]


def _inputs(rng, shapes, positive):
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    else:  # keep divisors away from zero
        arrays = [a + np.sign(a) * 0.5 for a in arrays]
    return [np.asarray(a, dtype=np.float64) for a in arrays]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name,op,positive", BINARY, ids=BINARY_IDS)
def test_binary_tensor_tensor_matches_torch(rng, name, op, positive, shapes):
    check_against_torch(op, op, _inputs(rng, shapes, positive))


@pytest.mark.parametrize("name,op,positive", BINARY, ids=BINARY_IDS)
def test_binary_gradcheck_with_broadcasting(rng, name, op, positive):
    assert run_gradcheck(op, _inputs(rng, [(2, 3), (3,)], positive))
    assert run_gradcheck(op, _inputs(rng, [(2, 1), (1, 3)], positive))


@pytest.mark.parametrize("scalar", [2, 2.5, -1.5, 0.5])
@pytest.mark.parametrize("name,op,positive", BINARY, ids=BINARY_IDS)
def test_binary_with_python_scalar_both_sides(rng, name, op, positive, scalar):
    if name == "pow" and scalar < 0:
        scalar = abs(scalar)
    (x,) = _inputs(rng, [(2, 3)], positive=True)
    check_against_torch(lambda t: op(t, scalar), lambda t: op(t, scalar), [x])  # tensor op scalar
    check_against_torch(lambda t: op(scalar, t), lambda t: op(scalar, t), [x])  # reflected
    assert run_gradcheck(lambda t: op(t, scalar), [x[:1]])
    assert run_gradcheck(lambda t: op(scalar, t), [x[:1]])


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 0.5, -1, -2, 1.5, -0.5])
def test_pow_scalar_exponents_including_special_cased_ones(rng, exponent):
    (x,) = _inputs(rng, [(5,)], positive=True)
    check_against_torch(lambda t: t ** exponent, lambda t: t ** exponent, [x])
    assert run_gradcheck(lambda t: ng.pow(t, exponent), [x])


def test_pow_tensor_exponent_grads_reach_both_sides(rng):
    a, b = _inputs(rng, [(2, 3), (3,)], positive=True)
    check_against_torch(ng.pow, torch.pow, [a, b])
    check_against_torch(lambda t: 2.0 ** t, lambda t: 2.0 ** t, [b])  # scalar ** tensor


def test_pow_gradients_where_base_or_exponent_is_zero_are_pytorchs():
    # d(a^b)/da is 0 where b == 0, d(a^b)/db is 0 where a == 0 and b >= 0 (not 0 * inf = NaN)
    a = np.array([0.0, 0.0, 0.0, 2.0, 0.5, -1.0, 0.0])
    b = np.array([2.0, 0.0, -1.0, 0.0, 0.0, 3.0, 0.5])
    check_against_torch(ng.pow, torch.pow, [a, b])
    check_against_torch(lambda t: 0.0 ** t, lambda t: 0.0 ** t, [b])
    check_against_torch(lambda t: t ** t, lambda t: t ** t, [np.abs(a)])


def test_neg(rng):
    x = rng.standard_normal((2, 3))
    check_against_torch(lambda t: -t, lambda t: -t, [x])
    check_against_torch(ng.neg, torch.neg, [x])
    assert run_gradcheck(ng.neg, [x])


@pytest.mark.parametrize("alpha", [1, 2, -0.5])
def test_add_sub_alpha(rng, alpha):
    a, b = _inputs(rng, [(2, 3), (3,)], positive=False)
    check_against_torch(lambda x, y: ng.add(x, y, alpha=alpha),
                        lambda x, y: torch.add(x, y, alpha=alpha), [a, b])
    check_against_torch(lambda x, y: ng.sub(x, y, alpha=alpha),
                        lambda x, y: torch.sub(x, y, alpha=alpha), [a, b])


ALPHA_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "bool"]


def _alpha_result(lib, name, x_dtype, x_shape, other, o_shape, alpha):
    """(dtype name, values) of lib.add/sub(x, other, alpha=alpha), or the error message; `other`
    is a dtype name (a tensor of that dtype) or a number."""
    x = lib.tensor([1, 0, 3] if x_shape else 2, dtype=getattr(lib, x_dtype))
    if isinstance(other, str):
        other = lib.tensor([1, 3, 1] if o_shape else 1, dtype=getattr(lib, other))
    try:
        r = getattr(lib, name)(x, other, alpha=alpha)
    except RuntimeError as e:
        return str(e)
    return str(r.dtype).split(".")[-1], r.tolist()


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("x_dtype", ALPHA_DTYPES)
def test_add_sub_alpha_dtypes_numbers_and_errors_match_torch(name, x_dtype):
    """input + alpha * other in PyTorch's result dtype of input and other (other is scaled after
    promotion, so a float16 other with a float32 input is not rounded to float16 first), with a
    number `other` and PyTorch's errors for a float alpha on an integer or bool result and a bool
    alpha on a non-bool result."""
    others = ALPHA_DTYPES + [3, 1.3, True]
    alphas = [2, 0.1, 0.5, True, False, 0, -3, 1.0]
    for other, o_shape, x_shape, alpha in itertools.product(others, [(), (3,)], [(), (3,)],
                                                            alphas):
        if name == "sub" and ("bool" in (x_dtype, other) or other is True):
            continue  # (subtracting bools is an error of its own)
        args = (name, x_dtype, x_shape, other, o_shape, alpha)
        ours, theirs = _alpha_result(ng, *args), _alpha_result(torch, *args)
        if isinstance(theirs, tuple) and theirs[0].startswith("float"):
            assert ours[0] == theirs[0], args
            np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-3, err_msg=str(args))
        else:
            assert ours == theirs, args


def test_add_sub_alpha_scales_after_promotion_and_takes_numbers():
    x, y = np.array([1.0, 2.0], np.float32), np.array([1.0, 3.0], np.float16)
    out = ng.add(ng.tensor(x), ng.tensor(y), alpha=0.1)
    assert out.dtype == ng.float32 and out.tolist() == torch.add(
        torch.tensor(x), torch.tensor(y), alpha=0.1).tolist()  # [1.1, 2.3], not float16 steps
    assert ng.tensor([1.0, 2.0]).add(1, alpha=2).tolist() == [3.0, 4.0]
    assert ng.tensor([1.0, 2.0]).sub(1, alpha=2).tolist() == [-1.0, 0.0]
    check_against_torch(lambda a: a.add(1.5, alpha=0.5), lambda a: a.add(1.5, alpha=0.5), [x])


@pytest.mark.parametrize("alpha", [0.1, -3, 2.5])
@pytest.mark.parametrize("name", ["add", "sub"])
def test_add_sub_alpha_gradients_across_dtypes(name, alpha):
    """d/d other = alpha * g, cast back to other's dtype."""
    def fns(lib):
        return lambda a, b: getattr(lib, name)(a, b, alpha=alpha)

    check_against_torch(fns(ng), fns(torch), [np.array([1.0, 2.0], np.float32),
                                              np.array([1.0, 3.0], np.float16)],
                        rtol=1e-3, grad_rtol=1e-3)
    check_against_torch(fns(ng), fns(torch), [np.array([[0.5], [1.5]]),
                                              np.array([1.5, 2.0, -1.0])])


def test_functional_and_method_forms_match_operators(rng):
    a, b = _inputs(rng, [(2, 3), (2, 3)], positive=True)
    x, y = ng.tensor(a), ng.tensor(b)
    for fn, method, op in [(ng.add, "add", operator.add), (ng.sub, "sub", operator.sub),
                           (ng.mul, "mul", operator.mul), (ng.div, "div", operator.truediv),
                           (ng.pow, "pow", operator.pow)]:
        np.testing.assert_array_equal(fn(x, y).data, op(x, y).data)
        np.testing.assert_array_equal(getattr(x, method)(y).data, op(x, y).data)


def test_ndarray_on_the_left_defers_to_tensor(rng):
    a = rng.standard_normal((2, 3))
    x = ng.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv):
        y = op(a, x)
        assert isinstance(y, ng.Tensor) and y.requires_grad
        np.testing.assert_allclose(y.data, op(a, x.data))


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_modes(mode):
    a = np.array([7.0, -7.0, 7.5, -7.5])
    b = np.array([2.0, 2.0, -2.0, 2.0])
    ours = ng.div(ng.tensor(a), ng.tensor(b), rounding_mode=mode)
    np.testing.assert_array_equal(ours.data, torch.div(torch.tensor(a), torch.tensor(b),
                                                       rounding_mode=mode).numpy())
    with pytest.raises(ValueError, match="rounding_mode"):
        ng.div(ng.tensor(a), ng.tensor(b), rounding_mode="round")


# ----- property tests: random broadcastable shapes ------------------------------------------
@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op_index=st.integers(0, len(BINARY) - 1), seed=st.integers(0, 2**16))
def test_binary_ops_on_random_broadcastable_shapes(shapes, op_index, seed):
    _, op, positive = BINARY[op_index]
    arrays = _inputs(np.random.default_rng(seed), shapes.input_shapes, positive)
    ours, _, leaves, _ = check_against_torch(op, op, arrays)
    assert ours[0].shape == shapes.result_shape
    for leaf, a in zip(leaves, arrays):  # backward summed each gradient back to its input
        assert leaf.grad.shape == a.shape


@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op_index=st.integers(0, len(BINARY) - 1), seed=st.integers(0, 2**16))
def test_binary_ops_gradcheck_on_random_broadcastable_shapes(shapes, op_index, seed):
    _, op, positive = BINARY[op_index]
    assert run_gradcheck(op, _inputs(np.random.default_rng(seed), shapes.input_shapes, positive))


def test_non_broadcastable_shapes_error_names_both_shapes():
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
               operator.lt):
        with pytest.raises(RuntimeError) as e:
            op(ng.ones(2, 3), ng.ones(4))
        msg = str(e.value)
        assert "[2, 3]" in msg and "[4]" in msg and "size of tensor a (3)" in msg


# ----- comparisons -------------------------------------------------------------------------
COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda f: f.__name__)
def test_comparisons_give_bool_without_grad(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x = ng.tensor(a, requires_grad=True)
    for other, t_other in [(ng.tensor(b), torch.tensor(b)), (2.0, 2.0), (2, 2)]:
        ours = op(x, other)
        theirs = op(torch.tensor(a), t_other)
        assert ours.dtype == ng.bool and not ours.requires_grad and ours.grad_fn is None
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    method = getattr(x, op.__name__)
    np.testing.assert_array_equal(method(2.0).numpy(), op(torch.tensor(a), 2.0).numpy())


def test_equal_compares_shape_and_values():
    assert ng.equal(ng.tensor([1.0, 2.0]), ng.tensor([1.0, 2.0]))
    assert not ng.equal(ng.tensor([1.0, 2.0]), ng.tensor([1.0, 3.0]))
    assert not ng.equal(ng.tensor([1.0, 2.0]), ng.tensor([[1.0, 2.0]]))


# ----- dtype promotion (PyTorch's rules) ----------------------------------------------------
@pytest.mark.parametrize("a,b", [
    (np.array([1, 2]), 2.5), (np.array([1, 2]), 2), (np.array([1.0, 2.0], np.float32), 2),
    (np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0])), (np.array([True, False]), 1),
    (np.array([1, 2], np.int32), np.array([1, 2])), (np.array([1, 2]), np.array([0.5, 2.0],
                                                                                np.float32)),
], ids=str)
@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv, operator.sub],
                         ids=lambda f: f.__name__)
def test_dtype_promotion_matches_torch(a, b, op):
    if op is operator.sub and a.dtype == bool:
        for lib in (ng, torch):  # PyTorch refuses it, naming what to use instead
            with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool "
                                                   "tensor is not supported"):
                op(lib.tensor(a), b)
        return
    ours = op(ng.tensor(a), ng.tensor(b) if isinstance(b, np.ndarray) else b)
    theirs = op(torch.tensor(a), torch.tensor(b) if isinstance(b, np.ndarray) else b)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_integer_power_rules():
    x = ng.tensor([1, 2, 3])
    assert (x ** 2).dtype == ng.int64 and (x ** 2).tolist() == [1, 4, 9]
    assert (x ** 0.5).dtype == ng.float32
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        x ** -1


@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([2, 3, 1, -1, -1, 0, -2]) ** lib.tensor([-2, -1, -3, -3, -2, -1, 3]),
    lambda lib: lib.tensor([True, False]) ** 2, lambda lib: lib.tensor([True, False]).square(),
    lambda lib: 2 ** lib.tensor([True, False]), lambda lib: lib.tensor([True]) ** 2.0,
    lambda lib: lib.tensor([2], dtype=lib.int8) ** lib.tensor([3]),
], ids=["negative int exponents", "bool ** 2", "bool square", "2 ** bool", "bool ** 2.0",
        "int8 ** int64"])
def test_integer_and_bool_powers_are_pytorchs(fn):
    ours, theirs = fn(ng), fn(torch)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]


def test_bool_to_a_bool_power_is_pytorchs_error():
    for lib in (ng, torch):
        with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
            lib.tensor([True]) ** lib.tensor([True])


# ----- graph behaviour -----------------------------------------------------------------------
def test_constants_never_get_grad():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    c = ng.tensor([3.0, 4.0])
    ((x * c + c / x - c) ** 2).sum().backward()
    assert c.grad is None and x.grad is not None


@pytest.mark.parametrize("expr,name", [
    (lambda x: x + 1, "AddBackward0"), (lambda x: x - 1, "SubBackward0"),
    (lambda x: x * 2, "MulBackward0"), (lambda x: x / 2, "DivBackward0"),
    (lambda x: -x, "NegBackward0"), (lambda x: x ** 2, "PowBackward0"),
    (lambda x: x ** x, "PowBackward1"), (lambda x: x.clone(), "CloneBackward0"),
    (lambda x: x.double(), "ToCopyBackward0"),
])
def test_grad_fn_names_match_pytorch(expr, name):
    y = expr(ng.tensor([1.0, 2.0], requires_grad=True))
    assert repr(y.grad_fn) == f"<{name}>"
    assert y.grad_fn.name() == name


def test_clone_is_a_differentiable_copy(rng):
    a = rng.standard_normal((2, 3))
    check_against_torch(lambda t: t.clone() * 2, lambda t: t.clone() * 2, [a])
    x = ng.tensor(a)
    y = ng.clone(x)
    y.data[0, 0] = 100.0  # separate memory
    assert x.data[0, 0] == a[0, 0]
    assert not y.requires_grad and y.is_leaf
    assert run_gradcheck(lambda t: t.clone(), [a])


def test_cast_gradient_returns_to_input_dtype():
    x = ng.tensor([1.0, 2.0], dtype=ng.float32, requires_grad=True)
    y = x.double() * 3
    assert y.dtype == ng.float64
    y.sum().backward()
    assert x.grad.dtype == ng.float32 and x.grad.tolist() == [3.0, 3.0]


NAN, INF = float("nan"), float("inf")
ISCLOSE_CASES = [  # (a, b, keyword arguments)
    ([1.0, NAN, INF, 2.0, -INF, 0.0], [1.000001, NAN, INF, 2.1, INF, 1e-9], {}),
    ([1.0, NAN, INF, 2.0], [1.000001, NAN, INF, 2.1], {"equal_nan": True}),
    ([1.0, 100.0], [1.5, 101.0], {"rtol": 0.01, "atol": 0.0}),  # scales with |other|
    ([[1.0], [2.0]], [1.0, 2.0, 3.0], {"atol": 1.0}),  # broadcast
    ([1, 2, 3], [1, 3, 3], {}), ([True, False], [True, True], {}),
]


@pytest.mark.parametrize("a,b,kw", ISCLOSE_CASES)
def test_isclose_and_allclose_match_torch(a, b, kw):
    ours = ng.isclose(ng.tensor(a), ng.tensor(b), **kw)
    theirs = torch.isclose(torch.tensor(a), torch.tensor(b), **kw)
    assert ours.dtype == ng.bool and ours.tolist() == theirs.tolist()
    assert ng.tensor(a).isclose(ng.tensor(b), **kw).tolist() == theirs.tolist()
    all_ours = ng.allclose(ng.tensor(a), ng.tensor(b), **kw)
    all_theirs = torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    assert type(all_ours) is bool and all_ours == all_theirs
    assert ng.tensor(a).allclose(ng.tensor(b), **kw) == all_ours


@pytest.mark.parametrize("b,kw", [(np.ones(2, dtype=np.float64), {}), (1.0, {}),
                                  (np.ones(2, dtype=np.float32), {"rtol": -1}),
                                  (np.ones(2, dtype=np.float32), {"atol": -0.5})])
def test_isclose_errors_as_torch(b, kw):
    args = {lib: (lib.ones(2), lib.tensor(b) if isinstance(b, np.ndarray) else b)
            for lib in (ng, torch)}
    with pytest.raises(Exception) as theirs:
        torch.isclose(*args[torch], **kw)
    for fn in (ng.isclose, ng.allclose):
        with pytest.raises(theirs.type, match="^" + re.escape(str(theirs.value)) + "$"):
            fn(*args[ng], **kw)


@pytest.mark.parametrize("fn", [lambda L, b: b - b, lambda L, b: L.sub(b, b),
                                lambda L, b: L.ones(1, dtype=L.float16) - b, lambda L, b: 1 - b,
                                lambda L, b: -b], ids=["b - b", "sub(b, b)", "half - b", "1 - b",
                                                       "-b"])
def test_bool_subtraction_and_negation_are_pytorchs_errors(fn):
    errors = []
    for lib in (ng, torch):
        with pytest.raises(RuntimeError) as info:
            fn(lib, lib.tensor([True]))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("fn", [lambda L: L.tensor([100, 3], dtype=L.int8).prod(0, dtype=L.int8),
                                lambda L: L.tensor([100, 100]).cumsum(0, dtype=L.int8),
                                lambda L: L.tensor([1, 2], dtype=L.int32).cumsum(0)],
                         ids=["prod int8", "cumsum int8", "cumsum int32 input"])
def test_prod_and_cumsum_work_in_the_dtype_asked_for(fn):
    ours, theirs = fn(ng), fn(torch)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]
