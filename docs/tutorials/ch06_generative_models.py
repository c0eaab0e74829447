"""Chapter 6: a restricted Boltzmann machine's partition function by AIS against the exact sum."""
from physdl.boltzmann import RBM

rbm = RBM(6, 4, units="spin", seed=1, init_std=0.5)
est = rbm.ais(n_chains=400, n_betas=300, seed=2)
exact = rbm.log_partition()
print("log Z by annealed importance sampling:", est)
print("log Z exact (enumeration)            :", round(float(exact), 4))
print("within 4 errors:", bool(est.within(exact, 4.0)))
