"""grad_fn.register_prehook / register_hook: a node's own hooks, in PyTorch's order (tensor
hooks, retain_grad, the node's pre-hooks, the node, its hooks), replacing gradients when they
return a tuple, and PyTorch's errors when that tuple is wrong."""

import pytest
import torch

import numpy2gpt as ng


def _order_and_values(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    c = lib.tensor([3.0, 4.0])
    y = x * c
    log = []
    y.grad_fn.register_prehook(lambda go: log.append(("pre", [g.tolist() for g in go])))
    y.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [None if g is None else g.tolist() for g in gi], [g.tolist() for g in go])))
    y.register_hook(lambda g: log.append(("tensor", g.tolist())))
    y.retain_grad()
    y.exp().sum().backward()
    return log, x.grad.tolist(), y.grad.tolist()


def _replaced(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    c = lib.tensor([3.0, 4.0])
    y = x * c
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, None))
    y.sum().backward()
    after = x.grad.tolist()
    x.grad = None
    y = x * c
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.sum().backward()
    pre = x.grad.tolist()
    x.grad = None
    y = x * c
    handle = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, None))
    handle.remove()
    y.sum().backward()
    return after, pre, x.grad.tolist()


def test_node_hooks_run_in_torchs_order_and_see_its_values():
    assert _order_and_values(ng) == _order_and_values(torch)


def test_node_hooks_replace_gradients_as_in_torch():
    assert _replaced(ng) == _replaced(torch) == ([30.0, 40.0], [6.0, 8.0], [3.0, 4.0])


BAD_HOOKS = {
    "too_few": ("post", lambda gi, go: (gi[0],)),
    "too_many": ("pre", lambda go: (go[0], go[0])),
    "not_a_tuple": ("post", lambda gi, go: 5),
    "resized": ("post", lambda gi, go: (gi[0][:1], None)),
}


@pytest.mark.parametrize("case", list(BAD_HOOKS))
def test_a_wrong_hook_result_is_torchs_error(case):
    kind, hook = BAD_HOOKS[case]
    errors = []
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * lib.tensor([3.0, 4.0])
        (y.grad_fn.register_prehook if kind == "pre" else y.grad_fn.register_hook)(hook)
        with pytest.raises((RuntimeError, TypeError)) as e:
            y.sum().backward()
        errors.append((type(e.value), str(e.value)))
    assert errors[0] == errors[1]
