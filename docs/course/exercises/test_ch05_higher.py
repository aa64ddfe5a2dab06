"""Tests of the chapter 05 exercise: `pytest docs/course/exercises -k ch05`."""

import math

import pytest
from ch05_higher import newton_minimize, nth_derivative

import numpy2gpt as torch


@pytest.mark.parametrize("n, expected", [(1, math.cos(0.7)), (2, -math.sin(0.7)),
                                         (3, -math.cos(0.7)), (5, math.cos(0.7))])
def test_derivatives_of_sin(n, expected):
    assert nth_derivative(torch.sin, 0.7, n) == pytest.approx(expected, rel=1e-12)


def test_derivatives_of_a_polynomial():
    def p(x):
        return x ** 4 - 3 * x ** 2 + x
    assert [nth_derivative(p, 2.0, n) for n in (1, 2, 3, 4)] == pytest.approx([21, 42, 48, 24])


def test_second_derivative_of_tanh():
    t = math.tanh(0.4)
    assert nth_derivative(torch.tanh, 0.4, 2) == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)


def test_newton_finds_the_minimum():
    def f(x):
        return x ** 4 - 2 * x ** 2
    assert newton_minimize(f, 2.0, 6) == pytest.approx(1.0, abs=1e-9)
    assert newton_minimize(f, -1.8, 8) == pytest.approx(-1.0, abs=1e-9)


def test_newton_takes_exactly_the_steps_asked():
    def f(x):
        return x ** 4 - 2 * x ** 2
    assert newton_minimize(f, 2.0, 1) == pytest.approx(16 / 11, rel=1e-12)
