"""Graph plots: the seed README's goldstein example at verbose True/False to .dot/.png/.svg/.pdf.

The DOT text is checked everywhere; rendering it needs Graphviz's `dot`, so those tests skip
(saying how to install it) where it is missing.
"""

import pytest
from torch_compare import requires_dot

import numpy2gpt as torch
from numpy2gpt.utils import get_dot_graph, plot_dot_graph
from numpy2gpt.utils import graph as graph_mod


def goldstein(x, y):
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y + 27 * y ** 2)
    return a * b


def _graph():
    x = torch.tensor(1.0, requires_grad=True, name="x")
    y = torch.tensor(1.0, requires_grad=True, name="y")
    z = goldstein(x, y)
    z.name = "z"
    return x, y, z


def test_goldstein_gradient_matches_dezero_book():
    x, y, z = _graph()
    z.backward()
    assert z.item() == 1876.0
    assert x.grad.item() == -5376.0 and y.grad.item() == 8064.0


def test_dot_text_has_names_colors_and_shapes():
    _, _, z = _graph()
    text = get_dot_graph(z)
    assert text.startswith("digraph g {") and text.endswith("}")
    assert 'label="x", color=lightgreen' in text and 'label="z", color=lightgreen' in text
    assert "color=orange" in text  # unnamed intermediate tensors
    assert "shape=box" in text and "color=lightblue" in text
    assert "(1,)" not in text and "float32" not in text  # shapes only when verbose
    verbose = get_dot_graph(z, verbose=True)
    assert "x: () numpy2gpt.float32" in verbose


@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("ext", ["dot", pytest.param("png", marks=requires_dot),
                                 pytest.param("svg", marks=requires_dot),
                                 pytest.param("pdf", marks=requires_dot)])
def test_plot_renders_every_format(tmp_path, ext, verbose):
    _, _, z = _graph()
    out = tmp_path / f"dir with spaces/goldstein {verbose}.{ext}"
    out.parent.mkdir()
    plot_dot_graph(z, out, verbose=verbose)
    data = out.read_bytes()
    magic = {"dot": b"digraph", "png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[ext]
    assert data.startswith(magic)


def test_missing_dot_gives_install_hint_but_dot_text_still_works(tmp_path, monkeypatch):
    _, _, z = _graph()
    monkeypatch.setattr(graph_mod.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*brew install graphviz.*"
                                           r"conda install graphviz"):
        plot_dot_graph(z, tmp_path / "g.png")
    plot_dot_graph(z, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_a_path_without_extension_is_a_clear_error(tmp_path):
    _, _, z = _graph()
    with pytest.raises(ValueError, match="extension"):
        plot_dot_graph(z, tmp_path / "noext")


@requires_dot
def test_unknown_format_is_a_clear_error(tmp_path):
    _, _, z = _graph()
    with pytest.raises(RuntimeError, match="Graphviz `dot` failed"):
        plot_dot_graph(z, tmp_path / "g.notaformat")


def test_plot_after_backward_explains_retain_graph():
    _, _, z = _graph()
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        get_dot_graph(z)
