"""The extra activations, distances, losses, Bilinear and channel / alpha dropouts
(nn/functional/distance.py, nn/modules/extra.py) against PyTorch's: values, dtypes and gradients in
float64 and float32, the gradients at the kinks, double backward, reductions, reprs, state dict
keys, seeded initialisation, PyTorch's errors and warnings, and the dropout masks' structure and
statistics (tests/kernels/test_dropout.py checks that they are PyTorch's for a seed)."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    both,
    check_against_torch,
    check_double_backward,
    rand,
)

import numpy2gpt as ng

X = rand(4, 5, seed=0)
Y = rand(4, 5, seed=1)
Z = rand(4, 5, seed=2)
X3 = rand(2, 3, 4, seed=3)
SIGNS = np.where(rand(4, seed=4) > 0, 1.0, -1.0)
SIGNS_45 = np.where(rand(4, 5, seed=5) > 0, 1.0, -1.0)
LABELS = (rand(4, 5, seed=6) > 0).astype(np.float64)
CLASSES = np.array([0, 3, 4, 1])
MULTILABEL = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0]])
COUNTS = np.array([[0.0, 1, 3, 2, 0], [5, 0, 1, 4, 2], [1, 1, 2, 7, 0], [3, 0, 0, 1, 9]])


def compare(fn, tfn, arrays, dtype=np.float64):
    """check_against_torch on leaves of `dtype` (all requiring grad), the default tolerances:
    values and gradients, shapes and dtypes."""
    check_against_torch(fn, tfn, [a.astype(dtype) for a in arrays],
                        requires_grad=[True] * len(arrays))


def target_like(lib, x, array):
    """A target tensor: class indices stay int64, float targets take x's dtype."""
    return lib.tensor(array) if array.dtype.kind in "iu" else like(lib, x, array)


def F(lib):
    return lib.nn.functional


def like(lib, x, array):
    """A constant tensor of `array` in the dtype of leaf x (targets follow the input's dtype)."""
    return lib.tensor(array, dtype=x.dtype)


