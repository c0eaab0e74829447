"""`physdl generative gan` is wired to the tour entry (parsing only; the run itself is the tour's)."""

import subprocess
import sys

import pytest

from physdl import cli
from physdl.tour import registry


def test_parser_and_registry():
    args = cli._parser().parse_args(["generative", "gan", "--quick", "--out", "x"])
    assert args.command == "generative" and args.what == "gan" and args.quick and args.out == "x"
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["generative", "nothing"])
    assert "generative_gan" in registry()


def test_building_the_parser_does_not_import_the_engines():
    code = ("import sys, physdl.cli; physdl.cli._parser().parse_args(['generative', 'gan']); "
            "print(sorted(m for m in sys.modules if m.startswith(('physdl.nn', 'physdl.generative'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
