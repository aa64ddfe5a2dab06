"""The torch-level functions beside nn.functional and the Tensor methods (torch.dropout(x, p,
train), torch.embedding(weight, indices), torch.kl_div(x, t, 1), torch.abs_(x), ...): each
against PyTorch's of the same name, called the same way: values, dtypes, gradients, errors."""

import numpy as np
import pytest
import torch
from torch_compare import both, check_against_torch, rand, same_error

import numpy2gpt as ng


def _r(*shape, seed=0, dtype=np.float64):
    # (seed + 10: check_against_torch's upstream gradient is rand(seed=0) of the output's shape)
    return rand(*shape, seed=seed + 10).astype(dtype)


def _pos(*shape, seed=0):
    return np.abs(rand(*shape, seed=seed)) + 0.1


def _long(values):
    return np.array(values, dtype=np.int64)


def _sign(n, seed=0):
    return np.where(rand(n, seed=seed) > 0, 1.0, -1.0)


def _log_probs(t, n, c, seed=0):
    x = rand(t, n, c, seed=seed)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# name, inputs (arrays become leaves), keyword arguments[, which inputs require grad (default:
# the floating arrays)]
NN_CASES = [
    ("cosine_similarity", [_r(3, 4), _r(3, 4, seed=1)], {"dim": 1}),
    ("pairwise_distance", [_r(3, 4), _r(3, 4, seed=1)], {"keepdim": True}),
    ("pdist", [_r(4, 3)], {"p": 3.0}),
    ("dist", [_r(3, 4), _r(4, seed=1)], {}),
    ("dist", [_r(3, 4), _r(4, seed=1), 3], {}),
    ("dist", [_r(3, 4), _r(3, 4, seed=1).astype(np.float32)], {"p": float("inf")}),
    ("dropout", [_r(3, 4), 0.0, True], {}),
    ("dropout", [_r(3, 4), 0.5, False], {}),
    ("alpha_dropout", [_r(3, 4), 0.3, False], {}),
    ("layer_norm", [_r(2, 3, 4), [3, 4], _r(3, 4, seed=1), _r(3, 4, seed=2)], {"eps": 1e-3}),
    ("layer_norm", [_r(2, 3, 4), (4,)], {}),
    ("group_norm", [_r(2, 4, 3), 2, _r(4, seed=1), _r(4, seed=2)], {}),
    ("rms_norm", [_r(2, 3, 4), [4], _r(4, seed=1)], {"eps": 1e-4}),
    ("batch_norm", [_r(4, 3, 2), _r(3, seed=1), _r(3, seed=2), None, None, True, 0.1, 1e-5,
                    True], {}),
    ("batch_norm", [_r(4, 3), None, None, _r(3, seed=1), _pos(3, seed=2), False, 0.1, 1e-5,
                    False], {}, [True, False, False, False, False]),
    ("instance_norm", [_r(2, 3, 5), _r(3, seed=1), None, None, None, True, 0.1, 1e-5, True], {}),
    ("embedding", [_r(5, 3), _long([[1, 4], [4, 0]])], {}),
    ("embedding", [_r(5, 3), _long([1, 4, 4, 0])], {"padding_idx": 4}),
    ("embedding", [_r(5, 3), _long([1, 4, 4, 0]), -2], {}),
    ("conv1d", [_r(2, 4, 7), _r(6, 2, 3, seed=1), _r(6, seed=2), 2, 1, 1, 2], {}),
    ("conv2d", [_r(1, 2, 5, 5), _r(3, 2, 3, 3, seed=1)], {"padding": "same"}),
    ("conv3d", [_r(1, 2, 4, 4, 4), _r(3, 2, 2, 2, 2, seed=1), None, 1, 1], {}),
    ("conv_transpose1d", [_r(2, 4, 5), _r(4, 3, 3, seed=1), _r(3, seed=2), 2, 1, 1], {}),
    ("conv_transpose2d", [_r(1, 2, 3, 3), _r(2, 3, 2, 2, seed=1)], {"stride": 2}),
    ("conv_transpose3d", [_r(1, 2, 2, 2, 2), _r(2, 1, 2, 2, 2, seed=1)], {"dilation": 2}),
    ("max_pool1d", [_r(2, 3, 7), 3], {}),
    ("max_pool1d", [_r(2, 3, 7), 3, 2, 1, 1, True], {}),
    ("max_pool2d", [_r(1, 2, 5, 5), 2], {"stride": 1, "dilation": 2}),
    ("max_pool3d", [_r(1, 2, 4, 4, 4), 2], {}),
    ("max_pool1d_with_indices", [_r(2, 3, 7), 3, []], {"padding": 1}),
    ("avg_pool1d", [_r(2, 3, 7), 3, 2, 1, True, False], {}),
    ("adaptive_avg_pool1d", [_r(2, 3, 7), 3], {}),
    ("adaptive_max_pool1d", [_r(2, 3, 7), 4], {}),
    ("pixel_shuffle", [_r(1, 8, 2, 3), 2], {}),
    ("pixel_unshuffle", [_r(1, 2, 4, 6), 2], {}),
    ("channel_shuffle", [_r(2, 6, 3), 3], {}),
    ("channel_shuffle", [_r(1, 4, 2, 2), 2], {}),
    ("constant_pad_nd", [_r(2, 3), [1, 2, 0, -1]], {"value": 2.5}),
    ("constant_pad_nd", [_r(2, 3), (1, 1)], {}),
    ("kl_div", [_r(3, 4), _pos(3, 4, seed=1)], {}),
    ("kl_div", [_r(3, 4), _r(3, 4, seed=1), 2], {"log_target": True}),
    ("kl_div", [_r(3, 4), _pos(3, 4, seed=1), 1], {}),
    ("kl_div", [_r(3, 4), _pos(3, 4, seed=1), 5], {}),
    ("binary_cross_entropy_with_logits",
     [_r(3, 4), _pos(3, 4, seed=1) / 3, None, _pos(4, seed=2)], {"reduction": 2},
     [True, True, False, False]),
    ("binary_cross_entropy_with_logits", [_r(3, 4), _pos(3, 4, seed=1) / 3, _pos(4), None, 1],
     {}, [True, True, False]),
    ("binary_cross_entropy_with_logits", [_r(3, 4), _pos(3, 4, seed=1) / 3], {}),
    ("margin_ranking_loss", [_r(5), _r(5, seed=1), _sign(5, seed=2), 0.3], {}),
    ("hinge_embedding_loss", [_r(5), _sign(5, seed=2), 0.5, 0], {}),
    ("cosine_embedding_loss", [_r(5, 3), _r(5, 3, seed=1), _sign(5, seed=2)],
     {"margin": 0.1, "reduction": 2}),
    ("triplet_margin_loss", [_r(4, 3), _r(4, 3, seed=1), _r(4, 3, seed=2)],
     {"margin": 2.0, "swap": True}),
    ("poisson_nll_loss", [_r(4, 3), _pos(4, 3, seed=1), True, True, 1e-8, 1], {}),
    ("poisson_nll_loss", [_pos(4, 3), _pos(4, 3, seed=1), False, False, 1e-6, 0], {}),
    ("ctc_loss", [_log_probs(6, 2, 4), _long([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]], {}),
    ("ctc_loss", [_log_probs(6, 2, 4), _long([1, 2, 2, 3, 1]), _long([6, 5]), _long([3, 2]),
                  0, 2], {}),
    ("bilinear", [_r(3, 2), _r(3, 4, seed=1), _r(5, 2, 4, seed=2), _r(5, seed=3)], {}),
]


@pytest.mark.parametrize("case", NN_CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(NN_CASES)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nn_torch_level(case, dtype):
    name, inputs, kwargs, *grad = case
    inputs = [x.astype(dtype) if isinstance(x, np.ndarray) and x.dtype == np.float64 else x
              for x in inputs]
    requires_grad = grad[0] + [False] * (len(inputs) - len(grad[0])) if grad else None
    check_against_torch(lambda *a: getattr(ng, name)(*a, **kwargs),
                        lambda *a: getattr(torch, name)(*a, **kwargs), inputs,
                        requires_grad=requires_grad)


@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_dropout",
                                  "feature_alpha_dropout"])
