"""Positions overwritten by `x[index] = value` get a zero gradient, not gy * 0: where the
upstream gradient there is NaN or inf (sqrt of a NaN written in), x's gradient stays 0, as in
PyTorch; also through views and with a second derivative."""

import numpy as np
import pytest
from torch_compare import both

WRITES = {
    "mask": lambda lib, m, x: m.__setitem__(x < 1.5, float("nan")),
    "int": lambda lib, m, x: m.__setitem__(0, float("nan")),
    "list": lambda lib, m, x: m.__setitem__([0, 1], lib.tensor([-1.0, 4.0], dtype=m.dtype)),
    "slice of a view": lambda lib, m, x: m.view(3, 1)[:1].__setitem__(slice(None), -1.0),
}


@pytest.mark.parametrize("write", WRITES)
def test_overwritten_positions_get_zero_not_nan(write):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        m = x.clone()
        WRITES[write](lib, m, x)
        (g,) = lib.autograd.grad(m.sqrt().sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g.detach().numpy(), gg.numpy()

    (g, gg), (tg, tgg) = both(run)
    assert not np.isnan(g).any()
    np.testing.assert_allclose(g, tg, rtol=1e-12)
    np.testing.assert_allclose(gg, tgg, rtol=1e-12)
