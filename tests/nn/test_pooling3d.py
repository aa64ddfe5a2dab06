"""max / average pooling in 3-D, adaptive max pooling (1-D, 2-D, 3-D), adaptive average pooling in
3-D, Lp pooling and local_response_norm, functional and layers, against PyTorch: values, indices,
dtypes and gradients (float32 and float64), PyTorch's tie / NaN / all-padding rules, gradcheck,
double backward and errors."""

import itertools
import math

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    check_against_torch,
    check_double_backward,
    rand,
    run_gradcheck,
    same_error,
)

import numpy2gpt as ng


def _pool(lib, name, *args, **kwargs):
    return lambda x: getattr(lib.nn.functional, name)(x, *args, **kwargs)


def _both(name, arrays, *args, **kwargs):
    """The op on numpy2gpt and on torch: values, indices and gradients for every array."""
    for x in arrays:
        check_against_torch(_pool(ng, name, *args, **kwargs), _pool(torch, name, *args, **kwargs),
                            [x])


MAX3D_CASES = [dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
               for k, s, p, d, c in itertools.product((1, 2, 3), (None, 2), (0, 1), (1, 2),
                                                      (False, True)) if p <= k // 2]


@pytest.mark.parametrize("kwargs", MAX3D_CASES)
def test_max_pool3d_values_indices_and_grads(kwargs):
    _both("max_pool3d", [rand(2, 2, 5, 5, 6), rand(2, 5, 6, 5).astype(np.float32)],
          return_indices=True, **kwargs)


def test_max_pool3d_tuple_arguments_and_integer_input():
    kwargs = {"kernel_size": (3, 1, 2), "stride": (1, 2, 3), "padding": (1, 0, 1),
              "dilation": (2, 1, 1), "ceil_mode": True, "return_indices": True}
    _both("max_pool3d", [rand(2, 2, 7, 5, 8)], **kwargs)
    x = np.random.default_rng(0).integers(-9, 9, (2, 2, 4, 5, 6))
    for dtype in (np.int64, np.int32):
        ours, theirs = (lib.nn.functional.max_pool3d(lib.tensor(x.astype(dtype)), 3, 2, 1,
                                                     return_indices=True) for lib in (ng, torch))
        for a, b in zip(ours, theirs):
            assert_close(a, b)


AVG3D_CASES = [dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
               for k, s, p, c, i in itertools.product((1, 2, 3), (None, 2), (0, 1),
                                                      (False, True), (True, False))
               if p <= k // 2]


@pytest.mark.parametrize("kwargs", AVG3D_CASES)
def test_avg_pool3d_values_and_grads(kwargs):
    _both("avg_pool3d", [rand(2, 2, 5, 4, 6), rand(2, 5, 6, 4).astype(np.float32)], **kwargs)


@pytest.mark.parametrize("divisor", [3, -2])
def test_avg_pool3d_divisor_override_tuples_and_integers(divisor):
    kwargs = {"kernel_size": (3, 2, 1), "stride": (2, 1, 2), "padding": (1, 0, 0),
              "ceil_mode": True, "divisor_override": divisor}
    _both("avg_pool3d", [rand(2, 3, 6, 5, 4)], **kwargs)
    x = np.random.default_rng(0).integers(-9, 9, (2, 2, 4, 5, 6))
    assert_close(*(lib.nn.functional.avg_pool3d(lib.tensor(x), **kwargs) for lib in (ng, torch)))
    assert_close(*(lib.nn.functional.avg_pool2d(lib.tensor(x[0]), 2, divisor_override=divisor)
                   for lib in (ng, torch)))


SIZES_3D = [1, 2, 3, 5, 7, (2, None, 3), (None, 1, 4)]


@pytest.mark.parametrize("size", SIZES_3D)
def test_adaptive_pool3d_values_indices_and_grads(size):
    arrays = [rand(2, 2, 5, 6, 7), rand(3, 6, 5, 4).astype(np.float32)]
    _both("adaptive_avg_pool3d", arrays, size)
    _both("adaptive_max_pool3d", arrays, size, return_indices=True)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, (None, 2), (3, None), (4, 2)])
