"""% (remainder), fmod and // (floor_divide), functional, method, reflected and in-place forms,
against PyTorch: values with the sign of zero, gradients (d/dinput = 1, d/dother = -floor or
-trunc of the quotient), integer rules and PyTorch's errors."""

import operator

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch

import numpy2gpt as ng

INF, NAN = np.inf, np.nan
# signed zeros, both signs of divisor, zero and infinite divisors, a tiny dividend
A = [-0.0, 0.0, -4.0, 4.0, 5.5, -5.5, 3.0, INF, -7.0, 1e-30, 7.0, NAN, -2.5]
B = [2.0, -2.0, 2.0, -2.0, 2.0, 2.0, 0.0, 2.0, INF, -3.0, -INF, 1.0, 0.75]
OPS = [("remainder", ng.remainder, torch.remainder), ("fmod", ng.fmod, torch.fmod),
       ("%", operator.mod, operator.mod)]


def _same(ours, theirs):
    """Equal values, NaN where PyTorch has NaN, and the same sign of every zero."""
    ours, theirs = np.asarray(ours), theirs.detach().numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    real = ~np.isnan(theirs)  # (a NaN's sign bit means nothing)
    np.testing.assert_array_equal(np.signbit(ours[real]), np.signbit(theirs[real]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,op,top", OPS, ids=[o[0] for o in OPS])
def test_mod_values_and_gradients_at_special_values_like_pytorch(name, op, top, dtype):
    a, b = np.array(A, dtype), np.array(B, dtype)
    x, y = ng.tensor(a, requires_grad=True), ng.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = op(x, y), top(tx, ty)
    _same(out.data, tout)
    assert out.grad_fn.name() == tout.grad_fn.name()  # RemainderBackward1 / FmodBackward1
    out.sum().backward()
    tout.sum().backward()
    _same(x.grad.data, tx.grad)
    _same(y.grad.data, ty.grad)


@pytest.mark.parametrize("name,op,top", OPS, ids=[o[0] for o in OPS])
def test_mod_broadcasts_and_matches_pytorch_on_random_inputs(rng, name, op, top):
    a = rng.standard_normal((2, 3, 4)) * 5
    b = rng.standard_normal((3, 1))
    check_against_torch(op, top, [a, b])
    check_against_torch(lambda x: op(x, 0.7), lambda x: top(x, 0.7), [a])  # Backward0
    check_against_torch(lambda x: op(x, -1.5), lambda x: top(x, -1.5), [a.astype(np.float32)])


def test_floor_divide_values_like_pytorch_and_no_derivative():
    for dtype in (np.float32, np.float64):
        a, b = np.array(A, dtype), np.array(B, dtype)
        _same((ng.tensor(a) // ng.tensor(b)).data, torch.tensor(a) // torch.tensor(b))
        _same(ng.floor_divide(ng.tensor(a), 2).data, torch.floor_divide(torch.tensor(a), 2))
        _same((7 // ng.tensor(b)).data, 7 // torch.tensor(b))
    x = ng.tensor([5.0, 6.0], requires_grad=True)
    y = x // 4
    assert y.requires_grad and repr(y.grad_fn) == "<NotImplemented>"
    with pytest.raises(RuntimeError, match="^derivative for aten::floor_divide is not "
                                           "implemented$"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="^derivative for aten::remainder is not "
                                           "implemented$"):
        (7 % x).sum().backward()
    torch.floor_divide(torch.ones(1, requires_grad=True), 2)  # (PyTorch: same node, same error)


@pytest.mark.parametrize("op", [operator.mod, operator.floordiv, ng.fmod, ng.remainder,
                                ng.floor_divide], ids=lambda o: o.__name__)
def test_integer_operands_and_promotion_like_pytorch(op):
    top = getattr(torch, op.__name__) if op.__module__.startswith("numpy2gpt") else op
    a, b = [7, -7, 6, -6, 0], [2, 3, -4, -5, 7]
    for x, y in [(a, b), (a, 3), (a, -3), (a, 2.5), (a, True)]:
        ours = op(ng.tensor(x), y if not isinstance(y, list) else ng.tensor(y))
        theirs = top(torch.tensor(x), y if not isinstance(y, list) else torch.tensor(y))
        assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]
    assert op(ng.tensor(a, dtype=ng.int32), 3).dtype == ng.int32  # a number does not widen,
    assert op(ng.tensor(a, dtype=ng.int32), ng.tensor(3)).dtype == ng.int32  # nor a 0-d tensor
    assert (7 % ng.tensor(b)).tolist() == (7 % torch.tensor(b)).tolist()


@pytest.mark.parametrize("fn", ["remainder", "fmod", "floor_divide"])
def test_integer_division_by_zero_and_bool_operands_raise_pytorchs_errors(fn):
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
            getattr(lib, fn)(lib.tensor([5, 6]), lib.tensor([1, 0]))
        with pytest.raises(NotImplementedError) as e:
            getattr(lib, fn)(lib.tensor([True]), lib.tensor([True]))
        kernel = {"floor_divide": "div_floor"}.get(fn, fn)
        assert str(e.value) == f"\"{kernel}_cpu\" not implemented for 'Bool'"
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        ng.div(ng.tensor([5]), 0, rounding_mode="trunc")
    # float division by zero is not an error: nan / inf as in IEEE arithmetic, and no warning
    with np.errstate(all="raise"):
        _same(getattr(ng, fn)(ng.tensor([5.0, -5.0, 0.0]), 0.0).data,
              getattr(torch, fn)(torch.tensor([5.0, -5.0, 0.0]), 0.0))


@pytest.mark.parametrize("method,iop", [("remainder_", operator.imod), ("fmod_", None),
                                        ("floor_divide_", operator.ifloordiv)])
def test_in_place_forms_write_into_the_tensor_like_pytorch(method, iop):
    x, tx = ng.tensor([5.5, -6.0, 7.0]), torch.tensor([5.5, -6.0, 7.0])
    v = x._version
    assert getattr(x, method)(-4) is x
    getattr(tx, method)(-4)
    _same(x.data, tx)
    assert x._version > v
    if iop is not None:
        y = x
        y = iop(y, 3)
        ty = iop(tx, 3)
        assert y is x and x.tolist() == ty.tolist()
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                               "output type (Long|numpy2gpt.int64)$"):
            getattr(lib.tensor([5, 6]), method)(2.5)
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being "
                                               "used in an in-place operation.$"):
            getattr(lib.tensor([5.0], requires_grad=True), method)(2)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_has_a_zero_gradient_like_pytorch(mode):
    a, b = np.array([5.5, -3.0, 7.0]), np.array([2.0, 2.0, -0.5])
    check_against_torch(lambda x, y: ng.div(x, y, rounding_mode=mode),
                        lambda x, y: torch.div(x, y, rounding_mode=mode), [a, b])
    x = ng.tensor(a, requires_grad=True)
    y = ng.div(x, 2, rounding_mode=mode)
    assert y.requires_grad and y.grad_fn.name() == "DivBackward2"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
