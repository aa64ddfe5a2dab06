"""Recurrent layers over a whole sequence: one layer, one direction, forward and BPTT backward.

The input projections gi = x W_ih^T + b_ih of all L time steps are computed beforehand (one
matrix product, outside these kernels): gi is (L, N, G * H), G gates of H features each. A
kernel runs the recurrence from h0 (and c0) at t = 0 to t = L - 1 (the caller flips gi in time
for the reverse direction). With a = gi_t + h_{t-1} W_hh^T + b_hh (N, G * H):
    RNN:  h_t = tanh(a)  (or relu)
    LSTM: i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
          c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    GRU:  r, z = sigmoid(a_r), sigmoid(a_z),  with gh = h_{t-1} W_hh^T + b_hh:
          n = tanh(gi_n + r * gh_n),   h_t = n + z * (h_{t-1} - n)
masks, if not None, is a bool array (L, N, 1): where masks[t] is False the sequence has ended
(packed input) and its state is carried through step t unchanged.

The forward kernels return the states at every step (hs, and cs for an LSTM) and what the
backward needs (the activated gates). The backward kernels take dL/dhs (with dL/dh_n already
added to its last step, and dL/dc_n for an LSTM) and return dL/dgi, dL/dh0 (dL/dc0), dL/dW_hh
and dL/db_hh (None without bias). The weight gradient is a sum over the time steps,
dW_hh = sum_t da_t^T h_{t-1}, and db_hh = sum_t sum_n da_t.
"""

import numpy as np

from . import switch
from .rows import ones_vector


def _sigmoid(x):
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _relu(x):
    return np.where(x < 0, np.zeros((), x.dtype), x)  # -0 and NaN pass through, as in PyTorch


def _masked(m, new, old):
    """The state after a step: `new` where the sequence is still running, else `old`."""
    return new if m is None else np.where(m, new, old)


def _split(d, m):
    """dL/d(state) split into the part that reaches the step's new value (running sequences)
    and the part that goes straight to the previous state (ended ones)."""
    if m is None:
        return d, 0
    return d * m, d * ~m


def _previous(states, first, t):
    return states[t - 1] if t else first


# ----- reference: one step at a time, the textbook BPTT ------------------------------------------
def rnn_forward_reference(gi, h0, w_hh, b_hh, masks, relu=False):
    """hs (L, N, H) and the steps' unmasked new states (what the derivative of act needs)."""
    act = _relu if relu else np.tanh
    hs, news, h = [], [], h0
    for t in range(len(gi)):
        a = gi[t] + h @ w_hh.T
        if b_hh is not None:
            a = a + b_hh
        news.append(act(a))
        h = _masked(None if masks is None else masks[t], news[-1], h)
        hs.append(h)
    return np.stack(hs), np.stack(news)


def rnn_backward_reference(ghs, hs, news, h0, w_hh, masks, relu=False, has_bias=True):
    """dgi, dh0, dW_hh, db_hh. da = dh * act'(a): 1 - h^2 for tanh, (h > 0) for relu."""
    dgi = np.empty_like(news)
    dw = np.zeros_like(w_hh)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(ghs))):
        d_new, d_keep = _split(dh + ghs[t], None if masks is None else masks[t])
        slope = (news[t] > 0) if relu else 1 - news[t] ** 2
        da = d_new * slope
        dgi[t] = da
        dw += da.T @ _previous(hs, h0, t)  # a = ... + h_{t-1} W^T: dW = da^T h_{t-1}
        dh = da @ w_hh + d_keep
    return dgi, dh, dw, (dgi.sum(axis=(0, 1)) if has_bias else None)


def lstm_forward_reference(gi, h0, c0, w_hh, b_hh, masks):
    """hs, cs (L, N, H), the activated gates [i, f, g, o] (L, N, 4H) and tanh(c_t) unmasked."""
    hs, cs, gates, tanh_cs, h, c = [], [], [], [], h0, c0
    for t in range(len(gi)):
        a = gi[t] + h @ w_hh.T
        if b_hh is not None:
            a = a + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)
        i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
        c_new = f * c + i * g  # forget part of the memory, write the new part
        tanh_cs.append(np.tanh(c_new))
        h_new = o * tanh_cs[-1]
        m = None if masks is None else masks[t]
        h, c = _masked(m, h_new, h), _masked(m, c_new, c)
        hs.append(h)
        cs.append(c)
        gates.append(np.concatenate([i, f, g, o], axis=-1))
    return np.stack(hs), np.stack(cs), np.stack(gates), np.stack(tanh_cs)


