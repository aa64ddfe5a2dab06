"""F.embedding_bag and nn.EmbeddingBag against PyTorch: values, dtypes, gradients, errors."""

import numpy as np
import pytest
import torch
from torch_compare import assert_close, check_against_torch, same_error

import numpy2gpt as ng
from numpy2gpt.nn.modules.sparse import EmbeddingBag

DTYPES = [np.float32, np.float64]
IDX = np.array([0, 2, 2, 5, 1, 3, 4, 2])
OFFSETS = np.array([0, 3, 3, 5])  # bags [0, 2, 2], [], [5, 1], [3, 4, 2]


def weight(dtype, rows=6, dim=3, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, dim)).astype(dtype)


def bag_fn(lib, idx, offsets=None, **kwargs):
    """embedding_bag(weight, ...) of `lib` with fixed integer inputs, for check_against_torch."""
    off = None if offsets is None else lib.tensor(offsets)
    return lambda w: lib.nn.functional.embedding_bag(lib.tensor(idx), w, off, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_offsets_with_an_empty_bag(dtype, mode, padding_idx):
    kw = dict(mode=mode, padding_idx=padding_idx)
    (out,), *_ = check_against_torch(bag_fn(ng, IDX, OFFSETS, **kw),
                                     bag_fn(torch, IDX, OFFSETS, **kw), [weight(dtype)])
    assert out.grad_fn.name() == "EmbeddingBagBackward0"
    assert not out.detach().numpy()[1].any()  # the empty bag


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_2d_input_fixed_size_bags(dtype, mode):
    idx = np.array([[0, 1, 1], [4, 4, 3], [2, 0, 5]])
    for pad in (None, 4):  # the second bag is mostly padding: mean divides by 1
        kw = dict(mode=mode, padding_idx=pad)
        check_against_torch(bag_fn(ng, idx, **kw), bag_fn(torch, idx, **kw), [weight(dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bag_of_only_padding_is_zero(dtype):
    idx = np.array([[1, 1], [0, 1]])
    for mode in ("sum", "mean", "max"):
        kw = dict(mode=mode, padding_idx=1)
        (out,), *_ = check_against_torch(bag_fn(ng, idx, **kw), bag_fn(torch, idx, **kw),
                                         [weight(dtype)])
        assert not out.detach().numpy()[0].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_include_last_offset(dtype):
    offsets = np.r_[OFFSETS, len(IDX)]
    for mode in ("sum", "mean", "max"):
        kw = dict(mode=mode, include_last_offset=True)
        (out,), *_ = check_against_torch(bag_fn(ng, IDX, offsets, **kw),
                                         bag_fn(torch, IDX, offsets, **kw), [weight(dtype)])
        assert out.shape == (4, 3)


def test_include_last_offset_before_the_end_float32():
    """The last offset ends the last bag; later indices are left out (PyTorch's float32 path;
    its float64 sum and mean run to the end of input instead). PyTorch's gradient for the rows
    only those later indices name is uninitialised memory (it changes from run to run), so the
    oracle is PyTorch on the same bags without the later indices."""
    end = OFFSETS[-1]
    check_against_torch(bag_fn(ng, IDX, OFFSETS, mode="sum", include_last_offset=True),
                        bag_fn(torch, IDX[:end], OFFSETS[:-1], mode="sum"), [weight(np.float32)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_sample_weights(dtype):
    psw = np.random.default_rng(1).standard_normal(len(IDX)).astype(dtype)
    for pad in (None, 2):
        def fn(lib, pad=pad):
            return lambda w, p: lib.nn.functional.embedding_bag(
                lib.tensor(IDX), w, lib.tensor(OFFSETS), mode="sum", per_sample_weights=p,
                padding_idx=pad)
        _, _, (_, leaf), _ = check_against_torch(fn(ng), fn(torch), [weight(dtype), psw])
        if pad is not None:  # padding elements took no part: their weights get no gradient
            assert not leaf.grad.numpy()[IDX == pad].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_sample_weights_2d_only_for_weights(dtype):
    idx = np.array([[0, 3], [3, 5]])
    psw = np.random.default_rng(2).standard_normal(idx.shape).astype(dtype)

    def fn(lib):
        return lambda w, p: lib.nn.functional.embedding_bag(lib.tensor(idx), w, mode="sum",
                                                            per_sample_weights=p)
    check_against_torch(fn(ng), fn(torch), [weight(dtype), psw], requires_grad=[False, True])


def test_max_ties_go_to_the_first_element():
    w = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 3.0]])
    for idx in ([0, 1, 2], [1, 0, 2]):
        kw = dict(mode="max")
        check_against_torch(bag_fn(ng, idx, [0], **kw), bag_fn(torch, idx, [0], **kw), [w])


def test_int32_indices_and_float32_kept():
    idx, off = IDX.astype(np.int32), OFFSETS.astype(np.int32)
    check_against_torch(bag_fn(ng, idx, off), bag_fn(torch, idx, off), [weight(np.float32)])


def test_empty_input():
    idx = np.array([], dtype=np.int64)
    check_against_torch(bag_fn(ng, idx, [0, 0]), bag_fn(torch, idx, [0, 0]),
                        [weight(np.float64)])


def test_no_grad_needed():
    out, t = [lib.nn.functional.embedding_bag(lib.tensor(IDX), lib.tensor(weight(np.float32)),
                                              lib.tensor(OFFSETS)) for lib in (ng, torch)]
    assert not out.requires_grad and out.grad_fn is None
    assert_close(out, t)


F_ERRORS = [
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), w, lib.tensor([1])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), w, lib.tensor([0, 3])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([[0, 1]]), w, lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), w),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([[[0]]]), w),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(0), w, lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([[0]])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w[0], lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([0]),
                                                   mode="median"),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([0]),
                                                   mode="max", per_sample_weights=w[0, :1]),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([0]),
                                                   per_sample_weights=w[0, :1]),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), w, lib.tensor([0]),
                                                   mode="sum", per_sample_weights=w[0, :1]),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([0]),
                                                   padding_idx=6),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w, lib.tensor([0]),
                                                   padding_idx=-7),
]


