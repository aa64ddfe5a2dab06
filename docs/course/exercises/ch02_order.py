"""Chapter 02 exercise: the backward order, and a backward pass that uses it.

Each Function `fn` of a graph has `fn.next_functions`: one `(creator, output_index)` pair per input,
`creator` being None when that input is a leaf; `fn.inputs` are the input tensors themselves, and
`fn.backward(g)` returns the input gradients (a Tensor for one input, a tuple for several).

Fill in the two functions, then run `pytest docs/course/exercises -k ch02`.
"""


def backward_order(y):
    """Every Function of y's graph (y.grad_fn and all behind it), each exactly once, in an order
    where a Function comes after every Function that consumes one of its outputs."""
    raise NotImplementedError("ch02: backward_order")


def grad(y, x):
    """dy/dx for a scalar tensor y and a leaf tensor x, as a float: run each Function's backward
    in backward_order(y), summing the gradients each Function receives (and those reaching x)."""
    raise NotImplementedError("ch02: grad")
