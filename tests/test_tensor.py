"""The Tensor API against PyTorch: shape/Size, size(dim), numel, item, tolist,
numpy(), detach, clone, to/float/double/long, __array__, __len__, T/mT, grad assignment,
requires_grad rules, and the repr."""

import re

import numpy as np
import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng


def test_shape_is_a_size_tuple_and_size_dim():
    x, tx = ng.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert isinstance(x.shape, ng.Size) and isinstance(x.shape, tuple)
    assert x.shape == (2, 3, 4) == tuple(tx.shape)
    assert repr(x.shape) == "numpy2gpt.Size([2, 3, 4])"
    assert x.size() == x.shape and x.size(1) == 3 and x.size(-1) == 4 == tx.size(-1)
    assert x.shape.numel() == 24 == x.numel() == x.nelement()
    assert x.ndim == 3 == x.dim()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)


def test_item_tolist_len_and_conversions():
    x = ng.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]] and len(x) == 2
    assert ng.tensor([2.5]).item() == 2.5 and isinstance(ng.tensor(3).item(), int)
    assert float(ng.tensor(2.5)) == 2.5 and int(ng.tensor(3)) == 3
    assert [1, 2, 3][ng.tensor(1)] == 2  # __index__
    with pytest.raises(RuntimeError, match="a Tensor with 4 elements cannot be converted to "
                                           "Scalar"):
        x.item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ng.tensor(1.0))
    with pytest.raises(RuntimeError, match="^Boolean value of Tensor with more than one value is "
                                           "ambiguous$"):  # PyTorch's
        bool(x)
    assert bool(ng.tensor([1.0])) and not bool(ng.tensor(0.0))


def test_numpy_refuses_tensors_that_require_grad():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad. "
                                           r"Use tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    a = x.detach().numpy()
    assert isinstance(a, np.ndarray) and a.tolist() == [1.0, 2.0]


def test_array_protocol():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    c = np.array(x, copy=True)
    c[0] = 9.0
    assert x.data[0] == 1.0


def test_detach_shares_data_but_leaves_the_graph():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    y2 = x * 3
    y2.detach_()
    assert y2.is_leaf and not y2.requires_grad


def test_clone_copies_and_keeps_the_graph():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not c.is_leaf and c.requires_grad and repr(c.grad_fn) == "<CloneBackward0>"
    assert not np.shares_memory(c.data, x.data)
    (c * c).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_to_and_dtype_shortcuts():
    x = ng.tensor([1.7, -2.2])
    assert x.to(ng.float64).dtype == ng.float64 and x.double().dtype == ng.float64
    assert x.long().dtype == ng.int64 and x.long().tolist() == torch.tensor([1.7, -2.2]).long() \
        .tolist()
    assert x.int().dtype == ng.int32 and x.half().dtype == ng.float16
    assert x.bool().tolist() == [True, True]
    assert x.float() is x and x.to(ng.float32) is x  # no copy when nothing changes
    assert x.to("cpu") is x and x.to("cpu", ng.float64).dtype == ng.float64
    assert x.to(ng.zeros(1, dtype=ng.float64)).dtype == ng.float64
    assert x.to(dtype=ng.float16).dtype == ng.float16 and x.type(ng.float64).dtype == ng.float64
    with pytest.raises(AssertionError, match="CPU only"):
        x.to("cuda")
    with pytest.raises(TypeError, match="unknown dtype"):
        x.to(dtype="bogus")


def test_to_is_differentiable():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad and repr(y.grad_fn) == "<ToCopyBackward0>"
    (y * y).sum().backward()
    assert x.grad.dtype == ng.float32 and x.grad.tolist() == [2.0, 4.0]


def test_T_and_mT():
    x = ng.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(x.mT.numpy(), torch.arange(24.0).reshape(2, 3, 4).mT.numpy())
    m = ng.tensor([[1.0, 2.0]])
    assert m.T.tolist() == [[1.0], [2.0]]


def test_grad_is_assignable_and_checked():
    p = ng.tensor([1.0, 2.0], requires_grad=True)
    (p * 3).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0]
    p.grad = None
    assert p.grad is None
    p.grad = ng.tensor([0.5, 0.5])
    assert p.grad.tolist() == [0.5, 0.5]
    with pytest.raises(RuntimeError, match="to a tensor of size"):
        p.grad = ng.zeros(3)
    with pytest.raises(RuntimeError, match="to a tensor with grad_dtype"):
        p.grad = ng.zeros(2, dtype=ng.float64)
    with pytest.raises(TypeError, match="Tensor or None"):
        p.grad = [1.0, 2.0]


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require "
                                           "gradients"):
        ng.tensor([1, 2], requires_grad=True)
    x = ng.tensor([1, 2])
    with pytest.raises(RuntimeError, match="floating point"):
        x.requires_grad = True  # attribute assignment is checked too, like PyTorch
    with pytest.raises(RuntimeError, match="floating point"):
        x.requires_grad_()
    w = ng.tensor([1.0])
    w.requires_grad = True
    assert w.requires_grad and w.is_leaf
    assert w.requires_grad_(False) is w and not w.requires_grad
    y = ng.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad = False


