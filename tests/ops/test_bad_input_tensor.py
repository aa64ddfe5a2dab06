"""Wrong input to Tensor's own methods and the creation functions: PyTorch's error type and
message (checked against torch), and PyTorch's strides for empty tensors."""

import pytest
import torch
from torch_compare import same_error

import numpy2gpt as ng

CASES = {
    "requires_grad_ of a str": lambda lib: lib.randn(2).requires_grad_("a"),
    "requires_grad_ of an int": lambda lib: lib.randn(2).requires_grad_(1),
    "requires_grad set to a str": lambda lib: setattr(lib.randn(2), "requires_grad", "a"),
    "size of a 0-d tensor": lambda lib: lib.tensor(1.0).size(0),
    "size(-1) of a 0-d tensor": lambda lib: lib.tensor(1.0).size(-1),
    "stride of a 0-d tensor": lambda lib: lib.tensor(1.0).stride(0),
    "bool of several values": lambda lib: bool(lib.ones(2)),
    "bool of no values": lambda lib: bool(lib.ones(0)),
    "type of an unknown name": lambda lib: lib.randn(2).type("float"),
    "cumsum with a str dtype": lambda lib: lib.randn(2).cumsum(0, dtype="a"),
    "arange of a str": lambda lib: lib.arange("a"),
    "full with a str value": lambda lib: lib.full((2,), "a"),
    "full_like with a str value": lambda lib: lib.full_like(lib.ones(2), "a"),
    "copy_ from a larger broadcast": lambda lib: lib.zeros(2).copy_(lib.zeros(2, 2)),
    "add_ of ints with a float alpha": lambda lib: lib.zeros(2, dtype=lib.int64).add_(
        lib.ones(2, dtype=lib.int64), alpha=0.5),
    "sub_ of ints with a float alpha": lambda lib: lib.zeros(2, dtype=lib.int64).sub_(
        lib.ones(2, dtype=lib.int64), alpha=0.5),
    "add_ of floats with a bool alpha": lambda lib: lib.zeros(2).add_(lib.ones(2), alpha=True),
}
for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
    CASES[f"{name} of a list"] = lambda lib, name=name: getattr(lib, name)([1.0, 2.0])
# PyTorch lists its overloads for these ("received an invalid combination of arguments"):
# numpy2gpt's one line names the argument
SAME_TYPE = {
    "arange with a str step": lambda lib: lib.arange(0, 3, "a"),
    "randint_like of a list": lambda lib: lib.randint_like([1, 2], 3),
    "sum with a str dtype": lambda lib: lib.randn(2).sum(dtype="a"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_torchs_error(case):
    same_error(CASES[case])


@pytest.mark.parametrize("case", list(SAME_TYPE))
def test_bad_input_gives_torchs_error_type(case):
    same_error(SAME_TYPE[case], same_message=False)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (2, 0, 3), (0, 0)])
def test_empty_tensors_have_torchs_strides(shape):
    for make in ("empty", "zeros", "ones"):
        assert getattr(ng, make)(*shape).stride() == getattr(torch, make)(*shape).stride()


IN_PLACE_CASTS = {  # an in-place result PyTorch will not cast back into the tensor's dtype
    "bool add_ int": lambda lib: lib.tensor([True, False]).add_(1),
    "bool mul_ long tensor": lambda lib: lib.tensor([True]).mul_(lib.tensor([2])),
    "long mul_ float": lambda lib: lib.tensor([1, 2]).mul_(1.5),
    "long div_ int": lambda lib: lib.tensor([1, 2]).div_(2),
    "bool sub_ bool": lambda lib: lib.tensor([True]).sub_(True),
}


@pytest.mark.parametrize("case", list(IN_PLACE_CASTS))
def test_in_place_results_that_do_not_fit_are_torchs_error(case):
    same_error(IN_PLACE_CASTS[case])


def test_clamp_in_place_of_an_integer_tensor_with_float_bounds_is_refused():
    for lib in (ng, torch):  # (PyTorch names the type "long int" here, "Long" elsewhere)
        with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                               "output type (Long|long int)$"):
            lib.tensor([1, 2]).clamp_(-0.5, 0.5)
        assert lib.tensor([1, 2]).clamp_(0, 1).tolist() == [1, 1]
