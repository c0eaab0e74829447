import subprocess
import sys

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
