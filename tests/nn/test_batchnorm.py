"""F.batch_norm, F.instance_norm and the BatchNorm / InstanceNorm layers against real PyTorch:
outputs, gradients (input, weight, bias), running statistics after training steps, eval mode,
float32 / float64, state dicts both ways, double backward, errors, reprs, and a small MLP
trained with SGD."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, check_double_backward, rand

import numpy2gpt as ng
from numpy2gpt.autograd import gradcheck

LIBS = (ng, torch)


def stats(lib, dtype, c=3, seed=7):
    """(running_mean, running_var) of `lib`: arbitrary values, variances positive."""
    rm = rand(c, seed=seed).astype(dtype)
    rv = (np.abs(rand(c, seed=seed + 1)) + 0.5).astype(dtype)
    return lib.tensor(rm), lib.tensor(rv)


def check_functional(op, shape, dtype, flag, with_weight=True, with_bias=True, momentum=0.1,
                     running=True):
    """op ('batch_norm' / 'instance_norm') on both libraries: output and gradients of x, weight
    and bias under a random upstream gradient, then the running statistics it updated."""
    arrays = [rand(*shape, seed=1, scale=2.0).astype(dtype) + 0.5]
    arrays += [rand(shape[1], seed=2).astype(dtype)] if with_weight else []
    arrays += [rand(shape[1], seed=3).astype(dtype)] if with_bias else []
    buffers = {lib: stats(lib, dtype, shape[1]) if running else (None, None) for lib in LIBS}

    def call(lib):
        def fn(x, *params):
            w = params[0] if with_weight else None
            b = params[-1] if with_bias else None
            return getattr(lib.nn.functional, op)(x, *buffers[lib], w, b, flag, momentum)
        return fn

    check_against_torch(call(ng), call(torch), arrays)
    for ours, theirs in zip(buffers[ng], buffers[torch]):
        if running:
            assert_close(ours, theirs)
            assert ours.grad_fn is None and not ours.requires_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, dtype, training):
    check_functional("batch_norm", shape, dtype, training, momentum=0.3)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_without_affine_or_running_stats(training):
    check_functional("batch_norm", (6, 3, 2), np.float64, training, with_weight=False)
    check_functional("batch_norm", (6, 3, 2), np.float64, training, with_bias=False)
    check_functional("batch_norm", (6, 3), np.float32, training, with_weight=False,
                     with_bias=False)
    # training without running statistics: the batch's, nothing to update
    check_functional("batch_norm", (6, 3), np.float64, True, running=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 3, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_matches_torch(shape, dtype, use_input_stats):
    check_functional("instance_norm", shape, dtype, use_input_stats, momentum=0.3)


def test_instance_norm_defaults_and_float64_running_stats():
    check_functional("instance_norm", (3, 2, 5), np.float64, True, running=False)
    check_functional("instance_norm", (3, 2, 5), np.float32, True, with_weight=False,
                     with_bias=False)
    # PyTorch lets instance_norm's running statistics have another dtype than x
    x = rand(2, 3, 4, seed=5).astype(np.float32)
    out = []
    for lib in LIBS:
        rm, rv = stats(lib, np.float64)
        y = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv)
        out.append((y, rm, rv))
    assert_close(out[0][0], out[1][0])
    for ours, theirs in zip(out[0][1:], out[1][1:]):  # (float32 statistics, float64 buffers)
        assert_close(ours, theirs, rtol=1e-6)


def test_float32_stays_float32_one_node_and_no_graph_for_the_running_stats():
    x = ng.randn(4, 3, 5, requires_grad=True)
    w, b = ng.randn(3, requires_grad=True), ng.randn(3, requires_grad=True)
    rm, rv = ng.zeros(3), ng.ones(3)
    y = ng.nn.functional.batch_norm(x, rm, rv, w, b, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert all(t.grad_fn is None for t in y.grad_fn.inputs)
    assert rm._version == rv._version == 1  # updated in place, once
    assert rm.grad_fn is None and rv.grad_fn is None and not rm.requires_grad
    (y * y).sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == rm.dtype == ng.float32


@pytest.mark.parametrize("op, flag", [("batch_norm", True), ("batch_norm", False),
                                      ("instance_norm", True)])
def test_float16_is_computed_in_float32_like_pytorch(op, flag):
    """Values of a few hundred: their squares overflow float16, so statistics kept in float16
    gave zeros and infinities. PyTorch computes in float32 and rounds once: outputs, gradients
    and running statistics within a few float16 roundings of its."""
    x16 = (rand(4, 3, 5, seed=4, scale=200.0) + 200).astype(np.float16)
    w16, b16 = rand(3, seed=5).astype(np.float16), rand(3, seed=6).astype(np.float16)
    gy16 = rand(4, 3, 5, seed=7).astype(np.float16)
    out = []
    for lib in LIBS:
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x16, w16, b16))
        rm, rv = lib.full((3,), 100.0, dtype=lib.float16), lib.full((3,), 6e4, dtype=lib.float16)
        y = getattr(lib.nn.functional, op)(x, rm, rv, w, b, flag)
        y.backward(lib.tensor(gy16))
        out.append([y.detach().numpy(), rm.numpy(), rv.numpy(), x.grad.numpy(),
                    w.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*out, strict=True):
        assert ours.dtype == theirs.dtype == np.float16
        assert np.isfinite(ours).all()
        scale = np.abs(theirs.astype(np.float64)).max()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=8e-3 * scale)


def test_gradcheck_and_double_backward_float64():
    rm, rv = stats(ng, np.float64)
    x = ng.tensor(rand(4, 3, 2, seed=1), requires_grad=True)
    w = ng.tensor(rand(3, seed=2), requires_grad=True)
    b = ng.tensor(rand(3, seed=3), requires_grad=True)
    assert gradcheck(lambda x, w, b: ng.nn.functional.batch_norm(x, None, None, w, b, True),
                     (x, w, b))
    assert gradcheck(lambda x, w, b: ng.nn.functional.batch_norm(x, rm, rv, w, b), (x, w, b))
    assert gradcheck(lambda x, w, b: ng.nn.functional.instance_norm(x, None, None, w, b),
                     (x, w, b))
    w_arr = rand(3, seed=2)
    for lib_training in (True, False):
        def f(lib, training=lib_training):
            def fn(x):
                rm, rv = stats(lib, np.float64)
                return lib.nn.functional.batch_norm(
                    x, rm, rv, lib.tensor(w_arr), lib.tensor(w_arr[::-1].copy()), training)
            return fn
        check_double_backward(f(ng), f(torch), rand(4, 3, 2, seed=1))
    check_double_backward(lambda x: ng.nn.functional.instance_norm(x),
                          lambda x: torch.nn.functional.instance_norm(x), rand(2, 3, 4, seed=1))


def test_empty_batch_is_returned_and_leaves_the_running_stats():
    for lib in LIBS:
        rm, rv = stats(lib, np.float32)
        y = lib.nn.functional.batch_norm(lib.zeros(0, 3), rm, rv, training=True)
        assert tuple(y.shape) == (0, 3)
        assert_close(rm, stats(torch, np.float32)[0], rtol=0, atol=0)


# ----- the layers ----------------------------------------------------------------------------
def pair(name, *args, dtype="float32", **kwargs):
    """The same layer in both libraries; torch's weight and bias made non-trivial first and
    copied into ours."""
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(ng.nn, name)(*args, **kwargs)
    with torch.no_grad():
        for k, p in enumerate(theirs.parameters()):
            p.copy_(torch.tensor(rand(*p.shape, seed=10 + k)))
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    if dtype == "float64":
        ours.double()
        theirs.double()
    return ours, theirs


def step(ours, theirs, x, seed):
    """One forward and backward of both layers on x: outputs, input and parameter gradients."""
    out = check_against_torch(ours, theirs, [x], seed=seed)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad, what=f"gradient of {name}")
        p.grad, tp.grad = None, None
    return out


def same_state(ours, theirs):
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in ours_sd:
        assert_close(ours_sd[k], theirs_sd[k], what=k)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (3, 4, 5)),
                                         ("BatchNorm2d", (2, 4, 3, 3)),
                                         ("BatchNorm3d", (2, 4, 2, 3, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_layers_train_then_eval(name, shape, dtype, momentum):
    ours, theirs = pair(name, 4, momentum=momentum, dtype=dtype)
    for k in range(3):  # running stats: exponential average, or cumulative for momentum None
        step(ours, theirs, rand(*shape, seed=20 + k, scale=1.0 + k).astype(dtype) + k, seed=k)
        same_state(ours, theirs)
    assert int(ours.num_batches_tracked) == 3 and ours.num_batches_tracked.dtype == ng.int64
    ours.eval()
    theirs.eval()
    step(ours, theirs, rand(*shape, seed=30).astype(dtype), seed=5)  # the running statistics
    same_state(ours, theirs)  # nothing updated in eval
    assert int(ours.num_batches_tracked) == 3


@pytest.mark.parametrize("kwargs", [dict(affine=False), dict(track_running_stats=False),
                                    dict(affine=False, track_running_stats=False),
                                    dict(bias=False), dict(eps=0.5, momentum=1.0)])
def test_batchnorm_options(kwargs):
    ours, theirs = pair("BatchNorm2d", 3, **kwargs)
    for mode in (True, False):  # without running stats, eval uses the batch's as well
        ours.train(mode)
        theirs.train(mode)
        step(ours, theirs, rand(4, 3, 2, 2, seed=60 + mode).astype(np.float32), seed=1)
        same_state(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_track_running_stats_switched_off_after_construction():
    """The buffers stay but training neither updates nor counts them; eval still uses them."""
    ours, theirs = pair("BatchNorm1d", 3)
    step(ours, theirs, rand(5, 3, seed=70).astype(np.float32) + 1, seed=1)
    ours.track_running_stats = theirs.track_running_stats = False
    step(ours, theirs, rand(5, 3, seed=71).astype(np.float32) - 2, seed=2)
    same_state(ours, theirs)
    assert int(ours.num_batches_tracked) == 1
    ours.eval()
    theirs.eval()
    step(ours, theirs, rand(5, 3, seed=72).astype(np.float32), seed=3)


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm1d", (4, 5)),
                                         ("InstanceNorm2d", (2, 4, 3, 3)),
                                         ("InstanceNorm2d", (4, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True, track_running_stats=True)])
def test_instancenorm_layers(name, shape, kwargs):
    ours, theirs = pair(name, 4, **kwargs)
    for k in range(2):
        step(ours, theirs, rand(*shape, seed=40 + k).astype(np.float32) + k, seed=k)
        same_state(ours, theirs)
    ours.eval()
    theirs.eval()
    step(ours, theirs, rand(*shape, seed=50).astype(np.float32), seed=3)
    assert repr(ours) == repr(theirs)


def test_instancenorm_warns_or_raises_on_the_wrong_number_of_channels():
    messages = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.InstanceNorm1d(3)(lib.ones(2, 4, 5))
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1
    for lib in LIBS:
        with pytest.raises(ValueError, match=r"expected input's size at dim=0 to match "
                                             r"num_features \(3\), but got: 4\."):
            lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(4, 5))


def test_state_dict_round_trip_with_torch():
    theirs = torch.nn.BatchNorm2d(3)
    for k in range(2):
        theirs(torch.tensor(rand(4, 3, 2, 2, seed=k).astype(np.float32)))
    ours = ng.nn.BatchNorm2d(3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    same_state(ours, theirs)
    assert ours.num_batches_tracked.dtype == ng.int64 and ours.num_batches_tracked.shape == ()
    ours(ng.tensor(rand(4, 3, 2, 2, seed=9).astype(np.float32)))  # train on: ours changes
    back = torch.nn.BatchNorm2d(3)
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    same_state(ours, back)
    assert int(back.num_batches_tracked) == 3
    ours.double()
    assert ours.running_mean.dtype == ng.float64 and ours.num_batches_tracked.dtype == ng.int64
    assert list(ng.nn.InstanceNorm2d(3).state_dict()) == []


def test_reset_running_stats_and_parameters():
    m = ng.nn.BatchNorm1d(3)
    m(ng.randn(4, 3) * 3 + 1)
    with ng.no_grad():
        m.weight.mul_(2)
    m.reset_running_stats()
    assert m.running_mean.tolist() == [0] * 3 and m.running_var.tolist() == [1] * 3
    assert int(m.num_batches_tracked) == 0 and m.weight.tolist() == [2] * 3
    m(ng.randn(4, 3))
    m.reset_parameters()
    assert m.weight.tolist() == [1] * 3 and m.bias.tolist() == [0] * 3
    assert int(m.num_batches_tracked) == 0 and m.running_mean.tolist() == [0] * 3
    ng.nn.BatchNorm1d(3, track_running_stats=False).reset_running_stats()  # nothing to reset


def test_reprs():
    for args, kwargs in [((3,), {}), ((5,), dict(eps=1e-3, momentum=None, affine=False)),
                         ((2,), dict(bias=False, track_running_stats=False))]:
        for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                     "InstanceNorm2d", "InstanceNorm3d"):
            assert repr(getattr(ng.nn, name)(*args, **kwargs)) == \
                repr(getattr(torch.nn, name)(*args, **kwargs))


# ----- errors ----------------------------------------------------------------------------------
def raised(call):
    """(type, message) of what call(numpy2gpt) and call(torch) raise, with the library's
    name in a printed Size made the same."""
    out = []
    for lib in LIBS:
        with pytest.raises(Exception) as e:
            call(lib)
        out.append((type(e.value), str(e.value).replace("numpy2gpt.Size", "torch.Size")))
    return out


def bn(lib, shape, *args, **kwargs):
    return lib.nn.functional.batch_norm(lib.ones(shape), *args, **kwargs)


ERRORS = [
    lambda lib: bn(lib, (1, 3), None, None, training=True),
    lambda lib: bn(lib, (1, 3, 1), *stats(lib, np.float32), training=True),
    lambda lib: bn(lib, (), None, None, training=True),
    lambda lib: bn(lib, (3,), None, None, training=True),
    lambda lib: bn(lib, (3,), *stats(lib, np.float32)),
    lambda lib: bn(lib, (2, 3), None, None, training=True, eps=0),
    lambda lib: bn(lib, (2, 3), *stats(lib, np.float32), eps=-1),
    lambda lib: bn(lib, (2, 3), None, None),
    lambda lib: bn(lib, (2, 3), lib.zeros(3), None),
    lambda lib: bn(lib, (2, 3), lib.zeros(3), None, training=True),
    lambda lib: bn(lib, (2, 4), *stats(lib, np.float32)),
    lambda lib: bn(lib, (2, 3), lib.zeros(3), lib.ones(4), training=True),
    lambda lib: bn(lib, (2, 3), None, None, lib.ones(4), training=True),
    lambda lib: bn(lib, (2, 3), None, None, None, lib.ones(2), training=True),
    lambda lib: bn(lib, (2, 3), lib.zeros(3, requires_grad=True), lib.ones(3)),
    lambda lib: bn(lib, (2, 3), lib.zeros(3), lib.ones(3, requires_grad=True), training=True),
    lambda lib: bn(lib, (2, 3), *stats(lib, np.float64), training=True),
    lambda lib: bn(lib, (2, 3), None, None, lib.ones(3, dtype=lib.float64), training=True),
    lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 3, dtype=lib.float64),
                                             *stats(lib, np.float32)),
    lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 3, dtype=lib.int64), None, None,
                                             training=True),
    lambda lib: bn(lib, (2, 3), None, None, training=1),
    lambda lib: bn(lib, (2, 3), None, None, training=True, momentum=None),
    lambda lib: bn(lib, (2, 3), [0.0] * 3, [1.0] * 3),
    lambda lib: bn(lib, (2, 3), *stats(lib, np.float32), eps=None),
    lambda lib: lib.nn.functional.batch_norm([1.0, 2.0], None, None, training=True),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3)),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 1, 1)),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), use_input_stats=False),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), lib.zeros(3), None),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), lib.zeros(4), lib.ones(4)),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), None, None, lib.ones(4)),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), None, None,
                                                lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 4), momentum=None),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(3)),
    lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)),
    lambda lib: lib.nn.BatchNorm3d(3)(lib.ones(2, 3, 4, 4)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(1, 3)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 4)),
    lambda lib: lib.nn.BatchNorm1d(3).eval()(lib.ones(1, 4)),
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5)),
    lambda lib: lib.nn.InstanceNorm2d(3)(lib.ones(3, 4)),
    lambda lib: lib.nn.InstanceNorm2d(3)(lib.ones(1, 3, 1, 1)),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    ours, theirs = raised(ERRORS[k])
    assert ours == theirs


def test_a_batch_of_one_still_counts_a_batch():
    """PyTorch counts the batch before F.batch_norm refuses it."""
    for lib in LIBS:
        m = lib.nn.BatchNorm1d(3)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            m(lib.ones(1, 3))
        assert int(m.num_batches_tracked) == 1


# ----- end to end ------------------------------------------------------------------------------
def test_mlp_with_batchnorm_trains_like_torch():
    """Linear-BatchNorm1d-ReLU-Linear, 3 SGD steps from the same weights and data: the same
    losses, running statistics and final weights as PyTorch's."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(),
                                 lib.nn.Linear(8, 3))

    torch.manual_seed(0)
    theirs, ours = build(torch), build(ng)
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 6)).astype(np.float32) * 2 + 1,
                rng.integers(0, 3, 16)) for _ in range(3)]
    losses = []
    for lib, model in ((ng, ours), (torch, theirs)):
        run = []
        for x, y in batches:
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():  # plain SGD, lr 0.1 (torch.optim takes seconds to import)
                for p in model.parameters():
                    p -= 0.1 * p.grad
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    same_state(ours, theirs)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((5, 6)).astype(np.float32)
    assert_close(ours(ng.tensor(x)), theirs(torch.tensor(x)))
