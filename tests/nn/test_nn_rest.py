"""Max unpooling, the *_with_indices aliases, the 3-D padding layers, ChannelShuffle and the lazy
BatchNorm / InstanceNorm layers, against PyTorch: values, dtypes, shapes, gradients, reprs and
errors."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, check_against_torch, check_double_backward, rand
from torch_compare import same_error as same_error_

import numpy2gpt as ng


def same_error(call):
    same_error_(call)


def _pooled(shape, kernel, dims, seed=0, **kw):
    """(pooled values, their int64 indices) of a random array from PyTorch's max_pool{dims}d."""
    x = torch.tensor(rand(*shape, seed=seed))
    pool = getattr(torch.nn.functional, f"max_pool{dims}d")
    y, i = pool(x, kernel, return_indices=True, **kw)
    return y.numpy(), i.numpy()


# ----- max unpooling -----------------------------------------------------------------------------
@pytest.mark.parametrize("dims, shape, kernel, kw, out", [
    (1, (2, 3, 8), 2, {}, None),
    (1, (2, 3, 9), 2, {}, [9]),
    (1, (3, 8), 3, {"stride": 2, "padding": 1}, [8]),
    (2, (2, 3, 4, 6), 2, {}, None),
    (2, (2, 3, 5, 6), 2, {}, (5, 6)),
    (2, (3, 6, 5), (3, 2), {"stride": (2, 1), "padding": (1, 0)}, (6, 5)),
    (2, (2, 2, 5, 5), 2, {}, (2, 2, 5, 5)),
    (3, (2, 2, 4, 4, 4), 2, {}, None),
    (3, (2, 2, 4, 5, 4), 2, {}, [4, 5, 4]),
    (3, (2, 4, 4, 5), (2, 3, 2), {"stride": (2, 1, 2)}, [4, 4, 5]),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_unpool_matches_torch(dims, shape, kernel, kw, out, dtype):
    y, idx = _pooled(shape, kernel, dims, **kw)
    name = f"max_unpool{dims}d"
    check_against_torch(  # also checks the dtype stays the input's
        lambda a, i: getattr(ng.nn.functional, name)(a, i, kernel, output_size=out, **kw),
        lambda a, i: getattr(torch.nn.functional, name)(a, i, kernel, output_size=out, **kw),
        [y.astype(dtype), idx])


def test_max_unpool_inverts_max_pool_and_names_its_node():
    x = rand(2, 3, 4, 6)
    for lib in (ng, torch):
        t = lib.tensor(x)
        y, i = lib.nn.functional.max_pool2d(t, 2, return_indices=True)
        u = lib.nn.functional.max_unpool2d(y.requires_grad_(), i, 2)
        kept = (u != 0).sum().item()
        assert kept == 2 * 3 * 2 * 3 and (u.detach().numpy() != 0).sum() == kept
        assert u.grad_fn.name() == "MaxUnpool2DBackward0"


def test_max_unpool_duplicate_indices_last_wins_and_grad_reads_back():
    # a later element written to the same place overwrites; every one reads its gradient back
    check_against_torch(lambda a, i: ng.nn.functional.max_unpool1d(a, i, 2),
                        lambda a, i: torch.nn.functional.max_unpool1d(a, i, 2),
                        [np.array([[[1.0, 2.0, 3.0]]]), np.array([[[0, 0, 3]]])])


def test_max_unpool_double_backward():
    _, idx = _pooled((2, 2, 4, 4), 2, 2)
    check_double_backward(lambda a: ng.nn.functional.max_unpool2d(a * a, ng.tensor(idx), 2),
                          lambda a: torch.nn.functional.max_unpool2d(a * a, torch.tensor(idx), 2),
                          rand(2, 2, 2, 2))


@pytest.mark.parametrize("call", [
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i.float(), 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i[:1], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i + 100, 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i - 100, 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i, 2, output_size=(6, 5)),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i, 2, output_size=[-1, 4]),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i, 2, output_size=(5,)),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y[0, 0], i[0, 0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y[:, :, :0], i[:, :, :0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y[:, :0], i[:, :0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y.int(), i, 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y.long(), i, 2),
    lambda lib, y, i: lib.nn.functional.max_unpool2d(y, i, 3, padding=2),
    lambda lib, y, i: lib.nn.functional.max_unpool1d(y[0], i[0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool1d(y[0, 0, 0], i[0, 0, 0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[0], i[0], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[None], i[None].int(), 2),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[None], i[None] + 100, 2),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[None], i[None], 2, stride=0),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[None], i[:1, None], 2),
    lambda lib, y, i: lib.nn.functional.max_unpool3d(y[None, :, :0], i[None, :, :0], 2),
])
def test_max_unpool_errors(call):
    y, idx = _pooled((2, 3, 4, 4), 2, 2)
    same_error(lambda lib: call(lib, lib.tensor(y, dtype=lib.float32), lib.tensor(idx)))


def test_max_unpool_unbatched_and_empty_batch():
    y, idx = _pooled((3, 4, 4), 2, 2)
    a, b = both(lambda lib: lib.nn.functional.max_unpool2d(lib.tensor(y), lib.tensor(idx), 2))
    assert_close(a, b)
    a, b = both(lambda lib: lib.nn.functional.max_unpool2d(
        lib.zeros(0, 3, 2, 2), lib.zeros(0, 3, 2, 2, dtype=lib.int64), 2))
    assert tuple(a.shape) == tuple(b.shape) == (0, 3, 4, 4)


@pytest.mark.parametrize("dims, shape", [(1, (2, 3, 9)), (2, (2, 3, 5, 6)), (3, (3, 5, 4, 4))])
def test_max_unpool_modules(dims, shape):
    y, idx = _pooled(shape, 2, dims)
    out = list(shape[-dims:])
    ours, theirs = both(lambda lib: getattr(lib.nn, f"MaxUnpool{dims}d")(2))
    assert repr(ours) == repr(theirs)
    assert repr(ng.nn.MaxUnpool3d((2, 1, 2), padding=1)) == repr(
        torch.nn.MaxUnpool3d((2, 1, 2), padding=1))
    assert repr(ng.nn.MaxUnpool2d(2, 1)) == repr(torch.nn.MaxUnpool2d(2, 1))
    check_against_torch(lambda a, i: ours(a, i, output_size=out),
                        lambda a, i: theirs(a, i, output_size=out), [y, idx])


# ----- the *_with_indices aliases ----------------------------------------------------------------
@pytest.mark.parametrize("name, shape, arg", [
    ("max_pool1d_with_indices", (2, 3, 7), 2), ("max_pool2d_with_indices", (3, 5, 5), 2),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 5), 2),
    ("adaptive_max_pool1d_with_indices", (2, 7), 3),
    ("adaptive_max_pool2d_with_indices", (2, 3, 5, 7), (2, 3)),
    ("adaptive_max_pool3d_with_indices", (2, 4, 5, 6), 2),
])
def test_with_indices_aliases_always_return_indices(name, shape, arg):
    ours, theirs, *_ = check_against_torch(
        lambda a: getattr(ng.nn.functional, name)(a, arg),
        lambda a: getattr(torch.nn.functional, name)(a, arg), [rand(*shape)])
    assert isinstance(ours, tuple) and len(ours) == 2 and ours[1].dtype == ng.int64


