"""Energy and specific heat of L = 16 and 32 tori against Kaufman's exact finite-torus values
(physdl.lattice.exact) within 4 standard errors, for every update and storage."""

from __future__ import annotations

import pytest

from physdl import lattice
from physdl.lattice.exact import kaufman_thermodynamics

BETAS = (0.3, 0.4407, 0.5)
UPDATES = [dict(update="metropolis"), dict(update="heat_bath"), dict(update="wolff"), dict(update="swendsen_wang"),
           dict(update="metropolis", storage="multispin"), dict(update="heat_bath", storage="multispin")]
SWEEPS = {16: 20_000, 32: 12_000}


@pytest.mark.parametrize("L", [16, 32])
@pytest.mark.parametrize("kw", UPDATES, ids=lambda kw: "-".join(kw.values()))
def test_energy_and_specific_heat_match_kaufman(L, kw):
    model = lattice.Ising((L, L))
    for i, beta in enumerate(BETAS):
        sim = lattice.Simulation(model, beta=beta, seed=100 + i, backend="cpp", **kw)
        res = sim.run(SWEEPS[L], burn_in=1000)
        ex = kaufman_thermodynamics(beta, L)
        e, c = float(ex["energy"]), float(ex["specific_heat"])
        assert abs(res.energy.value - e) < 4 * res.energy.error, (beta, res.energy, e)
        assert abs(res.specific_heat.value - c) < 4 * res.specific_heat.error, (beta, res.specific_heat, c)
        # the errors are meaningful: a few per mille of the energy at most
        assert res.energy.error < 0.01
