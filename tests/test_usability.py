"""Conveniences from issue 18: lazy subpackages, geometry from the shape, CLI usage errors."""

import subprocess
import sys

import numpy as np
import pytest


def test_subpackages_load_lazily_on_attribute_access():
    code = ("import sys, physdl; assert 'physdl.lattice' not in sys.modules; "
            "m = physdl.lattice; assert m is sys.modules['physdl.lattice']; "
            "assert 'lattice' in dir(physdl); print(m.Ising.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Ising"
    import physdl
    with pytest.raises(AttributeError, match="no attribute 'latice'"):
        physdl.latice


@pytest.mark.parametrize("shape, geometry", [((6,), "chain"), ((4, 6), "square"), ((3, 4, 5), "cubic")])
def test_geometry_is_inferred_from_the_number_of_sides(shape, geometry):
    from physdl import lattice
    inferred = lattice.Ising(shape)
    named = lattice.Ising(shape, geometry=geometry)
    assert inferred.geometry == geometry
    # the inferred model is the named one: same energy on the same configuration
    s = np.where(np.random.default_rng(0).random(shape) < 0.5, -1, 1).astype(np.int8)
    assert inferred.energy(s) == named.energy(s)
    assert lattice.EdwardsAnderson((4, 4, 4), seed=1).geometry == "cubic"


def test_geometry_inference_rejects_four_sides():
    from physdl import lattice
    with pytest.raises(ValueError, match="1, 2 or 3 sides"):
        lattice.Ising((2, 2, 2, 2))


def test_unknown_tour_entry_is_a_one_line_usage_error():
    out = subprocess.run([sys.executable, "-m", "physdl", "tour", "--only", "isingg"], capture_output=True,
                         text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "isingg" in lines[0] and "ising_kaufman" in lines[0]


def test_tour_row_status_follows_from_value_tolerance_and_reference():
    from physdl.tour import Row
    rng = np.random.default_rng(5)
    for _ in range(200):
        value, ref = rng.normal(size=2)
        err, allowance, sigmas = rng.uniform(0, 0.5), rng.uniform(0, 0.3), rng.choice([1.0, 2.0, 3.0])
        row = Row.measured("x", value, err, ref, sigmas=sigmas, allowance=allowance)
        assert row.tolerance == pytest.approx(sigmas * err + allowance)
        assert row.ok == (abs(value - ref) <= sigmas * err + allowance)
        assert f"{row.tolerance:.2g}" in row.reference
    # an ok passed by hand does not override the numbers
    assert Row("x", "", "", ok=True, value=1.0, error=0.01, reference_value=2.0).ok is False
    # the example: 3.462 +- 0.027 against 4/ln 3 is 6.6 standard errors off
    assert Row.measured("T_c", 3.462, 0.027, 3.6410, sigmas=3).ok is False
    with pytest.raises(ValueError, match="error, sigmas and allowance"):
        Row.measured("x", 1.0, -0.1, 1.0)


def test_readme_command_line_table_names_every_subcommand_and_flag():
    """The README's Command line section has a row per subcommand naming each of its flags and choices,
    read from the parser itself (so a flag added to the CLI without a README entry fails here)."""
    import argparse
    import re
    from pathlib import Path

    from physdl.cli import _parser

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `physdl (\w[\w-]*)", line)
        if m:
            rows[m.group(1)] = line
    p = _parser()
    top = next(line for line in section.splitlines() if line.startswith("| `physdl --version`"))
    for a in p._actions:
        for o in a.option_strings:
            if o.startswith("--") and o != "--help":
                assert o in top, o
    (sub,) = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(rows), (set(sub.choices) ^ set(rows))
    for name, sp in sub.choices.items():
        for a in sp._actions:
            for o in a.option_strings:
                if o.startswith("--") and o != "--help":
                    assert f"`{o}" in rows[name], (name, o)
            if not a.option_strings and a.choices:
                for c in a.choices:
                    assert f"`{c}`" in rows[name] or c in rows[name].split("|")[1], (name, c)


def test_readme_links_the_docs_and_every_tutorial():
    """The README links the documentation's sources and each tutorial, and every relative link resolves."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [l for l in links if "://" not in l and not l.startswith("mailto:")]
    missing = [l for l in local if not (root / l).exists()]
    assert not missing, missing
    for t in sorted((root / "docs" / "tutorials").glob("ch*.py")):
        assert f"](docs/tutorials/{t.name})" in text, t.name
    for page in ("docs/index.md", "docs/getting-started.md", "docs/tasks.md"):
        assert f"]({page})" in text, page
