"""F.pad's reflect / replicate / circular modes, interpolate (upsample), pixel_shuffle /
pixel_unshuffle, fold / unfold and their layers against PyTorch: values, dtypes and gradients in
float64 and float32, double backward, PyTorch's errors, reprs; Conv2d's padding modes."""

import numpy as np
import pytest
import torch
from torch_compare import (
    assert_close,
    check_against_torch,
    check_double_backward,
    rand,
    same_error,
)

import numpy2gpt as ng


def compare(fn, tfn, arrays, dtype=np.float64):
    """check_against_torch on `arrays` cast to `dtype`, with the dtype's tolerances (atol
    scaled by the largest element: area and cubic weights cancel to near zero in float32)."""
    ours, *_ = check_against_torch(fn, tfn, [a.astype(dtype) for a in arrays])
    return ours


def _f(lib, name, *args, **kwargs):
    fn = getattr(lib.nn.functional, name)
    return lambda x: fn(x, *args, **kwargs)


# ----- F.pad's modes -----------------------------------------------------------------------------
PAD_CASES = [  # (input shape, pad)
    ((2, 3, 5), (2, 3)), ((3, 5), (1, 0)), ((2, 3, 5), (-1, 2)), ((2, 3, 5), (2, -3)),
    ((2, 3, 4, 5), (1, 2, 3, 0)), ((3, 4, 5), (0, 4, 2, 2)), ((2, 3, 4, 5), (-2, 1, 2, -1)),
    ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)), ((2, 3, 4, 5), (2, 0, -1, 3, 0, 1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PAD_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pad_modes_match_torch(mode, shape, pad, dtype):
    ours = compare(_f(ng, "pad", pad, mode=mode), _f(torch, "pad", pad, mode=mode),
                   [rand(*shape, seed=1)], dtype)
    assert ours[0].dtype == (ng.float32 if dtype == np.float32 else ng.float64)


@pytest.mark.parametrize("mode", ["replicate", "circular"])
def test_pad_modes_beyond_reflect_limit(mode):
    """replicate pads any amount; circular up to the whole dim (wrapping once)."""
    compare(_f(ng, "pad", (4, 5), mode=mode), _f(torch, "pad", (4, 5), mode=mode),
            [rand(2, 3, 5)])
    compare(_f(ng, "pad", (5, 0, 3, 1), mode=mode), _f(torch, "pad", (5, 0, 3, 1), mode=mode),
            [rand(2, 3, 5)])


def test_pad_modes_grad_fn_integers_and_empty_batch():
    x = ng.randn(2, 3, 5, requires_grad=True)
    names = [ng.nn.functional.pad(x, (1, 1), mode=m).grad_fn.name()
             for m in ("reflect", "replicate", "circular")]
    assert names == ["ReflectionPad1DBackward0", "ReplicationPad1DBackward0",
                     "torch::autograd::CopySlices"]
    assert ng.nn.functional.pad(x[None], (1, 1, 1, 1), mode="reflect").grad_fn.name() == \
        "ReflectionPad2DBackward0"
    a = np.arange(24).reshape(2, 3, 4)
    for mode in ("reflect", "replicate", "circular"):
        ours, theirs = both_pad(a, (2, 1), mode)
        assert_close(ours, theirs)
        ours, theirs = both_pad(np.zeros((0, 3, 4)), (1, 2), mode)
        assert tuple(ours.shape) == tuple(theirs.shape) == (0, 3, 7)
    ours, theirs = both_pad(a > 5, (1, 2), "circular")
    assert_close(ours, theirs)


def both_pad(a, pad, mode):
    return tuple(lib.nn.functional.pad(lib.tensor(a), pad, mode=mode) for lib in (ng, torch))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_double_backward(mode):
    check_double_backward(_f(ng, "pad", (2, 1, 1, 2), mode=mode),
                          _f(torch, "pad", (2, 1, 1, 2), mode=mode), rand(2, 3, 4, seed=2))


PAD_ERRORS = [  # (input shape, pad, mode, value)
    ((4,), (1, 1), "reflect", None), ((2, 3, 4, 5), (1, 1), "replicate", None),
    ((3, 4), (1, 1, 1, 1), "circular", None), ((2, 3, 4), (1, 1, 1, 1, 1, 1), "reflect", None),
    ((1, 2, 3, 4, 5), (1,) * 8, "reflect", None), ((2, 3, 4), (), "replicate", None),
    ((2, 3, 4), (1, 1, 1), "reflect", None), ((2, 3, 4), (1, 1), "reflect", 1.0),
    ((2, 3, 4), (4, 0), "reflect", None), ((2, 3, 4), (0, 0, 3, 0), "reflect", None),
    ((2, 3, 4, 5), (0, 0, 0, 0, 3, 0), "reflect", None), ((2, 3, 4), (-3, -1), "reflect", None),
    ((2, 3, 4), (-3, -1), "replicate", None), ((2, 3, 4), (-2, -2, -2, -1), "reflect", None),
    ((2, 3, 4), (-2, -2, -2, -1), "replicate", None),
    ((2, 3, 4, 5), (-3, -2, -2, -2, -2, -1), "reflect", None),
    ((2, 3, 4, 5), (0, 0, 0, 0, -2, -2), "replicate", None),
    ((2, 0, 4), (1, 1), "reflect", None), ((2, 3, 0, 4), (1, 1, 1, 1), "replicate", None),
    ((2, 3, 4), (5, 0), "circular", None), ((2, 3, 4), (-4, -1), "circular", None),
    ((2, 3, 0), (1, 1), "circular", None), ((2, 3, 4), (1, 1), "mirror", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", PAD_ERRORS)
def test_pad_mode_errors_match_torch(shape, pad, mode, value):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: lib.nn.functional.pad(lib.tensor(x), pad, mode=mode, value=value))


def test_pad_mode_dtype_errors_match_torch():
    x = np.ones((2, 3, 4), dtype=bool)
    same_error(lambda lib: lib.nn.functional.pad(lib.tensor(x), (1, 1), mode="reflect"))
    same_error(lambda lib: lib.nn.functional.pad(lib.tensor(x), (1, 1, 1, 1), mode="replicate"))


def test_circular_pad_of_a_cropped_dim_wraps_around_repeatedly():
    """PyTorch raises or returns values that depend on memory layout when a positive amount
    exceeds what is left after cropping; numpy2gpt keeps wrapping around the kept part."""
    y = ng.nn.functional.pad(ng.arange(5.0).reshape(1, 1, 5), (-3, 3), mode="circular")
    assert y.flatten().tolist() == [3.0, 4.0, 3.0, 4.0, 3.0]


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("layer,shape", [("Conv2d", (2, 2, 6, 5)), ("Conv1d", (2, 2, 7))])
def test_conv_padding_modes_match_torch(padding_mode, layer, shape):
    kwargs = {"padding": 2 if layer == "Conv1d" else (1, 2), "padding_mode": padding_mode}
    ng.manual_seed(5)
    torch.manual_seed(5)
    ours = getattr(ng.nn, layer)(2, 3, 3, **kwargs)
    theirs = getattr(torch.nn, layer)(2, 3, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [rand(*shape).astype(np.float32)])
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5)


# ----- interpolate -------------------------------------------------------------------------------
INTERP_MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1),
                ("nearest-exact", 2), ("linear", 1), ("bilinear", 2), ("bicubic", 2),
                ("trilinear", 3), ("area", 1), ("area", 2)]
