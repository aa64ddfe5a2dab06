"""Silent wrong results found by differential fuzzing of nn.functional, optimizers and autograd,
each checked against PyTorch."""

import numpy as np
import pytest
from torch_compare import both, same_error

INF = float("inf")


def _grads(lib, fn, *arrays):
    leaves = [lib.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    y = fn(lib, *leaves)
    y.sum().backward()
    return [y.detach().numpy()] + [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("case", [
    (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0), -0.5, [1.0, -3.0]),
    (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=-1),
     np.random.default_rng(0).standard_normal((3, 1, 4)), np.ones((2, 4))),
    (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=1, eps=0.5),
     [[0.1, 0.2, -0.3]], [[1.0, -3.0, 2.0]]),
    (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=1),
     [[0.0, 0.0, 0.0]], [[1.0, -3.0, 2.0]]),
], ids=["broadcast value", "broadcast to a new dim", "eps above the norm", "zero vector"])
def test_cosine_similarity_broadcasts_first_and_clamps_outside_the_graph(case):
    """PyTorch broadcasts x1 and x2 before taking their norms, and clamps the norms to eps in
    place under no_grad (the gradient is the unclamped norm's)."""
    fn, *arrays = case
    for ours, theirs in zip(*both(lambda lib: _grads(lib, fn, *arrays))):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_steps_a_zero_dim_parameter(name, amsgrad):
    """A learnable scalar (nn.Parameter(tensor(1.))) crashed the fused update."""
    def run(lib):
        p = lib.nn.Parameter(lib.tensor(1.0, dtype=lib.float64))
        opt = getattr(lib.optim, name)([p], lr=0.1, amsgrad=amsgrad, weight_decay=0.1)
        for _ in range(3):
            opt.zero_grad()
            (p * p * 2).backward()
            opt.step()
        return p.item()

    ours, theirs = both(run)
    assert ours == pytest.approx(theirs, rel=1e-14)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.avg_pool1d(x.reshape(1, 1, -1), 2),
    lambda lib, x: lib.nn.functional.avg_pool2d(x.reshape(1, 2, 3), 2, stride=1),
    lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x.reshape(1, 2, 3), (2, 2)),
    lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x.reshape(1, 1, -1), 4),
], ids=["avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_avg_pool1d"])
@pytest.mark.parametrize("special", [INF, -INF, float("nan")])
def test_average_pooling_keeps_inf_and_nan_in_their_own_windows(fn, special):
    """The windows are summed with 0/1 mask products; inf * 0 is NaN, so an inf spread NaN to
    every window (and the gradient to every input)."""
    x = np.array([special, 1.0, 2.0, 3.0, 4.0, 5.0])

    def run(lib):
        t = lib.tensor(x, requires_grad=True)
        y = fn(lib, t)
        g = np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape))
        g.flat[-1] = INF
        y.backward(lib.tensor(g))
        return y.detach().numpy(), t.grad.numpy()

    for ours, theirs in zip(*both(run)):
        np.testing.assert_array_equal(ours, theirs)


