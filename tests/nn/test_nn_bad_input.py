"""Bad input to numpy2gpt.nn raises what PyTorch raises: the exception type and, where the
project keeps PyTorch's wording, the message. Each case is one expression built on either
library (`lambda lib: ...`), run on both.

Three strengths of comparison:
  * EXACT: the same type and message;
  * RENAMED: the same type and message once the library's name is put in ("numpy2gpt.Size" for
    "torch.Size", "<class 'numpy2gpt.nn....'>");
  * TYPE: the same type only, where numpy2gpt's message says more than PyTorch's (an index and
    the valid range, where PyTorch says "index out of range in self").
"""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch_compare import assert_close, same_error

import numpy2gpt as ng


def _f(lib):
    return lib.nn.functional


def _grads(lib):
    p = lib.nn.Parameter(lib.ones(3))
    p.grad = lib.ones(3)
    return [p]


def _seeded(lib):
    lib.manual_seed(0)
    return lib


EXACT = {
    # ----- containers and Module
    "ModuleList(3)": lambda lib: lib.nn.ModuleList(3),
    "ModuleList.extend(3)": lambda lib: lib.nn.ModuleList().extend(3),
    "ModuleList.extend(Linear)": lambda lib: lib.nn.ModuleList().extend(lib.nn.Linear(2, 2)),
    "ModuleList += 3": lambda lib: lib.nn.ModuleList().__iadd__(3),
    "ModuleDict(3)": lambda lib: lib.nn.ModuleDict(3),
    "ModuleDict([3])": lambda lib: lib.nn.ModuleDict([3]),
    "ModuleDict([('a',)])": lambda lib: lib.nn.ModuleDict([("a",)]),
    "ModuleDict.update(3)": lambda lib: lib.nn.ModuleDict().update(3),
    "ModuleDict name a.b": lambda lib: lib.nn.ModuleDict({"a.b": lib.nn.ReLU()}),
    "Sequential.pop(5)": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).pop(5),
    "Sequential + 3": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) + 3,
    "Sequential += 3": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).__iadd__(3),
    "add_module a.b": lambda lib: lib.nn.Module().add_module("a.b", lib.nn.ReLU()),
    "register_module a.b": lambda lib: lib.nn.Module().register_module("a.b", lib.nn.ReLU()),
    "register_parameter a.b": lambda lib: lib.nn.Module().register_parameter("a.b", None),
    "register_buffer ''": lambda lib: lib.nn.Module().register_buffer("", None),
    "register_buffer existing": lambda lib: lib.nn.Module().register_buffer("training", None),
    "register_buffer before __init__":
        lambda lib: lib.nn.Module.__new__(lib.nn.Module).register_buffer("a", None),
    "get_buffer missing": lambda lib: lib.nn.Module().get_buffer("x"),
    "get_buffer of a parameter": lambda lib: lib.nn.Linear(2, 2).get_buffer("weight"),
    # ----- linear and embedding
    "linear list input": lambda lib: _f(lib).linear([1.0, 2.0], lib.ones(3, 2)),
    "linear list weight": lambda lib: _f(lib).linear(lib.ones(2, 3), [[1.0, 1.0, 1.0]]),
    "linear list bias": lambda lib: _f(lib).linear(lib.ones(2, 3), lib.ones(4, 3), [1.0]),
    "Linear ndarray input": lambda lib: _seeded(lib).nn.Linear(3, 4)(np.ones(3, np.float32)),
    "linear 0-d input": lambda lib: _f(lib).linear(lib.tensor(1.0), lib.ones(3, 4)),
    "linear 0-d weight": lambda lib: _f(lib).linear(lib.ones(2, 3), lib.tensor(1.0)),
    "Linear float64 input": lambda lib: _seeded(lib).nn.Linear(3, 4)(lib.ones(2, 3).double()),
    "Linear int input": lambda lib: _seeded(lib).nn.Linear(3, 4)(lib.ones(2, 3).long()),
    "Linear float64 1-D input": lambda lib: _seeded(lib).nn.Linear(3, 4)(lib.ones(3).double()),
    "linear float64 bias":
        lambda lib: _f(lib).linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(4).double()),
    "linear float64 weight and bias":
        lambda lib: _f(lib).linear(lib.ones(2, 3), lib.ones(4, 3).double(), lib.ones(4).double()),
    "linear float64 weight, no bias":
        lambda lib: _f(lib).linear(lib.ones(2, 3), lib.ones(4, 3).double()),
    "Linear wrong in_features": lambda lib: _seeded(lib).nn.Linear(3, 4)(lib.ones(7, 2, 5)),
    "Linear wrong 1-D input": lambda lib: _seeded(lib).nn.Linear(3, 4)(lib.ones(5)),
    "embedding list indices": lambda lib: _f(lib).embedding([1, 2], lib.ones(5, 3)),
    "Embedding list indices": lambda lib: _seeded(lib).nn.Embedding(5, 3)([1, 2]),
    "embedding list weight": lambda lib: _f(lib).embedding(lib.tensor([1]), [[1.0]]),
    "embedding float padding_idx":
        lambda lib: _f(lib).embedding(lib.tensor([1]), lib.ones(3, 2), padding_idx=1.5),
    # ----- activations and dropout
    "relu list": lambda lib: _f(lib).relu([1.0]),
    "gelu list": lambda lib: _f(lib).gelu([1.0]),
    "silu list": lambda lib: _f(lib).silu([1.0]),
    "gelu approximate='x'": lambda lib: _f(lib).gelu(lib.ones(2), approximate="x"),
    "gelu approximate=3": lambda lib: _f(lib).gelu(lib.ones(2), approximate=3),
    "leaky_relu slope 'a'": lambda lib: _f(lib).leaky_relu(lib.ones(2), "a"),
    "leaky_relu slope None": lambda lib: _f(lib).leaky_relu(lib.ones(2), None),
    "LeakyReLU('a')": lambda lib: lib.nn.LeakyReLU("a")(lib.ones(2)),
    "elu alpha 'a'": lambda lib: _f(lib).elu(lib.ones(2), "a"),
    "ELU('a')": lambda lib: lib.nn.ELU("a")(lib.ones(2)),
    "celu alpha 'a'": lambda lib: _f(lib).celu(lib.ones(2), "a"),
    "softplus beta 'a'": lambda lib: _f(lib).softplus(lib.ones(2), "a"),
    "softplus threshold 'a'": lambda lib: _f(lib).softplus(lib.ones(2), 1, "a"),
    "threshold threshold 'a'": lambda lib: _f(lib).threshold(lib.ones(2), "a", 0),
    "threshold value 'a'": lambda lib: _f(lib).threshold(lib.ones(2), 0, "a"),
    "Threshold('a', 0)": lambda lib: lib.nn.Threshold("a", 0)(lib.ones(2)),
    "hardshrink lambd 'a'": lambda lib: _f(lib).hardshrink(lib.ones(2), "a"),
    "softshrink lambd 'a'": lambda lib: _f(lib).softshrink(lib.ones(2), "a"),
    "rrelu lower 'a'": lambda lib: _f(lib).rrelu(lib.ones(2), "a"),
    "dropout list": lambda lib: _f(lib).dropout([1.0], 0.5),
    "dropout p=2": lambda lib: _f(lib).dropout(lib.ones(3), 2),
    "dropout p=-0.5, eval": lambda lib: _f(lib).dropout(lib.ones(3), -0.5, training=False),
    "dropout p='a'": lambda lib: _f(lib).dropout(lib.ones(3), "a"),
    "dropout p=None": lambda lib: _f(lib).dropout(lib.ones(3), None),
    "dropout p=nan": lambda lib: _f(lib).dropout(lib.ones(3), math.nan),
    "dropout p=nan, eval": lambda lib: _f(lib).dropout(lib.ones(3), math.nan, training=False),
    "dropout1d p=nan": lambda lib: _f(lib).dropout1d(lib.ones(2, 3), math.nan),
    "dropout int input": lambda lib: _f(lib).dropout(lib.ones(3).long(), 0.5),
    "dropout bool input": lambda lib: _f(lib).dropout(lib.ones(3).bool(), 0.5),
    "Dropout int input": lambda lib: lib.nn.Dropout()(lib.ones(3).long()),
    "Dropout('a')": lambda lib: lib.nn.Dropout("a"),
    # ----- softmax family
    "softmax list": lambda lib: _f(lib).softmax([1.0, 2.0], 0),
    "log_softmax list": lambda lib: _f(lib).log_softmax([1.0, 2.0], 0),
    "softmin list": lambda lib: _f(lib).softmin([1.0, 2.0], 0),
    "softmax dtype 'a'": lambda lib: _f(lib).softmax(lib.ones(2, 3), 1, dtype="a"),
    "log_softmax dtype 3": lambda lib: _f(lib).log_softmax(lib.ones(2, 3), 1, dtype=3),
    "softmax int, last dim": lambda lib: _f(lib).softmax(lib.ones(2, 3).long(), 1),
    "softmax int, dim 0": lambda lib: _f(lib).softmax(lib.ones(2, 3).long(), 0),
    "softmax 0-d int": lambda lib: _f(lib).softmax(lib.tensor(1), 0),
    "softmax bool": lambda lib: _f(lib).softmax(lib.ones(2, 3).bool(), 1),
    "softmax dtype=int32": lambda lib: _f(lib).softmax(lib.ones(2, 3), 1, dtype=lib.int32),
    "log_softmax int, dim 0": lambda lib: _f(lib).log_softmax(lib.ones(2, 3).long(), 0),
    "softmin int": lambda lib: _f(lib).softmin(lib.ones(2, 3).long(), 1),
    "Softmax int input": lambda lib: lib.nn.Softmax(dim=1)(lib.ones(2, 3).long()),
    "softmax int, dim out of range": lambda lib: _f(lib).softmax(lib.ones(2, 3).long(), 5),
    # ----- cross_entropy and nll_loss
    "cross_entropy list input": lambda lib: _f(lib).cross_entropy([[1.0, 2.0]], lib.tensor([0])),
    "cross_entropy list target": lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), [0, 1]),
    "cross_entropy list weight":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), weight=[1.0] * 3),
    "cross_entropy ignore_index 1.5":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), ignore_index=1.5),
    "cross_entropy ignore_index True":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), ignore_index=True),
    "cross_entropy label_smoothing 'a'": lambda lib: _f(lib).cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing="a"),
    "cross_entropy label_smoothing 2": lambda lib: _f(lib).cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=2.0),
    "cross_entropy int input": lambda lib: _f(lib).cross_entropy(lib.ones(2, 3).long(),
                                                                 lib.tensor([0, 1])),
    "cross_entropy 3-D int input": lambda lib: _f(lib).cross_entropy(
        lib.ones(2, 3, 4).long(), lib.zeros(2, 4).long()),
    "cross_entropy bool input": lambda lib: _f(lib).cross_entropy(lib.ones(2, 3).bool(),
                                                                  lib.tensor([0, 1])),
    "cross_entropy 0-d input, long target":
        lambda lib: _f(lib).cross_entropy(lib.tensor(1.0), lib.tensor(0)),
    "cross_entropy 0-d input, float target":
        lambda lib: _f(lib).cross_entropy(lib.tensor(1.0), lib.tensor(0.0)),
    "cross_entropy long target of the input's shape":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.ones(2, 3).long()),
    "cross_entropy int32 target of the input's shape":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.ones(2, 3).int()),
    "cross_entropy weight of the wrong size":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), lib.ones(2)),
    "nll_loss list input": lambda lib: _f(lib).nll_loss([[1.0]], lib.tensor([0])),
    "nll_loss list target": lambda lib: _f(lib).nll_loss(lib.ones(2, 3), [0, 0]),
    "nll_loss ignore_index 1.5":
        lambda lib: _f(lib).nll_loss(lib.ones(2, 3), lib.tensor([0, 1]), ignore_index=1.5),
    "nll_loss int input": lambda lib: _f(lib).nll_loss(lib.ones(2, 3).long(), lib.tensor([0, 1])),
    "nll_loss int32 input": lambda lib: _f(lib).nll_loss(lib.ones(2, 3).int(), lib.tensor([0, 1])),
    "nll_loss 3-D int input":
        lambda lib: _f(lib).nll_loss(lib.ones(2, 3, 4).long(), lib.zeros(2, 4).long()),
    "nll_loss 0-d input": lambda lib: _f(lib).nll_loss(lib.tensor(1.0), lib.tensor(0)),
    "nll_loss weight of the wrong size":
        lambda lib: _f(lib).nll_loss(lib.ones(2, 3), lib.tensor([0, 1]), lib.ones(4)),
    "NLLLoss batch sizes": lambda lib: lib.nn.NLLLoss()(lib.ones(2, 3), lib.tensor([0, 1, 2])),
    # ----- elementwise losses
    "mse_loss int": lambda lib: _f(lib).mse_loss(lib.ones(2).long(), lib.ones(2).long()),
    "mse_loss bool": lambda lib: _f(lib).mse_loss(lib.ones(2).bool(), lib.ones(2).bool()),
    "mse_loss int32": lambda lib: _f(lib).mse_loss(lib.ones(2).int(), lib.ones(2).int()),
    "MSELoss int": lambda lib: lib.nn.MSELoss()(lib.ones(2).long(), lib.ones(2).long()),
    "mse_loss list input": lambda lib: _f(lib).mse_loss([1.0, 1.0], lib.ones(2)),
    "mse_loss list target": lambda lib: _f(lib).mse_loss(lib.ones(2), [1.0, 1.0]),
    "l1_loss list": lambda lib: _f(lib).l1_loss([1.0], lib.ones(1)),
    "smooth_l1_loss list": lambda lib: _f(lib).smooth_l1_loss([1.0], lib.ones(1)),
    "huber_loss list": lambda lib: _f(lib).huber_loss(lib.ones(1), [1.0]),
    "mse_loss reduction 'x'":
        lambda lib: _f(lib).mse_loss(lib.ones(2), lib.ones(2), reduction="x"),
    "binary_cross_entropy list":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5), [1.0, 1.0]),
    "binary_cross_entropy input > 1":
        lambda lib: _f(lib).binary_cross_entropy(lib.tensor([1.5]), lib.tensor([1.0])),
    "binary_cross_entropy input < 0":
        lambda lib: _f(lib).binary_cross_entropy(lib.tensor([-0.5]), lib.tensor([1.0])),
    "binary_cross_entropy target > 1":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.full((2,), 2.0)),
    "binary_cross_entropy target NaN":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.full((2,), math.nan)),
    "binary_cross_entropy long target":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.ones(2).long()),
    "binary_cross_entropy float64 target":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5), lib.ones(2).double()),
    "binary_cross_entropy float64 input":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2,), 0.5).double(), lib.ones(2)),
    "binary_cross_entropy int input and target":
        lambda lib: _f(lib).binary_cross_entropy(lib.ones(2).long(), lib.ones(2).long()),
    "BCELoss long target": lambda lib: lib.nn.BCELoss()(lib.full((2,), 0.5), lib.ones(2).long()),
    "bce_with_logits long target":
        lambda lib: _f(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2).long()),
    "bce_with_logits int32 target":
        lambda lib: _f(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2).int()),
    "bce_with_logits bool target":
        lambda lib: _f(lib).binary_cross_entropy_with_logits(lib.ones(2), lib.ones(2).bool()),
    "bce_with_logits long input":
        lambda lib: _f(lib).binary_cross_entropy_with_logits(lib.ones(2).long(), lib.ones(2)),
    "bce_with_logits list":
        lambda lib: _f(lib).binary_cross_entropy_with_logits([1.0, 1.0], lib.ones(2)),
    # ----- pad
    "pad float amount": lambda lib: _f(lib).pad(lib.ones(2, 3), (1.5, 1)),
    "pad bool amount": lambda lib: _f(lib).pad(lib.ones(2, 3), (True, 1)),
    "pad str": lambda lib: _f(lib).pad(lib.ones(2, 3), "a"),
    "pad int": lambda lib: _f(lib).pad(lib.ones(2, 3), 1),
    "pad value 'a'": lambda lib: _f(lib).pad(lib.ones(2, 3), (1, 1), value="a"),
    "pad mode 3": lambda lib: _f(lib).pad(lib.ones(2, 3), (1, 1), mode=3),
    "pad list input": lambda lib: _f(lib).pad([1.0], [1, 1]),
    "pad odd length": lambda lib: _f(lib).pad(lib.ones(2, 3), (1, 1, 1)),
    "pad mode 'x'": lambda lib: _f(lib).pad(lib.ones(2, 3), (1, 1), mode="x"),
    # ----- normalisation
    "layer_norm normalized_shape 'a'": lambda lib: _f(lib).layer_norm(lib.ones(2, 4), "a"),
    "layer_norm normalized_shape [2.5]": lambda lib: _f(lib).layer_norm(lib.ones(2, 2), [2.5]),
    "layer_norm list input": lambda lib: _f(lib).layer_norm([[1.0, 2.0]], (2,)),
    "layer_norm int input": lambda lib: _f(lib).layer_norm(lib.ones(2, 2).long(), (2,)),
    "layer_norm bool input": lambda lib: _f(lib).layer_norm(lib.ones(2, 2).bool(), (2,)),
    "LayerNorm(2.5)": lambda lib: lib.nn.LayerNorm(2.5),
    "LayerNorm(None)": lambda lib: lib.nn.LayerNorm(None),
    "LayerNorm trailing shape": lambda lib: _seeded(lib).nn.LayerNorm(4)(lib.ones(2, 3)),
    # ----- attention
    "sdpa float64 mask, float32 query": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 5, 3), lib.ones(2, 5, 3),
        attn_mask=lib.zeros(4, 5).double()),
    "sdpa float16 mask, float64 query": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3).double(), lib.ones(2, 5, 3).double(), lib.ones(2, 5, 3).double(),
        attn_mask=lib.zeros(4, 5).half()),
    "sdpa long mask": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 5, 3), lib.ones(2, 5, 3),
        attn_mask=lib.zeros(4, 5).long()),
    "sdpa list mask": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 5, 3), lib.ones(2, 5, 3), attn_mask=[[0.0] * 5] * 4),
    "sdpa mixed dtypes": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 4, 3).double(), lib.ones(2, 4, 3)),
    "sdpa dropout_p=2": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 4, 3), lib.ones(2, 4, 3), dropout_p=2.0),
    "sdpa list query": lambda lib: _f(lib).scaled_dot_product_attention(
        [[1.0]], lib.ones(1, 1), lib.ones(1, 1)),
    "sdpa list value": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(1, 1), lib.ones(1, 1), [[1.0]]),
    "sdpa mask with is_causal": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 4, 3), lib.ones(2, 4, 3),
        attn_mask=lib.ones(4, 4).bool(), is_causal=True),
    "MultiheadAttention(10, 3)": lambda lib: lib.nn.MultiheadAttention(10, 3),
    "MultiheadAttention float64 input": lambda lib: _seeded(lib).nn.MultiheadAttention(4, 2)(
        *(lib.ones(3, 2, 4).double(),) * 3),
    # ----- init
    "kaiming_uniform_ mode 'x'":
        lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(3, 3), mode="x"),
    "kaiming_normal_ 1-D": lambda lib: lib.nn.init.kaiming_normal_(lib.ones(3)),
    "xavier_uniform_ 1-D": lambda lib: lib.nn.init.xavier_uniform_(lib.ones(3)),
    "uniform_ int tensor": lambda lib: lib.nn.init.uniform_(lib.ones(3).long()),
    "uniform_ bool tensor": lambda lib: lib.nn.init.uniform_(lib.ones(3).bool()),
    "normal_ int tensor": lambda lib: lib.nn.init.normal_(lib.ones(3).long()),
    "trunc_normal_ int tensor": lambda lib: lib.nn.init.trunc_normal_(lib.ones(3).long()),
    "xavier_uniform_ int tensor": lambda lib: lib.nn.init.xavier_uniform_(lib.ones(3, 3).long()),
    "kaiming_normal_ int tensor": lambda lib: lib.nn.init.kaiming_normal_(lib.ones(3, 3).long()),
    "uniform_ a='a'": lambda lib: lib.nn.init.uniform_(lib.ones(3), "a"),
    "uniform_ b=None": lambda lib: lib.nn.init.uniform_(lib.ones(3), 0.0, None),
    "normal_ mean='a'": lambda lib: lib.nn.init.normal_(lib.ones(3), "a"),
    "normal_ std=-1": lambda lib: lib.nn.init.normal_(lib.ones(3), std=-1),
    # ----- utils
    "clip_grad_norm_ max_norm None": lambda lib: lib.nn.utils.clip_grad_norm_(_grads(lib), None),
    "clip_grad_norm_ max_norm 'a'": lambda lib: lib.nn.utils.clip_grad_norm_(_grads(lib), "a"),
    "clip_grad_norm_ norm_type 'x'":
        lambda lib: lib.nn.utils.clip_grad_norm_(_grads(lib), 1.0, norm_type="x"),
    "clip_grad_norm_ max_norm None, no grads":
        lambda lib: lib.nn.utils.clip_grad_norm_([lib.nn.Parameter(lib.ones(1))], None),
    "parameters_to_vector []": lambda lib: lib.nn.utils.parameters_to_vector([]),
    "parameters_to_vector [3]": lambda lib: lib.nn.utils.parameters_to_vector([3]),
    "pad_sequence list element":
        lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2), [1.0]]),
    "pack_padded_sequence 2-D lengths": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(
        lib.ones(3, 2), lib.tensor([[3, 2]])),
    "pack_padded_sequence 0-d lengths": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(
        lib.ones(3, 2), lib.tensor(3)),
    "pack_padded_sequence nested list lengths":
        lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2), [[3, 2]]),
    # ----- recurrent cells
    "LSTMCell hx without c": lambda lib: _seeded(lib).nn.LSTMCell(4, 3)(lib.ones(2, 4),
                                                                      lib.zeros(2, 3)),
    "LSTMCell wrong input size": lambda lib: _seeded(lib).nn.LSTMCell(4, 3)(lib.ones(2, 3)),
    "GRUCell hidden batch": lambda lib: _seeded(lib).nn.GRUCell(4, 3)(lib.ones(2, 4),
                                                                    lib.zeros(3, 3)),
}

