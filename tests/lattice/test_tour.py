"""The lattice tour entry runs in quick mode and reproduces Kaufman's values."""

from __future__ import annotations


def test_lattice_tour_quick(tmp_path):
    from physdl.tour import registry

    rep = registry()["ising_kaufman"]
    res = rep.func(tmp_path, True, False)
    assert res.ok, [r for r in res.rows if not r.ok]
    assert len(res.rows) == 6
    assert all(p.exists() for p in res.figures)
