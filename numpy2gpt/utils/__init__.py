"""Utilities: graph plots (`get_dot_graph`, `plot_dot_graph`), allocator tuning (`tune_malloc`,
`release_malloc`), and `data` (PyTorch's torch.utils.data: datasets, samplers, DataLoader)."""

from . import data
from .graph import get_dot_graph, plot_dot_graph
from .memory import release_malloc, tune_malloc

__all__ = ["data", "get_dot_graph", "plot_dot_graph", "release_malloc", "tune_malloc"]
