"""Autograd node names (`y.grad_fn.name()`, `next_functions`) are PyTorch's, for the ops
tutorials print: each expression runs on numpy2gpt and on PyTorch, and both must give the name
in the table (so the test also fails if PyTorch renames a node)."""

import numpy as np
import pytest
import torch

import numpy2gpt as ng


def _env(lib):
    """The same leaves (and index tensors) on either library."""
    rng = np.random.default_rng(0)

    def leaf(*shape, positive=False):
        a = rng.random(shape) + 0.5 if positive else rng.standard_normal(shape)
        return lib.tensor(a.astype(np.float32), requires_grad=True)

    return dict(torch=lib, F=lib.nn.functional, setitem=_setitem,
                x=leaf(3, 4), y=leaf(3, 4), p=leaf(3, 4, positive=True), v=leaf(4),
                m=leaf(4, 5), sq=leaf(3, 3), b3=leaf(2, 3, 4), b3b=leaf(2, 4, 5), w=leaf(2, 4),
                bw=leaf(2), i=lib.tensor([0, 2]), tgt=lib.tensor([1, 0, 3]),
                tgt3=lib.tensor([[1, 0, 3], [2, 2, 0]]), img=leaf(1, 2, 5, 5),
                wconv=leaf(2, 3, 3, 3), bconv=leaf(3))


def _setitem(t, key, value):
    t[key] = value
    return t


def _both(expr):
    return eval(expr, _env(ng)), eval(expr, _env(torch))


