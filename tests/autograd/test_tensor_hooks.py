"""Tensor.register_hook against PyTorch: a hook sees the summed gradient once per backward (a
leaf used twice, a non-leaf with two consumers, a residual block), may replace it for what flows
on and what lands in `.grad`, runs in registration order, is removable, runs for autograd.grad
and under create_graph; PyTorch's errors."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def assert_same(got, want):
    """Nested lists/tuples of tensors (or None, or plain values) equal to PyTorch's."""
    if isinstance(want, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, torch.Tensor):
        assert isinstance(got, ng.Tensor), got
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    else:
        assert got == want


def compare(case):
    assert_same(case(ng), case(torch))


def recorder(seen, name, factor=None):
    """A hook that records (name, grad) and returns grad * factor (None: observe only)."""
    def hook(g):
        seen.append((name, None if g is None else g.detach().clone()))
        return None if factor is None else g * factor
    return hook


@pytest.mark.parametrize("factor", [None, 3.0])
def test_leaf_used_twice_hook_sees_the_sum_once(factor):
    def case(lib):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        seen = []
        x.register_hook(recorder(seen, "x", factor))
        post = []
        x.register_post_accumulate_grad_hook(lambda t: post.append(t.grad.clone()))
        for _ in range(2):  # .grad accumulates the hooked gradient over two passes
            ((x * x).sum() + (x * 2.0).sum()).backward()
        return seen, post, x.grad
    compare(case)


