"""torch.autograd.Variable, the old name old tutorials use: a new leaf on the data's memory."""

import warnings

import pytest
import torch

import numpy2gpt as ng


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_variable_is_a_new_leaf_on_the_same_memory(lib):
    t = lib.ones(2)
    v = lib.autograd.Variable(t, requires_grad=True)
    assert type(v) is lib.Tensor and v is not t
    assert v.requires_grad and v.is_leaf and v.grad_fn is None and not t.requires_grad
    v.sum().backward()
    assert v.grad.tolist() == [1.0, 1.0] and t.grad is None
    v.data.mul_(3)  # the same memory as t
    assert t.tolist() == [3.0, 3.0]
    x = lib.ones(2, requires_grad=True) * 2
    w = lib.autograd.Variable(x)  # detached from x's graph, no grad by default
    assert not w.requires_grad and w.is_leaf and w.grad_fn is None
    assert isinstance(t, lib.autograd.Variable) and not isinstance(3, lib.autograd.Variable)
    empty = lib.autograd.Variable()
    assert empty.shape == (0,) and empty.dtype == lib.float32


def test_variable_errors_and_volatile_warning_as_torch():
    for lib in (ng, torch):
        with pytest.raises(TypeError, match="^Variable data has to be a tensor, but got list$"):
            lib.autograd.Variable([1.0, 2.0])
        with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex "
                                               "dtype can require gradients$"):
            lib.autograd.Variable(lib.ones(2, dtype=lib.int64), requires_grad=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            lib.autograd.Variable(lib.ones(2), volatile=True)
        assert [str(w.message) for w in seen] == [
            "volatile was removed and now has no effect. Use `with torch.no_grad():` instead."]
