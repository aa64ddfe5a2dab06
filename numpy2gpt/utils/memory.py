"""Allocator tuning: keep freed NumPy buffers in the heap instead of returning them to the OS.

A training step allocates and frees the same large activation buffers every iteration. glibc
serves blocks above its mmap threshold (128 KiB at first, 32 MiB at most) with fresh `mmap`
pages, and every page of a fresh mapping costs a page fault (and the kernel zeroing it) when
first written - a large share of the step. Serving every block from the heap lets glibc reuse
the freed memory instead. Measured here (2 BLAS threads): the baby config's step went from 43 ms
to 31 ms with higher thresholds alone; the shakespeare config (activations of 100 MB, above the
largest mmap threshold glibc accepts) went from 6.4 s to 4.4 s once mmap was switched off too,
with about the same peak RSS (4.56 -> 4.66 GB): the process keeps its peak heap for reuse.

Two levels. At import, numpy2gpt has glibc serve every block from its heap and trim the heap's
free top once 256 MiB lie there (`reuse_freed_buffers`, RELEASED), so a user's own training loop
reuses its activations without page faults, as the trainer does. On an AVX2 EPYC, the baby
config's plain loop took 100-127 ms a step with glibc's defaults and 72-87 ms with blocks up to
32 MiB from the heap; the shakespeare config's took 15.3-16.9 s with blocks above 32 MiB still
mapped afresh, 13.2-14.6 s with RELEASED and 13.1-13.9 s with TUNED (3 runs each, peak RSS
4.48 GB in all three). What such a program frees stays in the heap for reuse, up to the most it
ever held at once; `release_malloc()` hands it back to the OS, and a program that wants glibc's
own behaviour sets NUMPY2GPT_MALLOC=system before importing numpy2gpt. The trainer goes further:
`tune_malloc()` when its loop starts (never trim) and `release_malloc()` when it ends (back to
RELEASED, with the free heap handed back to the OS, so a Python session that trained gets the
memory back).
"""

import ctypes
import functools
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
TUNED = ((M_MMAP_THRESHOLD, 32 << 20),  # glibc's largest; matters if mmap is used after all
         (M_MMAP_MAX, 0),  # no mmap-served blocks
         (M_TRIM_THRESHOLD, -1))  # never give the heap's free top back to the OS
# At import and after training: every block from the heap too, but its free top is trimmed once
# 256 MiB lie there. (glibc adapts its thresholds to the program by itself, but any mallopt call
# switches that off for good; the fixed 32 MiB threshold kept in both settings is what decides if
# a block is mmap-served should M_MMAP_MAX be raised again.)
RELEASED = ((M_MMAP_THRESHOLD, 32 << 20), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 256 << 20))


@functools.cache
def _glibc():
    """The process's C library if it is glibc (it has mallopt and malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded: the C library the process uses
        libc.mallopt, libc.malloc_trim  # noqa: B018 - AttributeError where they are missing
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows...): nothing to tune
        return None
    return libc


def _set(libc, settings):
    """Apply every setting (none skipped if one fails); True if all took."""
    return all([libc.mallopt(param, value) == 1 for param, value in settings])


def reuse_freed_buffers():
    """numpy2gpt's import-time default: glibc serves every block from its heap and trims it only
    above 256 MiB free at its top (RELEASED), unless NUMPY2GPT_MALLOC=system. True if applied.

    (With glibc's own defaults, blocks above 32 MiB are always fresh mappings, and smaller ones
    go back to the OS once twice the largest freed block lies free at the heap's top: a training
    step's buffers went back every step and came back as page faults.)"""
    libc = _glibc()
    if libc is None or os.environ.get("NUMPY2GPT_MALLOC", "") == "system":
        return False
    return _set(libc, RELEASED)


def tune_malloc():
    """Serve all blocks from glibc's heap (no mmap) and never trim it, so freed buffers are
    reused by the next step, however large (no-op where glibc is absent). True if applied.

    Blocks too large for a thread's own heap (64 MiB) still get mmap, as glibc falls back to it."""
    libc = _glibc()
    return libc is not None and _set(libc, TUNED)


def release_malloc():
    """After `tune_malloc`: let glibc trim its heap's top again (RELEASED), and hand all the
    heap's free memory back to the OS now (malloc_trim). True if applied."""
    libc = _glibc()
    if libc is None:
        return False
    ok = _set(libc, RELEASED)
    libc.malloc_trim(0)
    return ok
