"""``python -m physdl.inverse [--quick] [--out DIR]``: the chapter-7 reproduction."""

import argparse
import json

from .run import run_inverse


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m physdl.inverse", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small grids and iteration counts")
    ap.add_argument("--out", default="physdl-inverse", help="output folder (default: ./physdl-inverse)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    res = run_inverse(args.out, quick=args.quick, seed=args.seed)
    print(json.dumps(res["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
