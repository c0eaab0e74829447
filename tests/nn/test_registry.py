"""One registry of kinds: the header's table, the binding, the Python classes and the Numba twin agree."""

import pytest

from physdl import nn
from physdl.nn import _kinds
from physdl.nn._numba import network as numba_network


def test_header_table_equals_the_binding():
    core = pytest.importorskip("physdl._core")
    layers, losses, optimizers, first = _kinds._from_header()
    assert layers == dict(core.nn.layer_kinds())
    assert losses == dict(core.nn.loss_kinds())
    assert optimizers == dict(core.nn.optimizer_kinds())
    assert first == core.nn.FIRST_CUSTOM_KIND


def test_codes_are_unique_and_every_class_takes_its_code_from_the_table():
    for table in (_kinds.LAYER_KINDS, _kinds.LOSS_KINDS, _kinds.OPTIMIZER_KINDS):
        assert len(set(table.values())) == len(table)
    assert all(code < _kinds.FIRST_CUSTOM_KIND for code in _kinds.LAYER_KINDS.values())
    for name, code in _kinds.LAYER_KINDS.items():
        assert getattr(nn, name).kind == code
        assert code in numba_network._KINDS
    assert nn.SGD.kind == _kinds.OPTIMIZER_KINDS["SGD"] and nn.Adam.kind == _kinds.OPTIMIZER_KINDS["Adam"]
    assert set(nn.LOSSES.values()) == set(_kinds.LOSS_KINDS.values())
