"""The Adam / AdamW update kernels: fast == reference over several steps on the suite's cases.
(Optimizers against PyTorch on either backend: tests/optim/test_optimizers.py.)"""

from types import SimpleNamespace

import numpy as np
import pytest
from kernel_cases import assert_same, cases

from numpy2gpt.kernels.adamw import AdamSettings, adam_hyper, adam_update

SETTINGS = [dict(weight_decay=0.1, decoupled=True, maximize=False),  # AdamW
            dict(weight_decay=0.1, decoupled=False, maximize=False),  # Adam with L2 decay
            dict(weight_decay=0.0, decoupled=True, maximize=True)]


@pytest.mark.parametrize("shape", [(7, 5), (3, 65), (1,)])
@pytest.mark.parametrize("kw", SETTINGS)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("scratch", [False, True])  # fresh temporaries / the two scratch arrays
def test_fast_equals_reference_over_steps(shape, kw, amsgrad, scratch):
    for label, p0 in cases(shape):
        rng = np.random.default_rng(3)
        runs = []
        for kernel in (adam_update.fast, adam_update.reference):
            p = p0.copy()
            m, v = np.zeros(shape, p.dtype), np.zeros(shape, p.dtype)
            vmax = np.zeros(shape, p.dtype) if amsgrad else None
            t1, t2 = (np.empty(shape, p.dtype), np.empty(shape, p.dtype)) if scratch else (None,
                                                                                         None)
            for step in range(1, 6):
                g = rng.standard_normal(shape).astype(p.dtype)
                s = AdamSettings(1e-2, 0.9, 0.95, 1e-8, step=step, **kw)
                c = SimpleNamespace(**{k: np.array(x, p.dtype) for k, x in adam_hyper(s).items()})
                with np.errstate(invalid="ignore"):  # Adam's L2 decay: g + inf, then inf / inf
                    kernel(p, g, m, v, vmax, s, c, t1, t2)
            runs.append((p, m, v) + ((vmax,) if amsgrad else ()))
            rng = np.random.default_rng(3)  # the same gradients for the reference
        assert_same(runs[0], runs[1], label=label)
