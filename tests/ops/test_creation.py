"""Factory functions against PyTorch: shapes (varargs or a tuple), dtype rules (Python floats ->
default float dtype, ints -> int64, bools -> bool), set_default_dtype, the *_like and new_*
forms, seeded randomness, and argument errors."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def _same_dtype(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), (4,), ((),)], ids=str)
def test_sizes_as_varargs_or_sequence(name, size):
    ours, theirs = getattr(ng, name)(*size), getattr(torch, name)(*size)
    assert ours.shape == tuple(theirs.shape)
    _same_dtype(ours, theirs)
    assert ours.is_leaf and not ours.requires_grad


def test_values_of_deterministic_factories_match_torch():
    pairs = [
        (ng.zeros(2, 3), torch.zeros(2, 3)), (ng.ones(2), torch.ones(2)),
        (ng.full((2, 2), 1.5), torch.full((2, 2), 1.5)), (ng.full((2,), 7), torch.full((2,), 7)),
        (ng.full((2,), True), torch.full((2,), True)), (ng.arange(5), torch.arange(5)),
        (ng.arange(1, 7, 2), torch.arange(1, 7, 2)), (ng.arange(0, 1, 0.25),
                                                      torch.arange(0, 1, 0.25)),
        (ng.arange(5.0), torch.arange(5.0)), (ng.arange(10, 0, -3), torch.arange(10, 0, -3)),
        (ng.linspace(0, 1, 5), torch.linspace(0, 1, 5)), (ng.eye(3), torch.eye(3)),
        (ng.eye(2, 3), torch.eye(2, 3)), (ng.zeros(2, dtype=ng.int64), torch.zeros(2,
                                                                                 dtype=torch.int64)),
        (ng.arange(3, dtype=ng.float64), torch.arange(3, dtype=torch.float64)),
    ]
    for ours, theirs in pairs:
        _same_dtype(ours, theirs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)


def test_like_and_new_forms_follow_the_template():
    x = ng.tensor([[1.0, 2.0]], dtype=ng.float64)
    for ours in (ng.zeros_like(x), ng.ones_like(x), ng.empty_like(x), ng.full_like(x, 3.0),
                 ng.randn_like(x), ng.rand_like(x), x.new_zeros(2, 3), x.new_ones((2, 3)),
                 x.new_empty(4), x.new_full((2,), 1.0), x.new_tensor([1.0, 2.0])):
        assert ours.dtype == ng.float64 and ours.is_leaf and not ours.requires_grad
    assert ng.zeros_like(x).shape == (1, 2) and x.new_zeros(2, 3).shape == (2, 3)
    assert ng.zeros_like(x, dtype=ng.float32).dtype == ng.float32
    assert x.new_ones(2, dtype=ng.int64).dtype == ng.int64
    assert ng.full_like(x, 3.0).tolist() == [[3.0, 3.0]]
    assert ng.tensor([1, 2]).new_tensor([1.5]).tolist() == torch.tensor([1, 2]).new_tensor(
        [1.5]).tolist()
    y = x.new_tensor([1.0], requires_grad=True)
    assert y.requires_grad and y.dtype == ng.float64


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [1, 2.5], 3, [1, 2], True, [True, False],
                                  [[1, 2], [3, 4]], [], np.float64(2.0),
                                  np.array([1, 2], np.int32), np.array([1.0], np.float64)],
                         ids=repr)
def test_tensor_dtype_rules_match_torch(data):
    ours, theirs = ng.tensor(data), torch.tensor(data)
    _same_dtype(ours, theirs)
    assert ours.shape == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_set_default_dtype_changes_python_floats_and_factories():
    ng.set_default_dtype(ng.float64)
    assert ng.get_default_dtype() == ng.float64
    assert ng.tensor([1.5]).dtype == ng.float64
    for fn in (ng.zeros, ng.ones, ng.rand, ng.randn, ng.empty):
        assert fn(2).dtype == ng.float64
    assert ng.arange(0.0, 1.0, 0.5).dtype == ng.float64
    assert ng.tensor([1, 2]).dtype == ng.int64  # ints are unaffected
    assert (ng.tensor([1, 2]) * 0.5).dtype == ng.float64
    ng.set_default_dtype(ng.float32)
    assert ng.tensor([1.5]).dtype == ng.float32
    with pytest.raises(TypeError, match="only floating-point types"):
        ng.set_default_dtype(ng.int64)


def test_tensor_copies_and_explicit_dtype_is_exact():
    a = np.array([1.0, 2.0])
    t = ng.tensor(a)
    a[0] = 99.0
    assert t.tolist() == [1.0, 2.0]
    assert ng.tensor([1e200], dtype=ng.float64).item() == 1e200  # no detour through float32
    assert ng.tensor([1.7], dtype=ng.int64).tolist() == [1]


def test_from_numpy_and_as_tensor_share_memory():
    a = np.array([1.0, 2.0])
    t = ng.from_numpy(a)
    a[0] = 5.0
    assert t.dtype == ng.float64 and t.tolist() == [5.0, 2.0]
    x = ng.tensor([1.0])
    assert ng.as_tensor(x) is x
    assert ng.as_tensor(x, dtype=ng.float64).dtype == ng.float64


def test_requires_grad_on_factories():
    assert ng.zeros(2, requires_grad=True).requires_grad
    assert ng.randn(2, 2, requires_grad=True).is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ng.zeros(2, dtype=ng.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ng.arange(3, requires_grad=True)


def test_manual_seed_makes_random_factories_reproducible():
    draws = []
    for _ in range(2):
        ng.manual_seed(123)
        draws.append((ng.rand(3).tolist(), ng.randn(2, 2).tolist(), ng.randint(0, 10, (5,))
                      .tolist(), ng.randn_like(ng.zeros(2)).tolist()))
    assert draws[0] == draws[1]
    ng.manual_seed(124)
    assert ng.rand(3).tolist() != draws[0][0]
    assert ng.initial_seed() == 124


def test_random_factories_have_the_right_distribution():
    ng.manual_seed(0)
    u = ng.rand(20000)
    assert 0.0 <= u.numpy().min() and u.numpy().max() < 1.0 and abs(u.numpy().mean() - 0.5) < 0.01
    n = ng.randn(20000)
    assert abs(n.numpy().mean()) < 0.03 and abs(n.numpy().std() - 1.0) < 0.03
    r = ng.randint(3, 7, (20000,))
    assert r.dtype == ng.int64 and set(np.unique(r.numpy())) == {3, 4, 5, 6}
    assert ng.randint(5, (3,)).numpy().max() < 5  # randint(high, size)
    assert ng.randint(0, 5, (2,), dtype=ng.int32).dtype == ng.int32


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 1000])
def test_randperm_is_torchs_permutation_for_the_same_seed(n):
    torch.manual_seed(5)
    ng.manual_seed(5)
    got, want = ng.randperm(n), torch.randperm(n)
    assert got.dtype == ng.int64 and got.shape == (n,)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert sorted(got.tolist()) == list(range(n))
    np.testing.assert_array_equal(ng.rand(3).numpy(), torch.rand(3).numpy())  # as many draws
    got = ng.randperm(n, generator=ng.Generator().manual_seed(9), dtype=ng.int32)
    want = torch.randperm(n, generator=torch.Generator().manual_seed(9))
    assert got.dtype == ng.int32
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_randint_is_torchs_for_the_same_seed():
    # a range below 2**32 takes one 32-bit draw per value, a wider one a 64-bit draw
    for low, high in ((0, 10), (-7, 1000), (0, 2**40), (-(2**62), 2**62)):
        torch.manual_seed(3)
        ng.manual_seed(3)
        np.testing.assert_array_equal(ng.randint(low, high, (4, 5)).numpy(),
                                      torch.randint(low, high, (4, 5)).numpy())
    for low, high in ((5, 5), (3, 2)):  # an empty range: the same complaint as torch's
        with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
            ng.randint(low, high, (2,))
        with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
            torch.randint(low, high, (2,))


@pytest.mark.parametrize("fn,err,msg", [
    (lambda: ng.zeros(2.5), TypeError, "must be a tuple of ints"),
    (lambda: ng.ones(-1), RuntimeError, "negative dimension"),
    (lambda: ng.zeros(2, dtype="complex64"), TypeError, "unsupported dtype"),
    (lambda: ng.zeros(2, dtype="no_such_dtype"), TypeError, "unknown dtype"),
    (lambda: ng.arange(0, 10, 0), RuntimeError, "step must be nonzero"),
    (lambda: ng.arange(0, 10, -1), RuntimeError, "inconsistent with step sign"),
    (lambda: ng.rand(2, dtype=ng.int64), RuntimeError, "floating point dtype"),
    (lambda: ng.randint(5), TypeError, "size"),
    (lambda: ng.tensor("abc"), TypeError, "can't convert"),
    (lambda: ng.tensor([[1, 2], [3]]), ValueError, "expected sequence of length 2 at dim 1"),
])
def test_bad_arguments_raise_clear_errors(fn, err, msg):
    with pytest.raises(err, match=msg):
        fn()


def _raises_like_torch(call, err, match):
    """`call(ng)` raises what `call(torch)` raises: the same type, messages matching `match`."""
    for lib in (torch, ng):
        with pytest.raises(err, match=match):
            call(lib)


def _same_values(ours, theirs):
    _same_dtype(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("args,kwargs", [
    ((5, (2, 3)), {}), ((5,), {"size": (2, 3)}), ((-3, 5, (4,)), {}), ((-3, 5), {"size": [4]}),
    ((0,), {"high": 5, "size": (4,)}), ((), {"high": 5, "size": (4,)}),
    ((), {"low": 2, "high": 5, "size": (4,)}), ((5, (2,)), {"dtype": "float32"}),
    ((0, 2, (6,)), {"dtype": "bool"}), ((0, 256, (6,)), {"dtype": "uint8"}),
    ((-128, 128, (6,)), {"dtype": "int8"}), ((1, 2**40, (3,)), {"dtype": "float64"}),
], ids=str)
def test_randint_takes_every_form_pytorch_takes(args, kwargs):
    # randint(high, size) and randint(low, high, size), each argument positional or keyword
    def call(lib, seed=4):
        lib.manual_seed(seed)
        named = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        return lib.randint(*args, **named)

    _same_values(call(ng), call(torch))
    generators = ng.Generator().manual_seed(8), torch.Generator().manual_seed(8)
    _same_values(*(lib.randint(10, size=(5,), generator=g)
                   for lib, g in zip((ng, torch), generators)))


@pytest.mark.parametrize("call", [
    lambda lib: lib.randint(0, 10, 3), lambda lib: lib.randint(10, 3), lambda lib: lib.randint(5),
    lambda lib: lib.randint(5, size=3), lambda lib: lib.randint(low=2, size=(2,)),
    lambda lib: lib.randint(5.5, (2,)), lambda lib: lib.randint(0, 5.5, (2,)),
    lambda lib: lib.randint(True, (2,)), lambda lib: lib.randint(5, (2,), size=(2,)),
    lambda lib: lib.randint(0, 5, (2,), low=1), lambda lib: lib.randint(0, 5, (2,), None),
])
def test_randint_rejects_the_forms_pytorch_rejects(call):
    _raises_like_torch(call, TypeError, "randint()")


@pytest.mark.parametrize("low,high,dtype,msg", [
    (0, 300, "uint8", "to - 1 is out of bounds for unsigned char"),
    (-1, 5, "uint8", "from is out of bounds for unsigned char"),
    (0, 3, "bool", "to - 1 is out of bounds for bool"),
    (-200, 5, "int8", "from is out of bounds for signed char"),
    (0, 70000, "int16", "to - 1 is out of bounds for short int"),
    (0, 2**40, "int32", "to - 1 is out of bounds for int"),
    (0, 2**40, "float16", r"to - 1 is out of bounds for c10::Half"),
])
def test_randint_refuses_a_range_its_dtype_cannot_hold(low, high, dtype, msg):
    _raises_like_torch(lambda lib: lib.randint(low, high, (2,), dtype=getattr(lib, dtype)),
                       RuntimeError, msg)


def test_randint_warns_like_pytorch_beyond_a_floats_exact_integers():
    for lib in (torch, ng):
        with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
            lib.randint(0, 2**25, (2,), dtype=lib.float32)
    _raises_like_torch(lambda lib: lib.randint(0, 2**63, (2,)), ValueError, "Overflow")


@pytest.mark.parametrize("n,dtype,err,msg", [
    (3, "bool", NotImplementedError, "\"randperm\" not implemented for 'Bool'"),
    (0, "bool", NotImplementedError, "\"randperm\" not implemented for 'Bool'"),
    (300, "uint8", RuntimeError, "value cannot be converted to type uint8_t without overflow"),
    (129, "int8", RuntimeError, "value cannot be converted to type int8_t without overflow"),
    (40000, "int16", RuntimeError, "value cannot be converted to type int16_t without overflow"),
    (2050, "float16", RuntimeError, "n cannot be greater than 2049 for Half type."),
    (2**24 + 2, "float32", RuntimeError, r"n cannot be greater than 2\^24\+1 for Float type."),
])
def test_randperm_refuses_a_dtype_that_cannot_hold_it(n, dtype, err, msg):
    _raises_like_torch(lambda lib: lib.randperm(n, dtype=getattr(lib, dtype)), err, msg)


def test_randperm_in_small_dtypes_is_pytorchs():
    for n, dtype in ((256, "uint8"), (128, "int8"), (2049, "float16")):
        torch.manual_seed(2)
        ng.manual_seed(2)
        _same_values(ng.randperm(n, dtype=getattr(ng, dtype)),
                     torch.randperm(n, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_can_be_given_as_a_keyword(name):
    for size in ((2, 3), [4], ()):
        ours, theirs = getattr(ng, name)(size=size), getattr(torch, name)(size=size)
        assert ours.shape == tuple(theirs.shape)
        _same_dtype(ours, theirs)
    ours = getattr(ng, name)(size=(2,), dtype=ng.float64)
    assert ours.dtype == ng.float64 and ours.shape == (2,)
    torch.manual_seed(6)
    ng.manual_seed(6)
    if name in ("rand", "randn"):
        _same_values(getattr(ng, name)(size=(20,)), getattr(torch, name)(size=(20,)))
    conflict = "invalid combination" if name.startswith("rand") else "got multiple values"
    _raises_like_torch(lambda lib: getattr(lib, name)(2, size=(2,)), TypeError, conflict)
    _raises_like_torch(lambda lib: getattr(lib, name)(size=2), TypeError,
                       "argument 'size' must be tuple of ints, not int")
    _raises_like_torch(lambda lib: getattr(lib, name)(), TypeError, rf"{name}\(\)")


def test_full_takes_size_and_fill_value_as_keywords():
    _same_values(ng.full(size=(2,), fill_value=1.5), torch.full(size=(2,), fill_value=1.5))
    _raises_like_torch(lambda lib: lib.full(2, 1.0), TypeError,
                       r"full\(\): argument 'size' \(position 1\) must be tuple of ints, not int")


@pytest.mark.parametrize("call", [
    lambda lib: lib.arange(lib.tensor(3)), lambda lib: lib.arange(lib.tensor(3.0)),
    lambda lib: lib.arange(lib.tensor([1, 4]).max()),
    lambda lib: lib.arange(lib.tensor(1), lib.tensor(4)),
    lambda lib: lib.arange(lib.tensor(3, dtype=lib.int8)),
    lambda lib: lib.arange(lib.tensor(3.0, dtype=lib.float64)),
    lambda lib: lib.arange(lib.tensor(True)), lambda lib: lib.arange(0, lib.tensor(4), 0.5),
    lambda lib: lib.arange(0, 5, lib.tensor(2)), lambda lib: lib.arange(end=3),
    lambda lib: lib.arange(start=1, end=3),
    lambda lib: lib.full((2,), lib.tensor(1.5)), lambda lib: lib.full((2,), lib.tensor(1)),
    lambda lib: lib.full((2,), lib.tensor(True)),
    lambda lib: lib.full((2,), lib.tensor(2, dtype=lib.int8)),
    lambda lib: lib.full((2,), lib.tensor(1.5, dtype=lib.float64)),
    lambda lib: lib.full((2,), lib.tensor(2.5), dtype=lib.float64),
    lambda lib: lib.linspace(lib.tensor(0), lib.tensor(1), 3),
    lambda lib: lib.linspace(lib.tensor(0.0, dtype=lib.float64), 1, 5),
    lambda lib: lib.linspace(0, 1, lib.tensor(3)),
    lambda lib: lib.zeros(lib.tensor(3)), lambda lib: lib.zeros(lib.tensor(3), 2),
    lambda lib: lib.ones((lib.tensor(2), 2)), lambda lib: lib.eye(lib.tensor(2)),
])
def test_zero_dim_tensor_arguments_count_as_their_value_and_dtype(call):
    _same_values(call(ng), call(torch))


@pytest.mark.parametrize("call,err,msg", [
    (lambda lib: lib.arange(lib.tensor([3])), TypeError,
     r"arange\(\): argument 'end' \(position 1\) must be Number, not Tensor"),
    (lambda lib: lib.full((2,), lib.tensor([1.5])), TypeError,
     r"full\(\): argument 'fill_value' \(position 2\) must be Number, not Tensor"),
    (lambda lib: lib.linspace(lib.tensor([0.0]), 1, 3), RuntimeError,
     "linspace only supports 0-dimensional start and end tensors"),
    (lambda lib: lib.linspace(0, 1, 3.0), TypeError, "linspace"),
    (lambda lib: lib.linspace(0, 1, lib.tensor(3.0)), TypeError, "linspace"),
    (lambda lib: lib.linspace(0, 1, lib.tensor([3])), TypeError, "linspace"),
])
def test_tensor_arguments_that_are_not_numbers_are_refused(call, err, msg):
    _raises_like_torch(call, err, msg)


@pytest.mark.parametrize("name", ["new_zeros", "new_ones", "new_empty"])
def test_new_factories_take_size_as_a_keyword(name):
    ours = getattr(ng.ones(1, dtype=ng.float64), name)(size=(2, 3))
    theirs = getattr(torch.ones(1, dtype=torch.float64), name)(size=(2, 3))
    assert ours.shape == tuple(theirs.shape)
    _same_dtype(ours, theirs)
    _raises_like_torch(lambda lib: getattr(lib.ones(1), name)(2, size=(2,)), TypeError,
                       "got multiple values for argument 'size'")
    _raises_like_torch(lambda lib: getattr(lib.ones(1), name)(), TypeError,
                       rf'{name}\(\) missing 1 required positional arguments: "size"')


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_linspace_gives_pytorchs_bits(dtype):
    """Each value is start + step * i rounded once (from end for the second half), as PyTorch's
    kernel computes it: NumPy's linspace differs in the last bit on a third of these."""
    rng = np.random.default_rng(0)
    cases = [(-3.0, 3.0, 64), (-np.pi, np.pi, 2000), (0.0, 1.0, 100), (1.0, -2.5, 7),
             (0.0, float("inf"), 4), (2.0, 2.0, 5), (0.0, 1.0, 1), (0.0, 1.0, 0)]
    cases += [(*(rng.normal(0, 10, 2) * 10.0 ** rng.integers(-3, 3)).tolist(),
               int(rng.integers(2, 3000))) for _ in range(200)]
    for start, end, n in cases:
        ours = ng.linspace(start, end, n, dtype=getattr(ng, dtype)).numpy()
        theirs = torch.linspace(start, end, n, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"linspace({start}, {end}, {n})")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_arange_gives_pytorchs_bits(dtype):
    """PyTorch fills SIMD vectors from each vector's first value: a fractional step gives other
    last bits than start + i * step (on a third of these, and for float16 float32 arithmetic)."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        start, step = float(rng.normal(0, 10)), float(rng.uniform(0.01, 3) * rng.choice([-1, 1]))
        end = start + step * int(rng.integers(1, 400))
        ours = ng.arange(start, end, step, dtype=getattr(ng, dtype)).numpy()
        theirs = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"arange({start}, {end}, {step})")


RANGE_CASES = [
    # into an integer dtype the arguments are truncated first (int64) or the count is the float
    # one (other integer dtypes)
    "arange(2.7, dtype=T.int64)", "arange(1e-3, dtype=T.int64)", "arange(0, 5, 1.5, dtype=T.int64)",
    "arange(-1.5, -5, -1.5, dtype=T.int64)", "arange(0, 2, 0.5, dtype=T.int32)",
    "arange(-2.5, 3, 1.5, dtype=T.uint8)", "arange(0, 300, 100, dtype=T.int8)",
    "arange(1, 2.5, 0.5, dtype=T.int64)", "arange(float('nan'))", "arange(0, float('inf'))",
    "arange(3, dtype=T.bool)", "arange(3, 0, 1)",
    "linspace(-2.5, 3.5, 5, dtype=T.int64)", "linspace(0, 300, 5, dtype=T.int8)",
    "linspace(0, float('nan'), 1)", "linspace(0, float('nan'), 1, dtype=T.int32)",
    "linspace(0, 1, -1)", "linspace(0, 1, 3, dtype=T.bool)",
    "logspace(0, 3.5, 4, dtype=T.int64)", "logspace(0, 3, 4, base=2.5, dtype=T.int64)",
    "logspace(0, float('nan'), 4, dtype=T.int16)", "logspace(0, 1, -1)",
    "scalar_tensor(300, dtype=T.int8)", "scalar_tensor(2.7, dtype=T.int8)",
    "scalar_tensor(-1, dtype=T.uint8)",
]


@pytest.mark.parametrize("expr", RANGE_CASES)
def test_range_factories_values_and_errors(expr):
    def run(lib):
        try:
            t = eval("T." + expr, {"T": lib})
            return str(t.dtype).replace("torch.", ""), t.tolist()
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            return type(e).__name__, str(e)

    assert run(ng) == run(torch)
