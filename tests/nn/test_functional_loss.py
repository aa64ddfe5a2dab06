"""cross_entropy (one fused Function from logits) and nll_loss against PyTorch under both kernel
backends, fast against reference at the library level, and against numerical gradients: class
indices in (C,), (N, C) and (N, C, d1, ...) layouts, ignore_index, weight, label_smoothing,
class-probability targets, all reductions; plus dtypes and bad input. (The kernels themselves:
tests/kernels/test_cross_entropy.py.)"""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import RTOL, assert_close_ulps, rand, same_error

import numpy2gpt as nt
import numpy2gpt.kernels as K
import numpy2gpt.nn.functional as F
from numpy2gpt.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no NumPy warnings leak
TF = torch.nn.functional


@pytest.fixture(params=K.BACKENDS)
def backend(request):
    """Run the test under each kernel backend."""
    with K.backend(request.param):
        yield request.param


def targets(shape, n_classes, seed=1, ignore=-100, n_ignored=2):
    """Random class indices with `n_ignored` entries set to `ignore`."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, shape)
    flat = t.reshape(-1)
    flat[rng.choice(flat.size, min(n_ignored, flat.size), replace=False)] = ignore
    return t


def run(lib, fn, x_arr, t_arr, dtype, weight=None, t_grad=False, **kw):
    """loss, dloss/dx (and dloss/dtarget for probabilities) under a random upstream gradient."""
    x = lib.tensor(x_arr.astype(dtype), requires_grad=True)
    t = lib.tensor(t_arr.astype(dtype) if t_arr.dtype.kind == "f" else t_arr,
                   requires_grad=t_grad)
    w = None if weight is None else lib.tensor(weight.astype(dtype))
    loss = fn(x, t, weight=w, **kw)
    seed = rand(*loss.shape, seed=9).astype(dtype) + 2.0
    loss.backward(lib.tensor(seed))
    to_np = (lambda a: a.detach().numpy()) if lib is torch else (lambda a: a._data)
    return (to_np(loss), to_np(x.grad), None if not t_grad else to_np(t.grad), loss.dtype,
            x.grad.dtype)


W5 = np.array([0.7, 1.3, 0.2, 2.0, 0.9])
# (input shape, kwargs): C = 5 classes throughout
CLASS_CASES = [
    ((6, 5), {}),
    ((6, 5), dict(reduction="sum")),
    ((6, 5), dict(reduction="none")),
    ((6, 5), dict(label_smoothing=0.2)),
    ((6, 5), dict(weight=W5)),
    ((6, 5), dict(weight=W5, label_smoothing=0.3)),
    ((6, 5), dict(weight=W5, label_smoothing=0.3, reduction="none")),
    ((6, 5), dict(weight=W5, reduction="sum", label_smoothing=1.0)),
    ((6, 5), dict(ignore_index=3)),  # a real class can be the ignored one
    ((5,), {}),
    ((5,), dict(reduction="none", label_smoothing=0.1)),
    ((2, 5, 3, 2), {}),
    ((2, 5, 3, 2), dict(reduction="none", weight=W5)),
    ((2, 5, 4), dict(label_smoothing=0.1, weight=W5)),
]


def _split(kw):
    kw = dict(kw)
    return kw.pop("weight", None), kw


def _class_target(shape, kw):
    t_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    ignore = kw.get("ignore_index", -100)
    return targets(t_shape, 5, ignore=ignore, n_ignored=0 if len(shape) == 1 else 2)


def _matches_torch(name, x, t, dtype, kw):
    """Loss `name` (with kw's weight) against PyTorch's: shape, dtypes, value and input gradient;
    returns (loss, grad, weight, the other keywords)."""
    weight, kw = _split(kw)
    loss, gx, _, ldt, gdt = run(nt, getattr(F, name), x, t, dtype, weight, **kw)
    tloss, tgx, _, _, _ = run(torch, getattr(TF, name), x, t, dtype, weight, **kw)
    assert loss.shape == tloss.shape and ldt == dtype and gdt == dtype
    assert_close_ulps(loss, tloss, RTOL[dtype])
    assert_close_ulps(gx, tgx, RTOL[dtype])
    return loss, gx, weight, kw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", CLASS_CASES)
def test_cross_entropy_class_indices_match_torch(dtype, shape, kw, backend):
    _matches_torch("cross_entropy", rand(*shape, scale=2.0), _class_target(shape, kw), dtype, kw)


@pytest.mark.parametrize("shape,kw", CLASS_CASES)
def test_cross_entropy_fast_equals_reference(shape, kw):
    x, t = rand(*shape, scale=2.0), _class_target(shape, kw)
    weight, kw = _split(kw)
    loss, gx, _, _, _ = run(nt, F.cross_entropy, x, t, np.float64, weight, **kw)
    with K.backend("reference"):
        closs, cgx, _, _, _ = run(nt, F.cross_entropy, x, t, np.float64, weight, **kw)
    np.testing.assert_allclose(loss, closs, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gx, cgx, rtol=1e-10, atol=1e-14)


PROB_CASES = [((4, 5), {}), ((4, 5), dict(reduction="none")),
              ((4, 5), dict(weight=W5, label_smoothing=0.2)),
              ((2, 5, 3), dict(reduction="sum", weight=W5)), ((5,), dict(label_smoothing=0.1))]


def _prob_target(shape, class_dim):
    p = np.exp(rand(*shape, seed=4))
    return p / p.sum(class_dim, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", PROB_CASES)
def test_cross_entropy_probabilities_match_torch(dtype, shape, kw, backend):
    x, t = rand(*shape, scale=2.0), _prob_target(shape, 1 if len(shape) > 1 else 0)
    weight, kw = _split(kw)
    loss, gx, gt, ldt, _ = run(nt, F.cross_entropy, x, t, dtype, weight, t_grad=True, **kw)
    tloss, tgx, tgt, _, _ = run(torch, TF.cross_entropy, x, t, dtype, weight, t_grad=True, **kw)
    assert loss.shape == tloss.shape and ldt == dtype
    assert_close_ulps(loss, tloss, RTOL[dtype])
    assert_close_ulps(gx, tgx, RTOL[dtype])
    assert_close_ulps(gt, tgt, RTOL[dtype])  # the target gets a gradient too
    with K.backend("fast" if backend == "reference" else "reference"):  # and the other kernels
        closs, cgx, cgt, _, _ = run(nt, F.cross_entropy, x, t, dtype, weight, t_grad=True, **kw)
    if dtype == np.float64:
        for a, b in ((loss, closs), (gx, cgx), (gt, cgt)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


NLL_CASES = [((6, 5), {}), ((6, 5), dict(weight=W5, reduction="sum")),
             ((6, 5), dict(reduction="none", ignore_index=1)), ((5,), {}),
             ((2, 5, 3), dict(weight=W5))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", NLL_CASES)
def test_nll_loss_matches_torch(dtype, shape, kw):
    x, t = rand(*shape), _class_target(shape, kw)
    _matches_torch("nll_loss", x, t, dtype, kw)


@pytest.mark.parametrize("kw", [{}, dict(reduction="none", label_smoothing=0.2),
                                dict(weight=W5, label_smoothing=0.1, reduction="sum")])
def test_cross_entropy_gradcheck(kw):
    weight, kw = _split(kw)
    w = None if weight is None else nt.tensor(weight)
    t = nt.tensor(np.array([[0, 4], [-100, 2], [3, 3]]))
    x = nt.tensor(rand(3, 5, 2, seed=2), requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, t, weight=w, **kw), (x,))


def test_cross_entropy_probabilities_gradcheck_both_inputs():
    x = nt.tensor(rand(3, 4, seed=2), requires_grad=True)
    t = nt.tensor(_prob_target((3, 4), 1), requires_grad=True)
    w = nt.tensor(W5[:4])
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.3), (x, t))


def test_nll_loss_gradcheck():
    x = nt.tensor(rand(4, 3, seed=2), requires_grad=True)
    t = nt.tensor(np.array([2, 0, -100, 1]))
    assert gradcheck(lambda a: F.nll_loss(a, t, weight=nt.tensor(W5[:3])), (x,))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_ignored_row_with_minus_inf_logits_adds_nothing_like_torch(backend, dtype):
    """An ignored row holding -inf (at class 0, where ignored rows point, and elsewhere) adds 0
    to the loss and gets a zero gradient, with and without label smoothing and class weights,
    for cross_entropy and nll_loss: no 0 * inf = NaN, and no NumPy warning."""
    x = rand(4, 5)
    x[1, [0, 3]] = -np.inf  # row 1 is ignored
    t = np.array([2, -100, 4, 0])
    for fn, tfn in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
        for kw in ({}, dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.2),
                   dict(weight=W5, label_smoothing=0.1)):
            if fn is F.nll_loss and "label_smoothing" in kw:
                continue
            weight = kw.pop("weight", None)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                loss, gx, _, _, _ = run(nt, fn, x, t, dtype, weight, **kw)
            tloss, tgx, _, _, _ = run(torch, tfn, x, t, dtype, weight, **kw)
            assert np.isfinite(loss).all() and np.isfinite(gx).all(), (fn.__name__, kw)
            np.testing.assert_allclose(loss, tloss, rtol=RTOL[dtype] * 10)
            np.testing.assert_allclose(gx, tgx, rtol=RTOL[dtype] * 10, atol=1e-6)


def test_all_ignored_like_torch(backend):
    x = rand(3, 5)
    t = np.full(3, -100)
    for kw in ({}, dict(label_smoothing=0.1), dict(reduction="sum")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # 0 / 0 = NaN silently, like PyTorch
            loss, gx, _, _, _ = run(nt, F.cross_entropy, x, t, np.float64, **kw)
            if not kw.get("label_smoothing"):
                nloss, ngx, _, _, _ = run(nt, F.nll_loss, x, t, np.float64, **kw)
        tloss, tgx, _, _, _ = run(torch, TF.cross_entropy, x, t, np.float64, **kw)
        np.testing.assert_array_equal(loss, tloss)  # NaN for 'mean', 0 for 'sum'
        np.testing.assert_array_equal(gx, tgx)  # zeros
        if not kw.get("label_smoothing"):
            np.testing.assert_array_equal(nloss, tloss)
            np.testing.assert_array_equal(ngx, tgx)
    # weights that sum to zero over the kept rows: NaN loss and NaN gradients, like PyTorch
    w = np.array([1.0, 0, 0, 0, 0])
    for kw in ({}, dict(label_smoothing=0.1)):  # NaN with smoothing too (not its x / 0 = inf)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss, gx, _, _, _ = run(nt, F.cross_entropy, x, np.array([-100, 1, 2]), np.float64, w,
                                    **kw)
        tloss, tgx, _, _, _ = run(torch, TF.cross_entropy, x, np.array([-100, 1, 2]), np.float64,
                                  w, **kw)
        np.testing.assert_array_equal(loss, tloss)
        np.testing.assert_array_equal(gx, tgx)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch(reduction, backend):
    x = nt.zeros(0, 5, requires_grad=True)
    loss = F.cross_entropy(x, nt.zeros(0, dtype=nt.int64), reduction=reduction)
    tloss = TF.cross_entropy(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long),
                             reduction=reduction)
    np.testing.assert_array_equal(loss._data, tloss.numpy())
    loss.sum().backward()
    assert x.grad.shape == (0, 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_logits_and_confident_rows(dtype, backend):
    """Logits in the thousands, and rows so confident that the loss is ~1e-6: full precision."""
    x = rand(8, 7, scale=1000.0)
    x[:4] = rand(4, 7)
    x[:4, 2] += 15.0  # p(class 2) ~ 1 - 1e-6
    t = np.array([2, 2, 2, 2, 0, 1, 5, 6])
    for kw in ({}, dict(reduction="none"), dict(label_smoothing=0.05, reduction="none")):
        loss, gx, _, _, _ = run(nt, F.cross_entropy, x, t, dtype, **kw)
        tloss, tgx, _, _, _ = run(torch, TF.cross_entropy, x, t, dtype, **kw)
        assert np.isfinite(loss).all()
        # float32 resolves a loss of 1e-6 only to ~1 ulp of 1 (the sum of exps is 1 + 1e-6)
        atol = 2.5e-7 if dtype == np.float32 else 0
        np.testing.assert_allclose(loss, tloss, rtol=RTOL[dtype], atol=atol)
        assert_close_ulps(gx, tgx, RTOL[dtype])


def test_integer_target_dtypes_and_float32_probabilities():
    x = rand(4, 5)
    ref = TF.cross_entropy(torch.tensor(x), torch.tensor([1, 0, 4, 2])).item()
    for dt in (np.int64, np.int32, np.uint8, np.int16):
        got = F.cross_entropy(nt.tensor(x), nt.tensor(np.array([1, 0, 4, 2], dtype=dt))).item()
        assert abs(got - ref) <= 1e-12 * abs(ref)
    # float64 probabilities with float32 logits: cast to float32, no silent float64
    p = _prob_target((4, 5), 1)
    a = nt.tensor(x.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(a, nt.tensor(p))
    loss.backward()
    assert loss.dtype == np.float32 and a.grad.dtype == np.float32


def test_legacy_size_average_and_reduce():
    x, t = nt.tensor(rand(4, 3)), nt.tensor(np.array([0, 2, 1, 1]))
    per_row = F.cross_entropy(x, t, reduction="none")._data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.allclose(F.cross_entropy(x, t, size_average=False).item(), per_row.sum())
        assert F.cross_entropy(x, t, reduce=False).shape == (4,)
        assert np.allclose(F.nll_loss(x, t, None, True).item(), -x._data[range(4), t._data].mean())


def test_retain_graph_twice_gives_the_same_gradient():
    a = nt.tensor(rand(4, 5), requires_grad=True)
    loss = F.cross_entropy(a, nt.tensor(np.array([0, 1, 2, 3])), label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = a.grad._data.copy()
    loss.backward()
    np.testing.assert_allclose(a.grad._data, 2 * first, rtol=1e-14)


# ----- bad input ---------------------------------------------------------------------------------
X = nt.tensor(rand(3, 5))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_target_out_of_range(fn):
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds.*\[0, 4\] for 5 classes"):
        fn(X, nt.tensor([1, 5, 0]))
    with pytest.raises(IndexError, match=r"Target -1 is out of bounds.*ignore_index=-100"):
        fn(X, nt.tensor([1, -1, 0]))
    fn(X, nt.tensor([1, -1, 0]), ignore_index=-1)  # fine when it is the ignore_index
    with pytest.raises(IndexError, match=r"Target 7 is out of bounds"):
        fn(nt.tensor(rand(2, 5, 3)), nt.tensor(np.array([[0, 1, 2], [3, 7, 4]])))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_float_or_bool_class_targets(fn):
    with pytest.raises(RuntimeError, match=r"expected target dtype to be Long or Byte \(class "
                                           r"indices\), but got numpy2gpt.float32.*class "
                                           r"probabilities.*\[3, 5\].*\[3\]"):
        fn(X, nt.tensor([1.0, 4.0, 0.0]))
    with pytest.raises(RuntimeError, match="but got numpy2gpt.bool"):
        fn(X, nt.tensor([True, False, True]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_shape_mismatches(fn):
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)"):
        fn(X, nt.tensor([1, 4]))
    with pytest.raises(RuntimeError, match=r"expected target of shape \[3\].*\[3, 5\].*\[3, 1\]"):
        fn(X, nt.tensor([[1], [4], [0]]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        fn(nt.tensor(rand(2, 5, 4)), nt.zeros(2, 3, dtype=nt.int64))
    same_error(lambda lib: getattr(lib.nn.functional, fn.__name__)(lib.tensor(1.5),
                                                                   lib.tensor(0)))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_bad_weight_reduction_and_input_dtype(fn):
    t = nt.tensor([1, 4, 0])
    with pytest.raises(RuntimeError, match=r"for all 5 classes or no classes but got weight "
                                           r"tensor of shape: \[4\]"):
        fn(X, t, weight=nt.ones(4, dtype=nt.float64))
    with pytest.raises(RuntimeError, match="weight has dtype numpy2gpt.float32 but input has "
                                           "numpy2gpt.float64"):
        fn(X, t, weight=nt.ones(5))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        fn(X, t, weight=nt.ones(5, dtype=nt.float64, requires_grad=True))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        fn(X, t, reduction="avg")
    same_error(lambda lib: getattr(lib.nn.functional, fn.__name__)(lib.tensor([[1, 2], [3, 4]]),
                                                                   lib.tensor([0, 1])))


def test_bad_label_smoothing_and_ignore_index_with_probabilities():
    t = nt.tensor([1, 4, 0])
    for eps in (1.5, -0.1):
        with pytest.raises(RuntimeError, match=f"label_smoothing must be between 0.0 and 1.0. "
                                               f"Got: {eps}"):
            F.cross_entropy(X, t, label_smoothing=eps)
    p = nt.tensor(_prob_target((3, 5), 1))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(X, p, ignore_index=2)
    with pytest.raises(RuntimeError, match=r"class probabilities with the input's shape \[3, 5\], "
                                           r"got target shape \[3, 4\]"):
        F.cross_entropy(X, nt.tensor(_prob_target((3, 4), 1)))
