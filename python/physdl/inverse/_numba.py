"""Numba twins of the C++ solvers in ``src/physdl/inverse/lasso.cpp``.

Same objective, same duality-gap stopping test (gap of the unscaled objective <= tol * ||y||^2) and
the same FISTA / ADMM / sparse-modelling iterations.  The coordinate-descent twin is the plain cyclic
form with gap-safe screening over all features (no working sets, Gram cache or extrapolation), so
it reaches the same solution to the requested gap by a slower route.

Each solver runs as a loop of kernel calls of a bounded number of passes (about
:data:`physdl._interrupt.PIECE_SECONDS` each) carrying its state, so Ctrl-C is seen between two
calls; the result is bit for bit that of one unbroken loop, whatever the cut (``first`` fixes the
passes per call, for tests).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from .. import _interrupt


@njit(cache=True, inline="always")
def _soft(z, t, positive):
    if positive:
        return z - t if z > t else 0.0
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


@njit(cache=True)
def _gap(xt, y, b, r, c, lam, positive):
    """Unscaled duality gap; fills r = y - X b and c = X^T r."""
    p, n = xt.shape
    r[:] = y
    for j in range(p):
        if b[j] != 0.0:
            r -= b[j] * xt[j]
    c[:] = xt @ r
    cmax = 0.0
    l1 = 0.0
    for j in range(p):
        v = c[j] if positive else abs(c[j])
        cmax = max(cmax, v)
        l1 += abs(b[j])
    rr = r @ r
    ry = r @ y
    s = max(lam, cmax)
    t = lam / s
    return 0.5 * rr + lam * l1 - (t * ry - 0.5 * t * t * rr), cmax


# ---------------------------------------------------------------------------------------------
# Interrupt safety: a Numba call cannot see Ctrl-C, so every solver runs as a Python loop over
# kernel calls of a bounded number of passes (about PIECE_SECONDS each, the count adapted to the
# measured rate).  A piece takes the solver state (coefficients, auxiliary vectors, counters) and
# returns it advanced; the loop inside a piece is the loop of an unbroken solve, so the result
# does not depend on how the passes are cut (tests compare cuts bit for bit).  A KeyboardInterrupt
# is raised between two pieces; the state lives in the caller's private arrays.  Every kernel call
# runs with SIGINT held back (deferred_sigint): a Python handler run from inside a Numba LAPACK
# wrapper would leave an exception set under a returned result (SystemError).

_RATE: dict = {}  # (solver, shape) -> passes per second in the last piece


def _drive(key, step, first=None):
    """Call ``step(k)`` (k passes; True when the solve has finished) until it finishes.

    ``first`` given (tests): every piece has that many passes.  Otherwise the first piece has as many
    passes as the rate measured last time on the same solver and shape fits in a piece (1 the first
    time), and the following ones adapt to the measured rate."""
    target = _interrupt.PIECE_SECONDS
    rate = _RATE.get(key)
    if first is not None:
        k = max(1, int(first))
    else:
        k = 1 if rate is None else max(1, int(rate * target))
    if len(_RATE) > 1024:
        _RATE.clear()
    while True:
        t0 = time.perf_counter()
        with _interrupt.deferred_sigint():
            done = step(k)
        dt = time.perf_counter() - t0
        if done:
            return
        if first is not None:
            continue
        rate = k / max(dt, 1e-7)
        _RATE[key] = rate
        # grow at most 4x at a time (the first piece may include compilation or a cold cache)
        k = int(min(4 * k, max(1, rate * target)))


@njit(cache=True)
def _cd_setup(xt, b, positive):
    p = xt.shape[0]
    norms2 = np.empty(p)
    for j in range(p):
        norms2[j] = xt[j] @ xt[j]
        if positive and b[j] < 0:
            b[j] = 0.0
    return norms2


@njit(cache=True)
def _cd_piece(xt, y, lam, b, tol_abs, max_iter, positive, norms2, r, c, active, it, npass):
    """Up to ``npass`` rounds (gap, screening, five epochs); returns (done, it, gap)."""
    p, n = xt.shape
    for _ in range(npass):
        gap, cmax = _gap(xt, y, b, r, c, lam, positive)
        if gap <= tol_abs or it >= max_iter:
            return True, it, gap
        s = max(lam, cmax)
        radius = np.sqrt(2.0 * max(gap, 0.0)) / lam
        for j in range(p):  # gap-safe screening
            v = c[j] if positive else abs(c[j])
            if active[j] and v / s + radius * np.sqrt(norms2[j]) < 1.0:
                active[j] = False
                if b[j] != 0.0:
                    r += b[j] * xt[j]
                    b[j] = 0.0
        for _ in range(5):
            for j in range(p):
                if not active[j] or norms2[j] == 0.0:
                    continue
                old = b[j]
                z = xt[j] @ r + norms2[j] * old
                nb = _soft(z, lam, positive) / norms2[j]
                if nb != old:
                    b[j] = nb
                    r -= (nb - old) * xt[j]
            it += 1
    return False, it, 0.0


def lasso_cd(xt, y, alpha, b, tol, max_iter, positive, first=None):
    """Cyclic coordinate descent with gap-safe screening, in place on ``b``; returns (n_iter, gap)."""
    p, n = xt.shape
    lam = alpha * n
    tol_abs = tol * float(y @ y)
    with _interrupt.deferred_sigint():
        norms2 = _cd_setup(xt, b, positive)
    r = np.empty(n)
    c = np.empty(p)
    active = np.ones(p, dtype=np.bool_)
    st = [0, 0.0]

    def step(k):
        done, st[0], st[1] = _cd_piece(xt, y, lam, b, tol_abs, max_iter, positive, norms2, r, c, active, st[0], k)
        return done

    _drive(("cd", xt.shape), step, first)
    return st[0], st[1] / n


@njit(cache=True)
def _cd_path_piece(xt, y, alphas, tol_abs, max_iter, positive, norms2, b, r, c, active, coefs, gaps, iters, a, it,
                   npass):
    """Up to ``npass`` rounds along the path, from alpha number ``a`` (``it`` epochs done there); each
    alpha warm-starts from the last and screens afresh.  Returns (a, it)."""
    n = xt.shape[1]
    k = alphas.shape[0]
    used = 0
    while a < k and used < npass:
        fin, it, gap = _cd_piece(xt, y, alphas[a] * n, b, tol_abs, max_iter, positive, norms2, r, c, active, it, 1)
        used += 1
        if fin:
            coefs[a] = b
            gaps[a] = gap / n
            iters[a] = it
            a += 1
            it = 0
            active[:] = True
    return a, it


def lasso_path_cd(xt, y, alphas, tol, max_iter, positive, first=None):
    p, n = xt.shape
    k = alphas.shape[0]
    coefs = np.zeros((k, p))
    gaps = np.zeros(k)
    iters = np.zeros(k, dtype=np.int64)
    b = np.zeros(p)
    tol_abs = tol * float(y @ y)
    with _interrupt.deferred_sigint():
        norms2 = _cd_setup(xt, b, positive)
    r = np.empty(n)
    c = np.empty(p)
    active = np.ones(p, dtype=np.bool_)
    st = [0, 0]

    def step(kk):
        st[0], st[1] = _cd_path_piece(xt, y, alphas, tol_abs, max_iter, positive, norms2, b, r, c, active, coefs,
                                      gaps, iters, st[0], st[1], kk)
        return st[0] == k

    _drive(("cd_path", xt.shape), step, first)
    return coefs, gaps, iters


@njit(cache=True)
def _gram_gap(xty, yty, b, q, lam, positive):
    p = b.shape[0]
    bx = 0.0
    bq = 0.0
    l1 = 0.0
    cmax = 0.0
    for j in range(p):
        bx += b[j] * xty[j]
        bq += b[j] * q[j]
        l1 += abs(b[j])
        c = xty[j] - q[j]
        cmax = max(cmax, c if positive else abs(c))
    rr = max(yty - 2.0 * bx + bq, 0.0)
    s = max(lam, cmax)
    t = lam / s
    return 0.5 * rr + lam * l1 - (t * (yty - bx) - 0.5 * t * t * rr)



@njit(cache=True)
def _gram_piece(gram, xty, yty, lam, b, q, tol_abs, max_iter, positive, it, gap, npass):
    """Up to ``npass`` cyclic passes over all features; returns (it, gap)."""
    p = xty.shape[0]
    k = 0
    while gap > tol_abs and it < max_iter and k < npass:
        for j in range(p):
            gjj = gram[j, j]
            if gjj <= 0.0:
                continue
            old = b[j]
            nb = _soft(xty[j] - q[j] + gjj * old, lam, positive) / gjj
            d = nb - old
            if d != 0.0:
                b[j] = nb
                q += d * gram[j]
        it += 1
        k += 1
        gap = _gram_gap(xty, yty, b, q, lam, positive)
    return it, gap


@njit(cache=True)
def _gram_path_piece(gram, xty, yty, n, alphas, tol_abs, max_iter, positive, b, q, coefs, gaps, iters, a, it, gap,
                     npass):
    """Up to ``npass`` passes (or moves to the next alpha) along the path from alpha number ``a``, whose
    ``it`` passes so far left duality gap ``gap``.  Returns (a, it, gap)."""
    k = alphas.shape[0]
    used = 0
    while a < k and used < npass:
        used += 1
        if gap > tol_abs and it < max_iter:
            it, gap = _gram_piece(gram, xty, yty, alphas[a] * n, b, q, tol_abs, max_iter, positive, it, gap, 1)
            continue
        coefs[a] = b
        gaps[a] = gap / n
        iters[a] = it
        a += 1
        it = 0
        if a < k:
            gap = _gram_gap(xty, yty, b, q, alphas[a] * n, positive)
    return a, it, gap


def lasso_path_gram(gram, xty, yty, n, alphas, tol, max_iter, positive, first=None):
    """Twin of lasso_path_gram: coordinate descent on G = X^T X with q = G b kept up to date (plain cyclic
    passes over all features, no active set)."""
    p = xty.shape[0]
    k = alphas.shape[0]
    coefs = np.zeros((k, p))
    gaps = np.zeros(k)
    iters = np.zeros(k, dtype=np.int64)
    b = np.zeros(p)
    q = np.zeros(p)
    tol_abs = tol * yty
    with _interrupt.deferred_sigint():
        st = [0, 0, _gram_gap(xty, yty, b, q, alphas[0] * n, positive)]

    def step(kk):
        st[0], st[1], st[2] = _gram_path_piece(gram, xty, yty, n, alphas, tol_abs, max_iter, positive, b, q, coefs,
                                               gaps, iters, st[0], st[1], st[2], kk)
        return st[0] == k

    _drive(("gram_path", gram.shape), step, first)
    return coefs, gaps, iters



def lasso_cv_gram(x, y, bounds, alphas, fit_intercept, tol, max_iter, positive):
    """Twin of the C++ lasso_cv_gram: the held-out blocks' Gram matrices by NumPy, the training Grams as
    their sum less the block's, centred by rank-one corrections, each fold's path by the Numba Gram
    kernel (in pieces), the held-out errors by predicting the held-out rows directly, and a cold-started
    refit at the chosen alpha on the whole centred Gram matrix.  Returns (mse, coef, best, gap, n_iter)."""
    from .lasso import _gram  # X^T X by blocks of rows (Ctrl-C between them)

    n, p = x.shape
    nf = len(bounds) - 1
    mu = x.mean(axis=0) if fit_intercept else np.zeros(p)
    ymu = float(y.mean()) if fit_intercept else 0.0
    keep = (nf + 2) * p * p * 8 <= 2**30  # keep the blocks' Grams, else compute them again per fold (as C++)
    blocks = []
    gall = np.zeros((p, p))
    for f in range(nf):
        z = x[bounds[f]:bounds[f + 1]] - mu
        yf = y[bounds[f]:bounds[f + 1]] - ymu
        t = _gram(z)
        gall += t
        blocks.append((t if keep else None, z.T @ yf, z.sum(axis=0), float(yf.sum()), float(yf @ yf)))
    call = sum(b[1] for b in blocks)
    sall = sum(b[2] for b in blocks)
    syall = sum(b[3] for b in blocks)
    yyall = sum(b[4] for b in blocks)
    mse = np.empty((len(alphas), nf))
    mean = np.zeros((len(alphas), p))

    def centred(g, c, s, sy, yy, m):
        if fit_intercept:
            g = g - np.outer(s, s) / m
            c = c - s * (sy / m)
            yy = yy - sy * sy / m
        return g, c, max(yy, 0.0)

    for f in range(nf):
        t, c, s, sy, yy = blocks[f]
        if t is None:
            t = _gram(x[bounds[f]:bounds[f + 1]] - mu)
        m = n - (bounds[f + 1] - bounds[f])
        g, xty, yty = centred(gall - t, call - c, sall - s, syall - sy, yyall - yy, m)
        coefs, _, _ = lasso_path_gram(g, xty, yty, m, alphas, tol, max_iter, positive)
        b0 = ((syall - sy) - coefs @ (sall - s)) / m if fit_intercept else np.zeros(len(alphas))
        z = x[bounds[f]:bounds[f + 1]] - mu
        res = (y[bounds[f]:bounds[f + 1]] - ymu)[:, None] - z @ coefs.T - b0
        mse[:, f] = np.mean(res * res, axis=0)
        mean += coefs / nf
    best = int(np.argmin(mse.mean(axis=1)))
    g, xty, yty = centred(gall, call, sall, syall, yyall, n)
    coefs, gaps, iters = lasso_path_gram(g, xty, yty, n, alphas[best:best + 1], tol, max_iter, positive)
    return mse, coefs[0], best, float(gaps[0]), int(iters[0])

@njit(cache=True)
def _top_eigenvalue(xt):
    p, n = xt.shape
    v = np.empty(p)
    for j in range(p):
        v[j] = 1.0 + 0.01 * (j % 7)
    lam = 0.0
    for it in range(300):
        nv = np.sqrt(v @ v)
        if nv == 0.0:
            return 0.0
        v /= nv
        w = xt @ (xt.T @ v)
        nl = v @ w
        v = w
        if it > 5 and abs(nl - lam) <= 1e-10 * nl:
            return nl
        lam = nl
    return lam



@njit(cache=True)
def _fista_piece(xt, y, alpha, lam, L, b, z, bn, r, c, t, it, gap, tol_abs, max_iter, positive, npass):
    """Up to ``npass`` FISTA iterations; returns (t, it, gap)."""
    p, n = xt.shape
    k = 0
    while gap > tol_abs and it < max_iter and k < npass:
        rz = y - xt.T @ z
        cz = xt @ rz
        restart = 0.0
        for j in range(p):
            bn[j] = _soft(z[j] + cz[j] / (n * L), alpha / L, positive)
            restart += (z[j] - bn[j]) * (bn[j] - b[j])
        tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        if restart > 0.0:
            t = 1.0
            z[:] = bn
        else:
            m = (t - 1.0) / tn
            z[:] = bn + m * (bn - b)
            t = tn
        b[:] = bn
        it += 1
        k += 1
        if it % 10 == 0 or it == max_iter:
            gap, _ = _gap(xt, y, b, r, c, lam, positive)
    return t, it, gap


def lasso_fista(xt, y, alpha, b, tol, max_iter, positive, lipschitz, first=None):
    p, n = xt.shape
    lam = alpha * n
    with _interrupt.deferred_sigint():
        L = lipschitz if lipschitz > 0 else 1.01 * _top_eigenvalue(xt) / n
    if positive:
        b[b < 0] = 0.0
    r = np.empty(n)
    c = np.empty(p)
    tol_abs = tol * float(y @ y)
    with _interrupt.deferred_sigint():
        if L <= 0.0:
            b[:] = 0.0
        gap, _ = _gap(xt, y, b, r, c, lam, positive)
    if L <= 0.0:
        return 0, gap / n
    z = b.copy()
    bn = np.empty(p)
    st = [1.0, 0, gap]

    def step(k):
        st[0], st[1], st[2] = _fista_piece(xt, y, alpha, lam, L, b, z, bn, r, c, st[0], st[1], st[2], tol_abs,
                                           max_iter, positive, k)
        return not (st[2] > tol_abs and st[1] < max_iter)

    if gap > tol_abs:
        _drive(("fista", xt.shape), step, first)
    return st[1], st[2] / n


@njit(cache=True)
def _admm_setup(xt, y, b, positive, rho):
    p, n = xt.shape
    if rho <= 0.0:
        rho = 0.0
        for j in range(p):
            rho += xt[j] @ xt[j]
        rho = rho / p / n
        if rho <= 0.0:
            rho = 1.0
    xty = xt @ y
    z = b.copy()
    for j in range(p):
        if positive and z[j] < 0:
            z[j] = 0.0
    return rho, xty, z


GRAM_ROWS = 64  # rows of X^T X (or X X^T) per product of the ADMM setup: the unit of its pieces


def _admm_gram(xt, rho, first=None):
    """The lower triangle of X^T X + n rho I (p <= n) or X X^T + n rho I (p > n), all the Cholesky
    factorisation reads (the upper triangle is 0), by products of GRAM_ROWS rows at a time (block i
    against blocks 0..i) run in pieces of about PIECE_SECONDS: one product over a large X would hold
    off Ctrl-C for seconds.  The blocks are fixed, so the matrix does not depend on how the pieces
    cut them."""
    p, n = xt.shape
    primal = p <= n
    d = p if primal else n
    m = np.zeros((d, d))
    nblk = -(-d // GRAM_ROWS)
    done = [0]

    def step(k):
        # at most k blocks, and none started after PIECE_SECONDS (block i costs i + 1 units, so the
        # rate of the early blocks would over-estimate the later ones)
        t0 = time.perf_counter()
        stop = min(nblk, done[0] + k)
        while done[0] < stop and time.perf_counter() - t0 < _interrupt.PIECE_SECONDS:
            i0, i1 = done[0] * GRAM_ROWS, min(d, (done[0] + 1) * GRAM_ROWS)
            if primal:
                m[i0:i1, :i1] = xt[i0:i1] @ xt[:i1].T
            else:
                m[i0:i1, :i1] = xt[:, i0:i1].T @ xt[:, :i1]
            done[0] += 1
        return done[0] == nblk

    _drive(("admm_gram", xt.shape), step, first)
    m[np.diag_indices(d)] += n * rho
    return m


@njit(cache=True)
def _cholesky_piece(a, j0, npass):
    """Columns j0 .. j0 + npass of the in-place lower Cholesky factor of a (the C++ loop; the upper
    triangle is left as it was).  Returns the next column."""
    d = a.shape[0]
    j1 = min(d, j0 + npass)
    for j in range(j0, j1):
        s = a[j, j]
        for q in range(j):
            s -= a[j, q] * a[j, q]
        ljj = np.sqrt(s)  # s > 0: a Gram matrix plus n rho I
        a[j, j] = ljj
        for i in range(j + 1, d):
            t = a[i, j]
            for q in range(j):
                t -= a[i, q] * a[j, q]
            a[i, j] = t / ljj
    return j1


@njit(cache=True)
def _cho_solve(l, x):
    """x <- (L L^T)^{-1} x for the lower factor in l (upper triangle ignored)."""
    d = l.shape[0]
    for i in range(d):
        t = x[i]
        for q in range(i):
            t -= l[i, q] * x[q]
        x[i] = t / l[i, i]
    for i in range(d - 1, -1, -1):
        t = x[i]
        for q in range(i + 1, d):
            t -= l[q, i] * x[q]
        x[i] = t / l[i, i]


@njit(cache=True)
def _admm_piece(xt, y, alpha, lam, rho, chol, xty, b, z, u, r, c, it, gap, tol_abs, max_iter, positive, npass):
    """Up to ``npass`` ADMM iterations; returns (it, gap)."""
    p, n = xt.shape
    primal_form = p <= n
    k = 0
    while gap > tol_abs and it < max_iter and k < npass:
        q = xty + n * rho * (z - u)
        if primal_form:
            bb = q.copy()
            _cho_solve(chol, bb)
        else:
            w = xt.T @ q
            _cho_solve(chol, w)
            bb = (q - xt @ w) / (n * rho)
        for j in range(p):
            z[j] = _soft(bb[j] + u[j], alpha / rho, positive)
            u[j] += bb[j] - z[j]
        it += 1
        k += 1
        if it % 10 == 0 or it == max_iter:
            b[:] = z
            gap, _ = _gap(xt, y, b, r, c, lam, positive)
    return it, gap


def lasso_admm(xt, y, alpha, b, tol, max_iter, positive, rho, first=None):
    p, n = xt.shape
    lam = alpha * n
    u = np.zeros(p)
    r = np.empty(n)
    c = np.empty(p)
    tol_abs = tol * float(y @ y)
    with _interrupt.deferred_sigint():
        rho, xty, z = _admm_setup(xt, y, b, positive, rho)
    chol = _admm_gram(xt, rho, first)
    with _interrupt.deferred_sigint():
        b[:] = z
        gap, _ = _gap(xt, y, b, r, c, lam, positive)
    col = [0]  # the factor, column by column (O(d^3): pieces too)

    def factor(k):
        col[0] = _cholesky_piece(chol, col[0], k)
        return col[0] == chol.shape[0]

    _drive(("chol", chol.shape), factor, first)
    st = [0, gap]

    def step(k):
        st[0], st[1] = _admm_piece(xt, y, alpha, lam, rho, chol, xty, b, z, u, r, c, st[0], st[1], tol_abs,
                                   max_iter, positive, k)
        return not (st[1] > tol_abs and st[0] < max_iter)

    if gap > tol_abs:
        _drive(("admm", xt.shape), step, first)
    b[:] = z
    return st[0], st[1] / n


@njit(cache=True, inline="always")
def _balance(primal, dual, mu):
    if primal > 10.0 * dual and mu < 1e10:
        return 2.0
    if dual > 10.0 * primal and mu > 1e-10:
        return 0.5
    return 1.0


SPM_BALANCE_EVERY = 10  # as kSpmBalanceEvery in spm.hpp


@njit(cache=True)
def spm_admm(v, s, g, a, lam, params, x, z1, u1, z2, u2, tol, max_iter):
    """Twin of physdl::inverse::spm_admm (spm.cpp): ADMM with residual-balanced penalties
    params = [mu, mu', iterations done], state updated in place; returns this call's iterations."""
    m, l = v.shape
    mu1 = params[0]
    mu2 = params[1]
    dinv = 1.0 / (s * s + mu1 + mu2)
    ada = np.sum(a * a * dinv)
    it = 0
    while it < max_iter:
        vt = v.T @ (z2 - u2)
        rhs = s * g + mu1 * (z1 - u1) + mu2 * vt
        nu = (np.sum(a * dinv * rhs) - 1.0) / ada
        x[:] = dinv * (rhs - nu * a)
        vx = v @ x
        rp1 = 0.0
        rp2 = 0.0
        dz1 = 0.0
        dz2 = 0.0
        nx = 0.0
        nz = 0.0
        for k in range(l):
            old = z1[k]
            z1[k] = _soft(x[k] + u1[k], lam / mu1, False)
            u1[k] += x[k] - z1[k]
            rp1 += (x[k] - z1[k]) ** 2
            dz1 += (z1[k] - old) ** 2
            nx += x[k] * x[k]
        for i in range(m):
            old = z2[i]
            t = vx[i] + u2[i]
            z2[i] = t if t > 0.0 else 0.0
            u2[i] += vx[i] - z2[i]
            rp2 += (vx[i] - z2[i]) ** 2
            dz2 += (z2[i] - old) ** 2
            nz += z2[i] * z2[i]
        it += 1
        params[2] += 1.0
        scale = max(1.0, np.sqrt(nx + nz))
        rp = np.sqrt(rp1 + rp2)
        rd = np.sqrt(mu1 * mu1 * dz1 + mu2 * mu2 * dz2)
        if rp <= tol * scale and rd <= tol * scale:
            break
        if np.fmod(params[2], float(SPM_BALANCE_EVERY)) == 0.0:
            f1 = _balance(np.sqrt(rp1), mu1 * np.sqrt(dz1), mu1)
            f2 = _balance(np.sqrt(rp2), mu2 * np.sqrt(dz2), mu2)
            if f1 != 1.0 or f2 != 1.0:
                mu1 *= f1
                mu2 *= f2
                u1 /= f1
                u2 /= f2
                params[0] = mu1
                params[1] = mu2
                dinv = 1.0 / (s * s + mu1 + mu2)
                ada = np.sum(a * a * dinv)
    return it