# name -> (f(lib, *leaves), the leaves' arrays): every leaf requires grad
FUNCTIONAL = {
    "prelu shared slope": (lambda L, x, w: F(L).prelu(x, w), [X3, np.array([0.3])]),
    "prelu per channel": (lambda L, x, w: F(L).prelu(x, w), [X3, np.array([0.1, -0.5, 2.0])]),
    "prelu 1-D": (lambda L, x, w: F(L).prelu(x, w), [X[0], np.array([0.2])]),
    "rrelu eval": (lambda L, x: F(L).rrelu(x, 0.1, 0.3), [X]),
    "threshold": (lambda L, x: F(L).threshold(x, 0.2, -3.0), [X]),
    "hardshrink": (lambda L, x: F(L).hardshrink(x), [X]),
    "hardshrink lambd": (lambda L, x: F(L).hardshrink(x, lambd=1.0), [X]),
    "softshrink": (lambda L, x: F(L).softshrink(x), [X]),
    "softshrink lambd": (lambda L, x: F(L).softshrink(x, 1.0), [X]),
    "tanhshrink": (lambda L, x: F(L).tanhshrink(x), [X]),
    "pairwise_distance": (lambda L, a, b: F(L).pairwise_distance(a, b), [X, Y]),
    "pairwise_distance p=1 keepdim": (
        lambda L, a, b: F(L).pairwise_distance(a, b, p=1, keepdim=True), [X, Y]),
    "pairwise_distance p=3 broadcast": (
        lambda L, a, b: F(L).pairwise_distance(a, b, 3.0, 1e-3), [X, Y[0]]),
    "pairwise_distance p=inf": (
        lambda L, a, b: F(L).pairwise_distance(a, b, float("inf")), [X, Y]),
    "pairwise_distance 1-D": (lambda L, a, b: F(L).pairwise_distance(a, b), [X[0], Y[0]]),
    "pdist": (lambda L, x: F(L).pdist(x), [X]),
    "pdist p=1": (lambda L, x: F(L).pdist(x, 1), [X]),
    "pdist p=3": (lambda L, x: F(L).pdist(x, p=3), [X]),
    "margin_ranking_loss": (
        lambda L, a, b: F(L).margin_ranking_loss(a, b, like(L, a, SIGNS)), [X[:, 0], Y[:, 0]]),
    "margin_ranking_loss margin sum": (
        lambda L, a, b: F(L).margin_ranking_loss(a, b, like(L, a, SIGNS_45), margin=0.5,
                                                 reduction="sum"), [X, Y]),
    "hinge_embedding_loss": (
        lambda L, x: F(L).hinge_embedding_loss(x, like(L, x, SIGNS_45)), [X]),
    "hinge_embedding_loss margin none": (
        lambda L, x: F(L).hinge_embedding_loss(x, like(L, x, SIGNS_45), 0.5, reduction="none"),
        [X]),
    "cosine_embedding_loss": (
        lambda L, a, b: F(L).cosine_embedding_loss(a, b, like(L, a, SIGNS)), [X, Y]),
    "cosine_embedding_loss margin none": (
        lambda L, a, b: F(L).cosine_embedding_loss(a, b, like(L, a, SIGNS), margin=-0.5,
                                                   reduction="none"), [X, Y]),
    "cosine_embedding_loss 1-D": (
        lambda L, a, b: F(L).cosine_embedding_loss(a, b, L.tensor(-1), -0.2), [X[0], Y[0]]),
    "soft_margin_loss": (lambda L, x: F(L).soft_margin_loss(x, like(L, x, SIGNS_45)), [X * 3]),
    "soft_margin_loss none": (
        lambda L, x: F(L).soft_margin_loss(x, like(L, x, SIGNS_45), reduction="none"), [X]),
    "multilabel_soft_margin_loss": (
        lambda L, x: F(L).multilabel_soft_margin_loss(x, like(L, x, LABELS)), [X * 3]),
    "multilabel_soft_margin_loss weight none": (
        lambda L, x, w: F(L).multilabel_soft_margin_loss(x, like(L, x, LABELS), w,
                                                         reduction="none"),
        [X, np.array([0.5, 1.0, 2.0, 0.1, 1.5])]),
    "multi_margin_loss": (
        lambda L, x: F(L).multi_margin_loss(x, L.tensor(CLASSES)), [X]),
    "multi_margin_loss p=2 margin weight sum": (
        lambda L, x: F(L).multi_margin_loss(x, L.tensor(CLASSES), p=2, margin=0.7,
                                            weight=like(L, x, [0.5, 1.0, 2.0, 0.1, 1.5]),
                                            reduction="sum"), [X]),
    "multi_margin_loss none": (
        lambda L, x: F(L).multi_margin_loss(x, L.tensor(CLASSES), reduction="none"), [X]),
    "multi_margin_loss 1-D": (
        lambda L, x: F(L).multi_margin_loss(x, L.tensor([2]), reduction="none"), [X[0]]),
    "multilabel_margin_loss": (
        lambda L, x: F(L).multilabel_margin_loss(x, L.tensor(MULTILABEL)), [X]),
    "multilabel_margin_loss none": (
        lambda L, x: F(L).multilabel_margin_loss(x, L.tensor(MULTILABEL), reduction="none"),
        [X]),
    "multilabel_margin_loss 1-D": (
        lambda L, x: F(L).multilabel_margin_loss(x, L.tensor(MULTILABEL[0]), reduction="none"),
        [X[0]]),
    "poisson_nll_loss": (lambda L, x: F(L).poisson_nll_loss(x, like(L, x, COUNTS)), [X]),
    "poisson_nll_loss full, target grad": (
        lambda L, x, t: F(L).poisson_nll_loss(x, t, full=True, reduction="none"),
        [X, COUNTS + 0.5]),
    "poisson_nll_loss rates": (
        lambda L, x: F(L).poisson_nll_loss(x, like(L, x, COUNTS), log_input=False, eps=1e-3,
                                           reduction="sum"), [np.abs(X)]),
    "gaussian_nll_loss": (
        lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v), [X, Y, np.abs(Z) + 0.1]),
    "gaussian_nll_loss clamped var, full, none": (
        lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v, full=True, eps=0.5,
                                                  reduction="none"), [X, Y, np.abs(Z)]),
    "gaussian_nll_loss one var per sample": (
        lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v, reduction="sum"),
        [X, Y, np.abs(Z[:, 0]) + 0.1]),
    "gaussian_nll_loss (N, 1) var": (
        lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v), [X, Y, np.abs(Z[:, :1]) + 0.1]),
    "gaussian_nll_loss float var": (
        lambda L, x, t: F(L).gaussian_nll_loss(x, t, 0.7), [X, Y]),
    "triplet_margin_loss": (lambda L, a, p, n: F(L).triplet_margin_loss(a, p, n), [X, Y, Z]),
    "triplet_margin_loss p=1 swap none": (
        lambda L, a, p, n: F(L).triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True,
                                                    reduction="none"), [X, Y, Z]),
    "triplet_margin_with_distance_loss": (
        lambda L, a, p, n: F(L).triplet_margin_with_distance_loss(a, p, n), [X, Y, Z]),
    "triplet_margin_with_distance_loss cosine swap sum": (
        lambda L, a, p, n: F(L).triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - F(L).cosine_similarity(u, v),
            margin=0.5, swap=True, reduction="sum"), [X, Y, Z]),
    "bilinear": (lambda L, a, b, w, c: F(L).bilinear(a, b, w, c),
                 [X[:, :3], Y, rand(2, 3, 5, seed=7), rand(2, seed=8)]),
    "bilinear 3-D, no bias": (lambda L, a, b, w: F(L).bilinear(a, b, w),
                              [X3, rand(2, 3, 5, seed=9), rand(2, 4, 5, seed=7)]),
    "bilinear 1-D": (lambda L, a, b, w: F(L).bilinear(a, b, w),
                     [X[0, :3], Y[0], rand(2, 3, 5, seed=7)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_matches_pytorch(name, dtype):
    fn, arrays = FUNCTIONAL[name]
    compare(lambda *a: fn(ng, *a), lambda *a: fn(torch, *a), arrays, dtype)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss",
                                  "cosine_embedding_loss", "soft_margin_loss",
                                  "multilabel_soft_margin_loss", "multi_margin_loss",
                                  "multilabel_margin_loss", "poisson_nll_loss",
                                  "gaussian_nll_loss", "triplet_margin_loss"])
