"""Module-level differences from PyTorch a differential fuzzer found: a convolution kernel with an
empty dim (PyTorch's error, not a silent bias-only output), Linear / Bilinear / flatten /
MultiheadAttention on inputs or outputs with no elements, the BCE losses' dtype with float64
weights, and fractional_max_pool3d's strict size check."""

import pytest
import torch

import numpy2gpt as ng

EXPRESSIONS = [
    "F.conv2d(T.randn(1, 3, 4, 4), T.randn(4, 3, 0, 0))",
    "F.conv2d(T.randn(1, 3, 4, 4), T.randn(4, 3, 2, 0))",
    "F.conv1d(T.randn(1, 3, 4), T.randn(4, 3, 0))",
    "F.conv3d(T.randn(1, 3, 4, 4, 4), T.randn(4, 3, 0, 1, 1))",
    "F.conv_transpose2d(T.randn(1, 3, 4, 4), T.randn(3, 4, 0, 0))",
    "T.nn.Conv2d(3, 4, 0)(T.randn(1, 3, 4, 4))",
    "T.zeros(0, 2, 3).flatten(1)",
    "T.nn.Flatten()(T.zeros(0, 2, 3))",
    "T.nn.MultiheadAttention(4, 2)(*[T.randn(3, 0, 4)] * 3)[0]",
    "T.nn.MultiheadAttention(4, 2)(*[T.randn(0, 2, 4)] * 3)[0]",
    "T.nn.TransformerEncoderLayer(4, 2)(T.randn(2, 0, 4))",
    "T.nn.Bilinear(2, 3, 0)(T.randn(2, 2), T.randn(2, 3))",
    "T.nn.Bilinear(2, 3, 4)(T.randn(0, 2), T.randn(0, 3))",
    "F.fractional_max_pool3d(T.randn(1, 1, 7, 5, 4), 2, output_size=(3, 1, 3))",
    "F.fractional_max_pool3d(T.randn(1, 1, 7, 5, 4), 2, output_size=(3, 1, 2))",
    "F.fractional_max_pool2d(T.randn(1, 1, 7, 5), 2, output_size=(6, 4))",
]


def _outcome(lib, expr):
    lib.manual_seed(0)
    try:
        y = eval(expr, {"T": lib, "F": lib.nn.functional})
        return tuple(y.shape), str(y.dtype).split(".")[-1]
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_same_shape_or_error(expr):
    assert _outcome(ng, expr) == _outcome(torch, expr)


def test_linear_with_no_outputs_has_zero_gradients():
    m = ng.nn.Linear(3, 0)
    x = ng.randn(2, 3, requires_grad=True)
    m(x).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2 and m.weight.grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_bce_keeps_the_inputs_dtype_with_float64_weights(name):
    def run(lib):
        lib.manual_seed(0)
        x, y, w = lib.randn(3, 4), lib.rand(3, 4), lib.rand(4, dtype=lib.float64)
        losses = [lib.nn.functional.binary_cross_entropy_with_logits(x, y, **{name: w})]
        if name == "weight":
            losses.append(lib.nn.functional.binary_cross_entropy(x.sigmoid(), y, weight=w))
        return [(str(v.dtype).split(".")[-1], round(v.item(), 5)) for v in losses]

    assert run(ng) == run(torch)
