"""Result objects and the temperature scan: print, save, load, plot, Binder crossing."""
import math
import os
import tempfile

from physdl import lattice
from physdl.lattice.scan import ScanResult, scan

folder = tempfile.mkdtemp()
run = lattice.Simulation(lattice.Ising((16, 16)), T=2.3, update="wolff", seed=1).run(1000, burn_in=100)
print(run)                                   # short repr: values rounded to their errors
run.save(os.path.join(folder, "run.h5"), seed=1, parameters={"L": 16})
print(lattice.RunResult.load(os.path.join(folder, "run.h5")).binder)

res = scan(lambda L: lattice.Ising((L, L)), [2.15, 2.20, 2.25, 2.30, 2.35, 2.40], sizes=[8, 16],
           sweeps=2000, burn_in=200, seed=1)
print(res)                                   # one row per (L, T)
res.save(os.path.join(folder, "scan.npz"))
res = ScanResult.load(os.path.join(folder, "scan.npz"))
print(res.to_pandas()[["L", "T", "binder", "binder_error"]].head(3))
ax = res.plot("binder")                      # U against T, error bars, one curve per size
Tc = res.binder_crossing(8, 16)
print(f"Binder crossing of L = 8 and 16: T = {Tc} (exact T_c = {2 / math.log(1 + math.sqrt(2)):.4f})")
