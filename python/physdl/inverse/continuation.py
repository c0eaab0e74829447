"""Sparse-modelling analytic continuation (book column of ch. 7, eq. 7.16-7.17; Otsuki, Ohzeki,
Shinaoka, Yoshimi, PRE 95, 061302(R) (2017)).

G(tau) = -int K(tau, omega) rho(omega) d omega with the fermionic kernel
K(tau, omega) = e^{-tau omega} / (1 + e^{-beta omega}), 0 <= tau <= beta.  On uniform grids with
quadrature weights w_tau, w_omega the weighted kernel A = sqrt(w_tau) K sqrt(w_omega) = U S V^T; its
left and right singular vectors are the intermediate-representation (IR) basis in tau and omega
(sparse-ir's u_l(tau) and v_l(omega) times the square roots of the weights, up to signs).  In that
basis the data g = U^T sqrt(w_tau) (-G) are fitted by

    min_x 1/2 ||g - S x||^2 + lambda ||x||_1   with  rho = V x / sqrt(w_omega) >= 0,  int rho = 1,

solved by ADMM (:func:`spm_continuation`), and lambda is scanned and chosen at the elbow of
chi^2(lambda) (:func:`spm_lambda_scan`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from .. import _backend
from .. import random as prandom
from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ._blas import core_inverse

__all__ = [
    "fermionic_kernel",
    "bosonic_kernel",
    "semicircle",
    "gaussian_mixture",
    "metal_spectrum",
    "green_function",
    "add_noise",
    "IRBasis",
    "ir_basis",
    "SpMResult",
    "spm_continuation",
    "spm_lambda_scan",
    "discrepancy",
]


def _kernel_exponents(tau, omega, beta):
    """Validated grids as ``omega[None, :]`` and the exponents (e, d) of both kernels, chosen by the sign
    of omega so that neither overflows: omega >= 0: e = -tau omega, d = -beta omega; omega < 0:
    e = (beta - tau) omega, d = beta omega (K_F = e^e / (1 + e^d), K_B = |omega| e^e / (1 - e^d))."""
    beta = check_float(beta, "beta", positive=True)
    tau = check_array(np.atleast_1d(tau), "tau", dtype=np.float64, ndim=1, finite=True)
    omega = check_array(np.atleast_1d(omega), "omega", dtype=np.float64, ndim=1, finite=True)
    if np.any((tau < 0) | (tau > beta)):
        raise ValueError("tau must lie in [0, beta]")
    t = tau[:, None]
    w = omega[None, :]
    pos = w >= 0
    return w, np.where(pos, -t * w, (beta - t) * w), np.where(pos, -beta * w, beta * w)


def fermionic_kernel(tau, omega, beta) -> np.ndarray:
    """K(tau, omega) = e^{-tau omega} / (1 + e^{-beta omega}), evaluated without overflow; shape (len(tau), len(omega)).

    Examples
    --------
    >>> import numpy as np
    >>> float(fermionic_kernel([0.0], [0.0], 10.0)[0, 0])
    0.5
    """
    _, e, d = _kernel_exponents(tau, omega, beta)
    return np.exp(e) / (1.0 + np.exp(d))


def bosonic_kernel(tau, omega, beta) -> np.ndarray:
    """K(tau, omega) = omega e^{-tau omega} / (1 - e^{-beta omega}) (1/beta at omega = 0), for rho(omega)/omega.

    Examples
    --------
    >>> float(bosonic_kernel([0.0], [0.0], 4.0)[0, 0])
    0.25
    """
    w, e, d = _kernel_exponents(tau, omega, beta)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.abs(w) * np.exp(e) / (-np.expm1(d))
    return np.where(w == 0, 1.0 / beta, k)


def semicircle(omega, half_width: float = 1.0) -> np.ndarray:
    """The semicircular density of states rho(omega) = 2 / (pi D^2) sqrt(D^2 - omega^2) (Bethe lattice).

    Examples
    --------
    >>> float(semicircle([0.0], 1.0)[0]) == 2 / 3.141592653589793
    True
    """
    d = check_float(half_width, "half_width", positive=True)
    w = check_array(np.atleast_1d(omega), "omega", dtype=np.float64, ndim=1, finite=True)
    return 2.0 / (np.pi * d * d) * np.sqrt(np.maximum(d * d - w * w, 0.0))


def gaussian_mixture(omega, centers, widths, weights) -> np.ndarray:
    """sum_k weight_k N(omega; center_k, width_k) (weights normalised to 1).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.linspace(-10, 10, 20001)
    >>> r = gaussian_mixture(w, [-1, 1], [0.3, 0.3], [1, 1])
    >>> round(float(r.sum() * (w[1] - w[0])), 8)
    1.0
    """
    w = check_array(np.atleast_1d(omega), "omega", dtype=np.float64, ndim=1, finite=True)
    c = check_array(np.atleast_1d(centers), "centers", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    s = check_array(np.atleast_1d(widths), "widths", dtype=np.float64, ndim=1, shape=(c.size,), finite=True)
    a = check_array(np.atleast_1d(weights), "weights", dtype=np.float64, ndim=1, shape=(c.size,), finite=True)
    if np.any(s <= 0) or np.any(a < 0) or a.sum() <= 0:
        raise ValueError("widths must be > 0 and weights >= 0 with a positive sum")
    a = a / a.sum()
    z = (w[:, None] - c[None, :]) / s[None, :]
    return (a / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * z * z)).sum(axis=1)


def insulator_spectrum(omega) -> np.ndarray:
    """Two Gaussians at +-1 (width 0.3): an insulator-like spectrum with a gap."""
    return gaussian_mixture(omega, [-1.0, 1.0], [0.3, 0.3], [0.5, 0.5])


def metal_spectrum(omega) -> np.ndarray:
    """A correlated metal: a quasiparticle peak at 0 (width 0.15, weight 0.3) and Hubbard bands at +-2
    (width 0.4, weight 0.35 each)."""
    return gaussian_mixture(omega, [-2.0, 0.0, 2.0], [0.4, 0.15, 0.4], [0.35, 0.3, 0.35])


SPECTRA = {"semicircle": semicircle, "insulator": insulator_spectrum, "metal": metal_spectrum}


def green_function(tau, beta, rho, *, omega_max: float = 10.0, n_panels: int = 2000, order: int = 8,
                   kernel: str = "fermionic") -> np.ndarray:
    """G(tau) = -int K(tau, omega) rho(omega) d omega by composite Gauss-Legendre quadrature on [-omega_max, omega_max].

    Parameters
    ----------
    tau : array
    beta : float
    rho : callable
        rho(omega_array) -> array (zero outside [-omega_max, omega_max]).
    omega_max, n_panels, order : quadrature range, panels and points per panel.
    kernel : {"fermionic", "bosonic"}

    Examples
    --------
    >>> import numpy as np
    >>> g = green_function([0.0, 10.0], 10.0, semicircle)
    >>> np.round(g, 6)   # G(0) + G(beta) = -1 (the sum rule)
    array([-0.5, -0.5])
    """
    omega_max = check_float(omega_max, "omega_max", positive=True)
    n_panels = check_int(n_panels, "n_panels", minimum=1, maximum=10**6)
    order = check_int(order, "order", minimum=1, maximum=64)
    check_choice(kernel, "kernel", ("fermionic", "bosonic"))
    if not callable(rho):
        raise TypeError("rho must be a callable rho(omega)")
    x, wq = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(-omega_max, omega_max, n_panels + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    half = 0.5 * (edges[1:] - edges[:-1])
    om = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    w = (half[:, None] * wq[None, :]).ravel()
    r = check_array(rho(om), "rho(omega)", dtype=np.float64, ndim=1, shape=(om.size,), finite=True)
    kfun = fermionic_kernel if kernel == "fermionic" else bosonic_kernel
    tau = check_array(np.atleast_1d(tau), "tau", dtype=np.float64, ndim=1, finite=True)
    wr = w * r
    chunk = max(1, 2**22 // om.size)  # bounded memory: the kernel is built a block of tau at a time
    return -np.concatenate([kfun(tau[i:i + chunk], om, beta) @ wr for i in range(0, tau.size, chunk)])


def add_noise(g, sigma, seed: int = 0, stream: int = 0) -> np.ndarray:
    """g plus independent Gaussian noise of deviation sigma (Philox normal numbers of ``seed``).

    Examples
    --------
    >>> import numpy as np
    >>> add_noise(np.zeros(3), 0.0).tolist()
    [0.0, 0.0, 0.0]
    """
    g = check_array(g, "g", dtype=np.float64, ndim=1, finite=True)
    sigma = check_float(sigma, "sigma", nonnegative=True)
    seed = check_seed(seed)
    return g + sigma * prandom.normal(g.size, seed=seed, stream=stream)


@dataclass
class IRBasis:
    """The SVD of the weighted kernel: tau and omega grids, weights, U (n_tau, L), s (L), V (n_omega, L)."""

    beta: float
    omega_max: float
    tau: np.ndarray
    omega: np.ndarray
    w_tau: np.ndarray
    w_omega: np.ndarray
    u: np.ndarray
    s: np.ndarray
    v: np.ndarray
    kernel: str = "fermionic"

    @property
    def size(self) -> int:
        return self.s.size

    def u_functions(self) -> np.ndarray:
        """u_l(tau) on the tau grid (sparse-ir's normalisation: int u_l u_l' dtau = delta)."""
        return self.u / np.sqrt(self.w_tau)[:, None]

    def v_functions(self) -> np.ndarray:
        """v_l(omega) on the omega grid (int v_l v_l' d omega = delta)."""
        return self.v / np.sqrt(self.w_omega)[:, None]


def _grid(a, b, n):
    """Uniform grid with trapezoidal weights."""
    x = np.linspace(a, b, n)
    w = np.full(n, (b - a) / (n - 1))
    w[0] *= 0.5
    w[-1] *= 0.5
    return x, w


def ir_basis(beta, omega_max, *, n_tau: int = 1001, n_omega: int = 1001, cutoff: float = 1e-10,
             kernel: str = "fermionic", seed: int = 0) -> IRBasis:
    """The intermediate-representation basis: SVD of sqrt(w_tau) K(tau, omega) sqrt(w_omega) on uniform grids.

    Singular values below ``cutoff * s_0`` are dropped.  Large grids use a randomised range finder
    (Halko, Martinsson, Tropp 2011) with two power iterations, which the kernel's exponentially
    decaying spectrum makes accurate to the cutoff; small ones a full LAPACK SVD.

    Examples
    --------
    >>> b = ir_basis(10.0, 4.0, n_tau=201, n_omega=201)
    >>> round(float(b.s[0]), 3)   # sparse-ir: FiniteTempBasis('F', 10, 4).s[0] = 1.395
    1.395
    """
    beta = check_float(beta, "beta", positive=True)
    omega_max = check_float(omega_max, "omega_max", positive=True)
    n_tau = check_int(n_tau, "n_tau", minimum=3, maximum=10**6)
    n_omega = check_int(n_omega, "n_omega", minimum=3, maximum=10**6)
    cutoff = check_float(cutoff, "cutoff", positive=True)
    check_choice(kernel, "kernel", ("fermionic", "bosonic"))
    tau, wt = _grid(0.0, beta, n_tau)
    om, wo = _grid(-omega_max, omega_max, n_omega)
    kfun = fermionic_kernel if kernel == "fermionic" else bosonic_kernel
    a = np.sqrt(wt)[:, None] * kfun(tau, om, beta) * np.sqrt(wo)[None, :]
    if n_tau * n_omega <= 400 * 400:
        u, s, vt = scipy.linalg.svd(a, full_matrices=False, lapack_driver="gesdd")
    else:
        k = min(80, n_tau, n_omega)
        omega_rand = prandom.normal((n_omega * k), seed=check_seed(seed), stream=7).reshape(n_omega, k)
        while True:
            y = a @ omega_rand
            q, _ = np.linalg.qr(y)
            for _ in range(2):
                q, _ = np.linalg.qr(a.T @ q)
                q, _ = np.linalg.qr(a @ q)
            ub, s, vt = scipy.linalg.svd(q.T @ a, full_matrices=False)
            u = q @ ub
            if s[-1] < 0.01 * cutoff * s[0] or k >= min(n_tau, n_omega):
                break
            k = min(2 * k, n_tau, n_omega)
            omega_rand = prandom.normal((n_omega * k), seed=check_seed(seed), stream=7).reshape(n_omega, k)
    keep = s > cutoff * s[0]
    u, s, v = u[:, keep], s[keep], vt[keep].T
    # fix signs: u_l(0) > 0... use the sign of the largest entry of v_l in omega > 0 for a stable convention
    sign = np.sign(u[0] + (u[0] == 0))
    return IRBasis(beta, omega_max, tau, om, wt, wo, u * sign, s, v * sign, kernel)


@dataclass
class SpMResult:
    """One sparse-modelling solution: rho on the omega grid, IR coefficients, chi^2 and ADMM iterations."""

    lam: float
    rho: np.ndarray
    coef: np.ndarray
    chi2: float
    n_iter: int
    omega: np.ndarray
    state: tuple = field(repr=False, default=())


def _project(basis, g_tau):
    g = check_array(g_tau, "G", dtype=np.float64, ndim=1, finite=True)
    if g.shape[0] != basis.tau.shape[0]:
        raise ValueError(f"G must have one value per tau point of the basis ({basis.tau.shape[0]}), got {g.shape[0]}")
    gw = np.sqrt(basis.w_tau) * (-g)
    gp = basis.u.T @ gw
    return gp, max(float(gw @ gw - gp @ gp), 0.0)


def spm_continuation(basis: IRBasis, G, lam, *, rho1: float = 1.0, rho2: float = 1.0, tol: float = 1e-8,
                     max_iter: int = 20000, state=None, backend=None) -> SpMResult:
    """Sparse-modelling spectrum at one lambda: ADMM with L1 on the IR coefficients, rho >= 0 and int rho = 1.

    Parameters
    ----------
    basis : IRBasis
    G : (n_tau,) array
        G(tau) on ``basis.tau`` (negative for fermions: G = -int K rho).
    lam : float
        L1 weight (>= 0) in 1/2 ||g - S x||^2 + lam ||x||_1 (g in the weighted IR basis).
    rho1, rho2 : float
        Initial ADMM penalties of the L1 and the non-negativity splittings (the paper's mu, mu');
        the ADMM adapts both by residual balancing (Boyd et al. 2011, sec. 3.4.1) every 10 iterations.
    tol, max_iter : stopping: primal and dual residuals <= tol (relative), or max_iter iterations.
    state : tuple, optional
        A previous result's ``state`` for a warm start (the ADMM variables and the adapted penalties;
        ``rho1``, ``rho2`` are then ignored).
    backend : {None, "cpp", "numba"}

    Returns
    -------
    SpMResult
        ``rho`` is the non-negative splitting variable divided by sqrt(w_omega).
    """
    if not isinstance(basis, IRBasis):
        raise TypeError("basis must be an IRBasis (see ir_basis)")
    lam = check_float(lam, "lam", nonnegative=True)
    rho1 = check_float(rho1, "rho1", positive=True)
    rho2 = check_float(rho2, "rho2", positive=True)
    tol = check_float(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", minimum=1, maximum=10**9)
    gp, perp = _project(basis, G)
    l, m = basis.size, basis.omega.size
    a = np.ascontiguousarray(basis.v.T @ np.sqrt(basis.w_omega))  # sum rule: a . x = int rho
    if state:
        if len(state) != 6:
            raise ValueError("state must be a previous SpMResult.state")
        x, z1, u1, z2, u2, params = (np.array(s, dtype=np.float64, copy=True) for s in state)
        if x.shape != (l,) or z2.shape != (m,) or params.shape != (3,):
            raise ValueError("state does not match this basis")
        params[2] = 0.0  # the balancing schedule restarts with each call
    else:
        x, z1, u1 = np.zeros(l), np.zeros(l), np.zeros(l)
        z2, u2 = np.zeros(m), np.zeros(m)
        params = np.array([rho1, rho2, 0.0])
    v = np.ascontiguousarray(basis.v)
    be = _backend.resolve(backend, ("cpp", "numba"))
    if be == "cpp":
        kernel = core_inverse().spm_admm
    else:
        from . import _numba

        kernel = _numba.spm_admm
    it = _spm_in_pieces(lambda st, k: kernel(v, basis.s, gp, a, lam, st[5], *st[:5], tol, k),
                        [x, z1, u1, z2, u2, params], v, tol, max_iter)
    rho = z2 / np.sqrt(basis.w_omega)
    r = gp - basis.s * x
    return SpMResult(lam, rho, x.copy(), float(r @ r + perp), int(it), basis.omega, (x, z1, u1, z2, u2, params))


class _Stopped(Exception):
    """The ADMM met its stopping test inside a piece (internal to :func:`_spm_in_pieces`)."""


def _clearly_unconverged(state, v, absv, tol) -> bool:
    """True when the primal residual of the ADMM state (after an iteration) is surely above the
    stopping threshold of ``spm_admm`` however that kernel rounds ``V x`` and its sums."""
    x, z1, _, z2 = state[:4]
    eps = np.finfo(np.float64).eps
    rp = float(np.sqrt(np.sum((x - z1) ** 2) + np.sum((v @ x - z2) ** 2)))
    err = 4.0 * (x.size + 2) * eps * float(np.linalg.norm(absv @ np.abs(x)))  # the two V x differ by <= this
    scale = max(1.0, float(np.sqrt(x @ x + z2 @ z2)))
    return rp * (1.0 - 1e-9) - err > tol * scale * (1.0 + 1e-9)


def _spm_in_pieces(call, state, v, tol, max_iter) -> int:
    """Run the ADMM ``call(state, k)`` (at most ``k`` iterations in place on ``state`` = [x, z1, u1,
    z2, u2, params], returning the iterations done) through :func:`physdl._interrupt.run_in_pieces`, so that
    Ctrl-C is seen within a second; returns the iterations done in all.

    An iteration depends only on (z1, u1, z2, u2, params), so the pieces follow the iterations of a single
    call exactly; what a piece cannot tell is whether its last iteration met the stopping test (the
    kernel returns ``k`` either way).  The primal residual of that iteration is recomputed here from
    the state (``V x`` by another product, so with a rounding-error margin): when it is clearly above
    the threshold the run goes on; otherwise the piece is run again from a copy of its start with one
    iteration more, and the kernel's own answer decides.  The result is bit for bit that of one call.
    """
    from .._interrupt import run_in_pieces

    done = [0]
    absv = np.abs(v)

    def piece(start, k):
        saved = [s.copy() for s in state]
        r = call(state, k)
        done[0] = start + r
        if r < k:
            raise _Stopped
        if done[0] == max_iter or _clearly_unconverged(state, v, absv, tol):
            return
        if call(saved, k + 1) == k:  # the stopping test was met at the piece's last iteration
            raise _Stopped

    try:
        run_in_pieces(piece, max_iter)
    except _Stopped:
        pass
    return done[0]


@dataclass
class SpMScan:
    """A lambda scan: the lambdas (decreasing), chi^2 per lambda, the solutions and the chosen index.

    ``best`` follows the scan's ``criterion``; ``elbow_index`` and ``discrepancy_index`` hold both
    choices, and ``noise`` the noise deviation per tau point estimated from the part of G outside the
    basis (:func:`discrepancy`)."""

    lams: np.ndarray
    chi2: np.ndarray
    results: list
    best: int
    elbow_index: int = 0
    discrepancy_index: int = 0
    noise: float = 0.0

    @property
    def chosen(self) -> SpMResult:
        return self.results[self.best]


def elbow(lams, chi2) -> int:
    """Index of the elbow of log chi^2 against log lambda: the point farthest below the chord joining the ends.

    chi^2 falls as lambda decreases and then levels off at the noise floor; the elbow where it
    stops falling is the paper's choice of lambda (Otsuki et al. 2017, Fig. 2).

    Examples
    --------
    >>> import numpy as np
    >>> lams = np.geomspace(1, 1e-6, 7)
    >>> elbow(lams, np.maximum(lams, 1e-3) ** 2)
    3
    """
    x = np.log(check_array(lams, "lams", dtype=np.float64, ndim=1, finite=True))
    y = np.log(check_array(chi2, "chi2", dtype=np.float64, ndim=1, shape=(x.size,), finite=True))
    if x.size < 3:
        return 0
    if x[-1] == x[0]:
        return 0
    chord = y[0] + (y[-1] - y[0]) / (x[-1] - x[0]) * (x - x[0])
    return int(np.argmax(chord - y))  # the point farthest below the chord


def discrepancy(basis: IRBasis, G, chi2) -> tuple[int, float]:
    """Morozov's discrepancy principle for the lambda scan, with the noise estimated from the data.

    The signal lies inside the basis (to its cutoff), so the part of the weighted data outside it,
    ``perp``, is noise alone: E[perp] = sigma^2 (tr W - tr U^T W U) with W the tau weights, which gives
    sigma.  The solution with the true spectrum leaves an in-basis residual of about L sigma_w^2
    (sigma_w^2 = sigma^2 tr U^T W U / L, the noise per basis coefficient); the choice is the largest
    lambda whose in-basis residual chi^2 - perp is at most that, or the smallest chi^2 if none is.

    Returns (index, sigma).
    """
    gp, perp = _project(basis, G)
    chi2 = check_array(chi2, "chi2", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    w = basis.w_tau
    inside = float(np.sum(w[:, None] * basis.u * basis.u))  # tr U^T W U
    outside = float(w.sum()) - inside
    if outside <= 0:
        raise ValueError("the basis spans the data: no noise estimate (use more tau points than basis functions)")
    sigma2 = perp / outside
    ok = np.nonzero(chi2 - perp <= sigma2 * inside)[0]
    return (int(ok[0]) if ok.size else int(np.argmin(chi2))), float(np.sqrt(sigma2))


def spm_lambda_scan(basis: IRBasis, G, *, lams=None, n_lams: int = 30, lam_min: float = 1e-12, lam_max=None,
                    rho1: float = 1.0, rho2: float = 1.0, tol: float = 2e-7, max_iter: int = 3000,
                    criterion: str = "elbow", backend=None) -> SpMScan:
    """Scan lambda from large to small with warm starts and pick it at the elbow of chi^2(lambda).

    The objective is the paper's, 1/2 chi^2 + lambda ||x||_1, in the weighted basis of
    :func:`ir_basis`.  On uniform grids the paper's unweighted quantities (kernel K(tau_i, omega_j)
    d omega, data G', coefficients rho' = V^T rho) relate to these by s = sqrt(d tau / d omega) S',
    x = sqrt(d omega) rho', chi^2 = d tau chi'^2, so its lambda' = lambda sqrt(d omega) / d tau; the
    elbow of log chi^2 against log lambda does not change under such rescalings.

    Parameters
    ----------
    basis : IRBasis
    G : (n_tau,) array
    lams : array, optional
        The lambdas to scan (sorted into decreasing order); default ``n_lams`` log-spaced values from
        ``lam_max`` (default max_l |s_l g_l|, where the L1 term alone decides) down to ``lam_min``.
        The elbow is the point farthest below the chord of the log-log curve, so the scan should
        reach well into the plateau of chi^2 (the default goes 11-12 decades below lam_max).
    rho1, rho2 : float
        Initial ADMM penalties (adapted by residual balancing, carried from one lambda to the next).
    tol, max_iter : the ADMM's stopping test per lambda (see :func:`spm_continuation`).
    criterion : {"elbow", "discrepancy"}
        How ``best`` is chosen: the paper's elbow of chi^2 (:func:`elbow`), or Morozov's discrepancy
        principle with the noise estimated from the data (:func:`discrepancy`).  Both are recorded.
    backend : {None, "cpp", "numba"}

    Returns
    -------
    SpMScan
        ``chosen`` is the solution at the chosen lambda.

    Examples
    --------
    >>> import numpy as np
    >>> b = ir_basis(20.0, 4.0, n_tau=201, n_omega=201)
    >>> G = green_function(b.tau, 20.0, insulator_spectrum)
    >>> scan = spm_lambda_scan(b, G, n_lams=8)
    >>> bool(np.all(scan.chosen.rho >= 0))
    True
    """
    gp, _ = _project(basis, G)
    check_choice(criterion, "criterion", ("elbow", "discrepancy"))
    if lams is None:
        n_lams = check_int(n_lams, "n_lams", minimum=1, maximum=10**4)
        lam_min = check_float(lam_min, "lam_min", positive=True)
        top = float(np.abs(basis.s * gp).max()) if lam_max is None else check_float(lam_max, "lam_max", positive=True)
        if top <= lam_min:
            raise ValueError("lam_max must exceed lam_min")
        lams = np.geomspace(top, lam_min, n_lams)
    else:
        lams = check_array(lams, "lams", dtype=np.float64, ndim=1, finite=True, nonempty=True)
        if np.any(lams < 0):
            raise ValueError("lams must be >= 0")
        lams = np.sort(lams)[::-1]
    results = []
    state = None
    for lam in lams:
        res = spm_continuation(basis, G, float(lam), rho1=rho1, rho2=rho2, tol=tol, max_iter=max_iter, state=state,
                               backend=backend)
        state = res.state
        results.append(res)
    chi2 = np.array([r.chi2 for r in results])
    k_elbow = elbow(lams, np.maximum(chi2, 1e-300))
    k_disc, sigma = discrepancy(basis, G, chi2)
    return SpMScan(lams, chi2, results, k_elbow if criterion == "elbow" else k_disc, k_elbow, k_disc, sigma)


def spectral_error(omega, rho, rho_exact) -> float:
    """The L1 error int |rho - rho_exact| d omega on a uniform grid (trapezoidal rule).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.linspace(-1, 1, 3)
    >>> spectral_error(w, np.zeros(3), np.ones(3))
    2.0
    """
    w = check_array(omega, "omega", dtype=np.float64, ndim=1, finite=True)
    d = np.abs(check_array(rho, "rho", dtype=np.float64, shape=(w.size,), finite=True)
               - check_array(rho_exact, "rho_exact", dtype=np.float64, shape=(w.size,), finite=True))
    return float(np.trapezoid(d, w)) if hasattr(np, "trapezoid") else float(np.trapz(d, w))
