"""DistributedDataParallel: one model trained by N processes, each on 1/N of the batch.

Why averaging gradients is enough. A step needs the gradient of the batch's mean loss,
    g = 1/|B| * sum over i in B of grad l_i.
Split the batch into N equal shards B_0..B_{N-1}, one per rank (|B_r| = |B|/N). Rank r computes
its shard's mean gradient g_r = 1/|B_r| * sum over i in B_r of grad l_i = N/|B| * (that sum), so
    1/N * sum over r of g_r = 1/|B| * sum over all i of grad l_i = g:
the mean over ranks of the shards' mean gradients IS the full batch's gradient. So after backward
every rank replaces its `.grad` by the mean of all ranks' `.grad`s (one all-reduce), and every
rank takes the same optimizer step the one-process run would take on the whole batch. Started
from the same weights (rank 0's, broadcast when DDP is built), the ranks' models then stay
identical without ever sending weights again: only gradients travel.

What that costs. MPI's all-reduce of B bytes over N ranks with the ring algorithm is a
reduce-scatter then an all-gather, each N-1 steps of B/N bytes, so each rank sends (and
receives) 2 (N-1)/N x B bytes: nearly 2 B whatever N is. (MPI picks its algorithm, e.g. shared
memory within one machine, but this is the right model of the cost.)

Buckets. All-reducing each parameter's gradient alone would pay MPI's per-call latency hundreds of
times, so gradients are copied into a few flat buffers ("buckets") of about `bucket_cap_mb` (the
first one 1 MB, to start early) and each bucket is all-reduced in one call. Parameters go into
buckets in reverse order of `module.parameters()`: the order in which backward produces them.

Overlap. A post-accumulate-grad hook on each parameter tells DDP when backward has finished its
gradient. With `overlap=True`, a bucket whose gradients are all in starts a non-blocking
all-reduce (MPI_Iallreduce) at once, while backward goes on computing earlier layers; the last
gradient waits for them all. Whether this pays depends on the MPI making progress in the
background (many progress only inside MPI calls; the hooks poke it) and on spare cores, so it is
off by default: then every bucket's all-reduce starts once the last gradient is in. Either way the
buckets start in the same order on every rank, since MPI matches collectives by their order.
"""

import weakref
from contextlib import contextmanager

import numpy as np

from ...autograd import is_grad_enabled
from ...distributed import collectives
from ...tensor import Tensor
from ..modules import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # like PyTorch: a small first bucket starts sending early


class _Bucket:
    """Parameters whose gradients are all-reduced together, through one flat buffer."""

    def __init__(self, indices, params):
        self.indices = indices
        self.params = [params[i] for i in indices]
        bounds = np.cumsum([0] + [p.numel() for p in self.params])
        self.buffer = np.empty(int(bounds[-1]), dtype=self.params[0].dtype)
        # One view of the buffer per parameter, shaped like it.
        self.views = [self.buffer[lo:hi].reshape(p.shape)
                      for p, lo, hi in zip(self.params, bounds[:-1], bounds[1:])]
        self.missing = len(indices)  # gradients not yet produced in this backward
        self.request = None  # the running MPI_Iallreduce, if any


def _assign_buckets(params, cap_bytes):
    """Group parameter indices into buckets: reverse order, one dtype per bucket, each closed
    once it reaches its size (the first at 1 MB or less, the others at `cap_bytes`)."""
    buckets, open_buckets = [], {}  # dtype -> [indices, bytes]
    for i in reversed(range(len(params))):
        p = params[i]
        current = open_buckets.setdefault(p.dtype, [[], 0])
        current[0].append(i)
        current[1] += p._data.nbytes
        if current[1] >= (min(_FIRST_BUCKET_BYTES, cap_bytes) if not buckets else cap_bytes):
            buckets.append(current[0])
            del open_buckets[p.dtype]
    buckets.extend(indices for indices, _ in open_buckets.values())
    return buckets


def _remove_hooks(handles):
    for handle in handles:
        handle.remove()


