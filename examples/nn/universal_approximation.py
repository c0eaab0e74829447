"""One hidden layer of sigmoids approximates a 1D function (universal approximation)."""

from physdl.nn.demos import universal_approximation

r = universal_approximation()
print(f"max error {r['max_error']:.4f}, rms error {r['rms_error']:.4f}")
