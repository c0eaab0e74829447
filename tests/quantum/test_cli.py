"""``physdl quantum``: argument handling, and the quick run end to end (slow)."""

import pytest

from physdl import cli


def test_quantum_subcommand_parses():
    args = cli._parser().parse_args(["quantum", "--quick", "--out", "somewhere", "--no-progress"])
    assert args.command == "quantum" and args.quick and args.no_progress and args.out == "somewhere"


@pytest.mark.slow
def test_quantum_quick_runs_and_reports(tmp_path, capsys):
    rc = cli.main(["quantum", "--quick", "--out", str(tmp_path), "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert (tmp_path / "quantum_vmc.png").is_file()
    assert text.count("[ok ]") == 3 and "Marshall" in text and "transverse-field Ising" in text
