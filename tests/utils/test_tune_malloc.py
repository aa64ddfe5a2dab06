"""tune_malloc: applied on glibc, harmless to call twice, and freed large buffers are then reused
without page faults; after release_malloc only the largest blocks are mapped afresh."""

import resource
import sys

import numpy as np
import pytest

from numpy2gpt.utils import release_malloc, tune_malloc

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


@linux_only
def test_tune_malloc_applies_and_memory_still_works():
    assert tune_malloc() is True
    assert tune_malloc() is True
    a = np.ones((1024, 1024), np.float32)  # 4 MiB: now served from the heap
    del a
    b = np.zeros((2048, 2048), np.float32)
    assert float(b.sum()) == 0.0


def _faults_on_reallocating(n):
    """Page faults while writing a fresh float32 array of n elements, right after freeing one of
    the same size (0 when the freed block is reused)."""
    a = np.ones(n, np.float32)
    del a
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    b = np.ones(n, np.float32)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert float(b[-1]) == 1.0
    return faults


@linux_only
def test_a_freed_100_mib_buffer_is_reused_without_page_faults():
    """100 MiB is above the largest mmap threshold glibc accepts (32 MiB): without tune_malloc
    every such array is a fresh mapping (here about 560 page faults, with transparent huge
    pages; 25,600 with 4 KiB pages). With it, the freed heap block is written again fault-free."""
    assert tune_malloc() is True
    assert _faults_on_reallocating(25 << 20) < 50  # 100 MiB


@linux_only
def test_release_malloc_lets_the_largest_blocks_be_mapped_again():
    """After release_malloc a 100 MiB array is a fresh mapping again (page faults on writing),
    while a freed 8 MiB one is still reused from the heap."""
    assert tune_malloc() is True
    assert release_malloc() is True
    assert _faults_on_reallocating(25 << 20) >= 50  # 100 MiB
    assert _faults_on_reallocating(2 << 20) < 50  # 8 MiB
