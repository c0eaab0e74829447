"""Chapter 9: symplectic leapfrog keeps the pendulum's energy error bounded; RK4's grows with time."""
import numpy as np
from physdl import dynamics

for method in ("leapfrog", "rk4"):
    q, p, E = dynamics.integrate("pendulum", method, [[1.0]], [[0.0]], dt=0.2, steps=20000)
    dE = np.abs(E[0] - E[0, 0])
    print(f"{method:9s}: max |dE| over steps 0-2000 {dE[:2001].max():.2e}, "
          f"over steps 18000-20000 {dE[18000:].max():.2e}")
