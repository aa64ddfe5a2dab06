"""The layers around the functional ops of test_functional_more.py (RMSNorm, GroupNorm, ELU, ...,
SmoothL1Loss, HuberLoss, KLDivLoss, Unflatten) against PyTorch's: reprs, state dict keys, default
initialisation, values and gradients in float32 and float64, and constructor errors."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import RTOL, rand

import numpy2gpt as ng

X = rand(2, 4, 3, seed=0, scale=3.0)
TARGET = np.abs(rand(2, 4, 3, seed=1)) / 3

LAYERS = {  # name -> make the layer on either library
    "RMSNorm": lambda L: L.nn.RMSNorm(3),
    "RMSNorm 2-D, eps, no affine": lambda L: L.nn.RMSNorm([4, 3], eps=1e-3,
                                                          elementwise_affine=False),
    "GroupNorm": lambda L: L.nn.GroupNorm(2, 4),
    "GroupNorm no affine": lambda L: L.nn.GroupNorm(1, 4, eps=1e-3, affine=False),
    "GroupNorm no bias": lambda L: L.nn.GroupNorm(4, 4, bias=False),
    "ELU": lambda L: L.nn.ELU(),
    "ELU inplace": lambda L: L.nn.ELU(0.5, inplace=True),
    "CELU": lambda L: L.nn.CELU(2.0),
    "SELU": lambda L: L.nn.SELU(),
    "SELU inplace": lambda L: L.nn.SELU(inplace=True),
    "Mish": lambda L: L.nn.Mish(),
    "Softsign": lambda L: L.nn.Softsign(),
    "Hardtanh": lambda L: L.nn.Hardtanh(-2, 3.0),
    "Hardtanh inplace": lambda L: L.nn.Hardtanh(inplace=True),
    "ReLU6": lambda L: L.nn.ReLU6(),
    "ReLU6 inplace": lambda L: L.nn.ReLU6(inplace=True),
    "Hardswish": lambda L: L.nn.Hardswish(),
    "Hardsigmoid": lambda L: L.nn.Hardsigmoid(inplace=True),
    "GLU": lambda L: L.nn.GLU(1),
    "LogSoftmax": lambda L: L.nn.LogSoftmax(1),
    "Softplus": lambda L: L.nn.Softplus(2, 5),
    "Softplus default": lambda L: L.nn.Softplus(),
    "Softmin": lambda L: L.nn.Softmin(-1),
    "Unflatten": lambda L: L.nn.Unflatten(2, (3, 1)),
    "Unflatten -1": lambda L: L.nn.Unflatten(-1, [1, -1]),
    "Unflatten torch.Size-like": lambda L: L.nn.Unflatten(1, L.Size([2, 2])),
}


def run_layer(lib, make, dtype, target=None):
    """The layer's repr, state dict keys, output and input gradient(s) (leaves copied from X)."""
    layer = make(lib)
    layer.to(getattr(lib, np.dtype(dtype).name))
    x = lib.tensor(X.astype(dtype), requires_grad=True)
    args = [x * 1.0]  # a non-leaf, so that in-place layers may write into it
    if target is not None:
        t = lib.tensor(target.astype(dtype), requires_grad=True)
        args.append(t)
    y = layer(*args)
    y.backward(lib.tensor(rand(*y.shape, seed=2).astype(dtype)))
    grads = [x.grad.numpy()] + ([t.grad.numpy()] if target is not None else [])
    return repr(layer), list(layer.state_dict()), y.detach().numpy(), grads


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_pytorchs(name, dtype):
    (text, keys, y, grads), (ttext, tkeys, ty, tgrads) = (
        run_layer(lib, LAYERS[name], dtype) for lib in (ng, torch))
    assert text == ttext.replace("torch.Size", "numpy2gpt.Size") and keys == tkeys
    assert y.dtype == ty.dtype == dtype and y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=RTOL[dtype], atol=1e-12)
    np.testing.assert_allclose(grads[0], tgrads[0], rtol=RTOL[dtype],
                               atol=RTOL[dtype] * np.abs(tgrads[0]).max())


LOSSES = {
    "SmoothL1Loss": lambda L: L.nn.SmoothL1Loss(),
    "SmoothL1Loss beta 0.5 sum": lambda L: L.nn.SmoothL1Loss(reduction="sum", beta=0.5),
    "SmoothL1Loss beta 0": lambda L: L.nn.SmoothL1Loss(beta=0.0),
    "SmoothL1Loss legacy": lambda L: L.nn.SmoothL1Loss(reduce=False),
    "HuberLoss": lambda L: L.nn.HuberLoss(),
    "HuberLoss delta 2 none": lambda L: L.nn.HuberLoss(reduction="none", delta=2),
    "KLDivLoss batchmean": lambda L: L.nn.KLDivLoss(reduction="batchmean"),
    "KLDivLoss log_target": lambda L: L.nn.KLDivLoss(reduction="sum", log_target=True),
    "KLDivLoss mean": lambda L: L.nn.KLDivLoss(),
    "KLDivLoss legacy": lambda L: L.nn.KLDivLoss(size_average=False),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_layer_matches_pytorchs(name, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KLDivLoss's 'mean', PyTorch's legacy-flag notices
        (text, keys, y, grads), (ttext, tkeys, ty, tgrads) = (
            run_layer(lib, LOSSES[name], dtype, TARGET) for lib in (ng, torch))
    assert text == ttext and keys == tkeys == []
    assert y.dtype == ty.dtype == dtype and y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=RTOL[dtype])
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g, tg, rtol=RTOL[dtype], atol=RTOL[dtype] * np.abs(tg).max())


