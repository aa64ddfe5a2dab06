"""The CPU-only device surface PyTorch scripts touch, against PyTorch's CPU build: torch.cuda,
GradScaler (both spellings), autocast, torch.backends flags, torch.device, device= on factories
and .to(), the bfloat16 dtype, and Tensor.__format__."""

import pickle
import warnings

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def caught(make):
    """(result, [(category name, message), ...]) of `make()`, every warning recorded."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        result = make()
    return result, [(x.category.__name__, str(x.message)) for x in w]


# ---------------------------------------------------------------------- torch.cuda
@pytest.mark.parametrize("call", ["is_available()", "is_bf16_supported()", "device_count()",
                                  "is_initialized()", "manual_seed(1337)", "manual_seed_all(1)",
                                  "seed()", "empty_cache()", "memory_allocated()",
                                  "max_memory_allocated()"])
def test_cuda_queries_and_seeding_match_the_cpu_build(call):
    assert eval("ng.cuda." + call) == eval("torch.cuda." + call)


@pytest.mark.parametrize("call", ["synchronize()", "current_device()", "get_device_name()"])
def test_cuda_calls_that_need_a_gpu_fail_as_in_the_cpu_build(call):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        eval("torch.cuda." + call)
    with pytest.raises(AssertionError, match="numpy2gpt not compiled with CUDA enabled"):
        eval("ng.cuda." + call)


# ---------------------------------------------------------------------- GradScaler
@pytest.mark.parametrize("make", [
    "cuda.amp.GradScaler()", "cuda.amp.GradScaler(enabled=False)", "amp.GradScaler()",
    "amp.GradScaler('cuda', enabled=False)", "amp.GradScaler('cpu')",
    "amp.GradScaler(enabled=False)",
])
def test_grad_scaler_warns_and_disables_itself_as_pytorch_does(make):
    theirs, their_warnings = caught(lambda: eval("torch." + make))
    ours, our_warnings = caught(lambda: eval("ng." + make))
    assert our_warnings == their_warnings
    assert ours.is_enabled() == theirs.is_enabled()
    assert ours.get_scale() == theirs.get_scale() and ours.state_dict() == theirs.state_dict()


def test_a_disabled_grad_scaler_passes_everything_through():
    results = []
    for lib in (torch, ng):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaler = lib.cuda.amp.GradScaler(enabled=True)  # no GPU: disabled
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = lib.optim.AdamW([p], lr=0.1)
        loss = (p * p).sum()
        assert scaler.scale(loss) is loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        assert scaler.step(opt) is None
        scaler.update()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_an_enabled_cpu_grad_scaler_scales_skips_and_adapts_as_pytorch_does():
    """Scaled losses, unscaled gradients, a skipped step on inf, the scale halving on overflow
    and doubling after growth_interval clean steps, the state dict and the misuse errors."""
    logs = []
    for lib in (torch, ng):
        log = []
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.SGD([p], lr=0.1)
        for g in [1.0, float("inf"), 2.0, 3.0, 4.0]:
            scaled = scaler.scale((p * g).sum())
            scaled.backward()
            scaler.unscale_(opt)
            with pytest.raises(RuntimeError) as e:
                scaler.unscale_(opt)
            log.append((round(scaled.item(), 4), p.grad.tolist(), str(e.value)))
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
            rounded = [round(v, 6) for v in p.tolist()]  # SGD's own rounding may differ by 1 ulp
            log.append((rounded, scaler.get_scale(), scaler.state_dict()))
        with pytest.raises(AssertionError) as e:  # no gradients since zero_grad: nothing checked
            scaler.step(opt)
        log.append(str(e.value))
        with pytest.raises(AssertionError) as e:  # nor for update
            scaler.update()
        log.append(str(e.value))
        log.append([t.item() for t in scaler.scale([lib.tensor(1.0), lib.tensor(2.0)])])
        with pytest.raises(ValueError) as e:
            scaler.scale(3.0)
        log.append(str(e.value))
        logs.append(log)
    assert logs[1] == logs[0]


@pytest.mark.parametrize("call", ["update()", "unscale_(None)"])
def test_update_or_unscale_before_any_scale_is_pytorchs_assertion(call):
    for lib in (torch, ng):
        with pytest.raises(AssertionError, match=r"^Attempted .* but _scale is None.  This may "
                                                 r"indicate your script did not use scaler.scale"):
            eval("lib.amp.GradScaler('cpu')." + call, {"lib": lib})


def test_loading_a_disabled_scalers_empty_state_is_pytorchs_error():
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match="The source state dict is empty, possibly because "
                                               "it was saved from a disabled instance"):
            lib.amp.GradScaler("cpu").load_state_dict({})


# ---------------------------------------------------------------------- autocast
@pytest.mark.parametrize("make", [
    "amp.autocast(device_type='cuda', dtype={lib}.bfloat16)", "amp.autocast('cuda')",
    "amp.autocast('cpu', dtype={lib}.float32)", "cuda.amp.autocast()",
    "amp.autocast('cpu', enabled=False)", "autocast('cuda')",
])
def test_autocast_warns_and_disables_itself_as_pytorch_does(make):
    theirs, their_warnings = caught(lambda: eval("torch." + make.format(lib="torch")))
    ours, our_warnings = caught(lambda: eval("ng." + make.format(lib="ng")))
    assert our_warnings == their_warnings
    assert str(ours.fast_dtype).split(".")[-1] == str(theirs.fast_dtype).split(".")[-1]
    with ours:  # disabled: nothing said
        pass


def test_cpu_autocast_runs_float32_and_says_once_that_it_does_not_cast(monkeypatch):
    monkeypatch.setattr(ng.amp, "_said_no_cast", False)
    assert ng.amp.autocast("cpu").fast_dtype is ng.bfloat16  # PyTorch's CPU default
    assert torch.amp.autocast("cpu").fast_dtype is torch.bfloat16
    x = ng.ones(2, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with ng.amp.autocast(device_type="cpu", dtype=ng.bfloat16) as ctx:
            y = x @ x
        with ng.autocast("cpu", dtype=ng.float16):  # the same once: not again
            x @ x
    assert isinstance(ctx, ng.amp.autocast) and y.dtype == ng.float32
    assert [str(m.message) for m in w] == [
        "numpy2gpt's autocast does not cast to numpy2gpt.bfloat16: the ops inside run in their "
        "inputs' dtype (float32)"]


def test_autocast_decorates_a_function():
    @ng.amp.autocast("cpu", enabled=False)
    def double(t):
        return t * 2
    assert double(ng.tensor(2.0)).item() == 4.0


def test_autocast_device_type_must_be_a_string_as_in_pytorch():
    for lib in (torch, ng):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`, got: "
                                             "`<class 'int'>`"):
            lib.amp.autocast(0)


# ---------------------------------------------------------------------- torch.backends
@pytest.mark.parametrize("flag", [
    "cuda.matmul.allow_tf32", "cuda.matmul.allow_fp16_reduced_precision_reduction",
    "cuda.matmul.allow_bf16_reduced_precision_reduction", "cudnn.allow_tf32", "cudnn.benchmark",
    "cudnn.deterministic", "cudnn.enabled",
])
def test_backend_flags_have_pytorchs_defaults_and_can_be_set(flag):
    module, name = flag.rsplit(".", 1)
    ours, theirs = eval("ng.backends." + module), eval("torch.backends." + module)
    assert getattr(ours, name) == getattr(theirs, name)
    before = getattr(ours, name)
    try:
        setattr(ours, name, not before)
        assert getattr(ours, name) == (not before)
    finally:
        setattr(ours, name, before)


@pytest.mark.parametrize("call", ["cudnn.is_available()", "cudnn.version()",
                                  "mps.is_available()", "mps.is_built()", "cuda.is_built()"])
def test_backend_queries_match_the_cpu_build(call):
    assert eval("ng.backends." + call) == eval("torch.backends." + call)


def test_an_unknown_matmul_flag_is_pytorchs_attribute_error():
    for lib in (torch, ng):
        with pytest.raises(AttributeError, match="^Unknown attribute allow_tf23$"):
            lib.backends.cuda.matmul.allow_tf23 = True


# ---------------------------------------------------------------------- device=
FACTORIES = [
    "zeros(2, 3, device={d})", "ones(2, device={d})", "empty(2, device={d})",
    "full((2,), 1.5, device={d})", "arange(3, device={d})", "linspace(0, 1, 3, device={d})",
    "eye(2, device={d})", "rand(2, device={d})", "randn(2, device={d})",
    "randint(5, (2,), device={d})", "randperm(3, device={d})", "tensor([1, 2], device={d})",
    "as_tensor([1.0], device={d})", "zeros_like(lib.ones(2), device={d})",
    "ones_like(lib.ones(2), device={d})", "empty_like(lib.ones(2), device={d})",
    "full_like(lib.ones(2), 3, device={d})", "rand_like(lib.ones(2), device={d})",
    "randn_like(lib.ones(2), device={d})", "ones(2).new_tensor([1], device={d})",
    "ones(2).new_zeros(2, device={d})", "ones(2).new_ones(2, device={d})",
    "ones(2).new_empty(2, device={d})", "ones(2).new_full((2,), 4.0, device={d})",
]


@pytest.mark.parametrize("call", FACTORIES)
def test_every_factory_takes_device_cpu(call):
    theirs = eval("torch." + call.format(d="'cpu'"), {"torch": torch, "lib": torch})
    ours = eval("ng." + call.format(d="'cpu'"), {"ng": ng, "lib": ng})
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)[6:]
    assert str(ours.device) == str(theirs.device) == "cpu"


@pytest.mark.parametrize("call", FACTORIES)
def test_every_factory_refuses_cuda_as_the_cpu_build_does(call):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        eval("torch." + call.format(d="'cuda'"), {"torch": torch, "lib": torch})
    with pytest.raises(AssertionError, match="numpy2gpt not compiled with CUDA enabled"):
        eval("ng." + call.format(d="'cuda:0'"), {"ng": ng, "lib": ng})


def test_other_devices_are_an_error_naming_the_device():
    with pytest.raises(NotImplementedError, match="'MPS' backend"):
        torch.zeros(2, device="mps")
    with pytest.raises(RuntimeError, match="^numpy2gpt runs on the CPU only; got device 'mps'$"):
        ng.zeros(2, device="mps")
    with pytest.raises(RuntimeError, match="got device 'mps'"):
        ng.tensor([1.0]).to("mps")


def test_to_cpu_is_the_tensor_itself_and_to_cuda_the_cpu_builds_assertion():
    for lib in (torch, ng):
        x = lib.tensor([1.0, 2.0])
        assert x.to("cpu") is x and x.to("cpu", lib.float32) is x and x.to(device="cpu") is x
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            x.to("cuda")
        model = lib.nn.Linear(2, 2)
        assert model.to("cpu") is model


# ---------------------------------------------------------------------- torch.device
DEVICES = [("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda:1",), ("cuda", 3), ("meta",),
           ("cuda:10",)]


@pytest.mark.parametrize("args", DEVICES)
def test_a_device_is_named_and_shown_as_pytorchs(args):
    ours, theirs = ng.device(*args), torch.device(*args)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    copy = ng.device(ours)
    assert copy == ours and hash(copy) == hash(ours) and {ours: 1}[copy] == 1
    assert pickle.loads(pickle.dumps(ours)) == ours


def test_devices_compare_as_pytorchs():
    pairs = [("cpu", "cpu"), ("cpu", "cpu:0"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"),
             ("cpu", "cuda")]
    for a, b in pairs:
        assert (ng.device(a) == ng.device(b)) == (torch.device(a) == torch.device(b)), (a, b)
    assert (ng.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")  # False: not a string
    with pytest.raises(AttributeError, match="^attribute 'type' of 'torch.device' objects is not "
                                             "writable$"):
        ng.device("cpu").type = "cuda"


@pytest.mark.parametrize("args", [(0,), (5.0,), ("foo",), ("cpu:x",), ("cpu:01",), ("cpu:-1",),
                                  ("cuda", "1"), ("cuda:1", 2), ("cpu", -1), (None,)])
def test_a_bad_device_is_pytorchs_error(args):
    with pytest.raises(Exception) as theirs:
        torch.device(*args)
    with pytest.raises(theirs.type) as ours:
        ng.device(*args)
    if theirs.type is TypeError and "invalid combination" in str(theirs.value):
        # PyTorch lists the signatures on further lines; numpy2gpt keeps to one
        head = str(theirs.value).split(" but expected")[0]
        assert str(ours.value).startswith(head) and "\n" not in str(ours.value)
    else:
        assert str(ours.value) == str(theirs.value)


def test_a_tensor_a_generator_and_a_model_take_and_report_a_device():
    for lib in (torch, ng):
        x = lib.ones(2, device=lib.device("cpu"))
        assert isinstance(x.device, lib.device) and x.device == lib.device("cpu")
        assert repr(x.device) == "device(type='cpu')" and x.device.type == "cpu"
        assert x.to(lib.device("cpu")) is x and x.to(lib.device("cpu"), lib.float32) is x
        assert lib.Generator(lib.device("cpu")).device == lib.device("cpu")
        model = lib.nn.Linear(2, 2)
        assert model.to(lib.device("cpu")) is model
        assert model.to(device=lib.device("cpu"), dtype=lib.float64).weight.dtype == lib.float64
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            x.to(lib.device("cuda"))
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            lib.zeros(2, device=lib.device("cuda", 0))
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            lib.nn.Linear(2, 2).to(lib.device("cuda"))


# ---------------------------------------------------------------------- bfloat16
def test_bfloat16_is_a_floating_dtype_like_pytorchs():
    assert repr(ng.bfloat16) == "numpy2gpt.bfloat16" and repr(torch.bfloat16) == "torch.bfloat16"
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ng.bfloat16, attr) == getattr(torch.bfloat16, attr)
    assert {"float32": ng.float32, "bfloat16": ng.bfloat16}["bfloat16"] is ng.bfloat16
    assert pickle.loads(pickle.dumps(ng.bfloat16)) is ng.bfloat16


@pytest.mark.parametrize("make", ["zeros(2, dtype=ng.bfloat16)", "tensor([1.0], dtype=ng.bfloat16)",
                                  "ones(2).to(ng.bfloat16)", "nn.Linear(2, 2).to(ng.bfloat16)"])
def test_storing_bfloat16_is_a_clear_not_supported_error(make):
    with pytest.raises(TypeError, match=r"^numpy2gpt.bfloat16 is not supported for tensors: NumPy "
                                        r"has no bfloat16 type, so numpy2gpt stores and computes "
                                        r"floats as numpy2gpt.float32 \(or float64\)$"):
        eval("ng." + make)


# ---------------------------------------------------------------------- Tensor.__format__
@pytest.mark.parametrize("make, spec", [
    ("tensor(1.23456)", ".4f"), ("tensor(1.23456)", ""), ("tensor(3)", "d"),
    ("tensor(3)", "05d"), ("tensor(True)", ""), ("tensor([1.0, 2.0])", ""),
    ("tensor([[1, 2]])", ""), ("tensor(2.5, requires_grad=True)", ".2e"),
    ("zeros(4).mean()", ">8.3f"),
])
def test_format_is_pytorchs(make, spec):
    assert format(eval("ng." + make), spec) == format(eval("torch." + make), spec)


@pytest.mark.parametrize("make, name", [("tensor([1.0, 2.0])", "Tensor"),
                                        ("nn.Parameter(lib.tensor(2.5))", "Parameter")])
def test_a_spec_on_a_tensor_that_is_not_a_0d_plain_tensor_is_pytorchs_error(make, name):
    for lib in (torch, ng):
        with pytest.raises(TypeError, match=f"^unsupported format string passed to "
                                            f"{name}.__format__$"):
            format(eval("lib." + make, {"lib": lib}), ".4f")


@pytest.mark.parametrize("make", [lambda: ng.cuda.amp.GradScaler(), lambda: ng.amp.GradScaler(),
                                  lambda: ng.cuda.amp.autocast(), lambda: ng.amp.autocast("cuda")])
def test_the_warnings_point_at_the_line_that_made_the_object(make):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        make()
    assert w and all(x.filename == __file__ for x in w)


# ---------------------------------------------------------------------- torch.compile
def test_compile_returns_the_model_running_eagerly_and_says_so_once(monkeypatch):
    monkeypatch.setattr(ng, "_said_no_compile", False)
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    torch.manual_seed(0)
    theirs = torch.nn.Linear(3, 2)
    ours = ng.nn.Linear(3, 2)
    ours.load_state_dict({k: ng.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        compiled = ng.compile(ours)
        assert ng.compile(mode="reduce-overhead")(ours) is ours  # the decorator form
    assert compiled is ours
    assert [str(m.message) for m in w] == [
        "numpy2gpt.compile does not compile: the model runs eagerly, as it is"]
    np.testing.assert_allclose(compiled(ng.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)