def raised(call):
    with pytest.raises(Exception) as e:
        call()
    return e.value


@pytest.mark.parametrize("k", range(len(F_ERRORS)))
def test_errors_match_pytorch(k):
    """PyTorch's type and first line of message, library names (torch.Size, the Tensor
    class) spelled the torch way."""
    w = weight(np.float32)
    ours, theirs = (raised(lambda lib=lib: F_ERRORS[k](lib, lib.tensor(w))) for lib in (ng, torch))
    assert type(ours) is type(theirs)
    spelled = str(ours).replace("numpy2gpt.tensor.Tensor", "torch.Tensor")
    assert spelled.replace("numpy2gpt.", "torch.") == str(theirs).splitlines()[0]


OUR_MESSAGES = [  # PyTorch's type; the message is our own, clearer one
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0, 6]), w, lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([-1, 0]), w, lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0.0]), w, lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor([0]), w.long(), lib.tensor([0])),
    lambda lib, w: lib.nn.functional.embedding_bag(
        lib.tensor([0]), w, lib.tensor([0]), mode="sum", per_sample_weights=w[0, :1].double()),
]


@pytest.mark.parametrize("k", range(len(OUR_MESSAGES)))
def test_errors_of_pytorch_type(k):
    w = weight(np.float32)
    same_error(lambda lib: OUR_MESSAGES[k](lib, lib.tensor(w)), same_message=False)
    with pytest.raises(RuntimeError, match="embedding_bag"):
        OUR_MESSAGES[k](ng, ng.tensor(w))


def test_decreasing_offsets_are_refused():
    """PyTorch reads out of bounds here (its answer varies); numpy2gpt refuses."""
    with pytest.raises(RuntimeError, match="non-decreasing"):
        ng.nn.functional.embedding_bag(ng.tensor([0, 1, 2]), ng.tensor(weight(np.float32)),
                                       ng.tensor([0, 2, 1]))


