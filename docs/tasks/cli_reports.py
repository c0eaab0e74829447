"""Task 5: the command line: list the tour, run one entry, and find its report."""
import subprocess
import sys
from pathlib import Path

def physdl(*args):
    out = subprocess.run([sys.executable, "-m", "physdl", *args], capture_output=True, text=True)
    print(f"$ physdl {' '.join(args)}   (exit {out.returncode})")
    print("\n".join(out.stdout.strip().splitlines()[:8]))
    return out.returncode

physdl("tour", "--list")
rc = physdl("tour", "--quick", "--only", "box_muller", "--out", "tour-out", "--no-progress")
print("report files:", sorted(p.name for p in Path("tour-out").iterdir()))
assert rc == 0