NAMES = [
    # indexing: the node is the last step's (int: select, None: unsqueeze, slice: slice)
    ("x[0]", "SelectBackward0"), ("x[:, 1]", "SelectBackward0"), ("x[..., 0]", "SelectBackward0"),
    ("x[0, 1]", "SelectBackward0"), ("x[-1]", "SelectBackward0"), ("x[0, :]", "SelectBackward0"),
    ("x[0, 0:100]", "SelectBackward0"), ("x[1:, 0]", "SelectBackward0"),
    ("x[None, 0]", "SelectBackward0"), ("x.select(0, 1)", "SelectBackward0"),
    ("x.select(1, -1)", "SelectBackward0"), ("x[None]", "UnsqueezeBackward0"),
    ("x[:, None]", "UnsqueezeBackward0"), ("x[..., None]", "UnsqueezeBackward0"),
    ("x[0, None]", "UnsqueezeBackward0"), ("x[1:]", "SliceBackward0"), ("x[:]", "SliceBackward0"),
    ("x[0:100]", "SliceBackward0"), ("x[0, 1:]", "SliceBackward0"), ("x[::2]", "SliceBackward0"),
    ("x[:, :]", "AliasBackward0"), ("x[...]", "AliasBackward0"), ("x[True]", "IndexBackward0"),
    ("x[i]", "IndexBackward0"), ("x[0, i]", "IndexBackward0"), ("x[x > 0]", "IndexBackward0"),
    ("x.index_select(0, i)", "IndexSelectBackward0"),
    ("x.index_select(1, i)", "IndexSelectBackward0"),
    ("x.index_add(0, i, y[:2])", "IndexAddBackward0"),
    ("x.index_copy(0, i, y[:2])", "IndexCopyBackward0"),
    # shape ops and views
    ("x.unsqueeze(0)", "UnsqueezeBackward0"), ("x.unsqueeze(-1)", "UnsqueezeBackward0"),
    ("torch.atleast_3d(x)", "UnsqueezeBackward0"), ("torch.atleast_2d(v)", "UnsqueezeBackward0"),
    ("x[None].squeeze()", "SqueezeBackward0"), ("x[None].squeeze(0)", "SqueezeBackward1"),
    ("x.squeeze(0)", "SqueezeBackward1"), ("x[None].squeeze((0,))", "SqueezeBackward2"),
    ("x.t()", "TBackward0"), ("v.t()", "TBackward0"), ("x.transpose(0, 1)", "TransposeBackward0"),
    ("b3.transpose(1, 2)", "TransposeBackward0"), ("x.swapaxes(0, 1)", "TransposeBackward0"),
    ("x.mT", "TransposeBackward0"), ("x.T", "PermuteBackward0"), ("x.permute(1, 0)",
                                                                   "PermuteBackward0"),
    ("x.view(12)", "ViewBackward0"), ("x.chunk(2, 1)[0]", "SplitBackward0"),
    ("x.split(2, 1)[1]", "SplitBackward0"), ("x.split([1, 3], 1)[0]", "SplitWithSizesBackward0"),
    # in place
    ("x.clone().t_()", "TBackward1"), ("x.clone().transpose_(0, 1)", "TransposeBackward1"),
    ("x.clone().unsqueeze_(0)", "UnsqueezeBackward1"),
    ("x.clone()[None].squeeze_()", "SqueezeBackward3"),
    ("x.clone()[None].squeeze_(0)", "SqueezeBackward4"),
    ("x.clone()[None].squeeze_((0,))", "SqueezeBackward5"),
    ("x.clone().addcmul_(y, y)", "AddcmulBackward0"), ("x.clone().clamp_min_(0)",
                                                       "ClampMinBackward0"),
    ("x.clone().copy_(y)", "torch::autograd::CopyBackwards"),
    ("setitem(x.clone(), 0, y[0])", "torch::autograd::CopySlices"),
    ("setitem(x.clone(), i, y[:2])", "IndexPutBackward0"),
    # arithmetic
    ("2 - x", "RsubBackward1"), ("torch.rsub(x, y)", "RsubBackward0"),
    ("torch.rsub(x, 2)", "RsubBackward1"), ("1 / x", "MulBackward0"), ("x / 2", "DivBackward0"),
    ("2 ** x", "PowBackward2"), ("torch.pow(2.0, x)", "PowBackward2"), ("x ** y", "PowBackward1"),
    ("x.addcmul(y, y)", "AddcmulBackward0"), ("x.addcdiv(y, p, value=2)", "AddcdivBackward0"),
    ("x.lerp(y, 0.3)", "LerpBackward0"), ("x.lerp(y, p)", "LerpBackward1"),
    ("x.clamp_min(0)", "ClampMinBackward0"), ("x.clamp_max(0)", "ClampMaxBackward0"),
    ("x.clamp(min=0)", "ClampBackward1"), ("x.clamp_min(torch.zeros(4))", "ClampMinBackward1"),
    ("x.median()", "MedianBackward0"), ("x.sgn()", "SgnBackward0"),
    # linear algebra: the node of the kernel (or its last step) PyTorch's matmul picks
    ("v @ v", "DotBackward0"), ("x @ v", "MvBackward0"), ("x @ m", "MmBackward0"),
    ("v @ m", "SqueezeBackward4"), ("b3 @ m", "UnsafeViewBackward0"),
    ("torch.matmul(b3, b3b)", "UnsafeViewBackward0"), ("x @ b3b", "CloneBackward0"),
    ("b3.bmm(b3b)", "BmmBackward0"), ("torch.bmm(b3, b3b)", "BmmBackward0"),
    ("torch.addmm(y[:, :1], x, m)", "AddmmBackward0"), ("torch.addmv(v[:3], x, v)",
                                                        "AddmvBackward0"),
    ("torch.baddbmm(b3b[:, :3], b3, b3b)", "BaddbmmBackward0"),
    ("torch.addr(x, v[:3], v)", "AddrBackward0"), ("torch.trace(sq)", "TraceBackward0"),
    # nn.functional
    ("F.linear(x, w)", "MmBackward0"), ("F.linear(x, w, bw)", "AddmmBackward0"),
    ("F.linear(b3, w)", "UnsafeViewBackward0"), ("F.linear(b3, w, bw)", "ViewBackward0"),
    ("F.linear(b3.transpose(1, 2).transpose(1, 2).contiguous().transpose(0, 1), w, bw)",
     "AddBackward0"),
    ("F.linear(v, w)", "SqueezeBackward4"), ("F.linear(v, w, bw)", "ViewBackward0"),
    ("F.layer_norm(x, (4,))", "NativeLayerNormBackward0"),
    ("F.layer_norm(b3, (3, 4))", "NativeLayerNormBackward0"),
    ("F.cross_entropy(x, tgt)", "NllLossBackward0"),
    ("F.mse_loss(x, y)", "MseLossBackward0"), ("F.mse_loss(x, y, reduction='sum')",
                                               "MseLossBackward0"),
    ("F.mse_loss(x, y, reduction='none')", "MseLossBackward0"),
    ("F.cross_entropy(x, tgt, reduction='none')", "NllLossBackward0"),
    ("F.cross_entropy(v, tgt[0])", "NllLossBackward0"),
    ("F.cross_entropy(x, tgt, label_smoothing=0.1)", "AddBackward0"),
    ("F.cross_entropy(b3.transpose(1, 2), tgt3)", "NllLoss2DBackward0"),
    ("F.cross_entropy(b3.transpose(1, 2), tgt3, reduction='none')", "ViewBackward0"),
    ("F.cross_entropy(b3.transpose(1, 2)[..., None], tgt3[..., None], reduction='none')",
     "NllLoss2DBackward0"),
    ("F.cross_entropy(x, y.softmax(1))", "DivBackward1"),
    ("F.cross_entropy(x, y.softmax(1), reduction='sum')", "NegBackward0"),
    ("F.nll_loss(x.log_softmax(1), tgt)", "NllLossBackward0"),
    ("F.nll_loss(b3.transpose(1, 2), tgt3)", "NllLoss2DBackward0"),
    ("F.smooth_l1_loss(x, y)", "SmoothL1LossBackward0"),
    ("F.smooth_l1_loss(x, y, reduction='none')", "SmoothL1LossBackward0"),
    ("F.smooth_l1_loss(x, y, beta=0.0)", "MeanBackward0"),
    ("F.huber_loss(x, y, reduction='sum')", "HuberLossBackward0"),
    # activations and losses PyTorch runs as one node: the name of the composition's last step
    ("F.binary_cross_entropy(x.sigmoid(), p / 2)", "BinaryCrossEntropyBackward0"),
    ("F.binary_cross_entropy(x.sigmoid(), p / 2, reduction='none')",
     "BinaryCrossEntropyBackward0"),
    ("F.binary_cross_entropy(x.sigmoid(), p.detach() / 2, p.detach(), reduction='sum')",
     "BinaryCrossEntropyBackward0"),
    ("F.binary_cross_entropy_with_logits(x, p / 2)", "BinaryCrossEntropyWithLogitsBackward0"),
    ("F.binary_cross_entropy_with_logits(x, p.detach() / 2, pos_weight=v.detach(), "
     "reduction='none')", "BinaryCrossEntropyWithLogitsBackward0"),
    ("F.threshold(x, 0.1, 2.0)", "ThresholdBackward0"),
    ("F.threshold(x.clone(), 0.1, 2.0, inplace=True)", "ThresholdBackward1"),
    ("F.threshold_(x.clone(), 0.1, 2.0)", "ThresholdBackward1"),
    ("F.hardshrink(x)", "HardshrinkBackward0"), ("F.softshrink(x, 0.3)", "SoftshrinkBackward0"),
    ("F.prelu(x, bw[:1])", "PreluKernelBackward0"), ("F.prelu(x, v)", "PreluKernelBackward0"),
    ("F.rrelu(x)", "RreluWithNoiseBackward0"), ("F.rrelu(x, training=True)",
                                                "RreluWithNoiseBackward0"),
    ("F.rrelu(x.clone(), inplace=True)", "RreluWithNoiseBackward1"),
    ("F.rrelu_(x.clone(), training=True)", "RreluWithNoiseBackward1"),
    ("F.dropout(x)", "MulBackward0"), ("F.dropout(x, 1.0)", "MulBackward0"),
    ("F.dropout(x.clone(), inplace=True)", "MulBackward0"),
    ("F.pad(x, (1, 1), mode='circular')", "torch::autograd::CopySlices"),
    ("F.pad(img, (1, 2, 2, 1), mode='circular')", "torch::autograd::CopySlices"),
    ("F.soft_margin_loss(x, y.sign().detach())", "SoftMarginLossBackward0"),
    ("F.soft_margin_loss(x, y.sign().detach(), reduction='none')", "SoftMarginLossBackward0"),
    ("F.multi_margin_loss(x, tgt)", "MultiMarginLossBackward0"),
    ("F.multi_margin_loss(x, tgt, p=2, reduction='none')", "MultiMarginLossBackward0"),
    ("F.multi_margin_loss(v, tgt[0])", "MultiMarginLossBackward0"),
    ("F.multilabel_margin_loss(x, torch.tensor([[1, 0, -1, 0]] * 3))",
     "MultilabelMarginLossBackward0"),
    ("F.multilabel_margin_loss(x, torch.tensor([[1, 0, -1, 0]] * 3), reduction='none')",
     "MultilabelMarginLossBackward0"),
    ("F.triplet_margin_loss(x, y, p, reduction='none')", "ClampMinBackward0"),
    # distances
    ("F.pairwise_distance(x, y)", "NormBackward1"), ("F.pairwise_distance(x, v, p=1)",
                                                     "NormBackward1"),
    ("F.pdist(x)", "PdistBackward0"), ("F.pdist(x, p=1)", "PdistBackward0"),
    ("F.pdist(x, p=float('inf'))", "PdistBackward0"), ("F.pdist(x[:1])", "PdistBackward0"),
    ("torch.cdist(x, y)", "CdistBackward0"), ("torch.cdist(x, y, p=0)", "CdistBackward0"),
    ("torch.cdist(b3, b3, p=3)", "CdistBackward0"), ("torch.cdist(x[:0], y)", "CdistBackward0"),
    ("torch.dist(x, y)", "DistBackward0"), ("torch.dist(x, y, float('inf'))", "DistBackward0"),
    # torch.linalg
    ("torch.linalg.cross(x[:, :3], y[:, :3])", "LinalgCrossBackward0"),
    ("torch.cross(b3[..., :3], b3[..., 1:], dim=2)", "LinalgCrossBackward0"),
    ("torch.linalg.lstsq(sq, x[:, :3]).solution", "LinalgLstsqBackward0"),
    ("torch.linalg.lstsq(sq[None], x[None, :, :3])[0]", "LinalgLstsqBackward0"),
    ("torch.linalg.matrix_power(sq, -1)", "LinalgInvExBackward0"),
    ("torch.linalg.tensorinv(sq, 1)", "ReshapeAliasBackward0"),
    ("torch.linalg.tensorinv(b3b[0, :, :4].reshape(2, 2, 4), 2)", "ReshapeAliasBackward0"),
    # convolution, pooling, shuffles
    ("F.conv_transpose2d(img, wconv)", "ConvolutionBackward0"),
    ("F.conv_transpose2d(img, wconv, bconv, stride=2, padding=1, output_padding=1)",
     "ConvolutionBackward0"),
    ("F.conv_transpose1d(img[:, :, 0], wconv[..., 0], bconv)", "ConvolutionBackward0"),
    ("F.conv_transpose2d(img[0], wconv)", "SqueezeBackward1"),
    ("F.adaptive_avg_pool2d(img, 1)", "MeanBackward1"),
    ("F.adaptive_avg_pool2d(img[0], (1, 1))", "MeanBackward1"),
    ("F.adaptive_avg_pool3d(img[:, :, None], 1)", "MeanBackward1"),
    ("F.adaptive_avg_pool2d(img, (1, 2))", "AdaptiveAvgPool2DBackward0"),
    ("F.pixel_shuffle(img.repeat(1, 2, 1, 1), 2)", "PixelShuffleBackward0"),
    ("F.pixel_shuffle(img, 1)", "PixelShuffleBackward0"),
    ("F.pixel_unshuffle(img[..., :4, :4], 2)", "PixelUnshuffleBackward0"),
    ("F.pixel_unshuffle(img, 1)", "PixelUnshuffleBackward0"),
    ("F.channel_shuffle(img.repeat(1, 2, 1, 1), 2)", "ChannelShuffleBackward0"),
    ("F.channel_shuffle(img, 1)", "ChannelShuffleBackward0"),
]


