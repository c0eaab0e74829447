"""Deep vs wide with activation z^3 (book eq. 3.85-3.91)."""

from physdl.nn.demos import deep_vs_wide

r = deep_vs_wide()
print(f"least-squares cubic MSE       {r['best_cubic_mse']:.4f}")
print(f"wide (2 units, 1 layer) MSE   {r['wide_mse']:.4f}   (a cubic: cannot beat the line above)")
print(f"deep (1 unit, 2 layers) MSE   {r['deep_mse']:.4f}   (degree 9 reachable)")