RENAMED = {
    "Sequential * 0": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 0,
    "Sequential * -1": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * -1,
    "Sequential * 1.5": lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 1.5,
    "'a' * Sequential": lambda lib: "a" * lib.nn.Sequential(lib.nn.ReLU()),
    "Sequential *= 0": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).__imul__(0),
    "Sequential.insert(0, 3)": lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(0, 3),
    "register_buffer value 3": lambda lib: lib.nn.Module().register_buffer("a", 3),
    "register_parameter value 3": lambda lib: lib.nn.Module().register_parameter("a", 3),
    "BatchNorm1d one value per channel": lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(1, 3)),
    "binary_cross_entropy target shape":
        lambda lib: _f(lib).binary_cross_entropy(lib.full((2, 3), 0.5), lib.ones(3)),
    "bce_with_logits target shape":
        lambda lib: _f(lib).binary_cross_entropy_with_logits(lib.ones(2, 3), lib.ones(3)),
    "MultiheadAttention 2-D mask shape": lambda lib: _seeded(lib).nn.MultiheadAttention(4, 2)(
        lib.ones(3, 2, 4), lib.ones(5, 2, 4), lib.ones(5, 2, 4), attn_mask=lib.zeros(3, 3)),
    "load_state_dict size mismatch": lambda lib: _seeded(lib).nn.Linear(2, 3).load_state_dict(
        {"weight": lib.ones(2, 2), "bias": lib.ones(3)}),
    "load_state_dict missing and unexpected": lambda lib: _seeded(lib).nn.Linear(2, 3)
        .load_state_dict({"weight": lib.ones(3, 2), "x": lib.ones(1)}),
    "load_state_dict nested": lambda lib: _seeded(lib).nn.Sequential(lib.nn.Linear(2, 3))
        .load_state_dict({"0.weight": lib.ones(3, 3), "0.bias": lib.ones(2), "1.x": lib.ones(1)}),
    "vector_to_parameters list": lambda lib: lib.nn.utils.vector_to_parameters(
        [1.0], [lib.nn.Parameter(lib.ones(3))]),
}

