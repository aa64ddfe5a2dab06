"""nn.init.orthogonal_, F.gumbel_softmax, conv3d / Conv3d and the lazy modules (LazyLinear,
LazyConv1d/2d/3d, LazyConvTranspose1d/2d, UninitializedParameter) against PyTorch: seeded values,
gradients (first and second order), dtypes and PyTorch's errors."""

import copy
import inspect
import pickle
import warnings

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

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


# ----- nn.init.orthogonal_ ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3), (2, 3, 4), (1, 7)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal_matches_torch_after_the_same_seed(shape, dtype):
    ng.manual_seed(3)
    torch.manual_seed(3)
    ours = ng.nn.init.orthogonal_(ng.empty(shape, dtype=getattr(ng, dtype)), gain=1.5)
    theirs = torch.nn.init.orthogonal_(torch.empty(shape, dtype=getattr(torch, dtype)), gain=1.5)
    assert_close(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-10, atol=1e-6)
    rows = ours.numpy().reshape(shape[0], -1)  # (semi-)orthogonal: the fewer of rows / columns
    small = rows @ rows.T if rows.shape[0] <= rows.shape[1] else rows.T @ rows  # are orthonormal
    np.testing.assert_allclose(small, 2.25 * np.eye(len(small)), atol=1e-5)


def test_orthogonal_generator_parameter_and_signature():
    gen, tgen = ng.Generator(), torch.Generator()
    gen.manual_seed(11)
    tgen.manual_seed(11)
    w = ng.nn.Parameter(ng.empty(4, 6))
    out = ng.nn.init.orthogonal_(w, generator=gen)
    assert out is w and w.requires_grad and w.grad_fn is None
    assert_close(w, torch.nn.init.orthogonal_(torch.empty(4, 6), generator=tgen), rtol=1e-5,
                 atol=1e-6)
    assert (str(inspect.signature(ng.nn.init.orthogonal_))
            == "(tensor, gain=1, generator=None)")
    empty = ng.empty(0, 3)
    assert ng.nn.init.orthogonal_(empty) is empty


@pytest.mark.parametrize("make", [lambda lib: lib.empty(3), lambda lib: lib.empty(()),
                                  lambda lib: lib.empty(3, 4, dtype=lib.int64),
                                  lambda lib: lib.empty(3, 4, dtype=lib.float16)])
def test_orthogonal_errors_match_torch(make):
    same_error(lambda lib: lib.nn.init.orthogonal_(make(lib)))


# ----- F.gumbel_softmax ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim,hard,tau,dtype", [
    ((4, 5), -1, False, 1, np.float32),
    ((4, 5), 0, True, 0.5, np.float32),
    ((3, 4, 6), 1, False, 2.0, np.float64),
    ((3, 4, 6), -1, True, 1, np.float64),
    ((), 0, False, 1, np.float32),
])
def test_gumbel_softmax_matches_torch_after_the_same_seed(shape, dim, hard, tau, dtype):
    """The noise comes from the same generator stream (exponential_), so values and gradients
    (soft, or straight-through for hard=True) equal PyTorch's."""
    def run(lib):
        lib.manual_seed(5)
        return lambda x: lib.nn.functional.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)

    ours, theirs, *_ = check_against_torch(run(ng), run(torch), [rand(*shape).astype(dtype)])
    assert ours[0].dtype == getattr(ng, np.dtype(dtype).name)
    if hard:  # exactly one-hot along dim
        y = ours[0].detach().numpy()
        assert set(np.unique(y)) <= {0.0, 1.0}
        np.testing.assert_array_equal(y.sum(axis=dim), 1)


def test_gumbel_softmax_samples_follow_softmax_of_the_logits():
    """argmax of the hard sample is a draw from softmax(logits) (the Gumbel-max trick)."""
    ng.manual_seed(0)
    logits = ng.tensor([[1.0, 0.0, -1.0, 2.0]]).expand(4000, 4)
    counts = ng.nn.functional.gumbel_softmax(logits, hard=True).sum(0).numpy()
    expected = np.exp([1.0, 0.0, -1.0, 2.0]) / np.exp([1.0, 0.0, -1.0, 2.0]).sum()
    np.testing.assert_allclose(counts / 4000, expected, atol=0.03)


