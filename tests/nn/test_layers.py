"""Layers against real PyTorch: load a torch module's state dict (as NumPy) into the same-named
numpy2gpt module, then outputs and gradients (of inputs and parameters) must agree.
Also default initialisations, Dropout, and the containers' list/dict behaviour."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numpy2gpt as n2g
from numpy2gpt import nn

RTOL = {"float32": 1e-5, "float64": 1e-8}
ATOL = {"float32": 1e-6, "float64": 1e-12}


def make_pair(build):
    """build(lib) -> module; returns (torch module, numpy2gpt module with the same weights)."""
    torch.manual_seed(0)
    t = build(torch.nn)
    m = build(nn)
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return t, m


def check_same(build, x, dtype, grad_input=True):
    """Forward x through both modules, backward the same upstream gradient, compare all."""
    t, m = make_pair(build)
    if dtype == "float64":
        t.double()
        m.double()
    rtol, atol = RTOL[dtype], ATOL[dtype]
    floating = x.dtype.kind == "f"
    if floating:
        x = x.astype(dtype)
    xt = torch.tensor(x, requires_grad=floating and grad_input)
    xm = n2g.tensor(x, requires_grad=floating and grad_input)
    yt, ym = t(xt), m(xm)
    assert ym.dtype == np.dtype(dtype)
    np.testing.assert_allclose(ym._data, yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(ym.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    ym.backward(n2g.tensor(g))
    if floating and grad_input:
        assert xm.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(xm.grad._data, xt.grad.numpy(), rtol=rtol, atol=atol)
    named_t = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert p.grad.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(p.grad._data, named_t[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)
    return m


def randn(*shape):
    return np.random.default_rng(2).standard_normal(shape)


DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(dtype, bias):
    m = check_same(lambda lib: lib.Linear(5, 3, bias=bias), randn(2, 4, 5), dtype)
    assert [n for n, _ in m.named_parameters()] == (["weight", "bias"] if bias else ["weight"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(dtype, padding_idx):
    ids = np.array([[1, 2, 2, 10], [0, 2, 5, 1]])
    check_same(lambda lib: lib.Embedding(11, 4, padding_idx=padding_idx), ids, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(normalized_shape=6), dict(normalized_shape=6, bias=False),
                                    dict(normalized_shape=(3, 6), eps=1e-3),
                                    dict(normalized_shape=6, elementwise_affine=False)])
def test_layernorm_matches_torch(dtype, kwargs):
    def build(lib):
        ln = lib.LayerNorm(**kwargs)
        if lib is torch.nn:  # non-trivial affine parameters (make_pair copies them over)
            with torch.no_grad():
                for p in ln.parameters():
                    p.copy_(torch.linspace(0.5, 1.5, p.numel()).reshape(p.shape))
        return ln

    check_same(build, randn(2, 3, 6) * 3 + 1, dtype)


def mlp(lib):
    return lib.Sequential(OrderedDict([
        ("fc1", lib.Linear(6, 16)), ("gelu", lib.GELU()), ("fc2", lib.Linear(16, 16)),
        ("tanh_gelu", lib.GELU(approximate="tanh")), ("fc3", lib.Linear(16, 8)),
        ("relu", lib.ReLU()), ("fc4", lib.Linear(8, 8)), ("silu", lib.SiLU()),
        ("drop", lib.Dropout(0.3)), ("ln", lib.LayerNorm(8)), ("id", lib.Identity()),
        ("out", lib.Linear(8, 5)), ("softmax", lib.Softmax(dim=-1))]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_mlp_matches_torch(dtype):
    def build(lib):
        return mlp(lib).eval()  # dropout off: outputs must be identical

    m = check_same(build, randn(7, 6), dtype)
    assert [n for n, _ in m.named_parameters()][:2] == ["fc1.weight", "fc1.bias"]


def test_softmax_without_dim_uses_pytorchs_legacy_choice():
    x = randn(2, 3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ref = torch.nn.Softmax()(torch.tensor(x)).numpy()
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        np.testing.assert_allclose(nn.Softmax()(n2g.tensor(x))._data, ref, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda lib: lib.nn.SiLU(inplace=True),
                                  lambda lib: lib.nn.ReLU(inplace=True),
                                  lambda lib: lib.nn.Dropout(0.5, inplace=True)],
                         ids=["SiLU", "ReLU", "Dropout"])
def test_inplace_modules_write_into_their_input_like_pytorch(make):
    for lib in (n2g, torch):
        x = lib.tensor([-1.0, 2.0, 3.0, -4.0])
        y = make(lib)(x)
        assert y is x and x.tolist() != [-1.0, 2.0, 3.0, -4.0], lib.__name__


# ----- defaults and arguments --------------------------------------------------------------------
def test_linear_default_init_is_uniform_with_pytorchs_bound():
    n2g.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert p.dtype == n2g.float32 and p.requires_grad and isinstance(p, nn.Parameter)
        assert np.abs(p._data).max() <= bound
    w = lin.weight._data
    assert np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-b, b): std b/sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    assert nn.Linear(3, 2, dtype=n2g.float64).weight.dtype == n2g.float64
    assert nn.Linear(3, 2, bias=False).bias is None


def test_embedding_and_layernorm_default_init():
    n2g.manual_seed(0)
    emb = nn.Embedding(1000, 100, padding_idx=3)
    w = emb.weight._data
    assert w.dtype == np.float32
    assert np.all(w[3] == 0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01  # N(0, 1), 1e5 samples
    ln = nn.LayerNorm(7)
    assert np.all(ln.weight._data == 1) and np.all(ln.bias._data == 0)
    assert ln.normalized_shape == (7,) and ln.eps == 1e-5
    assert nn.LayerNorm(7, elementwise_affine=False).weight is None
    assert list(nn.LayerNorm(7, bias=False).state_dict()) == ["weight"]


def test_embedding_from_pretrained_and_errors():
    w = n2g.tensor(randn(4, 3))
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.weight.shape == (4, 3)
    np.testing.assert_array_equal(emb(n2g.tensor([3, 0]))._data, w._data[[3, 0]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(4, 3, padding_idx=4)


def test_activation_arguments():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="fast")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        nn.Dropout(1.5)
    assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))
    assert repr(nn.Embedding(5, 2, padding_idx=1)) == repr(torch.nn.Embedding(5, 2, padding_idx=1))


def test_dropout_train_and_eval():
    n2g.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = n2g.ones(200, 500, requires_grad=True)
    y = drop(x)
    zeros = (y._data == 0).mean()
    assert abs(zeros - 0.25) < 0.01  # 1e5 draws: std of the fraction ~0.0014
    np.testing.assert_allclose(y._data[y._data != 0], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, y._data)  # the same mask and scale
    drop.eval()
    np.testing.assert_array_equal(drop(x)._data, x._data)


# ----- containers --------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slices keep the keys, like PyTorch
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    seq[1] = nn.GELU()
    assert isinstance(seq[1], nn.GELU)
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c
    seq.append(nn.Identity())
    seq.insert(0, a)
    assert [type(s).__name__ for s in seq] == ["Linear", "GELU", "Linear", "Identity"]
    assert list(seq._modules) == ["0", "1", "2", "3"]
    named = nn.Sequential(OrderedDict([("inp", a), ("act", b)]))
    assert named.inp is a and list(named.state_dict()) == ["inp.weight", "inp.bias"]
    y = named(n2g.ones(4, 2))
    assert y.shape == (4, 3) and np.all(y._data >= 0)


def test_modulelist_behaves_like_a_list():
    layers = [nn.Linear(1, 1) for _ in range(4)]
    ml = nn.ModuleList(layers[:2])
    ml.append(layers[2])
    ml.extend([layers[3]])
    assert len(ml) == 4 and list(ml) == layers and ml[-1] is layers[3]
    assert list(ml[1:3]) == layers[1:3] and isinstance(ml[1:3], nn.ModuleList)
    ml.insert(1, nn.ReLU())
    assert isinstance(ml[1], nn.ReLU) and ml[2] is layers[1]
    del ml[1]
    assert list(ml) == layers and list(ml._modules) == ["0", "1", "2", "3"]
    ml[0] = nn.GELU()
    assert isinstance(ml[0], nn.GELU)
    ml += [nn.Identity()]
    assert len(ml) == 5
    assert ml.pop(-1).__class__ is nn.Identity and len(ml) == 4
    assert [n for n, _ in ml.named_parameters()][0] == "1.weight"
    with pytest.raises(IndexError):
        ml[10]
    with pytest.raises(NotImplementedError, match="not callable"):
        ml(1)
    tml = torch.nn.ModuleList([torch.nn.Linear(1, 1)] * 3 + [torch.nn.ReLU()])
    assert repr(nn.ModuleList([nn.Linear(1, 1)] * 3 + [nn.ReLU()])) == repr(tml)
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_moduledict_behaves_like_a_dict():
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Linear(2, 1)
    assert list(md) == ["a", "b", "c"] and len(md) == 3 and "b" in md
    assert list(md.keys()) == ["a", "b", "c"] and md["a"] is md.a
    assert [k for k, _ in md.items()] == ["a", "b", "c"] and len(list(md.values())) == 3
    md.update([("d", nn.Identity())])
    assert isinstance(md.pop("d"), nn.Identity)
    del md["b"]
    assert list(md.state_dict()) == ["a.weight", "a.bias", "c.weight", "c.bias"]
    with pytest.raises(TypeError, match="^ModuleDict update sequence element #0 should be "
                                        "Iterable; isReLU$"):  # PyTorch's
        md.update([nn.ReLU()])
    md.clear()
    assert len(md) == 0
