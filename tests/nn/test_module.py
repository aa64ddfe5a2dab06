"""nn.Module API: registration, tree walks, state_dict / load_state_dict (against real PyTorch's
key names, error messages and reprs), modes, dtypes, the module name stack, Parameter."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numpy2gpt as n2g
from numpy2gpt import nn
from numpy2gpt.nn.modules.module import current_module_path


def build(lib):
    """The same small model in PyTorch (lib=torch.nn) and numpy2gpt (lib=numpy2gpt.nn)."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.ln = lib.LayerNorm(4, bias=False)
            self.fc = lib.Linear(4, 4)
            self.act = lib.GELU(approximate="tanh")
            self.drop = lib.Dropout(0.1)

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.wte = lib.Embedding(10, 4)
            self.h = lib.ModuleList([Block() for _ in range(2)])
            self.heads = lib.ModuleDict({"a": lib.Linear(4, 3, bias=False), "b": lib.Identity()})
            self.mlp = lib.Sequential(OrderedDict([("up", lib.Linear(4, 8)), ("relu", lib.ReLU()),
                                                   ("down", lib.Linear(8, 4))]))
            self.lm_head = lib.Linear(4, 10, bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying, as in GPT-2
            pkg = torch if lib is torch.nn else n2g
            self.register_buffer("mask", pkg.ones(3, 3))
            self.register_buffer("cache", pkg.zeros(2), persistent=False)
            self.scale = lib.Parameter(pkg.ones(1))

    return Net()


# ----- structure: names match PyTorch's ----------------------------------------------------------
def test_names_and_order_match_torch():
    t, m = build(torch.nn), build(nn)
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert repr(m) == repr(t).replace("torch", "numpy2gpt")


def test_tied_parameter_appears_once_but_state_dict_has_both_keys():
    m = build(nn)
    params = list(m.parameters())
    assert sum(p is m.wte.weight for p in params) == 1
    assert len(params) == len({id(p) for p in params})
    sd = m.state_dict()
    assert "lm_head.weight" in sd and "wte.weight" in sd
    assert np.shares_memory(sd["lm_head.weight"]._data, sd["wte.weight"]._data)


def test_state_dict_is_detached_and_shares_memory():
    m = build(nn)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    w = sd["mlp.up.weight"]
    assert not w.requires_grad and w.grad_fn is None and not isinstance(w, nn.Parameter)
    assert np.shares_memory(w._data, m.mlp.up.weight._data)
    assert "cache" not in sd and "mask" in sd  # non-persistent buffers are left out
    kv = m.state_dict(keep_vars=True)
    assert kv["mlp.up.weight"] is m.mlp.up.weight


# ----- load_state_dict ---------------------------------------------------------------------------
def torch_state_as_numpy(t):
    return {k: v.detach().numpy().copy() for k, v in t.state_dict().items()}


def test_load_torch_state_dict_gives_same_values_and_keeps_tying_and_identity():
    t, m = build(torch.nn), build(nn)
    ids = {n: id(p) for n, p in m.named_parameters()}
    result = m.load_state_dict(torch_state_as_numpy(t))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(m.state_dict()[k]._data, v.numpy())
    assert {n: id(p) for n, p in m.named_parameters()} == ids  # copied in place
    assert m.lm_head.weight is m.wte.weight
    assert m.mlp.up.weight.dtype == n2g.float32 and m.mlp.up.weight.requires_grad


def test_load_accepts_tensors_and_casts_to_parameter_dtype():
    m = nn.Linear(3, 2)
    w = np.arange(6, dtype=np.float64).reshape(2, 3)
    m.load_state_dict({"weight": n2g.tensor(w), "bias": np.array([1.0, 2.0])})
    assert m.weight.dtype == n2g.float32
    np.testing.assert_array_equal(m.weight._data, w.astype(np.float32))
    np.testing.assert_array_equal(m.bias._data, [1.0, 2.0])


def test_load_errors_match_torch_wording_and_leave_model_unchanged():
    t, m = build(torch.nn), build(nn)
    bad_np = torch_state_as_numpy(t)
    bad_t = dict(t.state_dict())
    for bad in (bad_np, bad_t):
        del bad["mlp.up.bias"]
        bad["extra.weight"] = bad["mask"][:1] * 1
        bad["mlp.down.weight"] = bad["mlp.down.weight"][:, :3] * 1
    with pytest.raises(RuntimeError) as theirs:
        t.load_state_dict(bad_t)
    before = {k: v._data.copy() for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError) as ours:
        m.load_state_dict(bad_np)
    assert str(ours.value) == str(theirs.value).replace("torch.Size", "numpy2gpt.Size")
    assert "Error(s) in loading state_dict for Net" in str(ours.value)
    for k, v in m.state_dict().items():  # nothing was written
        np.testing.assert_array_equal(v._data, before[k])


def test_load_non_strict_reports_keys_but_size_mismatch_still_raises():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    sd = {"0.weight": np.ones((3, 2)), "0.bias": np.ones(3), "9.foo": np.ones(1)}
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.weight", "1.bias"]
    assert result.unexpected_keys == ["9.foo"]
    np.testing.assert_array_equal(m[0].weight._data, np.ones((3, 2)))
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.bias: copying a param with "
                                           r"shape numpy2gpt\.Size\(\[4\]\) from checkpoint, the "
                                           r"shape in current model is numpy2gpt\.Size\(\[3\]\)"):
        m.load_state_dict({"0.bias": np.ones(4)}, strict=False)


