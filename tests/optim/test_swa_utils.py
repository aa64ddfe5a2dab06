"""numpy2gpt.optim.swa_utils against torch.optim.swa_utils: the SWA tutorial's training loop and an
EMA loop run side by side from the same weights and batches (every parameter, buffer, lr and
n_averaged compared after each epoch), the averaging functions, SWALR's schedules, update_bn,
state dicts and PyTorch's errors and warnings."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch_compare import assert_close, same_error

import numpy2gpt as ng

LIBS = (ng, torch)


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.BatchNorm1d(16), lib.nn.ReLU(),
                             lib.nn.Linear(16, 3))


def _models():
    """The same MLP (torch's initial weights) on both libraries: (numpy2gpt's, torch's)."""
    torch.manual_seed(0)
    theirs = _mlp(torch)
    ours = _mlp(ng)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 4)).astype(np.float32) * 2 + 1,
            rng.integers(0, 3, n))


def _loader(lib, x, y, batch=12):
    return [(lib.tensor(x[i:i + batch]), lib.tensor(y[i:i + batch]))
            for i in range(0, len(x), batch)]


def _train_epoch(lib, model, optimizer, loader, after_step=None):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        lib.nn.functional.cross_entropy(model(xb), yb).backward()
        optimizer.step()
        if after_step is not None:
            after_step()


def _assert_same_state(ours, theirs, what=""):
    """Same state dict keys in the same order, every entry equal (float32 tolerance; integer
    buffers such as num_batches_tracked and n_averaged exactly)."""
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd), what
    for k in tsd:
        assert_close(sd[k], tsd[k], what=f"{what} {k}")


def _assert_same_lrs(ours, theirs, rel=1e-12):
    """An optimizer's and a scheduler's lrs: numbers on both sides, the same ones."""
    (opt, sched), (topt, tsched) = ours, theirs
    lrs, tlrs = [g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups]
    assert lrs == pytest.approx(tlrs, rel=rel, abs=0)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=rel, abs=0)


# ----- the SWA tutorial loop and an EMA loop, side by side -------------------------------------
def _swa_run(lib, model, loader, epochs=8, swa_start=3):
    """PyTorch's SWA recipe: SGD with CosineAnnealingLR, then from swa_start on SWALR with the
    model averaged into an AveragedModel after each epoch; yields after each epoch."""
    swa_utils = lib.optim.swa_utils
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
    swa_model = swa_utils.AveragedModel(model)
    swa_scheduler = swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=3)
    for epoch in range(epochs):
        _train_epoch(lib, model, optimizer, loader)
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
        yield SimpleNamespace(model=model, swa_model=swa_model, optimizer=optimizer,
                              scheduler=swa_scheduler if epoch > swa_start else scheduler)
    swa_utils.update_bn(loader, swa_model)
    yield SimpleNamespace(model=model, swa_model=swa_model, optimizer=optimizer,
                          scheduler=swa_scheduler)


def test_swa_tutorial_loop_matches_pytorch():
    x, y = _data()
    runs = [_swa_run(lib, model, _loader(lib, x, y)) for lib, model in zip(LIBS, _models())]
    n_averaged = []
    for epoch, (ours, theirs) in enumerate(zip(*runs)):
        _assert_same_state(ours.model, theirs.model, f"model, epoch {epoch}")
        _assert_same_state(ours.swa_model, theirs.swa_model, f"swa_model, epoch {epoch}")
        _assert_same_lrs((ours.optimizer, ours.scheduler), (theirs.optimizer, theirs.scheduler))
        assert ours.swa_model.n_averaged.dtype == ng.int64
        n_averaged.append(int(ours.swa_model.n_averaged))
    assert n_averaged == [0, 0, 0, 0, 1, 2, 3, 4, 4]
    # update_bn gave the averaged weights their own BatchNorm statistics: the average model
    # in eval mode gives PyTorch's outputs
    bn = ours.swa_model.module[1]
    assert int(bn.num_batches_tracked) == 4 and bn.momentum == 0.1
    assert ours.swa_model.training and ours.swa_model.module.training
    xt = _data(10, seed=1)[0]
    outs = [m.swa_model.eval()(lib.tensor(xt)) for lib, m in zip(LIBS, (ours, theirs))]
    assert outs[0].requires_grad and outs[1].requires_grad
    assert_close(outs[0], outs[1])
    # the average is not the last model: the test compares something that moved
    assert not np.allclose(ours.swa_model.module[0].weight.detach().numpy(),
                           ours.model[0].weight.detach().numpy(), atol=1e-3)