# ----- the module -----------------------------------------------------------------------------
def test_init_matches_pytorch_after_manual_seed():
    for kw in (dict(), dict(padding_idx=1)):
        ng.manual_seed(3)
        torch.manual_seed(3)
        ours, theirs = EmbeddingBag(5, 4, **kw), torch.nn.EmbeddingBag(5, 4, **kw)
        assert_close(ours.weight, theirs.weight, rtol=0, atol=0)
        assert ours.weight.requires_grad


def test_dtype_argument():
    assert EmbeddingBag(3, 2, dtype=ng.float64).weight.dtype == ng.float64
    assert EmbeddingBag(3, 2).weight.dtype == ng.float32


@pytest.mark.parametrize("kw", [dict(), dict(mode="sum", padding_idx=-2),
                                dict(mode="max", norm_type=1.0, include_last_offset=True)])
def test_repr(kw):
    assert repr(EmbeddingBag(5, 3, **kw)) == repr(torch.nn.EmbeddingBag(5, 3, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_module_forward_and_grad(dtype):
    w = weight(dtype)
    psw = np.random.default_rng(4).standard_normal(len(IDX)).astype(dtype)
    mods = [EmbeddingBag(6, 3, mode="sum", padding_idx=5, _weight=ng.tensor(w)),
            torch.nn.EmbeddingBag(6, 3, mode="sum", padding_idx=5, _weight=torch.tensor(w))]
    outs = [m(lib.tensor(IDX), lib.tensor(OFFSETS), lib.tensor(psw))
            for m, lib in zip(mods, (ng, torch))]
    assert_close(outs[0], outs[1])
    gy = np.random.default_rng(5).standard_normal(outs[1].shape).astype(dtype)
    outs[0].backward(ng.tensor(gy))
    outs[1].backward(torch.tensor(gy))
    assert_close(mods[0].weight.grad, mods[1].weight.grad)


def test_from_pretrained():
    w = weight(np.float32)
    for freeze in (True, False):
        ours = EmbeddingBag.from_pretrained(ng.tensor(w), freeze=freeze, mode="max")
        theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=freeze,
                                                       mode="max")
        assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
        assert repr(ours) == repr(theirs)
        assert_close(ours(ng.tensor(IDX), ng.tensor(OFFSETS)),
                     theirs(torch.tensor(IDX), torch.tensor(OFFSETS)))
    cls = {ng: EmbeddingBag, torch: torch.nn.EmbeddingBag}
    same_error(lambda lib: cls[lib].from_pretrained(lib.tensor(w[0])))


def test_module_errors():
    def make(lib, **kw):
        return (torch.nn.EmbeddingBag if lib is torch else EmbeddingBag)(5, 3, **kw)
    same_error(lambda lib: make(lib, padding_idx=5))
    same_error(lambda lib: make(lib, _weight=lib.zeros(4, 3)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_second_derivatives_by_gradgradcheck(mode):
    """PyTorch 2.13 has no double backward for embedding_bag; numpy2gpt's comes from the op's
    composed form (index_add of the scaled rows, or the rows that held each maximum)."""
    rng = np.random.default_rng(0)
    weight = ng.tensor(rng.standard_normal((10, 3)), requires_grad=True)
    psw = ng.tensor(rng.standard_normal(8), requires_grad=True) if mode == "sum" else None
    idx, offsets = ng.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ng.tensor([0, 2, 2, 5])

    def bags(w, *p):
        return ng.nn.functional.embedding_bag(idx, w, offsets, mode=mode, padding_idx=3,
                                              per_sample_weights=p[0] if p else None)

    assert ng.autograd.gradgradcheck(bags, (weight,) + ((psw,) if psw is not None else ()))


@pytest.mark.parametrize("cls", ["Embedding", "EmbeddingBag"])
def test_from_pretrained_refuses_a_non_matrix_like_torch(cls):
    errors = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as info:
            getattr(lib.nn, cls).from_pretrained(lib.ones(3))
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])
