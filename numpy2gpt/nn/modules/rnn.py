"""Recurrent layers: RNN, LSTM, GRU and their cells.

A cell is one time step: it turns the input x_t and the state h_{t-1} (for an LSTM, the pair
(h, c)) into the next state. All gates come from one matrix product each for x and h, whose
result is then split into the gates, in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n), so the
weights are PyTorch's:
  RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                 (or relu)
  LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x + b_ih + W_hh h + b_hh)
        c' = f * c + i * g,   h' = o * tanh(c')                  (h' = W_hr h' with proj_size)
  GRU:  r, z = sigmoid of (W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz])
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),   h' = (1 - z) * n + z * h

A layer (RNN, LSTM, GRU) runs a cell over the time steps, for each of its `num_layers` stacked
layers (each layer's outputs are the next one's inputs) and, if `bidirectional`, once forwards
and once backwards over the sequence (the two outputs concatenated). The input projections
W_ih x + b_ih of all time steps are one matrix product; only W_hh h must wait for the previous
step. The layers run each layer and direction as one fused op, _RecurrentLayer, whose backward
(backpropagation through time, numpy2gpt/kernels/rnn.py) computes dL/dW_hh for all time steps
in one matrix product; the cell loop above stays its `composed` form, and still runs an LSTM
with proj_size. Inputs are (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched
(L, H_in), or a PackedSequence (see nn.utils.rnn).
"""

import math
import numbers
import warnings
from functools import partial

import numpy as np

from ... import dtypes
from ...autograd.function import _TENSOR_TYPES, FusedFunction
from ...kernels.dropout import dropout_mask
from ...kernels.rnn import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)
from ...ops.creation import empty, zeros
from ...ops.elementwise import relu, sigmoid, tanh
from ...ops.indexing import index_select, where
from ...ops.join import cat, stack
from ...tensor import as_tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _pack_padded, _packed_to_padded
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# ----- one time step ------------------------------------------------------------------------------
# Each step takes gi = W_ih x + b_ih (computed beforehand, for all time steps at once) and the
# state, a tuple: (h,) for RNN and GRU, (h, c) for LSTM; it returns the next state.

def _rnn_tanh_step(gi, state, w_hh, b_hh, w_hr=None):
    return (tanh(gi + F.linear(state[0], w_hh, b_hh)),)


def _rnn_relu_step(gi, state, w_hh, b_hh, w_hr=None):
    return (relu(gi + F.linear(state[0], w_hh, b_hh)),)


def _lstm_step(gi, state, w_hh, b_hh, w_hr=None):
    h, c = state
    i, f, g, o = (gi + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)  # forget part of the memory, write the new part
    h = sigmoid(o) * tanh(c)
    if w_hr is not None:  # proj_size: the hidden state is projected down
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi, state, w_hh, b_hh, w_hr=None):
    h = state[0]
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)  # b_hn stays inside r * (...)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return (n + z * (h - n),)  # = (1 - z) * n + z * h: z is how much of the old state is kept


_STEPS = {"RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step, "LSTM": _lstm_step,
          "GRU": _gru_step}


def _scan(step, gis, state, reverse, masks=None):
    """Apply `step` at every time step (from the last to the first if `reverse`).

    Returns the outputs (each step's h) in time order and the final state. masks[t] (N, 1) is
    False for the sequences that have ended before step t (packed input): their state is carried
    through unchanged, so it is the state after their own last step (or, backwards, the initial
    state until their last step is reached).
    """
    outputs = [None] * len(gis)
    for t in (reversed(range(len(gis))) if reverse else range(len(gis))):
        new = step(gis[t], state)
        if masks is not None:
            new = tuple(where(masks[t], n, s) for n, s in zip(new, state))
        state = new
        outputs[t] = state[0]
    return outputs, state


