"""Chapter 12: a network whose weights are a metric learns the AdS-Schwarzschild geometry from boundary data."""
import numpy as np
from physdl import holography

res = holography.ads_schwarzschild_experiment(n_data=1000, epochs=200, trials=4, seed=1)
print("eta       h learned   3 coth(3 eta)")
for eta, h, t in zip(res.eta, res.h_learned, res.h_true):
    print(f"{eta:5.2f}   {h:9.3f}   {t:9.3f}")
print(f"largest relative error for eta >= 0.3: {res.max_rel_error_away:.3f}")
print(f"training data classified correctly by the learned metric: {res.accuracy:.3f}")
