"""The GPT language model: nanoGPT's model.py, ported to numpy2gpt, in one file.

Read it top to bottom, the way data flows:
1. GPTConfig             - the hyper-parameters (nanoGPT's defaults are GPT-2 small's).
2. CausalSelfAttention   - each token mixes in information from the tokens before it.
3. MLP                   - each token is transformed on its own (4x wider hidden layer, GELU).
4. Block                 - pre-LayerNorm residual block: x + attn(ln(x)), then x + mlp(ln(x)).
5. GPT                   - token + position embeddings -> n_layer Blocks -> LayerNorm -> logits.
   GPT.generate          - sampling (temperature, top-k, top-p), with a KV cache: the cached
                           forward pass runs on plain arrays without autograd (decode.py).

The code is written against PyTorch's API (`import numpy2gpt as torch`): swap the import and it is,
line for line, a PyTorch model with nanoGPT's parameter names, so a nanoGPT state dict (converted
to NumPy arrays) loads into it unchanged. One call is numpy2gpt's own: training attention uses
`F.causal_self_attention`, a fused shortcut for nanoGPT's split / view / transpose / SDPA lines
(spelled out in its docstring).

References: nanoGPT (https://github.com/karpathy/nanoGPT/blob/master/model.py);
GPT-2 (Radford et al. 2019); "Attention is all you need" (Vaswani et al. 2017).
"""

import dataclasses
import difflib
import math
from dataclasses import dataclass

import numpy as np

import numpy2gpt as torch
from numpy2gpt import nn
from numpy2gpt.nn import functional as F

from .decode import Decoder, sample
from .mfu import measure_matmul_peak


# ----------------------------------------------------------------------------------------------
# 1. Configuration
# ----------------------------------------------------------------------------------------------
@dataclass
class GPTConfig:
    block_size: int = 1024  # the longest sequence the model reads (number of positions)
    vocab_size: int = 50304  # GPT-2's 50257 tokens, padded up to a multiple of 64
    n_layer: int = 12  # number of Blocks
    n_head: int = 12  # attention heads per Block
    n_embd: int = 768  # width of every token's vector
    dropout: float = 0.0
    bias: bool = True  # biases in Linears and LayerNorms, like GPT-2; False is a bit better/faster
    gelu: str = "none"  # GELU's `approximate`: "none" (exact, erf) or "tanh" (GPT-2 checkpoints)

    def __new__(cls, *args, **kwargs):
        # A dataclass rejects an unknown keyword with a bare TypeError; a config usually comes
        # from a file or the command line, where a typo deserves a suggestion.
        fields = [f.name for f in dataclasses.fields(cls)]
        for key in kwargs:
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=3, cutoff=0.6)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                raise TypeError(f"GPTConfig: unknown config key {key!r}.{hint} "
                                f"Valid keys: {', '.join(fields)}")
        return super().__new__(cls)

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head "
                             f"({self.n_head}): each head gets n_embd // n_head channels")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout!r}")
        if self.gelu not in ("none", "tanh"):
            raise ValueError(f"GPTConfig: gelu must be 'none' or 'tanh', got {self.gelu!r}")


# ----------------------------------------------------------------------------------------------
# 2. Attention
# ----------------------------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, in one batched Linear
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        # output projection
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        # regularization (attention-weight dropout is SDPA's dropout_p; attn_dropout is kept for
        # nanoGPT's module layout, where its non-flash path uses it)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x):
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)

        # query, key, values for all heads in batch, side by side: (B, T, 3 * C)
        qkv = self.c_attn(x)
        dropout_p = self.dropout if self.training else 0.0
        # causal self-attention of the T tokens. One fused op does what nanoGPT writes as
        # split -> view -> transpose -> scaled_dot_product_attention -> transpose back, without
        # the graph nodes and copies in between.
        y = F.causal_self_attention(qkv, self.n_head, dropout_p)

        # output projection
        y = self.resid_dropout(self.c_proj(y))
        return y


# ----------------------------------------------------------------------------------------------
# 3.-4. MLP and the transformer Block
# ----------------------------------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate=config.gelu)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


