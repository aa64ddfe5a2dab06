"""The kernel switch: environment variable, set_backend, the context manager, bad values."""

import os
import subprocess
import sys

import pytest

import numpy2gpt.kernels as K


def test_the_default_is_fast_and_the_switch_is_scoped():
    assert K.get_backend() == "fast"
    with K.backend("reference"):
        assert K.get_backend() == "reference"
    assert K.get_backend() == "fast"
    K.set_backend("reference")
    try:
        assert K.get_backend() == "reference"
    finally:
        K.set_backend("fast")


def test_switch_calls_the_selected_implementation():
    kernel = K.switch(lambda x: ("reference", x), lambda x: ("fast", x))
    assert kernel(1) == ("fast", 1)
    with K.backend("reference"):
        assert kernel(2) == ("reference", 2)
    assert kernel.reference(3) == ("reference", 3) and kernel.fast(3) == ("fast", 3)


def test_a_bad_name_is_a_one_line_error_listing_the_choices():
    with pytest.raises(ValueError, match="^the kernel backend must be one of reference, fast, "
                                         "got 'slow'$"):
        K.set_backend("slow")
    assert K.get_backend() == "fast"


def python_with_kernels(value, code):
    """stdout of `code` run in a fresh Python with NUMPY2GPT_KERNELS=value."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "NUMPY2GPT_KERNELS": value}, check=True).stdout


def test_a_bad_environment_value_fails_at_the_first_kernel_call_not_at_import():
    code = ("import numpy2gpt, numpy2gpt.kernels as K\n"
            "k = K.switch(lambda: 0, lambda: 0)\n"
            "try:\n    k()\nexcept ValueError as e:\n    print(e)\n")
    out = python_with_kernels("gpu", code)
    assert out == "NUMPY2GPT_KERNELS must be one of reference, fast, got 'gpu'\n"


def test_the_environment_selects_the_reference_kernels():
    code = "import numpy2gpt.kernels as K; print(K.get_backend())"
    out = python_with_kernels("reference", code)
    assert out == "reference\n"
