"""torch.autograd.detect_anomaly / set_detect_anomaly: a NaN gradient is PyTorch's error, and an
error in a node's backward comes with a warning that shows the forward line that made the node."""

import warnings

import pytest
import torch

import numpy2gpt as ng


def _nan_backward(lib):
    """sqrt's gradient at 0 is inf; times the 0 from the multiply it is NaN."""
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = (x.sqrt() * 0).sum()  # the forward line the warning must show
    return x, y


def _caught(lib, run):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            run(lib)
            error = None
        except Exception as e:  # noqa: BLE001 - compared with PyTorch's below
            error = (type(e), str(e))
    return error, [str(w.message) for w in seen]


def test_detect_anomaly_nan_error_and_forward_stack_as_torch():
    def run(lib):
        with lib.autograd.detect_anomaly():
            _, y = _nan_backward(lib)
            y.backward()

    ours, our_warnings = _caught(ng, run)
    theirs, their_warnings = _caught(torch, run)
    assert ours == theirs == (RuntimeError,
                              "Function 'SqrtBackward0' returned nan values in its 0th output.")
    assert our_warnings[0] == their_warnings[0]  # "Anomaly Detection has been enabled. ..."
    head = "Error detected in SqrtBackward0. Traceback of forward call that caused the error:\n"
    for w in (our_warnings[1], their_warnings[1]):
        assert w.startswith(head)
        assert "y = (x.sqrt() * 0).sum()  # the forward line" in w
        assert "in _nan_backward" in w and "in run" in w
    assert "numpy2gpt" not in our_warnings[1]  # the stack ends at the user's line
    assert not ng.is_anomaly_enabled()  # restored on exit


def test_without_anomaly_mode_nan_flows_and_nothing_is_recorded():
    x, y = _nan_backward(ng)
    assert not hasattr(y.grad_fn, "anomaly_stack")
    y.backward()
    tx, ty = _nan_backward(torch)
    ty.backward()
    assert x.grad.tolist()[1] == tx.grad.tolist()[1] == 0.0
    assert x.grad.isnan().tolist() == tx.grad.isnan().tolist() == [True, False]


@pytest.mark.filterwarnings("ignore:Error detected in SqrtBackward0")
@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_set_detect_anomaly_as_call_and_context_and_check_nan_off(lib):
    assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        x, y = _nan_backward(lib)
        y.backward()  # NaN allowed with check_nan=False
        assert x.grad.isnan().tolist() == [True, False]
    assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
    lib.autograd.set_detect_anomaly(True)  # as a call it stays set
    try:
        assert lib.is_anomaly_enabled()
        _, y = _nan_backward(lib)
        with pytest.raises(RuntimeError, match="SqrtBackward0' returned nan values"):
            y.backward()
    finally:
        lib.set_anomaly_enabled(False)


def test_error_in_custom_backward_is_shown_with_its_forward_line():
    def run(lib):
        class Broken(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                raise ValueError("Some error in backward")

        with lib.autograd.set_detect_anomaly(True):
            x = lib.ones(2, requires_grad=True)
            out = Broken.apply(x).sum()  # made here
            out.backward()

    ours, our_warnings = _caught(ng, run)
    theirs, their_warnings = _caught(torch, run)
    assert ours == theirs == (ValueError, "Some error in backward")
    for w in (our_warnings[-1], their_warnings[-1]):
        assert w.startswith("Error detected in BrokenBackward. Traceback of forward call")
        assert "out = Broken.apply(x).sum()  # made here" in w


def test_anomaly_mode_trains_a_step_of_the_gpt_unchanged():
    from numpy2gpt.gpt import GPT, GPTConfig

    def step(anomaly):
        ng.manual_seed(0)
        model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8,
                              dropout=0.0))
        idx = ng.randint(0, 11, (2, 8))
        with ng.autograd.set_detect_anomaly(anomaly):
            _, loss = model(idx, idx)
            loss.backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    for a, b in zip(step(False), step(True)):
        assert (a == b).all()
