"""Weight averaging, as torch.optim.swa_utils: Stochastic Weight Averaging (SWA) and exponential
moving averages (EMA) of a model's weights.

`AveragedModel(model)` keeps a deep copy of the model whose parameters (and with
use_buffers=True its buffers) are a running average of the model's, one `update_parameters(model)`
at a time: by default the equal-weight mean of all the models seen (SWA), or whatever an
averaging function computes (`get_ema_multi_avg_fn(decay)` for an EMA). `SWALR` anneals each
group's lr to a constant swa_lr for the SWA phase of training, and `update_bn` recomputes the
BatchNorm running statistics of the averaged weights with one pass over the data (the average of
the models' statistics is not the statistics of the averaged model).
"""

import itertools
import math
import warnings
from contextlib import contextmanager
from copy import deepcopy

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..ops.creation import tensor
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] "
                         "range.")


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place EMA of lists of tensors (AveragedModel's `multi_avg_fn`):
    ema <- decay * ema + (1 - decay) * current, for each pair. The lists hold one dtype (the
    model groups them so): a floating one is updated with `lerp_`, an integer one (BatchNorm's
    num_batches_tracked) gets the float result truncated back to its dtype, as in PyTorch."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean of lists of tensors (AveragedModel's `multi_avg_fn`): with n
    models averaged so far, avg <- avg + (current - avg) / (n + 1). An integer list with a tensor
    n is PyTorch's addcdiv error (integer division); with a Python n, add_'s."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
            weight = 1 / (num_averaged + 1)  # (a 0-d tensor when n is one)
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.lerp_(p_model, weight)
        else:
            diffs = [p_model - p_avg for p_avg, p_model in zip(averaged_param_list,
                                                                current_param_list)]
            for p_avg, diff in zip(averaged_param_list, diffs):
                if isinstance(num_averaged, Tensor):
                    p_avg.addcdiv_(diff, num_averaged + 1)
                else:
                    p_avg.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA of one tensor (AveragedModel's `avg_fn`): decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor (AveragedModel's `avg_fn`): with n models averaged so far,
    avg + (current - avg) / (n + 1)."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current):
    """The pairs (averaged, current) grouped by the averaged tensor's (device, dtype), in order
    of first appearance: {key: (averaged list, current list)}."""
    groups = {}
    for a, c in zip(averaged, current):
        lists = groups.setdefault((a.device, a.dtype), ([], []))
        lists[0].append(a)
        lists[1].append(c)
    return groups


class AveragedModel(Module):
    """A running average of a model's weights, for SWA and EMA.

    `module` is a deep copy of `model` (moved to `device` if given), `n_averaged` an int64 buffer
    counting the models averaged. `update_parameters(model)` first copies the model's parameters
    (n_averaged 0), then averages them in: with `avg_fn(averaged, current, n_averaged)`, which
    returns the new value of one tensor, or `multi_avg_fn(averaged list, current list,
    n_averaged)`, which updates lists of one device and dtype in place, or by default with the
    equal-weight mean (SWA). With use_buffers=True the buffers are averaged too; else they are
    copied from the model. The forward pass is `module`'s; the state dict holds `n_averaged` and
    `module`'s entries (the averaging functions are not saved)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Average `model`'s current weights into this model's; n_averaged += 1."""
        if self.use_buffers:
            self_params = itertools.chain(self.module.parameters(), self.module.buffers())
            model_params = itertools.chain(model.parameters(), model.buffers())
        else:
            self_params, model_params = self.parameters(), model.parameters()
        averaged, current = [], []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_params, model_params):  # (not strict, as PyTorch's)
            p_model_ = p_model.detach().to(p_averaged.device)
            averaged.append(p_averaged.detach())
            current.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)

        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                groups = _group_by_device_and_dtype(averaged, current)
                for (device, _), (avg_list, model_list) in groups.items():
                    n_averaged = self.n_averaged.to(device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(avg_list, model_list, n_averaged)
                    else:  # the equal-weight mean (PyTorch's CPU path: one tensor at a time)
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(avg_list, model_list, strict=True):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, n_averaged))
            else:
                for p_averaged, p_model in zip(averaged, current, strict=True):
                    n_averaged = self.n_averaged.to(p_averaged.device)
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, n_averaged))

        if not self.use_buffers:  # the buffers follow the model's
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the running statistics of `model`'s BatchNorm layers with one pass over
    `loader` (batches that are tensors, or lists / tuples whose first element is the input).

    The statistics are reset and averaged over all the batches with equal weights (momentum
    None during the pass); the layers' momentum and the model's training mode are restored."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return

    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, list | tuple):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each param group's lr to its swa_lr over `anneal_epochs` steps ("cos" or "linear"),
    then keep it there: the schedule of the SWA phase.

    Each step moves the lr a fraction alpha(t) of the way from where it started to swa_lr, with
    t = step / anneal_epochs (capped at 1) and alpha(t) = (1 - cos(pi t)) / 2 ("cos") or t
    ("linear"). The starting lr is recovered from the current one, lr = (1 - alpha) * start +
    alpha * swa_lr, so another scheduler may have moved it before. swa_lr (one for all groups,
    or a list of one per group) is kept in the param groups as "swa_lr"."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr that annealing by alpha took to `lr`: lr = (1 - alpha) * start + alpha *
        swa_lr, solved for start (at alpha 1 it is lost: swa_lr)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    @contextmanager
    def _within_step(self):
        """get_lr() warns outside step(), as PyTorch's: get_last_lr() gives the current lrs."""
        self._get_lr_called_within_step = True
        try:
            yield
        finally:
            self._get_lr_called_within_step = False

    def step(self, epoch=None):
        with self._within_step():
            super().step(epoch)

    def step_to(self, epoch):
        with self._within_step():
            super().step_to(epoch)

    def get_lr(self):
        if not getattr(self, "_get_lr_called_within_step", False):
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1  # 0 at the constructor's initial step
        if self.anneal_epochs == 0:
            step = max(1, step)
        # undo the previous step's annealing to find the starting lr, then anneal it further
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def state_dict(self):
        """Everything but the optimizer and the annealing function (its name is kept)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
