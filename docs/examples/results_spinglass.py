"""Spin-glass results: two replicas, two tempering ladders and a tuned ladder -- print, save, load, plot."""
import os
import tempfile

from physdl import lattice

folder = tempfile.mkdtemp()
model = lattice.EdwardsAnderson((6, 6), seed=1)            # one disorder sample, +-J couplings
a, b = (lattice.Simulation(model, T=1.0, update="metropolis", seed=s) for s in (1, 2))
q = lattice.overlap_run(a, b, 2000, burn_in=200)
print(q)                                                  # short repr, values rounded to their errors
q.save(os.path.join(folder, "q.h5"), seed=1, parameters={"disorder_seed": 1})
print(lattice.OverlapResult.load(os.path.join(folder, "q.h5")).binder_g)
q.plot()                                                  # P(q) with block error bars

ladder = lattice.tuned_ladder(model, 0.5, 2.5, 6, iterations=3, rounds=1000, burn_in=100, seed=2)
print(ladder)
pts = [lattice.ParallelTempering(model, ladder.betas, seed=s) for s in (3, 4)]
pt = lattice.overlap_tempering(*pts, 2000, burn_in=200)   # one OverlapResult per temperature
print(pt)
pt.save(os.path.join(folder, "pt.npz"))
T, g = lattice.OverlapTempering.load(os.path.join(folder, "pt.npz")).estimate("binder_g")
print("g(T):", ", ".join(f"{t:.3g}: {v:.3f}" for t, v in zip(T, g.value)))
pt.plot("binder_g")
print(lattice.ScanResult.from_runs(pts[0].run(500), L=6))  # e and C only: a spin glass

# the disorder average: one pair of replicas per coupling sample, errors over the samples
samples = []
for d in range(4):
    m = lattice.EdwardsAnderson((6, 6), seed=10 + d)
    a, b = (lattice.Simulation(m, T=1.0, update="metropolis", seed=s) for s in (1, 2))
    samples.append(lattice.overlap_run(a, b, 1000, burn_in=200))
avg = lattice.disorder_average(samples)
print(f"[<q^2>] = {avg['q2']}, g = {avg['binder_g']} over {avg['n_samples']} disorder samples")
