"""conv1d / conv2d and the Conv1d / Conv2d layers against PyTorch: values, dtypes and gradients of
input, weight and bias over strides, paddings, dilations and groups; double backward; errors;
seeded initialisation, repr and state_dict; a tiny CNN trained for a few steps."""

import re

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    assert_float32_throughout,
    check_against_torch,
    compare,
    rand,
    same_error,
)

import numpy2gpt as ng

# PyTorch's performance note for padding='same' with an even kernel
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _conv(lib, dims, **kwargs):
    f = lib.nn.functional.conv1d if dims == 1 else lib.nn.functional.conv2d
    return lambda x, w, *b: f(x, w, *b, **kwargs)


CONV2D_CASES = [  # (input shape, weight shape, keyword arguments)
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 9, 8), (6, 2, 3, 3), {"stride": (2, 1), "padding": (2, 0), "dilation": (1, 2),
                                   "groups": 2}),
    ((2, 4, 5, 5), (4, 1, 2, 3), {"groups": 4, "dilation": 2, "padding": (1, 2)}),
    ((3, 2, 6, 7), (5, 2, 2, 2), {"padding": "same"}),  # even kernel: the odd pad goes right
    ((3, 2, 6, 7), (5, 2, 3, 2), {"padding": "same", "dilation": (2, 3)}),
    ((2, 3, 6, 5), (2, 3, 4, 1), {"padding": "valid", "stride": (1, 3)}),
    ((2, 3, 5, 5), (4, 3, 1, 1), {"stride": 3}),
    ((3, 8, 7), (6, 3, 3, 3), {"padding": 1}),  # unbatched
]
CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 4, 10), (6, 2, 4), {"stride": 3, "padding": 2, "dilation": 2, "groups": 2}),
    ((1, 3, 8), (3, 1, 2), {"padding": "same", "groups": 3}),
    ((3, 11), (5, 3, 5), {"stride": (2,), "padding": [1]}),  # unbatched
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs",
                         [(2, *c) for c in CONV2D_CASES] + [(1, *c) for c in CONV1D_CASES])
def test_conv_matches_torch_float64(dims, x_shape, w_shape, kwargs, bias):
    arrays = [rand(*x_shape, seed=1), rand(*w_shape, seed=2)] + ([rand(w_shape[0], seed=3)]
                                                                  if bias else [])
    compare(_conv(ng, dims, **kwargs), _conv(torch, dims, **kwargs), arrays, np.float64)


@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs",
                         [(2, *c) for c in CONV2D_CASES] + [(1, *c) for c in CONV1D_CASES])
def test_conv_matches_torch_float32(dims, x_shape, w_shape, kwargs):
    arrays = [rand(*x_shape, seed=1).astype(np.float32), rand(*w_shape, seed=2).astype(np.float32),
              rand(w_shape[0], seed=3).astype(np.float32)]
    ours, *_ = check_against_torch(_conv(ng, dims, **kwargs), _conv(torch, dims, **kwargs), arrays)
    assert ours[0].dtype == ng.float32


def test_conv_only_some_inputs_need_grad():
    x, w, b = rand(2, 3, 6, 6, seed=1), rand(4, 3, 3, 3, seed=2), rand(4, seed=3)
    for mask in ([True, False, False], [False, True, False], [False, False, True]):
        check_against_torch(_conv(ng, 2, padding=1), _conv(torch, 2, padding=1), [x, w, b],
                            requires_grad=mask)


def test_conv_float32_stays_float32():
    x = ng.randn(2, 3, 8, 8, requires_grad=True)
    w, b = ng.randn(4, 3, 3, 3), ng.randn(4)
    assert_float32_throughout(x, [ng.nn.functional.conv2d(x, w, b, stride=2, padding=1)])


def test_conv_grad_fn_and_empty_batch():
    x = ng.randn(0, 2, 5, 5, requires_grad=True)
    y = ng.nn.functional.conv2d(x, ng.randn(3, 2, 3, 3, requires_grad=True))
    assert tuple(y.shape) == (0, 3, 3, 3) and y.grad_fn.name() == "ConvolutionBackward0"


def test_integer_conv_matches_torch():
    x = np.random.default_rng(0).integers(-5, 5, (2, 3, 6, 5))
    w = np.random.default_rng(1).integers(-3, 3, (4, 3, 2, 2))
    ours, theirs = (lib.nn.functional.conv2d(lib.tensor(x), lib.tensor(w), stride=(2, 1),
                                             padding=1) for lib in (ng, torch))
    assert_close(ours, theirs)
    assert ours.dtype == ng.int64