@pytest.mark.parametrize("expr, name", NAMES)
def test_grad_fn_name_is_pytorchs(expr, name):
    ours, theirs = _both(expr)
    assert theirs.grad_fn.name() == name
    assert ours.grad_fn.name() == name
    assert repr(ours.grad_fn) == f"<{type(theirs.grad_fn).__name__}>"  # print(tensor)'s part


# next_functions one level down, leaves and inputs without grad shown as None (numpy2gpt's
# documented stand-in for PyTorch's AccumulateGrad)
EDGES = [
    ("x[0].t()", ["SelectBackward0"]), ("x[None].squeeze(0)", ["UnsqueezeBackward0"]),
    ("x[0, i]", ["SelectBackward0"]), ("x.t().transpose(0, 1)", ["TBackward0"]),
    ("x.clone().unsqueeze_(0)", ["CloneBackward0"]), ("x.chunk(2, 1)[1]", [None]),
    ("torch.bmm(b3.transpose(1, 2).transpose(1, 2), b3b)", ["TransposeBackward0", None]),
    ("x[:, 0].addcmul(x[0, :3], x[:, 1])", ["SelectBackward0"]),
    ("F.layer_norm(x.t(), (3,))", ["TBackward0"]),
    ("F.pairwise_distance(x, y)", ["AddBackward1"]),
    ("torch.linalg.matrix_power(sq.t(), -1)", ["TBackward0"]),
    ("F.multi_margin_loss(x, tgt, reduction='none').mul_(2)", ["MultiMarginLossBackward0"]),
    ("F.multi_margin_loss(v, tgt[0], reduction='none').mul_(2)", ["MultiMarginLossBackward0"]),
    ("F.multilabel_margin_loss(x, torch.tensor([[1, 0, -1, 0]] * 3), reduction='none').mul_(2)",
     ["MultilabelMarginLossBackward0"]),
    ("F.multilabel_margin_loss(v, torch.tensor([1, 0, -1, 0]), reduction='none').mul_(2)",
     ["MultilabelMarginLossBackward0"]),
]


