"""Chapters 1-2: entropy, cross entropy and KL divergence."""
import numpy as np
from physdl import info

p = np.array([0.7, 0.1, 0.1, 0.1])
q = np.full(4, 0.25)
print("H(p) in bits       :", float(info.entropy(p, base=2)))        # below log2 4 = 2
print("H(uniform) = log2 4:", float(info.entropy(q, base=2)))
print("KL(p || q)         :", round(float(info.kl_divergence(p, q)), 6))
print("KL(q || p)         :", round(float(info.kl_divergence(q, p)), 6), "(not symmetric)")