def test_adaptive_max_pool1d_2d_values_indices_and_grads(size):
    _both("adaptive_max_pool2d", [rand(2, 3, 7, 5), rand(3, 6, 5).astype(np.float32)], size,
          return_indices=True)
    if not isinstance(size, tuple):
        for return_indices in (False, True):
            _both("adaptive_max_pool1d", [rand(2, 3, 7), rand(3, 5).astype(np.float32)], size,
                  return_indices)


def test_output_size_zero_and_empty_batch_match_torch():
    for name, shape, args in (("adaptive_avg_pool3d", (2, 3, 4, 4, 4), (0,)),
                              ("adaptive_max_pool3d", (2, 3, 4, 4, 4), (0, True)),
                              ("adaptive_max_pool1d", (3, 4), (0, True)),
                              ("adaptive_max_pool2d", (0, 3, 4, 4), (2, True)),
                              ("max_pool3d", (0, 2, 4, 4, 4), (2, None, 0, 1, False, True)),
                              ("avg_pool3d", (0, 2, 4, 4, 4), (2,))):
        x = rand(*shape)
        ours, theirs = (getattr(lib.nn.functional, name)(lib.tensor(x), *args)
                        for lib in (ng, torch))
        for a, b in zip(*(r if isinstance(r, tuple) else (r,) for r in (ours, theirs))):
            assert_close(a, b)


def test_max_pools_ties_nan_and_infinity_follow_pytorch():
    """The first maximum of a tie gets the gradient; the window's last NaN wins; a window of
    -inf points at its first element."""
    inf, nan = math.inf, math.nan
    row = [2.0, 2.0, 1.0, nan, 0.0, nan, -inf, -inf, -inf, -inf, 3.0, 3.0]
    x = np.array(row * 2).reshape(1, 1, 2, 3, 4)
    _both("max_pool3d", [x], 2, 1, 1, return_indices=True)
    _both("max_pool3d", [x], (1, 2, 2), 1, return_indices=True)
    for size in (1, 2, 3, (2, 3, 2)):
        _both("adaptive_max_pool3d", [x], size, return_indices=True)
    _both("adaptive_max_pool2d", [x[0, 0]], (2, 3), return_indices=True)
    _both("adaptive_max_pool1d", [x[0, 0, 0]], 3, return_indices=True)


def test_avg_pools_with_inf_and_nan_follow_pytorch():
    x = rand(1, 2, 4, 5, 6)
    x[0, 0, 1, 2, 3], x[0, 1, 0, 0, 0], x[0, 1, 3, 4, 5] = math.inf, math.nan, -math.inf
    _both("avg_pool3d", [x], 2, 1, 1)
    _both("adaptive_avg_pool3d", [x], (3, 2, 4))


@pytest.mark.parametrize("name,shape,args", [
    ("max_pool1d", (2, 1), (2, 1, 1, 2)), ("max_pool1d", (2, 2), (2, 1, 1, 3)),
    ("max_pool1d", (2, 1), (2, 2, 1, 3, True)),
    ("max_pool2d", (2, 1, 1), ((1, 2), 1, (0, 1), (1, 2))),
    ("max_pool3d", (2, 1, 1, 1), ((1, 1, 2), 1, (0, 0, 1), (1, 1, 2)))])
def test_max_pool_window_of_padding_only_indexes_like_pytorch(name, shape, args):
    """A window that covers only padding: value -inf, and PyTorch's index, the window's first
    position at or after the input's start in every dim (here past the input's end). Its
    gradient is dropped: PyTorch adds it at that index, outside the plane (into the next plane's
    memory)."""
    x = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    ours, theirs = (getattr(lib.nn.functional, name)(lib.tensor(x), *args, return_indices=True)
                    for lib in (ng, torch))
    padding_only = np.isneginf(theirs[0].numpy())
    assert padding_only.any()
    for a, b in zip(ours, theirs):
        assert_close(a, b)
    grads = []
    for lib, upstream in ((ng, padding_only), (torch, ~padding_only), (ng, ~padding_only)):
        leaf = lib.tensor(x, requires_grad=True)
        y, _ = getattr(lib.nn.functional, name)(leaf, *args, return_indices=True)
        y.backward(lib.tensor(upstream.astype(np.float64)))
        grads.append(leaf.grad.numpy())
    assert not grads[0].any()
    assert_close(grads[2], grads[1])


