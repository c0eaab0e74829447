"""Hamiltonian integrators over many initial states and Lyapunov exponents (Benettin's method)."""

from __future__ import annotations

import numpy as np

from .. import _backend
from .._validate import check_array, check_choice, check_float, check_int

SYSTEMS = ("harmonic", "pendulum", "double_well", "henon_heiles")
METHODS = ("symplectic_euler", "leapfrog", "yoshida4", "rk4")
_DIM = {"harmonic": 1, "pendulum": 1, "double_well": 1, "henon_heiles": 2}
_MAX_STEPS = 10**10

__all__ = ["SYSTEMS", "METHODS", "energy", "integrate", "lorenz_lyapunov", "standard_map_lyapunov",
           "henon_heiles_lyapunov"]


def _states(system, q, p):
    system = check_choice(system, "system", SYSTEMS)
    d = _DIM[system]
    q = check_array(q, "q", dtype=np.float64, finite=True, nonempty=True)
    p = check_array(p, "p", dtype=np.float64, finite=True, nonempty=True)
    if q.ndim == 1:
        q = q.reshape(-1, d) if d > 1 else q.reshape(-1, 1)
    if p.ndim == 1:
        p = p.reshape(-1, d) if d > 1 else p.reshape(-1, 1)
    if q.ndim != 2 or q.shape[1] != d or q.shape != p.shape:
        raise ValueError(f"q and p must both have shape (n, {d}) for system {system!r}, got {q.shape} and {p.shape}")
    return system, q.copy(), p.copy()


def energy(system: str, q, p, backend: str | None = None) -> np.ndarray:
    """``H = p^2 / 2 + V(q)`` of states ``q, p`` (n, dim) (the kernels' own energy, zero steps)."""
    return integrate(system, "leapfrog", q, p, dt=1.0, steps=0, backend=backend)[2][:, 0]


def integrate(system: str, method: str, q, p, *, dt: float, steps: int, record_every: int = 1,
              backend: str | None = None):
    """Advance many initial states of ``H = p^2/2 + V(q)`` by ``steps`` steps of size ``dt``.

    Parameters
    ----------
    system : {"harmonic", "pendulum", "double_well", "henon_heiles"}
        ``V = q^2/2``, ``1 - cos q`` (eq. 9.30 with G = cos q - 1), ``q^4/4 - q^2/2``, or Henon-Heiles.
    method : {"symplectic_euler", "leapfrog", "yoshida4", "rk4"}
        Symplectic Euler, Stormer-Verlet, Yoshida's 4th-order composition (symplectic), or RK4 (not).
    q, p : array_like (n, dim)
    dt : float > 0
    steps : int >= 0
    record_every : int
        Energy recorded every this many steps.

    Returns
    -------
    q, p : final states (n, dim); E : energies (n, steps // record_every + 1).
    """
    system, q, p = _states(system, q, p)
    method = check_choice(method, "method", METHODS)
    dt = check_float(dt, "dt", positive=True)
    steps = check_int(steps, "steps", minimum=0, maximum=_MAX_STEPS)
    record_every = check_int(record_every, "record_every", minimum=1, maximum=max(steps, 1))
    nrec = steps // record_every + 1
    if q.shape[0] * nrec > 2**31:
        raise ValueError(f"the energy record would hold {q.shape[0] * nrec} values; raise record_every")
    backend = _backend.resolve(backend, ("cpp", "numba"))
    E = np.empty((q.shape[0], nrec))
    s, m = SYSTEMS.index(system), METHODS.index(method)
    from .. import _pieces

    # the states are independent: calls of bounded duration over blocks of them (either backend), so
    # Ctrl-C is seen between calls and every state is either integrated whole or left as it was
    if backend == "cpp":
        fn, extra = _backend.module("cpp").dynamics.integrate, ()
    else:
        from . import _numba

        fn, extra = _numba.integrate, (True,)
    _pieces.run(("dynamics.integrate", backend, s, m, steps, record_every), q.shape[0],
                lambda a, k: fn(s, m, q[a:a + k], p[a:a + k], dt, steps, record_every, E[a:a + k], *extra),
                cpp=backend == "cpp")
    return q, p, E