TYPE_ONLY = {
    "cross_entropy target out of range":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 3])),
    "cross_entropy negative target":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, -1])),
    "cross_entropy float target of another shape":
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.ones(2)),
    "cross_entropy int32 class target":  # numpy2gpt takes any integer dtype
        lambda lib: _f(lib).cross_entropy(lib.ones(2, 3), lib.zeros(2, 4).int()),
    "nll_loss 3-D target out of range":
        lambda lib: _f(lib).nll_loss(lib.ones(2, 3, 4), lib.full((2, 4), 3).long()),
    "Embedding index too large": lambda lib: _seeded(lib).nn.Embedding(10, 3)(lib.tensor([70])),
    "Embedding negative index": lambda lib: _seeded(lib).nn.Embedding(10, 3)(lib.tensor([-1])),
    "Embedding float indices": lambda lib: _seeded(lib).nn.Embedding(10, 3)(lib.ones(2)),
    "Embedding int16 indices": lambda lib: _seeded(lib).nn.Embedding(10, 3)(
        lib.tensor([1], dtype=lib.int16)),
    "Embedding uint8 indices": lambda lib: _seeded(lib).nn.Embedding(10, 3)(
        lib.tensor([1], dtype=lib.uint8)),
    "linear 3-D weight": lambda lib: _f(lib).linear(lib.ones(2, 3), lib.ones(1, 4, 3)),
    "LayerNorm('a')": lambda lib: lib.nn.LayerNorm("a"),
    "LayerNorm([2, 'a'])": lambda lib: lib.nn.LayerNorm([2, "a"]),
    "LayerNorm float64 input": lambda lib: _seeded(lib).nn.LayerNorm(4)(lib.ones(2, 4).double()),
    "LayerNorm int input": lambda lib: _seeded(lib).nn.LayerNorm(4)(lib.ones(2, 4).long()),
    "constant_ 'a'": lambda lib: lib.nn.init.constant_(lib.ones(3), "a"),
    "constant_ None": lambda lib: lib.nn.init.constant_(lib.ones(3), None),
    "constant_ list": lambda lib: lib.nn.init.constant_(lib.ones(3), [1.0]),
    "sdpa 1-D inputs": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(3), lib.ones(3), lib.ones(3)),
    "sdpa mask shape": lambda lib: _f(lib).scaled_dot_product_attention(
        lib.ones(2, 4, 3), lib.ones(2, 5, 3), lib.ones(2, 5, 3), attn_mask=lib.zeros(4, 4)),
    "Conv2d wrong channels": lambda lib: _seeded(lib).nn.Conv2d(3, 4, 3)(lib.ones(1, 2, 5, 5)),
    "Conv2d input too small": lambda lib: _seeded(lib).nn.Conv2d(3, 4, 3)(lib.ones(1, 3, 2, 2)),
    "Conv2d 2-D input": lambda lib: _seeded(lib).nn.Conv2d(3, 4, 3)(lib.ones(5, 5)),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_same_error_and_message(name):
    same_error(EXACT[name])


