"""The ``physdl`` command line: ``physdl info``, ``physdl tour [--quick] [--out DIR]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SEED_MAX = 2**64 - 16  # the phases pipeline derives seeds up to seed + 2 + (thermometer groups)


class _Parser(argparse.ArgumentParser):
    """Usage errors: one line on stderr, exit status 2 (no usage dump, no traceback)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _seed(text: str) -> int:
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, {SEED_MAX}], got {text!r}") from None
    if not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, {SEED_MAX}], got {v}")
    return v


def _out_dir(text: str) -> str:
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"must be a folder path, got {text!r}")
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    q = p
    while not q.exists():  # the nearest existing ancestor must be a writable folder
        q = q.parent
    if not q.is_dir() or not os.access(q, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot create or write {text!r} (no write permission in {str(q)!r})")
    return text


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="physdl", description="Deep Learning and Physics, as a library.")
    p.add_argument("--cmake-dir", action="store_true", help="print the CMake package directory and exit")
    p.add_argument("--include-dir", action="store_true", help="print the C++ include directory and exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("info", help="show the build configuration, backends and devices")
    t = sub.add_parser("tour", help="reproduce the book's headline results into a report")
    t.add_argument("--quick", action="store_true", help="small settings (a few minutes on 2 cores)")
    t.add_argument("--out", default="physdl-tour", type=_out_dir, help="output folder (default: ./physdl-tour)")
    t.add_argument("--only", nargs="+", metavar="NAME", help="run only these reproductions")
    t.add_argument("--list", action="store_true", help="list the reproductions and exit")
    t.add_argument("--no-progress", action="store_true", help="hide progress bars")
    t.add_argument("--strict", action="store_true", help="exit with status 1 if any reproduced value is off")
    ph = sub.add_parser("phases", help="detect the Ising phase transition with neural networks (book ch. 8)")
    ph.add_argument("--quick", action="store_true", help="small settings (a few minutes on 2 cores)")
    ph.add_argument("--out", default="physdl-phases", type=_out_dir, help="output folder (default: ./physdl-phases)")
    ph.add_argument("--seed", type=_seed, default=0, help=f"seed of every random number of the run (0 .. {SEED_MAX})")
    ph.add_argument("--networks", nargs="+", default=["fc", "cnn"], choices=["fc", "cnn"], help="network types")
    ph.add_argument("--no-progress", action="store_true", help="hide progress bars")
    ph.add_argument("--workers", type=int, default=None,
                    help="worker processes of the local Dask cluster that samples the data sets (default: one per core)")
    ph.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="sample the data sets on a running Dask scheduler instead of a local cluster")
    ph.add_argument("--serial", action="store_true", help="sample the data sets in this process, without Dask")
    sw = sub.add_parser("sweep", help="run a parameter sweep from a TOML file on Dask (physdl.distributed)")
    sw.add_argument("spec", help="the sweep definition (TOML: out, seed, [task], [grid] or [[points]])")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS", help="a running Dask scheduler (default: a local cluster)")
    sw.add_argument("--workers", type=int, default=None, help="worker processes of the local cluster")
    sw.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    dy = sub.add_parser("dynamics", help="symplectic layers, Lyapunov exponents, reversible networks (book ch. 9)")
    dy.add_argument("--quick", action="store_true", help="shorter Lyapunov run")
    dy.add_argument("--out", default="physdl-dynamics", help="output folder (default: ./physdl-dynamics)")
    dy.add_argument("--no-progress", action="store_true", help="hide progress bars")
    ho = sub.add_parser("holography", help="learn the spacetime metric from boundary data (book ch. 12)")
    ho.add_argument("--quick", action="store_true", help="the AdS-Schwarzschild experiment only (seconds)")
    ho.add_argument("--out", default="physdl-holography", help="output folder (default: ./physdl-holography)")
    ho.add_argument("--no-progress", action="store_true", help="hide progress bars")
    qu = sub.add_parser("quantum", help="RBM variational Monte Carlo against exact diagonalisation (book ch. 11.1)")
    qu.add_argument("--quick", action="store_true", help="L = 10 and 80 steps instead of L = 16 and 300")
    qu.add_argument("--out", default="physdl-quantum", type=_out_dir, help="output folder (default: ./physdl-quantum)")
    qu.add_argument("--no-progress", action="store_true", help="hide progress lines")
    eb = sub.add_parser("ebm", help="energy-based models: Hopfield capacity, RBM thermodynamics, SLMC (book ch. 6, 10)")
    eb.add_argument("topic", choices=["hopfield", "rbm", "slmc"], help="which model")
    eb.add_argument("--quick", action="store_true", help="small sizes (seconds to a minute)")
    eb.add_argument("--out", default=None, help="output folder (default: ./physdl-ebm-TOPIC)")
    eb.add_argument("--no-progress", action="store_true", help="hide progress")
    ge = sub.add_parser("generative", help="GANs: mode coverage, Ising histograms, memorisation check (book ch. 6.3-6.4)")
    ge.add_argument("what", choices=["gan"], help="the experiment (gan)")
    ge.add_argument("--quick", action="store_true", help="shorter training (minutes)")
    ge.add_argument("--out", default="physdl-generative", help="output folder (default: ./physdl-generative)")
    ge.add_argument("--no-progress", action="store_true", help="hide progress bars")
    iv = sub.add_parser("inverse", help="Tikhonov, LASSO and sparse-modelling analytic continuation (book ch. 7)")
    iv.add_argument("--quick", action="store_true", help="small continuation grids (seconds)")
    iv.add_argument("--out", default="physdl-inverse", help="output folder (default: ./physdl-inverse)")
    iv.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.cmake_dir or args.include_dir or args.version:
        from . import _config, __version__

        if args.version:
            print(__version__)
        if args.cmake_dir:
            print(_config.cmake_dir())
        if args.include_dir:
            print(_config.include_dir())
        return 0
    if args.command == "info":
        from . import show_config

        show_config()
        return 0
    if args.command == "tour":
        from .tour import registry, run_tour

        if args.list:
            for name, rep in registry().items():
                print(f"{name:24s} {rep.title}")
            return 0
        if args.only:
            unknown = [n for n in args.only if n not in registry()]
            if unknown:
                print(f"physdl tour: error: --only must be one of {', '.join(registry())}; "
                      f"got unknown {', '.join(unknown)}", file=sys.stderr)
                return 2
        results = run_tour(args.out, quick=args.quick, only=args.only, progress=not args.no_progress)
        print(f"\nreport: {args.out}/index.md and {args.out}/index.html")
        for r in results:
            for row in r.rows:
                flag = "ok " if row.ok else "OFF"
                print(f"  [{flag}] {r.title}: {row.quantity} = {row.reproduced}  (reference {row.reference})")
        off = sum(not row.ok for r in results for row in r.rows)
        if off:
            print(f"\n{off} reproduced value(s) fell outside their tolerance (marked OFF above and NO in the report)")
        return 1 if (off and args.strict) else 0
    if args.command == "phases":
        from .distributed import DatasetRunner
        from .phases.run import headline, run_phases

        if args.workers is not None and not 1 <= args.workers <= 4096:
            print(f"physdl phases: error: --workers must be between 1 and 4096, got {args.workers}", file=sys.stderr)
            return 2
        client = "serial" if args.serial else args.scheduler
        try:
            with DatasetRunner(Path(args.out) / "data", client=client, workers=args.workers) as runner:
                res = run_phases(args.out, quick=args.quick, seed=args.seed, progress=not args.no_progress,
                                 networks=tuple(args.networks), runner=runner)
        except ConnectionError as e:
            print(f"physdl phases: {e}", file=sys.stderr)
            return 2
        print("\n" + headline(res))
        print(f"\nresults: {args.out}/phases.json, {args.out}/beta_c_table.md and the PNG figures")
        return 0
    if args.command == "sweep":
        from .distributed import run_spec
        from .distributed.spec import SpecError
        from .distributed.store import StoreError

        try:
            res = run_spec(args.spec, scheduler=args.scheduler, workers=args.workers, serial=args.serial,
                           progress=not args.no_progress)
        except (SpecError, StoreError, ConnectionError) as e:
            print(f"physdl sweep: {e}", file=sys.stderr)
            return 2
        print(f"sweep: {res.computed} point(s) computed, {res.skipped} already in {res.path} "
              f"({res.seconds:.1f} s)")
        return 0
    if args.command in ("holography", "dynamics"):
        from .tour import run_tour

        results = run_tour(args.out, quick=args.quick, only=[args.command], progress=not args.no_progress)
        for row in results[0].rows:
            print(f"  [{'ok ' if row.ok else 'OFF'}] {row.quantity} = {row.reproduced}  (reference {row.reference})")
        print(f"\nreport: {args.out}/index.md and {args.out}/index.html")
        return 0
    if args.command == "quantum":
        from .quantum import _cli as quantum_cli

        return quantum_cli.main(args.out, quick=args.quick, progress=not args.no_progress)
    if args.command == "ebm":
        from .tour.ebm_tour import cli as ebm_cli
        return ebm_cli(args.topic, args.out or f"physdl-ebm-{args.topic}", args.quick, not args.no_progress)
    if args.command == "generative":
        from .tour import generative_tour
        return generative_tour.cli_run(args)
    if args.command == "inverse":  # the chapter-7 tour entry alone (physdl.tour.inverse_tour)
        from .tour import run_tour
        (res,) = run_tour(args.out, quick=args.quick, only=["inverse"], progress=not args.no_progress)
        for row in res.rows:
            print(f"  [{'ok ' if row.ok else 'OFF'}] {row.quantity} = {row.reproduced}  (reference {row.reference})")
        print(f"\nreport: {args.out}/index.md and {args.out}/index.html")
        return 0
    _parser().print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
