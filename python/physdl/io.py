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

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["save_run", "load_run", "read_params", "atomic_write", "save_checkpoint", "load_checkpoint",
           "CorruptFileError"]

_SUFFIXES = (".h5", ".hdf5", ".npz")
CHECKPOINT_FORMAT = 1


class CorruptFileError(ValueError):
    """A file that is missing parts, truncated, of another kind, or fails its checksum."""


# ----------------------------------------------------------------------------- atomic writes
def atomic_write(path, write) -> Path:
    """Write a file so that ``path`` holds either its old content or the complete new one.

    ``write(tmp)`` writes the new content to the temporary path ``tmp`` (in the same folder); the
    file is then flushed to disk (fsync) and renamed over ``path``.  If ``write`` raises (or the
    process is interrupted), the temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or Path
    write : callable taking a Path

    Returns
    -------
    Path of the written file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = atomic_write(os.path.join(tempfile.mkdtemp(), "a.txt"), lambda t: t.write_text("hi"))
    >>> p.read_text()
    'hi'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, p)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - directories cannot be opened on some systems
        pass
    return p


def atomic_savez(path, arrays: dict) -> Path:
    """``np.savez`` of ``arrays`` to exactly ``path`` (no ``.npz`` appended), through :func:`atomic_write`."""

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    return atomic_write(path, write)


def _digest(meta: str, arrays: dict) -> str:
    h = hashlib.sha256(meta.encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        if a.dtype.kind == "U":  # by content, not by width: HDF5 gives the strings back at their own width
            h.update(f"\0{k}\0U\0{a.shape}\0".encode())
            h.update("\0".join(a.ravel().tolist()).encode("utf-8", "surrogatepass"))
        else:
            h.update(f"\0{k}\0{a.dtype.str}\0{a.shape}\0".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _plain_arrays(arrays, what: str = "arrays") -> dict:
    if not isinstance(arrays, dict) or not all(isinstance(k, str) for k in arrays):
        raise TypeError(f"{what} must be a dict with str keys")
    out = {}
    for k, v in arrays.items():
        if k.startswith("__"):
            raise ValueError(f"{what} key {k!r} is reserved (keys must not start with '__')")
        a = np.asarray(v)
        if a.dtype.kind not in "biufcUS":
            raise TypeError(f"{what}[{k!r}] must be a numeric, bool or string array, got dtype {a.dtype}")
        out[k] = a
    return out


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, kind: str, meta: dict, arrays: dict) -> Path:
    """Write a checkpoint atomically: an uncompressed ``.npz`` with a kind tag and a SHA-256 checksum.

    Any long computation (a Monte Carlo chain, a training run, ...) saves its state through this,
    and :func:`load_checkpoint` refuses a file that is truncated, of another kind, or whose
    content does not match its checksum.  ``path`` gets ``.npz`` appended unless it ends in it.

    Parameters
    ----------
    path : str or Path
    kind : str
        What the file holds, e.g. ``"lattice/simulation"``.
    meta : dict
        JSON-serialisable parameters and counters.
    arrays : dict of str -> array

    Returns
    -------
    Path actually written.

    Examples
    --------
    >>> import tempfile, os
    >>> p = save_checkpoint(os.path.join(tempfile.mkdtemp(), "c"), "demo", {"step": 3}, {"x": np.arange(2)})
    >>> m, a = load_checkpoint(p, "demo")
    >>> m["step"], a["x"].tolist(), p.name
    (3, [0, 1], 'c.npz')
    """
    from . import __version__

    p = checkpoint_path(path)
    if not isinstance(kind, str) or not kind:
        raise ValueError("kind must be a non-empty string")
    arrays = _plain_arrays(arrays)
    try:
        text = json.dumps({"kind": kind, "format": CHECKPOINT_FORMAT, "physdl_version": __version__, "meta": meta},
                          sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"meta must be JSON-serialisable with finite numbers: {exc}") from None
    digest = _digest(text, arrays)

    return atomic_savez(p, dict(arrays, __meta__=np.array(text), __checksum__=np.array(digest)))


def checkpoint_path(path, existing: bool = False) -> Path:
    """The file a checkpoint name refers to: ``path`` itself if it ends in ``.npz``, else ``path.npz``.

    With ``existing=True`` an existing file named exactly ``path`` is taken as it is.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if p.suffix == ".npz" or (existing and p.is_file()):
        return p
    return p.with_name(p.name + ".npz")


