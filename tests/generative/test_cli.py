"""`physdl generative gan` is wired to the tour entry (parsing only; the run itself is the tour's)."""

import pytest

from physdl import cli
from physdl.tour import registry


def test_parser_and_registry():
    args = cli._parser().parse_args(["generative", "gan", "--quick", "--out", "x"])
    assert args.command == "generative" and args.what == "gan" and args.quick and args.out == "x"
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["generative", "nothing"])
    assert "generative_gan" in registry()
