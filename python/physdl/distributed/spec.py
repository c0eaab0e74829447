"""Sweep definitions read from TOML files (``physdl sweep SPEC.toml``)."""

from __future__ import annotations

from pathlib import Path

from .sweep import grid, sweep
from .tasks import LatticeRun

_TASKS = {"lattice": LatticeRun}


class SpecError(ValueError):
    """A sweep specification file that cannot be used."""


def _load_toml(p: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise SpecError(f"{p}: reading TOML needs Python >= 3.11 or the tomli package") from None
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"{p}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SpecError(f"{p}: not valid TOML ({e})") from None


def parse_spec(path):
    """(task, points, out, seed) from a spec file; SpecError naming the file when it is unusable."""
    p = Path(path)
    d = _load_toml(p)
    unknown = set(d) - {"out", "seed", "task", "grid", "points"}
    if unknown:
        raise SpecError(f"{p}: unknown top-level key(s) {sorted(unknown)}; allowed: out, seed, task, grid, points")
    if not isinstance(d.get("task"), dict):
        raise SpecError(f"{p}: needs a [task] table with kind = one of {sorted(_TASKS)}")
    t = dict(d["task"])
    kind = t.pop("kind", None)
    if kind not in _TASKS:
        raise SpecError(f"{p}: [task] kind must be one of {sorted(_TASKS)}, got {kind!r}")
    try:
        task = _TASKS[kind](**t)
    except (TypeError, ValueError) as e:
        raise SpecError(f"{p}: [task] {e}") from None
    if ("grid" in d) == ("points" in d):
        raise SpecError(f"{p}: give exactly one of a [grid] table or a list of [[points]]")
    try:
        points = grid(**d["grid"]) if "grid" in d else list(d["points"])
    except (TypeError, ValueError) as e:
        raise SpecError(f"{p}: {e}") from None
    if "out" not in d or not isinstance(d["out"], str):
        raise SpecError(f"{p}: needs out = \"STORE.h5\"")
    out = Path(d["out"])
    if not out.is_absolute():
        out = p.parent / out
    seed = d.get("seed", 0)
    return task, points, out, seed


def run_spec(path, *, scheduler=None, workers=None, serial=False, progress=True):
    task, points, out, seed = parse_spec(path)
    client = "serial" if serial else scheduler
    try:
        return sweep(task, points, out, seed=seed, client=client, workers=workers, progress=progress)
    except (TypeError, ValueError) as e:
        raise SpecError(f"{Path(path)}: {e}") from None