class _RecurrentLayer(FusedFunction):
    """One layer and one direction over the whole sequence as one op: inputs gi (L, N, G * H)
    (the input projections of all steps), the initial state h0 (N, H) (and c0 for an LSTM),
    W_hh and, if the layer has them, b_hh; outputs every step's h (L, N, H) and the final
    state h_n (and c_n). `masks` (L, N, 1) bool or None: as in _scan. The kernels always run
    forwards in time, so a reverse direction flips gi, masks and the gradients of hs."""

    materialize_grads = False  # an unused output (often h_n or c_n) gets None in backward

    def __init__(self, mode, reverse, masks):
        self.mode, self.reverse, self.masks = mode, reverse, masks

    def _in_time_order(self, a):
        return a[::-1] if self.reverse else a

    def forward(self, gi, h0, *rest):
        n_states = 2 if self.mode == "LSTM" else 1
        w_hh, b_hh = rest[n_states - 1], (rest[n_states] if len(rest) > n_states else None)
        gi, masks = self._in_time_order(gi), self.masks
        if masks is not None:
            masks = self._in_time_order(masks)
        if self.mode == "LSTM":
            hs, cs, *saved = lstm_forward(gi, h0, rest[0], w_hh, b_hh, masks)
            self.saved, finals = (hs, cs, *saved), (hs[-1].copy(), cs[-1].copy())
        elif self.mode == "GRU":
            hs, *saved = gru_forward(gi, h0, w_hh, b_hh, masks)
            self.saved, finals = (hs, *saved), (hs[-1].copy(),)
        else:
            hs, news = rnn_forward(gi, h0, w_hh, b_hh, masks, relu=self.mode == "RNN_RELU")
            self.saved, finals = (hs, news), (hs[-1].copy(),)
        self.h0, self.c0, self.w_hh = h0, (rest[0] if self.mode == "LSTM" else None), w_hh
        self.has_bias, self.time_masks = b_hh is not None, masks
        return (np.ascontiguousarray(self._in_time_order(hs)), *finals)

    def backward(self, ghs, gh_n, gc_n=None):
        h0, w_hh, masks, has_bias = self.h0, self.w_hh, self.time_masks, self.has_bias
        hs = self.saved[0]
        # a copy in time order (h_n is its last step), zeros for an output no loss used
        ghs = np.zeros_like(hs) if ghs is None else np.array(self._in_time_order(ghs))
        if gh_n is not None:
            ghs[-1] += gh_n
        if self.mode == "LSTM" and gc_n is None:
            gc_n = np.zeros_like(h0)
        if self.mode == "LSTM":
            dgi, dh0, dc0, dw, db = lstm_backward(ghs, gc_n, *self.saved, h0, self.c0, w_hh,
                                                  masks, has_bias)
            states = (dh0, dc0)
        elif self.mode == "GRU":
            dgi, dh0, dw, db = gru_backward(ghs, *self.saved, h0, w_hh, masks, has_bias)
            states = (dh0,)
        else:
            dgi, dh0, dw, db = rnn_backward(ghs, *self.saved, h0, w_hh, masks,
                                            self.mode == "RNN_RELU", has_bias)
            states = (dh0,)
        dgi = np.ascontiguousarray(self._in_time_order(dgi))
        return (dgi, *states, dw) + ((db,) if has_bias else ())

    def composed(self, gi, h0, *rest):
        """The cell loop (_scan over the steps), for higher derivatives (see autograd.engine)."""
        n_states = 2 if self.mode == "LSTM" else 1
        w_hh, b_hh = rest[n_states - 1], (rest[n_states] if len(rest) > n_states else None)
        masks = None if self.masks is None else as_tensor(self.masks).unbind(0)
        hs, state = _scan(partial(_STEPS[self.mode], w_hh=w_hh, b_hh=b_hh), gi.unbind(0),
                          (h0, *rest[:n_states - 1]), self.reverse, masks)
        return (stack(hs), *state)


# ----- the layers ---------------------------------------------------------------------------------
def _check_matmul_dtype(dtype, weight_dtype):
    """PyTorch's error for a state or input of another dtype than the weights it meets."""
    if dtype != weight_dtype:
        names = [_TENSOR_TYPES.get(d.name, d.name) for d in (dtype, weight_dtype)]
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {names[0]} and "
                           f"{names[1]}")


