"""Grad mode: no_grad / enable_grad / set_grad_enabled / inference_mode as context managers and
as decorators (with and without parentheses), is_grad_enabled, thread-locality, and the rule
"a result requires grad iff grad mode is on and some input requires grad" over the core ops."""

import threading

import pytest
import torch

import numpy2gpt as ng


def test_context_managers_set_and_restore_the_mode():
    assert ng.is_grad_enabled()
    with ng.no_grad():
        assert not ng.is_grad_enabled()
        with ng.enable_grad():
            assert ng.is_grad_enabled()
        assert not ng.is_grad_enabled()
        with ng.set_grad_enabled(True):
            assert ng.is_grad_enabled()
        assert not ng.is_grad_enabled()
    assert ng.is_grad_enabled()
    with ng.inference_mode():
        assert not ng.is_grad_enabled()
    with ng.inference_mode(False):  # like PyTorch: gradients on (here they already are)
        assert ng.is_grad_enabled()
    with ng.set_grad_enabled(False):
        assert not ng.is_grad_enabled()
    assert ng.is_grad_enabled()


def test_mode_is_restored_when_the_block_raises():
    with pytest.raises(ValueError):
        with ng.no_grad():
            raise ValueError
    assert ng.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call_acts_immediately():
    ng.set_grad_enabled(False)
    assert not ng.is_grad_enabled()
    ng.set_grad_enabled(True)
    assert ng.is_grad_enabled()


def _probe():
    return ng.is_grad_enabled()


@pytest.mark.parametrize("decorator,expected", [
    (ng.no_grad(), False), (ng.no_grad, False), (ng.enable_grad(), True), (ng.enable_grad, True),
    (ng.inference_mode(), False), (ng.inference_mode, False), (ng.inference_mode(True), False),
    (ng.set_grad_enabled(False), False), (ng.set_grad_enabled(True), True),
], ids=["no_grad()", "no_grad", "enable_grad()", "enable_grad", "inference_mode()",
        "inference_mode", "inference_mode(True)", "set_grad_enabled(False)",
        "set_grad_enabled(True)"])
def test_decorators(decorator, expected):
    assert ng.is_grad_enabled()  # building the decorator did not change the mode
    wrapped = decorator(_probe)
    assert wrapped.__name__ == "_probe"  # functools.wraps
    for outer in (ng.enable_grad, ng.no_grad):
        with outer():
            before = ng.is_grad_enabled()
            assert wrapped() is expected
            assert ng.is_grad_enabled() is before


def test_enable_grad_decorator_inside_no_grad():
    @ng.enable_grad()
    def f(x):
        return x * 2

    x = ng.tensor([1.0], requires_grad=True)
    with ng.no_grad():
        assert f(x).requires_grad and not (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    seen = []
    with ng.no_grad():
        t = threading.Thread(target=lambda: seen.append(ng.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
    "neg": lambda a, b: -a, "exp": lambda a, b: a.exp(), "log": lambda a, b: a.log(),
    "sqrt": lambda a, b: a.sqrt(), "rsqrt": lambda a, b: a.rsqrt(), "sin": lambda a, b: a.sin(),
    "cos": lambda a, b: a.cos(), "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(), "relu": lambda a, b: a.relu(),
    "abs": lambda a, b: a.abs(), "square": lambda a, b: a.square(),
    "sum": lambda a, b: a.sum(0), "mean": lambda a, b: a.mean(),
    "reshape": lambda a, b: a.reshape(4), "view": lambda a, b: a.view(-1),
    "flatten": lambda a, b: a.flatten(), "transpose": lambda a, b: a.transpose(0, 1),
    "permute": lambda a, b: a.permute(1, 0), "T": lambda a, b: a.T,
    "expand": lambda a, b: a.expand(3, 2, 2), "clone": lambda a, b: a.clone(),
    "to": lambda a, b: a.double(),
}


@pytest.mark.parametrize("name", OPS)
def test_result_requires_grad_iff_grad_mode_and_an_input_requires_grad(name):
    op = OPS[name]
    for mode in (True, False):
        for a_rg in (True, False):
            for b_rg in (True, False):
                a = ng.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=a_rg)
                b = ng.tensor([[0.5, 1.5], [2.0, 1.0]], requires_grad=b_rg)
                with ng.set_grad_enabled(mode):
                    y = op(a, b)
                uses_b = name in ("add", "sub", "mul", "div", "pow", "matmul")
                expected = mode and (a_rg or (uses_b and b_rg))
                assert y.requires_grad is expected, (mode, a_rg, b_rg)
                assert (y.grad_fn is not None) is expected


def test_is_inference_mode_enabled_like_pytorch():
    """True inside inference_mode() (also under no_grad inside it), False inside
    inference_mode(False) and after the block; the decorator too."""
    seen = []
    for lib in (ng, torch):
        r = [lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            r.append(lib.is_inference_mode_enabled())
            with lib.inference_mode(False):
                r.append(lib.is_inference_mode_enabled())
            with lib.no_grad():
                r.append(lib.is_inference_mode_enabled())
            r.append(lib.is_inference_mode_enabled())
        r.append(lib.is_inference_mode_enabled())
        r.append(lib.inference_mode()(lib.is_inference_mode_enabled)())
        seen.append(r)
    assert seen[0] == seen[1] == [False, True, False, True, True, False, True]