# ----- Lp pooling --------------------------------------------------------------------------------
LP_CASES = [("lp_pool1d", (2, 3, 9), 3, {}), ("lp_pool1d", (3, 8), 2, {"stride": 3}),
            ("lp_pool2d", (2, 3, 7, 6), (2, 3), {"stride": (1, 2), "ceil_mode": True}),
            ("lp_pool2d", (3, 6, 5), 2, {}),
            ("lp_pool3d", (2, 2, 5, 4, 6), (2, 1, 3), {"ceil_mode": True}),
            ("lp_pool3d", (2, 5, 4, 6), 2, {"stride": (1, 2, 3)})]


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, math.inf, -math.inf])
@pytest.mark.parametrize("name,shape,kernel,kwargs", LP_CASES)
def test_lp_pool_values_and_grads(name, shape, kernel, kwargs, norm_type):
    x = rand(*shape)
    if norm_type == 3.5:
        x = np.abs(x)  # a fractional power of a negative number is NaN on both sides
    _both(name, [x, x.astype(np.float32)], norm_type, kernel, **kwargs)


@pytest.mark.parametrize("name,shape,kernel", [(n, s, k) for n, s, k, _ in LP_CASES[::2]])
def test_lp_pool_zero_and_negative_windows_follow_pytorch(name, shape, kernel):
    """A window of zeros (sum 0) and one whose sum of x^p is negative: PyTorch's composition
    gives 0 there, and its gradients (NaN or 0) are what autograd makes of it."""
    x = rand(*shape)
    x[..., :4] = 0.0
    x[..., -1] = -5.0
    for p in (1, 2, 3):
        _both(name, [x, x.astype(np.float32)], p, kernel)


