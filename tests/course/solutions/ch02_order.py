"""Reference solution of docs/course/exercises/ch02_order.py."""

import numpy2gpt as torch


def backward_order(y):
    consumers = {}  # fn -> how many edges point into it

    def count(fn):  # depth-first: each Function's edges are counted once
        for creator, _ in fn.next_functions:
            if creator is None:
                continue
            first_visit = creator not in consumers
            consumers[creator] = consumers.get(creator, 0) + 1
            if first_visit:
                count(creator)

    count(y.grad_fn)
    order, ready = [], [y.grad_fn]
    while ready:
        fn = ready.pop()
        order.append(fn)
        for creator, _ in fn.next_functions:
            if creator is not None:
                consumers[creator] -= 1
                if consumers[creator] == 0:
                    ready.append(creator)
    return order


def grad(y, x):
    grads = {y.grad_fn: torch.ones_like(y)}
    total = 0.0
    for fn in backward_order(y):
        input_grads = fn.backward(grads.pop(fn))
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for (creator, _), inp, g in zip(fn.next_functions, fn.inputs, input_grads):
            if g is None:
                continue
            if creator is None:
                if inp is x:
                    total += g.item()
            else:
                grads[creator] = grads[creator] + g if creator in grads else g
    return total
