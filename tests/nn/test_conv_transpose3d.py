"""conv_transpose3d, ConvTranspose3d and LazyConvTranspose3d against PyTorch: values, dtypes and
gradients of input, weight and bias over strides, paddings, output paddings, dilations and groups;
double backward; PyTorch's errors (also conv_transpose1d / 2d's, which run the same N-d code);
seeded initialisation, repr, forward with output_size. Also nn.init.dirac_ and nn.init.sparse_
(PyTorch's values for the same seed, and its errors)."""

import inspect

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, check_double_backward, rand, same_error

import numpy2gpt as ng


def _conv_t3(lib, **kwargs):
    return lambda x, w, *b: lib.nn.functional.conv_transpose3d(x, w, *b, **kwargs)


CASES = [  # (input shape, weight shape, keyword arguments)
    ((2, 3, 2, 3, 4), (3, 2, 2, 2, 3), {}),
    ((2, 4, 3, 2, 3), (4, 2, 3, 2, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 2, 3, 3), (4, 3, 2, 3, 2), {"stride": (1, 2, 3), "padding": (0, 1, 2),
                                        "output_padding": (0, 1, 2), "groups": 2,
                                        "dilation": (2, 1, 2)}),
    ((2, 4, 2, 3, 2), (4, 1, 2, 2, 2), {"groups": 4, "dilation": 2, "output_padding": 1,
                                        "padding": (1, 0, 1)}),
    ((3, 2, 3, 3), (3, 2, 2, 2, 2), {"stride": 2}),  # unbatched
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,w_shape,kwargs", CASES)
def test_conv_transpose3d_matches_torch(x_shape, w_shape, kwargs, bias, dtype):
    arrays = [rand(*x_shape, seed=1), rand(*w_shape, seed=2)]
    if bias:
        arrays.append(rand(w_shape[1] * kwargs.get("groups", 1), seed=3))
    ours, *_ = check_against_torch(_conv_t3(ng, **kwargs), _conv_t3(torch, **kwargs),
                                   [a.astype(dtype) for a in arrays])
    assert ours[0].dtype == (ng.float32 if dtype == np.float32 else ng.float64)


def test_conv_transpose3d_is_the_gradient_of_conv3d():
    """conv_transpose3d(gy, w) is conv3d's input gradient (output_padding fills the elements a
    strided convolution ignored)."""
    x = ng.tensor(rand(1, 3, 5, 6, 8), requires_grad=True)
    w = ng.tensor(rand(4, 3, 3, 2, 3, seed=1))
    y = ng.nn.functional.conv3d(x, w, stride=2, padding=(1, 0, 1))
    gy = ng.tensor(rand(*y.shape, seed=2))
    y.backward(gy)
    gx = ng.nn.functional.conv_transpose3d(gy, w, stride=2, padding=(1, 0, 1),
                                           output_padding=(0, 0, 1))
    assert_close(gx, x.grad.numpy(), rtol=1e-10)


def test_conv_transpose3d_double_backward_matches_torch():
    w = rand(4, 3, 2, 2, 3, seed=2)
    kwargs = {"stride": (2, 1, 2), "padding": (0, 1, 1), "output_padding": (1, 0, 0),
              "groups": 2}
    check_double_backward(
        lambda x: ng.nn.functional.conv_transpose3d(x, ng.tensor(w), **kwargs),
        lambda x: torch.nn.functional.conv_transpose3d(x, torch.tensor(w), **kwargs),
        rand(2, 4, 2, 3, 2, seed=1))


def test_conv_transpose3d_weight_double_backward_matches_torch():
    """Second derivatives through the weight and the upstream gradient as well."""
    x, w, b = rand(1, 2, 2, 3, 2, seed=1), rand(2, 3, 2, 2, 2, seed=2), rand(3, seed=3)
    results = []
    for lib in (ng, torch):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.conv_transpose3d(xs, ws, bs, stride=2, dilation=(1, 2, 1))
        v = lib.tensor(rand(*y.shape, seed=4), requires_grad=True)
        gx, gw = lib.autograd.grad(y, (xs, ws), v, create_graph=True)
        total = (gx * lib.tensor(rand(*x.shape, seed=5))).sum() \
            + (gw * gw).sum() + (gx * gx).sum()
        grads = lib.autograd.grad(total, (xs, ws, v))
        results.append([g.detach().numpy() for g in (gx, gw) + tuple(grads)])
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-8, atol=1e-10)


