"""Autograd: Functions (graph nodes), the backward engine, grad mode and gradient checking."""

import numpy as np

from ..tensor import Tensor
from . import anomaly_mode
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import accumulate_grad, make_seeds, run_backward
from .function import Function, FusedFunction
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck
from .variable import Variable


def _tuple(x):
    """A tensor, or any iterable of them (a list, `model.parameters()`), as a tuple."""
    return (x,) if isinstance(x, Tensor) or x is None else tuple(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any `.grad` (PyTorch's autograd.grad).

    `grad_outputs` weights each output (required for non-scalar outputs); with
    `create_graph=True` the returned gradients are themselves differentiable. An input the
    outputs do not depend on is an error, or None with `allow_unused=True`, or zeros with
    `materialize_grads=True`. (`only_inputs` is accepted and ignored, as in PyTorch.)
    """
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by "
                                  "numpy2gpt: call it once per grad_outputs")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads="
                         "True, but got: allow_unused=False.")
    allow_unused = allow_unused or materialize_grads
    outputs, inputs = _tuple(outputs), _tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
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
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    if materialize_grads:
        grads = [Tensor._make(np.zeros_like(x._data)) if g is None else g
                 for x, g in zip(inputs, grads)]
    return tuple(grads)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of several outputs into the leaves' `.grad` (autograd.backward);
    with `inputs`, into those tensors' `.grad` only (leaves or not), as in PyTorch.
    (`grad_variables` is PyTorch's old name for `grad_tensors`.)"""
    if grad_tensors is None:
        grad_tensors = grad_variables
    tensors = _tuple(tensors)
    seeds = make_seeds(tensors, None if grad_tensors is None else _tuple(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(list(tensors), seeds, retain_graph, create_graph)
        return
    inputs = _tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for x in inputs:
        if not x.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    grads = run_backward(list(tensors), seeds, retain_graph, create_graph, inputs=list(inputs))
    for x, g in zip(inputs, grads):
        if g is not None:  # (not owned: g may be the caller's gradient, passed through)
            accumulate_grad(x, g, create_graph, owned=False)


__all__ = ["Function", "FusedFunction", "grad", "backward", "gradcheck", "gradgradcheck",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled",
           "detect_anomaly", "set_detect_anomaly", "Variable"]

from . import functional  # noqa: E402  (torch.autograd.functional)
