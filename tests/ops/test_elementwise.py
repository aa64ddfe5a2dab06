"""Elementwise math (square exp log sqrt rsqrt sin cos tanh sigmoid relu abs) against PyTorch:
values and gradients in float64, gradcheck, second derivatives (create_graph) for the smooth ones,
integer promotion and numerical edge cases."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, run_gradcheck

import numpy2gpt as ng

# name -> input domain: "any" (standard normal, kept away from 0 for the kinked ones) or "pos"
UNARY = {"square": "any", "exp": "any", "log": "pos", "sqrt": "pos", "rsqrt": "pos",
         "sin": "any", "cos": "any", "tanh": "any", "sigmoid": "any", "relu": "any", "abs": "any"}
SMOOTH = ["square", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid"]


def _input(name, shape=(3, 4), seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    x = x + np.sign(x) * 0.1  # no exact zeros: relu and abs have a kink there
    return np.abs(x) + 0.2 if UNARY[name] == "pos" else x


@pytest.mark.parametrize("name", UNARY)
def test_unary_function_and_method_match_torch(name):
    x = _input(name)
    check_against_torch(getattr(ng, name), getattr(torch, name), [x])
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x])


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    assert run_gradcheck(getattr(ng, name), [_input(name, (2, 3))])


@pytest.mark.parametrize("name", UNARY)
def test_unary_float32_matches_torch(name):
    check_against_torch(getattr(ng, name), getattr(torch, name),
                        [_input(name).astype(np.float32)])


@pytest.mark.parametrize("name", SMOOTH)
def test_second_derivative_matches_torch(name):
    """Backward is built from differentiable ops, so d2y/dx2 comes from create_graph=True."""
    x_np = _input(name, (5,))
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (g,) = ng.autograd.grad(getattr(ng, name)(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(getattr(torch, name)(tx).sum(), tx, create_graph=True)
    assert_close(g, tg, 1e-10)
    (g2,) = ng.autograd.grad(g.sum(), x)
    (tg2,) = torch.autograd.grad(tg.sum(), tx)
    assert_close(g2, tg2, 1e-8)
    assert run_gradcheck(lambda t: ng.autograd.grad(getattr(ng, name)(t).sum(), t,
                                                    create_graph=True)[0], [x_np])


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_kinks_have_pytorchs_gradient_at_zero(name):
    x_np = np.array([-1.0, 0.0, 2.0])
    check_against_torch(getattr(ng, name), getattr(torch, name), [x_np])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh",
                                  "sigmoid"])
def test_integer_input_promotes_to_default_float(name):
    ours = getattr(ng, name)(ng.tensor([1, 2, 3]))
    theirs = getattr(torch, name)(torch.tensor([1, 2, 3]))
    assert ours.dtype == ng.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["square", "relu", "abs"])
def test_integer_input_keeps_integer_dtype(name):
    ours = getattr(ng, name)(ng.tensor([-2, 0, 3]))
    theirs = getattr(torch, name)(torch.tensor([-2, 0, 3]))
    assert ours.dtype == ng.int64 and ours.tolist() == theirs.tolist()


def test_sigmoid_is_stable_for_large_inputs():
    x_np = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):  # no overflow inside
        check_against_torch(ng.sigmoid, torch.sigmoid, [x_np])
        check_against_torch(ng.sigmoid, torch.sigmoid, [x_np.astype(np.float32)])


def test_log_and_sqrt_domain_edges_match_torch():
    x_np = np.array([0.0, 1.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in ("log", "sqrt", "rsqrt"):
            ours = getattr(ng, name)(ng.tensor(x_np))
            np.testing.assert_array_equal(ours.numpy(), getattr(torch, name)(
                torch.tensor(x_np)).numpy())


@pytest.mark.parametrize("name,grad_fn", [("exp", "ExpBackward0"), ("log", "LogBackward0"),
                                          ("sqrt", "SqrtBackward0"), ("tanh", "TanhBackward0"),
                                          ("sigmoid", "SigmoidBackward0"),
                                          ("relu", "ReluBackward0"), ("square", "PowBackward0"),
                                          ("rsqrt", "RsqrtBackward0"), ("abs", "AbsBackward0")])
def test_grad_fn_names(name, grad_fn):
    y = getattr(ng, name)(ng.tensor([1.0, 2.0], requires_grad=True))
    assert repr(y.grad_fn) == f"<{grad_fn}>"
    ty = getattr(torch, name)(torch.tensor([1.0, 2.0], requires_grad=True))
    assert type(ty.grad_fn).__name__ == grad_fn


def test_abs_operator():
    x = ng.tensor([-1.5, 2.0], requires_grad=True)
    abs(x).sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_relu_and_abs_gradients_stay_functions_of_x_like_pytorchs(name):
    """Under create_graph their gradient is still a node on x (PyTorch's
    ThresholdBackwardBackward0, MulBackward0), so differentiating it again gives zeros, not
    "does not require grad"; NaN passes relu's gradient, as in PyTorch."""
    results = []
    for lib in (ng, torch):
        x = lib.tensor([1.0, -2.0, 0.0, np.nan], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib, name)(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().tolist(), g.requires_grad,
                        lib.zeros(4, dtype=lib.float64).add(g2).tolist()))
    np.testing.assert_equal(results[0], results[1])
