"""What moved down into the lattice engine is the same object under its old names, with the same numbers:
data sets, the exact transition matrix, the critical temperatures and the phases stream numbers."""

from __future__ import annotations

import math

import numpy as np

from physdl import lattice, phases
from physdl.lattice import datasets, exact, transition
from physdl.random import Generator, streams
from physdl.sampling import markov


def test_re_exports_are_the_moved_objects():
    assert phases.ising_dataset is datasets.ising_dataset and phases.IsingDataset is datasets.IsingDataset
    assert markov.ising_transition_matrix is transition.ising_transition_matrix
    assert phases.DATASET_KIND == datasets.DATASET_KIND == "phases/ising-dataset"


def test_critical_temperatures_defined_once_with_the_published_values():
    assert lattice.SQUARE_TC is exact.SQUARE_TC and phases.TC_SQUARE is exact.SQUARE_TC
    assert lattice.TRIANGULAR_TC is exact.TRIANGULAR_TC and phases.TC_TRIANGULAR is exact.TRIANGULAR_TC
    assert exact.SQUARE_TC == 2.0 / math.log(1.0 + math.sqrt(2.0))  # Onsager; the value models.py had
    assert abs(math.sinh(2.0 / exact.SQUARE_TC) - 1.0) < 1e-15
    assert abs(math.exp(4.0 / exact.TRIANGULAR_TC) - 3.0) < 1e-14
    assert abs(phases.BETA_C_SQUARE * phases.TC_SQUARE - 1.0) < 1e-15


def test_phases_streams_keep_their_numbers():
    assert [streams.stream(n) for n in ("phases.dataset", "phases.training", "phases.thermometer")] == [11, 12, 13]


def test_dataset_split_draws_the_old_stream_and_samples_lattice_chains():
    ds = datasets.ising_dataset("square", 4, [1.5, 3.0], n_per_T=6, every=1, burn_in=5, seed=3, progress=False)
    # the chain of temperature i is lattice chain i of the seed (an independent run of the engine)
    sim = lattice.Simulation(lattice.Ising((4, 4)), T=3.0, update="wolff", seed=3, chain=1)
    np.testing.assert_array_equal(ds.configs[6:], sim.configurations(6, every=1, burn_in=5))
    train, test = ds.split(0.5, seed=9)
    order = Generator(9, stream=11).permutation(len(ds))  # the stream the split always used
    order = order[np.argsort(ds.T[order], kind="stable")]
    want = np.zeros(len(ds), bool)
    for t in ds.temperatures:
        idx = order[ds.T[order] == t]
        want[idx[:3]] = True
    np.testing.assert_array_equal(np.sort(test.T), np.sort(ds.T[want]))
    np.testing.assert_array_equal(test.configs, ds.configs[want])
