"""The docstring examples of the energy-based-model packages run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["physdl.hopfield", "physdl.boltzmann", "physdl.slmc", "physdl.lattice._spin_chains"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