def test_gumbel_softmax_float32_eps_warning_signature_and_errors():
    x = ng.tensor(rand(3, 4).astype(np.float32), requires_grad=True)
    assert_float32_throughout(x, [ng.nn.functional.gumbel_softmax(x, hard=True)])
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        ng.nn.functional.gumbel_softmax(x, eps=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ng.nn.functional.gumbel_softmax(x)
    assert (str(inspect.signature(ng.nn.functional.gumbel_softmax))
            == "(logits, tau=1, hard=False, eps=1e-10, dim=-1)")
    same_error(lambda lib: lib.nn.functional.gumbel_softmax(lib.ones(2, 3), dim=2))
    same_error(lambda lib: lib.nn.functional.gumbel_softmax(lib.ones(2, 3), tau="a"))
    same_error(lambda lib: lib.nn.functional.gumbel_softmax([1.0, 2.0]))
    same_error(lambda lib: lib.nn.functional.gumbel_softmax(lib.tensor([1, 2])))


# ----- conv3d / Conv3d ----------------------------------------------------------------------------
CONV3D_CASES = [  # (input shape, weight shape, keyword arguments)
    ((2, 3, 4, 5, 6), (4, 3, 2, 3, 3), {}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), {"groups": 2, "stride": 2}),
    ((1, 2, 6, 5, 7), (3, 2, 3, 2, 3), {"stride": (2, 1, 3), "padding": (1, 0, 2),
                                        "dilation": (1, 2, 1)}),
    ((2, 2, 4, 5, 6), (3, 2, 2, 3, 2), {"padding": "same", "dilation": (2, 1, 1)}),
    ((2, 3, 4, 4, 5), (2, 3, 1, 2, 3), {"padding": "valid"}),
    ((3, 4, 5, 4), (5, 3, 2, 2, 2), {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV3D_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv3d_matches_torch(x_shape, w_shape, kwargs, dtype):
    """float64 to rtol 1e-8 elementwise; float32 to 1e-5 of each tensor's scale (a sum of 54
    products loses relative precision on its small results)."""
    x, w, b = rand(*x_shape, seed=1), rand(*w_shape, seed=2), rand(w_shape[0], seed=3)
    for arrays in ([x, w, b], [x, w]):
        def ours(*a):
            return ng.nn.functional.conv3d(*a, **kwargs)

        def theirs(*a):
            return torch.nn.functional.conv3d(*a, **kwargs)

        if dtype == np.float64:
            compare(ours, theirs, arrays, dtype)
        else:
            out, *_ = check_against_torch(ours, theirs, [a.astype(dtype) for a in arrays])
            assert out[0].dtype == ng.float32


def test_conv3d_integer_inputs_match_torch():
    x = np.random.default_rng(0).integers(-3, 4, (2, 4, 3, 4, 5))
    w = np.random.default_rng(1).integers(-3, 4, (6, 2, 2, 2, 2))
    ours, theirs = (lib.nn.functional.conv3d(lib.tensor(x), lib.tensor(w), groups=2, padding=1)
                    for lib in (ng, torch))
    assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("op,x_shape,w_shape,kwargs", [
    ("conv3d", (2, 4, 4, 5, 3), (6, 2, 2, 3, 2),
     {"stride": (2, 1, 1), "padding": (1, 0, 1), "dilation": (1, 1, 2), "groups": 2}),
    ("conv1d", (2, 4, 9), (6, 2, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
])
def test_conv_double_backward_matches_torch(op, x_shape, w_shape, kwargs):
    """Second derivatives through input, weight, bias and the upstream gradient (conv1d is here
    too: it runs the same N-d code, no longer a 2-D convolution of height 1)."""
    x, w, b = rand(*x_shape, seed=1), rand(*w_shape, seed=2), rand(w_shape[0], seed=3)
    results = []
    for lib in (ng, torch):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = getattr(lib.nn.functional, op)(xs, ws, bs, **kwargs)
        v = lib.tensor(rand(*y.shape, seed=4), requires_grad=True)
        gx, gw, gb = lib.autograd.grad(y, (xs, ws, bs), v, create_graph=True)
        total = (gx * lib.tensor(rand(*x.shape, seed=5))).sum() \
            + (gw * lib.tensor(rand(*w.shape, seed=6))).sum() + (gx * gx).sum() \
            + (gb * gb).sum()
        grads = lib.autograd.grad(total, (xs, ws, v))
        results.append([g.detach().numpy() for g in (gx, gw, gb) + tuple(grads)])
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-8, atol=1e-10)


CONV3D_ERRORS = [  # (input shape, weight shape, bias shape, keyword arguments)
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {}),
    ((5, 6, 7), (6, 2, 2, 3, 3), None, {}),
    ((1, 2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {}),
    ((2, 4, 5, 6, 7), (6, 2, 3, 3), None, {"groups": 2}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "stride": (1, 2)}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "dilation": 0}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "padding": -1}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "stride": 0}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), (5,), {"groups": 2}),
    ((2, 4, 5, 6, 7), (6, 2, 9, 3, 3), None, {"groups": 2}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 4}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 0}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "padding": "same", "stride": 2}),
    ((2, 4, 5, 6, 7), (6, 2, 2, 3, 3), None, {"groups": 2, "padding": "full"}),
]


