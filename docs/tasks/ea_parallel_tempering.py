"""Task 4: parallel tempering of a 2D Edwards-Anderson +-J glass: overlaps of two ladders."""
from physdl import lattice

model = lattice.EdwardsAnderson((8, 8), couplings="pm", seed=3)      # one disorder sample
ladder = lattice.tuned_ladder(model, 0.5, 2.5, 8, iterations=3, rounds=500, seed=0)  # equal acceptance
print(ladder)
pt_a, pt_b = (lattice.ParallelTempering(model, ladder.betas, seed=s) for s in (1, 2))  # same couplings
res = lattice.overlap_tempering(pt_a, pt_b, rounds=2000, burn_in=500)  # one OverlapResult per T
for r in res:
    print(f"T = {r.T:.3f}: <q^2> = {r.q2}, Binder ratio g = {r.binder_g}")
print("swap acceptance per pair (ladder a):", res.swap_acceptance[0].round(2).tolist())
res.save("ea_overlaps.h5")
print(lattice.OverlapTempering.load("ea_overlaps.h5"))
ax = res.plot("binder_g")                        # g against T with error bars
print(pt_a.run(500)[0])                          # a spin glass: no ferromagnetic |m|, chi or U printed