def load_checkpoint(path, kind: str, legacy=None) -> tuple[dict, dict]:
    """Read a checkpoint written by :func:`save_checkpoint`; returns ``(meta, arrays)``.

    Raises ``FileNotFoundError`` for a missing file and :class:`CorruptFileError` (a ``ValueError``)
    naming the file for anything else wrong with it: not a checkpoint, truncated, another kind,
    another format version, or a checksum mismatch.

    ``legacy``, optional, reads the area's format from before these checkpoints: called with the
    arrays of a readable ``.npz`` that has no checkpoint header, it returns ``(meta, arrays)`` in
    today's layout, None when the file is not of that format either, or raises ``ValueError`` when
    it is but is damaged (reported naming the file).  The caller validates what it returns exactly
    as for a current file.
    """
    p = checkpoint_path(path, existing=True)
    if not p.is_file():
        raise FileNotFoundError(f"no such checkpoint file: {p}")
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # own handle: closed on errors too
            names = set(z.files)
            if "__meta__" not in names or "__checksum__" not in names:
                try:
                    old = legacy({k: z[k] for k in z.files}) if legacy is not None else None
                except ValueError as exc:  # of the old format but damaged: say what is wrong
                    raise CorruptFileError(f"{p}: {exc}") from None
                if old is None:
                    raise CorruptFileError(f"{p} is not a physdl checkpoint (no metadata or checksum)")
                return old
            text = str(z["__meta__"])
            digest = str(z["__checksum__"])
            arrays = {k: z[k] for k in z.files if not k.startswith("__")}
    except CorruptFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise CorruptFileError(f"{p} is not a readable physdl checkpoint (truncated or corrupt: {exc})") from None
    try:
        head = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(f"{p}: its metadata is not valid JSON ({exc})") from None
    if not isinstance(head, dict) or not isinstance(head.get("meta"), dict):
        raise CorruptFileError(f"{p}: its metadata is not a physdl checkpoint header")
    if _digest(text, arrays) != digest:
        raise CorruptFileError(f"{p}: checksum mismatch (the file was modified or is damaged)")
    if head.get("kind") != kind:
        raise CorruptFileError(f"{p} holds {head.get('kind')!r}, not {kind!r}")
    if head.get("format") != CHECKPOINT_FORMAT:
        raise CorruptFileError(f"{p} has checkpoint format {head.get('format')!r}; this physdl reads "
                               f"format {CHECKPOINT_FORMAT}")
    return head["meta"], arrays


# ----------------------------------------------------------------------------- runs
def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    p = Path(path)
    if p.suffix not in _SUFFIXES:
        raise ValueError(f"path must end in one of {_SUFFIXES}, got {p.name!r}")
    return p