def test_dropouts_draw_pytorchs_noise(name):
    """With the same seed, the same elements (or channels) are dropped as in PyTorch; the `_`
    form writes the result into its input and returns it."""
    outs = []
    for lib in (ng, torch):
        lib.manual_seed(3)
        x = lib.tensor(_r(3, 4, 5), requires_grad=True)
        y = getattr(lib, name)(x, 0.4, True)
        y.backward(lib.ones_like(y) * 2)
        lib.manual_seed(3)
        z = lib.tensor(_r(3, 4, 5))
        assert getattr(lib, name + "_")(z, 0.4, True) is z
        outs.append([y.detach().numpy(), x.grad.numpy(), z.numpy()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_embedding_renorm_():
    outs = []
    for lib in (ng, torch):
        w = lib.tensor(_r(5, 3) * 2)
        assert lib.embedding_renorm_(w, lib.tensor([0, 3, 3]), 1.5, 2.0) is w
        v = lib.tensor(_r(5, 3, dtype=np.float32) * 2)
        lib.embedding_renorm_(v, lib.tensor([[1, 2], [4, 0]]), 1.0, 1.0)
        outs.append((w.numpy(), v.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6)
    assert outs[0][1].dtype == np.float32


X, T = _r(3, 4), _pos(3, 4)
NN_ERRORS = [
    lambda lib: lib.dropout(lib.tensor(X), 1.5, True),
    lambda lib: lib.dropout(lib.tensor(X), 0.5, "yes"),
    lambda lib: lib.dropout_(3, 0.5, True),
    lambda lib: lib.feature_dropout(lib.tensor(X[0]), 0.5, True),
    lambda lib: lib.kl_div(lib.tensor(X), lib.tensor(T), reduction="sum"),
    lambda lib: lib.kl_div(lib.tensor(X), lib.tensor(T), 0, True),
    lambda lib: lib.binary_cross_entropy_with_logits(lib.tensor(X), lib.tensor(T),
                                                     reduction="mean"),
    lambda lib: lib.batch_norm(lib.tensor(X), None, None, None, None, False, 0.1, 1e-5, True),
    lambda lib: lib.embedding(lib.tensor(X), lib.tensor([1, 2]), None),
    lambda lib: lib.embedding(3, lib.tensor([1, 2])),
    lambda lib: lib.max_pool1d(lib.tensor(X), 2, return_indices=True),
    lambda lib: lib.layer_norm(lib.tensor(X), 4),
    lambda lib: lib.channel_shuffle(lib.tensor(X), 2),
    lambda lib: lib.channel_shuffle(lib.tensor(X[None]), 2),
    lambda lib: lib.channel_shuffle(lib.tensor(X[None]), 0),
    lambda lib: lib.channel_shuffle(lib.tensor(X[None]), 1.0),
    lambda lib: lib.dist(lib.tensor(X), 3),
    lambda lib: lib.dist(lib.tensor(X), lib.tensor(X), "fro"),
    lambda lib: lib.constant_pad_nd(lib.tensor(X), (1,)),
    lambda lib: lib.constant_pad_nd(lib.tensor(X), (1,) * 6),
    lambda lib: lib.constant_pad_nd(lib.tensor(X), 1),
    lambda lib: lib.constant_pad_nd(lib.tensor(X), (1, 1), "a"),
]


@pytest.mark.parametrize("call", NN_ERRORS)
def test_nn_torch_level_errors(call):
    same_error(call)


MISSING = [
    lambda lib: lib.dropout(lib.tensor(X)),
    lambda lib: lib.poisson_nll_loss(lib.tensor(X), lib.tensor(T)),
    lambda lib: lib.batch_norm(lib.tensor(X), None, None),
    lambda lib: lib.dist(lib.tensor(X), lib.tensor(X[:, :3])),  # (ours names the shapes too)
]


@pytest.mark.parametrize("call", MISSING)
def test_nn_torch_level_errors_of_pythons_wording(call):
    """A missing argument: the TypeError, in Python's words rather than PyTorch's."""
    same_error(call, same_message=False)


def test_keyword_only_and_positional_names():
    """log_target is keyword-only; ATen's `self` is `input` for Python."""
    x, t = both(lambda lib: (lib.tensor(X), lib.tensor(T)))
    a, b = (lib.kl_div(input=v, target=u, log_target=False) for lib, (v, u) in
            ((ng, x), (torch, t)))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


# ----- torch.exp_(x) and the other in-place functions ----------------------------------------
UNIT = np.random.default_rng(5).uniform(-0.9, 0.9, (3, 4))  # inside every domain but acosh's
ABOVE_1 = 1.2 + np.abs(UNIT)
IN_PLACE = [(name, UNIT, ()) for name in (
    "abs_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_",
    "acos_", "arccos_", "ceil_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_",
    "expm1_", "fix_", "floor_", "frac_", "log1p_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "round_", "sigmoid_", "sin_", "sinc_", "sinh_", "square_", "tan_", "tanh_",
    "trunc_")] + [(name, ABOVE_1, ()) for name in (
        "acosh_", "arccosh_", "log10_", "log2_", "log_", "rsqrt_", "sqrt_", "i0_")] + [
    ("clamp_", UNIT, (-0.3, 0.4)), ("clip_", UNIT, (None, 0.2)), ("logit_", UNIT / 2 + 0.5, ()),
    ("logit_", UNIT / 2 + 0.5, (0.3,)), ("nan_to_num_", UNIT, ()), ("fill_", UNIT, (1.5,)),
    ("ldexp_", UNIT, (np.array([1.0, 2.0, -1.0, 0.0]),)),
    ("xlogy_", UNIT, (ABOVE_1[0],)), ("round_", UNIT * 10, ())]


# PyTorch has no derivative for these three in place (numpy2gpt has): their values only
NO_TORCH_GRAD = ("acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_")


@pytest.mark.parametrize("name, x, args", IN_PLACE, ids=[c[0] for c in IN_PLACE])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_in_place_torch_level(name, x, args, dtype):
    """torch.name_(x, ...) writes x.name(...) into x and returns x; the gradient flows through
    the edit (x is a non-leaf here)."""
    def run(lib):
        def fn(leaf, *rest):
            y = leaf * 1
            assert getattr(lib, name)(y, *rest) is y
            return y
        return fn

    check_against_torch(run(ng), run(torch), [x.astype(dtype)] + [
        a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args],
        requires_grad=[name not in NO_TORCH_GRAD] + [False] * len(args))


def test_in_place_torch_level_no_grad_and_errors():
    for lib in (ng, torch):
        x = lib.tensor(UNIT, requires_grad=True) * 2
        assert lib.detach_(x) is x and not x.requires_grad and x.grad_fn is None
    for call in (lambda lib: lib.exp_(3), lambda lib: lib.sqrt_([1.0]),
                 lambda lib: lib.clamp_(lib.tensor(UNIT), "a"),
                 lambda lib: lib.exp_(lib.tensor(UNIT, requires_grad=True)),
                 lambda lib: lib.sqrt_(lib.tensor([1, 4]))):
        same_error(call, same_message=False)
    same_error(lambda lib: lib.exp_(3))
    same_error(lambda lib: lib.exp_(lib.tensor(UNIT, requires_grad=True)))


# ----- the *_copy functions and the *_scatter functions -----------------------------------------
A34, A234 = _r(3, 4), _r(2, 3, 4)
COPIES = [
    ("view_copy", [A34, (2, 6)]), ("expand_copy", [_r(3, 1), (2, 3, 5)]),
    ("permute_copy", [A234, (2, 0, 1)]), ("t_copy", [A34]), ("transpose_copy", [A234, 0, 2]),
    ("squeeze_copy", [_r(3, 1, 4)]), ("squeeze_copy", [_r(3, 1, 4), 1]),
    ("unsqueeze_copy", [A34, -1]), ("select_copy", [A234, 1, -1]),
    ("slice_copy", [A234, 2, 1, None, 2]), ("slice_copy", [A34]),
    ("split_copy", [A234, 2, 2]), ("split_with_sizes_copy", [A234, [1, 2], 1]),
    ("unbind_copy", [A234, 1]), ("diagonal_copy", [A234, 1, 1, 2]), ("alias_copy", [A34]),
    ("narrow_copy", [A34, 1, 1, 2]), ("unfold_copy", [A34, 1, 2, 1]),
    ("slice_scatter", [A234, _r(2, 3, 2, seed=1), 2, 1, None, 2]),
    ("slice_scatter", [A34, _r(1, 4, seed=1), 0, -1]),
    ("select_scatter", [A234, _r(2, 4, seed=1), 1, 0]),
    ("diagonal_scatter", [A34, _r(3, seed=1), 1]),
    ("diagonal_scatter", [A234, _r(2, 3, seed=1), 0, 1, 2]),
]


@pytest.mark.parametrize("name, inputs", COPIES, ids=[c[0] for c in COPIES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_copies_and_scatters(name, inputs, dtype):
    inputs = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in inputs]
    ours, *_ = check_against_torch(lambda *a: getattr(ng, name)(*a),
                                   lambda *a: getattr(torch, name)(*a), inputs)
    for o in ours:  # new memory, laid out contiguously
        assert o.is_contiguous()


def test_copies_do_not_share_memory():
    x = ng.tensor(A34)
    y = ng.t_copy(x)
    y[0, 0] = 100.0
    assert x[0, 0].item() == A34[0, 0]
    assert not ng.detach_copy(ng.tensor(A34, requires_grad=True)).requires_grad


@pytest.mark.parametrize("call", [
    lambda lib: lib.t_copy(3),
    lambda lib: lib.split_copy(lib.tensor(A34), [1, 2]),
    lambda lib: lib.select_copy(lib.tensor(A34), 2, 0),
    lambda lib: lib.slice_scatter(lib.tensor(A34), lib.zeros(1, 4, dtype=lib.float64), 0, 0, 2),
    lambda lib: lib.select_scatter(lib.tensor(A34), lib.zeros(4, dtype=lib.float64), 1, 0),
    lambda lib: lib.diagonal_scatter(lib.tensor(A34), lib.zeros(2, dtype=lib.float64), 1),
    lambda lib: lib.select_scatter(lib.tensor(A34), 3, 1, 0),
])
def test_copy_and_scatter_errors(call):
    same_error(call)


# ----- identity on real tensors, and small utilities -------------------------------------------
@pytest.mark.parametrize("name", ["conj", "conj_physical", "resolve_conj", "resolve_neg"])
def test_conjugation_is_the_identity(name):
    for lib in (ng, torch):
        x = lib.tensor(A34, requires_grad=True)
        assert getattr(lib, name)(x) is x and getattr(x, name)() is x
    same_error(lambda lib: getattr(lib, name)(3))


def test_flags_and_utilities():
    x = ng.tensor(A34)
    assert (ng.is_conj(x), ng.is_neg(x), x.is_conj(), x.is_neg()) == (False,) * 4
    assert ng.get_device(x) == torch.get_device(torch.tensor(A34)) == -1
    assert ng.is_storage(x) is torch.is_storage(torch.tensor(A34)) is False
    assert ng.typename(x) == "numpy2gpt.DoubleTensor"
    assert ng.typename(3) == torch.typename(3) == "int"
    assert ng.typename(ng.nn.Linear(2, 2)) == "numpy2gpt.nn.modules.linear.Linear"
    assert ng.typename(ng.float32) == "numpy2gpt.dtype"
    before = ng.get_num_interop_threads()
    ng.set_num_interop_threads(3)
    assert ng.get_num_interop_threads() == 3
    ng.set_num_interop_threads(before)
    same_error(lambda lib: lib.set_num_interop_threads(0))
    same_error(lambda lib: lib.get_device(3))
    same_error(lambda lib: lib.is_conj(3))


WINDOWS = [("hann_window", (5,)), ("hann_window", (6, False)), ("hamming_window", (7,)),
           ("hamming_window", (4, True, 0.5, 0.3)), ("blackman_window", (7,)),
           ("blackman_window", (5, False)), ("bartlett_window", (6,)),
           ("bartlett_window", (5, False)), ("kaiser_window", (6,)),
           ("kaiser_window", (7, False, 5.0)), ("hann_window", (1,)), ("bartlett_window", (0,))]


@pytest.mark.parametrize("name, args", WINDOWS)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_windows(name, args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ng, dtype)}
    tkwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    ours, theirs = getattr(ng, name)(*args, **kwargs), getattr(torch, name)(*args, **tkwargs)
    assert ours.dtype == (ng.float32 if dtype is None else ng.float64)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5 if dtype is None else 1e-12,
                               atol=1e-6 if dtype is None else 1e-15)
    assert ng.hann_window(3, requires_grad=True).requires_grad


@pytest.mark.parametrize("call", [lambda lib: lib.hann_window(-1),
                                  lambda lib: lib.kaiser_window(4, dtype=lib.int64)])
def test_window_errors(call):
    same_error(call, same_message=False)


def test_empty_permuted():
    for size, layout in (((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (2, 0, 1)), ((5,), (0,))):
        ours, theirs = ng.empty_permuted(size, layout), torch.empty_permuted(size, layout)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.stride() == theirs.stride()
        assert ours.dtype == ng.float32
    assert ng.empty_permuted((2, 3), (1, 0), dtype=ng.float64).dtype == ng.float64
    same_error(lambda lib: lib.empty_permuted((2, 3), (0, 0)))
    same_error(lambda lib: lib.empty_permuted((2, 3), (0,)))
