"""Utilities: graph plots (`get_dot_graph`, `plot_dot_graph`)."""

from .graph import get_dot_graph, plot_dot_graph

__all__ = ["get_dot_graph", "plot_dot_graph"]