def test_loss_layers_keep_their_options_like_pytorch():
    for lib in (ng, torch):
        assert lib.nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's notice about the legacy flags
            legacy = lib.nn.KLDivLoss(size_average=False, reduction="batchmean")
        assert legacy.reduction == "sum"
        assert lib.nn.KLDivLoss(log_target=True).log_target is True
        assert lib.nn.SmoothL1Loss(beta=0.25).beta == 0.25
        assert lib.nn.HuberLoss(delta=3).delta == 3
        with pytest.raises(TypeError, match="delta must be a float or int, got: <class 'str'>"):
            lib.nn.HuberLoss(delta="1")
        with pytest.raises(ValueError, match="x is not a valid value for reduction"):
            lib.nn.KLDivLoss(reduction="x")(lib.zeros(2), lib.zeros(2))


def test_kldivloss_mean_warns_from_the_layer():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        ng.nn.KLDivLoss()(ng.zeros(2, 3), ng.full((2, 3), 0.5))


def test_norm_layers_default_init_dtype_and_eps():
    rms, gn = ng.nn.RMSNorm((2, 3)), ng.nn.GroupNorm(2, 4, dtype=ng.float64)
    assert rms.eps is None and rms.normalized_shape == (2, 3)
    assert rms.weight.dtype == ng.float32 and rms.weight.tolist() == [[1.0] * 3] * 2
    assert gn.weight.dtype == gn.bias.dtype == ng.float64
    assert gn.weight.tolist() == [1.0] * 4 and gn.bias.tolist() == [0.0] * 4
    assert ng.nn.RMSNorm(3, elementwise_affine=False).weight is None
    assert ng.nn.GroupNorm(2, 4, affine=False).bias is None
    assert [n for n, _ in ng.nn.GroupNorm(2, 4).named_parameters()] == ["weight", "bias"]


def test_constructor_errors_are_pytorchs():
    for lib in (ng, torch):
        with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by "
                                             r"num_groups \(3\)"):
            lib.nn.GroupNorm(3, 4)
        with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val "
                                                 r"\(1\)"):
            lib.nn.Hardtanh(1, 1)
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found "
                                            "type int"):
            lib.nn.Unflatten(1, 3)
        with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found "
                                            "element of type float at pos 1"):
            lib.nn.Unflatten(1, (2, 1.5))


def test_hardtanh_old_argument_names_warn_like_pytorch():
    for lib in (ng, torch):
        with pytest.warns(FutureWarning, match="is deprecated and renamed to") as record:
            layer = lib.nn.Hardtanh(min_value=-3.0, max_value=2.0)
        assert [str(w.message).split("`")[1] for w in record] == ["min_value", "max_value"]
        assert record[0].filename == __file__
        assert (layer.min_val, layer.max_val) == (-3.0, 2.0)


@pytest.mark.parametrize("shape, dim, sizes", [
    ((2, 5), 1, (2, 3)),  # sizes do not multiply up
    ((2, 6), 1, (-1, 4)),  # -1 cannot be inferred
    ((2, 6), 1, ()),
    ((2, 6), 3, (2, 3)),
    ((2, 6), 1, (-1, -1)),
    ((2, 6), 1, (2, -3)),
    ((2, 0), 1, (-1, 0)),
    ((), 0, (1,)),
])
def test_unflatten_refuses_what_pytorch_refuses(shape, dim, sizes):
    errors = []
    for lib in (ng, torch):
        with pytest.raises((RuntimeError, IndexError)) as info:
            lib.nn.Unflatten(dim, sizes)(lib.zeros(shape))
        errors.append(info.value)
    ours, theirs = errors
    assert type(ours) is type(theirs)
    # PyTorch's message, or for the errors it reports as "unexpected" its inner sentence
    first = str(ours).removeprefix("unflatten: ").split(" at index")[0].split(" because")[0]
    assert first in str(theirs), (str(ours), str(theirs))


def test_unflatten_inverts_flatten_in_a_sequential():
    for lib in (ng, torch):
        model = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Unflatten(1, (4, 3)))
        assert tuple(model(lib.zeros(2, 4, 3)).shape) == (2, 4, 3)
        assert tuple(lib.nn.Unflatten(1, (2, 0, 5))(lib.zeros(2, 0)).shape) == (2, 2, 0, 5)
