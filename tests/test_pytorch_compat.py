"""Smaller corners of the PyTorch interface, each against real PyTorch: the legacy `Tensor(...)`
constructor, NumPy ufuncs on tensors (`__array_wrap__`), CPU-only devices, `manual_seed` with odd
seeds, `axis=`/`keepdims=` in reductions, the dtype check of matrix products, and `.data`."""

import operator
import warnings

import numpy as np
import pytest
import torch

import numpy2gpt as ng


# ----- Tensor(...) ------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ([1, 2],), ([[1, 2], [3, 4]],), ([True, False],), ([1, 2.5],), (np.array([1, 2]),),
    (np.array([1.0, 2.0]),), (np.array(3.0),), (np.zeros((2, 0)),), ((2, 3),), ([],), (),
], ids=repr)
def test_legacy_constructor_copies_data_into_the_default_float_dtype(args):
    ours, theirs = ng.Tensor(*args), torch.Tensor(*args)
    assert ours.dtype == ng.float32 and theirs.dtype == torch.float32
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
    ours[...] = 0.5  # float storage: a fraction is kept, not truncated to 0
    assert ours.numel() == 0 or ours.mean().item() == 0.5


@pytest.mark.parametrize("args", [(2, 3), (4,), (ng.Size([2, 3]),), (np.int64(3),), (2, 0)],
                         ids=repr)
def test_legacy_constructor_with_sizes_makes_a_float_tensor_of_that_shape(args):
    targs = tuple(torch.Size(a) if isinstance(a, ng.Size) else a for a in args)
    ours, theirs = ng.Tensor(*args), torch.Tensor(*targs)
    assert ours.dtype == ng.float32 and ours.shape == tuple(theirs.shape)
    assert not ours.data.any()  # PyTorch leaves the memory uninitialised; here it is zeros
    ng.set_default_dtype(ng.float64)
    assert ng.Tensor(*args).dtype == ng.float64 and ng.Tensor([1, 2]).dtype == ng.float64


def test_legacy_constructor_of_a_tensor_shares_it_and_bad_arguments_are_pytorchs_errors():
    t = ng.tensor([1, 2])
    u = ng.Tensor(t)
    assert u.dtype == ng.int64 == ng.Tensor(ng.tensor([1, 2])).dtype  # as torch.Tensor(t)
    assert torch.Tensor(torch.tensor([1, 2])).dtype == torch.int64
    u[0] = 7
    assert t.tolist() == [7, 2]
    for bad in (2.0, True, np.float64(2.0)):
        with pytest.raises(TypeError) as theirs:
            torch.Tensor(bad)
        with pytest.raises(TypeError) as ours:
            ng.Tensor(bad)
        assert str(ours.value) == str(theirs.value)  # new(): data must be a sequence (got float)
    with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension"):
        ng.Tensor(2, -1)
    with pytest.raises(TypeError, match=r"new\(\): argument 'size' must be a tuple of ints"):
        ng.Tensor(2, 3.0)
    # numpy2gpt's own keywords keep working
    w = ng.Tensor([1, 2], requires_grad=True, name="w")
    assert w.requires_grad and w.name == "w" and w.dtype == ng.float32
    assert ng.Tensor([1, 2], dtype=ng.float64).dtype == ng.float64
    assert ng.nn.Parameter(np.ones(2)).dtype == ng.float64  # a Parameter keeps its data's dtype