def test_each_reduction_and_the_legacy_flags(name, reduction):
    targets = {"margin_ranking_loss": SIGNS_45, "hinge_embedding_loss": SIGNS_45,
               "cosine_embedding_loss": SIGNS, "soft_margin_loss": SIGNS_45,
               "multilabel_soft_margin_loss": LABELS, "multi_margin_loss": CLASSES,
               "multilabel_margin_loss": MULTILABEL, "poisson_nll_loss": COUNTS}

    def call(L, x, **kw):
        f = getattr(F(L), name)
        if name == "gaussian_nll_loss":
            return f(x, like(L, x, Y), like(L, x, np.abs(Z)), **kw)
        if name == "triplet_margin_loss":
            return f(x, like(L, x, Y), like(L, x, Z), **kw)
        target = target_like(L, x, targets[name])
        if name in ("margin_ranking_loss", "cosine_embedding_loss"):
            return f(x, like(L, x, Y), target, **kw)
        return f(x, target, **kw)

    compare(lambda x: call(ng, x, reduction=reduction),
            lambda x: call(torch, x, reduction=reduction), [X], np.float32)
    if name == "gaussian_nll_loss":
        return  # it has no legacy flags
    size_average, reduce = {"none": (None, False), "sum": (False, None),
                            "mean": (True, True)}[reduction]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warning, on both sides
        compare(lambda x: call(ng, x, size_average=size_average, reduce=reduce),
                lambda x: call(torch, x, size_average=size_average, reduce=reduce), [X])


# ----- gradients exactly at the kinks ------------------------------------------------------------
KINKS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 0.2, -2.0])


@pytest.mark.parametrize("fn", [
    lambda L, x: F(L).prelu(x, like(L, x, [0.25])),
    lambda L, x: F(L).rrelu(x),
    lambda L, x: F(L).threshold(x, 0.5, 9.0),
    lambda L, x: F(L).hardshrink(x),
    lambda L, x: F(L).softshrink(x),
    lambda L, x: F(L).margin_ranking_loss(x, x * 0, like(L, x, [1.0] * 7), 0.5, reduction="sum"),
    lambda L, x: F(L).hinge_embedding_loss(x, like(L, x, [-1.0] * 7), margin=0.5),
    lambda L, x: F(L).multi_margin_loss(x, L.tensor(2)),
    lambda L, x: F(L).multilabel_margin_loss(x, L.tensor([4, 1, -1, 0, 0, 0, 0])),
], ids=["prelu", "rrelu", "threshold", "hardshrink", "softshrink", "margin_ranking_loss",
        "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss"])
def test_gradient_at_the_kinks_is_pytorchs(fn):
    compare(lambda x: fn(ng, x), lambda x: fn(torch, x), [KINKS])


@pytest.mark.parametrize("fn", [
    lambda L, x: F(L).threshold(x, 0.5, 9.0),
    lambda L, x: F(L).hardshrink(x),
    lambda L, x: F(L).softshrink(x),
], ids=["threshold", "hardshrink", "softshrink"])
def test_nan_and_inf_pass_as_in_pytorch(fn):
    """A NaN input stays NaN and passes its gradient on; +-inf are beyond every bound."""
    compare(lambda x: fn(ng, x), lambda x: fn(torch, x),
            [np.array([np.nan, np.inf, -np.inf, 0.3, -2.0])])


@pytest.mark.parametrize("fn, shape", [
    (lambda L, x: F(L).prelu(x, like(L, x, [0.1, -0.5, 2.0])), (2, 3, 4)),
    (lambda L, x: F(L).softshrink(x, 0.3), (4, 5)),
    (lambda L, x: F(L).tanhshrink(x), (4, 5)),
    (lambda L, x: F(L).pairwise_distance(x, like(L, x, Y)), (4, 5)),
    (lambda L, x: F(L).soft_margin_loss(x, like(L, x, SIGNS_45)), (4, 5)),
    (lambda L, x: F(L).multilabel_soft_margin_loss(x, like(L, x, LABELS)), (4, 5)),
    (lambda L, x: F(L).cosine_embedding_loss(x, like(L, x, Y), like(L, x, SIGNS)), (4, 5)),
    (lambda L, x: F(L).poisson_nll_loss(x, like(L, x, COUNTS), full=True), (4, 5)),
    (lambda L, x: F(L).gaussian_nll_loss(like(L, x, Y), like(L, x, Z), x.abs() + 0.1), (4, 5)),
    (lambda L, x: F(L).triplet_margin_loss(x, like(L, x, Y), like(L, x, Z), p=3), (4, 5)),
    (lambda L, x: F(L).bilinear(x, like(L, x, Y), like(L, x, rand(2, 5, 5, seed=7))), (4, 5)),
], ids=["prelu", "softshrink", "tanhshrink", "pairwise_distance", "soft_margin_loss",
        "multilabel_soft_margin_loss", "cosine_embedding_loss", "poisson_nll_loss",
        "gaussian_nll_loss", "triplet_margin_loss", "bilinear"])
