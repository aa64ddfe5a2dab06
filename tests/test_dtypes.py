"""dtypes: names and aliases, normalisation errors, and the rule that float32 stays float32
through every core op and its gradients (first and second order) - no silent float64."""

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch

import numpy2gpt as ng
from numpy2gpt import dtypes


def test_dtype_names_and_aliases_match_torch():
    for name in ["float16", "float32", "float64", "int32", "int64", "bool", "long", "float",
                 "double", "half", "int", "short", "int8", "int16", "uint8"]:
        ours, theirs = getattr(ng, name), getattr(torch, name)
        assert str(ours) == str(theirs).replace("torch.", ""), name
    assert ng.float32 == np.dtype("float32")  # numpy2gpt dtypes are NumPy dtypes
    assert isinstance(ng.float32, ng.dtype)
    assert dtypes.dtype_name(ng.int64) == "numpy2gpt.int64"
    assert dtypes.is_floating(ng.float16) and not dtypes.is_floating(ng.int32)


def test_to_dtype_normalises_and_rejects():
    assert dtypes.to_dtype("float64") == ng.float64 and dtypes.to_dtype(np.float32) == ng.float32
    assert dtypes.to_dtype(None) is None
    with pytest.raises(TypeError, match="unknown dtype 'fp32'; expected one of numpy2gpt.float16"):
        dtypes.to_dtype("fp32")
    with pytest.raises(TypeError, match="unsupported dtype"):
        dtypes.to_dtype(np.complex64)


def test_default_dtype():
    assert ng.get_default_dtype() == ng.float32
    ng.set_default_dtype(ng.float64)
    assert ng.get_default_dtype() == ng.float64 and ng.tensor(1.5).dtype == ng.float64
    with pytest.raises(TypeError, match="only floating-point types are supported as the default "
                                        "type, got numpy2gpt.int32"):
        ng.set_default_dtype(ng.int32)


# ----- float32 stays float32: every core op, its gradients and second derivatives ---------------
A = np.array([[0.6, -1.2, 0.9], [1.4, 0.3, -0.7]])
B = np.array([[0.5, 1.1, -0.4], [0.8, -1.3, 0.2]])
V = np.array([0.7, -0.2, 1.5])
M = np.array([[0.1, 0.4], [-0.3, 0.9], [0.5, -0.6]])
POS = np.abs(A) + 0.5

CORE_OPS = {  # name: (op on one library's tensors, input arrays)
    "add": (lambda a, b: a + b, [A, V]), "sub": (lambda a, b: a - b, [A, B]),
    "mul": (lambda a, b: a * b, [A, V]), "div": (lambda a, b: a / b, [A, POS]),
    "radd": (lambda a: 2.5 + a, [A]), "rsub": (lambda a: 1 - a, [A]),
    "rmul": (lambda a: 0.5 * a, [A]), "rdiv": (lambda a: 2 / a, [POS]),
    "neg": (lambda a: -a, [A]), "pow_scalar": (lambda a: a ** 3, [A]),
    "pow_float": (lambda a: a ** 1.5, [POS]), "pow_tensor": (lambda a, b: a ** b, [POS, B]),
    "rpow": (lambda a: 2.0 ** a, [A]), "square": (lambda a: a.square(), [A]),
    "exp": (lambda a: a.exp(), [A]), "log": (lambda a: a.log(), [POS]),
    "sqrt": (lambda a: a.sqrt(), [POS]), "rsqrt": (lambda a: a.rsqrt(), [POS]),
    "sin": (lambda a: a.sin(), [A]), "cos": (lambda a: a.cos(), [A]),
    "tanh": (lambda a: a.tanh(), [A]), "sigmoid": (lambda a: a.sigmoid(), [A]),
    "relu": (lambda a: a.relu(), [A]), "abs": (lambda a: a.abs(), [A]),
    "sum": (lambda a: a.sum(), [A]), "sum_dim": (lambda a: a.sum((0, -1), keepdim=True), [A]),
    "mean": (lambda a: a.mean(), [A]), "mean_dim": (lambda a: a.mean(-1), [A]),
    "reshape": (lambda a: a.reshape(3, 2), [A]), "view": (lambda a: a.view(-1), [A]),
    "flatten": (lambda a: a.flatten(), [A]), "transpose": (lambda a: a.transpose(0, 1), [A]),
    "permute": (lambda a: a.permute(1, 0), [A]), "T": (lambda a: a.T, [A]),
    "matmul": (lambda a, m: a @ m, [A, M]), "matvec": (lambda a, v: a @ v, [A, V]),
    "expand": (lambda v: v.expand(2, 3), [V]), "broadcast_to": (lambda v: v.broadcast_to(
        (4, 3)), [V]), "clone": (lambda a: a.clone(), [A]),
}
SECOND_ORDER = ["mul", "div", "pow_scalar", "pow_float", "pow_tensor", "rpow", "exp", "log",
                "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "matmul", "square", "rdiv"]


@pytest.mark.parametrize("name", CORE_OPS)
def test_float32_stays_float32_and_matches_torch(name):
    op, arrays = CORE_OPS[name]
    arrays = [a.astype(np.float32) for a in arrays]
    ours, _, leaves, _ = check_against_torch(op, op, arrays)  # rtol 1e-5 for float32
    assert ours[0].dtype == ng.float32
    for leaf in leaves:
        assert leaf.grad.dtype == ng.float32


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_float32_second_derivatives_stay_float32(name):
    op, arrays = CORE_OPS[name]
    xs = [ng.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    txs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    gs = ng.autograd.grad(op(*xs).sum(), xs, create_graph=True)
    tgs = torch.autograd.grad(op(*txs).sum(), txs, create_graph=True)
    g2s = ng.autograd.grad(sum((g * g).sum() for g in gs), xs)
    tg2s = torch.autograd.grad(sum((g * g).sum() for g in tgs), txs)
    for g, tg, g2, tg2 in zip(gs, tgs, g2s, tg2s):
        assert g.dtype == ng.float32 and g2.dtype == ng.float32
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g2.numpy(), tg2.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", CORE_OPS)
def test_float64_is_kept_too(name):
    op, arrays = CORE_OPS[name]
    ours, *_ = check_against_torch(op, op, arrays)
    assert ours[0].dtype == ng.float64
