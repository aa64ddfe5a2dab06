"""Autograd: Functions (graph nodes), the backward engine, grad mode and gradient checking."""

from ..tensor import Tensor
from .engine import make_seeds, run_backward
from .function import Function, FusedFunction
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck


def _tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) without touching any `.grad` (PyTorch's autograd.grad).

    `grad_outputs` weights each output (required for non-scalar outputs); with
    `create_graph=True` the returned gradients are themselves differentiable.
    """
    outputs, inputs = _tuple(outputs), _tuple(inputs)
    seeds = make_seeds(outputs, None if grad_outputs is None else _tuple(grad_outputs))
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
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
    """Accumulate gradients of several outputs into the leaves' `.grad` (autograd.backward)."""
    tensors = _tuple(tensors)
    seeds = make_seeds(tensors, None if grad_tensors is None else _tuple(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(list(tensors), seeds, retain_graph, create_graph)


__all__ = ["Function", "FusedFunction", "grad", "backward", "gradcheck", "gradgradcheck",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled"]
