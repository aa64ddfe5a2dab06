"""The Function base class: user-defined Functions (DeZero style), FusedFunction, multi-output
nodes, weakly held outputs, saved tensors and outputs, node names, and the engine's checks on what
a backward returns."""

import gc

import numpy as np
import pytest
import torch

import numpy2gpt as ng
from numpy2gpt.autograd import Function, FusedFunction, gradcheck


class Cube(Function):
    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * 3 * x * x  # d x^3 = 3 x^2


class SplitHalves(Function):
    """Two outputs: the first and the second half of a vector."""

    def forward(self, x):
        n = x.shape[0] // 2
        return x[:n].copy(), x[n:].copy()

    def backward(self, g1, g2):
        return ng.Tensor._make(np.concatenate([g1.data, g2.data]))


class FusedScale(FusedFunction):
    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x * self.c

    def backward(self, gy):
        return gy * self.c


class ArgMax(Function):
    """Integer output: it must never carry a grad_fn."""

    def forward(self, x):
        return np.argmax(x, keepdims=True)


def test_custom_function_forward_backward_and_gradcheck():
    x = ng.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    y = Cube()(x)
    assert repr(y.grad_fn) == "<CubeBackward0>" and y.grad_fn.needs_input_grad == (True,)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.data ** 2)
    assert gradcheck(lambda t: Cube()(t), [ng.tensor(np.array([1.0, -2.0]), requires_grad=True)])
    (g,) = ng.autograd.grad(Cube()(x).sum(), x, create_graph=True)  # differentiable backward
    (g2,) = ng.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.data)


def test_function_accepts_numbers_and_arrays_as_inputs():
    assert Cube()(2.0).item() == 8.0
    assert Cube()(np.array([2.0])).tolist() == [8.0]


def test_multi_output_function_gives_zeros_to_unused_outputs():
    x = ng.tensor(np.arange(4.0), requires_grad=True)
    a, b = SplitHalves()(x)
    assert a.grad_fn is b.grad_fn and (a._output_nr, b._output_nr) == (0, 1)
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0]
    x.grad = None
    a, b = SplitHalves()(x)
    (a * 2 + b).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_fused_function_first_order_and_its_double_backward_error():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    FusedScale(3.0)(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="double backward is not implemented for "
                                           "FusedScaleBackward0"):
        ng.autograd.grad(FusedScale(3.0)(x).sum(), x, create_graph=True)


class FusedCube(FusedFunction):
    """x^3 with a hand-written backward, and `composed` for higher derivatives."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        return gy * 3 * self.inputs[0].detach().numpy() ** 2

    def composed(self, x):
        return x * x * x


def test_a_fused_function_with_composed_differentiates_twice_and_thrice():
    x = ng.tensor([1.0, -2.0, 0.5], dtype=ng.float64, requires_grad=True)
    (g,) = ng.autograd.grad(FusedCube()(x).sum(), x, create_graph=True)
    (g2,) = ng.autograd.grad(g.sum(), x, create_graph=True)
    (g3,) = ng.autograd.grad(g2.sum(), x)
    assert g.tolist() == [3.0, 12.0, 0.75] and g2.tolist() == [6.0, -12.0, 3.0]
    assert g3.tolist() == [6.0, 6.0, 6.0]
    FusedCube()(x).sum().backward()  # first order still runs the fused backward
    assert x.grad.tolist() == [3.0, 12.0, 0.75]


def test_double_backward_through_a_fused_op_takes_partial_derivatives_like_pytorch():
    """linear(x, w) where x itself is computed from w: the fused node's gradient for w must be
    its partial one (the path through x is the outer graph's), or the path counts twice."""
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((3, 3)), rng.standard_normal(3)
    results = []
    for lib in (ng, torch):
        w = lib.tensor(w0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        x = lib.tanh(w * 2)
        y = lib.nn.functional.linear(x, w, b)
        gw, gb = lib.autograd.grad((y ** 2).sum(), (w, b), create_graph=True)
        penalty = (gw ** 2).sum() + (gb * gb.detach()).sum()
        results.append([t.detach().numpy() for t in lib.autograd.grad(penalty, (w, b))])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_double_backward_through_a_fused_op_sees_an_in_place_edit_of_its_input():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = FusedCube()(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ng.autograd.grad(y.sum(), x, create_graph=True)


def test_integer_outputs_carry_no_grad_fn():
    x = ng.tensor([1.0, 5.0, 2.0], requires_grad=True)
    idx = ArgMax()(x)
    assert idx.dtype == ng.int64 and idx.grad_fn is None and not idx.requires_grad


def test_next_functions_survive_backward_as_in_pytorch():
    """After backward frees what the nodes saved, the graph's shape is still readable."""
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x + 1).sum()
        y.backward()
        add = y.grad_fn.next_functions[0][0]
        mul = add.next_functions[0][0]
        assert add.name() == "AddBackward0" and mul.name() == "MulBackward0"
        assert len(mul.next_functions) == 2


def test_outputs_are_weak_references_and_inputs_strong():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert node.outputs[0]() is y and node.inputs[0] is x
    assert node.next_functions == ((None, 0),)
    z = y * 2
    assert z.grad_fn.next_functions[0] == (node, 0)
    del y, z
    gc.collect()
    assert node.outputs[0]() is None  # the node does not keep its output alive
    assert node.inputs[0] is x


def test_saved_output_of_a_dropped_output_is_rewrapped():
    """A multi-output node whose unused output was dropped still has that output's array."""

    class ExpAndNeg(Function):
        saves_outputs = True

        def forward(self, x):
            return np.exp(x), -x

        def backward(self, g_exp, g_neg):
            return g_exp * self.saved_output(0) - g_neg

    x = ng.tensor([0.0, 1.0], requires_grad=True)
    e, n = ExpAndNeg()(x)
    del e  # only `n` is used below; the node must still know exp(x) for its backward
    (n * 2).sum().backward()
    assert x.grad.tolist() == [-2.0, -2.0]
    x.grad = None
    e, n = ExpAndNeg()(x)
    ((e * 3).sum() + n.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.0, 1.0]) - 1, rtol=1e-6)


