"""numpy2gpt.nn.parallel: data-parallel training over processes (PyTorch's torch.nn.parallel)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