def test_double_backward_matches_pytorch(fn, shape):
    check_double_backward(lambda x: fn(ng, x), lambda x: fn(torch, x), rand(*shape, seed=11))


# ----- dtypes ------------------------------------------------------------------------------------
def test_integer_inputs_follow_pytorch():
    ints = [1, -2, 3, 0]
    for fn in (lambda L: F(L).threshold(L.tensor(ints), 1.5, 7.9),
               lambda L: F(L).tanhshrink(L.tensor(ints)),
               lambda L: F(L).pairwise_distance(L.tensor([ints]), L.tensor([[1, 3, 3, 0]])),
               lambda L: F(L).margin_ranking_loss(L.tensor([1.0, 2]), L.tensor([2.0, 0]),
                                                  L.tensor([1, -1])),
               lambda L: F(L).poisson_nll_loss(L.tensor(ints), L.tensor([1, 2, 3, 4]))):
        ours, theirs = both(fn)
        assert_close(ours, theirs, rtol=1e-6)


# ----- layers ------------------------------------------------------------------------------------
LAYERS = {  # name -> (make the layer on either library, its inputs' arrays)
    "PReLU": (lambda L: L.nn.PReLU(), [X3]),
    "PReLU per channel": (lambda L: L.nn.PReLU(3, init=-0.1), [X3]),
    "RReLU eval": (lambda L: L.nn.RReLU(0.1, 0.2).eval(), [X]),
    "RReLU inplace eval": (lambda L: L.nn.RReLU(inplace=True).eval(), [X]),
    "Threshold": (lambda L: L.nn.Threshold(0.1, 20), [X]),
    "Threshold inplace": (lambda L: L.nn.Threshold(0.1, 20.0, inplace=True), [X]),
    "Hardshrink": (lambda L: L.nn.Hardshrink(), [X]),
    "Softshrink": (lambda L: L.nn.Softshrink(0.7), [X]),
    "Tanhshrink": (lambda L: L.nn.Tanhshrink(), [X]),
    "LogSigmoid": (lambda L: L.nn.LogSigmoid(), [X]),
    "Softmax2d": (lambda L: L.nn.Softmax2d(), [X3]),
    "Softmax2d 4-D": (lambda L: L.nn.Softmax2d(), [X3[None]]),
    "Bilinear": (lambda L: L.nn.Bilinear(5, 5, 3), [X, Y]),
    "Bilinear no bias": (lambda L: L.nn.Bilinear(4, 5, 2, bias=False), [X[:, :4], Y]),
    "CosineSimilarity": (lambda L: L.nn.CosineSimilarity(), [X, Y]),
    "CosineSimilarity dim eps": (lambda L: L.nn.CosineSimilarity(0, 1e-3), [X, Y]),
    "PairwiseDistance": (lambda L: L.nn.PairwiseDistance(), [X, Y]),
    "PairwiseDistance p keepdim": (lambda L: L.nn.PairwiseDistance(1.5, 1e-3, True), [X, Y]),
    "Dropout1d eval": (lambda L: L.nn.Dropout1d().eval(), [X3]),
    "Dropout2d eval": (lambda L: L.nn.Dropout2d(0.2).eval(), [X3[None]]),
    "Dropout3d eval": (lambda L: L.nn.Dropout3d(0.1, True).eval(), [X3[None, None]]),
    "AlphaDropout eval": (lambda L: L.nn.AlphaDropout(0.2).eval(), [X]),
    "FeatureAlphaDropout eval": (lambda L: L.nn.FeatureAlphaDropout().eval(), [X3]),
    "MarginRankingLoss": (lambda L: L.nn.MarginRankingLoss(0.3), [X, Y]),
    "TripletMarginLoss": (lambda L: L.nn.TripletMarginLoss(p=1, swap=True), [X, Y, Z]),
    "TripletMarginWithDistanceLoss": (
        lambda L: L.nn.TripletMarginWithDistanceLoss(margin=2.0, reduction="none"), [X, Y, Z]),
    "HingeEmbeddingLoss": (lambda L: L.nn.HingeEmbeddingLoss(2.0, reduction="sum"), [X]),
    "CosineEmbeddingLoss": (lambda L: L.nn.CosineEmbeddingLoss(0.1), [X, Y]),
    "SoftMarginLoss": (lambda L: L.nn.SoftMarginLoss(), [X]),
    "MultiLabelSoftMarginLoss": (
        lambda L: L.nn.MultiLabelSoftMarginLoss(L.tensor([0.5, 1.0, 2.0, 0.1, 1.5])), [X]),
    "MultiMarginLoss": (
        lambda L: L.nn.MultiMarginLoss(2, 0.5, L.tensor([0.5, 1.0, 2.0, 0.1, 1.5])), [X]),
    "MultiLabelMarginLoss": (lambda L: L.nn.MultiLabelMarginLoss(reduction="none"), [X]),
    "PoissonNLLLoss": (lambda L: L.nn.PoissonNLLLoss(full=True), [X]),
    "PoissonNLLLoss legacy": (lambda L: L.nn.PoissonNLLLoss(reduce=False), [X]),
    "GaussianNLLLoss": (lambda L: L.nn.GaussianNLLLoss(full=True, eps=0.1), [X, Y]),
}
LAYER_TARGETS = {"MarginRankingLoss": SIGNS_45, "HingeEmbeddingLoss": SIGNS_45,
                 "CosineEmbeddingLoss": SIGNS, "SoftMarginLoss": SIGNS_45,
                 "MultiLabelSoftMarginLoss": LABELS, "MultiMarginLoss": CLASSES,
                 "MultiLabelMarginLoss": MULTILABEL, "PoissonNLLLoss": COUNTS,
                 "PoissonNLLLoss legacy": COUNTS, "GaussianNLLLoss": np.abs(Z)}


