"""The Hamiltonian network of eq. 9.21-9.30: layers are time steps of H = p^2/2m - G(q), with the force
g = G' (eq. 9.28) the network's one nonlinear local activation, learned from observed trajectories."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import erf

from .._validate import check_array, check_choice, check_float, check_int

STEPS = ("symplectic_euler", "euler")

__all__ = ["HamiltonianNetwork", "STEPS"]


class HamiltonianNetwork:
    """Layers ``p' = p + dt g(q)``, ``q' = q + dt p'/m`` (eq. 9.22-9.23 with the choice of eq. 9.29).

    The sparse weights of eq. 9.22 are fixed by eq. 9.29 (``w11 = w21 = 0``, ``w12 = 1/m``,
    ``lambda_2 = u = 1``), which satisfies the symplectic condition eq. 9.26 (``w11 + w22 = 0``); the
    local activation ``g`` is a sum of Gaussian bumps ``g(q) = sum_k a_k exp(-(q - c_k)^2 / 2 s^2)`` on a
    grid over ``q_range``, and the potential it stands for is ``V(q) = -G(q) = -int_0^q g``.

    ``step="symplectic_euler"`` updates q with the new p (the layer map is then exactly symplectic:
    its Jacobian has determinant 1); ``step="euler"`` takes both from the old values, the literal
    discretisation of eq. 9.24-9.25 (not symplectic at finite dt).

    Parameters
    ----------
    dt : float
        Time step of one layer (the observation interval of the data).
    mass : float
    n_basis : int
    q_range : (float, float)
        Interval the bumps cover (the range the data sample).
    """

    def __init__(self, dt: float, *, mass: float = 1.0, n_basis: int = 24, q_range=(-math.pi, math.pi),
                 step: str = "symplectic_euler"):
        self.dt = check_float(dt, "dt", positive=True)
        self.mass = check_float(mass, "mass", positive=True)
        self.n_basis = check_int(n_basis, "n_basis", minimum=2, maximum=10_000)
        lo, hi = check_float(q_range[0], "q_range[0]"), check_float(q_range[1], "q_range[1]")
        if not hi > lo:
            raise ValueError(f"q_range must be (low, high) with low < high, got {q_range}")
        self.step = check_choice(step, "step", STEPS)
        self.centres = np.linspace(lo, hi, self.n_basis)
        self.width = (hi - lo) / (self.n_basis - 1)
        self.a = np.zeros(self.n_basis)

    def _phi(self, q):
        z = (q[..., None] - self.centres) / self.width
        return np.exp(-0.5 * z * z), -z / self.width * np.exp(-0.5 * z * z)

    def force(self, q) -> np.ndarray:
        """The learned ``g(q)``."""
        q = check_array(q, "q", dtype=np.float64, finite=True)
        return self._phi(q)[0] @ self.a

    def potential(self, q) -> np.ndarray:
        """``V(q) = -G(q) = -int_0^q g`` (so that ``H = p^2/2m + V``)."""
        q = check_array(q, "q", dtype=np.float64, finite=True)
        s = self.width * math.sqrt(2.0)
        prim = self.width * math.sqrt(math.pi / 2) * (erf((q[..., None] - self.centres) / s) - erf(-self.centres / s))
        return -(prim @ self.a)

    def rollout(self, q0, p0, n_layers: int):
        """Propagate states through ``n_layers`` layers: arrays (n_layers + 1, ...) of q and p."""
        q0 = check_array(q0, "q0", dtype=np.float64, finite=True)
        p0 = check_array(p0, "p0", dtype=np.float64, shape=q0.shape, finite=True)
        n_layers = check_int(n_layers, "n_layers", minimum=0, maximum=10**7)
        return self._rollout(q0, p0, n_layers)

    def _rollout(self, q, p, K):
        Q, P = [q], [p]
        for _ in range(K):  # one layer per step, each on the whole batch
            g = self._phi(q)[0] @ self.a
            pn = p + self.dt * g
            qn = q + self.dt * (pn if self.step == "symplectic_euler" else p) / self.mass
            q, p = qn, pn
            Q.append(q)
            P.append(p)
        return np.array(Q), np.array(P)

    def loss_and_grad(self, q, p, n_layers: int, ridge: float = 0.0):
        """Rollout error over windows of ``n_layers`` layers from every observed state, and its gradient.

        ``q, p`` are observed trajectories (n_traj, T) at spacing ``dt``.  The loss is the mean over
        windows of ``sum_k (q_k - Q_k)^2 + (p_k - P_k)^2`` plus ``ridge * |a|^2``.
        """
        q = check_array(q, "q", dtype=np.float64, ndim=2, finite=True)
        p = check_array(p, "p", dtype=np.float64, shape=q.shape, finite=True)
        K = check_int(n_layers, "n_layers", minimum=1, maximum=q.shape[1] - 1)
        return self._loss_grad(self.a, q, p, K, float(ridge))

    def _loss_grad(self, a, q, p, K, ridge):
        self.a = a
        T = q.shape[1]
        q0, p0 = q[:, : T - K].ravel(), p[:, : T - K].ravel()
        obs_q = np.stack([q[:, k: T - K + k].ravel() for k in range(K + 1)])
        obs_p = np.stack([p[:, k: T - K + k].ravel() for k in range(K + 1)])
        Q, P = self._rollout(q0, p0, K)
        B = q0.size
        rq, rp = Q - obs_q, P - obs_p
        loss = (np.sum(rq[1:] ** 2) + np.sum(rp[1:] ** 2)) / B + ridge * np.sum(a * a)
        grad = 2.0 * ridge * a
        gq = 2.0 * rq[K] / B
        gp = 2.0 * rp[K] / B
        dt, m = self.dt, self.mass
        for k in range(K - 1, -1, -1):  # adjoint of layer k: (Q_k, P_k) -> (Q_k+1, P_k+1)
            phi, dphi = self._phi(Q[k])
            if self.step == "symplectic_euler":
                gp_new = gp + gq * dt / m          # q' depends on p'
                grad = grad + dt * (gp_new @ phi)
                gq_k = gq + gp_new * dt * (dphi @ a)
                gp_k = gp_new
            else:
                grad = grad + dt * (gp @ phi)
                gq_k = gq + gp * dt * (dphi @ a)
                gp_k = gp + gq * dt / m
            gq, gp = gq_k, gp_k
            if k > 0:
                gq = gq + 2.0 * rq[k] / B
                gp = gp + 2.0 * rp[k] / B
        return float(loss), grad

    def fit(self, q, p, *, n_layers: int = 10, ridge: float = 1e-8, max_iter: int = 500) -> float:
        """Learn ``g`` from observed trajectories (n_traj, T) by L-BFGS on the rollout error; returns the loss."""
        q = check_array(q, "q", dtype=np.float64, ndim=2, finite=True)
        p = check_array(p, "p", dtype=np.float64, shape=q.shape, finite=True)
        K = check_int(n_layers, "n_layers", minimum=1, maximum=q.shape[1] - 1)
        ridge = check_float(ridge, "ridge", nonnegative=True)
        res = minimize(self._loss_grad, np.zeros(self.n_basis), args=(q, p, K, ridge), jac=True, method="L-BFGS-B",
                       options={"maxiter": check_int(max_iter, "max_iter", minimum=1, maximum=10**6)})
        self.a = res.x
        return float(res.fun)

    def jacobian_determinant(self, q) -> np.ndarray:
        """Determinant of one layer's Jacobian d(q', p')/d(q, p) (1 for the symplectic step)."""
        q = check_array(q, "q", dtype=np.float64, finite=True)
        dg = self._phi(q)[1] @ self.a
        c = self.dt * self.dt * dg / self.mass
        if self.step == "symplectic_euler":
            return (1.0 + c) * 1.0 - (self.dt / self.mass) * (self.dt * dg)
        return 1.0 - c
