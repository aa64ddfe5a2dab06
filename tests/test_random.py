"""The generator: PyTorch's numbers for the same seed, bit for bit (real PyTorch is the oracle),
plus seeding, exact state save and restore, and per-thread generators."""

import json
import math
import threading

import numpy as np
import pytest
import torch

import numpy2gpt as ng
from numpy2gpt import random as ng_random

SEEDS = [0, 1337, 2**40 + 5, -3]


def same_bits(ours, theirs):
    """Equal dtype, shape and every bit (so -0.0 != 0.0 and NaNs compare by payload)."""
    a = np.asarray(ours.numpy() if isinstance(ours, ng.Tensor) else ours)
    b = theirs.numpy()
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def both(seed):
    torch.manual_seed(seed)
    return ng.manual_seed(seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1,), (5,), (15,), (16,), (17,), (40, 25), (4099,)])
def test_randn_equals_pytorchs(seed, shape):
    # < 16 values: one by one in float64 (with Box-Muller's cached second value); >= 16: float32
    # Cephes Box-Muller in blocks of 16, the last 16 redrawn when the size is not a multiple
    both(seed)
    for _ in range(2):  # the second call continues the stream (and the normal cache)
        assert same_bits(ng.randn(*shape), torch.randn(*shape))


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [7, 3330])
def test_normal_with_mean_and_std_equals_pytorchs(seed, dtype, n):
    # value * std + mean is one fused multiply-add in PyTorch (~8% of float64 values differ
    # without), so draw enough values to see it
    both(seed)
    for _ in range(100 if n < 16 else 1):
        ours = ng.empty(n, dtype=getattr(ng, dtype)).normal_(1.5, 0.3)
        theirs = torch.empty(n, dtype=getattr(torch, dtype)).normal_(1.5, 0.3)
        assert same_bits(ours, theirs)
    assert same_bits(ng.randn(33, dtype=getattr(ng, dtype)), torch.randn(33, dtype=getattr(torch,
                                                                                       dtype)))