@pytest.mark.parametrize("expr, first", EDGES)
def test_next_functions_name_the_inputs_creators(expr, first):
    def names(y):
        return [None if f is None or f.name().endswith("AccumulateGrad") else f.name()
                for f, _ in y.grad_fn.next_functions]

    ours, theirs = _both(expr)
    assert names(ours)[:len(first)] == first == names(theirs)[:len(first)]


def test_renamed_nodes_keep_their_gradients():
    """A node's name is only a label: the ops whose node got PyTorch's name back-propagate
    PyTorch's gradients (float32 and float64)."""
    expr = ("(x[0] * (2 - x[1])).sum() + x.t()[1].addcmul(x[:, 2], p[:, 0]).sum()"
            " + (1 / p[1] + 2 ** x[None, 2]).sum() + (x[:, 1:] @ sq).sum()"
            " + F.linear(b3, w, bw).sum(1).t().unsqueeze(0).squeeze()[0].sum()"
            " + torch.bmm(b3, b3b).chunk(2, 2)[0][0, 0, :2].sum() + F.cross_entropy(x, tgt)"
            " + F.smooth_l1_loss(x, y) + torch.trace(sq)")
    for dtype in ("float32", "float64"):
        envs = [_env(lib) for lib in (ng, torch)]
        for env, lib in zip(envs, (ng, torch)):
            for k in ("x", "y", "p", "b3", "b3b", "w", "bw", "sq"):
                env[k] = env[k].detach().to(getattr(lib, dtype)).requires_grad_()
            eval(expr, env).backward()
        for k in ("x", "y", "p", "b3", "b3b", "w", "bw", "sq"):
            ours, theirs = envs[0][k].grad, envs[1][k].grad
            assert ours.dtype.name == dtype
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_a_node_with_a_namespace_prints_as_pytorch_prints_it():
    """PyTorch's own nodes are named `torch::autograd::CopySlices`; print(tensor) shows the
    class, `grad_fn=<CopySlices>`."""
    ours, theirs = _both("setitem(torch.tensor([1.0, 2.0], requires_grad=True).clone(), 0, 5.0)")
    assert repr(ours) == repr(theirs) == "tensor([5., 2.], grad_fn=<CopySlices>)"
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "torch::autograd::CopySlices"


