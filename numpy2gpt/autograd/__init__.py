"""Autograd: Functions (graph nodes), the backward engine, grad mode and gradient checking."""

from ..tensor import Tensor
from .engine import run_backward
from .function import Function, FusedFunction
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck


def _tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) without touching any `.grad` (PyTorch's autograd.grad)."""
    import numpy as np

    outputs, inputs = _tuple(outputs), _tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _tuple(grad_outputs)
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if y.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor._make(np.ones_like(y.data))
        seeds.append(g if isinstance(g, Tensor) else Tensor(g))
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(list(outputs), seeds, retain_graph, create_graph, inputs=list(inputs))
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
    return tuple(grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate gradients of several outputs at once (PyTorch's autograd.backward)."""
    import numpy as np

    tensors = _tuple(tensors)
    grad_tensors = _tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    seeds = [g if g is not None else Tensor._make(np.ones_like(t.data))
             for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(list(tensors), seeds, retain_graph, create_graph)


__all__ = ["Function", "FusedFunction", "grad", "backward", "gradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled"]
