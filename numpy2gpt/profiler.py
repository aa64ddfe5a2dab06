"""numpy2gpt.profiler: where the time of a training step goes, op by op (like torch.profiler).

    with numpy2gpt.profiler.profile() as prof:
        train_step()
    print(prof.table(sort_by="total", row_limit=20))

One row per autograd Function class (Linear, LayerNorm, ...) with its number of calls and its time
in forward and in backward *separately*, and the share of the profiled wall time it took. Blocks
of code that are not autograd ops (the optimizer step, gradient clipping, data loading) get a row
of their own when wrapped in `record_function(name)`, like in PyTorch:

    with numpy2gpt.profiler.record_function("optimizer.step"):
        optimizer.step()

How it works. While a profile runs, `Function.__call__` and the backward engine hand every op to
it (`time_forward`, `time_backward`), which times it with `time.perf_counter`. When no profile
runs, the only cost is one `_profiler is not None` test per op, per backward pass and per
backward node (measured: below the run-to-run noise, under 1% of even a tiny op's 4 us).

What the times mean:
  * Times are *self* times: a block nested in another (an op inside a record_function block) is
    counted in its own row and subtracted from the enclosing one, so the rows never count the same
    time twice. `inclusive_time` keeps the enclosing total (it differs for ranges and the engine).
  * A Function's backward built from numpy2gpt ops (the differentiable kind) runs ops of its own;
    they are counted in that backward, not as separate forward rows. Likewise the ops the engine
    runs between nodes (summing the gradients of a tensor used twice) count in the row
    "autograd engine", a backward row with the engine's own work (one call per backward pass).
  * The time not in any row is Python between ops: module calls, building tensors. The table's
    footer says how much.
  * Each thread keeps its own table (merged when read), so ops run on several threads at once can
    be profiled; their times then add up to as much as (threads x 100)% of the wall time.
"""

import contextlib
import enum
import threading
import time
from dataclasses import dataclass

from .autograd import engine as _engine
from .autograd import function as _function

__all__ = ["profile", "record_function", "ProfilerActivity", "OpStats", "KeyAverages"]

_perf_counter = time.perf_counter
_FORWARD, _BACKWARD = 0, 3  # offsets into a row's accumulator (calls, self time, inclusive time)
ENGINE = "autograd engine"  # the row of the backward engine's own work


class ProfilerActivity(enum.Enum):
    """What to profile; numpy2gpt only runs on the CPU (accepted for PyTorch compatibility)."""

    CPU = "cpu"


# ----- the rows ------------------------------------------------------------------------------
@dataclass
class OpStats:
    """One row of the table: an autograd op (kind "op"), a record_function block ("range") or
    the backward engine's own work ("engine", backward only).

    Times are in seconds. A range has no backward: its calls and time are in the forward fields.
    """

    name: str
    kind: str
    forward_calls: int = 0
    forward_time: float = 0.0  # self time (see the module docstring)
    backward_calls: int = 0
    backward_time: float = 0.0
    inclusive_time: float = 0.0  # forward + backward including nested blocks
    share: float = 0.0  # (forward_time + backward_time) / profiled wall time

    @property
    def calls(self):
        return self.forward_calls + self.backward_calls

    @property
    def total_time(self):
        """Self time, forward and backward together."""
        return self.forward_time + self.backward_time

    @property
    def forward_mean(self):
        return self.forward_time / self.forward_calls if self.forward_calls else 0.0

    @property
    def backward_mean(self):
        return self.backward_time / self.backward_calls if self.backward_calls else 0.0


# sort_by keys: ours, and the torch.profiler names that mean the same thing
_SORT_KEYS = {
    "total": lambda r: r.total_time,
    "forward": lambda r: r.forward_time,
    "backward": lambda r: r.backward_time,
    "inclusive": lambda r: r.inclusive_time,
    "calls": lambda r: r.calls,
    "self_cpu_time_total": lambda r: r.total_time,
    "cpu_time_total": lambda r: r.inclusive_time,
    "count": lambda r: r.calls,
}


