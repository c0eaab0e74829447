"""``physdl inverse [--quick]``: the chapter-7 tour entry alone, with its headline numbers printed."""

from __future__ import annotations


def main(args) -> int:
    """Run the inverse tour entry into ``args.out`` and print its rows; returns the exit status."""
    from ..tour import run_tour

    (res,) = run_tour(args.out, quick=args.quick, only=["inverse"], progress=not args.no_progress)
    for row in res.rows:
        print(f"  [{'ok ' if row.ok else 'OFF'}] {row.quantity} = {row.reproduced}  (reference {row.reference})")
    print(f"\nreport: {args.out}/index.md and {args.out}/index.html")
    return 0