# ----- NumPy ufuncs on tensors ------------------------------------------------------------------
def test_numpy_ufuncs_on_tensors_give_tensors_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's __array_wrap__ has the deprecated form)
        assert (torch.ones(2) + np.ones(2)).dtype == torch.float64  # (PyTorch's promotion)
        te = np.exp(torch.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's __array_wrap__ deprecation would fail here
        r = np.ones(2) + ng.ones(2)
        assert isinstance(r, ng.Tensor) and r.dtype == ng.float64 and r.tolist() == [2.0, 2.0]
        e = np.exp(ng.ones(2))
        assert isinstance(e, ng.Tensor) and isinstance(te, torch.Tensor)
        assert e.dtype == ng.float32 and e.tolist() == te.tolist()
        s = np.exp(ng.ones(()))  # a 0-d result stays a tensor (as PyTorch's does)
        assert isinstance(s, ng.Tensor) and s.shape == () and s.item() == np.exp(np.float32(1))
        m = np.add(np.ones(2), ng.ones(2))
        assert isinstance(m, ng.Tensor) and m.dtype == ng.float64
        assert np.less(ng.ones(2), 2).dtype == ng.bool


# ----- devices ----------------------------------------------------------------------------------
@pytest.mark.parametrize("move", [lambda x: x.cuda(), lambda x: x.to("cuda"),
                                  lambda x: x.to("cuda:0"), lambda x: x.cuda(0)],
                         ids=["cuda()", "to(cuda)", "to(cuda:0)", "cuda(0)"])
def test_cuda_says_numpy2gpt_runs_on_the_cpu(move):
    if not torch.cuda.is_available():  # PyTorch's CPU-only build raises AssertionError
        with pytest.raises((AssertionError, RuntimeError)):
            move(torch.ones(2))
    with pytest.raises(AssertionError, match="^numpy2gpt not compiled with CUDA enabled: it "
                                             "runs on the CPU only$"):
        move(ng.ones(2))
    with pytest.raises(AssertionError, match="runs on the CPU only$"):
        move(ng.nn.Linear(2, 2))


@pytest.mark.parametrize("name,args", [("zeros", (2,)), ("ones", (2,)), ("empty", (2,)),
                                       ("full", ((2,), 1.0)), ("arange", (3,)), ("eye", (2,)),
                                       ("linspace", (0, 1, 3)), ("rand", (2,)), ("randn", (2,)),
                                       ("randint", (0, 5, (2,))), ("randperm", (3,))])
def test_factories_refuse_a_cuda_device_and_accept_cpu(name, args):
    getattr(ng, name)(*args, device="cpu")
    with pytest.raises(AssertionError, match="runs on the CPU only$"):
        getattr(ng, name)(*args, device="cuda")


def test_other_devices_are_refused_and_cpu_is_fine():
    x = ng.ones(2)
    assert x.cpu() is x and x.to("cpu") is x and x.to("cpu:0") is x
    with pytest.raises(RuntimeError, match="numpy2gpt runs on the CPU only; got device 'mps'"):
        x.to("mps")
    with pytest.raises(RuntimeError, match="numpy2gpt runs on the CPU only; got device 'mps'"):
        ng.nn.Linear(2, 2).to("mps")


# ----- manual_seed ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1.5, -1.5, -0.5, 2.7, np.float64(2.7), "3", True,
                                  np.int64(5), -1, 2**64 - 1, -(2**63)], ids=repr)
def test_manual_seed_takes_int_of_the_seed_like_pytorch(seed):
    torch.manual_seed(seed)
    assert ng.manual_seed(seed).initial_seed() == torch.initial_seed()
    assert ng.randn(5).tolist() == torch.randn(5).tolist()


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 1e30, float("nan"), float("inf"), None,
                                  "x"], ids=repr)
def test_manual_seed_refuses_what_pytorch_refuses(seed):
    with pytest.raises(Exception) as theirs:
        torch.manual_seed(seed)
    with pytest.raises(Exception) as ours:
        ng.manual_seed(seed)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value).split("\n")[0]


def test_generator_manual_seed_wants_an_int_like_pytorchs():
    for bad in (1.5, "3", None, True):
        with pytest.raises(RuntimeError) as theirs:
            torch.Generator().manual_seed(bad)
        with pytest.raises(RuntimeError) as ours:
            ng.Generator().manual_seed(bad)
        assert str(ours.value) == str(theirs.value)  # manual_seed expected a long, but got float