INTERP_SIZES = [{"size": 1}, {"size": 3}, {"size": 9}, {"scale_factor": 0.6},
                {"scale_factor": 1.7}, {"scale_factor": 2}, {"scale_factor": 2.5,
                                                             "recompute_scale_factor": True}]


@pytest.mark.parametrize("mode,dims", INTERP_MODES)
@pytest.mark.parametrize("sizes", INTERP_SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate_matches_torch(mode, dims, sizes, dtype):
    x = rand(2, 3, *(5, 7, 4)[:dims], seed=1)
    corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
    for align_corners in corners:
        kwargs = dict(sizes, mode=mode, align_corners=align_corners)
        compare(_f(ng, "interpolate", **kwargs), _f(torch, "interpolate", **kwargs), [x], dtype)


def test_interpolate_scale_factor_differs_from_size():
    """Given as scale_factor=1.7 the kernel uses 1 / 1.7 as its scale, given as the size it
    produces (8), 5 / 8: the two pick different inputs, in PyTorch and here."""
    x = rand(1, 1, 5)
    by_scale = ng.nn.functional.interpolate(ng.tensor(x), scale_factor=1.7)
    by_size = ng.nn.functional.interpolate(ng.tensor(x), size=8)
    assert not np.array_equal(by_scale.numpy(), by_size.numpy())
    assert_close(by_scale, torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.7))


