"""F.ctc_loss and nn.CTCLoss against PyTorch: values and gradients w.r.t. log_probs in float64
and float32, every reduction, zero_infinity, padded and concatenated targets, lengths as tensors
or tuples, impossible alignments (an infinite loss, NaN gradients), empty targets and inputs,
the unbatched form, and PyTorch's errors for bad input."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng
from numpy2gpt.nn.modules.loss import CTCLoss

RTOL = {np.float64: (1e-10, 1e-8), np.float32: (1e-5, 1e-5)}

# T = 7 frames, N = 5 samples, C = 5 classes. Sample 2 needs 5 frames for [4, 4, 4] (a blank
# between repeats) but has 3: its loss is inf. Sample 3 has an empty target, sample 4 no frames.
TARGETS = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4], [2, 0, 0], [1, 3, 0]])
INPUT_LENGTHS = [7, 5, 3, 6, 0]
TARGET_LENGTHS = [3, 2, 3, 0, 2]


def log_probs(shape, seed=0, normalised=True):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True)) if normalised else x


def ctc(lib, targets, input_lengths, target_lengths, as_tensors=True, **kwargs):
    """lp -> lib's ctc_loss with these targets and lengths (tensors, or tuples of ints)."""
    def lengths(v):
        return lib.tensor(v) if as_tensors else tuple(v)
    return lambda lp: lib.nn.functional.ctc_loss(
        lp, lib.tensor(targets), lengths(input_lengths), lengths(target_lengths), **kwargs)