@pytest.mark.parametrize("decay", [0.999, 0.6])
def test_ema_loop_matches_pytorch(decay):
    x, y = _data()
    state = []
    for lib, model in zip(LIBS, _models()):
        swa_utils = lib.optim.swa_utils
        ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(decay),
                                      use_buffers=True)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.2)
        state.append((lib, model, ema, optimizer, _loader(lib, x, y)))
    (_, model, ema, *_), (_, tmodel, tema, *_) = state
    for epoch in range(3):
        for lib, model_, ema_, optimizer, loader in state:
            _train_epoch(lib, model_, optimizer, loader,
                         after_step=lambda m=model_, e=ema_: e.update_parameters(m))
        _assert_same_state(model, tmodel, f"model, epoch {epoch}")
        _assert_same_state(ema, tema, f"ema, epoch {epoch}")
        assert int(ema.n_averaged) == 4 * (epoch + 1)
    # the EMA's buffers are averages too (not the model's), its num_batches_tracked truncated
    assert int(model[1].num_batches_tracked) == 12
    assert int(ema.module[1].num_batches_tracked) < 12
    assert not np.allclose(ema.module[1].running_mean.numpy(), model[1].running_mean.numpy())


@pytest.mark.parametrize("fns, use_buffers", [
    (lambda u: {}, False), (lambda u: {}, True),
    (lambda u: {"avg_fn": u.get_swa_avg_fn()}, True),
    (lambda u: {"avg_fn": u.get_ema_avg_fn(0.7)}, False),
    (lambda u: {"avg_fn": u.get_ema_avg_fn(0.7)}, True),
    (lambda u: {"multi_avg_fn": u.get_swa_multi_avg_fn()}, False),
    (lambda u: {"multi_avg_fn": lambda a, c, n: [p.mul_(0.5).add_(q, alpha=0.5)
                                                 for p, q in zip(a, c)]}, False),
], ids=["swa", "swa-buffers", "swa-avg-fn-buffers", "ema-avg-fn", "ema-avg-fn-buffers",
        "swa-multi", "own-multi"])
def test_averaging_functions_match_pytorch(fns, use_buffers):
    x, y = _data(24)
    pairs = []
    for lib, model in zip(LIBS, _models()):
        avg = lib.optim.swa_utils.AveragedModel(model, use_buffers=use_buffers,
                                                **fns(lib.optim.swa_utils))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.3)
        for _ in range(3):
            _train_epoch(lib, model, optimizer, _loader(lib, x, y))
            avg.update_parameters(model)
        pairs.append(avg)
    _assert_same_state(*pairs)
    model = pairs[0].module
    assert model[0].weight.requires_grad and isinstance(model[0].weight, ng.nn.Parameter)


def test_update_parameters_copies_first_then_averages():
    """By hand: the first update copies, the next ones make the equal-weight mean; without
    use_buffers the buffers are the model's own."""
    model = ng.nn.BatchNorm1d(2)
    avg = ng.optim.swa_utils.AveragedModel(model)
    seen = []
    for value in (1.0, 2.0, 6.0):
        model.weight.data.fill_(value)
        model.running_mean.fill_(value)
        avg.update_parameters(model)
        seen.append(avg.module.weight.detach().numpy().tolist())
    assert seen == [[1.0, 1.0], [1.5, 1.5], [3.0, 3.0]]
    assert avg.module.running_mean.numpy().tolist() == [6.0, 6.0]
    assert avg.module.weight.dtype == ng.float32 and avg.module.weight is not model.weight


