"""Utilities: graph plots (`get_dot_graph`, `plot_dot_graph`), allocator tuning (`tune_malloc`,
`release_malloc`), `data` (PyTorch's torch.utils.data: datasets, samplers, DataLoader) and
`checkpoint` (torch.utils.checkpoint: gradient checkpointing)."""

from . import checkpoint, data
from .graph import get_dot_graph, plot_dot_graph
from .memory import release_malloc, tune_malloc

__all__ = ["checkpoint", "data", "get_dot_graph", "plot_dot_graph", "release_malloc", "tune_malloc"]
