"""Second derivatives through the fused norms, softmaxes and losses (their `composed` methods,
which autograd.engine differentiates when create_graph=True) against PyTorch: a gradient penalty
differentiated w.r.t. every input that requires grad (weights too), in float64, for each mode the
op supports; `composed` against the fused forward's values in float32 and float64; float32 (and
float16) staying so through the second derivative."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_double_backward, rand

import numpy2gpt as ng
import numpy2gpt.nn.functional as F

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no NumPy warnings leak


def penalty_grads(lib, fn, arrays, dtype, requires_grad=None):
    """y = fn(lib, *leaves); the gradients g of <v, y> (create_graph=True) w.r.t. the leaves
    that require grad, then the gradients of the penalty sum(g^2 * u) w.r.t. the same leaves and
    v. Returns (y, g, second) as NumPy arrays (None for a structurally zero second derivative)."""
    requires_grad = requires_grad or [True] * len(arrays)
    leaves = [lib.tensor(a.astype(dtype), requires_grad=rg) if a.dtype.kind == "f" else
              lib.tensor(a) for a, rg in zip(arrays, requires_grad)]
    wanted = [t for t in leaves if t.requires_grad]
    y = fn(lib, *leaves)
    v = lib.tensor(rand(*y.shape, seed=3).astype(y.detach().numpy().dtype), requires_grad=True)
    grads = lib.autograd.grad((y * v).sum(), wanted, create_graph=True)
    penalty = sum((g * g * lib.tensor(rand(*g.shape, seed=4 + k).astype(dtype))).sum()
                  for k, g in enumerate(grads))
    second = lib.autograd.grad(penalty, wanted + [v], allow_unused=True)
    return _np(y), [_np(g) for g in grads], [_np(g) for g in second]


def _np(t):
    return None if t is None else t.detach().numpy()


def check_penalty(fn, arrays, requires_grad=None, rtol=1e-9):
    """fn(lib, *leaves) on numpy2gpt and on torch, float64: values, first and second derivatives
    of every input that requires grad (a None on one side: the other is None or all zeros)."""
    ours = penalty_grads(ng, fn, arrays, np.float64, requires_grad)
    theirs = penalty_grads(torch, fn, arrays, np.float64, requires_grad)
    assert_close(ours[0], theirs[0], rtol=rtol, what="value")
    for order, a_list, b_list in zip(("first", "second"), ours[1:], theirs[1:]):
        for k, (a, b) in enumerate(zip(a_list, b_list)):
            if a is None or b is None:
                other = b if a is None else a
                assert other is None or not np.any(other), f"{order} derivative of input {k}"
                continue
            assert_close(a, b, rtol=rtol, what=f"{order} derivative of input {k}")


def check_float32(fn, arrays, requires_grad=None, dtype=np.float32):
    """The value, first and second derivatives keep the dtype and stay close to float64's."""
    y, first, second = penalty_grads(ng, fn, arrays, dtype, requires_grad)
    y64, first64, second64 = penalty_grads(ng, fn, arrays, np.float64, requires_grad)
    rtol = 1e-4 if dtype == np.float32 else 2e-2
    for what, a, b in [("value", y, y64), *[("first", a, b) for a, b in zip(first, first64)],
                       *[("second", a, b) for a, b in zip(second, second64) if a is not None]]:
        assert a.dtype == dtype, what
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(), err_msg=what)


def check_composed_matches_forward(y, dtype):
    """y's fused node re-run through `composed` on its own inputs gives y's values."""
    node = y.grad_fn
    z = node.composed(*node.inputs)
    assert z.dtype == y.dtype and z.shape == y.shape
    rtol = {np.float64: 1e-12, np.float32: 2e-6, np.float16: 2e-3}[dtype]
    np.testing.assert_allclose(z.detach().numpy(), y.detach().numpy(), rtol=rtol,
                               atol=rtol * np.abs(y.detach().numpy()).max(initial=1.0))