def run_layer(lib, name, dtype):
    """The layer's repr, state dict keys, output, and the inputs' and parameters' gradients."""
    make, arrays = LAYERS[name]
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the legacy flag's deprecation warning)
        layer = make(lib)
    layer.to(getattr(lib, np.dtype(dtype).name))
    leaves = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    args = [x * 1.0 for x in leaves]  # non-leaves, so that in-place layers may write into them
    if name in LAYER_TARGETS:
        args.append(target_like(lib, args[0], LAYER_TARGETS[name]))
    y = layer(*args)
    y.backward(lib.tensor(rand(*y.shape, seed=2).astype(dtype)))
    grads = [x.grad.numpy() for x in leaves] + [p.grad.numpy() for p in layer.parameters()]
    params = [p.detach().numpy() for p in layer.parameters()]
    return repr(layer), list(layer.state_dict()), y.detach().numpy(), grads, params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_pytorch(name, dtype):
    (text, keys, y, grads, params), (ttext, tkeys, ty, tgrads, tparams) = both(
        lambda lib: run_layer(lib, name, dtype))
    assert text == ttext
    assert keys == tkeys
    rtol = {np.float64: 1e-10, np.float32: 1e-5}[dtype]
    assert_close(y, ty, rtol)
    assert len(grads) == len(tgrads)
    for g, tg in zip(grads, tgrads):
        assert_close(g, tg, rtol)
    for p, tp in zip(params, tparams):  # the same seeded initial values
        np.testing.assert_array_equal(p, tp)


@pytest.mark.parametrize("make", [
    lambda L: L.nn.Bilinear(3, 4, 2), lambda L: L.nn.Bilinear(2, 1, 3, dtype=L.float64),
    lambda L: L.nn.PReLU(4, dtype=L.float64)])
def test_default_dtype_and_seeded_initialisation_are_pytorchs(make):
    states = []
    for lib in (ng, torch):
        lib.manual_seed(3)
        states.append({k: v.numpy() for k, v in make(lib).state_dict().items()})
    assert states[0].keys() == states[1].keys()
    for k in states[0]:
        assert states[0][k].dtype == states[1][k].dtype
        np.testing.assert_array_equal(states[0][k], states[1][k])


def test_float32_stays_float32_through_layers_and_gradients():
    x = ng.tensor(X3.astype(np.float32), requires_grad=True)
    out = [ng.nn.PReLU(3)(x), ng.nn.Bilinear(4, 4, 2)(x, x), F(ng).pdist(x[0]),
           F(ng).gaussian_nll_loss(x, x * 0, 0.5),
           F(ng).multi_margin_loss(x[0], ng.tensor([1, 2, 0])),
           F(ng).alpha_dropout(x, 0.3, True), F(ng).dropout2d(x[None], 0.3)]
    total = sum(o.sum() for o in out)
    assert all(o.dtype == ng.float32 for o in out)
    total.backward()
    assert x.grad.dtype == ng.float32