def test_interpolate_grad_fn_names_and_double_backward():
    x = ng.randn(1, 2, 3, 4, requires_grad=True)
    for mode, name in (("nearest", "UpsampleNearest2DBackward0"),
                       ("bilinear", "UpsampleBilinear2DBackward0"),
                       ("bicubic", "UpsampleBicubic2DBackward0")):
        assert ng.nn.functional.interpolate(x, size=5, mode=mode).grad_fn.name() == name
    for mode in ("bilinear", "bicubic", "nearest"):
        check_double_backward(_f(ng, "interpolate", scale_factor=1.5, mode=mode),
                              _f(torch, "interpolate", scale_factor=1.5, mode=mode),
                              rand(1, 2, 3, 4, seed=3))


INTERP_ERRORS = [  # (input shape, keyword arguments)
    ((2, 3, 4, 5), {"size": 0}), ((2, 3, 4), {"size": 0, "mode": "linear"}),
    ((2, 3, 4, 5), {"scale_factor": 0.1, "mode": "bilinear"}), ((3, 4), {"size": 5}),
    ((1, 1, 1, 1, 3, 4), {"size": 5}), ((2, 0, 3, 4), {"size": 5}),
    ((2, 2, 0, 4), {"size": 5}), ((2, 3, 4, 5), {"size": 5, "mode": "foo"}),
    ((2, 3, 4), {"size": 5, "mode": "bilinear"}), ((2, 3, 4, 5), {"size": 5, "mode": "linear"}),
    ((2, 3, 4, 5), {"size": 5, "align_corners": True}),
    ((2, 3, 4), {"size": 5, "mode": "linear", "antialias": True}),
    ((2, 3, 4, 5), {"size": (5.0, 6)}), ((2, 3, 4, 5), {"size": (5,)}),
    ((2, 3, 4, 5), {"scale_factor": (5,)}), ((2, 3, 4, 5), {"size": 5, "scale_factor": 2}),
    ((2, 3, 4, 5), {}), ((2, 3, 4, 5), {"size": 5, "recompute_scale_factor": True}),
]


@pytest.mark.parametrize("shape,kwargs", INTERP_ERRORS)
def test_interpolate_errors_match_torch(shape, kwargs):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: lib.nn.functional.interpolate(lib.tensor(x), **kwargs))


def test_interpolate_integer_input_and_antialias():
    x = np.arange(24).reshape(2, 3, 4)
    same_error(lambda lib: lib.nn.functional.interpolate(lib.tensor(x), size=5))
    with pytest.raises(NotImplementedError, match="antialias"):
        ng.nn.functional.interpolate(ng.randn(1, 1, 4, 4), size=2, mode="bilinear",
                                     antialias=True)


@pytest.mark.parametrize("name,kwargs", [("upsample", {"mode": "bilinear"}),
                                         ("upsample_nearest", {}), ("upsample_bilinear", {})])
