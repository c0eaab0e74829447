"""The layer- and loss-kind codes, read from the one registry ``src/physdl/nn/layer_kinds.hpp``.

The compiled core exports those tables (layers, losses, optimizers) (``physdl._core.nn.layer_kinds()``); without the core (the
numba backend alone) the header itself is parsed, so the Python classes, the Numba twin and the
C++ engine can never disagree on a code.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["LAYER_KINDS", "LOSS_KINDS", "OPTIMIZER_KINDS", "FIRST_CUSTOM_KIND"]


def _from_header() -> tuple[dict, dict, dict, int]:
    here = Path(__file__).resolve()
    candidates = [here.parents[3] / "src" / "physdl" / "nn" / "layer_kinds.hpp",
                  here.parents[1] / "include" / "physdl" / "nn" / "layer_kinds.hpp"]
    for path in candidates:
        if path.exists():
            text = path.read_text()
            break
    else:  # pragma: no cover - an install without the core and without its headers
        raise ImportError("physdl.nn needs the layer-kind registry: neither physdl._core nor layer_kinds.hpp was found")

    def table(macro):
        body = text.split(f"#define {macro}(X)", 1)[1].split("\n\n", 1)[0]
        return {m.group(1): int(m.group(3)) for m in re.finditer(r"X\((\w+),\s*(\w+),\s*(\d+)\)", body)}

    first = int(re.search(r"kFirstCustomKind\s*=\s*(\d+)", text).group(1))
    return table("PHYSDL_NN_LAYER_KINDS"), table("PHYSDL_NN_LOSS_KINDS"), table("PHYSDL_NN_OPTIMIZER_KINDS"), first


def _load() -> tuple[dict, dict, dict, int]:
    try:
        from .._core import nn as _cnn
    except ImportError:
        return _from_header()
    return (dict(_cnn.layer_kinds()), dict(_cnn.loss_kinds()), dict(_cnn.optimizer_kinds()),
            int(_cnn.FIRST_CUSTOM_KIND))


LAYER_KINDS, LOSS_KINDS, OPTIMIZER_KINDS, FIRST_CUSTOM_KIND = _load()