# ----- 3-D padding -------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, args", [
    ("ConstantPad3d", (1, 2.5)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 2), -1.0)),
    ("ZeroPad3d", ((1, 2, 0, 1, 2, 0),)), ("ZeroPad3d", (-1,)),
    ("ReflectionPad3d", (1,)), ("ReflectionPad3d", ((2, 1, 0, 2, 1, 1),)),
    ("ReplicationPad3d", (2,)), ("ReplicationPad3d", ((0, 3, 1, 0, 2, 1),)),
    ("CircularPad3d", (1,)), ("CircularPad3d", ((2, 1, 1, 0, 3, 1),)),
])
@pytest.mark.parametrize("shape", [(2, 2, 3, 4, 5), (2, 3, 4, 5)])
def test_pad3d_layers(layer, args, shape):
    ours, theirs = both(lambda lib: getattr(lib.nn, layer)(*args))
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    check_against_torch(ours, theirs, [rand(*shape)])
    check_against_torch(ours, theirs, [rand(*shape).astype(np.float32)])


@pytest.mark.parametrize("layer", ["ReflectionPad3d", "ReplicationPad3d", "CircularPad3d"])
def test_pad3d_layers_errors(layer):
    same_error(lambda lib: getattr(lib.nn, layer)(1)(lib.zeros(2, 3, 3)))
    if layer != "ReplicationPad3d":  # which repeats its edge any number of times
        same_error(lambda lib: getattr(lib.nn, layer)(4)(lib.zeros(1, 2, 3, 3, 3)))


