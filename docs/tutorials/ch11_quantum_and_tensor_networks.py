"""Chapter 11: exact ground state of the transverse-field Ising chain, and DMRG on the same chain."""
from physdl import quantum, tensornet
from physdl.geometry import Lattice

H = quantum.transverse_field_ising(Lattice("chain", 8), h=1.0)
e0 = quantum.ground_state(H, quantum.SpinHilbert(8)).energies[0]
print("Lanczos ground-state energy, L = 8 ring:", round(float(e0), 6))
print("contract('ij,jk->ik') equals A @ B:", end=" ")
import numpy as np
A, B = np.random.default_rng(0).normal(size=(2, 3, 3))
print(bool(np.allclose(tensornet.contract("ij,jk->ik", A, B), A @ B)))
