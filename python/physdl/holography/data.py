"""Data of book ch. 12: the AdS-Schwarzschild test (sec. 12.3.1) and the QCD chiral condensate
(Table 12.1, sec. 12.4), with the published emergent metric (Table 12.2, eq. 12.27-12.28)."""

from __future__ import annotations

import numpy as np

from .._validate import check_float, check_int, check_seed
from ..random import streams as _streams

__all__ = ["ads_schwarzschild_metric", "ads_schwarzschild_data", "QCD_CONDENSATE", "QCD_TABLE_12_2",
           "QCD_LAMBDA", "QCD_R", "qcd_condensate_curve", "qcd_data"]

# Table 12.1 (right half, physical units; 1/a = 0.829(19) GeV): quark mass [GeV], <qbar q> [GeV^3].
# Lattice QCD data at T = 207 MeV quoted by the book from its ref. [141].
QCD_CONDENSATE = np.array([
    [0.00067, 0.0063],
    [0.0013, 0.012],
    [0.0027, 0.021],
    [0.0054, 0.038],
    [0.011, 0.068],
    [0.022, 0.10],
])

# Table 12.2: emergent h(eta^(n)), n - 1 = 0..14, mean and error over 8 trials (the book's result).
QCD_TABLE_12_2 = np.array([
    [3.0818, 0.0081], [2.296, 0.016], [1.464, 0.025], [0.627, 0.035], [-0.141, 0.045],
    [-0.727, 0.049], [-0.974, 0.043], [-0.687, 0.032], [0.374, 0.087], [2.50, 0.19],
    [6.03, 0.30], [11.46, 0.35], [19.47, 0.27], [31.07, 0.17], [46.70, 0.52],
])
QCD_LAMBDA = (0.01243, 0.00060)   # eq. 12.27
QCD_R = (3.460, 0.021)            # eq. 12.28, GeV^-1


def ads_schwarzschild_metric(eta, d: int = 3) -> np.ndarray:
    """``h(eta) = d coth(d eta)`` of the AdS-Schwarzschild black hole (eq. 12.13 for d = 3)."""
    eta = np.asarray(eta, dtype=np.float64)
    if np.any(~np.isfinite(eta)) or np.any(eta <= 0):
        raise ValueError("eta must be finite and > 0 (the horizon is at eta = 0)")
    d = check_int(d, "d", minimum=1, maximum=100)
    return d / np.tanh(d * eta)


def ads_schwarzschild_data(n: int = 1000, *, seed: int = 0, n_layers: int = 10, eta_ini: float = 1.0,
                           eta_fin: float = 0.1, threshold: float = 0.1, phi_range=(0.0, 1.5),
                           pi_range=(-0.2, 0.2), balanced: bool = True):
    """Positive / negative data of sec. 12.3.1 from the discretised AdS-Schwarzschild metric.

    Random ``(phi, pi)`` at ``eta_ini`` (uniform in the given box, Philox) are run through the network
    with ``h = 3 coth(3 eta)``, ``m^2 = -1``, ``V = phi^4 / 4``; a point is positive (label 0) when
    ``|pi| < threshold`` at the last layer, negative (label 1) otherwise.  ``balanced`` keeps equal
    numbers of each (the book does not say; a box where positives are rare would otherwise give a
    classifier that calls everything negative).

    Returns
    -------
    x : ndarray (n, 2), labels : ndarray (n,)
    """
    from .network import HolographicNetwork

    n = check_int(n, "n", minimum=2, maximum=10**8)
    seed = check_seed(seed)
    threshold = check_float(threshold, "threshold", positive=True)
    lo = np.array([check_float(phi_range[0], "phi_range[0]"), check_float(pi_range[0], "pi_range[0]")])
    hi = np.array([check_float(phi_range[1], "phi_range[1]"), check_float(pi_range[1], "pi_range[1]")])
    if np.any(hi <= lo):
        raise ValueError("phi_range and pi_range must be (low, high) with low < high")
    from .. import random as prandom

    net = HolographicNetwork(n_layers, eta_ini, eta_fin, m2=-1.0, lam=1.0)
    net.h = ads_schwarzschild_metric(net.eta)
    want_pos = n // 2 if balanced else None
    xs, ls = [], []
    n_pos = n_neg = 0
    offset = 0
    block = max(4 * n, 4096)
    for _ in range(1000):
        u = prandom.uniform(2 * block, seed=seed, stream=_streams.stream("holography", 2), offset=offset)
        offset += block  # each block of 2 doubles uses one Philox counter
        x = lo + (hi - lo) * u.reshape(block, 2)
        F, _ = net.forward(x)
        lab = (np.abs(F) >= threshold).astype(np.float64)
        if balanced:
            pos, neg = x[lab == 0], x[lab == 1]
            take_p = pos[: max(0, want_pos - n_pos)]
            take_n = neg[: max(0, (n - want_pos) - n_neg)]
            xs += [take_p, take_n]
            ls += [np.zeros(len(take_p)), np.ones(len(take_n))]
            n_pos += len(take_p)
            n_neg += len(take_n)
            if n_pos + n_neg == n:
                break
        else:
            xs.append(x[:n])
            ls.append(lab[:n])
            break
    else:
        raise ValueError("the box holds too few positive points; widen phi_range / pi_range")
    x, lab = np.concatenate(xs), np.concatenate(ls)
    # interleave deterministically (the order does not matter to training, which shuffles)
    order = np.argsort(prandom.uniform(len(lab), seed=seed, stream=_streams.stream("holography", 3)), kind="stable")
    return x[order], lab[order]


def qcd_condensate_curve(m_q) -> np.ndarray:
    """The cubic fit in ``m_q`` of Table 12.1 (physical units) that the book's data set is built on."""
    coef = np.polyfit(QCD_CONDENSATE[:, 0], QCD_CONDENSATE[:, 1], 3)
    return np.polyval(coef, np.asarray(m_q, dtype=np.float64))


def qcd_data(n: int = 10000, *, seed: int = 0, distance: float = 0.004, m_max: float = 0.022,
             c_max: float = 0.11):
    """Positive / negative QCD data of sec. 12.4 (Fig. 12.7).

    ``n`` random points in ``0 < m_q < m_max`` [GeV], ``0 < <qbar q> < c_max`` [GeV^3]; positive (label 0)
    when the Euclidean distance in that plane to the cubic fit of Table 12.1 is below ``distance``.
    """
    n = check_int(n, "n", minimum=2, maximum=10**8)
    seed = check_seed(seed)
    distance = check_float(distance, "distance", positive=True)
    from .. import random as prandom

    u = prandom.uniform(2 * n, seed=seed, stream=_streams.stream("holography", 4)).reshape(n, 2)
    x = u * np.array([check_float(m_max, "m_max", positive=True), check_float(c_max, "c_max", positive=True)])
    grid = np.linspace(0.0, m_max, 2001)
    curve = np.stack([grid, qcd_condensate_curve(grid)], axis=1)
    # distance to the polyline, in chunks to bound memory
    dmin = np.empty(n)
    for s in range(0, n, 2048):
        diff = x[s:s + 2048, None, :] - curve[None, :, :]
        dmin[s:s + 2048] = np.sqrt(np.min(np.sum(diff * diff, axis=2), axis=1))
    labels = (dmin >= distance).astype(np.float64)
    return x, labels