@pytest.mark.parametrize("x_shape,w_shape,b_shape,kwargs", CONV3D_ERRORS)
def test_conv3d_errors_match_torch(x_shape, w_shape, b_shape, kwargs):
    same_error(lambda lib: lib.nn.functional.conv3d(
        lib.ones(*x_shape), lib.ones(*w_shape), None if b_shape is None else lib.ones(*b_shape),
        **kwargs))


def test_conv3d_dtype_errors_match_torch():
    x, w = (2, 4, 3, 4, 5), (6, 2, 2, 2, 2)
    conv = lambda lib, x, w, b=None: lib.nn.functional.conv3d(x, w, b, groups=2)  # noqa: E731
    same_error(lambda lib: conv(lib, lib.ones(*x, dtype=lib.bool), lib.ones(*w, dtype=lib.bool)))
    same_error(lambda lib: conv(lib, lib.ones(*x), lib.ones(*w, dtype=lib.float64)))
    same_error(lambda lib: conv(lib, lib.ones(*x), lib.ones(*w), lib.ones(6, dtype=lib.float64)))


def test_conv3d_signature():
    """(The layer's values and gradients are checked with the others in test_conv.py.)"""
    assert (str(inspect.signature(ng.nn.Conv3d))
            == "(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, "
               "groups=1, bias=True, padding_mode='zeros', device=None, dtype=None)")


# ----- lazy modules -------------------------------------------------------------------------------
LAZY = [  # (name, constructor arguments, input shape)
    ("LazyLinear", (3,), (2, 5)),
    ("LazyLinear", (4, False), (2, 3, 6)),
    ("LazyConv1d", (6, 3, 1, 1, 1, 2), (2, 4, 9)),
    ("LazyConv2d", (5, (2, 3)), (4, 7, 8)),
    ("LazyConv3d", (4, 2, 2, 0, 1, 1, False), (2, 3, 5, 6, 7)),
    ("LazyConvTranspose1d", (6, 3, 2, 0, 0, 2), (2, 4, 9)),
    ("LazyConvTranspose2d", (3, 3, 2, 0, 1), (2, 4, 5, 6)),
]


