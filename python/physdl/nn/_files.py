"""Model and checkpoint files of physdl.nn: atomic writes, a kind tag, a checksum, validated reads.

A file is written to a temporary name in the same folder, flushed and fsync'ed, then renamed over
the destination (atomic on POSIX), so a crash leaves either the old file or the new one, never a
half-written one under the real name.  Each file carries ``kind`` (what it is) and a SHA-256 over
its metadata and arrays; a reader refuses a file whose kind or checksum does not match, naming the
file.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..io import atomic_savez

FORMAT = 1


def npz_path(path) -> Path:
    """The file ``np.savez`` would write for ``path`` (``.npz`` appended when missing)."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


def _digest(meta_json: str, arrays: dict) -> str:
    h = hashlib.sha256(meta_json.encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write(path, kind: str, meta: dict, arrays: dict) -> Path:
    """Write ``arrays`` and ``meta`` atomically to ``path`` (``.npz``); returns the final path."""
    dest = npz_path(path)
    meta = dict(meta, kind=kind, format=FORMAT)
    mj = json.dumps(meta, sort_keys=True)
    payload = dict(arrays, meta=np.array(mj), checksum=np.array(_digest(mj, arrays)))
    atomic_savez(dest, payload)
    return dest


def resolve(path) -> Path:
    """``path`` itself when it exists, else the ``.npz`` name ``save(path)`` wrote."""
    p = Path(os.fspath(path))
    if p.exists():
        return p
    q = npz_path(p)
    if q.exists():
        return q
    raise FileNotFoundError(f"{p}: no such file (nor {q.name})")


def read(path, kinds: tuple) -> tuple[Path, dict, dict]:
    """Read and check a file written by :func:`write`; ``(path, meta, arrays)``.

    Files of the legacy format (``meta`` and ``params`` without kind and checksum) are accepted for
    the kind ``"physdl.nn.Sequential"``.  Every problem is one ValueError naming the file.
    """
    p = resolve(path)
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            if not hasattr(f, "files"):
                raise ValueError("a bare array, not an .npz archive")
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, AttributeError, zlib.error) as exc:
        raise ValueError(f"{p}: not a readable physdl.nn file ({type(exc).__name__}: {exc})") from None
    if not isinstance(arrays, dict) or "meta" not in arrays:
        raise ValueError(f"{p}: not a physdl.nn file (no 'meta' entry)")
    try:
        mj = str(arrays.pop("meta"))
        meta = json.loads(mj)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{p}: its metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{p}: its metadata is not a mapping")
    if "checksum" not in arrays:
        if "kind" in meta or "physdl.nn.Sequential" not in kinds:
            raise ValueError(f"{p}: no checksum: not a complete physdl.nn file")
        meta["kind"] = "physdl.nn.Sequential"  # legacy file from before kind tags
        return p, meta, arrays
    stored = str(arrays.pop("checksum"))
    if _digest(mj, arrays) != stored:
        raise ValueError(f"{p}: checksum mismatch: the file is corrupt or was changed after it was written")
    if meta.get("kind") not in kinds:
        raise ValueError(f"{p}: is a {meta.get('kind')!r} file, expected {' or '.join(map(repr, kinds))}")
    return p, meta, arrays


def real_array(p, arrays: dict, key: str, shape=None) -> np.ndarray:
    """``arrays[key]`` as a finite real array of ``shape`` (when given), or a ValueError naming ``p``."""
    if key not in arrays:
        raise ValueError(f"{p}: missing entry {key!r}")
    a = arrays[key]
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{p}: {key!r} must hold real numbers, got dtype {a.dtype}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{p}: {key!r} has shape {a.shape}, expected {tuple(shape)}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{p}: {key!r} contains NaN or inf")
    return a