# ----- dropout: structure and statistics ---------------------------------------------------------
@pytest.mark.parametrize("fn, shape, channel_dims", [
    (lambda x: F(ng).dropout1d(x, 0.4), (20, 30, 7), 2),
    (lambda x: F(ng).dropout1d(x, 0.4), (30, 7), 1),
    (lambda x: F(ng).dropout2d(x, 0.4), (20, 30, 3, 4), 2),
    (lambda x: F(ng).dropout3d(x, 0.4), (20, 30, 2, 3, 2), 2),
    (lambda x: F(ng).dropout3d(x, 0.4), (30, 2, 3, 2), 1),
    (lambda x: ng.nn.Dropout2d(0.4)(x), (20, 30, 3, 4), 2),
], ids=["dropout1d", "dropout1d unbatched", "dropout2d", "dropout3d", "dropout3d unbatched",
        "Dropout2d"])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(fn, shape, channel_dims):
    ng.manual_seed(0)
    x = ng.ones(shape, requires_grad=True)
    y = fn(x)
    ya = y.detach().numpy()
    channels = ya.reshape(int(np.prod(shape[:channel_dims])), -1)
    assert np.all(channels == channels[:, :1])  # a channel (dims 0-1, or 0) is kept or dropped
    assert set(np.unique(ya)) == {0.0, np.float32(1 / 0.6)}  # kept ones scaled by 1 / (1 - p)
    assert abs((channels[:, 0] == 0).mean() - 0.4) < 0.1
    y.backward(ng.ones(shape))
    np.testing.assert_array_equal(x.grad.numpy(), ya)  # the gradient is the same mask and scale


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    ng.manual_seed(0)
    x = ng.randn(200000, dtype=ng.float64)
    y = F(ng).alpha_dropout(x, 0.3, training=True)
    assert abs(y.mean().item()) < 0.01 and abs(y.var().item() - 1) < 0.01
    # PyTorch's affine map: kept x -> a x + alpha a p, dropped -> alpha a (p - 1)
    alpha, p = 1.7580993408473766, 0.3
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    xa, ya = x.numpy(), y.numpy()
    dropped = np.isclose(ya, alpha * a * (p - 1))
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(ya[~dropped], a * xa[~dropped] + alpha * a * p)
    # the same two values as PyTorch's for a zero input
    t = torch.nn.functional.alpha_dropout(torch.zeros(1000, dtype=torch.float64), 0.3, True)
    np.testing.assert_allclose(np.unique(t.numpy()), [alpha * a * (p - 1), alpha * a * p])


def test_feature_alpha_dropout_drops_whole_channels():
    ng.manual_seed(1)
    x = ng.zeros((50, 40, 3), requires_grad=True)
    y = F(ng).feature_alpha_dropout(x, 0.5, training=True)
    ya = y.detach().numpy()
    assert np.all(ya == ya[..., :1])
    assert len(np.unique(ya)) == 2
    (y * 2).sum().backward()
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * 0.5 + 1) * 0.5)
    np.testing.assert_allclose(np.unique(x.grad.numpy()), [0.0, 2 * a], rtol=1e-6)


def test_dropout_identity_cases_and_p_one():
    for fn in (lambda L, t: F(L).dropout1d(t, 0.0), lambda L, t: F(L).alpha_dropout(t, 0.5),
               lambda L, t: F(L).feature_alpha_dropout(t, 0.5),
               lambda L, t: F(L).dropout3d(t[None], 0.5, training=False)[0],
               lambda L, t: F(L).dropout1d(t, 1.0), lambda L, t: F(L).alpha_dropout(t, 1.0, True)):
        ours, theirs = both(lambda L, fn=fn: fn(L, L.tensor(X3)))
        assert_close(ours, theirs)


def test_rrelu_training_draws_slopes_in_range():
    ng.manual_seed(0)
    x = ng.tensor(-np.abs(rand(1000, seed=1)) - 0.1, requires_grad=True)
    y = F(ng).rrelu(x, 0.1, 0.3, training=True)
    slopes = y.detach().numpy() / x.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.04
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # the gradient is each element's slope
    pos = ng.tensor(np.abs(rand(10, seed=2)))
    np.testing.assert_array_equal(F(ng).rrelu(pos, training=True).numpy(), pos.numpy())
    layer = ng.nn.RReLU()
    assert not np.allclose(layer(x).detach().numpy(), layer.eval()(x).detach().numpy())


def test_inplace_versions_write_into_the_input():
    for fn in (lambda L, t: F(L).threshold(t, 0.0, -1.0, inplace=True),
               lambda L, t: F(L).rrelu(t, inplace=True)):
        results = []
        for lib in (ng, torch):
            leaf = lib.tensor(X, requires_grad=True)
            t = leaf * 1.0
            y = fn(lib, t)
            y.backward(lib.tensor(Y))
            results.append((t.detach().numpy(), y.detach().numpy(), leaf.grad.numpy()))
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-12)