@pytest.mark.parametrize("seed", SEEDS)
def test_uniforms_equal_pytorchs(seed):
    both(seed)
    assert same_bits(ng.rand(100, 3), torch.rand(100, 3))  # 24 bits of one draw
    assert same_bits(ng.rand(50, dtype=ng.float64), torch.rand(50, dtype=torch.float64))  # 53
    assert same_bits(ng.rand(50, dtype=ng.float16), torch.rand(50, dtype=torch.float16))
    # U(a, b) is x * (b - a) + a with one rounding (PyTorch's build fuses the multiply-add)
    for dtype in ("float32", "float64"):
        ours = ng.empty(5000, dtype=getattr(ng, dtype)).uniform_(-0.0883883, 0.0883883)
        theirs = torch.empty(5000, dtype=getattr(torch, dtype)).uniform_(-0.0883883, 0.0883883)
        assert same_bits(ours, theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_integers_and_permutations_equal_pytorchs(seed):
    both(seed)
    assert same_bits(ng.randint(-5, 100, (7, 3)), torch.randint(-5, 100, (7, 3)))
    assert same_bits(ng.randint(1003790, (12,)), torch.randint(1003790, (12,)))  # get_batch's
    assert same_bits(ng.randint(0, 2**40, (9,)), torch.randint(0, 2**40, (9,)))  # two draws each
    assert same_bits(ng.randperm(1000), torch.randperm(1000))
    assert same_bits(ng.randperm(1), torch.randperm(1))
    assert same_bits(ng.randn(20), torch.randn(20))  # and the streams are still in step


def test_random__equals_pytorchs_for_every_dtype_and_range():
    """Tensor.random_: PyTorch's integers for a seed, with and without bounds (a float tensor up
    to 2^mantissa, an integer one over its whole range), with a generator, and its errors."""
    def draws(lib):
        lib.manual_seed(0)
        out = [lib.empty(5, dtype=getattr(lib, dt)).random_().tolist() for dt in
               ("float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool")]
        out.append(lib.empty(3).random_(10).tolist())
        out.append(lib.empty(3, dtype=lib.int64).random_(-5, 2 ** 40).tolist())
        out.append(lib.empty(2, 3).random_(**{"from": 3, "to": 9}).tolist())
        g = lib.Generator().manual_seed(5)
        out.append(lib.empty(4).random_(0, 100, generator=g).tolist())
        return out + [lib.randn(2).tolist()]  # the global stream moved alike

    assert draws(ng) == draws(torch)
    for lib in (ng, torch):
        for make, message in [(lambda L: L.zeros(3).random_(5, 5), "'from' to be less than 'to'"),
                              (lambda L: L.zeros(3, dtype=L.int8).random_(0, 300),
                               "to - 1 is out of bounds for signed char"),
                              (lambda L: L.zeros(3, requires_grad=True).random_(), "leaf")]:
            with pytest.raises(RuntimeError, match=message):
                make(lib)


def test_a_fresh_generator_has_pytorchs_default_seed():
    ours, theirs = ng.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() == ng_random.DEFAULT_SEED
    assert same_bits(ng.randn(20, generator=ours), torch.randn(20, generator=theirs))


def test_manual_seed_returns_the_generator_and_records_the_seed():
    g = ng.manual_seed(7)
    assert g is ng_random.get_rng() is ng.default_generator and ng.initial_seed() == 7
    a = ng.randn(4).tolist()
    ng.manual_seed(7)
    assert ng.randn(4).tolist() == a
    assert ng.manual_seed(-1).initial_seed() == 2**64 - 1  # wraps like PyTorch's uint64
    assert torch.manual_seed(-1).initial_seed() == 2**64 - 1


def test_seed_draws_a_fresh_seed_from_the_system():
    s1, s2 = ng.seed(), ng.seed()
    assert s1 != s2 and ng.initial_seed() == s2
    ng.manual_seed(s2)  # and it reproduces like any seed
    a = ng.rand(3).tolist()
    ng.manual_seed(s2)
    assert ng.rand(3).tolist() == a


def test_bad_seeds_and_generators_are_clear_errors():
    with pytest.raises(RuntimeError, match="manual_seed expected a long, but got float"):
        ng.Generator().manual_seed(1.5)
    with pytest.raises(ValueError, match="Overflow"):
        ng.manual_seed(2**64)
    with pytest.raises(TypeError, match="generator must be a numpy2gpt.Generator, got Generator"):
        ng.randn(3, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="set_state expects a state from Generator.get_state"):
        ng.set_rng_state({"bit_generator": "PCG64"})
    with pytest.raises(RuntimeError, match="only has the cpu device"):
        ng.Generator("cuda")
    # the distributions' own checks, with PyTorch's messages, wherever the draw comes from
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        ng.empty(3).normal_(0.0, -1.0)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        ng.nn.init.normal_(ng.empty(3), std=-0.5)
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, "
                                           "but found from=2 > to=1"):
        ng.empty(3).uniform_(2, 1)
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range"):
        ng.nn.init.uniform_(ng.empty(3), 2.0, 1.0)


def test_rng_state_round_trips_through_json_with_the_normal_cache():
    ng.manual_seed(1)
    ng.randn(3)  # leaves Box-Muller's second value in the cache
    state = json.loads(json.dumps(ng.get_rng_state()))  # checkpoint-friendly
    assert state["next_normal"] is not None
    expected = ng.randn(5).tolist()
    ng.rand(10)
    ng.set_rng_state(state)
    assert ng.randn(5).tolist() == expected


def test_a_generator_argument_leaves_the_global_stream_alone():
    ng.manual_seed(3)
    expected = ng.rand(4).tolist()
    ng.manual_seed(3)
    g = ng.Generator().manual_seed(3)
    assert ng.rand(4, generator=g).tolist() == expected
    assert ng.rand(4).tolist() == expected


