"""The process group and its collectives, on MPI through mpi4py.

`mpiexec -n N` starts N processes and tells each its rank (0..N-1); MPI connects them. The default
process group here is a private copy of MPI's COMM_WORLD (so a user's own mpi4py messages never
mix with ours), and every collective is one MPI call on the tensor's NumPy array, through
mpi4py's uppercase buffer methods (`Iallreduce`, `Ibcast`, ...): the bytes go straight from the
array, never through pickle. Only a non-contiguous tensor is copied (to a contiguous buffer and
back), since MPI needs one block of memory. The calls are the non-blocking ones, waited for by
`wait` below, so that Ctrl-C reaches a rank that waits for the others.

MPI matches collectives by the order they are called in, so every rank must call the same
collectives in the same order, on tensors of the same shape and dtype. The public collectives
check shape and dtype first (one tiny extra all-reduce) and raise a clear error naming each rank's
tensor when they differ, where MPI itself would fail with a truncation error or a wrong result.
"""

import enum
import importlib.util
import os
import sys
import time
import zlib

import numpy as np

from ..dtypes import dtype_name
from ..ops.inplace import _check_overlap
from ..tensor import Tensor

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")
_NO_MPI = ('numpy2gpt.distributed needs mpi4py and an MPI library: pip install "numpy2gpt[mpi]" '
           "(brings MPICH and mpiexec), or pip install mpi4py against your system's MPI")

_yield_core = getattr(os, "sched_yield", lambda: None)  # (not on every platform)
_comm = None  # the default process group: a duplicate of MPI.COMM_WORLD, or None
_previous_excepthook = None


class ReduceOp(enum.Enum):
    """How `all_reduce` / `reduce` combine the ranks' tensors (elementwise)."""

    SUM = "SUM"
    AVG = "AVG"  # the sum divided by the world size (floating-point tensors)
    PRODUCT = "PRODUCT"
    MIN = "MIN"
    MAX = "MAX"
    BAND = "BAND"  # bitwise and / or / xor (integer and bool tensors)
    BOR = "BOR"
    BXOR = "BXOR"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


def _mpi():
    """mpi4py's MPI module (importing it starts MPI in this process)."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(_NO_MPI) from None
    return MPI


def is_available():
    """Whether numpy2gpt.distributed can run: mpi4py (and so an MPI) is installed."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available  # the only backend is MPI


def is_initialized():
    """Whether `init_process_group` has been called (and not undone by destroy_process_group)."""
    return _comm is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the default process group: every process started by `mpiexec -n N` calls this.

    The only backend is "mpi" (also the default): mpiexec tells each process its rank and the
    world size, so `init_method`, `store` and `timeout` are not needed (and are ignored);
    `world_size` and `rank`, if given, must agree with mpiexec's. Run without mpiexec, the
    process is a world of one. Once initialized, an uncaught exception on any rank aborts the
    whole job (MPI_Abort), so the other ranks never wait forever in a collective for a dead one.
    (`sys.exit` on one rank alone is not an exception: MPI then waits for the others at exit,
    which may wait for it. Let every rank exit, or raise, or call MPI.COMM_WORLD.Abort(code).)
    """
    global _comm, _previous_excepthook
    if _comm is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"backend {backend!r} is not supported by numpy2gpt.distributed: the "
                         "supported backend is 'mpi' (start the script with mpiexec -n N)")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, world.Get_size()),
                                ("rank", rank, world.Get_rank())):
        if given is not None and given != -1 and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but mpiexec gave this process "
                             f"{name}={actual}; the 'mpi' backend takes both from mpiexec (leave "
                             f"{name} out)")
    _comm = world.Dup()
    if world.Get_size() > 1:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def _abort_on_uncaught_exception(exc_type, exc, tb):
    """Print the traceback, then end every rank of the job (a hang is the alternative)."""
    (_previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    abort_job(1)


ABORT_GRACE = 1.0  # seconds for a rank's last output to reach mpiexec before an abort


def abort_job(code):
    """End every process of the MPI job with exit status `code` (mpiexec returns it).

    mpiexec passes each rank's output on through a process of its own, and an abort kills them
    all at once: without a moment's wait, the error line a rank has just printed is often lost
    (4 runs in 10 of a 2-rank job on a busy 2-core machine)."""
    sys.stderr.flush()
    time.sleep(ABORT_GRACE)
    _mpi().COMM_WORLD.Abort(code)


def destroy_process_group(group=None):
    """Leave the default process group (MPI itself stays up until the process exits)."""
    global _comm, _previous_excepthook
    comm = _default_comm(group)
    _comm = None
    if _previous_excepthook is not None:
        sys.excepthook, _previous_excepthook = _previous_excepthook, None
    comm.Free()


def _default_comm(group=None):
    """The default group's communicator, or the error PyTorch gives before init_process_group."""
    if group is not None:
        raise ValueError("numpy2gpt.distributed has only the default process group: pass "
                         f"group=None (got {group!r})")
    if _comm is None:
        raise ValueError(_NOT_INITIALIZED)
    return _comm