def test_lp_pool_gradcheck_and_layers():
    assert run_gradcheck(lambda t: ng.nn.functional.lp_pool2d(t, 2, 2), [np.abs(rand(1, 2, 4, 4))
                                                                         + 0.1])
    for name, args in (("LPPool1d", (2, 3)), ("LPPool2d", (1.5, (2, 3), 1)),
                       ("LPPool3d", (3, 2, None, True))):
        ours, theirs = getattr(ng.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        for attr in ("norm_type", "kernel_size", "stride", "ceil_mode"):
            assert getattr(ours, attr) == getattr(theirs, attr)
        shape = {"LPPool1d": (2, 3, 7), "LPPool2d": (2, 3, 6, 7), "LPPool3d": (2, 2, 5, 4, 6)}
        check_against_torch(ours, theirs, [np.abs(rand(*shape[name]))])


# ----- local_response_norm -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 6, 3, 4), (1, 4, 2, 3, 2), (2, 3, 2, 1, 2, 2)])
@pytest.mark.parametrize("size,alpha,beta,k", [(1, 1e-4, 0.75, 1.0), (2, 0.5, 0.75, 1.0),
                                               (3, 1.0, 0.5, 2.0), (7, 0.3, 1.2, 0.5)])
def test_local_response_norm_values_and_grads(shape, size, alpha, beta, k):
    x = rand(*shape)
    for dtype in (np.float64, np.float32):
        check_against_torch(
            lambda t: ng.nn.functional.local_response_norm(t, size, alpha, beta, k),
            lambda t: torch.nn.functional.local_response_norm(t, size, alpha, beta, k),
            [x.astype(dtype)])


def test_local_response_norm_layer_gradcheck_integers_and_empty():
    ours, theirs = ng.nn.LocalResponseNorm(3, beta=0.5), torch.nn.LocalResponseNorm(3, beta=0.5)
    assert repr(ours) == repr(theirs)
    assert (ours.size, ours.alpha, ours.beta, ours.k) == (theirs.size, theirs.alpha,
                                                          theirs.beta, theirs.k)
    check_against_torch(ours, theirs, [rand(2, 5, 3, 2)])
    assert run_gradcheck(lambda t: ng.nn.functional.local_response_norm(t, 2, 0.5), [rand(2, 4, 3)])
    xi = np.random.default_rng(0).integers(-9, 9, (2, 4, 3))
    assert_close(*(lib.nn.functional.local_response_norm(lib.tensor(xi), 3, 0.1)
                   for lib in (ng, torch)))
    for lib in (ng, torch):
        assert lib.nn.functional.local_response_norm(lib.zeros(0, 3, 4), 2).shape == (0, 3, 4)


# ----- gradcheck, double backward, grad_fn names -------------------------------------------------
@pytest.mark.parametrize("name,args,shape", [
    ("max_pool3d", (2, 1, 1), (1, 2, 3, 4, 3)),
    ("avg_pool3d", (2, 1, 1, True, False), (1, 2, 3, 4, 3)),
    ("adaptive_avg_pool3d", ((2, 3, 2),), (1, 2, 3, 4, 3)),
    ("adaptive_max_pool3d", ((2, 3, 2),), (1, 2, 3, 4, 3)),
    ("adaptive_max_pool2d", (3,), (2, 5, 4)), ("adaptive_max_pool1d", (3,), (2, 7))])
def test_gradcheck_and_double_backward(name, args, shape):
    assert run_gradcheck(_pool(ng, name, *args), [rand(*shape)])
    check_double_backward(lambda x: _pool(ng, name, *args)(x) ** 2,
                          lambda x: _pool(torch, name, *args)(x) ** 2, rand(*shape))


def test_pooling3d_keeps_float32_and_names_grad_fns_like_torch():
    x = ng.randn(2, 3, 4, 6, 6, requires_grad=True)
    for name, expected in (("max_pool3d", "MaxPool3DWithIndicesBackward0"),
                           ("avg_pool3d", "AvgPool3DBackward0"),
                           ("adaptive_avg_pool3d", "AdaptiveAvgPool3DBackward0"),
                           ("adaptive_max_pool3d", "AdaptiveMaxPool3DBackward0")):
        y = getattr(ng.nn.functional, name)(x, 2)
        assert y.dtype == ng.float32 and y.grad_fn.name() == expected
        y.sum().backward()
        assert x.grad.dtype == ng.float32
    y = ng.nn.functional.adaptive_max_pool2d(x[0], 2)
    assert y.grad_fn.name() == "AdaptiveMaxPool2DBackward0"


# ----- errors ------------------------------------------------------------------------------------
POOL3D_ERRORS = [(name, shape, kwargs) for name in ("max_pool3d", "avg_pool3d")
                 for shape, kwargs in [
                     ((3, 4, 5), {"kernel_size": 2}),
                     ((1, 2, 3, 4, 5, 6), {"kernel_size": 2}),
                     ((2, 2, 4, 4, 4), {"kernel_size": (2, 2)}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "stride": (1, 1)}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "padding": (1, 1)}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 0}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "stride": 0}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "padding": -1}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "padding": 2}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 5}),
                     ((2, 2, 4, 4, 4), {"kernel_size": (2, 5, 2)}),
                     ((2, 0, 4, 4, 4), {"kernel_size": 2}),
                     ((2, 4, 0, 4), {"kernel_size": 2}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2.0}),
                     ((2, 2, 4, 4, 4), {"kernel_size": (2, 2, -1), "stride": 1}),
                     ((2, 2, 4, 4, 4), {"kernel_size": 2, "stride": (1, -1, 1)})]]
POOL3D_ERRORS += [
    ("max_pool3d", (2, 2, 4, 4, 4), {"kernel_size": 2, "dilation": 0}),
    ("max_pool3d", (2, 2, 4, 4, 4), {"kernel_size": 2, "dilation": (1, 1)}),
    ("max_pool3d", (2, 2, 4, 4, 4), {"kernel_size": 2, "padding": 2, "dilation": 3}),
    ("max_pool3d", (2, 2, 4, 4, 4), {"kernel_size": 3, "dilation": 3}),
    ("max_pool2d", (2, 2, 4, 4), {"kernel_size": 2, "padding": 2, "dilation": 3}),
    ("max_pool1d", (2, 2, 4), {"kernel_size": 2, "padding": 2, "dilation": 3,
                               "return_indices": True}),
    ("avg_pool3d", (2, 2, 2, 4, 4), {"kernel_size": 2, "divisor_override": 0}),
    ("avg_pool3d", (2, 2, 2, 4, 4), {"kernel_size": (3, 1, 1), "padding": 1}),
]
ADAPTIVE_ERRORS = [(name, shape, args) for name, d in (("adaptive_max_pool1d", 1),
                                                       ("adaptive_max_pool2d", 2),
                                                       ("adaptive_max_pool3d", 3),
                                                       ("adaptive_avg_pool3d", 3))
                   for shape, args in [((2, 3) + (5,) * d, ((2,) * (d + 1),)),
                                       ((2, 3) + (5,) * d, (-1,)),
                                       ((5,) * d, (2,)), ((2,) * (d + 3), (2,)),
                                       ((2, 0) + (5,) * d, (2,)),
                                       ((2, 3, 0) + (5,) * (d - 1), (2,)),
                                       ((2, 3) + (5,) * d, (2.0,)), ((2, 3) + (5,) * d, (None,))]]
