"""Ctrl-C under mpiexec: rank 0 is in Python code, rank 1 waits for it in all_reduce.

Both must get their KeyboardInterrupt (rank 1 inside the collective), so that rank 0 can save
and every rank can exit. Each rank writes what happened to <folder>/rank<r>.txt.
"""

import sys
import time
from pathlib import Path

import numpy2gpt as torch
import numpy2gpt.distributed as dist

dist.init_process_group()
rank = dist.get_rank()
log = Path(sys.argv[1]) / f"rank{rank}.txt"
try:
    dist.all_reduce(torch.ones(3))
    log.write_text("ready\n")
    while True:
        if rank == 0:
            time.sleep(0.1)  # "computing" when Ctrl-C comes, while rank 1 waits in all_reduce
        dist.all_reduce(torch.ones(3))
except KeyboardInterrupt:
    with log.open("a") as f:
        f.write("interrupted\n")
        if rank == 0:
            time.sleep(0.5)
            f.write("saved\n")
