"""Utilities: graph plots (`get_dot_graph`, `plot_dot_graph`), allocator tuning (`tune_malloc`,
`release_malloc`)."""

from .graph import get_dot_graph, plot_dot_graph
from .memory import release_malloc, tune_malloc

__all__ = ["get_dot_graph", "plot_dot_graph", "release_malloc", "tune_malloc"]
