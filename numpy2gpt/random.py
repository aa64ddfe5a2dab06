"""Random numbers: PyTorch's CPU generator, so a seed gives PyTorch's numbers.

`numpy2gpt.manual_seed(1337)` followed by `randn`, `rand`, `randint`, `randperm`, `normal_`,
`uniform_` or `multinomial` gives the values `torch.manual_seed(1337)` and the same calls give
on a CPU, bit for bit (tests/test_random.py checks it against PyTorch). That is what lets
`numpy2gpt train` be nanoGPT's own run: the same initial weights and the same batches.

How PyTorch turns a seed into numbers (ATen's CPUGeneratorImpl and DistributionTemplates.h):
  * the bits come from a 32-bit Mersenne Twister (MT19937) seeded with the reference
    `init_genrand`; NumPy's `MT19937` bit generator runs the same recurrence, so it makes the bits
    here and this module only does the conversions;
  * float32 uniforms use 24 bits of one draw, float64 uniforms 53 bits of two draws (high, low);
  * integers in [low, high) are `draw % (high - low) + low` (two draws when the range needs 64
    bits); a permutation swaps element i with i + draw % (n - i);
  * normals: a tensor of 16 or more contiguous values is first filled with uniforms, then turned
    into normals 16 at a time by Box-Muller (pairs j, j + 8) - in float32 with the Cephes
    polynomial log and sin/cos of avx_mathfun.h (not libm), which are ported below; when the
    size is not a multiple of 16, the last 16 values are redrawn (float16 draws no uniforms
    for the values past the last whole block first); fewer values are drawn one by one in
    float64 by Box-Muller, whose second value is kept for the next such draw.
Dropout masks use this generator too, but not PyTorch's algorithm for them.
"""

import contextlib
import math
import os
import threading
from fractions import Fraction

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val: the seed before any manual_seed
_f32, _f64 = np.float32, np.float64
_CHUNK = 1 << 15  # Box-Muller works through big tensors in blocks that stay in cache


def _init_genrand(seed):
    """MT19937's reference seeding of its 624-word state from a 32-bit seed (as PyTorch's)."""
    key = np.empty(624, np.uint32)
    x = seed & 0xFFFFFFFF
    for i in range(624):
        key[i] = x
        x = (1812433253 * (x ^ (x >> 30)) + i + 1) & 0xFFFFFFFF
    return key


