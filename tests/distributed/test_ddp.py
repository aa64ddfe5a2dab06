"""DistributedDataParallel on real MPI jobs: gradients and AdamW steps equal the one-process run
on the whole batch (float64), and PyTorch's DDP behaviour on the same script."""

import importlib.util
import socket

import numpy as np
import pytest
from mpi_jobs import WORKERS, load_json, load_npz, run_mpi

_spec = importlib.util.spec_from_file_location("ddp_gpt", WORKERS / "ddp_gpt.py")
ddp_gpt = importlib.util.module_from_spec(_spec)  # the worker's model, batches and loop
_spec.loader.exec_module(ddp_gpt)


def assert_rel_close(got, want, rel, what):
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= rel, f"{what}: relative difference {err:.3g} > {rel:g}"


@pytest.mark.parametrize("n,overlap,view", [(2, "blocking", ""), (3, "overlap", ""),
                                            (2, "overlap", "view")])
def test_ddp_gradients_equal_one_process_full_batch(tmp_path, n, overlap, view):
    run_mpi(n, "ddp_gpt", tmp_path, "grads", overlap, view)
    net = ddp_gpt.model(seed=1234)
    x, y = ddp_gpt.batch(0, 0)
    _, loss = net(x, y)
    loss.backward()
    ranks = load_npz(tmp_path, n)
    assert ranks[0]["buckets"] > 3
    assert list(ranks[0]["state_dict_keys"]) == list(net.state_dict())  # no "module." prefix
    assert set(ranks[0]["hooks_per_param"]) == {1}
    for rank, got in enumerate(ranks):
        for name, p in net.named_parameters():
            assert got[name].dtype == np.float64
            assert_rel_close(got[name], p.grad.numpy(), 1e-12, f"rank {rank} {name}")


@pytest.mark.parametrize("n,overlap,view", [(2, "blocking", ""), (2, "overlap", ""),
                                            (3, "blocking", "view")])
def test_five_adamw_steps_equal_one_process(tmp_path, n, overlap, view):
    run_mpi(n, "ddp_gpt", tmp_path, "adamw", overlap, view)
    net = ddp_gpt.model(seed=1234)
    ddp_gpt.train(net, net)
    for rank, got in enumerate(load_npz(tmp_path, n)):
        for name, p in net.named_parameters():
            assert_rel_close(got[name], p.detach().numpy(), 1e-10, f"rank {rank} {name}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_behaves_as_pytorchs(tmp_path, monkeypatch):
    """Unused parameters (find_unused_parameters and the error without it), no_sync and the
    same-model check: one script, run by PyTorch (gloo) and by numpy2gpt (MPI)."""
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    (tmp_path / "torch").mkdir()
    (tmp_path / "numpy2gpt").mkdir()
    run_mpi(2, "as_torch", tmp_path / "torch", "torch")
    run_mpi(2, "as_torch", tmp_path / "numpy2gpt", "numpy2gpt")
    for want, got in zip(load_json(tmp_path / "torch", 2), load_json(tmp_path / "numpy2gpt", 2)):
        for case in ("unused", "unused_again", "no_sync_local", "no_sync_then_sync",
                     "no_grad_forward_between", "unused_no_zero_grad_view_False",
                     "unused_no_zero_grad_view_True", "unused_after_no_sync"):
            assert want[case].keys() == got[case].keys()
            for name, g in want[case].items():
                if g is None:  # a parameter no rank used keeps .grad None
                    assert got[case][name] is None, (case, name)
                else:
                    np.testing.assert_allclose(got[case][name], g, rtol=1e-12, atol=1e-15,
                                               err_msg=f"{case} {name}")
        assert got["count_error"] == want["count_error"]
        first_sentence = "Expected to have finished reduction in the prior iteration before " \
                         "starting a new one."
        assert want["no_find_unused"][0] == got["no_find_unused"][0] == "RuntimeError"
        assert want["no_find_unused"][1].startswith(first_sentence)
        assert got["no_find_unused"][1].startswith(first_sentence)
    assert got["unused"]["c.weight"] is None  # (the case above is really exercised)
