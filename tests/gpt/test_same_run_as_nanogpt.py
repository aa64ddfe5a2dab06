"""`numpy2gpt train` is nanoGPT's run: same seed, same initial weights, same batches, same losses.

The oracle is nanoGPT's train.py loop written with real PyTorch (its GPT is
tests/gpt/reference_nanogpt.py): torch.manual_seed(seed), the model, then batches from
torch.randint - the first one fetched before the loop, each next one right after a forward, so
every eval's batches come after the first batch of its iteration. numpy2gpt's generator is
PyTorch's, so its run draws the same numbers in the same order.
"""

import math

import numpy as np
import pytest
import torch
from reference_nanogpt import RefGPT

import numpy2gpt
from numpy2gpt.gpt import GPT, GPTConfig
from numpy2gpt.gpt import data as datamod
from numpy2gpt.gpt.checkpoint import quiet
from numpy2gpt.gpt.train import train
from numpy2gpt.optim.lr_scheduler import warmup_cosine_lr

pytestmark = pytest.mark.usefixtures("isolated_training")

RUN = dict(n_layer=2, n_head=2, n_embd=32, block_size=16, batch_size=4, eval_iters=3,
           eval_interval=5, max_iters=10, warmup_iters=3, lr_decay_iters=10, learning_rate=3e-3,
           log_interval=1, plot=False, seed=1337)


def nanogpt_run(splits, vocab_size, c):
    """nanoGPT's train.py (CPU, float32) on this config; its initial weights, losses, evals."""
    torch.manual_seed(c["seed"])
    model = RefGPT(GPTConfig(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"],
                             block_size=c["block_size"], vocab_size=vocab_size, bias=False))
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = model.configure_optimizers(0.1, c["learning_rate"], (0.9, 0.99))
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

    losses, evals = {}, []
    X, Y = get_batch("train")  # fetch the very first batch
    for it in range(c["max_iters"] + 1):
        lr = warmup_cosine_lr(it, c["learning_rate"], c["warmup_iters"], c["lr_decay_iters"],
                              1e-4)
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
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses[it] = sum(micro) / steps
    return init, losses, evals


@pytest.mark.parametrize("accumulate", [1, 2])
def test_numpy2gpt_train_is_nanogpts_run(corpus, tmp_path, accumulate):
    config = {**RUN, "gradient_accumulation_steps": accumulate}
    res = train({**config, "data": str(corpus), "out_dir": str(tmp_path / "out")}, log=None)
    data_dir = tmp_path / "out" / "data"
    splits = {s: np.asarray(datamod.load_split(data_dir, s)) for s in datamod.SPLITS}
    vocab_size = res.tokenizer.vocab_size
    init, losses, evals = nanogpt_run(splits, vocab_size, config)

    # the same initial weights, bit for bit (PyTorch's generator, nanoGPT's init order)
    numpy2gpt.manual_seed(config["seed"])
    with quiet(None):
        ours = GPT(GPTConfig(n_layer=config["n_layer"], n_head=config["n_head"],
                             n_embd=config["n_embd"], block_size=config["block_size"],
                             vocab_size=vocab_size, bias=False))
    assert list(ours.state_dict()) == list(init)
    for name, value in ours.state_dict().items():
        assert np.array_equal(value.numpy(), init[name]), name

    # the same batches, so the same losses up to float32 rounding over the steps
    assert sorted(res.train_losses) == sorted(losses)
    for it, loss in losses.items():
        assert res.train_losses[it] == pytest.approx(loss, rel=1e-4), it
    assert [e["iter"] for e in res.evals] == [e["iter"] for e in evals] == [0, 5, 10]
    for ours_eval, theirs in zip(res.evals, evals):
        for key in ("train_loss", "val_loss"):
            assert ours_eval[key] == pytest.approx(theirs[key], rel=1e-4), (ours_eval, key)
    assert res.evals[0]["val_loss"] == pytest.approx(math.log(vocab_size), abs=0.2)
