"""Recurrent-layer kernels: fast == reference (forward and BPTT backward) for tanh/relu RNN, LSTM
and GRU, float32 and float64, odd sizes, with and without bias and masks; and the layers' fused
op (_RecurrentLayer) against its `composed` cell loop: outputs, final states and gradients."""

import warnings

import numpy as np
import pytest
import torch
from kernel_cases import assert_same
from torch_compare import assert_close

import numpy2gpt as ng
from numpy2gpt.kernels import rnn as R
from numpy2gpt.nn.modules.rnn import _RecurrentLayer

L, N, IN, H = 5, 3, 4, 7  # time steps, batch, input features, hidden features (odd sizes)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _masks(lengths=(5, 3, 1)):
    """(L, N, 1): True while sequence n (sorted by decreasing length, as packed) is running."""
    return (np.arange(L)[:, None] < np.array(lengths)[None, :])[:, :, None]


def _inputs(mode, dtype, bias, seed=0):
    rng = np.random.default_rng(seed)
    g = GATES[mode] * H
    gi = rng.standard_normal((L, N, g)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    w_hh = (rng.standard_normal((g, H)) * 0.5).astype(dtype)
    b_hh = rng.standard_normal(g).astype(dtype) if bias else None
    ghs = rng.standard_normal((L, N, H)).astype(dtype)
    gc_n = rng.standard_normal((N, H)).astype(dtype)
    return gi, h0, c0, w_hh, b_hh, ghs, gc_n


def _forward_backward(mode, kernel, gi, h0, c0, w_hh, b_hh, ghs, gc_n, masks):
    """(forward results, backward results) of one backend ("fast" or "reference")."""
    pick = {"fast": lambda k: k.fast, "reference": lambda k: k.reference}[kernel]
    has_bias = b_hh is not None
    if mode == "LSTM":
        fwd = pick(R.lstm_forward)(gi, h0, c0, w_hh, b_hh, masks)
        bwd = pick(R.lstm_backward)(ghs, gc_n, *fwd, h0, c0, w_hh, masks, has_bias)
    elif mode == "GRU":
        fwd = pick(R.gru_forward)(gi, h0, w_hh, b_hh, masks)
        bwd = pick(R.gru_backward)(ghs, *fwd, h0, w_hh, masks, has_bias)
    else:
        relu = mode == "RNN_RELU"
        fwd = pick(R.rnn_forward)(gi, h0, w_hh, b_hh, masks, relu)
        bwd = pick(R.rnn_backward)(ghs, *fwd, h0, w_hh, masks, relu, has_bias)
    return fwd, bwd


@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_fast_equals_reference(mode, dtype, bias, masked):
    arrays = _inputs(mode, dtype, bias)
    masks = _masks() if masked else None
    copies = [None if a is None else a.copy() for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning may leak
        fast = _forward_backward(mode, "fast", *arrays, masks)
        ref = _forward_backward(mode, "reference", *arrays, masks)
    for a, b in zip(arrays, copies):  # the kernels leave their inputs alone
        np.testing.assert_array_equal(a, b)
    for f, r, what in zip(fast, ref, ("forward", "backward")):
        assert_same(tuple(f), tuple(r), label=f"{mode} {what}")
        for a in r:
            assert a is None or a.dtype == dtype, f"{mode} {what}: {a.dtype}"
    assert (fast[1][-1] is None) == (not bias)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_saturated_sigmoid_gates_keep_their_tiny_values(mode):
    """Far in a sigmoid's tails the gate is a tiny number (sigmoid(-30) ~ 9e-14), not 0: the fast
    kernel's sigmoid gates equal the reference's to float32's relative precision (a sigmoid
    written as 0.5 + 0.5 tanh(x / 2) would round them to 0)."""
    gi, h0, c0, w_hh, b_hh, ghs, gc_n = _inputs(mode, np.float32, True)
    gi = gi * 30
    fast = _forward_backward(mode, "fast", gi, h0, c0, w_hh, b_hh, ghs, gc_n, None)[0]
    ref = _forward_backward(mode, "reference", gi, h0, c0, w_hh, b_hh, ghs, gc_n, None)[0]
    k = 2 if mode == "LSTM" else 1  # the gates array among the forward's results
    sigmoid_cols = np.r_[0:2 * H, 3 * H:4 * H] if mode == "LSTM" else np.r_[0:2 * H]
    f, r = fast[k][..., sigmoid_cols], ref[k][..., sigmoid_cols]
    assert r.min() < 1e-9
    np.testing.assert_allclose(f, r, rtol=1e-5, atol=0)


def test_masked_steps_carry_the_state_and_pass_its_gradient_through():
    """A sequence that has ended keeps its state, and dL/dh0 of a sequence of length 1 is the
    gradient of its first step only plus what reaches it unchanged from the later steps."""
    gi, h0, _, w_hh, b_hh, ghs, _ = _inputs("GRU", np.float64, True)
    masks = _masks()
    for kernel in (R.gru_forward.fast, R.gru_forward.reference):
        hs, *_ = kernel(gi, h0, w_hh, b_hh, masks)
        np.testing.assert_array_equal(hs[1:, 2], np.broadcast_to(hs[0, 2], (L - 1, H)))
        np.testing.assert_array_equal(hs[3:, 1], np.broadcast_to(hs[2, 1], (L - 3, H)))
    _, dh0_full, _, _ = R.gru_backward(ghs, *R.gru_forward(gi, h0, w_hh, b_hh, masks), h0, w_hh,
                                       masks)
    one = np.zeros_like(ghs)
    one[0] = ghs[1:].sum(axis=0) + ghs[0]  # all that reaches step 0's output of sequence 2
    _, dh0_one, _, _ = R.gru_backward(one, *R.gru_forward(gi, h0, w_hh, b_hh, None), h0, w_hh,
                                      None)
    np.testing.assert_allclose(dh0_full[2], dh0_one[2], rtol=1e-12)


@pytest.mark.parametrize("mode", list(GATES))
def test_kernels_match_torch_cells(mode):
    """The reference kernel's steps are PyTorch's cells (torch's functional cell ops)."""
    gi, h0, c0, w_hh, b_hh, _, _ = _inputs(mode, np.float64, True)
    w_ih = np.eye(gi.shape[-1], dtype=np.float64)  # so W_ih x = x = gi
    x, h, c = torch.tensor(gi), torch.tensor(h0), torch.tensor(c0)
    weights = (torch.tensor(w_ih), torch.tensor(w_hh), None, torch.tensor(b_hh))
    expected = []
    for t in range(L):
        if mode == "LSTM":
            h, c = torch.lstm_cell(x[t], (h, c), *weights)
        elif mode == "GRU":
            h = torch.gru_cell(x[t], h, *weights)
        else:
            cell = torch.rnn_tanh_cell if mode == "RNN_TANH" else torch.rnn_relu_cell
            h = cell(x[t], h, *weights)
        expected.append(h.numpy())
    for backend in ("fast", "reference"):
        pick = {"fast": lambda k: k.fast, "reference": lambda k: k.reference}[backend]
        if mode == "LSTM":
            hs = pick(R.lstm_forward)(gi, h0, c0, w_hh, b_hh, None)[0]
        elif mode == "GRU":
            hs = pick(R.gru_forward)(gi, h0, w_hh, b_hh, None)[0]
        else:
            hs = pick(R.rnn_forward)(gi, h0, w_hh, b_hh, None, mode == "RNN_RELU")[0]
        np.testing.assert_allclose(hs, np.stack(expected), rtol=1e-10, atol=1e-12)


# ----- the fused op in the layers --------------------------------------------------------------
CONFIGS = {
    "RNN tanh": ("RNN", {}),
    "RNN relu 2 layers": ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    "LSTM bidirectional": ("LSTM", {"bidirectional": True}),
    "LSTM 2 layers no bias batch_first": ("LSTM", {"num_layers": 2, "bias": False,
                                                   "batch_first": True}),
    "GRU bidirectional 2 layers": ("GRU", {"bidirectional": True, "num_layers": 2}),
}


def _grads(module, x, hx, fused):
    """Output, final states and the gradients of x, hx and every parameter; fused=False takes
    them through the composed cell loop (create_graph=True differentiates `composed`)."""
    out, state = module(x, hx)
    state = state if isinstance(state, tuple) else (state,)
    rng = np.random.default_rng(5)
    loss = sum((t * ng.tensor(rng.standard_normal(t.shape).astype(t.dtype.name))).sum()
               for t in (out, *state))
    leaves = [x, *hx] if isinstance(hx, tuple) else [x, hx]
    leaves += list(module.parameters())
    grads = ng.autograd.grad(loss, leaves, create_graph=not fused)
    return [out, *state, *grads]


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_layer_gradients_equal_the_cell_loop(name, dtype):
    cls, kwargs = CONFIGS[name]
    ng.manual_seed(0)
    module = getattr(ng.nn, cls)(IN, H, **kwargs).to(getattr(ng, np.dtype(dtype).name))
    d = 2 if kwargs.get("bidirectional") else 1
    rng = np.random.default_rng(1)
    shape = (N, L, IN) if kwargs.get("batch_first") else (L, N, IN)
    x = ng.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    states = [ng.tensor(rng.standard_normal((kwargs.get("num_layers", 1) * d, N, H))
                        .astype(dtype), requires_grad=True) for _ in range(1 + (cls == "LSTM"))]
    hx = tuple(states) if cls == "LSTM" else states[0]
    fused, composed = _grads(module, x, hx, True), _grads(module, x, hx, False)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    for k, (a, b) in enumerate(zip(fused, composed)):
        assert a.dtype == b.dtype == getattr(ng, np.dtype(dtype).name), k
        assert_close(a, b.detach().numpy(), rtol=rtol, atol=rtol, what=f"result {k}")


def test_the_layers_run_the_fused_op_and_proj_size_the_cell_loop():
    x = ng.randn(L, N, IN)
    for cls in ("RNN", "LSTM", "GRU"):
        out, _ = getattr(ng.nn, cls)(IN, H)(x)
        assert isinstance(out.grad_fn, _RecurrentLayer), cls
    out, _ = ng.nn.LSTM(IN, H, proj_size=2)(x)
    assert not isinstance(out.grad_fn, _RecurrentLayer)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_packed_input_through_the_fused_op_equals_the_cell_loop(cls):
    ng.manual_seed(0)
    module = getattr(ng.nn, cls)(IN, H, bidirectional=True).double()
    rng = np.random.default_rng(2)
    x = ng.tensor(rng.standard_normal((L, N, IN)), requires_grad=True)
    gy = ng.tensor(rng.standard_normal((3 + 5 + 2, 2 * H)))  # the packed output's gradient
    results = []
    for fused in (True, False):
        packed = ng.nn.utils.rnn.pack_padded_sequence(x, [3, 5, 2], enforce_sorted=False)
        out, state = module(packed)
        state = state if isinstance(state, tuple) else (state,)
        loss = (out.data * gy).sum() + sum((s * s).sum() for s in state)
        g = ng.autograd.grad(loss, [x, *module.parameters()], create_graph=not fused)
        results.append([out.data, *state, *g])
    for k, (a, b) in enumerate(zip(*results)):
        assert_close(a, b.detach().numpy(), rtol=1e-10, atol=1e-12, what=f"result {k}")


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_a_loss_of_one_output_alone_gives_torchs_gradients(cls):
    """Only h_n, only c_n or only the output sequence feeds the loss: the fused op's unused
    outputs get no gradient (None), and the input's gradient is still PyTorch's."""
    picks = [lambda out, st: out, lambda out, st: st[0] if cls == "LSTM" else st]
    if cls == "LSTM":
        picks.append(lambda out, st: st[1])
    for pick in picks:
        grads = []
        for lib in (ng, torch):
            lib.manual_seed(0)
            layer = getattr(lib.nn, cls)(3, 4, num_layers=2, bidirectional=True)
            x = lib.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)),
                           dtype=lib.float32, requires_grad=True)
            pick(*layer(x)).sum().backward()
            grads.append(x.grad)
        assert_close(*grads, rtol=1e-5)
