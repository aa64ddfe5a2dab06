"""In-place ops (add_ sub_ mul_ div_ zero_ fill_ copy_ clamp_ normal_ uniform_, += ...): values
against PyTorch, the version counter, and the errors that stop silent wrong gradients: in-place on
a tensor saved for backward (directly, through detach() or through a view), on a leaf that
requires grad, with a non-broadcastable operand, or a float result into an integer tensor."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng

A = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
B = np.array([0.5, -1.5, 2.0])

CASES = [
    ("add_", lambda t, o: t.add_(o)), ("add_alpha", lambda t, o: t.add_(o, alpha=-0.1)),
    ("sub_", lambda t, o: t.sub_(o)), ("sub_alpha", lambda t, o: t.sub_(o, alpha=2)),
    ("mul_", lambda t, o: t.mul_(o)), ("div_", lambda t, o: t.div_(o)),
    ("add_scalar", lambda t, o: t.add_(2.5)), ("mul_scalar", lambda t, o: t.mul_(-3)),
    ("zero_", lambda t, o: t.zero_()), ("fill_", lambda t, o: t.fill_(7.0)),
    ("copy_", lambda t, o: t.copy_(o)), ("clamp_", lambda t, o: t.clamp_(-1.0, 2.0)),
    ("clamp_min", lambda t, o: t.clamp_(min=0.0)), ("clamp_max", lambda t, o: t.clamp_(max=0.0)),
]


def _iadd(t, o):
    t += o
    return t


def _isub(t, o):
    t -= o
    return t


def _imul(t, o):
    t *= o
    return t


def _idiv(t, o):
    t /= o
    return t


CASES += [("iadd", _iadd), ("isub", _isub), ("imul", _imul), ("idiv", _idiv)]


@pytest.mark.parametrize("op", [c[1] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inplace_matches_torch_and_bumps_version(op, dtype):
    x, tx = ng.tensor(A.astype(dtype)), torch.tensor(A.astype(dtype))
    other, t_other = ng.tensor(B.astype(dtype)), torch.tensor(B.astype(dtype))
    before = x._version
    out = op(x, other)
    t_out = op(tx, t_other)
    assert out is x and t_out is tx  # same object, updated in place
    assert x.dtype == np.dtype(dtype)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6)
    assert x._version == before + 1


def test_normal_and_uniform_fill_in_place_reproducibly():
    x = ng.zeros(5000)
    ng.manual_seed(3)
    x.normal_(2.0, 0.5)
    assert abs(x.numpy().mean() - 2.0) < 0.05 and abs(x.numpy().std() - 0.5) < 0.05
    first = x.tolist()
    ng.manual_seed(3)
    assert ng.zeros(5000).normal_(2.0, 0.5).tolist() == first
    u = ng.zeros(5000, dtype=ng.float64).uniform_(-1.0, 3.0)
    assert u.dtype == ng.float64 and -1.0 <= u.numpy().min() and u.numpy().max() < 3.0


def test_optimizer_style_update_under_no_grad():
    p = ng.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    with ng.no_grad():
        p.add_(p.grad, alpha=-0.1)
    assert p.tolist() == pytest.approx([0.8, 1.6])
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_leaf_requiring_grad_refuses_in_place_in_grad_mode():
    p = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        p.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        p += 1.0
    assert p.tolist() == [1.0, 2.0] and p._version == 0


def _modified_error():
    return pytest.raises(RuntimeError, match="one of the variables needed for gradient computation "
                                             "has been modified by an inplace operation")


def test_in_place_on_a_saved_constant_raises_at_backward():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    c = ng.tensor([3.0, 4.0])
    loss = (w * c).sum()  # Mul saves c to compute dL/dw = c
    c.mul_(10)
    with _modified_error():
        loss.backward()


def test_in_place_on_a_saved_leaf_under_no_grad_raises_at_backward():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with ng.no_grad():
        w.sub_(0.5)
    with _modified_error():
        loss.backward()


def test_in_place_through_detach_or_a_view_is_seen():
    for alias in (lambda t: t.detach(), lambda t: t.view(2, 1), lambda t: t.reshape(-1),
                  lambda t: t.detach().T):
        w = ng.tensor([1.0, 2.0], requires_grad=True)
        loss = w.exp().sum() * w.sum() + (w * w).sum()
        with ng.no_grad():
            alias(w).add_(1.0)
        assert w.tolist() == [2.0, 3.0]  # the alias shares w's memory
        with _modified_error():
            loss.backward()


def test_in_place_on_a_saved_output_raises_at_backward():
    x = ng.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # Exp saves its output y: dy/dx = y
    z = (y * 2).sum()
    with ng.no_grad():
        y.mul_(0.0)
    with _modified_error():
        z.backward()


def test_in_place_on_an_input_that_backward_does_not_need_is_fine():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    c = ng.tensor([3.0, 4.0])
    loss = (x + c).sum()  # Add's backward needs only shapes
    c.add_(1.0)
    loss.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_in_place_errors_for_bad_operands():
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 3\] doesn't match the "
                                           r"broadcast shape of the in-place operand \[4\]"):
        ng.ones(2, 3).add_(ng.ones(4))
    with pytest.raises(RuntimeError, match=r"\[2, 3\]"):
        ng.ones(2, 3).mul_(ng.ones(2, 2, 3))  # would need to grow the output
    with pytest.raises(RuntimeError, match=r"must match the size .* \[2, 3\] and \[4\]"):
        ng.ones(2, 3).copy_(ng.ones(4))
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        ng.tensor([1, 2]).mul_(1.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        ng.tensor([1, 2]).div_(2)
    x = ng.tensor([1, 2])
    x.add_(3)
    assert x.tolist() == [4, 5] and x.dtype == ng.int64


# ----- in-place ops recorded in the graph (gradients against PyTorch) ---------------------------
# Each edit writes something computed from `w` (which requires grad) into a target. The target is
# a constant, a tensor in the graph (made from `x`), or a view of a larger tensor (made from `x`
# or constant); the loss reads the target and its base, so every path's gradient is compared.
def _set_slice(t, o, lib):
    t[1:] = o[:2]


def _set_index(t, o, lib):
    t[[2, 0]] = o[1:]


def _set_mask(t, o, lib):
    t[lib.tensor([True, False, True])] = o.sum()


def _set_element(t, o, lib):
    t[1] = o[0] * o[2]


EDITS = {
    "add_": lambda t, o, lib: t.add_(o), "add_alpha": lambda t, o, lib: t.add_(o, alpha=-2.0),
    "sub_": lambda t, o, lib: t.sub_(o), "sub_alpha": lambda t, o, lib: t.sub_(o, alpha=0.5),
    "mul_": lambda t, o, lib: t.mul_(o), "div_": lambda t, o, lib: t.div_(o),
    "copy_": lambda t, o, lib: t.copy_(o), "copy_broadcast": lambda t, o, lib: t.copy_(o[1]),
    "clamp_": lambda t, o, lib: t.add_(o).clamp_(1.0, 5.0),
    "clamp_tensor": lambda t, o, lib: t.clamp_(min=o),
    "masked_fill_": lambda t, o, lib: t.mul_(o).masked_fill_(lib.tensor([True, False, False]), 2.0),
    "masked_fill_tensor": lambda t, o, lib: t.masked_fill_(lib.tensor([False, True, True]), o[0]),
    "fill_": lambda t, o, lib: t.fill_(o[2]), "zero_": lambda t, o, lib: t.add_(o).zero_(),
    "setitem_slice": _set_slice, "setitem_index": _set_index, "setitem_mask": _set_mask,
    "setitem_element": _set_element,
    "iadd": lambda t, o, lib: _iadd(t, o), "isub": lambda t, o, lib: _isub(t, o),
    "imul": lambda t, o, lib: _imul(t, o), "idiv": lambda t, o, lib: _idiv(t, o),
}
K = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])


def _edited(lib, edit, target):
    """Run one edit with numpy2gpt or torch; return (loss, w, x, target's grad_fn)."""
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = lib.tensor([[0.5, -1.5, 2.5], [1.0, 2.0, -3.0]], requires_grad=True)
    k = lib.tensor(K)
    base = None
    if target == "constant":
        t = lib.tensor([0.5, 1.5, -2.0])
    elif target == "graph":
        t = x[1] * 2.0
    elif target == "strided view of constant":
        base = lib.tensor((K.T * 0.5).astype(np.float32))
        t = base[:, 1]  # a column: not contiguous
    elif target == "view of graph":
        base = x * 1.5
        t = base[1]
    else:  # a view of a tensor that takes part in a graph, through a reshape
        base = (x * 1.0).reshape(3, 2)
        t = base.t()[0]
    edit(t, w * 3.0 - 1.0, lib)
    loss = (t * t * k[0]).sum()
    if base is not None:
        loss = loss + (base * base).sum()
    return loss, w, x, t.grad_fn


TARGETS = ["constant", "graph", "strided view of constant", "view of graph",
           "view through reshape"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("edit", list(EDITS))
def test_in_place_edit_gradients_match_torch(edit, target):
    loss, w, x, grad_fn = _edited(ng, EDITS[edit], target)
    t_loss, tw, tx, t_grad_fn = _edited(torch, EDITS[edit], target)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-6)
    loss.backward()
    t_loss.backward()
    for ours, theirs in ((w, tw), (x, tx)):
        if theirs.grad is None:
            assert ours.grad is None
        else:
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5,
                                       atol=1e-6)
    name = grad_fn.name()  # the target joined the graph
    if "view" not in target:  # (PyTorch names a view's new creator AsStridedBackward0)
        assert name == t_grad_fn.name()