ADAPTIVE_ERRORS += [("adaptive_max_pool2d", (2, 3, 5, 5), ((2,),)),
                    ("adaptive_avg_pool3d", (2, 3, 5, 5, 5), ((2, 2),)),
                    ("adaptive_avg_pool3d", (5, 5), ((2, None, 3),)),
                    ("adaptive_max_pool2d", (2, 3, 5, 5), ((2.0, 1),))]


@pytest.mark.parametrize("name,shape,kwargs", POOL3D_ERRORS)
def test_pooling3d_errors_match_torch(name, shape, kwargs):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), **kwargs))


@pytest.mark.parametrize("name,shape,args", ADAPTIVE_ERRORS)
def test_adaptive_pooling_errors_match_torch(name, shape, args):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), *args))


@pytest.mark.parametrize("name,args", [
    ("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_max_pool1d", (2,)),
    ("adaptive_max_pool2d", (2,)), ("adaptive_max_pool3d", (2,)), ("adaptive_avg_pool3d", (2,))])
@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64])
def test_pooling3d_dtype_errors_match_torch(name, args, dtype):
    x = (rand(2, 3, 4, 4, 4) > 0).astype(dtype)
    x = x[0, 0, 0] if name.endswith("1d") else x[0, 0] if name.endswith("2d") else x
    if name == "max_pool3d" and dtype != np.bool_ or name == "avg_pool3d" and dtype == np.int64:
        assert_close(*(getattr(lib.nn.functional, name)(lib.tensor(x), *args)
                       for lib in (ng, torch)))
    else:
        same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), *args))


@pytest.mark.parametrize("call", [
    lambda F, t: F.lp_pool1d(t, 2, 3), lambda F, t: F.lp_pool2d(t[0, 0], 2, 3),
    lambda F, t: F.lp_pool3d(t[0], 2, 3), lambda F, t: F.lp_pool1d(t[0], 2, (2, 3)),
    lambda F, t: F.lp_pool2d(t, 0, 2), lambda F, t: F.lp_pool2d(t, 2, (2, 2, 2)),
    lambda F, t: F.local_response_norm(t[0, 0], 2), lambda F, t: F.local_response_norm(t, 0),
    lambda F, t: F.local_response_norm(t, -1)])
def test_lp_pool_and_local_response_norm_errors_match_torch(call):
    x = rand(2, 3, 6, 7).astype(np.float32)
    same_error(lambda lib: call(lib.nn.functional, lib.tensor(x)))


# ----- the layers --------------------------------------------------------------------------------
LAYERS = [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((3, 2, 1),), {"stride": (2, 1, 1), "padding": (1, 1, 0), "ceil_mode": True}),
    ("MaxPool3d", (2,), {"return_indices": True, "dilation": 2}),
    ("AvgPool3d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool3d", (2,), {"divisor_override": 3, "ceil_mode": True}),
    ("AdaptiveAvgPool3d", ((None, 2, 3),), {}),
    ("AdaptiveMaxPool3d", (3,), {"return_indices": True}),
    ("AdaptiveMaxPool2d", ((None, 2),), {}),
    ("AdaptiveMaxPool1d", (4,), {"return_indices": True}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_pooling3d_layers_match_torch(name, args, kwargs):
    ours, theirs = getattr(ng.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
                 "count_include_pad", "divisor_override", "output_size"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
    shape = {"1": (2, 3, 7), "2": (2, 3, 7, 6), "3": (2, 2, 5, 7, 6)}[name[-2]]
    check_against_torch(ours, theirs, [rand(*shape)])
