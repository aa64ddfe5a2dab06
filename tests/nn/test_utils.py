"""nn.utils against PyTorch: clip_grad_norm_ (returned norm and clipped gradients),
clip_grad_value_, parameters_to_vector / vector_to_parameters; skip_init."""

import math

import numpy as np
import pytest
import torch

import numpy2gpt as n2g
from numpy2gpt import nn
from numpy2gpt.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    skip_init,
    vector_to_parameters,
)

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]


def pair(dtype, scale=1.0, none_at=None):
    """Parameters with gradients, in PyTorch and numpy2gpt, holding the same numbers."""
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        w = rng.standard_normal(shape).astype(dtype)
        g = (rng.standard_normal(shape) * scale).astype(dtype)
        p, t = nn.Parameter(n2g.tensor(w)), torch.nn.Parameter(torch.tensor(w))
        if i != none_at:
            p.grad, t.grad = n2g.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def assert_grads_equal(ours, theirs, rtol):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
            continue
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-6), ("float64", 1e-13)])
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clips / leaves alone
def test_clip_grad_norm_matches_torch(dtype, rtol, norm_type, max_norm):
    ours, theirs = pair(dtype, none_at=1)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, n2g.Tensor) and total.dim() == 0 and total.dtype == np.dtype(dtype)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    assert_grads_equal(ours, theirs, rtol)
    if max_norm == 0.5 and norm_type == 2.0:  # the clipped gradients have norm max_norm
        joint = math.sqrt(sum(float((p.grad._data.astype(np.float64) ** 2).sum())
                              for p in ours if p.grad is not None))
        assert joint == pytest.approx(0.5, rel=1e-5)


@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-6), ("float64", 1e-13)])
def test_clip_grad_norm_of_strided_and_read_only_gradients(dtype, rtol):
    """Gradients that are transposed views or read-only broadcasts (which the in-place scaling
    must not write through) are measured and clipped like PyTorch's."""
    rng = np.random.default_rng(1)
    row = rng.standard_normal(3).astype(dtype)
    grads = [rng.standard_normal((5, 4)).astype(dtype).T, np.broadcast_to(row, (2, 3)),
             rng.standard_normal((5, 4)).astype(dtype)[::2, 1:]]
    ours = [nn.Parameter(n2g.zeros(*g.shape, dtype=n2g.float64 if dtype == "float64"
                                   else n2g.float32)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=getattr(torch, dtype)))
              for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad = n2g.Tensor._make(g)  # the arrays themselves, strided or read-only
        t.grad = torch.tensor(np.ascontiguousarray(g))
    total = clip_grad_norm_(ours, 0.5)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    assert_grads_equal(ours, theirs, rtol)
    assert not np.may_share_memory(ours[1].grad._data, row)  # the broadcast was not written
    np.testing.assert_array_equal(row, grads[1][0])


def test_clip_grad_norm_module_parameters_single_tensor_and_no_grads():
    lin = nn.Linear(3, 2)
    assert clip_grad_norm_(lin.parameters(), 1.0).item() == 0.0  # no gradients yet
    lin.weight.grad = n2g.full((2, 3), 2.0)
    total = clip_grad_norm_(lin.weight, 1.0)  # a single tensor works too
    assert total.item() == pytest.approx(math.sqrt(6 * 4))
    assert lin.weight.grad._data.flatten() @ lin.weight.grad._data.flatten() == pytest.approx(
        1.0, rel=1e-5)


def test_clip_grad_norm_nonfinite():
    ours, theirs = pair("float64")
    ours[0].grad._data[0, 0] = np.inf
    theirs[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ours, 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isinf(total.item()) and math.isinf(ref.item())
    for p, t in zip(ours, theirs):  # same (NaN/zero) result as PyTorch
        np.testing.assert_array_equal(p.grad._data, t.grad.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_value_matches_torch(dtype):
    ours, theirs = pair(dtype, scale=3.0, none_at=2)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    assert_grads_equal(ours, theirs, 0)
    assert max(np.abs(p.grad._data).max() for p in ours if p.grad is not None) == 1.5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameters_to_vector_and_back(dtype):
    ours, theirs = pair(dtype)
    vec = parameters_to_vector(ours)
    ref = torch.nn.utils.parameters_to_vector(theirs)
    assert vec.shape == (sum(p.numel() for p in ours),) and vec.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(vec._data, ref.detach().numpy())
    # differentiable: d(sum(c * vec))/d(param) is c sliced back into each parameter's shape
    c = np.arange(vec.numel(), dtype=dtype)
    for p, t in zip(ours, theirs):
        p.grad = t.grad = None
    (vec * n2g.tensor(c)).sum().backward()
    (ref * torch.tensor(c)).sum().backward()
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad._data, t.grad.numpy())

    new = np.linspace(-1, 1, vec.numel()).astype(dtype)
    ids = [id(p) for p in ours]
    vector_to_parameters(n2g.tensor(new), ours)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    assert [id(p) for p in ours] == ids
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p._data, t.detach().numpy())
        assert p.dtype == np.dtype(dtype)


def test_vector_to_parameters_errors():
    ps = [nn.Parameter(n2g.zeros(2, 2))]
    with pytest.raises(TypeError, match="expected numpy2gpt.Tensor"):
        vector_to_parameters(np.zeros(4), ps)
    with pytest.raises(RuntimeError, match="hold 4 elements"):
        vector_to_parameters(n2g.zeros(5), ps)


# ----- skip_init ------------------------------------------------------------------------------
class _Failing(nn.Linear):
    def __init__(self):
        super().__init__(3, 2)
        raise RuntimeError("boom")


def test_skip_init_builds_the_module_without_drawing():
    n2g.manual_seed(4)
    state = n2g.get_rng_state()
    lin = skip_init(nn.Linear, 5, 3, bias=True, dtype=n2g.float64)
    assert n2g.get_rng_state() == state  # nothing drawn: no kaiming_uniform_, no bias uniform_
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)
    assert lin.weight.dtype == np.float64 and lin.weight.requires_grad
    # afterwards (even after a constructor that raised inside) modules initialise as usual
    with pytest.raises(RuntimeError, match="boom"):
        skip_init(_Failing)
    n2g.manual_seed(4)
    torch.manual_seed(4)
    np.testing.assert_array_equal(nn.Linear(5, 3).weight.detach().numpy(),
                                  torch.nn.Linear(5, 3).weight.detach().numpy())


def test_skip_init_needs_a_module_class():
    with pytest.raises(TypeError, match="skip_init expects a Module class"):
        skip_init(nn.Linear(2, 2))
