"""The backward engine against PyTorch: correct order on DAGs whose paths have different lengths
(the residual pattern the original numpy2gpt got wrong), at first, second and third order;
gradient accumulation, retain_grad, retain_graph, autograd.grad / autograd.backward and their
errors."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close

import numpy2gpt as ng

FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
         "after they have already been freed). Saved intermediate values of the graph are freed "
         "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
         "backward through the graph a second time or if you need to access saved tensors after "
         "calling backward.")


def residual_square(lib, x):
    a = x ** 2
    return a + lib.exp(lib.exp(a))  # `a` reaches y by a short and a long path


def residual_tanh(lib, x):
    h = lib.tanh(x)
    return h + lib.tanh(lib.tanh(h))


def diamond(lib, x):
    """Two branches of unequal length from `a`, joined, plus a skip connection from x."""
    a = lib.sin(x) * 2
    short = a * a
    long = lib.exp(lib.tanh(lib.sigmoid(a) * 3)) / (1 + a ** 2)
    return (short * long + x).sum()


def transformer_like(lib, x):
    """Two residual blocks: x + f(x), each f with a reduction, a broadcast and a matmul."""
    w = lib.tensor(np.linspace(-1.0, 1.0, 9).reshape(3, 3))
    for _ in range(2):
        mu = x.mean(-1, keepdim=True)
        h = lib.tanh((x - mu) @ w)
        x = x + h * lib.sigmoid(h)
    return (x ** 2).sum()


GRAPHS = [residual_square, residual_tanh, diamond, transformer_like]
INPUTS = {residual_square: np.array(0.5), residual_tanh: np.array([0.3, -0.7, 1.2]),
          diamond: np.array([0.3, -0.2, 0.9]), transformer_like: np.array([[0.1, -0.4, 0.8],
                                                                          [0.5, 0.2, -0.3]])}


def test_residual_first_derivative_is_the_known_value():
    x = ng.tensor(0.5, dtype=ng.float64, requires_grad=True)
    residual_square(ng, x).backward()
    # dy/dx = 2x (1 + e^a e^(e^a)) with a = x^2 = 0.25
    expected = 2 * 0.5 * (1 + np.exp(0.25) * np.exp(np.exp(0.25)))
    assert x.grad.item() == pytest.approx(expected, rel=1e-14)
    # (the exact value, and PyTorch's, is 5.6368043750...)
    assert x.grad.item() == pytest.approx(5.636804375024635, rel=1e-14)


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.__name__)
def test_derivatives_up_to_third_order_match_torch(graph):
    x_np = INPUTS[graph]
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, ty = graph(ng, x), graph(torch, tx)
    y, ty = y.sum(), ty.sum()
    assert_close(y, ty)
    g, tg = x, tx
    for order in (1, 2, 3):
        out, t_out = (y, ty) if order == 1 else (g.sum(), tg.sum())
        (g,) = ng.autograd.grad(out, x, create_graph=True)
        (tg,) = torch.autograd.grad(t_out, tx, create_graph=True)
        assert g.requires_grad  # differentiable again
        assert_close(g, tg, 1e-9, what=f"derivative of order {order}")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.__name__)
def test_second_order_through_backward_create_graph(graph):
    """The `.backward(create_graph=True)` route: x.grad carries a graph of its own."""
    x_np = INPUTS[graph]
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    graph(ng, x).sum().backward(create_graph=True)
    graph(torch, tx).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    gx, tgx = x.grad, tx.grad
    (h,) = ng.autograd.grad((gx * gx).sum(), x)
    (th,) = torch.autograd.grad((tgx * tgx).sum(), tx)
    assert_close(h, th, 1e-8)


def _random_dag(lib, xs, seed, n_nodes=30):
    """A random DAG: each node combines two random earlier nodes, so paths of every length meet."""
    rng = np.random.default_rng(seed)
    nodes = list(xs)
    unary = [lib.tanh, lib.sin, lambda t: t * 0.5, lib.sigmoid, lambda t: t.exp() * 0.1]
    for _ in range(n_nodes):
        a, b = (nodes[i] for i in rng.integers(0, len(nodes), 2))
        kind = rng.integers(0, 4)
        if kind == 0:
            node = a + b
        elif kind == 1:
            node = a * b
        elif kind == 2:
            node = unary[rng.integers(0, len(unary))](a) - b
        else:
            node = unary[rng.integers(0, len(unary))](a + b)
        nodes.append(node)
    return sum(n.sum() for n in nodes[-5:])


@pytest.mark.parametrize("seed", range(6))
def test_random_dags_match_torch(seed):
    rng = np.random.default_rng(100 + seed)
    arrays = [rng.standard_normal(3) * 0.5 for _ in range(3)]
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = _random_dag(ng, xs, seed), _random_dag(torch, txs, seed)
    assert_close(y, ty)
    y.backward()
    ty.backward()
    for x, tx in zip(xs, txs):
        if tx.grad is None:  # this input was not drawn into the graph
            assert x.grad is None
        else:
            assert_close(x.grad, tx.grad, 1e-8)


def test_tensor_used_several_times_sums_its_gradients():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    (x * x + x + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 1 + np.exp([1.0, 2.0]),
                               rtol=1e-6)


def test_deep_chain_has_no_recursion_limit():
    x = ng.tensor([0.5], dtype=ng.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000, rel=1e-10)
    x2 = ng.tensor([0.5], dtype=ng.float64, requires_grad=True)
    y = x2
    for _ in range(3000):
        y = y * 1.0001
    (g,) = ng.autograd.grad(y.sum(), x2, create_graph=True)
    assert g.item() == pytest.approx(1.0001 ** 3000, rel=1e-10)


# ----- .grad bookkeeping --------------------------------------------------------------------
def test_leaf_grad_accumulates_across_calls():
    x, tx = ng.tensor([1.0, -2.0], requires_grad=True), torch.tensor([1.0, -2.0],
                                                                      requires_grad=True)
    for _ in range(3):
        (x ** 3).sum().backward()
        (tx ** 3).sum().backward()
        assert_close(x.grad, tx.grad)
    assert x.grad.tolist() == [9.0, 36.0]
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grads_handed_to_different_leaves_are_separate_arrays():
    a = ng.tensor([1.0], requires_grad=True)
    b = ng.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient to both inputs
    with ng.no_grad():
        a.grad.mul_(5)
    assert b.grad.tolist() == [1.0]


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_grad_never_shares_memory_with_the_gradient_passed_to_backward(lib):
    w = lib.zeros(3, requires_grad=True)
    g = lib.ones(3)
    (w + 1).backward(g)  # Add passes g through unchanged
    w.grad.zero_()
    w.backward(g)  # w is the output itself
    w.grad.zero_()
    h = w * 1
    h.retain_grad()
    h.backward(g)
    h.grad.zero_()
    assert g.tolist() == [1.0, 1.0, 1.0] and w.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_second_backward_adds_into_the_same_grad_tensor(lib):
    a = lib.ones(3, requires_grad=True)
    (a * 2).sum().backward()
    first, version = a.grad, a.grad._version
    (a * 3).sum().backward()
    assert a.grad is first and first.tolist() == [5.0, 5.0, 5.0] and first._version > version
    flat = lib.zeros(6)
    p = lib.ones(4, requires_grad=True)
    p.grad = flat[1:5]  # a gradient buffer the .grad views
    (p * 2).sum().backward()
    (p * p).sum().backward()  # both uses of p in one pass: the sum lands in the buffer too
    assert flat.tolist() == [0.0, 4.0, 4.0, 4.0, 4.0, 0.0]


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_a_retained_grad_is_an_ordinary_writable_tensor(lib):
    a = lib.ones(3, requires_grad=True)
    b = a + 0
    b.retain_grad()
    b.sum().backward()  # sum's gradient is one number broadcast to b's shape
    b.grad.mul_(5)
    assert b.grad.tolist() == [5.0, 5.0, 5.0] and a.grad.tolist() == [1.0, 1.0, 1.0]


def test_non_leaf_grad_only_with_retain_grad():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = h.exp()
    k.retain_grad()
    (k * h).sum().backward()
    assert h.grad is None  # not retained
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    th = tx * 3
    tk = th.exp()
    tk.retain_grad()
    (tk * th).sum().backward()
    assert_close(k.grad, tk.grad)
    assert_close(x.grad, tx.grad)
    assert not k.grad.requires_grad


def test_retained_grad_accumulates_across_calls():
    grads = []
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = (x * 3).exp()
        h.retain_grad()
        (h * h).sum().backward(retain_graph=True)
        (h * 2).sum().backward()  # a second pass adds to h.grad, as it does to a leaf's
        grads.append(h.grad)
    assert_close(*grads)


def test_backward_on_a_leaf_sets_its_grad():
    x = ng.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_with_explicit_gradient_for_non_scalar():
    x_np = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[0.1, -1.0], [2.0, 0.5]])
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (x.sin() * 2).backward(ng.tensor(w))
    (tx.sin() * 2).backward(torch.tensor(w))
    assert_close(x.grad, tx.grad)
    x.grad = None
    (x * 1.0).backward(w.tolist())  # a plain list is accepted too
    assert x.grad.tolist() == w.tolist()
    x32 = ng.tensor([1.0, 2.0], requires_grad=True)
    (x32 * 2).backward(ng.tensor([1.0, 1.0], dtype=ng.float64))  # cast to the output's dtype
    assert x32.grad.dtype == ng.float32 and x32.grad.tolist() == [2.0, 2.0]


# ----- retain_graph ----------------------------------------------------------------------------
def test_second_backward_without_retain_graph_raises_pytorchs_error():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == FREED
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ng.autograd.grad(y, x)


def test_second_backward_through_a_freed_inner_node_raises():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y1, y2 = (h * 2).sum(), (h * 3).sum()
    y1.backward()  # frees h's creator too
    with pytest.raises(RuntimeError, match="second time"):
        y2.backward()


def test_retain_graph_allows_a_second_backward():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.tolist()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(first), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_saved_buffers_are_freed_after_backward():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = (y * x).sum()
    node = y.grad_fn
    assert hasattr(node, "inputs")
    z.backward(retain_graph=True)
    assert hasattr(node, "inputs")  # retained
    z.backward()
    assert not hasattr(node, "inputs") and not hasattr(node, "output_arrays")
    assert repr(node) == "<ExpBackward0>"  # still printable


# ----- autograd.grad / autograd.backward -------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, tx = ng.tensor([0.5, 1.5], requires_grad=True), torch.tensor([0.5, 1.5],
                                                                     requires_grad=True)
    w, tw = ng.tensor([2.0, -1.0], requires_grad=True), torch.tensor([2.0, -1.0],
                                                                     requires_grad=True)
    gx, gw = ng.autograd.grad((x * w).exp().sum(), [x, w])
    tgx, tgw = torch.autograd.grad((tx * tw).exp().sum(), [tx, tw])
    assert_close(gx, tgx)
    assert_close(gw, tgw)
    assert x.grad is None and w.grad is None and not gx.requires_grad
    (single,) = ng.autograd.grad((x * 2).sum(), x)  # a single input gives a 1-tuple
    assert single.tolist() == [2.0, 2.0]


def test_autograd_grad_with_respect_to_a_non_leaf():
    x_np = np.array([0.2, -0.4])
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    h, th = x.tanh(), tx.tanh()
    y, ty = (h.exp() * h + h).sum(), (th.exp() * th + th).sum()
    (gh,) = ng.autograd.grad(y, h, retain_graph=True)
    (tgh,) = torch.autograd.grad(ty, th, retain_graph=True)
    assert_close(gh, tgh)
    gh2, gx = ng.autograd.grad(y, [h, x])  # both the intermediate and the leaf
    assert_close(gh2, tgh)
    assert_close(gx, torch.autograd.grad(ty, tx)[0])


def test_autograd_grad_allow_unused():
    x = ng.tensor([1.0], requires_grad=True)
    unused = ng.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError) as ours:
        ng.autograd.grad(y, [x, unused], retain_graph=True)
    tx, tunused = torch.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.autograd.grad((tx * 2).sum(), [tx, tunused])
    assert str(ours.value) == str(theirs.value)  # "The differentiated Tensor at index 1 ..."
    gx, gu = ng.autograd.grad(y, [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_autograd_grad_outputs_for_non_scalar_and_several_outputs():
    x_np = np.array([[1.0, 2.0], [3.0, 4.0]])
    w1, w2 = np.array([[1.0, 0.5], [-1.0, 2.0]]), np.array([3.0, -2.0])
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (g,) = ng.autograd.grad([x.sin(), x.sum(0)], x, grad_outputs=[ng.tensor(w1), ng.tensor(w2)])
    (tg,) = torch.autograd.grad([tx.sin(), tx.sum(0)], tx,
                                grad_outputs=[torch.tensor(w1), torch.tensor(w2)])
    assert_close(g, tg)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        ng.autograd.grad(x.sin(), x)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "
                                           r"numpy2gpt.Size\(\[3\]\) and output\[0\] has a shape "
                                           r"of numpy2gpt.Size\(\[2, 2\]\)"):
        ng.autograd.grad(x.sin(), x, grad_outputs=ng.ones(3))


def test_autograd_grad_runs_only_the_needed_part_of_the_graph():
    """Nodes upstream of the requested inputs are not run (PyTorch prunes them too): here that
    is a FusedFunction, which cannot do double backward."""

    class FusedDouble(ng.autograd.FusedFunction):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy

    x = ng.tensor([1.0, 2.0], requires_grad=True)
    h = FusedDouble()(x)
    y = (h.tanh() ** 2).sum()
    (gh,) = ng.autograd.grad(y, h, create_graph=True)  # never touches FusedDouble
    (g2,) = ng.autograd.grad(gh.sum(), h)
    th = torch.tensor([2.0, 4.0], requires_grad=True)
    (tgh,) = torch.autograd.grad((th.tanh() ** 2).sum(), th, create_graph=True)
    assert_close(g2, torch.autograd.grad(tgh.sum(), th)[0])
    assert h.grad_fn.released is False  # not run, so not freed either


def test_autograd_grad_error_messages():
    x = ng.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors \\(input 0\\) does "
                                           "not require grad"):
        ng.autograd.grad((x * 2).sum(), ng.tensor([1.0]))
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        ng.autograd.grad(ng.tensor(1.0), x)


def test_autograd_backward_several_roots_where_one_depends_on_the_other():
    x_np = np.array([0.3, 0.6])
    x, tx = ng.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    h, th = x.sin(), tx.sin()
    y, ty = (h * h).sum(), (th * th).sum()
    ng.autograd.backward([h, y], [ng.ones(2, dtype=ng.float64), None])
    torch.autograd.backward([th, ty], [torch.ones(2, dtype=torch.float64), None])
    assert_close(x.grad, tx.grad)


def test_backward_errors_name_the_problem():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           r"outputs \(output 0 has shape \[2\]\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        ng.tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ng.ones(3))
    with ng.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


# ----- backward(inputs=...), grad(materialize_grads=...) ------------------------------------------
@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_backward_with_inputs_fills_only_their_grads(lib):
    a, b, c = (lib.ones(2, requires_grad=True) for _ in range(3))
    h = a * 3
    y = (h * b).sum()
    y.backward(inputs=[h, b], retain_graph=True)
    assert a.grad is None and b.grad.tolist() == [3.0, 3.0] and h.grad.tolist() == [1.0, 1.0]
    y.backward(inputs=b, retain_graph=True)
    assert b.grad.tolist() == [6.0, 6.0] and a.grad is None
    lib.autograd.backward(y, inputs=[c], retain_graph=True)  # not in the graph: left as it was
    assert c.grad is None
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be "
                                           "empty"):
        y.backward(inputs=[])


@pytest.mark.parametrize("lib", [ng, torch], ids=["numpy2gpt", "torch"])
def test_grad_materializes_unused_inputs_as_zeros(lib):
    a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
    ga, gb = lib.autograd.grad((a * 2).sum(), (a, b), materialize_grads=True)
    assert ga.tolist() == [2.0, 2.0] and gb.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
        lib.autograd.grad((a * 2).sum(), (a, b), materialize_grads=True, allow_unused=False)
