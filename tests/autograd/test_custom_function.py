"""PyTorch's custom-Function API (static forward(ctx, ...) and backward(ctx, ...), Fn.apply),
each case run on numpy2gpt and on real PyTorch with the same class body."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def make_exp(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            y = (x * scale).exp()
            ctx.save_for_backward(y)
            ctx.scale = scale
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y * ctx.scale, None  # no gradient for the number `scale`

    return MyExp


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_custom_function_gives_its_backward_and_is_differentiable_twice(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = make_exp(lib).apply(x, 2.0)
    assert type(y.grad_fn).__name__ != "" and y.grad_fn.name() == "MyExpBackward"
    assert y.requires_grad and not y.is_leaf
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)  # 2 exp(2x)
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.exp(2 * np.array([0.5, -1.0, 2.0])))
    g.sum().backward()  # the backward was recorded: d/dx of 2 exp(2x) is 4 exp(2x)
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(2 * np.array([0.5, -1.0, 2.0])))
    with lib.no_grad():
        assert make_exp(lib).apply(x, 1.0).grad_fn is None


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_setup_context_style_needs_input_grad_and_non_differentiable_outputs(lib):
    class SortValues(lib.autograd.Function):
        @staticmethod
        def forward(x, w):
            values, order = (x * w).sort()
            return values, order

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w = inputs
            ctx.save_for_backward(x, w, output[1])
            ctx.mark_non_differentiable(output[1])
            ctx.seen = ctx.needs_input_grad

        @staticmethod
        def backward(ctx, g_values, g_order):
            x, w, order = ctx.saved_tensors
            g = lib.zeros_like(g_values).scatter(0, order, g_values)
            return g * w if ctx.needs_input_grad[0] else None, g * x

    x = lib.tensor([3.0, 1.0, 2.0], requires_grad=True)
    w = lib.tensor([1.0, 2.0, 0.5])
    values, order = SortValues.apply(x, w)
    assert not order.requires_grad and values.requires_grad and order.tolist() == [2, 1, 0]
    (values * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 20.0, 0.5] and w.grad is None
    assert values.grad_fn.name() == "SortValuesBackward"


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_saved_tensor_edited_in_place_is_caught_at_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = make_exp(lib).apply(x, 1.0)
    with lib.no_grad():
        y.mul_(2)  # y was saved for backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_wrong_number_of_gradients_is_pytorchs_error(lib):
    class TooFew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients \(expected "
                                           r"2, got 1\)"):
        TooFew.apply(a, b).sum().backward()


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_an_input_returned_as_is_becomes_a_new_output(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return 3 * g

    x = lib.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_once_differentiable_runs_the_backward_unrecorded(lib):
    from importlib import import_module

    once_differentiable = import_module(lib.__name__ + ".autograd.function").once_differentiable

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = lib.tensor([1.5, -2.0], requires_grad=True)
    Square.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, -4.0]


def test_forward_may_return_non_tensors_beside_tensors_as_in_torch():
    """They come back as they are, and backward gets None in their places."""
    results = []
    for lib in (ng, torch):
        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2, "three", x * x

            @staticmethod
            def backward(ctx, g1, g2, g3):
                (x,) = ctx.saved_tensors
                assert g2 is None
                return g1 * 2 + g3 * 2 * x

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, label, b = Mixed.apply(x)
        (a.sum() + 3 * b.sum()).backward()
        results.append((label, a.tolist(), b.tolist(), x.grad.tolist()))
    assert results[0] == results[1] == ("three", [2.0, 4.0], [1.0, 4.0], [8.0, 14.0])
