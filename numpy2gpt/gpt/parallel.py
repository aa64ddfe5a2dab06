"""Data-parallel training on threads: each thread runs forward + backward on its share of the batch.

    step = DataParallelStep(model, threads=2)
    loss = step.forward_backward(x, y)   # like: _, loss = model(x, y); loss.backward()
    optimizer.step()

Why threads pay in NumPy: every array operation releases the GIL, and most of a training step is
array operations, so two threads each running half the batch keep both cores busy. BLAS is set to
one thread meanwhile: each thread's matrix multiplies then run on its own core, instead of both
threads fighting over OpenBLAS's pool (whose worker also spins on the other core after each GEMM).
Only the Python between the ops is serialised by the GIL.

Why the result equals the single-thread run's (up to float rounding):
  * The model's loss is the mean over all (non-ignored) target tokens. Shard i holds n_i of the N
    tokens, so  loss = sum_i (n_i / N) * loss_i : each shard's backward is seeded with n_i / N
    instead of 1, and the shard gradients simply add up.
  * Each thread builds its own graph and differentiates it with `autograd.grad`, which returns the
    gradients instead of writing `.grad`; only the calling thread adds them into `.grad`
    afterwards, so no two threads ever update the same array.
  * Everything global that forward/backward touches is thread-safe: grad mode and the module name
    stack are thread-local, Function's sequence counter is an atomic itertools.count, the engine
    keeps its state in local variables, and random numbers (dropout) come from a generator per
    shard, seeded from the global generator before the threads start - so the masks do not depend
    on which thread runs first.
"""

import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from .. import autograd
from ..autograd.grad_mode import enable_grad
from ..kernels.threads import run_inline
from ..nn.modules.activation import Dropout
from ..random import Generator, get_rng, use_rng
from ..tensor import Tensor

try:  # a dependency; should an install lack it, we rely on the environment variables
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    ThreadpoolController = None

