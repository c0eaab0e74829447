"""Exact results for Ising models, to validate Monte Carlo against (book column of ch. 5, eq. 5.79-5.84).

* 1D chain, periodic, any ``J`` and ``h``: transfer matrix (``Z_N = lambda_+^N + lambda_-^N``).
* 2D square lattice, infinite: Onsager's critical point, free energy, energy and specific heat,
  Yang's spontaneous magnetisation.
* 2D square ``Lx x Ly`` torus: Kaufman's exact partition function, with energy and specific heat from
  analytic derivatives in ``K = beta J`` (no finite differences).
* Critical points of the triangular (``Tc = 4/ln 3``) and simple-cubic (published Monte Carlo value)
  lattices.

The Hamiltonian is ``H = -J sum_<ij> s_i s_j - h sum_i s_i`` with each bond counted once, exactly as in
:mod:`physdl.lattice.enumerate`; energies and specific heats are per spin, ``k_B = 1``, and the
specific heat is ``c = beta^2 (<E^2> - <E>^2) / N``.

Examples
--------
>>> from physdl.lattice import exact
>>> round(exact.SQUARE_TC, 6), round(exact.SQUARE_BETA_C, 6), round(exact.TRIANGULAR_TC, 6)
(2.269185, 0.440687, 3.640957)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .._validate import check_float, check_int

__all__ = [
    "SQUARE_TC",
    "SQUARE_BETA_C",
    "TRIANGULAR_TC",
    "TRIANGULAR_BETA_C",
    "CUBIC_BETA_C",
    "CUBIC_TC",
    "critical_temperature",
    "chain_thermodynamics",
    "chain_infinite",
    "onsager_free_energy",
    "onsager_energy",
    "onsager_specific_heat",
    "onsager_magnetization",
    "triangular_magnetization",
    "kaufman_log_z",
    "kaufman_thermodynamics",
]

#: Onsager (1944): square lattice, ``sinh(2 J / Tc) = 1``, ``Tc = 2 / ln(1 + sqrt 2)`` (J = 1).
SQUARE_TC = 2.0 / math.log1p(math.sqrt(2.0))
SQUARE_BETA_C = math.log1p(math.sqrt(2.0)) / 2.0
#: Houtappel (1950), Wannier (1950): triangular ferromagnet, ``exp(4 J / Tc) = 3``, ``Tc = 4 / ln 3``.
TRIANGULAR_TC = 4.0 / math.log(3.0)
TRIANGULAR_BETA_C = math.log(3.0) / 4.0
#: Simple cubic lattice, no exact solution: published Monte Carlo estimate
#: K_c = 0.221654626(5), A. M. Ferrenberg, J. Xu, D. P. Landau, Phys. Rev. E 97, 043301 (2018).
CUBIC_BETA_C = 0.221654626
CUBIC_TC = 1.0 / CUBIC_BETA_C

_TC = {"square": SQUARE_TC, "triangular": TRIANGULAR_TC, "cubic": CUBIC_TC}


def critical_temperature(geometry: str = "square", J: float = 1.0) -> float:
    """Critical temperature of the ferromagnet on ``geometry`` (square, triangular: exact; cubic: published).

    Parameters
    ----------
    geometry : {"square", "triangular", "cubic"}
        The 1D chain has no finite-temperature transition (book, column of ch. 5).
    J : float > 0

    Returns
    -------
    float
        ``Tc`` in units with ``k_B = 1``.

    Examples
    --------
    >>> round(critical_temperature("triangular"), 4)
    3.641
    """
    J = check_float(J, "J", positive=True)
    if geometry not in _TC:
        raise ValueError(f"geometry must be one of {', '.join(map(repr, _TC))} "
                         f"(the chain has no transition at T > 0); got {geometry!r}")
    return J * _TC[geometry]


def _beta_array(beta, name="beta"):
    try:
        b = np.asarray(beta, dtype=np.float64)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{name} must be finite real numbers > 0, got {beta!r:.60}") from None
    if b.dtype == object or not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be finite (got NaN or inf); beta = 1/T needs 0 < T < inf")
    if np.any(b <= 0):
        raise ValueError(f"{name} must be > 0 (temperature T = 1/beta must be positive and finite)")
    return b


# ----------------------------------------------------------------------------------------------------
# 1D chain: transfer matrix
# ----------------------------------------------------------------------------------------------------

def _chain_eigen(beta, J, h):
    """lambda_+/- and their first and second beta-derivatives, and d/dh of both (cancellation-free)."""
    K, H = beta * J, beta * h
    eK, emK = np.exp(K), np.exp(-K)
    ch, sh = np.cosh(H), np.sinh(H)
    a = eK * ch
    a1 = eK * (J * ch + h * sh)
    a2 = eK * ((J * J + h * h) * ch + 2 * J * h * sh)
    D = eK * eK * sh * sh + emK * emK
    D1 = eK * eK * (2 * J * sh * sh + h * np.sinh(2 * H)) - 2 * J * emK * emK
    D2 = eK * eK * (4 * J * J * sh * sh + 4 * J * h * np.sinh(2 * H) + 2 * h * h * np.cosh(2 * H)) \
        + 4 * J * J * emK * emK
    s = np.sqrt(D)
    s1 = D1 / (2 * s)
    s2 = D2 / (2 * s) - D1 * D1 / (4 * s ** 3)
    lp, lp1, lp2 = a + s, a1 + s1, a2 + s2
    # lambda_- = (a^2 - s^2)/(a + s) = 2 sinh(2K)/(a + s)
    u, u1, u2 = 2 * np.sinh(2 * K), 4 * J * np.cosh(2 * K), 8 * J * J * np.sinh(2 * K)
    v, v1, v2 = lp, lp1, lp2
    lm = u / v
    lm1 = (u1 * v - u * v1) / v ** 2
    lm2 = u2 / v - 2 * u1 * v1 / v ** 2 - u * v2 / v ** 2 + 2 * u * v1 ** 2 / v ** 3
    # d/dh at fixed beta
    ah = beta * eK * sh
    sh_ = beta * eK * eK * np.sinh(2 * H) / (2 * s)
    lph = ah + sh_
    lmh = -u * lph / v ** 2
    return lp, lp1, lp2, lm, lm1, lm2, lph, lmh


def _chain_args(beta, J, h):
    J = check_float(J, "J")
    h = check_float(h, "h")
    b = _beta_array(beta)
    if np.any(b * (abs(J) + abs(h)) > 150.0):
        raise ValueError("beta*(|J| + |h|) must be <= 150 for float64 transfer-matrix evaluation; at "
                         "such low temperature the chain is in its ground state to machine precision")
    return b, J, h


def chain_thermodynamics(n_spins: int, beta, J: float = 1.0, h: float = 0.0) -> dict:
    """Exact thermodynamics of the periodic Ising chain of ``n_spins`` sites by the transfer matrix.

    ``Z_N = Tr T^N = lambda_+^N + lambda_-^N`` with ``T = [[e^{K+H}, e^{-K}], [e^{-K}, e^{K-H}]]``,
    ``K = beta J``, ``H = beta h``; derivatives in beta and h are analytic.

    Parameters
    ----------
    n_spins : int >= 1
    beta : float or array, > 0
    J, h : float
        ``H = -J sum_i s_i s_{i+1} - h sum_i s_i`` (eq. 5.80 plus a field), periodic.

    Returns
    -------
    dict of arrays with beta's shape:
        ``log_z``, ``energy`` (<E>/N), ``specific_heat`` (beta^2 Var(E)/N), ``magnetization`` (<m>).

    Examples
    --------
    >>> d = chain_thermodynamics(3, 1.0)          # the book's L = 3 table: E = -3 (x2), +1 (x6)
    >>> round(float(d["log_z"]), 12) == round(math.log(2 * math.e**3 + 6 * math.e**-1), 12)
    True
    """
    n = check_int(n_spins, "n_spins", minimum=1, maximum=10**100)
    b, J, h = _chain_args(beta, J, h)
    lp, lp1, lp2, lm, lm1, lm2, lph, lmh = _chain_eigen(b, J, h)
    r = lm / lp  # |r| < 1
    ni = n
    n = float(n)
    with np.errstate(under="ignore"):
        rn = r ** n
        rn1 = r ** (n - 1)
        rn2 = r ** (n - 2) if ni >= 2 else np.zeros_like(r)
    z = 1.0 + rn  # Z / lambda_+^N
    log_z = n * np.log(lp) + np.log1p(rn)
    # Z'/lambda_+^N and Z''/lambda_+^N in beta
    g1 = n * (lp1 / lp + rn1 * lm1 / lp)
    dlog = g1 / z
    if ni <= 2:
        g2 = n * (n - 1) * ((lp1 / lp) ** 2 + rn2 * (lm1 / lp) ** 2) + n * (lp2 / lp + rn1 * lm2 / lp)
        d2log = g2 / z - dlog ** 2
    else:
        # the same, rearranged so that no O(N^2) terms cancel: with weights wp = 1/z, wm = r^N/z of the
        # two eigenvalues and logarithmic derivatives a = lp'/lp, c = lm'/lm,
        # d2 ln Z = N^2 wp wm (a - c)^2 + N [wp (lp''/lp - a^2) + wm (lm''/lm - c^2)]
        a = lp1 / lp
        wm = rn / z
        wm_c = rn1 * (lm1 / lp) / z
        wm_c2 = rn2 * (lm1 / lp) ** 2 / z
        wm_C2 = rn1 * (lm2 / lp) / z
        spread = (wm * a * a - 2 * a * wm_c + wm_c2) / z
        d2log = n * n * spread + n * ((lp2 / lp - a * a) / z + wm_C2 - wm_c2)
    gh = n * (lph / lp + rn1 * lmh / lp)
    return {
        "log_z": log_z,
        "energy": -dlog / n,
        "specific_heat": b ** 2 * d2log / n,
        "magnetization": gh / z / (n * b),
    }


def chain_infinite(beta, J: float = 1.0, h: float = 0.0) -> dict:
    """Infinite-chain limits per spin: ``-beta f = ln lambda_+`` and its derivatives.

    Returns
    -------
    dict of arrays: ``log_z_per_spin`` (ln lambda_+), ``energy``, ``specific_heat``,
    ``magnetization`` (= sinh(beta h) / sqrt(sinh^2(beta h) + exp(-4 beta J))).

    Examples
    --------
    >>> d = chain_infinite(0.5)
    >>> bool(abs(d["energy"] + math.tanh(0.5)) < 1e-15)       # u = -J tanh(beta J) at h = 0
    True
    """
    b, J, h = _chain_args(beta, J, h)
    lp, lp1, lp2, *_, lph, _ = _chain_eigen(b, J, h)
    return {
        "log_z_per_spin": np.log(lp),
        "energy": -lp1 / lp,
        "specific_heat": b ** 2 * (lp2 / lp - (lp1 / lp) ** 2),
        "magnetization": lph / lp / b,
    }


# ----------------------------------------------------------------------------------------------------
# 2D square lattice, infinite: Onsager
# ----------------------------------------------------------------------------------------------------

def _onsager_k(beta, J):
    J = check_float(J, "J", positive=True)
    b = _beta_array(beta)
    K = b * J
    return b, J, K


def onsager_free_energy(beta, J: float = 1.0):
    """``-beta f`` per spin of the infinite square lattice (Onsager 1944), by adaptive quadrature.

    ``-beta f = ln(2 cosh 2K) + (1/pi) int_0^{pi/2} ln[(1 + sqrt(1 - kappa^2 sin^2 t))/2] dt``,
    ``kappa = 2 sinh 2K / cosh^2 2K``.

    Examples
    --------
    >>> G = 0.915965594177219  # Catalan's constant; at Tc, -beta f = ln(2)/2 + 2G/pi
    >>> bool(abs(onsager_free_energy(SQUARE_BETA_C) - (math.log(2) / 2 + 2 * G / math.pi)) < 1e-12)
    True
    """
    from scipy import integrate

    b, J, K = _onsager_k(beta, J)
    kappa2 = (2 * np.sinh(2 * K) / np.cosh(2 * K) ** 2) ** 2

    def one(k2):
        f = lambda t: np.log1p(np.sqrt(1 - k2 * np.sin(t) ** 2)) - math.log(2.0)  # noqa: E731
        return integrate.quad(f, 0.0, math.pi / 2, points=[math.pi / 2] if k2 == 1 else None,
                              epsabs=1e-14, epsrel=1e-13, limit=200)[0]

    integral = np.vectorize(one, otypes=[float])(kappa2)  # one quadrature per temperature
    return np.log(2 * np.cosh(2 * K)) + integral / math.pi


def _elliptic(K):
    y = 2 * K
    s, c = np.sinh(y), np.cosh(y)
    p = ((1 - s * s) / (c * c)) ** 2  # 1 - kappa^2, computed without cancellation
    k1 = special.ellipkm1(p)
    e1 = special.ellipe(1 - p)
    return y, s, c, p, k1, e1


# Low-temperature series ln Z / N = 2K + sum_n a_n w^n, w = exp(-4K) (coefficients from the exact
# solution at 120 digits); used for K >= _LOW_T_K, where the elliptic forms lose all precision
# (they cancel to ~1e-15 while the answer is ~K^2 e^{-8K}); truncation error there ~ w^7 / w^2 < 1e-21.
_LOW_T = ((2, 1.0), (3, 2.0), (4, 4.5), (5, 12.0), (6, 112.0 / 3.0), (7, 130.0), (8, 490.25))
_LOW_T_K = 2.5
# High-temperature series ln Z / N = ln 2 + K^2 + (5/6) K^4 + O(K^6) for K < _HIGH_T_K, where the
# elliptic forms divide by sinh^2 2K; error O(K^4) relative, < 1e-16 there.
_HIGH_T_K = 1e-4


def _low_t(K, order: int):
    """d^order/dK^order of sum_n a_n w^n."""
    w = np.exp(-4.0 * np.minimum(K, 1e3))  # 0 in float64 well before K = 1e3
    return sum(a * (-4.0 * n) ** order * w**n for n, a in _LOW_T)


def onsager_energy(beta, J: float = 1.0):
    """Energy per spin of the infinite square lattice: ``u = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K1(kappa)]``.

    Examples
    --------
    >>> bool(abs(onsager_energy(SQUARE_BETA_C) + math.sqrt(2)) < 1e-12)   # u(Tc) = -sqrt(2) J
    True
    """
    b, J, K = _onsager_k(beta, J)
    y, s, c, p, k1, _ = _elliptic(np.where((K >= _LOW_T_K) | (K < _HIGH_T_K), 1.0, K))  # the series serve these
    t2 = np.tanh(y) ** 2
    with np.errstate(invalid="ignore"):
        term = np.where(p == 0, 0.0, (2 * t2 - 1) * k1)  # (2 tanh^2 2K - 1) K1 -> 0 at Tc
        u = -J * (c / s) * (1 + (2 / math.pi) * term)
    Kh = np.minimum(K, _HIGH_T_K)
    u = np.where(K < _HIGH_T_K, -J * (2.0 * Kh + (10.0 / 3.0) * Kh**3), u)  # high-T series
    return np.where(K >= _LOW_T_K, -J * (2.0 + _low_t(K, 1)), u)[()]


def onsager_specific_heat(beta, J: float = 1.0):
    """Specific heat per spin of the infinite square lattice (Onsager 1944); ``inf`` at ``beta_c``.

    ``c = -beta^2 du/dbeta`` of :func:`onsager_energy`, differentiated analytically with
    ``dK1/dm = (E1 - (1-m) K1) / (2 m (1-m))``, ``m = kappa^2``; the factor ``(2 tanh^2 2K - 1)``
    times ``dm/dK`` is rewritten as ``-(1-m) * 8 sinh 2K / cosh^3 2K`` so nothing cancels near Tc.

    Examples
    --------
    >>> bool(onsager_specific_heat(0.3) > 0)
    True
    """
    b, J, K = _onsager_k(beta, J)
    b = np.where((K >= _LOW_T_K) | (K < _HIGH_T_K), 1.0 / J, b)  # the series serve these
    y, s, c, p, k1, e1 = _elliptic(b * J)
    t = np.tanh(y)
    m = 1 - p
    with np.errstate(invalid="ignore"):
        term = np.where(p == 0, 0.0, (2 * t * t - 1) * k1)
    # d/dy of [1 + (2/pi)(2 t^2 - 1) K1(m)]
    with np.errstate(invalid="ignore"):
        pk1 = np.where(p == 0, 0.0, p * k1)
    dterm = (2 / math.pi) * (4 * t / c ** 2 * k1 - 4 * s / c ** 3 * (e1 - pk1) / m)
    du_dy = -J * (-(1 / s ** 2) * (1 + (2 / math.pi) * term) + (c / s) * dterm)
    Kl = np.minimum(K, 1e3)  # past K = 1e3, e^{-8K} = 0 in float64
    low = Kl * Kl * _low_t(Kl, 2)
    Kh = np.minimum(K, _HIGH_T_K)
    cv = np.where(K < _HIGH_T_K, 2.0 * Kh**2 + 10.0 * Kh**4, -(b ** 2) * 2 * J * du_dy)  # high-T series
    return np.where(K >= _LOW_T_K, low, cv)[()]  # +inf at beta_c, where K1 diverges


def onsager_magnetization(beta, J: float = 1.0):
    """Spontaneous magnetisation ``(1 - sinh(2K)^-4)^(1/8)`` for ``beta > beta_c``, else 0 (Yang 1952).

    Examples
    --------
    >>> float(onsager_magnetization(0.3)), round(float(onsager_magnetization(1.0)), 6)
    (0.0, 0.999276)
    """
    b, J, K = _onsager_k(beta, J)
    s = np.sinh(2 * K)
    with np.errstate(divide="ignore"):
        inside = 1 - s ** -4.0
    return np.where(s > 1, np.abs(inside) ** 0.125, 0.0)


def triangular_magnetization(beta, J: float = 1.0):
    """Spontaneous magnetisation of the triangular ferromagnet (Potts 1952), 0 for ``beta <= ln(3)/4``.

    ``M = [1 - 16 u^3 / ((1 + 3u)(1 - u)^3)]^(1/8)`` with ``u = exp(-4 beta J)``; it vanishes at
    ``u = 1/3``, i.e. at ``Tc = 4 J / ln 3``.

    Examples
    --------
    >>> float(triangular_magnetization(0.2))
    0.0
    """
    b, J, K = _onsager_k(beta, J)
    u = np.exp(-4 * K)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = 1 - 16 * u ** 3 / ((1 + 3 * u) * (1 - u) ** 3)
    return np.where(u < 1 / 3, np.abs(inside) ** 0.125, 0.0)


# ----------------------------------------------------------------------------------------------------
# 2D square torus: Kaufman (1949)
# ----------------------------------------------------------------------------------------------------

def _kaufman_parts(K, Lx, Ly):
    """ln|Z_i| pieces and derivatives in K for Kaufman's four products.

    Z = 1/2 (2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4), with (n = Lx factors, m = Ly multiplies gamma):
    Z1 = prod_{r<n} 2 cosh(m g_{2r+1}/2), Z2 = prod 2 sinh(m g_{2r+1}/2),
    Z3 = prod_{r<n} 2 cosh(m g_{2r}/2),   Z4 = prod 2 sinh(m g_{2r}/2),
    cosh g_k = cosh 2K coth 2K - cos(pi k / n) (k >= 1), g_0 = 2K + ln tanh K (signed: < 0 above Tc).
    """
    n, m = Lx, Ly
    K = K[..., None]
    y = 2 * K
    sy, cy = np.sinh(y), np.cosh(y)
    # c(K) = sinh y + 1/sinh y and its K-derivatives
    c1 = 2 * cy * (1 - 1 / sy ** 2)
    c2 = 4 * sy - 4 / sy + 8 * cy ** 2 / sy ** 3
    base = (sy - 1) ** 2 / sy  # c - 2

    def gammas(k):
        k = np.asarray(k, dtype=np.float64)
        eps = base + 2 * np.sin(math.pi * k / (2 * n)) ** 2  # cosh(gamma) - 1 = c - cos(pi k/n) - 1
        sg = np.sqrt(eps * (eps + 2))  # sinh gamma
        g = np.log1p(eps + sg)
        g1 = c1 / sg
        g2 = (c2 - (1 + eps) * g1 ** 2) / sg
        return g, g1, g2

    r = np.arange(n)
    g_odd, g_odd1, g_odd2 = gammas(2 * r + 1)
    if n > 1:
        g_even, g_even1, g_even2 = gammas(2 * r[1:])
    g0 = 2 * K[..., 0] + np.log(np.tanh(K[..., 0]))
    g01 = 2 + 2 / sy[..., 0]
    g02 = -4 * cy[..., 0] / sy[..., 0] ** 2

    def logcosh2(x):  # ln(2 cosh x), tanh x, sech^2 x
        ax = np.abs(x)
        return ax + np.log1p(np.exp(-2 * ax)), np.tanh(x), 1 / np.cosh(np.minimum(ax, 350)) ** 2

    def logsinh2(x):  # ln|2 sinh x| (x > 0 here), coth x, -csch^2 x
        return x + np.log(-np.expm1(-2 * x)), 1 / np.tanh(x), -1 / np.sinh(np.minimum(x, 350)) ** 2

    half = m / 2.0

    def rest(fn, g, g1, g2):
        """ln|prod f(m g/2)| and its first two K-derivatives, over the given gammas (all > 0)."""
        lf, d, dd = fn(half * g)
        L = lf.sum(axis=-1)
        D1 = (half * g1 * d).sum(axis=-1)
        D2 = (half * g2 * d + half ** 2 * g1 ** 2 * dd).sum(axis=-1)
        return L, D1, D2

    parts = []
    # Z1, Z2: first factor r = 0 (gamma_1 > 0) treated like the others
    for fn in (logcosh2, logsinh2):
        L, D1, D2 = rest(fn, g_odd, g_odd1, g_odd2)
        parts.append(("log", L, D1, D2))
    # Z3, Z4: factor of gamma_0 (which can vanish at Tc) kept apart; R = product over r >= 1
    if n > 1:
        LR_c, DR_c1, DR_c2 = rest(logcosh2, g_even, g_even1, g_even2)
        LR_s, DR_s1, DR_s2 = rest(logsinh2, g_even, g_even1, g_even2)
    else:
        z = np.zeros_like(g0)
        LR_c = DR_c1 = DR_c2 = LR_s = DR_s1 = DR_s2 = z
    parts.append(("g0cosh", LR_c, DR_c1, DR_c2))
    parts.append(("g0sinh", LR_s, DR_s1, DR_s2))
    x0 = half * g0
    x01 = half * g01
    x02 = half * g02
    return parts, x0, x01, x02


def _kaufman_core(beta, J, Lx, Ly, derivatives: bool):
    Lx = check_int(Lx, "Lx", minimum=1)
    Ly = check_int(Ly, "Ly", minimum=1)
    J = check_float(J, "J", positive=True)
    b = _beta_array(beta)
    K = b * J
    N = Lx * Ly
    parts, x0, x01, x02 = _kaufman_parts(K, Lx, Ly)
    ax0 = np.abs(x0)
    q = np.exp(-2 * ax0)
    sgn0 = np.sign(x0)
    # For the gamma_0 factor F(x0) = 2cosh or 2sinh:  F = e^{|x0|} * A,  F_x = e^{|x0|} * B
    A_c, B_c = 1 + q, sgn0 * -np.expm1(-2 * ax0)
    A_s, B_s = sgn0 * -np.expm1(-2 * ax0), 1 + q
    logs, signs = [], []
    for kind, L, _, _ in parts:
        if kind == "log":
            logs.append(L)
            signs.append(np.ones_like(L))
        else:
            A = A_c if kind == "g0cosh" else A_s
            with np.errstate(divide="ignore"):
                logs.append(L + ax0 + np.log(np.abs(A)))
            signs.append(np.sign(A))
    logs = np.stack(logs)
    signs = np.stack(signs)
    top = logs.max(axis=0)
    total = (signs * np.exp(logs - top)).sum(axis=0)  # Z1 >= |Z2|, Z3 >= |Z4|: total >= e^{ln Z1 - top}
    if np.any(total <= 0):
        raise FloatingPointError("Kaufman sum is not positive: loss of precision")
    lnS = top + np.log(total)
    log_z = math.log(0.5) + 0.5 * N * np.log(2 * np.sinh(2 * K)) + lnS
    if not derivatives:
        return b, K, N, log_z, None, None
    # Weights Z_i / S relative to the largest term (never through ln S, whose rounding at |ln S| ~ N
    # would cost relative accuracy ~ N * eps); second derivative in the cancellation-free form
    # S''/S - (S'/S)^2 = sum_i (Z_i'' - 2 s1 Z_i' + s1^2 Z_i) / S.
    s1 = np.zeros_like(K)
    terms = []
    for kind, L, D1, D2 in parts:
        if kind == "log":
            w = np.exp(L - top) / total
            s1 += w * D1
            terms.append((kind, w, D1, D2))
        else:
            A, B = (A_c, B_c) if kind == "g0cosh" else (A_s, B_s)
            w = np.exp(L + ax0 - top) / total  # R e^{|x0|} / S
            s1 += w * (B * x01 + A * D1)  # Z' = F_x x0' R + F R'
            terms.append((kind, w, D1, D2, A, B))
    s2 = np.zeros_like(K)
    for t in terms:
        if t[0] == "log":
            _, w, D1, D2 = t
            s2 += w * (D2 + (D1 - s1) ** 2)
        else:
            _, w, D1, D2, A, B = t
            s2 += w * (A * (x01 ** 2 + D2 + (D1 - s1) ** 2) + B * (x02 + 2 * x01 * (D1 - s1)))
    # d lnZ/dK = N coth 2K + S'/S ;  d^2 lnZ/dK^2 = -2N / sinh^2 2K + S''/S - (S'/S)^2
    coth = 1 / np.tanh(2 * K)
    dlog = N * coth + s1  # d lnZ / dK
    d2log = -2 * N / np.sinh(2 * K) ** 2 + s2
    return b, K, N, log_z, dlog, d2log


def kaufman_log_z(beta, Lx: int, Ly: int | None = None, J: float = 1.0):
    """``ln Z`` of the ``Lx x Ly`` periodic square-lattice Ising model at ``h = 0`` (Kaufman 1949).

    ``Z = 1/2 (2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4)``, products of ``2 cosh`` / ``2 sinh`` of
    ``Ly gamma_k / 2`` over ``Lx`` wave numbers, as written in Ferdinand and Fisher, Phys. Rev. 185, 832
    (1969) and Beale, Phys. Rev. Lett. 76, 78 (1996).  Evaluated in log space with signed log-sum-exp;
    ``gamma_0 = 2K + ln tanh K`` keeps its sign (negative above Tc), so ``Z4`` changes sign at Tc.
    Bond convention as in :mod:`physdl.lattice.enumerate` (2 N bonds; a side 2 bonds a pair twice).

    Parameters
    ----------
    beta : float or array, > 0
    Lx : int >= 1
    Ly : int, default Lx
    J : float > 0

    Returns
    -------
    ndarray (beta's shape)

    Examples
    --------
    >>> from physdl.lattice.enumerate import enumerate_ising
    >>> bool(abs(kaufman_log_z(0.4, 4) - enumerate_ising((4, 4)).log_z(0.4)) < 1e-12)
    True
    """
    Ly = Lx if Ly is None else Ly
    return _kaufman_core(beta, J, Lx, Ly, derivatives=False)[3]


def kaufman_thermodynamics(beta, Lx: int, Ly: int | None = None, J: float = 1.0) -> dict:
    """Exact ``ln Z``, energy and specific heat per spin of the ``Lx x Ly`` torus (Kaufman 1949).

    The derivatives ``d lnZ/dK`` and ``d^2 lnZ/dK^2`` are analytic (chain rule through every
    ``gamma_k(K)``), not finite differences, so they are exact to rounding: they match full
    enumeration of 3x3, 4x4, 2x4, 4x5 tori to ~1e-13.

    Parameters
    ----------
    beta : float or array, > 0
    Lx : int >= 1
    Ly : int, default Lx
    J : float > 0

    Returns
    -------
    dict of arrays: ``log_z``, ``energy`` (<E>/N = -J dlnZ/dK / N),
    ``specific_heat`` (K^2 d^2 lnZ/dK^2 / N = beta^2 Var(E)/N).

    Examples
    --------
    >>> d = kaufman_thermodynamics([0.3, 0.5], 256)
    >>> bool(np.allclose(d["energy"], onsager_energy([0.3, 0.5]), rtol=0, atol=1e-10))
    True
    """
    Ly = Lx if Ly is None else Ly
    Jc = check_float(J, "J", positive=True)
    bb = _beta_array(beta)
    Kall = bb * Jc
    low = Kall >= _KAUFMAN_LOW_T_K
    if np.any(low):
        # the product formulas cancel to rounding there (c came out -1e-14); the low-temperature series
        # of the infinite lattice holds on the torus up to excitations that wrap around it, of relative
        # size w^(min(Lx, Ly) - 2), w = e^{-4K}; refuse tori too small for that to vanish
        Lx_ = check_int(Lx, "Lx", minimum=1)
        Ly_ = check_int(Ly, "Ly", minimum=1)
        if min(Lx_, Ly_) < 4:
            raise ValueError(f"beta*J >= {_KAUFMAN_LOW_T_K} on a torus with a side < 4 is outside the range "
                             f"evaluated stably; use physdl.lattice.enumerate for such small lattices")
        if np.all(low):
            N = Lx_ * Ly_
            Kl = np.minimum(Kall, 1e3)
            return {"log_z": (math.log(2.0) + N * (2 * Kall + _low_t(Kl, 0)))[()],
                    "energy": (-Jc * (2.0 + _low_t(Kl, 1)))[()],
                    "specific_heat": (Kl * Kl * _low_t(Kl, 2))[()]}
        hi = kaufman_thermodynamics(np.where(low, 1.0, bb), Lx, Ly, J)
        lo = kaufman_thermodynamics(np.where(low, bb, _KAUFMAN_LOW_T_K / Jc), Lx, Ly, J)
        return {k: np.where(low, lo[k], hi[k])[()] for k in hi}
    b, K, N, log_z, dlog, d2log = _kaufman_core(beta, J, Lx, Ly, derivatives=True)
    return {
        "log_z": log_z,
        "energy": -J * dlog / N,
        "specific_heat": K ** 2 * d2log / N,
    }


_KAUFMAN_LOW_T_K = 3.5
