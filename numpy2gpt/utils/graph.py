"""Draw the autograd graph with Graphviz: tensors as ellipses, Functions as boxes.

`get_dot_graph(y)` walks from `y` back through `grad_fn` links and returns DOT text;
`plot_dot_graph(y, "graph.png")` writes `.dot` text directly or renders any other extension with
Graphviz's `dot` program (run without a shell, so paths with spaces are safe).
With `cluster_modules=True`, Functions recorded inside an `nn.Module` call are grouped in one
box per module (their `module_path`), nested like the modules are, which makes a transformer's
graph readable.
"""

import os
import shutil
import subprocess
import tempfile

from ..dtypes import dtype_name

_TENSOR = '{} [label="{}", color=orange, style=filled]\n'
_NAMED_TENSOR = '{} [label="{}", color=lightgreen, style=filled]\n'
_FUNCTION = '{} [label="{}", color=lightblue, style=filled, shape=box]\n'
_EDGE = "{} -> {}\n"


def _quote(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _tensor_node(t, verbose):
    label = t.name or ""
    if verbose:
        label += (": " if label else "") + f"{tuple(t.shape)} {dtype_name(t.dtype)}"
    template = _NAMED_TENSOR if t.name else _TENSOR
    return template.format(id(t), _quote(label))


def get_dot_graph(output, verbose=False, cluster_modules=False):
    """DOT source of the graph that produced `output` (a Tensor or a list of Tensors)."""
    outputs = output if isinstance(output, list | tuple) else [output]
    nodes, edges, clusters = [], [], {}
    seen_fns, seen_tensors = set(), set()

    def add_tensor(t):
        if id(t) not in seen_tensors:
            seen_tensors.add(id(t))
            nodes.append(_tensor_node(t, verbose))

    def add_function(f, out_ids):
        node = _FUNCTION.format(id(f), _quote(type(f).__name__))
        path = getattr(f, "module_path", None) if cluster_modules else None
        (clusters.setdefault(path, []) if path else nodes).append(node)
        for oid in out_ids:
            edges.append(_EDGE.format(id(f), oid))

    stack = []
    for y in outputs:
        add_tensor(y)
        if y.grad_fn is not None and y.grad_fn not in seen_fns:
            seen_fns.add(y.grad_fn)
            stack.append((y.grad_fn, [id(y)]))
    while stack:
        f, out_ids = stack.pop()
        if f.released:
            raise RuntimeError("the graph was freed by backward(); call backward(retain_graph="
                               "True) to plot it afterwards, or plot before backward")
        add_function(f, out_ids)
        for x, (creator, _) in zip(f.inputs, f.edges):
            add_tensor(x)
            edges.append(_EDGE.format(id(x), id(f)))
            if creator is not None and creator not in seen_fns:
                seen_fns.add(creator)
                stack.append((creator, [id(x)]))

    return "digraph g {\n" + "".join(nodes) + _clusters(clusters) + "".join(edges) + "}"


def _clusters(members_by_path):
    """Nested `subgraph cluster_...` blocks: "h.0.attn" sits inside "h.0", which sits inside "h"."""
    tree = {}  # path -> child paths
    for path in members_by_path:
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            parent = ".".join(parts[:i - 1])
            tree.setdefault(parent, set()).add(".".join(parts[:i]))
    counter = iter(range(10**9))

    def emit(path):
        inner = "".join(members_by_path.get(path, [])) + "".join(
            emit(child) for child in sorted(tree.get(path, ())))
        return (f'subgraph cluster_{next(counter)} {{\nlabel="{_quote(path)}"\nstyle=rounded\n'
                + inner + "}\n")

    return "".join(emit(child) for child in sorted(tree.get("", ())))


def plot_dot_graph(output, to_file="graph.png", verbose=False, cluster_modules=False):
    """Write the graph to `to_file`: DOT text for `.dot`, else rendered by Graphviz's `dot`."""
    text = get_dot_graph(output, verbose=verbose, cluster_modules=cluster_modules)
    to_file = os.fspath(to_file)
    ext = os.path.splitext(to_file)[1].lstrip(".").lower()
    if ext in ("dot", "gv"):
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(text)
        return to_file
    if not ext:
        raise ValueError(f"cannot tell the output format of {to_file!r}: give it an extension "
                         "such as .png, .svg, .pdf or .dot")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "Graphviz's `dot` program was not found, so the graph cannot be rendered to "
            f".{ext}. Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: "
            "`brew install graphviz`, conda: `conda install graphviz`) or write a .dot file.")
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False, encoding="utf-8") as f:
        f.write(text)
        dot_path = f.name
    try:
        proc = subprocess.run([dot, dot_path, "-T", ext, "-o", to_file], capture_output=True,
                              text=True)
    finally:
        os.unlink(dot_path)
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz `dot` failed (exit {proc.returncode}) rendering "
                           f"{to_file!r}: {proc.stderr.strip()}")
    return to_file