_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class DataParallelStep:
    """Forward + backward of `model(x, y) -> (logits, loss)` on `threads` shards of the batch.

    The worker threads are started once and reused (the calling thread runs the first shard
    itself, so `threads=2` starts one worker). `ignore_index` must be the one the model's loss
    ignores (nanoGPT's: -1), so that shards are weighted by the tokens that really count.
    Call `close()` (or use `with`) to stop the workers.
    """

    def __init__(self, model, threads=2, ignore_index=-1):
        if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
            raise ValueError(f"DataParallelStep: threads must be a positive int, got {threads!r}")
        self.model = model
        self.threads = int(threads)
        self.ignore_index = ignore_index
        self._pool = None
        self._rngs = [Generator().manual_seed(k) for k in range(self.threads)]
        self._dropouts = (None, [])  # (model, its Dropout modules)
        if self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="numpy2gpt-dp")
        self._blas = _blas_controller() if self.threads > 1 else None

    # ----- the step ------------------------------------------------------------------------------
    def forward_backward(self, x, y, scale=1.0):
        """Run forward and backward on (x, y) (int arrays or tensors of shape (B, T)).

        The gradient of `scale * loss` is added to each parameter's `.grad` (set if it is None),
        like `(scale * loss).backward()`; with gradient accumulation pass scale=1/steps.
        Returns the loss of the whole batch (a float, not scaled).
        """
        x, y = _tokens(x, "x"), _tokens(y, "y")
        if x.shape != y.shape:
            raise ValueError(f"forward_backward: x and y must have the same shape, got "
                             f"{list(x.shape)} and {list(y.shape)}")
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("forward_backward: the model has no parameter that requires grad")

        # Shards by rows (sizes differ by at most one), weighted by their share of the tokens.
        shards = [s for s in zip(np.array_split(x, self.threads), np.array_split(y, self.threads))
                  if len(s[0])]
        counts = [int(np.count_nonzero(sy != self.ignore_index)) for _, sy in shards]
        total = sum(counts)
        if total == 0:
            raise ValueError(f"forward_backward: every target is ignore_index "
                             f"({self.ignore_index}); the mean loss is undefined")
        jobs = [(sx, sy, scale * n / total, n / total) for (sx, sy), n in zip(shards, counts)
                if n > 0]

        results = self._run(jobs, params)
        self._accumulate(params, [grads for _, grads in results])
        return float(sum(loss for loss, _ in results))

    def _run(self, jobs, params):
        """Run the jobs: the first in this thread, the others on the workers; wait for all."""
        if len(jobs) == 1:  # nothing to share: exactly a plain step (global generator too)
            return [self._shard(params, *jobs[0], rng=None)]
        rngs = self._shard_generators(len(jobs))
        blas = contextlib.nullcontext() if self._blas is None else self._blas.limit(
            limits=1, user_api="blas")
        errors = np.geterr()  # the caller's np.errstate, which threads do not inherit
        with blas:
            futures = [self._pool.submit(self._shard, params, *job, rng=rng, errors=errors)
                       for job, rng in zip(jobs[1:], rngs[1:])]
            try:
                first = self._shard(params, *jobs[0], rng=rngs[0])
            finally:  # never return (nor lift the BLAS limit) while a worker still runs
                wait(futures)
        return [first, *[f.result() for f in futures]]

    def _shard_generators(self, n):
        """The shards' own generators (for dropout: threads must not share one).

        With dropout on they are re-seeded from the global generator at every call (in this
        thread, in order), so a checkpoint's generator state covers them. Without, the global
        stream is left alone - the batches then match a single-thread run's - and they keep
        their streams.
        """
        if self._dropouts[0] is not self.model:  # found once per model (walking it costs)
            self._dropouts = (self.model,
                              [m for m in self.model.modules() if isinstance(m, Dropout)])
        if any(m.p > 0 and m.training for m in self._dropouts[1]):
            for g, seed in zip(self._rngs, get_rng().randint(0, 2**63, (n,)).tolist()):
                g.manual_seed(seed)
        return self._rngs[:n]

    def _shard(self, params, x, y, grad_weight, loss_weight, rng, errors=None):
        """One shard's forward and backward (in whichever thread runs it)."""
        # one of several shards (rng given): their threads fill the cores, so the kernels run
        # on this thread alone, as BLAS runs on one thread
        inline = run_inline() if rng is not None else contextlib.nullcontext()
        with use_rng(rng) if rng is not None else contextlib.nullcontext(), enable_grad(), \
                np.errstate(**(errors or {})), inline:
            out = self.model(Tensor._make(x), Tensor._make(y))
            loss = out[1] if isinstance(out, tuple) else out
            del out  # free the logits early
            weight = Tensor._make(np.asarray(grad_weight, dtype=loss.dtype))
            grads = autograd.grad(loss, params, grad_outputs=weight, allow_unused=True)
        return loss_weight * float(loss.item()), grads

    @staticmethod
    def _accumulate(params, shard_grads):
        """Add the shards' gradients into `.grad`, in the calling thread only."""
        for i, p in enumerate(params):
            parts = [grads[i].data for grads in shard_grads if grads[i] is not None]
            if not parts:
                continue  # unused parameter: .grad unchanged, like backward
            g = parts[0].copy() if len(parts) == 1 else np.add(parts[0], parts[1])
            for part in parts[2:]:
                g += part
            p.grad = Tensor._make(g) if p.grad is None else Tensor._make(p.grad.data + g)

    # ----- the worker threads --------------------------------------------------------------------
    def close(self):
        """Stop the worker threads (the object cannot run steps afterwards)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"DataParallelStep(threads={self.threads})"


def _tokens(a, name):
    """A (B, T) integer array from a tensor or array-like, or a clear error."""
    a = a.data if isinstance(a, Tensor) else np.asarray(a)
    if a.dtype.kind not in "iu":
        raise TypeError(f"forward_backward: {name} must hold integer token ids, got dtype "
                        f"{a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"forward_backward: {name} must have shape (B, T), got {list(a.shape)}")
    return a


def _blas_controller():
    """A threadpoolctl controller to make BLAS single-threaded during the parallel phase, or
    None (with a warning if the environment does not already ask for one thread)."""
    if ThreadpoolController is not None:
        return ThreadpoolController()
    if not any(os.environ.get(var) == "1" for var in _BLAS_ENV):
        warnings.warn("DataParallelStep: threadpoolctl is not installed, so BLAS cannot be made "
                      "single-threaded at run time; each worker's BLAS may start threads of its "
                      "own and slow both down. Set OPENBLAS_NUM_THREADS=1 (or OMP_NUM_THREADS=1) "
                      "before starting Python, or install threadpoolctl.", RuntimeWarning,
                      stacklevel=3)
    return None

