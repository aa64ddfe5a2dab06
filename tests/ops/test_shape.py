"""Shape ops (reshape view flatten transpose permute T mT broadcast_to expand) against PyTorch:
values, gradients, gradcheck, argument forms (varargs or tuple, negative dims, -1) and errors."""

import numpy as np
import pytest
import torch
from torch_compare import check_against_torch, run_gradcheck

import numpy2gpt as ng

X = np.random.default_rng(0).standard_normal((2, 3, 4))

CASES = [  # (id, op applied identically to a numpy2gpt and a torch tensor)
    ("reshape_varargs", lambda t: t.reshape(4, 6)),
    ("reshape_tuple", lambda t: t.reshape((6, 4))),
    ("reshape_infer", lambda t: t.reshape(-1, 2)),
    ("reshape_fn", lambda t: (ng if isinstance(t, ng.Tensor) else torch).reshape(t, (24,))),
    ("view", lambda t: t.view(3, 8)),
    ("view_infer", lambda t: t.view(2, -1)),
    ("flatten", lambda t: t.flatten()),
    ("flatten_range", lambda t: t.flatten(1)),
    ("flatten_neg", lambda t: t.flatten(0, -2)),
    ("transpose", lambda t: t.transpose(0, 2)),
    ("transpose_neg", lambda t: t.transpose(-1, -2)),
    ("permute_varargs", lambda t: t.permute(2, 0, 1)),
    ("permute_tuple_neg", lambda t: t.permute((-1, 1, 0))),
    ("mT", lambda t: t.mT),
    ("expand", lambda t: t.reshape(2, 3, 1, 4).expand(2, 3, 5, 4)),
    ("expand_minus1", lambda t: t.reshape(1, 2, 3, 4).expand(3, -1, -1, -1)),
    ("broadcast_to", lambda t: t.reshape(2, 1, 3, 4).broadcast_to((5, 2, 2, 3, 4))),
    ("then_math", lambda t: t.permute(1, 0, 2).reshape(3, 8) * 2 + t.sum()),
]


@pytest.mark.parametrize("op", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_shape_op_matches_torch(op):
    check_against_torch(op, op, [X])
    check_against_torch(op, op, [X.astype(np.float32)])


@pytest.mark.parametrize("op", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_shape_op_gradcheck(op):
    assert run_gradcheck(op, [X])


def test_T_on_matrix_and_vector():
    a = np.arange(6.0).reshape(2, 3)
    check_against_torch(lambda t: t.T, lambda t: t.T, [a])
    v = ng.tensor([1.0, 2.0])
    assert v.T is not v and v.T.tolist() == [1.0, 2.0]  # a new view, as PyTorch's


def test_expand_as_reshape_as_view_as_and_t():
    a = np.random.default_rng(1).standard_normal((3, 1))
    b = np.zeros((2, 3, 4))
    check_against_torch(lambda x, y: x.expand_as(y), lambda x, y: x.expand_as(y), [a, b],
                        requires_grad=[True, False])
    check_against_torch(lambda x: x.reshape_as(ng.zeros(1, 3) if isinstance(x, ng.Tensor)
                                               else torch.zeros(1, 3)),
                        lambda x: x.reshape_as(torch.zeros(1, 3)), [a])
    check_against_torch(lambda x: x.t(), lambda x: x.t(), [a])
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        ng.zeros(2, 2, 2).t()


def test_flatten_scalar_gives_one_element():
    assert ng.tensor(3.0).flatten().shape == (1,) == torch.tensor(3.0).flatten().shape


def test_view_shares_memory_with_its_base():
    x = ng.zeros(2, 3)
    v = x.view(6)
    v.data[0] = 5.0
    assert x.data[0, 0] == 5.0


def test_expanded_gradient_is_summed_over_the_broadcast_dims():
    x = ng.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(2, 3).sum().backward()
    assert x.grad.tolist() == [[3.0], [3.0]]


@pytest.mark.parametrize("fn,msg", [
    (lambda: ng.zeros(2, 3).reshape(4, 2), r"shape '\[4, 2\]' is invalid for input of size 6"),
    (lambda: ng.zeros(2, 3).view(-1, -1), "only one dimension can be inferred"),
    (lambda: ng.zeros(2, 3).reshape(-1, 4), "invalid for input of size 6"),
    (lambda: ng.zeros(2, 3).permute(1, 0, 2), "number of dimensions"),
    (lambda: ng.zeros(2, 3).permute(0, 0), "appears multiple times"),
    (lambda: ng.zeros(2, 3).transpose(0, 2), "Dimension out of range"),
    (lambda: ng.zeros(2, 3).expand(2, 4), r"expanded size of the tensor \(4\) must match"),
    (lambda: ng.zeros(2, 3).expand(3), "number of sizes provided"),
    (lambda: ng.zeros(2, 3).flatten(1, 0), "start_dim cannot come after end_dim"),
    (lambda: ng.zeros(3).mT, "only supported on matrices"),
])
def test_bad_shape_arguments_raise_clear_errors(fn, msg):
    with pytest.raises((RuntimeError, IndexError), match=msg):
        fn()


@pytest.mark.parametrize("op,name", [
    (lambda t: t.reshape(6), "ViewBackward0"), (lambda t: t.view(3, 2), "ViewBackward0"),
    (lambda t: t.permute(1, 0), "PermuteBackward0"),
    (lambda t: t.expand(4, 2, 3), "ExpandBackward0"),
])
def test_grad_fn_names(op, name):
    assert repr(op(ng.zeros(2, 3, requires_grad=True)).grad_fn) == f"<{name}>"
    assert type(op(torch.zeros(2, 3, requires_grad=True)).grad_fn).__name__ == name


@pytest.mark.parametrize("shape, dtype", [((2,), "int32"), ((2,), "float32"), ((2,), "int64"),
                                          ((2,), "int8"), ((2,), "float16"), ((2, 2), "float64")])
def test_view_as_a_dtype_reads_the_same_bits_like_pytorch(shape, dtype):
    values = np.arange(1.0, 1.0 + np.prod(shape), dtype=np.float32).reshape(shape)
    ours = ng.tensor(values, requires_grad=True).view(getattr(ng, dtype))
    theirs = torch.tensor(values, requires_grad=True).view(getattr(torch, dtype))
    assert ours.tolist() == theirs.tolist() and not ours.requires_grad
    x = ng.zeros(4)
    x.view(ng.int32)[0] = 1065353216  # the bits of 1.0: the same memory
    assert x.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_view_as_a_dtype_of_another_size_needs_pytorchs_last_dim():
    for lib in (ng, torch):
        with pytest.raises(RuntimeError, match="self.size\\(-1\\) must be divisible by 2 to view "
                                               "Float as Double"):
            lib.ones(3).view(lib.float64)
        with pytest.raises(RuntimeError, match="self.dim\\(\\) cannot be 0 to view Float as "
                                               "Double"):
            lib.ones(()).view(lib.float64)