@pytest.mark.parametrize("factor", [None, -0.5])
def test_non_leaf_with_two_consumers(factor):
    def case(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
        h = x.tanh()
        seen = []
        h.register_hook(recorder(seen, "h", factor))
        (h.exp().sum() + (h * h).sum()).backward()
        return seen, x.grad
    compare(case)


def test_hooks_run_in_registration_order_each_on_the_previous_result():
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3.0
        seen = []
        h.register_hook(recorder(seen, "first", 2.0))
        h.register_hook(recorder(seen, "observer"))
        h.register_hook(recorder(seen, "third", 10.0))
        x.register_hook(recorder(seen, "x1", -1.0))
        x.register_hook(recorder(seen, "x2"))
        (h * h).sum().backward()
        return seen, x.grad
    compare(case)


def test_handle_remove():
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * x
        seen = []
        handles = [h.register_hook(recorder(seen, "h", 2.0)),
                   x.register_hook(recorder(seen, "x", 5.0))]
        grads = []
        for handle in [*handles, handles[0]]:  # removing twice does nothing
            x.grad = None
            h.sum().backward(retain_graph=True)
            grads.append(x.grad)
            handle.remove()
        return seen, grads
    compare(case)


@pytest.mark.parametrize("order", ["retain_first", "hook_first"])
def test_retain_grad_holds_the_hooked_gradient(order):
    """PyTorch 2.x: a retained non-leaf's .grad is what its hooks return, whatever the order."""
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3.0
        if order == "retain_first":
            y.retain_grad()
        y.register_hook(lambda g: g * 10.0)
        if order == "hook_first":
            y.retain_grad()
        (y * y).sum().backward()
        return y.grad, x.grad
    compare(case)


def test_autograd_grad_runs_hooks_of_intermediates_and_inputs():
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        seen = []
        x.register_hook(recorder(seen, "x", 10.0))
        h = x * w
        h.register_hook(recorder(seen, "h", 2.0))
        loss = (h * h).sum() + x.sum()
        gx, gh = lib.autograd.grad(loss, (x, h), retain_graph=True)
        # h alone: h's node need not run, and (as in PyTorch) h then gets its hooked gradient
        (gh_alone,) = lib.autograd.grad(loss, h, retain_graph=True)
        (gw,) = lib.autograd.grad(loss, w)  # x's hook is not on the way to w
        return seen, gx, gh, gh_alone, gw, x.grad, w.grad
    compare(case)


def test_residual_graph():
    """y = x + f(x), twice: x's hook and the inner tensors' hooks each see their whole sum."""
    def case(lib):
        gen = np.random.default_rng(0)
        x = lib.tensor(gen.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
        w = lib.tensor(gen.standard_normal((4, 4)).astype(np.float32), requires_grad=True)
        seen = []
        x.register_hook(recorder(seen, "x", 0.5))
        a = x + (x @ w).tanh()
        a.register_hook(recorder(seen, "a", 2.0))
        b = a + (a @ w).relu()
        b.register_hook(recorder(seen, "b"))
        (b * b).sum().backward()
        return seen, x.grad, w.grad
    compare(case)


def test_hook_on_output_and_on_leaf_output():
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(recorder(seen, "x", 5.0))
        y = (x * x).sum()
        y.register_hook(recorder(seen, "y", 3.0))
        y.backward()
        x.backward(lib.ones(2))  # a leaf as the output: its hook sees the seed
        return seen, x.grad
    compare(case)


def test_output_that_gets_no_gradient_calls_its_hooks_with_none():
    def case(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a, b = x.split(2)
        seen = []
        a.register_hook(recorder(seen, "a"))
        b.register_hook(recorder(seen, "b"))
        (b * 2.0).sum().backward()
        return seen, x.grad
    compare(case)


def test_hooks_of_a_freed_intermediate_still_run():
    """Like PyTorch, a non-leaf's hooks belong to its grad_fn, not to the Python object."""
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)

        def f(x):
            h = x * 2.0
            h.register_hook(lambda g: g * 100.0)
            return h.sum()
        f(x).backward()
        return x.grad
    compare(case)


def test_hook_registered_before_an_in_place_edit_sees_the_old_value_gradient():
    """PyTorch 2.x: the hook stays with the node that made the value it was registered on."""
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        seen = []
        y.register_hook(recorder(seen, "old y", 100.0))
        y.mul_(x)
        y.register_hook(recorder(seen, "new y", -1.0))
        y.sum().backward()
        return seen, x.grad
    compare(case)


@pytest.mark.parametrize("returns", ["nothing", "a tensor it keeps"])
def test_grad_never_shares_memory_with_what_a_hook_holds(returns):
    """An optimizer edits .grad in place: that must not change what a hook kept."""
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        kept = [lib.tensor([7.0, 7.0])]
        if returns == "nothing":
            x.register_hook(lambda g: kept.append(g) and None)
        else:
            x.register_hook(lambda g: kept[0])
        (x * x).sum().backward()
        x.grad.mul_(0.0)
        return kept
    compare(case)


def test_hook_on_a_view_whose_base_was_edited_in_place():
    def case(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        base = x * 1.0
        v = base[:2]
        base.mul_(x)
        assert v.grad_fn is not None  # (PyTorch 2.13 crashes in register_hook unless v's
        # grad_fn was read first, which regenerates it)
        seen = []
        v.register_hook(recorder(seen, "v", 10.0))
        (v * v).sum().backward()
        return seen, x.grad
    compare(case)


def test_double_backward_through_a_hook():
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 2.0)
        h = x * x
        h.register_hook(lambda g: g * 3.0)
        (g,) = lib.autograd.grad((h * x).sum(), x, create_graph=True)
        g.sum().backward()
        return g, g.requires_grad, x.grad
    compare(case)


def test_errors_as_pytorch():
    for lib in (ng, torch):
        with pytest.raises(RuntimeError) as err:
            lib.ones(2).register_hook(print)
        assert str(err.value) == "cannot register a hook on a tensor that doesn't require gradient"

    def message(lib, hook):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2.0
        h.register_hook(hook)
        with pytest.raises((RuntimeError, TypeError)) as err:
            (h * h).sum().backward()
        return err.type, str(err.value).replace("torch.", "numpy2gpt.")

    def wrong_size(g):
        return g[:1]

    def wrong_type(g):
        return g.double()

    def not_a_tensor(g):
        return 3
    for hook in (wrong_size, wrong_type, not_a_tensor):
        assert message(ng, hook) == message(torch, hook)

    def replaces_none(lib):
        a, b = lib.ones(4, requires_grad=True).split(2)
        a.register_hook(lambda g: lib.ones(2))
        with pytest.raises(RuntimeError) as err:
            b.sum().backward()
        return str(err.value)
    assert replaces_none(ng) == replaces_none(torch)