def lorenz_lyapunov(*, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0, x0=(1.0, 1.0, 1.0),
                    dt: float = 0.01, time: float = 1000.0, transient: float = 10.0, renorm: int = 10) -> np.ndarray:
    """Lyapunov spectrum of the Lorenz flow by Benettin's method (RK4 flow and tangent map, Gram-Schmidt).

    The spectrum sums to the divergence of the flow, ``-(sigma + 1 + beta)``.  For the standard parameters
    the largest exponent is about 0.9056 (J. C. Sprott, *Chaos and Time-Series Analysis*, 2003).
    """
    sigma, rho, beta = check_float(sigma, "sigma"), check_float(rho, "rho"), check_float(beta, "beta")
    dt = check_float(dt, "dt", positive=True)
    steps = int(check_float(time, "time", positive=True) / dt)
    tr = int(check_float(transient, "transient", nonnegative=True) / dt)
    renorm = check_int(renorm, "renorm", minimum=1, maximum=10**6)
    if steps < renorm or steps > _MAX_STEPS:
        raise ValueError(f"time / dt = {steps} steps must be in [renorm, {_MAX_STEPS}]")
    x0 = check_array(x0, "x0", dtype=np.float64, shape=(3,), finite=True)
    return np.array(_backend.module("cpp").dynamics.lorenz_lyapunov(x0, sigma, rho, beta, dt, steps, renorm, tr))


def standard_map_lyapunov(q0, p0, *, K: float, iterations: int = 100_000, transient: int = 1000) -> np.ndarray:
    """The two Lyapunov exponents (per iteration) of Chirikov's standard map from each initial point.

    Area preservation makes them sum to zero; regular (KAM) orbits have exponents near 0, chaotic ones a
    positive largest exponent (about ``ln(K / 2)`` for large K).
    """
    q0 = check_array(q0, "q0", dtype=np.float64, ndim=1, finite=True, nonempty=True)
    p0 = check_array(p0, "p0", dtype=np.float64, shape=q0.shape, finite=True)
    K = check_float(K, "K")
    iterations = check_int(iterations, "iterations", minimum=1, maximum=_MAX_STEPS)
    transient = check_int(transient, "transient", minimum=0, maximum=_MAX_STEPS)
    out = np.empty((q0.size, 2))
    fn = _backend.module("cpp").dynamics.standard_map_lyapunov
    from .. import _pieces

    _pieces.run(("dynamics.standard_map_lyapunov", iterations, transient), q0.size,
                lambda a, k: fn(q0[a:a + k], p0[a:a + k], K, iterations, transient, out[a:a + k]), cpp=True)
    return out


def henon_heiles_lyapunov(q0, p0, *, dt: float = 0.02, time: float = 5000.0, renorm: int = 10) -> np.ndarray:
    """Largest Lyapunov exponent of Henon-Heiles orbits from states ``q0, p0`` (n, 2), by the leapfrog
    flow and its tangent map: near 0 on regular (KAM) orbits, positive in the chaotic sea (E = 1/6)."""
    _, q0, p0 = _states("henon_heiles", q0, p0)
    dt = check_float(dt, "dt", positive=True)
    steps = int(check_float(time, "time", positive=True) / dt)
    renorm = check_int(renorm, "renorm", minimum=1, maximum=10**6)
    if not renorm <= steps <= _MAX_STEPS:
        raise ValueError(f"time / dt = {steps} steps must be in [renorm, {_MAX_STEPS}]")
    out = np.empty(q0.shape[0])
    fn = _backend.module("cpp").dynamics.henon_heiles_lyapunov
    from .. import _pieces

    _pieces.run(("dynamics.henon_heiles_lyapunov", steps, renorm), q0.shape[0],
                lambda a, k: fn(q0[a:a + k], p0[a:a + k], dt, steps, renorm, out[a:a + k]), cpp=True)
    return out
