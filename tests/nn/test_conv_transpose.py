"""conv_transpose1d / conv_transpose2d and the ConvTranspose1d / ConvTranspose2d layers against
PyTorch: values, dtypes and gradients of input, weight and bias over strides, paddings,
output paddings, dilations and groups; double backward; errors; seeded initialisation, repr,
forward with output_size."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, rand, same_error

import numpy2gpt as ng


def _conv_t(lib, dims, **kwargs):
    f = getattr(lib.nn.functional, f"conv_transpose{dims}d")
    return lambda x, w, *b: f(x, w, *b, **kwargs)


CASES = [  # (dims, input shape, weight shape, keyword arguments)
    (2, (2, 4, 5, 6), (4, 3, 3, 3), {}),
    (2, (2, 4, 5, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    (2, (1, 4, 5, 6), (4, 2, 3, 3), {"stride": (2, 3), "padding": (1, 2),
                                     "output_padding": (1, 2), "groups": 2, "dilation": (1, 2)}),
    (2, (2, 4, 5, 6), (4, 1, 2, 3), {"groups": 4, "dilation": 2, "output_padding": 1}),
    (2, (4, 5, 6), (4, 3, 3, 3), {"stride": 2}),  # unbatched
    (1, (2, 4, 7), (4, 3, 3), {}),
    (1, (2, 4, 7), (4, 2, 4), {"stride": 3, "padding": 2, "output_padding": 1, "groups": 2,
                               "dilation": 2}),
    (1, (4, 7), (4, 3, 3), {"stride": (2,), "padding": [1]}),  # unbatched
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs", CASES)
def test_conv_transpose_matches_torch(dims, x_shape, w_shape, kwargs, bias, dtype):
    arrays = [rand(*x_shape, seed=1), rand(*w_shape, seed=2)]
    if bias:
        arrays.append(rand(w_shape[1] * kwargs.get("groups", 1), seed=3))
    ours, *_ = check_against_torch(_conv_t(ng, dims, **kwargs), _conv_t(torch, dims, **kwargs),
                                   [a.astype(dtype) for a in arrays])
    assert ours[0].dtype == (ng.float32 if dtype == np.float32 else ng.float64)


def test_conv_transpose_is_the_gradient_of_conv():
    """conv_transpose2d(gy, w) is conv2d's input gradient (output_padding fills the rows
    a strided convolution ignored)."""
    x = ng.tensor(rand(1, 3, 8, 7), requires_grad=True)
    w = ng.tensor(rand(5, 3, 3, 3, seed=1))
    y = ng.nn.functional.conv2d(x, w, stride=2, padding=1)
    gy = ng.tensor(rand(*y.shape, seed=2))
    y.backward(gy)
    gx = ng.nn.functional.conv_transpose2d(gy, w, stride=2, padding=1, output_padding=(1, 0))
    assert_close(gx, x.grad.numpy(), rtol=1e-10)


def test_conv_transpose_integers_match_torch():
    x = np.random.default_rng(0).integers(-5, 5, (2, 3, 4, 5))
    w = np.random.default_rng(1).integers(-3, 3, (3, 2, 2, 2))
    ours, theirs = (lib.nn.functional.conv_transpose2d(lib.tensor(x), lib.tensor(w), stride=2)
                    for lib in (ng, torch))
    assert_close(ours, theirs)


# (second derivatives: tests/nn/test_conv.py::test_conv2d_double_backward_matches_torch)


ERRORS = [  # (dims, input shape, weight shape, bias shape, keyword arguments)
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"stride": 2, "output_padding": 2}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"stride": 2, "output_padding": -1}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"padding": -1}),
    (2, (2, 4, 5, 6), (3, 3, 3, 3), None, {}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"groups": 3}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"groups": 0}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), (4,), {}),
    (2, (5, 6), (4, 3, 3, 3), None, {}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"stride": 0}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"stride": (1, 1, 1)}),
    (2, (2, 4, 5, 6), (4, 3, 3, 3), None, {"output_padding": (1, 1, 1)}),
    (1, (4, 5, 6), (4, 3, 3), None, {}),
    (1, (2, 4, 5, 6), (4, 3, 3), None, {}),
    (1, (2, 4, 5), (4, 3, 3), None, {"stride": 2, "output_padding": 2}),
]


@pytest.mark.parametrize("dims,x_shape,w_shape,b_shape,kwargs", ERRORS)
def test_conv_transpose_errors_match_torch(dims, x_shape, w_shape, b_shape, kwargs):
    x, w = rand(*x_shape).astype(np.float32), rand(*w_shape).astype(np.float32)
    b = None if b_shape is None else rand(*b_shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, f"conv_transpose{dims}d")(
        lib.tensor(x), lib.tensor(w), None if b is None else lib.tensor(b), **kwargs))


def test_conv_transpose_dtype_errors_match_torch():
    x, w = rand(2, 4, 5, 6), rand(4, 3, 3, 3).astype(np.float32)
    same_error(lambda lib: lib.nn.functional.conv_transpose2d(lib.tensor(x), lib.tensor(w)))
    same_error(lambda lib: lib.nn.functional.conv_transpose2d(lib.tensor(x), lib.tensor(w),
                                                              padding="same"),
               same_message=False)


def test_conv_transpose_too_small_output_raises():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        ng.nn.functional.conv_transpose2d(ng.randn(1, 2, 2, 2), ng.randn(2, 1, 3, 3), padding=3)


# ----- the layers (their init, repr and gradients: tests/nn/test_conv.py) --------------------
def test_conv_transpose_layer_output_size_matches_torch():
    ng.manual_seed(1)
    torch.manual_seed(1)
    ours, theirs = ng.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), \
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = rand(1, 2, 4, 5).astype(np.float32)
    for size in ([7, 9], [8, 10], [1, 3, 8, 9]):
        check_against_torch(lambda t, s=size: ours(t, output_size=s),
                            lambda t, s=size: theirs(t, output_size=s), [x], check_grad=False)
    for size in ([9, 9], [8]):  # (the message prints the input's Size, whose repr differs)
        same_error(lambda lib, s=size: (ours if lib is ng else theirs)(lib.tensor(x),
                                                                       output_size=s),
                   same_message=False)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\], but valid "
                                         r"sizes range from \[7, 9\] to \[8, 10\]"):
        ours(ng.tensor(x), output_size=[9, 9])
    one_d = ng.nn.ConvTranspose1d(2, 3, 3, stride=3)
    assert tuple(one_d(ng.randn(2, 4), output_size=[12]).shape) == (3, 12)


def test_conv_transpose_layer_only_zeros_padding_mode():
    for lib in (ng, torch):
        with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                             "ConvTranspose2d"):
            lib.nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
