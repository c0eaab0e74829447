import subprocess
import sys

import pytest

from physdl.tour import registry, run_tour


def test_registry_has_box_muller():
    assert "box_muller" in registry()


def test_box_muller_report(tmp_path):
    results = run_tour(tmp_path, quick=True, only=["box_muller"], progress=False)
    (res,) = results
    assert res.ok, [r for r in res.rows if not r.ok]
    assert (tmp_path / "box_muller.png").stat().st_size > 10_000
    md = (tmp_path / "index.md").read_text()
    assert "Kolmogorov-Smirnov" in md and "box_muller.png" in md
    assert "<table>" in (tmp_path / "index.html").read_text()


def test_cli_info_and_bad_tour_name(tmp_path):
    out = subprocess.run([sys.executable, "-m", "physdl", "info"], capture_output=True, text=True, check=True)
    assert "default backend" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "physdl", "tour", "--only", "nope", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "only must be one of" in bad.stderr


def test_report_escapes_pipes_in_cells(tmp_path):
    from physdl.tour import Result, Row, _write_report

    _write_report(tmp_path, [Result("t", "s", [Row.check("max |corr|", "0.99", "1", True, comparison="c > 0.8")])],
                  quick=True)
    line = next(l for l in (tmp_path / "index.md").read_text().splitlines() if "corr" in l)
    assert line.replace("\\|", "").count("|") == 7  # six cells


def test_report_round_trip_rederives_status(tmp_path):
    """run_tour writes report.npz; load_report gives the rows back, each numeric status derived again."""
    from physdl import io
    from physdl.tour import Result, Row, load_report

    results = run_tour(tmp_path, quick=True, only=["box_muller"], progress=False)
    back, quick = load_report(tmp_path / "report.npz")
    assert quick is True and [r.to_dict() for r in back] == [r.to_dict() for r in results]
    assert io.read_params(tmp_path / "report.npz")["kind"] == "tour/report"
    rows = [Row.measured("e", 1.0, 0.1, 1.05, allowance=0.01), Row.measured("nan", float("nan"), 0.0, 1.0),
            Row.check("n", "6", "6", True, comparison="count == 6")]
    res = Result("t", "s", rows, [tmp_path / "f.png"], 1.5)
    d = res.to_dict()
    assert d["ok"] is False and d["rows"][0]["tolerance"] == pytest.approx(0.31) and d["rows"][1]["value"] == "nan"
    again = Result.from_dict(d)
    assert again.to_dict() == d and [r.ok for r in again.rows] == [True, False, True]
    # an edited status is not believed: the row's numbers decide
    d["rows"][0]["ok"] = False
    d["rows"][1]["ok"] = True
    assert [r.ok for r in Result.from_dict(d).rows] == [True, False, True]
    r = repr(res)
    assert r == "Result('t': 3 rows, 2 ok, 1 off, 1 figures, 1.5 s)"
    assert repr(rows[2]) == "Row('n': 6 vs 6; ok if count == 6 [ok])"
    io.save_run(tmp_path / "other.npz", {"x": [1]}, {"seed": 1}, kind="demo")
    with pytest.raises(ValueError, match="other.npz"):
        load_report(tmp_path / "other.npz")