def lstm_backward_reference(ghs, gc_n, hs, cs, gates, tanh_cs, h0, c0, w_hh, masks,
                            has_bias=True):
    """dgi, dh0, dc0, dW_hh, db_hh, from the step's gradients of h_t and c_t:
        dc = dc + dh * o * (1 - tanh(c_t)^2)                   (h_t = o * tanh(c_t))
        da_i = dc * g * i (1 - i),  da_f = dc * c_{t-1} * f (1 - f)
        da_g = dc * i * (1 - g^2),  da_o = dh * tanh(c_t) * o (1 - o)
        dh_{t-1} = da W_hh,  dc_{t-1} = dc * f."""
    dgi = np.empty_like(gates)
    dw = np.zeros_like(w_hh)
    dh, dc = np.zeros_like(h0), gc_n
    for t in reversed(range(len(ghs))):
        m = None if masks is None else masks[t]
        dh_new, dh_keep = _split(dh + ghs[t], m)
        dc_new, dc_keep = _split(dc, m)
        i, f, g, o = np.split(gates[t], 4, axis=-1)
        tc = tanh_cs[t]
        dc_new = dc_new + dh_new * o * (1 - tc ** 2)
        da = np.concatenate([dc_new * g * i * (1 - i),
                             dc_new * _previous(cs, c0, t) * f * (1 - f),
                             dc_new * i * (1 - g ** 2),
                             dh_new * tc * o * (1 - o)], axis=-1)
        dgi[t] = da
        dw += da.T @ _previous(hs, h0, t)
        dh = da @ w_hh + dh_keep
        dc = dc_new * f + dc_keep
    return dgi, dh, dc, dw, (dgi.sum(axis=(0, 1)) if has_bias else None)


def gru_forward_reference(gi, h0, w_hh, b_hh, masks):
    """hs (L, N, H), the activated gates [r, z, n] (L, N, 3H) and gh_n (L, N, H)."""
    hs, gates, gh_ns, h = [], [], [], h0
    for t in range(len(gi)):
        gh = h @ w_hh.T
        if b_hh is not None:
            gh = gh + b_hh
        i_r, i_z, i_n = np.split(gi[t], 3, axis=-1)
        h_r, h_z, h_n = np.split(gh, 3, axis=-1)  # b_hn stays inside r * (...)
        r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        h = _masked(None if masks is None else masks[t], n + z * (h - n), h)
        hs.append(h)
        gates.append(np.concatenate([r, z, n], axis=-1))
        gh_ns.append(h_n)
    return np.stack(hs), np.stack(gates), np.stack(gh_ns)


def gru_backward_reference(ghs, hs, gates, gh_ns, h0, w_hh, masks, has_bias=True):
    """dgi, dh0, dW_hh, db_hh. With dh the gradient of h_t = n + z (h_{t-1} - n):
        dz = dh (h_{t-1} - n),  dn = dh (1 - z),  dh_{t-1} = dh z + dgh W_hh
        dn_pre = dn (1 - n^2): it is dgi_n, and dgh_n = dn_pre * r (n = tanh(gi_n + r gh_n))
        dr_pre = dn_pre gh_n r (1 - r),  dz_pre = dz z (1 - z): both for gi and gh."""
    dgi = np.empty_like(gates)
    dgh = np.empty_like(gates)
    dw = np.zeros_like(w_hh)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(ghs))):
        d_new, d_keep = _split(dh + ghs[t], None if masks is None else masks[t])
        r, z, n = np.split(gates[t], 3, axis=-1)
        h_prev = _previous(hs, h0, t)
        dn_pre = d_new * (1 - z) * (1 - n ** 2)
        dr_pre = dn_pre * gh_ns[t] * r * (1 - r)
        dz_pre = d_new * (h_prev - n) * z * (1 - z)
        dgi[t] = np.concatenate([dr_pre, dz_pre, dn_pre], axis=-1)
        dgh[t] = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=-1)
        dw += dgh[t].T @ h_prev
        dh = d_new * z + dgh[t] @ w_hh + d_keep
    return dgi, dh, dw, (dgh.sum(axis=(0, 1)) if has_bias else None)


# ----- fast: preallocated outputs, in-place ufuncs, one GEMM for dW_hh ---------------------------
def _stacked_weight_grad(da, hs, h0):
    """dW = sum_t da_t^T h_{t-1} as one GEMM over all steps (N rows each) but the first, whose
    h_{t-1} is h0: (L N, G) ^T @ (L N, H) does the whole BPTT sum at once."""
    h = h0.shape[-1]
    dw = da[0].T @ h0
    if len(da) > 1:
        dw += da[1:].reshape(-1, da.shape[-1]).T @ hs[:-1].reshape(-1, h)
    return dw


def _bias_grad(da):
    return ones_vector(da.shape[0] * da.shape[1], da.dtype) @ da.reshape(-1, da.shape[-1])