def test_a_view_rebuilt_after_an_edit_of_its_base_keeps_its_name():
    """A view taken before its base was edited in place gets its history anew from the base
    (replaying how it was taken): its node is the same kind of view as before."""
    x = ng.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    base = x.clone()
    views = [base.t(), base[0], base.unsqueeze(0)]
    base.mul_(2)
    assert [(v * 1).grad_fn.next_functions[0][0].name() for v in views] == \
        ["TBackward0", "SelectBackward0", "UnsqueezeBackward0"]


@pytest.mark.parametrize("op, node", [("torch.linalg.inv", "LinalgInvEx"), ("torch.exp", "Exp")])
def test_the_in_place_error_names_the_node_as_pytorch_does(op, node):
    """An output a node saved, edited in place before backward: PyTorch's error names the node
    without "Backward0" ("... output 0 of LinalgInvEx, ...")."""
    def message(lib):
        y = eval(op, {"torch": lib})((lib.eye(2) * 2).requires_grad_())
        y.add_(1)
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        return str(e.value).split(" is at version")[0]

    assert message(ng) == message(torch)
    assert message(ng).endswith(f"which is output 0 of {node},")


RENAMED_GRADIENTS = [
    "F.binary_cross_entropy(x.sigmoid(), p / 2)", "F.binary_cross_entropy_with_logits(x, p / 2)",
    "F.threshold(x, 0.1, 2.0)", "F.hardshrink(x)", "F.softshrink(x, 0.3)", "F.prelu(x, v)",
    "F.rrelu(x)", "F.soft_margin_loss(x, y.sign().detach())", "F.multi_margin_loss(x, tgt, p=2)",
    "F.multilabel_margin_loss(x, torch.tensor([[1, 0, -1, 0]] * 3))",
    "F.pairwise_distance(x, y)", "F.pdist(x)", "torch.cdist(x, y, p=0)", "torch.dist(x, y)",
    "torch.linalg.cross(x[:, :3], y[:, :3])", "torch.linalg.lstsq(sq, x[:, :3]).solution",
    "torch.linalg.matrix_power(sq, -1)", "torch.linalg.tensorinv(sq, 1)",
    "F.conv_transpose2d(img, wconv, bconv, stride=2, padding=1, output_padding=1)",
    "F.adaptive_avg_pool2d(img, 1)", "F.pixel_shuffle(img, 1)", "F.channel_shuffle(img, 1)",
    "F.pixel_unshuffle(img[..., :4, :4], 2)",
]