# ----- errors and warnings -----------------------------------------------------------------------
ERRORS = {
    "prelu channels": lambda L: F(L).prelu(L.ones(2, 3), L.ones(2)),
    "prelu dtypes": lambda L: F(L).prelu(L.ones(2, 3), L.ones(3, dtype=L.float64)),
    "prelu 0-d": lambda L: F(L).prelu(L.tensor(1.0), L.ones(3)),
    "prelu 2-D weight": lambda L: F(L).prelu(L.ones(2, 3), L.ones(1, 3)),
    "prelu integer": lambda L: F(L).prelu(L.tensor([1, -2]), L.tensor([2])),
    "prelu float weight": lambda L: F(L).prelu(L.ones(2), 0.25),
    "rrelu bounds": lambda L: F(L).rrelu(L.ones(2), 0.5, 0.2),
    "rrelu integer": lambda L: F(L).rrelu(L.tensor([1, 2])),
    "threshold bool": lambda L: F(L).threshold(L.tensor([True]), 0, 1),
    "hardshrink integer": lambda L: F(L).hardshrink(L.tensor([1, 2])),
    "softshrink integer": lambda L: F(L).softshrink(L.tensor([1, 2])),
    "softshrink negative": lambda L: F(L).softshrink(L.ones(2), -1.5),
    "softshrink negative float64": lambda L: F(L).softshrink(L.ones(2, dtype=L.float64), -1.0),
    "pdist 1-D": lambda L: F(L).pdist(L.ones(4)),
    "pdist integer": lambda L: F(L).pdist(L.ones(4, 2, dtype=L.int64)),
    "pdist negative p": lambda L: F(L).pdist(L.ones(4, 2), -1),
    "pairwise_distance shapes": lambda L: F(L).pairwise_distance(L.ones(2, 3), L.ones(2, 4)),
    "margin_ranking_loss dims": lambda L: F(L).margin_ranking_loss(L.ones(3), L.ones(3, 1),
                                                                   L.ones(3)),
    "margin_ranking_loss reduction": lambda L: F(L).margin_ranking_loss(
        L.ones(3), L.ones(3), L.ones(3), reduction="bad"),
    "cosine_embedding_loss 2-D target": lambda L: F(L).cosine_embedding_loss(
        L.ones(2, 3), L.ones(2, 3), L.ones(2, 2)),
    "cosine_embedding_loss 0-d target": lambda L: F(L).cosine_embedding_loss(
        L.ones(2, 3), L.ones(2, 3), L.tensor(1)),
    "cosine_embedding_loss 1-D target": lambda L: F(L).cosine_embedding_loss(
        L.ones(3), L.ones(3), L.ones(3)),
    "soft_margin_loss integer": lambda L: F(L).soft_margin_loss(L.tensor([1, 2]),
                                                                L.tensor([1, -1])),
    "multilabel_soft_margin_loss reduction": lambda L: F(L).multilabel_soft_margin_loss(
        L.ones(2, 3), L.ones(2, 3), reduction="bad"),
    "multi_margin_loss p": lambda L: F(L).multi_margin_loss(L.ones(2, 3), L.tensor([0, 1]), p=3),
    "multi_margin_loss 2-D weight": lambda L: F(L).multi_margin_loss(
        L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(2, 3)),
    "multi_margin_loss weight size": lambda L: F(L).multi_margin_loss(
        L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(2)),
    "multi_margin_loss weight dtype": lambda L: F(L).multi_margin_loss(
        L.ones(2, 3), L.tensor([0, 1]), weight=L.ones(3, dtype=L.float64)),
    "multi_margin_loss target range": lambda L: F(L).multi_margin_loss(L.ones(2, 3),
                                                                       L.tensor([0, 3])),
    "multi_margin_loss negative target": lambda L: F(L).multi_margin_loss(L.ones(2, 3),
                                                                          L.tensor([0, -1])),
    "multi_margin_loss target size": lambda L: F(L).multi_margin_loss(L.ones(2, 3),
                                                                      L.tensor([0, 1, 2])),
    "multi_margin_loss float target": lambda L: F(L).multi_margin_loss(L.ones(2, 3),
                                                                       L.tensor([0.0, 1.0])),
    "multi_margin_loss 3-D": lambda L: F(L).multi_margin_loss(L.ones(2, 3, 4), L.tensor([0, 1])),
    "multi_margin_loss integer": lambda L: F(L).multi_margin_loss(L.tensor([[1, 2]]),
                                                                  L.tensor([0])),
    "multilabel_margin_loss target size": lambda L: F(L).multilabel_margin_loss(
        L.ones(2, 3), L.tensor([[0, -1, 2]])),
    "multilabel_margin_loss target range": lambda L: F(L).multilabel_margin_loss(
        L.ones(2, 3), L.tensor([[0, 3, 2], [0, 0, 0]])),
    "multilabel_margin_loss below -1": lambda L: F(L).multilabel_margin_loss(
        L.ones(2, 3), L.tensor([[0, -2, 2], [0, 0, 0]])),
    "multilabel_margin_loss float target": lambda L: F(L).multilabel_margin_loss(
        L.ones(2, 3), L.ones(2, 3)),
    "multilabel_margin_loss empty": lambda L: F(L).multilabel_margin_loss(
        L.ones(2, 0), L.ones(2, 0, dtype=L.int64)),
    "poisson_nll_loss reduction": lambda L: F(L).poisson_nll_loss(L.ones(2), L.ones(2),
                                                                  reduction="bad"),
    "gaussian_nll_loss var size": lambda L: F(L).gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3),
                                                                   L.ones(3)),
    "gaussian_nll_loss (1, 1) var": lambda L: F(L).gaussian_nll_loss(L.ones(2, 3), L.ones(2, 3),
                                                                     L.ones(1, 1)),
    "gaussian_nll_loss negative var": lambda L: F(L).gaussian_nll_loss(
        L.ones(2, 3), L.ones(2, 3), -L.ones(2, 3)),
    "gaussian_nll_loss negative float var": lambda L: F(L).gaussian_nll_loss(
        L.ones(2, 3), L.ones(2, 3), -1.0),
    "gaussian_nll_loss reduction": lambda L: F(L).gaussian_nll_loss(
        L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), reduction="bad"),
    "triplet_margin_loss margin": lambda L: F(L).triplet_margin_loss(L.ones(2, 3), L.ones(2, 3),
                                                                     L.ones(2, 3), margin=0),
    "triplet_margin_loss dims": lambda L: F(L).triplet_margin_loss(L.ones(2, 3), L.ones(2, 3),
                                                                   L.ones(3)),
    "triplet_margin_loss reduction": lambda L: F(L).triplet_margin_loss(
        L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), reduction="x"),
    "triplet_margin_with_distance_loss margin": lambda L: F(L).triplet_margin_with_distance_loss(
        L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), margin=-1),
    "triplet_margin_with_distance_loss positional": lambda L: (
        F(L).triplet_margin_with_distance_loss(L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), None)),
    "bilinear dims": lambda L: F(L).bilinear(L.ones(2, 3), L.ones(5), L.ones(4, 3, 5)),
    "bilinear batch": lambda L: F(L).bilinear(L.ones(2, 3), L.ones(3, 5), L.ones(4, 3, 5)),
    "bilinear input1": lambda L: F(L).bilinear(L.ones(2, 4), L.ones(2, 5), L.ones(4, 3, 5)),
    "bilinear input2": lambda L: F(L).bilinear(L.ones(2, 3), L.ones(2, 4), L.ones(4, 3, 5)),
    "bilinear bias": lambda L: F(L).bilinear(L.ones(2, 3), L.ones(2, 5), L.ones(4, 3, 5),
                                             L.ones(3)),
    "bilinear dtypes": lambda L: F(L).bilinear(L.ones(2, 3), L.ones(2, 5),
                                               L.ones(4, 3, 5, dtype=L.float64), L.ones(4)),
    "bilinear 0-d": lambda L: F(L).bilinear(L.tensor(1.0), L.tensor(1.0), L.ones(4, 3, 5)),
    "dropout1d 1-D": lambda L: F(L).dropout1d(L.ones(3)),
    "dropout1d p": lambda L: F(L).dropout1d(L.ones(3, 2), p=1.5),
    "dropout2d 1-D": lambda L: F(L).dropout2d(L.ones(3)),
    "dropout3d p": lambda L: F(L).dropout3d(L.ones(3), p=-0.1),
    "alpha_dropout p": lambda L: F(L).alpha_dropout(L.ones(3), p=2),
    "alpha_dropout integer": lambda L: F(L).alpha_dropout(L.tensor([1, 2]), training=True),
    "feature_alpha_dropout 1-D": lambda L: F(L).feature_alpha_dropout(L.ones(3), training=True),
    "Dropout2d p": lambda L: L.nn.Dropout2d(1.1),
    "AlphaDropout p": lambda L: L.nn.AlphaDropout(-1),
    "TripletMarginLoss margin": lambda L: L.nn.TripletMarginLoss(margin=0),
    "TripletMarginWithDistanceLoss margin": lambda L: L.nn.TripletMarginWithDistanceLoss(
        margin=-0.5),
    "TripletMarginWithDistanceLoss positional": lambda L: L.nn.TripletMarginWithDistanceLoss(
        None),
    "GaussianNLLLoss positional": lambda L: L.nn.GaussianNLLLoss(True),
    "MultiMarginLoss p": lambda L: L.nn.MultiMarginLoss(p=3),
    "MultiMarginLoss weight": lambda L: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
    "Bilinear in1_features": lambda L: L.nn.Bilinear(0, 2, 3),
    "Softmax2d 2-D": lambda L: L.nn.Softmax2d()(L.ones(2, 3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_pytorchs(name):
    """The same error type and message (numpy2gpt names its classes numpy2gpt.Size, ...; the
    broadcasting error adds the two shapes to PyTorch's message)."""
    raised = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as e, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (dropout2d's warning for a 1-D input)
            ERRORS[name](lib)
        raised.append(e.value)
    ours, theirs = raised
    assert type(ours) is type(theirs), raised
    assert str(ours).replace("numpy2gpt.", "torch.").startswith(str(theirs))


def test_dropout2d_and_dropout3d_warn_as_pytorch():
    for fn in (lambda L: F(L).dropout2d(L.ones(3, 4), training=False),
               lambda L: F(L).dropout2d(L.ones(2, 3, 4), 0.5),
               lambda L: F(L).dropout3d(L.ones(2, 3), 0.5)):
        messages = []
        for lib in (ng, torch):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fn(lib)
            messages.append([str(w.message) for w in caught])
            assert all(w.filename == __file__ for w in caught)  # pointing at the caller
        assert messages[0] == messages[1] and messages[0]
