"""nn.init: fill a weight tensor in place with random or constant values (PyTorch's torch.nn.init).

Every function writes into the tensor's array under `no_grad` (initialising is not part of the
model's computation), draws from numpy2gpt's global generator (`manual_seed`) unless a
`generator` (a `numpy2gpt.Generator`) is given, and returns the tensor. The random fills give
PyTorch's values for the same seed (its generator and algorithms, see numpy2gpt/random.py), so a
model built after `manual_seed(s)` starts from the weights PyTorch's would.

Why the scales: a layer y = W x with fan_in inputs has Var(y) = fan_in * Var(W) * Var(x), so
Var(W) = 1 / fan_in keeps activations from growing or shrinking layer after layer (LeCun/Kaiming);
Xavier averages fan_in and fan_out to balance the forward and backward passes. A uniform
U(-b, b) has variance b^2 / 3, hence the sqrt(3) factors below.
"""

import contextlib
import functools
import math
import numbers
import threading
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..linalg import qr
from ..ops._util import not_implemented_for
from ..ops.creation import randperm
from ..random import resolve
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "dirac_", "sparse_"]


_skip = threading.local()  # nn.utils.skip_init: random fills leave the tensor as it is


@contextlib.contextmanager
def _skipping_random_fills():
    previous = getattr(_skip, "on", False)
    _skip.on = True
    try:
        yield
    finally:
        _skip.on = previous


def _skippable(fill):
    """Under nn.utils.skip_init a random fill returns the tensor untouched and draws nothing."""
    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        return tensor if getattr(_skip, "on", False) else fill(tensor, *args, **kwargs)
    return wrapper


def _fill(tensor, values):
    """Write `values` (any float array of the right shape) into `tensor`, keeping its dtype."""
    with no_grad():
        tensor.copy_(values)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended std multiplier for a nonlinearity (PyTorch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int | float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in*k and out*k."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of {['fan_in', 'fan_out']}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_fill(tensor, op, kernel, bounds):
    """PyTorch's errors for a fill of an integer or bool tensor (its random kernels are
    floating-point only) and for bounds or moments that are not numbers: `bounds` holds
    (argument name, value) pairs, positions counted from 1."""
    for position, (name, value) in enumerate(bounds, 1):
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be float, not "
                            f"{type(value).__name__}")
    not_implemented_for(tensor, kernel)


@_skippable
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    _check_fill(tensor, "uniform_", "check_uniform_bounds", (("from", a), ("to", b)))
    return _fill(tensor, resolve(generator).uniform(tensor.shape, a, b, tensor.dtype))


@_skippable
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    _check_fill(tensor, "normal_", "normal_kernel_cpu", (("mean", mean), ("std", std)))
    return _fill(tensor, resolve(generator).normal(tensor.shape, mean, std, tensor.dtype))


@_skippable
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b] (absolute bounds), by PyTorch's two kinds of
    rejection sampling (so a seed gives PyTorch's values):

    - when [a, b] holds more than 30% of the mass: draw normals, and while any lies outside
      [a, b], draw a whole new tensor of normals and take its values where the old ones were out;
    - otherwise (a narrow window, or one far in a tail): draw uniforms on [a, b] and accept x
      with probability pdf(x) / pdf(mode), the mode being the point of [a, b] nearest the mean;
      rejected entries are redrawn, a whole tensor of proposals at a time.
    """
    _check_fill(tensor, "normal_", "normal_kernel_cpu", (("mean", mean), ("std", std)))
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng, shape, dtype = resolve(generator), tensor.shape, tensor.dtype

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        lo, hi = (float(np.asarray(v, dtype)) for v in (a, b))  # the bounds in the tensor's dtype
        out = rng.normal(shape, mean, std, dtype)
        while (out_of_range := (out < lo) | (out > hi)).any():
            out = np.where(out_of_range, rng.normal(shape, mean, std, dtype), out)
        return _fill(tensor, out)

    work = np.float64 if dtype == np.float64 else np.float32
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_ratio(x):  # log(pdf(x) / pdf(mode)), in the tensor's precision, as PyTorch does it
        z = (x.astype(work) - work(mean)) / work(std)
        return z * z * work(-0.5) - work(log_peak)

    def rejected(x):  # log(u) > log(pdf(x) / pdf(mode)), u ~ U(0, 1)
        with np.errstate(divide="ignore"):
            return np.log(rng.uniform(shape, dtype=dtype).astype(work)) > log_ratio(x)

    out = rng.uniform(shape, a, b, dtype)
    pending = rejected(out)
    while pending.any():
        proposal = rng.uniform(shape, a, b, dtype)
        out = np.where(pending, proposal, out)
        pending &= rejected(proposal)
    return _fill(tensor, out)


def constant_(tensor, val):
    if not isinstance(val, numbers.Number | Tensor):  # PyTorch's fill_ takes nothing else
        raise TypeError(f"fill_(): argument 'value' (position 1) must be Number, not "
                        f"{type(val).__name__}")
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight (out_channels, in_channels, *kernel) with the
    Dirac delta: in each of the `groups` groups of output channels, channel d has a 1 at the
    kernel's centre for input channel d and zeros elsewhere, so the convolution starts as the
    identity on as many channels as both sides have."""
    dimensions = tensor.ndimension()
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    centre = tuple(size // 2 for size in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min_dim):
                tensor[(g * out_chans_per_grp + d, d) + centre] = 1
    return tensor


@_skippable
def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor as a sparse matrix (Martens, 2010): N(0, std^2) values, then in every
    column ceil(sparsity * rows) randomly chosen entries set to 0.

    As PyTorch: the normals come from `generator`, but each column's random rows (a randperm)
    from the global generator, whatever `generator` is."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        normal_(tensor, 0, std, generator)
        for col_idx in range(cols):
            zero_indices = randperm(rows)[:num_zeros]
            tensor[zero_indices, col_idx] = 0
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015).

    nn.Linear uses a=sqrt(5): gain = sqrt(2 / 6), so b = 1 / sqrt(fan_in).
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


@_skippable
def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times `gain` (Saxe et al., 2013): the tensor, seen as a
    (rows, prod(other dims)) matrix, gets orthonormal rows or columns, whichever are fewer.

    As PyTorch: draw a standard-normal matrix (transposed to tall when it is wide), take its QR
    decomposition and keep Q. Multiplying Q's columns by the signs of diag(R) makes the
    factorisation unique (R's diagonal positive), so Q is uniformly (Haar) distributed rather
    than biased by the QR algorithm's sign choices (Mezzadri, 2007)."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = normal_(tensor.new_empty((rows, cols)), 0, 1, generator)
    if rows < cols:
        flattened = flattened.t()
    q, r = qr(flattened)
    q = q * r.diagonal().sign()
    if rows < cols:
        q = q.t()
    with no_grad():
        tensor.view_as(q).copy_(q)
        tensor.mul_(gain)
    return tensor


def _make_deprecate(meth):
    """The old name of an initialiser (`normal` for `normal_`): the same fill, plus PyTorch's
    FutureWarning pointing to the new name (the trailing _ says the tensor is changed in place)."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = (f"{old_name}(...): deprecated, use nn.init.{new_name} (same "
                               "arguments).")
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


normal = _make_deprecate(normal_)
uniform = _make_deprecate(uniform_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
