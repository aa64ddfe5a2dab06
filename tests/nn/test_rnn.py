"""RNN, LSTM, GRU and their cells, and nn.utils.rnn (pad_sequence, packing), against PyTorch's:
with PyTorch's weights loaded through state_dict, the outputs, final states and the gradients of
the input, the initial states and every parameter, in float32 and float64; PyTorch's parameters
after manual_seed, its reprs, and its errors for bad input."""

import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, same_error, tolerances

import numpy2gpt as ng
from numpy2gpt.nn.utils import rnn as rnn_utils

# PyTorch's own notice that its LSTM with proj_size does not use oneDNN
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

T, N, IN, H = 4, 3, 5, 6  # time steps, batch, input features, hidden features

MODES = {  # name -> (class, constructor keywords)
    "RNN tanh": ("RNN", {}),
    "RNN relu": ("RNN", {"nonlinearity": "relu"}),
    "LSTM": ("LSTM", {}),
    "GRU": ("GRU", {}),
    "LSTM proj_size": ("LSTM", {"proj_size": 4}),
}
CONFIGS = {  # name -> (constructor keywords, batched)
    "1 layer": ({}, True),
    "2 layers batch_first": ({"num_layers": 2, "batch_first": True}, True),
    "2 layers bidirectional batch_first no bias":
        ({"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False}, True),
    "unbatched bidirectional batch_first": ({"bidirectional": True, "batch_first": True}, False),
}
DTYPES = [np.float32, np.float64]


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _pair(name, dtype, *args, **kwargs):
    """The module on both libraries, ours holding PyTorch's weights (loaded by state_dict)."""
    tm = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    ng.manual_seed(1)  # other weights than PyTorch's, so that loading them is what is tested
    om = getattr(ng.nn, name)(*args, **kwargs).to(getattr(ng, np.dtype(dtype).name))
    assert list(om.state_dict()) == list(tm.state_dict())
    om.load_state_dict({k: ng.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return om, tm


def _flat(out):
    return [t for o in out for t in _flat(o)] if isinstance(out, tuple) else [out]


def _compare(om, tm, arrays, call, dtype):
    """call(module, *leaves) on both libraries, leaves made from `arrays` (all requiring grad);
    the outputs, then backward from the same random upstream gradients: the gradients of the
    leaves and of every parameter."""
    results = []
    for lib, module in ((ng, om), (torch, tm)):
        leaves = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        outputs = _flat(call(module, *leaves))
        rng = np.random.default_rng(7)
        grads = [lib.tensor(rng.standard_normal(tuple(o.shape)).astype(dtype)) for o in outputs]
        lib.autograd.backward(outputs, grads)
        results.append((outputs, leaves, dict(module.named_parameters())))
    (outs, leaves, params), (t_outs, t_leaves, t_params) = results
    assert len(outs) == len(t_outs)
    grad_rtol = tolerances(dtype)[1]
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert o.requires_grad
        assert_close(o, t, what=f"output {k}")
    for k, (x, t) in enumerate(zip(leaves, t_leaves)):
        assert_close(x.grad, t.grad, grad_rtol, what=f"gradient of input {k}")
    assert list(params) == list(t_params)
    for name, p in params.items():
        assert_close(p.grad, t_params[name].grad, grad_rtol, what=f"gradient of {name}")


def _call_layer(lstm):
    def call(module, x, *hx):
        if not hx:
            return module(x)
        return module(x, tuple(hx) if lstm else hx[0])
    return call


# ----- layers: values and gradients ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("mode", MODES)
def test_layer_matches_torch(mode, config, dtype):
    name, mode_kwargs = MODES[mode]
    kwargs, batched = CONFIGS[config]
    om, tm = _pair(name, dtype, IN, H, **mode_kwargs, **kwargs)
    directions = 2 if kwargs.get("bidirectional") else 1
    states = kwargs.get("num_layers", 1) * directions
    x_shape = (N, T, IN) if kwargs.get("batch_first") else (T, N, IN)
    h_size = mode_kwargs.get("proj_size", H)
    state_shapes = [(states, N, h_size)] + [(states, N, H)] * (name == "LSTM")
    if not batched:
        x_shape = (T, IN)
        state_shapes = [(s[0], s[2]) for s in state_shapes]
    _compare(om, tm, _arrays(x_shape, *state_shapes), _call_layer(name == "LSTM"), dtype)


@pytest.mark.parametrize("mode, batched", [(mode, True) for mode in MODES]
                         + [("LSTM", False), ("GRU", False)])
def test_layer_without_initial_state_starts_from_zeros(mode, batched):
    name, mode_kwargs = MODES[mode]
    om, tm = _pair(name, np.float64, IN, H, num_layers=2, bidirectional=True, batch_first=True,
                   **mode_kwargs)
    x_shape = (N, T, IN) if batched else (T, IN)
    _compare(om, tm, _arrays(x_shape), _call_layer(name == "LSTM"), np.float64)


def test_output_shapes_and_float32():
    lstm = ng.nn.LSTM(IN, H, num_layers=3, bidirectional=True, proj_size=2)
    x = ng.randn(T, N, IN, requires_grad=True)
    out, (h, c) = lstm(x)
    assert out.shape == (T, N, 4) and h.shape == (6, N, 2) and c.shape == (6, N, H)
    assert out.dtype == h.dtype == c.dtype == ng.float32
    (out.sum() + h.sum() + c.sum()).backward()
    assert x.grad.dtype == ng.float32
    assert all(p.grad.dtype == ng.float32 for p in lstm.parameters())


def test_a_state_can_be_carried_to_the_next_call():
    """Running a sequence in two halves, the first's final state given to the second, is
    running it at once (what truncated backpropagation through time relies on)."""
    gru = ng.nn.GRU(IN, H, num_layers=2, dtype=ng.float64)
    x = ng.tensor(_arrays((T, N, IN))[0])
    whole, h_whole = gru(x)
    first, h = gru(x[:2])
    second, h = gru(x[2:], h)
    assert_close(ng.cat([first, second]), whole.detach().numpy())
    assert_close(h, h_whole.detach().numpy())


# ----- cells -----------------------------------------------------------------------------------
CELLS = {
    "RNNCell tanh": ("RNNCell", {}),
    "RNNCell relu": ("RNNCell", {"nonlinearity": "relu"}),
    "LSTMCell": ("LSTMCell", {}),
    "GRUCell": ("GRUCell", {}),
    "GRUCell no bias": ("GRUCell", {"bias": False}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("how", ["batched", "batched without hx", "unbatched"])
@pytest.mark.parametrize("cell", CELLS)
def test_cell_matches_torch(cell, how, dtype):
    name, kwargs = CELLS[cell]
    om, tm = _pair(name, dtype, IN, H, **kwargs)
    lstm = name == "LSTMCell"
    lead = () if how == "unbatched" else (N,)
    shapes = [lead + (IN,)]
    if how != "batched without hx":
        shapes += [lead + (H,)] * (2 if lstm else 1)
    _compare(om, tm, _arrays(*shapes), _call_layer(lstm), dtype)


def test_cell_steps_make_the_layer():
    """An LSTMCell looped over time with the layer's weights gives the layer's output."""
    cell, lstm = ng.nn.LSTMCell(IN, H), ng.nn.LSTM(IN, H)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})  # weight_ih_l0 -> ..
    x = ng.randn(T, N, IN)
    h = c = ng.zeros(N, H)
    outputs = []
    for t in range(T):
        h, c = cell(x[t], (h, c))
        outputs.append(h)
    out, (h_n, c_n) = lstm(x)
    assert_close(ng.stack(outputs), out.detach().numpy())
    assert_close(c, c_n[0].detach().numpy())


# ----- initialisation, parameters, repr -------------------------------------------------------
BUILT = [
    ("RNN", (IN, H), {}),
    ("RNN", (IN, H, 2, "relu", False, True, 0.5, True), {}),
    ("LSTM", (IN, H), {"num_layers": 2, "bidirectional": True}),
    ("LSTM", (IN, H), {"proj_size": 3, "bias": False, "batch_first": True}),
    ("GRU", (IN, H), {"num_layers": 3, "dropout": 0.25}),
    ("GRU", (IN, H, 1, False), {"bidirectional": True}),
    ("RNNCell", (IN, H), {}),
    ("RNNCell", (IN, H), {"bias": False, "nonlinearity": "relu"}),
    ("LSTMCell", (IN, H), {}),
    ("GRUCell", (IN, H, False), {}),
]


@pytest.mark.parametrize("name, args, kwargs", BUILT)
def test_seeded_parameters_and_repr_equal_torch(name, args, kwargs):
    ng.manual_seed(3)
    torch.manual_seed(3)
    om, tm = getattr(ng.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(om) == repr(tm)
    t_params = dict(tm.named_parameters())
    assert list(dict(om.named_parameters())) == list(t_params)
    for k, p in om.named_parameters():
        assert p.dtype == ng.float32
        np.testing.assert_array_equal(p.detach().numpy(), t_params[k].detach().numpy(), k)
    if not name.endswith("Cell"):
        assert [[p.shape for p in ps] for ps in om.all_weights] == \
            [[p.shape for p in ps] for ps in tm.all_weights]
        om.flatten_parameters()  # a no-op, as on the CPU


def test_float64_module_and_reset_parameters():
    gru = ng.nn.GRU(IN, H, dtype=ng.float64)
    assert all(p.dtype == ng.float64 for p in gru.parameters())
    ng.manual_seed(5)
    gru.reset_parameters()
    torch.manual_seed(5)
    t_gru = torch.nn.GRU(IN, H, dtype=torch.float64)
    bound = 1 / np.sqrt(H)
    for p, t in zip(gru.parameters(), t_gru.parameters()):
        assert np.abs(p.detach().numpy()).max() <= bound
        np.testing.assert_array_equal(p.detach().numpy(), t.detach().numpy())


# ----- dropout between layers ------------------------------------------------------------------
def test_dropout_warning_for_one_layer():
    for lib in (ng, torch):
        with pytest.warns(UserWarning) as record:
            lib.nn.LSTM(3, 4, dropout=0.3)
        assert str(record[0].message) == (
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
            "expects num_layers greater than 1, but got dropout=0.3 and num_layers=1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ng.nn.LSTM(3, 4, num_layers=2, dropout=0.3)


def test_dropout_one_zeroes_the_inputs_of_later_layers():
    om, tm = _pair("GRU", np.float64, IN, H, num_layers=2, dropout=1.0)
    _compare(om, tm, _arrays((T, N, IN)), _call_layer(False), np.float64)


def test_dropout_only_in_training():
    rnn = ng.nn.RNN(IN, 200, num_layers=2, dropout=0.5)
    x = ng.randn(T, N, IN)
    ng.manual_seed(0)
    a, _ = rnn(x)
    b, _ = rnn(x)
    ng.manual_seed(0)
    c, _ = rnn(x)
    assert a.shape == (T, N, 200)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # a new mask every call
    np.testing.assert_array_equal(a.detach().numpy(), c.detach().numpy())  # seeded
    rnn.eval()
    d, _ = rnn(x)
    e, _ = rnn(x)
    np.testing.assert_array_equal(d.detach().numpy(), e.detach().numpy())
    # the first layer's output (h of layer 0) is not dropped, only what layer 1 is fed
    _, h_train = rnn.train()(x)
    np.testing.assert_allclose(h_train[0].detach().numpy(), rnn.eval()(x)[1][0].detach().numpy())


# ----- errors ----------------------------------------------------------------------------------
def _x(L, *shape, dtype=None):
    return L.zeros(*shape, dtype=dtype)


LAYER_ERRORS = {
    "input size": lambda L: L.nn.RNN(3, 4)(_x(L, 2, 5, 4)),
    "hidden size": lambda L: L.nn.RNN(3, 4)(_x(L, 2, 5, 3), _x(L, 1, 2, 4)),
    "hidden layers": lambda L: L.nn.GRU(3, 4, num_layers=2)(_x(L, 2, 5, 3), _x(L, 1, 5, 4)),
    "hidden batch_first": lambda L: L.nn.GRU(3, 4, batch_first=True)(_x(L, 2, 5, 3),
                                                                    _x(L, 1, 5, 4)),
    "LSTM cell state size": lambda L: L.nn.LSTM(3, 4)(_x(L, 2, 5, 3),
                                                      (_x(L, 1, 5, 4), _x(L, 1, 5, 3))),
    "LSTM projected h size": lambda L: L.nn.LSTM(3, 4, proj_size=2)(
        _x(L, 2, 5, 3), (_x(L, 1, 5, 4), _x(L, 1, 5, 4))),
    "LSTM hx dims": lambda L: L.nn.LSTM(3, 4)(_x(L, 2, 5, 3), (_x(L, 1, 5, 4), _x(L, 1, 5))),
    "LSTM unbatched hx dims": lambda L: L.nn.LSTM(3, 4)(_x(L, 2, 3),
                                                        (_x(L, 1, 5, 4), _x(L, 1, 4))),
    "GRU unbatched hx dims": lambda L: L.nn.GRU(3, 4)(_x(L, 2, 3), _x(L, 1, 1, 4)),
    "RNN batched hx dims": lambda L: L.nn.RNN(3, 4)(_x(L, 2, 2, 3), _x(L, 2, 4)),
    "unbatched hidden size": lambda L: L.nn.GRU(3, 4)(_x(L, 2, 3), _x(L, 2, 4)),
    "hx dtype": lambda L: L.nn.GRU(3, 4)(_x(L, 2, 5, 3), _x(L, 1, 5, 4, dtype=L.float64)),
    "RNN 4-D input": lambda L: L.nn.RNN(3, 4)(_x(L, 2, 2, 2, 3)),
    "LSTM 1-D input": lambda L: L.nn.LSTM(3, 4)(_x(L, 3)),
    "GRU 4-D input": lambda L: L.nn.GRU(3, 4)(_x(L, 2, 2, 2, 3)),
    "empty sequence": lambda L: L.nn.RNN(3, 4)(_x(L, 0, 2, 3)),
    "nonlinearity": lambda L: L.nn.RNN(3, 4, nonlinearity="sigmoid"),
    "RNN proj_size": lambda L: L.nn.RNN(3, 4, proj_size=2),
    "GRU proj_size": lambda L: L.nn.GRU(3, 4, proj_size=0),
    "dropout range": lambda L: L.nn.LSTM(3, 4, dropout=1.5),
    "dropout bool": lambda L: L.nn.LSTM(3, 4, dropout=True),
    "input_size type": lambda L: L.nn.GRU(3.0, 4),
    "input_size zero": lambda L: L.nn.GRU(0, 4),
    "hidden_size type": lambda L: L.nn.GRU(3, "4"),
    "hidden_size zero": lambda L: L.nn.GRU(3, 0),
    "num_layers zero": lambda L: L.nn.GRU(3, 4, num_layers=0),
    "proj_size too big": lambda L: L.nn.LSTM(3, 4, proj_size=4),
    "proj_size negative": lambda L: L.nn.LSTM(3, 4, proj_size=-1),
    "bias type": lambda L: L.nn.RNN(3, 4, bias=1),
    "batch_first type": lambda L: L.nn.RNN(3, 4, batch_first=None),
}
CELL_ERRORS = {
    "input size": lambda L: L.nn.RNNCell(3, 4)(_x(L, 2, 5)),
    "hidden size": lambda L: L.nn.GRUCell(3, 4)(_x(L, 2, 3), _x(L, 2, 5)),
    "batch size": lambda L: L.nn.RNNCell(3, 4)(_x(L, 2, 3), _x(L, 3, 4)),
    "unbatched input, batched hx": lambda L: L.nn.RNNCell(3, 4)(_x(L, 3), _x(L, 2, 4)),
    "LSTMCell h batch": lambda L: L.nn.LSTMCell(3, 4)(_x(L, 2, 3), (_x(L, 3, 4), _x(L, 2, 4))),
    "LSTMCell c size": lambda L: L.nn.LSTMCell(3, 4)(_x(L, 2, 3), (_x(L, 2, 4), _x(L, 2, 5))),
    "3-D input": lambda L: L.nn.GRUCell(3, 4)(_x(L, 2, 3, 3)),
    "LSTMCell 3-D input": lambda L: L.nn.LSTMCell(3, 4)(_x(L, 1, 2, 3)),
    "3-D hx": lambda L: L.nn.RNNCell(3, 4)(_x(L, 2, 3), _x(L, 1, 2, 4)),
    "LSTMCell 3-D c": lambda L: L.nn.LSTMCell(3, 4)(_x(L, 2, 3), (_x(L, 2, 4), _x(L, 1, 2, 4))),
    "nonlinearity": lambda L: L.nn.RNNCell(3, 4, nonlinearity="gelu")(_x(L, 2, 3)),
    "input dtype": lambda L: L.nn.RNNCell(3, 4)(_x(L, 2, 3, dtype=L.float64)),
    "hx dtype": lambda L: L.nn.GRUCell(3, 4)(_x(L, 2, 3), _x(L, 2, 4, dtype=L.float64)),
    "LSTMCell h dtype": lambda L: L.nn.LSTMCell(3, 4)(_x(L, 2, 3),
                                                      (_x(L, 2, 4, dtype=L.float64), _x(L, 2, 4))),
}


@pytest.mark.parametrize("case", LAYER_ERRORS)
def test_layer_errors_are_torch_errors(case):
    same_error(LAYER_ERRORS[case])


@pytest.mark.parametrize("case", CELL_ERRORS)
def test_cell_errors_are_torch_errors(case):
    same_error(CELL_ERRORS[case])


def test_lstm_cell_promotes_a_float64_cell_state():
    """c meets no weight, only elementwise ops: PyTorch promotes instead of raising."""
    for lib in (ng, torch):
        cell = lib.nn.LSTMCell(3, 4)
        h, c = cell(_x(lib, 2, 3), (_x(lib, 2, 4), _x(lib, 2, 4, dtype=lib.float64)))
        assert h.dtype == c.dtype == lib.float64


def test_input_dtype_must_match_the_weights():
    same_error(lambda L: L.nn.LSTM(3, 4)(_x(L, 2, 5, 3, dtype=L.float64)), same_message=False)
    # PyTorch's LSTM fails inside oneDNN here ("get_mkldnn_dtype: unsupported data type")
    same_error(lambda L: L.nn.LSTM(3, 4)(_x(L, 2, 3), (_x(L, 1, 4, dtype=L.float64),
                                                       _x(L, 1, 4))), same_message=False)
    with pytest.raises(ValueError, match=r"RNN input dtype \(numpy2gpt.float64\) does not match "
                                         r"weight dtype \(numpy2gpt.float32\)"):
        ng.nn.LSTM(3, 4)(_x(ng, 2, 5, 3, dtype=ng.float64))


# ----- nn.utils.rnn: padding and packing --------------------------------------------------------
def _utils(lib):
    return rnn_utils if lib is ng else torch.nn.utils.rnn


def _sequences(lib, lengths=(2, 4, 1), dtype=np.float64, requires_grad=True):
    arrays = _arrays(*[(n, IN) for n in lengths], seed=4)
    return [lib.tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrays]


def _backward_both(outputs, leaves):
    """The same upstream gradient into each library's output; each leaf's gradient compared."""
    grad = np.random.default_rng(9).standard_normal(tuple(outputs[1].shape))
    for lib, out in zip((ng, torch), outputs):
        out.backward(lib.tensor(grad.astype(np.float64)))
    for k, (x, t) in enumerate(zip(*leaves)):
        assert_close(x.grad, t.grad, what=f"gradient of sequence {k}")


@pytest.mark.parametrize("kwargs", [{}, {"batch_first": True},
                                    {"padding_value": -1.5, "padding_side": "left"}])
def test_pad_sequence(kwargs):
    leaves = [_sequences(lib) for lib in (ng, torch)]
    padded = [_utils(lib).pad_sequence(seqs, **kwargs) for lib, seqs in zip((ng, torch), leaves)]
    assert_close(padded[0], padded[1])
    _backward_both(padded, leaves)


def test_pad_sequence_of_float32_and_of_a_tensor():
    out, t_out = (_utils(lib).pad_sequence(_sequences(lib, dtype=np.float32))
                  for lib in (ng, torch))
    assert_close(out, t_out)
    rows = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    out, t_out = (_utils(lib).pad_sequence(lib.tensor(rows)) for lib in (ng, torch))
    assert_close(out, t_out)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [((4, 2, 2, 1), True),
                                                     ((2, 4, 1, 4, 2), False)])
def test_pack_and_pad_packed(lengths, enforce_sorted, batch_first):
    leaves = [_sequences(lib, lengths) for lib in (ng, torch)]
    results = []
    for lib, seqs in zip((ng, torch), leaves):
        utils = _utils(lib)
        padded = utils.pad_sequence(seqs, batch_first=batch_first)
        packed = utils.pack_padded_sequence(padded, lib.tensor(lengths), batch_first,
                                            enforce_sorted)
        again, got_lengths = utils.pad_packed_sequence(packed, batch_first, padding_value=2.0,
                                                       total_length=6)
        results.append((packed, again, got_lengths))
    (packed, again, got), (t_packed, t_again, t_got) = results
    assert type(packed).__name__ == "PackedSequence"
    for k, (a, b) in enumerate(zip(packed, t_packed)):
        if b is None:
            assert a is None
        else:
            assert_close(a, b, what=f"PackedSequence field {k}")
    assert_close(again, t_again)
    assert_close(got, t_got)
    _backward_both([again, t_again], leaves)


def test_pack_sequence_unpack_sequence_unpad_sequence():
    seqs = _sequences(ng, requires_grad=False)
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_sequence(_sequences(torch, requires_grad=False),
                                                enforce_sorted=False)
    assert_close(packed.data, t_packed.data)
    assert_close(packed.batch_sizes, t_packed.batch_sizes)
    for a, b in zip(rnn_utils.unpack_sequence(packed), seqs):
        assert_close(a, b.numpy())
    padded = rnn_utils.pad_sequence(seqs, batch_first=True)
    for a, b in zip(rnn_utils.unpad_sequence(padded, ng.tensor([2, 4, 1]), batch_first=True),
                    seqs):
        assert_close(a, b.numpy())
    assert packed.to(ng.float32).data.dtype == ng.float32
    assert packed.double() is packed  # already float64: the same object


@pytest.mark.parametrize("name, kwargs", [("RNN", {"nonlinearity": "relu"}),
                                          ("LSTM", {"proj_size": 4}), ("GRU", {})])
def test_layers_on_packed_sequences(name, kwargs):
    """Each sequence runs for its own length only: output, final states (of the last real step,
    and backwards from it) and every gradient as PyTorch's, in the caller's batch order."""
    lengths = (2, 4, 1)
    om, tm = _pair(name, np.float64, IN, H, num_layers=2, bidirectional=True, batch_first=True,
                   **kwargs)
    h_size = kwargs.get("proj_size", H)
    states = _arrays((4, 3, h_size), (4, 3, H), seed=2)[:2 if name == "LSTM" else 1]

    def call(module, *leaves):
        utils = rnn_utils if module is om else torch.nn.utils.rnn
        padded = utils.pad_sequence(leaves[:3], batch_first=True)
        packed = utils.pack_padded_sequence(padded, list(lengths), batch_first=True,
                                            enforce_sorted=False)
        hx = leaves[3:]
        out, h_n = module(packed, tuple(hx) if name == "LSTM" else hx[0])
        assert isinstance(out, utils.PackedSequence)
        return utils.pad_packed_sequence(out, batch_first=True)[0], h_n

    seqs = _arrays(*[(n, IN) for n in lengths], seed=4)
    _compare(om, tm, seqs + states, call, np.float64)


def test_packed_sequence_without_initial_state():
    om, tm = _pair("GRU", np.float32, IN, H)

    def call(module, *seqs):
        utils = rnn_utils if module is om else torch.nn.utils.rnn
        out, h_n = module(utils.pack_sequence(list(seqs)))
        return out.data, h_n

    _compare(om, tm, _arrays((4, IN), (3, IN), (3, IN)), call, np.float32)


UTILS_ERRORS = {
    "padding_side": lambda U, L: U.pad_sequence([_x(L, 2, 3)], padding_side="middle"),
    "no sequences": lambda U, L: U.pad_sequence([]),
    "not iterable": lambda U, L: U.pad_sequence(5),
    "0-d sequences": lambda U, L: U.pad_sequence([L.tensor(1.0), L.tensor(2.0)]),
    "unsorted lengths": lambda U, L: U.pack_padded_sequence(_x(L, 3, 2, 4), [2, 3]),
    "lengths count": lambda U, L: U.pack_padded_sequence(_x(L, 3, 2, 4), [3, 3, 1]),
    "zero length": lambda U, L: U.pack_padded_sequence(_x(L, 3, 2, 4), [3, 0]),
    "total_length": lambda U, L: U.pad_packed_sequence(
        U.pack_padded_sequence(_x(L, 3, 2, 4), [3, 2]), total_length=2),
}


@pytest.mark.parametrize("case", UTILS_ERRORS)
def test_rnn_utils_errors_are_torch_errors(case):
    # PyTorch's message for 0-d sequences is an internal one ("ArrayRef: invalid slice, ...")
    same_error(lambda L: UTILS_ERRORS[case](_utils(L), L), same_message=case != "0-d sequences")


def test_length_longer_than_the_padded_input_is_an_error():
    """PyTorch reads past the input's end (an undefined result); numpy2gpt refuses."""
    with pytest.raises(RuntimeError, match="longer than the 3 steps"):
        rnn_utils.pack_padded_sequence(ng.zeros(3, 2, 4), [4, 1])
