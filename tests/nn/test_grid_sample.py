"""F.grid_sample and F.affine_grid against PyTorch: values and gradients (w.r.t. input, grid and
theta) in float64 and float32 for every mode, padding mode and align_corners, 4-D and 5-D,
grids far outside [-1, 1] (several reflections), NaN and inf in the grid, unit-size dims,
PyTorch's warnings and errors."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng

RTOL = {np.float64: (1e-10, 1e-8), np.float32: (1e-5, 1e-5)}


def compare(fn, tfn, arrays, dtype, requires_grad=None):
    rtol, grad_rtol = RTOL[dtype]
    ours, *_ = check_against_torch(fn, tfn, [a.astype(dtype) for a in arrays],
                                   requires_grad=requires_grad, rtol=rtol, grad_rtol=grad_rtol)
    return ours[0]


def sample(lib, **kwargs):
    return lambda x, grid: lib.nn.functional.grid_sample(x, grid, **kwargs)


def grid(shape, seed=1, reach=1.6):
    """Coordinates uniform in [-reach, reach]: reach > 1 puts some outside the image."""
    return np.random.default_rng(seed).uniform(-reach, reach, shape)


def image(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


MODES_2D = list(itertools.product(["bilinear", "nearest", "bicubic"],
                                  ["zeros", "border", "reflection"], [False, True]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode,padding_mode,align_corners", MODES_2D)
def test_grid_sample_4d(dtype, mode, padding_mode, align_corners):
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    y = compare(sample(ng, **kwargs), sample(torch, **kwargs),
                [image(2, 3, 4, 5), grid((2, 3, 6, 2))], dtype)
    assert y.shape == (2, 3, 3, 6)
    # far outside: the reflection mirrors several times
    compare(sample(ng, **kwargs), sample(torch, **kwargs),
            [image(1, 2, 3, 4, seed=2), grid((1, 5, 4, 2), seed=3, reach=4.5)], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode,padding_mode,align_corners",
                         [m for m in MODES_2D if m[0] != "bicubic"])
def test_grid_sample_5d(dtype, mode, padding_mode, align_corners):
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    y = compare(sample(ng, **kwargs), sample(torch, **kwargs),
                [image(2, 2, 3, 4, 5), grid((2, 2, 3, 4, 3))], dtype)
    assert y.shape == (2, 2, 2, 3, 4)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_unit_dims_and_one_gradient_at_a_time(padding_mode):
    """A dim of one pixel (reflection about a single centre with align_corners), and a
    gradient for the input alone or the grid alone."""
    for align_corners in (False, True):
        kwargs = dict(padding_mode=padding_mode, align_corners=align_corners)
        arrays = [image(2, 3, 1, 4), grid((2, 4, 3, 2), reach=2.5)]
        for requires_grad in ([True, True], [True, False], [False, True]):
            compare(sample(ng, **kwargs), sample(torch, **kwargs), arrays, np.float64,
                    requires_grad)


@pytest.mark.parametrize("align_corners", [False, True])
def test_nearest_ties_and_pixel_centres(align_corners):
    """Coordinates on multiples of 1/8 land exactly halfway between pixels and on pixel
    centres: nearest rounds ties to even, as PyTorch; bilinear's corners and gradients at
    exact pixel positions."""
    g = np.stack(np.meshgrid(np.arange(-9, 10) / 8, np.arange(-5, 6) / 4), -1)[None]
    x = image(1, 2, 3, 5)
    for mode in ("nearest", "bilinear"):
        for padding_mode in ("zeros", "border", "reflection"):
            kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
            compare(sample(ng, **kwargs), sample(torch, **kwargs), [x, g], np.float64)


def test_nan_and_inf_in_the_grid():
    """Values only: PyTorch's kernel reads a NaN coordinate as 0 after clamping (border,
    reflection), as outside (nearest, zeros), or gives NaN (bilinear zeros, bicubic)."""
    g = grid((2, 3, 6, 2), reach=3.0)
    g[0, 0, 0, 0] = g[0, 0, 1, 1] = np.nan
    g[0, 0, 2], g[0, 0, 3] = np.inf, -np.inf
    x = image(2, 3, 4, 5)
    for mode, padding_mode, align_corners in MODES_2D:
        for dtype in (np.float64, np.float32):
            ours, theirs = (lib.nn.functional.grid_sample(
                lib.tensor(x.astype(dtype)), lib.tensor(g.astype(dtype)), mode=mode,
                padding_mode=padding_mode, align_corners=align_corners) for lib in (ng, torch))
            assert_close(ours, theirs, rtol=RTOL[dtype][0])


def test_grad_fn_names_float32_and_empty():
    x = ng.tensor(image(2, 3, 4, 5), dtype=ng.float32, requires_grad=True)
    g = ng.tensor(grid((2, 3, 6, 2)), dtype=ng.float32, requires_grad=True)
    y = ng.nn.functional.grid_sample(x, g, align_corners=False)
    assert y.grad_fn.name() == "GridSampler2DBackward0" and y.dtype == ng.float32
    y.sum().backward()
    assert x.grad.dtype == g.grad.dtype == ng.float32
    y3 = ng.nn.functional.grid_sample(x[:, :, None], g[:, None, :, :, :1].expand(2, 1, 3, 6, 3),
                                      align_corners=True)
    assert y3.grad_fn.name() == "GridSampler3DBackward0"
    for xs, gs in (((0, 3, 4, 5), (0, 2, 2, 2)), ((2, 0, 4, 5), (2, 2, 2, 2)),
                   ((2, 3, 4, 5), (2, 0, 2, 2))):
        compare(sample(ng, align_corners=False), sample(torch, align_corners=False),
                [np.zeros(xs), np.zeros(gs)], np.float64)


def test_align_corners_default_warns():
    for lib in (ng, torch):
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
            lib.nn.functional.grid_sample(lib.tensor(image(1, 1, 2, 2)),
                                          lib.tensor(grid((1, 2, 2, 2))))
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
            lib.nn.functional.affine_grid(lib.tensor(image(1, 2, 3)), (1, 1, 2, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.nn.functional.grid_sample(lib.tensor(image(1, 1, 2, 2)),
                                          lib.tensor(grid((1, 2, 2, 2))), align_corners=False)


# ----- affine_grid ------------------------------------------------------------------------------
AFFINE_SIZES = [(2, 3, 4, 5), (2, 1, 7, 1), (2, 3, 1, 6), (2, 2, 3, 4, 5), (2, 1, 1, 3, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", AFFINE_SIZES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(dtype, size, align_corners):
    k = len(size) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size dims with align_corners warn (both)
        y = compare(lambda t: ng.nn.functional.affine_grid(t, size, align_corners),
                    lambda t: torch.nn.functional.affine_grid(t, size, align_corners),
                    [image(2, k, k + 1)], dtype)
    assert y.shape == (size[0], *size[2:], k)
    assert y.grad_fn.name() == "AffineGridGeneratorBackward0"


def test_affine_grid_unit_size_warning_and_torch_size():
    for lib in (ng, torch):
        theta = lib.tensor(image(2, 2, 3))
        with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
            lib.nn.functional.affine_grid(theta, (2, 3, 1, 5), align_corners=True)
    ours = ng.nn.functional.affine_grid(ng.tensor(image(2, 2, 3)), torch.Size((2, 3, 4, 5)),
                                        align_corners=False)
    theirs = torch.nn.functional.affine_grid(torch.tensor(image(2, 2, 3)), [2, 3, 4, 5],
                                             align_corners=False)
    assert_close(ours, theirs)


def test_affine_grid_double_backward():
    """The grid is linear in theta: the second derivative through it is 0, and create_graph
    works (the gradient of theta's gradient w.r.t. the upstream gradient is base^T)."""
    results = []
    for lib in (ng, torch):
        theta = lib.tensor(image(2, 2, 3), requires_grad=True)
        y = lib.nn.functional.affine_grid(theta, (2, 1, 3, 4), align_corners=False)
        v = lib.tensor(image(2, 3, 4, 2, seed=5), requires_grad=True)
        (gt,) = lib.autograd.grad(y, theta, v, create_graph=True)
        (gv,) = lib.autograd.grad((gt * lib.tensor(image(2, 2, 3, seed=6))).sum(), v)
        results.append((gt, gv))
    for a, b in zip(*results):
        assert_close(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_spatial_transformer(dtype, padding_mode):
    """affine_grid then grid_sample: gradients reach theta through the grid."""
    def stn(lib):
        def fn(x, theta):
            g = lib.nn.functional.affine_grid(theta, tuple(x.shape), align_corners=False)
            return lib.nn.functional.grid_sample(x, g, padding_mode=padding_mode,
                                                 align_corners=False)
        return fn
    theta = np.array([[[0.9, -0.3, 0.1], [0.25, 1.2, -0.2]], [[1.4, 0.2, 0.3], [-0.1, 0.7, 0.5]]])
    compare(stn(ng), stn(torch), [image(2, 3, 5, 6), theta], dtype)


# ----- errors -----------------------------------------------------------------------------------
def _gs(x_shape=(2, 3, 4, 5), g_shape=(2, 3, 6, 2), x_dtype=np.float32, g_dtype=np.float32,
        **kwargs):
    kwargs.setdefault("align_corners", False)

    def call(lib):
        x = lib.tensor(np.zeros(x_shape, x_dtype))
        g = lib.tensor(np.zeros(g_shape, g_dtype))
        return lib.nn.functional.grid_sample(x, g, **kwargs)
    return call


def _ag(theta_shape=(2, 2, 3), size=(2, 3, 4, 5), dtype=np.float32, **kwargs):
    kwargs.setdefault("align_corners", False)
    return lambda lib: lib.nn.functional.affine_grid(lib.tensor(np.zeros(theta_shape, dtype)),
                                                     size, **kwargs)


ERRORS = {
    "mode": _gs(mode="linear"),
    "padding_mode": _gs(padding_mode="constant"),
    "batch": _gs(g_shape=(1, 3, 6, 2)),
    "last dim": _gs(g_shape=(2, 3, 6, 3)),
    "empty spatial": _gs(x_shape=(2, 3, 0, 5)),
    "5-D grid for 4-D input": _gs(g_shape=(2, 1, 3, 6, 2)),
    "3-D input": _gs(x_shape=(2, 4, 5), g_shape=(2, 6, 1)),
    "bicubic 5-D": _gs(x_shape=(2, 3, 2, 4, 5), g_shape=(2, 1, 3, 6, 3), mode="bicubic"),
    "integer input": _gs(x_dtype=np.int64, g_dtype=np.int64),
    "integer 5-D": _gs(x_shape=(2, 3, 2, 4, 5), g_shape=(2, 1, 3, 6, 3), x_dtype=np.int64),
    "grid dtype": _gs(g_dtype=np.float64),
    "input dtype": _gs(x_dtype=np.float64),
    "affine: integer theta": _ag(dtype=np.int64),
    "affine: 2-D theta for 3-D size": _ag(size=(2, 3, 4, 5, 6)),
    "affine: theta shape": _ag(theta_shape=(2, 3, 3)),
    "affine: 3 sizes": _ag(size=(2, 3, 4)),
    "affine: zero size": _ag(size=(2, 3, 0, 5)),
    "affine: negative size": _ag(size=(2, -3, 4, 5)),
    "affine: batch": _ag(size=(3, 3, 4, 5)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    same_error(ERRORS[name])


TYPE_ERRORS = {
    "align_corners int": _gs(align_corners=1),
    "input not a tensor": lambda lib: lib.nn.functional.grid_sample(
        np.zeros((1, 1, 2, 2)), lib.tensor(np.zeros((1, 1, 1, 2))), align_corners=False),
    "affine: float size": _ag(size=(2, 3, 4.0, 5)),
}


@pytest.mark.parametrize("name", TYPE_ERRORS)
def test_type_errors_match_torch(name):
    same_error(TYPE_ERRORS[name], same_message=name != "input not a tensor")
