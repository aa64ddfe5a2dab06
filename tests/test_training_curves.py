"""Training runs match PyTorch step for step.

"A 2-layer MLP and a 1-block transformer trained for 50 steps match PyTorch's loss curve given the
same initial weights." Each model is written ONCE, against the PyTorch API, as a function of the
library module (`lib` is `numpy2gpt` or the real `torch`), so the very same lines build both
twins. numpy2gpt's model is initialised by numpy2gpt, its weights are copied into the PyTorch
twin, and both train 50 steps of AdamW with gradient clipping on the same fixed batches. The 50
losses, the 50 gradient norms that clipping returns, and the final parameters must agree:
float64 to rtol 1e-9, float32 to rtol 1e-4.
"""

import numpy as np
import pytest
import torch as pt

import numpy2gpt as ng

STEPS = 50
# (rtol for the loss curve and clip norms, rtol for final parameters as a fraction of each
# tensor's largest element). float32: 50 Adam steps amplify rounding differences of ~1e-7 a bit.
TOLS = {np.float64: (1e-9, 1e-9), np.float32: (1e-4, 1e-4)}


# ----- the models, written once for both libraries ------------------------------------------
def make_mlp(lib, n_in=16, n_hidden=64, n_out=8):
    nn = lib.nn
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.GELU(), nn.Linear(n_hidden, n_out))


def make_transformer(lib, vocab=23, n_embd=32, n_head=4, block_size=16):
    """One pre-LN transformer block between embeddings and a language-model head."""
    nn, F = lib.nn, lib.nn.functional

    class TinyTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.wpe = nn.Embedding(block_size, n_embd)
            self.ln_1 = nn.LayerNorm(n_embd)
            # no bias here: the key bias's true gradient is exactly zero (softmax ignores a
            # constant added to every score of a query), so its float32 gradient is pure rounding
            # noise, which Adam scales up to lr-sized steps in both libraries differently
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                     nn.Linear(4 * n_embd, n_embd))
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab, bias=False)

        def forward(self, idx):
            B, T = idx.shape
            x = self.wte(idx) + self.wpe(lib.arange(T))
            q, k, v = self.c_attn(self.ln_1(x)).split(n_embd, dim=2)
            q, k, v = (t.view(B, T, n_head, n_embd // n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, n_embd))
            x = x + self.mlp(self.ln_2(x))
            return self.head(self.ln_f(x))

    return TinyTransformer()


def mlp_batches(rng, dtype, n=STEPS, batch=32):
    """Regression batches: targets are a fixed nonlinear function of the inputs, plus noise."""
    w = 0.25 * rng.standard_normal((16, 8))
    out = []
    for _ in range(n):
        x = rng.standard_normal((batch, 16))
        y = np.sin(x @ w) + 0.1 * rng.standard_normal((batch, 8))
        out.append((x.astype(dtype), y.astype(dtype)))
    return out


def lm_batches(rng, dtype, n=STEPS, batch=8, T=16, vocab=23):
    """Token batches with learnable structure: each sequence counts up by a random stride."""
    out = []
    for _ in range(n):
        start = rng.integers(0, vocab, (batch, 1))
        stride = rng.integers(1, 4, (batch, 1))
        seq = (start + stride * np.arange(T + 1)) % vocab
        out.append((seq[:, :-1].astype(np.int64), seq[:, 1:].astype(np.int64)))
    return out


# ----- one training run, same code for both libraries --------------------------------------
def train(lib, model, batches, loss_name, max_norm):
    """50 steps of AdamW with clipping; returns (losses, clip norms) as float arrays."""
    F = lib.nn.functional
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = lib.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                           {"params": no_decay, "weight_decay": 0.0}], lr=3e-3,
                          betas=(0.9, 0.99))
    losses, norms = [], []
    for x, y in batches:
        x, y = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())
        out = model(x)
        if loss_name == "mse":
            loss = F.mse_loss(out, y)
        else:
            loss = F.cross_entropy(out.view(-1, out.size(-1)), y.view(-1))
        loss.backward()
        norms.append(lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return np.array(losses), np.array(norms)


def twins(make, dtype):
    """The numpy2gpt model (numpy2gpt's own init) and a PyTorch twin with the same weights."""
    ng.manual_seed(0)
    ours = make(ng)
    theirs = make(pt)
    ours = ours.double() if dtype == np.float64 else ours.float()
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    state = {k: pt.from_numpy(v.detach().numpy().copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["mlp", "transformer"])
def test_loss_curve_matches_pytorch(name, dtype):
    # max_norm is chosen so that clipping acts on some steps and not on others
    make, batches, loss_name, max_norm = {
        "mlp": (make_mlp, mlp_batches, "mse", 0.25),
        "transformer": (make_transformer, lm_batches, "cross_entropy", 0.6),
    }[name]
    data = batches(np.random.default_rng(0), dtype)
    ours, theirs = twins(make, dtype)
    assert all(p.dtype == np.dtype(dtype) for p in ours.parameters())

    ours_losses, ours_norms = train(ng, ours, data, loss_name, max_norm)
    torch_losses, torch_norms = train(pt, theirs, data, loss_name, max_norm)

    # a real training run: the loss falls, and clipping acts on some steps but not all
    assert torch_losses[-5:].mean() < 0.7 * torch_losses[:5].mean(), torch_losses
    assert 0 < (torch_norms > max_norm).sum() < STEPS, torch_norms

    rtol, p_rtol = TOLS[dtype]
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=rtol, err_msg="loss curve")
    np.testing.assert_allclose(ours_norms, torch_norms, rtol=rtol, err_msg="clip_grad_norm_")
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for k, p in ours_params.items():
        a, b = p.detach().numpy(), theirs_params[k].detach().numpy()
        assert a.dtype == b.dtype == np.dtype(dtype), k
        np.testing.assert_allclose(a, b, rtol=p_rtol, atol=p_rtol * np.abs(b).max(),
                                   err_msg=f"final parameter {k}")