def test_pad3d_constant_on_lower_dims():
    ours, theirs = both(lambda lib: lib.nn.ConstantPad3d(1, 3.0)(lib.ones(2, 3, 3)))
    assert_close(ours, theirs)


# ----- ChannelShuffle ----------------------------------------------------------------------------
def test_channel_shuffle_module():
    ours, theirs = both(lambda lib: lib.nn.ChannelShuffle(3))
    assert repr(ours) == repr(theirs) == "ChannelShuffle(groups=3)"
    check_against_torch(ours, theirs, [rand(2, 6, 2, 3).astype(np.float32)])
    same_error(lambda lib: lib.nn.ChannelShuffle(4)(lib.zeros(1, 6, 2)))


# ----- lazy normalisation layers -----------------------------------------------------------------
@pytest.mark.parametrize("name, shape", [
    ("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm1d", (4, 3, 5)), ("LazyBatchNorm2d", (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (2, 3, 2, 3, 2)), ("LazyInstanceNorm1d", (2, 3, 5)),
    ("LazyInstanceNorm2d", (2, 3, 4, 4)), ("LazyInstanceNorm3d", (2, 3, 2, 3, 2)),
])
def test_lazy_norm_becomes_regular_layer(name, shape):
    ours, theirs = both(lambda lib: getattr(lib.nn, name)(dtype=lib.float64))
    assert repr(ours) == repr(theirs)
    assert ours.num_features == 0 and ng.nn.parameter.is_lazy(ours.weight)
    assert ng.nn.parameter.is_lazy(ours.running_mean)
    optimizer = ng.optim.SGD(ours.parameters(), lr=0.1)  # built before the first call
    check_against_torch(ours, theirs, [rand(*shape, scale=2.0) + 1.0])
    assert type(ours).__name__ == type(theirs).__name__ == name.replace("Lazy", "")
    assert repr(ours) == repr(theirs)
    assert ours.num_features == 3
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value)
    optimizer.step()  # the optimizer holds the materialized parameters themselves
    assert not np.allclose(ours.weight.detach().numpy(), 1.0)


@pytest.mark.parametrize("kw", [{"affine": False}, {"track_running_stats": False},
                                {"affine": False, "track_running_stats": False},
                                {"bias": False, "eps": 1e-3, "momentum": None}])
def test_lazy_norm_options(kw):
    ours, theirs = both(lambda lib: lib.nn.LazyBatchNorm2d(dtype=lib.float64, **kw))
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    check_against_torch(ours, theirs, [rand(2, 3, 2, 2)])
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_lazy_norm_dtype_and_load_state_dict():
    m = ng.nn.LazyBatchNorm1d(dtype=ng.float64)
    assert m(ng.randn(4, 2, dtype=ng.float64)).dtype == ng.float64
    assert m.weight.dtype == m.running_var.dtype == ng.float64
    source = torch.nn.BatchNorm1d(3)
    source.running_mean.fill_(0.5)
    lazy = ng.nn.LazyBatchNorm1d()
    lazy.load_state_dict({k: ng.tensor(v.numpy()) for k, v in source.state_dict().items()})
    assert_close(lazy.running_mean, source.running_mean)


def test_lazy_instance_norm_reads_size_1_of_unbatched_input():
    # PyTorch's LazyInstanceNorm takes num_features from size(1) even for an unbatched input
    same_error(lambda lib: lib.nn.LazyInstanceNorm2d()(lib.ones(3, 4, 5)))
    same_error(lambda lib: lib.nn.LazyBatchNorm2d()(lib.ones(3, 4, 5)))


