"""The shared geometry: numbering, neighbours, bonds and colourings on square and non-square shapes,
checked by brute force over coordinates (an independent construction) and against the lattice engine."""

import itertools

import numpy as np
import pytest

from physdl.geometry import FORWARD, Lattice
from physdl.lattice import Ising

SHAPES = [("chain", (5,)), ("chain", (2,)), ("square", (4, 6)), ("square", (3, 5)), ("square", (2, 3)),
          ("triangular", (3, 6)), ("triangular", (4, 5)), ("cubic", (2, 3, 4))]


def brute_bonds(kind, shape, pbc):
    """Bonds by looping over every coordinate and forward offset."""
    out = []
    for off in FORWARD[kind]:
        for x in itertools.product(*[range(s) for s in shape]):
            y = [xi + o for xi, o in zip(x, off)]
            ok = True
            for a, s in enumerate(shape):
                if pbc[a]:
                    y[a] %= s
                elif not 0 <= y[a] < s:
                    ok = False
            if ok:
                out.append((np.ravel_multi_index(x, shape), np.ravel_multi_index(tuple(y), shape)))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


@pytest.mark.parametrize("kind,shape", SHAPES)
@pytest.mark.parametrize("periodic", [True, False])
def test_bonds_match_brute_force(kind, shape, periodic):
    if periodic is False and any(s < 1 for s in shape):
        pytest.skip()
    pbc = (periodic,) * len(shape)
    lat = Lattice(kind, shape, pbc=pbc)
    assert np.array_equal(lat.bonds(), brute_bonds(kind, shape, pbc))
    # every bond appears in the neighbour table in both directions
    nbr = lat.neighbours()
    for i, j in lat.bonds():
        assert j in nbr[i] and i in nbr[j]
    assert np.count_nonzero(nbr >= 0) == 2 * len(lat.bonds())


@pytest.mark.parametrize("kind,shape", [s for s in SHAPES if min(s[1]) >= 2])
def test_same_tables_as_the_lattice_engine(kind, shape):
    lat, model = Lattice(kind, shape), Ising(shape, geometry=kind)
    assert np.array_equal(lat.neighbours(), model.neighbours())
    if lat.is_colourable():
        for a, b in zip(lat.colour_order(), model.colouring("checkerboard")):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("kind,shape", [("square", (4, 6)), ("triangular", (3, 6)), ("cubic", (2, 4, 6)),
                                        ("chain", (8,))])
def test_colouring_is_proper(kind, shape):
    lat = Lattice(kind, shape)
    assert lat.is_colourable()
    col = lat.sublattices()
    b = lat.bonds()
    assert np.all(col[b[:, 0]] != col[b[:, 1]])


def test_uncolourable_shape_is_reported():
    assert not Lattice("square", (3, 4)).is_colourable()
    assert Lattice("square", (3, 4), pbc=(False, True)).is_colourable()


def test_adjacency_energy_equals_bond_sum():
    lat = Lattice("square", (2, 3))  # periodic side of 2: doubled bonds
    s = np.random.default_rng(0).choice([-1, 1], size=(20, lat.n_sites))
    K = lat.adjacency(0.7)
    iu = np.triu_indices(lat.n_sites, 1)
    e_matrix = -np.einsum("bi,ij,bj->b", s, np.triu(K, 1), s)
    b = lat.bonds()
    e_bonds = -0.7 * np.sum(s[:, b[:, 0]] * s[:, b[:, 1]], axis=1)
    assert np.allclose(e_matrix, e_bonds)
    assert np.allclose(K, K.T) and K[iu].sum() == pytest.approx(0.7 * len(b))


def test_next_nearest_square():
    lat = Lattice("square", (4, 4))
    nnn = lat.bonds(next_nearest=True)
    assert len(nnn) == 2 * 16
    d = lat.displacement(nnn[:, 0], nnn[:, 1])
    assert np.all(np.abs(d).sum(axis=1) == 2) and np.all(np.abs(d) == 1)


def test_index_round_trip_and_displacement():
    lat = Lattice("cubic", (2, 3, 5))
    c = lat.coordinates()
    assert np.array_equal(lat.index(c), np.arange(lat.n_sites))
    assert np.array_equal(lat.index(c + np.array([2, 3, 5])), np.arange(lat.n_sites))
    d = lat.displacement(0, lat.index([0, 2, 4]))
    assert d.tolist() == [0, -1, -1]


@pytest.mark.parametrize("bad,exc", [(dict(kind="hex"), ValueError), (dict(shape=(4,)), ValueError),
                                     (dict(shape=(1, 4)), ValueError), (dict(shape=(4, 2.5)), TypeError),
                                     (dict(pbc=(True,)), ValueError), (dict(shape=(2**20, 2**20)), ValueError)])
def test_bad_input_is_refused(bad, exc):
    kw = dict(kind="square", shape=(4, 4)) | bad
    with pytest.raises(exc):
        Lattice(**kw)
