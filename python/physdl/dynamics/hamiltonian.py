"""The Hamiltonian network of eq. 9.21-9.30: layers are time steps of H = p^2/2m - G(q), with the force
g = G' (eq. 9.28) the network's one nonlinear local activation, learned from observed trajectories."""

from __future__ import annotations

import hashlib
import math

import numpy as np
from scipy.special import erf

from .._validate import check_array, check_bool, check_choice, check_float, check_int

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

    def _rollout(self, q, p, K, a=None):
        a = self.a if a is None else a
        Q, P = [q], [p]
        for _ in range(K):  # one layer per step, each on the whole batch
            g = self._phi(q)[0] @ a
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
        T = q.shape[1]
        q0, p0 = q[:, : T - K].ravel(), p[:, : T - K].ravel()
        obs_q = np.stack([q[:, k: T - K + k].ravel() for k in range(K + 1)])
        obs_p = np.stack([p[:, k: T - K + k].ravel() for k in range(K + 1)])
        Q, P = self._rollout(q0, p0, K, a)
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

    FIT_KIND = "physdl/hamiltonian-network-fit"

    def _fit_fingerprint(self, q, p, K, ridge) -> str:
        h = hashlib.sha256()
        for arr in (q, p, self.centres):
            h.update(np.ascontiguousarray(arr, np.float64).tobytes())
        h.update(repr((q.shape, K, ridge, self.dt, self.mass, self.width, self.step)).encode())
        return h.hexdigest()

    def fit(self, q, p, *, n_layers: int = 10, ridge: float = 1e-8, max_iter: int = 500, progress: bool = False,
            checkpoint=None) -> float:
        """Learn ``g`` from observed trajectories (n_traj, T) on the rollout error; returns the final loss.

        The minimiser is L-BFGS (10 curvature pairs) with SciPy's strong-Wolfe line search
        (``scipy.optimize.line_search``), run here rather than through ``scipy.optimize.minimize``
        so that its whole state (iterate, gradient, curvature pairs, iteration count) is known after
        every iteration:

        - Ctrl-C leaves :attr:`a` at the last whole iteration (the one interrupted is dropped);
        - ``checkpoint`` (a path) saves that state atomically after every iteration through
          :func:`physdl.io.save_checkpoint`; a later ``fit`` with the same data and settings finds
          the file and continues from it, bit for bit equal to an uninterrupted fit.  A file written
          for other data or settings is refused (``ValueError`` naming it).

        Stops when the largest gradient component is below 1e-5, the relative decrease of the loss
        in one iteration is below 2.2e-9, or after ``max_iter`` iterations.  :attr:`loss_history`
        holds the loss after each iteration (entry 0: the start).
        """
        from scipy.optimize import line_search

        from .._interrupt import deferred_sigint

        q = check_array(q, "q", dtype=np.float64, ndim=2, finite=True)
        p = check_array(p, "p", dtype=np.float64, shape=q.shape, finite=True)
        K = check_int(n_layers, "n_layers", minimum=1, maximum=q.shape[1] - 1)
        ridge = check_float(ridge, "ridge", nonnegative=True)
        max_iter = check_int(max_iter, "max_iter", minimum=1, maximum=10**6)
        progress = check_bool(progress, "progress")
        memo = {}

        def fg(x):  # loss and gradient, computed once per point (the line search asks for both)
            key = x.tobytes()
            if key not in memo:
                memo.clear()
                memo[key] = self._loss_grad(x, q, p, K, ridge)
            return memo[key]

        finger = self._fit_fingerprint(q, p, K, ridge)
        state = None
        if checkpoint is not None:
            from ..io import checkpoint_path

            checkpoint = checkpoint_path(checkpoint)
            if checkpoint.is_file():
                state = self._load_fit_state(checkpoint, finger)
        if state is None:
            x = np.zeros(self.n_basis)
            f, g = fg(x)
            state = dict(x=x, f=f, g=g, S=[], Y=[], it=0, history=[f], done=False)
        from .._progress import bar as progress_bar

        with progress_bar(progress=progress, total=max_iter, initial=min(state["it"], max_iter),
                          desc="hamiltonian network fit", leave=False) as bar:
            while state["it"] < max_iter and not state["done"]:
                x, f, g, S, Y = state["x"], state["f"], state["g"], state["S"], state["Y"]
                done = float(np.max(np.abs(g))) <= 1e-5
                if not done:
                    d = -_two_loop(g, S, Y)
                    if not S:
                        d = d / max(1.0, float(np.linalg.norm(g)))
                    alpha, _, _, f_new, _, _ = line_search(lambda z: fg(z)[0], lambda z: fg(z)[1], x, d, gfk=g,
                                                           old_fval=f, c1=1e-4, c2=0.9, maxiter=40)
                    if alpha is None:  # no Wolfe point along d: converged as far as this search can tell
                        done = True
                if done:
                    with deferred_sigint():
                        state["done"] = True
                        self._save_fit_state(checkpoint, finger, state)
                    break
                x_new = x + alpha * d
                f_new, g_new = fg(x_new)
                s_k, y_k = x_new - x, g_new - g
                S2, Y2 = list(S), list(Y)
                if float(s_k @ y_k) > 1e-12 * float(y_k @ y_k):
                    S2.append(s_k)
                    Y2.append(y_k)
                    del S2[:-10], Y2[:-10]
                with deferred_sigint():  # the iteration lands whole, or not at all
                    stalled = (f - f_new) <= 2.2e-9 * max(abs(f), abs(f_new), 1.0)
                    state.update(x=x_new, f=f_new, g=g_new, S=S2, Y=Y2, it=state["it"] + 1,
                                 history=state["history"] + [f_new], done=bool(stalled))
                    self.a = x_new
                    self._save_fit_state(checkpoint, finger, state)
                bar.update(1)
                bar.set_postfix(loss=f"{f_new:.3e}", refresh=False)
        self.a = state["x"]
        self.loss_history = list(state["history"])
        return float(state["f"])

    def _save_fit_state(self, path, finger, st) -> None:
        if path is None:
            return
        from ..io import save_checkpoint

        m = len(st["S"])
        save_checkpoint(path, self.FIT_KIND, dict(fingerprint=finger, iteration=st["it"], done=st["done"],
                                                  n_basis=self.n_basis, pairs=m),
                        dict(x=st["x"], g=st["g"], f=np.array(st["f"]), history=np.array(st["history"]),
                             S=np.array(st["S"]).reshape(m, self.n_basis),
                             Y=np.array(st["Y"]).reshape(m, self.n_basis)))

    def _load_fit_state(self, path, finger) -> dict:
        from ..io import CorruptFileError, load_checkpoint

        meta, arr = load_checkpoint(path, self.FIT_KIND)
        if meta.get("fingerprint") != finger:
            raise ValueError(f"{path} is a fit checkpoint for other data or settings (network, n_layers, ridge): "
                             "remove it or give another checkpoint path")
        try:
            n, m, it = self.n_basis, int(meta["pairs"]), int(meta["iteration"])
            st = dict(x=arr["x"].astype(np.float64), g=arr["g"].astype(np.float64), f=float(arr["f"]),
                      S=list(arr["S"].astype(np.float64)), Y=list(arr["Y"].astype(np.float64)), it=it,
                      history=[float(v) for v in arr["history"]], done=bool(meta["done"]))
            ok = (st["x"].shape == st["g"].shape == (n,) and arr["S"].shape == arr["Y"].shape == (m, n)
                  and 0 <= m <= 10 and it >= 0 and len(st["history"]) == it + 1)
            ok = ok and all(np.all(np.isfinite(v)) for v in (st["x"], st["g"], arr["S"], arr["Y"], arr["history"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(f"{path} is not a valid fit checkpoint: {exc}") from None
        if not ok:
            raise CorruptFileError(f"{path} is not a valid fit checkpoint: inconsistent shapes or values")
        return st

    def jacobian_determinant(self, q) -> np.ndarray:
        """Determinant of one layer's Jacobian d(q', p')/d(q, p) (1 for the symplectic step)."""
        q = check_array(q, "q", dtype=np.float64, finite=True)
        dg = self._phi(q)[1] @ self.a
        c = self.dt * self.dt * dg / self.mass
        if self.step == "symplectic_euler":
            return (1.0 + c) * 1.0 - (self.dt / self.mass) * (self.dt * dg)
        return 1.0 - c


def _two_loop(g, S, Y):
    """L-BFGS's two-loop recursion: the inverse-Hessian estimate applied to ``g``."""
    r = g.copy()
    al = []
    for s_k, y_k in zip(reversed(S), reversed(Y)):
        a = float(s_k @ r) / float(y_k @ s_k)
        al.append(a)
        r -= a * y_k
    if S:
        r *= float(S[-1] @ Y[-1]) / float(Y[-1] @ Y[-1])
    for (s_k, y_k), a in zip(zip(S, Y), reversed(al)):
        r += (a - float(y_k @ r) / float(y_k @ s_k)) * s_k
    return r
