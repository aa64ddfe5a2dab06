"""Tests of the chapter 02 exercise: `pytest docs/course/exercises -k ch02`."""

import pytest
from ch02_order import backward_order, grad

import numpy2gpt as torch


def _leaf(v):
    return torch.tensor(v, dtype=torch.float64, requires_grad=True)


def _residual(x):
    a = x ** 2
    return a + torch.exp(torch.exp(a))


def _consumers_first(order):
    position = {fn: i for i, fn in enumerate(order)}
    return all(position[creator] > position[fn]
               for fn in order for creator, _ in fn.next_functions if creator is not None)


def test_order_of_the_residual_graph():
    y = _residual(_leaf(0.5))
    order = backward_order(y)
    assert order[0] is y.grad_fn and len(order) == 4 and len(set(order)) == 4
    assert order[-1].name() == "PowBackward0"  # it waits for both of its consumers
    assert _consumers_first(order)


def test_order_of_a_deep_ladder():
    # every rung reuses the previous value twice: many paths, each node once
    x = _leaf(0.1)
    h = x
    for _ in range(8):
        h = h * 0.5 + torch.tanh(h)
    order = backward_order(h)
    assert len(order) == len(set(order)) == 8 * 3 and _consumers_first(order)


@pytest.mark.parametrize("x0", [-1.5, 0.5, 2.0])
def test_grad_of_the_residual_graph(x0):
    x = _leaf(x0)
    y = _residual(x)
    (expected,) = torch.autograd.grad(_residual(x), x)
    assert grad(y, x) == pytest.approx(expected.item(), rel=1e-12)


def test_grad_with_two_leaves():
    x, w = _leaf(0.7), _leaf(-1.3)
    y = torch.sin(x * w) * x + w * w
    gx, gw = torch.autograd.grad(torch.sin(x * w) * x + w * w, (x, w))
    assert grad(y, x) == pytest.approx(gx.item(), rel=1e-12)
    assert grad(y, w) == pytest.approx(gw.item(), rel=1e-12)
