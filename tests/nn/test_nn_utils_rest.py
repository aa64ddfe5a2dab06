"""nn.Buffer / nn.UninitializedBuffer, the rest of nn.utils (get_total_norm and
clip_grads_with_norm_, the clip_grad module, BatchNorm fusion, conv weight memory formats), the
deprecated nn.init names and nn.AdaptiveLogSoftmaxWithLoss, against PyTorch."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch_compare import assert_close, both, same_error

import numpy2gpt as ng
from numpy2gpt.nn import parameter as ng_parameter
from numpy2gpt.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss

# (numpy2gpt.nn exports these names too; taken from their modules here)
BUFFER = {ng: ng_parameter.Buffer, torch: torch.nn.Buffer}
UNINIT_BUFFER = {ng: ng_parameter.UninitializedBuffer, torch: torch.nn.UninitializedBuffer}
ASM = {ng: AdaptiveLogSoftmaxWithLoss, torch: torch.nn.AdaptiveLogSoftmaxWithLoss}
LIBS = (ng, torch)


def _rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----- nn.Buffer --------------------------------------------------------------------------------

def test_buffer_is_a_leaf_sharing_memory_and_keeping_requires_grad():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        b = BUFFER[lib](x * 2)
        assert b.is_leaf and b.requires_grad and b.persistent
        assert isinstance(b, BUFFER[lib]) and isinstance(b, lib.Tensor)
        assert not isinstance(x, BUFFER[lib])
        plain = lib.zeros(2)
        BUFFER[lib](plain, persistent=False).detach().add_(1)
        assert plain.tolist() == [1.0, 1.0]
        assert not isinstance(b * 2, BUFFER[lib])
        empty = BUFFER[lib]()
        assert empty.shape == (0,) and empty.dtype == lib.float32
    same_error(lambda lib: BUFFER[lib]([1.0, 2.0]))
    same_error(lambda lib: BUFFER[lib](lib.ones(1), False), same_message=False)


def _module_with_buffers(lib):
    m = lib.nn.Module()
    m.a = BUFFER[lib](lib.ones(2), persistent=False)
    m.c = BUFFER[lib](lib.zeros(1))
    m.register_buffer("z", lib.ones(1), persistent=False)
    m.z = lib.zeros(2)  # a plain tensor keeps the buffer's persistence
    m.y = BUFFER[lib](lib.ones(3), persistent=False)
    m.y = BUFFER[lib](lib.ones(3))  # re-assigning a Buffer takes its persistence
    return m


def test_assigning_a_buffer_registers_it_with_its_persistence():
    ours, theirs = _module_with_buffers(ng), _module_with_buffers(torch)
    for m in (ours, theirs):
        assert list(m.state_dict()) == ["c", "y"]
        assert [name for name, _ in m.named_buffers()] == ["a", "c", "z", "y"]
        assert m._non_persistent_buffers_set == {"a", "z"}
        m.z = BUFFER[ng if m is ours else torch](m.z)
        assert m._non_persistent_buffers_set == {"a"}
        m.c = None
        assert "c" in m._buffers and m.c is None
        m.c = torch.nn.Parameter(torch.ones(1)) if m is theirs else ng.nn.Parameter(ng.ones(1))
        assert "c" in m._parameters and "c" not in m._buffers


def test_assigning_a_buffer_over_a_plain_attribute_is_refused():
    def call(lib):
        m = lib.nn.Module()
        m.x = 5
        m.x = BUFFER[lib](lib.ones(1))
    same_error(call)

    def call(lib):
        m = lib.nn.Module()
        m.register_buffer("b", lib.ones(1))
        m.b = "text"
    same_error(call, same_message=False)  # (its message names torch's classes)


def test_buffer_copies_and_pickles_with_its_persistence():
    b = ng_parameter.Buffer(ng.tensor([1.0, 2.0]), persistent=False)
    for c in (copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        assert isinstance(c, ng_parameter.Buffer) and c.persistent is False
        assert c.tolist() == [1.0, 2.0]
        c.add_(1)
    assert b.tolist() == [1.0, 2.0]


def test_uninitialized_buffer():
    for lib in LIBS:
        u = UNINIT_BUFFER[lib]()
        assert repr(u) == "<UninitializedBuffer>"
        assert (u.requires_grad, u.persistent) == (False, True)
        assert lib.nn.parameter.is_lazy(u) and isinstance(u, BUFFER[lib])
        u2 = UNINIT_BUFFER[lib](requires_grad=True, dtype=lib.float64, persistent=False)
        assert u2.requires_grad and u2.dtype == lib.float64 and u2.persistent is False
        m = lib.nn.Module()
        m.u = u2
        assert list(m._buffers) == ["u"] and m._non_persistent_buffers_set == {"u"}
        u.materialize((2, 3))
        assert u.shape == (2, 3) and u.dtype == lib.float32 and u.persistent
        assert not lib.nn.parameter.is_lazy(u) and isinstance(u, BUFFER[lib])
    same_error(lambda lib: UNINIT_BUFFER[lib]().shape)
    same_error(lambda lib: UNINIT_BUFFER[lib]().share_memory_())
    c = copy.deepcopy(ng_parameter.UninitializedBuffer(dtype=ng.float64, persistent=False))
    assert type(c) is ng_parameter.UninitializedBuffer and c.persistent is False
    assert c.dtype == ng.float64
    p = pickle.loads(pickle.dumps(ng_parameter.UninitializedBuffer(persistent=False)))
    assert type(p) is ng_parameter.UninitializedBuffer and p.persistent is False


# ----- clipping ---------------------------------------------------------------------------------

def _params_with_grads(lib, dtype, scale):
    params = []
    for i, shape in enumerate([(3, 4), (5,), (2, 2, 2)]):
        p = lib.nn.Parameter(lib.tensor(_rand(*shape, seed=i, dtype=dtype)))
        p.grad = lib.tensor(_rand(*shape, seed=10 + i, dtype=dtype) * scale)
        params.append(p)
    params.append(lib.nn.Parameter(lib.tensor(_rand(2, dtype=dtype))))  # no grad
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
def test_get_total_norm(dtype, norm_type):
    ours, theirs = both(lambda lib: lib.nn.utils.get_total_norm(
        [p.grad for p in _params_with_grads(lib, dtype, 1.0)[:3]], norm_type))
    assert_close(ours, theirs)
    ours, theirs = both(lambda lib: lib.nn.utils.get_total_norm(lib.tensor([3.0, 4.0])))
    assert_close(ours, theirs)
    assert_close(ng.nn.utils.get_total_norm([]), torch.nn.utils.get_total_norm([]))
    mixed = both(lambda lib: lib.nn.utils.get_total_norm(
        [lib.ones(2, dtype=lib.float64), lib.ones(2)]))
    assert_close(*mixed, rtol=1e-7)  # (PyTorch takes the float32 tensor's own norm in float32)


def test_get_total_norm_errors():
    same_error(lambda lib: lib.nn.utils.get_total_norm([lib.ones(2, dtype=lib.int64)]))
    same_error(lambda lib: lib.nn.utils.get_total_norm([lib.tensor([1.0, float("inf")])],
                                                       error_if_nonfinite=True))
    same_error(lambda lib: lib.nn.utils.get_total_norm([lib.ones(2)], "fro"),
               same_message=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [0.01, 10.0])  # below and above max_norm
def test_clip_grads_with_norm_matches_clip_grad_norm_(dtype, scale):
    for norm_type in (2.0, float("inf")):
        results = {}
        for lib in LIBS:
            split = _params_with_grads(lib, dtype, scale)
            total = lib.nn.utils.get_total_norm([p.grad for p in split if p.grad is not None],
                                                norm_type)
            assert lib.nn.utils.clip_grads_with_norm_(split, 1.0, total) is None
            joint = _params_with_grads(lib, dtype, scale)
            joint_total = lib.nn.utils.clip_grad.clip_grad_norm_(joint, 1.0, norm_type)
            assert_close(total, joint_total)
            for p, q in zip(split, joint, strict=True):
                assert (p.grad is None) == (q.grad is None)
                if p.grad is not None:
                    assert_close(p.grad, q.grad.numpy())
            results[lib] = (total, split)
        assert_close(results[ng][0], results[torch][0])
        for p, q in zip(results[ng][1][:3], results[torch][1][:3], strict=True):
            assert_close(p.grad, q.grad)
        assert float(results[torch][0]) > 1.0 or scale < 1  # the large case does clip


def test_clip_grads_with_norm_on_a_single_tensor_and_bad_norms():
    for lib in LIBS:
        p = lib.nn.Parameter(lib.ones(4))
        p.grad = lib.full((4,), 2.0)
        clipped = np.full(4, np.float32(2.0) * (np.float32(1.0) / np.float32(4.0 + 1e-6)))
        lib.nn.utils.clip_grads_with_norm_(p, 1.0, lib.tensor(4.0))
        assert_close(p.grad, clipped)
        lib.nn.utils.clip_grads_with_norm_(p, 10.0, lib.tensor(0.5))  # never scaled up
        assert_close(p.grad, clipped)

    def with_grad(lib):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.ones(3)
        return p
    same_error(lambda lib: lib.nn.utils.clip_grads_with_norm_([with_grad(lib)], 1.0, 5.0),
               same_message=False)
    same_error(lambda lib: lib.nn.utils.clip_grads_with_norm_([with_grad(lib)], 1.0, "5"))


def test_deprecated_clip_grad_norm_and_empty_generator_warning():
    for lib in LIBS:
        p = lib.nn.Parameter(lib.ones(4))
        p.grad = lib.full((4,), 2.0)
        with pytest.warns(FutureWarning, match=r"^`torch\.nn\.utils\.clip_grad_norm` is now "
                          r"deprecated in favor of `torch\.nn\.utils\.clip_grad_norm_`\.$"):
            total = lib.nn.utils.clip_grad_norm(p, 1.0)
        assert float(total) == 4.0
        assert lib.nn.utils.clip_grad.clip_grad_norm is lib.nn.utils.clip_grad_norm
        with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient "
                          "clipping will occur."):
            lib.nn.utils.clip_grad_norm_((q for q in []), 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.nn.utils.clip_grad_norm_([], 1.0)  # an empty list is not warned about


# ----- fusion -----------------------------------------------------------------------------------

def _conv_bn(lib, dtype, transpose, bias, affine, dims=2):
    lib.manual_seed(0)
    conv_cls = getattr(lib.nn, f"ConvTranspose{dims}d" if transpose else f"Conv{dims}d")
    conv = conv_cls(3, 4, 3, bias=bias).to(dtype)
    bn = getattr(lib.nn, f"BatchNorm{dims}d")(4, eps=1e-3, affine=affine).to(dtype)
    with lib.no_grad():
        bn.running_mean.copy_(lib.tensor(_rand(4, seed=1)))
        bn.running_var.copy_(lib.tensor(_rand(4, seed=2) ** 2 + 0.5))
        if affine:
            bn.weight.copy_(lib.tensor(_rand(4, seed=3)))
            bn.bias.copy_(lib.tensor(_rand(4, seed=4)))
    return conv.eval(), bn.eval()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transpose,bias,affine,dims", [(False, True, True, 2),
                                                        (True, True, True, 2),
                                                        (False, False, False, 2),
                                                        (True, False, True, 1),
                                                        (False, True, True, 3)])
def test_fuse_conv_bn_eval(dtype, transpose, bias, affine, dims):
    x = _rand(2, 3, *(5,) * dims, seed=5)
    outs = {}
    for lib in LIBS:
        conv, bn = _conv_bn(lib, getattr(lib, dtype), transpose, bias, affine, dims)
        fused = lib.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
        assert fused is not conv and type(fused) is type(conv)
        assert isinstance(fused.weight, lib.nn.Parameter) and fused.weight.is_leaf
        assert fused.weight.requires_grad and fused.bias.requires_grad == bias
        xt = lib.tensor(x).to(getattr(lib, dtype))
        assert_close(fused(xt).detach().numpy(), bn(conv(xt)).detach().numpy(),
                     rtol=1e-4 if dtype == "float32" else 1e-10)
        outs[lib] = fused
    assert_close(outs[ng].weight, outs[torch].weight)
    assert_close(outs[ng].bias, outs[torch].bias)


def test_fuse_conv_bn_weights_keeps_the_conv_dtypes():
    def fuse(lib):
        return lib.nn.utils.fuse_conv_bn_weights(
            lib.ones(2, 1, 3, requires_grad=True), None, lib.zeros(2, dtype=lib.float64),
            lib.ones(2, dtype=lib.float64), 1e-5, None, lib.full((2,), 0.5, dtype=lib.float64))
    (w, b), (tw, tb) = both(fuse)
    assert_close(w, tw)
    assert_close(b, tb)
    assert not b.requires_grad and w.requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("num_features,bias", [(4, True), (1, False)])
def test_fuse_linear_bn_eval(dtype, num_features, bias):
    x = _rand(6, 3, seed=5)
    outs = {}
    for lib in LIBS:
        lib.manual_seed(0)
        linear = lib.nn.Linear(3, 4, bias=bias).to(getattr(lib, dtype)).eval()
        bn = lib.nn.BatchNorm1d(num_features).to(getattr(lib, dtype)).eval()
        with lib.no_grad():
            bn.running_mean.copy_(lib.tensor(_rand(num_features, seed=1)))
            bn.running_var.copy_(lib.tensor(_rand(num_features, seed=2) ** 2 + 0.5))
            bn.weight.copy_(lib.tensor(_rand(num_features, seed=3)))
        fused = lib.nn.utils.fuse_linear_bn_eval(linear, bn)
        xt = lib.tensor(x).to(getattr(lib, dtype))
        if num_features == 4:
            assert_close(fused(xt).detach().numpy(), bn(linear(xt)).detach().numpy(),
                         rtol=1e-4 if dtype == "float32" else 1e-10)
        outs[lib] = fused
    assert_close(outs[ng].weight, outs[torch].weight)
    assert_close(outs[ng].bias, outs[torch].bias)


def test_fusion_errors():
    same_error(lambda lib: lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 2, 1),
                                                          lib.nn.BatchNorm2d(2).eval()))
    same_error(lambda lib: lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(1, 2).eval(),
                                                            lib.nn.BatchNorm1d(2)))
    same_error(lambda lib: lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(1, 2).eval(),
                                                            lib.nn.BatchNorm1d(3).eval()))
    same_error(lambda lib: lib.nn.utils.fuse_linear_bn_eval(
        lib.nn.Linear(1, 2).eval(), lib.nn.BatchNorm1d(2, track_running_stats=False).eval()))


# ----- memory format ----------------------------------------------------------------------------

def test_convert_conv_weight_memory_format():
    for lib in LIBS:
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.Sequential(
            lib.nn.ConvTranspose2d(4, 2, 2)), lib.nn.Conv3d(2, 2, 2), lib.nn.Linear(2, 2))
        weight, values = m[0].weight, m[0].weight.detach().numpy().copy()
        assert lib.nn.utils.convert_conv2d_weight_memory_format(m, lib.channels_last) is m
        assert m[0].weight is weight and np.array_equal(weight.detach().numpy(), values)
        assert weight.is_contiguous(memory_format=lib.channels_last)
        assert not weight.is_contiguous()
        assert m[1][0].weight.is_contiguous(memory_format=lib.channels_last)
        assert not m[2].weight.is_contiguous(memory_format=lib.channels_last_3d)
        lib.nn.utils.convert_conv3d_weight_memory_format(m, lib.channels_last_3d)
        assert m[2].weight.is_contiguous(memory_format=lib.channels_last_3d)
        lib.nn.utils.convert_conv2d_weight_memory_format(m, lib.contiguous_format)
        assert weight.is_contiguous() and np.array_equal(weight.detach().numpy(), values)
        x = lib.tensor(_rand(1, 3, 5, 5, dtype=np.float32))
        m[0](x).sum().backward()
        assert weight.grad.shape == (4, 3, 3, 3)
    same_error(lambda lib: lib.nn.utils.convert_conv3d_weight_memory_format(
        lib.nn.Conv3d(2, 2, 2), lib.channels_last))
    same_error(lambda lib: lib.nn.utils.convert_conv2d_weight_memory_format(
        lib.nn.Conv2d(2, 2, 2), lib.channels_last_3d))


# ----- deprecated nn.init names -----------------------------------------------------------------

@pytest.mark.parametrize("name,args", [("normal", (0.5, 2.0)), ("uniform", (-1.0, 3.0)),
                                       ("constant", (0.25,)), ("eye", ()), ("xavier_uniform", ()),
                                       ("xavier_normal", (2.0,)), ("kaiming_uniform", ()),
                                       ("kaiming_normal", (0, "fan_out")), ("orthogonal", ()),
                                       ("sparse", (0.5,))])
def test_deprecated_init_names(name, args):
    results = []
    for lib in LIBS:
        lib.manual_seed(3)
        t = lib.empty(4, 6)
        with pytest.warns(FutureWarning) as record:
            out = getattr(lib.nn.init, name)(t, *args)
        assert out is t
        assert len(record) == 1 and str(record[0].message) == (
            f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`.")
        assert record[0].filename == __file__  # the warning points at the caller
        assert getattr(lib.nn.init, name).__name__ == name
        results.append(t)
    assert_close(*results, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:`nn.init.eye` is now deprecated:FutureWarning")
def test_deprecated_dirac():
    for lib in LIBS:
        with pytest.warns(FutureWarning, match="`nn.init.dirac` is now deprecated"):
            t = lib.nn.init.dirac(lib.empty(4, 2, 3, 3), groups=2)
        assert t.sum().item() == 4
    same_error(lambda lib: lib.nn.init.eye(lib.empty(2, 2, 2)))


# ----- AdaptiveLogSoftmaxWithLoss ---------------------------------------------------------------

def _asm(lib, dtype="float64", **kwargs):
    lib.manual_seed(0)
    kwargs = {"div_value": 2.0, "head_bias": True, **kwargs}
    return ASM[lib](8, 20, [4, 10, 15], dtype=getattr(lib, dtype), **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_log_softmax_forward_and_gradients(dtype):
    x = _rand(7, 8, seed=1, dtype=np.dtype(dtype))
    target = np.array([0, 5, 19, 3, 12, 11, 16])
    upstream = _rand(7, seed=2, dtype=np.dtype(dtype))
    results = {}
    for lib in LIBS:
        m = _asm(lib, dtype)
        xt = lib.tensor(x, requires_grad=True)
        out = m(xt, lib.tensor(target))
        assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
        (out.output * lib.tensor(upstream)).sum().add(out.loss).backward()
        results[lib] = (m, xt, out)
    (m, xt, out), (tm, txt, tout) = results[ng], results[torch]
    assert_close(out.output, tout.output)
    assert_close(out.loss, tout.loss)
    assert_close(xt.grad, txt.grad)
    for (name, p), (tname, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        assert name == tname
        assert_close(p, tp, what=name)  # the same initial weights for the same seed
        assert_close(p.grad, tp.grad, what=name)


def _asm_with_cluster_rows(lib):
    """Head weights under which rows 1 and 4 of _rand(6, 8, seed=3) pick a cluster in the head
    and the other rows a shortlist class (predict's mixed case)."""
    m = _asm(lib, head_bias=False)
    with lib.no_grad():
        m.head.weight[4:, :] = 0
        m.head.weight[4, 0] = 50.0
    return m


def test_adaptive_log_softmax_unbatched_log_prob_and_predict():
    x = _rand(6, 8, seed=3)
    m, tm = both(_asm_with_cluster_rows)
    ours, theirs = m.log_prob(ng.tensor(x)), tm.log_prob(torch.tensor(x))
    assert_close(ours, theirs)
    assert_close(ours.exp().sum(1), np.ones(6))
    for rows in ([0, 1, 2, 3, 4, 5], [1, 4], [0, 2]):  # mixed, all in clusters, all shortlist
        assert_close(m.predict(ng.tensor(x[rows])), tm.predict(torch.tensor(x[rows])))
    assert tm.predict(torch.tensor(x)).max() >= 4  # some rows do use the tails
    single, tsingle = m(ng.tensor(x[0]), ng.tensor(13)), tm(torch.tensor(x[0]), torch.tensor(13))
    assert_close(single.output, tsingle.output)
    assert_close(single.loss, tsingle.loss)


def test_adaptive_log_softmax_errors():
    for cutoffs in ([], [4, 4], [10, 4], [0, 5], [5, 20], [2.5]):
        same_error(lambda lib, c=cutoffs: ASM[lib](8, 20, c))
    x = _rand(3, 8)
    same_error(lambda lib: _asm(lib)(lib.tensor(x), lib.tensor([1, 2])))
    same_error(lambda lib: _asm(lib)(lib.tensor(x[None]), lib.tensor([1, 2, 3])),
               same_message=False)  # (the message shows the Size, named by each library)
    same_error(lambda lib: _asm(lib)(lib.tensor(x), lib.tensor(1)), same_message=False)
    same_error(lambda lib: _asm(lib)(lib.tensor(x), lib.tensor([[1, 2, 3]])))
    same_error(lambda lib: _asm(lib)(lib.tensor(x), lib.tensor([1, 20, 3])))
    same_error(lambda lib: _asm(lib)(lib.tensor(x), lib.tensor([1, -1, 3])))
