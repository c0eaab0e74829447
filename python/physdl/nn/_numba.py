"""Numba twins of the C++ network kernels (src/physdl/nn/network.cpp).

Same layouts, same algorithms, same update rules; matrix products go through ``np.dot`` (BLAS)
inside the jitted kernels.  The engine class mirrors the methods of the compiled ``Network64`` /
``Network32`` so that :class:`physdl.nn.Sequential` drives either one.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_JIT = dict(cache=True, fastmath=False)


# ------------------------------------------------------------------ element-wise
@nb.njit(**_JIT)
def _sigm(x):
    return 1.0 / (1.0 + np.exp(-x))


@nb.njit(**_JIT)
def act_forward(kind, nbits, c, x, y):
    m = x.shape[0]
    one = x.dtype.type(1.0)
    zero = x.dtype.type(0.0)
    if kind == 1:
        for i in range(m):
            y[i] = one / (one + np.exp(-x[i]))
    elif kind == 2:
        for i in range(m):
            y[i] = np.tanh(x[i])
    elif kind == 3:
        for i in range(m):
            y[i] = x[i] if x[i] > zero else zero
    elif kind == 4:
        for i in range(m):
            y[i] = one if x[i] > zero else zero
    elif kind == 7:
        for i in range(m):
            y[i] = x[i] * x[i] * x[i]
    elif kind == 8:
        y[:] = x
    elif kind == 6:  # eq. 3.40
        half = x.dtype.type(0.5)
        for i in range(m):
            s = zero
            for u in range(1, nbits + 1):
                s += one / (one + np.exp(-(x[i] + half - x.dtype.type(u))))
            y[i] = s
    elif kind == 5:
        rows = m // c
        for r in range(rows):
            mx = x[r * c]
            for j in range(1, c):
                mx = max(mx, x[r * c + j])
            s = zero
            for j in range(c):
                y[r * c + j] = np.exp(x[r * c + j] - mx)
                s += y[r * c + j]
            inv = one / s
            for j in range(c):
                y[r * c + j] *= inv


@nb.njit(**_JIT)
def act_backward(kind, nbits, c, x, y, dy, dx):
    m = x.shape[0]
    one = x.dtype.type(1.0)
    zero = x.dtype.type(0.0)
    if kind == 1:
        for i in range(m):
            dx[i] = dy[i] * y[i] * (one - y[i])
    elif kind == 2:
        for i in range(m):
            dx[i] = dy[i] * (one - y[i] * y[i])
    elif kind == 3:
        for i in range(m):
            dx[i] = dy[i] if x[i] > zero else zero
    elif kind == 4:
        for i in range(m):
            dx[i] = zero
    elif kind == 7:
        for i in range(m):
            dx[i] = x.dtype.type(3.0) * x[i] * x[i] * dy[i]
    elif kind == 8:
        dx[:] = dy
    elif kind == 6:
        half = x.dtype.type(0.5)
        for i in range(m):
            s = zero
            for u in range(1, nbits + 1):
                sg = one / (one + np.exp(-(x[i] + half - x.dtype.type(u))))
                s += sg * (one - sg)
            dx[i] = dy[i] * s
    elif kind == 5:
        rows = m // c
        for r in range(rows):
            s = zero
            for j in range(c):
                s += dy[r * c + j] * y[r * c + j]
            for j in range(c):
                dx[r * c + j] = y[r * c + j] * (dy[r * c + j] - s)


# ------------------------------------------------------------------ convolution helpers
@nb.njit(**_JIT)
def im2col(x, n, C, H, W, kh, kw, OH, OW, rowidx, colidx, col):
    P = OH * OW
    ld = n * P
    for s in range(n):
        for c in range(C):
            base = (s * C + c) * H * W
            for a in range(kh):
                for b in range(kw):
                    r0 = ((c * kh + a) * kw + b) * ld + s * P
                    for oh in range(OH):
                        i = rowidx[a * OH + oh]
                        for ow in range(OW):
                            j = colidx[b * OW + ow]
                            if i < 0 or j < 0:
                                col[r0 + oh * OW + ow] = 0.0
                            else:
                                col[r0 + oh * OW + ow] = x[base + i * W + j]


@nb.njit(**_JIT)
def col2im(col, n, C, H, W, kh, kw, OH, OW, rowidx, colidx, x):
    P = OH * OW
    ld = n * P
    for s in range(n):
        for c in range(C):
            base = (s * C + c) * H * W
            for a in range(kh):
                for b in range(kw):
                    r0 = ((c * kh + a) * kw + b) * ld + s * P
                    for oh in range(OH):
                        i = rowidx[a * OH + oh]
                        if i < 0:
                            continue
                        for ow in range(OW):
                            j = colidx[b * OW + ow]
                            if j >= 0:
                                x[base + i * W + j] += col[r0 + oh * OW + ow]


def _tables(H, W, kh, kw, sh, sw, ph, pw, OH, OW, periodic):
    a = np.arange(kh)[:, None]
    o = np.arange(OH)[None, :]
    i = o * sh - ph + a
    if periodic:
        i = i % H
    rows = np.where((i >= 0) & (i < H), i, -1).reshape(-1).astype(np.int64)
    b = np.arange(kw)[:, None]
    o = np.arange(OW)[None, :]
    j = o * sw - pw + b
    if periodic:
        j = j % W
    cols = np.where((j >= 0) & (j < W), j, -1).reshape(-1).astype(np.int64)
    return rows, cols


@nb.njit(**_JIT)
def pool_forward(is_max, x, n, C, H, W, kh, kw, sh, sw, OH, OW, y, arg):
    inv = x.dtype.type(1.0 / (kh * kw))
    for sc in range(n * C):
        base = sc * H * W
        for oh in range(OH):
            for ow in range(OW):
                o = sc * OH * OW + oh * OW + ow
                if is_max:
                    best = oh * sh * W + ow * sw
                    for a in range(kh):
                        for b in range(kw):
                            q = (oh * sh + a) * W + ow * sw + b
                            if x[base + q] > x[base + best]:
                                best = q
                    arg[o] = best
                    y[o] = x[base + best]
                else:
                    s = x.dtype.type(0.0)
                    for a in range(kh):
                        for b in range(kw):
                            s += x[base + (oh * sh + a) * W + ow * sw + b]
                    y[o] = s * inv


@nb.njit(**_JIT)
def pool_backward(is_max, dy, n, C, H, W, kh, kw, sh, sw, OH, OW, arg, dx):
    dx[:] = 0.0
    inv = dy.dtype.type(1.0 / (kh * kw))
    for sc in range(n * C):
        base = sc * H * W
        for oh in range(OH):
            for ow in range(OW):
                o = sc * OH * OW + oh * OW + ow
                if is_max:
                    dx[base + arg[o]] += dy[o]
                else:
                    for a in range(kh):
                        for b in range(kw):
                            dx[base + (oh * sh + a) * W + ow * sw + b] += dy[o] * inv


# ------------------------------------------------------------------ recurrent (eq. 4.13-4.35)
@nb.njit(**_JIT)
def recurrent_forward(lstm, xtm, Wx, Wh, b, pre, hs, cs, tcs):
    Tn, n, _ = xtm.shape
    H = Wh.shape[1]
    one = xtm.dtype.type(1.0)
    for t in range(Tn):
        a = np.dot(xtm[t], Wx.T) + b
        if t > 0:
            a += np.dot(hs[t - 1], Wh.T)
        if not lstm:
            hs[t] = np.tanh(a)
            pre[t] = a
            continue
        for s in range(n):
            for j in range(2 * H):
                a[s, j] = one / (one + np.exp(-a[s, j]))
            for j in range(2 * H, 3 * H):
                a[s, j] = np.tanh(a[s, j])
            for j in range(3 * H, 4 * H):
                a[s, j] = one / (one + np.exp(-a[s, j]))
            for j in range(H):
                cprev = cs[t - 1, s, j] if t > 0 else xtm.dtype.type(0.0)
                cs[t, s, j] = a[s, H + j] * cprev + a[s, j] * a[s, 2 * H + j]
                tcs[t, s, j] = np.tanh(cs[t, s, j])
                hs[t, s, j] = a[s, 3 * H + j] * tcs[t, s, j]
        pre[t] = a


@nb.njit(**_JIT)
def recurrent_backward(lstm, dhs, Wh, pre, hs, cs, tcs, dpre):
    # dhs[t, s, :]: gradient arriving at h(t) from the layer output
    Tn, n, H = hs.shape
    one = hs.dtype.type(1.0)
    dhn = np.zeros((n, H), hs.dtype)
    dc = np.zeros((n, H), hs.dtype)
    for t in range(Tn - 1, -1, -1):
        dh = dhn + dhs[t]
        if not lstm:
            dpre[t] = dh * (one - hs[t] * hs[t])
        else:
            for s in range(n):
                for j in range(H):
                    ig = pre[t, s, j]
                    fg = pre[t, s, H + j]
                    gg = pre[t, s, 2 * H + j]
                    og = pre[t, s, 3 * H + j]
                    tc = tcs[t, s, j]
                    dcq = dc[s, j] + dh[s, j] * og * (one - tc * tc)
                    cprev = cs[t - 1, s, j] if t > 0 else hs.dtype.type(0.0)
                    dpre[t, s, j] = dcq * gg * ig * (one - ig)
                    dpre[t, s, H + j] = dcq * cprev * fg * (one - fg)
                    dpre[t, s, 2 * H + j] = dcq * ig * (one - gg * gg)
                    dpre[t, s, 3 * H + j] = dh[s, j] * tc * og * (one - og)
                    dc[s, j] = dcq * fg
        if t > 0:
            dhn = np.dot(dpre[t], Wh)


# ------------------------------------------------------------------ attention
@nb.njit(**_JIT)
def attention_forward(qkv, dk, dv, scale, A, y):
    n = qkv.shape[0]
    for s in range(n):
        Q = np.ascontiguousarray(qkv[s, :, :dk])
        K = np.ascontiguousarray(qkv[s, :, dk:2 * dk])
        V = np.ascontiguousarray(qkv[s, :, 2 * dk:])
        S = np.dot(Q, K.T) * scale
        Tn = S.shape[0]
        for r in range(Tn):
            mx = S[r].max()
            e = np.exp(S[r] - mx)
            A[s, r] = e / e.sum()
        y[s] = np.dot(A[s], V)


@nb.njit(**_JIT)
def attention_backward(qkv, dk, dv, scale, A, dy, dqkv):
    n = qkv.shape[0]
    for s in range(n):
        Q = np.ascontiguousarray(qkv[s, :, :dk])
        K = np.ascontiguousarray(qkv[s, :, dk:2 * dk])
        V = np.ascontiguousarray(qkv[s, :, 2 * dk:])
        dO = np.ascontiguousarray(dy[s])
        As = np.ascontiguousarray(A[s])
        dA = np.dot(dO, V.T)
        dqkv[s, :, 2 * dk:] = np.dot(As.T, dO)
        dS = As * (dA - (dA * As).sum(axis=1).reshape(-1, 1))
        dqkv[s, :, :dk] = np.dot(dS, K) * scale
        dqkv[s, :, dk:2 * dk] = np.dot(dS.T, Q) * scale


# ------------------------------------------------------------------ losses
@nb.njit(**_JIT)
def loss_values(code, y, t, d):
    m = y.shape[0]
    L = 0.0
    if code == 0:
        sc = y.dtype.type(2.0 / m)
        for i in range(m):
            e = y[i] - t[i]
            L += float(e) * float(e)
            d[i] = sc * e
    elif code == 1:
        inv = y.dtype.type(1.0 / m)
        for i in range(m):
            p = y[i]
            lp = max(math.log(float(p)) if p > 0 else -np.inf, -100.0)
            l1p = max(math.log1p(-float(p)) if p < 1 else -np.inf, -100.0)
            L -= float(t[i]) * lp + (1.0 - float(t[i])) * l1p
            d[i] = inv * (p - t[i]) / max((y.dtype.type(1.0) - p) * p, y.dtype.type(1e-12))
    else:
        inv = y.dtype.type(1.0 / m)
        for i in range(m):
            z = y[i]
            L += float(max(z, y.dtype.type(0.0)) - z * t[i] + np.log1p(np.exp(-abs(z))))
            d[i] = inv * (y.dtype.type(1.0) / (y.dtype.type(1.0) + np.exp(-z)) - t[i])
    return L / m


@nb.njit(**_JIT)
def loss_labels(y, c, lab, d):
    rows = lab.shape[0]
    valid = 0
    for r in range(rows):
        if lab[r] != -100:
            valid += 1
    inv = y.dtype.type(1.0 / valid)
    L = 0.0
    for r in range(rows):
        if lab[r] == -100:
            d[r * c:(r + 1) * c] = 0.0
            continue
        mx = y[r * c]
        for j in range(1, c):
            mx = max(mx, y[r * c + j])
        s = y.dtype.type(0.0)
        for j in range(c):
            d[r * c + j] = np.exp(y[r * c + j] - mx)
            s += d[r * c + j]
        L += float(np.log(s) + mx - y[r * c + lab[r]])
        is_ = y.dtype.type(1.0) / s
        for j in range(c):
            d[r * c + j] *= is_ * inv
        d[r * c + lab[r]] -= inv
    return L / valid


# ------------------------------------------------------------------ optimizer
@nb.njit(**_JIT)
def optimizer_step(kind, t, lr, momentum, beta1, beta2, eps, wd, clip, nesterov, p, g, m, v):
    ss = 0.0
    for i in range(p.shape[0]):
        ss += float(g[i]) * float(g[i])
    norm = math.sqrt(ss)
    if clip > 0.0:
        coef = clip / (norm + 1e-6)
        if coef < 1.0:
            c = g.dtype.type(coef)
            for i in range(p.shape[0]):
                g[i] *= c
    if wd != 0.0:
        w = g.dtype.type(wd)
        for i in range(p.shape[0]):
            g[i] += w * p[i]
    lrT = g.dtype.type(lr)
    if kind == 0:
        if momentum == 0.0:
            for i in range(p.shape[0]):
                p[i] -= lrT * g[i]
        else:
            mu = g.dtype.type(momentum)
            for i in range(p.shape[0]):
                m[i] = g[i] if t == 1 else mu * m[i] + g[i]
                p[i] -= lrT * (g[i] + mu * m[i]) if nesterov else lrT * m[i]
    else:
        b2 = g.dtype.type(beta2)
        omb1 = g.dtype.type(1.0 - beta1)
        omb2 = g.dtype.type(1.0 - beta2)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t
        step = g.dtype.type(lr / bc1)
        bc2s = g.dtype.type(math.sqrt(bc2))
        e = g.dtype.type(eps)
        for i in range(p.shape[0]):
            m[i] += omb1 * (g[i] - m[i])
            v[i] = b2 * v[i] + omb2 * g[i] * g[i]
            p[i] -= step * m[i] / (np.sqrt(v[i]) / bc2s + e)
    return norm


class _Optimizer:
    def __init__(self, kind, lr, momentum, beta1, beta2, eps, weight_decay, clip_norm, nesterov, nparams, dtype):
        self.h = (int(kind), float(lr), float(momentum), float(beta1), float(beta2), float(eps),
                  float(weight_decay), float(clip_norm), bool(nesterov))
        self.steps = 0
        self._m = np.zeros(nparams, dtype)
        self._v = np.zeros(nparams if kind == 1 else 0, dtype)

    def set_lr(self, lr):
        h = list(self.h)
        h[1] = float(lr)
        self.h = tuple(h)

    def m(self):
        return self._m

    def v(self):
        return self._v

    def step(self, params, grads):
        self.steps += 1
        k, lr, mom, b1, b2, eps, wd, clip, nest = self.h
        return optimizer_step(k, self.steps, lr, mom, b1, b2, eps, wd, clip, nest, params, grads, self._m, self._v)


def optimizer_class(dtype):
    dt = np.dtype(dtype)

    def make(*args):
        return _Optimizer(*args, dt)

    return make


# ------------------------------------------------------------------ layers
def _prod(s):
    return int(math.prod(s))


class _L:
    np = 0

    def __init__(self, kind, s, ishape):
        self.kind, self.s, self.in_shape = kind, list(s), tuple(ishape)


class _Dense(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.nin, self.nout = s
        self.out_shape = ishape[:-1] + (self.nout,)
        self.np = self.nout * self.nin + self.nout

    def forward(self, x, n, p):
        W = p[: self.nout * self.nin].reshape(self.nout, self.nin)
        return (np.dot(x.reshape(-1, self.nin), W.T) + p[self.nout * self.nin:]).reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        x2, d2 = x.reshape(-1, self.nin), dy.reshape(-1, self.nout)
        k = self.nout * self.nin
        g[:k] = np.dot(d2.T, x2).reshape(-1)
        g[k:] = d2.sum(axis=0)
        if need_dx:
            return np.dot(d2, p[:k].reshape(self.nout, self.nin)).reshape(-1)
        return None


class _Act(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.nbits = s[0] if kind == 6 else 1
        self.out_shape = (_prod(ishape),) if kind == 8 else tuple(ishape)
        self.c = ishape[-1] if ishape else 1

    def forward(self, x, n, p):
        y = np.empty_like(x)
        act_forward(self.kind, self.nbits, self.c, x, y)
        return y

    def backward(self, x, y, dy, n, p, g, need_dx):
        if not need_dx:
            return None
        dx = np.empty_like(x)
        act_backward(self.kind, self.nbits, self.c, x, y, dy, dx)
        return dx


class _Conv(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.cin, self.cout, kh, kw, sh, sw, ph, pw = s[:8]
        if kind == 10:
            C, H, W = ishape
            OH, OW = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            self.geo = (C, H, W, kh, kw, OH, OW)
            self.tab = _tables(H, W, kh, kw, sh, sw, ph, pw, OH, OW, s[8] != 0)
            self.out_shape = (self.cout, OH, OW)
            self.np = self.cout * C * kh * kw + self.cout
        else:
            _, h, w = ishape
            OH, OW = (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
            self.geo = (self.cout, OH, OW, kh, kw, h, w)
            self.tab = _tables(OH, OW, kh, kw, sh, sw, ph, pw, h, w, False)
            self.out_shape = (self.cout, OH, OW)
            self.np = self.cin * self.cout * kh * kw + self.cout
        C, H, W, kh, kw, OH, OW = self.geo
        self.K, self.P = C * kh * kw, OH * OW

    def _im2col(self, x, n):
        col = np.empty(self.K * n * self.P, x.dtype)
        im2col(x, n, *self.geo, *self.tab, col)
        return col.reshape(self.K, n * self.P)

    def _col2im(self, col, n, size, dtype):
        out = np.zeros(n * size, dtype)
        col2im(col.reshape(-1), n, *self.geo, *self.tab, out)
        return out

    def forward(self, x, n, p):
        K, P = self.K, self.P
        if self.kind == 10:
            self.col = self._im2col(x, n)
            W = p[: self.cout * K].reshape(self.cout, K)
            yt = np.dot(W, self.col).reshape(self.cout, n, P).transpose(1, 0, 2)
            return (yt + p[self.cout * K:].reshape(1, -1, 1)).reshape(-1)
        W = p[: self.cin * K].reshape(self.cin, K)
        self.xt = np.ascontiguousarray(x.reshape(n, self.cin, P).transpose(1, 0, 2)).reshape(self.cin, n * P)
        col = np.dot(W.T, self.xt)
        y = self._col2im(col, n, _prod(self.out_shape), x.dtype).reshape(n, self.cout, -1)
        return (y + p[self.cin * K:].reshape(1, -1, 1)).reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        K, P = self.K, self.P
        if self.kind == 10:
            dyt = np.ascontiguousarray(dy.reshape(n, self.cout, P).transpose(1, 0, 2)).reshape(self.cout, n * P)
            k = self.cout * K
            g[:k] = np.dot(dyt, self.col.T).reshape(-1)
            g[k:] = dyt.sum(axis=1)
            if not need_dx:
                return None
            dcol = np.dot(p[:k].reshape(self.cout, K).T, dyt)
            return self._col2im(dcol, n, _prod(self.in_shape), x.dtype)
        col = self._im2col(dy, n)
        k = self.cin * K
        g[:k] = np.dot(self.xt, col.T).reshape(-1)
        g[k:] = dy.reshape(n, self.cout, -1).sum(axis=(0, 2))
        if not need_dx:
            return None
        dxt = np.dot(p[:k].reshape(self.cin, K), col)
        return np.ascontiguousarray(dxt.reshape(self.cin, n, P).transpose(1, 0, 2)).reshape(-1)


class _Pool(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        C, H, W = ishape
        kh, kw, sh, sw = s
        OH, OW = (H - kh) // sh + 1, (W - kw) // sw + 1
        self.geo = (C, H, W, kh, kw, sh, sw, OH, OW)
        self.out_shape = (C, OH, OW)

    def forward(self, x, n, p):
        y = np.empty(n * _prod(self.out_shape), x.dtype)
        self.arg = np.empty(y.shape[0], np.int64)
        pool_forward(self.kind == 12, x, n, *self.geo, y, self.arg)
        return y

    def backward(self, x, y, dy, n, p, g, need_dx):
        if not need_dx:
            return None
        dx = np.empty(n * _prod(self.in_shape), dy.dtype)
        pool_backward(self.kind == 12, dy, n, *self.geo, self.arg, dx)
        return dx


class _Recurrent(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.I, self.H, self.ret = s[0], s[1], bool(s[2])
        self.T = ishape[0]
        self.G = 4 * self.H if kind == 21 else self.H
        self.out_shape = (self.T, self.H) if self.ret else (self.H,)
        self.np = self.G * self.I + self.G * self.H + self.G

    def _w(self, p):
        G, I, H = self.G, self.I, self.H
        return p[: G * I].reshape(G, I), p[G * I: G * I + G * H].reshape(G, H), p[G * I + G * H:]

    def forward(self, x, n, p):
        Wx, Wh, b = self._w(p)
        T, H = self.T, self.H
        self.xtm = np.ascontiguousarray(x.reshape(n, T, self.I).transpose(1, 0, 2))
        self.pre = np.empty((T, n, self.G), x.dtype)
        self.hs = np.empty((T, n, H), x.dtype)
        self.cs = np.empty((T, n, H), x.dtype)
        self.tcs = np.empty((T, n, H), x.dtype)
        recurrent_forward(self.kind == 21, self.xtm, Wx, Wh, b, self.pre, self.hs, self.cs, self.tcs)
        if self.ret:
            return np.ascontiguousarray(self.hs.transpose(1, 0, 2)).reshape(-1)
        return self.hs[T - 1].reshape(-1).copy()

    def backward(self, x, y, dy, n, p, g, need_dx):
        Wx, Wh, b = self._w(p)
        T, H, G, I = self.T, self.H, self.G, self.I
        if self.ret:
            dhs = np.ascontiguousarray(dy.reshape(n, T, H).transpose(1, 0, 2))
        else:
            dhs = np.zeros((T, n, H), dy.dtype)
            dhs[T - 1] = dy.reshape(n, H)
        dpre = np.empty((T, n, G), dy.dtype)
        recurrent_backward(self.kind == 21, dhs, Wh, self.pre, self.hs, self.cs, self.tcs, dpre)
        d2 = dpre.reshape(T * n, G)
        g[: G * I] = np.dot(d2.T, self.xtm.reshape(T * n, I)).reshape(-1)
        if T > 1:
            g[G * I: G * I + G * H] = np.dot(d2[n:].T, self.hs[:-1].reshape(-1, H)).reshape(-1)
        else:
            g[G * I: G * I + G * H] = 0.0
        g[G * I + G * H:] = d2.sum(axis=0)
        if not need_dx:
            return None
        dxtm = np.dot(d2, Wx).reshape(T, n, I)
        return np.ascontiguousarray(dxtm.transpose(1, 0, 2)).reshape(-1)


class _Attention(_L):
    def __init__(self, kind, s, ishape):
        super().__init__(kind, s, ishape)
        self.D, self.dk, self.dv = s
        self.T = ishape[0]
        self.E = 2 * self.dk + self.dv
        self.out_shape = (self.T, self.dv)
        self.np = self.E * self.D
        self.scale = 1.0 / math.sqrt(self.dk)

    def forward(self, x, n, p):
        W = p.reshape(self.E, self.D)
        self.qkv = np.dot(x.reshape(-1, self.D), W.T).reshape(n, self.T, self.E)
        self.A = np.empty((n, self.T, self.T), x.dtype)
        y = np.empty((n, self.T, self.dv), x.dtype)
        attention_forward(self.qkv, self.dk, self.dv, x.dtype.type(self.scale), self.A, y)
        return y.reshape(-1)

    def backward(self, x, y, dy, n, p, g, need_dx):
        dqkv = np.empty_like(self.qkv)
        attention_backward(self.qkv, self.dk, self.dv, dy.dtype.type(self.scale), self.A,
                           dy.reshape(n, self.T, self.dv), dqkv)
        d2 = dqkv.reshape(-1, self.E)
        g[:] = np.dot(d2.T, x.reshape(-1, self.D)).reshape(-1)
        if not need_dx:
            return None
        return np.dot(d2, p.reshape(self.E, self.D)).reshape(-1)


_KINDS = {0: _Dense, 1: _Act, 2: _Act, 3: _Act, 4: _Act, 5: _Act, 6: _Act, 7: _Act, 8: _Act,
          10: _Conv, 11: _Conv, 12: _Pool, 13: _Pool, 20: _Recurrent, 21: _Recurrent, 22: _Attention}


class Network:
    """The Numba engine: same interface as ``physdl._core.nn.Network64``."""

    def __init__(self, kinds, settings, input_shape, dtype, max_batch=64):
        self.dtype = np.dtype(dtype)
        shape = tuple(input_shape)
        self.in_shape = shape
        self.layers, self.offsets = [], []
        off = 0
        for k, s in zip(kinds, settings):
            layer = _KINDS[k](k, s, shape)
            self.layers.append(layer)
            self.offsets.append(off)
            off += layer.np
            shape = tuple(layer.out_shape)
        self.out_shape = shape
        self.num_params = off
        self._p = np.zeros(off, self.dtype)
        self._g = np.zeros(off, self.dtype)
        self.in_size = _prod(self.in_shape)

    @property
    def output_shape(self):
        return list(self.out_shape)

    def param_offset(self, i):
        return self.offsets[i]

    def param_count(self, i):
        return self.layers[i].np

    def params(self):
        return self._p

    def grads(self):
        return self._g

    def _forward(self, x):
        n = x.shape[0]
        h = x.reshape(-1)
        self.acts = [h]
        for layer, o in zip(self.layers, self.offsets):
            h = layer.forward(h, n, self._p[o:o + layer.np])
            self.acts.append(h)
        return h

    def forward(self, x, out):
        out.reshape(-1)[:] = self._forward(x)

    def _backward(self, d, n, input_grad):
        for i in range(len(self.layers) - 1, -1, -1):
            layer, o = self.layers[i], self.offsets[i]
            d = layer.backward(self.acts[i], self.acts[i + 1], d, n, self._p[o:o + layer.np],
                               self._g[o:o + layer.np], i > 0 or input_grad)
        return d

    def _loss(self, x, code, t, lab):
        y = self._forward(x)
        d = np.empty_like(y)
        if code == 3:
            L = loss_labels(y, self.out_shape[-1], lab.reshape(-1), d)
        else:
            L = loss_values(code, y, t.reshape(-1), d)
        return L, d

    def gradients_values(self, x, t, code, input_grad, dx):
        L, d = self._loss(x, code, t, None)
        g = self._backward(d, x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g
        return L

    def gradients_labels(self, x, lab, input_grad, dx):
        L, d = self._loss(x, 3, None, lab)
        g = self._backward(d, x.shape[0], input_grad)
        if input_grad:
            dx.reshape(-1)[:] = g
        return L

    def train_values(self, x, t, code, opt):
        L, d = self._loss(x, code, t, None)
        self._backward(d, x.shape[0], False)
        opt.step(self._p, self._g)
        return L

    def train_labels(self, x, lab, opt):
        L, d = self._loss(x, 3, None, lab)
        self._backward(d, x.shape[0], False)
        opt.step(self._p, self._g)
        return L