def compare(targets, input_lengths, target_lengths, lp, dtype, as_tensors=True, **kwargs):
    rtol, grad_rtol = RTOL[dtype]
    ours, theirs, *_ = check_against_torch(
        ctc(ng, targets, input_lengths, target_lengths, as_tensors, **kwargs),
        ctc(torch, targets, input_lengths, target_lengths, as_tensors, **kwargs),
        [lp.astype(dtype)], rtol=rtol, grad_rtol=grad_rtol)
    return ours[0], theirs[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_padded_targets(dtype, reduction, zero_infinity):
    ours, theirs = compare(TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, log_probs((7, 5, 5)), dtype,
                           reduction=reduction, zero_infinity=zero_infinity)
    if reduction == "none":  # the impossible sample and the one without frames
        assert ours[2].item() == (0.0 if zero_infinity else float("inf"))
        assert ours[4].item() == (0.0 if zero_infinity else float("inf"))
        assert ours[3].item() > 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_concatenated_targets_and_tuple_lengths(dtype, reduction):
    flat = np.concatenate([t[:n] for t, n in zip(TARGETS, TARGET_LENGTHS)])
    lp = log_probs((7, 5, 5), seed=1)
    for as_tensors in (True, False):
        compare(flat, INPUT_LENGTHS, TARGET_LENGTHS, lp, dtype, as_tensors, reduction=reduction,
                zero_infinity=True)
    padded, _ = compare(TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, lp, dtype, reduction=reduction,
                        zero_infinity=True)
    concatenated, _ = compare(flat, INPUT_LENGTHS, TARGET_LENGTHS, lp, dtype, reduction=reduction,
                              zero_infinity=True)
    np.testing.assert_array_equal(padded.detach().numpy(), concatenated.detach().numpy())


def test_nan_gradient_of_an_impossible_alignment():
    """Without zero_infinity the impossible sample's gradient is NaN over its frames (and 0
    past them), as PyTorch's; the others are finite."""
    lp = log_probs((7, 5, 5))
    ours, theirs, (x,), _ = check_against_torch(
        ctc(ng, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="sum"),
        ctc(torch, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="sum"), [lp])
    g = x.grad.numpy()
    assert np.isnan(g[:3, 2]).all() and (g[3:, 2] == 0).all()
    assert np.isfinite(np.delete(g, 2, axis=1)).all()
    assert (g[:, 4] == 0).all()  # no frames: no gradient


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_longer_sequences_repeats_other_blank_unnormalised(dtype):
    rng = np.random.default_rng(5)
    n, n_classes = 4, 6
    targets = rng.integers(1, n_classes, size=(n, 8))
    targets[0, 2:5] = 3  # repeats: a blank must sit between them
    target_lengths = [8, 5, 1, 6]
    lp = log_probs((20, n, n_classes), seed=2)
    compare(targets, [20, 17, 12, 20], target_lengths, lp, dtype)
    # another blank (no target uses it), log_probs that are not normalised
    compare(targets - 1, [20, 17, 12, 20], target_lengths,
            log_probs((20, n, n_classes), seed=3, normalised=False), dtype, blank=5,
            reduction="none")


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_unbatched(reduction):
    lp = log_probs((6, 4), seed=4)
    for targets, target_length in (([1, 3, 3], 3), ([[1, 3, 3]], 2)):
        ours, theirs = compare(np.array(targets), [6], [target_length], lp, np.float64,
                               reduction=reduction)
        assert ours.shape == theirs.shape
    # 0-d lengths
    for lib in (ng, torch):
        y = lib.nn.functional.ctc_loss(lib.tensor(lp), lib.tensor([1, 3]), lib.tensor(6),
                                       lib.tensor(2), reduction="none")
        assert y.shape == ()


def test_any_target_and_length_dtypes():
    lp = log_probs((7, 5, 5))
    for convert in (np.int32, np.int16, np.uint8, np.float32):
        compare(TARGETS.astype(convert), np.array(INPUT_LENGTHS, np.int32),
                np.array(TARGET_LENGTHS, np.int16), lp, np.float64, zero_infinity=True)


def test_grad_fn_float32_and_module():
    lp = ng.tensor(log_probs((7, 5, 5)), dtype=ng.float32, requires_grad=True)
    args = (ng.tensor(TARGETS), ng.tensor(INPUT_LENGTHS), ng.tensor(TARGET_LENGTHS))
    y = ng.nn.functional.ctc_loss(lp, *args, reduction="none")
    assert y.grad_fn.name() == "CtcLossBackward0" and y.dtype == ng.float32
    loss = CTCLoss(blank=0, zero_infinity=True)(lp, *args)
    loss.backward()
    assert lp.grad.dtype == ng.float32 and np.isfinite(lp.grad.numpy()).all()
    expected = torch.nn.CTCLoss(zero_infinity=True)(
        torch.tensor(lp.detach().numpy()), *(torch.tensor(a.numpy()) for a in args))
    assert_close(loss, expected)
    m = CTCLoss(blank=2, reduction="sum")
    assert (m.blank, m.reduction, m.zero_infinity) == (2, "sum", False)
    assert repr(m) == repr(torch.nn.CTCLoss(blank=2, reduction="sum")) == "CTCLoss()"


def _call(lp=None, targets=None, il=None, tl=None, **kwargs):
    """A ctc_loss call on either library, each argument built from NumPy (or passed as is)."""
    def call(lib):
        def t(v, default):
            v = default if v is None else v
            return lib.tensor(v) if isinstance(v, np.ndarray) else v
        return lib.nn.functional.ctc_loss(
            t(lp, log_probs((7, 5, 5))), t(targets, TARGETS),
            t(il, np.array(INPUT_LENGTHS)), t(tl, np.array(TARGET_LENGTHS)), **kwargs)
    return call


BAD = {
    "reduction": _call(reduction="avg"),
    "blank too large": _call(blank=5),
    "blank negative": _call(blank=-1),
    "float lengths": _call(il=np.array(INPUT_LENGTHS, np.float32)),
    "float target lengths": _call(tl=np.array(TARGET_LENGTHS, np.float64)),
    "bool lengths": _call(il=np.array(INPUT_LENGTHS) > 0),
    "input_lengths size": _call(il=np.array(INPUT_LENGTHS[:4])),
    "target_lengths size": _call(tl=np.array(TARGET_LENGTHS[1:])),
    "input length too long": _call(il=np.array([8, 5, 3, 6, 0])),
    "input length negative": _call(il=np.array([7, -1, 3, 6, 0])),
    "target length negative": _call(tl=np.array([3, 2, -3, 0, 2])),
    "target length > padded width": _call(tl=np.array([3, 2, 4, 0, 2])),
    "targets batch": _call(targets=TARGETS[:4]),
    "concatenated size": _call(targets=TARGETS.reshape(-1)),
    "targets 3-d": _call(targets=TARGETS[None]),
    "targets 0-d": _call(targets=np.array(1)),
    "log_probs 4-d": _call(lp=log_probs((1, 7, 5, 5))),
    "log_probs 1-d": _call(lp=log_probs((5,))),
    "log_probs integer": _call(lp=np.ones((7, 5, 5), np.int64)),
    "log_probs empty": _call(lp=np.zeros((0, 5, 5))),
    "unbatched, 2 lengths": _call(lp=log_probs((7, 5))),
}


@pytest.mark.parametrize("name", BAD)
def test_errors_match_torch(name):
    same_error(BAD[name])


TYPE_ERRORS = {
    "tuple and tensor lengths": _call(il=tuple(INPUT_LENGTHS)),
    "int lengths": _call(il=7, tl=3),
    "float in tuple": _call(il=(7.0, 5, 3, 6, 0), tl=tuple(TARGET_LENGTHS)),
    "float blank": _call(blank=1.0),
    "zero_infinity None": _call(zero_infinity=None),
    "log_probs a list": _call(lp=[[[0.0]]]),
}


@pytest.mark.parametrize("name", TYPE_ERRORS)
def test_type_errors_match_torch(name):
    same_error(TYPE_ERRORS[name], same_message=False)


def test_target_out_of_range_is_an_error():
    """PyTorch reads past its buffer here (a meaningless loss); numpy2gpt refuses."""
    for bad in (5, -1):
        targets = TARGETS.copy()
        targets[1, 0] = bad
        with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
            _call(targets=targets)(ng)
    targets = TARGETS.copy()
    targets[1, 2] = 99  # past sample 1's target length: padding, never read
    compare(targets, INPUT_LENGTHS, TARGET_LENGTHS, log_probs((7, 5, 5)), np.float64)