def test_load_rejects_non_tensor_values_and_non_mappings():
    m = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias"'):
        m.load_state_dict({"weight": np.ones((1, 2)), "bias": [1.0]})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([("weight", np.ones((1, 2)))])


# ----- registration rules ------------------------------------------------------------------------
def test_setattr_registers_and_getattr_finds_and_delattr_removes():
    m = nn.Module()
    m.w = nn.Parameter(n2g.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("b", n2g.ones(1))
    m.plain = n2g.ones(1)  # a plain tensor attribute is neither a parameter nor a buffer
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["b"] and "plain" in m.__dict__
    assert m.w is m._parameters["w"] and m.sub is m._modules["sub"]
    m.b = n2g.zeros(1)  # re-assigning a buffer keeps it a buffer
    assert m._buffers["b"] is m.b
    m.w = None
    assert m._parameters["w"] is None and list(m.parameters()) == list(m.sub.parameters())
    m.sub = nn.ReLU()  # replacing a module
    assert isinstance(m.sub, nn.ReLU)
    del m.sub, m.b, m.plain
    assert "sub" not in m._modules and "b" not in m._buffers and not hasattr(m, "plain")
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        getattr(m, "nope")  # noqa: B009
    assert "w" in dir(m)


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'numpy2gpt.float32' as parameter 'weight'"):
        m.weight = n2g.zeros(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module"):
        setattr(nn.Sequential(nn.ReLU()), "0", 3)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", n2g.zeros(1))
    with pytest.raises(KeyError, match=r"name can.+t contain \"\.\""):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="to buffer 'x'"):
        m.register_buffer("x", np.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)

    class Forgot(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(n2g.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Forgot()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_get_submodule_parameter_buffer_and_add_module():
    m = build(nn)
    assert m.get_submodule("h.1.fc") is m.h[1].fc
    assert m.get_submodule("") is m
    assert m.get_parameter("h.0.ln.weight") is m.h[0].ln.weight
    assert m.get_buffer("mask") is m.mask
    with pytest.raises(AttributeError, match="has no attribute `zz`"):
        m.get_submodule("h.zz")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        m.get_parameter("mask")
    m.add_module("extra", nn.Linear(1, 1))
    m.register_module("extra2", nn.Linear(1, 1))
    assert [n for n, _ in m.named_children()][-2:] == ["extra", "extra2"]


def test_named_parameters_prefix_recurse_and_remove_duplicate():
    m = build(nn)
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in m.mlp.named_parameters(prefix="mlp")][0] == "mlp.up.weight"
    all_names = [n for n, _ in m.named_parameters(remove_duplicate=False)]
    assert "lm_head.weight" in all_names and "wte.weight" in all_names
    assert len(list(m.buffers())) == 2 and len(list(m.buffers(recurse=False))) == 2
    assert len(list(m.children())) == 5 and list(m.modules())[0] is m


# ----- modes, gradients, dtypes ------------------------------------------------------------------
def test_train_eval_propagate():
    m = build(nn)
    assert m.training and m.h[0].drop.training
    assert m.eval() is m
    assert all(not mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("no")


def test_zero_grad_and_requires_grad_():
    m = nn.Linear(2, 2)
    for p in m.parameters():
        p.grad = n2g.ones(*p.shape)
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and np.all(g._data == 0)
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_double_keeps_parameter_objects_and_casts_float_buffers_only():
    m = build(nn)
    m.register_buffer("idx", n2g.arange(3))
    m.scale.grad = n2g.ones(1)
    ids = [id(p) for p in m.parameters()]
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == ids
    assert all(p.dtype == n2g.float64 for p in m.parameters())
    assert m.mask.dtype == n2g.float64 and m.idx.dtype == n2g.int64
    assert m.scale.grad.dtype == n2g.float64
    assert m.lm_head.weight is m.wte.weight
    m.to(n2g.float32)
    assert all(p.dtype == n2g.float32 for p in m.parameters())
    m.to("cpu", dtype=n2g.float64)
    assert m.scale.dtype == n2g.float64
    m.float()
    assert m.scale.dtype == n2g.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(n2g.int64)
    with pytest.raises(AssertionError, match="CPU only"):
        m.to("cuda")


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_deepcopy_is_independent():
    m = build(nn)
    m.mlp.up.weight.grad = n2g.ones(8, 4)
    c = copy.deepcopy(m)
    assert isinstance(c.mlp.up.weight, nn.Parameter) and c.mlp.up.weight.requires_grad
    assert c.lm_head.weight is c.wte.weight  # tying survives the copy
    assert c.mlp.up.weight.grad is None  # PyTorch's Parameter.__deepcopy__ copies no .grad
    c.mlp.up.weight._data[...] = 7
    assert not np.any(m.mlp.up.weight._data == 7)


# ----- calling: forward and the module name stack ------------------------------------------------
class Recorder(nn.Module):
    def __init__(self, inner=None):
        super().__init__()
        self.inner = inner
        self.seen = []

    def forward(self, x):
        self.seen.append(current_module_path())
        if self.inner is not None:
            x = self.inner(x)
        self.seen.append(current_module_path())
        return x * 2


def test_call_records_qualified_module_names():
    leaf = Recorder()
    model = nn.Sequential(OrderedDict([("a", Recorder(Recorder(leaf))), ("b", Recorder())]))
    assert current_module_path() is None
    model(n2g.ones(1))
    assert model.a.seen == ["a", "a"]
    assert model.a.inner.seen == ["a.inner", "a.inner"]
    assert leaf.seen == ["a.inner.inner"] * 2
    assert model.b.seen == ["b", "b"]
    assert current_module_path() is None


def test_call_from_grandparent_and_outside_tree():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.ModuleList([Recorder(), Recorder()])
            self.stray = None

        def forward(self, x):
            for block in self.h:  # called from Net although ModuleList is the parent
                x = block(x)
            return outsider(x)

    outsider = Recorder()
    net = Net()
    net(n2g.ones(1))
    assert net.h[1].seen[0] == "h.1"
    assert outsider.seen[0] == "Recorder"  # not part of the tree: named by its class
    assert Recorder()(n2g.ones(1)) is not None  # a root module is ""


def test_name_stack_is_unwound_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    with pytest.raises(ValueError):
        nn.Sequential(Boom())(1)
    assert current_module_path() is None


def test_functions_created_in_a_module_carry_its_path():
    model = nn.Sequential(OrderedDict([("lin", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    y = model(n2g.ones(1, 2))
    assert y.grad_fn.module_path == "act"
    assert y.grad_fn.next_functions[0][0].module_path == "lin"
    z = y.sum()
    assert z.grad_fn.module_path is None


# ----- Parameter ---------------------------------------------------------------------------------
def test_parameter_basics():
    t = n2g.ones(2)
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and isinstance(p, n2g.Tensor)
    assert np.shares_memory(p._data, t._data)
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert nn.Parameter(n2g.ones(1, requires_grad=True) * 2).is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(n2g.arange(3))


# ----- forward hooks -----------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [n2g, torch], ids=["numpy2gpt", "torch"])
def test_forward_hooks_see_replace_and_stop_like_pytorchs(lib):
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU())
    seen, order = [], []
    h1 = model[0].register_forward_hook(lambda m, args, out: seen.append((type(m).__name__,
                                                                          tuple(out.shape))))
    model[0].register_forward_pre_hook(lambda m, args: (args[0] * 0,))  # zero the input
    model[1].register_forward_hook(lambda m, args, out: out + 1)  # replace the output
    model[1].register_forward_hook(lambda m, args, out: order.append("second"))
    model[1].register_forward_hook(lambda m, args, out: order.append("first"), prepend=True)
    y = model(lib.ones(4, 3))
    expected = (lib.relu(model[0].bias) + 1).tolist()
    assert seen == [("Linear", (4, 2))] and order == ["first", "second"]
    assert y.tolist() == [expected] * 4
    h1.remove()
    model(lib.ones(1, 3))
    assert len(seen) == 1
    with model[0].register_forward_hook(lambda m, args, out: seen.append("scoped")):
        model(lib.ones(1, 3))
    model(lib.ones(1, 3))
    assert seen[1:] == ["scoped"]


@pytest.mark.parametrize("lib", [n2g, torch], ids=["numpy2gpt", "torch"])
def test_forward_hooks_with_kwargs_and_always_call(lib):
    class Scale(lib.nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative factor")
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs["factor"] * 2}),
                                with_kwargs=True)
    calls = []
    m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs["factor"]),
                            with_kwargs=True, always_call=True)
    assert m(lib.ones(2), factor=1.5).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="negative factor"):
        m(lib.ones(2), factor=-1.0)
    assert calls == [3.0, -2.0]