def test_retain_grad_and_is_leaf():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    assert x.is_leaf and not x.retains_grad
    y = x * 2
    assert not y.is_leaf
    y.retain_grad()
    assert y.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        ng.tensor([1.0]).retain_grad()


def test_name_and_misc_facts():
    x = ng.tensor([1.0], name="x")
    assert x.name == "x" and x.device == ng.device("cpu") and x.cpu() is x
    assert x.is_floating_point() and not ng.tensor([1]).is_floating_point()
    assert x.element_size() == 4 and x.is_contiguous()
    assert ng.is_tensor(x) and not ng.is_tensor(1.0) and ng.numel(ng.zeros(2, 3)) == 6
    assert hash(x) != hash(ng.tensor([1.0]))  # identity hash: tensors can be dict keys


# ----- repr: the same text as PyTorch (with numpy2gpt's module name) ---------------------------
REPR_CASES = [
    ([1.0, 2.0], {}), ([-1.0, 2.0], {}), ([1.5, -2.25], {}), (3.0, {}), (2.5, {}),
    ([[1.0, 2.0], [3.0, 4.0]], {}), ([1e-5, 1.0], {}), ([0.001, 10.0], {}), ([1.0, 2000.0], {}),
    ([float("nan"), -1.5, 100.25], {}), ([0.5, float("inf")], {}), ([-0.0, 0.0], {}),
    ([], {}), ([1, -2], {}), ([True, False], {}), ([1.0, 2.0], {"dtype": "float64"}),
    ([1e200], {"dtype": "float64"}), ([1, 2], {"dtype": "int32"}), (-1e-5, {}),
    (np.random.default_rng(0).standard_normal((2, 50)).tolist(), {}),
    (np.random.default_rng(1).standard_normal((40, 40)).tolist(), {}),
    (np.arange(3000).tolist(), {}), (np.arange(3000.0).reshape(3, 10, 100).tolist(), {}),
]


def _same_line_suffixes(text):
    """'numpy2gpt.' is 4 characters longer than 'torch.', so a `dtype=` suffix may wrap onto
    its own line in one library and not the other; compare with suffixes joined to the body."""
    return re.sub(r",\n +(size=|dtype=|grad_fn=|requires_grad=)", r", \1", text)


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("data,kw", REPR_CASES, ids=range(len(REPR_CASES)))
def test_repr_matches_torch(data, kw, requires_grad):
    ours = ng.tensor(data, dtype=getattr(ng, kw["dtype"]) if kw else None)
    theirs = torch.tensor(data, dtype=getattr(torch, kw["dtype"]) if kw else None)
    if requires_grad and ours.is_floating_point():  # (integer tensors can't require grad)
        ours, theirs = ours.requires_grad_() * 2, theirs.requires_grad_() * 2
    assert _same_line_suffixes(repr(ours)) == _same_line_suffixes(
        repr(theirs).replace("torch.", "numpy2gpt."))


def test_repr_shows_requires_grad_grad_fn_and_empty_sizes():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(ng.zeros(0, 3)) == "tensor([], size=(0, 3))" == repr(torch.zeros(0, 3))
    ng.set_default_dtype(ng.float64)  # then float32 is the one that is labelled
    assert repr(ng.tensor([1.0], dtype=ng.float32)) == "tensor([1.], dtype=numpy2gpt.float32)"
    assert repr(ng.tensor([1.0])) == "tensor([1.])"


def test_memory_formats_and_constants_like_pytorch():
    """channels_last layouts from contiguous(), checked by is_contiguous(), as PyTorch's strides;
    the formats pickle as themselves; torch.inf, nan, pi, e and newaxis."""
    import pickle

    for lib in (ng, torch):
        assert {lib.inf, lib.pi, lib.e} == {np.inf, np.pi, np.e} and np.isnan(lib.nan)
        assert lib.zeros(2, 3)[:, lib.newaxis].shape == (2, 1, 3)
    cases = [((2, 3, 4, 5), "channels_last"), ((2, 3, 4, 5, 6), "channels_last_3d"),
             ((1, 3, 1, 1), "channels_last"), ((2, 3, 4, 5), "contiguous_format"),
             ((2, 3, 4, 5), "preserve_format")]
    for shape, name in cases:
        got = []
        for lib in (ng, torch):
            fmt = getattr(lib, name)
            x = lib.arange(float(np.prod(shape))).reshape(shape)
            y = x.contiguous(memory_format=fmt)
            got.append((y.stride(), y.is_contiguous(), y.is_contiguous(memory_format=fmt),
                        x.is_contiguous(memory_format=fmt), y.tolist()))
        assert got[0] == got[1], (shape, name)
        assert pickle.loads(pickle.dumps(getattr(ng, name))) is getattr(ng, name)
    same_error(lambda lib: lib.zeros(2, 3).contiguous(memory_format=lib.channels_last))
