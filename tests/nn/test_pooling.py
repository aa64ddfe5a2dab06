"""max / average / adaptive average pooling, 1-D and 2-D, functional and layers, against PyTorch:
values, indices, dtypes and gradients over kernel / stride / padding / dilation / ceil_mode
combinations, PyTorch's tie and NaN rules, double backward and errors."""

import itertools
import math

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, check_double_backward, rand, same_error

import numpy2gpt as ng


def _pool(lib, name, **kwargs):
    return lambda x: getattr(lib.nn.functional, name)(x, **kwargs)


def _valid(k, p, d):
    return p <= ((k - 1) * d + 1) // 2


MAX_CASES = [dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
             for k, s, p, d, c in itertools.product((1, 2, 3), (None, 2), (0, 1), (1, 2),
                                                    (False, True)) if _valid(k, p, d)]


@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_values_indices_and_grads(kwargs):
    for shape, dtype in (((2, 3, 7, 6), np.float64), ((3, 8, 5), np.float32)):
        check_against_torch(_pool(ng, "max_pool2d", return_indices=True, **kwargs),
                            _pool(torch, "max_pool2d", return_indices=True, **kwargs),
                            [rand(*shape).astype(dtype)])


@pytest.mark.parametrize("kwargs", MAX_CASES)
@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool1d_values_indices_and_grads(kwargs, return_indices):
    for shape, dtype in (((2, 3, 9), np.float64), ((3, 8), np.float32)):
        check_against_torch(_pool(ng, "max_pool1d", return_indices=return_indices, **kwargs),
                            _pool(torch, "max_pool1d", return_indices=return_indices, **kwargs),
                            [rand(*shape).astype(dtype)])


def test_max_pool_ties_nan_and_all_minus_inf_follow_pytorch():
    """Ties: the first maximum gets the gradient; NaN wins, the last NaN of a window; a window
    whose input is all -inf points at its first input element, never at the padding."""
    inf, nan = math.inf, math.nan
    rows = [[2.0, 2.0, 1.0, 2.0, 2.0, 0.0], [1.0, nan, 3.0, nan, 0.0, 5.0],
            [-inf, -inf, -inf, -inf, 1.0, -inf]]
    x = np.array([rows], dtype=np.float64)
    for k, p, d in ((2, 0, 1), (5, 0, 1), (3, 1, 1), (2, 1, 2)):
        kwargs = {"kernel_size": k, "stride": 1, "padding": p, "dilation": d}
        check_against_torch(_pool(ng, "max_pool1d", return_indices=True, **kwargs),
                            _pool(torch, "max_pool1d", return_indices=True, **kwargs), [x])
        kwargs = {"kernel_size": (1, k), "stride": 1, "padding": (0, p), "dilation": (1, d)}
        check_against_torch(_pool(ng, "max_pool2d", return_indices=True, **kwargs),
                            _pool(torch, "max_pool2d", return_indices=True, **kwargs),
                            [x.reshape(1, 1, 3, 6)])


def test_max_pool2d_integer_input_matches_torch():
    x = np.random.default_rng(0).integers(-9, 9, (2, 2, 5, 5))
    ours, theirs = (lib.nn.functional.max_pool2d(lib.tensor(x), 3, 2, 1, return_indices=True)
                    for lib in (ng, torch))
    for a, b in zip(ours, theirs):
        assert_close(a, b)


AVG_CASES = [dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
             for k, s, p, c, i in itertools.product((1, 2, 3), (None, 1, 2), (0, 1),
                                                    (False, True), (True, False))
             if _valid(k, p, 1)]


@pytest.mark.parametrize("kwargs", AVG_CASES)
def test_avg_pool_values_and_grads(kwargs):
    for name, shape, dtype in (("avg_pool2d", (2, 3, 7, 6), np.float64),
                               ("avg_pool2d", (3, 5, 8), np.float32),
                               ("avg_pool1d", (2, 3, 7), np.float64),
                               ("avg_pool1d", (3, 8), np.float32)):
        check_against_torch(_pool(ng, name, **kwargs), _pool(torch, name, **kwargs),
                            [rand(*shape).astype(dtype)])


@pytest.mark.parametrize("divisor", [3, -2])
def test_avg_pool2d_divisor_override_and_tuples(divisor):
    kwargs = {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "ceil_mode": True,
              "divisor_override": divisor}
    check_against_torch(_pool(ng, "avg_pool2d", **kwargs), _pool(torch, "avg_pool2d", **kwargs),
                        [rand(2, 3, 8, 5)])


def test_integer_avg_pool_rounds_toward_zero_like_torch():
    x = np.random.default_rng(0).integers(-9, 9, (2, 2, 5, 5))
    for name, kwargs in (("avg_pool2d", {"kernel_size": 2}),
                         ("avg_pool2d", {"kernel_size": 3, "padding": 1, "stride": 2}),
                         ("avg_pool1d", {"kernel_size": 3})):
        args = x[0] if name == "avg_pool1d" else x
        assert_close(*(getattr(lib.nn.functional, name)(lib.tensor(args), **kwargs)
                       for lib in (ng, torch)))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, (2, 3), (None, 4), (3, None)])
def test_adaptive_avg_pool_values_and_grads(size):
    for shape, dtype in (((2, 3, 7, 5), np.float64), ((3, 6, 5), np.float32)):
        check_against_torch(_pool(ng, "adaptive_avg_pool2d", output_size=size),
                            _pool(torch, "adaptive_avg_pool2d", output_size=size),
                            [rand(*shape).astype(dtype)])
    if not isinstance(size, tuple):
        for shape in ((2, 3, 7), (3, 5)):
            check_against_torch(_pool(ng, "adaptive_avg_pool1d", output_size=size),
                                _pool(torch, "adaptive_avg_pool1d", output_size=size),
                                [rand(*shape)])