def get_rank(group=None):
    """This process's rank, 0..world_size-1."""
    return _default_comm(group).Get_rank()


def get_world_size(group=None):
    """The number of processes in the group."""
    return _default_comm(group).Get_size()


def get_backend(group=None):
    _default_comm(group)
    return "mpi"


class Work:
    """The handle an `async_op=True` collective returns: `wait()` blocks until it is done.

    Only all_reduce runs in the background; the other collectives are finished when they return
    a Work. A non-blocking MPI operation only progresses inside MPI calls, so `is_completed()`
    (which calls MPI_Test) also moves it along. `wait`'s timeout is not supported (ignored).
    """

    def __init__(self, request=None, finish=None):
        self._request = request
        self._finish = finish

    def _done(self):
        self._request = None
        if self._finish is not None:
            self._finish()
            self._finish = None

    def wait(self, timeout=None):
        if self._request is not None:
            wait(self._request)
            self._done()
        return True

    def is_completed(self):
        if self._request is not None and self._request.Test():
            self._done()
        return self._request is None

    def is_success(self):
        return self.is_completed()


# ----- helpers ---------------------------------------------------------------------------------
def wait(request):
    """Wait for a non-blocking MPI operation to finish.

    Every collective here is started non-blocking and waited for in this Python loop, never with
    a blocking MPI call: Ctrl-C under mpiexec interrupts every rank, and a rank blocked inside MPI
    for a peer that has stopped would never see its KeyboardInterrupt (the job would hang). MPI
    polls the same way inside its own blocking calls; between polls the core is offered to any
    other process that wants it (a rank still computing, when there are more ranks than cores).
    """
    while not request.Test():
        _yield_core()


def _check_tensor(tensor, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type Tensor "
                        f"but got {type(tensor)} instead.")


def _check_rank(what, root, comm):
    size = comm.Get_size()
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or not 0 <= root < size:
        raise RuntimeError(f"{what}: invalid root rank: {root!r} (the ranks are 0..{size - 1})")


def _differences(comm, description):
    """None if `description` (e.g. "float32 [4, 3]") is the same on every rank, else the list of
    every rank's description.

    One all-reduce of two integers (the max of a checksum and of its negative) tells every rank
    whether all agree; only then are the descriptions gathered, to name each rank's in an error.
    """
    if comm.Get_size() == 1:
        return None
    MPI = _mpi()
    code = zlib.crc32(description.encode())
    both = np.array([code, -code], dtype=np.int64)
    wait(comm.Iallreduce(MPI.IN_PLACE, both, op=MPI.MAX))
    return None if both[0] == -both[1] else comm.allgather(description)  # max != min: differ


def _same_on_all_ranks(comm, what, array):
    """Raise (on every rank) if the ranks' arrays differ in shape or dtype."""
    seen = _differences(comm, _describe(array))
    if seen is not None:
        ranks = ", ".join(f"rank {r}: {d}" for r, d in enumerate(seen))
        raise RuntimeError(f"{what}: the tensors differ across ranks ({ranks}); every rank must "
                           "pass a tensor of the same shape and dtype")


def _describe(array):
    return f"{dtype_name(array.dtype)} {list(array.shape)}"


def _contiguous(tensor):
    """(buffer MPI can use, function that stores the buffer back into the tensor)."""
    a = tensor._data
    if a.flags.c_contiguous and a.flags.writeable:
        return a, lambda: None
    if not a.flags.writeable:
        raise RuntimeError(f"the tensor ({_describe(a)}) is read-only; pass a tensor that owns "
                           "its memory, e.g. t.clone()")
    _check_overlap(a)  # an expanded tensor: several elements share one memory location
    buffer = np.ascontiguousarray(a)

    def store():
        a[...] = buffer
    return buffer, store


def _edited(tensor):
    tensor._version += 1  # the tensor changed in place: autograd must know