# ----------------------------------------------------------------------------------------------
# 5. The GPT
# ----------------------------------------------------------------------------------------------
def _as_tokens(x, name):
    """`x` (a Tensor, NumPy array or nested list of token ids) as an integer Tensor of (B, T)."""
    t = torch.as_tensor(x)
    if t.dtype.kind not in "iu":  # signed or unsigned integer
        raise TypeError(f"{name} must hold integer token ids, got dtype {t.dtype}")
    if t.dim() != 2:
        raise ValueError(f"{name} must have shape (batch, time), got shape {list(t.shape)}")
    return t


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config

        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying (https://paperswithcode.com/method/weight-tying): the token embedding and
        # the output layer are the same Parameter, so one gradient gets both contributions.
        self.transformer.wte.weight = self.lm_head.weight

        # init all weights
        self.apply(self._init_weights)
        # apply special scaled init to the residual projections, per GPT-2 paper: each Block adds
        # two of them to the residual stream, so their variance is divided by 2 * n_layer
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

        # report number of parameters
        print(f"number of parameters: {self.get_num_params() / 1e6:.2f}M")

    def get_num_params(self, non_embedding=True):
        """Return the number of parameters in the model.

        For non-embedding count (default), the position embeddings get subtracted. The token
        embeddings would too, except due to the parameter sharing these params are actually used
        as weights in the final layer, so we include them.
        """
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        """Logits for token ids `idx` (B, T), and the loss if `targets` (B, T) are given.

        With targets: logits (B, T, vocab_size) and the mean cross-entropy (targets -1 are
        ignored). Without: only the last position's logits (B, 1, vocab_size) and None - all that
        generation needs, and a T-times smaller final matmul.
        """
        idx = _as_tokens(idx, "idx")
        b, t = idx.size()
        if t > self.config.block_size:
            raise ValueError(f"Cannot forward sequence of length {t}, block size is only "
                             f"{self.config.block_size}")
        if t == 0:
            raise ValueError("Cannot forward an empty sequence (idx has shape (B, 0))")
        pos = torch.arange(0, t, dtype=torch.long)  # shape (t)

        # forward the GPT model itself
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)

        if targets is not None:
            targets = _as_tokens(targets, "targets")
            if targets.shape != idx.shape:
                raise ValueError(f"targets must have the shape of idx {list(idx.shape)}, got "
                                 f"{list(targets.shape)}")
            # if we are given some desired targets also calculate the loss
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)
        else:
            # inference-time mini-optimization: only forward the lm_head on the very last
            # position (nanoGPT writes x[:, [-1], :]; a slice keeps the time dim the same way)
            logits = self.lm_head(x[:, -1:, :])
            loss = None

        return logits, loss

    @classmethod
    def from_pretrained(cls, path, dtype=None, dropout=0.0):
        """Load a Hugging Face GPT-2 folder or cached model name (see gpt/pretrained.py)."""
        from .pretrained import from_pretrained

        return from_pretrained(path, dtype, dropout)

    def save_pretrained(self, path, tokenizer=None):
        """Write config.json + model.safetensors that transformers' GPT2LMHeadModel loads."""
        from .pretrained import save_pretrained

        return save_pretrained(self, path, tokenizer)

    def crop_block_size(self, block_size):
        """Model surgery to decrease the block size if necessary.

        E.g. we may load the GPT-2 pretrained model checkpoint (block size 1024) but want to use a
        smaller block size for some smaller, simpler model.
        """
        if not 0 < block_size <= self.config.block_size:
            raise ValueError(f"crop_block_size: block_size must be in 1..{self.config.block_size}"
                             f" (the current block size), got {block_size}")
        self.config.block_size = block_size
        wpe = self.transformer.wpe
        wpe.weight = nn.Parameter(wpe.weight.detach()[:block_size].clone())
        wpe.num_embeddings = block_size

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type=None,
                             verbose=True):
        """AdamW with weight decay on the matrices (2-D+) only, not on biases and LayerNorm gains.

        `device_type` is accepted for nanoGPT compatibility (numpy2gpt runs on the CPU);
        `verbose=False` skips printing the parameter counts.
        """
        # start with all of the candidate parameters that require grad
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        # any parameter that is 2D will be weight decayed, otherwise no: all weight tensors in
        # matmuls + embeddings decay, all biases and layernorms don't.
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        num_decay_params = sum(p.numel() for p in decay_params)
        num_nodecay_params = sum(p.numel() for p in nodecay_params)
        if verbose:
            print(f"num decayed parameter tensors: {len(decay_params)}, "
                  f"with {num_decay_params:,} parameters")
            print(f"num non-decayed parameter tensors: {len(nodecay_params)}, "
                  f"with {num_nodecay_params:,} parameters")
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    def estimate_mfu(self, fwdbwd_per_iter, dt, peak_flops=None):
        """Model FLOPs utilization: achieved FLOP/s over the machine's float32 matmul peak.

        `fwdbwd_per_iter` sequences (batch_size * gradient accumulation steps) of block_size
        tokens took `dt` seconds. `peak_flops` defaults to this machine's measured matmul peak
        (mfu.py), not an A100's 312 TFLOPS: on a CPU that is the honest ceiling.
        """
        # first estimate the number of flops we do per iteration.
        # see PaLM paper Appendix B as ref: https://arxiv.org/abs/2204.02311
        N = self.get_num_params()
        cfg = self.config
        L, H, Q, T = cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size
        flops_per_token = 6 * N + 12 * L * H * Q * T
        flops_per_fwdbwd = flops_per_token * T
        flops_per_iter = flops_per_fwdbwd * fwdbwd_per_iter
        flops_achieved = flops_per_iter * (1.0 / dt)  # per second
        if peak_flops is None:
            peak_flops = measure_matmul_peak()
        return flops_achieved / peak_flops

    # ----- generation ----------------------------------------------------------------------------
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 use_cache=True, generator=None):
        """Take a conditioning sequence of indices idx (LongTensor of shape (b,t)) and complete
        the sequence max_new_tokens times, feeding the predictions back into the model each time.
        Returns idx with the new tokens appended, (b, t + max_new_tokens).

        Most likely you'll want to make sure to be in model.eval() mode of operation for this.
        See `generate_stream` for the arguments.
        """
        idx = _as_tokens(idx, "idx").long()
        new = list(self.generate_stream(idx, max_new_tokens, temperature, top_k, top_p,
                                        use_cache, generator))
        return torch.cat([idx] + new, dim=1)

    def generate_stream(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                        use_cache=True, generator=None):
        """Yield the next tokens (b, 1) one step at a time (so a caller can print as they come).

        temperature: logits are divided by it (< 1 sharper, > 1 flatter); 0 means greedy (argmax).
        top_k:       keep only the k most likely tokens.
        top_p:       nucleus sampling: keep the fewest most likely tokens whose probabilities sum
                     to at least top_p.
        use_cache:   reuse past keys/values (KV cache) instead of re-running the whole context;
                     the tokens are the same either way. The cached forward pass is decode.py's
                     (the same math on the parameter arrays, no autograd); it has no dropout, so
                     in training mode with dropout > 0 the modules run, uncached.
        generator:   a numpy2gpt.Generator to sample from (default: numpy2gpt's global one).
        The arguments are checked here, at the call, not at the first token.
        """
        idx = _as_tokens(idx, "idx").long()
        if idx.size(1) == 0:
            raise ValueError("generate needs a prompt of at least one token (idx has shape (B, 0))")
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be a positive integer or None, got {top_k}")
        if top_p is not None and not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1] or None, got {top_p}")
        vocab, ids = self.config.vocab_size, idx.numpy()
        lo, hi = (int(ids.min()), int(ids.max())) if ids.size else (0, 0)
        if lo < 0 or hi >= vocab:
            raise IndexError(f"generate: token id {lo if lo < 0 else hi} in idx is out of range "
                             f"for vocab_size = {vocab} (valid ids are 0 to {vocab - 1})")
        return self._stream(idx, max_new_tokens, temperature, top_k, top_p, use_cache, generator)

    def _stream(self, idx, max_new_tokens, temperature, top_k, top_p, use_cache, generator):
        block_size = self.config.block_size
        b, t = idx.shape
        tokens = np.empty((b, t + max_new_tokens), np.int64)  # the prompt, then each new token
        tokens[:, :t] = idx.numpy()
        # With the cache, the forward pass runs on plain arrays (decode.py: the same math without
        # autograd). It has no dropout, so a model in training mode with dropout runs its modules.
        decoder = None
        if use_cache and not (self.training and self.config.dropout > 0):
            decoder = Decoder(self, b, capacity=t + max_new_tokens)
        for n in range(t, t + max_new_tokens):  # n tokens so far
            if decoder is None:
                # no_grad around each step, never around the `yield`: grad mode is per thread,
                # so a `with` spanning the yield would switch gradients off in the caller's code.
                # If the sequence context is growing too long we must crop it at block_size.
                with torch.no_grad():
                    logits, _ = self(tokens[:, max(0, n - block_size):n])
                logits = logits.numpy()[:, -1, :]
            elif 0 < decoder.length < block_size:
                # the cache holds every token but the newest: feed just that one
                logits = decoder.step(tokens[:, n - 1])
            else:
                # first step, or the window is full: (re-)fill the cache from the last block_size
                # tokens. Positions shift when the window slides, so old keys cannot be reused;
                # this keeps cached output identical to uncached output.
                logits = decoder.prefill(tokens[:, max(0, n - block_size):n])
            tokens[:, n] = sample(logits, temperature, top_k, top_p, generator)
            yield torch.from_numpy(tokens[:, n:n + 1].copy())


__all__ = ["GPTConfig", "GPT", "Block", "MLP", "CausalSelfAttention"]
