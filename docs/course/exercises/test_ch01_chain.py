"""Tests of the chapter 01 exercise: `pytest docs/course/exercises -k ch01`."""

import math

import pytest
from ch01_chain import chain_grad, numerical_diff

import numpy2gpt as torch


def test_numerical_diff_of_a_square():
    assert numerical_diff(lambda x: x * x, 3.0) == pytest.approx(6.0, abs=1e-6)


def test_numerical_diff_is_central():
    # a one-sided difference gives 3.0301 here; the central one 3.0001
    assert numerical_diff(lambda x: x ** 3, 1.0, eps=1e-2) == pytest.approx(3.0001, abs=1e-9)


def test_chain_grad_of_one_step():
    y, dy = chain_grad([(math.exp, math.exp)], 0.0)
    assert (y, dy) == (1.0, 1.0)


def test_chain_grad_matches_autograd():
    steps = [(math.sin, math.cos), (lambda a: 3 * a, lambda a: 3.0),
             (math.tanh, lambda a: 1 - math.tanh(a) ** 2), (lambda a: a * a, lambda a: 2 * a)]
    for x0 in (-1.0, 0.3, 2.0):
        y, dy = chain_grad(steps, x0)
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        out = torch.tanh(torch.sin(x) * 3) ** 2
        out.backward()
        assert y == pytest.approx(out.item(), rel=1e-12)
        assert dy == pytest.approx(x.grad.item(), rel=1e-12)


def test_chain_grad_uses_each_steps_own_input():
    # exp then square: y = e^(2x), dy/dx = 2 e^(2x); evaluating a derivative at the wrong
    # intermediate value (or in the wrong order) gives another number
    y, dy = chain_grad([(math.exp, math.exp), (lambda a: a * a, lambda a: 2 * a)], 0.5)
    assert y == pytest.approx(math.e, rel=1e-12)
    assert dy == pytest.approx(2 * math.e, rel=1e-12)
