"""The loss layers, the small activation / Flatten layers and the composed functional ops,
against PyTorch's: the same outputs and gradients, reprs and state dict keys (a class weight is
a buffer)."""

import warnings

import numpy as np
import pytest
import torch

import numpy2gpt as ng

RNG = np.random.default_rng(0)
LOGITS, CLASSES = RNG.standard_normal((6, 4)), RNG.integers(0, 4, 6)
PROBS, TARGETS = RNG.uniform(0.05, 0.95, (6, 4)), RNG.uniform(0, 1, (6, 4))
WEIGHT = RNG.uniform(0.5, 2.0, 4)

CASES = {  # name -> (make the layer, its input, its target)
    "CrossEntropyLoss": (lambda L: L.nn.CrossEntropyLoss(), LOGITS, CLASSES),
    "CrossEntropyLoss weighted": (
        lambda L: L.nn.CrossEntropyLoss(weight=L.tensor(WEIGHT), ignore_index=2,
                                        label_smoothing=0.1), LOGITS, CLASSES),
    "NLLLoss sum": (lambda L: L.nn.NLLLoss(reduction="sum"), LOGITS, CLASSES),
    "MSELoss": (lambda L: L.nn.MSELoss(), LOGITS, TARGETS),
    "L1Loss none": (lambda L: L.nn.L1Loss(reduction="none"), LOGITS, TARGETS),
    "BCELoss": (lambda L: L.nn.BCELoss(weight=L.tensor(WEIGHT)), PROBS, TARGETS),
    "BCEWithLogitsLoss": (lambda L: L.nn.BCEWithLogitsLoss(pos_weight=L.tensor(WEIGHT)),
                          LOGITS * 10, TARGETS),
    "Tanh": (lambda L: L.nn.Tanh(), LOGITS, None),
    "Sigmoid": (lambda L: L.nn.Sigmoid(), LOGITS, None),
    "LeakyReLU": (lambda L: L.nn.LeakyReLU(0.2), LOGITS, None),
    "Flatten": (lambda L: L.nn.Flatten(0, 1), LOGITS, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_layer_matches_pytorchs(name):
    make, x, target = CASES[name]
    results = []
    for lib in (ng, torch):
        layer = make(lib)
        inp = lib.tensor(x, requires_grad=True)
        args = (inp,) if target is None else (inp, lib.tensor(target))
        out = layer(*args)
        out.sum().backward()
        results.append((out.detach().numpy(), inp.grad.numpy(), repr(layer),
                        list(layer.state_dict())))
    (y, g, text, keys), (ty, tg, ttext, tkeys) = results
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)
    assert text == ttext and keys == tkeys


@pytest.mark.parametrize("fn", [
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.0, 1.0, 0.5]),
                                                   L.tensor([1.0, 0.0, 1.0])),
    lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.tensor([-80.0, 80.0]),
                                                               L.tensor([1.0, 0.0])),
], ids=["probabilities 0 and 1: logs clamped at -100", "large logits: no overflow"])
def test_binary_cross_entropy_at_the_extremes_is_pytorchs(fn):
    assert fn(ng).item() == pytest.approx(fn(torch).item(), rel=1e-6)


def test_binary_cross_entropy_refuses_what_pytorch_refuses():
    for lib in (ng, torch):
        with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
            lib.nn.functional.binary_cross_entropy(lib.tensor([1.5]), lib.tensor([1.0]))
        with pytest.raises(ValueError, match="must be the same as input size"):
            lib.nn.functional.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(3))


@pytest.mark.parametrize("name", ["log2", "log10"])
def test_log2_and_log10_values_and_gradients(name):
    results = []
    for lib in (ng, torch):
        x = lib.tensor([0.5, 2.0, 8.0], dtype=lib.float64, requires_grad=True)
        y = getattr(lib, name)(x)
        y.sum().backward()
        results.append((y.tolist(), x.grad.tolist(), str(getattr(lib.tensor([4]), name)().dtype)))
    (y, g, d), (ty, tg, td) = results
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_allclose(g, tg, rtol=1e-15)
    assert d == td[6:]


_X = RNG.normal(0, 8, (4, 5))
_X[0, 0], _X[1, 1], _X[1, 2] = 0.0, 30.0, -800.0  # the kink, and both far ends
_Y = RNG.normal(0, 1, (4, 5))


@pytest.mark.parametrize("fn", [
    lambda F, a, b: F.softplus(a), lambda F, a, b: F.softplus(a, beta=2, threshold=5),
    lambda F, a, b: F.logsigmoid(a), lambda F, a, b: F.normalize(a),
    lambda F, a, b: F.normalize(a, p=1, dim=0), lambda F, a, b: F.normalize(a * 0),
    lambda F, a, b: F.cosine_similarity(a, b), lambda F, a, b: F.cosine_similarity(a, b, dim=0),
    lambda F, a, b: F.cosine_similarity(a, b[:1]),
], ids=["softplus", "softplus beta threshold", "logsigmoid", "normalize", "normalize p=1 dim=0",
        "normalize zeros", "cosine_similarity", "cosine_similarity dim=0",
        "cosine_similarity broadcast"])
def test_composed_functional_ops_match_pytorchs(fn):
    results = []
    for lib in (ng, torch):
        a, b = lib.tensor(_X, requires_grad=True), lib.tensor(_Y, requires_grad=True)
        out = fn(lib.nn.functional, a, b)
        (out * out).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in (a, b)
                                                 if t.grad is not None])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_binary_cross_entropy_with_logits_gradient_at_zero_logits_is_pytorchs():
    """At a logit of exactly 0 (a zero-initialised head) the gradient is sigmoid(0) - t, not the
    0 that autograd gives max(-x, 0) + log(1 + exp(-|x|)) at its kinks."""
    grads = []
    for lib in (ng, torch):
        x = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        t = lib.tensor([0.0, 1.0, 0.25], dtype=lib.float64)
        lib.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="sum").backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [0.5, -0.5, 0.25]


@pytest.mark.parametrize("make, call", [
    (lambda L: L.nn.MSELoss(size_average=False), "mse"),
    (lambda L: L.nn.L1Loss(reduce=False), "mse"),
    (lambda L: L.nn.CrossEntropyLoss(size_average=True, reduce=True), "classes"),
    (lambda L: L.nn.NLLLoss(reduce=False, size_average=False), "classes"),
    (lambda L: L.nn.KLDivLoss(size_average=False), "kl"),
    (lambda L: L.nn.BCELoss(reduction="bad"), "mse"),
], ids=["size_average", "reduce", "both true", "both false", "kl_div", "bad reduction"])
def test_legacy_flags_warn_and_a_bad_reduction_fails_when_called_like_pytorch(make, call):
    """size_average / reduce map onto `reduction` with PyTorch's deprecation warning; a bad
    `reduction` is accepted by the layer and refused by its call, as in PyTorch."""
    seen = []
    for lib in (ng, torch):
        p = lib.tensor(PROBS)
        args = {"mse": (p, lib.tensor(TARGETS)), "classes": (p, lib.tensor(CLASSES)),
                "kl": (p.log(), lib.tensor(TARGETS))}[call]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer = make(lib)
        result = [layer.reduction, [str(w.message) for w in caught]]
        try:
            result.append(tuple(layer(*args).shape))
        except ValueError as e:
            result.append(str(e))
        seen.append(result)
    assert seen[0] == seen[1]
