"""Matrix products: `@` (batched and broadcasting like `np.matmul`), mm, bmm, mv, dot, outer,
addmm / addmv / baddbmm / addr / addbmm, tensordot and einsum; renorm; trace and the triangle
indices.

For y = a @ b: dL/da = dL/dy @ b^T and dL/db = a^T @ dL/dy, then summed over any batch dims
that were broadcast. 1-D operands are treated as a row (a) or a column (b) vector. Most other
products here are built from matmul, mul and add, whose gradients are known; einsum has its own
Function (see Einsum), and tensordot is an einsum.
"""

import math
import string

import numpy as np

from .. import sparse
from ..autograd.function import _TENSOR_TYPES, Function
from ..tensor import _TYPE_NAMES, Tensor, _check_dim, type_name
from ._util import CPP_TYPE_NAMES, as_tensor, int_arg, renamed, require_tensor
from .inplace import _method_in_place
from .shape import broadcast_to, diagonal, reshape


class MatMul(Function):
    # PyTorch names the node after the kernel it picks: dot, matrix-vector or matrix-matrix, and
    # for the other shapes after the last step around its mm / bmm: the squeeze of a vector
    # times a matrix, the copy of a matrix times a batch, the view of a batch back to its dims
    _NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
              (1, 2): "SqueezeBackward4"}

    def forward(self, a, b):
        self.grad_fn_name = self._NAMES.get((a.ndim, b.ndim), "CloneBackward0" if a.ndim == 2
                                            else "UnsafeViewBackward0")
        return np.matmul(a, b)

    def backward(self, gy):
        from .arithmetic import sum_to

        a, b = self.saved_tensors
        a2 = a if a.ndim > 1 else reshape(a, 1, -1)
        b2 = b if b.ndim > 1 else reshape(b, -1, 1)
        gy2 = reshape(gy, np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) +
                      (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = reshape(sum_to(gy2 @ b2.mT, a2.shape), a.shape)
        if self.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # (B, T, K) @ (K, N): one 2-D GEMM, no batch sum
                k = a2.shape[-1]
                gb = reshape(a2, -1, k).mT @ reshape(gy2, -1, gy2.shape[-1])
            else:
                gb = sum_to(a2.mT @ gy2, b2.shape)
            gb = reshape(gb, b.shape)
        return ga, gb


def _x(shape):
    return "x".join(str(s) for s in shape)




def check_same_dtype(a, b):
    """Matrix products don't promote: float32 @ float64 is PyTorch's RuntimeError."""
    if a.dtype != b.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{CPP_TYPE_NAMES[a.dtype.name]} != {CPP_TYPE_NAMES[b.dtype.name]}")


def matmul(input, other):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dims broadcast."""
    if getattr(input, "is_sparse", False):  # sparse @ dense: numpy2gpt/sparse.py
        return sparse.sparse_matmul(input, other, "matmul")
    if not isinstance(other, Tensor | np.ndarray):
        require_tensor(other, "matmul", "other", 2)
    a, b = as_tensor(input), as_tensor(other)
    check_same_dtype(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(a.shape)} and "
                           f"{_x(b.shape)}): inner sizes {k_a} and {k_b} differ")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {list(a.shape)} and {list(b.shape)} are "
                           "not broadcastable") from None
    return MatMul()(a, b)


def mm(input, mat2):
    if getattr(input, "is_sparse", False):  # sparse @ dense: numpy2gpt/sparse.py
        return sparse.sparse_matmul(input, mat2, "mm")
    require_tensor(mat2, "mm", "mat2", 2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):
    require_tensor(mat2, "bmm", "mat2", 2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return renamed(matmul(input, mat2), "BmmBackward0")


def _type(t):
    """The dtype's name in PyTorch's kernel messages: Float, Double, Long, ..."""
    return _TENSOR_TYPES[t.dtype.name]


def _no_bool(kernel, t):
    if t.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def dot(input, tensor):
    """The inner product of two vectors of the same length."""
    a, b = require_tensor(input, "dot", "input", 1), require_tensor(tensor, "dot", "tensor", 2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype != b.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{_type(a)} and {_type(b)}")
    _no_bool("dot", a)
    return matmul(a, b)


def vdot(input, other):
    """dot with the first vector conjugated: for real tensors (all numpy2gpt has), dot."""
    return dot(input, other)


def outer(input, vec2):
    """The outer product: out[i, j] = input[i] * vec2[j] (a broadcast multiply of a column by a
    row, so its gradient is Mul's)."""
    from .arithmetic import mul

    a, b = require_tensor(input, "outer", "input", 1), require_tensor(vec2, "outer", "vec2", 2)
    for name, t in (("self", a), ("vec2", b)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return mul(reshape(a, -1, 1), b)


def _check_mv(mat, vec, input_shape=None):
    """PyTorch's checks of addmv(input, mat, vec); mv has no input (None)."""
    in_ndim = 1 if input_shape is None else len(input_shape)
    if in_ndim > 1 or mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {in_ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    rows = mat.shape[0]
    in_size = rows if input_shape is None else math.prod(input_shape)
    if mat.shape[1] != vec.shape[0] or in_size not in (1, rows):
        raise RuntimeError(f"size mismatch, got input ({in_size}), mat ({_x(mat.shape)}), vec "
                           f"({vec.shape[0]})")


def mv(input, vec):
    """Matrix @ vector."""
    m, v = require_tensor(input, "mv", "input", 1), require_tensor(vec, "mv", "vec", 2)
    if m.dtype != v.dtype:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{_type(v)}, {_type(m)}, and {_type(v)}")
    _check_mv(m, v)
    _no_bool("addmv_impl_cpu", m)
    return matmul(m, v)


def _scaled_sum(input, product, beta, alpha, grad_fn_name):
    """beta * input + alpha * product, with input broadcast to the product's shape. As in
    PyTorch, beta = 0 ignores input (a NaN or inf in it does not spread; its gradient is zero),
    and an integer result takes beta and alpha truncated to ints. Its node shows PyTorch's name
    for the whole op (AddmmBackward0...)."""
    from .arithmetic import add, mul
    from .indexing import masked_fill

    beta, alpha = (v.item() if isinstance(v, Tensor) else v for v in (beta, alpha))
    if product.dtype.kind != "f":
        beta, alpha = int(beta), int(alpha)
    input = broadcast_to(input, product.shape)
    if beta == 0:
        input = masked_fill(input, np.array(True), 0)
    elif beta != 1:
        input = mul(input, beta)
    if alpha != 1:
        product = mul(product, alpha)
    return renamed(add(input, product), grad_fn_name)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (a linear
    layer's `bias + x @ W.T` in one call)."""
    x = require_tensor(input, "addmm", "input", 1)
    m1, m2 = require_tensor(mat1, "addmm", "mat1", 2), require_tensor(mat2, "addmm", "mat2", 3)
    for name, t in (("self", x), ("mat1", m1)):
        if t.dtype != m2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {_type(t)} "
                               f"and {_type(m2)}")
    for name, m in (("mat1", m1), ("mat2", m2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _no_bool("addmm_impl_cpu_", x)
    return _scaled_sum(x, matmul(m1, m2), beta, alpha, "AddmmBackward0")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec), input broadcast to the product's shape."""
    x = require_tensor(input, "addmv", "input", 1)
    m, v = require_tensor(mat, "addmv", "mat", 2), require_tensor(vec, "addmv", "vec", 3)
    if not x.dtype == m.dtype == v.dtype:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{_type(x)}, {_type(m)}, and {_type(v)}")
    _check_mv(m, v, x.shape)
    _no_bool("addmv_impl_cpu", x)
    return _scaled_sum(x, matmul(m, v), beta, alpha, "AddmvBackward0")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices (b, n, m) @ (b, m, p),
    input broadcast to (b, n, p) (attention's scores plus a bias in one call)."""
    x = require_tensor(input, "baddbmm", "input", 1)
    b1 = require_tensor(batch1, "baddbmm", "batch1", 2)
    b2 = require_tensor(batch2, "baddbmm", "batch2", 3)
    for name, b in (("batch1", b1), ("batch2", b2)):
        if b.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if b2.shape[:2] != (b1.shape[0], b1.shape[2]):
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b1.shape[0]}, {b1.shape[2]}] but got: [{b2.shape[0]}, "
                           f"{b2.shape[1]}].")
    if x.dtype == b1.dtype != b2.dtype:
        raise RuntimeError(f"expected scalar type {_type(b1)} but found {_type(b2)}")
    if not x.dtype == b1.dtype == b2.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_type(x).lower()}, "
                           f"batch1: {_type(b1).lower()}, batch2: {_type(b2).lower()}")
    _no_bool("baddbmm", x)
    return _scaled_sum(x, matmul(b1, b2), beta, alpha, "BaddbmmBackward0")


def _number(value, op, name, position=None):
    """A Number argument (beta, alpha, ...): a number or a one-element tensor, as a Python number
    (PyTorch's TypeError for anything else; `position` is named in it unless None)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if not isinstance(value, int | float | np.number | np.bool_):
        where = "" if position is None else f" (position {position})"
        raise TypeError(f"{op}(): argument '{name}'{where} must be Number, not "
                        f"{type_name(value)}")
    return value


def _expand_input(x, shape):
    """x broadcast to the product's `shape`, with PyTorch's message for an x of more dims."""
    if x.ndim > len(shape):
        raise RuntimeError(f"expand(torch.{_TYPE_NAMES[x.dtype]}{{{list(x.shape)}}}, "
                           f"size={list(shape)}): the number of sizes provided ({len(shape)}) "
                           "must be greater or equal to the number of dimensions in the tensor "
                           f"({x.ndim})")
    return broadcast_to(x, shape)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2), input broadcast to (len(vec1), len(vec2)).
    Unlike addmm, the three tensors are promoted to a common dtype; bool tensors give
    (beta and input) or (alpha and vec1[i] and vec2[j])."""
    from ._util import result_type

    x = require_tensor(input, "addr", "input", 1)
    v1, v2 = require_tensor(vec1, "addr", "vec1", 2), require_tensor(vec2, "addr", "vec2", 3)
    for name, v in (("vec1", v1), ("vec2", v2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    beta, alpha = _number(beta, "addr", "beta"), _number(alpha, "addr", "alpha")
    x = _expand_input(x, (v1.shape[0], v2.shape[0]))  # (so a 0-d input promotes as a matrix)
    dtype = result_type(x, v1, v2)
    x = x.to(dtype)
    for name, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, bool | np.bool_) and dtype.kind != "b":
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        if isinstance(value, float | np.floating) and dtype.kind in "iu":
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
    product = outer(v1.to(dtype), v2.to(dtype))
    if dtype.kind == "b":
        return Tensor._make((x._data & bool(beta)) | (product._data & bool(alpha)))
    return _scaled_sum(x, product, beta, alpha, "AddrBackward0")


def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    """self <- addr(self, vec1, vec2): self must be the matrix the outer product fills."""
    if self.ndim != 2:
        raise RuntimeError(f"2D tensor expected, got {self.ndim}D tensor for input")
    return _method_in_place("addr")(self, vec1, vec2, beta=beta, alpha=alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (the sum over b of batch1[b] @ batch2[b]), for batches of
    matrices (b, n, m) and (b, m, p), input broadcast to (n, p). The sum of products is one
    einsum, "bij,bjk->ik", whose gradient is einsums too."""
    x = require_tensor(input, "addbmm", "input", 1)
    b1 = require_tensor(batch1, "addbmm", "batch1", 2)
    b2 = require_tensor(batch2, "addbmm", "batch2", 3)
    x = _expand_input(x, (b1.size(1), b2.size(2)))  # PyTorch's first step, and first error
    for name, b in (("batch1", b1), ("batch2", b2)):
        if b.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError("batch1 and batch2 must have same number of batches, got "
                           f"{b1.shape[0]} and {b2.shape[0]}")
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({_x(b1.shape[1:])} and "
                           f"{_x(b2.shape[1:])})")
    for name, t in (("self", x), ("mat1", b1)):
        if t.dtype != b2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {_type(t)} "
                               f"and {_type(b2)}")
    _no_bool("addmm_impl_cpu_", x)
    beta, alpha = _number(beta, "addbmm", "beta"), _number(alpha, "addbmm", "alpha")
    return _scaled_sum(x, einsum("bij,bjk->ik", b1, b2), beta, alpha, "AddbmmBackward0")


# ----- renorm -----------------------------------------------------------------------------------
def renorm(input, p, dim, maxnorm):
    """Each slice input.select(dim, i) whose p-norm is above maxnorm, scaled down to norm
    maxnorm: multiplied by maxnorm / (norm + 1e-7) (PyTorch's guard against a zero norm); the
    other slices are unchanged. Composed of the norm and a where, so the gradient also flows
    through the norm of the slices that were scaled."""
    from .indexing import where
    from .stats import Norm

    x = require_tensor(input, "renorm", "input", 1)
    p, maxnorm = (_number(v, "renorm", name, pos) for v, name, pos in
                  ((p, "p", 2), (maxnorm, "maxnorm", 4)))
    dim = int_arg(dim, "renorm", "dim", 3)
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if x.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    d = _check_dim(dim, x.ndim)
    if x.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type(x)}")
    work = x.to(np.float32) if x.dtype == np.float16 else x  # float16 is scaled in float32
    norm = Norm(float(p), tuple(k for k in range(x.ndim) if k != d), True)(work)
    scale = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return (work * scale).to(x.dtype)


# ----- einsum -----------------------------------------------------------------------------------
class Einsum(Function):
    """np.einsum on an equation in canonical form: an explicit output, letters only (the wrapper
    has replaced "..." by letters), and operands whose dims already have the sizes of their
    letters (the wrapper has broadcast any size-1 dim), so that the backward can be einsums too.

    y is a sum of products with one factor from each operand, so it is linear in each operand:
    dL/dx_k is the einsum of dL/dy with all the *other* operands, written out to x_k's letters.
    For "ij,jk->ik" (a @ b) that gives "ik,jk->ij" (gy @ b^T) and "ik,ij->jk" (a^T @ gy).
    """

    def __init__(self, equation):
        self.equation = equation
        inputs, self.output = equation.split("->")
        self.subscripts = inputs.split(",")
        self.saves_values = len(self.subscripts) > 1  # one operand: backward needs its shape only

    def forward(self, *xs):
        y = np.einsum(self.equation, *xs, optimize=self._optimize(xs))
        if any(np.may_share_memory(y, x) for x in xs):  # "ij->ji", "ii->i" are NumPy views
            y = y.copy()
        return y

    def _optimize(self, xs):
        """NumPy's optimize=True picks an order of contraction and hands pairs of operands to
        BLAS (np.tensordot): measured 5-100x faster on products such as "bhqd,bhkd->bhqk" and
        "ij,jk,kl->il", to the same values (within float rounding). Finding that order costs
        about 30 microseconds, more than a small einsum takes in all, so only for large ones."""
        if len(xs) < 2:
            return False
        sizes = {}
        for letters, x in zip(self.subscripts, xs):
            sizes.update(zip(letters, x.shape))
        return math.prod(sizes.values()) >= 32768  # the number of multiply-adds, unoptimized

    def backward(self, gy):
        return tuple(self._operand_grad(k, gy) if needed else None
                     for k, needed in enumerate(self.needs_input_grad))

    def _operand_grad(self, k, gy):
        """dL/d(operand k) = einsum(gy, the other operands -> operand k's letters), plus the two
        cases an einsum cannot write directly."""
        shape = self.inputs[k].shape
        terms = [(self.output, gy)] + [(s, self.saved_input(j))
                                       for j, s in enumerate(self.subscripts) if j != k]
        fresh = _unused_letters(self.equation)
        # 1. A letter repeated in operand k ("ii->i": y[i] = x[i, i]) means y reads only that
        # diagonal, so dL/dx is zero off it. An einsum's output cannot repeat a letter, so the
        # second i is renamed (i -> I) and the identity matrix delta(i, I) joins the product:
        # "i,iI->iI" puts gy[i] at x[i, i] and zeros elsewhere.
        target = ""
        for letter, size in zip(self.subscripts[k], shape):
            if letter in target:
                new = next(fresh)
                terms.append((letter + new, Tensor._make(np.eye(size, dtype=gy.dtype))))
                letter = new
            target += letter
        # 2. A letter that appears nowhere else was summed away within operand k ("ij->i":
        # y[i] = sum_j x[i, j]): each x[i, j] entered that sum once, so the gradient is the same
        # for every j. Compute it without j, then broadcast it along j.
        present = set("".join(s for s, _ in terms))
        kept = "".join(c for c in target if c in present)
        g = Einsum(",".join(s for s, _ in terms) + "->" + kept)(*[t for _, t in terms])
        if kept != target:
            g = broadcast_to(reshape(g, [n if c in present else 1 for c, n in zip(target, shape)]),
                             shape)
        return g


def _unused_letters(equation):
    """The letters `equation` does not use, one at a time (for "..." dims and renamed copies)."""
    for c in string.ascii_letters:
        if c not in equation:
            yield c
    raise RuntimeError("einsum(): numpy2gpt supports at most 52 distinct subscripts, the dims "
                       "an ellipsis covers included")


def _einsum_arguments(args):
    """(equation, operands) from PyTorch's three ways of calling einsum: (equation, *operands),
    (equation, [operands]) and the sublist form (op0, [0, 1], op1, [1, 2], [0, 2])."""
    missing = ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if len(args) < 2:
        raise missing
    if isinstance(args[0], Tensor):  # sublist form: subscript n is a letter, Ellipsis is "..."
        def letters(sublist):
            out = ""
            for n in sublist:
                if n is Ellipsis:
                    out += "..."
                elif isinstance(n, int | np.integer) and 0 <= n < 52:
                    out += string.ascii_uppercase[n] if n < 26 else string.ascii_lowercase[n - 26]
                else:
                    raise ValueError("einsum(): subscript in subscript list is not within the "
                                     "valid range [0, 52)")
            return out

        equation = ",".join(letters(sub) for sub in args[1::2])
        if len(args) % 2:
            equation += "->" + letters(args[-1])
        operands = args[:-1:2] if len(args) % 2 else args[::2]
    elif isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], list | tuple):
            operands = operands[0]
            if not operands:
                raise missing
    else:
        raise TypeError("einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type_name(args[0])}")
    for i, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type_name(x)}")
    return equation, list(operands)


def _read_ellipsis(text, i, found, what):
    """Check that text[i] starts a "..." (the only one of `what`); return the index after it."""
    if found:
        raise RuntimeError(f"einsum(): found '.' for {what} but an ellipsis (...) was already "
                           "found" if what == "output" else
                           f"einsum(): found '.' for {what} for which an ellipsis was already "
                           "found")
    if text[i + 1:i + 3] != "..":
        raise RuntimeError(f"einsum(): found '.' for {what} that is not part of any ellipsis"
                           + (" (...)" if what == "output" else ""))
    return i + 3


def _parse_inputs(lhs, n_operands):
    """Each operand's subscripts, spaces dropped and "..." kept as "."."""
    subscripts, current, i = [], "", 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            i = _read_ellipsis(lhs, i, "." in current, f"operand {len(subscripts)}")
            current += "."
            continue
        if c == ",":
            subscripts.append(current)
            current = ""
            if len(subscripts) >= n_operands:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                                   "equation")
        elif c in string.ascii_letters:
            current += c
        elif c != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
        i += 1
    subscripts.append(current)
    if len(subscripts) < n_operands:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return subscripts


def _parse_output(rhs, offset, inputs):
    """The output's subscripts ("..." kept as "."), checked against the inputs' letters."""
    output, i = "", 0
    while i < len(rhs):
        c = rhs[i]
        if c == ".":
            i = _read_ellipsis(rhs, i, "." in output, "output")
            output += "."
            continue
        if c in string.ascii_letters:
            if c in output or c not in inputs:
                raise RuntimeError(f"einsum(): output subscript {c}" + (
                    " appears more than once in the output" if c in output else
                    " does not appear in the equation for any input operand"))
            output += c
        elif c != " ":
            raise RuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
        i += 1
    return output


def _canonical_einsum(equation, operands):
    """Check `equation` against the operands, with PyTorch's errors in PyTorch's order, and
    rewrite it in Einsum's canonical form. Returns (equation, each operand's broadcast shape).

    "..." becomes letters the equation does not use, one per dim it covers, right-aligned
    across operands as in broadcasting ("...ij,jk" with a (5, 2, 3) a: "aij,jk"). An implicit
    output is those dims, then the letters used exactly once, in alphabetical order (capitals
    first). A letter's size is the largest of its sizes in the operands, which must be that or 1.
    """
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    inputs = _parse_inputs(lhs, len(operands))
    for k, (subs, x) in enumerate(zip(inputs, operands)):
        n = len(subs.replace(".", ""))
        if "." in subs and n > x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is more "
                               f"than the number of dimensions ({x.ndim}) for operand {k}")
        if "." not in subs and n != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does "
                               f"not match the number of dimensions ({x.ndim}) for operand {k} "
                               "and no ellipsis was given")
    if arrow < 0:
        letters = "".join(inputs).replace(".", "")
        output = "." * ("." in lhs) + "".join(sorted(c for c in set(letters)
                                                      if letters.count(c) == 1))
    else:
        output = _parse_output(equation[arrow + 2:], arrow + 2, "".join(inputs))

    ellipsis_dims = max([x.ndim - len(s) + 1 for s, x in zip(inputs, operands) if "." in s],
                        default=0)
    fresh = _unused_letters(equation)
    ellipsis = "".join(next(fresh) for _ in range(ellipsis_dims))
    sizes = {}  # letter -> size, over the operands seen so far
    canonical = []
    for k, (subs, x) in enumerate(zip(inputs, operands)):
        covered = x.ndim - len(subs) + 1 if "." in subs else 0
        subs = subs.replace(".", ellipsis[ellipsis_dims - covered:])
        canonical.append(subs)
        own = {}
        for c, n in zip(subs, x.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the "
                                   f"sizes don't match, {n} != {own[c]}")
            own[c] = n
        for c, n in own.items():
            seen = sizes.setdefault(c, n)
            if n != seen and 1 not in (n, seen):
                if c in ellipsis:
                    d = subs.index(c) - subs.index(ellipsis[ellipsis_dims - covered])
                    raise RuntimeError(
                        f"einsum(): dimension {d} covered by ellipsis in operand {k}has size {n} "
                        f"which does not broadcast with previously seen ellipsis with size "
                        f"{seen} for the respective dimension")
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {seen}")
            if seen == 1:
                sizes[c] = n
    output = output.replace(".", ellipsis)
    shapes = [tuple(sizes[c] for c in subs) for subs in canonical]
    return ",".join(canonical) + "->" + output, shapes


def einsum(*args):
    """Einstein summation: name each operand's dims with letters; the output is the sum, over
    every letter not in the output, of the product of the operands' elements. "ij,jk->ik" is
    a @ b, "bhqd,bhkd->bhqk" attention's scores, "ii->i" a diagonal, "ii" a trace, "i,j->ij" an
    outer product; "..." stands for the dims it covers (broadcast across operands), and without
    "->" the output is the letters used once, in alphabetical order.

    Call it as einsum(equation, *operands), einsum(equation, [operands]) or in the sublist form
    einsum(op0, [0, 1], op1, [1, 2], [0, 2]). The operands share one dtype.
    """
    equation, operands = _einsum_arguments(args)
    canonical, shapes = _canonical_einsum(equation, operands)
    for x in operands[1:]:
        if x.dtype != operands[0].dtype:
            raise RuntimeError(f"expected scalar type {_type(operands[0])} but found {_type(x)}")
    inputs, output = canonical.split("->")
    subscripts = inputs.split(",")
    if operands[0].dtype.kind in "biu":
        # PyTorch first sums each operand over the letters only it has (the output has none of
        # them either: "ii", "ij->"), and an integer or bool sum is int64
        operands = list(operands)
        for k, letters in enumerate(subscripts):
            if set(letters) - set(output).union(*subscripts[:k], *subscripts[k + 1:]):
                operands[k] = operands[k].to(np.int64)
    if any(x.dtype == np.bool_ and set(s) - set(output) for s, x in zip(subscripts, operands)):
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")  # a bool contraction
    # a size-1 dim that pairs with a larger one is broadcast first (broadcast_to's gradient sums
    # it back), so that Einsum sees consistent sizes
    return Einsum(canonical)(*[broadcast_to(x, s) for x, s in zip(operands, shapes)])


def tensordot(a, b, dims=2, out=None):
    """The sum of products over pairs of dims: dims_a[k] of a with dims_b[k] of b; the output has
    a's other dims, then b's. dims=n pairs a's last n dims with b's first n (n=1 between two
    matrices is a @ b). It is the einsum in which each pair of dims shares a letter."""
    if out is not None:
        raise TypeError("tensordot(): the 'out' argument is not supported by numpy2gpt")
    a, b = require_tensor(a, "tensordot", "a", 1), require_tensor(b, "tensordot", "b", 2)
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got "
                                     f"{dims.shape[0]}")
            dims = (dims[0].tolist(), dims[1].tolist())
        else:
            dims = int(dims.item())
    if isinstance(dims, int | np.integer):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        dims_a, dims_b = list(range(-n, 0)), list(range(n))
    elif isinstance(dims, tuple | list):
        dims_a, dims_b = dims
        for name, d in (("dims_self", dims_a), ("dims_other", dims_b)):
            if isinstance(d, int | np.integer):
                raise TypeError(f"tensordot(): argument '{name}' (position 3) must be tuple of "
                                "ints, not int")
        dims_a, dims_b = [int(d) for d in dims_a], [int(d) for d in dims_b]
    else:
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    _no_bool("addmm_impl_cpu_", a)
    pairs = []
    for da, db in zip(dims_a, dims_b):
        i, j = _dim(da, a.ndim), _dim(db, b.ndim)
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {da} and second has size {b.shape[j]} in "
                               f"dim {db}")
        pairs.append((i, j))
    for dims_of in (list(p[0] for p in pairs), list(p[1] for p in pairs)):
        for d in dims_of:
            if dims_of.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    # a size-1 dim paired with a larger one broadcasts (PyTorch sums the other side's dim)
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in pairs:
        sub_b[j] = sub_a[i]
    out_letters = [c for i, c in enumerate(sub_a) if i not in dict(pairs)] + \
                  [c for j, c in enumerate(sub_b) if j not in {j for _, j in pairs}]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out_letters)}", a, b)