def test_conv_transpose_integer_dtypes_match_torch():
    """int64 is computed (exactly); PyTorch has no kernel for the other integer dtypes or bool."""
    x = np.random.default_rng(0).integers(-5, 5, (2, 4, 2, 3, 2))
    w = np.random.default_rng(1).integers(-3, 3, (4, 2, 2, 2, 2))
    ours, theirs = (lib.nn.functional.conv_transpose3d(lib.tensor(x), lib.tensor(w), stride=2,
                                                       groups=2) for lib in (ng, torch))
    assert_close(ours, theirs, rtol=0, atol=0)
    assert ours.dtype == ng.int64
    for dims in (1, 2, 3):
        f = f"conv_transpose{dims}d"
        index = (slice(None), slice(None)) + (0,) * (3 - dims)
        for dtype in ("int32", "int16", "uint8", "bool"):
            same_error(lambda lib, f=f, i=index, d=dtype: getattr(lib.nn.functional, f)(
                lib.tensor(x[i].astype(d)), lib.tensor(w[i].astype(d))))


ERRORS = [  # (dims, input shape, weight shape, bias shape, keyword arguments)
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"stride": 2, "output_padding": 2}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"stride": (1, 2, 3),
                                                 "output_padding": (0, 2, 1)}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"output_padding": -1}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"padding": -1}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"padding": (0, 3, 0)}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"stride": 0}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"dilation": -1}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"stride": (1, 1)}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"output_padding": (1, 1, 1, 1)}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"groups": 3}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), None, {"groups": 0}),
    (3, (2, 4, 3, 4, 5), (3, 3, 2, 3, 3), None, {}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3, 3), (4,), {}),
    (3, (2, 4, 3, 4, 0), (4, 3, 2, 3, 3), None, {}),
    (3, (3, 4, 5), (4, 3, 2, 3, 3), None, {}),
    (3, (2, 4, 3, 4, 5), (4, 3, 2, 3), None, {}),
    (2, (2, 4, 4, 5), (4, 3, 3, 3), None, {"padding": 3}),
    (2, (2, 4, 4, 0), (4, 3, 3, 3), None, {}),
    # conv_transpose1d's messages show the height-1 image PyTorch runs it as
    (1, (2, 4, 5), (4, 3, 3), None, {"padding": 9}),
    (1, (2, 4, 5), (4, 3, 3), None, {"output_padding": 3}),
    (1, (2, 4, 0), (4, 3, 3), None, {}),
]


@pytest.mark.parametrize("dims,x_shape,w_shape,b_shape,kwargs", ERRORS)
def test_conv_transpose_errors_match_torch(dims, x_shape, w_shape, b_shape, kwargs):
    x, w = rand(*x_shape), rand(*w_shape)
    b = None if b_shape is None else rand(*b_shape)
    same_error(lambda lib: getattr(lib.nn.functional, f"conv_transpose{dims}d")(
        lib.tensor(x), lib.tensor(w), None if b is None else lib.tensor(b), **kwargs))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_zero_dilation_errors_match_torch(dims):
    """float64, where PyTorch runs its own kernel (in float32 oneDNN words them differently)."""
    x, w = rand(2, 4, *(3,) * dims), rand(4, 3, *(2,) * dims)
    dilation = (1,) * (dims - 1) + (0,)
    same_error(lambda lib: getattr(lib.nn.functional, f"conv_transpose{dims}d")(
        lib.tensor(x), lib.tensor(w), dilation=dilation))


def test_conv_transpose3d_type_errors_match_torch():
    x, w = rand(2, 4, 2, 3, 2), rand(4, 3, 2, 2, 2)
    for xd, wd, bd in (("float64", "float32", None), ("float32", "float64", None),
                       ("float32", "float32", "float64")):
        same_error(lambda lib, xd=xd, wd=wd, bd=bd: lib.nn.functional.conv_transpose3d(
            lib.tensor(x.astype(xd)), lib.tensor(w.astype(wd)),
            None if bd is None else lib.tensor(rand(3).astype(bd))))
    same_error(lambda lib: lib.nn.functional.conv_transpose3d(lib.tensor(x), lib.tensor(w),
                                                              None, 1, "same"))
    for groups in (1.0, True):  # (positional: PyTorch names the position then)
        same_error(lambda lib, g=groups: lib.nn.functional.conv_transpose3d(
            lib.tensor(x), lib.tensor(w), None, 1, 0, 0, g))