def save_run(path, arrays: dict, params: dict, kind: str) -> None:
    """Write ``arrays`` and ``params`` (with ``kind`` and the physdl version) to ``path``.

    The write is atomic (:func:`atomic_write`): on failure nothing is left behind and an existing
    file keeps its content.  A SHA-256 checksum of the content is stored and checked on load.

    Parameters
    ----------
    path : str or Path
        ``.h5``/``.hdf5`` (HDF5 through h5py, compressed) or ``.npz``.
    arrays : dict of str -> array_like
        Numeric, bool or string (unicode) arrays.
    params : dict
        JSON-serialisable run parameters (seed, temperatures, sizes, ...).
    kind : str
        What the file holds; :func:`load_run` checks it.
    """
    from . import __version__

    p = _check_path(path)
    arrays = _plain_arrays(arrays)
    if not isinstance(kind, str) or not kind:
        raise ValueError("kind must be a non-empty string")
    try:
        body = json.dumps({"kind": kind, "physdl_version": __version__, "params": params}, sort_keys=True,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be JSON-serialisable with finite numbers: {exc}") from None
    meta = json.dumps({"kind": kind, "physdl_version": __version__, "params": params,
                       "checksum": _digest(body, arrays)}, sort_keys=True)

    def write(tmp):
        if p.suffix == ".npz":
            with open(tmp, "wb") as f:
                np.savez_compressed(f, __meta__=np.array(meta), **arrays)
            return
        import h5py

        with h5py.File(tmp, "w") as f:
            f.attrs["physdl_meta"] = meta
            for k, v in arrays.items():
                if v.dtype.kind == "U":  # HDF5 has no fixed-width UCS-4: store UTF-8 strings
                    d = f.create_dataset(k, data=v.astype(object), dtype=h5py.string_dtype("utf-8"))
                    d.attrs["physdl_unicode"] = True
                else:
                    f.create_dataset(k, data=v, compression="gzip" if v.size > 1024 else None)

    atomic_write(p, write)


def _read(p: Path, arrays: bool):
    """(meta, arrays or None) of a run file; CorruptFileError naming it for anything unreadable."""
    if not p.is_file():
        raise FileNotFoundError(f"no such run file: {p}")
    try:
        if p.suffix == ".npz":
            with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                if "__meta__" not in z.files:
                    raise CorruptFileError(f"{p} is not a physdl run file (no physdl metadata)")
                text = str(z["__meta__"])
                data = {k: z[k] for k in z.files if k != "__meta__"} if arrays else None
        else:
            import h5py

            with h5py.File(p, "r") as f:
                if "physdl_meta" not in f.attrs:
                    raise CorruptFileError(f"{p} is not a physdl run file (no physdl metadata)")
                text = f.attrs["physdl_meta"]
                data = None
                if arrays:
                    data = {}
                    for k in f.keys():
                        d = f[k]
                        if not isinstance(d, h5py.Dataset):
                            raise CorruptFileError(f"{p}: entry {k!r} is not a dataset")
                        if d.attrs.get("physdl_unicode", False):
                            data[k] = np.asarray(d.asstr()[()], dtype=str)
                        else:
                            data[k] = d[()]
    except (CorruptFileError, FileNotFoundError):
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise CorruptFileError(f"{p} is not a readable physdl run file (truncated or corrupt: {exc})") from None
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise CorruptFileError(f"{p}: its physdl metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str) or "params" not in meta:
        raise CorruptFileError(f"{p}: its physdl metadata lacks 'kind' or 'params'")
    return meta, data


def read_params(path) -> dict:
    """The metadata of a saved run: ``{"kind", "physdl_version", "params"}``."""
    meta, _ = _read(_check_path(path), arrays=False)
    meta.pop("checksum", None)
    return meta


def load_run(path, kind: str | None = None) -> tuple[dict, dict]:
    """Read a run written by :func:`save_run`; returns ``(arrays, params)``.

    Raises ``ValueError`` if ``kind`` is given and the file holds another kind, and
    :class:`CorruptFileError` (a ``ValueError`` naming the file) if it is unreadable or its
    content does not match its checksum.
    """
    p = _check_path(path)
    meta, arrays = _read(p, arrays=True)
    if kind is not None and meta.get("kind") != kind:
        raise ValueError(f"{p} holds {meta.get('kind')!r}, not {kind!r}")
    if "checksum" in meta:
        body = json.dumps({k: meta[k] for k in ("kind", "physdl_version", "params")}, sort_keys=True)
        if _digest(body, arrays) != meta["checksum"]:
            raise CorruptFileError(f"{p}: checksum mismatch (the file was modified or is damaged)")
    return arrays, meta["params"]