def test_threads_share_the_global_generator_by_default_and_use_rng_is_per_thread():
    ng.manual_seed(5)
    seen = []
    t = threading.Thread(target=lambda: seen.append(ng_random.get_rng()))
    t.start()
    t.join()
    assert seen[0] is ng_random.get_rng()
    own = ng.Generator().manual_seed(9)
    with ng_random.use_rng(own):
        assert ng_random.get_rng() is own
        t = threading.Thread(target=lambda: seen.append(ng_random.get_rng()))
        t.start()
        t.join()
        assert seen[1] is ng.default_generator  # other threads keep the global one
    assert ng_random.get_rng() is ng.default_generator


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("n", [5, 16, 17, 20, 33, 47, 1000, 4099])
@pytest.mark.parametrize("mean_std", [(0.0, 1.0), (1.5, 0.3), (-3.3, 2.7)])
def test_float16_normals_equal_pytorchs(seed, n, mean_std):
    # float16 fills only the whole blocks of 16 with uniforms before it redraws the last 16
    both(seed)
    ours = ng.empty(n, dtype=ng.float16).normal_(*mean_std)
    theirs = torch.empty(n, dtype=torch.float16).normal_(*mean_std)
    assert same_bits(ours, theirs)
    assert same_bits(ng.rand(5), torch.rand(5))  # as many draws


@pytest.mark.parametrize("dtype,low,high,msg", [
    ("float32", -math.inf, 0, "from is out of bounds for float"),
    ("float32", 0, math.inf, "to is out of bounds for float"),
    ("float64", 0, math.inf, "to is out of bounds for double"),
    ("float64", -math.inf, 0, "from is out of bounds for double"),
    ("float32", math.nan, 0, "from is out of bounds for float"),
    ("float32", 0, math.nan, "to is out of bounds for float"),
    ("float32", 0, 1e39, "to is out of bounds for float"),
    ("float16", -1e5, 0, "from is out of bounds for c10::Half"),
    ("float32", 0.1, 0.05, r"uniform_ expects to return a \[from, to\) range, but found "
                           "from=0.1 > to=0.05"),
    ("float32", -3e38, 3e38, r"uniform_ expects to-from <= std::numeric_limits<Float>::max\(\), "
                             r"but found to=3e\+38 and from=-3e\+38 which result in to-from to "
                             "exceed the limit"),
    ("float16", -40000, 40000, r"std::numeric_limits<Half>::max\(\), but found to=40000 and "
                               "from=-40000"),
    ("float64", -1.7e308, 1.7e308, r"std::numeric_limits<Double>::max\(\)"),
])
def test_uniform_refuses_bounds_that_give_no_finite_values(dtype, low, high, msg):
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match=msg):
            lib.empty(3, dtype=getattr(lib, dtype)).uniform_(low, high)
        with pytest.raises(RuntimeError, match=msg):
            lib.nn.init.uniform_(lib.empty(3, dtype=getattr(lib, dtype)), low, high)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [3, 40])
def test_normal_with_an_infinite_mean_or_std_is_pytorchs(dtype, n):
    both(0)
    for mean, std in ((math.inf, 1.0), (0.0, math.inf), (-math.inf, 2.0)):
        ours = ng.empty(n, dtype=getattr(ng, dtype)).normal_(mean, std)
        theirs = torch.empty(n, dtype=getattr(torch, dtype)).normal_(mean, std)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std nan"):
            lib.empty(3).normal_(0.0, math.nan)


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("num_samples", [1, 3, [3]])
@pytest.mark.parametrize("dtype", ["int64", "int8"])
def test_multinomial_takes_a_one_element_integer_tensor(seed, num_samples, dtype):
    probs = [0.1, 0.2, 0.3, 0.4]
    both(seed)
    ours = ng.multinomial(ng.tensor(probs), ng.tensor(num_samples, dtype=getattr(ng, dtype)))
    theirs = torch.multinomial(torch.tensor(probs),
                               torch.tensor(num_samples, dtype=getattr(torch, dtype)))
    assert same_bits(ours, theirs)


