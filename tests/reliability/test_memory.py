"""Memory: estimates within 25% of the measured peak, and checks before large allocations."""

import tracemalloc

import numpy as np
import pytest

import physdl._validate as V
from physdl import lattice

CASES = [
    (((600, 600), "triangular"), dict(update="metropolis")),
    (((512, 512), "square"), dict(storage="byte")),  # explicit: the default is multi-spin here
    (((512, 512), "square"), dict(storage="byte", backend="numba")),
    (((256, 256), "square"), dict(update="wolff")),
    (((512, 512), "square"), dict(storage="multispin")),
    (((512, 512), "square"), dict(storage="multispin", backend="numba")),
    (((60, 60, 60), "cubic"), dict(update="swendsen_wang")),
]


@pytest.mark.parametrize("model,kw", CASES)
def test_memory_estimate_within_25_percent_of_peak(model, kw):
    m = lattice.Ising(*model)
    small = (6, 6) if model[1] == "triangular" else tuple(4 for _ in m.shape)
    lattice.Simulation(lattice.Ising(small, model[1]), T=2.3, **kw).run(1)  # load / compile kernels first
    tracemalloc.start()
    try:
        sim = lattice.Simulation(m, T=2.3, seed=1, **kw)
        sim.run(1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if sim.update in ("wolff", "swendsen_wang"):
        peak += 4 * m.n_sites  # the C++ kernels' stack / union-find parents (std::vector, not traced)
    ratio = sim.memory_estimate() / peak
    assert 0.75 <= ratio <= 1.25, ratio


def test_models_check_memory_before_allocating(monkeypatch):
    monkeypatch.setattr(V, "available_memory", lambda: 1 << 30)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match="EdwardsAnderson"):
            lattice.EdwardsAnderson((20000, 20000))
        with pytest.raises(MemoryError, match="SherringtonKirkpatrick"):
            lattice.SherringtonKirkpatrick(20000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    with pytest.raises(ValueError):
        lattice.EdwardsAnderson((20000, 20000))  # TooLarge is also a ValueError


def test_nn_uses_the_shared_available_memory_check(monkeypatch):
    """nn models are refused against available memory (physdl._validate.check_memory), as the lattices are."""
    import physdl._validate as v
    from physdl import nn

    monkeypatch.setattr(v, "available_memory", lambda: 1 << 20)  # 1 MiB available
    with pytest.raises(v.TooLarge, match="parameters"):
        nn.Sequential([nn.Dense(1000, 1000)], dtype="float64")
    monkeypatch.undo()
    nn.Sequential([nn.Dense(1000, 1000)], dtype="float64")
