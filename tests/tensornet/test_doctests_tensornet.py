"""The docstring examples of physdl.tensornet run and pass."""

import doctest
import importlib

import pytest

MODULES = ["physdl.tensornet", "physdl.tensornet.contract", "physdl.tensornet.mps", "physdl.tensornet.mpo",
           "physdl.tensornet.dmrg", "physdl.tensornet.rbm"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert res.failed == 0
    assert res.attempted > 0
