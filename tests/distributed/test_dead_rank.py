"""A rank that dies ends the whole MPI job with a non-zero exit within 30 s, never a hang."""

import pytest
from mpi_jobs import run_mpi


@pytest.mark.parametrize("how", ["kill", "raise"])
def test_dead_rank_ends_the_job(tmp_path, how):
    job = run_mpi(3, "die", tmp_path, how, timeout=30, check=False)
    assert job.returncode != 0
    assert "all_reduce returned without rank 1" not in job.stdout
    if how == "raise":
        assert "RuntimeError: rank 1 failed" in job.stderr  # the traceback is shown
