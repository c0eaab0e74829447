"""The shared estimate type and the stream register."""

import json

import pytest

from physdl.random import streams
from physdl.stats import Estimate, format_value_error


@pytest.mark.parametrize("v,e,text", [(3.14159, 0.0123, "3.142 ± 0.012"), (12345.0, 67.0, "12345 ± 67"),
                                      (-0.0004567, 0.0000123, "-0.000457 ± 0.000012"),
                                      (1234.5, 250.0, "1230 ± 250"), (1.0, 0.0, "1 ± 0")])
def test_value_rounded_to_error(v, e, text):
    assert format_value_error(v, e) == text


def test_estimate_unpacks_formats_and_round_trips():
    est = Estimate(1.25, 0.5, variance=4.0, tau=2.0, tau_error=0.1, n=64)
    v, e = est
    assert (v, e) == (1.25, 0.5)
    assert format(est, ".2f") == "1.25 ± 0.50"
    d = json.loads(json.dumps(est.to_dict()))
    assert Estimate.from_dict(d) == est
    assert "tau=2.00 ± 0.10" in repr(est) and "n=64" in repr(est)
    assert est.within(2.5, 3) and not est.within(3.0, 3)
    with pytest.raises(ValueError):
        Estimate.from_dict({"value": 1.0})


def test_stream_register_has_no_undeclared_overlap():
    streams.check_register()
    regs = streams.REGISTER
    for i, a in enumerate(regs):
        for b in regs[i + 1:]:
            if a.overlaps(b):
                assert b.name in a.shares or a.name in b.shares, (a.name, b.name)
    # the only declared overlaps are the legacy low streams inside lattice chain 0
    shared = {r.name for r in regs if r.shares}
    assert all(streams.lookup(n).stop <= 16 for n in shared)


def test_overlapping_register_is_refused():
    bad = streams.REGISTER + (streams.StreamRange("x", 1 << 62, 2, "collides with disorder"),)
    with pytest.raises(ValueError, match="overlap"):
        streams.check_register(bad)
    with pytest.raises(ValueError):
        streams.stream("lattice.disorder", 1)
    with pytest.raises(ValueError):
        streams.stream("no.such.area")


def test_area_ranges_are_disjoint_from_lattice_streams():
    chain_top = streams.lookup("lattice.chain").stop
    for r in streams.REGISTER:
        if r.start >= streams.AREA_BASE:
            assert r.start >= chain_top and r.stop <= 2**64
