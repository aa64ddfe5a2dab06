"""`numpy2gpt train` is nanoGPT's run: same seed, same initial weights, same batches, same losses.

The oracle is nanoGPT's train.py loop written with real PyTorch (its GPT is
tests/gpt/reference_nanogpt.py): torch.manual_seed(seed), the model, then batches from
torch.randint - the first one fetched before the loop, each next one right after a forward, so
every eval's batches come after the first batch of its iteration. numpy2gpt's generator is
PyTorch's, so its run draws the same numbers in the same order. Its learning rate comes from
nanoGPT's own get_lr (`nanogpt_get_lr`, written out in conftest.py), not from numpy2gpt's.

How close: the two runs differ only in float32 rounding (summation order in matmuls and
reductions), and measured they agree to 1.2e-7 relative on the training losses and 8.4e-8 on the
evaluations (within a float32 ulp at a loss of ~4). The tolerance, 1e-6, is ~8x that. A real
difference in the update is far above it: halving AdamW's weight decay moves the losses by
3e-5, removing it by 6e-5.
"""

import json
import math

import numpy as np
import pytest
import torch
from reference_nanogpt import RefGPT
from torch_compare import nanogpt_get_lr

import numpy2gpt
from numpy2gpt.gpt import GPT, GPTConfig
from numpy2gpt.gpt import data as datamod
from numpy2gpt.gpt.checkpoint import quiet
from numpy2gpt.gpt.train import train

pytestmark = pytest.mark.usefixtures("isolated_training")

RUN = dict(n_layer=2, n_head=2, n_embd=32, block_size=16, batch_size=4, eval_iters=3,
           eval_interval=5, max_iters=10, warmup_iters=3, lr_decay_iters=8, learning_rate=3e-3,
           min_lr=1e-4, decay_lr=True, weight_decay=0.1, beta1=0.9, beta2=0.99, grad_clip=1.0,
           log_interval=1, plot=False, seed=1337)
RTOL = 1e-6  # the runs agree to 1.2e-7; see the module docstring


def nanogpt_run(splits, vocab_size, c):
    """nanoGPT's train.py (CPU, float32) on this config; its initial weights, losses, evals."""
    torch.manual_seed(c["seed"])
    model = RefGPT(GPTConfig(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"],
                             block_size=c["block_size"], vocab_size=vocab_size, bias=False))
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = model.configure_optimizers(c["weight_decay"], c["learning_rate"],
                                           (c["beta1"], c["beta2"]))
    steps = c.get("gradient_accumulation_steps", 1)

    def get_batch(split):
        data = splits[split]
        ix = torch.randint(len(data) - c["block_size"], (c["batch_size"],))
        x = torch.stack([torch.from_numpy(data[i:i + c["block_size"]].astype(np.int64))
                         for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + c["block_size"]].astype(np.int64))
                         for i in ix])
        return x, y

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {f"{s}_loss": float(torch.tensor([model(*get_batch(s))[1].item()
                                                for _ in range(c["eval_iters"])]).mean())
               for s in ("train", "val")}
        model.train()
        return out

    losses, lrs, evals = {}, {}, []
    X, Y = get_batch("train")  # fetch the very first batch
    for it in range(c["max_iters"] + 1):
        lr = lrs[it] = nanogpt_get_lr(it, c["learning_rate"], c["warmup_iters"],
                                      c["lr_decay_iters"], c["min_lr"], c["decay_lr"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        if it % c["eval_interval"] == 0:
            evals.append({"iter": it, **estimate_loss()})
        if it == c["max_iters"]:
            break
        micro = []
        for _ in range(steps):
            _, loss = model(X, Y)
            micro.append(loss.item())
            X, Y = get_batch("train")  # nanoGPT prefetches the next batch during backward
            (loss / steps).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses[it] = sum(micro) / steps
    return init, losses, lrs, evals


@pytest.mark.parametrize("accumulate", [1, 2])
def test_numpy2gpt_train_is_nanogpts_run(corpus, tmp_path, accumulate):
    config = {**RUN, "gradient_accumulation_steps": accumulate}
    res = train({**config, "data": str(corpus), "out_dir": str(tmp_path / "out")}, log=None)
    data_dir = tmp_path / "out" / "data"
    splits = {s: np.asarray(datamod.load_split(data_dir, s)) for s in datamod.SPLITS}
    vocab_size = res.tokenizer.vocab_size
    init, losses, lrs, evals = nanogpt_run(splits, vocab_size, config)

    # the same initial weights, bit for bit (PyTorch's generator, nanoGPT's init order)
    numpy2gpt.manual_seed(config["seed"])
    with quiet(None):
        ours = GPT(GPTConfig(n_layer=config["n_layer"], n_head=config["n_head"],
                             n_embd=config["n_embd"], block_size=config["block_size"],
                             vocab_size=vocab_size, bias=False))
    assert list(ours.state_dict()) == list(init)
    for name, value in ours.state_dict().items():
        assert np.array_equal(value.numpy(), init[name]), name

    # the same batches and updates, so the same losses up to float32 rounding: every training
    # loss and evaluation, as returned and as logged to metrics.jsonl, and nanoGPT's lr
    lines = [json.loads(s) for s in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    logs = {r["iter"]: r for r in lines if r["kind"] == "log"}
    assert sorted(res.train_losses) == sorted(logs) == sorted(losses) == list(range(10))
    for it, loss in losses.items():
        assert res.train_losses[it] == logs[it]["train_loss"], it
        assert res.train_losses[it] == pytest.approx(loss, rel=RTOL, abs=0), it
        assert logs[it]["lr"] == lrs[it], it
    logged_evals = [r for r in lines if r["kind"] == "eval"]
    assert [e["iter"] for e in res.evals] == [e["iter"] for e in logged_evals] == [0, 5, 10]
    assert [e["iter"] for e in evals] == [0, 5, 10]
    for ours_eval, logged, theirs in zip(res.evals, logged_evals, evals):
        for key in ("train_loss", "val_loss"):
            assert ours_eval[key] == logged[key], (ours_eval, key)
            assert ours_eval[key] == pytest.approx(theirs[key], rel=RTOL, abs=0), (ours_eval, key)
    assert res.evals[0]["val_loss"] == pytest.approx(math.log(vocab_size), abs=0.2)
