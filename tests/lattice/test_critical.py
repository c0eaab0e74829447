"""Critical behaviour: Binder-cumulant crossings at the exact Tc of the square (Onsager) and
triangular (4 / ln 3) lattices; Wolff beats Metropolis in autocorrelation time at Tc."""

from __future__ import annotations

import numpy as np
import pytest

from physdl import lattice
from physdl.lattice.exact import critical_temperature


def _binder_line(geometry, L, temps, sweeps, seed):
    """Weighted straight-line fit U_L(T) = a + b (T - T0) through Wolff estimates."""
    model = lattice.Ising((L, L), geometry=geometry)
    U, dU = [], []
    for i, T in enumerate(temps):
        res = lattice.Simulation(model, T=T, update="wolff", seed=seed + i, backend="cpp").run(sweeps, burn_in=500)
        U.append(res.binder.value)
        dU.append(res.binder.error)
    U, dU = np.array(U), np.array(dU)
    T0 = np.mean(temps)
    coef = np.polyfit(np.asarray(temps) - T0, U, 1, w=1.0 / dU)
    return coef, T0


@pytest.mark.slow
@pytest.mark.parametrize("geometry,sizes,temps", [
    ("square", (16, 32), np.linspace(2.24, 2.30, 5)),
    ("triangular", (12, 24), np.linspace(3.58, 3.70, 5)),
])
def test_binder_crossing_gives_tc(geometry, sizes, temps):
    tc = critical_temperature(geometry)
    (b1, a1), T0 = _binder_line(geometry, sizes[0], temps, 20_000, seed=10)
    (b2, a2), _ = _binder_line(geometry, sizes[1], temps, 20_000, seed=50)
    assert b2 < b1 < 0  # the larger lattice's cumulant falls faster through Tc
    t_cross = T0 + (a1 - a2) / (b2 - b1)
    assert abs(t_cross - tc) / tc < 0.005, f"crossing at T = {t_cross:.4f}, exact Tc = {tc:.4f}"


@pytest.mark.slow
def test_wolff_autocorrelation_ten_times_shorter_than_metropolis_at_tc():
    model = lattice.Ising((32, 32))
    tc = critical_temperature("square")
    met = lattice.Simulation(model, T=tc, update="metropolis", seed=3, backend="cpp").run(100_000, burn_in=2000)
    wolff = lattice.Simulation(model, T=tc, update="wolff", seed=3, backend="cpp").run(20_000, burn_in=200)
    # both in sweeps (a Wolff sweep flips about N spins)
    assert 0.5 < wolff.extra["flipped_per_sweep"] / model.n_sites < 2.0
    assert wolff.tau_abs_m.value * 10 <= met.tau_abs_m.value, (wolff.tau_abs_m, met.tau_abs_m)
    # and both sample the same distribution
    d = met.abs_magnetization.value - wolff.abs_magnetization.value
    assert abs(d) < 4 * np.hypot(met.abs_magnetization.error, wolff.abs_magnetization.error)
