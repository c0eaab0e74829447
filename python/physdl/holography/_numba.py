"""Numba twin of src/physdl/holography/holographic.cpp: the same recurrence, adjoint and Adam epochs,
in the same order of operations (so results agree with the C++ core to rounding, usually bit for bit).

The configuration travels as a float64 vector ``cfg`` (see ``pack_config``) and the training options
as ``opt`` (floats) and ``flags`` (ints).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..random._numba import philox_block, uniform_double

_opts = dict(nopython=True, nogil=True, cache=True)

# cfg layout
N_LAYERS, ETA_INI, ETA_FIN, M2, INPUT_MAP, NC, HORIZON, OUTPUT, EPS, SHARP, C_SMOOTH, C_BDRY, D_BDRY, C_HOR = range(14)
_PI = 3.14159265358979323846


def pack_config(d: dict) -> np.ndarray:
    keys = ("n_layers", "eta_ini", "eta_fin", "m2", "input_map", "nc", "horizon", "output", "eps", "sharpness",
            "c_smooth", "c_bdry", "d_bdry", "c_horizon")
    return np.array([float(d[k]) for k in keys], dtype=np.float64)


@nb.jit(**_opts)
def _input_one(cfg, p, x0, x1):
    """phi0, pi0 and (dphi/dlam, dpi/dlam, dphi/dR, dpi/dR)."""
    if cfg[INPUT_MAP] == 0.0:
        return x0, x1, 0.0, 0.0, 0.0, 0.0
    N = int(cfg[N_LAYERS])
    lam = p[N]
    R = p[N + 1]
    eta = cfg[ETA_INI]
    e1 = math.exp(-eta)
    e3 = math.exp(-3.0 * eta)
    a = math.sqrt(cfg[NC]) / (2.0 * _PI)
    b = _PI / math.sqrt(cfg[NC])
    al = a * x0 * R
    be = b * x1 * R * R * R
    al3 = al * al * al
    phi0 = al * e1 + be * e3 - 0.5 * lam * al3 * eta * e3
    pi0 = -al * e1 - (3.0 * be + 0.5 * lam * al3) * e3 + 1.5 * lam * al3 * eta * e3
    al2 = al * al
    dphi_dal = e1 - 1.5 * lam * al2 * eta * e3
    dpi_dal = -e1 - 1.5 * lam * al2 * e3 + 4.5 * lam * al2 * eta * e3
    dphi_dbe = e3
    dpi_dbe = -3.0 * e3
    dal_dR = a * x0
    dbe_dR = 3.0 * b * x1 * R * R
    return (phi0, pi0, -0.5 * al3 * eta * e3, -0.5 * al3 * e3 + 1.5 * al3 * eta * e3,
            dphi_dal * dal_dR + dphi_dbe * dbe_dR, dpi_dal * dal_dR + dpi_dbe * dbe_dR)


@nb.jit(**_opts)
def _horizon(cfg, phiN, piN, lam):
    if cfg[HORIZON] == 0.0:
        return piN, 0.0, 1.0, 0.0
    inv = 2.0 / cfg[ETA_FIN]
    m2 = cfg[M2]
    return (inv * piN - m2 * phiN - lam * phiN * phiN * phiN, -m2 - 3.0 * lam * phiN * phiN, inv,
            -phiN * phiN * phiN)


@nb.jit(**_opts)
def _output(cfg, F):
    if cfg[OUTPUT] == 0.0:
        t = math.tanh(abs(F))
        sg = 1.0 if F > 0 else (-1.0 if F < 0 else 0.0)
        return t, sg * (1.0 - t * t)
    s = cfg[SHARP]
    tp = math.tanh(s * (F - cfg[EPS]))
    tm = math.tanh(s * (F + cfg[EPS]))
    return 1.0 + 0.5 * (tp - tm), 0.5 * s * ((1.0 - tp * tp) - (1.0 - tm * tm))


@nb.jit(**_opts)
def _regularisers(cfg, p, grad, with_grad):
    N = int(cfg[N_LAYERS])
    d = (cfg[ETA_FIN] - cfg[ETA_INI]) / N
    r = 0.0
    if cfg[C_SMOOTH] != 0.0:
        for n in range(N - 1):
            e = cfg[ETA_INI] + n * d
            w = cfg[C_SMOOTH] * e * e * e * e
            dh = p[n + 1] - p[n]
            r += w * dh * dh
            if with_grad:
                grad[n + 1] += 2.0 * w * dh
                grad[n] -= 2.0 * w * dh
    if cfg[C_BDRY] != 0.0:
        u = cfg[D_BDRY] - p[0]
        r += cfg[C_BDRY] * u * u
        if with_grad:
            grad[0] -= 2.0 * cfg[C_BDRY] * u
    if cfg[C_HOR] != 0.0:
        u = p[N - 1] - 1.0 / (cfg[ETA_INI] + (N - 1) * d)
        r += cfg[C_HOR] * u * u
        if with_grad:
            grad[N - 1] += 2.0 * cfg[C_HOR] * u
    return r


@nb.jit(**_opts)
def _data_loss_grad(cfg, p, x, labels, idx, i0, i1, grad, ph, pp, with_grad):
    N = int(cfg[N_LAYERS])
    lam = p[N]
    d = (cfg[ETA_FIN] - cfg[ETA_INI]) / N
    m2 = cfg[M2]
    scale = 1.0 / (i1 - i0)
    loss = 0.0
    for s in range(i0, i1):
        i = idx[s]
        phi0, pi0, dphi_dlam, dpi_dlam, dphi_dR, dpi_dR = _input_one(cfg, p, x[i, 0], x[i, 1])
        ph[0] = phi0
        pp[0] = pi0
        for n in range(N):
            f = ph[n]
            q = pp[n]
            ph[n + 1] = f + d * q
            pp[n + 1] = q + d * (-p[n] * q + m2 * f + lam * f * f * f)
        F, dFdphi, dFdpi, dFdlam = _horizon(cfg, ph[N], pp[N], lam)
        y, dydF = _output(cfg, F)
        r = y - labels[i]
        loss += r * r
        if not with_grad:
            continue
        gF = 2.0 * r * scale * dydF
        gphi = gF * dFdphi
        gpi = gF * dFdpi
        glam = gF * dFdlam
        for n in range(N - 1, -1, -1):
            f = ph[n]
            q = pp[n]
            grad[n] += gpi * (-d * q)
            glam += gpi * d * f * f * f
            gphi_n = gphi + gpi * d * (m2 + 3.0 * lam * f * f)
            gpi_n = gphi * d + gpi * (1.0 - d * p[n])
            gphi = gphi_n
            gpi = gpi_n
        glam += gphi * dphi_dlam + gpi * dpi_dlam
        grad[N] += glam
        grad[N + 1] += gphi * dphi_dR + gpi * dpi_dR
    return loss * scale


@nb.jit(**_opts)
def forward(cfg, p, x, F, y, traj, with_traj):
    N = int(cfg[N_LAYERS])
    lam = p[N]
    d = (cfg[ETA_FIN] - cfg[ETA_INI]) / N
    m2 = cfg[M2]
    for i in range(x.shape[0]):
        f, q, _a, _b, _c, _d = _input_one(cfg, p, x[i, 0], x[i, 1])
        if with_traj:
            traj[i, 0, 0] = f
            traj[i, 0, 1] = q
        for m in range(N):
            fn = f + d * q
            qn = q + d * (-p[m] * q + m2 * f + lam * f * f * f)
            f = fn
            q = qn
            if with_traj:
                traj[i, m + 1, 0] = f
                traj[i, m + 1, 1] = q
        Fi, _e, _f, _g = _horizon(cfg, f, q, lam)
        F[i] = Fi
        y[i] = _output(cfg, Fi)[0]


@nb.jit(**_opts)
def loss_grad(cfg, p, x, labels, grad):
    N = int(cfg[N_LAYERS])
    grad[:] = 0.0
    n = labels.shape[0]
    idx = np.arange(n)
    ph = np.empty(N + 1)
    pp = np.empty(N + 1)
    dl = _data_loss_grad(cfg, p, x, labels, idx, 0, n, grad, ph, pp, True)
    return dl + _regularisers(cfg, p, grad, True), dl


@nb.jit(**_opts)
def train(cfg, p, m, v, steps, x, labels, opt, flags, seed, stream, epoch0, epochs, history):
    """opt = (lr, beta1, beta2, adam_eps); flags = (batch, train_h, train_lam, train_R, lam_nonnegative)."""
    N = int(cfg[N_LAYERS])
    P = N + 2
    n = labels.shape[0]
    lr, b1, b2, aeps = opt[0], opt[1], opt[2], opt[3]
    batch = flags[0]
    trials = steps.shape[0]
    ph = np.empty(N + 1)
    pp = np.empty(N + 1)
    g = np.empty(P)
    idx = np.empty(n, dtype=np.int64)
    for e in range(epochs):
        for t in range(trials):
            for i in range(n):
                idx[i] = i
            ep = np.uint64(epoch0 + e)
            st_stream = np.uint64(stream) + np.uint64(t)
            for i in range(n - 1, 0, -1):
                c0, c1, _c2, _c3 = philox_block(seed, st_stream, ep * np.uint64(n) + np.uint64(i))
                u = uniform_double(c0, c1)
                j = int(u * (i + 1))
                if j > i:
                    j = i
                tmp = idx[i]
                idx[i] = idx[j]
                idx[j] = tmp
            epoch_loss = 0.0
            nb_ = 0
            for s in range(0, n, batch):
                s1 = s + batch if s + batch < n else n
                g[:] = 0.0
                dl = _data_loss_grad(cfg, p[t], x, labels, idx, s, s1, g, ph, pp, True)
                epoch_loss += dl + _regularisers(cfg, p[t], g, True)
                nb_ += 1
                steps[t] += 1
                stc = steps[t]
                bc1 = 1.0 - b1 ** float(stc)
                bc2 = 1.0 - b2 ** float(stc)
                for j in range(P):
                    on = flags[1] if j < N else (flags[2] if j == N else flags[3])
                    if on == 0:
                        continue
                    m[t, j] = b1 * m[t, j] + (1.0 - b1) * g[j]
                    v[t, j] = b2 * v[t, j] + (1.0 - b2) * g[j] * g[j]
                    p[t, j] -= lr * (m[t, j] / bc1) / (math.sqrt(v[t, j] / bc2) + aeps)
                if flags[4] != 0 and p[t, N] < 0.0:
                    p[t, N] = 0.0
            history[t, e] = epoch_loss / nb_
    return epochs
