"""nn.utils.parametrizations.orthogonal against PyTorch: for every map (matrix_exp, cayley,
householder, the default), with and without trivialization, on square, tall and wide Linear
weights and a batch of matrices, in float32 and float64: the weight after construction (the same
seed draws the same numbers), the output, the gradient reaching `original`, the weight after a few
SGD steps; assigning a weight (right_inverse); the state dict; PyTorch's errors."""

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as tpz
from torch_compare import assert_close, same_error

import numpy2gpt as ng
import numpy2gpt.nn.utils.parametrizations as npz

LIBS = ((ng, npz), (torch, tpz))
MAPS = [None, "matrix_exp", "cayley", "householder"]
# Linear(in, out) has an out x in weight: square, tall, wide
LINEARS = [(4, 4), (3, 6), (6, 3)]
DTYPES = {"float32": (ng.float32, torch.float32), "float64": (ng.float64, torch.float64)}
RTOL = {"float32": 2e-5, "float64": 1e-10}


def _train(lib, pz, in_features, out_features, orthogonal_map, use_trivialization, dtype):
    """Seed, build an orthogonal Linear, run 3 SGD steps on sum(y^2); returns the arrays to
    compare: the initial weight, the base, then per step the output, the gradient of
    `original` and the new weight."""
    lib.manual_seed(0)
    m = lib.nn.Linear(in_features, out_features, dtype=dtype)
    pz.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    arrays = [m.weight.detach().numpy().copy()]
    par = m.parametrizations.weight
    arrays.append(par[0].base.numpy().copy() if use_trivialization else np.zeros(1))
    x = lib.tensor(np.random.default_rng(1).standard_normal((5, in_features)), dtype=dtype)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        y = m(x)
        (y * y).sum().backward()
        arrays += [y.detach().numpy().copy(), par.original.grad.numpy().copy()]
        opt.step()
        arrays.append(m.weight.detach().numpy().copy())
    return arrays


@pytest.mark.parametrize("features", LINEARS)
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("use_trivialization", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_construction_gradients_and_sgd(features, orthogonal_map, use_trivialization,
                                               dtype):
    (ours, ng_dtype), (theirs, t_dtype) = (
        (_train(lib, pz, *features, orthogonal_map, use_trivialization, dt), dt)
        for (lib, pz), dt in zip(LIBS, DTYPES[dtype]))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a, b, RTOL[dtype], atol=RTOL[dtype] * max(1.0, float(np.abs(b).max())),
                     what=f"array {k}")
    W = ours[0] if features[1] >= features[0] else ours[0].T  # tall: orthonormal columns
    np.testing.assert_allclose(W.T @ W, np.eye(W.shape[1]), atol=1e-5)


def test_default_map():
    for features, expected in [((4, 4), "matrix_exp"), ((3, 6), "householder"),
                               ((6, 3), "householder")]:
        m = npz.orthogonal(ng.nn.Linear(*features))
        assert m.parametrizations.weight[0].orthogonal_map.name == expected
        assert type(m).__name__ == "ParametrizedLinear"


def _orthonormal(shape, rng):
    """A random (batch of) matrix with orthonormal columns, or rows when wide."""
    wide = shape[-2] < shape[-1]
    a = rng.standard_normal(shape[:-2] + ((shape[-1], shape[-2]) if wide else shape[-2:]))
    q = np.linalg.qr(a)[0]
    return q.swapaxes(-1, -2) if wide else q


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6), (2, 5, 3)])
@pytest.mark.parametrize("orthogonal_map,use_trivialization", [
    ("matrix_exp", True), ("cayley", True), ("householder", True), ("householder", False)])
@pytest.mark.parametrize("orthogonal", [True, False])
def test_assign_weight(shape, orthogonal_map, use_trivialization, orthogonal):
    """`module.weight = Q` stores right_inverse(Q): Q itself when orthogonal, its QR
    orthogonalisation otherwise (with random columns completing a non-square one)."""
    rng = np.random.default_rng(4)
    value = _orthonormal(shape, rng) if orthogonal else rng.standard_normal(shape)
    results = []
    for lib, pz in LIBS:
        lib.manual_seed(3)
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.randn(*shape, dtype=lib.float64))
        pz.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
        m.weight = lib.tensor(value)
        results.append((m.weight, m.parametrizations.weight.original))
    for a, b in zip(*results):
        assert_close(a, b, 1e-10, atol=1e-12)
    if orthogonal:
        assert_close(results[0][0], value, 1e-10, atol=1e-12)


def test_batch_of_matrices_gradient():
    grads = []
    for lib, pz in LIBS:
        lib.manual_seed(5)
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.randn(2, 5, 3, dtype=lib.float64))
        pz.orthogonal(m, orthogonal_map="cayley")
        (m.weight * lib.arange(30, dtype=lib.float64).reshape(2, 5, 3)).sum().backward()
        grads.append((m.weight, m.parametrizations.weight.original.grad))
    for a, b in zip(*grads):
        assert_close(a, b, 1e-10, atol=1e-12)


def test_state_dict_keys():
    keys = []
    for lib, pz in LIBS:
        keys.append(list(pz.orthogonal(lib.nn.Linear(3, 5)).state_dict()))
    assert keys[0] == keys[1]
    assert "parametrizations.weight.0.base" in keys[0]


def _wrong_shape(lib, pz):
    m = pz.orthogonal(lib.nn.Linear(3, 4))
    m.weight = lib.randn(3, 4)


def _assign_without_trivialization(orthogonal_map):
    def call(lib, pz):
        m = pz.orthogonal(lib.nn.Linear(3, 3), orthogonal_map=orthogonal_map,
                          use_trivialization=False)
        m.weight = lib.eye(3)
    return call


ERRORS = [
    (lambda lib, pz: pz.orthogonal(lib.nn.Linear(3, 3), "bias"), True),
    (lambda lib, pz: pz.orthogonal(lib.nn.Linear(3, 3), "nope"), True),
    (lambda lib, pz: pz.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr"), True),
    (lambda lib, pz: pz.orthogonal(lib.nn.Linear(3, 3), "weight", "cayley", False), True),
    (_assign_without_trivialization("matrix_exp"), True),
    (_assign_without_trivialization("cayley"), True),
    # PyTorch's message shows torch.Size([4, 3]), numpy2gpt's numpy2gpt.Size([4, 3])
    (_wrong_shape, False),
]


@pytest.mark.parametrize("call,same_message", ERRORS)
def test_errors(call, same_message):
    pz = {ng: npz, torch: tpz}
    same_error(lambda lib: call(lib, pz[lib]), same_message)


def test_wrong_shape_message():
    with pytest.raises(ValueError, match=r"of shape numpy2gpt.Size\(\[4, 3\]\). Got a tensor of "
                                         r"shape numpy2gpt.Size\(\[3, 4\]\)\.$"):
        _wrong_shape(ng, npz)