def _mpi_op(op, array):
    """MPI's op for `op` on `array`'s dtype (checking the dtype suits it)."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be a numpy2gpt.distributed.ReduceOp (e.g. ReduceOp.SUM), got "
                        f"{op!r}")
    kind = array.dtype.kind
    if op is ReduceOp.AVG and kind != "f":
        raise TypeError(f"ReduceOp.AVG needs a floating-point tensor, got {dtype_name(array.dtype)}"
                        "; use ReduceOp.SUM and divide")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise TypeError(f"ReduceOp.{op.name} needs an integer or bool tensor, got "
                        f"{dtype_name(array.dtype)}")
    MPI = _mpi()
    if kind == "b":  # MPI's arithmetic ops refuse bools: a sum of bools is their "or", ...
        return {ReduceOp.SUM: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND,
                ReduceOp.MAX: MPI.LOR, ReduceOp.BAND: MPI.LAND, ReduceOp.BOR: MPI.LOR,
                ReduceOp.BXOR: MPI.LXOR}[op]
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def _completed(async_op):
    return Work() if async_op else None


# ----- the collectives ---------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` over all ranks with `op`, in place: every rank gets the result.

    With `async_op=True` the reduction runs in the background (MPI_Iallreduce) and a `Work` is
    returned; the tensor holds the result after `work.wait()`.
    """
    _check_tensor(tensor)
    comm = _default_comm(group)
    mpi_op = _mpi_op(op, tensor._data)
    _same_on_all_ranks(comm, "all_reduce", tensor._data)
    buffer, store = _contiguous(tensor)
    size = comm.Get_size()

    def finish():
        if op is ReduceOp.AVG:
            np.divide(buffer, size, out=buffer)
        store()
        _edited(tensor)

    work = Work(comm.Iallreduce(_mpi().IN_PLACE, buffer, op=mpi_op), finish)
    if async_op:
        return work
    work.wait()
    return None


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` over all ranks with `op` into rank `dst`'s tensor (the others' tensors
    are left as they were)."""
    _check_tensor(tensor)
    comm = _default_comm(group)
    _check_rank("reduce", dst, comm)
    mpi_op = _mpi_op(op, tensor._data)
    _same_on_all_ranks(comm, "reduce", tensor._data)
    buffer, store = _contiguous(tensor)
    MPI = _mpi()
    if comm.Get_rank() == dst:
        wait(comm.Ireduce(MPI.IN_PLACE, buffer, op=mpi_op, root=dst))
        if op is ReduceOp.AVG:
            np.divide(buffer, comm.Get_size(), out=buffer)
        store()
        _edited(tensor)
    else:
        wait(comm.Ireduce(buffer, None, op=mpi_op, root=dst))
    return _completed(async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank `src`'s tensor into every other rank's `tensor` (in place)."""
    _check_tensor(tensor)
    comm = _default_comm(group)
    _check_rank("broadcast", src, comm)
    _same_on_all_ranks(comm, "broadcast", tensor._data)
    broadcast_unchecked(comm, tensor, src)
    return _completed(async_op)


def broadcast_unchecked(comm, tensor, src):
    """broadcast without the checks (for callers that know every rank's tensor matches)."""
    buffer, store = _contiguous(tensor)
    wait(comm.Ibcast(buffer, root=src))
    if comm.Get_rank() != src:
        store()
        _edited(tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank.

    `tensor_list` holds world_size tensors of `tensor`'s shape and dtype. MPI gathers into one
    contiguous block, which is then copied into the list's tensors.
    """
    _check_tensor(tensor)
    comm = _default_comm(group)
    size = comm.Get_size()
    if not isinstance(tensor_list, list | tuple) or len(tensor_list) != size:
        got = len(tensor_list) if isinstance(tensor_list, list | tuple) else type(tensor_list)
        raise RuntimeError(f"all_gather: tensor_list must be a list of world_size={size} tensors "
                           f"(got {got})")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, f"tensor_list[{i}]")
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise RuntimeError(f"all_gather: tensor_list[{i}] is {_describe(t._data)} but tensor "
                               f"is {_describe(tensor._data)}; they must match")
    _same_on_all_ranks(comm, "all_gather", tensor._data)
    gathered = np.empty((size,) + tensor._data.shape, dtype=tensor.dtype)
    wait(comm.Iallgather(np.ascontiguousarray(tensor._data), gathered))
    for t, part in zip(tensor_list, gathered):
        t._data[...] = part
        _edited(t)
    return _completed(async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached its barrier."""
    wait(_default_comm(group).Ibarrier())
    return _completed(async_op)