# ----- axis= / keepdims= ------------------------------------------------------------------------
REDUCTIONS = ["sum", "mean", "prod", "std", "var", "amax", "amin", "logsumexp", "max", "min",
              "argmax", "argmin", "all", "any", "cumsum"]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_take_numpys_axis_and_keepdims_like_pytorch(name):
    a = np.array([[1.0, -2.0, 3.5], [0.5, 4.0, -1.0]])
    x, tx = ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    if name in ("all", "any"):
        x, tx = x.detach() > 0, tx.detach() > 0
    kwargs = {"axis": 1} if name == "cumsum" else {"axis": 1, "keepdims": True}
    for ours, theirs in [(getattr(x, name)(**kwargs), getattr(tx, name)(**kwargs)),
                         (getattr(ng, name)(x, **kwargs), getattr(torch, name)(tx, **kwargs))]:
        if name in ("max", "min"):
            assert ours.indices.tolist() == theirs.indices.tolist()
            ours, theirs = ours.values, theirs.values
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
        if theirs.requires_grad:
            g = np.arange(1.0, 1.0 + ours.numel()).reshape(ours.shape)
            ours.backward(ng.tensor(g))
            theirs.backward(torch.tensor(g))
            np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
            x.grad, tx.grad = None, None
    with pytest.raises(TypeError, match=rf"^{name}\(\) "):  # both spellings at once
        getattr(tx, name)(dim=0, axis=0)
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument "
                                        "'axis'$"):  # (PyTorch's words for most of them)
        getattr(x, name)(dim=0, axis=0)


# ----- matmul dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["matmul", "mm", "linear"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("int64", "float32"), ("float16", "float32"),
                                    ("int32", "int64")], ids="{0[0]}@{0[1]}".format)
def test_matrix_products_of_mixed_dtypes_raise_pytorchs_error(fn, dtypes):
    def call(lib, f):
        a = lib.ones(2, 3, dtype=getattr(lib, dtypes[0]))
        b = lib.ones(3, 4, dtype=getattr(lib, dtypes[1]))
        if fn == "linear":
            return f.linear(a, b.mT if lib is torch else b.mT)
        return getattr(lib, fn)(a, b)

    tf = torch.nn.functional
    with pytest.raises(RuntimeError) as theirs:
        call(torch, tf if fn == "linear" else torch)
    with pytest.raises(RuntimeError) as ours:
        call(ng, ng.nn.functional if fn == "linear" else ng)
    assert str(ours.value) == str(theirs.value)  # expected m1 and m2 to have the same dtype, ...


@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((5, 2, 3), (3, 2)), ((2, 3), (3,)),
                                    ((3,), (3,)), ((5, 2, 3), (5, 3, 2))], ids=str)
def test_matmul_of_mixed_float_dtypes_raises_for_every_shape(shapes):
    a, b = ng.ones(*shapes[0]), ng.ones(*shapes[1], dtype=ng.float64)
    with pytest.raises(RuntimeError):
        torch.ones(*shapes[0]) @ torch.ones(*shapes[1], dtype=torch.float64)
    with pytest.raises(RuntimeError, match="^expected m1 and m2 to have the same dtype, but got: "
                                           "float != double$"):
        a @ b
    assert (ng.ones(2, 3, dtype=ng.int64) @ ng.ones(3, 2, dtype=ng.int64)).dtype == ng.int64


# ----- type promotion with 0-d tensors ----------------------------------------------------------
DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("b", DTYPES)
@pytest.mark.parametrize("a", DTYPES)
def test_a_zero_dim_tensor_promotes_only_across_kinds_like_pytorch(a, b):
    """float32 * tensor(0.5, float64) stays float32; int32 + tensor(3.) becomes float64."""
    for sa, sb in [((2,), ()), ((), (2,)), ((2,), (2,)), ((), ())]:
        ours = ng.ones(sa, dtype=getattr(ng, a)) + ng.ones(sb, dtype=getattr(ng, b))
        theirs = torch.ones(sa, dtype=getattr(torch, a)) + torch.ones(sb, dtype=getattr(torch, b))
        assert "torch." + str(ours.dtype) == str(theirs.dtype), (sa, sb)


