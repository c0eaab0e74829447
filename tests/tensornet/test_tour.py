"""The tensornet tour entry runs (quick) and every row meets its reference."""

import pytest

from physdl.tour import registry, run_tour


def test_registered():
    assert "tensornet_dmrg" in registry()


@pytest.mark.slow
def test_tensornet_tour_quick(tmp_path):
    (res,) = run_tour(tmp_path, quick=True, only=["tensornet_dmrg"], progress=False)
    assert res.rows and all(r.ok for r in res.rows), [(r.quantity, r.reproduced, r.reference) for r in res.rows]
    assert all(f.exists() for f in res.figures)
