"""Reference solution of docs/course/exercises/ch03_broadcast.py."""


def sum_to(g, shape):
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def linear_backward(x, W, gy):
    gx = gy @ W
    gW = gy.reshape(-1, gy.shape[-1]).T @ x.reshape(-1, x.shape[-1])
    gb = sum_to(gy, (W.shape[0],))
    return gx, gW, gb