# ----- .data ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_data_is_a_tensor_on_the_same_memory_outside_autograd(lib):
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    d = w.data
    assert type(d) is lib.Tensor and not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 5.0  # the same memory
    assert w.tolist() == [5.0, -2.0, 3.0] and w.requires_grad
    p = lib.nn.Parameter(lib.ones(2))
    assert type(p.data) is lib.Tensor  # not a Parameter


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_manual_sgd_through_data_updates_in_place_like_pytorch(lib):
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    view = w.detach()  # shares w's memory: an in-place update shows through it
    for _ in range(3):
        (w * w).sum().backward()
        w.data += -0.1 * w.grad  # micrograd's and makemore's update
        w.grad.data.zero_()
    assert type(w.data) is lib.Tensor and view.tolist() == w.tolist()
    np.testing.assert_allclose(w.tolist(), [0.512, -1.024, 1.536], rtol=1e-6)
    w.data = lib.zeros(2, 2)  # assigning replaces values, shape and all
    assert w.shape == (2, 2) and w.requires_grad and "requires_grad=True" in repr(w)


def test_assigning_anything_but_a_tensor_to_data_is_pytorchs_type_error():
    for lib in (ng, torch):
        w = lib.ones(3)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got"):
            w.data = np.zeros(3)
        assert w.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_an_edit_through_data_is_not_counted_against_the_graph(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # saves x
    x.data.mul_(3)  # unrecorded: no version error at backward, which sees the new values
    y.backward()
    assert x.grad.tolist() == [6.0, 12.0]
    z = (x * x).sum()
    x.detach().mul_(3)  # detach() shares the version counter: this one is caught
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


# ----- floating-point warnings -------------------------------------------------------------------
def test_inf_and_nan_arise_without_numpy_warnings_as_in_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail the test
        x = ng.tensor([0.0, -1.0, 1.0], requires_grad=True)
        y = ng.log(x) + ng.sqrt(x) + 1 / x + x ** -1.0 + ng.exp(x * 1000)
        y.sum().backward()
        t = ng.ones(2)
        t.div_(0.0)
        assert t.tolist() == [float("inf")] * 2
    tx = torch.tensor([0.0, -1.0, 1.0], requires_grad=True)
    ty = torch.log(tx) + torch.sqrt(tx) + 1 / tx + tx ** -1.0 + torch.exp(tx * 1000)
    ty.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# ----- & | ^ -------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor], ids=["&", "|", "^"])
@pytest.mark.parametrize("a, b", [
    ([True, False, True], [True, True, False]), ([6, 3, -2], [3, 5, 7]), ([6, 3, -2], 1),
    (1, [6, 3, -2]), ([True, False, True], [1, 2, 3]), ([[1], [2]], [4, 5, 6]), ([True], True),
], ids=repr)
def test_bitwise_operators_are_pytorchs(op, a, b):
    def run(lib):
        x = lib.tensor(a) if isinstance(a, list) else a
        y = lib.tensor(b) if isinstance(b, list) else b
        return op(x, y)

    ours, theirs = run(ng), run(torch)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]


def test_bitwise_functions_in_place_forms_and_errors_are_pytorchs():
    for lib in (ng, torch):
        assert lib.bitwise_and(lib.tensor([3]), lib.tensor([5])).tolist() == [1]
        assert lib.tensor([3]).bitwise_or(4).tolist() == [7]
        assert lib.bitwise_xor(lib.tensor([True]), lib.tensor([True])).tolist() == [False]
        x = lib.tensor([6, 3])
        view = x[:1]
        view &= lib.tensor([2])  # in the view's memory, so in x's
        assert x.tolist() == [2, 3]
        mask = lib.tensor([True, False])
        mask |= lib.tensor([False, True])
        assert mask.tolist() == [True, True]
        with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for "
                                                      "'Float'"):
            lib.tensor([1.0]) & lib.tensor([1.0])
        with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired "
                                               "output type Bool"):
            mask &= lib.tensor([1, 2])
        with pytest.raises(RuntimeError, match="must match the size"):
            lib.tensor([3, 1]) & lib.tensor([1, 2, 3])