@pytest.mark.parametrize("name", list(RENAMED))
def test_same_error_up_to_the_library_name(name):
    raised = []
    for lib in (ng, torch):
        with pytest.raises(Exception) as e:
            RENAMED[name](lib)
        raised.append(e.value)
    assert type(raised[0]) is type(raised[1]), raised
    assert str(raised[0]).replace("numpy2gpt", "torch") == str(raised[1])


@pytest.mark.parametrize("name", list(TYPE_ONLY))
def test_same_error_type(name):
    same_error(TYPE_ONLY[name], same_message=False)


# ----- what the checks must let through, against PyTorch ------------------------------------------
def _names(seq):
    return [type(m).__name__ for m in seq]


def test_sequential_arithmetic_and_pop_like_torch():
    for lib in (ng, torch):
        a, b = lib.nn.ReLU(), lib.nn.Tanh()
        seq = lib.nn.Sequential(a, b)
        assert _names(seq * 2) == _names(2 * seq) == ["ReLU", "Tanh"] * 2
        assert (seq * 2)[2] is a  # the same modules, not copies
        assert _names(seq + lib.nn.Sequential(lib.nn.GELU())) == ["ReLU", "Tanh", "GELU"]
        assert list((seq * 2).state_dict()) == []
        seq *= 2
        assert _names(seq) == ["ReLU", "Tanh"] * 2 and list(seq._modules) == ["0", "1", "2", "3"]
        seq += lib.nn.Sequential(lib.nn.GELU())
        assert list(seq._modules) == ["0", "1", "2", "3", "4"]
        assert seq.pop(1) is b and _names(seq) == ["ReLU", "ReLU", "Tanh", "GELU"]
        assert list(seq._modules) == ["0", "1", "2", "3"]
    ours = ng.nn.Sequential(OrderedDict(fc=ng.nn.Linear(2, 2))) * 2
    assert list(ours.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_module_containers_take_any_iterable():
    for lib in (ng, torch):
        assert len(lib.nn.ModuleList(m for m in (lib.nn.ReLU(), lib.nn.Tanh()))) == 2
        assert list(lib.nn.ModuleDict(iter([["a", lib.nn.ReLU()]]))) == ["a"]


def test_dropout_of_integer_tensors_where_torch_allows_it():
    x = np.arange(4)
    for p, training in ((0.0, True), (0.5, False), (1.0, True)):
        ours, theirs = (_f(lib).dropout(lib.tensor(x), p, training) for lib in (ng, torch))
        assert_close(ours, theirs)
    y = ng.tensor(x)
    assert _f(ng).dropout(y, 1.0, inplace=True) is y and (y.numpy() == 0).all()
    # a probability of NaN or below 0 makes attention drop nothing, as in PyTorch
    q = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    for p in (-1.0, math.nan):
        ours, theirs = (_f(lib).scaled_dot_product_attention(
            lib.tensor(q), lib.tensor(q), lib.tensor(q), dropout_p=p) for lib in (ng, torch))
        assert_close(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_masks_torch_accepts(dtype):
    """A bool mask, a float32 mask (whatever the query's dtype) and a mask of the query's dtype;
    values and the mask's gradient against PyTorch."""
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 3)))
    for mask in (rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5))
                 .astype(dtype), rng.standard_normal((4, 5)) > -1):
        results = []
        for lib in (ng, torch):
            m = lib.tensor(mask, requires_grad=mask.dtype.kind == "f")
            out = _f(lib).scaled_dot_product_attention(lib.tensor(q), lib.tensor(k),
                                                       lib.tensor(v), attn_mask=m)
            if m.requires_grad:
                out.sum().backward()
            results.append((out, m.grad))
        assert_close(results[0][0], results[1][0])
        if mask.dtype.kind == "f":
            assert_close(results[0][1], results[1][1], rtol=1e-5 if dtype == np.float32 else None)


