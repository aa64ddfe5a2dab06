"""The processes of one training run: one, or N started by `mpiexec -n N numpy2gpt train`.

Data parallel over processes, as nanoGPT's torchrun path does it: every rank holds the whole
model, takes its share of each iteration's batch, and DistributedDataParallel averages the
gradients, so every rank takes the same AdamW step and the weights stay equal. What `Ranks`
adds is the rule that keeps a run comparable with the one-process run of the same flags:

  * an iteration still processes the global batch the flags say: gradient_accumulation_steps
    micro-batches of batch_size sequences, drawn by every rank from the same seeded generator,
    exactly as one process draws them; number those sequences m * batch_size + b;
  * rank r takes the contiguous sequences [r * S, (r + 1) * S), S = batch_size * steps / N
    (`pieces`): whole micro-batches when N divides the steps, halves of each one when N = 2
    and steps = 1, and so on;
  * each piece's mean loss is weighted by its rows over S, so a rank's gradient is the mean over
    its share, and DDP's average of the N equal shares' means is the one-process gradient of
    the global batch (docs/distributed.md says why);
  * evaluation batches are split the same way (`rows`) and their losses summed over the ranks.

Only rank 0 prints, shows progress, writes metrics, plots and checkpoints (`main`).
"""

import contextlib
import os

import numpy as np

import numpy2gpt

# (rank, size) as the launchers put them in each process's environment: MPICH's Hydra (and
# Intel MPI) set PMI_*, Open MPI OMPI_COMM_WORLD_*, MVAPICH MV2_COMM_WORLD_*
_LAUNCHER_ENV = (("PMI_RANK", "PMI_SIZE"), ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                 ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"))


def launched():
    """(rank, size) of this process in the job mpiexec started, read from the environment
    (no MPI call): (0, 1) when it was not started by mpiexec."""
    for rank_var, size_var in _LAUNCHER_ENV:
        rank, size = os.environ.get(rank_var), os.environ.get(size_var)
        if rank is not None and size is not None and rank.isdigit() and size.isdigit():
            return int(rank), int(size)
    return 0, 1


def check_split(config, size):
    """ConfigError when the run cannot be split over `size` processes (checked on every rank
    before any of them communicates, so they all stop with the same one line)."""
    from .config import ConfigError

    if size == 1:
        return
    b, g = config.batch_size, config.gradient_accumulation_steps
    if (b * g) % size:
        raise ConfigError(
            f"the global batch, batch_size x gradient_accumulation_steps = {b} x {g} = {b * g} "
            f"sequences, cannot be split evenly over mpiexec -n {size} processes: choose "
            f"--batch_size and --gradient_accumulation_steps whose product is a multiple of "
            f"{size}")


class Ranks:
    """This process's place among the `size` processes of a run, and what they agree on."""

    def __init__(self, rank=0, size=1):
        self.rank, self.size = rank, size
        self.main = rank == 0

    @classmethod
    def join(cls):
        """The Ranks of this process: one process, or (under mpiexec) the MPI job, whose
        process group is started here if the caller has not started it. Each rank then uses
        one thread (kernels and BLAS) unless OMP_NUM_THREADS asks for more, as torchrun does:
        N ranks of one thread keep N cores busy without fighting over them."""
        from .config import ConfigError

        size = launched()[1]
        if size == 1:
            return cls()
        from numpy2gpt import distributed as dist

        if not dist.is_initialized():
            try:
                dist.init_process_group(backend="mpi")
            except RuntimeError as e:  # no mpi4py
                raise ConfigError(f"started by mpiexec as one of {size} processes, but {e}"
                                  ) from None
            world = dist.get_world_size()
            if world != size:  # e.g. each process alone in a world of its own
                dist.destroy_process_group()
                raise ConfigError(
                    f"mpiexec started {size} processes, but mpi4py's MPI sees a world of "
                    f"{world}: mpiexec and mpi4py come from different MPIs (use the mpiexec of "
                    "the MPI mpi4py was built with, e.g. the one pip install \"numpy2gpt[mpi]\" "
                    "brings)")
        if not os.environ.get("OMP_NUM_THREADS", "").strip():
            numpy2gpt.set_num_threads(1)
        return cls(dist.get_rank(), dist.get_world_size())

    def describe(self):
        """The log line that says how the run is spread (None for one process)."""
        if self.size == 1:
            return None
        threads = numpy2gpt.get_num_threads()
        asked = os.environ.get("OMP_NUM_THREADS", "").strip()
        return (f"data parallel over {self.size} MPI processes (rank 0 logs and saves); each "
                f"uses {threads} thread{'s' if threads > 1 else ''}"
                + (" (OMP_NUM_THREADS)" if asked else " (set OMP_NUM_THREADS to give it more)"))

    # ----- who takes what
    def rows(self, n):
        """This rank's contiguous rows [lo, hi) of a batch of n rows (sizes differ by at most
        one; a rank may get none when n < size)."""
        return self.rank * n // self.size, (self.rank + 1) * n // self.size

    def pieces(self, batch_size, steps):
        """This rank's share of an iteration's global batch of `steps` micro-batches of
        `batch_size` sequences: a list of (micro_batch, lo, hi), rows [lo, hi) of that
        micro-batch, together batch_size * steps / size sequences."""
        share = batch_size * steps // self.size
        first, last = self.rank * share, (self.rank + 1) * share  # global sequence numbers
        return [(m, max(first - m * batch_size, 0), min(last - m * batch_size, batch_size))
                for m in range(first // batch_size, (last - 1) // batch_size + 1)]

    # ----- agreeing
    def sum(self, values):
        """The elementwise sum over the ranks of a float64 vector (the vector itself on one)."""
        values = np.asarray(values, dtype=np.float64)
        if self.size == 1:
            return values
        from numpy2gpt import distributed as dist

        t = numpy2gpt.tensor(values)
        dist.all_reduce(t)
        return t.numpy()

    def any(self, flag):
        """True on every rank when `flag` is true on one of them (e.g. a Ctrl-C seen by one
        rank before the others: they must all stop at the same iteration)."""
        return bool(self.sum([float(flag)])[0] > 0)

    @contextlib.contextmanager
    def together(self):
        """A step that every rank enters at the same point and that may fail on some of them
        (rank 0 cannot take out_dir's lock, one host lacks the data): on leaving it the ranks
        agree whether it failed anywhere, so they all stop there. A rank that failed raises its
        own error, marked `told_all_ranks` (and `rank_0_says_it` when rank 0 failed too, so
        the same error is printed once); the others raise FailedOnAnotherRank and stop quietly.
        (A failure outside such a step ends the job with MPI_Abort instead: the others may
        already be waiting in a collective.)"""
        if self.size == 1:
            yield
            return
        failed = None
        try:
            yield
        except Exception as e:
            failed = e
        on_rank_0, anywhere = self.sum([failed is not None and self.main, failed is not None])
        if failed is not None:
            failed.told_all_ranks = True
            failed.rank_0_says_it = on_rank_0 > 0 and not self.main
            raise failed
        if anywhere:
            raise FailedOnAnotherRank()


class FailedOnAnotherRank(Exception):
    """Raised by Ranks.together on the ranks where the step went well when it failed on
    another one (which says why)."""

    told_all_ranks = True


def abort(code):
    """End every process of the MPI job with exit status `code` (mpiexec returns it): what a
    rank that fails alone must do, or the others wait for it forever in their next collective."""
    from numpy2gpt.distributed.collectives import abort_job

    abort_job(code)