# ----- layer_norm, rms_norm, group_norm ----------------------------------------------------------
X = rand(3, 2, 4, scale=1.5)
NORMS = {
    "layer_norm": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), w, b, 1e-3),
                   [X, rand(4, seed=1), rand(4, seed=2)]),
    "layer_norm_2d": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (2, 4), w, b),
                      [X, rand(2, 4, seed=1), rand(2, 4, seed=2)]),
    "layer_norm_no_affine": (lambda lib, x: lib.nn.functional.layer_norm(x, (4,)), [X]),
    "layer_norm_weight_only": (lambda lib, x, w: lib.nn.functional.layer_norm(x, [4], w),
                               [X, rand(4, seed=1)]),
    "layer_norm_no_rows": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), w, b),
                           [rand(0, 4), rand(4, seed=1), rand(4, seed=2)]),
    "layer_norm_zero_width": (lambda lib, x: lib.nn.functional.layer_norm(x, (0,)), [rand(2, 0)]),
    "rms_norm": (lambda lib, x, w: lib.nn.functional.rms_norm(x, (4,), w), [X, rand(4, seed=1)]),
    "rms_norm_2d_eps": (lambda lib, x, w: lib.nn.functional.rms_norm(x, (2, 4), w, eps=0.1),
                        [X, rand(2, 4, seed=1)]),
    "rms_norm_no_weight": (lambda lib, x: lib.nn.functional.rms_norm(x, [4]), [X]),
    "group_norm": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b, eps=1e-3),
                   [rand(2, 4, 3, seed=5), rand(4, seed=1), rand(4, seed=2)]),
    "group_norm_4d": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 1, w, b),
                      [rand(2, 2, 2, 3, seed=5), rand(2, seed=1), rand(2, seed=2)]),
    "group_norm_no_positions": (lambda lib, x: lib.nn.functional.group_norm(x, 2),
                                [rand(2, 4, 0)]),
    "group_norm_no_affine": (lambda lib, x: lib.nn.functional.group_norm(x, 4),
                             [rand(2, 4, 3, seed=5)]),
    # PyTorch's double backward of group_norm with a bias but no weight fails ("shape '[0]' is
    # invalid"): there it gets weight = ones, the same function
    "group_norm_bias_only": (lambda lib, x, b: lib.nn.functional.group_norm(
        x, 2, None if lib is ng else lib.ones_like(b), b),
        [rand(2, 4, 3, seed=5), rand(4, seed=2)]),
    "group_norm_weight_only": (lambda lib, x, w: lib.nn.functional.group_norm(x, 2, w),
                               [rand(2, 4, 3, seed=5), rand(4, seed=1)]),
}


@pytest.mark.parametrize("name", NORMS)
def test_norms_gradient_penalty_against_torch(name):
    fn, arrays = NORMS[name]
    check_penalty(fn, arrays)


@pytest.mark.parametrize("name", NORMS)
def test_norms_second_derivative_of_the_input_alone(name):
    fn, arrays = NORMS[name]
    fixed = arrays[1:]  # the weights as constants: only x requires grad
    check_penalty(fn, arrays, requires_grad=[True] + [False] * len(fixed))


@pytest.mark.parametrize("name", NORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norms_composed_gives_the_forward_values(name, dtype):
    fn, arrays = NORMS[name]
    check_composed_matches_forward(fn(ng, *[ng.tensor(a.astype(dtype), requires_grad=True)
                                            for a in arrays]), dtype)


@pytest.mark.parametrize("name", ["layer_norm", "rms_norm", "group_norm"])
def test_norms_float32_throughout(name):
    check_float32(*NORMS[name])


def test_layer_norm_check_double_backward_helper():
    check_double_backward(lambda x: F.layer_norm(x, (4,)) ** 2,
                          lambda x: torch.nn.functional.layer_norm(x, (4,)) ** 2, X)


# ----- softmax, log_softmax ----------------------------------------------------------------------
SOFTMAXES = {"softmax": "softmax", "log_softmax": "log_softmax"}
SOFTMAX_CASES = [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((5,), 0), ((), 0)]


def _softmax(name, dim, **kw):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, dim, **kw)


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize(("shape", "dim"), SOFTMAX_CASES)
def test_softmax_gradient_penalty_against_torch(name, shape, dim):
    check_penalty(_softmax(name, dim), [rand(*shape, scale=2.0)])


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_check_double_backward_helper(name):
    check_double_backward(lambda x: getattr(F, name)(x, 1) ** 2,
                          lambda x: getattr(torch, name)(x, 1) ** 2, rand(3, 5))


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_large_logits_stay_finite(name):
    """The composed formula subtracts the row max too: logits of 1000 do not overflow exp."""
    check_penalty(_softmax(name, -1), [rand(2, 4) + np.array([[1000.0], [-1000.0]])])


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_dtype_argument(name):
    """dtype= casts before the fused op: float32 in, float64 out, derivatives of the float32
    leaf in float32 like PyTorch's."""
    fn = _softmax(name, 1, dtype=torch.float64)
    fn_ours = _softmax(name, 1, dtype=ng.float64)
    x = rand(3, 5).astype(np.float32)
    ours = penalty_grads(ng, fn_ours, [x], np.float32)
    theirs = penalty_grads(torch, fn, [x], np.float32)
    assert ours[0].dtype == np.float64 and ours[2][0].dtype == np.float32
    for a, b in zip([ours[0], *ours[1], *ours[2]], [theirs[0], *theirs[1], *theirs[2]]):
        assert_close(a, b, rtol=1e-5)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_float16(name):
    """A float16 input stays float16 through the second derivative, as in PyTorch, close to
    PyTorch's float16 results."""
    x = rand(3, 5).astype(np.float16)
    ours = penalty_grads(ng, _softmax(name, 1), [x], np.float16)
    theirs = penalty_grads(torch, _softmax(name, 1), [x], np.float16)
    for a, b in zip([ours[0], *ours[1], *ours[2]], [theirs[0], *theirs[1], *theirs[2]]):
        assert a.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=2e-2,
                                   atol=2e-2 * np.abs(b.astype(np.float64)).max())


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize(("shape", "dim"), SOFTMAX_CASES + [((0, 3), 1), ((2, 0), 1)])
def test_softmax_composed_gives_the_forward_values(name, dtype, shape, dim):
    x = ng.tensor(rand(*shape, scale=3.0).astype(dtype), requires_grad=True)
    check_composed_matches_forward(getattr(F, name)(x, dim), dtype)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_float32_throughout(name):
    check_float32(_softmax(name, 1), [rand(3, 5)])


