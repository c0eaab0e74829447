"""Chapter 6: a restricted Boltzmann machine's partition function by AIS against the exact sum, and a
Wasserstein GAN covering the eight modes of a ring of Gaussians, with the memorisation check."""
from physdl.boltzmann import RBM

rbm = RBM(6, 4, units="spin", seed=1, init_std=0.5)
est = rbm.ais(n_chains=400, n_betas=300, seed=2)
exact = rbm.log_partition()
print("log Z by annealed importance sampling:", est)
print("log Z exact (enumeration)            :", round(float(exact), 4))
print("within 4 errors:", bool(est.within(exact, 4.0)))

# --- A Wasserstein GAN with the gradient penalty (eq. 6.87-6.91) on eight Gaussians on a ring
from physdl import generative, nn

X = generative.ring_of_gaussians(4096, std=0.05, seed=0)
held_out = generative.ring_of_gaussians(2000, std=0.05, seed=1)


def mlp(n_in, n_out, seed):
    return nn.Sequential([nn.Dense(n_in, 64), nn.ReLU(), nn.Dense(64, 64), nn.ReLU(), nn.Dense(64, n_out)],
                         seed=seed, dtype="float32")


wgan = generative.WGAN(mlp(4, 2, 1), mlp(2, 1, 2), penalty=1.0, n_critic=5, g_optimizer=nn.Adam(1e-3, (0.5, 0.9)),
                       d_optimizer=nn.Adam(1e-3, (0.5, 0.9)), seed=0)
wgan.train(X, 1000, batch_size=256)
samples = wgan.sample(2000)
cov = generative.mode_coverage(samples, generative.ring_modes(), std=0.05)
print(f"WGAN-GP, 1000 steps: {cov['n_covered']} of 8 modes covered, "
      f"{cov['high_quality']:.0%} of the samples within 3 std of a mode")
gap = generative.nearest_neighbour_gap(samples, X, held_out)
print(f"nearest training sample: generated {gap['generated']:.4f} vs held-out real {gap['held_out']:.4f} "
      f"(z = {gap['z']:+.1f}; strongly negative would mean memorisation)")
