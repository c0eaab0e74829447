"""The documentation builds with warnings as errors, and its tutorials and task examples execute.

A tutorial that raises fails the build (docs/_ext/runscript.py), so this test fails with it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="Sphinx not installed (pip install '.[docs]')")
pytest.importorskip("myst_parser", reason="myst-parser not installed (pip install '.[docs]')")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build_with_warnings_as_errors(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
                          str(DOCS), str(tmp_path / "html")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    html = tmp_path / "html"
    assert (html / "index.html").is_file()
    # every tutorial page exists and shows the output its script printed at build time
    for script in sorted((DOCS / "tutorials").glob("ch*.py")):
        page = (html / "tutorials" / f"{script.stem}.html").read_text()
        assert "Output (run when these docs were built" in page, script.name
    tasks = (html / "tasks.html").read_text()
    assert tasks.count("Output (run when these docs were built") == 5


def test_task_examples_are_short():
    for script in (DOCS / "tasks").glob("*.py"):
        assert len(script.read_text().splitlines()) < 30, script.name


def test_runscript_fails_on_a_broken_script(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"import sys; sys.path.insert(0, {str(DOCS / '_ext')!r})\n"
                                 "extensions = ['myst_parser', 'runscript']\n")
    (src / "broken.py").write_text("raise RuntimeError('tutorial broke')\n")
    (src / "index.md").write_text("# t\n\n```{runscript} broken.py\n```\n")
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src),
                          str(tmp_path / "html")], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "tutorial broke" in out.stdout + out.stderr