def test_pad_and_linear_take_what_torch_takes():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for pad, value in (([1, 2], None), ((np.int64(1), 0), 2), ((1, 1), True)):
        ours, theirs = (_f(lib).pad(lib.tensor(x), pad, value=value) for lib in (ng, torch))
        assert_close(ours, theirs)
    ours, theirs = (_f(lib).pad(lib.tensor(x), lib.Size([1, 1])) for lib in (ng, torch))
    assert_close(ours, theirs)
    w, b = np.ones((4, 3)), np.arange(4.0)
    ours, theirs = (_f(lib).linear(lib.tensor(x).double(), lib.tensor(w), lib.tensor(b))
                    for lib in (ng, torch))
    assert_close(ours, theirs)


def test_init_fills_with_numbers_and_tensors():
    for lib in (ng, torch):
        t = lib.nn.init.constant_(lib.zeros(3), lib.tensor(2.0))
        assert (t.numpy() == 2).all()
        t = lib.nn.init.uniform_(lib.zeros(3), np.float32(1), 1)
        assert (t.numpy() == 1).all()
        assert lib.nn.init.normal_(lib.zeros(3), 1, 0).numpy().tolist() == [1, 1, 1]


def test_clip_grad_norm_accepts_inf_as_a_string():
    ours, theirs = (lib.nn.utils.clip_grad_norm_(_grads(lib), 1.0, norm_type="inf")
                    for lib in (ng, torch))
    assert_close(ours, theirs)
