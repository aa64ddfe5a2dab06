"""torch.testing against PyTorch's: assert_close and assert_allclose pass where PyTorch's pass and
raise the same exception with the same message where they raise; make_tensor gives PyTorch's
tensor for a seed, and its errors and warnings.

Messages are compared after renaming torch's dtypes, Size and tensor classes to numpy2gpt's.
"""

import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numpy2gpt as ng

_CLASSES = {"<class 'torch.Tensor'>": "<class 'numpy2gpt.tensor.Tensor'>",
            "<class 'torch.nn.parameter.Parameter'>": "<class 'numpy2gpt.nn.parameter.Parameter'>"}


def _normalized(msg):
    for theirs, ours in _CLASSES.items():
        msg = msg.replace(theirs, ours)
    msg = msg.replace(" To request support, file an issue at: "
                      "https://github.com/pytorch/pytorch/issues", "")
    return re.sub(r"\btorch\.(?=float|int|uint|bool|Size)", "numpy2gpt.", msg)


def outcome(lib, fn):
    """('pass', None, warnings) or (exception type name, its normalized message, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(lib)
            result = ("pass", None)
        except Exception as error:
            result = (type(error).__name__, _normalized(str(error)))
    return (*result, [(w.category, str(w.message)) for w in caught])


def check_same(fn, expected_kind):
    """fn(lib) behaves the same on both libraries; `expected_kind` ('pass' or an exception type
    name) is what PyTorch does, so that a case cannot silently stop testing what it names."""
    theirs = outcome(torch, fn)
    assert theirs[0] == expected_kind, theirs
    assert outcome(ng, fn) == theirs


def T(lib, data, **kwargs):
    return lib.tensor(data, **kwargs)


def ac(*args, **kwargs):
    return lambda lib: lib.testing.assert_close(*args_for(lib, args), **kwargs)


def args_for(lib, args):
    """Arguments built per library: a callable argument is called with the library."""
    return [a(lib) if callable(a) else a for a in args]


NAN, INF = float("nan"), float("inf")

# (id, the call on a library, what PyTorch does)
ASSERT_CLOSE_CASES = [
    ("float32 one mismatch", ac(lambda L: T(L, [1., 2., 3.]), lambda L: T(L, [1., 2.5, 3.])),
     "AssertionError"),
    ("float32 close", ac(lambda L: T(L, [1., 2., 3.]), lambda L: T(L, [1., 2.000001, 3.])),
     "pass"),
    ("float32 tie: first index", ac(lambda L: T(L, [5., 5.]), lambda L: T(L, [1., 1.])),
     "AssertionError"),
    ("float32 2-d", ac(lambda L: T(L, [[1., 2.], [3., 4.]]),
                       lambda L: T(L, [[1., 2.1], [3.3, 4.]])), "AssertionError"),
    ("3-d index", ac(lambda L: L.zeros(2, 3, 4), lambda L: L.zeros(2, 3, 4).index_put_(
        (L.tensor(1), L.tensor(2), L.tensor(3)), L.tensor(1.))), "AssertionError"),
    ("abs and rel at different places", ac(lambda L: L.arange(10.), lambda L: L.arange(10.) * 1.5),
     "AssertionError"),
    ("small difference digits", ac(lambda L: T(L, [1.0, 0.1]), lambda L: T(L, [1.0, 0.1 + 1e-4])),
     "AssertionError"),
    ("close elements left out of the greatest differences", ac(
        lambda L: T(L, [1e6 + 1, 1e-6, 1.]), lambda L: T(L, [1e6, 0., 1.1])), "AssertionError"),
    ("float32 within atol", ac(lambda L: T(L, [0.0]), lambda L: T(L, [9e-6])), "pass"),
    ("float32 beyond atol", ac(lambda L: T(L, [0.0]), lambda L: T(L, [2e-5])), "AssertionError"),
    ("float64 close", ac(lambda L: T(L, [1., 2.], dtype=L.float64),
                         lambda L: T(L, [1., 2.0000001], dtype=L.float64)), "pass"),
    ("float64 not close", ac(lambda L: T(L, [1., 2.], dtype=L.float64),
                             lambda L: T(L, [1., 2.000001], dtype=L.float64)), "AssertionError"),
    ("float16", ac(lambda L: T(L, [1., 2.], dtype=L.float16),
                   lambda L: T(L, [1., 2.1], dtype=L.float16)), "AssertionError"),
    ("float16 close", ac(lambda L: T(L, [1000.], dtype=L.float16),
                         lambda L: T(L, [1000.5], dtype=L.float16)), "pass"),
    ("int64 exact", ac(lambda L: T(L, [1, 2, 3]), lambda L: T(L, [1, 5, 3])), "AssertionError"),
    ("int8", ac(lambda L: T(L, [1, 2, 3], dtype=L.int8), lambda L: T(L, [1, -5, 3], dtype=L.int8)),
     "AssertionError"),
    ("uint8 with tolerance", ac(lambda L: T(L, [1, 2, 3], dtype=L.uint8),
                                lambda L: T(L, [1, 5, 3], dtype=L.uint8), rtol=0, atol=1),
     "AssertionError"),
    ("int with tolerance", ac(lambda L: T(L, [1, 2, 3]), lambda L: T(L, [1, 5, 3]), rtol=0.1,
                              atol=1), "AssertionError"),
    ("int within tolerance", ac(lambda L: T(L, [1, 2, 3]), lambda L: T(L, [1, 5, 3]), rtol=0.0,
                                atol=3), "pass"),
    ("int64 overflowing difference", ac(lambda L: T(L, [2 ** 62]), lambda L: T(L, [-2 ** 62])),
     "AssertionError"),
    ("bool", ac(lambda L: T(L, [True, False]), lambda L: T(L, [True, True])), "AssertionError"),
    ("bool 0-d", ac(lambda L: T(L, True), lambda L: T(L, False)), "AssertionError"),
    ("bool with tolerance", ac(lambda L: T(L, [True]), lambda L: T(L, [False]), rtol=0.,
                               atol=1.), "pass"),
    ("shape", ac(lambda L: T(L, [1., 2.]), lambda L: T(L, [1., 2., 3.])), "AssertionError"),
    ("dtype", ac(lambda L: T(L, [1., 2.]), lambda L: T(L, [1., 2.], dtype=L.float64)),
     "AssertionError"),
    ("dtype unchecked: float64 compare", ac(lambda L: T(L, [1., 2.]),
                                            lambda L: T(L, [1., 2.5], dtype=L.float64),
                                            check_dtype=False), "AssertionError"),
    ("dtype unchecked: int and float", ac(lambda L: T(L, [1, 2]), lambda L: T(L, [1., 2.5]),
                                          check_dtype=False), "AssertionError"),
    ("dtype unchecked: int and bool", ac(lambda L: T(L, [1, 0]), lambda L: T(L, [True, True]),
                                         check_dtype=False), "AssertionError"),
    ("dtype unchecked: float32 and float16 pass", ac(
        lambda L: T(L, [1.0]), lambda L: T(L, [1.001], dtype=L.float16), check_dtype=False),
     "pass"),
    ("stride checked", ac(lambda L: T(L, [[1., 2.], [3., 4.]]).t(),
                          lambda L: T(L, [[1., 3.], [2., 4.]]), check_stride=True),
     "AssertionError"),
    ("stride unchecked", ac(lambda L: T(L, [[1., 2.], [3., 4.]]).t(),
                            lambda L: T(L, [[1., 3.], [2., 4.]])), "pass"),
    ("device and layout flags", ac(lambda L: T(L, [1.]), lambda L: T(L, [1.]),
                                   check_device=False, check_layout=False), "pass"),
    ("0-d float32", ac(lambda L: T(L, 1.1), lambda L: T(L, 1.2)), "AssertionError"),
    ("0-d int", ac(lambda L: T(L, 1), lambda L: T(L, 2)), "AssertionError"),
    ("0-d nan", ac(lambda L: T(L, NAN), lambda L: T(L, NAN)), "AssertionError"),
    ("nan equal_nan", ac(lambda L: T(L, [NAN]), lambda L: T(L, [NAN]), equal_nan=True), "pass"),
    ("nan in a vector", ac(lambda L: T(L, [1., NAN]), lambda L: T(L, [1., NAN])),
     "AssertionError"),
    ("equal infinities", ac(lambda L: T(L, [1., INF]), lambda L: T(L, [1., INF])), "pass"),
    ("inf and -inf", ac(lambda L: T(L, [1., INF]), lambda L: T(L, [1., -INF])), "AssertionError"),
    ("inf and a number", ac(lambda L: T(L, [1., INF]), lambda L: T(L, [1., 1.])),
     "AssertionError"),
    ("expected zero", ac(lambda L: T(L, [1., 1.]), lambda L: T(L, [0., 1.])), "AssertionError"),
    ("empty", ac(lambda L: T(L, []), lambda L: T(L, [])), "pass"),
    ("requires_grad", ac(lambda L: T(L, [1.], requires_grad=True), lambda L: T(L, [2.])),
     "AssertionError"),
    ("requires_grad close", ac(lambda L: T(L, [1.], requires_grad=True) * 2, lambda L: T(L, [2.])),
     "pass"),
    ("rtol without atol", ac(lambda L: T(L, [1.]), lambda L: T(L, [1.]), rtol=1e-3), "ValueError"),
    ("atol without rtol", ac(lambda L: T(L, [1.]), lambda L: T(L, [1.]), atol=1e-3), "ValueError"),
    ("lone atol for None", ac(None, None, atol=1e-3), "pass"),
    ("lone atol for bools", ac(True, True, atol=1e-3), "pass"),
    ("zero tolerances: equal", ac(lambda L: T(L, [1., 2.]), lambda L: T(L, [1., 3.]), rtol=0,
                                  atol=0), "AssertionError"),
    ("one zero tolerance", ac(lambda L: T(L, [1., 2.]), lambda L: T(L, [1., 3.]), rtol=0,
                              atol=0.5), "AssertionError"),
    ("user tolerance printed as given", ac(lambda L: T(L, [1, 2]), lambda L: T(L, [1, 3]),
                                           rtol=0.0, atol=0.5), "AssertionError"),
    ("msg string", ac(lambda L: T(L, [1.]), lambda L: T(L, [2.]), msg="custom"), "AssertionError"),
    ("msg callable with item", ac(lambda L: [T(L, [1.])], lambda L: [T(L, [2.])],
                                  msg=lambda m: "X" + m + "Y"), "AssertionError"),
    ("msg does not replace a structural error", ac([1], [1, 2], msg="custom"), "AssertionError"),
    ("tensor and float", ac(lambda L: T(L, 1.), 1.), "TypeError"),
    ("ndarray and tensor", ac(np.array([1.]), lambda L: T(L, [1.])), "TypeError"),
    ("list and tensor", ac([1., 2.], lambda L: T(L, [1., 2.])), "TypeError"),
    ("ndarrays", ac(np.array([1., 2.]), np.array([1., 3.])), "AssertionError"),
    ("ndarrays float32 close", ac(np.array([1., 2.], dtype=np.float32),
                                  np.array([1., 2.00001], dtype=np.float32)), "pass"),
    ("ndarrays dtype", ac(np.array([1., 2.], dtype=np.float32), np.array([1., 2.])),
     "AssertionError"),
    ("ndarrays 0-d", ac(np.array(1.), np.array(2.)), "AssertionError"),
    ("ndarrays of strings", ac(np.array(["a"]), np.array(["a"])), "TypeError"),
    ("floats", ac(1.0, 1.1), "AssertionError"),
    ("floats close", ac(1.0, 1.00000001), "pass"),
    ("float and int", ac(1.0, 1), "AssertionError"),
    ("float and int unchecked", ac(1.0, 1, check_dtype=False), "pass"),
    ("ints", ac(1, 2), "AssertionError"),
    ("expected 0.0", ac(1.0, 0.0), "AssertionError"),
    ("complex numbers", ac(1j, 2j), "AssertionError"),
    ("zero tolerance numbers", ac(1e-9, 1e-10, rtol=0, atol=0), "AssertionError"),
    ("NumPy float32 scalars", ac(np.float32(1.0), np.float32(1.1)), "AssertionError"),
    ("NumPy float16 scalars", ac(np.float16(1.0), np.float16(1.001)), "AssertionError"),
    ("NumPy float32 and float", ac(np.float32(1.0), 1.0), "pass"),
    ("NumPy int and int", ac(np.int64(1), 2), "AssertionError"),
    ("bools", ac(True, False), "AssertionError"),
    ("NumPy bool and bool", ac(np.bool_(True), False), "AssertionError"),
    ("None and number", ac(None, 1), "AssertionError"),
    ("number and None", ac(1, None), "AssertionError"),
    ("None and None", ac(None, None), "pass"),
    ("sequence lengths", ac([1, 2], (1, 2, 3)), "AssertionError"),
    ("nested sequences", ac(lambda L: [T(L, [1.]), [T(L, [1.]), T(L, [2.])]],
                            lambda L: [T(L, [1.]), [T(L, [1.]), T(L, [3.])]]), "AssertionError"),
    ("mixed sequence", ac(lambda L: [T(L, [1.]), 2.0, np.array(3.0)],
                          lambda L: (T(L, [1.]), 2.0, np.array(3.0))), "pass"),
    ("mapping keys", ac({"a": 1, "b": 2}, {"a": 1, "c": 2}), "AssertionError"),
    ("mapping values", ac(lambda L: {"a": 1, "b": T(L, [1., 2.])},
                          lambda L: {"a": 1, "b": T(L, [1., 3.])}), "AssertionError"),
    ("mappings of two types", ac(OrderedDict([("a", 1.0), ("b", 2.0)]), {"b": 2.0, "a": 1.0}),
     "pass"),
    ("mapping and list", ac({"a": 1}, [1]), "TypeError"),
    ("nested item path", ac({"a": [1, (2, 3)]}, {"a": [1, (2, 4)]}), "AssertionError"),
    ("nested item path, callable msg", ac({"a": [1, (2, 3)]}, {"a": [1, (2, 4)]},
                                          msg=lambda m: m), "AssertionError"),
    ("int key", ac({1: 1.0}, {1: 2.0}), "AssertionError"),
    ("the first failure in sorted keys", ac({8: 1.0, 1: 1.0}, {8: 2.0, 1: 3.0}),
     "AssertionError"),
    ("unsortable keys", ac({1: 1.0, "a": 2.0}, {1: 1.0, "a": 3.0}), "AssertionError"),
    ("first failure wins", ac(lambda L: [T(L, [1.]), 1], lambda L: [T(L, [2.]), 2]),
     "AssertionError"),
    ("structure before values", ac(lambda L: [T(L, [1.]), [1]], lambda L: [T(L, [2.]), [1, 2]]),
     "AssertionError"),
    ("strings", ac("a", "a"), "TypeError"),
    ("strings in lists", ac(["a"], ["a"]), "TypeError"),
    ("objects", ac(object(), object()), "TypeError"),
    ("sets", ac({1, 2}, {1, 2}), "TypeError"),
    ("Parameter and tensor", ac(lambda L: L.nn.Parameter(T(L, [1.])), lambda L: T(L, [1.])),
     "pass"),
    ("Parameter and tensor, no subclasses", ac(lambda L: L.nn.Parameter(T(L, [1.])),
                                               lambda L: T(L, [1.]), allow_subclasses=False),
     "TypeError"),
    ("Size and tuple", ac(lambda L: L.zeros(2, 3).shape, (2, 3)), "pass"),
    ("third positional argument", ac(lambda L: T(L, [1.]), lambda L: T(L, [1.]), True),
     "TypeError"),
]


@pytest.mark.parametrize("fn, expected_kind", [case[1:] for case in ASSERT_CLOSE_CASES],
                         ids=[case[0] for case in ASSERT_CLOSE_CASES])
def test_assert_close_like_pytorch(fn, expected_kind):
    check_same(fn, expected_kind)


def test_bool_among_numbers_is_a_runtime_error():
    """PyTorch's NumberPair cannot take a bool with an int; numpy2gpt's message leaves out
    PyTorch's request to file an issue."""
    fn = ac(True, 1)
    theirs, ours = outcome(torch, fn), outcome(ng, fn)
    assert theirs[0] == ours[0] == "RuntimeError"
    assert theirs[1].startswith(ours[1])
    assert ours[1].startswith("Originating a NumberPair() at item  with\n\nbool(): True\n\nand")