# ----- views alias their base; expanded tensors -----------------------------------------------
VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
              "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
OVERLAP_ERROR = ("unsupported operation: more than one element of the written-to tensor refers to "
                 "a single memory location. Please clone() the tensor before performing the "
                 "operation.")


@pytest.mark.parametrize("make", [lambda lib: lib.arange(6.0).reshape(2, 3).t(),
                                  lambda lib: lib.zeros(3, 1).expand(3, 4),
                                  lambda lib: lib.arange(12.0).reshape(3, 4)[:, 1:3]])
def test_view_of_a_layout_it_cannot_view_raises_pytorchs_error(make):
    for lib in (ng, torch):
        with pytest.raises(RuntimeError) as e:
            make(lib).view(-1)
        assert str(e.value) == VIEW_ERROR
    # reshape copies instead, and contiguous() gives a layout that view accepts
    for lib in (ng, torch):
        assert make(lib).contiguous().view(-1).tolist() == make(torch).reshape(-1).tolist()


def test_views_alias_their_base_and_share_its_version():
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        v = x.t().view(3, 1, 2)  # a view of a transpose: no copy needed
        v[1, 0, 1] = 10.0
        row = x[1]
        row.mul_(2)
        e = x[0, 2]  # a single element is a view too
        e.add_(100)
        flat = x.view(6)
        flat.sub_(1)
        assert x._version == v._version == row._version == flat._version == 4
        return x.tolist(), v.tolist()

    assert run(ng) == run(torch)