def rnn_forward_fast(gi, h0, w_hh, b_hh, masks, relu=False):
    """The reference's loop with b_hh added to all of gi at once and each step's activation
    done in place in its slice of hs; the unmasked states are kept apart only with masks."""
    gib = gi + b_hh if b_hh is not None else gi
    hs = np.empty(gi.shape[:2] + h0.shape[-1:], gi.dtype)
    news = hs if masks is None else np.empty_like(hs)
    h = h0
    for t in range(len(gi)):
        a = news[t]
        np.matmul(h, w_hh.T, out=a)
        a += gib[t]
        if relu:
            np.copyto(a, 0, where=a < 0)  # -0 and NaN pass through, as in PyTorch
        else:
            np.tanh(a, out=a)
        if masks is not None:
            np.copyto(hs[t], np.where(masks[t], a, h))
        h = hs[t]
    return hs, news


def rnn_backward_fast(ghs, hs, news, h0, w_hh, masks, relu=False, has_bias=True):
    """The reference's BPTT with da written in place into the stacked dgi, and dW_hh and db_hh
    from all steps at once (_stacked_weight_grad)."""
    dgi = np.empty_like(news)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(ghs))):
        dh += ghs[t]
        da = dgi[t]
        if relu:
            np.multiply(dh, news[t] > 0, out=da)
        else:
            np.square(news[t], out=da)
            np.subtract(1, da, out=da)
            da *= dh
        if masks is not None:
            da *= masks[t]
            dh *= ~masks[t]
            dh += da @ w_hh
        else:
            dh = da @ w_hh
    return (dgi, dh, _stacked_weight_grad(dgi, hs, h0),
            _bias_grad(dgi) if has_bias else None)


def lstm_forward_fast(gi, h0, c0, w_hh, b_hh, masks):
    """The reference's loop with b_hh added to all of gi at once and each step's gates activated
    in their slice of the stacked gates (the sigmoid gates i, f and o: the first two and the last
    quarter of the columns)."""
    hid = h0.shape[-1]
    gib = gi + b_hh if b_hh is not None else gi
    w_t = w_hh.T
    gates = np.empty_like(gi)
    hs = np.empty(gi.shape[:2] + (hid,), gi.dtype)
    cs, tanh_cs = np.empty_like(hs), np.empty_like(hs)
    ig = np.empty(hs.shape[1:], gi.dtype)
    h, c = h0, c0
    for t in range(len(gi)):
        a = gates[t]
        np.matmul(h, w_t, out=a)
        a += gib[t]
        i, f, g, o = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:3 * hid], a[:, 3 * hid:]
        a[:, :2 * hid] = _sigmoid(a[:, :2 * hid])
        np.tanh(g, out=g)
        o[...] = _sigmoid(o)
        np.multiply(f, c, out=cs[t])
        cs[t] += np.multiply(i, g, out=ig)
        np.tanh(cs[t], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t])
        if masks is not None:
            np.copyto(hs[t], h, where=~masks[t])
            np.copyto(cs[t], c, where=~masks[t])
        h, c = hs[t], cs[t]
    return hs, cs, gates, tanh_cs


def lstm_backward_fast(ghs, gc_n, hs, cs, gates, tanh_cs, h0, c0, w_hh, masks, has_bias=True):
    """The reference's BPTT with the four gate gradients written in place into the stacked
    dgi (two scratch arrays per run), and dW_hh and db_hh from all steps at once."""
    hid = h0.shape[-1]
    dgi = np.empty_like(gates)
    dh = np.zeros_like(h0)
    dc = np.array(gc_n, copy=True)
    tmp = np.empty_like(dh)
    for t in reversed(range(len(ghs))):
        dh += ghs[t]
        if masks is not None:  # ended sequences keep their gradient for the previous state
            m = masks[t]
            dh_keep, dc_keep = dh * ~m, dc * ~m
            dh *= m
            dc *= m
        i, f, g, o = (gates[t, :, k * hid:(k + 1) * hid] for k in range(4))
        da_i, da_f, da_g, da_o = (dgi[t, :, k * hid:(k + 1) * hid] for k in range(4))
        tc = tanh_cs[t]
        np.multiply(dh, o, out=tmp)  # dc += dh * o * (1 - tc^2)
        np.multiply(tmp, tc, out=da_o)  # scratch: dh * o * tc
        da_o *= tc
        tmp -= da_o
        dc += tmp
        np.multiply(dh, tc, out=da_o)  # da_o = dh tc o (1 - o)
        np.subtract(1, o, out=tmp)
        tmp *= o
        da_o *= tmp
        np.subtract(1, i, out=tmp)  # da_i = dc g i (1 - i)
        tmp *= i
        np.multiply(dc, g, out=da_i)
        da_i *= tmp
        np.subtract(1, f, out=tmp)  # da_f = dc c_{t-1} f (1 - f)
        tmp *= f
        np.multiply(dc, _previous(cs, c0, t), out=da_f)
        da_f *= tmp
        np.square(g, out=tmp)  # da_g = dc i (1 - g^2)
        np.subtract(1, tmp, out=tmp)
        tmp *= i
        np.multiply(dc, tmp, out=da_g)
        dc *= f
        if masks is not None:
            dc += dc_keep
            dh = dgi[t] @ w_hh + dh_keep
        else:
            dh = dgi[t] @ w_hh
    return (dgi, dh, dc, _stacked_weight_grad(dgi, hs, h0),
            _bias_grad(dgi) if has_bias else None)