@pytest.mark.parametrize("op,shapes,kwargs", [
    ("conv2d", [(2, 4, 6, 5), (6, 2, 3, 2)],
     {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
    ("conv_transpose2d", [(2, 4, 4, 3), (4, 3, 3, 2)],
     {"stride": (2, 1), "padding": (1, 0), "output_padding": (1, 0), "groups": 2}),
])
def test_conv2d_double_backward_matches_torch(op, shapes, kwargs):
    """Second derivatives through the input, the weight, the bias and the upstream gradient."""
    x, w, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2), rand(6, seed=3)
    results = []
    for lib in (ng, torch):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = getattr(lib.nn.functional, op)(xs, ws, bs, **kwargs)
        v = lib.tensor(rand(*y.shape, seed=4), requires_grad=True)
        gx, gw = lib.autograd.grad(y, (xs, ws), v, create_graph=True)
        total = (gx * lib.tensor(rand(*x.shape, seed=5))).sum() \
            + (gw * lib.tensor(rand(*w.shape, seed=6))).sum() + (gx * gx).sum()
        grads = lib.autograd.grad(total, (xs, ws, v))
        results.append([g.detach().numpy() for g in (gx, gw) + tuple(grads)])
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-8, atol=1e-10)


CONV_ERRORS = [  # (input shape, weight shape, bias shape, keyword arguments)
    ((4, 5), (6, 4, 3, 3), None, {}),
    ((1, 2, 4, 5, 5), (6, 4, 3, 3), None, {}),
    ((2, 4, 5, 5), (6, 4, 3), None, {}),
    ((2, 4, 5, 5), (6,), None, {}),
    ((2, 4, 5, 5), (6, 3, 3, 3), None, {}),
    ((2, 4, 5, 5), (6, 2, 3, 3), None, {"groups": 3}),
    ((2, 4, 5, 5), (2, 1, 3, 3), None, {"groups": 4}),
    ((2, 4, 5, 5), (6, 1, 3, 3), None, {"groups": 4}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"groups": 0}),
    ((2, 4, 5, 5), (6, 4, 7, 7), None, {}),
    ((4, 5, 5), (6, 4, 3, 8), None, {"padding": 1}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"stride": 2, "padding": "same"}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": "full"}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": -1}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"stride": 0}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"dilation": 0}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"dilation": -1}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"stride": (1, 1, 1)}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": (1, 1, 1)}),
    ((2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": "same", "dilation": (1, 1, 1)}),
    ((2, 4, 5, 5), (6, 4, 3, 3), (5,), {}),
    ((2, 4, 5, 5), (6, 4, 3, 3), (6, 1), {}),
    ((2, 4, 5), (6, 4, 3, 3), None, {}),
]


@pytest.mark.parametrize("x_shape,w_shape,b_shape,kwargs", CONV_ERRORS)
def test_conv2d_errors_match_torch(x_shape, w_shape, b_shape, kwargs):
    x, w = rand(*x_shape).astype(np.float32), rand(*w_shape).astype(np.float32)
    b = None if b_shape is None else rand(*b_shape).astype(np.float32)
    same_error(lambda lib: lib.nn.functional.conv2d(
        lib.tensor(x), lib.tensor(w), None if b is None else lib.tensor(b), **kwargs))


def test_conv_errors_for_dtypes_and_conv1d_match_torch():
    x, w = rand(2, 4, 5, 5).astype(np.float32), rand(6, 4, 3, 3).astype(np.float32)
    def conv(lib, x, w, b=None, fn="conv2d", **kwargs):
        return getattr(lib.nn.functional, fn)(lib.tensor(x), lib.tensor(w),
                                              None if b is None else lib.tensor(b), **kwargs)

    same_error(lambda lib: conv(lib, x.astype(np.float64), w))
    same_error(lambda lib: conv(lib, x, w.astype(np.float64)))
    same_error(lambda lib: conv(lib, x, w, np.zeros(6)))  # a float64 bias
    same_error(lambda lib: conv(lib, x, w, np.zeros(6, np.int64)))
    same_error(lambda lib: conv(lib, x > 0, w > 0))
    same_error(lambda lib: conv(lib, x[0], w[..., 0], fn="conv1d"))
    same_error(lambda lib: conv(lib, x[0, 0], w[..., 0], fn="conv1d"))
    same_error(lambda lib: conv(lib, x[0], w[..., 0], fn="conv1d", stride=(1, 1)))
    same_error(lambda lib: conv(lib, x[0], w[..., 0], fn="conv1d", padding=4, dilation=3))
    same_error(lambda lib: conv(lib, x, w, stride=1.5), same_message=False)


# ----- the layers --------------------------------------------------------------------------------
LAYERS = [
    ("Conv2d", (3, 6, 5), {}),
    ("Conv2d", (4, 6, (3, 2)), {"stride": 2, "padding": (1, 0), "groups": 2, "bias": False}),
    ("Conv2d", (2, 4, 3), {"padding": "same", "dilation": 2}),
    ("Conv1d", (3, 5, 4), {"stride": 2, "padding": "valid"}),
    ("Conv1d", (4, 4, 3), {"groups": 4, "padding": 1, "dilation": 2}),
    ("ConvTranspose2d", (3, 6, 3), {}),
    ("ConvTranspose2d", (4, 6, (3, 2)), {"stride": 2, "padding": (1, 0), "output_padding": 1,
                                         "groups": 2, "bias": False}),
    ("ConvTranspose2d", (2, 4, 3), {"dilation": 2, "stride": (1, 2)}),
    ("ConvTranspose1d", (3, 5, 4), {"stride": 2, "padding": 1}),
    ("ConvTranspose1d", (4, 4, 3), {"groups": 4, "output_padding": 1, "dilation": 2}),
    ("Conv3d", (3, 4, (2, 3, 2)), {}),
    ("Conv3d", (4, 6, 2), {"stride": 2, "groups": 2, "dilation": (1, 2, 1), "bias": False}),
    ("Conv3d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}),
    ("Conv3d", (2, 3, (3, 1, 2)), {"padding": (1, 0, 2), "padding_mode": "replicate"}),
    ("Conv3d", (2, 3, 3), {"padding": 1, "padding_mode": "circular"}),
    ("Conv3d", (2, 3, (2, 3, 3)), {"padding": "same", "padding_mode": "reflect"}),
    ("ConvTranspose3d", (3, 4, 2), {}),
    ("ConvTranspose3d", (4, 6, (2, 3, 1)), {"stride": 2, "padding": (1, 0, 0),
                                            "output_padding": (1, 0, 1), "groups": 2,
                                            "bias": False}),
    ("ConvTranspose3d", (2, 3, 2), {"dilation": (2, 1, 1), "stride": (1, 2, 1)}),
]
# the input's spatial size per layer, and the gradients' absolute tolerance (3-d sums are longer)
SPATIAL = {"Conv1d": (7,), "ConvTranspose1d": (7,), "Conv2d": (7, 7), "ConvTranspose2d": (7, 7),
           "Conv3d": (4, 5, 6), "ConvTranspose3d": (3, 2, 3)}
GRAD_ATOL = {"Conv3d": 1e-5, "ConvTranspose3d": 1e-6}


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_conv_layer_init_repr_and_forward_match_torch(name, args, kwargs):
    """Conv and ConvTranspose layers: PyTorch's seeded parameters, repr, attributes, output and
    gradients (input and parameters)."""
    ng.manual_seed(7)
    torch.manual_seed(7)
    ours, theirs = getattr(ng.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, p), (tk, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk
        assert_close(p, tp, rtol=0, atol=0, what=k)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "groups", "padding_mode", "transposed", "output_padding"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    shape = (2, args[0]) + SPATIAL[name]
    check_against_torch(ours, theirs, [rand(*shape).astype(np.float32)])
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=GRAD_ATOL.get(name))
    # both libraries' layers now hold gradients for their parameters: compare them too
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5)


def test_conv_layer_state_dict_round_trip_with_torch():
    theirs = torch.nn.Conv2d(3, 4, 3, padding=1, groups=1)
    ours = ng.nn.Conv2d(3, 4, 3, padding=1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rand(1, 3, 5, 5).astype(np.float32)
    assert_close(ours(ng.tensor(x)), theirs(torch.tensor(x)))
    other = ng.nn.Conv2d(3, 4, 3, padding=1, dtype=ng.float64)
    back = torch.nn.Conv2d(3, 4, 3, padding=1)
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    other.load_state_dict(ours.state_dict())
    assert_close(back.weight, theirs.weight, rtol=0, atol=0)
    assert other.weight.dtype == ng.float64


def test_conv_layer_constructor_errors_match_torch():
    """The same type and message; the order of the sets a message lists is left free (PyTorch
    prints a set whose order is fixed when its .pyc was compiled)."""
    for args, kwargs in [((4, 6, 3), {"groups": 0}), ((4, 6, 3), {"groups": 3}),
                         ((4, 6, 3), {"groups": 4}), ((4, 6, 3), {"padding": "full"}),
                         ((4, 6, 3), {"padding": "same", "stride": 2}),
                         ((4, 6, 3), {"padding_mode": "mirror"})]:
        raised = []
        for lib in (ng, torch):
            with pytest.raises(ValueError) as e:
                lib.nn.Conv2d(*args, **kwargs)
            raised.append(re.sub(r"\{.*\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))),
                                 str(e.value)))
        assert raised[0] == raised[1]


# ----- end to end --------------------------------------------------------------------------------
def _tiny_cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, stride=1, groups=2), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 3))


def test_tiny_cnn_trains_like_torch():
    x = rand(8, 1, 10, 10, seed=11).astype(np.float32)
    labels = np.random.default_rng(12).integers(0, 3, 8)
    losses = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        model = _tiny_cnn(lib)
        xs, ys = lib.tensor(x), lib.tensor(labels)
        run = []
        for _ in range(3):  # plain SGD steps (torch.optim's first step alone takes seconds)
            loss = lib.nn.functional.cross_entropy(model(xs), ys)
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
                    p.grad = None
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    assert losses[0][2] != losses[0][0]  # it did train