def test_atan2_second_derivative():
    """The first derivative took 1 / (a^2 + b^2) as a constant: the second missed its term."""
    def run(lib):
        a = lib.tensor([0.0, 1.0, -2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 2.0, 0.5], dtype=lib.float64, requires_grad=True)
        ga, gb = lib.autograd.grad(lib.atan2(a, b).sum(), (a, b), create_graph=True)
        return [t.detach().numpy() for t in (ga, gb, *lib.autograd.grad((ga + gb).sum(), (a, b)))]

    for ours, theirs in zip(*both(run)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.nn.functional.pdist(x, p=INF),
    lambda lib, x: lib.cdist(x, lib.zeros(1, 2, dtype=x.dtype), p=INF),
], ids=["pdist", "cdist"])
def test_inf_distance_gives_every_tied_coordinate_the_full_sign(fn):
    """PyTorch's distance kernels (unlike the inf-norm) do not share the gradient among ties."""
    x = [[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]]
    for ours, theirs in zip(*both(lambda lib: _grads(lib, fn, x))):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("make", [
    lambda lib: lib.randn(3, requires_grad=True)[:2],
    lambda lib: lib.randn(3)[:2],
    lambda lib: lib.randn(2, 2).t(),
])
def test_detach_in_place_refuses_a_view(make):
    same_error(lambda lib: make(lib).detach_())


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1_loss_take_a_weight(name, reduction):
    """PyTorch 2.13's weight=: each error scaled, 'mean' divided by the sum of the weights."""
    rng = np.random.default_rng(0)
    a, b, w = rng.standard_normal((3, 2, 4))

    def run(lib):
        x, weight = lib.tensor(a, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, lib.tensor(b), reduction=reduction,
                                              weight=weight)
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy(), weight.grad.numpy()

    for ours, theirs in zip(*both(run)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    same_error(lambda lib: getattr(lib.nn.functional, name)(lib.ones(2), lib.ones(2),
                                                            weight=lib.ones(3)))


@pytest.mark.parametrize("call", [
    lambda lib: lib.var(lib.tensor([1.0, 2.0]), correction=2),
    lambda lib: lib.tensor([]).var(),
    lambda lib: lib.std_mean(lib.tensor([1.0])),
    lambda lib: lib.std(lib.zeros(0, 3), 0),
])
def test_var_and_std_warn_when_no_degrees_of_freedom_are_left(call):
    for lib in both(lambda lib: lib):
        with pytest.warns(UserWarning, match=r"\(\): degrees of freedom is <= 0"):
            call(lib)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_with_probabilities_differentiates_the_weight(reduction, label_smoothing):
    """PyTorch gives a weight that requires grad its gradient with class-probability targets
    (with class indices it refuses, naming nll_loss_forward)."""
    rng = np.random.default_rng(0)
    x, t, w = rng.standard_normal((3, 4, 2)), rng.random((3, 4, 2)), rng.random(4)
    t /= t.sum(1, keepdims=True)

    def run(lib):
        xx, ww = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.cross_entropy(xx, lib.tensor(t), weight=ww, reduction=reduction,
                                            label_smoothing=label_smoothing)
        y.sum().backward()
        return y.detach().numpy(), xx.grad.numpy(), ww.grad.numpy()

    for ours, theirs in zip(*both(run)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    same_error(lambda lib: lib.nn.functional.cross_entropy(
        lib.tensor(x), lib.tensor([[0, 1]] * 3), weight=lib.tensor(w, requires_grad=True)))


def test_division_gradient_for_the_divisor_as_pytorch():
    """-gy * ((a / b) / b), PyTorch's order: float32 bit for bit, and no b^2 overflow in float16
    (-gy * a / (b * b) gave 0 for b = 772)."""
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal(5000).astype(np.float32) for _ in range(3))
    cases = [(a, b * 3, g), (np.array([-78.44, 314.25], np.float16),
                             np.array([772.0, 273.75], np.float16),
                             np.array([2.9355, 7.0234], np.float16))]
    for x, y, gy in cases:
        def run(lib, x=x, y=y, gy=gy):
            tx, ty = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
            (tx / ty).backward(lib.tensor(gy))
            return tx.grad.numpy(), ty.grad.numpy()

        for ours, theirs in zip(*both(run)):
            np.testing.assert_array_equal(ours, theirs)


def test_mvlgamma_second_derivative():
    def run(lib):
        a = lib.tensor([2.5, 3.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(lib.mvlgamma(a, 2).sum(), a, create_graph=True)
        g.sum().backward()
        return a.grad.numpy()

    np.testing.assert_allclose(*both(run), rtol=1e-12)


def test_nadam_reloaded_state_keeps_the_parameters_dtype():
    """mu_product (a 0-d tensor) came back float32 for float64 parameters: a drift of 3e-10."""
    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0], dtype=lib.float64))
        opt = lib.optim.NAdam([p], lr=0.1)
        for i in range(6):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            if i == 2:
                state = opt.state_dict()
                opt = lib.optim.NAdam([p], lr=0.1)
                opt.load_state_dict(state)
        return p.detach().numpy()

    np.testing.assert_array_equal(*both(run))