def _check_int(name, value):
    if not isinstance(value, int):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, their checks, and the loop over layers,
    directions and time steps. `mode` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".

    Parameters, per layer k and direction (suffix "" or "_reverse"): weight_ih_l{k} (gates *
    hidden_size, input size of the layer), weight_hh_l{k} (gates * hidden_size, hidden size),
    bias_ih_l{k}, bias_hh_l{k} (if bias) and weight_hr_l{k} (proj_size, hidden_size) for an
    LSTM with proj_size. All start uniform in +-1/sqrt(hidden_size), drawn in that order.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        _check_int("input_size", input_size)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_int("hidden_size", hidden_size)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _STEPS:
            raise ValueError("Unrecognized RNN mode: " + mode)

        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:self._num_directions]:
                layer_input_size = (input_size if layer == 0
                                    else real_hidden_size * self._num_directions)
                shapes = {"weight_ih": (gate_size, layer_input_size),
                          "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(empty(shape, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _num_directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op: PyTorch packs the weights into one buffer for cuDNN; there is none here."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ----- checks (PyTorch's messages) ---------------------------------------------------------
    def _state_sizes(self):
        """The feature sizes of the state tensors: (h,) or, for an LSTM, (h, c)."""
        if self.mode != "LSTM":
            return (self.hidden_size,)
        return (self.proj_size if self.proj_size > 0 else self.hidden_size, self.hidden_size)

    def _check_forward_args(self, input, hx, batch):
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({dtypes.dtype_name(input.dtype)}) does not match "
                             f"weight dtype ({dtypes.dtype_name(weight_dtype)}). Convert input: "
                             f"input.to({dtypes.dtype_name(weight_dtype)}), or convert model: "
                             f"model.to({dtypes.dtype_name(input.dtype)})")
        if input.size(-1) != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")
        for k, (h, size) in enumerate(zip(hx, self._state_sizes())):
            expected = (self.num_layers * self._num_directions, batch, size)
            if h.shape != expected:
                which = f"hidden[{k}] size" if self.mode == "LSTM" else "hidden size"
                raise RuntimeError(f"Expected {which} {expected}, got {list(h.shape)}")
        _check_matmul_dtype(hx[0].dtype, weight_dtype)

    def _check_hx_dims(self, hx, ndim):
        """hx must have as many dims as a batched (3) or unbatched (2) input's state."""
        kind = "batched 3-D" if ndim == 3 else "unbatched 2-D"
        if self.mode == "LSTM":
            if hx[0].dim() != ndim or hx[1].dim() != ndim:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {ndim}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        elif hx.dim() != ndim:
            raise RuntimeError(f"For {kind} input, hx should also be {ndim}-D but got "
                               f"{hx.dim()}-D tensor")

    # ----- forward -----------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """(output, h_n), or for an LSTM (output, (h_n, c_n)).

        output holds the last layer's h at every time step, both directions concatenated:
        (L, N, D * H_out) (batch_first: (N, L, D * H_out); unbatched: (L, D * H_out)); h_n (and
        c_n) the final state of every layer and direction: (num_layers * D, N, H_out). hx is the
        initial state in h_n's shape (zeros if None); a PackedSequence in gives one out.
        """
        lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            name = "RNN" if self.mode.startswith("RNN") else self.mode
            got = f"{input.dim()}D tensor instead" if name == "RNN" else f"{input.dim()}D instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {got}")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if hx is not None:
            self._check_hx_dims(hx, input.dim())
        if not is_batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if lstm else hx.unsqueeze(1)
        if self.batch_first:
            input = input.transpose(0, 1)  # time first: (L, N, H_in)
        hx = self._initial_state(hx, input.size(1), input.dtype)
        self._check_forward_args(input, hx, input.size(1))
        if input.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")

        output, h_n = self._run(input, hx)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            h_n = tuple(h.squeeze(1) for h in h_n)
        return output, (h_n if lstm else h_n[0])

    def _initial_state(self, hx, batch, dtype):
        """hx as a tuple of state tensors, zeros where it is None."""
        if hx is not None:
            return tuple(hx) if self.mode == "LSTM" else (hx,)
        n = self.num_layers * self._num_directions
        return tuple(zeros((n, batch, size), dtype=dtype) for size in self._state_sizes())

    def _run(self, input, hx, masks=None):
        """The stacked layers over input (L, N, H_in) from the states hx; returns the last
        layer's output (L, N, D * H_out) and the tuple of final states (layers * D, N, *).
        masks: None, or (L, N, 1) bool, False where a packed sequence has ended (see _scan)."""
        step = _STEPS[self.mode]
        initial = [h.unbind(0) for h in hx]  # one state per layer and direction
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:self._num_directions]):
                w_ih, w_hh, b_ih, b_hh, w_hr = (
                    getattr(self, f"{kind}_l{layer}{suffix}", None)
                    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))
                gi = F.linear(input, w_ih, b_ih)  # all time steps in one product
                k = layer * self._num_directions + direction
                state = tuple(h[k] for h in initial)
                if w_hr is None and all(s.dtype == gi.dtype for s in state):
                    weights = (w_hh,) if b_hh is None else (w_hh, b_hh)
                    hs, *state = _RecurrentLayer(self.mode, direction == 1, masks)(
                        gi, *state, *weights)
                    outputs.append(hs)
                else:  # proj_size (or a c0 of another dtype): the cell loop
                    hs, state = _scan(partial(step, w_hh=w_hh, b_hh=b_hh, w_hr=w_hr),
                                      gi.unbind(0), state, direction == 1,
                                      None if masks is None else as_tensor(masks).unbind(0))
                    outputs.append(stack(hs))
                finals.append(state)
            input = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                input = F.dropout(input, self.dropout, True) if masks is None else \
                    _dropout_packed(input, self.dropout, masks)
        return input, tuple(stack([s[i] for s in finals]) for i in range(len(hx)))

    def _forward_packed(self, packed, hx):
        """The same on a PackedSequence: run on the padded batch (sorted by decreasing length)
        with each sequence's state frozen past its end, then pack the output again."""
        lstm = self.mode == "LSTM"
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        sizes = batch_sizes.numpy()
        if hx is not None and sorted_indices is not None:  # the caller's order -> sorted order
            hx = tuple(index_select(h, 1, sorted_indices) for h in (hx if lstm else (hx,)))
            hx = hx if lstm else hx[0]
        hx = self._initial_state(hx, int(sizes[0]), data.dtype)
        if data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        self._check_forward_args(data, hx, int(sizes[0]))
        # step t runs on the first batch_sizes[t] sequences (the longest ones)
        active = np.arange(sizes[0])[None, :] < sizes[:, None]
        output, h_n = self._run(_packed_to_padded(data, sizes), hx, active[:, :, None])
        if unsorted_indices is not None:
            h_n = tuple(index_select(h, 1, unsorted_indices) for h in h_n)
        output = PackedSequence(_pack_padded(output, sizes), batch_sizes, sorted_indices,
                                unsorted_indices)
        return output, (h_n if lstm else h_n[0])


def _dropout_packed(x, p, masks):
    """Dropout between the layers on a packed sequence: PyTorch drops from the packed data, so
    the mask is drawn for the steps that exist only (x's padded (L, N, F) rows where `masks`,
    (L, N, 1), is True, in order: the packed order) and the rest of the padded batch gets 0."""
    valid = masks[:, :, 0]
    full = np.zeros(x.shape, x.dtype)
    full[valid] = dropout_mask((int(valid.sum()), x.shape[2]), p, x.dtype)
    return x * as_tensor(full)


def _no_proj_size(kwargs, cls):
    """RNN and GRU refuse proj_size like PyTorch's; other unknown keywords are a TypeError."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), stacked
    `num_layers` deep; see RNNBase.forward for the shapes."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        _no_proj_size(kwargs, RNN)
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(modes[nonlinearity], input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997): a memory cell c that gates
    decide to forget, write and read, so gradients survive over long sequences. forward returns
    (output, (h_n, c_n)); with proj_size > 0, h is projected to proj_size features."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014): an update gate z mixes the old state with a
    candidate n, whose recurrent part a reset gate r scales."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        _no_proj_size(kwargs, GRU)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# ----- the cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: weight_ih (num_chunks * hidden_size, input_size), weight_hh
    (num_chunks * hidden_size, hidden_size), bias_ih and bias_hh, all uniform in
    +-1/sqrt(hidden_size)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, step, input, hx, n_states):
        """Run `step` on input (N, H_in) or unbatched (H_in,) from the state tuple hx (zeros if
        None); returns the new state tuple, unbatched like the input."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for k, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    which = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {h.dim()}D "
                                     "instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else tuple(h.unsqueeze(0) for h in hx)
        if hx is None:
            hx = (zeros((input.size(0), self.hidden_size), dtype=input.dtype),) * n_states
        self._check_cell_args(input, hx)
        state = step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                     self.bias_hh)
        return state if is_batched else tuple(h.squeeze(0) for h in state)

    def _check_cell_args(self, input, hx):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                               f"{self.input_size}")
        for k, h in enumerate(hx):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} "
                                   f"batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, "
                                   f"expected {self.hidden_size}")
        for t in (input, hx[0]):  # (c is not multiplied by a weight: it may be promoted)
            _check_matmul_dtype(t.dtype, self.weight_ih.dtype)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """h' (N, hidden_size), or (hidden_size,) for an unbatched input."""
        steps = {"tanh": _rnn_tanh_step, "relu": _rnn_relu_step}
        if input.dim() in (1, 2) and self.nonlinearity not in steps:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        hx = None if hx is None else (hx,)
        return self._step(steps.get(self.nonlinearity), input, hx, 1)[0]


class LSTMCell(RNNCellBase):
    """One step of an LSTM: (h, c) -> (h', c'), gates i, f, g, o (see the module docstring)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """(h', c'), each (N, hidden_size) or (hidden_size,) for an unbatched input."""
        if hx is not None and not isinstance(hx, tuple | list):  # a lone h, without c
            raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, "
                            f"not {type(hx).__name__}")
        return self._step(_lstm_step, input, hx, 2)


class GRUCell(RNNCellBase):
    """One step of a GRU: h -> h', gates r, z, n (see the module docstring)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """h' (N, hidden_size), or (hidden_size,) for an unbatched input."""
        hx = None if hx is None else (hx,)
        return self._step(_gru_step, input, hx, 1)[0]