@pytest.mark.parametrize("expr", RENAMED_GRADIENTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ops_with_pytorchs_node_names_keep_pytorchs_values_and_gradients(expr, dtype):
    """Naming a node after PyTorch's changes nothing it computes: values, dtypes and the
    gradients of every leaf (through a fixed random upstream gradient) are PyTorch's."""
    names = ("x", "y", "p", "v", "sq", "img", "wconv", "bconv")
    outs, grads = [], []
    for lib in (ng, torch):
        env = _env(lib)
        for k in names:
            env[k] = env[k].detach().to(getattr(lib, dtype)).requires_grad_()
        out = eval(expr, env)
        upstream = np.random.default_rng(1).standard_normal(tuple(out.shape))
        (out * lib.tensor(upstream.astype(dtype))).sum().backward()
        outs.append(out)
        grads.append([None if env[k].grad is None else env[k].grad.numpy() for k in names])
    assert outs[0].dtype.name == dtype == str(outs[1].dtype).removeprefix("torch.")
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    for ours, theirs in zip(*grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.dtype.name == dtype
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("expr", ["F.pixel_shuffle(t, 1)", "F.pixel_unshuffle(t, 1)",
                                  "F.channel_shuffle(t, 1)", "F.pixel_shuffle(t[..., :1, :1], 2)"])
def test_a_shuffle_that_moves_nothing_is_still_a_new_tensor(expr):
    """PyTorch's pixel_shuffle, pixel_unshuffle and channel_shuffle return a new tensor even
    where the reshapes could keep the input's memory: editing the result leaves the input."""
    for lib in (ng, torch):
        t = lib.zeros(1, 4, 2, 2)
        out = eval(expr, {"F": lib.nn.functional, "t": t})
        out.add_(1)
        assert float(t.abs().sum()) == 0


@pytest.mark.parametrize("expr, kernel, argument", [
    ("F.binary_cross_entropy(x.sigmoid(), p / 2, weight=p)", "binary_cross_entropy", "weight"),
    ("F.binary_cross_entropy(x.detach().sigmoid(), p.detach() / 2, weight=p)",
     "binary_cross_entropy", "weight"),
    ("F.soft_margin_loss(x, y)", "soft_margin_loss", "target"),
    ("F.multi_margin_loss(x, tgt, weight=v)", "multi_margin_loss", "weight"),
])
def test_an_argument_pytorchs_node_has_no_gradient_for_may_not_require_grad(expr, kernel,
                                                                            argument):
    """PyTorch's one node has no derivative for a loss's weight (or soft_margin_loss's
    target): with grad mode on, such an argument that requires grad is refused."""
    message = (f"The function '{kernel}' is not differentiable with respect to argument "
               f"'{argument}'. This input cannot have requires_grad True.")
    for lib in (ng, torch):
        env = _env(lib)
        with pytest.raises(RuntimeError) as e:
            eval(expr, env)
        assert str(e.value) == message
        with lib.no_grad():
            eval(expr, env)  # (no error without grad mode)
