"""The examples in the quantum docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["physdl.quantum", "physdl.quantum.hilbert", "physdl.quantum.operators", "physdl.quantum.ed",
           "physdl.quantum.vmc"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