@pytest.mark.parametrize("norm", [
    lambda F, x, w, b: F.layer_norm(x, [4], w, b),
    lambda F, x, w, b: F.rms_norm(x, [4], w),
    lambda F, x, w, b: F.rms_norm(x, [4]),
    lambda F, x, w, b: F.group_norm(x.reshape(2, 4, 1), 2, w, b).reshape(2, 4),
], ids=["layer_norm", "rms_norm", "rms_norm without weight", "group_norm"])
def test_float16_normalisations_are_computed_in_float32(norm):
    """The sum of squares of a few hundreds overflows float16: the normalised rows came out
    zero. PyTorch computes float16 in float32; within a float16 rounding of its results."""
    x = np.array([[300.0, -200.0, 250.0, 10.0], [1.0, 2.0, 3.0, 4.0]], np.float16)
    w = np.array([1.5, 0.5, 1.0, 2.0], np.float16)
    gy = np.array([[1.0, -2.0, 0.5, 3.0], [1.0, 1.0, 1.0, 1.0]], np.float16)

    def run(lib):
        xx, ww, bb = (lib.tensor(a, requires_grad=True) for a in (x, w, w))
        y = norm(lib.nn.functional, xx, ww, bb)
        y.backward(lib.tensor(gy))
        return [y.detach().numpy()] + [t.grad.numpy() for t in (xx, ww) if t.grad is not None]

    ours, theirs = both(run)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=2e-3,
                                   atol=2e-3)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.functional.relu_(x), lambda lib, x: lib.nn.functional.elu_(x, 0.5),
    lambda lib, x: lib.nn.functional.celu_(x, 2.0), lambda lib, x: lib.nn.functional.selu_(x),
    lambda lib, x: lib.nn.functional.leaky_relu_(x, 0.2),
    lambda lib, x: lib.nn.functional.hardtanh_(x, -0.5, 0.5),
    lambda lib, x: lib.nn.functional.rrelu_(x),
    lambda lib, x: lib.nn.functional.threshold_(x, 0.1, 9.0),
    lambda lib, x: lib.relu_(x), lambda lib, x: lib.selu_(x), lambda lib, x: lib.celu_(x),
    lambda lib, x: lib.rrelu_(x), lambda lib, x: lib.threshold_(x, 0.1, 9.0),
    lambda lib, x: lib.celu(x, 2.0), lambda lib, x: lib.selu(x),
    lambda lib, x: lib.threshold(x, 0.1, 20.0), lambda lib, x: lib.rrelu(x, 0.1, 0.3),
    lambda lib, x: lib.hardshrink(x, 0.3),
    lambda lib, x: lib.prelu(x, lib.tensor([0.25], dtype=lib.float64)),
], ids=range(19))
def test_in_place_functional_and_top_level_activations(call):
    """F.relu_(x) and friends (in place: they return x itself), and the activations PyTorch
    also has at the top level (torch.selu, torch.prelu, ...)."""
    def run(lib):
        x = lib.tensor([-1.5, 0.2, 2.0, -0.05], dtype=lib.float64)
        y = call(lib, x)
        return y.numpy(), y is x

    (ours, ours_is_x), (theirs, theirs_is_x) = both(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert ours_is_x == theirs_is_x


def test_inference_mode_false_turns_gradients_on():
    """PyTorch's inference_mode(False) enables grad mode, also inside no_grad / inference_mode."""
    def run(lib):
        x, seen = lib.ones(2, requires_grad=True), []
        with lib.no_grad():
            with lib.inference_mode(False):
                seen += [(x * 2).requires_grad, lib.is_grad_enabled()]
            seen.append(lib.is_grad_enabled())
        with lib.inference_mode():
            with lib.inference_mode(False):
                seen.append(lib.is_grad_enabled())
            seen.append(lib.is_grad_enabled())
        return seen + [lib.is_grad_enabled()]

    ours, theirs = both(run)
    assert ours == theirs == [True, True, False, True, False, True]


def test_float16_norms_are_summed_in_float32():
    """Tensor.norm, linalg.vector_norm and F.normalize of float16 values of a few hundreds: inf
    and zeros before (x^2 overflows float16)."""
    x = np.array([[300.0, -200.0, 250.0, 10.0]], np.float16)

    def run(lib):
        t = lib.tensor(x, requires_grad=True)
        y = t.norm(dim=-1)
        y.backward()
        return (y.detach().numpy(), t.grad.numpy(),
                lib.nn.functional.normalize(lib.tensor(x), dim=-1).numpy(),
                lib.linalg.vector_norm(lib.tensor(x), 3).numpy())

    for ours, theirs in zip(*both(run)):
        assert ours.dtype == theirs.dtype == np.float16
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 5), 5),
    lambda lib: lib.nn.functional.rms_norm(lib.ones(2, 5), [True]),
    lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
        lib.ones(2, 3), lib.ones(2, 3), pos_weight=lib.ones(3, requires_grad=True)),
    lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
        lib.ones(2, 3), lib.ones(2, 3), weight=lib.ones(3, requires_grad=True)),
], ids=["layer_norm int shape", "rms_norm bool shape", "bce pos_weight", "bce weight"])
def test_arguments_pytorch_refuses(call):
    same_error(call)