def test_writes_into_an_expanded_tensor_reach_its_base():
    def run(lib):
        a = lib.zeros(3, 1)
        b = a.expand(3, 4)
        b[0, 0] = 5.0
        b[2, 3] += 1.0
        c = lib.zeros(2).expand(3, 2)
        c.fill_(7.0)  # fill_ and zero_ write the same value everywhere: PyTorch allows them
        return a.tolist(), b.tolist(), c.tolist()

    assert run(ng) == run(torch)


OVERLAPPING_WRITES = {
    "add_": lambda b, lib: b.add_(1), "sub_": lambda b, lib: b.sub_(1),
    "mul_": lambda b, lib: b.mul_(2), "div_": lambda b, lib: b.div_(2),
    "copy_": lambda b, lib: b.copy_(lib.ones(3, 4)), "clamp_": lambda b, lib: b.clamp_(0, 1),
    "normal_": lambda b, lib: b.normal_(), "uniform_": lambda b, lib: b.uniform_(),
    "iadd": lambda b, lib: _iadd(b, 1), "setitem row": lambda b, lib: b.__setitem__(1, 7.0),
}


@pytest.mark.parametrize("write", list(OVERLAPPING_WRITES))
def test_in_place_writes_into_overlapping_memory_raise_pytorchs_error(write):
    for lib in (ng, torch):
        a = lib.tensor([[1.0], [2.0], [3.0]])
        with pytest.raises(RuntimeError) as e:
            OVERLAPPING_WRITES[write](a.expand(3, 4), lib)
        assert str(e.value) == OVERLAP_ERROR
        assert a.tolist() == [[1.0], [2.0], [3.0]]


@pytest.mark.parametrize("fill", ["normal_", "uniform_"])
def test_random_fills_of_a_graph_tensor_cut_the_gradient_like_pytorch(fill):
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        t = w * 2
        lib.manual_seed(0)
        getattr(t, fill)()  # PyTorch's values for the seed
        (t * w).sum().backward()
        return type(t.grad_fn).__name__ if lib is torch else t.grad_fn.name(), w.grad.tolist()

    name, grad = run(ng)
    t_name, t_grad = run(torch)
    assert name == t_name
    np.testing.assert_allclose(grad, t_grad, rtol=1e-6)  # d/dw of (t * w) is t: no path to w


