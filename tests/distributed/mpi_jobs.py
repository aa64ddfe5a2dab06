"""Start real MPI jobs from the tests: `mpiexec -n N python workers/<name>.py <folder> [args]`.

Each worker writes what every rank saw into <folder> (rank<r>.npz or rank<r>.json); the test
compares that with NumPy truth or with a one-process run. Tests skip only where no MPI is
installed; `pip install ".[mpi]"` (the test extra includes it) brings mpi4py, MPICH and mpiexec.
"""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"


def find_mpiexec():
    """mpiexec beside this Python (the mpich wheel puts it there), else on PATH, else None."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def require_mpi():
    if importlib.util.find_spec("mpi4py") is None or find_mpiexec() is None:
        pytest.skip('needs MPI (mpi4py and mpiexec): pip install ".[mpi]"')


def run_mpi(n, worker, folder, *args, timeout=180, check=True):
    """Run `worker` on n ranks; fail the test (with the job's output) if it exits non-zero."""
    require_mpi()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    cmd = [find_mpiexec(), "-n", str(n), sys.executable, str(WORKERS / f"{worker}.py"),
           str(folder), *map(str, args)]
    # Its own session, so that on a timeout the whole job (mpiexec, its proxies, the ranks) is
    # killed, not only mpiexec.
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          cwd=ROOT, start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"{' '.join(cmd[1:])} still running after {timeout} s (killed)\n"
                        f"--- stdout\n{stdout}\n--- stderr\n{stderr}")
    job = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if check and job.returncode != 0:
        pytest.fail(f"{' '.join(cmd[1:])} exited {job.returncode}\n--- stdout\n{job.stdout}\n"
                    f"--- stderr\n{job.stderr}")
    return job


def load_npz(folder, n):
    """Every rank's saved arrays: a list of dicts, index = rank."""
    out = []
    for r in range(n):
        with np.load(Path(folder) / f"rank{r}.npz") as f:
            out.append(dict(f))
    return out


def load_json(folder, n):
    return [json.loads((Path(folder) / f"rank{r}.json").read_text()) for r in range(n)]