# ----- Python ints outside a small integer dtype's range ----------------------------------------
def _u8(lib):
    return lib.tensor([5], dtype=lib.uint8)


@pytest.mark.parametrize("fn", [
    lambda lib: _u8(lib) + (-3), lambda lib: _u8(lib) < -3, lambda lib: _u8(lib) == 261,
    lambda lib: 300 - _u8(lib), lambda lib: _u8(lib).add_(300), lambda lib: _u8(lib).mul_(-1),
    lambda lib: lib.tensor([5], dtype=lib.int8) * 1000,
    lambda lib: lib.tensor([5], dtype=lib.int32) + 2 ** 40,
], ids=["uint8 + -3", "uint8 < -3", "uint8 == 261", "300 - uint8", "uint8.add_(300)",
        "uint8.mul_(-1)", "int8 * 1000", "int32 + 2**40"])
def test_python_ints_wrap_around_into_small_integer_dtypes_like_pytorch(fn):
    ours, theirs = fn(ng), fn(torch)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]


# ----- tensor(data): dtypes inferred, values that do not fit ------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: [np.float64(1.5), 2], lambda L: [np.float32(1), np.float64(2)],
    lambda L: [L.tensor(1.0, dtype=L.float16), 2], lambda L: [L.tensor(1.0, dtype=L.float16), 2.5],
    lambda L: [L.tensor(1.0, dtype=L.float64), L.tensor(2.0)], lambda L: [np.int8(1), True],
    lambda L: [L.tensor(1, dtype=L.int8), 300], lambda L: [[1, 2], np.array([3.0, 4.0])],
    lambda L: [1, 2.5, True], lambda L: [], lambda L: [[], []], lambda L: [np.uint8(1), -1],
], ids=["np.float64 and int", "float32 and float64", "float16 tensor and int",
        "float16 tensor and float", "float64 tensors", "int8 and bool", "int8 tensor and int",
        "list and float64 array", "Python numbers", "empty", "empty rows", "uint8 and -1"])
def test_tensor_infers_pytorchs_dtype_from_its_elements(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "list of numpy.ndarrays is slow"
        ours, theirs = ng.tensor(make(ng)), torch.tensor(make(torch))
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]


@pytest.mark.parametrize("make", [
    lambda L: [L.tensor([1.0]), L.tensor([2.0])], lambda L: [[L.tensor([[1]])], [2]],
    lambda L: (L.tensor(1, dtype=L.int32), 2), lambda L: [L.tensor(1, dtype=L.int8), L.tensor(2)],
    lambda L: [L.tensor([True]), False], lambda L: [L.tensor(1, dtype=L.int32), 2.5],
], ids=["one-element float tensors", "nested", "int32 and int", "int8 and int64 tensors",
        "bool", "int32 and float"])
def test_tensors_inside_a_list_are_read_as_the_number_they_hold(make):
    ours, theirs = ng.tensor(make(ng)), torch.tensor(make(torch))
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]
    assert ng.as_tensor(make(ng)).shape == torch.as_tensor(make(torch)).shape


def test_a_tensor_in_a_list_needs_one_element_and_warns_when_it_requires_grad():
    for lib in (ng, torch):
        with pytest.raises(ValueError, match="only one element tensors can be converted to "
                                             "Python scalars"):
            lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])])
        x = lib.tensor(1.5, requires_grad=True)
        with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True"):
            y = lib.tensor([x, 2.0])
        assert y.tolist() == [1.5, 2.0] and not y.requires_grad


