"""A rank dies while the others wait for it in all_reduce: `die.py <folder> kill|raise`.

`kill`: rank 1 is killed by SIGKILL (MPICH's mpiexec then ends the job). `raise`: rank 1 raises
an uncaught exception (init_process_group's hook aborts the job, where MPI would otherwise wait
forever for rank 1 in MPI_Finalize).
"""

import os
import signal
import sys

import numpy2gpt as torch
import numpy2gpt.distributed as dist

dist.init_process_group()
if dist.get_rank() == 1:
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError("rank 1 failed")
dist.all_reduce(torch.ones(3))  # waits for rank 1, which never comes
print("all_reduce returned without rank 1")
