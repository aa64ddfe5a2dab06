"""Tensor.register_post_accumulate_grad_hook against PyTorch: once per backward, after all of
the leaf's gradient is in; not for autograd.grad; removable; PyTorch's errors."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def hook_calls(lib, remove_after_first=False):
    """What each hook call saw: (name, grad) - a leaf used three times, one used once, one in
    the output itself, one unused."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    v = lib.tensor([3.0, -1.0], requires_grad=True)
    u = lib.tensor([0.5, 0.5], requires_grad=True)
    unused = lib.tensor([1.0], requires_grad=True)
    seen = []
    handles = [t.register_post_accumulate_grad_hook(
        lambda t, name=name: seen.append((name, t.grad.tolist())))
        for name, t in [("w", w), ("v", v), ("u", u), ("unused", unused)]]
    for _ in range(2):
        loss = ((w * v).sum() + (w * w).sum().exp() * 1e-3 + w.sum() + u)
        loss.backward(lib.ones(2))
        if remove_after_first:
            handles[0].remove()
    return sorted(seen)


@pytest.mark.parametrize("remove", [False, True])
def test_as_pytorch(remove):
    got, want = hook_calls(ng, remove), hook_calls(torch, remove)
    assert [name for name, _ in got] == [name for name, _ in want]
    for (_, g), (_, t) in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-6)


def test_not_for_autograd_grad():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(calls.append)
    ng.autograd.grad((w * w).sum(), w)
    assert calls == [] and w.grad is None


@pytest.mark.parametrize("make", [lambda lib: lib.ones(2),
                                  lambda lib: lib.ones(2, requires_grad=True) * 2])
def test_errors_as_pytorch(make):
    with pytest.raises(RuntimeError) as ours:
        make(ng).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError) as theirs:
        make(torch).register_post_accumulate_grad_hook(print)
    assert str(ours.value) == str(theirs.value)