def test_averaged_model_float64_and_device():
    pairs = []
    for lib in LIBS:
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2).double()
        if lib is ng:
            ours = ng.nn.Linear(3, 2, dtype=ng.float64)
            ours.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})
            model = ours
        avg = lib.optim.swa_utils.AveragedModel(model, device="cpu")
        for k in range(3):
            with lib.no_grad():
                model.weight.mul_(1.5).add_(0.1 * k)
            avg.update_parameters(model)
        pairs.append(avg)
    assert pairs[0].module.weight.dtype == ng.float64
    assert_close(pairs[0].module.weight, pairs[1].module.weight)
    assert_close(pairs[0].n_averaged, pairs[1].n_averaged)


# ----- SWALR ------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_schedule_matches_pytorch(strategy, anneal_epochs):
    """Two param groups with their own swa_lr, after a few CosineAnnealingLR steps moved the lr,
    then step(epoch) (deprecated, with PyTorch's warning) and more steps."""
    runs = []
    for lib in LIBS:
        a, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(3))
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        for _ in range(3):
            opt.step()
            cosine.step()
        lrs = [[g["lr"] for g in opt.param_groups]]
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.001], anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy)
        assert [g["swa_lr"] for g in opt.param_groups] == [0.05, 0.001]
        lrs.append(swa.get_last_lr())
        for _ in range(6):
            opt.step()
            swa.step()
            lrs.append(swa.get_last_lr())
        with pytest.warns(UserWarning, match="The epoch parameter"):
            swa.step(2)
        lrs.append(swa.get_last_lr())
        swa.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        runs.append(np.array(lrs))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(runs[0][-3], [0.05, 0.001])  # annealed to swa_lr
    assert not np.allclose(runs[0][0], runs[0][-3])  # from the lr the cosine left


def test_swalr_get_lr_outside_step_warns():
    for lib in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=2)
            opt.step()
            swa.step()
        with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
            swa.get_lr()


def test_swalr_state_dict_round_trip():
    states, continued = [], []
    for lib in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=5,
                                        anneal_strategy="linear")
        for _ in range(2):
            opt.step()
            swa.step()
        sd = swa.state_dict()
        states.append(sd)
        # a fresh cosine schedule takes the saved linear one's place
        opt2 = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=opt.param_groups[0]["lr"])
        opt2.param_groups[0].update(initial_lr=0.1, swa_lr=0.01)
        swa2 = lib.optim.swa_utils.SWALR(opt2, swa_lr=0.01, anneal_epochs=5)
        swa2.load_state_dict(sd)
        assert swa2.anneal_func(0.25) == 0.25  # linear, as saved
        lrs = []
        for s in (swa, swa2):
            s.optimizer.step()
            s.step()
            lrs.append(s.get_last_lr())
        assert lrs[0] == lrs[1]
        continued.append(lrs[0])
    assert list(states[0]) == list(states[1])
    assert "anneal_func" not in states[0] and states[0]["_anneal_strategy"] == "linear"
    for k, v in states[1].items():
        assert states[0][k] == (pytest.approx(v, rel=1e-12) if k == "_last_lr" else v), k
    assert continued[0] == pytest.approx(continued[1], rel=1e-12)


def test_averaged_model_state_dict_round_trip(tmp_path):
    x, y = _data(24)
    (ours, theirs), avgs = _models(), []
    for lib, model in ((ng, ours), (torch, theirs)):
        avg = lib.optim.swa_utils.AveragedModel(model)
        for _ in range(2):
            _train_epoch(lib, model, lib.optim.SGD(model.parameters(), lr=0.3), _loader(lib, x, y))
            avg.update_parameters(model)
        avgs.append(avg)
    sd = avgs[0].state_dict()
    assert list(sd)[0] == "n_averaged" and "module.1.running_mean" in sd
    # into a fresh AveragedModel (through a file too), and PyTorch's into numpy2gpt's
    ng.save(sd, tmp_path / "swa.pt")
    for saved in (sd, ng.load(tmp_path / "swa.pt"),
                  {k: v.numpy() for k, v in avgs[1].state_dict().items()}):
        fresh = ng.optim.swa_utils.AveragedModel(_mlp(ng))
        fresh.load_state_dict(saved)
        _assert_same_state(fresh, avgs[1])
        assert int(fresh.n_averaged) == 2
    # the loaded count goes on: the next update averages with weight 1/3, as PyTorch's
    fresh.update_parameters(ours)
    avgs[1].update_parameters(theirs)
    _assert_same_state(fresh, avgs[1])


