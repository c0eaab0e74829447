"""Chapter 5: Markov chains and Monte Carlo for the 2D Ising model against Kaufman's exact energy."""
from physdl import lattice, sampling

chain = sampling.gothenburg_weather()
print("stationary distribution of the book's weather chain:", chain.stationary().tolist())

L, beta = 16, 0.4
sim = lattice.Simulation(lattice.Ising((L, L)), beta=beta, update="wolff", seed=1)
res = sim.run(sweeps=400, burn_in=100)
print("energy per site:", res.energy)
print("Binder cumulant:", res.binder)
print("exact (Kaufman) :", round(float(lattice.exact.kaufman_thermodynamics(beta, L)["energy"]), 4))
