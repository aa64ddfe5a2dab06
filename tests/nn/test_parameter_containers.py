"""nn.ParameterList and nn.ParameterDict against PyTorch's: list/dict behaviour, tensors wrapped
as Parameters, registration (parameters, names, state_dict, load_state_dict, zero_grad, dtypes),
repr, errors, and an optimizer step through a model that holds them."""

from collections import OrderedDict

import numpy as np
import pytest
import torch as pt

import numpy2gpt as torch

LIBS = (torch, pt)
RNG = np.random.default_rng(0)
A, B, C, D = (RNG.standard_normal(shape) for shape in [(2, 3), (3,), (3, 4), (4,)])


def _raised(make):
    """(type, message) of the error make(lib) raises, for numpy2gpt and for PyTorch."""
    out = []
    for lib in LIBS:
        with pytest.raises(Exception) as e:
            make(lib)
        out.append((type(e.value), str(e.value).replace("torch.", "numpy2gpt.")))
    return out


def _same_error(make):
    ours, theirs = _raised(make)
    assert ours == theirs


def _build(lib):
    """A model holding a ParameterList (with a plain tensor, a module and a non-tensor in it)
    and a ParameterDict, the same numbers on both libraries."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ParameterList([nn.Parameter(lib.tensor(A, dtype=lib.float32)),
                                            lib.tensor(B, dtype=lib.float32)])
            self.gains = nn.ParameterDict({"w": lib.tensor(C, dtype=lib.float32),
                                           "b": nn.Parameter(lib.tensor(D, dtype=lib.float32))})
            self.extra = nn.ParameterList([nn.Linear(2, 2), 7])

        def forward(self, x):
            h = (x @ self.layers[0] + self.layers[1]).tanh()
            return ((h @ self.gains["w"] + self.gains["b"]) ** 2).mean()

    return Net()


def _arrays(params):
    return [p.detach().numpy().copy() for p in params]


def test_registration_names_and_repr_match_pytorch():
    ours, theirs = _build(torch), _build(pt)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.layers.named_parameters()] == ["0", "1"]
    assert [n for n, _ in ours.gains.named_parameters()] == ["b", "w"]  # a dict goes in sorted
    assert repr(ours) == repr(theirs).replace("torch.", "numpy2gpt.")
    for p in ours.parameters():
        assert isinstance(p, torch.nn.Parameter) and p.requires_grad and p.dtype == torch.float32


def test_an_optimizer_step_through_the_containers_matches_pytorch():
    x = RNG.standard_normal((5, 2))
    states = []
    for lib in LIBS:
        model = _build(lib)
        extra = dict(model.extra[0].named_parameters())
        with lib.no_grad():  # the Linear is random: the same numbers on both sides
            extra["weight"].copy_(lib.tensor(np.eye(2), dtype=lib.float32))
            extra["bias"].zero_()
        opt = lib.optim.Adam(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            model(lib.tensor(x, dtype=lib.float32)).backward()
            opt.step()
        states.append((_arrays(model.parameters()),
                       [p.grad.numpy().copy() for p in model.parameters() if p.grad is not None]))
    (ours, ours_grads), (theirs, theirs_grads) = states
    assert len(ours_grads) == len(theirs_grads) == 4  # the four in the containers
    for a, b in zip(ours + ours_grads, theirs + theirs_grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours[0], A)  # the step did move them


def test_state_dict_load_zero_grad_and_dtype_casts():
    ours, theirs = _build(torch), _build(pt)
    state = {k: torch.tensor(v.numpy() + 1) for k, v in theirs.state_dict().items()}
    assert repr(ours.load_state_dict(state)) == "<All keys matched successfully>"
    for (name, p), (_, q) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(p.numpy(), q.numpy() + 1, err_msg=name)

    first = ours.layers[0]
    ours(torch.ones(4, 2)).backward()
    assert ours.layers[0].grad is not None and ours.gains["w"].grad is not None
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())

    ours.double()
    theirs.double()
    assert [p.dtype for p in ours.parameters()] == [torch.float64] * 6
    assert ours.layers[0] is first  # cast in place: the same Parameter objects
    assert repr(ours) == repr(theirs).replace("torch.", "numpy2gpt.")
    ours.to(torch.float32)
    assert ours.gains["b"].dtype == torch.float32
    assert ours.layers.extra_repr().splitlines()[0] == (
        "  (0): Parameter containing: [numpy2gpt.float32 of size 2x3]")


def test_parameter_list_behaves_like_pytorchs():
    seen = []
    for lib in LIBS:
        nn = lib.nn
        p0 = nn.Parameter(lib.ones(2))
        plain = lib.zeros(3)
        pl = nn.ParameterList([p0])
        assert pl.append(plain) is pl and (pl.extend([lib.ones(1), "x"]) is pl)
        pl += (nn.Parameter(lib.ones(4), requires_grad=False),)
        wrapped = pl[1]
        # a plain tensor becomes a Parameter sharing its memory; a Parameter stays itself
        assert type(wrapped) is nn.Parameter and pl[0] is p0 and pl[-5] is p0
        plain[0] = 5.0
        assert float(wrapped[0].detach()) == 5.0
        part = pl[1::2]
        assert type(part) is nn.ParameterList and part[0] is wrapped and part[1] is pl[3]
        pl[2] = lib.full((2,), 3.0)
        pl[-1] = nn.Parameter(lib.ones(5))
        seen.append((len(pl), len(part), len(pl[10:]), len(pl[::-1]),
                     [type(v).__name__ for v in pl], [v.requires_grad for v in pl if v != "x"],
                     [n for n, _ in pl.named_parameters()], list(pl.state_dict()),
                     [tuple(v.shape) for v in pl[::-1] if v != "x"], repr(pl),
                     [k for k in dir(pl) if k.isdigit()]))
    ours, theirs = seen
    assert ours[:-2] == theirs[:-2]
    assert ours[-2] == theirs[-2].replace("torch.", "numpy2gpt.")
    assert ours[-1] == theirs[-1] == []


def test_parameter_dict_behaves_like_pytorchs():
    seen = []
    for lib in LIBS:
        nn = lib.nn

        def par(n, lib=lib):
            return lib.nn.Parameter(lib.full((n,), float(n)))

        pd = nn.ParameterDict({"z": lib.ones(1), "a": par(2)})  # a plain dict: sorted keys
        pd.update(OrderedDict([("m", par(3)), ("c", lib.zeros(2))]))  # keeps its order
        pd.update([("k", par(4)), ["b", "text"]])
        pd["a"] = lib.ones(6)  # replaces, in place in the order
        out = [list(pd), list(reversed(pd)), len(pd), "m" in pd, "q" in pd,
               type(pd["c"]).__name__, [tuple(v.shape) for v in pd.values() if v != "text"],
               [k for k, _ in pd.items()], list(pd.keys()), pd.get("q", 1), pd.get("q")]
        z = pd["z"]
        assert pd.pop("z") is z and "z" not in pd and "z" not in dict(pd.named_parameters())
        out += [pd.popitem()[0], list(pd), pd.setdefault("a").shape[0],
                tuple(pd.setdefault("n", lib.ones(7)).shape), list(pd)]
        del pd["c"]  # (the rest is not in sorted order: copy keeps the order)
        copied = pd.copy()
        assert type(copied) is nn.ParameterDict and copied["a"] is pd["a"]
        merged = pd | nn.ParameterDict({"new": par(8)})
        merged |= OrderedDict(y=par(9))
        out += [list(copied), list(merged), list(pd), list(OrderedDict(r=par(1)) | pd)]
        fresh = pd.fromkeys(["u", "v"], lib.ones(2))
        out += [type(fresh).__name__, list(fresh), type(fresh["u"]).__name__,
                fresh["u"] is fresh["v"], list(pd.fromkeys(["w"]))]
        out += [[n for n, _ in merged.named_parameters()], list(merged.state_dict()),
                repr(merged)]
        pd.clear()
        out += [len(pd), list(pd.named_parameters()), repr(pd)]
        seen.append(out)
    ours, theirs = seen
    assert ours == [o.replace("torch.", "numpy2gpt.") if isinstance(o, str) else o
                    for o in theirs]


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.ParameterList([lib.ones(1)])[1],
    lambda lib: lib.nn.ParameterList([lib.ones(1)])[-2],
    lambda lib: lib.nn.ParameterList([lib.ones(1)])["0"],
    lambda lib: lib.nn.ParameterList().extend(lib.ones(2)),
    lambda lib: lib.nn.ParameterList().extend(3),
    lambda lib: lib.nn.ParameterList()(lib.ones(1)),
    lambda lib: lib.nn.ParameterList([lib.ones(1)]).__setitem__(0, 3),
    lambda lib: lib.nn.ParameterList([lib.ones(1)]).__setitem__(1, lib.ones(1)),
    lambda lib: lib.nn.ParameterDict({"a": lib.ones(1)})[0],
    lambda lib: lib.nn.ParameterDict({"a": lib.ones(1)})["b"],
    lambda lib: lib.nn.ParameterDict().__setitem__(1, lib.ones(1)),
    lambda lib: lib.nn.ParameterDict().__setitem__("a.b", lib.ones(1)),
    lambda lib: lib.nn.ParameterDict().__setitem__("keys", lib.ones(1)),
    lambda lib: lib.nn.ParameterDict().update(3),
    lambda lib: lib.nn.ParameterDict().update([("a", lib.ones(1)), 3]),
    lambda lib: lib.nn.ParameterDict().update([("a", lib.ones(1), 1)]),
    lambda lib: lib.nn.ParameterDict().pop("a"),
    lambda lib: lib.nn.ParameterDict().popitem(),
    lambda lib: lib.nn.ParameterDict()(lib.ones(1)),
    lambda lib: lib.nn.ParameterDict()(),
], ids=["list_index", "list_negative", "list_str_index", "extend_tensor", "extend_int", "call",
        "set_non_parameter", "set_out_of_range", "dict_int_key", "dict_missing", "dict_set_int",
        "dict_dotted", "dict_attribute_name", "update_int", "update_element", "update_length",
        "pop_missing", "popitem_empty", "dict_call", "dict_call_no_input"])
def test_bad_input_raises_pytorchs_errors(make):
    _same_error(make)


def test_partial_updates_and_failed_keys_are_pytorchs():
    """Where PyTorch's update fails half way, or records a key it then rejects, so do we."""
    seen = []
    for lib in LIBS:
        pd = lib.nn.ParameterDict()
        with pytest.raises(ValueError):
            pd.update([("a", lib.ones(1)), ("b", lib.ones(2), 3)])
        with pytest.raises(TypeError):
            pd[5] = lib.ones(1)
        pl = lib.nn.ParameterList([lib.ones(1)]).append(3)  # (any object may go in)
        with pytest.raises(TypeError):  # but not in the place of a Parameter
            pl[0] = "not a parameter"
        seen.append((list(pd), len(pd), [n for n, _ in pd.named_parameters()], len(pl)))
    assert seen[0] == seen[1]


def test_same_api_as_pytorch():
    """The containers add the same methods to Module as PyTorch's (no insert/pop on a
    ParameterList: PyTorch 2.13 has none)."""
    for name in ("ParameterList", "ParameterDict"):
        ours = set(dir(getattr(torch.nn, name))) - set(dir(torch.nn.Module))
        theirs = set(dir(getattr(pt.nn, name))) - set(dir(pt.nn.Module))
        assert ours == theirs - {"__annotations__", "_get_abs_string_index"}, name
