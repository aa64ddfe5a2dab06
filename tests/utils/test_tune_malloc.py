"""tune_malloc: applied on glibc, harmless to call twice, and freed large buffers are then reused
without page faults; release_malloc hands the free heap back; from import on, every block comes
from the heap (NUMPY2GPT_MALLOC=system keeps glibc's defaults)."""

import ctypes
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from numpy2gpt.utils import tune_malloc

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


# Run in a fresh interpreter: in the test process, blocks that earlier tests freed while malloc
# was tuned may still lie in the heap and serve a 100 MiB request without any new mapping.
# Whether a block is mmap-served is read from glibc's own count (mallinfo2's hblkhd, the bytes in
# mmap-served blocks), not from page faults, which transparent huge pages make vary.
MALLINFO = textwrap.dedent("""
    import ctypes
    import numpy as np

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost").split()]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2

    def mmapped_bytes_of_new_array(nbytes):
        before = libc.mallinfo2().hblkhd
        a = np.ones(nbytes // 4, np.float32)
        return libc.mallinfo2().hblkhd - before
""")
RELEASE_SCRIPT = MALLINFO + textwrap.dedent("""
    from numpy2gpt.utils import release_malloc, tune_malloc

    assert tune_malloc() is True
    tuned = mmapped_bytes_of_new_array(300 << 20)  # served from the heap, then freed into it
    kept = libc.mallinfo2().arena  # never trimmed while tuned: the heap still holds it
    assert release_malloc() is True
    print(tuned, kept >> 20, libc.mallinfo2().arena >> 20, mmapped_bytes_of_new_array(100 << 20))
""")


def _has_mallinfo2():
    try:
        return hasattr(ctypes.CDLL(None), "mallinfo2")
    except OSError:
        return False


def _fresh_python(script, **env):
    """stdout of `script` in a fresh interpreter (env: variables to add), as ints."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return [int(word) for word in proc.stdout.split()]


needs_mallinfo2 = pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2)")


@linux_only
@needs_mallinfo2
def test_release_malloc_hands_the_free_heap_back():
    """Tuned, a freed 300 MiB array stays in the heap; release_malloc hands it back to the OS,
    and a 100 MiB array still comes from the heap afterwards (no mapping)."""
    tuned, kept_mib, released_mib, released_100 = _fresh_python(RELEASE_SCRIPT)
    assert tuned == 0
    assert kept_mib >= 300
    assert released_mib < 64
    assert released_100 == 0


# The first large arrays of the process: glibc's own threshold rises to the largest block it
# has freed, so a measurement made before the import would change what the next one sees.
IMPORT_SCRIPT = MALLINFO + textwrap.dedent("""
    import numpy2gpt
    first = mmapped_bytes_of_new_array(24 << 20), mmapped_bytes_of_new_array(100 << 20)
    heap = libc.mallinfo2().arena
    again = mmapped_bytes_of_new_array(100 << 20)  # the freed 100 MiB block, reused
    print(*first, again, (libc.mallinfo2().arena - heap) >> 20)
""")


@linux_only
@needs_mallinfo2
@pytest.mark.parametrize("setting", ["", "system"])
def test_importing_numpy2gpt_keeps_freed_buffers_for_reuse(setting):
    """A user's own loop reuses its activations: after `import numpy2gpt` arrays of 24 and
    100 MiB come from the heap, and a freed 100 MiB block serves the next one without the heap
    growing (glibc's defaults map both afresh, and unmap them when freed);
    NUMPY2GPT_MALLOC=system keeps glibc's defaults."""
    mapped_24, mapped_100, mapped_again, grown_mib = _fresh_python(IMPORT_SCRIPT,
                                                                   NUMPY2GPT_MALLOC=setting)
    if setting == "system":
        assert mapped_24 >= 24 << 20 and mapped_100 >= 100 << 20 and mapped_again >= 100 << 20
    else:
        assert mapped_24 == mapped_100 == mapped_again == 0
        assert grown_mib < 1