# ----- update_bn ----------------------------------------------------------------------------
def test_update_bn_matches_pytorch_and_restores_mode_and_momentum():
    x, _ = _data(40)
    results = []
    for lib, model in zip(LIBS, _models()):
        model[1].momentum = 0.3
        model.eval()
        tensors = [lib.tensor(x[i:i + 8]) for i in range(0, 40, 8)]
        lib.optim.swa_utils.update_bn(tensors, model)
        assert not model.training and not model[1].training and model[1].momentum == 0.3
        results.append(model)
    _assert_same_state(*results)
    # momentum None during the pass: the running mean is the equal-weight mean of the batches'
    h = ng.nn.functional.linear(ng.tensor(x), results[0][0].weight, results[0][0].bias)
    means = h.detach().numpy().reshape(5, 8, 16).mean(axis=1).mean(axis=0)
    np.testing.assert_allclose(results[0][1].running_mean.numpy(), means, rtol=1e-5, atol=1e-6)
    assert int(results[0][1].num_batches_tracked) == 5
    # batches given as (input, target) tuples and lists give the same statistics
    for batches in ([(ng.tensor(x[i:i + 8]), 0) for i in range(0, 40, 8)],
                    [[ng.tensor(x[i:i + 8])] for i in range(0, 40, 8)]):
        model = _models()[0]
        ng.optim.swa_utils.update_bn(batches, model, device="cpu")
        _assert_same_state(model, results[1])
        assert model.training


def test_update_bn_without_batchnorm_reads_nothing():
    class Untouchable:
        def __iter__(self):
            raise AssertionError("update_bn read the loader of a model without BatchNorm")

    for lib in LIBS:
        model = lib.nn.Sequential(lib.nn.Linear(2, 2)).eval()
        assert lib.optim.swa_utils.update_bn(Untouchable(), model) is None
        assert not model.training


# ----- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda lib: lib.optim.swa_utils.AveragedModel(
        lib.nn.Linear(2, 2), avg_fn=lib.optim.swa_utils.get_swa_avg_fn(),
        multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(1.5),
    lambda lib: lib.optim.swa_utils.get_ema_avg_fn(-0.1),
    lambda lib: lib.optim.swa_utils.SWALR(_sgd(lib), 0.01, anneal_strategy="exp"),
    lambda lib: lib.optim.swa_utils.SWALR(_sgd(lib), 0.01, anneal_epochs=-1),
    lambda lib: lib.optim.swa_utils.SWALR(_sgd(lib), 0.01, anneal_epochs=2.0),
    lambda lib: lib.optim.swa_utils.SWALR(_sgd(lib), [0.01, 0.02]),
    lambda lib: lib.optim.swa_utils.SWALR(_sgd(lib), 0.01, last_epoch=3),
    lambda lib: lib.optim.swa_utils.SWALR(SimpleNamespace(param_groups=[{"lr": 0.1}]), 0.01),
    lambda lib: _update_twice(lib, lib.nn.BatchNorm1d(2), lib.nn.BatchNorm1d(2),
                              multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn(),
                              use_buffers=True),
    lambda lib: _update_twice(lib, lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2)),
                              lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.LayerNorm(2))),
], ids=["two-avg-fns", "ema-multi-decay", "ema-decay", "strategy", "negative-anneal",
        "float-anneal", "swa-lr-list", "resume-without-initial-lr", "not-an-optimizer",
        "swa-multi-integer-buffer", "buffers-differ"])
def test_errors_match_pytorch(call):
    same_error(call)


def _sgd(lib):
    return lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)


def _update_twice(lib, averaged, model, **kwargs):
    avg = lib.optim.swa_utils.AveragedModel(averaged, **kwargs)
    avg.update_parameters(model)
    avg.update_parameters(model)