def test_engine_checks_what_backward_returns():
    class WrongShape(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy.sum()

    class Upcast(FusedFunction):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return (gy * 2).astype(np.float64)

    class TooMany(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy, gy

    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward0 returned a gradient of shape "
                                           r"\(\) for an input of shape \(2,\)"):
        WrongShape()(x).sum().backward()
    with pytest.raises(RuntimeError, match="TooManyBackward0 returned 2 gradients for 1 inputs"):
        TooMany()(x).sum().backward()
    with pytest.raises(RuntimeError, match="UpcastBackward0 returned a gradient of dtype "
                                           "numpy2gpt.float64 for an input of dtype "
                                           "numpy2gpt.float32"):
        Upcast()(x).sum().backward()


def test_backward_without_implementation_names_the_function():
    class NoBackward(Function):
        def forward(self, x):
            return x + 1

    with pytest.raises(NotImplementedError, match="NoBackwardBackward0 has no backward"):
        NoBackward()(ng.tensor([1.0], requires_grad=True)).sum().backward()


def test_grad_fn_name_attribute_overrides_the_default_name():
    class Twice(Function):
        grad_fn_name = "MulBackward0"

        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy

    y = Twice()(ng.tensor([1.0], requires_grad=True))
    assert repr(y.grad_fn) == "<MulBackward0>"
    y.sum().backward()
    assert repr(y.grad_fn) == "<MulBackward0>"  # the name survives freeing the node


def test_needs_input_grad_skips_constant_branches():
    calls = []

    class Spy(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            calls.append(self.needs_input_grad)
            a, b = self.saved_tensors
            return gy * b if self.needs_input_grad[0] else None, \
                gy * a if self.needs_input_grad[1] else None

    a = ng.tensor([2.0], requires_grad=True)
    b = ng.tensor([3.0])
    Spy()(a, b).sum().backward()
    assert calls == [(True, False)] and a.grad.tolist() == [3.0] and b.grad is None


def test_saved_output_version_is_checked():
    x = ng.tensor([0.5], requires_grad=True)
    y = x.tanh()  # Tanh saves its output
    loss = (y * 1.0).sum()
    with ng.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="has been modified by an inplace operation"):
        loss.backward()


def test_function_names_of_core_ops_match_torch():
    pairs = [
        (lambda t: t + t, "AddBackward0"), (lambda t: t * t, "MulBackward0"),
        (lambda t: t / 2, "DivBackward0"), (lambda t: t ** 2, "PowBackward0"),
        (lambda t: t.exp(), "ExpBackward0"), (lambda t: t.sum(), "SumBackward0"),
        (lambda t: t.reshape(4), "ViewBackward0"), (lambda t: t.permute(1, 0),
                                                    "PermuteBackward0"),
        (lambda t: t @ t, "MmBackward0"), (lambda t: t.double(), "ToCopyBackward0"),
        (lambda t: t.clone(), "CloneBackward0"), (lambda t: t.mean(0), "MeanBackward1"),
    ]
    for op, name in pairs:
        ours = op(ng.ones(2, 2, requires_grad=True))
        theirs = op(torch.ones(2, 2, requires_grad=True))
        assert ours.grad_fn.name() == name == type(theirs.grad_fn).__name__