def test_an_empty_tensor_is_not_overlapping_memory():
    for lib in (ng, torch):  # NumPy gives empty arrays zero strides
        x = lib.zeros(0, 3)
        x.add_(1)
        x.mul_(lib.ones(3))
        assert x.shape == (0, 3) and x._version == 2


@pytest.mark.parametrize("name", ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
                                  "sin", "cos", "tanh", "sigmoid", "abs", "neg", "relu", "square",
                                  "floor", "ceil", "round", "trunc", "sign"])
def test_unary_in_place_methods_through_a_view_match_pytorch(name):
    results = []
    for lib in (ng, torch):
        x = lib.tensor([0.5, 1.5, 2.5], dtype=lib.float64, requires_grad=True)
        y = x * 1
        out = getattr(y[1:], name + "_")()  # in the view's memory, so in y's
        (y * y).sum().backward()
        results.append((y.tolist(), x.grad.tolist(), out.shape))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][2] == tuple(results[1][2])


def test_a_float_result_in_place_into_an_integer_tensor_is_pytorchs_error():
    for lib in (ng, torch):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type Long"):
            lib.tensor([1, 2]).exp_()
        t = lib.tensor([-1, 2])
        t.abs_()
        assert t.tolist() == [1, 2]
        y = lib.tensor([2.0, 3.0], requires_grad=True) * 1
        y.pow_(2)
        assert y.tolist() == [4.0, 9.0]


IN_PLACE_METHODS = {  # name: (input, the method's other arguments), run on both libraries
    "scatter_add_": (lambda lib: lib.zeros(2, 3), lambda lib: (
        0, lib.tensor([[0, 1, 0], [1, 0, 1]]), lib.tensor([[1., 2., 3.], [4., 5., 6.]]))),
    "tril_": (lambda lib: lib.ones(3, 3), lambda lib: (0,)),
    "triu_": (lambda lib: lib.ones(3, 3), lambda lib: (1,)),
    "addmm_": (lambda lib: lib.ones(2, 2), lambda lib: (lib.eye(2) * 2, lib.ones(2, 2))),
    "addmv_": (lambda lib: lib.ones(2), lambda lib: (lib.eye(2) * 3, lib.ones(2))),
    "baddbmm_": (lambda lib: lib.ones(1, 2, 2), lambda lib: (lib.ones(1, 2, 3), lib.ones(1, 3, 2))),
    "erf_": (lambda lib: lib.tensor([0.5, -1.0]), lambda lib: ()),
    "erfc_": (lambda lib: lib.tensor([0.5, -1.0]), lambda lib: ()),
    "exp2_": (lambda lib: lib.tensor([0.5, 3.0]), lambda lib: ()),
    "logical_not_": (lambda lib: lib.tensor([0.0, 2.0]), lambda lib: ()),
    "logical_and_": (lambda lib: lib.tensor([0.0, 2.0]), lambda lib: (lib.tensor([1.0, 1.0]),)),
    "logical_or_": (lambda lib: lib.tensor([0.0, 2.0]), lambda lib: (lib.tensor([0.0, 0.0]),)),
    "logical_xor_": (lambda lib: lib.tensor([0.0, 2.0]), lambda lib: (lib.tensor([1.0, 1.0]),)),
    "bitwise_not_": (lambda lib: lib.tensor([0, 5]), lambda lib: ()),
    "bitwise_and_": (lambda lib: lib.tensor([6, 5]), lambda lib: (lib.tensor([3, 1]),)),
    "bitwise_or_": (lambda lib: lib.tensor([6, 5]), lambda lib: (lib.tensor([3, 1]),)),
    "bitwise_xor_": (lambda lib: lib.tensor([6, 5]), lambda lib: (lib.tensor([3, 1]),)),
}


@pytest.mark.parametrize("name", list(IN_PLACE_METHODS))
def test_more_in_place_methods_write_torchs_values_in_place(name):
    make, args = IN_PLACE_METHODS[name]
    results = []
    for lib in (ng, torch):
        x = make(lib)
        out = getattr(x, name)(*args(lib))
        assert out is x
        results.append((x.tolist(), str(x.dtype).split(".")[-1]))
    assert results[0][1] == results[1][1]
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)  # (erfc: an ulp)