class Generator:
    """A PyTorch-compatible CPU random number generator (`torch.Generator()`)."""

    def __init__(self, device="cpu"):
        from .tensor import CPU

        if str(device) != "cpu":
            raise RuntimeError(f"numpy2gpt only has the cpu device, got device={device!r}")
        self.device = CPU
        self._mt = np.random.MT19937(0)  # its state is replaced by manual_seed
        self.manual_seed(DEFAULT_SEED)

    # ----- seeding and state
    def manual_seed(self, seed):
        """Seed the generator (any int in [-2**63, 2**64)); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            from .tensor import type_name

            name = "Tensor" if type(seed).__name__ in ("Tensor", "Parameter") else type_name(seed)
            raise RuntimeError(f"manual_seed expected a long, but got {name}")
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        seed &= (1 << 64) - 1  # negative seeds wrap, as PyTorch's uint64_t does
        self._mt.state = {"bit_generator": "MT19937",
                          "state": {"key": _init_genrand(seed), "pos": 624}}
        self._initial_seed = seed
        self._next_normal = None  # Box-Muller's second value, for the next one-by-one normal
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed used."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """A JSON-serialisable snapshot (for exact checkpoint resume)."""
        mt = self._mt.state["state"]
        return {"generator": "numpy2gpt.mt19937", "seed": self._initial_seed,
                "key": [int(k) for k in mt["key"]], "pos": int(mt["pos"]),
                "next_normal": self._next_normal}

    def set_state(self, state):
        if not isinstance(state, dict) or state.get("generator") != "numpy2gpt.mt19937":
            raise ValueError("set_state expects a state from Generator.get_state() "
                             "(numpy2gpt's MT19937 generator); this one is not")
        self._mt.state = {"bit_generator": "MT19937",
                          "state": {"key": np.asarray(state["key"], np.uint32),
                                    "pos": int(state["pos"])}}
        self._initial_seed = int(state["seed"])
        self._next_normal = state["next_normal"]
        return self

    # ----- raw bits and uniforms
    def _bits32(self, n):
        return self._mt.random_raw(n)  # uint64 values holding 32-bit draws

    def _bits64(self, n):
        r = self._mt.random_raw(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]  # first draw is the high word

    def _unit(self, n, dtype):
        """n uniforms in [0, 1): float64 from 53 bits of two draws, float32 from 24 bits of one."""
        if dtype == _f64:
            return (self._bits64(n) & np.uint64((1 << 53) - 1)).astype(_f64) * 2.0 ** -53
        return (self._bits32(n) & np.uint64(0xFFFFFF)).astype(_f32) * _f32(2.0 ** -24)

    def uniform(self, shape, low=0.0, high=1.0, dtype=_f32):
        """U(low, high) of a dtype: PyTorch's x * (high - low) + low, one rounding (a fused
        multiply-add), with a value rounded up to `high` moved to `low`."""
        dtype = np.dtype(dtype)
        _check_uniform_bounds(low, high, dtype)
        work = _f64 if dtype == _f64 else _f32  # float16 is drawn in float32, then rounded
        x = self._unit(_numel(shape), work)
        lo, hi = work(low), work(high)
        if (lo, hi) != (0, 1):
            x = _fma(x, hi - lo, lo)
        out = x.astype(dtype).reshape(shape)
        out[out == dtype.type(high)] = dtype.type(low)
        return out

    # ----- integers
    def randint(self, low, high, shape):
        """int64 uniform in [low, high)."""
        span = int(high) - int(low)
        n = _numel(shape)
        draws = self._bits64(n) if span >= 1 << 32 else self._bits32(n)
        return ((draws % np.uint64(span)).astype(np.int64) + int(low)).reshape(shape)

    def randperm(self, n):
        """A random permutation of range(n): swap i with i + draw % (n - i), for i < n - 1."""
        perm = np.arange(n, dtype=np.int64)
        if n > 1:
            steps = self._bits32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)
            for i, j in enumerate((steps + np.arange(n - 1, dtype=np.uint64)).tolist()):
                perm[i], perm[j] = perm[j], perm[i]
        return perm

    # ----- normals and exponentials
    def normal(self, shape, mean=0.0, std=1.0, dtype=_f32, row_major=True):
        """N(mean, std^2) of a dtype, as PyTorch fills a contiguous tensor of that shape (a
        non-contiguous one, row_major=False, as a small one: one normal at a time, in memory
        order; give the shape in that order, see `in_memory_order`)."""
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dtype = np.dtype(dtype)
        n = _numel(shape)
        if n < 16 or not row_major:
            return np.array([self._normal_one(mean, std) for _ in range(n)],
                            dtype=dtype).reshape(shape)
        work = _f64 if dtype == _f64 else _f32
        body = n - n % 16
        if dtype == np.float16:  # uniforms for the whole blocks only (the tail comes next)
            out = np.concatenate([self._unit(body, work), np.empty(n - body, work)])
        else:
            out = self._unit(n, work)
        for i in range(0, body, _CHUNK):
            block = slice(i, min(i + _CHUNK, body))
            out[block] = _box_muller16(out[block], mean, std)
        if body != n:  # PyTorch redraws the last 16 values (overlapping the body)
            out[n - 16:] = _box_muller16(self._unit(16, work), mean, std)
        return out.astype(dtype, copy=False).reshape(shape)

    def _normal_one(self, mean, std):
        """One normal in float64 (PyTorch's normal_distribution<double>, with its cache)."""
        if self._next_normal is not None:
            z, self._next_normal = self._next_normal, None
        else:
            u1, u2 = self._unit(2, _f64).tolist()
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            self._next_normal = r * math.sin(theta)
            z = r * math.cos(theta)
        return z if (mean, std) == (0, 1) else _fma64(z, float(std), float(mean))

    def exponential(self, shape, lambd=1.0, dtype=_f32):
        """Exp(lambd): -log(1 - u) / lambd from a float64 uniform u, then rounded to dtype."""
        u = self._unit(_numel(shape), _f64)
        log1p = _libm(math.log1p, -u) if dtype == _f64 else np.log1p(-u)  # NumPy's may differ
        return (-1.0 / lambd * log1p).astype(dtype).reshape(shape)  # in a last float64 bit


_BOUND_NAMES = {np.dtype(_f64): ("double", "Double"), np.dtype(_f32): ("float", "Float"),
                np.dtype(np.float16): ("c10::Half", "Half")}  # C++'s, as PyTorch's messages


def _check_uniform_bounds(low, high, dtype):
    """PyTorch's checks for U(low, high) of a float dtype: both ends finite and representable,
    low <= high, and high - low representable (so no inf or NaN comes out)."""
    biggest = float(np.finfo(dtype).max)
    c_name, name = _BOUND_NAMES[dtype]
    for what, value in (("from", low), ("to", high)):
        if not -biggest <= value <= biggest:
            raise RuntimeError(f"{what} is out of bounds for {c_name}")
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={low:g} > to={high:g}")
    if high - low > biggest:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{name}>::max(), "
                           f"but found to={high:g} and from={low:g} which result in to-from to "
                           "exceed the limit")


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64))


