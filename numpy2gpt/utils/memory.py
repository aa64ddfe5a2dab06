"""Allocator tuning: keep freed NumPy buffers in the heap instead of returning them to the OS.

A training step allocates and frees the same large activation buffers every iteration. glibc
serves blocks above its mmap threshold (128 KiB at first) with fresh `mmap` pages, and every page
of a fresh mapping costs a page fault (and the kernel zeroing it) when first written - a large
share of the step. Serving every block from the heap and never trimming it lets glibc reuse the
freed memory instead. Measured here (2 BLAS threads): the baby config's step went from 43 ms to
31 ms with higher thresholds alone; the shakespeare config (activations of 100 MB, above the
largest mmap threshold glibc accepts, 32 MiB) went from 6.4 s to 4.4 s once mmap was switched
off too, with about the same peak RSS (4.56 -> 4.66 GB): the process keeps its peak heap for
reuse.

This changes a process-wide allocator setting, so the library never does it on import; the
trainer calls `tune_malloc()` when its loop starts and `release_malloc()` when it ends (so a
Python session that trains gets the memory back); `benchmarks.train_step --loop trainer` calls
`tune_malloc()` too, its default plain loop (a user's own) does not.
"""

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
TUNED = ((M_MMAP_THRESHOLD, 32 << 20),  # glibc's largest; matters if mmap is used after all
         (M_MMAP_MAX, 0),  # no mmap-served blocks
         (M_TRIM_THRESHOLD, -1))  # never give the heap's free top back to the OS
# After training: mmap again for blocks above 32 MiB, and trim when 256 MiB lie free at the heap's
# top. (glibc's own defaults adapt the thresholds to the program, but any mallopt call switches
# that off for good; its fixed 128 KiB would make every mid-sized array a fresh mapping.)
RELEASED = ((M_MMAP_THRESHOLD, 32 << 20), (M_MMAP_MAX, 65536), (M_TRIM_THRESHOLD, 256 << 20))


@functools.cache
def _glibc():
    """The C library if it is glibc (it has mallopt and malloc_trim), else None. Cached:
    find_library runs external tools."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - AttributeError where they are missing
    except (OSError, AttributeError):  # not glibc (macOS, musl...): nothing to tune
        return None
    return libc


def _set(libc, settings):
    """Apply every setting (none skipped if one fails); True if all took."""
    return all([libc.mallopt(param, value) == 1 for param, value in settings])


def tune_malloc():
    """Serve all blocks from glibc's heap (no mmap) and never trim it, so freed buffers are
    reused by the next step (no-op where glibc is absent). True if applied.

    Blocks too large for a thread's own heap (64 MiB) still get mmap, as glibc falls back to it."""
    libc = _glibc()
    return libc is not None and _set(libc, TUNED)


def release_malloc():
    """After `tune_malloc`: let glibc mmap the largest blocks and trim its heap again (RELEASED),
    and hand the heap's free memory back to the OS now (malloc_trim). True if applied."""
    libc = _glibc()
    if libc is None:
        return False
    ok = _set(libc, RELEASED)
    libc.malloc_trim(0)
    return ok
