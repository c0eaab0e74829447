"""Sphinx configuration for the physdl documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (or ``make -C docs html``).
Tutorials and task examples run while the docs build (``_ext/runscript.py``); a broken one fails it.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import physdl  # noqa: E402

project = "physdl"
author = "physdl developers"
release = physdl.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "runscript",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "tutorials/*.py", "tasks/*.py", "README.md"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Docstrings are written for readers of the source; cross-references to names Sphinx cannot resolve
# (numpy types, private classes) are not errors.
nitpicky = False
suppress_warnings = ["myst.xref_missing", "toc.empty_glob", "ref.python"]

html_theme = "alabaster"
html_title = f"physdl {release}"


# Objects re-exported by several subpackages (``stats.Estimate`` is also ``lattice.Estimate``) are
# documented at each public home; Sphinx warns about the shared canonical name each time, with no
# warning type to suppress, so that one message is filtered here.
import logging as _logging  # noqa: E402


class _NoDuplicateReexports(_logging.Filter):
    def filter(self, record):
        msg = str(record.msg)
        return "duplicate object description" not in msg


_logging.getLogger("sphinx.sphinx.domains.python").addFilter(_NoDuplicateReexports())


class _OptionalPages(_logging.Filter):
    """docs/cython.md is optional (the toctree globs ``cython*``); an empty match is not an error."""

    def filter(self, record):
        return "cython*" not in str(record.msg % record.args if record.args else record.msg)


_logging.getLogger("sphinx.sphinx.directives.other").addFilter(_OptionalPages())

import re as _re  # noqa: E402

_BARS = _re.compile(r"(?<![|\\`])\|([^|`\n]+?)\|(?![|_`])")


def _escape_math_bars(app, what, name, obj, options, lines):
    """Docstrings write |m| for absolute values; reST would read it as a substitution."""
    for i, line in enumerate(lines):
        if not line.lstrip().startswith(("|", "+")):
            line = _BARS.sub(r"\\|\1\\|", line)
            lines[i] = _re.sub(r"(^|\s)\|(?=\w)", r"\1\\|", line)       # kets |s1 s2>


def setup(app):
    app.connect("autodoc-process-docstring", _escape_math_bars)