def test_deprecated_upsample_warns_like_torch(name, kwargs):
    x = rand(1, 2, 3, 4).astype(np.float32)
    out = []
    for lib in (ng, torch):
        with pytest.warns(UserWarning) as record:
            out.append(getattr(lib.nn.functional, name)(lib.tensor(x), size=5, **kwargs))
        out.append(str(record[0].message))
    assert out[1] == out[3]
    assert_close(out[0], out[2])


# ----- pixel_shuffle / pixel_unshuffle -----------------------------------------------------------
@pytest.mark.parametrize("name,shape,factor", [
    ("pixel_shuffle", (2, 8, 3, 4), 2), ("pixel_shuffle", (18, 3, 2), 3),
    ("pixel_shuffle", (1, 2, 12, 3, 4), 2), ("pixel_unshuffle", (2, 2, 4, 6), 2),
    ("pixel_unshuffle", (1, 2, 2, 6, 9), 3), ("pixel_unshuffle", (3, 4, 4), 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pixel_shuffle_matches_torch(name, shape, factor, dtype):
    compare(_f(ng, name, factor), _f(torch, name, factor), [rand(*shape, seed=1)], dtype)


def test_pixel_shuffle_round_trip_and_integers():
    x = np.arange(2 * 8 * 3 * 4).reshape(2, 8, 3, 4)
    ours, theirs = (lib.nn.functional.pixel_shuffle(lib.tensor(x), 2) for lib in (ng, torch))
    assert_close(ours, theirs)
    assert np.array_equal(ng.nn.functional.pixel_unshuffle(ours, 2).numpy(), x)


@pytest.mark.parametrize("name,shape,factor", [
    ("pixel_shuffle", (3, 4), 2), ("pixel_shuffle", (2, 6, 3, 4), 2),
    ("pixel_shuffle", (2, 8, 3, 4), 0), ("pixel_shuffle", (2, 8, 3, 4), -1),
    ("pixel_shuffle", (2, 8, 3, 4), 2.0), ("pixel_unshuffle", (2, 2, 5, 6), 2),
    ("pixel_unshuffle", (2, 2, 4, 5), 2), ("pixel_unshuffle", (2, 2, 4, 6), 0),
    ("pixel_unshuffle", (4, 6), 2)])
def test_pixel_shuffle_errors_match_torch(name, shape, factor):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), factor))


# ----- fold / unfold -----------------------------------------------------------------------------
BLOCKS = [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2),
                               "dilation": (2, 1)}, {"kernel_size": 3, "stride": 2, "padding": 1}]


