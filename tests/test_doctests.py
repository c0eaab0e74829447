"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["physdl.random", "physdl.io", "physdl.tour", "physdl._backend"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
