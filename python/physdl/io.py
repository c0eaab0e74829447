"""Save and load runs as HDF5 (or NPZ) with their parameters, seed and the physdl version.

A run is a dict of NumPy arrays plus a dict of JSON-serialisable parameters; ``kind`` names what the
file holds (e.g. ``"phases/ising-dataset"``) so that a file of another kind is refused on load.

Examples
--------
>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "run.h5")
>>> save_run(path, {"x": np.arange(3)}, {"beta": 0.44, "seed": 1}, kind="demo")
>>> arrays, params = load_run(path, kind="demo")
>>> arrays["x"].tolist(), params["beta"]
([0, 1, 2], 0.44)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["save_run", "load_run", "read_params"]

_SUFFIXES = (".h5", ".hdf5", ".npz")


def _check_path(path) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    p = Path(path)
    if p.suffix not in _SUFFIXES:
        raise ValueError(f"path must end in one of {_SUFFIXES}, got {p.name!r}")
    return p


def save_run(path, arrays: dict, params: dict, kind: str) -> None:
    """Write ``arrays`` and ``params`` (with ``kind`` and the physdl version) to ``path``.

    Parameters
    ----------
    path : str or Path
        ``.h5``/``.hdf5`` (HDF5 through h5py, compressed) or ``.npz``.
    arrays : dict of str -> array_like
    params : dict
        JSON-serialisable run parameters (seed, temperatures, sizes, ...).
    kind : str
        What the file holds; :func:`load_run` checks it.
    """
    from . import __version__

    p = _check_path(path)
    if not isinstance(arrays, dict) or not all(isinstance(k, str) for k in arrays):
        raise TypeError("arrays must be a dict with str keys")
    if not isinstance(kind, str) or not kind:
        raise ValueError("kind must be a non-empty string")
    meta = json.dumps({"kind": kind, "physdl_version": __version__, "params": params}, sort_keys=True)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    if p.suffix == ".npz":
        with open(tmp, "wb") as f:
            np.savez_compressed(f, __meta__=np.array(meta), **{k: np.asarray(v) for k, v in arrays.items()})
    else:
        import h5py

        with h5py.File(tmp, "w") as f:
            f.attrs["physdl_meta"] = meta
            for k, v in arrays.items():
                v = np.asarray(v)
                f.create_dataset(k, data=v, compression="gzip" if v.size > 1024 else None)
    tmp.replace(p)  # atomic: a crash never leaves a half-written file under the final name


def read_params(path) -> dict:
    """The metadata of a saved run: ``{"kind", "physdl_version", "params"}``."""
    p = _check_path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such run file: {p}")
    if p.suffix == ".npz":
        with np.load(p) as z:
            return json.loads(str(z["__meta__"]))
    import h5py

    with h5py.File(p, "r") as f:
        if "physdl_meta" not in f.attrs:
            raise ValueError(f"{p} is not a physdl run file (no physdl metadata)")
        return json.loads(f.attrs["physdl_meta"])


def load_run(path, kind: str | None = None) -> tuple[dict, dict]:
    """Read a run written by :func:`save_run`; returns ``(arrays, params)``.

    Raises ``ValueError`` if ``kind`` is given and the file holds another kind.
    """
    p = _check_path(path)
    meta = read_params(p)
    if kind is not None and meta.get("kind") != kind:
        raise ValueError(f"{p} holds {meta.get('kind')!r}, not {kind!r}")
    if p.suffix == ".npz":
        with np.load(p) as z:
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    else:
        import h5py

        with h5py.File(p, "r") as f:
            arrays = {k: f[k][()] for k in f.keys()}
    return arrays, meta["params"]