def _fma(a, b, c):
    """a * b + c with one rounding (PyTorch's build fuses these multiply-adds), elementwise over
    array a: float32 through float64, where a * b is exact; float64 one by one, exactly."""
    if a.dtype == _f32:
        return _fma32(a, b, c)
    b, c = float(b), float(c)
    return np.fromiter((_fma64(x, b, c) for x in a.tolist()), _f64, a.size)


def _fma64(a, b, c):
    """Correctly rounded a * b + c for floats (math.fma from Python 3.13 on)."""
    if not math.isfinite(a * b + c) or not all(map(math.isfinite, (a, b, c))):
        return a * b + c  # inf or NaN: no rounding to get right
    return float(Fraction(a) * Fraction(b) + Fraction(c))  # int / int rounds correctly


if hasattr(math, "fma"):
    _fma64 = math.fma  # noqa: F811


# ----- Box-Muller, 16 at a time -------------------------------------------------------------------
def _box_muller16(u, mean, std):
    """Uniforms -> normals in blocks of 16: pairs (j, j + 8) give r cos(theta) and r sin(theta),
    with r = sqrt(-2 log(1 - u_j)) and theta = 2 pi u_{j+8}; then value * std + mean (an FMA)."""
    blocks = u.reshape(-1, 2, 8)
    if u.dtype == _f64:
        radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - blocks[:, 0]))
        theta = 2.0 * math.pi * blocks[:, 1]
        cos, sin = _libm(math.cos, theta), _libm(math.sin, theta)
    else:
        radius = np.sqrt(_f32(-2) * _cephes_log(_f32(1) - blocks[:, 0]))
        sin, cos = _cephes_sincos(_f32(2 * math.pi) * blocks[:, 1])
    z = np.stack([radius * cos, radius * sin], axis=1).reshape(-1)
    return z if (mean, std) == (0, 1) else _fma(z, u.dtype.type(std), u.dtype.type(mean))


def _libm(f, x):
    """The C library's float64 function (NumPy's own SIMD versions differ in the last bit)."""
    return np.fromiter(map(f, x.ravel().tolist()), _f64, x.size).reshape(x.shape)


def _fma32(a, b, c):
    """Single-rounding a * b + c in float32 (PyTorch's build fuses these multiply-adds)."""
    return (np.asarray(a, _f64) * np.asarray(b, _f64) + c).astype(_f32)


_LOG_POLY = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
             1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
             3.3333331174E-1)


def _cephes_log(x):
    """avx_mathfun's log256_ps for x in (0, 1]: x = m 2^e with m in [sqrt(1/2), sqrt(2)),
    log(x) = log(m) + e log(2), log(m) from a degree-9 polynomial in m - 1."""
    bits = x.view(np.uint32)
    e = ((bits >> 23).astype(np.int32) - 126).astype(_f32)  # x = m 2^e with m in [0.5, 1)
    m = ((bits & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)).view(_f32)
    small = m < _f32(0.707106781186547524)  # then use 2m in [sqrt(1/2), 1) and e - 1
    e -= small.astype(_f32)
    m = (m - _f32(1)) + np.where(small, m, _f32(0))
    z = m * m
    y = np.full_like(m, _f32(_LOG_POLY[0]))
    for p in _LOG_POLY[1:]:
        y = _fma32(y, m, _f32(p))
    y = y * m
    y = _fma32(y, z, e * _f32(-2.12194440e-4))  # log(2) = 0.693359375 - 2.12194440e-4, split
    y = _fma32(z, _f32(-0.5), y)
    return _fma32(e, _f32(0.693359375), m + y)