@pytest.mark.parametrize("make, error, message", [
    (lambda L: L.tensor(2 ** 63), ValueError, "Overflow when unpacking long long"),
    (lambda L: L.tensor([2 ** 63, 1]), ValueError, "Overflow when unpacking long long"),
    (lambda L: L.tensor([300], dtype=L.int8), RuntimeError,
     "value cannot be converted to type int8 without overflow"),
    (lambda L: L.tensor(float("nan"), dtype=L.int64), RuntimeError,
     "value cannot be converted to type int64 without overflow"),
], ids=["2**63", "2**63 in a list", "300 as int8", "nan as int64"])
def test_tensor_refuses_values_its_dtype_cannot_hold(make, error, message):
    for lib in (ng, torch):
        with pytest.raises(error, match=message):
            make(lib)


# ----- to(copy=True), type(name), Size, `in`, comparisons with other objects, empty reprs -------
def test_to_with_copy_and_type_by_name_are_pytorchs():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0])
        for y in (x.to(lib.float32, copy=True), x.to(x, copy=True), x.to("cpu", copy=True),
                  x.to(lib.float32, False, True)):
            y[0] = 9.0
        assert x.tolist() == [1.0, 2.0] and x.to(lib.float32) is x
        assert x.to(lib.float16, True).dtype == lib.float16  # (a positional non_blocking)
        assert x.type("torch.LongTensor").tolist() == [1, 2]
        assert x.type(x.type()).dtype == lib.float32


def test_size_slices_and_sums_are_sizes_and_in_tests_elements_like_pytorch():
    for lib in (ng, torch):
        s = lib.Size([2, 3])
        for got in (s[1:], s + (4,), (4,) + s, s * 2):
            assert isinstance(got, lib.Size)
        assert s[1:].numel() == 3 and s[0] == 2
        t = lib.tensor([[1, 2], [3, 4]])
        assert lib.tensor([1, 2]) in t and 4 in t and 5 not in t
        assert (t == "a") is False and (t == [1, 3]) is False and (t != [1, 3]) is True
        with pytest.raises(TypeError, match="'<' not supported"):
            t < "a"  # noqa: B015
        with pytest.raises(RuntimeError, match="Tensor.__contains__ only supports Tensor or "
                                               "scalar"):
            "a" in t  # noqa: B015


@pytest.mark.parametrize("make", [lambda L: L.tensor([], dtype=L.int64),
                                  lambda L: L.zeros(2, 0, dtype=L.bool), lambda L: L.zeros(0),
                                  lambda L: L.zeros(0, dtype=L.float64)],
                         ids=["int64", "bool 2x0", "float32", "float64"])
def test_an_empty_tensor_prints_its_dtype_like_pytorch(make):
    assert repr(make(ng)).replace("numpy2gpt.", "torch.") == repr(make(torch))


# ----- small Tensor methods ---------------------------------------------------------------------
def test_small_tensor_methods_and_conversions_are_pytorchs():
    for lib in (ng, torch):
        t = lib.tensor([1.5, 2.0])
        assert lib.zeros(2, 3).t().stride() == (1, 3) and lib.zeros(4)[::2].stride(0) == 2
        assert t.ndimension() == 1 and not t.is_complex() and not t.is_cuda
        assert t.get_device() == -1 and lib.is_floating_point(t)
        assert [str(x.dtype).split(".")[-1] for x in (t.short(), t.char(), t.byte())] == \
            ["int16", "int8", "uint8"]
        assert int(lib.tensor([3])) == 3 and float(lib.tensor(2.5)) == 2.5
        for convert in (int, float):
            with pytest.raises(ValueError, match="only one element tensors can be converted"):
                convert(t)
        with pytest.raises(RuntimeError, match="Could not infer dtype of NoneType"):
            lib.tensor(None)