def gru_forward_fast(gi, h0, w_hh, b_hh, masks):
    """The reference's loop with each step's gates computed in place in the stacked gates:
    gh = h W_hh^T + b_hh first (its n part is kept for the backward), then r and z, then n."""
    hid = h0.shape[-1]
    w_t = w_hh.T
    gates = np.empty_like(gi)
    hs = np.empty(gi.shape[:2] + (hid,), gi.dtype)
    gh_ns = np.empty_like(hs)
    h = h0
    for t in range(len(gi)):
        a = gates[t]
        np.matmul(h, w_t, out=a)
        if b_hh is not None:
            a += b_hh
        gh_ns[t] = a[:, 2 * hid:]
        rz, n = a[:, :2 * hid], a[:, 2 * hid:]
        rz += gi[t, :, :2 * hid]
        rz[...] = _sigmoid(rz)
        r, z = a[:, :hid], a[:, hid:2 * hid]
        np.multiply(r, gh_ns[t], out=n)
        n += gi[t, :, 2 * hid:]
        np.tanh(n, out=n)
        np.subtract(h, n, out=hs[t])  # h_t = n + z (h - n)
        hs[t] *= z
        hs[t] += n
        if masks is not None:
            np.copyto(hs[t], h, where=~masks[t])
        h = hs[t]
    return hs, gates, gh_ns


def gru_backward_fast(ghs, hs, gates, gh_ns, h0, w_hh, masks, has_bias=True):
    """The reference's BPTT with the gate gradients written in place into the stacked dgh (the
    gradient of h W_hh^T + b_hh; dgi differs only in its n part), and dW_hh and db_hh from all
    steps at once."""
    hid = h0.shape[-1]
    dgi = np.empty_like(gates)
    dgh = np.empty_like(gates)
    dh = np.zeros_like(h0)
    tmp = np.empty_like(dh)
    for t in reversed(range(len(ghs))):
        dh += ghs[t]
        if masks is not None:
            dh_keep = dh * ~masks[t]
            dh *= masks[t]
        r, z, n = (gates[t, :, k * hid:(k + 1) * hid] for k in range(3))
        dr, dz, dn = (dgh[t, :, k * hid:(k + 1) * hid] for k in range(3))
        dn_i = dgi[t, :, 2 * hid:]
        np.square(n, out=tmp)  # dn_pre = dh (1 - z) (1 - n^2), stored as dgi_n
        np.subtract(1, tmp, out=dn_i)
        np.subtract(1, z, out=tmp)
        dn_i *= tmp
        dn_i *= dh
        np.multiply(dn_i, gh_ns[t], out=dr)  # dr_pre = dn_pre gh_n r (1 - r)
        np.subtract(1, r, out=tmp)
        tmp *= r
        dr *= tmp
        np.subtract(_previous(hs, h0, t), n, out=dz)  # dz_pre = dh (h_{t-1} - n) z (1 - z)
        dz *= dh
        np.subtract(1, z, out=tmp)
        tmp *= z
        dz *= tmp
        np.multiply(dn_i, r, out=dn)  # dgh_n = dn_pre r
        dgi[t, :, :2 * hid] = dgh[t, :, :2 * hid]
        dh *= z
        dh += dgh[t] @ w_hh
        if masks is not None:
            dh += dh_keep
    return (dgi, dh, _stacked_weight_grad(dgh, hs, h0),
            _bias_grad(dgh) if has_bias else None)


rnn_forward = switch(rnn_forward_reference, rnn_forward_fast)
rnn_backward = switch(rnn_backward_reference, rnn_backward_fast)
lstm_forward = switch(lstm_forward_reference, lstm_forward_fast)
lstm_backward = switch(lstm_backward_reference, lstm_backward_fast)
gru_forward = switch(gru_forward_reference, gru_forward_fast)
gru_backward = switch(gru_backward_reference, gru_backward_fast)
