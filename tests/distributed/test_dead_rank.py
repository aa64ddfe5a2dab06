"""A rank that dies ends the whole MPI job with a non-zero exit within 30 s, never a hang; Ctrl-C
reaches every rank, even one waiting in a collective."""

import os
import signal
import subprocess
import sys
import time

import pytest
from mpi_jobs import ROOT, WORKERS, find_mpiexec, require_mpi, run_mpi


@pytest.mark.parametrize("how", ["kill", "raise"])
def test_dead_rank_ends_the_job(tmp_path, how):
    job = run_mpi(3, "die", tmp_path, how, timeout=30, check=False)
    assert job.returncode != 0
    assert "all_reduce returned without rank 1" not in job.stdout
    if how == "raise":
        assert "RuntimeError: rank 1 failed" in job.stderr  # the traceback is shown


def test_ctrl_c_reaches_a_rank_waiting_in_a_collective(tmp_path):
    require_mpi()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [find_mpiexec(), "-n", "2", sys.executable, str(WORKERS / "interrupt.py"), tmp_path]
    logs = [tmp_path / f"rank{r}.txt" for r in range(2)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, start_new_session=True) as job:
        try:
            for _ in range(600):  # both ranks in their loop (at most 60 s)
                if all(log.exists() for log in logs) or job.poll() is not None:
                    break
                time.sleep(0.1)
            job.send_signal(signal.SIGINT)  # what Ctrl-C sends mpiexec, which passes it on
            output, _ = job.communicate(timeout=30)
        finally:
            if job.poll() is None:
                os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode == 0, output
    assert logs[0].read_text() == "ready\ninterrupted\nsaved\n"
    assert logs[1].read_text() == "ready\ninterrupted\n"