def _tensors_in(obj):
    """The tensors in a forward's output (a tensor, or lists/tuples/dicts of them)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, list | tuple):
        for x in obj:
            yield from _tensors_in(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _tensors_in(x)


def _reached_leaves(outputs):
    """ids of the leaf tensors the autograd graph behind `outputs` leads to."""
    reached, seen, stack = set(), set(), []
    for t in _tensors_in(outputs):
        if t.grad_fn is None:
            reached.add(id(t))
        elif t.grad_fn not in seen:
            seen.add(t.grad_fn)
            stack.append(t.grad_fn)
    while stack:
        fn = stack.pop()
        for x, (f, _) in zip(fn.inputs, fn.edges):
            if f is None:
                reached.add(id(x))
            elif f not in seen:
                seen.add(f)
                stack.append(f)
    return reached


class DistributedDataParallel(Module):
    """Wrap `module` so that, after `loss.backward()`, every rank's gradients are the mean over
    all ranks (see the module docstring). Build it after `init_process_group()`, on every rank.

    - At construction rank 0's parameters and buffers are copied to every rank (`init_sync`).
    - `ddp(x)` runs `module(x)` (first re-broadcasting rank 0's buffers if `broadcast_buffers`).
    - `no_sync()`: backward passes whose forward ran inside it only accumulate `.grad` locally
      (gradient accumulation); the next synchronized backward averages the accumulated sums.
    - `find_unused_parameters=True`: parameters the forward did not use count as ready with a
      zero gradient; one used on no rank keeps its `.grad` unchanged. Without it, such a
      parameter makes the next forward raise (as in PyTorch), since its gradient never arrived.
    - `gradient_as_bucket_view=True`: after the all-reduce each `.grad` is a view of its bucket
      (one copy of every gradient less per step; the next synchronized backward overwrites it).
    - `overlap` (numpy2gpt's, off by default): start each bucket's all-reduce during backward.
    - `.module` is the wrapped model; `state_dict()` has the module's own keys (no "module."
      prefix), so a checkpoint loads into the plain model as well as into a DDP.
    Only CPU and the default process group exist here: `device_ids`, `output_device` must be None.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, *, overlap=False):
        super().__init__()
        comm = collectives._default_comm(process_group)
        if device_ids is not None or output_device is not None:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only "
                             "work with GPU modules; numpy2gpt runs on the CPU: leave them None "
                             f"(got device_ids={device_ids!r}, output_device={output_device!r})")
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a numpy2gpt.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.overlap = overlap
        self.require_backward_grad_sync = True
        self.dim = dim
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        object.__setattr__(self, "_comm", comm)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self._param_names = [n for n, _ in named]
        params = [p for _, p in named]
        object.__setattr__(self, "_params", params)
        self._check_same_model_on_all_ranks()
        if init_sync:
            for t in self._module_tensors():
                collectives.broadcast_unchecked(comm, t, 0)
        cap = 25 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap > 0:
            raise ValueError(f"bucket_cap_mb must be a positive number of megabytes, got "
                             f"{bucket_cap_mb!r}")
        self._index = {id(p): i for i, p in enumerate(params)}
        buckets = [_Bucket(ix, params) for ix in _assign_buckets(params, cap * 1024 * 1024)]
        object.__setattr__(self, "_buckets", buckets)
        self._bucket_of = {i: b for b in buckets for i in b.indices}
        ready = weakref.WeakMethod(self._grad_ready)  # (a dropped DDP must not stay alive)

        def hook(param):
            method = ready()
            if method is not None:
                method(param)

        handles = [p.register_post_accumulate_grad_hook(hook) for p in params]
        weakref.finalize(self, _remove_hooks, handles)  # rewrapping the module leaves no trace
        self._reset()

    def _module_tensors(self):
        """Every parameter (frozen ones too) and buffer: what rank 0 sends the others."""
        return list(self.module.parameters()) + list(self.module.buffers())

    def _check_same_model_on_all_ranks(self):
        """PyTorch's check: every rank must wrap the same parameters (count, shapes, dtypes)."""
        shapes = [collectives._describe(p._data) for p in self._params]
        seen = collectives._differences(self._comm, f"{len(shapes)} params: " + "; ".join(shapes))
        if seen is None:
            everything = "; ".join(collectives._describe(t._data) for t in self._module_tensors())
            if collectives._differences(self._comm, everything) is not None:
                raise RuntimeError("DDP expects same model across all ranks, but the frozen "
                                   "parameters or the buffers differ across ranks in number, "
                                   "shape or dtype")
            return
        me = self._comm.Get_rank()
        counts = [int(s.split(" ", 1)[0]) for s in seen]
        for r, n in enumerate(counts):
            if n != counts[me]:
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {me} has "
                                   f"{counts[me]} params, while rank {r} has inconsistent {n} "
                                   "params.")
        for r, s in enumerate(seen):
            if s != seen[me]:
                mine, theirs = (x.split(": ", 1)[1].split("; ") for x in (seen[me], s))
                i = next(k for k, (a, b) in enumerate(zip(mine, theirs)) if a != b)
                raise RuntimeError(f"DDP expects same model across all ranks, but rank {r}'s "
                                   f"parameter {i} ({self._param_names[i]}) is {theirs[i]} where "
                                   f"rank {me}'s is {mine[i]}.")

    # ----- forward ------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._started:
            missing = [n for n, ready in zip(self._param_names, self._ready) if not ready]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new "
                "one. This error indicates that your module has parameters that were not used in "
                f"producing loss (on rank {self._comm.Get_rank()}: {', '.join(missing)}). You can "
                "enable unused parameter detection by passing the keyword argument "
                "`find_unused_parameters=True` to `DistributedDataParallel`, and by making sure "
                "all `forward` function outputs participate in calculating loss.")
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync and self.broadcast_buffers:
            for b in self.module.buffers():
                collectives.broadcast_unchecked(self._comm, b, 0)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled():  # (a forward under no_grad leaves a pending backward's plan alone)
            self._expect_hooks = sync
        if self.find_unused_parameters and is_grad_enabled():
            reached = _reached_leaves(out)
            if sync:
                self._unused = [i for i, p in enumerate(self._params) if id(p) not in reached]
            else:  # gradients accumulated under no_sync count as used, as in PyTorch
                self._used_without_sync |= reached
        return out

    @contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside only accumulate gradients on this rank."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ----- the reducer: hooks -> buckets -> all-reduce ------------------------------------------
    def _reset(self):
        """Forget the last backward: no parameter ready, no bucket sent."""
        self._ready = [False] * len(self._params)
        self._n_ready = 0
        self._next_bucket = 0
        self._started = False
        self._expect_hooks = False
        self._unused = []  # (find_unused_parameters) parameters the last forward did not use
        self._used_without_sync = set()  # ids of those used by forwards inside no_sync
        for b in self._buckets:
            b.missing = len(b.indices)
            b.request = None

    def _grad_ready(self, param):
        """Post-accumulate-grad hook: backward has produced `param`'s gradient."""
        if not self._expect_hooks:  # a backward not started by our forward, or inside no_sync
            return
        if not self._started:
            self._started = True
            for i in self._unused:  # find_unused_parameters: they get no hook, count them now
                self._mark_ready(i)
        self._mark_ready(self._index[id(param)])

    def _mark_ready(self, i):
        if self._ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter {self._param_names[i]} "
                "got its gradient twice in one iteration: e.g. two forwards share one backward, "
                "or backward ran twice through a retained graph; use no_sync() for all but the "
                "last")
        self._ready[i] = True
        self._n_ready += 1
        bucket = self._bucket_of[i]
        bucket.missing -= 1
        if self.overlap:
            if bucket.missing == 0:
                self._start_ready_buckets()
            else:  # let MPI move the running all-reduces along
                collectives._mpi().Request.Testall(
                    [b.request for b in self._buckets if b.request is not None])
        if self._n_ready == len(self._params):
            self._finish()

    def _start_ready_buckets(self):
        """All-reduce complete buckets, strictly in bucket order (the same on every rank)."""
        MPI = collectives._mpi()
        size = self._comm.Get_size()
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if bucket.missing:
                return
            for p, view in zip(bucket.params, bucket.views):  # gradient / N into the buffer
                if p.grad is None:
                    view[...] = 0
                    continue
                if p.grad._data is view:  # gradient_as_bucket_view: last step's .grad, kept
                    p.grad = Tensor._make(view.copy())  # apart before the buffer is reused
                np.divide(p.grad._data, size, out=view)
            bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
            self._next_bucket += 1

    def _finish(self):
        """The last gradient is in: reduce what is left, wait, and store the means in `.grad`."""
        MPI = collectives._mpi()
        self._start_ready_buckets()
        for bucket in self._buckets:
            collectives.wait(bucket.request)
        used_somewhere = None
        if self.find_unused_parameters:  # which parameters some rank used
            used_somewhere = np.ones(len(self._params), dtype=np.int32)
            used_somewhere[[i for i in self._unused
                            if id(self._params[i]) not in self._used_without_sync]] = 0
            collectives.wait(self._comm.Iallreduce(MPI.IN_PLACE, used_somewhere, op=MPI.MAX))
        for bucket in self._buckets:
            for i, p, view in zip(bucket.indices, bucket.params, bucket.views):
                if used_somewhere is not None and not used_somewhere[i]:
                    continue  # no rank used it: its .grad stays as it was, as in PyTorch
                if self.gradient_as_bucket_view:  # .grad becomes the buffer's slice: no copy
                    p.grad = Tensor._make(view)
                elif p.grad is None:
                    p.grad = Tensor._make(view.copy())
                else:
                    p.grad._data[...] = view
        self._reset()

    # ----- checkpoints: the module's own keys ---------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """The wrapped module's state dict (its keys, without a "module." prefix)."""
        return self.module.state_dict(destination=destination, prefix=prefix,
                                      keep_vars=keep_vars)

    def load_state_dict(self, state_dict, strict=True):
        """Load into the wrapped module; keys may carry PyTorch DDP's "module." prefix or not."""
        if state_dict and all(k.startswith("module.") for k in state_dict):
            state_dict = {k[len("module."):]: v for k, v in state_dict.items()}
        return self.module.load_state_dict(state_dict, strict=strict)
