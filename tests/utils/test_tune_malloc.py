"""tune_malloc: applied on glibc, and harmless to call twice."""

import sys

import numpy as np
import pytest

from numpy2gpt.utils import tune_malloc


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_malloc_applies_and_memory_still_works():
    assert tune_malloc() is True
    assert tune_malloc() is True
    a = np.ones((1024, 1024), np.float32)  # 4 MiB: now served from the heap
    del a
    b = np.zeros((2048, 2048), np.float32)
    assert float(b.sum()) == 0.0