class KeyAverages(list):
    """The rows (OpStats), largest total time first; `.table()` formats them."""

    def __init__(self, rows, wall_time, threads):
        super().__init__(rows)
        self.wall_time = wall_time  # seconds the profile ran
        self.threads = threads  # how many threads recorded something

    def table(self, sort_by="total", row_limit=100):
        """A text table like torch.profiler's `key_averages().table()`.

        sort_by: "total" (self time, forward + backward), "forward", "backward", "inclusive",
        "calls" or "name" (or torch's "self_cpu_time_total", "cpu_time_total", "count").
        row_limit: how many rows to show (None or a negative number: all).
        """
        if sort_by == "name":
            rows = sorted(self, key=lambda r: r.name)
        elif sort_by in _SORT_KEYS:
            rows = sorted(self, key=_SORT_KEYS[sort_by], reverse=True)
        else:
            raise ValueError(f"table: unknown sort_by {sort_by!r}; use one of "
                             f"{', '.join(['name', *_SORT_KEYS])}")
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        return _format_table(rows, self)


def _format_time(seconds):
    """Like torch.profiler: microseconds below 1 ms, then milliseconds, then seconds."""
    us = seconds * 1e6
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_table(rows, all_rows):
    headers = ["Name", "Fwd calls", "Fwd total", "Fwd mean", "Bwd calls", "Bwd total",
               "Bwd mean", "Total", "% of wall"]
    lines = []
    for r in rows:
        fwd = [str(r.forward_calls), _format_time(r.forward_time), _format_time(r.forward_mean)]
        bwd = [str(r.backward_calls), _format_time(r.backward_time), _format_time(r.backward_mean)]
        if r.kind == "range":  # a record_function block has no backward
            bwd = ["-"] * 3
        elif r.kind == "engine":  # the engine runs only in backward
            fwd = ["-"] * 3
        lines.append([r.name, *fwd, *bwd, _format_time(r.total_time), f"{100 * r.share:.2f}%"])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    name_w = widths[0]

    def fmt(cells):
        return "  ".join([cells[0].ljust(name_w)] + [c.rjust(w) for c, w in
                                                     zip(cells[1:], widths[1:])])

    rule = "-" * len(fmt(headers))
    out = [rule, fmt(headers), rule, *map(fmt, lines), rule]
    wall = all_rows.wall_time
    in_rows = sum(r.total_time for r in all_rows)
    share = f"{100 * in_rows / wall if wall else 0:.1f}%"
    out.append(f"Profiled wall time: {_format_time(wall)}; in the rows: {_format_time(in_rows)} "
               f"({share}).")
    if all_rows.threads > 1:
        out.append(f"{all_rows.threads} threads recorded: the rows add up their times, so they "
                   f"can reach {all_rows.threads * 100}% of the wall time.")
    else:
        out.append("The rest of the wall time is Python between ops (module calls, tensors).")
    return "\n".join(out)


# ----- recording -----------------------------------------------------------------------------
class _ThreadRecord:
    """One thread's tables: `stats[(kind, name)]` = [fwd calls, fwd self, fwd inclusive,
    bwd calls, bwd self, bwd inclusive]; `stack` holds, for each open block, the time spent so far
    in blocks nested in it; `in_backward` counts open backward passes."""

    __slots__ = ("stats", "stack", "in_backward")

    def __init__(self):
        self.stats, self.stack, self.in_backward = {}, [], 0


