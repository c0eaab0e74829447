"""The checked-in .pyi stubs of physdl._core / physdl._cuda against the live modules (names, parameter
names and their order), so the stubs cannot drift from the bindings."""

from __future__ import annotations

import ast
import importlib

import pytest

from physdl import _stubs

FIX = "regenerate them with `python -m physdl._stubs --write` (after rebuilding the extension) and commit"


@pytest.mark.parametrize("name", _stubs.MODULES)
def test_stub_matches_the_live_module(name):
    try:
        importlib.import_module(f"physdl.{name}")
    except ImportError:
        if name == "_core":
            raise
        pytest.skip(f"physdl.{name} is not built here")
    problems = _stubs.diff(name)
    assert not problems, f"{name}.pyi differs from physdl.{name}; {FIX}:\n  " + "\n  ".join(problems)


def test_stub_lists_every_binding_of_the_core():
    """Independent of the renderer: walk the module object and look each function up in the stub."""
    import types

    import physdl._core as core

    have = _stubs.signatures_of_stub(_stubs.stub_path("_core").read_text())

    def walk(mod, prefix):
        for attr in dir(mod):
            if attr.startswith("__"):
                continue
            v = getattr(mod, attr)
            if isinstance(v, types.ModuleType):
                yield from walk(v, prefix + attr + ".")
            elif callable(v):
                yield prefix + attr

    names = list(walk(core, ""))
    assert "lattice.byte_sweeps" in names and "nn.set_blas" in names
    missing = [n for n in names if n not in have]
    assert not missing, f"_core.pyi lacks {missing}; {FIX}"
    # and each stub parses as Python
    for name in _stubs.MODULES:
        if _stubs.stub_path(name).is_file():
            ast.parse(_stubs.stub_path(name).read_text())


def test_diff_reports_a_changed_signature(tmp_path, monkeypatch):
    text = _stubs.stub_path("_core").read_text().replace("def set_num_threads(n:", "def set_num_threads(count:")
    fake = tmp_path / "_core.pyi"
    fake.write_text(text)
    monkeypatch.setattr(_stubs, "stub_path", lambda name: fake)
    assert any("set_num_threads" in d for d in _stubs.diff("_core"))
    fake.write_text(text.replace("def max_threads(", "def max_threads_gone("))
    d = _stubs.diff("_core")
    assert any("missing from _core.pyi: max_threads" in x for x in d)
    assert any("not in the module: max_threads_gone" in x for x in d)
