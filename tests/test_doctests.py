"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["physdl.random", "physdl.random.streams", "physdl.io", "physdl.tour", "physdl._backend",
           "physdl.geometry", "physdl.stats", "physdl.stats._estimate", "physdl.distributed",
           "physdl.distributed.sweep", "physdl.distributed.datasets", "physdl.holography.network",
           "physdl.dynamics",
           "physdl.quantum", "physdl.quantum.hilbert", "physdl.quantum.operators", "physdl.quantum.ed",
           "physdl.quantum.vmc",
           "physdl.hopfield", "physdl.boltzmann", "physdl.slmc", "physdl.lattice._spin_chains",
           "physdl.tensornet", "physdl.tensornet.contract", "physdl.tensornet.mps", "physdl.tensornet.mpo",
           "physdl.tensornet.dmrg", "physdl.tensornet.rbm",
           "physdl.inverse", "physdl.inverse.linear", "physdl.inverse.lasso", "physdl.inverse.problems",
           "physdl.inverse.continuation"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
