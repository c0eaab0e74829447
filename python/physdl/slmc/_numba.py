"""Numba twins of the plaquette-model Metropolis and SLMC Wolff kernels (src/physdl/ebm/ebm.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..random._numba import philox_block, uniform_double

_opts = dict(nopython=True, nogil=True, cache=True)
_S24 = np.uint64(24)
_U1 = np.uint64(1)


@nb.jit(**_opts)
def plaquette_sums(nbr, plaq, s):
    n = s.size
    a = 0
    b = 0
    for i in range(n):
        a += np.int64(s[i]) * (np.int64(s[nbr[i, 0]]) + s[nbr[i, 1]] + s[nbr[i, 2]] + s[nbr[i, 3]])
        q = 0
        for r in range(4):
            q += np.int64(s[plaq[i, r, 0]]) * s[plaq[i, r, 1]] * s[plaq[i, r, 2]]
        b += np.int64(s[i]) * q
    return a // 2, b // 4


@nb.jit(**_opts)
def cluster_energy(cnbr, Jc, s):
    n, zc = cnbr.shape
    e = 0.0
    for col in range(zc):
        a = 0
        for i in range(n):
            a += np.int64(s[i]) * s[cnbr[i, col]]
        e += Jc[col] * np.float64(a)
    return -0.5 * e


@nb.jit(**_opts)
def plaquette_metropolis(nbr, plaq, J, K, S, beta, nsweeps, seed, stream0, t0):
    m, n = S.shape
    E = np.empty((m, nsweeps))
    M = np.empty((m, nsweeps), np.int64)
    acc = np.zeros(m, np.int64)
    for c in range(m):
        s = S[c]
        inn, ipl = plaquette_sums(nbr, plaq, s)
        mg = 0
        for i in range(n):
            mg += np.int64(s[i])
        st = np.uint64(stream0) + np.uint64(c)
        for t in range(nsweeps):
            base = np.uint64(t0 + t) << _S24
            b0 = b1 = b2 = b3 = np.uint64(0)
            for i in range(n):
                if (i & 1) == 0:
                    b0, b1, b2, b3 = philox_block(seed, st, base | np.uint64(i >> 1))
                fn = np.int64(s[nbr[i, 0]]) + s[nbr[i, 1]] + s[nbr[i, 2]] + s[nbr[i, 3]]
                fp = 0
                for r in range(4):
                    fp += np.int64(s[plaq[i, r, 0]]) * s[plaq[i, r, 1]] * s[plaq[i, r, 2]]
                dE = 2.0 * s[i] * (J * np.float64(fn) + K * np.float64(fp))
                u = uniform_double(b0, b1) if (i & 1) == 0 else uniform_double(b2, b3)
                if u < math.exp(-beta * dE):
                    inn -= 2 * np.int64(s[i]) * fn
                    ipl -= 2 * np.int64(s[i]) * fp
                    mg -= 2 * np.int64(s[i])
                    s[i] = -s[i]
                    acc[c] += 1
            E[c, t] = -J * np.float64(inn) - K * np.float64(ipl)
            M[c, t] = mg
    return E, M, acc


@nb.jit(**_opts)
def slmc_wolff(nbr, plaq, J, K, cnbr, Jc, S, beta, nsteps, nclusters, seed, stream0, t0):
    m, n = S.shape
    zc = cnbr.shape[1]
    padd = np.zeros(zc)
    for col in range(zc):
        if Jc[col] > 0.0:
            padd[col] = 1.0 - math.exp(-2.0 * beta * Jc[col])
    E = np.empty((m, nsteps))
    M = np.empty((m, nsteps), np.int64)
    C = np.empty((m, nsteps), np.int64)
    acc = np.zeros(m, np.int64)
    incl = np.zeros(n, np.uint8)
    stack = np.empty(n, np.int64)
    cl = np.empty(n, np.int64)
    for c in range(m):
        s = S[c]
        inn, ipl = plaquette_sums(nbr, plaq, s)
        ec = cluster_energy(cnbr, Jc, s)
        mg = 0
        for i in range(n):
            mg += np.int64(s[i])
        st = np.uint64(stream0) + np.uint64(c)
        for t in range(nsteps):
            base = np.uint64(t0 + t) << _S24
            old = s.copy()
            a0, a1, a2, a3 = philox_block(seed, st, base)
            i0 = np.int64(uniform_double(a0, a1) * np.float64(n))
            if i0 >= n:
                i0 = n - 1
            uacc = uniform_double(a2, a3)
            a = np.uint64(0)
            b0 = b1 = b2 = b3 = np.uint64(0)
            total = 0
            for q in range(nclusters):
                if q > 0:
                    if (a & _U1) == 0:
                        b0, b1, b2, b3 = philox_block(seed, st, base | (_U1 + (a >> _U1)))
                    u = uniform_double(b0, b1) if (a & _U1) == 0 else uniform_double(b2, b3)
                    a += _U1
                    i0 = np.int64(u * np.float64(n))
                    if i0 >= n:
                        i0 = n - 1
                s0 = s[i0]
                top = 0
                ncl = 0
                stack[top] = i0
                top += 1
                cl[ncl] = i0
                ncl += 1
                incl[i0] = 1
                while top > 0:
                    top -= 1
                    i = stack[top]
                    for col in range(zc):
                        j = cnbr[i, col]
                        if incl[j] or s[j] != s0 or not (padd[col] > 0.0):
                            continue
                        if (a & _U1) == 0:
                            b0, b1, b2, b3 = philox_block(seed, st, base | (_U1 + (a >> _U1)))
                        u = uniform_double(b0, b1) if (a & _U1) == 0 else uniform_double(b2, b3)
                        a += _U1
                        if u < padd[col]:
                            incl[j] = 1
                            stack[top] = j
                            top += 1
                            cl[ncl] = j
                            ncl += 1
                for q2 in range(ncl):
                    s[cl[q2]] = -s[cl[q2]]
                    incl[cl[q2]] = 0
                total += ncl
            inn2, ipl2 = plaquette_sums(nbr, plaq, s)
            ec2 = cluster_energy(cnbr, Jc, s)
            dex = -J * np.float64(inn2 - inn) - K * np.float64(ipl2 - ipl)
            if uacc < math.exp(-beta * (dex - (ec2 - ec))):
                inn = inn2
                ipl = ipl2
                ec = ec2
                acc[c] += 1
            else:
                s[:] = old
            mg = 0
            for i in range(n):
                mg += np.int64(s[i])
            E[c, t] = -J * np.float64(inn) - K * np.float64(ipl)
            M[c, t] = mg
            C[c, t] = total
    return E, M, C, acc
