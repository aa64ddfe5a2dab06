"""Reference solution of docs/course/exercises/ch05_higher.py."""

import numpy2gpt as torch


def nth_derivative(f, x, n):
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = f(x)
    for _ in range(n):
        (g,) = torch.autograd.grad(g, x, create_graph=True)
    return g.item()


def newton_minimize(f, x0, steps):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        (g,) = torch.autograd.grad(f(x), x, create_graph=True)
        (h,) = torch.autograd.grad(g, x)
        with torch.no_grad():
            x -= g / h
    return x.item()