@pytest.mark.parametrize("num_samples,kind", [
    (1.0, "float"), (True, "bool"), (None, "NoneType"), ("1", "str"), ([1], "list"),
    (ng.tensor(1.0), "Tensor"), (ng.tensor([2, 2]), "Tensor"),
], ids=str)
def test_multinomial_refuses_a_num_samples_that_is_not_an_int(num_samples, kind):
    for lib in (torch, ng):
        if isinstance(num_samples, ng.Tensor):
            num_samples = lib.tensor(num_samples.tolist())
        with pytest.raises(TypeError, match=rf"multinomial\(\): argument 'num_samples' "
                                            rf"\(position 2\) must be int, not {kind}"):
            lib.multinomial(lib.tensor([0.2, 0.8]), num_samples)


@pytest.mark.parametrize("make", [
    lambda L: L.normal(2.0, 3.0, size=(20,)), lambda L: L.normal(2.0, 3.0, (3,)),
    lambda L: L.normal(L.zeros(20) + 1, L.ones(20) * 2), lambda L: L.normal(L.arange(5.0), 0.5),
    lambda L: L.normal(0.0, L.ones(3, 17)),
], ids=["numbers and a size", "size positional", "tensors", "tensor mean", "tensor std"])
def test_torch_normal_gives_pytorchs_numbers(make):
    results = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        t = make(lib)
        results.append((np.asarray(t.tolist()), str(t.dtype).split(".")[-1], tuple(t.shape)))
    (ours, dtype, shape), (theirs, tdtype, tshape) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    assert (dtype, shape) == (tdtype, tshape)


_FILLS = {
    "rand_like": lambda T, t: T.rand_like(t),
    "randn_like": lambda T, t: T.randn_like(t),
    "randint_like": lambda T, t: T.randint_like(t, 10),
    "normal_": lambda T, t: t.normal_(0.5, 2.0),
    "uniform_": lambda T, t: t.uniform_(),
    "bernoulli_": lambda T, t: t.bernoulli_(0.3),
    "bernoulli_ tensor p": lambda T, t: t.bernoulli_(T.full_like(t, 0.3)),
    "exponential_": lambda T, t: t.exponential_(),
    "cauchy_": lambda T, t: t.cauchy_(),
    "geometric_": lambda T, t: t.geometric_(0.3),
    "log_normal_": lambda T, t: t.log_normal_(),
    "random_": lambda T, t: t.random_(0, 10),
    "dropout": lambda T, t: T.nn.functional.dropout(t + 1, 0.5),
    "alpha_dropout": lambda T, t: T.nn.functional.alpha_dropout(t + 1, 0.5, True),
    "feature_alpha_dropout": lambda T, t: T.nn.functional.feature_alpha_dropout(
        t.unsqueeze(-1) + 1, 0.5, True),
    "bernoulli": lambda T, t: T.bernoulli(t + 0.3),
}
_LAYOUTS = {
    "row-major": lambda T: T.zeros(9, 7),
    "transposed": lambda T: T.zeros(5, 7).t(),
    "transposed, 16 or more": lambda T: T.zeros(9, 7).t(),
    "strided and transposed": lambda T: T.zeros(6, 8)[:, ::2].t(),
    "permuted": lambda T: T.zeros(2, 3, 4).permute(2, 0, 1),
    "narrowed": lambda T: T.zeros(3, 10)[:, 2:8],
}


@pytest.mark.parametrize("layout", _LAYOUTS)
@pytest.mark.parametrize("fill", _FILLS)
def test_random_fills_and_dropout_masks_follow_the_memory_layout(fill, layout):
    """PyTorch fills a tensor in memory order (its empty_like keeps the input's layout), so a
    transposed tensor gets the same numbers as a row-major one, in other places - and a
    non-contiguous normal_ draws one normal at a time. The same numbers in the same places."""
    out = []
    for lib in (ng, torch):
        lib.manual_seed(0)
        out.append(_FILLS[fill](lib, _LAYOUTS[layout](lib)).numpy())
    np.testing.assert_array_equal(out[0], out[1])