# ----- cross_entropy, nll_loss -------------------------------------------------------------------
T2 = np.array([1, 0, 3, 3, 2])  # five rows of four classes
T3 = np.array([[1, 0, 3], [2, 2, 1]])  # (N, d1) for logits (N, C, d1) = (2, 4, 3)
W = rand(4, seed=7) ** 2 + 0.5


def _class_loss(kind, reduction, weight, ignore_index, smoothing):
    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight.astype(_np(x).dtype))
        kw = {} if ignore_index is None else {"ignore_index": ignore_index}
        if kind == "nll_loss":
            return lib.nn.functional.nll_loss(x, t, w, reduction=reduction, **kw)
        return lib.nn.functional.cross_entropy(x, t, w, reduction=reduction,
                                               label_smoothing=smoothing, **kw)
    return fn


CLASS_SHAPES = {"2d": (rand(5, 4, scale=2.0), T2), "3d": (rand(2, 4, 3, scale=2.0), T3),
                "1d": (rand(4, scale=2.0), np.array(2))}


@pytest.mark.parametrize(("kind", "smoothing"), [("cross_entropy", 0.0), ("cross_entropy", 0.2),
                                                 ("nll_loss", 0.0)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, W], ids=["no_weight", "weight"])
@pytest.mark.parametrize("ignore_index", [None, 3], ids=["all_rows", "ignore_3"])
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_class_index_losses_gradient_penalty_against_torch(kind, reduction, weight, ignore_index,
                                                           smoothing, shape):
    x, t = CLASS_SHAPES[shape]
    check_penalty(_class_loss(kind, reduction, weight, ignore_index, smoothing), [x, t])


@pytest.mark.parametrize("kind", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_index_losses_composed_gives_the_forward_values(kind, reduction, dtype):
    for weight, ignore_index, smoothing in [(None, None, 0.0), (W, 3, 0.0), (W, 3, 0.3),
                                            (None, 0, 0.1)]:
        if kind == "nll_loss" and smoothing:
            continue
        for x, t in CLASS_SHAPES.values():
            fn = _class_loss(kind, reduction, weight, ignore_index, smoothing)
            check_composed_matches_forward(
                fn(ng, ng.tensor(x.astype(dtype), requires_grad=True), ng.tensor(t)), dtype)


def test_cross_entropy_every_row_ignored_gives_nan_like_torch():
    """'mean' over no kept row is 0 / 0: NaN, and NaN derivatives, as in PyTorch."""
    fn = _class_loss("cross_entropy", "mean", None, 1, 0.0)
    check_penalty(fn, [rand(3, 4), np.array([1, 1, 1])])


def test_cross_entropy_check_double_backward_helper():
    t_ours, t_torch = ng.tensor(T2), torch.tensor(T2)
    check_double_backward(lambda x: F.cross_entropy(x, t_ours, label_smoothing=0.1),
                          lambda x: torch.nn.functional.cross_entropy(x, t_torch,
                                                                      label_smoothing=0.1),
                          rand(5, 4))


def test_class_index_losses_float32_throughout():
    check_float32(_class_loss("cross_entropy", "mean", W, 3, 0.2),
                  [rand(5, 4, scale=2.0), T2], requires_grad=[True, False])


# ----- cross_entropy with class probabilities ---------------------------------------------------
def _probs_loss(reduction, weight, smoothing):
    def fn(lib, x, t):
        w = None if weight is None else lib.tensor(weight.astype(_np(x).dtype))
        return lib.nn.functional.cross_entropy(x, t, w, reduction=reduction,
                                               label_smoothing=smoothing)
    return fn


PROB_SHAPES = {"2d": (5, 4), "3d": (2, 4, 3), "1d": (4,)}


def _probs(shape):
    p = np.exp(rand(*shape, seed=9))
    return p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, W], ids=["no_weight", "weight"])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", PROB_SHAPES)
def test_probability_targets_gradient_penalty_against_torch(reduction, weight, smoothing, shape):
    """Both the logits and the target require grad."""
    x = rand(*PROB_SHAPES[shape], scale=2.0)
    check_penalty(_probs_loss(reduction, weight, smoothing), [x, _probs(x.shape)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_probability_targets_composed_gives_the_forward_values(reduction, dtype):
    for weight, smoothing in [(None, 0.0), (W, 0.3)]:
        for shape in PROB_SHAPES.values():
            x, t = rand(*shape, scale=2.0).astype(dtype), _probs(shape).astype(dtype)
            y = _probs_loss(reduction, weight, smoothing)(
                ng, ng.tensor(x, requires_grad=True), ng.tensor(t, requires_grad=True))
            check_composed_matches_forward(y, dtype)


def test_probability_targets_float32_throughout():
    check_float32(_probs_loss("mean", W, 0.1), [rand(5, 4), _probs((5, 4))])
