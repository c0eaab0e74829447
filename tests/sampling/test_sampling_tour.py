"""The ch. 5 tour entries run in quick mode and every reproduced number agrees with its reference."""

import pytest

from physdl.tour import registry


@pytest.mark.parametrize("name", ["weather_markov", "ising_exact"])
def test_tour_entry(tmp_path, name):
    rep = registry()[name]
    res = rep.func(tmp_path, True, False)
    assert res.rows and res.ok, [r for r in res.rows if not r.ok]
    assert all(f.exists() for f in res.figures)
