"""The engines / applications rule (docs/design-notes.md, "Engines and applications"), checked by
parsing every module's imports with ``ast`` (nothing is imported, no import-time magic).

* foundation modules import only foundation modules;
* engines import foundation and engines, never an application or a front end;
* an application imports foundation and engines, never another application or a front end;
* front ends import anything.

Every top-level subpackage or module of ``python/physdl`` must appear in KINDS: a new one fails
here until it is classified (one line below)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "python" / "physdl"

#: The one table: dotted name under physdl -> kind.  The longest matching prefix wins, so a part of a
#: subpackage can differ from the rest ("quantum.vmc" is an application inside the "quantum" engine).
KINDS = {
    # foundation
    "random": "foundation", "stats": "foundation", "_backend": "foundation", "_validate": "foundation",
    "_config": "foundation", "io": "foundation", "_interrupt": "foundation", "_pieces": "foundation",
    "_progress": "foundation",
    # engines
    "geometry": "engine", "lattice": "engine", "nn": "engine", "tensornet": "engine", "sampling": "engine",
    "quantum": "engine", "operators": "engine",
    # applications (the book's chapters)
    "info": "application", "phases": "application", "generative": "application", "slmc": "application",
    "inverse": "application", "dynamics": "application", "hopfield": "application",
    "boltzmann": "application", "vmc": "application", "quantum.vmc": "application",
    "holography": "application",
    # front ends (and the package's own entry points and tooling)
    "tour": "front end", "cli": "front end", "distributed": "front end", "__init__": "front end",
    "__main__": "front end", "_stubs": "front end",
    "quantum._cli": "front end",
}
ALLOWED = {
    "foundation": {"foundation"},
    "engine": {"foundation", "engine"},
    "application": {"foundation", "engine"},
    "front end": {"foundation", "engine", "application", "front end"},
}
COMPILED = {"_core", "_cuda"}  # extension modules: below everything, importable by anyone


def kind_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        kind = KINDS.get(".".join(parts[:k]))
        if kind is not None:
            return kind
    return None


def unit_of(dotted: str) -> str:
    """The classified unit a dotted name belongs to (its longest prefix in KINDS)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in KINDS:
            return ".".join(parts[:k])
    return parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every physdl module ``path`` imports (top level or inside functions), as dotted names under physdl."""
    name = module_name(path)
    is_pkg = path.name == "__init__.py"
    package = name.split(".") if is_pkg else name.split(".")[:-1]
    if name == "__init__":
        package = []
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "physdl" or a.name.startswith("physdl."):
                    out.append((node.lineno, a.name[len("physdl."):] if "." in a.name else ""))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and (node.module == "physdl" or node.module.startswith("physdl.")):
                    base = node.module[len("physdl"):].lstrip(".")
                else:
                    continue
            else:
                up = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                if node.level - 1 > len(package):
                    raise AssertionError(f"{path}: relative import above the package")
                base = ".".join(up + ([node.module] if node.module else []))
            if base:
                out.append((node.lineno, base))
            else:  # from physdl import x / from .. import x: x is a subpackage, a module or an attribute
                # of physdl/__init__.py (__version__, set_backend): attributes are not layers
                out.extend((node.lineno, a.name) for a in node.names
                           if (ROOT / a.name).is_dir() or (ROOT / f"{a.name}.py").is_file())
    return out


def all_modules():
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_subpackage_is_classified():
    tops = {p.name if p.is_dir() else p.stem for p in ROOT.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py")}
    missing = sorted(t for t in tops if kind_of(t) is None)
    assert not missing, (f"classify {missing} in the KINDS table of tests/test_layers.py (foundation, engine, "
                         "application or front end; see docs/design-notes.md)")


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_respect_the_layers(path):
    me = module_name(path)
    my_unit, my_kind = unit_of(me), kind_of(me)
    assert my_kind is not None, f"{me} is not classified in KINDS"
    bad = []
    for line, target in imported_names(path):
        if not target or target.split(".")[0] in COMPILED:
            continue
        unit, kind = unit_of(target), kind_of(target)
        if kind is None:
            bad.append(f"line {line}: imports unclassified physdl.{target}")
        elif unit == my_unit or my_unit.startswith(unit + ".") or unit.startswith(my_unit + "."):
            # inside one unit; an application part (quantum.vmc) may use its engine (quantum) but
            # the engine may not import its application part
            if kind == "application" and my_kind != "application" and my_kind != "front end":
                bad.append(f"line {line}: the {my_kind} physdl.{me} imports the application physdl.{target}")
        elif kind not in ALLOWED[my_kind]:
            bad.append(f"line {line}: the {my_kind} physdl.{me} imports the {kind} physdl.{target}")
    assert not bad, f"{path.relative_to(ROOT)} breaks the layering rule:\n  " + "\n  ".join(bad)


def test_the_checker_catches_violations(tmp_path):
    """The parser sees relative, absolute and function-level imports (so the rule can fail)."""
    pkg = tmp_path / "physdl"
    (pkg / "phases").mkdir(parents=True)
    (pkg / "lattice").mkdir()
    (pkg / "phases" / "__init__.py").write_text("from ..lattice import Ising\nfrom ..info import entropy\n")
    (pkg / "lattice" / "x.py").write_text("def f():\n    from physdl.phases import ising_dataset\n")
    global ROOT
    old, ROOT = ROOT, pkg
    try:
        assert [t for _, t in imported_names(pkg / "phases" / "__init__.py")] == ["lattice", "info"]
        assert [t for _, t in imported_names(pkg / "lattice" / "x.py")] == ["phases"]
        with pytest.raises(AssertionError, match="application physdl.info"):
            test_imports_respect_the_layers(pkg / "phases" / "__init__.py")
        with pytest.raises(AssertionError, match="engine physdl.lattice.x imports the application"):
            test_imports_respect_the_layers(pkg / "lattice" / "x.py")
    finally:
        ROOT = old