class profile:
    """Record the time of every autograd op (and record_function block) while it runs.

    Use as a context manager (`with profile() as prof:`) or with `start()` / `stop()`. Only one
    profile runs at a time. Read the results with `key_averages()` or `table()` after it stops.
    """

    def __init__(self, activities=None):
        if activities is not None and set(activities) - {ProfilerActivity.CPU}:
            raise ValueError("numpy2gpt.profiler only profiles the CPU (ProfilerActivity.CPU)")
        self._lock = threading.Lock()  # guards the list of per-thread records
        self._local = threading.local()
        self._records = []
        self._start = self._stop = None

    # ----- start / stop ---------------------------------------------------------------------------
    def start(self):
        if _function._profiler is not None:
            raise RuntimeError("a numpy2gpt profiler is already running; stop it first (profiles "
                               "do not nest)")
        self._start, self._stop = _perf_counter(), None
        _function._profiler = _engine._profiler = self
        return self

    def stop(self):
        if _function._profiler is self:
            _function._profiler = _engine._profiler = None
            self._stop = _perf_counter()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ----- the hooks (called by Function.__call__, the engine and record_function) ---------------
    def _record(self):
        """This thread's record (created on its first event)."""
        try:
            return self._local.record
        except AttributeError:
            record = self._local.record = _ThreadRecord()
            with self._lock:
                self._records.append(record)
            return record

    def time_forward(self, fn, inputs):
        """Run `fn`'s forward (Function._apply) and add its time to fn's row."""
        record = self._record()
        if record.in_backward:  # an op inside a backward: part of that backward's time
            return fn._apply(inputs)
        return self._time(record, ("op", type(fn).__name__), _FORWARD, fn._apply, inputs)

    def time_backward(self, fn, call_backward, grads, create_graph):
        """Run the engine's `call_backward(fn, grads, create_graph)`; add its time to fn's row."""
        return self._time(self._record(), ("op", type(fn).__name__), _BACKWARD, call_backward,
                          fn, grads, create_graph)

    def time_engine(self, run_backward, *args):
        """Time a whole backward pass: its self time (the "autograd engine" row) is the engine's
        own work - ordering nodes, summing gradients, storing .grad - without the nodes' backwards.
        Ops run meanwhile (gradient sums, a differentiable backward's ops) count as backward."""
        record = self._record()
        record.in_backward += 1
        try:
            return self._time(record, ("engine", ENGINE), _BACKWARD, run_backward, *args)
        finally:
            record.in_backward -= 1

    def _time(self, record, key, slot, run, *args):
        stack = record.stack
        stack.append(0.0)  # time of the blocks that will nest in this one
        start = _perf_counter()
        try:
            return run(*args)
        finally:
            self._close(record, key, slot, start)

    def _close(self, record, key, slot, start):
        elapsed = _perf_counter() - start
        nested = record.stack.pop()
        if record.stack:
            record.stack[-1] += elapsed  # the enclosing block subtracts it from its self time
        acc = record.stats.get(key)
        if acc is None:
            acc = record.stats[key] = [0, 0.0, 0.0, 0, 0.0, 0.0]
        acc[slot] += 1
        acc[slot + 1] += elapsed - nested
        acc[slot + 2] += elapsed

    # ----- results --------------------------------------------------------------------------------
    @property
    def wall_time(self):
        """Seconds from start to stop (to now while running)."""
        if self._start is None:
            return 0.0
        return (self._stop if self._stop is not None else _perf_counter()) - self._start

    def key_averages(self):
        """The rows (OpStats), summed over threads, largest total time first."""
        with self._lock:
            records = list(self._records)
        merged = {}
        for record in records:
            for key, acc in list(record.stats.items()):
                total = merged.setdefault(key, [0, 0.0, 0.0, 0, 0.0, 0.0])
                for i, v in enumerate(acc):
                    total[i] += v
        wall = self.wall_time
        rows = []
        for (kind, name), a in merged.items():
            row = OpStats(name, kind, forward_calls=a[0], forward_time=a[1], backward_calls=a[3],
                          backward_time=a[4], inclusive_time=a[2] + a[5])
            row.share = row.total_time / wall if wall > 0 else 0.0
            rows.append(row)
        rows.sort(key=lambda r: r.total_time, reverse=True)
        return KeyAverages(rows, wall, threads=sum(1 for r in records if r.stats))

    def table(self, sort_by="total", row_limit=100):
        """`key_averages().table(...)`: the rows as text (see KeyAverages.table)."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)


class record_function(contextlib.ContextDecorator):
    """Time a block of code as a row of its own (`with record_function("optimizer.step"):`).

    Also a decorator. Costs one check when no profile is running.
    """

    def __init__(self, name):
        self.name = str(name)
        self._profiler = None

    def _recreate_cm(self):  # as a decorator: a fresh instance per call (thread-safe, reentrant)
        return record_function(self.name)

    def __enter__(self):
        prof = self._profiler = _function._profiler
        if prof is not None:
            self._record = prof._record()
            self._record.stack.append(0.0)
            self._start = _perf_counter()
        return self

    def __exit__(self, *exc):
        prof = self._profiler
        if prof is not None:
            prof._close(self._record, ("range", self.name), _FORWARD, self._start)
            self._profiler = None
        return False