@pytest.mark.parametrize("name,args,shape", LAZY)
def test_lazy_module_becomes_the_regular_one_like_torch(name, args, shape):
    """Before the first call: UninitializedParameters, PyTorch's repr and state_dict entries;
    after: the regular class, PyTorch's seeded parameters, outputs and gradients."""
    ours, theirs = getattr(ng.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert [(k, repr(p)) for k, p in ours.named_parameters()] \
        == [(k, repr(p)) for k, p in theirs.named_parameters()]
    assert all(isinstance(p, ng.nn.UninitializedParameter) for p in ours.parameters())
    assert all(isinstance(v, ng.nn.UninitializedParameter) for v in ours.state_dict().values())
    assert ours.has_uninitialized_params()
    ng.manual_seed(2)
    torch.manual_seed(2)
    check_against_torch(ours, theirs, [rand(*shape).astype(np.float32)])
    assert type(ours).__name__ == type(theirs).__name__ == name[len("Lazy"):]
    assert repr(ours) == repr(theirs)
    for (k, p), (tk, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk and type(p) is ng.nn.Parameter
        assert_close(p, tp, rtol=0, atol=0, what=k)
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=1e-6, what=k)
    assert not hasattr(ours, "_initialize_hook")


def test_optimizer_built_before_the_first_call_trains_the_materialized_parameters():
    model = ng.nn.Sequential(ng.nn.LazyLinear(4), ng.nn.ReLU(), ng.nn.LazyLinear(1))
    tmodel = torch.nn.Sequential(torch.nn.LazyLinear(4), torch.nn.ReLU(), torch.nn.LazyLinear(1))
    opt = ng.optim.SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    ng.manual_seed(0)
    torch.manual_seed(0)
    x = rand(8, 3).astype(np.float32)
    for lib, m, o in ((ng, model, opt), (torch, tmodel, topt)):
        for _ in range(2):
            o.zero_grad()
            (m(lib.tensor(x)) ** 2).mean().backward()
            o.step()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        assert_close(p, tp, rtol=1e-5, atol=1e-6)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]


def test_lazy_module_loads_a_regular_state_dict():
    """load_state_dict gives the parameters the loaded shapes and values; the module stays lazy
    until its first call, which checks the input against them and keeps the loaded values."""
    source = ng.nn.Linear(4, 3)
    lazy = ng.nn.LazyLinear(3)
    lazy.load_state_dict(source.state_dict())
    assert type(lazy) is ng.nn.LazyLinear and lazy.in_features == 0
    assert lazy.weight.shape == (3, 4) and not lazy.has_uninitialized_params()
    x = ng.tensor(rand(2, 4).astype(np.float32))
    assert_close(lazy(x), source(x), rtol=0, atol=0)
    assert type(lazy) is ng.nn.Linear and lazy.in_features == 4
    same_error(lambda lib: lib.nn.LazyLinear(3).load_state_dict({"weight": lib.ones(3, 4)}))

    def wrong_input(lib):
        m = lib.nn.LazyLinear(3, bias=False)
        m.load_state_dict({"weight": lib.ones(3, 4)})
        m(lib.ones(1, 5))

    same_error(wrong_input)
    conv = ng.nn.LazyConv2d(5, 3)
    conv.load_state_dict(ng.nn.Conv2d(2, 5, 3).state_dict())
    assert conv(ng.ones(1, 2, 4, 4)).shape == (1, 5, 2, 2)


def test_lazy_module_dtype_copies_and_errors():
    m = ng.nn.LazyLinear(3).double()
    m(ng.ones(2, 4, dtype=ng.float64))
    assert m.weight.dtype == ng.float64
    assert ng.nn.LazyConv1d(2, 3, dtype=ng.float64).weight.dtype == ng.float64
    lazy = ng.nn.LazyConv2d(4, 3)
    clone = copy.deepcopy(lazy)
    assert isinstance(clone.weight, ng.nn.UninitializedParameter) and clone.weight is not \
        lazy.weight
    clone(ng.ones(1, 2, 5, 5))
    assert type(clone) is ng.nn.Conv2d and type(lazy) is ng.nn.LazyConv2d
    same_error(lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5)))
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           "to LazyConv2d, but got input of size"):
        ng.nn.LazyConv2d(4, 3)(ng.ones(3, 4))


def test_uninitialized_parameter_like_torch():
    p, tp = ng.nn.UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(tp) == "<UninitializedParameter>"
    assert isinstance(p, ng.nn.Parameter) and p.requires_grad
    same_error(lambda lib: lib.nn.UninitializedParameter().shape)
    q = pickle.loads(pickle.dumps(ng.nn.UninitializedParameter(False, dtype=ng.float64)))
    assert type(q) is ng.nn.UninitializedParameter and q.dtype == ng.float64
    assert not q.requires_grad
    q.materialize((2, 3))
    assert type(q) is ng.nn.Parameter and q.shape == (2, 3) and q.dtype == ng.float64
    assert (str(inspect.signature(ng.nn.UninitializedParameter))
            == "(requires_grad=True, device=None, dtype=None)")
