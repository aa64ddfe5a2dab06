"""Reference solution of docs/course/exercises/ch01_chain.py."""


def numerical_diff(f, x, eps=1e-4):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def chain_grad(steps, x):
    inputs = []
    for f, _ in steps:  # forward: remember what each step saw
        inputs.append(x)
        x = f(x)
    grad = 1.0  # dy/dy
    for (_, df), seen in zip(reversed(steps), reversed(inputs)):  # backward: last step first
        grad = grad * df(seen)
    return x, grad
