"""The dropout mask (one draw for every backend): keep / (1 - p), seeded by numpy2gpt's generator,
in the requested dtype; F.dropout and attention's dropout both draw it."""

import numpy as np
import pytest

import numpy2gpt as nt
import numpy2gpt.nn.functional as F
from numpy2gpt.kernels.dropout import dropout_mask


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.9, 1.0])
def test_mask_values_rate_and_seed(p, dtype):
    nt.manual_seed(0)
    m = dropout_mask((400, 250), p, dtype)
    assert m.dtype == dtype and m.shape == (400, 250)
    kept = m != 0
    if p < 1:
        np.testing.assert_array_equal(m[kept], dtype(1 / (1 - p)))  # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - (1 - p)) < 0.01
    nt.manual_seed(0)
    np.testing.assert_array_equal(dropout_mask((400, 250), p, dtype), m)  # the seed reproduces it


def test_f_dropout_multiplies_by_the_same_draw():
    x = nt.ones(50, 40, dtype=nt.float64)
    nt.manual_seed(2)
    y = F.dropout(x, 0.3).data
    nt.manual_seed(2)
    np.testing.assert_array_equal(y, dropout_mask((50, 40), 0.3, np.float64))


DRAWS = {  # the same seeded call on both libraries: PyTorch's masks, bit for bit
    "dropout": lambda lib, x, p: lib.nn.functional.dropout(x, p),
    "dropout2d": lambda lib, x, p: lib.nn.functional.dropout2d(x, p),
    "alpha_dropout": lambda lib, x, p: lib.nn.functional.alpha_dropout(x, p, True),
    "Dropout module": lambda lib, x, p: lib.nn.Dropout(p)(x),
    "bernoulli_ of a number": lambda lib, x, p: lib.empty_like(x).bernoulli_(p),
    "bernoulli(x, p)": lambda lib, x, p: lib.bernoulli(x, p),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("draw", list(DRAWS))
def test_masks_are_pytorchs_for_a_seed(draw, p, dtype):
    import torch

    x = np.random.default_rng(0).standard_normal((3, 4, 5, 7)).astype(dtype)
    out, after = [], []
    for lib in (nt, torch):
        lib.manual_seed(11)
        out.append(np.asarray(DRAWS[draw](lib, lib.tensor(x), p).tolist()))
        after.append(lib.rand(4).tolist())  # the generator moved on as far as PyTorch's
    np.testing.assert_array_equal(out[0], out[1])
    assert after[0] == after[1]


def test_attention_and_packed_rnn_dropout_are_pytorchs_for_a_seed():
    import torch

    q = np.random.default_rng(1).standard_normal((2, 3, 5, 4)).astype(np.float32)
    for causal in (False, True):
        out = []
        for lib in (nt, torch):
            lib.manual_seed(3)
            t = lib.tensor(q)
            y = lib.nn.functional.scaled_dot_product_attention(t, t, t, dropout_p=0.3,
                                                               is_causal=causal)
            out.append((np.asarray(y.tolist()), lib.rand(3).tolist()))
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=0, atol=1e-6)  # (rounding only)
        assert out[0][1] == out[1][1]
    for mode in ("GRU", "LSTM"):  # dropout between layers drops from the packed data
        out = []
        for lib in (nt, torch):
            lib.manual_seed(0)
            rnn = getattr(lib.nn, mode)(3, 4, num_layers=3, dropout=0.5)
            packed = lib.nn.utils.rnn.pack_padded_sequence(lib.randn(5, 2, 3), [5, 3])
            h = rnn(packed)[1]
            h = h if mode == "GRU" else h[0]
            h.sum().backward()
            out.append((h.tolist(), rnn.weight_ih_l0.grad.tolist(), lib.rand(2).tolist()))
        np.testing.assert_allclose(np.asarray(out[0][0]), np.asarray(out[1][0]), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(out[0][1]), np.asarray(out[1][1]), rtol=1e-4,
                                   atol=1e-6)
        assert out[0][2] == out[1][2]