# ----- fractional max pooling --------------------------------------------------------------------
@pytest.mark.parametrize("dims, shape, kernel, kw", [
    (2, (2, 3, 9, 8), (2, 3), {"output_size": (4, 5)}),
    (2, (3, 7, 7), 2, {"output_size": 6}),  # overlapping windows
    (2, (2, 2, 10, 9), 3, {"output_ratio": (0.5, 0.7)}),
    (2, (1, 2, 5, 5), 2, {"output_size": 1}),
    (3, (2, 2, 6, 7, 8), (2, 3, 2), {"output_size": (3, 4, 5)}),
    (3, (2, 5, 6, 7), 2, {"output_ratio": 0.5}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractional_max_pool_given_samples(dims, shape, kernel, kw, dtype):
    samples = np.random.default_rng(1).random((shape[0] if len(shape) == dims + 2 else 1,
                                               shape[-dims - 1], dims)).astype(dtype)
    name = f"fractional_max_pool{dims}d"
    ours, *_ = check_against_torch(
        lambda a, u: getattr(ng.nn.functional, name)(a, kernel, return_indices=True,
                                                     _random_samples=u, **kw),
        lambda a, u: getattr(torch.nn.functional, name)(a, kernel, return_indices=True,
                                                        _random_samples=u, **kw),
        [rand(*shape).astype(dtype), samples], requires_grad=[True, False])
    assert ours[0].grad_fn.name() == f"FractionalMaxPool{dims}DBackward0"


@pytest.mark.parametrize("dims, shape", [(2, (2, 3, 9, 8)), (3, (3, 6, 7, 5))])
def test_fractional_max_pool_draws_pytorchs_samples(dims, shape):
    x = rand(*shape).astype(np.float32)
    layer = f"FractionalMaxPool{dims}d"

    def run(lib):
        lib.manual_seed(7)
        m = getattr(lib.nn, layer)(2, output_ratio=0.5, return_indices=True)
        pool = getattr(lib.nn.functional, f"fractional_max_pool{dims}d")
        return m(lib.tensor(x)), pool(lib.tensor(x), 2, output_size=2)
    ours, theirs = both(run)
    assert repr(getattr(ng.nn, layer)(2, output_size=3)) == f"{layer}()"
    for a, b in zip((*ours[0], ours[1]), (*theirs[0], theirs[1])):
        assert_close(a, b)


@pytest.mark.parametrize("call", [
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, output_ratio=0.5),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, output_ratio=(.5, .5, .5)),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, 7, _random_samples=u),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, (3, 3, 3), _random_samples=u),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, (2, 2, 2), 3, _random_samples=u),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, 3, _random_samples=u.double()),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, 3, _random_samples=u[0]),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, 3, _random_samples=u[:1]),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, 3, _random_samples=u[:, :2]),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(
        x, 2, 3, _random_samples=lib.cat([u, u], 2)),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x[:, :, :0], 2, 3),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x.int(), 2, 3,
                                                              _random_samples=u.int()),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x.long(), 2, 3),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool2d(x, 2, -1, _random_samples=u),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool3d(x[None], 2, 3),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool3d(x[..., None], 2, (3, 3, 1)),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool3d(x[None], (2, 2), 3),
    lambda lib, x, u: lib.nn.functional.fractional_max_pool3d(x[:, None], 2, 3,
                                                              _random_samples=u[:, :1]),
    lambda lib, x, u: lib.nn.FractionalMaxPool2d(2),
    lambda lib, x, u: lib.nn.FractionalMaxPool3d(2),
    lambda lib, x, u: lib.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5),
    lambda lib, x, u: lib.nn.FractionalMaxPool3d(2, output_ratio=1.5),
])
def test_fractional_max_pool_errors(call):
    x, u = rand(2, 3, 7, 8).astype(np.float32), np.random.default_rng(1).random((2, 3, 2))
    same_error(lambda lib: call(lib, lib.tensor(x), lib.tensor(u, dtype=lib.float32)))


@pytest.mark.parametrize("shape", [(0, 3, 7, 8), (0, 7, 8)])
def test_fractional_max_pool_empty(shape):
    check_against_torch(lambda a: ng.nn.functional.fractional_max_pool2d(a, 2, 3),
                        lambda a: torch.nn.functional.fractional_max_pool2d(a, 2, 3),
                        [np.zeros(shape)])


def test_fractional_max_pool_double_backward():
    u = np.random.default_rng(2).random((1, 2, 2))
    check_double_backward(
        lambda a: ng.nn.functional.fractional_max_pool2d(a * a, 2, 4, _random_samples=ng.tensor(u)),
        lambda a: torch.nn.functional.fractional_max_pool2d(a * a, 2, 4,
                                                            _random_samples=torch.tensor(u)),
        rand(1, 2, 6, 7))
