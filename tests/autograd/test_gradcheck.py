"""gradcheck and gradgradcheck themselves: they pass on correct gradients and FAIL (raise, or
return False) on deliberately wrong ones - a checker that cannot fail checks nothing."""

import numpy as np
import pytest

import numpy2gpt as ng
from numpy2gpt.autograd import Function, FusedFunction, gradcheck, gradgradcheck


class WrongSquare(Function):
    """x^2 with a backward that forgets the factor 2."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * x


class WrongBroadcastMul(Function):
    """a * b whose backward forgets to sum the gradient over broadcast dims (returns b's grad
    summed over the wrong axis, with the right shape)."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.saved_tensors
        gb = (gy * a).mean(0)  # mean instead of sum: right shape, wrong value
        return gy * b, gb


class FlatSecondDerivative(Function):
    """x^2 whose backward is right but built from a constant, so its own derivative is 0."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * ng.Tensor._make(2 * x._data)  # a constant: d/dx of this gradient is lost


class FusedHalfGradient(FusedFunction):
    """x @ w with a hand-written backward that halves w's gradient."""

    def forward(self, x, w):
        self.x, self.w = x, w
        return x @ w

    def backward(self, gy):
        return gy @ self.w.T, 0.5 * (self.x.T @ gy)


def _x(*shape, seed=0):
    return ng.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_gradcheck_passes_on_correct_ops():
    assert gradcheck(lambda x: (x * x).sum(1).exp(), [_x(2, 3)])
    assert gradcheck(lambda a, b: (a @ b).tanh(), [_x(2, 3), _x(3, 2, seed=1)])


@pytest.mark.parametrize("fn,inputs", [
    (lambda x: WrongSquare()(x), lambda: [_x(3)]),
    (lambda a, b: WrongBroadcastMul()(a, b), lambda: [_x(3, 2), _x(2, seed=1)]),
    (lambda x, w: FusedHalfGradient()(x, w), lambda: [_x(2, 3), _x(3, 4, seed=1)]),
], ids=["wrong_factor", "wrong_broadcast_reduction", "fused_wrong_formula"])
def test_gradcheck_fails_on_a_wrong_backward(fn, inputs):
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input"):
        gradcheck(fn, inputs())
    assert gradcheck(fn, inputs(), raise_exception=False) is False


def test_gradgradcheck_passes_on_correct_ops_and_fails_on_a_flat_second_derivative():
    assert gradgradcheck(lambda x: (x * x.sin()).sum(), [_x(3)])
    assert gradgradcheck(lambda x: x.tanh() * 2, [_x(2, 2)])
    assert gradcheck(lambda x: FlatSecondDerivative()(x), [_x(3)])  # first order is right
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradgradcheck(lambda x: FlatSecondDerivative()(x), [_x(3)])
    assert gradgradcheck(lambda x: FlatSecondDerivative()(x), [_x(3)],
                         raise_exception=False) is False


def test_gradcheck_with_non_contiguous_and_non_tensor_inputs():
    # A Fortran-ordered array: nudging must change x itself, not a flattened copy.
    x = ng.tensor(np.asfortranarray(np.random.default_rng(0).standard_normal((3, 2))),
                  requires_grad=True)
    assert not x._data.flags.c_contiguous
    assert gradcheck(lambda t, k: (t ** k).sum(0), [x, 3])
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(lambda t: WrongSquare()(t), [x])


def test_gradcheck_leaves_inputs_unchanged_and_checks_only_inputs_that_require_grad():
    x = _x(3)
    c = ng.tensor(np.array([1.0, 2.0, 3.0]))
    before = x._data.copy()
    assert gradcheck(lambda a, b: a * b, [x, c])
    np.testing.assert_array_equal(x._data, before)


def test_gradcheck_warns_about_float32():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="is not a double precision"):
        gradcheck(lambda t: t * 2, [x], raise_exception=False)


def test_signatures_are_pytorchs():
    import inspect

    import torch

    for name in ("gradcheck", "gradgradcheck"):
        ours = inspect.signature(getattr(ng.autograd, name)).parameters
        theirs = inspect.signature(getattr(torch.autograd, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.values()]


def test_a_mismatch_raises_gradcheck_error():
    from numpy2gpt.autograd.gradcheck import GradcheckError

    with pytest.raises(GradcheckError):
        gradcheck(lambda x: WrongSquare()(x), [_x(3)], fast_mode=True)


def test_gradgradcheck_draws_its_grad_outputs_from_the_global_generator_like_pytorch():
    import torch

    def after_check(lib, x):
        lib.manual_seed(0)
        lib.autograd.gradgradcheck(lambda t: (t * t.sin()) * 2, (x,))
        return lib.rand(3).tolist()

    ours = after_check(ng, _x(2, 2))
    theirs = after_check(torch, torch.tensor(_x(2, 2).detach().numpy(), requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


class MulWeightsConstant(Function):
    """x * 3 whose backward treats the upstream gradient as a constant (a wrong second-order
    graph that only a check with respect to grad_outputs can see)."""

    def forward(self, x):
        return x * 3

    def backward(self, gy):
        return ng.Tensor._make(gy._data * 3)


def test_gradgradcheck_checks_the_derivative_with_respect_to_grad_outputs():
    assert gradcheck(lambda x: MulWeightsConstant()(x), [_x(3)])
    assert gradgradcheck(lambda x: MulWeightsConstant()(x), [_x(3)],
                         raise_exception=False) is False