def test_message_in_full():
    """One message written out, so that the format does not hinge on PyTorch's alone."""
    with pytest.raises(AssertionError) as info:
        ng.testing.assert_close(ng.tensor([1., 2., 3.]), ng.tensor([1., 2.5, 3.]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)")


def test_signature_is_pytorch():
    import inspect

    for name in ("assert_close", "assert_allclose", "make_tensor"):
        theirs = inspect.signature(getattr(torch.testing, name))
        ours = inspect.signature(getattr(ng.testing, name))
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
               [(p.name, p.kind, p.default) for p in theirs.parameters.values()], name


def aac(*args, **kwargs):
    return lambda lib: lib.testing.assert_allclose(*args_for(lib, args), **kwargs)


ASSERT_ALLCLOSE_CASES = [
    ("looser float32 default", aac(lambda L: T(L, [1., 2.]), [1., 2.0001]), "pass"),
    ("beyond it", aac(lambda L: T(L, [1., 2.]), [1., 2.1]), "AssertionError"),
    ("msg", aac(lambda L: T(L, [1., 2.]), [1., 2.1], msg="boo"), "AssertionError"),
    ("nan equal by default", aac(NAN, NAN), "pass"),
    ("expected in actual's dtype", aac([1, 2], [1., 2.5]), "pass"),
    ("float64 default", aac(lambda L: T(L, [1.], dtype=L.float64), [1.0001]), "AssertionError"),
    ("dtypes not checked", aac(lambda L: T(L, [1.]), lambda L: T(L, [1.], dtype=L.float64)),
     "pass"),
    ("lone rtol", aac([1., 2.], [1., 2.5], rtol=0.5), "ValueError"),
]


@pytest.mark.parametrize("fn, expected_kind", [case[1:] for case in ASSERT_ALLCLOSE_CASES],
                         ids=[case[0] for case in ASSERT_ALLCLOSE_CASES])
def test_assert_allclose_like_pytorch(fn, expected_kind):
    """The deprecated assert_allclose: the same results and the same FutureWarning."""
    check_same(fn, expected_kind)
    assert outcome(ng, fn)[2][0][0] is FutureWarning


# ----- make_tensor ------------------------------------------------------------------------------
def mt(*shape, seed=0, **kwargs):
    """make_tensor(*shape, **kwargs) on a library after manual_seed(seed); dtype and device
    default to float32 and 'cpu' (a string dtype is the library's dtype of that name)."""
    def fn(lib):
        options = {"dtype": "float32", "device": "cpu", **kwargs}
        if isinstance(options["dtype"], str) and hasattr(lib, options["dtype"]):
            options["dtype"] = getattr(lib, options["dtype"])
        lib.manual_seed(seed)
        return lib.testing.make_tensor(*shape, **options)
    return fn


MAKE_TENSOR_CASES = [
    ("float32 sizes", mt(2, 3)),
    ("tuple shape", mt((2, 3))),
    ("list shape", mt([2, 3], seed=1)),
    ("scalar", mt()),
    ("zero elements", mt(0, 3, noncontiguous=True)),
    ("float64", mt(4, dtype="float64")),
    ("float16", mt(4, dtype="float16")),
    ("int64", mt(6, dtype="int64")),
    ("int8", mt(6, dtype="int8")),
    ("uint8 default range clamped to 0", mt(6, dtype="uint8")),
    ("int16 and int32", mt(3, 2, dtype="int32")),
    ("bool", mt(8, dtype="bool")),
    ("bool low=1", mt(4, dtype="bool", low=1)),
    ("low only", mt(3, low=8)),
    ("clamped low", mt(5, dtype="uint8", low=-5, high=3)),
    ("integers ceil their bounds", mt(5, dtype="int64", low=0.5, high=2.5)),
    ("int64 full range", mt(3, dtype="int64", low=-1e30, high=1e30)),
    ("float32 range wider than max", mt(3, low=-1e40, high=1e40)),
    ("float64 range wider than max", mt(3, dtype="float64", low=-1e300, high=1e300)),
    ("noncontiguous", mt(2, 3, noncontiguous=True)),
    ("noncontiguous one element", mt(1, noncontiguous=True)),
    ("exclude_zero integers", mt(10, dtype="int64", low=0, high=2, exclude_zero=True)),
    ("exclude_zero bool", mt(10, dtype="bool", exclude_zero=True)),
    ("exclude_zero noncontiguous", mt(2, 4, dtype="int8", low=0, high=2, exclude_zero=True,
                                      noncontiguous=True)),
    ("requires_grad", mt(2, requires_grad=True)),
]


def _describe(t):
    stride = t.stride() if t.numel() else None  # (numpy2gpt's empty tensors have 0 strides)
    return (t.detach().numpy().tolist(), str(t.dtype).split(".")[-1], tuple(t.shape), stride,
            t.is_contiguous(), t.requires_grad, t.is_leaf)


@pytest.mark.parametrize("fn", [case[1] for case in MAKE_TENSOR_CASES],
                         ids=[case[0] for case in MAKE_TENSOR_CASES])
def test_make_tensor_gives_pytorchs_tensor(fn):
    """Values, dtype, shape, strides, contiguity and requires_grad: the same as PyTorch's for the
    same seed, since numpy2gpt draws from the generator as PyTorch does."""
    assert _describe(fn(ng)) == _describe(fn(torch))


def test_make_tensor_rules():
    """The rules themselves, independent of the seed: range, exclude_zero's tiny value."""
    x = mt(1000, seed=3, low=-2, high=5)(ng)
    assert x.dtype == ng.float32 and -2 <= x.min().item() and x.max().item() < 5
    y = mt(1000, seed=3, dtype="int16", low=-3, high=3)(ng)
    assert set(y.tolist()) == {-3, -2, -1, 0, 1, 2}
    z = mt(3, dtype="float64", low=0, high=0, exclude_zero=True)
    with pytest.warns(FutureWarning, match="low==high"):
        assert z(ng).tolist() == [np.finfo(np.float64).tiny] * 3


MAKE_TENSOR_ERRORS = [
    ("no device", lambda L: L.testing.make_tensor(2, dtype=L.float32), "TypeError"),
    ("no dtype", lambda L: L.testing.make_tensor(2, device="cpu"), "TypeError"),
    ("requires_grad int", mt(2, dtype="int64", requires_grad=True), "ValueError"),
    ("requires_grad bool", mt(2, dtype="bool", requires_grad=True), "ValueError"),
    ("low >= high", mt(2, low=3, high=2), "ValueError"),
    ("low == high integers", mt(2, dtype="int64", low=3, high=3), "ValueError"),
    ("low == high floats warns", mt(2, low=3, high=3), "pass"),
    ("nan bound", mt(2, low=float("nan")), "ValueError"),
    ("high below the default low", mt(3, high=-10), "ValueError"),
    ("outside uint8", mt(2, dtype="uint8", low=-10, high=-1), "ValueError"),
    ("outside int8", mt(2, dtype="int8", low=200, high=300), "ValueError"),
    ("outside float16", mt(2, dtype="float16", low=1e6, high=1e7), "ValueError"),
    ("outside bool", mt(2, dtype="bool", low=2, high=3), "ValueError"),
    ("dtype given by name", lambda L: L.testing.make_tensor(2, dtype="float32", device="cpu"),
     "TypeError"),
    ("dtype given as float", lambda L: L.testing.make_tensor(2, dtype=float, device="cpu"),
     "TypeError"),
    ("noncontiguous and memory_format", mt(2, 2, noncontiguous=True, memory_format="any"),
     "ValueError"),
]


@pytest.mark.parametrize("fn, expected_kind", [case[1:] for case in MAKE_TENSOR_ERRORS],
                         ids=[case[0] for case in MAKE_TENSOR_ERRORS])
def test_make_tensor_errors_like_pytorch(fn, expected_kind):
    check_same(fn, expected_kind)


@pytest.mark.parametrize("fn", [mt(-1), mt(2.0), mt(2, device="cuda")],
                         ids=["negative size", "float size", "cuda"])
def test_make_tensor_errors_of_the_creation_functions(fn):
    """Errors raised by empty/randint: PyTorch's exception types, numpy2gpt's own words."""
    theirs, ours = outcome(torch, fn), outcome(ng, fn)
    assert theirs[0] != "pass" and ours[0] == theirs[0]


def test_make_tensor_bfloat16_is_a_type_error():
    """numpy2gpt cannot store bfloat16 (PyTorch makes the tensor)."""
    with pytest.raises(TypeError, match="bfloat16 is not supported for tensors"):
        mt(2, dtype="bfloat16")(ng)


def test_importable_as_torch_testing():
    from numpy2gpt.testing import assert_close, make_tensor

    assert ng.testing.assert_close is assert_close and ng.testing.make_tensor is make_tensor
