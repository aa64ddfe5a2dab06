"""numpy2gpt.gpt: a nanoGPT-class GPT on numpy2gpt (model, tokenizers, data, train, sample)."""

from .mfu import measure_matmul_peak
from .model import GPT, GPTConfig

__all__ = ["GPT", "GPTConfig", "measure_matmul_peak"]