def _dim(d, ndim):
    """A dim of a tensor with at least one dim, normalised (PyTorch's IndexError if out of
    range)."""
    from ..tensor import _check_dim

    if ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    return _check_dim(d, ndim)


# ----- trace and the triangles ------------------------------------------------------------------
def trace(input):
    """The sum of a matrix's main diagonal (integers sum to int64, as `sum` does)."""
    from .reduction import sum

    x = as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    _no_bool("trace", x)
    return renamed(sum(diagonal(x)), "TraceBackward0")


def _triangle_indices(name, row, col, offset, dtype, device, np_indices):
    from ..dtypes import to_dtype
    from ..tensor import check_device

    row, col = int_arg(row, name, "row", 1), int_arg(col, name, "col", 2)
    offset = int_arg(offset, name, "offset", 3)
    for arg, value in (("row", row), ("col", col)):
        if value < 0:
            raise RuntimeError(f"{arg} must be non-negative, got{value}")  # (PyTorch's spacing)
    check_device(device)
    dtype = np.dtype(np.int64) if dtype is None else to_dtype(dtype)
    if dtype not in (np.int32, np.int64):
        raise NotImplementedError(f"\"{name}\" not implemented for '{_TENSOR_TYPES[dtype.name]}'")
    return Tensor._make(np.array(np_indices(row, offset, col), dtype=dtype)
                        .reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) coordinates of the lower triangle of a row x col matrix (the elements with
    col - row <= offset), in row-major order, as a 2 x N tensor: `x[tuple(tril_indices(...))]`
    reads that triangle."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, np.tril_indices)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) coordinates of the upper triangle (col - row >= offset), like
    tril_indices."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, np.triu_indices)


TENSOR_METHODS = {"matmul": matmul, "__matmul__": matmul,
                  "__rmatmul__": lambda self, other: matmul(other, self), "mm": mm, "bmm": bmm,
                  "dot": dot, "vdot": vdot, "outer": outer, "mv": mv, "addmm": addmm,
                  "addmv": addmv, "baddbmm": baddbmm, "trace": trace, "addr": addr,
                  "addr_": addr_, "addbmm": addbmm, "addbmm_": _method_in_place("addbmm"),
                  "renorm": renorm, "renorm_": _method_in_place("renorm"),
                  "ger": outer}  # (ger: PyTorch's old name of outer)
__all__ = ["matmul", "mm", "bmm", "dot", "vdot", "outer", "mv", "addmm", "addmv", "baddbmm",
           "einsum", "tensordot", "trace", "tril_indices", "triu_indices", "addr", "addbmm",
           "renorm", "ger"]
ger = outer