def _cephes_sincos(x):
    """avx_mathfun's sincos256_ps for x >= 0: reduce by multiples j of pi/4 (in three parts
    for precision), then the Cephes sine and cosine polynomials on [-pi/4, pi/4]."""
    j = ((x * _f32(1.27323954473516)).astype(np.int32) + 1) & ~1  # 4/pi; even j
    y = j.astype(_f32)
    x = _fma32(y, _f32(-0.78515625), x)
    x = _fma32(y, _f32(-2.4187564849853515625e-4), x)
    x = _fma32(y, _f32(-3.77489497744594108e-8), x)
    z = x * x
    cos = _fma32(_f32(2.443315711809948E-005), z, _f32(-1.388731625493765E-003))
    cos = _fma32(cos, z, _f32(4.166664568298827E-002))
    cos = _fma32(cos * z, z, -(z * _f32(0.5))) + _f32(1)
    sin = _fma32(_f32(-1.9515295891E-4), z, _f32(8.3321608736E-3))
    sin = _fma32(sin, z, _f32(-1.6666654611E-1))
    sin = _fma32(sin * z, x, x)
    swap = (j & 2) != 0  # octants where sine and cosine trade polynomials
    sin, cos = np.where(swap, cos, sin), np.where(swap, sin, cos)
    sin_sign = (j & 4).astype(np.uint32) << 29
    cos_sign = (~(j - 2) & 4).astype(np.uint32) << 29
    return (sin.view(np.uint32) ^ sin_sign).view(_f32), (cos.view(np.uint32) ^ cos_sign).view(_f32)


# ----- the global generator -----------------------------------------------------------------------
default_generator = Generator()
_state = threading.local()


# ----- the order of the draws in a tensor ---------------------------------------------------------
def memory_order(a):
    """The axes of array `a` from the outermost to the innermost in memory, by PyTorch's rule (its
    TensorIterator's): PyTorch fills a tensor with random numbers in memory order, so a transposed
    or sliced tensor gets its draws in other places than a row-major one. Axes of size 1, or
    with stride 0 (broadcast), keep their places."""
    shape, strides = a.shape, a.strides

    def after(d0, d1):  # whether d0 is inside d1 in memory (1), outside (-1), or either (0)
        if strides[d0] == 0 or strides[d1] == 0:
            return 0
        if strides[d0] != strides[d1]:
            return 1 if strides[d0] > strides[d1] else -1
        return 1 if shape[d0] > shape[d1] else 0

    inner_first = list(range(a.ndim - 1, -1, -1))  # an insertion sort from the innermost axis
    for i in range(1, a.ndim):
        k = i
        for j in range(i - 1, -1, -1):
            c = after(inner_first[j], inner_first[k])
            if c > 0:
                inner_first[j], inner_first[k] = inner_first[k], inner_first[j]
                k = j
            elif c < 0:
                break
    return tuple(reversed(inner_first))


def in_memory_order(a, draw):
    """draw(shape) -> array, drawn for an array laid out as `a` (a NumPy array): the draws are
    made for a's shape in memory order and put back in a's axis order, so each lands where
    PyTorch's does (a's layout, as PyTorch's empty_like(a) gives)."""
    if is_row_major(a):
        return draw(a.shape)
    order = memory_order(a)
    return draw(tuple(a.shape[i] for i in order)).transpose(np.argsort(order))


def is_row_major(a):
    """Whether PyTorch lays out a tensor like `a` row-major (its empty_like(a) is contiguous):
    the axes longer than 1 are in memory order."""
    axes = [i for i in memory_order(a) if a.shape[i] != 1]
    return axes == sorted(axes)


def manual_seed(seed):
    """Seed the global generator with `int(seed)` (so 1.5 means 1, like PyTorch); returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the global generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng():
    """The generator in use (a thread may install its own with `use_rng`)."""
    return getattr(_state, "rng", None) or default_generator


def resolve(generator):
    """`generator` if given (checked), else the generator in use."""
    if generator is None:
        return get_rng()
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a numpy2gpt.Generator, got "
                        f"{type(generator).__name__}")
    return generator


@contextlib.contextmanager
def use_rng(generator):
    """Make `generator` (a numpy2gpt.Generator) the one `get_rng()` returns in this thread.

    Other threads keep the global generator. Under mpiexec the trainer draws each rank's dropout
    masks from the rank's own generator this way, so the shared one draws only the batches.
    """
    resolve(generator)
    previous = getattr(_state, "rng", None)
    _state.rng = generator
    try:
        yield generator
    finally:
        _state.rng = previous


def get_rng_state():
    """A JSON-serialisable snapshot of the generator in use (for exact checkpoint resume)."""
    return get_rng().get_state()


def set_rng_state(state):
    get_rng().set_state(state)