@pytest.mark.parametrize("name,kwargs", [
    ("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool1d", {"kernel_size": 2, "dilation": 2}),
    ("avg_pool2d", {"kernel_size": 2, "padding": 1, "count_include_pad": False}),
    ("adaptive_avg_pool2d", {"output_size": (2, 3)}),
])
def test_pooling_double_backward_matches_torch(name, kwargs):
    shape = (2, 2, 7) if name == "max_pool1d" else (2, 2, 5, 7)
    check_double_backward(lambda x: _pool(ng, name, **kwargs)(x) ** 2,
                          lambda x: _pool(torch, name, **kwargs)(x) ** 2, rand(*shape))


def test_pooling_keeps_float32_and_names_grad_fns_like_torch():
    x = ng.randn(2, 3, 6, 6, requires_grad=True)
    for name, expected in (("max_pool2d", "MaxPool2DWithIndicesBackward0"),
                           ("avg_pool2d", "AvgPool2DBackward0"),
                           ("adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0")):
        y = getattr(ng.nn.functional, name)(x, 2)
        assert y.dtype == ng.float32 and y.grad_fn.name() == expected
        y.sum().backward()
        assert x.grad.dtype == ng.float32


POOL_ERRORS = [
    ("max_pool2d", (5, 5), {"kernel_size": 2}),
    ("max_pool2d", (1, 2, 4, 5, 5), {"kernel_size": 2}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 0}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 0, "stride": 1}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": -1}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": (2, 2, 2)}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "stride": (1, 1, 1)}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "padding": 2}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "padding": -1}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "dilation": 0}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 6}),
    ("max_pool2d", (2, 0, 5, 5), {"kernel_size": 2}),
    ("max_pool2d", (2, 4, 5, 5), {"kernel_size": 2.0}),
    ("max_pool1d", (7,), {"kernel_size": 2}),
    ("max_pool1d", (2, 4, 5, 5), {"kernel_size": 2}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 0}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 8}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 2, "padding": 2}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 2, "padding": -1}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 2, "stride": 0}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 2, "dilation": 0}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": (2, 2)}),
    ("max_pool1d", (2, 4, 7), {"kernel_size": 8, "return_indices": True}),
    ("max_pool1d", (2, 4, 5, 5), {"kernel_size": 2, "return_indices": True}),
    ("avg_pool2d", (5, 5), {"kernel_size": 2}),
    ("avg_pool2d", (2, 4, 5, 5), {"kernel_size": 0}),
    ("avg_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "padding": 2}),
    ("avg_pool2d", (2, 4, 5, 5), {"kernel_size": 6}),
    ("avg_pool2d", (2, 4, 5, 5), {"kernel_size": 2, "divisor_override": 0}),
    ("avg_pool2d", (2, 4, 5, 5), {"kernel_size": (2, 2, 2)}),
    ("avg_pool1d", (2, 4, 5, 5), {"kernel_size": 2}),
    ("avg_pool1d", (2, 4, 7), {"kernel_size": 0, "stride": 1}),
    ("avg_pool1d", (2, 4, 7), {"kernel_size": 8}),
    ("avg_pool1d", (2, 4, 7), {"kernel_size": (2, 2)}),
    ("adaptive_avg_pool2d", (5, 5), {"output_size": 2}),
    ("adaptive_avg_pool2d", (2, 4, 5, 5), {"output_size": -1}),
    ("adaptive_avg_pool2d", (2, 4, 5, 5), {"output_size": (1, 2, 3)}),
    ("adaptive_avg_pool2d", (2, 4, 0, 5), {"output_size": 2}),
    ("adaptive_avg_pool1d", (7,), {"output_size": 2}),
    ("adaptive_avg_pool1d", (2, 4, 7), {"output_size": (2, 2)}),
]


@pytest.mark.parametrize("name,shape,kwargs", POOL_ERRORS)
def test_pooling_errors_match_torch(name, shape, kwargs):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), **kwargs))


@pytest.mark.parametrize("name,kwargs,dtype", [
    ("max_pool1d", {"kernel_size": 2}, np.int64), ("max_pool1d", {"kernel_size": 2}, np.bool_),
    ("max_pool2d", {"kernel_size": 2}, np.bool_), ("avg_pool2d", {"kernel_size": 2}, np.int32),
    ("avg_pool1d", {"kernel_size": 2}, np.uint8), ("avg_pool2d", {"kernel_size": 2}, np.bool_),
    ("adaptive_avg_pool2d", {"output_size": 2}, np.int64),
    ("adaptive_avg_pool1d", {"output_size": 2}, np.int64)])
def test_pooling_dtype_errors_match_torch(name, kwargs, dtype):
    x = (rand(2, 3, 4, 4) > 0).astype(dtype)
    x = x[0] if name.endswith("1d") else x
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), **kwargs))


# ----- the layers --------------------------------------------------------------------------------
LAYERS = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": 1, "ceil_mode": True}),
    ("MaxPool2d", (2,), {"return_indices": True, "dilation": 2}),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "return_indices": True}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool2d", (2,), {"divisor_override": 3, "ceil_mode": True}),
    ("AvgPool1d", (3,), {"stride": 2, "ceil_mode": True}),
    ("AdaptiveAvgPool2d", ((None, 2),), {}),
    ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool1d", (4,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_pooling_layers_match_torch(name, args, kwargs):
    ours, theirs = getattr(ng.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert vars(theirs).keys() >= {"training"}
    for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
                 "count_include_pad", "divisor_override", "output_size"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
    shape = (2, 3, 7) if name.endswith("1d") else (2, 3, 7, 6)
    check_against_torch(ours, theirs, [rand(*shape)])