def test_conv_transpose3d_zero_batch_matches_torch():
    ours, theirs = (lib.nn.functional.conv_transpose3d(lib.zeros(0, 2, 2, 3, 2),
                                                       lib.ones(2, 3, 2, 2, 2), stride=2)
                    for lib in (ng, torch))
    assert_close(ours, theirs)


def test_conv_transpose3d_signature_matches_torch():
    assert (str(inspect.signature(ng.nn.functional.conv_transpose3d))
            == "(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, "
               "dilation=1)")
    assert (str(inspect.signature(ng.nn.ConvTranspose3d))
            == "(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, "
               "groups=1, bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)")
    assert (str(inspect.signature(ng.nn.LazyConvTranspose3d))
            == "(out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, "
               "bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)")
    assert str(inspect.signature(ng.nn.init.dirac_)) == "(tensor, groups=1)"
    assert (str(inspect.signature(ng.nn.init.sparse_))
            == "(tensor, sparsity, std=0.01, generator=None)")


# ----- the layers -------------------------------------------------------------------------------
def test_conv_transpose3d_layer_float64_and_output_size_match_torch():
    ng.manual_seed(1)
    torch.manual_seed(1)
    ours = ng.nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 1), padding=1, dtype=ng.float64)
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 1), padding=1, dtype=torch.float64)
    x = rand(1, 2, 3, 2, 4)
    for size in ([5, 4, 4], [6, 6, 4], [1, 3, 6, 5, 4]):
        check_against_torch(lambda t, s=size: ours(t, output_size=s),
                            lambda t, s=size: theirs(t, output_size=s), [x])
    unbatched = ours(ng.tensor(x[0]), output_size=[6, 5, 4])
    assert tuple(unbatched.shape) == (3, 6, 5, 4)
    for size in ([7, 4, 4], [6, 6]):  # (the message prints the input's Size, whose repr differs)
        same_error(lambda lib, s=size: (ours if lib is ng else theirs)(lib.tensor(x),
                                                                       output_size=s),
                   same_message=False)
    with pytest.raises(ValueError, match=r"requested an output size of \[7, 4, 4\], but valid "
                                         r"sizes range from \[5, 4, 4\] to \[6, 6, 4\]"):
        ours(ng.tensor(x), output_size=[7, 4, 4])
    with pytest.raises(ValueError, match="ConvTranspose3D: for 5D input, output_size must "
                                         r"have 3 or 5 elements \(got 2\)"):
        ours(ng.tensor(x), output_size=[6, 6])


def test_conv_transpose3d_layer_errors_match_torch():
    for lib in (ng, torch):
        with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                             "ConvTranspose3d"):
            lib.nn.ConvTranspose3d(2, 3, 3, padding_mode="reflect")
    for kwargs in ({"groups": 0}, {"groups": 3}):
        same_error(lambda lib, k=kwargs: lib.nn.ConvTranspose3d(4, 6, 3, **k))


def test_lazy_conv_transpose3d_becomes_conv_transpose3d_like_torch():
    args = (3, (2, 3, 2), 2, 0, 1, 1, True, (1, 2, 1))
    ours, theirs = ng.nn.LazyConvTranspose3d(*args), torch.nn.LazyConvTranspose3d(*args)
    assert repr(ours) == repr(theirs)
    assert all(isinstance(p, ng.nn.UninitializedParameter) for p in ours.parameters())
    ng.manual_seed(2)
    torch.manual_seed(2)
    check_against_torch(ours, theirs, [rand(2, 4, 2, 3, 2).astype(np.float32)])
    assert type(ours) is ng.nn.ConvTranspose3d
    assert repr(ours) == repr(theirs)
    for (k, p), (tk, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk and tuple(p.shape) == tuple(tp.shape)
        assert_close(p, tp, rtol=0, atol=0, what=k)
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=1e-6, what=k)
    lazy = ng.nn.LazyConvTranspose3d(4, 3)
    with pytest.raises(RuntimeError, match=r"Expected 4D \(unbatched\) or 5D \(batched\) input "
                                           "to LazyConvTranspose3d, but got input of size"):
        lazy(ng.ones(2, 3, 4))
    same_error(lambda lib: lib.nn.LazyConvTranspose3d(4, 3, groups=2)(lib.ones(1, 3, 3, 3, 3)))


