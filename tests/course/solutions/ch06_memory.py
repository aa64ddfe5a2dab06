"""Reference solution of docs/course/exercises/ch06_memory.py."""

import numpy2gpt as torch


def saved_bytes(y):
    held, seen, stack = {}, {y.grad_fn}, [y.grad_fn]
    while stack:
        fn = stack.pop()
        for t in fn.inputs:
            held[id(t)] = t.nbytes
        for creator, _ in fn.next_functions:
            if creator is not None and creator not in seen:
                seen.add(creator)
                stack.append(creator)
    return sum(held.values())


@torch.no_grad()
def sgd_step(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad = None
