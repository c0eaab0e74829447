"""Numba twins of the C++ solvers in ``src/physdl/inverse/lasso.cpp``.

Same objective, same duality-gap stopping test (gap of the unscaled objective <= tol * ||y||^2) and
the same FISTA / ADMM / sparse-modelling iterations.  The coordinate-descent twin is the plain cyclic
form with gap-safe screening over all features (no working sets, Gram cache or extrapolation), so
it reaches the same solution to the requested gap by a slower route.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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


@njit(cache=True)
def lasso_cd(xt, y, alpha, b, tol, max_iter, positive):
    p, n = xt.shape
    lam = alpha * n
    tol_abs = tol * (y @ y)
    norms2 = np.empty(p)
    for j in range(p):
        norms2[j] = xt[j] @ xt[j]
        if positive and b[j] < 0:
            b[j] = 0.0
    r = np.empty(n)
    c = np.empty(p)
    active = np.ones(p, dtype=np.bool_)
    it = 0
    gap = 0.0
    while True:
        gap, cmax = _gap(xt, y, b, r, c, lam, positive)
        if gap <= tol_abs or it >= max_iter:
            break
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
    return it, gap / n


@njit(cache=True)
def lasso_path_cd(xt, y, alphas, tol, max_iter, positive):
    p = xt.shape[0]
    k = alphas.shape[0]
    coefs = np.zeros((k, p))
    gaps = np.zeros(k)
    iters = np.zeros(k, dtype=np.int64)
    b = np.zeros(p)
    for a in range(k):
        it, g = lasso_cd(xt, y, alphas[a], b, tol, max_iter, positive)
        coefs[a] = b
        gaps[a] = g
        iters[a] = it
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
def lasso_path_gram(gram, xty, yty, n, alphas, tol, max_iter, positive):
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
    for a in range(k):
        lam = alphas[a] * n
        it = 0
        gap = _gram_gap(xty, yty, b, q, lam, positive)
        while gap > tol_abs and it < max_iter:
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
            gap = _gram_gap(xty, yty, b, q, lam, positive)
        coefs[a] = b
        gaps[a] = gap / n
        iters[a] = it
    return coefs, gaps, iters


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
def lasso_fista(xt, y, alpha, b, tol, max_iter, positive, lipschitz):
    p, n = xt.shape
    lam = alpha * n
    L = lipschitz if lipschitz > 0 else 1.01 * _top_eigenvalue(xt) / n
    for j in range(p):
        if positive and b[j] < 0:
            b[j] = 0.0
    r = np.empty(n)
    c = np.empty(p)
    tol_abs = tol * (y @ y)
    gap, _ = _gap(xt, y, b, r, c, lam, positive)
    if L <= 0.0:
        b[:] = 0.0
        gap, _ = _gap(xt, y, b, r, c, lam, positive)
        return 0, gap / n
    z = b.copy()
    bn = np.empty(p)
    t = 1.0
    it = 0
    while gap > tol_abs and it < max_iter:
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
        if it % 10 == 0 or it == max_iter:
            gap, _ = _gap(xt, y, b, r, c, lam, positive)
    return it, gap / n


@njit(cache=True)
def lasso_admm(xt, y, alpha, b, tol, max_iter, positive, rho):
    p, n = xt.shape
    lam = alpha * n
    if rho <= 0.0:
        rho = 0.0
        for j in range(p):
            rho += xt[j] @ xt[j]
        rho = rho / p / n
        if rho <= 0.0:
            rho = 1.0
    primal_form = p <= n
    if primal_form:
        m = xt @ xt.T + n * rho * np.eye(p)
    else:
        m = xt.T @ xt + n * rho * np.eye(n)
    chol = np.linalg.cholesky(m)
    xty = xt @ y
    z = b.copy()
    for j in range(p):
        if positive and z[j] < 0:
            z[j] = 0.0
    u = np.zeros(p)
    r = np.empty(n)
    c = np.empty(p)
    tol_abs = tol * (y @ y)
    b[:] = z
    gap, _ = _gap(xt, y, b, r, c, lam, positive)
    it = 0
    while gap > tol_abs and it < max_iter:
        q = xty + n * rho * (z - u)
        if primal_form:
            w = np.linalg.solve(chol, q)
            bb = np.linalg.solve(chol.T, w)
        else:
            w = np.linalg.solve(chol, xt.T @ q)
            w = np.linalg.solve(chol.T, w)
            bb = (q - xt @ w) / (n * rho)
        for j in range(p):
            z[j] = _soft(bb[j] + u[j], alpha / rho, positive)
            u[j] += bb[j] - z[j]
        it += 1
        if it % 10 == 0 or it == max_iter:
            b[:] = z
            gap, _ = _gap(xt, y, b, r, c, lam, positive)
    b[:] = z
    return it, gap / n


@njit(cache=True)
def spm_admm(v, s, g, a, lam, rho1, rho2, x, z1, u1, z2, u2, tol, max_iter):
    m, l = v.shape
    dinv = 1.0 / (s * s + rho1 + rho2)
    ada = np.sum(a * a * dinv)
    it = 0
    while it < max_iter:
        vt = v.T @ (z2 - u2)
        rhs = s * g + rho1 * (z1 - u1) + rho2 * vt
        nu = (np.sum(a * dinv * rhs) - 1.0) / ada
        x[:] = dinv * (rhs - nu * a)
        vx = v @ x
        rp = 0.0
        rd = 0.0
        nx = 0.0
        nz = 0.0
        for k in range(l):
            old = z1[k]
            z1[k] = _soft(x[k] + u1[k], lam / rho1, False)
            u1[k] += x[k] - z1[k]
            rp += (x[k] - z1[k]) ** 2
            rd += rho1 * rho1 * (z1[k] - old) ** 2
            nx += x[k] * x[k]
        for i in range(m):
            old = z2[i]
            t = vx[i] + u2[i]
            z2[i] = t if t > 0.0 else 0.0
            u2[i] += vx[i] - z2[i]
            rp += (vx[i] - z2[i]) ** 2
            rd += rho2 * rho2 * (z2[i] - old) ** 2
            nz += z2[i] * z2[i]
        it += 1
        scale = max(1.0, np.sqrt(nx + nz))
        if np.sqrt(rp) <= tol * scale and np.sqrt(rd) <= tol * scale:
            break
    return it