# ----- nn.init.dirac_ / nn.init.sparse_ --------------------------------------------------------
@pytest.mark.parametrize("shape,groups", [((3, 5, 3), 1), ((6, 4, 3, 4), 1), ((6, 2, 3, 4), 3),
                                          ((4, 6, 2, 3, 5), 2), ((8, 2, 1, 2, 3), 4)])
def test_dirac_matches_torch(shape, groups):
    for dtype in (np.float32, np.float64):
        x = rand(*shape).astype(dtype)  # every element is overwritten
        ours, theirs = ng.nn.Parameter(ng.tensor(x)), torch.nn.Parameter(torch.tensor(x))
        assert ng.nn.init.dirac_(ours, groups) is ours
        torch.nn.init.dirac_(theirs, groups)
        assert_close(ours, theirs, rtol=0, atol=0)
        assert ours.grad_fn is None and ours.requires_grad


def test_dirac_keeps_the_input_of_a_convolution():
    w = ng.nn.init.dirac_(ng.empty(3, 3, 3, 3, 3))
    x = ng.randn(1, 3, 4, 5, 6)
    assert_close(ng.nn.functional.conv3d(x, w, padding=1), x.numpy(), rtol=0, atol=0)


def test_dirac_errors_match_torch():
    for shape, groups in (((3, 4), 1), ((3, 4, 2, 2, 2, 2), 1), ((6, 2, 3), 4)):
        same_error(lambda lib, s=shape, g=groups: lib.nn.init.dirac_(lib.empty(*s), g))


@pytest.mark.parametrize("shape,sparsity,std", [((10, 6), 0.3, 0.01), ((7, 3), 0.5, 1.0),
                                                ((1, 4), 0.9, 0.1), ((5, 5), 0.0, 2.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_is_torchs_for_the_same_seed(shape, sparsity, std, dtype):
    ng.manual_seed(11)
    torch.manual_seed(11)
    ours = ng.nn.init.sparse_(ng.empty(*shape, dtype=ng.tensor(np.zeros(0, dtype)).dtype),
                              sparsity, std)
    theirs = torch.nn.init.sparse_(torch.empty(*shape, dtype=torch.tensor(np.zeros(0, dtype))
                                               .dtype), sparsity, std)
    assert_close(ours, theirs, rtol=0, atol=0)
    zeros = (ours.numpy() == 0).sum(axis=0)
    assert (zeros == int(np.ceil(sparsity * shape[0]))).all()
    # both global generators were advanced alike: the next draws agree too
    assert_close(ng.rand(3), torch.rand(3), rtol=0, atol=0)


def test_sparse_with_a_generator_is_torchs():
    """As PyTorch: the normals from the generator, the zeroed rows from the global generator."""
    g, tg = ng.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    ng.manual_seed(9)
    torch.manual_seed(9)
    ours = ng.nn.init.sparse_(ng.empty(8, 5), 0.25, generator=g)
    theirs = torch.nn.init.sparse_(torch.empty(8, 5), 0.25, generator=tg)
    assert_close(ours, theirs, rtol=0, atol=0)
    assert_close(ng.randn(2, generator=g), torch.randn(2, generator=tg), rtol=0, atol=0)
    assert_close(ng.randn(2), torch.randn(2), rtol=0, atol=0)


def test_sparse_on_a_parameter_records_no_graph():
    p = ng.nn.Parameter(ng.ones(6, 3))
    assert ng.nn.init.sparse_(p, 0.5) is p
    assert p.grad_fn is None and p.requires_grad and p.dtype == ng.float32


def test_sparse_errors_match_torch():
    same_error(lambda lib: lib.nn.init.sparse_(lib.empty(3), 0.1))
    same_error(lambda lib: lib.nn.init.sparse_(lib.empty(3, 4, 2), 0.1))
    same_error(lambda lib: lib.nn.init.sparse_(lib.zeros(3, 4, dtype=lib.int64), 0.1))
    same_error(lambda lib: lib.nn.init.sparse_(lib.empty(3, 4), 0.1, "big"))