@pytest.mark.parametrize("kwargs", BLOCKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unfold_and_fold_match_torch(kwargs, dtype):
    x = rand(2, 3, 6, 7, seed=1)
    compare(_f(ng, "unfold", **kwargs), _f(torch, "unfold", **kwargs), [x], dtype)
    compare(_f(ng, "unfold", **kwargs), _f(torch, "unfold", **kwargs), [x[0]], dtype)
    cols = torch.nn.functional.unfold(torch.tensor(x), **kwargs)
    c = rand(*cols.shape, seed=2)
    compare(_f(ng, "fold", (6, 7), **kwargs), _f(torch, "fold", (6, 7), **kwargs), [c], dtype)
    compare(_f(ng, "fold", (6, 7), **kwargs), _f(torch, "fold", (6, 7), **kwargs), [c[0]], dtype)


def test_fold_unfold_grad_fn_and_double_backward():
    x = ng.randn(1, 2, 4, 5, requires_grad=True)
    cols = ng.nn.functional.unfold(x, 2, stride=2, padding=1)
    assert cols.grad_fn.name() == "Im2ColBackward0"
    assert ng.nn.functional.fold(cols, (4, 5), 2, stride=2, padding=1).grad_fn.name() == \
        "Col2ImBackward0"

    def through_both(lib):  # a non-linear function of x, so the second derivative is non-zero
        f = lib.nn.functional
        return lambda x: f.fold(f.unfold(x, 2, padding=1) ** 2, (4, 5), 2, padding=1)

    check_double_backward(through_both(ng), through_both(torch), rand(1, 2, 4, 5, seed=3))


FOLD_ERRORS = [  # (function, input shape, arguments, keyword arguments)
    ("unfold", (2, 3, 5, 6), (7,), {}), ("unfold", (5, 6), (2,), {}),
    ("unfold", (1, 2, 3, 5, 6), (2,), {}), ("unfold", (2, 3, 5, 6), (0,), {}),
    ("unfold", (2, 3, 5, 6), (2,), {"stride": 0}), ("unfold", (2, 3, 5, 6), (2,), {"padding": -1}),
    ("unfold", (2, 3, 5, 6), (2,), {"dilation": 0}), ("unfold", (2, 3, 5, 6), ((2, 2, 2),), {}),
    ("unfold", (2, 0, 5, 6), (2,), {}), ("fold", (2, 12, 20), ((5, 7), 2), {}),
    ("fold", (2, 10, 20), ((5, 6), 2), {}), ("fold", (2, 12, 20), ((5, 6), 0), {}),
    ("fold", (2, 12, 20), ((5, 6), 2), {"stride": 0}), ("fold", (2, 12, 20), ((5,), 2), {}),
    ("fold", (2, 12, 20), ((1, 1), 2), {}), ("fold", (1, 2, 12, 20), ((5, 6), 2), {}),
    ("fold", (2, 12, 0), ((5, 6), 2), {}),
]


@pytest.mark.parametrize("name,shape,args,kwargs", FOLD_ERRORS)
def test_fold_unfold_errors_match_torch(name, shape, args, kwargs):
    x = rand(*shape).astype(np.float32)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), *args, **kwargs))


# ----- the layers --------------------------------------------------------------------------------
LAYERS = [  # (name, arguments, input shape)
    ("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4)),
    ("ConstantPad1d", ((1, 2), 3.5), (3, 4)), ("ConstantPad2d", (1, -1.0), (1, 2, 3, 4)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 4)), ("ReflectionPad2d", (2,), (1, 2, 3, 4)),
    ("ReplicationPad1d", (5,), (3, 4)), ("ReplicationPad2d", ((1, 0, 2, 3),), (2, 3, 4)),
    ("CircularPad1d", ((1, 4),), (2, 3, 4)), ("CircularPad2d", (1,), (1, 2, 3, 4)),
    ("Upsample", (None, 2), (1, 2, 3)),
    ("Upsample", ((5, 6), None, "bicubic", True), (1, 2, 3, 4)),
    ("Upsample", (None, (2.0, 1.5), "bilinear", False, True), (1, 2, 3, 4)),
    ("UpsamplingNearest2d", (None, 2), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (5,), (1, 2, 3, 4)), ("PixelShuffle", (2,), (1, 8, 2, 3)),
    ("PixelUnshuffle", (3,), (1, 2, 3, 6)), ("Fold", ((4, 5), 2), (2, 12, 12)),
    ("Fold", (4, 2, 1, 0, 2), (2, 8, 4)), ("Unfold", ((2, 3), 2, 1, (1, 2)), (2, 3, 5, 6)),
]


@pytest.mark.parametrize("name,args,shape", LAYERS)
def test_layers_repr_and_forward_match_torch(name, args, shape):
    ours, theirs = getattr(ng.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [rand(*shape).astype(np.float32)])


def test_circular_pad_layer_checks_the_input_dims_like_torch():
    x = rand(2, 3, 4, 5).astype(np.float32)
    same_error(lambda lib: lib.nn.CircularPad1d(1)(lib.tensor(x)))
    same_error(lambda lib: lib.nn.CircularPad2d(1)(lib.tensor(x[0, 0])))
