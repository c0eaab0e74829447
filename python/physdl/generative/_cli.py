"""``physdl generative gan [--quick]``: its arguments (the run is the tour entry, :func:`physdl.tour.generative_tour.cli_run`)."""

from __future__ import annotations


def add_parser(sub) -> None:
    ge = sub.add_parser("generative", help="GANs: mode coverage, Ising histograms, memorisation check (book ch. 6.3-6.4)")
    ge.add_argument("what", choices=["gan"], help="the experiment (gan)")
    ge.add_argument("--quick", action="store_true", help="shorter training (minutes)")
    ge.add_argument("--out", default="physdl-generative", help="output folder (default: ./physdl-generative)")
    ge.add_argument("--no-progress", action="store_true", help="hide progress bars")
