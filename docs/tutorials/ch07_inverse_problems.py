"""Chapter 7: Tikhonov regularisation of Shaw's ill-posed problem."""
import numpy as np
from physdl.inverse import Tikhonov, shaw

p = shaw(32)
t = Tikhonov(p.J, p.y_exact)
for alpha in (1e-12, 1e-8, 1e-4):
    x = t.solve(alpha)
    err = np.linalg.norm(x - p.x_exact) / np.linalg.norm(p.x_exact)
    print(f"alpha = {alpha:.0e}: relative error of the solution {err:.3f}")
